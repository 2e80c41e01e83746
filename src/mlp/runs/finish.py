"""Finishing a run record: params.npz, curves.png and summary.json (written last: its
presence means the run finished), then the checkpoint removed."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp.config import (
    Experiment,
    ExperimentConfig,
)
from mlp.runs.atomic import atomic_write_bytes, atomic_write_text
from mlp.runs.encoding import _json_safe, _npz_bytes
from mlp.runs.layout import CHECKPOINT, PARAMS, SUMMARY
from mlp.runs.record import RunRecord, _write_curves, versions
from mlp.runs.stats_log import summarise_stats


def _test_figures(experiment: Experiment) -> dict[str, float]:
    from mlp.optimisers import accuracy

    data = experiment.test_data()
    outputs = experiment.model.predict(data.inputs)
    # The penalty is part of the error, as in the training and validation figures.
    model = experiment.model
    penalty = model.params_penalty() if hasattr(model, "params_penalty") else 0.0
    return {
        "acc": accuracy(outputs, data.targets),
        "error": float(experiment.error(outputs, data.targets)) + penalty,
    }


def _finish(
    path: Path,
    config: ExperimentConfig,
    params: Sequence[np.ndarray],
    summary: dict[str, Any],
    timing: Mapping[str, float],
    device: str = "cpu",
    num_train_examples: int | None = None,
) -> RunRecord:
    atomic_write_bytes(path / PARAMS, _npz_bytes({f"param_{i}": p for i, p in enumerate(params)}))
    record = RunRecord.load(path)
    _write_curves(record)
    figures = summarise_stats(record.epochs, record.stats, record.keys)
    epochs_trained = max(config.epochs, 1)
    full: dict[str, Any] = {
        "name": path.name,
        "finished": True,
        "architecture": config.architecture(),
        "rule": config.rule,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "epochs": config.epochs,
        "stats_interval": config.stats_interval,
        "backend": config.backend,
        "device": device,
        "num_parameters": int(sum(int(np.prod(p.shape)) for p in params)),
        "num_train_examples": num_train_examples,
        **figures,
        "test": summary.get("test"),
        "seconds_per_epoch": timing["train_seconds"] / epochs_trained,
        "run_time": timing["run_seconds"],
        "sessions": int(timing.get("sessions", 1)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(config.backend),
    }
    atomic_write_text(path / SUMMARY, json.dumps(_json_safe(full), indent=2) + "\n")
    with contextlib.suppress(FileNotFoundError):
        (path / CHECKPOINT).unlink()
    return RunRecord.load(path)
