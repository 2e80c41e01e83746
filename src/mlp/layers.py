"""Layers: the building blocks of models.

A layer maps a batch of inputs to a batch of outputs with `fprop`, and maps the gradient
of an error with respect to its outputs back to the gradient with respect to its inputs
with `bprop`. Layers with parameters also give the gradient with respect to those
parameters with `grads_wrt_params`. Layers keep no state between calls (dropout's mask
aside), so one layer object can be used on any batch; batch normalisation
(`BatchNormalizationLayer`, from `mlp.normalisation`) is the exception, keeping running
statistics as its `state()`.

Shape (for every layer here unless its docstring says otherwise):
    inputs: (batch_size, input_dim)
    outputs: (batch_size, output_dim); output_dim == input_dim for elementwise layers
    grads_wrt_outputs: like outputs; grads_wrt_inputs: like inputs
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from mlp import _checks, dtypes, functional
from mlp.convolution import ConvolutionalLayer, MaxPooling2DLayer
from mlp.layer_base import (
    Initialiser,
    Layer,
    LayerWithParameters,
    Penalty,
    StochasticLayer,
    parameter_values,
    store_parameters,
)
from mlp.layer_base import check_initialiser as _check_initialiser
from mlp.layer_base import check_rows as _check_2d
from mlp.layer_base import checked_penalty as _checked_penalty
from mlp.layer_base import elementwise_arguments as _checked
from mlp.layer_base import float_batch as _batch
from mlp.layer_base import layer_dtype as _layer_dtype
from mlp.layer_base import shared_default as _shared_default
from mlp.normalisation import BatchNormalizationLayer
from mlp.rngs import RandomState, uniform01

__all__ = [
    "AffineLayer",
    "BatchNormalizationLayer",
    "ConvolutionalLayer",
    "DropoutLayer",
    "ELULayer",
    "ExponentialLinearUnitLayer",
    "Layer",
    "LayerWithParameters",
    "LeakyReluLayer",
    "MaxPooling2DLayer",
    "MaxPoolingLayer",
    "ParametricReluLayer",
    "RadialBasisFunctionLayer",
    "RandomReluLayer",
    "ReluLayer",
    "ReshapeLayer",
    "SigmoidLayer",
    "SoftmaxLayer",
    "StochasticLayer",
    "SwishLayer",
    "TanhLayer",
]


class AffineLayer(LayerWithParameters):
    """outputs = inputs @ weights.T + biases.

    Shape:
        inputs: (batch_size, input_dim); outputs: (batch_size, output_dim)
        weights: (output_dim, input_dim); biases: (output_dim,)

    Args:
        input_dim, output_dim: sizes of the input and output.
        weights_initialiser, biases_initialiser: callables taking a shape and returning
            an array (see `mlp.initialisers`); default uniform +-0.1 weights, drawn from
            one stream seeded with `mlp.DEFAULT_SEED` that all layers built without an
            initialiser share (so each gets different weights), and zero biases.
        weights_penalty, biases_penalty: optional `L1Penalty`/`L2Penalty`.
        dtype: np.float32 or np.float64; default `mlp.get_default_dtype()`.

    Every argument is checked before any initialiser draws, so a refused call leaves
    the initialisers' rngs as they were.
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        weights_initialiser: Initialiser | None = None,
        biases_initialiser: Initialiser | None = None,
        weights_penalty: Penalty | None = None,
        biases_penalty: Penalty | None = None,
        dtype: np.dtype | type | None = None,
    ) -> None:
        from mlp.initialisers import ConstantInit, UniformInit

        self.input_dim = _checks.integer(input_dim, "input_dim", "AffineLayer", low=1)
        self.output_dim = _checks.integer(output_dim, "output_dim", "AffineLayer", low=1)
        if self.input_dim * self.output_dim > _checks.MAX_ENTRIES:
            raise ValueError(
                f"AffineLayer input_dim {self.input_dim} x output_dim {self.output_dim} is "
                f"more weights than fit in memory (at most {_checks.MAX_ENTRIES:,})"
            )
        self.dtype = _layer_dtype(dtype, "AffineLayer")
        _check_initialiser(weights_initialiser, "weights_initialiser")
        _check_initialiser(biases_initialiser, "biases_initialiser")
        self.weights_penalty = _checked_penalty(weights_penalty, "weights_penalty")
        self.biases_penalty = _checked_penalty(biases_penalty, "biases_penalty")
        if weights_initialiser is None:  # one for all such layers, as in the course
            weights_initialiser = _shared_default("weights", lambda: UniformInit(-0.1, 0.1))
        if biases_initialiser is None:
            biases_initialiser = ConstantInit(0.0)
        self.weights = self._initial(weights_initialiser, (self.output_dim, self.input_dim))
        self.biases = self._initial(biases_initialiser, (self.output_dim,))

    def _initial(self, initialiser: Initialiser, shape: tuple[int, ...]) -> np.ndarray:
        # Draw in the layer's own dtype, so a float64 layer built under the float32
        # default does not get float32-rounded weights.
        with dtypes.default_dtype(self.dtype):
            value = np.array(initialiser(shape), dtype=self.dtype)
        if value.shape != shape:
            raise ValueError(f"initialiser {initialiser!r} gave shape {value.shape}, not {shape}")
        return value

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs (batch_size, output_dim) = inputs (batch_size, input_dim) @ W.T + b."""
        inputs = _checks.numeric_array(inputs, "inputs", self)
        _check_2d(inputs, self.input_dim, "inputs", self)
        outputs = np.asarray(inputs, dtype=self.dtype) @ self.weights.T
        outputs += self.biases
        return outputs

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs (batch_size, input_dim) = grads_wrt_outputs @ W."""
        inputs, grads_wrt_outputs = self._check_batch(inputs, grads_wrt_outputs)
        # W alone gives the gradient, but outputs must still be what fprop returned.
        outputs = _checks.numeric_array(outputs, "outputs", self)
        if outputs.shape != grads_wrt_outputs.shape:
            raise ValueError(
                f"{self!r} outputs have shape {outputs.shape}, grads_wrt_outputs "
                f"{grads_wrt_outputs.shape}: pass what fprop returned"
            )
        return grads_wrt_outputs @ self.weights

    def grads_wrt_params(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """[dE/dW of shape (output_dim, input_dim), dE/db of shape (output_dim,)].

        Each is summed over the batch (errors already divide by the batch size), plus
        the penalty's gradient where the layer has one.
        """
        inputs, grads_wrt_outputs = self._check_batch(inputs, grads_wrt_outputs)
        grads_wrt_weights = grads_wrt_outputs.T @ np.asarray(inputs, dtype=self.dtype)
        grads_wrt_biases = grads_wrt_outputs.sum(axis=0)
        if self.weights_penalty is not None:
            grads_wrt_weights += self.weights_penalty.grad(self.weights)
        if self.biases_penalty is not None:
            grads_wrt_biases += self.biases_penalty.grad(self.biases)
        return [grads_wrt_weights, grads_wrt_biases]

    def _check_batch(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """inputs (batch_size, input_dim) and grads_wrt_outputs (batch_size, output_dim)
        as arrays (the gradients as floats), or a ValueError saying which is wrong."""
        inputs = _checks.numeric_array(inputs, "inputs", self)
        grads_wrt_outputs = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        _check_2d(inputs, self.input_dim, "inputs", self)
        _check_2d(grads_wrt_outputs, self.output_dim, "grads_wrt_outputs", self)
        if inputs.shape[0] != grads_wrt_outputs.shape[0]:
            raise ValueError(
                f"{self!r} got {inputs.shape[0]} inputs but {grads_wrt_outputs.shape[0]} "
                "rows of grads_wrt_outputs: pass the batch fprop was given"
            )
        return inputs, grads_wrt_outputs

    def params_penalty(self) -> float:
        """Sum of the weight and bias penalties (0 without penalties)."""
        total = 0.0
        if self.weights_penalty is not None:
            total += self.weights_penalty(self.weights)
        if self.biases_penalty is not None:
            total += self.biases_penalty(self.biases)
        return total

    @property
    def params(self) -> list[np.ndarray]:
        """[weights (output_dim, input_dim), biases (output_dim,)]."""
        return [self.weights, self.biases]

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        # Copied into the existing arrays (see `store_parameters`).
        values = parameter_values(values, ("weights", "biases"), self)
        store_parameters(self, ("weights", "biases"), [np.asarray(v) for v in values])

    def __repr__(self) -> str:
        return f"AffineLayer(input_dim={self.input_dim}, output_dim={self.output_dim})"


class SigmoidLayer(Layer):
    """outputs = 1 / (1 + exp(-inputs)), elementwise. Shape: outputs like inputs."""

    keeps_shape = True

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """Logistic sigmoid of each input, in (0, 1); finite for any input."""
        return functional.sigmoid(_batch(inputs, self))

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx = y (1 - y), so grads_wrt_inputs = grads_wrt_outputs * y * (1 - y)."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        grads = np.subtract(1, outputs)
        grads *= outputs
        grads *= grads_wrt_outputs
        return grads


class TanhLayer(Layer):
    """outputs = tanh(inputs), elementwise. Shape: outputs like inputs."""

    keeps_shape = True

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """Hyperbolic tangent of each input, in (-1, 1)."""
        return np.tanh(_batch(inputs, self))

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx = 1 - y**2, so grads_wrt_inputs = grads_wrt_outputs * (1 - y**2)."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        grads = np.square(outputs)
        np.subtract(1, grads, out=grads)
        grads *= grads_wrt_outputs
        return grads


class ReluLayer(Layer):
    """outputs = max(0, inputs), elementwise. Shape: outputs like inputs."""

    keeps_shape = True

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """Positive part of each input."""
        return np.maximum(_batch(inputs, self), 0)

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx is 1 where x > 0 and 0 elsewhere (0 at x = 0, as PyTorch takes it)."""
        # Multiplying by the boolean mask is exact and about seven times faster than
        # np.where, whose branches mispredict on the random signs of activations.
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        return np.multiply(grads_wrt_outputs, inputs > 0, dtype=grads_wrt_outputs.dtype)


class LeakyReluLayer(Layer):
    """outputs = x where x > 0, alpha * x elsewhere. Shape: outputs like inputs."""

    keeps_shape = True

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = _checks.number(alpha, "alpha", "LeakyReluLayer", low=0)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """x for positive x, alpha * x otherwise."""
        return functional.leaky_relu(_batch(inputs, self), self.alpha)

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx is 1 where x > 0 and alpha elsewhere."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        return functional.leaky_relu_grad(inputs, grads_wrt_outputs, self.alpha)

    def __repr__(self) -> str:
        return f"LeakyReluLayer(alpha={self.alpha})"


class ELULayer(Layer):
    """outputs = x where x > 0, alpha * (exp(x) - 1) elsewhere. Shape: outputs like inputs."""

    keeps_shape = True

    def __init__(self, alpha: float = 1.0) -> None:
        self.alpha = _checks.number(alpha, "alpha", "ELULayer", low=0)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """x for positive x, alpha * (exp(x) - 1) otherwise; exp never overflows."""
        # max(x, 0) + alpha * expm1(min(x, 0)): one term is exactly 0 for every x.
        inputs = _batch(inputs, self)
        outputs = np.expm1(np.minimum(inputs, 0))
        outputs *= self.alpha
        outputs += np.maximum(inputs, 0)
        return outputs

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx is 1 where x > 0 and alpha * exp(x) elsewhere."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        dtype = grads_wrt_outputs.dtype
        positive = inputs > 0
        # alpha * exp(min(x, 0)), not y + alpha: that sum loses every digit for very
        # negative x (y is then about -alpha), and is NaN for x = +inf.
        slope = np.exp(np.minimum(inputs, 0), dtype=dtype)
        slope *= self.alpha
        slope *= ~positive
        slope += positive
        return np.multiply(grads_wrt_outputs, slope, dtype=dtype)

    def __repr__(self) -> str:
        return f"ELULayer(alpha={self.alpha})"


class SwishLayer(Layer):
    """outputs = x * sigmoid(x), elementwise (Swish with beta = 1, PyTorch's SiLU).

    Shape: outputs like inputs (any shape).
    """

    keeps_shape = True

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """x * sigmoid(x): about x for large positive x, about 0 for large negative x."""
        inputs = _batch(inputs, self)
        outputs = functional.sigmoid(inputs)
        outputs *= inputs
        return outputs

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx = s + x s (1 - s) = s (1 + x (1 - s)) with s = sigmoid(x)."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        # s again from x, not from y / x (which is 0 / 0 at x = 0). In the tails the
        # product stays finite: x (1 - s) -> 0 as x -> +inf, and s -> 0 as x -> -inf.
        sigmoid = functional.sigmoid(inputs)
        grads: np.ndarray = np.subtract(1, sigmoid)
        grads *= inputs
        grads += 1
        grads *= sigmoid
        grads *= grads_wrt_outputs
        return grads


class SoftmaxLayer(Layer):
    """outputs = exp(x) / sum(exp(x)) along each row. Shape: outputs like inputs.

    Pair it with `CrossEntropyError`, or leave it out and use `CrossEntropySoftmaxError`
    on the affine outputs: that gives the same model with a simpler, stabler gradient.
    """

    keeps_shape = True

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """Row-wise softmax: each row of outputs is a probability vector."""
        inputs = _batch(inputs, self)
        if inputs.shape[-1] == 0:
            raise ValueError(
                f"{self!r} needs at least one input per row, got inputs of shape {inputs.shape}"
            )
        return functional.softmax(inputs)

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dx_i = y_i * (g_i - sum_j g_j y_j), row by row (the softmax Jacobian applied)."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        weighted = (grads_wrt_outputs * outputs).sum(axis=-1, keepdims=True)
        return outputs * (grads_wrt_outputs - weighted)


class DropoutLayer(StochasticLayer):
    """Randomly zeroes inputs while training, keeping each with probability `incl_prob`.

    Kept inputs are scaled by 1 / incl_prob while training (inverted dropout, as in
    PyTorch), so the expected output equals the input and evaluation (`stochastic=False`)
    is the identity.

    Args:
        rng: random generator for the masks.
        incl_prob: probability of keeping a unit, in (0, 1].
        share_across_batch: one mask of shape (1, dim) for the whole batch (the
            course's default) rather than one per example.

    Integer inputs are computed in the default float dtype, float inputs in their own.
    """

    keeps_shape = True

    def __init__(
        self,
        rng: RandomState | None = None,
        incl_prob: float = 0.5,
        share_across_batch: bool = True,
    ) -> None:
        self.incl_prob = _checks.number(incl_prob, "incl_prob", "DropoutLayer", 0, 1, low_open=True)
        self.share_across_batch = _checks.flag(
            share_across_batch, "share_across_batch", "DropoutLayer"
        )
        super().__init__(rng)
        self._scaled_mask: np.ndarray | None = None

    def fprop(self, inputs: np.ndarray, stochastic: bool = True) -> np.ndarray:
        """inputs * mask / incl_prob when stochastic, else inputs unchanged."""
        inputs = _batch(inputs, self)
        if not _checks.flag(stochastic, "stochastic", self):
            self._scaled_mask = None  # a following bprop is then the identity too
            return inputs
        shape = (1, *inputs.shape[1:]) if self.share_across_batch else inputs.shape
        keep = uniform01(self.rng, shape) < self.incl_prob
        self._scaled_mask = keep.astype(inputs.dtype) / np.asarray(self.incl_prob, inputs.dtype)
        return inputs * self._scaled_mask

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_outputs through the mask of the latest stochastic fprop."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        if self._scaled_mask is None:
            return grads_wrt_outputs  # the latest fprop was deterministic: the identity
        return grads_wrt_outputs * self._scaled_mask

    def __repr__(self) -> str:
        return (
            f"DropoutLayer(incl_prob={self.incl_prob}, "
            f"share_across_batch={self.share_across_batch})"
        )


class ReshapeLayer(Layer):
    """Reshapes each example: outputs = inputs.reshape((batch_size,) + output_shape).

    Shape:
        inputs: (batch_size, ...) of any shape
        outputs: (batch_size, *output_shape), or (batch_size, prod of the input shape
            without the batch axis) when output_shape is None (flattening)

    Args:
        output_shape: the shape of each example in the outputs, without the batch
            axis; one entry may be -1 (inferred from the others); None flattens.

    `bprop` reshapes the gradients back to the shape of `inputs`. The data are not
    copied where NumPy can give a view.
    """

    def __init__(self, output_shape: Sequence[int] | None = None) -> None:
        self.output_shape = None if output_shape is None else _reshape_target(output_shape)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs (batch_size, *output_shape): the inputs, reshaped."""
        inputs = _batch(inputs, self)
        shape = (-1,) if self.output_shape is None else self.output_shape
        try:
            return inputs.reshape((inputs.shape[0], *shape))
        except ValueError:
            raise ValueError(
                f"{self!r} got inputs of shape {inputs.shape}, whose examples do not "
                f"have the size of output_shape {shape}"
            ) from None

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs (like inputs): grads_wrt_outputs reshaped back."""
        inputs = _checks.numeric_array(inputs, "inputs", self)
        outputs = _checks.numeric_array(outputs, "outputs", self)
        grads = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        if grads.shape != outputs.shape:
            raise ValueError(
                f"{self!r} bprop needs grads_wrt_outputs shaped like its outputs "
                f"{outputs.shape}, got {grads.shape}"
            )
        if inputs.ndim == 0 or inputs.size != grads.size or inputs.shape[0] != grads.shape[0]:
            raise ValueError(
                f"{self!r} got inputs of shape {inputs.shape} and grads_wrt_outputs of "
                f"shape {grads.shape}: pass the inputs fprop was given"
            )
        return grads.reshape(inputs.shape)

    def __repr__(self) -> str:
        return f"ReshapeLayer(output_shape={self.output_shape})"


def _reshape_target(output_shape: object) -> tuple[int, ...]:
    """output_shape as a tuple of positive integers with at most one -1, else an error."""
    expected = "a tuple of positive integers (one may be -1) or None"
    if isinstance(output_shape, (str, bytes)) or not isinstance(output_shape, Iterable):
        raise TypeError(f"ReshapeLayer output_shape must be {expected}, got {output_shape!r}")
    entries = list(output_shape)
    if not entries or not all(
        isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in entries
    ):
        raise TypeError(f"ReshapeLayer output_shape must be {expected}, got {output_shape!r}")
    shape = tuple(int(n) for n in entries)
    if any(n < 1 and n != -1 for n in shape) or shape.count(-1) > 1:
        raise ValueError(f"ReshapeLayer output_shape must be {expected}, got {shape}")
    return shape


# --- the course's other layers: RBF features, PReLU, RReLU, its ELU, maxout ---------------


def _intervals(intervals: object, owner: str) -> np.ndarray:
    """`intervals` as a float array of shape (n, 2) of finite (low, high) rows, low < high."""
    expected = "a list of [low, high] pairs with low < high, e.g. [[0.0, 1.0]]"
    _checks.not_a_class(intervals, "intervals", owner)
    if isinstance(intervals, (str, bytes)) or not isinstance(intervals, (Sequence, np.ndarray)):
        raise TypeError(f"{owner} intervals must be {expected}, got {intervals!r}")
    try:
        array = np.array(intervals, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{owner} intervals must be {expected}, got {intervals!r}") from None
    if array.ndim != 2 or array.shape[0] == 0 or array.shape[1] != 2:
        raise ValueError(f"{owner} intervals must be {expected}, got shape {array.shape}")
    if not np.isfinite(array).all() or not (array[:, 0] < array[:, 1]).all():
        raise ValueError(f"{owner} intervals must be {expected}, got {array.tolist()}")
    return array


def _outputs_shape(
    layer: Layer,
    outputs: np.ndarray,
    grads_wrt_outputs: np.ndarray,
    input_shape: tuple[int, ...],
    expected: tuple[int, ...],
) -> None:
    """A ValueError unless grads_wrt_outputs is shaped like outputs, and outputs have
    the shape `expected` that fprop gives for inputs of `input_shape`."""
    if grads_wrt_outputs.shape != outputs.shape:
        raise ValueError(
            f"{layer!r} bprop needs grads_wrt_outputs shaped like its outputs "
            f"{outputs.shape}, got {grads_wrt_outputs.shape}"
        )
    if outputs.shape != expected:
        raise ValueError(
            f"{layer!r} bprop needs outputs of shape {expected} for inputs of shape "
            f"{input_shape}, got {outputs.shape}: pass the inputs fprop was given"
        )


class RadialBasisFunctionLayer(Layer):
    """Gaussian bumps on a grid: `grid_dim` features per input dimension.

    For input dimension d, whose interval is (low_d, high_d), the centres are
    c_{d,k} = linspace(low_d, high_d, grid_dim)[k] and the scale is
    s_d = (high_d - low_d) / grid_dim; the output is

        outputs[b, d * grid_dim + k] = exp(-(inputs[b, d] - c_{d,k})**2 / s_d**2)

    so the features of dimension 0 come first, each dimension's in the order of its
    centres.

    Shape:
        inputs: (batch_size, input_dim), or (batch_size,) for one input dimension
        outputs: (batch_size, input_dim * grid_dim)
        grads_wrt_inputs: like inputs

    Args:
        grid_dim: number of centres per input dimension (>= 1).
        intervals: one [low, high] pair shared by every input dimension, or one pair per
            input dimension (then inputs must have that many columns).
    """

    def __init__(self, grid_dim: int, intervals: Sequence[Sequence[float]] = ((0.0, 1.0),)) -> None:
        owner = "RadialBasisFunctionLayer"
        self.grid_dim = _checks.integer(grid_dim, "grid_dim", owner, low=1)
        if self.grid_dim > _checks.MAX_ENTRIES:
            raise ValueError(f"{owner} grid_dim {self.grid_dim} is more centres than fit in memory")
        self.intervals = _intervals(intervals, owner)
        # centres (n, grid_dim) and scales (n,), one row per interval: np.linspace of
        # each row, so the numbers are those of the formula in the docstring.
        self.centres = np.array([np.linspace(lo, hi, self.grid_dim) for lo, hi in self.intervals])
        self.scales = (self.intervals[:, 1] - self.intervals[:, 0]) / self.grid_dim

    def _grid(self, inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """inputs as (batch_size, input_dim), the centres (input_dim, grid_dim) and the
        scales (input_dim, 1), all in the inputs' float dtype."""
        rows = inputs.reshape(-1, 1) if inputs.ndim == 1 else inputs
        if rows.ndim != 2:
            raise ValueError(
                f"{self!r} expects inputs of shape (batch_size, input_dim) or (batch_size,), "
                f"got {inputs.shape}"
            )
        count = len(self.intervals)
        if count not in (1, rows.shape[1]):
            raise ValueError(
                f"{self!r} has {count} intervals, one per input dimension, but the inputs "
                f"have {rows.shape[1]} columns (shape {inputs.shape})"
            )
        centres = np.broadcast_to(self.centres, (rows.shape[1], self.grid_dim))
        scales = np.broadcast_to(self.scales[:, None], (rows.shape[1], 1))
        return rows, centres.astype(rows.dtype), scales.astype(rows.dtype)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs (batch_size, input_dim * grid_dim), dimension-major (see the class)."""
        rows, centres, scales = self._grid(_batch(inputs, self))
        outputs = np.exp(-((rows[:, :, None] - centres) ** 2) / scales**2)
        return outputs.reshape(rows.shape[0], rows.shape[1] * self.grid_dim)  # no -1: 0 rows

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dE/dx_d = sum_k g[d, k] * y[d, k] * -2 (x_d - c_{d,k}) / s_d**2, shaped like inputs."""
        inputs = _batch(inputs, self)
        rows, centres, scales = self._grid(inputs)
        outputs = _checks.floats(outputs, "outputs", self)
        grads_wrt_outputs = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        _outputs_shape(
            self,
            outputs,
            grads_wrt_outputs,
            inputs.shape,
            (rows.shape[0], rows.shape[1] * self.grid_dim),
        )
        shape = (*rows.shape, self.grid_dim)
        slopes = -2 * (rows[:, :, None] - centres) / scales**2
        slopes *= outputs.reshape(shape)
        slopes *= grads_wrt_outputs.reshape(shape)
        return slopes.sum(axis=-1).reshape(inputs.shape)

    def __repr__(self) -> str:
        return (
            f"RadialBasisFunctionLayer(grid_dim={self.grid_dim}, "
            f"intervals={self.intervals.tolist()})"
        )


def _same_shape(layer: Layer, inputs: np.ndarray, grads_wrt_outputs: np.ndarray) -> None:
    if inputs.shape != grads_wrt_outputs.shape:
        raise ValueError(
            f"{layer!r} needs grads_wrt_outputs shaped like its inputs {inputs.shape}, "
            f"got {grads_wrt_outputs.shape}: pass the inputs fprop was given"
        )


class ParametricReluLayer(LayerWithParameters):
    """PReLU: outputs = x where x > 0, alpha * x elsewhere, with alpha learned.

    One slope `alpha`, an array of shape (1,), is shared by every unit (PyTorch's
    `nn.PReLU()` with its default num_parameters=1).

    Shape:
        inputs: any shape (batch_size, ...); outputs, grads_wrt_inputs: like inputs
        params: [alpha of shape (1,)]

    Args:
        alpha: the initial slope for x <= 0, a finite number.
        dtype: np.float32 or np.float64 for alpha; default `mlp.get_default_dtype()`.
    """

    keeps_shape = True

    def __init__(self, alpha: float = 0.25, *, dtype: np.dtype | type | None = None) -> None:
        value = _checks.number(alpha, "alpha", "ParametricReluLayer")
        self.dtype = _layer_dtype(dtype, "ParametricReluLayer")
        self.alpha = np.array([value], dtype=self.dtype)

    def _slope(self, dtype: np.dtype) -> np.ndarray:
        # alpha in the inputs' dtype, so float32 inputs give float32 outputs.
        return self.alpha.astype(dtype, copy=False)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """max(x, 0) + alpha * min(x, 0): one term is exactly 0 for every x."""
        inputs = _batch(inputs, self)
        return functional.leaky_relu(inputs, self._slope(inputs.dtype))

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx is 1 where x > 0 and alpha elsewhere."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        slope = self._slope(grads_wrt_outputs.dtype)
        return functional.leaky_relu_grad(inputs, grads_wrt_outputs, slope)

    def grads_wrt_params(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """[dE/dalpha of shape (1,)] = [sum over every element of g * min(x, 0)]."""
        inputs = _batch(inputs, self)
        grads_wrt_outputs = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        _same_shape(self, inputs, grads_wrt_outputs)
        total = np.vdot(grads_wrt_outputs, np.minimum(inputs, 0))
        return [np.array([total], dtype=self.alpha.dtype)]

    @property
    def params(self) -> list[np.ndarray]:
        """[alpha], an array of shape (1,) (the array itself, not a copy)."""
        return [self.alpha]

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        # Copied into the existing array (see AffineLayer.params), unless the dtype changed.
        values = parameter_values(values, ("alpha",), self)
        alpha = _checks.numeric_array(values[0], "alpha", self)
        if alpha.shape not in ((1,), ()):
            raise ValueError(f"{self!r} needs alpha of shape (1,), got {alpha.shape}")
        if self.alpha.dtype == self.dtype:
            self.alpha[...] = alpha.reshape(1)
        else:
            self.alpha = np.array(alpha.reshape(1), dtype=self.dtype)

    def __repr__(self) -> str:
        return f"ParametricReluLayer(alpha={float(self.alpha[0])})"


def _broadcasts_to(shape: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """Whether an array of `shape` broadcasts to `target` without changing it."""
    try:
        return np.broadcast_shapes(shape, target) == target
    except ValueError:
        return False


class RandomReluLayer(StochasticLayer):
    """RReLU: outputs = x where x > 0, a * x elsewhere, with a random slope a while training.

    While training (`stochastic=True`) each element draws its own slope,
    `rng.uniform(lower, upper, size=inputs.shape)`, unless `leakiness` gives the slopes;
    in evaluation (`stochastic=False`, which `MultipleLayerModel.fprop(evaluation=True)`
    passes) every slope is (lower + upper) / 2, as in PyTorch's `nn.RReLU`.

    `bprop` uses the slopes of the latest `fprop` (kept as `self.leakiness`); before any
    `fprop` it uses the evaluation slope.

    Shape:
        inputs: any shape (batch_size, ...); outputs, grads_wrt_inputs: like inputs
        leakiness: like inputs (or any shape that broadcasts to it)

    Args:
        lower, upper: the range of the slopes, 0 <= lower <= upper.
        rng: random generator for the slopes (default: the stream stochastic layers share).
    """

    keeps_shape = True

    def __init__(
        self, lower: float = 0.125, upper: float = 1.0 / 3.0, rng: RandomState | None = None
    ) -> None:
        owner = "RandomReluLayer"
        self.lower = _checks.number(lower, "lower", owner, low=0)
        self.upper = _checks.number(upper, "upper", owner, low=0)
        if self.lower > self.upper:
            raise ValueError(
                f"{owner} lower must be at most upper, got lower={lower!r} > upper={upper!r}"
            )
        super().__init__(rng)
        self.leakiness: np.ndarray | None = None

    def fprop(
        self,
        inputs: np.ndarray,
        stochastic: bool = True,
        leakiness: np.ndarray | float | None = None,
    ) -> np.ndarray:
        """max(x, 0) + a * min(x, 0), the slopes a drawn, given or their mean (see above)."""
        inputs = _batch(inputs, self)
        stochastic = _checks.flag(stochastic, "stochastic", self)
        if leakiness is not None:
            slopes = self._given(leakiness, inputs)
        elif stochastic:
            slopes = self.rng.uniform(self.lower, self.upper, size=inputs.shape)
        else:
            slopes = np.asarray((self.lower + self.upper) / 2)
        self.leakiness = slopes.astype(inputs.dtype, copy=False)
        return functional.leaky_relu(inputs, self.leakiness)

    def _given(self, leakiness: object, inputs: np.ndarray) -> np.ndarray:
        slopes = _checks.floats(leakiness, "leakiness", self)
        if not np.isfinite(slopes).all():
            raise ValueError(f"{self!r} leakiness must be finite slopes, got non-finite values")
        if not _broadcasts_to(slopes.shape, inputs.shape):
            raise ValueError(
                f"{self!r} leakiness of shape {slopes.shape} does not fit inputs of shape "
                f"{inputs.shape}: give one slope per input (or a shape that broadcasts)"
            )
        return slopes

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dy/dx is 1 where x > 0 and the slope of the latest fprop elsewhere."""
        inputs, outputs, grads_wrt_outputs = _checked(self, inputs, outputs, grads_wrt_outputs)
        slopes = self.leakiness
        if slopes is None:
            slopes = np.asarray((self.lower + self.upper) / 2)
        elif not _broadcasts_to(slopes.shape, inputs.shape):
            raise ValueError(
                f"{self!r} bprop got inputs of shape {inputs.shape}, but the latest fprop "
                f"drew slopes of shape {slopes.shape}: call fprop on these inputs first"
            )
        slopes = slopes.astype(grads_wrt_outputs.dtype, copy=False)
        return functional.leaky_relu_grad(inputs, grads_wrt_outputs, slopes)

    def __repr__(self) -> str:
        return f"RandomReluLayer(lower={self.lower}, upper={self.upper})"


class ExponentialLinearUnitLayer(ELULayer):
    """The course's name for ELU, with its default alpha = 0.01 (`ELULayer`'s is 1.0).

    outputs = x where x > 0, alpha * (exp(x) - 1) elsewhere; the maths is `ELULayer`'s.

    Shape:
        inputs: any shape (batch_size, ...); outputs, grads_wrt_inputs: like inputs
    """

    def __init__(self, alpha: float = 0.01) -> None:
        self.alpha = _checks.number(alpha, "alpha", "ExponentialLinearUnitLayer", low=0)

    def __repr__(self) -> str:
        return f"ExponentialLinearUnitLayer(alpha={self.alpha})"


class MaxPoolingLayer(Layer):
    """Maxout: the maximum over non-overlapping groups of `pool_size` consecutive features.

        outputs[..., j] = max(inputs[..., j * pool_size : (j + 1) * pool_size])

    The gradient goes to the winner of each group (the first one, on a tie).

    Shape:
        inputs: (batch_size, input_dim), input_dim divisible by pool_size (any leading
            axes may come before the last one, which is pooled)
        outputs: (batch_size, input_dim // pool_size)
        grads_wrt_inputs: like inputs

    Args:
        pool_size: number of features per group (>= 1).
    """

    def __init__(self, pool_size: int = 2) -> None:
        self.pool_size = _checks.integer(pool_size, "pool_size", "MaxPoolingLayer", low=1)

    def _groups(self, inputs: np.ndarray) -> np.ndarray:
        """inputs viewed as (..., input_dim // pool_size, pool_size)."""
        if inputs.ndim < 2 or inputs.shape[-1] % self.pool_size != 0:
            raise ValueError(
                f"{self!r} expects inputs of shape (batch_size, input_dim) with input_dim "
                f"divisible by pool_size {self.pool_size}, got {inputs.shape}"
            )
        groups = inputs.shape[-1] // self.pool_size  # not -1, which 0 rows cannot resolve
        return inputs.reshape(*inputs.shape[:-1], groups, self.pool_size)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """The maximum of each group: (batch_size, input_dim // pool_size)."""
        return self._groups(_batch(inputs, self)).max(axis=-1)

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_outputs placed at each group's winner, zeros elsewhere."""
        inputs = _batch(inputs, self)
        groups = self._groups(inputs)
        outputs = _checks.floats(outputs, "outputs", self)
        grads_wrt_outputs = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        _outputs_shape(self, outputs, grads_wrt_outputs, inputs.shape, groups.shape[:-1])
        winners = groups.argmax(axis=-1)[..., None]
        grads = np.zeros(groups.shape, dtype=grads_wrt_outputs.dtype)
        np.put_along_axis(grads, winners, grads_wrt_outputs[..., None], axis=-1)
        return grads.reshape(inputs.shape)

    def __repr__(self) -> str:
        return f"MaxPoolingLayer(pool_size={self.pool_size})"
