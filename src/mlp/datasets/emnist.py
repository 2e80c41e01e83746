"""EMNIST Balanced: 47 classes of handwritten digits and letters, as the course ships it.

Files ``emnist-{train,valid,test}.npz`` in the data directory, each holding

- ``inputs``: uint8 array of shape (num_examples, 28, 28), pixel values 0..255 (the
  course's files in (num_examples, 784) or (num_examples, 28, 28, 1) are accepted too);
- ``targets``: integer array of shape (num_examples,), class labels 0..46.

They are built from NIST's distribution ``gzip.zip``, whose Balanced split has 112,800
training and 18,800 test images. ``test`` is NIST's test split. NIST's training images
are split, with ``np.random.RandomState(EMNIST_SPLIT_SEED).permutation``, into ``valid``
(the first `EMNIST_VALID_SIZE` = 12,800 indices of the permutation) and ``train`` (the
other 100,000, the size of the course's training file); both keep NIST's order. (The
course's own files are split 100,000 / 15,800 / 15,800 from all 131,600 images; they are
accepted as they are.) NIST stores each image transposed; the files hold them upright,
as MNIST's are.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

from mlp.datasets.checksums import gunzip
from mlp.datasets.exceptions import DataError
from mlp.datasets.idx import parse_idx

__all__ = [
    "EMNIST_CLASSES",
    "EMNIST_SPLIT_SEED",
    "EMNIST_VALID_SIZE",
    "build_emnist",
    "check_emnist",
    "emnist_filename",
    "read_emnist",
]

EMNIST_CLASSES = 47
EMNIST_SPLIT_SEED = 14
EMNIST_VALID_SIZE = 12_800
_NIST_SIZES = {"train": 112_800, "test": 18_800}
_MEMBER = "gzip/emnist-balanced-{part}-{kind}-idx{ndim}-ubyte.gz"


def emnist_filename(split: str) -> str:
    """The file of one split in the data directory: ``emnist-{split}.npz``."""
    return f"emnist-{split}.npz"


def read_emnist(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read and check one EMNIST file.

    Returns:
        ``(images, labels)``: uint8 of shape (num_examples, 28, 28) and int64 of shape
        (num_examples,), labels in 0..46.

    Raises:
        DataError: naming ``path`` when the file is unreadable or not EMNIST data.
    """
    try:
        with np.load(path, allow_pickle=False) as loaded:
            images, labels = loaded["inputs"], loaded["targets"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path} is not a readable EMNIST file ({err})") from None
    if images.dtype != np.uint8 or images.ndim < 2 or images[0].size != 28 * 28:
        raise DataError(
            f"{path}: inputs must be uint8 28x28 images, got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.dtype.kind not in "iu" or len(labels) != len(images):
        raise DataError(
            f"{path}: targets must be {len(images)} integer labels, got "
            f"{labels.dtype} {labels.shape}"
        )
    if labels.size and not 0 <= labels.min() <= labels.max() < EMNIST_CLASSES:
        raise DataError(f"{path}: labels must be in 0..{EMNIST_CLASSES - 1}")
    return images.reshape(len(images), 28, 28), labels.astype(np.int64)


def check_emnist(filename: str, path: Path) -> None:
    """`FileSet.check` for EMNIST: ``path`` must be a valid EMNIST file."""
    read_emnist(path)


def build_emnist(
    archive: Path,
    sizes: dict[str, int] | None = None,
    valid_size: int = EMNIST_VALID_SIZE,
) -> dict[str, bytes]:
    """The three npz files from NIST's ``gzip.zip``.

    Args:
        archive: the downloaded zip.
        sizes: the expected number of NIST ``train`` and ``test`` images (default
            112,800 and 18,800; tests pass their own).
        valid_size: training images moved to ``valid``.

    Returns:
        ``{emnist-{split}.npz: content}`` for train, valid and test.
    """
    sizes = sizes or _NIST_SIZES
    parts = {part: _read_part(archive, part, sizes[part]) for part in ("train", "test")}
    train_images, train_labels = parts["train"]
    order = np.random.RandomState(EMNIST_SPLIT_SEED).permutation(len(train_images))
    valid, train = np.sort(order[:valid_size]), np.sort(order[valid_size:])
    splits = {
        "train": (train_images[train], train_labels[train]),
        "valid": (train_images[valid], train_labels[valid]),
        "test": parts["test"],
    }
    out = {}
    for split, (images, labels) in splits.items():
        buffer = io.BytesIO()
        np.savez_compressed(buffer, inputs=images, targets=labels.astype(np.int64))
        out[emnist_filename(split)] = buffer.getvalue()
    return out


def _read_part(archive: Path, part: str, size: int) -> tuple[np.ndarray, np.ndarray]:
    """NIST's images (upright) and labels of one part of the Balanced split."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            images_gz = zipped.read(_MEMBER.format(part=part, kind="images", ndim=3))
            labels_gz = zipped.read(_MEMBER.format(part=part, kind="labels", ndim=1))
    except (OSError, KeyError, zipfile.BadZipFile) as err:
        raise DataError(f"{archive.name} is not NIST's EMNIST gzip.zip ({err})") from None
    images = parse_idx(gunzip(images_gz, f"EMNIST {part} images"), 3, f"EMNIST {part} images")
    labels = parse_idx(gunzip(labels_gz, f"EMNIST {part} labels"), 1, f"EMNIST {part} labels")
    if images.shape != (size, 28, 28) or labels.shape != (size,):
        raise DataError(
            f"EMNIST Balanced {part}: expected {size} 28x28 images and labels, got "
            f"{images.shape} and {labels.shape}"
        )
    if labels.max() >= EMNIST_CLASSES:
        raise DataError(f"EMNIST Balanced {part}: a label above {EMNIST_CLASSES - 1}")
    # NIST stores each image transposed (column by column).
    return np.ascontiguousarray(images.transpose(0, 2, 1)), labels.astype(np.int64)
