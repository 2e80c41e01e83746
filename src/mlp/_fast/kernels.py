"""Compiled kernels (numba): a learning rule's whole update in one pass over memory.

A built-in rule's `_step` (`mlp.learning_rules`) in NumPy makes one pass over its arrays
per operation: a dozen for an Adam step. Compiled with numba, the same arithmetic in one
loop reads each array once and writes it once, one call per parameter.

Each kernel mirrors its rule's `_step` followed by nothing else: the same float
operations in the same order and dtype, so both give identical bits (tested for every
rule in tests/test_fast_updates.py). numba is optional (`pip install 'mlp[fast]'`):
without it, with the environment variable `MLP_NO_JIT=1`, inside `numpy_updates()`, or
while NumPy's floating-point error handling is changed from its default (`np.errstate`,
`np.seterr`, which only NumPy code obeys), `enabled()` is False and the fast updater
runs NumPy code (`mlp._fast.updates`). numba is imported, and a kernel compiled, at
first use, so `import mlp` stays fast; compiled code is cached on disk.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

import numpy as np

__all__ = ["KERNELS", "compiled", "enabled", "first_caller_outside_mlp", "numpy_updates"]

Array = np.ndarray
Loop = Callable[..., bool]

KERNELS: dict[str, Loop] = {}
"""Kernel name -> its Python loop (what gets compiled)."""

_NUM_STATE_ARRAYS: dict[str, int] = {}


def _kernel(name: str, state_arrays: int) -> Callable[[Loop], Loop]:
    """Register a loop as kernel `name`. Its arguments: the parameter, its gradient,
    `state_arrays` arrays of the rule's state (updated in place), then scalars."""

    def register(loop: Loop) -> Loop:
        KERNELS[name] = loop
        _NUM_STATE_ARRAYS[name] = state_arrays
        return loop

    return register


# Each loop runs compiled (so coverage never sees it) and does one rule's `_step` entry
# by entry: the same float operations in the same order, written alike (a * b + c stays
# two roundings: without fastmath there is no fused multiply-add). The scalars come in
# the arrays' dtype, as NumPy applies the Python floats of `_step`. Each loop returns
# whether every value it wrote is finite, where NumPy would warn of an overflow or an
# invalid value; the check is an and-reduction, which keeps the loop vectorised.


@_kernel("gradient_descent", state_arrays=0)
def _gradient_descent(param: Array, grad: Array, learning_rate: float) -> bool:  # pragma: no cover
    finite = True
    for i in range(param.size):
        p = param[i] - learning_rate * grad[i]
        param[i] = p
        finite &= np.isfinite(p)
    return finite


@_kernel("momentum", state_arrays=1)
def _momentum(  # pragma: no cover
    param: Array, grad: Array, velocity: Array, mom_coeff: float, learning_rate: float
) -> bool:
    finite = True
    for i in range(param.size):
        v = velocity[i] * mom_coeff + grad[i]
        p = param[i] - learning_rate * v
        velocity[i] = v
        param[i] = p
        finite &= np.isfinite(v) & np.isfinite(p)
    return finite


@_kernel("nesterov", state_arrays=1)
def _nesterov(  # pragma: no cover
    param: Array, grad: Array, velocity: Array, mom_coeff: float, learning_rate: float
) -> bool:
    finite = True
    for i in range(param.size):
        g = grad[i]
        v = velocity[i] * mom_coeff + g
        p = param[i] - learning_rate * (g + mom_coeff * v)
        velocity[i] = v
        param[i] = p
        finite &= np.isfinite(v) & np.isfinite(p)
    return finite


@_kernel("adagrad", state_arrays=1)
def _adagrad(  # pragma: no cover
    param: Array, grad: Array, sums: Array, epsilon: float, learning_rate: float
) -> bool:
    finite = True
    for i in range(param.size):
        g = grad[i]
        s = sums[i] + g * g
        p = param[i] - learning_rate * (g / (np.sqrt(s) + epsilon))
        sums[i] = s
        param[i] = p
        finite &= np.isfinite(s) & np.isfinite(p)
    return finite


@_kernel("rmsprop", state_arrays=1)
def _rmsprop(  # pragma: no cover
    param: Array,
    grad: Array,
    mom_2: Array,
    beta: float,
    one_minus_beta: float,
    epsilon: float,
    learning_rate: float,
) -> bool:
    finite = True
    for i in range(param.size):
        g = grad[i]
        s = mom_2[i] * beta + one_minus_beta * (g * g)
        p = param[i] - learning_rate * (g / (np.sqrt(s) + epsilon))
        mom_2[i] = s
        param[i] = p
        finite &= np.isfinite(s) & np.isfinite(p)
    return finite


@_kernel("adam", state_arrays=2)
def _adam(  # pragma: no cover
    param: Array,
    grad: Array,
    mom_1: Array,
    mom_2: Array,
    beta_1: float,
    one_minus_beta_1: float,
    beta_2: float,
    one_minus_beta_2: float,
    bias_correction_1: float,
    bias_correction_2: float,
    learning_rate: float,
    epsilon: float,
) -> bool:
    # x / 1 is x, bit for bit: once beta**t is too small to change 1 - beta**t (for beta_1
    # = 0.9 after about 160 steps in float32), skip that division, a fifth of the time
    # (LLVM moves the test out of the loop).
    divide_1, divide_2 = bias_correction_1 != 1, bias_correction_2 != 1
    finite = True
    for i in range(param.size):
        g = grad[i]
        m = mom_1[i] * beta_1 + one_minus_beta_1 * g
        v = mom_2[i] * beta_2 + one_minus_beta_2 * (g * g)
        m_hat = m / bias_correction_1 if divide_1 else m
        v_hat = v / bias_correction_2 if divide_2 else v
        p = param[i] - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon)
        mom_1[i] = m
        mom_2[i] = v
        param[i] = p
        finite &= np.isfinite(m) & np.isfinite(v) & np.isfinite(p)
    return finite


_numpy_only: contextvars.ContextVar[bool] = contextvars.ContextVar("numpy_only", default=False)
_DEFAULT_ERRSTATE = {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}
_numba: Any = None
_numba_missing = False
_compiled: dict[str, Loop | None] = {}


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


def _signatures(numba: Any, name: str) -> list[Any]:
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


def _compiled_kernel(name: str) -> Loop | None:
    if name not in _compiled:
        numba = _import_numba()
        if numba is None:
            _compiled[name] = None
            return None

        # Compiled now, for both dtypes, so that any failure shows here and not midway
        # through training. error_model="numpy": division by zero gives inf as in NumPy
        # rather than raising, which also lets the loop be vectorised. nogil: other
        # Python threads keep running. No fastmath: it would change the numbers.
        def compile_kernel(cache: bool) -> Loop:
            kernel: Loop = numba.njit(
                _signatures(numba, name),
                cache=cache,
                nogil=True,
                boundscheck=False,
                error_model="numpy",
            )(KERNELS[name])
            return kernel

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
                stacklevel=first_caller_outside_mlp(),
            )
            _compiled[name] = None
    return _compiled[name]


def first_caller_outside_mlp() -> int:
    """The `stacklevel` that points a warning at the first frame outside this package
    (the user's code), wherever in mlp it is raised from."""
    frame: FrameType | None = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("mlp."):
        frame, level = frame.f_back, level + 1
    return level


def enabled() -> bool:
    """True when training may use compiled kernels: numba importable, not switched off
    (`MLP_NO_JIT`, `numpy_updates`), and NumPy's floating-point error handling at its
    default. NumPy code still runs where a kernel does not fit (see `compiled`)."""
    if _numpy_only.get() or os.environ.get("MLP_NO_JIT", "") not in ("", "0"):
        return False
    if np.geterr() != _DEFAULT_ERRSTATE:
        return False  # only NumPy's own operations raise, log or ignore as asked
    return _import_numba() is not None


def compiled(name: str) -> Loop | None:
    """The compiled kernel `name` (a key of `KERNELS`), or None when compiled updates are
    not enabled or it failed to compile: then the caller runs its NumPy code.

    A kernel is called as finite = kernel(param, grad, *state, *scalars) with 1-D
    C-contiguous arrays of one size and dtype, float32 or float64, all but the gradient
    writable, that do not overlap (`reshape(-1)` views of a parameter, its gradient and
    the rule's state arrays, which it updates in place) and scalars of that dtype (see
    its loop for which). It returns False when it wrote an inf or NaN. numba refuses other arrays
    with a TypeError before changing anything.
    """
    return _compiled_kernel(name) if enabled() else None


@contextlib.contextmanager
def numpy_updates() -> Iterator[None]:
    """Within this block (in this thread or task) training updates run NumPy code, not
    compiled kernels."""
    token = _numpy_only.set(True)
    try:
        yield
    finally:
        _numpy_only.reset(token)
