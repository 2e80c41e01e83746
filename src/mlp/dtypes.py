"""The floating-point type the framework computes in.

Everything is float32 by default: parameters, activations, gradients and learning-rule
state. float32 halves memory traffic and doubles BLAS throughput against float64, and is
what PyTorch uses too. Gradient checks and oracle tests want float64; choose it with::

    import mlp
    mlp.set_default_dtype(np.float64)          # from now on
    with mlp.default_dtype(np.float64):        # only inside the block
        ...

The default is read when an object is built: initialisers cast what they draw to it and
data providers serve inputs in it, so a model built under float64 stays float64.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
from numpy.typing import DTypeLike

_ALLOWED = (np.dtype(np.float32), np.dtype(np.float64))
_default = np.dtype(np.float32)


def _check(dtype: DTypeLike) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in _ALLOWED:
        raise ValueError(
            f"mlp computes in float32 or float64, not {dt}; pass np.float32 or np.float64"
        )
    return dt


def get_default_dtype() -> np.dtype:
    """Return the dtype new parameters and data are created in (float32 unless changed)."""
    return _default


def set_default_dtype(dtype: DTypeLike) -> None:
    """Set the dtype new parameters and data are created in: np.float32 or np.float64."""
    global _default
    _default = _check(dtype)


@contextlib.contextmanager
def default_dtype(dtype: DTypeLike) -> Iterator[np.dtype]:
    """Use `dtype` as the default inside a `with` block, restoring the previous one after."""
    global _default
    previous = _default
    _default = _check(dtype)
    try:
        yield _default
    finally:
        _default = previous


def resolve(dtype: DTypeLike | None) -> np.dtype:
    """`dtype` checked, or the current default when it is None."""
    return _default if dtype is None else _check(dtype)
