"""Atomic file writes for run records (the project's one implementation is `mlp.atomic`)."""

from mlp.atomic import atomic_write_bytes, atomic_write_text

__all__ = ["atomic_write_bytes", "atomic_write_text"]
