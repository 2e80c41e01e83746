"""The epoch loop both backends share: `TrainingLoop.train` runs the epochs, calls the
schedulers and callbacks, records statistics and stops cleanly on Ctrl-C.

`mlp.optimisers.Optimiser` (NumPy) and `mlp.pytorch.TorchTrainer` (PyTorch) are
TrainingLoops: each says how to train one epoch and how to evaluate its monitors on a
data set; everything else happens here, the same way for both.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from mlp.callbacks import Callback, LambdaCallback
from mlp.schedulers import Scheduler

__all__ = ["EpochCallback", "StatsCallback", "TrainingLoop", "check_count", "check_stats_interval"]

# The loop logs through "mlp.optimisers", the logger users already silence or raise.
logger = logging.getLogger("mlp.optimisers")

StatsCallback = Callable[[int, dict[str, float]], None]
"""on_stats(epoch, stats): called with each statistics row."""

EpochCallback = Callable[[int, float], None]
"""on_epoch_end(epoch, epoch_time): called after each epoch."""


class TrainingLoop:
    """The epoch loop and statistics bookkeeping shared by `Optimiser` and the PyTorch
    twin's `mlp.pytorch.TorchTrainer`, so both record statistics the same way.

    A subclass provides `do_training_epoch()` and `eval_monitors(dataset, label)`, and
    sets `train_dataset`, `valid_dataset`, `data_monitors` (name -> monitor, 'error'
    first), `learning_rule` (anything with a `learning_rate` the schedulers set),
    `schedulers` and `callbacks` (see `mlp.callbacks`).
    """

    train_dataset: Any
    valid_dataset: Any
    data_monitors: dict[str, Any]
    learning_rule: Any
    schedulers: list[Scheduler]
    callbacks: list[Callback]
    epoch_times: list[float]
    interrupted: bool = False
    _warned_non_finite: bool = False
    _epoch_in_progress: int = 0  # the epoch being trained (1-based), for on_batch_begin

    def _set_hooks(
        self,
        schedulers: Iterable[Scheduler] | None,
        callbacks: Iterable[Callback] | None,
        on_stats: StatsCallback | None = None,
        on_epoch_end: EpochCallback | None = None,
    ) -> None:
        """Check and keep the schedulers and callbacks; the `on_stats` and `on_epoch_end`
        functions of earlier versions become one more callback."""
        for name, given in (("schedulers", schedulers), ("callbacks", callbacks)):
            if given is not None and not isinstance(given, Iterable):
                raise TypeError(f"{name} must be a list, got {type(given).__name__} {given!r}")
        self.schedulers = list(schedulers or [])
        for i, scheduler in enumerate(self.schedulers):
            if isinstance(scheduler, type) or not callable(
                getattr(scheduler, "update_learning_rule", None)
            ):
                raise TypeError(
                    f"schedulers[{i}] is {scheduler!r}: pass scheduler instances with an "
                    "update_learning_rule(learning_rule, epoch_number) method"
                )
        self.callbacks = list(callbacks or [])
        for i, callback in enumerate(self.callbacks):
            if not isinstance(callback, Callback):
                hint = ", an instance" if isinstance(callback, type) else ""
                raise TypeError(
                    f"callbacks[{i}] is {callback!r}: pass mlp.callbacks.Callback objects{hint}"
                )
        if on_stats is not None or on_epoch_end is not None:
            self.callbacks.append(LambdaCallback(on_stats=on_stats, on_epoch_end=on_epoch_end))

    def _notify(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def do_training_epoch(self) -> None:
        """One pass over the training data, one update per batch."""
        raise NotImplementedError

    def eval_monitors(self, dataset: Any, label: str) -> dict[str, float]:
        """Every monitor over a whole data set, e.g. {'error(train)': .., 'acc(train)': ..}."""
        raise NotImplementedError

    def _epoch_batches(self) -> Iterable:
        """The training batches of one epoch, behind a progress bar when `progress`."""
        batches: Iterable = self.train_dataset
        if getattr(self, "progress", False):
            from mlp.live import progress_bar

            batches = progress_bar(
                batches, total=_length(batches), desc="epoch", leave=False, unit="batch"
            )
        listeners = [
            callback
            for callback in getattr(self, "callbacks", ())
            if type(callback).on_batch_begin is not Callback.on_batch_begin
        ]
        if listeners:  # else the batches as they are: no per-batch cost
            batches = self._announced(batches, listeners)
        return batches

    def _announced(self, batches: Iterable, listeners: list[Callback]) -> Iterator:
        """`batches`, each announced to `listeners` (on_batch_begin) before it is used."""
        epoch = self._epoch_in_progress
        for index, batch in enumerate(batches):
            for callback in listeners:
                callback.on_batch_begin(self, epoch, index)
            yield batch

    def _synchronise(self) -> None:
        """Wait until the epoch's work is done (a GPU runs asynchronously), for timing."""

    def stat_keys(self) -> dict[str, int]:
        """The `keys` that `train` returns: label -> column, e.g. {'error(train)': 0, ...}."""
        labels = ["(train)"] + (["(valid)"] if self.valid_dataset is not None else [])
        names = [f"{key}{label}" for label in labels for key in self.data_monitors]
        return {name: i for i, name in enumerate(names)}

    def get_epoch_stats(self) -> dict[str, float]:
        """Monitors on the training data and, when given, the validation data."""
        stats = self.eval_monitors(self.train_dataset, "(train)")
        if self.valid_dataset is not None:
            stats.update(self.eval_monitors(self.valid_dataset, "(valid)"))
        return stats

    def log_stats(self, epoch: int, epoch_time: float, stats: Mapping[str, float]) -> None:
        """Log one line of statistics through the `logging` module.

        Args:
            stats: label -> value, as `get_epoch_stats` gives.
        """
        if not isinstance(stats, Mapping):
            raise TypeError(f"log_stats: stats must be a mapping, got {type(stats).__name__}")
        values = ", ".join(f"{key}={value:.3e}" for key, value in stats.items())
        logger.info("Epoch %d: %.2fs to complete\n    %s", epoch, epoch_time, values)

    def _record(self, epoch: int, stats: dict[str, float], rows: list[list[float]]) -> None:
        rows.append(list(stats.values()))
        if not self._warned_non_finite and not all(math.isfinite(v) for v in stats.values()):
            self._warned_non_finite = True
            logger.warning(
                "epoch %d: statistics are not finite (training diverged); "
                "try a smaller learning rate or initialisation scale",
                epoch,
            )
        self._notify("on_stats", epoch, stats)

    def _start_learning_rate(self, epoch: int) -> None:
        """Let every scheduler set the rate of epoch `epoch` (1-based), in order."""
        for scheduler in self.schedulers:
            scheduler.update_learning_rule(self.learning_rule, epoch - 1)

    # --- the loop ----------------------------------------------------------------------

    def train(
        self,
        num_epochs: int,
        stats_interval: int = 5,
        *,
        start_epoch: int = 0,
        previous_stats: np.ndarray | None = None,
    ) -> tuple[np.ndarray, dict[str, int], float]:
        """Train for `num_epochs` epochs, recording statistics every `stats_interval`.

        Args:
            num_epochs: the epoch to train up to.
            stats_interval: record statistics after every this many epochs; -1 (the
                course's "don't monitor") records them before training and after the
                last epoch only.
            start_epoch: the number of epochs already trained (continuing a run restored
                from a checkpoint): training runs epochs start_epoch + 1 .. num_epochs,
                and the row before training is not computed again when start_epoch > 0.
            previous_stats: array of shape (num_rows, num_keys), the rows recorded before
                `start_epoch`; they head the returned `stats`.

        Returns:
            stats: array of shape (1 + num_epochs // stats_interval, num_keys): a row
                before training, then one per interval (when continuing, the previous
                rows followed by the new ones); with stats_interval -1, of shape
                (2, num_keys) (1 row when num_epochs is 0).
            keys: label -> column of `stats`, e.g. {'error(train)': 0, 'acc(train)': 1,
                'error(valid)': 2, 'acc(valid)': 3}.
            run_time: seconds the whole call took.

        Ctrl-C (KeyboardInterrupt) stops training cleanly: the statistics recorded so far
        are returned and `self.interrupted` is set.
        """
        check_count("num_epochs", num_epochs, 0)
        check_stats_interval(stats_interval)
        if (
            not isinstance(start_epoch, (int, np.integer))
            or isinstance(start_epoch, bool)
            or not 0 <= start_epoch <= num_epochs
        ):
            raise ValueError(
                f"start_epoch must be an integer in 0 .. num_epochs ({num_epochs}), got {start_epoch!r}"
            )
        keys = self.stat_keys()
        rows = self._previous_rows(start_epoch, previous_stats, len(keys))
        self.interrupted = False
        self.epoch_times = []
        start = time.perf_counter()
        self._notify("on_train_begin")
        try:
            if start_epoch == 0:
                self._record(0, self.get_epoch_stats(), rows)
            for epoch in range(start_epoch + 1, num_epochs + 1):
                # -1: only the last epoch's statistics (the course's "don't monitor").
                recorded = (
                    epoch == num_epochs if stats_interval == -1 else epoch % stats_interval == 0
                )
                self._run_epoch(epoch, recorded, rows)
        except KeyboardInterrupt:
            self.interrupted = True
            # Leave the training data at the start of an epoch, not in the middle of the
            # interrupted one, so the next `train` call begins with a full epoch.
            new_epoch = getattr(self.train_dataset, "new_epoch", None)
            if new_epoch is not None:
                new_epoch()
            logger.warning(
                "training interrupted; returning the %d rows of statistics recorded so far",
                len(rows),
            )
        self._notify("on_train_end")
        stats_array = np.array(rows, dtype=np.float64).reshape(len(rows), len(keys))
        return stats_array, keys, time.perf_counter() - start

    def _previous_rows(
        self, start_epoch: int, previous_stats: np.ndarray | None, num_keys: int
    ) -> list[list[float]]:
        """The rows a continued run starts from (checked), as lists."""
        if start_epoch == 0:
            if previous_stats is not None:
                raise ValueError("previous_stats is for continuing a run (start_epoch > 0)")
            return []
        if previous_stats is None:
            return []
        previous = np.asarray(previous_stats, dtype=np.float64)
        if previous.ndim != 2 or previous.shape[1] != num_keys:
            raise ValueError(
                f"previous_stats must have shape (num_rows, {num_keys}), got {previous.shape}"
            )
        return [list(row) for row in previous]

    def _run_epoch(self, epoch: int, recorded: bool, rows: list[list[float]]) -> None:
        """Epoch `epoch` (1-based): its rate, its training pass, its statistics row
        when `recorded`."""
        self._start_learning_rate(epoch)
        self._epoch_in_progress = epoch
        self._notify("on_epoch_begin", epoch)
        epoch_start = time.perf_counter()
        self.do_training_epoch()
        self._synchronise()
        epoch_time = time.perf_counter() - epoch_start
        self.epoch_times.append(epoch_time)
        if recorded:
            stats = self.get_epoch_stats()
            self.log_stats(epoch, epoch_time, stats)
            self._record(epoch, stats, rows)
        self._notify("on_epoch_end", epoch, epoch_time)


def check_count(name: str, value: int, minimum: int) -> None:
    """Raise a ValueError unless `value` is an integer (not a bool) >= `minimum`."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        kind = "non-negative" if minimum == 0 else "positive"
        raise ValueError(f"{name} must be a {kind} integer, got {value!r}")


def check_stats_interval(value: int) -> None:
    """Raise a ValueError unless `value` is a positive integer or -1 (statistics before
    training and after the last epoch only)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value == -1:
        return
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(
            f"stats_interval must be a positive integer, or -1 for statistics before "
            f"training and after the last epoch only, got {value!r}"
        )


def _length(batches: Iterable) -> int | None:
    try:
        return len(batches)  # type: ignore[arg-type]
    except TypeError:
        return None
