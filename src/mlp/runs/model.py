"""The trained model of a finished run record, rebuilt, and its predictions on the
validation or test set of the run's data set.

    from mlp.runs.model import model_of, predictions_of

    model = model_of(record)                      # config.toml -> model, params.npz, state
    inputs, targets, probabilities = predictions_of(record, "valid")
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mlp.runs.errors import RunError
from mlp.runs.record import RunRecord

__all__ = ["SPLITS", "model_of", "predictions_of"]

SPLITS = ("valid", "test")
"""The splits `predictions_of` evaluates on."""


def _finished(record: Any, owner: str) -> RunRecord:
    if not isinstance(record, RunRecord):
        raise TypeError(f"{owner}: record must be a RunRecord, got {type(record).__name__}")
    if not record.finished:
        raise RunError(
            f"{record.path} has not finished (no summary.json): its final model is not "
            f"there yet; continue it with: mlp train --resume {record.path}"
        )
    return record


def model_of(record: RunRecord) -> Any:
    """The model of a finished run: built from its config.toml, with its final
    parameters and state (params.npz) loaded in.

    Returns:
        A `MultipleLayerModel` as the run left it.
    Raises:
        TypeError: unless `record` is a `RunRecord`.
        RunError: for an unfinished run, a config that is not an experiment config, or
            parameters that do not fit the model the config builds.
    """
    from mlp.config import ConfigError, build_experiment

    record = _finished(record, "model_of")
    config = record.experiment_config()
    try:
        model = build_experiment(config).model
    except ConfigError as error:
        raise RunError(f"{record.path}: {error}") from None
    params, state = record.params(), record.state()
    try:
        model.params = params
        if state:
            model.load_state(state)
    except ValueError as error:
        raise RunError(
            f"{record.path}: its params.npz does not fit the model of its config.toml ({error})"
        ) from None
    return model


def _probabilities(model: Any, outputs: np.ndarray) -> np.ndarray:
    """Outputs as probabilities: as they are when the model ends with softmax; else
    the softmax of the outputs (the scores of a model trained with the softmax inside
    its error)."""
    from mlp.functional import softmax
    from mlp.layers import SoftmaxLayer

    if isinstance(model.layers[-1], SoftmaxLayer):
        return outputs
    return softmax(outputs)


def predictions_of(
    record: RunRecord, split: str = "valid"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The finished run's model on the validation or test set of its data set.

    Args:
        record: a finished run record of a classifier (MNIST, Fashion-MNIST).
        split: 'valid' or 'test'.
    Returns:
        (inputs, targets, probabilities): inputs of shape (n, 784) as the data set
        holds them, int64 labels of shape (n,), and float probabilities of shape
        (n, 10), each row summing to 1.
    Raises:
        TypeError, ValueError: for a record that is not a RunRecord or another split.
        RunError: for an unfinished run or one that is not a classifier.
    """
    from mlp import datasets

    record = _finished(record, "predictions_of")
    if split not in SPLITS:
        raise ValueError(f"predictions_of: split must be 'valid' or 'test', got {split!r}")
    config = record.experiment_config()
    if not config.classifies():
        raise RunError(
            f"{record.path} trained on {config.dataset!r}, which has no classes: "
            "a regression has no confusion matrix and no misclassified examples"
        )
    model = model_of(record)
    inputs, targets = datasets.load(config.dataset, split)
    batch = config.eval_batch_size()
    dtype = np.dtype(config.dtype)
    outputs = [
        model.fprop(inputs[start : start + batch].astype(dtype, copy=False), evaluation=True)[-1]
        for start in range(0, len(inputs), batch)
    ]
    probabilities = _probabilities(model, np.concatenate(outputs))
    return inputs, np.asarray(targets, dtype=np.int64).reshape(-1), probabilities
