"""The seed's PyTorch experiment and its NumPy twin as lab tasks, with run records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from mlp.lab.tasks import LAB_SEED, LabTask
from mlp.lab.threads import _limit_threads
from mlp.runs import RunError, RunRecord, versions


def _run_pytorch_task(task: LabTask, path: Path, threads: int | None) -> RunRecord:
    from mlp.runs import write_record

    try:
        if task.kind == "pytorch":
            from mlp.pytorch import run_seed_experiment as experiment
        else:
            from mlp.twin import run_numpy_twin as experiment
    except ImportError as error:
        raise RunError(f"{task.name} needs mlp.pytorch / mlp.twin: {error}") from None
    if threads is not None:
        _limit_threads(threads)
    options: dict[str, Any] = {
        "num_epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "progress": False,
        "max_train_examples": task.max_train_examples,
    }
    if task.kind == "pytorch":
        options["device"] = "auto"
    result = experiment(**options)
    if result.interrupted:  # no record: a torch run starts again rather than resuming
        raise KeyboardInterrupt
    rows = result.stats.shape[0]
    config = {
        "label": task.label,
        "experiment": f"mlp.{'pytorch.run_seed_experiment' if task.kind == 'pytorch' else 'twin.run_numpy_twin'}",
        "architecture": "784-100-100-10 relu",
        "rule": "adam",
        "learning_rate": 1e-3,
        "batch_size": 128,
        "epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "split": "60,000 training images split 48,000 / 12,000 by a seeded permutation",
        "normalisation": "(x - 0.1307) / 0.3081",
        "max_train_examples": task.max_train_examples,
        "backend": result.backend,
        "device": result.device,
    }
    summary = {
        "architecture": "784-100-100-10 relu",
        "rule": "adam",
        "learning_rate": 1e-3,
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
    return write_record(
        path, config, result.stats, result.keys, np.arange(rows), summary, curves=True
    )
