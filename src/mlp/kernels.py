"""Optional compiled kernels: a learning rule's whole update in one pass over memory.

An Adam step written with NumPy operations makes ten passes over its arrays (see
`AdamLearningRule._step`): fine for small models, but for a 784-1024-1024-10 network the
update then costs more than a third of the training time. Compiled with numba, the same
arithmetic in one loop reads each array once and writes it once, about 2.5x faster.

The kernels are an accelerator, not a second implementation to trust: each does the same
float operations in the same order as the rule's NumPy `_step`, so both give identical
numbers (tested). numba is optional (`pip install 'mlp[fast]'`): without it, or with the
environment variable `MLP_NO_JIT=1`, or inside `numpy_updates()`, the rules use their
NumPy code. numba is imported, and a kernel compiled, on first use only, so `import mlp`
stays fast; compiled code is cached on disk.

    from mlp import kernels
    kernels.available()            # True when the compiled updates are in use
    with kernels.numpy_updates():  # run the plain NumPy update, e.g. to compare
        ...
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator

import numpy as np

__all__ = ["adam_update", "available", "numpy_updates"]

_disabled_depth = 0
_compiled: dict[str, Callable | None] = {}


def _adam_loop(param, grad, mom_1, mom_2, beta_1, beta_2, step_size, epsilon):  # pragma: no cover
    # Runs compiled (the coverage tracer never sees it). Same operations, same order and
    # same dtype as AdamLearningRule._step followed by `param -= step`.
    for i in range(param.size):
        g = grad[i]
        u = mom_1[i] * beta_1 + g
        w = mom_2[i] * beta_2 + g * g
        mom_1[i] = u
        mom_2[i] = w
        param[i] -= (u / (np.sqrt(w) + epsilon)) * step_size


def _compile(name: str, function: Callable) -> Callable | None:
    if name not in _compiled:
        try:
            import numba
        except ImportError:
            _compiled[name] = None
        else:
            try:
                # error_model="numpy": division by zero gives inf as in NumPy instead of
                # raising, which also lets the loop be vectorised. nogil: other Python
                # threads keep running. No fastmath: it would change the numbers.
                _compiled[name] = numba.njit(
                    cache=True, nogil=True, boundscheck=False, error_model="numpy"
                )(function)
            except Exception as error:  # a broken numba install must not stop training
                warnings.warn(
                    f"mlp: numba could not compile the {name} kernel ({error}); "
                    "using the NumPy update instead",
                    RuntimeWarning,
                    stacklevel=3,
                )
                _compiled[name] = None
    return _compiled[name]


def available() -> bool:
    """True when compiled updates are in use: numba importable, not switched off."""
    if _disabled_depth or os.environ.get("MLP_NO_JIT", "") not in ("", "0"):
        return False
    return _compile("adam", _adam_loop) is not None


@contextlib.contextmanager
def numpy_updates() -> Iterator[None]:
    """Within this block the learning rules use their NumPy code, not compiled kernels."""
    global _disabled_depth
    _disabled_depth += 1
    try:
        yield
    finally:
        _disabled_depth -= 1


def adam_update(
    param: np.ndarray,
    grad: np.ndarray,
    mom_1: np.ndarray,
    mom_2: np.ndarray,
    beta_1: float,
    beta_2: float,
    step_size: float,
    epsilon: float,
) -> bool:
    """One Adam step for one parameter array, in place, when a compiled kernel can do it.

    With u = mom_1, w = mom_2 (the rule's scaled moments, see `AdamLearningRule`):
    u <- beta_1 u + g;  w <- beta_2 w + g**2;  param <- param - step_size u / (sqrt(w) + epsilon).

    Args:
        param, grad, mom_1, mom_2: 1-D C-contiguous arrays of one size and one dtype
            (reshape(-1) views of the parameter and its state).
        beta_1, beta_2, step_size, epsilon: scalars, used in the arrays' dtype.
    Returns:
        True when the update was done; False (nothing changed) when compiled kernels are
        unavailable or switched off, or the arrays do not fit them: then the caller runs
        its NumPy code.
    """
    arrays = (param, grad, mom_1, mom_2)
    dtype = param.dtype
    if not all(a.ndim == 1 and a.flags.c_contiguous and a.dtype == dtype for a in arrays):
        return False
    if dtype not in (np.float32, np.float64) or not param.flags.writeable:
        return False
    if not available():
        return False
    kernel = _compiled["adam"]
    assert kernel is not None
    # Scalars in the arrays' dtype, as NumPy casts Python floats in `_step`.
    constants = [dtype.type(c) for c in (beta_1, beta_2, step_size, epsilon)]
    kernel(param, grad, mom_1, mom_2, *constants)
    return True
