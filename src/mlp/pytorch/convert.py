"""mlp models as `torch.nn` modules and back (`to_torch`, `from_torch`), and the devices
they run on (`resolve_device`).

Layer correspondence, as the layer entries of `mlp.registry` declare it; among them:

    AffineLayer      nn.Linear (weights (output_dim, input_dim) in both)
    SigmoidLayer     nn.Sigmoid          TanhLayer       nn.Tanh
    ReluLayer        nn.ReLU             LeakyReluLayer  nn.LeakyReLU(negative_slope=alpha)
    ELULayer         nn.ELU(alpha)       SoftmaxLayer    nn.Softmax(dim=-1)
    DropoutLayer     nn.Dropout(p=1 - incl_prob)
    ParametricReluLayer  nn.PReLU() (one slope)   RandomReluLayer  nn.RReLU(lower, upper)
    ExponentialLinearUnitLayer  nn.ELU(alpha) (back as ELULayer, the same maths)
    MaxPoolingLayer  nn.MaxPool1d(pool_size) (pools the last axis of (batch_size, dim))

Dropout is the same in evaluation mode (the identity in both). While training,
`nn.Dropout` draws a mask per element, where `DropoutLayer(share_across_batch=True)`
shares one across the batch; `from_torch` gives `share_across_batch=False`. RReLU is
likewise the same in evaluation mode (the mean slope), each drawing its own slopes while
training.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from mlp.layers import Layer
from mlp.models import MultipleLayerModel

__all__ = [
    "NUMPY_DTYPES",
    "TORCH_DTYPES",
    "flatten_modules",
    "from_torch",
    "resolve_device",
    "to_torch",
]

TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}
"""NumPy dtype -> torch dtype, for the two dtypes mlp computes in."""

NUMPY_DTYPES = {v: k for k, v in TORCH_DTYPES.items()}
"""torch dtype -> NumPy dtype."""


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device to run on.

    Args:
        device: 'auto' (or None) for the first CUDA GPU when there is one, else the CPU;
            otherwise anything `torch.device` accepts ('cpu', 'cuda', 'cuda:1', ...).
    Raises:
        ValueError: for an unknown device name, or CUDA asked for where there is none.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
        if resolved.index is None:
            resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


# --- models: mlp <-> torch ---------------------------------------------------------------


def _supported_layers() -> str:
    from mlp import registry

    kinds = ("activation", "layer")
    return ", ".join(
        e.layer_class.__name__ for k in kinds for e in registry.entries(k) if e.layer_class
    )


def _supported_modules() -> str:
    from mlp import registry

    kinds = ("activation", "layer")
    names = [
        f"nn.{e.torch_class().__name__}"
        for k in kinds
        for e in registry.entries(k)
        if e.torch_class
    ]
    return ", ".join(names) + ", and nn.Sequential of these"


def _layer_to_torch(layer: Layer, index: int) -> nn.Module:
    from mlp import registry

    entry = registry.entry_for_layer(layer)  # exact types: a subclass may compute something else
    if entry is None or entry.torch is None:
        raise TypeError(
            f"to_torch: layer {index} is a {type(layer).__name__} ({layer!r}), which has no "
            f"PyTorch equivalent here; supported layers: {_supported_layers()}"
        )
    return entry.build_torch(layer)


def to_torch(model: MultipleLayerModel | Layer) -> nn.Sequential:
    """An `nn.Sequential` computing what `model` computes, with copies of its weights.

    Args:
        model: a `MultipleLayerModel` or `SingleLayerModel` (or a single layer) of the
            layers in the module docstring's table.
    Returns:
        nn.Sequential, one module per layer, on the CPU, in the model's dtype (float32
        stays float32, float64 stays float64), in training mode.
    Raises:
        TypeError: for a layer with no PyTorch counterpart, naming it.
    """
    if isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, MultipleLayerModel):
        layers = model.layers
    else:
        raise TypeError(
            f"to_torch needs an mlp MultipleLayerModel or Layer, got {type(model).__name__}"
        )
    return nn.Sequential(*(_layer_to_torch(layer, i) for i, layer in enumerate(layers)))


def flatten_modules(module: nn.Module) -> Iterator[nn.Module]:
    """The layers of a torch model in order, nested `nn.Sequential`s flattened: what
    `from_torch` converts, one mlp layer each (so `to_torch(model)`'s i-th is
    `model.layers[i]`)."""
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from flatten_modules(child)
    else:
        yield module


def _module_to_layer(module: nn.Module, index: int) -> Layer:
    from mlp import registry

    entry = registry.entry_for_module(module)
    if entry is None or entry.from_torch is None:
        raise TypeError(
            f"from_torch: module {index} is a {type(module).__name__} ({module!r}), which has "
            f"no mlp equivalent; supported modules: {_supported_modules()}"
        )
    try:
        return entry.from_torch(module)
    except ValueError as error:
        raise ValueError(f"from_torch: module {index} ({module!r}): {error}") from None


def from_torch(module: nn.Module) -> MultipleLayerModel:
    """A `MultipleLayerModel` computing what `module` computes, with copies of its weights.

    Args:
        module: an `nn.Sequential` (nested ones are flattened) of the modules in the
            module docstring's table, or one such module; on any device.
    Returns:
        MultipleLayerModel whose AffineLayers hold the Linear weights in their dtype.
    Raises:
        TypeError: for a module with no mlp counterpart, naming it.
        ValueError: for a Linear without bias, or parameters neither float32 nor float64.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    return MultipleLayerModel(
        [_module_to_layer(m, i) for i, m in enumerate(flatten_modules(module))]
    )
