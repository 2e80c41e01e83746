"""The errors of run records: one that cannot be started, resumed or read as asked, and
(a kind of it) a record file that is damaged or was edited into something else."""

from __future__ import annotations

__all__ = ["RunError", "RunRecordError"]


class RunError(RuntimeError):
    """A run record that cannot be started, resumed or read as asked; says what to do."""


class RunRecordError(RunError):
    """A file of a run record that cannot be read as one: bytes that are not text, a zip
    that is not one, JSON or TOML that does not parse or has the wrong shape, a missing
    entry. The message names the file and says what to do (--overwrite, or which file
    to remove); `path` is the file."""

    def __init__(self, path: object, problem: str, fix: str) -> None:
        super().__init__(f"{path} {problem}; {fix}")
        self.path = path
