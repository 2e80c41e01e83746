"""Numerically stable building blocks shared by layers and errors.

Each works row-wise on arrays of shape (batch_size, dim), never overflows and never
warns, whatever the size of its arguments: softmax and log-softmax subtract the row
maximum first; the logistic sigmoid is computed through tanh, which saturates instead of
overflowing the way exp(-x) would for x = -1000.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Logistic sigmoid 1 / (1 + exp(-x)), elementwise, as 0.5 + 0.5 * tanh(x / 2)."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def log_softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax of x, shape (batch_size, dim) -> (batch_size, dim)."""
    shifted = x - x.max(axis=-1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax of x, shape (batch_size, dim) -> (batch_size, dim); rows sum to 1."""
    out = x - x.max(axis=-1, keepdims=True)
    np.exp(out, out=out)
    out /= out.sum(axis=-1, keepdims=True)
    return out


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + exp(x)), elementwise, as max(x, 0) + log1p(exp(-|x|))."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
