"""Optional compiled kernels: a learning rule's whole update in one pass over memory.

A rule's NumPy `_step` (see `mlp.learning_rules`) makes one pass over its arrays per
operation: ten for an Adam step. For a 784-1024-1024-10 network that makes the update
cost more than a third of the training time; for small networks the cost is the
gathering into one flat array and the dozen NumPy calls. Compiled with numba, the same
arithmetic in one loop reads each array once and writes it once: an Adam step on
784-1024-1024-10 takes 1.7 ms instead of 4.3 ms.

The kernels are an accelerator, not a second definition to trust: each does the float
operations of its rule's `_step` in the same order and dtype, so both give identical
bits (tested for every rule). numba is optional (`pip install 'mlp[fast]'`): without it,
with the environment variable `MLP_NO_JIT=1`, inside `numpy_updates()`, or while NumPy's
floating-point error handling is changed from its default (`np.errstate`, `np.seterr`,
which only the NumPy code obeys), the rules run their NumPy code. numba is imported, and
a kernel compiled, at first use, so `import mlp` stays fast; compiled code is cached on
disk.

    from mlp import kernels
    kernels.enabled()              # True when the rules may use compiled kernels
    with kernels.numpy_updates():  # the plain NumPy updates, e.g. to compare
        ...
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

__all__ = ["KERNELS", "compiled", "enabled", "numpy_updates"]

KERNELS: dict[str, Callable] = {}
"""Kernel name -> its Python loop (what gets compiled)."""

_NUM_STATE_ARRAYS: dict[str, int] = {}


def _kernel(name: str, state_arrays: int) -> Callable[[Callable], Callable]:
    """Register a loop as kernel `name`. Its arguments: the parameter, its gradient,
    `state_arrays` arrays of the rule's state (updated in place), then scalars."""

    def register(loop: Callable) -> Callable:
        KERNELS[name] = loop
        _NUM_STATE_ARRAYS[name] = state_arrays
        return loop

    return register


# Each loop runs compiled (so coverage never sees it) and mirrors one rule's `_step`
# followed by `param -= step`: same operations, same order. Each returns whether every
# value it wrote is finite, as NumPy would warn of an overflow or invalid value; the
# check is an and-reduction, which keeps the loop vectorised.


@_kernel("gradient_descent", state_arrays=0)
def _gradient_descent(param, grad, learning_rate):  # pragma: no cover
    finite = True
    for i in range(param.size):
        p = param[i] - grad[i] * learning_rate
        param[i] = p
        finite &= np.isfinite(p)
    return finite


@_kernel("momentum", state_arrays=1)
def _momentum(param, grad, velocity, mom_coeff, learning_rate):  # pragma: no cover
    finite = True
    for i in range(param.size):
        v = velocity[i] * mom_coeff + grad[i]
        p = param[i] - v * learning_rate
        velocity[i] = v
        param[i] = p
        finite &= np.isfinite(v) & np.isfinite(p)
    return finite


@_kernel("nesterov", state_arrays=1)
def _nesterov(param, grad, velocity, mom_coeff, learning_rate):  # pragma: no cover
    finite = True
    for i in range(param.size):
        g = grad[i]
        v = velocity[i] * mom_coeff + g
        p = param[i] - (v * mom_coeff + g) * learning_rate
        velocity[i] = v
        param[i] = p
        finite &= np.isfinite(v) & np.isfinite(p)
    return finite


@_kernel("adagrad", state_arrays=1)
def _adagrad(param, grad, sums, epsilon, learning_rate):  # pragma: no cover
    finite = True
    for i in range(param.size):
        g = grad[i]
        s = sums[i] + g * g
        p = param[i] - (g / (np.sqrt(s) + epsilon)) * learning_rate
        sums[i] = s
        param[i] = p
        finite &= np.isfinite(s) & np.isfinite(p)
    return finite


@_kernel("rmsprop", state_arrays=1)
def _rmsprop(param, grad, mom_2, beta, one_minus_beta, epsilon, learning_rate):  # pragma: no cover
    finite = True
    for i in range(param.size):
        g = grad[i]
        s = mom_2[i] * beta + (g * g) * one_minus_beta
        p = param[i] - (g / (np.sqrt(s) + epsilon)) * learning_rate
        mom_2[i] = s
        param[i] = p
        finite &= np.isfinite(s) & np.isfinite(p)
    return finite


@_kernel("adam", state_arrays=2)
def _adam(param, grad, mom_1, mom_2, beta_1, beta_2, step_size, epsilon):  # pragma: no cover
    finite = True
    for i in range(param.size):
        g = grad[i]
        u = mom_1[i] * beta_1 + g
        w = mom_2[i] * beta_2 + g * g
        p = param[i] - (u / (np.sqrt(w) + epsilon)) * step_size
        mom_1[i] = u
        mom_2[i] = w
        param[i] = p
        finite &= np.isfinite(u) & np.isfinite(w) & np.isfinite(p)
    return finite


_numpy_only: contextvars.ContextVar[bool] = contextvars.ContextVar("numpy_only", default=False)
_DEFAULT_ERRSTATE = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
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
    """float32 and float64 versions: C-contiguous 1-D arrays (the gradient may be
    read-only), then scalars."""
    num_state = _NUM_STATE_ARRAYS[name]
    num_scalars = KERNELS[name].__code__.co_argcount - 2 - num_state
    signatures = []
    for dtype in (numba.float32, numba.float64):
        array, read_only = dtype[::1], numba.types.Array(dtype, 1, "C", readonly=True)
        arguments = [array, read_only, *[array] * num_state, *[dtype] * num_scalars]
        signatures.append(numba.boolean(*arguments))
    return signatures


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
                stacklevel=_first_caller_outside_mlp(),
            )
            _compiled[name] = None
    return _compiled[name]


def _first_caller_outside_mlp() -> int:
    """The `stacklevel` that points a warning at the first frame outside this package
    (the user's code), wherever in mlp it is raised from."""
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("mlp."):
        frame, level = frame.f_back, level + 1
    return level


def enabled() -> bool:
    """True when the rules may use compiled kernels: numba importable, not switched off
    (`MLP_NO_JIT`, `numpy_updates`), and NumPy's floating-point error handling at its
    default. A rule still runs NumPy code where a kernel does not fit (see `compiled`)."""
    if _numpy_only.get() or os.environ.get("MLP_NO_JIT", "") not in ("", "0"):
        return False
    if np.geterr() != _DEFAULT_ERRSTATE:
        return False  # only NumPy's own operations raise, log or ignore as asked
    return _import_numba() is not None


def compiled(name: str) -> Callable | None:
    """The compiled kernel `name` (a key of `KERNELS`), or None when compiled updates are
    not enabled or it failed to compile: then the caller runs its NumPy code.

    A kernel is called as finite = kernel(param, grad, *state, *scalars) with 1-D
    C-contiguous arrays of one size and dtype, float32 or float64, all but the gradient
    writable, that do not overlap (`reshape(-1)` views of a parameter, its gradient and the rule's state
    arrays, which it updates in place) and scalars of that dtype (see its loop for
    which). It returns False when it wrote an inf or NaN. numba refuses other arrays
    with a TypeError before changing anything.
    """
    return _compiled_kernel(name) if enabled() else None


@contextlib.contextmanager
def numpy_updates() -> Iterator[None]:
    """Within this block (in this thread or task) the learning rules run their NumPy
    code, not compiled kernels."""
    token = _numpy_only.set(True)
    try:
        yield
    finally:
        _numpy_only.reset(token)
