"""Optional compiled kernels: a learning rule's whole update in one pass over memory.

A rule's NumPy `_step` (see `mlp.learning_rules`) makes one pass over its arrays per
operation: ten for an Adam step. For a 784-1024-1024-10 network that makes the update
cost more than a third of the training time; for small networks the cost is the
gathering into one flat array and the dozen NumPy calls. Compiled with numba, the same
arithmetic in one loop reads each array once and writes it once: an Adam step on
784-1024-1024-10 takes 1.7 ms instead of 4.3 ms.

The kernels are an accelerator, not a second definition to trust: each does the float
operations of its rule's `_step` in the same order and dtype, so both give identical
numbers (tested for every rule). numba is optional (`pip install 'mlp[fast]'`): without
it, with the environment variable `MLP_NO_JIT=1`, or inside `numpy_updates()`, the rules
run their NumPy code. numba is imported, and a kernel compiled, at first use, so
`import mlp` stays fast; compiled code is cached on disk.

    from mlp import kernels
    kernels.available()            # True when compiled updates are in use
    with kernels.numpy_updates():  # the plain NumPy updates, e.g. to compare
        ...
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["KERNELS", "available", "compiled", "numpy_updates"]

# Each loop runs compiled (so coverage never sees it) and mirrors one rule's `_step`
# followed by `param -= step`: same operations, same order. Arguments: the parameter,
# its gradient, the rule's state arrays (updated in place), then the rule's scalars.


def _gradient_descent(param, grad, learning_rate):  # pragma: no cover
    for i in range(param.size):
        param[i] -= grad[i] * learning_rate


def _momentum(param, grad, velocity, mom_coeff, learning_rate):  # pragma: no cover
    for i in range(param.size):
        v = velocity[i] * mom_coeff + grad[i]
        velocity[i] = v
        param[i] -= v * learning_rate


def _nesterov(param, grad, velocity, mom_coeff, learning_rate):  # pragma: no cover
    for i in range(param.size):
        g = grad[i]
        v = velocity[i] * mom_coeff + g
        velocity[i] = v
        param[i] -= (v * mom_coeff + g) * learning_rate


def _adagrad(param, grad, sums, epsilon, learning_rate):  # pragma: no cover
    for i in range(param.size):
        g = grad[i]
        s = sums[i] + g * g
        sums[i] = s
        param[i] -= (g / (np.sqrt(s) + epsilon)) * learning_rate


def _rmsprop(param, grad, mom_2, beta, one_minus_beta, epsilon, learning_rate):  # pragma: no cover
    for i in range(param.size):
        g = grad[i]
        s = mom_2[i] * beta + (g * g) * one_minus_beta
        mom_2[i] = s
        param[i] -= (g / (np.sqrt(s) + epsilon)) * learning_rate


def _adam(param, grad, mom_1, mom_2, beta_1, beta_2, step_size, epsilon):  # pragma: no cover
    for i in range(param.size):
        g = grad[i]
        u = mom_1[i] * beta_1 + g
        w = mom_2[i] * beta_2 + g * g
        mom_1[i] = u
        mom_2[i] = w
        param[i] -= (u / (np.sqrt(w) + epsilon)) * step_size


KERNELS: dict[str, Callable] = {
    "gradient_descent": _gradient_descent,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adam": _adam,
}
"""Kernel name -> its Python loop (what gets compiled)."""

_NUM_STATE_ARRAYS = {
    "gradient_descent": 0,
    "momentum": 1,
    "nesterov": 1,
    "adagrad": 1,
    "rmsprop": 1,
    "adam": 2,
}

_disabled_depth = 0
_numba: Any = None
_numba_missing = False
_compiled: dict[str, Callable | None] = {}


def _import_numba() -> Any:
    global _numba, _numba_missing
    if _numba is None and not _numba_missing:
        try:
            import numba
        except ImportError:
            _numba_missing = True
        else:
            _numba = numba
    return _numba


def _signatures(numba: Any, name: str) -> list:
    """float32 and float64 versions: writable C-contiguous 1-D arrays, then scalars."""
    num_arrays = 2 + _NUM_STATE_ARRAYS[name]
    num_scalars = KERNELS[name].__code__.co_argcount - num_arrays
    return [
        numba.void(*[dtype[::1]] * num_arrays, *[dtype] * num_scalars)
        for dtype in (numba.float32, numba.float64)
    ]


def _compiled_kernel(name: str) -> Callable | None:
    if name not in _compiled:
        numba = _import_numba()
        if numba is None:
            _compiled[name] = None
            return None

        # Compiled now, for both dtypes, so that any failure shows here and not midway
        # through training. error_model="numpy": division by zero gives inf as in NumPy
        # rather than raising, which also lets the loop be vectorised. nogil: other
        # Python threads keep running. No fastmath: it would change the numbers.
        def compile_kernel(cache: bool) -> Callable:
            return numba.njit(
                _signatures(numba, name),
                cache=cache,
                nogil=True,
                boundscheck=False,
                error_model="numpy",
            )(KERNELS[name])

        try:
            try:
                _compiled[name] = compile_kernel(cache=True)
            except Exception:  # e.g. nowhere to write the on-disk cache: compile each run
                _compiled[name] = compile_kernel(cache=False)
        except Exception as error:  # a broken numba install must not stop training
            warnings.warn(
                f"mlp: numba could not compile the {name} kernel ({error}); "
                "using the NumPy update instead",
                RuntimeWarning,
                stacklevel=4,
            )
            _compiled[name] = None
    return _compiled[name]


def available() -> bool:
    """True when compiled updates are in use: numba importable and not switched off."""
    if _disabled_depth or os.environ.get("MLP_NO_JIT", "") not in ("", "0"):
        return False
    return _import_numba() is not None


def compiled(name: str) -> Callable | None:
    """The compiled kernel `name` (a key of `KERNELS`), or None when compiled updates are
    unavailable or switched off: then the caller runs its NumPy code.

    A kernel is called as kernel(param, grad, *state, *scalars) with writable 1-D
    C-contiguous arrays of one size and dtype, float32 or float64 (`reshape(-1)` views of a parameter, its gradient and the
    rule's state arrays, which it updates in place) and scalars of that dtype (see its
    loop for which); anything else would not update the caller's arrays, or would
    compute in another precision.
    """
    return _compiled_kernel(name) if available() else None


@contextlib.contextmanager
def numpy_updates() -> Iterator[None]:
    """Within this block the learning rules run their NumPy code, not compiled kernels."""
    global _disabled_depth
    _disabled_depth += 1
    try:
        yield
    finally:
        _disabled_depth -= 1
