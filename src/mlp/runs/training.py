"""Running experiments: `run_experiment` starts (or resumes, or overwrites) a run record
and `resume_run` continues one from its checkpoint, under a lock on the run folder.
With the NumPy backend the callbacks of `mlp.runs.callbacks` write stats.csv and a
checkpoint every epoch; the torch backend is in `mlp.runs.torch_backend`."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from mlp import _checks
from mlp.callbacks import Callback
from mlp.config import (
    ConfigError,
    Experiment,
    ExperimentConfig,
    build_experiment,
    build_scheduler,
    config_from_dict,
)
from mlp.layer_stats import LayerStatsTable
from mlp.runs.callbacks import (
    Checkpointer,
    EpochProgressBar,
    StatsWriter,
    TrainingClock,
    layer_stats_recorder,
)
from mlp.runs.checkpoint import load_checkpoint, save_checkpoint
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.finish import finish_run
from mlp.runs.layer_log import LayerStatsLog, read_activation_samples, read_layer_stats
from mlp.runs.layout import ACTIVATIONS, CHECKPOINT, CONFIG, LAYERS, STATS
from mlp.runs.reading import config_fix, read_toml
from mlp.runs.record import RunRecord, is_finished, write_config
from mlp.runs.stats_log import StatsLog, read_stats
from mlp.runs.torch_backend import train_torch

logger = logging.getLogger(__name__)


IfExists = Literal["error", "overwrite", "resume"]


def _unique_name(runs_dir: Path, base: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{base}-{stamp}"
    suffix = 2
    while (runs_dir / name).exists():
        name = f"{base}-{stamp}-{suffix}"
        suffix += 1
    return name


def _same_config(a: ExperimentConfig, b: ExperimentConfig) -> bool:
    # Neither the name nor the memory limit changes what the run computes.
    ignore = {"name", "max_memory_gb"}
    da = {k: v for k, v in a.resolved().to_dict().items() if k not in ignore}
    db = {k: v for k, v in b.resolved().to_dict().items() if k not in ignore}
    return da == db


def run_experiment(
    config: ExperimentConfig,
    runs_dir: str | os.PathLike[str] = "runs",
    *,
    name: str | None = None,
    if_exists: IfExists = "error",
    progress: bool = False,
) -> RunRecord:
    """Train the model `config` describes, writing a run record as it goes.

    Safe to call from a worker process (a sweep runs one call per point): everything it
    needs is in `config`, and what it leaves is the record in ``runs_dir/NAME``.

    Args:
        config: the experiment (validated here).
        runs_dir: folder of run records (created).
        name: the run's folder name; default `config.name`, else a descriptive name with
            a timestamp.
        if_exists: what to do when the folder exists: 'error' (raise `RunError`),
            'overwrite' (delete it and start again), or 'resume' (a finished run is
            returned as it is, an unfinished one continues from its checkpoint, or starts
            again with the torch backend, which keeps no checkpoints; the config must
            match the record's). 'resume' is what a sweep wants: finished points are
            skipped and interrupted ones continue.
        progress: show a progress bar over the epochs.
    Returns:
        The record read back. `record.finished` is False when training was interrupted
        (Ctrl-C): the record then holds what was done, ready to resume.
    Raises:
        ConfigError: for an invalid config; RunError: for a clash with an existing record.
    """
    _check_arguments(config, runs_dir, name, if_exists)
    config = config.resolved().validate()
    config.check_memory()  # before anything is written
    runs_dir = Path(runs_dir)
    name = name or config.name or _unique_name(runs_dir, config.default_name())
    path = runs_dir / name
    if path.exists() and any(path.iterdir()):
        if if_exists == "overwrite":
            _remove_run(path)
        elif if_exists == "resume":
            if (path / CONFIG).exists():
                stored = _read_config(path)
                if not _same_config(stored, config):
                    raise RunError(
                        f"{path} holds a run with a different config; choose another name "
                        "or overwrite it"
                    )
                if is_finished(path) or stored.backend == "numpy":
                    return resume_run(path, progress=progress)
            # Nothing was recorded yet, or a torch run, which cannot resume: start again.
            _remove_run(path)
        else:
            _refuse_existing(path, config)
    config = _with_name(config, name)
    return _train(path, config, resume=False, progress=progress)


def _check_arguments(config: object, runs_dir: object, name: object, if_exists: object) -> None:
    """run_experiment's arguments, checked before anything is trained or written."""
    _checks.refuse_class(config, "config", "run_experiment")
    if not isinstance(config, ExperimentConfig):
        raise TypeError(
            f"run_experiment: config must be an ExperimentConfig, got {type(config).__name__}; "
            "mlp.config.config_from_dict(values) makes one from a dict"
        )
    _checks.path(runs_dir, "runs_dir", "run_experiment")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"run_experiment: name must be a str, got {type(name).__name__} {name!r}")
    if if_exists not in ("error", "overwrite", "resume"):
        raise ValueError(
            f"run_experiment: if_exists must be 'error', 'overwrite' or 'resume', got {if_exists!r}"
        )


def _refuse_existing(path: Path, config: ExperimentConfig) -> None:
    """Refuse to start a run in `path`, which holds something, unless nothing of it was
    trained yet (a process killed while its data loaded leaves only `.lock`, or also a
    config): then the same command starts it again, and resuming would have too.

    Raises:
        RunError: saying what `path` holds and what to do.
    """
    if is_finished(path):
        raise RunError(
            f"{path} already holds a finished run: pass --overwrite to train it "
            "again, or choose another --name"
        )
    if (path / CONFIG).exists() and not _same_config(_read_config(path), config):
        raise RunError(
            f"{path} holds a run with a different config: choose another --name, or pass "
            "--overwrite to replace it"
        )
    if not _trained_yet(path):
        logger.info("%s holds no trained epoch yet: starting it again", path)
        return
    raise RunError(
        f"{path} already holds an unfinished run: continue it with "
        f"`mlp train --resume {path}`, or pass --overwrite or another --name"
    )


def _trained_yet(path: Path) -> bool:
    """Whether any epoch of the unfinished run in `path` was recorded: a checkpoint, or
    a row of statistics after epoch 0 (a torch run keeps no checkpoints)."""
    if (path / CHECKPOINT).exists():
        return True
    if not (path / STATS).exists():
        return False
    epochs, _, _ = read_stats(path / STATS)
    return bool((epochs > 0).any())


def resume_run(path: str | os.PathLike[str], *, progress: bool = False) -> RunRecord:
    """Continue the run recorded in `path` from its latest checkpoint.

    A finished run is returned unchanged. Without a checkpoint (killed before its first
    epoch ended) the run starts again from scratch, which gives the same result.

    Raises:
        RunError: when `path` is not a run record of `run_experiment`.
    """
    path = Path(path)
    if not (path / CONFIG).exists():
        raise RunError(_not_a_record(path))
    record_config = _read_config(path)
    if is_finished(path):
        return RunRecord.load(path)
    if record_config.backend == "torch":
        raise RunError(
            f"{path} was trained with the torch backend, which keeps no checkpoints: "
            "start it again with --overwrite"
        )
    return _train(path, record_config, resume=True, progress=progress)


def _not_a_record(path: Path) -> str:
    """Why `path`, which has no config.toml, cannot be resumed."""
    if path.is_dir() and {p.name for p in path.iterdir()} == {".lock"}:
        # What a run killed while its data loaded leaves (the lock is taken first).
        return (
            f"nothing was trained in {path} yet (it holds only .lock, left by a run stopped "
            "before its first epoch): start it again with the `mlp train` command that "
            "started it, without --resume"
        )
    return f"{path} is not a run record (no {CONFIG})"


def _read_config(path: Path) -> ExperimentConfig:
    """The config.toml of the run in `path`, resolved.

    Raises:
        RunRecordError: when it cannot be read or is not an experiment config.
    """
    values = read_toml(path / CONFIG, config_fix(path))
    try:
        return config_from_dict(values).resolved()
    except ConfigError as error:
        raise RunRecordError(
            path / CONFIG, f"is not an experiment config ({error})", config_fix(path)
        ) from None


def _with_name(config: ExperimentConfig, name: str) -> ExperimentConfig:
    return dataclasses.replace(config, name=name)


def config_differs(path: str | os.PathLike[str], config: ExperimentConfig) -> bool:
    """True when `path` holds a run record whose config is not `config` (names aside);
    False when they agree or nothing readable is there yet."""
    path = Path(_checks.path(path, "path", "config_differs"))
    if not (path / CONFIG).exists():
        return False
    try:
        return not _same_config(_read_config(path), config)
    except RunError:
        return False  # unreadable: training it will say why


def _remove_run(path: Path) -> None:
    """Delete a run folder under its lock, so that a run another process is training is
    refused (RunError) rather than deleted under it, mixing two runs in one record."""
    with _exclusive(path):
        shutil.rmtree(path)


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold a lock on the run folder while training, so that two processes never write
    one record; the system releases it when the process ends, however it ends."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    lock = path / ".lock"
    with open(lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(f"{path} is being trained by another process") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
                path.rmdir()  # only when nothing was written (the build failed)


def _train(path: Path, config: ExperimentConfig, *, resume: bool, progress: bool) -> RunRecord:
    with _exclusive(path):
        if config.backend == "torch":
            return train_torch(path, config, progress=progress)
        return _train_numpy(path, config, resume=resume, progress=progress)


@dataclasses.dataclass
class _Start:
    """Where a session of a run starts: after `epoch`, with the rows recorded before it
    (None for a fresh start) and the timing of earlier sessions."""

    epoch: int = 0
    previous_stats: np.ndarray | None = None
    timing: dict[str, float] = dataclasses.field(
        default_factory=lambda: {"train_seconds": 0.0, "run_seconds": 0.0, "sessions": 0.0}
    )


def _train_numpy(
    path: Path, config: ExperimentConfig, *, resume: bool, progress: bool
) -> RunRecord:
    from mlp.optimisers import Optimiser, accuracy

    session_start = time.perf_counter()
    experiment = build_experiment(config)
    # Built before the checkpoint is loaded: the optimiser initialises the learning rule,
    # whose state the checkpoint then restores.
    optimiser = Optimiser(
        experiment.model,
        experiment.error,
        experiment.learning_rule,
        experiment.train_data,
        experiment.valid_data,
        {"acc": accuracy} if config.classifies() else {},  # no accuracy of real targets
        schedulers=[build_scheduler(config)],
        eval_batch_size=config.eval_batch_size(),
    )
    log = StatsLog(path / STATS, optimiser.stat_keys())
    for stale in path.glob(".*.tmp"):  # left by a process killed while writing
        with contextlib.suppress(OSError):
            stale.unlink()
    if resume and (path / CHECKPOINT).exists():
        start = _restore(path, experiment, log)
    else:
        if resume:
            logger.info("%s has no checkpoint yet: starting it again", path.name)
        start = _start_afresh(path, config, log)
    timing = start.timing
    clock = TrainingClock(
        timing["train_seconds"],
        timing["run_seconds"],
        timing["sessions"] + 1,
        started=session_start,
    )
    bar = EpochProgressBar(config.epochs, start.epoch, path.name)
    # `save_checkpoint` is looked up here, at call time, so tests can patch it.
    checkpointer = Checkpointer(path / CHECKPOINT, experiment, clock, save=save_checkpoint)
    # Measured before the checkpoint of the same epoch is saved: a run killed between
    # the two measures that epoch again, after cutting layers.csv back (`_layer_stats`).
    layers = _layer_stats(path, config, start.epoch if resume else None)
    optimiser.callbacks += [StatsWriter(log), *layers, clock, checkpointer]
    optimiser.callbacks += [bar] if progress else []
    with contextlib.closing(bar):
        optimiser.train(
            config.epochs,
            config.stats_interval,
            start_epoch=start.epoch,
            previous_stats=start.previous_stats,
        )
    if optimiser.interrupted:
        logger.warning("%s interrupted; continue it with `mlp train --resume %s`", path.name, path)
        return RunRecord.load(path)
    return finish_run(path, experiment, clock)


def _start_afresh(path: Path, config: ExperimentConfig, log: StatsLog) -> _Start:
    """A new record: its config and the header of stats.csv, no checkpoint."""
    write_config(path, config)
    log.write_header()
    with contextlib.suppress(FileNotFoundError):
        (path / CHECKPOINT).unlink()
    return _Start()


def _restore(path: Path, experiment: Experiment, log: StatsLog) -> _Start:
    """Load the checkpoint into `experiment` and cut stats.csv back to its epoch."""
    meta = load_checkpoint(path / CHECKPOINT, experiment)
    epoch = int(meta["epoch"])
    timing = {key: float(meta.get(key, 0.0)) for key in _Start().timing}
    epochs, stats, stored_keys = read_stats(path / STATS)
    keys = {name: i for i, name in enumerate(log.names)}
    if stored_keys != keys:
        raise RunError(f"{path / STATS} has columns {list(stored_keys)}, expected {list(keys)}")
    # Rows after the checkpoint (recorded just before a kill) are recorded again.
    # From a checkpoint at epoch 0, the row before training is computed again too.
    keep = (epochs <= epoch) if epoch > 0 else np.zeros(len(epochs), bool)
    log.write_header(list(zip(epochs[keep].tolist(), stats[keep], strict=True)))
    logger.info("resuming %s after epoch %d", path.name, epoch)
    return _Start(epoch, stats[keep] if epoch > 0 else None, timing)


def _layer_stats(path: Path, config: ExperimentConfig, resumed_after: int | None) -> list[Callback]:
    """The run's layer-statistics recorder when `config.layer_stats` (else none):
    layers.csv started afresh, or, continuing after epoch `resumed_after`, cut back to
    the rows up to that epoch (later ones are measured again; from a checkpoint at
    epoch 0, epoch 0 too) and its samples kept up to that epoch."""
    if not config.layer_stats:
        return []
    log = LayerStatsLog(path / LAYERS)
    if resumed_after is None or not (path / LAYERS).exists():
        log.write_header()
        with contextlib.suppress(FileNotFoundError):
            (path / ACTIVATIONS).unlink()
        return [layer_stats_recorder(log, path / ACTIVATIONS, config.layer_stats_interval)]
    stored = read_layer_stats(path / LAYERS)
    keep = (stored.epochs <= resumed_after) if resumed_after > 0 else np.zeros(len(stored), bool)
    table = LayerStatsTable.from_rows(row for row, k in zip(stored.rows(), keep, strict=True) if k)
    log.write_header(table)
    samples = {}
    if (path / ACTIVATIONS).exists() and len(table):
        measured = set(table.epochs.tolist())
        found = read_activation_samples(path / ACTIVATIONS)
        samples = {epoch: layers for epoch, layers in found.items() if epoch in measured}
    recorder = layer_stats_recorder(
        log, path / ACTIVATIONS, config.layer_stats_interval, table=table, samples=samples
    )
    return [recorder]
