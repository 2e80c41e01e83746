"""Training a model: `Optimiser.train` runs epochs of mini-batch gradient steps and
records statistics (error and any monitors, on training and validation data) as it goes.

    optimiser = Optimiser(model, error, learning_rule, train_data, valid_data,
                          data_monitors={'acc': accuracy})
    stats, keys, run_time = optimiser.train(num_epochs=100, stats_interval=5)
    stats[:, keys['acc(valid)']]          # validation accuracy, one value per row

`stats` has one row before training and one row after every `stats_interval` epochs;
`keys` maps labels such as 'error(train)' and 'acc(valid)' to columns. Each step is
`train_step`: forward pass, error gradient, backward pass, update. The epoch loop
itself (schedulers, callbacks, Ctrl-C) is `mlp.training_loop.TrainingLoop`, which the
PyTorch twin shares.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from mlp import _checks
from mlp._fast import training_step
from mlp.callbacks import Callback
from mlp.layers import Layer
from mlp.protocols import Error, LearningRule, Model
from mlp.schedulers import Scheduler
from mlp.training_loop import EpochCallback, StatsCallback, TrainingLoop, check_count

__all__ = ["Monitor", "Optimiser", "TrainingLoop", "accuracy"]

logger = logging.getLogger(__name__)

Monitor = Callable[[np.ndarray, np.ndarray], float]
"""monitor(outputs, targets) -> the batch mean of a statistic, e.g. `accuracy`."""

Batch = tuple[np.ndarray, np.ndarray]
"""(inputs_batch, targets_batch), what a data provider serves."""


def accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose largest output is at the target class.

    Args:
        outputs: array of shape (batch_size, num_classes).
        targets: one-of-K array of shape (batch_size, num_classes), or integer class
            labels of shape (batch_size,).
    """
    outputs = _checks.number_array(outputs, "outputs", "accuracy")
    targets = _checks.number_array(targets, "targets", "accuracy")
    if targets.shape == outputs.shape:
        labels = targets.argmax(-1)
    elif targets.shape == outputs.shape[:-1] and targets.dtype.kind in "iu":
        labels = targets
    else:
        raise ValueError(
            f"accuracy needs targets of the outputs' shape {outputs.shape} (one-of-K) or "
            f"integer labels of shape {outputs.shape[:-1]}, got {targets.dtype} {targets.shape}"
        )
    return float((outputs.argmax(-1) == labels).mean())


class Optimiser(TrainingLoop):
    """Trains a model on a data provider with a learning rule, recording statistics.

    Args:
        model: a model with `params`, `fprop` and `grads_wrt_params` (see `mlp.models`).
        error: an error with `__call__` and `grad` (see `mlp.errors`).
        learning_rule: a rule with `initialise` and `update_params`; it is initialised
            with the model's parameters here.
        train_dataset: provider of training batches (iterated once per epoch).
        valid_dataset: optional provider of validation data, for statistics only.
        data_monitors: extra statistics, name -> f(outputs, targets) giving a batch mean,
            e.g. {'acc': accuracy}; 'error' is always recorded.
        progress: show a progress bar over the batches of each epoch (tqdm).
        on_stats: called as on_stats(epoch, stats) each time statistics are recorded,
            epoch 0 included; used to write run records as training goes.
        eval_batch_size: batch size of the statistics passes. They only run forward,
            so large batches make them fast; the values do not depend on it.
        on_epoch_end: called as on_epoch_end(epoch, epoch_time) after every training
            epoch, once that epoch's statistics (if any) are recorded; `epoch_time` is
            the seconds the training pass took.
        schedulers: learning-rate schedulers (`mlp.schedulers`), each called as
            update_learning_rule(learning_rule, epoch_number) before every epoch.
        callbacks: `mlp.callbacks.Callback` objects, called at the start and end of
            training, of each epoch, and with each statistics row.
        use_stochastic_eval: compute the statistics with the layers that have an
            evaluation mode in their training mode, as the course's later labs allow:
            dropout drawing masks (from its rng, so the training that follows draws
            other masks) and batch normalisation normalising with each statistics
            batch's own mean and variance. Its running statistics are left as they
            were either way: measuring never changes the model.
    """

    def __init__(
        self,
        model: Model,
        error: Error,
        learning_rule: LearningRule,
        train_dataset: Iterable[Batch],
        valid_dataset: Iterable[Batch] | None = None,
        data_monitors: Mapping[str, Monitor] | None = None,
        notebook: bool = False,
        *,
        progress: bool = False,
        on_stats: StatsCallback | None = None,
        eval_batch_size: int = 10_000,
        on_epoch_end: EpochCallback | None = None,
        schedulers: Iterable[Scheduler] | None = None,
        callbacks: Iterable[Callback] | None = None,
        use_stochastic_eval: bool = False,
    ) -> None:
        # Every argument is checked before anything changes (the rule's state included).
        _check_parts(model, error, learning_rule, train_dataset, valid_dataset, data_monitors)
        check_count("eval_batch_size", eval_batch_size, 1)
        self.use_stochastic_eval = _checks.truth(use_stochastic_eval, "use_stochastic_eval", "")
        self.progress = _checks.truth(progress, "progress", "") or _checks.truth(
            notebook, "notebook", ""
        )
        self.model = model
        self.error = error
        self.learning_rule = learning_rule
        self.learning_rule.initialise(self.model.params)
        # Forward, backward and update of one batch, done by the fast path (`mlp._fast`)
        # with the numbers of the plain calls that train_step's docstring lists.
        self._train_step = training_step(self.model, self.error, self.learning_rule)
        self._step_built_for = (self.model, self.error, self.learning_rule)
        self.train_dataset = train_dataset
        self.valid_dataset = valid_dataset
        self.data_monitors: dict[str, Monitor] = {"error": error}
        if data_monitors is not None:
            self.data_monitors.update(data_monitors)
        self.eval_batch_size = int(eval_batch_size)
        self._set_hooks(schedulers, callbacks, on_stats, on_epoch_end)
        self.epoch_times: list[float] = []
        self.interrupted = False
        self._warned_non_finite = False
        # (inputs shape, targets shape) of the batches found to fit the model: each new
        # shape is checked once, not every step.
        self._fitting_shapes: set[tuple[tuple[int, ...], tuple[int, ...]]] = set()

    # --- one epoch of training ---------------------------------------------------------

    def train_step(self, inputs_batch: np.ndarray, targets_batch: np.ndarray) -> None:
        """One gradient step on one batch: forward, error gradient, backward, update:

            activations = self.model.fprop(inputs_batch)
            grads_wrt_outputs = self.error.grad(activations[-1], targets_batch)
            grads_wrt_params = self.model.grads_wrt_params(activations, grads_wrt_outputs)
            self.learning_rule.update_params(grads_wrt_params)

        Args:
            inputs_batch: array of shape (batch_size, input_dim).
            targets_batch: the batch's targets, e.g. one-of-K (batch_size, num_classes).
        """
        # Cheap for arrays (no copy); turns lists into arrays and refuses what is not one.
        inputs_batch = _checks.number_array(inputs_batch, "inputs_batch", "train_step")
        targets_batch = _checks.number_array(targets_batch, "targets_batch", "train_step")
        if (
            not inputs_batch.ndim
            or not targets_batch.ndim
            or len(inputs_batch) != len(targets_batch)
        ):
            raise ValueError(
                f"train_step: inputs_batch has shape {inputs_batch.shape} and targets_batch "
                f"{targets_batch.shape}: both need one row per example"
            )
        parts = (self.model, self.error, self.learning_rule)
        if any(a is not b for a, b in zip(parts, self._step_built_for, strict=True)):
            # One of them was replaced since the step was built: build it for the new one.
            self._train_step = training_step(*parts)
            self._step_built_for = parts
        self._train_step(inputs_batch, targets_batch)

    def do_training_epoch(self) -> None:
        """One pass over the training data, one update per batch."""
        for inputs_batch, targets_batch in self._epoch_batches():
            shapes = (np.shape(inputs_batch), np.shape(targets_batch))
            if shapes not in self._fitting_shapes:
                self._check_batch(shapes, "train_dataset")
            self.train_step(inputs_batch, targets_batch)

    def _check_batch(self, shapes: tuple[tuple[int, ...], tuple[int, ...]], source: str) -> None:
        """A ValueError naming `source` and the shapes when a batch cannot fit the model:
        rows that differ, inputs a layer cannot take, targets unlike the outputs."""
        inputs_shape, targets_shape = shapes
        if not inputs_shape or not targets_shape or inputs_shape[0] != targets_shape[0]:
            raise ValueError(
                f"{source} serves inputs of shape {inputs_shape} with targets of shape "
                f"{targets_shape}: both need one row per example"
            )
        output_shape = getattr(self.model, "output_shape", None)
        outputs = None
        if callable(output_shape):
            try:
                outputs = output_shape(inputs_shape)
            except ValueError as error:  # the model's own check: say where the batch came from
                raise ValueError(
                    f"{source} serves inputs of shape {inputs_shape}, which do not fit the "
                    f"model: {error}"
                ) from None
        if outputs is not None and len(outputs) == len(targets_shape) and outputs != targets_shape:
            raise ValueError(
                f"{source} serves targets of shape {targets_shape}, but the model's outputs "
                f"have shape {tuple(outputs)}"
            )
        self._fitting_shapes.add(shapes)

    # --- statistics --------------------------------------------------------------------

    def eval_monitors(self, dataset: Iterable[Batch], label: str) -> dict[str, float]:
        """Every monitor over a whole data set, e.g. {'error(train)': .., 'acc(train)': ..}.

        Batch means are weighted by batch size, so the values are exact means over the
        examples, and the model runs in evaluation mode (dropout off, batch
        normalisation on its running statistics) unless `use_stochastic_eval`. The
        model's state (`model.state()`, e.g. running statistics) is the same after.
        """
        _check_dataset("dataset", dataset)
        state = getattr(self.model, "state", None)
        if not self.use_stochastic_eval or not callable(state):
            return self._monitor_means(dataset, label)
        # Training-mode layers would update what they keep (running statistics) as they
        # measure: put it back, so that measuring leaves the model as it was.
        saved = state()
        try:
            return self._monitor_means(dataset, label)
        finally:
            self.model.load_state(saved)  # type: ignore[attr-defined]

    def _monitor_means(self, dataset: Iterable[Batch], label: str) -> dict[str, float]:
        totals = dict.fromkeys(self.data_monitors, 0.0)
        count = 0
        source = {"(train)": "train_dataset", "(valid)": "valid_dataset"}.get(label, "dataset")
        for inputs_batch, targets_batch in _evaluation_batches(dataset, self.eval_batch_size):
            shapes = (np.shape(inputs_batch), np.shape(targets_batch))
            if shapes not in self._fitting_shapes:
                self._check_batch(shapes, source)
            outputs = self.model.fprop(inputs_batch, evaluation=not self.use_stochastic_eval)[-1]
            size = inputs_batch.shape[0]
            for key, monitor in self.data_monitors.items():
                totals[key] += monitor(outputs, targets_batch) * size
            count += size
        values = {f"{key}{label}": total / max(count, 1) for key, total in totals.items()}
        penalty = self.model.params_penalty() if hasattr(self.model, "params_penalty") else 0.0
        values[f"error{label}"] += penalty
        return values


def _evaluation_batches(dataset: Iterable[Batch], batch_size: int) -> Iterable[Batch]:
    """Large in-order batches from a provider that offers them, else its own batches."""
    evaluation_batches = getattr(dataset, "evaluation_batches", None)
    if evaluation_batches is not None:
        return evaluation_batches(batch_size)
    return dataset


def _check_parts(
    model: Any,
    error: Any,
    learning_rule: Any,
    train_dataset: Any,
    valid_dataset: Any,
    data_monitors: Any,
) -> None:
    """TypeErrors for the usual slips in building an Optimiser, each naming the argument."""
    if isinstance(model, Layer):
        raise TypeError(
            f"model is a layer ({type(model).__name__}): wrap it in a model, "
            "MultipleLayerModel([layer])"
        )
    if isinstance(model, (list, tuple)):
        raise TypeError(
            f"model is a {type(model).__name__}: wrap the layers in a model, "
            "MultipleLayerModel([...])"
        )
    _checks.instance_with(model, "model", "", ("fprop", "grads_wrt_params"), "a model (mlp.models)")
    _checks.instance_with(error, "error", "", ("__call__", "grad"), "an error (mlp.errors)")
    _checks.instance_with(
        learning_rule,
        "learning_rule",
        "",
        ("initialise", "update_params"),
        "a learning rule (mlp.learning_rules)",
    )
    for name, dataset in (("train_dataset", train_dataset), ("valid_dataset", valid_dataset)):
        if dataset is None and name == "valid_dataset":
            continue
        _check_dataset(name, dataset)
    _check_monitors(data_monitors)


def _check_dataset(name: str, dataset: Any) -> None:
    _checks.refuse_class(dataset, name, "")
    # A string iterates too, but over characters, not batches.
    if isinstance(dataset, (str, bytes)) or not hasattr(dataset, "__iter__"):
        raise TypeError(
            f"{name} must be a data provider (mlp.data_providers) or another iterable "
            f"of (inputs, targets) batches, got {type(dataset).__name__} {dataset!r:.60}"
        )


def _check_monitors(data_monitors: Any) -> None:
    if data_monitors is None:
        return
    if not isinstance(data_monitors, Mapping):
        raise TypeError(
            "data_monitors must be a dict, name -> monitor, e.g. {'acc': accuracy}; got "
            f"{type(data_monitors).__name__} {data_monitors!r:.60}"
        )
    for key, monitor in data_monitors.items():
        if not isinstance(key, str):
            raise TypeError(f"data_monitors: the name {key!r} must be a string")
        _checks.refuse_class(monitor, f"data_monitors[{key!r}]", "")
        if not callable(monitor):
            raise TypeError(
                f"data_monitors[{key!r}] must be a function monitor(outputs, targets), "
                f"got {type(monitor).__name__} {monitor!r:.60}"
            )
