"""The error of run records: one that cannot be started, resumed or read as asked."""

from __future__ import annotations


class RunError(RuntimeError):
    """A run record that cannot be started, resumed or read as asked; says what to do."""
