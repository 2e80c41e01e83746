"""The training step behind `Optimiser.train_step`: forward, backward, update."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlp import learning_rules as rules
from mlp._fast.dense import dense_passes
from mlp._fast.updates import fast_updater
from mlp.protocols import Error, LearningRule, Model

__all__ = ["TrainingStep", "training_step"]


TrainingStep = Callable[[np.ndarray, np.ndarray], None]
"""step(inputs_batch, targets_batch): one gradient step on one batch."""


def training_step(model: Model, error: Error, learning_rule: LearningRule) -> TrainingStep:
    """The function that does one training step on a batch, as fast as it can with the
    numbers of the plain step:

        activations = model.fprop(inputs_batch)
        grads_wrt_outputs = error.grad(activations[-1], targets_batch)
        learning_rule.update_params(model.grads_wrt_params(activations, grads_wrt_outputs))

    Forward and backward are `mlp._fast.dense.DensePasses` for a plain MLP (affine
    layers, sigmoid/tanh/ReLU, softmax cross-entropy) and exactly these calls for any
    other model; the update is a `mlp._fast.updates.FastUpdater` for a built-in rule
    and `learning_rule.update_params` for any other. Build it after
    `learning_rule.initialise(model.params)`.

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
    passes = dense_passes(model, error)

    def step(inputs_batch: np.ndarray, targets_batch: np.ndarray) -> None:
        if passes is not None and passes.fits(inputs_batch, targets_batch):
            update(passes(inputs_batch, targets_batch))
            return
        activations = model.fprop(inputs_batch)
        grads_wrt_outputs = error.grad(activations[-1], targets_batch)
        update(model.grads_wrt_params(activations, grads_wrt_outputs))

    return step
