"""Models: layers chained together, with a forward pass that keeps every activation.

Shape:
    inputs: (batch_size, input_dim) for the first layer
    activations: list of arrays, activations[0] is the inputs and activations[-1] the
        outputs, (batch_size, output_dim); one more entry than there are layers
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from mlp.layers import Layer, LayerWithParameters, StochasticLayer

__all__ = ["MultipleLayerModel", "SingleLayerModel"]


class MultipleLayerModel:
    """A stack of layers applied one after the other.

    Args:
        layers: the layers, first applied first.
    """

    def __init__(self, layers: Sequence[Layer]) -> None:
        layers = list(layers)
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(f"layer {i} is a {type(layer).__name__}, not an mlp Layer")
            # A stochastic layer keeps the mask of its latest forward pass for its
            # backward pass; used twice, the second pass would overwrite the first's.
            if isinstance(layer, StochasticLayer) and any(layer is other for other in layers[:i]):
                raise ValueError(
                    f"layer {i} ({layer!r}) appears twice in the model: give each place its "
                    "own DropoutLayer object"
                )
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

    def fprop(self, inputs: np.ndarray, evaluation: bool = False) -> list[np.ndarray]:
        """Forward pass through every layer.

        Args:
            inputs: array of shape (batch_size, input_dim).
            evaluation: run stochastic layers (dropout) deterministically, as at test time.
        Returns:
            activations: [inputs, output of layer 1, ..., output of the last layer].
        """
        activations = [inputs]
        for layer in self.layers:
            if isinstance(layer, StochasticLayer):
                activations.append(layer.fprop(activations[-1], stochastic=not evaluation))
            else:
                activations.append(layer.fprop(activations[-1]))
        return activations

    def predict(self, inputs: np.ndarray, batch_size: int = 10_000) -> np.ndarray:
        """Outputs of the model in evaluation mode, in batches to bound memory.

        Args:
            inputs: array of shape (n, input_dim).
        Returns:
            outputs: array of shape (n, output_dim).
        """
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
        if len(activations) != len(self.layers) + 1:
            raise ValueError(
                f"expected {len(self.layers) + 1} activations (inputs plus one per layer), "
                f"got {len(activations)}: pass what fprop returned"
            )
        grads_wrt_params: list[list[np.ndarray]] = []
        grads = grads_wrt_outputs
        for i in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[i]
            inputs, outputs = activations[i], activations[i + 1]
            if isinstance(layer, LayerWithParameters):
                grads_wrt_params.append(layer.grads_wrt_params(inputs, grads))
            # Nothing needs the gradient with respect to the model's inputs: skipping it
            # saves the first layer's largest matrix product.
            if i > 0:
                grads = layer.bprop(inputs, outputs, grads)
        return [g for layer_grads in reversed(grads_wrt_params) for g in layer_grads]

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
        super().__init__([layer])

    @property
    def layer(self) -> Layer:
        """The model's one layer."""
        return self.layers[0]

    def __repr__(self) -> str:
        return f"SingleLayerModel({self.layer!r})"
