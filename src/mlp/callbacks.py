"""Callbacks: code the training loop runs at fixed points, without changing the loop.

`Optimiser` and the PyTorch twin's `TorchTrainer` share one loop (`TrainingLoop`), and
both take `callbacks=[...]`. A callback subclasses `Callback` and overrides the hooks it
needs; each hook receives the loop (its `model`, `learning_rule`, data sets, ...):

    on_train_begin(loop)                    before anything, statistics included
    on_epoch_begin(loop, epoch)             before training epoch `epoch` (1-based),
                                            after the schedulers set its learning rate
    on_batch_begin(loop, epoch, batch_index)
                                            before the training step on batch
                                            `batch_index` (0-based) of epoch `epoch`;
                                            called only when a callback overrides it,
                                            so that training without one pays nothing
    on_epoch_end(loop, epoch, epoch_time)   after the epoch and its statistics row (if
                                            any); epoch_time is the training pass alone
    on_stats(loop, epoch, stats)            each statistics row, epoch 0 included
    on_train_end(loop)                      at the end, also after Ctrl-C
                                            (loop.interrupted tells)

Run records, checkpoints and progress bars of `mlp.runs` are callbacks; so is
`EpochTimer`. A hook must not change what training computes (the rngs, the
parameters), unless that is its purpose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["Callback", "EpochTimer", "LambdaCallback"]


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, loop: Any) -> None:
        """Called once before training (and before the first statistics row)."""

    def on_epoch_begin(self, loop: Any, epoch: int) -> None:
        """Called before training epoch `epoch` (1-based)."""

    def on_batch_begin(self, loop: Any, epoch: int, batch_index: int) -> None:
        """Called before the training step on batch `batch_index` (0-based) of `epoch`."""

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        """Called after epoch `epoch` and its statistics; `epoch_time` in seconds."""

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        """Called with each statistics row, label -> value, e.g. {'error(train)': ...}."""

    def on_train_end(self, loop: Any) -> None:
        """Called once at the end, also when training was interrupted."""


class EpochTimer(Callback):
    """Records the seconds of each training epoch (statistics passes excluded).

    Attributes:
        epoch_times: one entry per epoch trained, in order.
    """

    def __init__(self) -> None:
        self.epoch_times: list[float] = []

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        self.epoch_times.append(epoch_time)


class LambdaCallback(Callback):
    """A callback from plain functions, for the hooks used most:

        LambdaCallback(on_stats=lambda epoch, stats: print(epoch, stats))

    Args:
        on_stats: called as on_stats(epoch, stats) with each statistics row.
        on_epoch_end: called as on_epoch_end(epoch, epoch_time) after each epoch.
    """

    def __init__(
        self,
        on_stats: Callable[[int, dict[str, float]], None] | None = None,
        on_epoch_end: Callable[[int, float], None] | None = None,
    ) -> None:
        for name, function in (("on_stats", on_stats), ("on_epoch_end", on_epoch_end)):
            if function is not None and not callable(function):
                raise TypeError(f"LambdaCallback: {name} must be callable, got {function!r}")
        self._on_stats = on_stats
        self._on_epoch_end = on_epoch_end

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        if self._on_stats is not None:
            self._on_stats(epoch, stats)

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        if self._on_epoch_end is not None:
            self._on_epoch_end(epoch, epoch_time)
