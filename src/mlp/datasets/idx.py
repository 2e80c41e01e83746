"""The idx format of the original MNIST-style distributions, and turning it into splits.

An idx file is a 4-byte magic number, big-endian uint32 sizes, then unsigned bytes. A
distribution is four gzipped idx files: training images and labels (60,000, split here
into ``train`` and ``valid``) and test images and labels.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np

import mlp._checks as _checks
from mlp.datasets.checksums import check_digests
from mlp.datasets.exceptions import DataError
from mlp.datasets.specs import IMAGE_SHAPE, INPUT_DIM, PIXEL_LEVELS, DatasetSpec, Splits

__all__ = ["parse_idx", "splits_from_idx", "splits_from_idx_folder"]


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
    if not isinstance(content, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"parse_idx: content of {origin} must be bytes, got {type(content).__name__}"
        )
    ndim = _checks.count(ndim, "ndim", "parse_idx", 1)
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


def splits_from_idx(spec: DatasetSpec, contents: Mapping[str, bytes]) -> Splits:
    """Decode a distribution's four idx files and split its training set in two.

    Args:
        spec: the data set; its ``sizes`` say how many examples each split has.
        contents: the uncompressed idx files by role: ``train_images`` and
            ``test_images`` (arrays of shape (n, 28, 28)), ``train_labels`` and
            ``test_labels`` (shape (n,)).

    Returns:
        ``{split: (inputs, targets)}`` for ``train`` (the first ``sizes['train']`` training
        images), ``valid`` (the rest) and ``test``: inputs float32 arrays of shape
        (num_examples, 784), values k/256; targets int64 arrays of shape (num_examples,).
        They are not yet verified against the class counts (`verify` does that).

    Raises:
        DataError: when a file is not valid idx or the counts differ from ``spec.sizes``.
    """
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
    inputs: np.ndarray = np.multiply(pixels, np.float32(1.0 / PIXEL_LEVELS), dtype=np.float32)
    return inputs


def splits_from_idx_folder(spec: DatasetSpec, folder: Path) -> Splits:
    """`splits_from_idx` of the gzipped idx files ``spec.idx_files`` found in ``folder``.

    Each file's digests are checked first (`check_digests`); the result has the same
    shapes as `splits_from_idx`'s.

    Raises:
        DataError: when a file is missing, unreadable, corrupt or not the one expected.
    """
    contents = {}
    for role, idx in spec.idx_files.items():
        path = folder / idx.filename
        try:
            gz = path.read_bytes()
        except OSError as err:
            raise DataError(f"cannot read {path} ({err})") from None
        contents[role] = check_digests(gz, idx, str(path))
    return splits_from_idx(spec, contents)
