"""What a data set is: its splits, its image format and its `DatasetSpec`.

Every data set has the splits `SPLITS`; each split is a pair of arrays:

- ``inputs``: array of shape (num_examples, INPUT_DIM) = (num_examples, 784), values
  k/PIXEL_LEVELS = k/256 for integer k in 0..255;
- ``targets``: array of shape (num_examples,), integer class labels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "IMAGE_SHAPE",
    "INPUT_DIM",
    "PIXEL_LEVELS",
    "SPLITS",
    "DatasetSpec",
    "IdxFile",
    "Source",
    "Splits",
    "check_split",
]

SPLITS: tuple[str, ...] = ("train", "valid", "test")
"""The three splits every data set has, in the order they are written."""

_SPLIT_ALIASES = {"eval": "test"}  # the course's older name for the test set

IMAGE_SHAPE = (28, 28)
INPUT_DIM = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
PIXEL_LEVELS = 256  # inputs are k / PIXEL_LEVELS for integer k in 0..PIXEL_LEVELS - 1


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


def check_split(which_set: str) -> str:
    """Return the canonical name of a split: ``'train'``, ``'valid'`` or ``'test'``.

    Surrounding blanks and case are ignored, and ``'eval'``, the course's older name for
    the test set, is taken as ``'test'``. Each split names a pair of arrays of shapes
    (num_examples, 784) and (num_examples,).

    Raises:
        ValueError: naming ``which_set`` and the choices, for anything else (a value that
            is not a string included).
    """
    key = which_set.strip().lower() if isinstance(which_set, str) else which_set
    if isinstance(key, str):
        key = _SPLIT_ALIASES.get(key, key)
    if key not in SPLITS:
        choices = ", ".join(repr(s) for s in SPLITS)
        raise ValueError(
            f"unknown which_set {which_set!r}; choose one of {choices} ('eval' means 'test')"
        )
    return key
