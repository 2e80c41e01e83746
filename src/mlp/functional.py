"""Numerically stable building blocks shared by layers and errors.

Each works row-wise on arrays of shape (batch_size, dim), never overflows and never
warns, whatever the size of its arguments: softmax and log-softmax subtract the row
maximum first; the logistic sigmoid lets exp(-x) overflow to inf for x below about -89
(float32), which gives exactly the right limit 1 / (1 + inf) = 0, with that one expected
overflow silenced. Lists and integer arrays are taken as floats (the default dtype).
"""

from __future__ import annotations

import numpy as np

from mlp import _checks


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, accurate to full relative
    precision in both tails (0.5 + 0.5 * tanh(x / 2) would round to 0 below x = -17)."""
    out = np.negative(_checks.floats(x, "x", "sigmoid"), out=out)
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1
    np.reciprocal(out, out=out)
    return out


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of x, shape (batch_size, dim) -> (batch_size, dim)."""
    x = _rows(x, "log_softmax")
    shifted = x - x.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of x, shape (batch_size, dim) -> (batch_size, dim); rows sum to 1."""
    x = _rows(x, "softmax")
    out = x - x.max(axis=-1, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


def leaky_relu(x: np.ndarray, slope: np.ndarray | float) -> np.ndarray:
    """max(x, 0) + slope * min(x, 0), elementwise: x where x > 0, slope * x elsewhere.

    One of the two terms is exactly 0 for every x, so this is exact, and it avoids
    np.where, which is slow on data with random signs. `slope` is a number or an array
    that broadcasts to x (one slope per element, as RReLU draws them). x is taken as is
    (the layers check it)."""
    outputs = np.minimum(x, 0)
    outputs *= slope
    outputs += np.maximum(x, 0)
    return outputs


def leaky_relu_grad(
    x: np.ndarray, grads_wrt_outputs: np.ndarray, slope: np.ndarray | float
) -> np.ndarray:
    """grads_wrt_outputs * d leaky_relu(x, slope) / dx: the gradient where x > 0 and
    slope times it elsewhere (at x = 0 the slope, as PyTorch takes it)."""
    dtype = grads_wrt_outputs.dtype
    positive = x > 0
    grads = np.multiply(grads_wrt_outputs, ~positive, dtype=dtype)
    grads *= slope
    grads += np.multiply(grads_wrt_outputs, positive, dtype=dtype)
    return grads


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), elementwise, as max(x, 0) + log1p(exp(-|x|))."""
    x = _checks.floats(x, "x", "softplus")
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def _rows(x: np.ndarray, name: str) -> np.ndarray:
    """x as floats with at least one axis and one value per row (a maximum needs one)."""
    x = _checks.floats(x, "x", name)
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{name} needs x of shape (batch_size, dim) with dim >= 1, got {x.shape}")
    return x
