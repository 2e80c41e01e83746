"""The small interfaces the training loop needs of what it is given.

`Optimiser(model, error, learning_rule, train_dataset, ...)` works with any objects that
have these methods, not only mlp's own classes: a model of your own, an error of your
own. Shapes as everywhere in mlp: inputs (batch_size, input_dim), outputs and targets
(batch_size, output_dim).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Error", "LearningRule", "Model"]


@runtime_checkable
class Model(Protocol):
    """A model (see `mlp.models.MultipleLayerModel`)."""

    @property
    def params(self) -> list[np.ndarray]:
        """The parameter arrays, which the learning rule updates in place."""
        ...

    def fprop(self, inputs: np.ndarray, evaluation: bool = False) -> list[np.ndarray]:
        """[inputs, ..., outputs]: every activation of a forward pass."""
        ...

    def grads_wrt_params(
        self, activations: Sequence[np.ndarray], grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """Gradients of the error with respect to `params`, aligned with them."""
        ...


@runtime_checkable
class Error(Protocol):
    """An error (see `mlp.errors`): its mean over the batch, and its gradient."""

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float: ...

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class LearningRule(Protocol):
    """A learning rule (see `mlp.learning_rules`); schedulers set its `learning_rate`."""

    learning_rate: float

    def initialise(self, params: Sequence[np.ndarray]) -> None: ...

    def update_params(self, grads_wrt_params: Sequence[ArrayLike]) -> None: ...
