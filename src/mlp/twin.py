"""The seed lab's PyTorch experiment, its data, and its NumPy twin; no PyTorch needed.

The seed lab ends by training a 784-100-100-10 ReLU network in PyTorch: Adam with
learning rate 1e-3, batches of 128, 50 epochs, 20% of the 60,000 MNIST training images
held out for validation, inputs normalised with mean 0.1307 and standard deviation 0.3081,
test accuracy at the end. This module holds what the PyTorch version
(`mlp.pytorch.run_seed_experiment`) and the NumPy version (`run_numpy_twin`) share, so the
two run on the same examples, normalised the same way, and report in the same format:

    from mlp.twin import run_numpy_twin
    result = run_numpy_twin(num_epochs=50)
    result.test_accuracy, result.seconds_per_epoch
    result.stats[:, result.keys['acc(valid)']]       # as `Optimiser.train` returns

The split, unlike the seed's (whose shuffle is unseeded), is a seeded permutation of the
60,000 images: the same seed gives the same 48,000 / 12,000 split in both versions.
"""

from __future__ import annotations

import itertools
import logging
import statistics
import time
from dataclasses import dataclass, field

import numpy as np

from mlp import DEFAULT_SEED

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "NUM_TRAINING_IMAGES",
    "ExperimentResult",
    "exact_accuracy",
    "mnist_loaders",
    "normalise",
    "numpy_seed_model",
    "run_numpy_twin",
    "seed_arrays",
    "seed_split",
]

logger = logging.getLogger(__name__)

MNIST_MEAN = 0.1307
"""Mean pixel value of the MNIST training images on the 0-1 scale (the seed's `Normalize`)."""

MNIST_STD = 0.3081
"""Standard deviation of the MNIST training pixels on the 0-1 scale."""

NUM_TRAINING_IMAGES = 60_000
"""The original MNIST training set: mlp's 'train' (50,000) followed by its 'valid' (10,000)."""


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

    def summary(self) -> str:
        """One line: backend, device, test accuracy and seconds per epoch."""
        return (
            f"{self.backend} on {self.device}: test accuracy {self.test_accuracy:.4f}, "
            f"{self.seconds_per_epoch:.3f} s per epoch"
        )


# --- the data --------------------------------------------------------------------------


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
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction}")
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
    """
    return _normalise_in_place(np.array(inputs, dtype=np.float32, copy=True))


def _normalise_in_place(inputs: np.ndarray) -> np.ndarray:
    # In place: one 150 MB array instead of four temporaries (fresh pages are slow).
    inputs *= np.float32(256)
    np.rint(inputs, out=inputs)
    inputs /= np.float32(255)
    inputs -= np.float32(MNIST_MEAN)
    inputs /= np.float32(MNIST_STD)
    return inputs


def seed_arrays(
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    normalise_inputs: bool = True,
    data_dir: str | None = None,
    max_train_examples: int | None = None,
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The seed experiment's three data sets as arrays.

    Args:
        valid_fraction: share of the 60,000 training images held out for validation.
        seed: seed of the split (see `seed_split`).
        normalise_inputs: apply the seed's normalisation (see `normalise`); otherwise the
            inputs stay k / 256 as mlp stores them.
        data_dir: where the MNIST files live; default `$MLP_DATA_DIR` or mlp's default.
        max_train_examples: keep only this many training examples (a random subset of
            the training split, drawn from the same permutation), for quick runs.
    Returns:
        {'train': (inputs, labels), 'valid': ..., 'test': ...}: inputs float32 of shape
        (n, 784), labels int64 of shape (n,).
    """
    from mlp import datasets

    train_x, train_y = datasets.load("mnist", "train", data_dir=data_dir)
    valid_x, valid_y = datasets.load("mnist", "valid", data_dir=data_dir)
    test_x, test_y = datasets.load("mnist", "test", data_dir=data_dir)
    all_x = np.concatenate([train_x, valid_x])
    all_y = np.concatenate([train_y, valid_y]).astype(np.int64)
    train_idx, valid_idx = seed_split(valid_fraction, seed, all_x.shape[0])
    if max_train_examples is not None:
        if max_train_examples < 1:
            raise ValueError(f"max_train_examples must be positive, got {max_train_examples}")
        # A random subset, not the lowest indices: draw from the permutation's order.
        subset = np.random.RandomState(seed + 1).permutation(train_idx)[:max_train_examples]
        train_idx = np.sort(subset)
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


def mnist_loaders(
    batch_size: int = 128,
    valid_fraction: float = 0.2,
    seed: int = DEFAULT_SEED,
    normalise: bool = True,
    data_dir: str | None = None,
    max_train_examples: int | None = None,
):
    """The seed experiment's data as mlp data providers: (train, valid, test).

    Training batches are reshuffled every epoch from `np.random.RandomState(seed)` and the
    last partial batch is kept, as a `DataLoader` does; validation and test keep their
    order. Each is a `OneOfKDataProvider`: inputs float32 (batch_size, 784), targets
    one-of-K (batch_size, 10), integer labels in `.labels`. `mlp.optimisers.Optimiser` and
    `mlp.pytorch.train` both take them.

    Args:
        batch_size: examples per training batch.
        valid_fraction, seed, data_dir, max_train_examples: see `seed_arrays`.
        normalise: apply the seed's normalisation.
    """
    from mlp import dtypes
    from mlp.data_providers import OneOfKDataProvider

    arrays = seed_arrays(valid_fraction, seed, normalise, data_dir, max_train_examples)
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


# --- the NumPy twin --------------------------------------------------------------------


def _torch_default_init(fan_in: int, rng: np.random.RandomState):
    """PyTorch's default `nn.Linear` initialisation: weights and biases uniform on
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform_ with a = sqrt(5) for the weights)."""
    from mlp.initialisers import UniformInit

    bound = 1.0 / np.sqrt(fan_in)
    return UniformInit(-bound, bound, rng=rng)


def numpy_seed_model(
    input_dim: int = 784,
    hidden_dim: int = 100,
    output_dim: int = 10,
    seed: int = DEFAULT_SEED,
):
    """The seed's network in mlp: Affine-ReLU-Affine-ReLU-Affine, float32, with PyTorch's
    default initialisation drawn from `np.random.RandomState(seed)`."""
    from mlp.layers import AffineLayer, ReluLayer
    from mlp.models import MultipleLayerModel

    rng = np.random.RandomState(seed)
    dims = [input_dim, hidden_dim, hidden_dim, output_dim]
    layers = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
        init = _torch_default_init(fan_in, rng)
        layers.append(AffineLayer(fan_in, fan_out, init, init, dtype=np.float32))
        if i < len(dims) - 2:
            layers.append(ReluLayer())
    return MultipleLayerModel(layers)


def exact_accuracy(
    predict, inputs: np.ndarray, labels: np.ndarray, batch_size: int = 10_000
) -> float:
    """Correct predictions over all examples divided by their number (not a mean of batch
    means). `predict` maps an input batch to outputs of shape (batch, num_classes)."""
    correct = 0
    for start in range(0, inputs.shape[0], batch_size):
        outputs = predict(inputs[start : start + batch_size])
        correct += int((np.asarray(outputs).argmax(-1) == labels[start : start + batch_size]).sum())
    return correct / inputs.shape[0]


def run_numpy_twin(
    num_epochs: int = 50,
    stats_interval: int = 1,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    max_train_examples: int | None = None,
    data_dir: str | None = None,
    on_stats=None,
) -> ExperimentResult:
    """The seed experiment in NumPy: the same network, Adam, batches, split and inputs as
    `mlp.pytorch.run_seed_experiment`, trained by `mlp.optimisers.Optimiser`.

    Args:
        num_epochs: training epochs (the seed's 50).
        stats_interval: epochs between rows of statistics.
        seed: seeds the split, the shuffles and the initial weights.
        progress: show a progress bar over each epoch's batches.
        max_train_examples: train on a random subset of this size (quick runs, tests).
        data_dir: where the MNIST files live.
        on_stats: passed to `Optimiser`: called as on_stats(epoch, stats) for every row.
    Returns:
        an `ExperimentResult` with backend 'numpy' and device 'cpu'.
    """
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.learning_rules import AdamLearningRule
    from mlp.optimisers import Optimiser, accuracy

    train_data, valid_data, test_data = mnist_loaders(
        batch_size=128, seed=seed, data_dir=data_dir, max_train_examples=max_train_examples
    )
    model = numpy_seed_model(seed=seed)
    epoch_times: list[float] = []

    class _TimedOptimiser(Optimiser):
        def do_training_epoch(self) -> None:
            start = time.perf_counter()
            super().do_training_epoch()
            epoch_times.append(time.perf_counter() - start)

    optimiser = _TimedOptimiser(
        model,
        CrossEntropySoftmaxError(),
        AdamLearningRule(learning_rate=1e-3),
        train_data,
        valid_data,
        data_monitors={"acc": accuracy},
        progress=progress,
        on_stats=on_stats,
    )
    stats, keys, run_time = optimiser.train(num_epochs=num_epochs, stats_interval=stats_interval)
    accuracy_on_test = exact_accuracy(model.predict, test_data.inputs, test_data.labels)
    return ExperimentResult(
        stats=stats,
        keys=keys,
        run_time=run_time,
        seconds_per_epoch=statistics.median(epoch_times) if epoch_times else float("nan"),
        test_accuracy=accuracy_on_test,
        device="cpu",
        backend="numpy",
        epoch_times=epoch_times,
        interrupted=optimiser.interrupted,
    )
