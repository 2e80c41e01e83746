"""The seed's PyTorch experiment and its NumPy twin as lab tasks, with run records.

Their records are written by `mlp.runs.record.write_record` from an
`mlp.seed_experiment.ExperimentResult`: config.toml describes the experiment (it is not
an `mlp train` config), summary.json adds the test accuracy, timings and versions.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mlp.lab.tasks import LAB_SEED, LabTask
from mlp.parallel import limit_blas_threads
from mlp.runs import RunError, RunRecord
from mlp.runs.record import versions, write_record
from mlp.seed_experiment import (
    BATCH_SIZE,
    LEARNING_RATE,
    MNIST_MEAN,
    MNIST_STD,
    ExperimentResult,
)

__all__ = ["EXPERIMENTS", "record_config", "record_summary", "run_pytorch_task"]

EXPERIMENTS = {"pytorch": "mlp.pytorch.run_seed_experiment", "twin": "mlp.twin.run_numpy_twin"}
"""Task kind -> the function that runs it."""

ARCHITECTURE = "784-100-100-10 relu"


def _experiment(task: LabTask) -> Callable[..., ExperimentResult]:
    try:
        if task.kind == "pytorch":
            from mlp.pytorch import run_seed_experiment

            return run_seed_experiment
        from mlp.twin import run_numpy_twin

        return run_numpy_twin
    except ImportError as error:
        raise RunError(f"{task.name} needs mlp.pytorch / mlp.twin: {error}") from None


def record_config(task: LabTask, result: ExperimentResult) -> dict[str, Any]:
    """config.toml of the task's record: what was run, in words and numbers."""
    return {
        "label": task.label,
        "experiment": EXPERIMENTS[task.kind],
        "architecture": ARCHITECTURE,
        "rule": "adam",
        "learning_rate": LEARNING_RATE,
        "batch_size": BATCH_SIZE,
        "epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "split": "60,000 training images split 48,000 / 12,000 by a seeded permutation",
        "normalisation": f"(x - {MNIST_MEAN}) / {MNIST_STD}",
        "train_subset_size": task.train_subset_size,
        "backend": result.backend,
        "device": result.device,
    }


def record_summary(task: LabTask, result: ExperimentResult) -> dict[str, Any]:
    """The entries summary.json adds to the final and best figures."""
    return {
        "architecture": ARCHITECTURE,
        "rule": "adam",
        "learning_rate": LEARNING_RATE,
        "seed": LAB_SEED,
        "epochs": task.epochs,
        "stats_interval": 1,
        "backend": result.backend,
        "device": result.device,
        "test": {"acc": float(result.test_accuracy)},
        "seconds_per_epoch": float(result.seconds_per_epoch),
        "run_time": float(result.run_time),
        "versions": versions("torch" if task.kind == "pytorch" else "numpy"),
    }


def run_pytorch_task(task: LabTask, path: Path, threads: int | None = None) -> RunRecord:
    """Run a 'pytorch' or 'twin' task and write its finished record at `path`.

    Args:
        threads: limit the BLAS and torch to this many threads (after torch loads).
    Raises:
        KeyboardInterrupt: when training was interrupted; no record is written, so the
            run starts again next time (these runs keep no checkpoints).
        RunError: when the task's backend cannot be imported.
    """
    experiment = _experiment(task)
    if threads is not None:
        limit_blas_threads(threads)
    options: dict[str, Any] = {
        "num_epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "progress": False,
        "train_subset_size": task.train_subset_size,
    }
    if task.kind == "pytorch":
        options["device"] = "auto"
    result = experiment(**options)
    if result.interrupted:
        raise KeyboardInterrupt
    epochs = np.arange(result.stats.shape[0])  # statistics after every epoch
    return write_record(
        path,
        record_config(task, result),
        result.stats,
        result.keys,
        epochs,
        record_summary(task, result),
        curves=True,
    )
