"""A restricted unpickler that can rebuild NumPy arrays of plain dtypes and nothing else.

Pickles call whatever global they name when they are loaded, so an ordinary
``pickle.loads`` of a downloaded file runs whatever code its author chose; this one
refuses every global that array reconstruction does not need.
"""

from __future__ import annotations

import io
import pickle

import numpy as np

__all__ = ["restricted_loads"]

_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]  # numpy's own, wherever it lives


def _plain_dtype(*args: object) -> np.dtype:
    dtype: np.dtype = np.dtype(*args)  # type: ignore[call-overload]  # args come from the pickle
    if dtype.hasobject:
        raise pickle.UnpicklingError("refusing to rebuild an array of Python objects")
    return dtype


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    # Python 3 pickles bytes for protocols < 3 as _codecs.encode(text, "latin1").
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"refusing to call _codecs.encode with {encoding!r}")
    return text.encode("latin1")


_ALLOWED_GLOBALS: dict[tuple[str, str], object] = {
    ("_codecs", "encode"): _latin1_encode,
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _plain_dtype,
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that can rebuild NumPy arrays of plain dtypes and nothing else.

    Pickles call whatever global they name when they are loaded; this one looks up only
    the globals that array reconstruction needs (in protocols 0 to 2, which is what the
    MNIST pickle uses) and refuses every other.
    """

    def find_class(self, module: str, name: str) -> object:
        try:
            return _ALLOWED_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: only NumPy arrays may be unpickled"
            ) from None


def restricted_loads(data: bytes) -> object:
    """Unpickle ``data``, allowing NumPy arrays of plain dtypes (any shape) and nothing else.

    Python 2's strings are read as latin-1, as the classic MNIST pickle needs; tuples,
    lists, dicts and numbers need no globals and load as usual.

    Raises:
        pickle.UnpicklingError: when the pickle names any other global (a function it
            would call, a class, an array of Python objects).
    """
    return _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()
