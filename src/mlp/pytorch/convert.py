"""mlp models as `torch.nn` modules and back (`to_torch`, `from_torch`), and the devices
they run on (`resolve_device`).

Layer correspondence:

    AffineLayer      nn.Linear (weights (output_dim, input_dim) in both)
    SigmoidLayer     nn.Sigmoid          TanhLayer       nn.Tanh
    ReluLayer        nn.ReLU             LeakyReluLayer  nn.LeakyReLU(negative_slope=alpha)
    ELULayer         nn.ELU(alpha)       SoftmaxLayer    nn.Softmax(dim=-1)
    DropoutLayer     nn.Dropout(p=1 - incl_prob)

Dropout is the same in evaluation mode (the identity in both). While training,
`nn.Dropout` draws a mask per element, where `DropoutLayer(share_across_batch=True)`
shares one across the batch; `from_torch` gives `share_across_batch=False`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from mlp.layers import (
    AffineLayer,
    DropoutLayer,
    ELULayer,
    Layer,
    LeakyReluLayer,
    ReluLayer,
    SigmoidLayer,
    SoftmaxLayer,
    TanhLayer,
)
from mlp.models import MultipleLayerModel

__all__ = ["NUMPY_DTYPES", "TORCH_DTYPES", "from_torch", "resolve_device", "to_torch"]

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

_SUPPORTED = (
    "AffineLayer, SigmoidLayer, TanhLayer, ReluLayer, LeakyReluLayer, ELULayer, "
    "SoftmaxLayer, DropoutLayer"
)
_SUPPORTED_TORCH = (
    "nn.Linear (with bias), nn.Sigmoid, nn.Tanh, nn.ReLU, nn.LeakyReLU, nn.ELU, "
    "nn.Softmax (last dimension), nn.Dropout, and nn.Sequential of these"
)


def _to_tensor(array: np.ndarray) -> torch.Tensor:
    # A copy: mlp's arrays (read-only cached data among them) are never shared with torch.
    return torch.from_numpy(np.array(array, copy=True, order="C"))


def _affine_to_linear(layer: AffineLayer, index: int) -> nn.Linear:
    if layer.weights_penalty is not None or layer.biases_penalty is not None:
        warnings.warn(
            f"to_torch: layer {index} ({layer!r}) has parameter penalties, which nn.Linear "
            "cannot hold; they are left out (use the optimiser's weight_decay instead)",
            stacklevel=4,
        )
    linear = nn.Linear(layer.input_dim, layer.output_dim, device="meta")  # no init draws
    linear.weight = nn.Parameter(_to_tensor(layer.weights))
    linear.bias = nn.Parameter(_to_tensor(layer.biases))
    return linear


def _layer_to_torch(layer: Layer, index: int) -> nn.Module:
    # Exact types (`type(layer) is ...`): a subclass may compute something else.
    if type(layer) is AffineLayer:
        return _affine_to_linear(layer, index)
    if type(layer) is SigmoidLayer:
        return nn.Sigmoid()
    if type(layer) is TanhLayer:
        return nn.Tanh()
    if type(layer) is ReluLayer:
        return nn.ReLU()
    if type(layer) is LeakyReluLayer:
        return nn.LeakyReLU(negative_slope=layer.alpha)
    if type(layer) is ELULayer:
        return nn.ELU(alpha=layer.alpha)
    if type(layer) is SoftmaxLayer:
        return nn.Softmax(dim=-1)
    if type(layer) is DropoutLayer:
        return nn.Dropout(p=1.0 - layer.incl_prob)
    raise TypeError(
        f"to_torch: layer {index} is a {type(layer).__name__} ({layer!r}), which has no "
        f"PyTorch equivalent here; supported layers: {_SUPPORTED}"
    )


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


def _flatten(module: nn.Module) -> Iterator[nn.Module]:
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _flatten(child)
    else:
        yield module


def _to_array(tensor: torch.Tensor, what: str) -> np.ndarray:
    if tensor.dtype not in NUMPY_DTYPES:
        raise ValueError(
            f"from_torch: {what} is {tensor.dtype}; mlp computes in float32 or float64"
        )
    return tensor.detach().cpu().numpy().copy()


def _linear_to_affine(module: nn.Linear, index: int) -> AffineLayer:
    if module.bias is None:
        raise ValueError(
            f"from_torch: module {index} ({module!r}) has no bias; AffineLayer always has one"
        )
    weights = _to_array(module.weight, f"module {index}'s weight")
    biases = _to_array(module.bias, f"module {index}'s bias")
    if weights.dtype != biases.dtype:
        raise ValueError(f"from_torch: module {index} mixes {weights.dtype} and {biases.dtype}")
    return AffineLayer(
        module.in_features,
        module.out_features,
        weights_initialiser=lambda shape: weights,
        biases_initialiser=lambda shape: biases,
        dtype=weights.dtype,
    )


def _module_to_layer(module: nn.Module, index: int) -> Layer:
    if type(module) is nn.Linear:
        return _linear_to_affine(module, index)
    if type(module) is nn.Sigmoid:
        return SigmoidLayer()
    if type(module) is nn.Tanh:
        return TanhLayer()
    if type(module) is nn.ReLU:
        return ReluLayer()
    if type(module) is nn.LeakyReLU:
        return LeakyReluLayer(alpha=module.negative_slope)
    if type(module) is nn.ELU:
        return ELULayer(alpha=module.alpha)
    if type(module) is nn.Softmax:
        if module.dim not in (None, 1, -1):
            raise ValueError(
                f"from_torch: module {index} ({module!r}) normalises dimension {module.dim}; "
                "SoftmaxLayer normalises each row (dim=-1)"
            )
        return SoftmaxLayer()
    if type(module) is nn.Dropout:
        if module.p >= 1:
            raise ValueError(f"from_torch: module {index} ({module!r}) drops every unit")
        return DropoutLayer(incl_prob=1.0 - module.p, share_across_batch=False)
    raise TypeError(
        f"from_torch: module {index} is a {type(module).__name__} ({module!r}), which has "
        f"no mlp equivalent; supported modules: {_SUPPORTED_TORCH}"
    )


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
    return MultipleLayerModel([_module_to_layer(m, i) for i, m in enumerate(_flatten(module))])
