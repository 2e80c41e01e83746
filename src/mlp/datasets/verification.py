"""Checking that arrays are a genuine split of a known data set."""

from __future__ import annotations

import os

import numpy as np

from mlp.datasets.exceptions import DataError
from mlp.datasets.paths import split_filename
from mlp.datasets.registry import dataset_spec
from mlp.datasets.specs import INPUT_DIM, PIXEL_LEVELS, check_split

__all__ = ["verify"]


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
    spec = dataset_spec(name)
    split = check_split(which_set)
    where = str(source) if source is not None else split_filename(spec.name, split)
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
