"""Training a run with the torch backend (`mlp.pytorch`): same record, no checkpoints,
so an interrupted torch run starts again rather than resuming."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from mlp.config import (
    Experiment,
    ExperimentConfig,
    build_experiment,
    build_scheduler,
)
from mlp.runs.callbacks import EpochProgressBar, StatsWriter, TrainingClock
from mlp.runs.errors import RunError
from mlp.runs.finish import finish_run
from mlp.runs.layer_log import LayerStatsLog, write_activation_samples
from mlp.runs.layout import ACTIVATIONS, LAYERS, STATS
from mlp.runs.record import RunRecord, write_config
from mlp.runs.stats_log import StatsLog

__all__ = ["train_torch"]


def _with_model(experiment: Experiment, model: Any) -> Experiment:
    """The same experiment with another model (the torch-trained one, brought back)."""
    import dataclasses

    return dataclasses.replace(experiment, model=model)


def _torch_loss(error: str) -> Any:
    """The torch counterpart of an mlp error, on one-of-K targets, mean over the batch."""
    from mlp import registry

    return registry.entry("error", error).build_torch()


def _torch_optimizer(config: ExperimentConfig, module: Any) -> Any:
    """The torch optimiser of the config's rule; weight decay on the weights only."""
    weights = [p for p in module.parameters() if p.ndim == 2]
    biases = [p for p in module.parameters() if p.ndim != 2]
    groups = [
        {"params": weights, "weight_decay": config.weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]
    return config.entry("rule").build_torch(groups, **config.hyperparameters("rule"))


def _layer_stats(path: Path, config: ExperimentConfig, experiment: Experiment) -> list[Any]:
    """With the config's layer statistics on, the callback that records them: layers.csv
    (header now, rows appended per measurement) and activations.npz, as the NumPy
    backend records them; rows are named after the mlp model's layers."""
    # getattr: the two fields belong to the NumPy side's config; absent, nothing is measured.
    if not getattr(config, "layer_stats", False):
        return []
    from mlp.pytorch.diagnostics import TorchLayerStats

    log = LayerStatsLog(path / LAYERS)
    log.write_header()

    def record(new_rows: Any, samples: Any) -> None:
        log.append(new_rows)
        write_activation_samples(path / ACTIVATIONS, samples)

    interval = int(getattr(config, "layer_stats_interval", 0) or 0)
    names = [type(layer).__name__ for layer in experiment.model.layers]
    return [TorchLayerStats(interval=interval or None, on_measurement=record, names=names)]


def train_torch(path: Path, config: ExperimentConfig, *, progress: bool) -> RunRecord:
    """Train `config` with `mlp.pytorch.TorchTrainer` into a new record in `path`, with
    the callbacks and finish of the NumPy backend but no checkpoints.

    Returns:
        The record read back (unfinished when training was interrupted).
    Raises:
        RunError: when PyTorch is missing or the config's device is unavailable.
    """
    try:
        from mlp import pytorch
    except ImportError as error:
        raise RunError(f"backend 'torch' needs mlp.pytorch and PyTorch: {error}") from None
    clock = TrainingClock()
    experiment = build_experiment(config)
    module = pytorch.to_torch(experiment.model)
    try:
        device = pytorch.resolve_device(config.device)
    except ValueError as error:
        raise RunError(str(error)) from None
    module.to(device)
    optimizer = _torch_optimizer(config, module)
    path.mkdir(parents=True, exist_ok=True)
    write_config(path, config)
    trainer = pytorch.TorchTrainer(
        module,
        _torch_loss(config.error),
        optimizer,
        experiment.train_data,
        experiment.valid_data,
        data_monitors={"acc": pytorch.accuracy} if config.classifies() else {},
        device=device,
        class_indices=False,
        schedulers=[build_scheduler(config)],
    )
    log = StatsLog(path / STATS, trainer.stat_keys())
    log.write_header()
    bar = EpochProgressBar(config.epochs, desc=path.name)
    trainer.callbacks += [StatsWriter(log), clock] + ([bar] if progress else [])
    trainer.callbacks += _layer_stats(path, config, experiment)
    with contextlib.closing(bar):
        trainer.train(config.epochs, config.stats_interval)
    if trainer.interrupted:
        return RunRecord.load(path)
    model = pytorch.from_torch(module.cpu())
    return finish_run(path, _with_model(experiment, model), clock, device=str(device))
