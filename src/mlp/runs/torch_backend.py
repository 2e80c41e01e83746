"""Training a run with the torch backend (`mlp.pytorch`): same record, no checkpoints,
so an interrupted torch run starts again rather than resuming."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from mlp.config import (
    Experiment,
    ExperimentConfig,
    build_experiment,
    build_scheduler,
)
from mlp.runs.errors import RunError
from mlp.runs.finish import _finish, _test_figures
from mlp.runs.layout import STATS
from mlp.runs.progress import _progress_bar
from mlp.runs.record import RunRecord, _write_config
from mlp.runs.stats_log import StatsLog


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


def _train_torch(path: Path, config: ExperimentConfig, *, progress: bool) -> RunRecord:
    try:
        from mlp import pytorch
    except ImportError as error:
        raise RunError(f"backend 'torch' needs mlp.pytorch and PyTorch: {error}") from None
    session_start = time.perf_counter()
    experiment = build_experiment(config)
    module = pytorch.to_torch(experiment.model)
    try:
        device = pytorch.resolve_device(config.device)
    except ValueError as error:
        raise RunError(str(error)) from None
    module.to(device)
    optimizer = _torch_optimizer(config, module)
    path.mkdir(parents=True, exist_ok=True)
    _write_config(path, config)
    names = [f"{k}{s}" for s in ("(train)", "(valid)") for k in ("error", "acc")]
    keys = {name: i for i, name in enumerate(names)}
    log = StatsLog(path / STATS, keys)
    log.write_header()
    with _progress_bar(progress, config.epochs, 0, path.name) as bar:

        def on_stats(epoch: int, values: dict[str, float]) -> None:
            log.append(epoch, [values[k] for k in names])
            if bar is not None and epoch:
                bar.update(epoch - bar.n)
                bar.set_postfix(acc_valid=f"{values['acc(valid)']:.4f}", refresh=False)

        trainer = pytorch.TorchTrainer(
            module,
            _torch_loss(config.error),
            optimizer,
            experiment.train_data,
            experiment.valid_data,
            data_monitors={"acc": pytorch.accuracy},
            device=device,
            on_stats=on_stats,
            class_indices=False,
            schedulers=[build_scheduler(config)],
        )
        _, _, _ = trainer.train(config.epochs, config.stats_interval)
    if getattr(trainer, "interrupted", False):
        return RunRecord.load(path)
    model = pytorch.from_torch(module.cpu())
    summary: dict[str, Any] = {}
    if config.test:
        summary["test"] = _test_figures(_with_model(experiment, model))
    epoch_times = list(getattr(trainer, "epoch_times", []))
    timing = {
        "train_seconds": float(sum(epoch_times)) if epoch_times else 0.0,
        "run_seconds": time.perf_counter() - session_start,
        "sessions": 1,
    }
    return _finish(
        path,
        config,
        model.params,
        summary,
        timing,
        device=str(device),
        num_train_examples=experiment.train_data.num_examples,
    )
