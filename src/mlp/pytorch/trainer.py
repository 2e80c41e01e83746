"""Training a torch module on mlp's data providers (`TorchTrainer`, `train`), with
statistics in exactly the format `Optimiser.train` returns, so the same plotting code
serves both::

    stats, keys, run_time = train(module, torch.nn.CrossEntropyLoss(),
                                  torch.optim.Adam(module.parameters()),
                                  train_data, valid_data, num_epochs=10, stats_interval=1)
    stats[:, keys['acc(valid)']]

`TorchTrainer` is a `mlp.training_loop.TrainingLoop`, so it honours `mlp.schedulers` and
`mlp.callbacks` as `Optimiser` does. The data set moves to the device once (see
`mlp.pytorch.data`); `device='auto'` picks CUDA when there is a GPU.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from mlp.callbacks import Callback
from mlp.data_providers import DataProvider
from mlp.pytorch._checks import check_loss, check_module, check_optimizer
from mlp.pytorch.convert import resolve_device
from mlp.pytorch.data import DeviceData, ResidentData, StreamedData, shuffle_seed
from mlp.pytorch.monitors import accuracy, as_torch_monitor
from mlp.schedulers import Scheduler
from mlp.training_loop import StatsCallback, TrainingLoop, check_count, check_stats_interval

__all__ = ["OptimizerLearningRate", "TorchTrainer", "train"]

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class OptimizerLearningRate:
    """A `torch.optim` optimiser's learning rate as a rule's `learning_rate`, for the
    schedulers: reading gives the first parameter group's rate, setting sets every
    group's."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = check_optimizer(optimizer, "optimizer", "OptimizerLearningRate")

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


class TorchTrainer(TrainingLoop):
    """Trains a torch module the way `mlp.optimisers.Optimiser` trains an mlp model.

    Args:
        module: the torch model; it is moved to `device`.
        loss: a loss with mean reduction, e.g. `nn.CrossEntropyLoss()`; called as
            loss(outputs, targets) and recorded as 'error'.
        optimizer: a `torch.optim` optimiser over the module's parameters (made before
            or after the move to the device: parameters are moved in place).
        train_data: an mlp data provider or an iterable of (inputs, targets) batches
            such as a `torch.utils.data.DataLoader`.
        valid_data: the same kinds, for statistics only; optional.
        data_monitors: name -> f(outputs, targets) giving a batch mean (a 0-d tensor or
            a float), called with torch tensors on the device in evaluation mode; None
            means {'acc': accuracy}, {} records the error alone. `mlp.optimisers.accuracy`
            is swapped for `mlp.pytorch.accuracy`; wrap other NumPy monitors with
            `numpy_monitor`.
        device: 'auto', 'cpu', 'cuda', ... (see `resolve_device`).
        progress: show a progress bar over the batches of each epoch (tqdm).
        on_stats: called as on_stats(epoch, stats) each time statistics are recorded.
        eval_batch_size: batch size of the statistics passes over provider data; None
            for 10,000 on the CPU (cache-friendly) and 65,536 on a GPU (one batch for
            MNIST, so a statistics pass is a handful of kernel launches).
        class_indices: serve a one-of-K provider's targets as class indices (int64), as
            torch's classification losses take them; False serves the one-of-K rows.
        seed: seeds the shuffles of provider data on the device; None draws it from the
            provider's own rng, so a seeded provider gives a repeatable run.
        schedulers: `mlp.schedulers` objects; they set the rate of every parameter group
            of `optimizer` before each epoch (through `learning_rule`, an
            `OptimizerLearningRate`), as they set an mlp learning rule's.
        callbacks: `mlp.callbacks.Callback` objects, called as `Optimiser` calls them.

    A provider's data set moves to the device once; after each epoch the shuffled order
    comes from `torch.randperm` on the device and batches are slices of one gathered
    copy. Statistics run without gradients, in evaluation mode, in large batches, with
    the sums kept on the device and read back once per row.
    """

    train_dataset: DeviceData
    valid_dataset: DeviceData | None

    def __init__(
        self,
        module: nn.Module,
        loss: Loss,
        optimizer: torch.optim.Optimizer,
        train_data: Iterable[Any],
        valid_data: Iterable[Any] | None = None,
        data_monitors: Mapping[str, Callable[..., Any]] | None = None,
        device: str | torch.device = "auto",
        progress: bool = False,
        on_stats: StatsCallback | None = None,
        eval_batch_size: int | None = None,
        class_indices: bool = True,
        seed: int | None = None,
        schedulers: Iterable[Scheduler] | None = None,
        callbacks: Iterable[Callback] | None = None,
    ) -> None:
        check_module(module, "module", "TorchTrainer")
        check_loss(loss, "loss", "TorchTrainer")
        check_optimizer(optimizer, "optimizer", "TorchTrainer")
        self.device = resolve_device(device)
        self.module = module.to(self.device)
        self.loss = loss
        self.optimizer = optimizer
        self.dtype = next(
            (p.dtype for p in module.parameters() if p.is_floating_point()),
            torch.get_default_dtype(),
        )
        self.class_indices = class_indices
        self.seed = seed
        self.train_dataset = self._on_device(train_data, "train_data")
        self.valid_dataset = (
            None if valid_data is None else self._on_device(valid_data, "valid_data")
        )
        monitors = {"acc": accuracy} if data_monitors is None else dict(data_monitors)
        self.data_monitors: dict[str, Callable[..., Any]] = {"error": loss}
        self.data_monitors.update({k: as_torch_monitor(f) for k, f in monitors.items()})
        self.progress = progress
        self.learning_rule = OptimizerLearningRate(optimizer)
        self._set_hooks(schedulers, callbacks, on_stats)
        if eval_batch_size is None:
            eval_batch_size = 10_000 if self.device.type == "cpu" else 65_536
        check_count("eval_batch_size", eval_batch_size, 1)
        self.eval_batch_size = int(eval_batch_size)
        self.interrupted = False
        self.epoch_times: list[float] = []
        self._warned_non_finite = False

    @property
    def train_data(self) -> DeviceData:
        """The training data as the trainer serves it (on the device)."""
        return self.train_dataset

    @property
    def valid_data(self) -> DeviceData | None:
        """The validation data as the trainer serves it (on the device), or None."""
        return self.valid_dataset

    def _on_device(self, data: Iterable[Any], name: str) -> DeviceData:
        if isinstance(data, DataProvider):
            seed = shuffle_seed(data) if self.seed is None else self.seed
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
            return ResidentData(data, self.device, self.dtype, self.class_indices, generator)
        # A string is iterable, but of characters, never of batches.
        if not isinstance(data, Iterable) or isinstance(data, (str, bytes)):
            raise TypeError(
                f"TorchTrainer: {name} must be an mlp data provider or an iterable of "
                f"(inputs, targets) batches, got {type(data).__name__}"
            )
        return StreamedData(data, self.device, self.dtype)

    def _synchronise(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # --- one epoch ---------------------------------------------------------------------

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """One gradient step on one batch; nothing waits for the device."""
        loss = self.loss(self.module(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)  # loss.backward(), in the form torch annotates
        self.optimizer.step()

    def do_training_epoch(self) -> None:
        """One pass over the training data, one update per batch."""
        self.module.train()
        for inputs, targets in self._epoch_batches():
            self.train_step(inputs, targets)

    # --- statistics --------------------------------------------------------------------

    def eval_monitors(self, data: DeviceData, label: str) -> dict[str, float]:
        """Every monitor over a whole data set: exact means over the examples, computed in
        evaluation mode (dropout off) without gradients."""
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                totals = torch.zeros(
                    len(self.data_monitors), dtype=torch.float64, device=self.device
                )
                count = 0
                for inputs, targets in data.evaluation_batches(self.eval_batch_size):
                    outputs = self.module(inputs)
                    size = inputs.shape[0]
                    values = [
                        torch.as_tensor(m(outputs, targets), device=self.device).to(torch.float64)
                        for m in self.data_monitors.values()
                    ]
                    totals += torch.stack(values) * size
                    count += size
                means = (totals / max(count, 1)).tolist()  # the one wait for the device
        finally:
            self.module.train(was_training)
        return {f"{key}{label}": v for key, v in zip(self.data_monitors, means, strict=True)}


def train(
    module: nn.Module,
    loss: Loss,
    optimizer: torch.optim.Optimizer,
    train_data: Iterable[Any],
    valid_data: Iterable[Any] | None = None,
    num_epochs: int = 10,
    stats_interval: int = 5,
    data_monitors: Mapping[str, Callable[..., Any]] | None = None,
    device: str | torch.device = "auto",
    progress: bool = False,
    on_stats: StatsCallback | None = None,
    **options: Any,
) -> tuple[np.ndarray, dict[str, int], float]:
    """Train a torch module and return `(stats, keys, run_time)` as `Optimiser.train` does.

    See `TorchTrainer` for the arguments (`options` are its `eval_batch_size`,
    `class_indices` and `seed`) and `TorchTrainer.train` for what is returned. With mlp
    data providers the data set moves to the device once and is shuffled there; monitors
    receive torch tensors, and None gives {'acc': accuracy}. Ctrl-C returns the rows
    recorded so far.
    """
    # Checked before the trainer moves the data set to the device.
    check_count("num_epochs", num_epochs, 0)
    check_stats_interval(stats_interval)
    trainer = TorchTrainer(
        module,
        loss,
        optimizer,
        train_data,
        valid_data,
        data_monitors=data_monitors,
        device=device,
        progress=progress,
        on_stats=on_stats,
        **options,
    )
    return trainer.train(num_epochs, stats_interval)
