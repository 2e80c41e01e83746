"""The training step behind `Optimiser.train_step`: forward, backward, update."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike

from mlp import learning_rules as rules
from mlp._fast.updates import fast_updater

__all__ = ["Error", "LearningRule", "Model", "TrainingStep", "training_step"]


class Model(Protocol):
    """What a training step needs of a model (see `mlp.models`)."""

    def fprop(self, inputs: np.ndarray) -> list[np.ndarray]: ...

    def grads_wrt_params(
        self, activations: Sequence[np.ndarray], grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]: ...


class Error(Protocol):
    """What a training step needs of an error (see `mlp.errors`)."""

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray: ...


class LearningRule(Protocol):
    """What a training step needs of a learning rule (see `mlp.learning_rules`)."""

    def update_params(self, grads_wrt_params: Sequence[ArrayLike]) -> None: ...


TrainingStep = Callable[[np.ndarray, np.ndarray], None]
"""step(inputs_batch, targets_batch): one gradient step on one batch."""


def training_step(model: Model, error: Error, learning_rule: LearningRule) -> TrainingStep:
    """The function that does one training step on a batch, as fast as it can with the
    numbers of the plain step:

        activations = model.fprop(inputs_batch)
        grads_wrt_outputs = error.grad(activations[-1], targets_batch)
        learning_rule.update_params(model.grads_wrt_params(activations, grads_wrt_outputs))

    Today forward and backward are exactly these calls; the update is a
    `mlp._fast.updates.FastUpdater` for a built-in rule and `learning_rule.update_params`
    for any other. Build it after `learning_rule.initialise(model.params)`.

    Args:
        model: the model to train, with `fprop` and `grads_wrt_params`.
        error: the error to minimise, with `grad`.
        learning_rule: an initialised rule with `update_params`.
    Returns:
        step(inputs_batch, targets_batch), with inputs of shape (batch_size, input_dim)
        and targets as `error.grad` takes them, e.g. one-of-K (batch_size, num_classes).
    """
    updater = None
    if isinstance(learning_rule, rules.GradientDescentLearningRule):
        updater = fast_updater(learning_rule)
    update = updater if updater is not None else learning_rule.update_params

    def step(inputs_batch: np.ndarray, targets_batch: np.ndarray) -> None:
        activations = model.fprop(inputs_batch)
        grads_wrt_outputs = error.grad(activations[-1], targets_batch)
        update(model.grads_wrt_params(activations, grads_wrt_outputs))

    return step
