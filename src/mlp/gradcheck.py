"""Numerical gradient checks: are a layer's `bprop` and `grads_wrt_params` right?

A layer's backward pass is correct when it agrees with central differences of its
forward pass. For a random "upstream" gradient G of the outputs' shape, the scalar
f(x) = sum(G * fprop(x)) has df/dx = bprop(x, fprop(x), G), and likewise for each
parameter; the check compares those with

    df/dx_i ~= (f(x - 2h e_i) - 8 f(x - h e_i) + 8 f(x + h e_i) - f(x + 2h e_i)) / (12 h)

(the five-point central difference, accurate to O(h**4)), everything in float64, whatever the layer was built with. Use it on your own layers:

    >>> from mlp.gradcheck import check_layer_gradients
    >>> errors = check_layer_gradients(MyLayer(), np.random.randn(4, 3))
    >>> errors
    {'inputs': 3.1e-11}

A largest relative error below about 1e-6 means the gradients are right; a bug usually
shows as an error near 1.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from mlp import _checks
from mlp.layers import Layer, LayerWithParameters, StochasticLayer
from mlp.rngs import RandomState, make_rng

__all__ = [
    "check_error_gradients",
    "check_layer_gradients",
    "numerical_gradient",
    "relative_error",
]


def numerical_gradient(f: Callable[[], float], x: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """Central-difference gradient of the scalar `f()` with respect to the array `x`.

    `x` is perturbed in place, one entry at a time, and restored. The five-point stencil
    has truncation error O(eps**4) and rounding error O(1e-16 / eps): with eps = 1e-4
    both are far below 1e-8 for smooth functions of order-one values, where the plain
    two-point difference could only reach about 1e-7. Kinks (ReLU at 0) closer than
    2 * eps to an input spoil the estimate there: keep inputs away from them.

    Args:
        f: function of no arguments that reads `x` and returns a float.
        x: float64 array of any shape.
    Returns:
        array shaped like `x`.
    """
    _checks.callable_instance(f, "f", "numerical_gradient", "a function of no arguments")
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            "numerical_gradient x must be a float array it can perturb in place (e.g. "
            f"np.array(x, dtype=np.float64)), got {type(x).__name__} "
            f"{getattr(x, 'dtype', '')}".rstrip()
        )
    eps = _checks.number(eps, "eps", "numerical_gradient", low=0, low_open=True)
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if x.size and not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        values = []
        for step in (-2 * eps, -eps, eps, 2 * eps):
            flat_x[i] = original + step
            values.append(f())
        flat_x[i] = original
        flat_grad[i] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * eps)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-10) -> float:
    """Largest elementwise |a - n| / max(|a|, |n|, 1e-3 * scale, floor): 0 when they agree.

    `scale` is the largest magnitude in either array. Entries a thousand times smaller
    than it are judged against a thousandth of it, since central differences cannot
    resolve them better than about 1e-12 absolute; every other entry is judged by its
    own size, so a wrong small gradient still shows.
    """
    analytic = _checks.numeric_array(analytic, "analytic", "relative_error").astype(np.float64)
    numeric = _checks.numeric_array(numeric, "numeric", "relative_error").astype(np.float64)
    floor = _checks.number(floor, "floor", "relative_error", low=0, low_open=True)
    if analytic.shape != numeric.shape:
        raise ValueError(
            f"relative_error: analytic has shape {analytic.shape}, numeric {numeric.shape}"
        )
    if analytic.size == 0:
        return 0.0
    magnitude = np.maximum(np.abs(analytic), np.abs(numeric))
    scale = np.maximum(magnitude, max(1e-3 * float(magnitude.max()), floor))
    return float((np.abs(analytic - numeric) / scale).max())


def _float64_copy(layer: Layer) -> Layer:
    """A deep copy of `layer` computing in float64, its parameters cast."""
    layer = copy.deepcopy(layer)
    if hasattr(layer, "dtype"):
        layer.dtype = np.dtype(np.float64)
    if isinstance(layer, LayerWithParameters):
        layer.params = [np.array(p, dtype=np.float64) for p in layer.params]
    return layer


def _rng_state(rng: RandomState) -> Any:
    return rng.get_state() if isinstance(rng, np.random.RandomState) else rng.bit_generator.state


def _set_rng_state(rng: RandomState, state: Any) -> None:
    if isinstance(rng, np.random.RandomState):
        rng.set_state(state)
    else:
        rng.bit_generator.state = state


def check_layer_gradients(
    layer: Layer, inputs: np.ndarray, rng: RandomState | None = None, eps: float = 1e-4
) -> dict[str, float]:
    """Largest relative error of `bprop` and of each gradient from `grads_wrt_params`.

    Args:
        layer: any layer with `fprop` and `bprop` (and `grads_wrt_params` and `params`
            when it has parameters). It is copied, so it is left unchanged.
        inputs: array of shape (batch_size, input_dim); keep it small, as every entry of
            inputs and parameters costs two forward passes.
        rng: random generator for the upstream gradient.
        eps: finite-difference step.
    Returns:
        {'inputs': error, 'params[0]': error, ...}, one entry per parameter array.
    """
    _checks.not_a_class(layer, "layer", "check_layer_gradients")
    if not (callable(getattr(layer, "fprop", None)) and callable(getattr(layer, "bprop", None))):
        raise TypeError(
            f"check_layer_gradients layer must be a layer with fprop and bprop, got {layer!r}"
        )
    x = _checks.numeric_array(inputs, "inputs", "check_layer_gradients").astype(np.float64)
    if x.size == 0:  # a check over no entries would pass whatever bprop does
        raise ValueError(
            f"check_layer_gradients inputs must hold at least one entry, got {x.shape}"
        )
    eps = _checks.number(eps, "eps", "check_layer_gradients", low=0, low_open=True)
    rng = make_rng(rng)
    layer = _float64_copy(layer)
    # A stochastic layer must draw the same mask for every evaluation.
    stochastic = layer if isinstance(layer, StochasticLayer) else None
    rng_state = _rng_state(stochastic.rng) if stochastic is not None else None

    def forward() -> np.ndarray:
        if stochastic is not None:
            _set_rng_state(stochastic.rng, rng_state)
        return layer.fprop(x)

    outputs = forward()
    upstream = rng.normal(size=outputs.shape)

    def f() -> float:
        # grads_wrt_params includes the gradient of the layer's penalty (weight decay),
        # so the function differentiated numerically includes the penalty too.
        penalty = layer.params_penalty() if hasattr(layer, "params_penalty") else 0.0
        return float(np.vdot(upstream, forward())) + penalty

    outputs = forward()
    errors = {
        "inputs": relative_error(layer.bprop(x, outputs, upstream), numerical_gradient(f, x, eps))
    }
    if isinstance(layer, LayerWithParameters):
        analytic = layer.grads_wrt_params(x, upstream)
        for i, param in enumerate(layer.params):
            errors[f"params[{i}]"] = relative_error(analytic[i], numerical_gradient(f, param, eps))
    return errors


def check_error_gradients(
    error: Any, outputs: np.ndarray, targets: np.ndarray, eps: float = 1e-4
) -> float:
    """Largest relative error of `error.grad(outputs, targets)` against central differences.

    Args:
        error: an error object with `__call__` and `grad`.
        outputs: array of shape (batch_size, output_dim).
        targets: array of shape (batch_size, output_dim).
    """
    expected = "an error object, callable with a grad method"
    _checks.callable_instance(error, "error", "check_error_gradients", expected)
    if not callable(getattr(error, "grad", None)):
        raise TypeError(f"check_error_gradients error must be {expected}, got {error!r}")
    y = _checks.numeric_array(outputs, "outputs", "check_error_gradients").astype(np.float64)
    t = _checks.numeric_array(targets, "targets", "check_error_gradients").astype(np.float64)
    eps = _checks.number(eps, "eps", "check_error_gradients", low=0, low_open=True)
    numeric = numerical_gradient(lambda: float(error(y, t)), y, eps)
    return relative_error(error.grad(y, t), numeric)
