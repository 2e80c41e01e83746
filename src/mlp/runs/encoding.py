"""Encodings for record files: arrays as `.npz` bytes (never a pickle), values as JSON."""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from typing import Any

import numpy as np


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _json_safe(value: Any) -> Any:
    """Floats that JSON cannot hold (NaN, inf) as None; NumPy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
