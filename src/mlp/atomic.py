"""Atomic file writes: readers see the old file or the new one, never a part.

Data sets, run records, reports and figures are all written this way: the bytes go to a
uniquely named temporary file in the same folder, are flushed to disk, and only then is
the file renamed over its target (an atomic step on POSIX). A process killed midway
leaves at most a temporary file, which no reader looks at.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import IO

__all__ = [
    "append_synced",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_dir",
]

_umask_lock = threading.Lock()


def _umask() -> int:
    with _umask_lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _check_path(name: str, value: object) -> None:
    """A TypeError naming `name` unless `value` is a str or os.PathLike path."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a path (str or os.PathLike), got {value!r}")


def fsync_dir(directory: str | os.PathLike[str]) -> None:
    """Flush a folder's entries to disk, so a rename in it survives a power cut.

    A missing folder is a FileNotFoundError; a file system that cannot fsync a folder
    is not an error (the flush is best effort there)."""
    _check_path("directory", directory)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"directory {os.fspath(directory)!r} is not an existing folder")
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:  # pragma: no cover - not POSIX
        return
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write(
    path: str | os.PathLike[str], write: Callable[[IO[bytes]], object], suffix: str = ".tmp"
) -> None:
    """Create or replace `path` with what `write(handle)` writes to a binary handle.

    The temporary file is named `.NAME.XXXXXXXX{suffix}` beside `path` and removed if
    anything fails (KeyboardInterrupt included). The new file gets the usual permissions
    (0666 less the umask), not mkstemp's private 0600.
    """
    _check_path("path", path)
    if not callable(write):
        raise TypeError(f"write must be a callable taking a binary handle, got {write!r}")
    if not isinstance(suffix, str):
        raise TypeError(f"suffix must be a str, got {suffix!r}")
    path = Path(path)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as handle:
            with suppress(AttributeError, OSError):
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
            _call_writer(write, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temporary)
        raise
    fsync_dir(path.parent)


def _call_writer(write: Callable[[IO[bytes]], object], handle: IO[bytes]) -> None:
    """`write(handle)`; writing a str to the binary handle is named as the writer's fault
    (the bare TypeError says only that bytes were expected)."""
    try:
        write(handle)
    except TypeError as exc:
        if "bytes-like object is required" not in str(exc):
            raise
        raise TypeError(f"write must write bytes to its binary handle: {exc}") from exc


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Create or replace `path` with `data`, atomically."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__} {data!r:.60}")
    atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__} {text!r:.60}")
    atomic_write_bytes(path, text.encode("utf-8"))


def append_synced(path: str | os.PathLike[str], data: bytes) -> None:
    """Append `data` to `path` (created when missing) in one `os.write`, and fsync it
    before returning: for logs that only grow by whole lines (stats.csv, layers.csv),
    so a killed process leaves every line it reported and at most one cut short."""
    _check_path("path", path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, got {type(data).__name__} {data!r:.60}")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
