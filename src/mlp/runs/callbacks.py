"""The callbacks that keep a run record while the training loop runs (see
`mlp.callbacks`), shared by both backends of `run_experiment`:

    StatsWriter       appends each statistics row to stats.csv
    TrainingClock     seconds of training and of the whole run, over every session
    Checkpointer      saves checkpoint.npz after epoch 0's row and after every epoch
    EpochProgressBar  a tqdm bar over the epochs, the validation accuracy as postfix
                      (`mlp.live.progress_bar`: the notebook bar under Jupyter)
    layer_stats_recorder
                      a `mlp.diagnostics.LayerStats` that appends each measurement to
                      layers.csv and rewrites activations.npz

They run in the order given to the loop; a `Checkpointer` goes after its clock, so
that each checkpoint counts the epoch it follows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlp.callbacks import Callback
from mlp.config import Experiment
from mlp.diagnostics import LayerStats
from mlp.layer_stats import LayerStatsTable
from mlp.runs.checkpoint import save_checkpoint
from mlp.runs.layer_log import LayerStatsLog, Samples, write_activation_samples
from mlp.runs.stats_log import StatsLog

__all__ = [
    "Checkpointer",
    "EpochProgressBar",
    "StatsWriter",
    "TrainingClock",
    "layer_stats_recorder",
]

SaveCheckpoint = Callable[[Path, Experiment, int, Mapping[str, float]], None]


class StatsWriter(Callback):
    """Appends each statistics row to stats.csv (one fsynced line, in the log's column
    order), so an interrupted run keeps every row it recorded.

    Args:
        log: the run's `StatsLog`, its header already written.
    """

    def __init__(self, log: StatsLog) -> None:
        self.log = log

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        self.log.append(epoch, [stats[name] for name in self.log.names])


class TrainingClock(Callback):
    """Seconds spent on a run, carried over the sessions of a resumed run.

    Args:
        train_seconds: seconds of training passes in earlier sessions; each epoch's
            `epoch_time` is added to it.
        run_seconds: seconds of earlier sessions, everything included.
        sessions: the sessions so far, this one included.
        started: `time.perf_counter()` at this session's start; default now.
    """

    def __init__(
        self,
        train_seconds: float = 0.0,
        run_seconds: float = 0.0,
        sessions: float = 1,
        *,
        started: float | None = None,
    ) -> None:
        self.train_seconds = float(train_seconds)
        self.earlier_run_seconds = float(run_seconds)
        self.sessions = float(sessions)
        self.started = time.perf_counter() if started is None else started

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        self.train_seconds += epoch_time

    def timing(self) -> dict[str, float]:
        """{'train_seconds', 'run_seconds', 'sessions'} until now, earlier sessions included."""
        return {
            "train_seconds": self.train_seconds,
            "run_seconds": self.earlier_run_seconds + time.perf_counter() - self.started,
            "sessions": self.sessions,
        }


class Checkpointer(Callback):
    """Saves a checkpoint after the statistics row of epoch 0 and after every epoch, so
    an interrupted run loses at most the epoch in progress.

    Args:
        path: the checkpoint file (checkpoint.npz in the run folder).
        experiment: what is saved (model, rule, generators, training data).
        clock: the run's clock; its timing goes into each checkpoint.
        save: the function that writes a checkpoint, called as
            save(path, experiment, epoch, timing); default `save_checkpoint`.
    """

    def __init__(
        self,
        path: Path,
        experiment: Experiment,
        clock: TrainingClock,
        save: SaveCheckpoint = save_checkpoint,
    ) -> None:
        self.path = path
        self.experiment = experiment
        self.clock = clock
        self.save = save

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        if epoch == 0:
            self.save(self.path, self.experiment, 0, self.clock.timing())

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        self.save(self.path, self.experiment, epoch, self.clock.timing())


class EpochProgressBar(Callback):
    """A progress bar over a run's epochs (tqdm, imported only when training starts),
    advanced after every epoch and showing the latest validation accuracy.

    Args:
        total: the epochs the run trains up to.
        initial: the epochs already trained (a resumed run).
        desc: the bar's label, e.g. the run's name.
    """

    def __init__(self, total: int, initial: int = 0, desc: str | None = None) -> None:
        self.total, self.initial, self.desc = total, initial, desc
        self.bar: Any = None

    def on_train_begin(self, loop: Any) -> None:
        from mlp.live import progress_bar

        self.close()
        self.bar = progress_bar(
            None,
            total=self.total,
            initial=self.initial,
            desc=self.desc,
            unit="epoch",
            dynamic_ncols=True,
        )

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        if self.bar is not None and "acc(valid)" in stats:
            self.bar.set_postfix(acc_valid=f"{stats['acc(valid)']:.4f}", refresh=False)

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def on_train_end(self, loop: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the bar (it stays on screen); safe to call again, or before training."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def layer_stats_recorder(
    log: LayerStatsLog,
    activations_path: Path,
    interval: int = 0,
    *,
    table: LayerStatsTable | None = None,
    samples: Samples | None = None,
) -> LayerStats:
    """A `LayerStats` (on its default batch of 1,000 training examples) that appends
    each measurement's rows to layers.csv and rewrites activations.npz with its samples.

    Args:
        log: the run's layers.csv, its header already written.
        activations_path: the run's activations.npz.
        interval: the config's layer_stats_interval: 0 at every statistics row, k > 0
            at epoch 0 and after every k-th epoch.
        table, samples: what a resumed run measured before its checkpoint, so that the
            callback goes on as if it had measured it (its samples are the first and
            the latest measurement's).
    """

    def record(rows: LayerStatsTable, kept: Samples) -> None:
        log.append(rows)
        write_activation_samples(activations_path, kept)

    stats = LayerStats(interval=interval or None, on_measurement=record)
    if table is not None:
        stats.table = table
    if samples:
        stats.samples = {epoch: samples[epoch] for epoch in {min(samples), max(samples)}}
    return stats
