"""torch modules for mlp layers that `torch.nn` has no exact counterpart of.

`Reshape` is `mlp.layers.ReshapeLayer`: `nn.Flatten` covers only its default and
`nn.Unflatten` only flat inputs, so conversion uses this one for both.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Reshape"]


class Reshape(nn.Module):
    """outputs = inputs.reshape((batch_size, *output_shape)); None flattens.

    Shape:
        inputs: (batch_size, ...); outputs: (batch_size, *output_shape), or
        (batch_size, -1) when output_shape is None.
    """

    def __init__(self, output_shape: tuple[int, ...] | None = None) -> None:
        super().__init__()
        self.output_shape = None if output_shape is None else tuple(output_shape)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        shape = (-1,) if self.output_shape is None else self.output_shape
        return inputs.reshape(inputs.shape[0], *shape)

    def extra_repr(self) -> str:
        return f"output_shape={self.output_shape}"
