"""Argument checks for the torch side: a TypeError naming the argument when a module,
optimiser, loss or tensor is not one (torch's own messages name none of ours)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mlp._argchecks import refuse_class

__all__ = ["check_loss", "check_module", "check_optimizer", "check_tensor"]


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def check_module(name: str, value: Any, where: str = "") -> nn.Module:
    """`value` when it is a `torch.nn.Module` instance."""
    refuse_class(name, value, where)
    if not isinstance(value, nn.Module):
        raise TypeError(
            f"{_prefix(where)}{name} must be a torch.nn.Module, got {type(value).__name__}"
        )
    return value


def check_optimizer(name: str, value: Any, where: str = "") -> torch.optim.Optimizer:
    """`value` when it is a `torch.optim.Optimizer` instance."""
    refuse_class(name, value, where)
    if not isinstance(value, torch.optim.Optimizer):
        raise TypeError(
            f"{_prefix(where)}{name} must be a torch.optim optimiser, e.g. "
            f"torch.optim.SGD(module.parameters(), lr=0.1); got {type(value).__name__}"
        )
    return value


def check_loss(name: str, value: Any, where: str = "") -> None:
    """A TypeError unless `value` is a callable instance (a loss, not its class)."""
    refuse_class(name, value, where)
    if not callable(value):
        raise TypeError(
            f"{_prefix(where)}{name} must be a callable loss such as "
            f"nn.CrossEntropyLoss(), got {type(value).__name__}"
        )


def check_tensor(name: str, value: Any, where: str = "") -> torch.Tensor:
    """`value` when it is a `torch.Tensor` (NumPy arrays are refused: convert them with
    torch.from_numpy, on the device the module uses)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{_prefix(where)}{name} must be a torch.Tensor, got {type(value).__name__}"
        )
    return value
