"""The end of a run of `run_experiment`, with either backend: the figures on the test
set, and the summary fields of a run (architecture, rule, timing, ...), written by the
record's one writer, `record.finish_record`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp.config import Experiment, ExperimentConfig
from mlp.runs.callbacks import TrainingClock
from mlp.runs.record import RunRecord, finish_record, versions

__all__ = ["evaluate_test_set", "finish_run", "run_summary"]


def evaluate_test_set(experiment: Experiment) -> dict[str, float]:
    """The experiment's model on the test set: {'acc': accuracy, 'error': mean error,
    the penalty included as in the training and validation figures}."""
    from mlp.optimisers import accuracy

    data = experiment.test_data()
    model = experiment.model
    outputs = model.predict(data.inputs, batch_size=experiment.config.eval_batch_size())
    penalty = model.params_penalty() if hasattr(model, "params_penalty") else 0.0
    return {
        "acc": accuracy(outputs, data.targets),
        "error": float(experiment.error(outputs, data.targets)) + penalty,
    }


def run_summary(
    config: ExperimentConfig,
    params: Sequence[np.ndarray],
    timing: Mapping[str, float],
    *,
    test: Mapping[str, float] | None = None,
    device: str = "cpu",
    num_train_examples: int | None = None,
) -> dict[str, Any]:
    """The summary.json entries of a run of `config` (the final and best figures are
    added by `finish_record`, 'epochs' among them).

    Args:
        params: the trained parameters (counted).
        timing: {'train_seconds': .., 'run_seconds': .., 'sessions': ..} over all the
            run's sessions (see `TrainingClock.timing`).
        test: `evaluate_test_set`'s figures, when the config asks for them.
    """
    return {
        "architecture": config.architecture(),
        "rule": config.rule,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "stats_interval": config.stats_interval,
        "backend": config.backend,
        "device": device,
        "num_parameters": int(sum(int(np.prod(p.shape)) for p in params)),
        "num_train_examples": num_train_examples,
        "test": None if test is None else dict(test),
        "seconds_per_epoch": timing["train_seconds"] / max(config.epochs, 1),
        "run_time": timing["run_seconds"],
        "sessions": int(timing.get("sessions", 1)),
        "versions": versions(config.backend),
    }


def finish_run(
    path: Path, experiment: Experiment, clock: TrainingClock, *, device: str = "cpu"
) -> RunRecord:
    """Finish the record of a trained experiment: test figures when its config asks
    (before the clock is read, so the run time includes them), then params.npz,
    curves.png and summary.json (`finish_record`)."""
    config = experiment.config
    test = evaluate_test_set(experiment) if config.test else None
    params = experiment.model.params
    summary = run_summary(
        config,
        params,
        clock.timing(),
        test=test,
        device=device,
        num_train_examples=experiment.train_data.num_examples,
    )
    state = experiment.model.state() if hasattr(experiment.model, "state") else {}
    return finish_record(path, summary, params, state=state)
