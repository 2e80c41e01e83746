"""Encodings for record files: arrays as `.npz` bytes (never a pickle), values as JSON."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["json_safe", "npz_bytes"]


def npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """The bytes of an uncompressed `.npz` file holding `arrays` (name -> array of any
    shape), for an atomic write; read back with `np.load(..., allow_pickle=False)`."""
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    return buffer.getvalue()


def json_safe(value: Any) -> Any:
    """`value` with what JSON cannot hold replaced: floats NaN and inf by None, NumPy
    scalars by Python ones, tuples by lists; mappings and sequences are converted
    throughout (their keys as strings)."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
