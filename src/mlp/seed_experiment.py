"""The seed lab's last experiment, as both backends share it: its data and its result.

The seed lab ends by training a 784-100-100-10 ReLU network in PyTorch: Adam with
learning rate 1e-3, batches of 128, 50 epochs, 20% of the 60,000 MNIST training images
held out for validation, inputs normalised with mean 0.1307 and standard deviation 0.3081,
test accuracy at the end. Two functions run it:

    mlp.pytorch.run_seed_experiment()     in PyTorch (needs torch)
    mlp.twin.run_numpy_twin()             in NumPy, trained by `mlp.optimisers.Optimiser`

This module is what they share, so that the two run on the same examples, normalised the
same way, and report in the same format: the split (`seed_split`), the normalisation
(`normalise`), the arrays (`seed_arrays`) and data providers (`mnist_providers`), and
`ExperimentResult`. It needs no PyTorch, so the NumPy twin runs without it.

The split, unlike the seed's (whose shuffle is unseeded), is a seeded permutation of the
60,000 images: the same seed gives the same 48,000 / 12,000 split in both versions.

`train_subset_size` (here and in both runs) trains on a *random* subset of the 48,000
training examples, drawn with the seed. It is not `mlp.config`'s `max_train_examples`,
which keeps the *first* N examples of mlp's 50,000; the old keyword `max_train_examples`
is still accepted here, with a DeprecationWarning.
"""

from __future__ import annotations

import os
import statistics
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from mlp import DEFAULT_SEED, _checks
from mlp.data_providers import OneOfKDataProvider

__all__ = [
    "BATCH_SIZE",
    "LEARNING_RATE",
    "MNIST_MEAN",
    "MNIST_STD",
    "NUM_TRAINING_IMAGES",
    "ExperimentResult",
    "check_network_dims",
    "mnist_loaders",
    "mnist_providers",
    "normalise",
    "resolve_subset_size",
    "seed_arrays",
    "seed_split",
]

MNIST_MEAN = 0.1307
"""Mean pixel value of the MNIST training images on the 0-1 scale (the seed's `Normalize`)."""

MNIST_STD = 0.3081
"""Standard deviation of the MNIST training pixels on the 0-1 scale."""

NUM_TRAINING_IMAGES = 60_000
"""The original MNIST training set: mlp's 'train' (50,000) followed by its 'valid' (10,000)."""

BATCH_SIZE = 128
"""Examples per training batch, in both runs (the seed's DataLoader)."""

LEARNING_RATE = 1e-3
"""Adam's learning rate, in both runs."""


@dataclass
class ExperimentResult:
    """What one run of the seed experiment gives, in either backend.

    Attributes:
        stats: array of shape (1 + num_epochs // stats_interval, len(keys)), float64, as
            `Optimiser.train` returns: a row before training, then one per interval.
        keys: label -> column of `stats`: 'error(train)', 'acc(train)', 'error(valid)',
            'acc(valid)'.
        run_time: seconds the training call took, statistics included.
        seconds_per_epoch: median seconds of one training epoch, statistics excluded.
        test_accuracy: correct predictions over all 10,000 test images, divided by 10,000.
        device: where it ran, e.g. 'cpu' or 'cuda:0'.
        backend: 'torch' or 'numpy'.
        epoch_times: seconds of each training epoch, statistics excluded.
        interrupted: training was stopped by Ctrl-C; the fields cover what ran.
    """

    stats: np.ndarray
    keys: dict[str, int]
    run_time: float
    seconds_per_epoch: float
    test_accuracy: float
    device: str
    backend: str
    epoch_times: list[float] = field(default_factory=list)
    interrupted: bool = False

    @classmethod
    def from_training(
        cls,
        trained: tuple[np.ndarray, dict[str, int], float],
        epoch_times: Sequence[float],
        *,
        test_accuracy: float,
        device: str,
        backend: str,
        interrupted: bool,
    ) -> ExperimentResult:
        """The result of a run from what its training loop gave.

        Args:
            trained: `(stats, keys, run_time)` as `TrainingLoop.train` returns them.
            epoch_times: seconds of each training epoch (e.g. `EpochTimer.epoch_times`);
                their median is `seconds_per_epoch` (nan when there are none).
            test_accuracy, device, backend, interrupted: as the attributes.
        """
        stats, keys, run_time = trained
        times = list(epoch_times)
        return cls(
            stats=stats,
            keys=keys,
            run_time=run_time,
            seconds_per_epoch=statistics.median(times) if times else float("nan"),
            test_accuracy=test_accuracy,
            device=device,
            backend=backend,
            epoch_times=times,
            interrupted=interrupted,
        )

    def summary(self) -> str:
        """One line: backend, device, test accuracy and seconds per epoch."""
        accuracy = _checks.real(self.test_accuracy, "test_accuracy", "ExperimentResult")
        seconds = _checks.real(self.seconds_per_epoch, "seconds_per_epoch", "ExperimentResult")
        return (
            f"{self.backend} on {self.device}: test accuracy {accuracy:.4f}, "
            f"{seconds:.3f} s per epoch"
        )


# --- the split and the normalisation ----------------------------------------------------


def seed_split(
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    num_examples: int = NUM_TRAINING_IMAGES,
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the training and validation examples among the 60,000 training images.

    A permutation drawn from `np.random.RandomState(seed)`; its first
    `round(valid_fraction * num_examples)` entries are the validation set and the rest
    the training set (the seed lab's recipe, seeded). Each index array is sorted.

    Returns:
        (train_indices, valid_indices): int64 arrays of shape (48000,) and (12000,) for
        the defaults; disjoint, together 0..num_examples-1.
    """
    valid_fraction = _checks.real(valid_fraction, "valid_fraction", "seed_split")
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction}")
    seed = _checks.count(seed, "seed", "seed_split", 0)
    num_examples = _checks.count(num_examples, "num_examples", "seed_split", 1)
    order = np.random.RandomState(seed).permutation(num_examples)
    num_valid = round(valid_fraction * num_examples)
    return np.sort(order[num_valid:]), np.sort(order[:num_valid])


def normalise(inputs: np.ndarray) -> np.ndarray:
    """The seed's input pipeline applied to mlp's MNIST inputs, as float32.

    torchvision's `ToTensor` turns a pixel k in 0..255 into k / 255 and `Normalize((0.1307,),
    (0.3081,))` then gives (k / 255 - 0.1307) / 0.3081, each step in float32. mlp stores the
    pixels as k / 256, so they are turned back into k first; the result equals
    torchvision's bit for bit.

    Args:
        inputs: array of shape (num_examples, 784), values k / 256.
    Returns:
        array of shape (num_examples, 784), float32.
    Raises:
        TypeError, ValueError: unless `inputs` is a 2-D array (or nested list) of numbers.
    """
    array = _checks.number_array(inputs, "inputs", "normalise")
    if array.ndim != 2:
        raise ValueError(
            f"normalise: inputs must be 2-D, of shape (num_examples, 784), got shape {array.shape}"
        )
    return _normalise_in_place(np.array(inputs, dtype=np.float32, copy=True))


def _normalise_in_place(inputs: np.ndarray) -> np.ndarray:
    # In place: one 150 MB array instead of four temporaries (fresh pages are slow).
    inputs *= np.float32(256)
    np.rint(inputs, out=inputs)
    inputs /= np.float32(255)
    inputs -= np.float32(MNIST_MEAN)
    inputs /= np.float32(MNIST_STD)
    return inputs


def resolve_subset_size(
    train_subset_size: int | None, max_train_examples: int | None, caller: str
) -> int | None:
    """`train_subset_size`, or the deprecated `max_train_examples` given in its place
    (with a DeprecationWarning that says what it means here); never both.

    Raises:
        TypeError: when both are given, or either is not an integer.
        ValueError: when the one given is not positive.
    """
    if max_train_examples is None:
        if train_subset_size is None:
            return None
        return _checks.count(train_subset_size, "train_subset_size", caller, 1)
    max_train_examples = _checks.count(max_train_examples, "max_train_examples", caller, 1)
    if train_subset_size is not None:
        raise TypeError(f"{caller}: give train_subset_size alone, not max_train_examples too")
    warnings.warn(
        f"{caller}: max_train_examples is deprecated here, where it draws a random subset; "
        "use train_subset_size (mlp.config's max_train_examples keeps the first N instead)",
        DeprecationWarning,
        stacklevel=3,
    )
    return max_train_examples


# The most entries one weight matrix may have (8 GiB of float32): more is a mistake,
# refused before memory runs out.
_MAX_WEIGHTS = 2**31


def check_network_dims(
    input_dim: int, hidden_dim: int, output_dim: int, where: str
) -> tuple[int, int, int]:
    """The seed network's three sizes as ints, when each is a positive integer and no
    weight matrix would have more than 2**31 entries; a TypeError or ValueError
    naming the size otherwise. `where` names the caller in the message."""
    dims = {"input_dim": input_dim, "hidden_dim": hidden_dim, "output_dim": output_dim}
    sizes = {name: _checks.count(value, name, where, 1) for name, value in dims.items()}
    largest = max(
        sizes["hidden_dim"] * max(sizes["input_dim"], sizes["hidden_dim"]),
        sizes["hidden_dim"] * sizes["output_dim"],
    )
    if largest > _MAX_WEIGHTS:
        raise ValueError(
            f"{where}: sizes {sizes} give a weight matrix of {largest} entries, "
            f"more than {_MAX_WEIGHTS}: hidden_dim (or input_dim, output_dim) is too large"
        )
    return sizes["input_dim"], sizes["hidden_dim"], sizes["output_dim"]


# --- the data sets ----------------------------------------------------------------------


def seed_arrays(
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    normalise_inputs: bool = True,
    data_dir: str | None = None,
    train_subset_size: int | None = None,
    *,
    max_train_examples: int | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The seed experiment's three data sets as arrays.

    Args:
        valid_fraction: share of the 60,000 training images held out for validation.
        seed: seed of the split (see `seed_split`).
        normalise_inputs: apply the seed's normalisation (see `normalise`); otherwise the
            inputs stay k / 256 as mlp stores them.
        data_dir: where the MNIST files live; default `$MLP_DATA_DIR` or mlp's default.
        train_subset_size: keep a random subset of this many training examples (drawn
            with `seed + 1`, from the training split), for quick runs; None keeps all.
        max_train_examples: deprecated name of `train_subset_size`.
    Returns:
        {'train': (inputs, labels), 'valid': ..., 'test': ...}: inputs float32 of shape
        (n, 784), labels int64 of shape (n,).
    """
    from mlp import datasets

    subset = resolve_subset_size(train_subset_size, max_train_examples, "seed_arrays")
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"seed_arrays: data_dir must be a path or None, got {data_dir!r}")
    train_x, train_y = datasets.load("mnist", "train", data_dir=data_dir)
    valid_x, valid_y = datasets.load("mnist", "valid", data_dir=data_dir)
    test_x, test_y = datasets.load("mnist", "test", data_dir=data_dir)
    all_x = np.concatenate([train_x, valid_x])
    all_y = np.concatenate([train_y, valid_y]).astype(np.int64)
    train_idx, valid_idx = seed_split(valid_fraction, seed, all_x.shape[0])
    if subset is not None:
        if subset < 1:
            raise ValueError(f"train_subset_size must be positive, got {subset}")
        # A random subset, not the lowest indices: draw from the permutation's order.
        train_idx = np.sort(np.random.RandomState(seed + 1).permutation(train_idx)[:subset])
    # Each of these is a fresh float32 copy, so the normalisation can run in place.
    arrays = {
        "train": (all_x[train_idx].astype(np.float32, copy=False), all_y[train_idx]),
        "valid": (all_x[valid_idx].astype(np.float32, copy=False), all_y[valid_idx]),
        "test": (np.array(test_x, dtype=np.float32), np.asarray(test_y, dtype=np.int64)),
    }
    if normalise_inputs:
        for inputs, _ in arrays.values():
            _normalise_in_place(inputs)
    return arrays


def mnist_providers(
    batch_size: int = BATCH_SIZE,
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    normalise: bool = True,
    data_dir: str | None = None,
    train_subset_size: int | None = None,
) -> tuple[OneOfKDataProvider, OneOfKDataProvider, OneOfKDataProvider]:
    """The seed experiment's data as mlp data providers: (train, valid, test).

    Training batches are reshuffled every epoch from `np.random.RandomState(seed)` and the
    last partial batch is kept, as a `DataLoader` does; validation and test keep their
    order. Each is a `OneOfKDataProvider`: inputs float32 (batch_size, 784), targets
    one-of-K (batch_size, 10), integer labels in `.labels`. `mlp.optimisers.Optimiser` and
    `mlp.pytorch.train` both take them.

    Args:
        batch_size: examples per training batch.
        valid_fraction, seed, data_dir, train_subset_size: see `seed_arrays`.
        normalise: apply the seed's normalisation.
    """
    from mlp import dtypes

    arrays = seed_arrays(valid_fraction, seed, normalise, data_dir, train_subset_size)
    with dtypes.default_dtype(np.float32):
        train = OneOfKDataProvider(
            *arrays["train"],
            batch_size=batch_size,
            rng=np.random.RandomState(seed),
            drop_last=False,
            num_classes=10,
        )
        valid, test = (
            OneOfKDataProvider(
                *arrays[name],
                batch_size=batch_size,
                shuffle_order=False,
                drop_last=False,
                num_classes=10,
            )
            for name in ("valid", "test")
        )
    return train, valid, test


def mnist_loaders(
    batch_size: int = BATCH_SIZE,
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    normalise: bool = True,
    data_dir: str | None = None,
    max_train_examples: int | None = None,
) -> tuple[OneOfKDataProvider, OneOfKDataProvider, OneOfKDataProvider]:
    """Deprecated name of `mnist_providers` (it returns data providers, not torch
    DataLoaders); `max_train_examples` here is `mnist_providers`' `train_subset_size`."""
    warnings.warn(
        "mnist_loaders is deprecated: use mnist_providers (the same data providers; "
        "max_train_examples is now train_subset_size, a random subset)",
        DeprecationWarning,
        stacklevel=2,
    )
    return mnist_providers(
        batch_size, valid_fraction, seed, normalise, data_dir, max_train_examples
    )
