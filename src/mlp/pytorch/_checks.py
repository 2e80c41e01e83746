"""Argument checks for the torch side: a TypeError naming the argument when a module,
optimiser, loss or tensor is not one (torch's own messages name none of ours).

They live here, not in `mlp._checks`, because they need torch, which the NumPy core must
not import; they follow its convention, `check(value, name, owner)`, and its
"<owner>: <name> must be ..." messages.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mlp import _checks

__all__ = ["check_loss", "check_module", "check_optimizer", "check_tensor"]


def check_module(value: Any, name: str, owner: str) -> nn.Module:
    """`value` when it is a `torch.nn.Module` instance."""
    _checks.refuse_class(value, name, owner)
    if not isinstance(value, nn.Module):
        raise TypeError(
            f"{_checks.named(owner, name)} must be a torch.nn.Module, got {type(value).__name__}"
        )
    return value


def check_optimizer(value: Any, name: str, owner: str) -> torch.optim.Optimizer:
    """`value` when it is a `torch.optim.Optimizer` instance."""
    _checks.refuse_class(value, name, owner)
    if not isinstance(value, torch.optim.Optimizer):
        raise TypeError(
            f"{_checks.named(owner, name)} must be a torch.optim optimiser, e.g. "
            f"torch.optim.SGD(module.parameters(), lr=0.1); got {type(value).__name__}"
        )
    return value


def check_loss(value: Any, name: str, owner: str) -> None:
    """A TypeError unless `value` is a callable instance (a loss, not its class)."""
    _checks.refuse_class(value, name, owner)
    if not callable(value):
        raise TypeError(
            f"{_checks.named(owner, name)} must be a callable loss such as "
            f"nn.CrossEntropyLoss(), got {type(value).__name__}"
        )


def check_tensor(value: Any, name: str, owner: str) -> torch.Tensor:
    """`value` when it is a `torch.Tensor` (NumPy arrays are refused: convert them with
    torch.from_numpy, on the device the module uses)."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(
            f"{_checks.named(owner, name)} must be a torch.Tensor, got {type(value).__name__}"
        )
    return value
