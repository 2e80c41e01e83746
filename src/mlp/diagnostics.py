"""Seeing inside the network: per-layer statistics of a model on a fixed batch.

`measure_layers(model, error, inputs, targets)` runs one forward pass in evaluation mode
and one backward pass, layer by layer, and returns one row per layer of the statistics
`mlp.layer_stats` defines (its docstring holds their exact definitions):

    activations = model.fprop(inputs, evaluation=True)     # y_0 = inputs, y_1, ..., y_L
    g_L = error.grad(y_L, targets)                         # dE/dy_L
    for layer l = L, ..., 1:
        dE/dp_l     = layer_l.grads_wrt_params(y_(l-1), g_l)    (layers with parameters)
        g_(l-1)     = layer_l.bprop(y_(l-1), y_l, g_l)           (down to layer 2)

so each layer's row holds ||g_l||, ||dE/dp_l||, the mean and spread of y_l, and, for
the non-linearities that have one, the fraction of saturated outputs, dead units or
negative inputs. Norms and means are computed in float64 whatever the model's dtype.

`LayerStats` is the training-loop callback (`mlp.callbacks`) that measures a model as it
trains, on the same batch every time (the first `batch_size` training examples):

    stats = LayerStats()
    Optimiser(model, error, rule, train_data, callbacks=[stats]).train(20, 1)
    stats.table.series(layer=0, name="output_grad_norm")   # epochs, values

Measuring does not change training: evaluation mode draws nothing from the layers'
generators and updates no running statistics, and the training data is never iterated
(the batch is read from the provider's arrays), so statistics and parameters are bit
for bit those of the same run without it.

Which layers get which fraction (by class, subclasses included):

    saturated_fraction   SigmoidLayer (outputs within 0.01 of 0 or 1: y < 0.01 or
                         y > 0.99) and TanhLayer (|y| > 0.99)
    dead_fraction        ReluLayer: a unit is one entry of an example's output (for a
                         convolution's 4-D output, one channel at one position); it is
                         dead when its input is <= 0 for every example of the batch
    negative_fraction    LeakyReluLayer, ELULayer (ExponentialLinearUnitLayer too),
                         ParametricReluLayer, RandomReluLayer: inputs < 0 among all
                         the batch's inputs of the layer
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mlp import _checks
from mlp._fast.threads import one_blas_thread
from mlp.callbacks import Callback
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable, sample_indices
from mlp.layers import (
    ELULayer,
    Layer,
    LayerWithParameters,
    LeakyReluLayer,
    ParametricReluLayer,
    RandomReluLayer,
    ReluLayer,
    SigmoidLayer,
    TanhLayer,
)
from mlp.protocols import Error

__all__ = [
    "LayerMonitor",
    "LayerStats",
    "activation_sample",
    "first_examples",
    "layer_statistics",
    "measure_layers",
]

SATURATION_MARGIN = 0.01
"""An output of a sigmoid (tanh) within this distance of 0 or 1 (of -1 or 1) is saturated."""

_NEGATIVE_KINDS = (LeakyReluLayer, ELULayer, ParametricReluLayer, RandomReluLayer)

Samples = dict[int, dict[int, np.ndarray]]
"""epoch -> layer index -> 1-D float32 array: some output values of that layer."""


# --- one measurement --------------------------------------------------------------------


def measure_layers(
    model: Any,
    error: Error,
    inputs: np.ndarray,
    targets: np.ndarray,
    *,
    epoch: int = 0,
    previous_params: Sequence[np.ndarray] | None = None,
) -> LayerStatsTable:
    """The statistics of every layer of `model` on one batch (see the module docstring).

    Args:
        model: a `MultipleLayerModel` (or `SingleLayerModel`).
        error: the error the model is trained on (its `grad` starts the backward pass).
        inputs: array of shape (batch_size, ...), as the model's first layer takes.
        targets: the batch's targets as `error.grad` takes them, e.g. one-of-K of shape
            (batch_size, num_classes).
        epoch: the epoch the rows are labelled with (0: before training).
        previous_params: the model's parameters (`model.params` order) before the last
            update step; the update ratios are NaN when None.
    Returns:
        a table of len(model.layers) rows, one per layer, in layer order.
    """
    table, _ = _measured(model, error, inputs, targets, epoch, previous_params)
    return table


def _measured(
    model: Any,
    error: Error,
    inputs: np.ndarray,
    targets: np.ndarray,
    epoch: int,
    previous_params: Sequence[np.ndarray] | None,
) -> tuple[LayerStatsTable, list[np.ndarray]]:
    """`measure_layers`'s table, and the activations it was measured from."""
    layers = _model_layers(model)
    _checks.instance_with(error, "error", "measure_layers", ("grad",), "an error (mlp.errors)")
    epoch = _checks.count(epoch, "epoch", "measure_layers", 0)
    previous = _previous_by_layer(layers, previous_params)
    activations = model.fprop(inputs, evaluation=True)
    top = error.grad(activations[-1], targets)
    output_grads, param_grads = _backward(layers, activations, top)
    rows = []
    for i, layer in enumerate(layers):
        below, above = activations[i], activations[i + 1]
        values = layer_statistics(layer, below, above, output_grads[i], param_grads[i], previous[i])
        rows.append((epoch, i, type(layer).__name__, values))
    return LayerStatsTable.from_rows(rows), activations


def _backward(
    layers: Sequence[Layer], activations: Sequence[np.ndarray], grads: np.ndarray
) -> tuple[list[np.ndarray], list[list[np.ndarray] | None]]:
    """Each layer's output gradient dE/dy_l and parameter gradients (None without
    parameters), as `MultipleLayerModel.grads_wrt_params` computes them, but keeping
    every output gradient (so every layer but the first is back-propagated through)."""
    output_grads: list[np.ndarray] = [grads] * len(layers)
    param_grads: list[list[np.ndarray] | None] = [None] * len(layers)
    for i in range(len(layers) - 1, -1, -1):
        layer, below, above = layers[i], activations[i], activations[i + 1]
        output_grads[i] = grads
        if isinstance(layer, LayerWithParameters):
            param_grads[i] = layer.grads_wrt_params(below, grads)
        if i > 0:
            grads = layer.bprop(below, above, grads)
    return output_grads, param_grads


def layer_statistics(
    layer: Layer,
    inputs: np.ndarray,
    outputs: np.ndarray,
    grads_wrt_outputs: np.ndarray,
    grads_wrt_params: Sequence[np.ndarray] | None = None,
    previous_params: Sequence[np.ndarray] | None = None,
) -> list[float]:
    """One layer's statistics, in `LAYER_COLUMNS` order (NaN where one does not apply).

    Args:
        layer: the layer (its class decides which fractions apply).
        inputs: its inputs x on the batch, shape (batch_size, ...).
        outputs: its outputs y, shape (batch_size, ...).
        grads_wrt_outputs: dE/dy, the shape of `outputs`.
        grads_wrt_params: dE/dp for each of the layer's parameters; None without any.
        previous_params: the layer's parameters before the last update; None: unknown.
    """
    x, y, grads = _checked_arrays(layer, inputs, outputs, grads_wrt_outputs)
    values = dict.fromkeys(LAYER_COLUMNS, float("nan"))
    values["output_grad_norm"] = _norm([grads])
    if grads_wrt_params is not None:
        values["param_grad_norm"] = _norm(grads_wrt_params)
    if previous_params is not None and isinstance(layer, LayerWithParameters):
        pairs = zip(layer.params, previous_params, strict=True)
        change = _norm([np.asarray(p, np.float64) - np.asarray(q, np.float64) for p, q in pairs])
        size = _norm(layer.params)
        values["update_ratio"] = change / size if size > 0 else float("nan")
    values["activation_mean"] = float(y.mean())
    values["activation_std"] = float(y.std())
    if isinstance(layer, SigmoidLayer):  # outputs in (0, 1)
        values["saturated_fraction"] = _fraction(np.minimum(y, 1 - y) < SATURATION_MARGIN)
    elif isinstance(layer, TanhLayer):  # outputs in (-1, 1)
        values["saturated_fraction"] = _fraction(1 - np.abs(y) < SATURATION_MARGIN)
    elif isinstance(layer, ReluLayer):  # a unit is dead if no example makes it positive
        values["dead_fraction"] = _fraction((x <= 0).all(axis=0))
    elif isinstance(layer, _NEGATIVE_KINDS):
        values["negative_fraction"] = _fraction(x < 0)
    return [values[name] for name in LAYER_COLUMNS]


def _checked_arrays(
    layer: Layer, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """layer_statistics' arrays checked: a layer; inputs and outputs with one row per
    example each; the gradient in the outputs' shape. The outputs as float64."""
    owner = "layer_statistics"
    _checks.refuse_class(layer, "layer", owner)
    if not isinstance(layer, Layer):
        raise TypeError(f"{owner}: layer must be an mlp Layer, got {type(layer).__name__}")
    x = _checks.number_array(inputs, "inputs", owner)
    y = _checks.number_array(outputs, "outputs", owner).astype(np.float64)
    grads = _checks.number_array(grads_wrt_outputs, "grads_wrt_outputs", owner)
    if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
        raise ValueError(
            f"{owner}: inputs and outputs need one row per example each, got shapes "
            f"{x.shape} and {y.shape}"
        )
    if grads.shape != y.shape:
        raise ValueError(
            f"{owner}: grads_wrt_outputs must have the outputs' shape {y.shape}, got {grads.shape}"
        )
    return x, y, grads


def _norm(arrays: Sequence[np.ndarray]) -> float:
    """sqrt(sum of squares of every entry of `arrays`), in float64."""
    return float(np.sqrt(sum(np.sum(np.square(np.asarray(a, np.float64))) for a in arrays)))


def _fraction(mask: np.ndarray | np.bool_) -> float:
    """The fraction of True entries of `mask` (NaN for an empty one)."""
    return float(np.mean(mask)) if np.size(mask) else float("nan")


def _model_layers(model: Any) -> list[Layer]:
    _checks.refuse_class(model, "model", "measure_layers")
    layers = getattr(model, "layers", None)
    if not isinstance(layers, (list, tuple)) or not all(isinstance(x, Layer) for x in layers):
        raise TypeError(
            "measure_layers: model must be an mlp model with a list of layers "
            f"(MultipleLayerModel, SingleLayerModel), got {type(model).__name__}"
        )
    return list(layers)


def _previous_by_layer(
    layers: Sequence[Layer], previous_params: Sequence[np.ndarray] | None
) -> list[list[np.ndarray] | None]:
    """`previous_params` (model.params order) split into each layer's part; all None
    when not given."""
    if previous_params is None:
        return [None] * len(layers)
    if isinstance(previous_params, np.ndarray) or not isinstance(previous_params, (list, tuple)):
        raise TypeError(
            "measure_layers: previous_params must be a list of arrays in model.params "
            f"order, got {type(previous_params).__name__}"
        )
    parts: list[list[np.ndarray] | None] = []
    start = 0
    for layer in layers:
        if not isinstance(layer, LayerWithParameters):
            parts.append(None)
            continue
        count = len(layer.params)
        part = [np.asarray(p, np.float64) for p in previous_params[start : start + count]]
        if len(part) != count or any(
            p.shape != q.shape for p, q in zip(part, layer.params, strict=True)
        ):
            shapes = [q.shape for q in layer.params]
            raise ValueError(
                f"measure_layers: previous_params[{start}:{start + count}] must have the "
                f"shapes of {type(layer).__name__}'s parameters {shapes}, as model.params"
            )
        parts.append(part)
        start += count
    if start != len(previous_params):
        raise ValueError(
            f"measure_layers: previous_params has {len(previous_params)} arrays, the model "
            f"{start} parameters"
        )
    return parts


def activation_sample(outputs: np.ndarray, sample_size: int) -> np.ndarray:
    """Up to `sample_size` of a layer's output values: the flattened entries
    `mlp.layer_stats.sample_indices` picks (the same for every measurement of one batch).

    Returns:
        a 1-D float32 array of min(outputs.size, sample_size) values.
    """
    flat = _checks.number_array(outputs, "outputs", "activation_sample").reshape(-1)
    count = _checks.count(sample_size, "sample_size", "activation_sample", 1)
    return flat[sample_indices(flat.size, count)].astype(np.float32)


# --- the callbacks ----------------------------------------------------------------------


class LayerMonitor(Callback):
    """What `LayerStats` and the PyTorch twin's `TorchLayerStats` share: when to measure,
    the parameters before the last step, what is kept. A subclass says how to measure
    (`measure`) and how to copy the parameters (`copy_params`).

    Args:
        batch_size, interval, sample_size, on_measurement: as `LayerStats`.
        owner: the class name used in error messages.
    """

    def __init__(
        self,
        batch_size: int = 1000,
        *,
        interval: int | None = None,
        sample_size: int = 2000,
        on_measurement: Callable[[LayerStatsTable, Samples], None] | None = None,
        owner: str = "LayerMonitor",
    ) -> None:
        self.batch_size = _checks.count(batch_size, "batch_size", owner, 1)
        self.interval = None if interval is None else _checks.count(interval, "interval", owner, 1)
        self.sample_size = _checks.count(sample_size, "sample_size", owner, 1)
        if on_measurement is not None:
            _checks.refuse_class(on_measurement, "on_measurement", owner)
            if not callable(on_measurement):
                raise TypeError(f"{owner}: on_measurement must be callable, got {on_measurement!r}")
        self.on_measurement = on_measurement
        self.table = LayerStatsTable.from_rows([])
        self.samples: Samples = {}
        self._epoch = 0
        self._last_batch: int | None = None
        self._previous: Any = None

    def on_train_begin(self, loop: Any) -> None:
        try:
            self._last_batch = len(getattr(loop, "train_dataset", None)) - 1  # type: ignore[arg-type]
        except TypeError:  # data without a length: copy before every batch
            self._last_batch = None

    def on_epoch_begin(self, loop: Any, epoch: int) -> None:
        self._epoch = epoch
        self._previous = None

    def on_batch_begin(self, loop: Any, epoch: int, batch_index: int) -> None:
        # The parameters before the epoch's last step, for the update ratio. With
        # interval None the statistics rows decide, which this callback does not know
        # ahead: then it copies every epoch (one copy of the parameters).
        measured = self.interval is None or epoch % self.interval == 0
        if measured and (self._last_batch is None or batch_index >= self._last_batch):
            self._previous = self.copy_params(loop)

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        if self.interval is None or epoch == 0:
            self.measure(loop, epoch)

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        if self.interval is not None and epoch % self.interval == 0:
            self.measure(loop, epoch)

    def previous_params(self, epoch: int) -> Any:
        """The parameters before the last step of epoch `epoch`, when copied (else None)."""
        return self._previous if epoch > 0 and epoch == self._epoch else None

    def copy_params(self, loop: Any) -> Any:
        """A copy of the loop's model's parameters, in `model.params` order."""
        raise NotImplementedError

    def measure(self, loop: Any, epoch: int) -> LayerStatsTable:
        """Measure the loop's model now, label the rows `epoch`, `keep` them."""
        raise NotImplementedError

    def keep(self, rows: LayerStatsTable, samples: Mapping[int, np.ndarray]) -> LayerStatsTable:
        """Add one measurement's rows to `table` and its samples (layer -> values) to
        `samples`, beside those of the first measurement; announce them; return `rows`."""
        epoch = int(rows.epochs[0]) if len(rows) else self._epoch
        self.table = _concatenated(self.table, rows)
        first = min(self.samples, default=epoch)
        self.samples = {e: layers for e, layers in self.samples.items() if e == first}
        self.samples[epoch] = dict(samples)
        if self.on_measurement is not None:
            self.on_measurement(rows, self.samples)
        return rows


class LayerStats(LayerMonitor):
    """Measures every layer (`measure_layers`) on a fixed batch as training goes.

    Args:
        batch_size: the batch is the first `batch_size` training examples (all of them
            when there are fewer), read from the training provider's in-order
            `evaluation_batches` or its `inputs`/`targets` arrays, never by iterating
            it (which would draw from its generator).
        batch: (inputs, targets) to measure on instead, e.g. for a provider of your own.
        interval: None: at every statistics row (epoch 0 and every `stats_interval`
            epochs); k: at epoch 0 and after every k-th epoch.
        sample_size: output values of each layer kept per sampled measurement (for
            histograms; see `activation_sample`).
        on_measurement: called as on_measurement(rows, samples) after each measurement,
            with that measurement's rows (a LayerStatsTable) and `self.samples`.

    Attributes:
        table: every measurement so far, a LayerStatsTable.
        samples: epoch -> layer -> output values, for the first and the latest
            measurement only.
    """

    def __init__(
        self,
        batch_size: int = 1000,
        *,
        batch: tuple[np.ndarray, np.ndarray] | None = None,
        interval: int | None = None,
        sample_size: int = 2000,
        on_measurement: Callable[[LayerStatsTable, Samples], None] | None = None,
    ) -> None:
        super().__init__(
            batch_size,
            interval=interval,
            sample_size=sample_size,
            on_measurement=on_measurement,
            owner="LayerStats",
        )
        self._given_batch = None if batch is None else _checked_batch(batch)
        self.batch: tuple[np.ndarray, np.ndarray] | None = self._given_batch

    def on_train_begin(self, loop: Any) -> None:
        super().on_train_begin(loop)
        if self._given_batch is None:
            self.batch = first_examples(getattr(loop, "train_dataset", None), self.batch_size)

    def copy_params(self, loop: Any) -> list[np.ndarray]:
        return [np.array(p, copy=True) for p in _trained(loop)[0].params]

    def measure(self, loop: Any, epoch: int) -> LayerStatsTable:
        """Measure `loop.model` now, label the rows `epoch`, keep and announce them."""
        model, error = _trained(loop)
        epoch = _checks.count(epoch, "epoch", "LayerStats.measure", 0)
        if self.batch is None:
            self.batch = first_examples(getattr(loop, "train_dataset", None), self.batch_size)
        inputs, targets = self.batch
        previous = self.previous_params(epoch)
        # BLAS on one thread, as in the training step (see mlp._fast.threads): on a busy
        # machine a multi-threaded BLAS call waits for its descheduled threads.
        with one_blas_thread():
            rows, activations = _measured(model, error, inputs, targets, epoch, previous)
        samples = {
            i: activation_sample(outputs, self.sample_size)
            for i, outputs in enumerate(activations[1:])
        }
        return self.keep(rows, samples)


def _trained(loop: Any) -> tuple[Any, Error]:
    """The model and error of a training loop (`Optimiser`), or a clear TypeError."""
    model, error = getattr(loop, "model", None), getattr(loop, "error", None)
    if model is None or error is None:
        raise TypeError(
            "LayerStats: the loop must be a training loop with a model and an error "
            f"(an mlp Optimiser), got {type(loop).__name__}"
        )
    return model, error


def first_examples(dataset: Any, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first `count` examples of a training provider (all of them when it has fewer),
    read without iterating it: from its in-order `evaluation_batches`, else from its
    `inputs` and `targets` arrays.

    Returns:
        (inputs, targets), each with min(count, num_examples) rows.
    Raises:
        TypeError: for a provider with neither, saying to pass `batch=`.
    """
    count = _checks.count(count, "batch_size", "LayerStats", 1)
    _checks.refuse_class(dataset, "train_dataset", "LayerStats")
    evaluation_batches = getattr(dataset, "evaluation_batches", None)
    if callable(evaluation_batches):
        first = next(iter(evaluation_batches(count)), None)
        if first is None:
            raise ValueError("LayerStats: the training data serves no examples to measure on")
        return np.asarray(first[0]), np.asarray(first[1])
    inputs, targets = getattr(dataset, "inputs", None), getattr(dataset, "targets", None)
    if not isinstance(inputs, np.ndarray) or not isinstance(targets, np.ndarray):
        raise TypeError(
            f"LayerStats: the training data ({type(dataset).__name__}) has no inputs and "
            "targets arrays to take a fixed batch from: pass batch=(inputs, targets)"
        )
    return inputs[:count], targets[:count]


def _checked_batch(batch: Any) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise TypeError(
            f"LayerStats: batch must be a pair (inputs, targets), got {type(batch).__name__}"
        )
    inputs = _checks.number_array(batch[0], "batch inputs", "LayerStats")
    targets = _checks.number_array(batch[1], "batch targets", "LayerStats")
    if inputs.ndim < 2 or targets.ndim < 1 or len(inputs) != len(targets) or not len(inputs):
        raise ValueError(
            f"LayerStats: batch must be (inputs, targets) with one row per example each, "
            f"got shapes {inputs.shape} and {targets.shape}"
        )
    return inputs, targets


def _concatenated(a: LayerStatsTable, b: LayerStatsTable) -> LayerStatsTable:
    return LayerStatsTable(
        np.concatenate([a.epochs, b.epochs]),
        np.concatenate([a.layers, b.layers]),
        a.names + b.names,
        np.concatenate([a.values, b.values]),
    )
