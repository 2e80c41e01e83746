"""The .npz files in the data directory: verified reading, caching and atomic writing.

Each file holds two arrays, ``inputs`` of shape (num_examples, 784) and ``targets`` of
shape (num_examples,). Reads are verified and cached until the file changes; writes go
through a temporary file so that a reader never sees half a file.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
import zipfile
from contextlib import suppress
from pathlib import Path

import numpy as np

from mlp.atomic import atomic_write
from mlp.datasets.exceptions import DataError
from mlp.datasets.specs import INPUT_DIM, DatasetSpec
from mlp.datasets.verification import verify

__all__ = [
    "STALE_TEMP_SECONDS",
    "read_verified",
    "remove_partial_files",
    "remove_stale_temp_files",
    "write_split",
]

logger = logging.getLogger(__name__)

STALE_TEMP_SECONDS = 3600.0
"""Temporary files of a fetch that was killed are removed once they are this old."""

_TEMP_SUFFIX = ".part"

_CacheKey = tuple[str, str, str]  # (file, data set, split)
_cache: dict[_CacheKey, tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]]] = {}
_cache_lock = threading.Lock()


def _cache_key(spec: DatasetSpec, split: str, path: Path) -> tuple[_CacheKey, tuple[int, int]]:
    # The file verified as one data set and split is not thereby verified as another
    # (a link named fashion-mnist-valid.npz pointing at MNIST's file, say).
    st = path.stat()
    return (str(path.resolve()), spec.name, split), (st.st_mtime_ns, st.st_size)


def read_verified(spec: DatasetSpec, split: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and verify the file of one split; the result is cached until the file changes.

    Returns:
        ``(inputs, targets)``: read-only C-contiguous arrays, float32 of shape
        (num_examples, 784) and int64 of shape (num_examples,), shared between calls.

    Raises:
        DataError: naming ``path`` and the fix, when the file is missing, unreadable,
            corrupt or fails `verify`.
    """
    if path.is_dir():
        raise DataError(f"{path} is a folder, where a data file goes: remove that folder")
    try:
        resolved, stamp = _cache_key(spec, split, path)
    except OSError as err:
        raise DataError(f"cannot read {path} ({err}). {spec.fix}") from None
    with _cache_lock:
        hit = _cache.get(resolved)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    inputs, targets = _read_npz(spec, split, path)
    verify(spec.name, split, inputs, targets, source=path)
    arrays = _freeze(inputs, targets)
    with _cache_lock:
        _cache[resolved] = (stamp, arrays)
    return arrays


def _remember(
    spec: DatasetSpec, split: str, path: Path, arrays: tuple[np.ndarray, np.ndarray]
) -> None:
    """Cache the arrays just written to ``path``, so that loading it does not read it back."""
    with suppress(OSError):
        resolved, stamp = _cache_key(spec, split, path)
        with _cache_lock:
            _cache[resolved] = (stamp, arrays)


def _freeze(inputs: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float32 / int64 C-contiguous read-only arrays (copied only when needed)."""
    inputs = np.ascontiguousarray(inputs, dtype=np.float32)
    targets = np.ascontiguousarray(targets, dtype=np.int64)
    inputs.flags.writeable = False
    targets.flags.writeable = False
    return inputs, targets


def _read_npz(spec: DatasetSpec, split: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``inputs`` and ``targets`` from an .npz, checking headers before allocating."""
    n = spec.sizes[split]
    expected = {"inputs": (n, INPUT_DIM), "targets": (n,)}

    def fail(problem: str) -> DataError:
        return DataError(f"{path} is corrupt or incomplete ({problem}). {spec.fix}")

    try:
        with zipfile.ZipFile(path) as archive:
            members = set(archive.namelist())
            for key, shape in expected.items():
                if f"{key}.npy" not in members:
                    raise fail(f"no array {key!r}; it holds {sorted(members)}")
                with archive.open(f"{key}.npy") as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        header = np.lib.format.read_array_header_1_0(member)
                    elif version == (2, 0):
                        header = np.lib.format.read_array_header_2_0(member)
                    else:  # a newer format: np.load below checks it
                        continue
                found_shape, _, dtype = header
                if found_shape != shape:
                    raise fail(f"{key} has shape {found_shape}, expected {shape}")
                if dtype.kind not in "fiu" or dtype.itemsize > 8:
                    raise fail(f"{key} has dtype {dtype}, expected numbers")
        with np.load(path, allow_pickle=False) as npz:
            return npz["inputs"], npz["targets"]
    except DataError:
        raise
    except Exception as err:  # zip, header, CRC and short-read errors all mean the same
        raise fail(f"{type(err).__name__}: {err}") from None


def write_split(
    spec: DatasetSpec, split: str, path: Path, inputs: np.ndarray, targets: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Write one split's file atomically and cache it, so that loading it does not read it back.

    Args:
        spec, split: the data set and split the arrays are (the caller verified them).
        path: the .npz file written: it is either absent, the old file or complete, even
            when this process is killed midway (which leaves at most a ``.part``
            temporary file, which no loader reads and `remove_stale_temp_files` clears).
        inputs: array of shape (num_examples, 784), stored as float32.
        targets: array of shape (num_examples,), stored as int64.

    Returns:
        The arrays as written and cached: read-only and C-contiguous, float32 and int64.

    Raises:
        OSError: when the file cannot be written (the disk is full, say).
    """
    arrays = _freeze(inputs, targets)
    atomic_write(
        path, lambda handle: np.savez(handle, inputs=arrays[0], targets=arrays[1]), _TEMP_SUFFIX
    )
    _remember(spec, split, path, arrays)
    return arrays


def remove_partial_files(path: Path, older_than: float) -> None:
    """Remove the partial files of `path` that killed fetches left, now that `path` was
    written whole: those last changed before `older_than` (a `time.time()`, when this
    fetch began), so that one a concurrent fetch is writing now is left to it."""
    for tmp in path.parent.glob(f".{path.name}.*{_TEMP_SUFFIX}"):
        with suppress(OSError):
            if tmp.stat().st_mtime < older_than:
                tmp.unlink()
                logger.info("removed %s, left by an interrupted fetch", tmp)


def remove_stale_temp_files(directory: Path, name: str) -> None:
    """Remove what fetches of data set ``name`` killed outright left behind.

    Those are the partial files in ``directory`` and the download folders in the system's
    temporary folder, once older than `STALE_TEMP_SECONDS` (a younger one may belong to
    a fetch still running). Files that cannot be removed are left.
    """
    now = time.time()
    for tmp in directory.glob(f".{name}-*.npz.*{_TEMP_SUFFIX}"):
        with suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                tmp.unlink()
                logger.info("removed %s, left by an interrupted fetch", tmp)
    for workdir in Path(tempfile.gettempdir()).glob("mlp-fetch-*"):
        with suppress(OSError):
            if workdir.is_dir() and now - workdir.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(workdir)
                logger.info("removed %s, left by an interrupted fetch", workdir)
