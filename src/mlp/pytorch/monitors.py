"""Statistics of torch outputs: `accuracy` (the torch twin of `mlp.optimisers.accuracy`),
`evaluate_accuracy` over a whole data set, and `numpy_monitor` for NumPy monitors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from mlp import _checks
from mlp.data_providers import OneOfKDataProvider
from mlp.pytorch._checks import check_module, check_tensor
from mlp.pytorch.convert import resolve_device

__all__ = ["TorchMonitor", "accuracy", "as_torch_monitor", "evaluate_accuracy", "numpy_monitor"]

TorchMonitor = Callable[[torch.Tensor, torch.Tensor], "torch.Tensor | float"]
"""f(outputs, targets) -> the batch mean, with torch tensors on the device."""


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose largest output is the target class, as a 0-d float64 tensor.

    The count of correct rows divided by their number, so over a whole data set it is
    exact (as `mlp.optimisers.accuracy` is for NumPy arrays).

    Args:
        outputs: tensor of shape (batch_size, num_classes).
        targets: class indices of shape (batch_size,) or one-of-K rows of shape
            (batch_size, num_classes).
    """
    _check_outputs_and_targets(outputs, targets)
    if targets.ndim == outputs.ndim:
        targets = targets.argmax(-1)
    return (outputs.argmax(-1) == targets).sum(dtype=torch.float64) / outputs.shape[0]


def _check_outputs_and_targets(outputs: object, targets: object) -> None:
    outputs = check_tensor(outputs, "outputs", "accuracy")
    targets = check_tensor(targets, "targets", "accuracy")
    if outputs.ndim != 2:
        raise ValueError(
            f"accuracy: outputs must be 2-D, (batch_size, num_classes), got shape "
            f"{tuple(outputs.shape)}"
        )
    if targets.shape[:1] != outputs.shape[:1] or targets.ndim not in (1, 2):
        raise ValueError(
            f"accuracy: targets of shape {tuple(targets.shape)} must be ({outputs.shape[0]},) "
            f"class indices or {tuple(outputs.shape)} one-of-K rows, as outputs"
        )


def numpy_monitor(fn: Callable[[np.ndarray, np.ndarray], float]) -> TorchMonitor:
    """Wrap a NumPy monitor f(outputs, targets) -> batch mean for use by `train`.

    The wrapped monitor gets NumPy arrays, with class-index targets turned into one-of-K
    rows as mlp's providers serve them. It copies each batch to the host, so prefer a
    torch monitor on a GPU. `mlp.optimisers.accuracy` needs no wrapping: `train` swaps it
    for `mlp.pytorch.accuracy`.
    """
    _checks.refuse_class(fn, "fn", "numpy_monitor")
    if not callable(fn):
        raise TypeError(f"numpy_monitor: fn must be callable, got {type(fn).__name__}")

    def monitor(outputs: torch.Tensor, targets: torch.Tensor) -> float:
        out = outputs.detach().cpu().numpy()
        tgt = targets.detach().cpu().numpy()
        if tgt.ndim == 1 and out.ndim == 2 and tgt.dtype.kind in "iu":
            one_of_k = np.zeros_like(out)
            one_of_k[np.arange(tgt.shape[0]), tgt] = 1
            tgt = one_of_k
        return float(fn(out, tgt))

    monitor.__name__ = getattr(fn, "__name__", "numpy_monitor")
    return monitor


def as_torch_monitor(fn: Callable[..., object]) -> Callable[..., object]:
    """The monitor the trainer calls for `fn`: `mlp.pytorch.accuracy` for
    `mlp.optimisers.accuracy`, an mlp error wrapped by `numpy_monitor`, else `fn` itself."""
    from mlp import errors, optimisers

    if fn is optimisers.accuracy:
        return accuracy
    if type(fn).__module__ == errors.__name__:  # an mlp error as a monitor
        return numpy_monitor(fn)  # type: ignore[arg-type]
    return fn


def evaluate_accuracy(
    module: nn.Module,
    data: OneOfKDataProvider,
    device: str | torch.device = "auto",
    batch_size: int = 10_000,
) -> float:
    """Correct predictions over every example of `data`, divided by their number.

    `accuracy` of the outputs of every example at once: counted, not averaged over
    batches (a mean of batch means over-weights a small last batch). The module runs in
    evaluation mode without gradients, in batches of `batch_size`.

    Args:
        module: outputs of shape (n, num_classes) for inputs of shape (n, input_dim).
        data: a one-of-K provider (its `inputs` and integer `labels` are used).
        device: where to evaluate; 'auto' is wherever the module's parameters are. The
            module is not moved: another device than its own is an error.
        batch_size: a positive integer.
    """
    check_module(module, "module", "evaluate_accuracy")
    _checks.count(batch_size, "batch_size", "evaluate_accuracy", 1)
    _checks.refuse_class(data, "data", "evaluate_accuracy")
    if not (hasattr(data, "inputs") and hasattr(data, "labels")):
        raise TypeError(
            "evaluate_accuracy: data must be a one-of-K data provider, with inputs and "
            f"labels; got {type(data).__name__}"
        )
    parameter = next(module.parameters())
    device = parameter.device if device == "auto" else resolve_device(device)
    if parameter.device != device:
        raise ValueError(
            f"the module is on {parameter.device} but evaluation was asked on {device}: "
            f"move it first with module.to({str(device)!r}), or pass device='auto'"
        )
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            inputs = torch.tensor(np.asarray(data.inputs), dtype=parameter.dtype, device=device)
            labels = torch.tensor(np.asarray(data.labels), dtype=torch.int64, device=device)
            outputs = torch.cat(
                [
                    module(inputs[start : start + batch_size])
                    for start in range(0, len(inputs), batch_size)
                ]
            )
            return float(accuracy(outputs, labels))
    finally:
        module.train(was_training)
