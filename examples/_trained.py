"""The trained model of a run record and its validation data, for the example plots."""

from __future__ import annotations

from typing import Any

import numpy as np

from mlp.config import Experiment, build_experiment
from mlp.runs import RunError, RunRecord


def trained_experiment(run: str) -> Experiment:
    """The experiment of the finished run in folder `run`, its model holding the
    trained parameters (params.npz) rather than the initial ones.

    Raises:
        SystemExit: when `run` holds no finished run (or no run record at all).
    """
    try:
        record = RunRecord.load(run)
    except RunError as error:
        raise SystemExit(f"{run}: {error}") from None
    if not record.finished:
        raise SystemExit(f"{run} holds no finished run: train it first (see examples/README.md)")
    experiment = build_experiment(record.experiment_config())
    for param, trained in zip(experiment.model.params, record.params(), strict=True):
        param[...] = trained
    return experiment


def predict(experiment: Experiment, inputs: np.ndarray) -> Any:
    """The model's outputs (num_examples, output_dim) for inputs (num_examples, ...)."""
    return experiment.model.fprop(inputs)[-1]
