"""Models: layers chained together, with a forward pass that keeps every activation.

Shape:
    inputs: (batch_size, input_dim) for the first layer
    activations: list of arrays, activations[0] is the inputs and activations[-1] the
        outputs, (batch_size, output_dim); one more entry than there are layers
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np

from mlp import _checks
from mlp.layer_base import check_state_mapping
from mlp.layers import (
    Layer,
    LayerWithParameters,
    StochasticLayer,
)

__all__ = ["MultipleLayerModel", "SingleLayerModel"]


class MultipleLayerModel:
    """A stack of layers applied one after the other.

    Args:
        layers: the layers, first applied first.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        layers = _layer_list(layers)
        for i, layer in enumerate(layers):
            _checks.refuse_class(layer, f"layer {i}", "")
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is a {type(layer).__name__}, not an mlp Layer")
            # A stochastic layer keeps the mask of its latest forward pass for its
            # backward pass; used twice, the second pass would overwrite the first's.
            if isinstance(layer, StochasticLayer) and any(layer is other for other in layers[:i]):
                raise ValueError(
                    f"layer {i} ({layer!r}) appears twice in the model: give each place its "
                    "own DropoutLayer object"
                )
        if not layers:  # an empty model would pass its inputs through untouched
            raise ValueError("MultipleLayerModel: layers must hold at least one layer, got []")
        _check_sizes_chain(layers)
        self.layers = layers

    @property
    def params(self) -> list[np.ndarray]:
        """Every layer's parameters, concatenated in layer order (the arrays themselves)."""
        return [
            p
            for layer in self.layers
            if isinstance(layer, LayerWithParameters)
            for p in layer.params
        ]

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        values = list(values)
        needed = len(self.params)
        if len(values) != needed:
            raise ValueError(f"model has {needed} parameter arrays, got {len(values)}")
        start = 0
        for layer in self.layers:
            if isinstance(layer, LayerWithParameters):
                count = len(layer.params)
                layer.params = values[start : start + count]
                start += count

    def state(self) -> dict[str, np.ndarray]:
        """Every layer's non-parameter state (`Layer.state`, e.g. batch normalisation's
        running statistics), under '<layer index>.<name>', e.g. '1.running_mean';
        empty for a model of stateless layers. Copies of the arrays."""
        return {
            f"{i}.{name}": value
            for i, layer in enumerate(self.layers)
            for name, value in layer.state().items()
        }

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Set what `state()` returned, every layer's part (copied in).

        Raises:
            TypeError: unless `state` is a dict of name -> array.
            ValueError: for a name no layer has, or a layer's state that does not fit;
                nothing is changed then.
        """
        check_state_mapping(state, self)
        parts: list[dict[str, np.ndarray]] = [{} for _ in self.layers]
        for key, value in state.items():
            index, _, name = key.partition(".")
            if not (index.isdigit() and int(index) < len(self.layers) and name):
                raise ValueError(
                    f"model state has an entry {key!r}, but the model's are named "
                    f"'<layer index>.<name>' for its {len(self.layers)} layers: "
                    f"{sorted(self.state()) or 'none'}"
                )
            parts[int(index)][name] = value
        saved = [layer.state() for layer in self.layers]
        try:
            for layer, part in zip(self.layers, parts, strict=True):
                layer.load_state(part)
        except (TypeError, ValueError):
            for layer, before in zip(self.layers, saved, strict=True):
                layer.load_state(before)  # leave the model as it was
            raise

    def fprop(self, inputs: np.ndarray, evaluation: bool = False) -> list[np.ndarray]:
        """Forward pass through every layer.

        Args:
            inputs: array of shape (batch_size, input_dim).
            evaluation: run the layers that have an evaluation mode in it, as at test
                time: dropout deterministically, batch normalisation with its running
                statistics (which it then leaves unchanged).
        Returns:
            activations: [inputs, output of layer 1, ..., output of the last layer].
        """
        # Converted (a list of rows works) and checked here, so that a ragged list is
        # refused naming inputs rather than by NumPy in the first layer.
        activations = [_checks.number_array(inputs, "inputs", "fprop")]
        for layer in self.layers:
            if layer.has_evaluation_mode:  # dropout, batch normalisation
                # Such layers take the switch as StochasticLayer's fprop does.
                modal = cast(StochasticLayer, layer)
                activations.append(modal.fprop(activations[-1], stochastic=not evaluation))
            else:
                activations.append(layer.fprop(activations[-1]))
        return activations

    def predict(self, inputs: np.ndarray, batch_size: int = 10_000) -> np.ndarray:
        """Outputs of the model in evaluation mode, in batches to bound memory.

        Args:
            inputs: array of shape (n, input_dim) (a list is converted).
            batch_size: rows per forward pass, >= 1.
        Returns:
            outputs: array of shape (n, output_dim).
        """
        inputs = _checks.number_array(inputs, "inputs", "predict")
        batch_size = _checks.count(batch_size, "batch_size", "predict", 1)
        if inputs.ndim < 1:
            raise ValueError("predict: inputs must have one row per example, got a 0-d array")
        chunks = [
            self.fprop(inputs[start : start + batch_size], evaluation=True)[-1]
            for start in range(0, max(inputs.shape[0], 1), batch_size)  # 0 rows: 1 chunk
        ]
        return np.concatenate(chunks, axis=0)

    def grads_wrt_params(
        self, activations: Sequence[np.ndarray], grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """Backward pass: gradients of the error with respect to every parameter.

        Args:
            activations: what `fprop` returned for this batch.
            grads_wrt_outputs: array of shape (batch_size, output_dim), the error's grad.
        Returns:
            A list aligned with `params`, each gradient shaped like its parameter.
        """
        if not isinstance(activations, (list, tuple)):
            raise TypeError(
                f"activations must be the list fprop returned, got {type(activations).__name__}"
            )
        if len(activations) != len(self.layers) + 1:
            raise ValueError(
                f"expected {len(self.layers) + 1} activations (inputs plus one per layer), "
                f"got {len(activations)}: pass what fprop returned"
            )
        grads_wrt_params: list[list[np.ndarray]] = []
        grads = grads_wrt_outputs
        # Nothing needs the gradient with respect to the inputs of the first layer with
        # parameters (nor below it: a reshape, an input dropout): skipping those saves
        # the first layer's largest matrix product, or a convolution's whole bprop.
        first = next(
            (k for k, layer in enumerate(self.layers) if isinstance(layer, LayerWithParameters)),
            len(self.layers),
        )
        for i in range(len(self.layers) - 1, first - 1, -1):
            layer = self.layers[i]
            inputs, outputs = activations[i], activations[i + 1]
            if isinstance(layer, LayerWithParameters):
                grads_wrt_params.append(layer.grads_wrt_params(inputs, grads))
            if i > first:
                grads = layer.bprop(inputs, outputs, grads)
        return [g for layer_grads in reversed(grads_wrt_params) for g in layer_grads]

    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
        """The shape of the outputs for inputs of `input_shape`, from the layers' sizes
        alone (nothing is computed), e.g. (100, 784) -> (100, 10).

        Returns:
            the shape, or None when a layer's sizes are not known (a layer of your own).
        Raises:
            ValueError: naming the first layer that cannot take what comes before it.
        """
        shape = tuple(input_shape)
        for i, layer in enumerate(self.layers):
            sizes = _sizes(layer)
            if sizes is None:
                if not layer.keeps_shape:
                    return None
                continue
            if len(shape) != 2 or shape[1] != sizes[0]:
                given = "the inputs have" if i == 0 else f"layer {i - 1} gives"
                raise ValueError(
                    f"layer {i} of the model, {layer!r}, takes inputs of shape "
                    f"(batch_size, {sizes[0]}), but {given} shape {shape}"
                )
            shape = (shape[0], sizes[1])
        return shape

    def params_penalty(self) -> float:
        """Sum of the layers' parameter penalties (0 when there are none)."""
        return sum(
            layer.params_penalty()
            for layer in self.layers
            if isinstance(layer, LayerWithParameters)
        )

    def __repr__(self) -> str:
        inner = ",\n".join(f"  {layer!r}" for layer in self.layers)
        return f"MultipleLayerModel(\n{inner}\n)"


class SingleLayerModel(MultipleLayerModel):
    """A model of one layer: `SingleLayerModel(AffineLayer(784, 10))`."""

    def __init__(self, layer: Layer) -> None:
        if isinstance(layer, (list, tuple)):
            raise TypeError(
                f"SingleLayerModel takes one layer, got a {type(layer).__name__}: "
                "for several layers use MultipleLayerModel(layers)"
            )
        super().__init__([layer])

    @property
    def layer(self) -> Layer:
        """The model's one layer."""
        return self.layers[0]

    def __repr__(self) -> str:
        return f"SingleLayerModel({self.layer!r})"


def _layer_list(layers: Sequence[Layer]) -> list[Layer]:
    """`layers` as a list, refusing one layer on its own (a common slip)."""
    if isinstance(layers, Layer) or isinstance(layers, type):
        name = layers.__name__ if isinstance(layers, type) else type(layers).__name__
        raise TypeError(
            f"layers must be a list of layers, got one {name}: pass [layer], or use "
            "SingleLayerModel(layer)"
        )
    if isinstance(layers, (str, bytes)) or not isinstance(layers, (list, tuple, Sequence)):
        raise TypeError(f"layers must be a list of layers, got {type(layers).__name__}")
    return list(layers)


def _sizes(layer: Layer) -> tuple[int, int] | None:
    """(input_dim, output_dim) of a layer that declares them, like AffineLayer."""
    input_dim, output_dim = getattr(layer, "input_dim", None), getattr(layer, "output_dim", None)
    if isinstance(input_dim, int) and isinstance(output_dim, int):
        return input_dim, output_dim
    return None


def _check_sizes_chain(layers: list[Layer]) -> None:
    """A ValueError when a layer's input size is not the output size of the sized layer
    before it (with only shape-keeping layers between them)."""
    previous: tuple[int, Layer, int] | None = None  # index, layer, output size
    for i, layer in enumerate(layers):
        sizes = _sizes(layer)
        if sizes is None:
            if not layer.keeps_shape:
                previous = None  # sizes unknown from here on
            continue
        if previous is not None and previous[2] != sizes[0]:
            raise ValueError(
                f"layer {i}, {layer!r}, takes inputs of size {sizes[0]}, but layer "
                f"{previous[0]}, {previous[1]!r}, gives outputs of size {previous[2]}"
            )
        previous = (i, layer, sizes[1])
