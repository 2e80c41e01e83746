"""Batch normalisation (Ioffe and Szegedy, 2015): each feature normalised over the batch,
then scaled and shifted by trained parameters.

While training, a batch's features are normalised with that batch's own mean and
variance, and running averages of those statistics are kept; in evaluation the running
averages stand in for them, so a prediction does not depend on the other examples of
its batch. The running statistics are the layer's *state*: not trained by gradients
(not in `params`), but saved and restored with the model (`state()`, `load_state()`),
in checkpoints, run records and `mlp.pytorch.to_torch`/`from_torch`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from mlp import _checks, dtypes
from mlp.layer_base import (
    Initialiser,
    LayerWithParameters,
    check_initialiser,
    check_rows,
    check_state_mapping,
    layer_dtype,
    parameter_values,
)
from mlp.rngs import RandomState

__all__ = ["BatchNormalizationLayer"]

_OWNER = "BatchNormalizationLayer"


class BatchNormalizationLayer(LayerWithParameters):
    """outputs = gamma * (inputs - mean) / sqrt(var + epsilon) + beta, feature by feature.

    Shape:
        inputs: (batch_size, input_dim); outputs: (batch_size, input_dim)
        gamma, beta: (input_dim,); running_mean, running_var: (input_dim,)

    Training (`fprop(inputs)`, `stochastic=True`, what the model's training pass uses):

        mean = inputs.mean(axis=0)
        var = ((inputs - mean) ** 2).mean(axis=0)          # biased: divides by n
        running_mean = (1 - momentum) * running_mean + momentum * mean
        running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)

    the running variance being the unbiased estimate (divides by n - 1). These are
    torch's `nn.BatchNorm1d` conventions, `momentum` included (the weight of the new
    batch, not of the old average), so a model converted with `mlp.pytorch.to_torch`
    computes the same. Evaluation (`stochastic=False`, which
    `MultipleLayerModel.fprop(inputs, evaluation=True)` passes) normalises with
    running_mean and running_var and changes nothing.

    `bprop` and `grads_wrt_params` differentiate the mode of the latest `fprop`
    (training before any), computing from their arguments alone. In training mode, with
    xhat = (inputs - mean) / sqrt(var + epsilon) and g = grads_wrt_outputs:

        grads_wrt_inputs = gamma / sqrt(var + epsilon)
                           * (g - g.mean(0) - xhat * (g * xhat).mean(0))
        grads_wrt_gamma = (g * xhat).sum(0);  grads_wrt_beta = g.sum(0)

    Args:
        input_dim: number of features, >= 1.
        rng: accepted for the course's signature; nothing is drawn (gamma starts at
            ones and beta at zeros, as torch's).
        epsilon: added to the variance before the square root, > 0.
        momentum: weight of each training batch in the running statistics, in [0, 1].
        gamma_initialiser, beta_initialiser: callables taking a shape (see
            `mlp.initialisers`); default ones and zeros.
        dtype: np.float32 or np.float64; default `mlp.get_default_dtype()`.
    """

    has_evaluation_mode = True
    keeps_shape = True

    def __init__(
        self,
        input_dim: int,
        rng: RandomState | None = None,
        epsilon: float = 1e-5,
        momentum: float = 0.1,
        gamma_initialiser: Initialiser | None = None,
        beta_initialiser: Initialiser | None = None,
        dtype: np.dtype | type | None = None,
    ) -> None:
        self.input_dim = _checks.integer(input_dim, "input_dim", _OWNER, low=1)
        self.epsilon = _checks.number(epsilon, "epsilon", _OWNER, low=0, low_open=True)
        self.momentum = _checks.number(momentum, "momentum", _OWNER, low=0, high=1)
        self.dtype = layer_dtype(dtype, _OWNER)
        check_initialiser(gamma_initialiser, "gamma_initialiser", _OWNER)
        check_initialiser(beta_initialiser, "beta_initialiser", _OWNER)
        self.gamma = self._initial(gamma_initialiser, 1.0)
        self.beta = self._initial(beta_initialiser, 0.0)
        self.running_mean = np.zeros(self.input_dim, dtype=self.dtype)
        self.running_var = np.ones(self.input_dim, dtype=self.dtype)
        self._evaluating = False  # the mode of the latest fprop, which bprop follows

    @property
    def output_dim(self) -> int:
        """The number of features out, that of the features in."""
        return self.input_dim

    def _initial(self, initialiser: Initialiser | None, fill: float) -> np.ndarray:
        shape = (self.input_dim,)
        if initialiser is None:
            return np.full(shape, fill, dtype=self.dtype)
        with dtypes.default_dtype(self.dtype):
            value = np.array(initialiser(shape), dtype=self.dtype)
        if value.shape != shape:
            raise ValueError(f"initialiser {initialiser!r} gave shape {value.shape}, not {shape}")
        return value

    # --- the passes ----------------------------------------------------------------------

    def fprop(self, inputs: np.ndarray, stochastic: bool = True) -> np.ndarray:
        """Normalised, scaled and shifted inputs (batch_size, input_dim): with the batch's
        statistics (updating the running ones) when `stochastic`, else the running ones."""
        training = _checks.flag(stochastic, "stochastic", self)
        inputs = self._inputs(inputs, "inputs", training)
        self._evaluating = not training
        mean, var = self._statistics(inputs)
        if training:
            n = inputs.shape[0]
            m = self.momentum
            self.running_mean *= 1 - m
            self.running_mean += m * mean
            self.running_var *= 1 - m
            self.running_var += m * var * (n / (n - 1))
        return self.gamma * (inputs - mean) / np.sqrt(var + self.epsilon) + self.beta

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs (batch_size, input_dim), by the formula of the class docstring
        (in evaluation mode simply gamma / sqrt(running_var + epsilon) * g)."""
        outputs = _checks.numeric_array(outputs, "outputs", self)
        given = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self).shape
        if outputs.shape != given:
            raise ValueError(
                f"{self!r} bprop needs grads_wrt_outputs shaped like its outputs "
                f"{outputs.shape}, got {given}: pass what fprop returned"
            )
        inputs, grads = self._backward_arguments(inputs, grads_wrt_outputs)
        mean, var = self._statistics(inputs)
        scale = self.gamma / np.sqrt(var + self.epsilon)
        if self._evaluating:
            return scale * grads
        normalised = (inputs - mean) / np.sqrt(var + self.epsilon)
        return scale * (grads - grads.mean(axis=0) - normalised * (grads * normalised).mean(axis=0))

    def grads_wrt_params(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """[dE/dgamma, dE/dbeta], each (input_dim,), summed over the batch."""
        inputs, grads = self._backward_arguments(inputs, grads_wrt_outputs)
        mean, var = self._statistics(inputs)
        normalised = (inputs - mean) / np.sqrt(var + self.epsilon)
        return [(grads * normalised).sum(axis=0), grads.sum(axis=0)]

    def _statistics(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(mean, var) normalising with: the batch's (biased variance) while training,
        the running ones in evaluation."""
        if self._evaluating:
            return self.running_mean, self.running_var
        mean = inputs.mean(axis=0)
        return mean, ((inputs - mean) ** 2).mean(axis=0)

    # --- argument checks -----------------------------------------------------------------

    def _inputs(self, inputs: np.ndarray, name: str, training: bool) -> np.ndarray:
        """inputs as an array of the layer's dtype, of shape (batch_size, input_dim), with
        at least two rows while training (one row has no variance to normalise by)."""
        array = _checks.numeric_array(inputs, name, self)
        check_rows(array, self.input_dim, name, self)
        if training and array.shape[0] < 2:
            raise ValueError(
                f"{self!r} needs at least 2 rows of {name} while training (the batch's "
                f"variance normalises them), got {array.shape[0]}; evaluation "
                "(stochastic=False) takes any number"
            )
        return np.asarray(array, dtype=self.dtype)

    def _backward_arguments(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        inputs = self._inputs(inputs, "inputs", not self._evaluating)
        grads = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        check_rows(grads, self.input_dim, "grads_wrt_outputs", self)
        if grads.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"{self!r} got {inputs.shape[0]} inputs but {grads.shape[0]} rows of "
                "grads_wrt_outputs: pass the batch fprop was given"
            )
        return inputs, np.asarray(grads, dtype=self.dtype)

    # --- parameters and state ------------------------------------------------------------

    @property
    def params(self) -> list[np.ndarray]:
        """[gamma (input_dim,), beta (input_dim,)]."""
        return [self.gamma, self.beta]

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        # Copied into the existing arrays (a learning rule holds them), unless the dtype
        # changed (`layer.dtype = ...` first), which gives new arrays.
        values = parameter_values(values, ("gamma", "beta"), self)
        gamma, beta = (
            self._vector(v, name) for v, name in zip(values, ("gamma", "beta"), strict=True)
        )
        if self.gamma.dtype == self.dtype and self.beta.dtype == self.dtype:
            self.gamma[...] = gamma
            self.beta[...] = beta
        else:
            self.gamma, self.beta = gamma.astype(self.dtype), beta.astype(self.dtype)
            self.running_mean = self.running_mean.astype(self.dtype)
            self.running_var = self.running_var.astype(self.dtype)

    def state(self) -> dict[str, np.ndarray]:
        """{'running_mean': (input_dim,), 'running_var': (input_dim,)}, copies."""
        return {"running_mean": self.running_mean.copy(), "running_var": self.running_var.copy()}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Set the running statistics from what `state()` returned (copied in).

        Raises:
            TypeError: unless `state` is a dict of arrays.
            ValueError: unless it holds exactly 'running_mean' and 'running_var', finite,
                of shape (input_dim,), the variance >= 0.
        """
        check_state_mapping(state, self)
        if set(state) != {"running_mean", "running_var"}:
            raise ValueError(
                f"{self!r} state holds 'running_mean' and 'running_var', got {sorted(state)}"
            )
        mean = self._vector(state["running_mean"], "running_mean")
        var = self._vector(state["running_var"], "running_var")
        if np.any(var < 0):
            raise ValueError(f"{self!r} running_var must be >= 0, got {var}")
        self.running_mean = mean.astype(self.dtype)
        self.running_var = var.astype(self.dtype)

    def _vector(self, value: object, name: str) -> np.ndarray:
        """`value` as a finite float array of shape (input_dim,), else a named error."""
        array = np.array(_checks.numeric_array(value, name, self), dtype=np.float64)
        if array.shape != (self.input_dim,):
            raise ValueError(
                f"{self!r} {name} must have shape ({self.input_dim},), got {array.shape}"
            )
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{self!r} {name} must be finite")
        return array

    def __repr__(self) -> str:
        return (
            f"BatchNormalizationLayer(input_dim={self.input_dim}, epsilon={self.epsilon}, "
            f"momentum={self.momentum})"
        )
