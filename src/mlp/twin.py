"""The seed lab's PyTorch experiment in NumPy: the same network, data and training,
run by mlp's `Optimiser`; no PyTorch needed.

    from mlp.twin import run_numpy_twin
    result = run_numpy_twin(num_epochs=50)
    result.test_accuracy, result.seconds_per_epoch
    result.stats[:, result.keys['acc(valid)']]       # as `Optimiser.train` returns

The experiment's data (split, normalisation, providers) and `ExperimentResult` live in
`mlp.seed_experiment`, which the PyTorch run (`mlp.pytorch.run_seed_experiment`) uses
too; their names are also importable from here, as before.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from mlp import DEFAULT_SEED, _checks
from mlp.initialisers import UniformInit
from mlp.layers import AffineLayer, Layer, ReluLayer
from mlp.models import MultipleLayerModel
from mlp.optimisers import accuracy
from mlp.seed_experiment import (
    BATCH_SIZE,
    LEARNING_RATE,
    MNIST_MEAN,
    MNIST_STD,
    NUM_TRAINING_IMAGES,
    ExperimentResult,
    check_network_dims,
    mnist_loaders,
    mnist_providers,
    normalise,
    resolve_subset_size,
    seed_arrays,
    seed_split,
)
from mlp.training_loop import StatsCallback

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "NUM_TRAINING_IMAGES",
    "ExperimentResult",
    "exact_accuracy",
    "mnist_loaders",
    "mnist_providers",
    "normalise",
    "numpy_seed_model",
    "run_numpy_twin",
    "seed_arrays",
    "seed_split",
]


def _torch_default_init(fan_in: int, rng: np.random.RandomState) -> UniformInit:
    """PyTorch's default `nn.Linear` initialisation: weights and biases uniform on
    [-1/sqrt(fan_in), 1/sqrt(fan_in)] (kaiming_uniform_ with a = sqrt(5) for the weights)."""
    bound = 1.0 / np.sqrt(fan_in)
    return UniformInit(-bound, bound, rng=rng)


def numpy_seed_model(
    input_dim: int = 784,
    hidden_dim: int = 100,
    output_dim: int = 10,
    seed: int = DEFAULT_SEED,
) -> MultipleLayerModel:
    """The seed's network in mlp: Affine-ReLU-Affine-ReLU-Affine, float32, with PyTorch's
    default initialisation drawn from `np.random.RandomState(seed)`.

    Raises:
        TypeError, ValueError: unless the sizes are positive integers of a model that fits
            in memory (see `mlp.seed_experiment.check_network_dims`).
    """
    input_dim, hidden_dim, output_dim = check_network_dims(
        input_dim, hidden_dim, output_dim, "numpy_seed_model"
    )
    rng = np.random.RandomState(seed)
    dims = [input_dim, hidden_dim, hidden_dim, output_dim]
    layers: list[Layer] = []
    for i, (fan_in, fan_out) in enumerate(itertools.pairwise(dims)):
        init = _torch_default_init(fan_in, rng)
        layers.append(AffineLayer(fan_in, fan_out, init, init, dtype=np.float32))
        if i < len(dims) - 2:
            layers.append(ReluLayer())
    return MultipleLayerModel(layers)


def exact_accuracy(
    predict: Callable[[np.ndarray], np.ndarray],
    inputs: np.ndarray,
    labels: np.ndarray,
    batch_size: int = 10_000,
) -> float:
    """Correct predictions over all examples divided by their number (not a mean of batch
    means): `mlp.optimisers.accuracy` of the outputs of every example at once.

    Args:
        predict: maps an input batch of shape (batch, ...) to outputs of shape
            (batch, num_classes); called on batches of `batch_size` to bound memory.
        inputs: array of shape (num_examples, ...); labels: integer array of shape
            (num_examples,).
        batch_size: a positive integer.
    """
    inputs, labels = _check_accuracy_arguments(predict, inputs, labels, batch_size)
    outputs = [
        np.asarray(predict(inputs[start : start + batch_size]))
        for start in range(0, inputs.shape[0], batch_size)
    ]
    return accuracy(np.concatenate(outputs), np.asarray(labels))


def _check_accuracy_arguments(
    predict: Any, inputs: Any, labels: Any, batch_size: Any
) -> tuple[np.ndarray, np.ndarray]:
    if not callable(predict):
        raise TypeError(f"exact_accuracy: predict must be callable, got {predict!r}")
    _checks.count(batch_size, "batch_size", "exact_accuracy", 1)
    inputs = _checks.number_array(inputs, "inputs", "exact_accuracy")
    labels = _checks.number_array(labels, "labels", "exact_accuracy")
    if inputs.ndim < 1 or labels.shape[:1] != inputs.shape[:1]:
        raise ValueError(
            f"exact_accuracy: inputs of shape {inputs.shape} and labels of shape "
            f"{labels.shape} must hold the same number of examples"
        )
    return inputs, labels


def run_numpy_twin(
    num_epochs: int = 50,
    stats_interval: int = 1,
    seed: int = DEFAULT_SEED,
    progress: bool = False,
    train_subset_size: int | None = None,
    data_dir: str | None = None,
    on_stats: StatsCallback | None = None,
    *,
    max_train_examples: int | None = None,
) -> ExperimentResult:
    """The seed experiment in NumPy: the same network, Adam, batches, split and inputs as
    `mlp.pytorch.run_seed_experiment`, trained by `mlp.optimisers.Optimiser`.

    Args:
        num_epochs: training epochs (the seed's 50).
        stats_interval: epochs between rows of statistics.
        seed: seeds the split, the shuffles and the initial weights.
        progress: show a progress bar over each epoch's batches.
        train_subset_size: train on a random subset of this many of the 48,000 training
            examples (quick runs, tests); see `mlp.seed_experiment.seed_arrays`.
        data_dir: where the MNIST files live.
        on_stats: passed to `Optimiser`: called as on_stats(epoch, stats) for every row.
        max_train_examples: deprecated name of `train_subset_size`.
    Returns:
        an `ExperimentResult` with backend 'numpy' and device 'cpu'.
    """
    from mlp.callbacks import EpochTimer
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.learning_rules import AdamLearningRule
    from mlp.optimisers import Optimiser

    subset = resolve_subset_size(train_subset_size, max_train_examples, "run_numpy_twin")
    train_data, valid_data, test_data = mnist_providers(
        batch_size=BATCH_SIZE, seed=seed, data_dir=data_dir, train_subset_size=subset
    )
    model = numpy_seed_model(seed=seed)
    timer = EpochTimer()
    optimiser = Optimiser(
        model,
        CrossEntropySoftmaxError(),
        AdamLearningRule(learning_rate=LEARNING_RATE),
        train_data,
        valid_data,
        data_monitors={"acc": accuracy},
        progress=progress,
        on_stats=on_stats,
        callbacks=[timer],
    )
    trained = optimiser.train(num_epochs=num_epochs, stats_interval=stats_interval)
    return ExperimentResult.from_training(
        trained,
        timer.epoch_times,
        test_accuracy=exact_accuracy(model.predict, test_data.inputs, test_data.labels),
        device="cpu",
        backend="numpy",
        interrupted=optimiser.interrupted,
    )
