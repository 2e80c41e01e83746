"""What every layer is: the `Layer` interface and its kinds, and the argument checks that
layer modules share.

`mlp.layers` (the elementwise and affine layers) and the modules of other layer
families build on these; users import them from `mlp.layers`, which re-exports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol, TypeVar, cast

import numpy as np

from mlp import _checks, dtypes
from mlp.rngs import RandomState, make_rng

__all__ = [
    "Initialiser",
    "Layer",
    "LayerWithParameters",
    "Penalty",
    "StochasticLayer",
    "check_initialiser",
    "check_rows",
    "check_state_mapping",
    "checked_penalty",
    "elementwise_arguments",
    "float_batch",
    "layer_dtype",
    "parameter_values",
    "shared_default",
    "store_parameters",
]

Initialiser = Callable[[tuple[int, ...]], np.ndarray]


class Penalty(Protocol):
    """What a layer needs of a penalty: `mlp.penalties.L1Penalty`, `L2Penalty`, or yours."""

    def __call__(self, parameter: np.ndarray) -> float: ...

    def grad(self, parameter: np.ndarray) -> np.ndarray: ...


class Layer:
    """A parameter-free transformation with a forward and a backward pass."""

    keeps_shape: bool = False
    """True for layers whose outputs have the shape of their inputs (the elementwise
    ones, softmax, dropout), so a model can pass sizes through them."""

    has_evaluation_mode: bool = False
    """True for layers that compute differently while training and in evaluation, and
    so take `fprop(inputs, stochastic=...)`: True while training, False in evaluation
    (stochastic layers, batch normalisation). `MultipleLayerModel.fprop(inputs,
    evaluation=True)` passes stochastic=False to these layers and to no others."""

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """Forward pass.

        Args:
            inputs: array of shape (batch_size, input_dim).
        Returns:
            outputs: array of shape (batch_size, output_dim).
        """
        raise NotImplementedError

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """Backward pass: the chain rule through this layer.

        Args:
            inputs: array of shape (batch_size, input_dim), as given to `fprop`.
            outputs: array of shape (batch_size, output_dim), as `fprop` returned.
            grads_wrt_outputs: array of shape (batch_size, output_dim), dE/d(outputs).
        Returns:
            grads_wrt_inputs: array of shape (batch_size, input_dim), dE/d(inputs).
        """
        raise NotImplementedError

    def state(self) -> dict[str, np.ndarray]:
        """What the layer keeps between batches that is not a parameter (not trained by
        gradients, but needed to compute the same outputs again), e.g. the running
        statistics of batch normalisation: name -> a copy of the array. Empty for
        layers without such state, which is most of them."""
        return {}

    def load_state(self, state: Mapping[str, np.ndarray]) -> None:
        """Set what `state()` returned (copied in).

        Raises:
            TypeError: unless `state` is a mapping.
            ValueError: for names the layer does not have, or arrays that do not fit.
        """
        check_state_mapping(state, self)
        if state:
            raise ValueError(f"{self!r} keeps no state, but load_state was given {sorted(state)}")

    def __repr__(self) -> str:
        return type(self).__name__


class LayerWithParameters(Layer):
    """A layer with trainable parameters, exposed as the list `params`."""

    def grads_wrt_params(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """Gradients of the error with respect to each parameter, in `params` order.

        Args:
            inputs: array of shape (batch_size, input_dim).
            grads_wrt_outputs: array of shape (batch_size, output_dim).
        Returns:
            A list of arrays, each shaped like the matching entry of `params`.
        """
        raise NotImplementedError

    def params_penalty(self) -> float:
        """Sum of the penalties on this layer's parameters (0 when it has none)."""
        return 0.0

    @property
    def params(self) -> list[np.ndarray]:
        """The parameters, as a list of arrays (the arrays themselves, not copies)."""
        raise NotImplementedError

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        raise NotImplementedError


class StochasticLayer(Layer):
    """A layer whose forward pass draws random numbers while training.

    `fprop(inputs, stochastic=True)` samples; `fprop(inputs, stochastic=False)` is the
    deterministic evaluation-time version. `MultipleLayerModel.fprop(inputs,
    evaluation=True)` passes stochastic=False, which is how the optimiser's statistics
    are computed. `bprop` uses what the latest stochastic `fprop` drew.
    """

    has_evaluation_mode = True

    def __init__(self, rng: RandomState | None = None) -> None:
        # Without an rng, all stochastic layers share one seeded stream, so two dropout
        # layers of one width do not drop the same units.
        self.rng = (
            make_rng(rng) if rng is not None else shared_default("rng", lambda: make_rng(None))
        )

    def fprop(self, inputs: np.ndarray, stochastic: bool = True) -> np.ndarray:
        raise NotImplementedError


_shared_defaults: dict[str, object] = {}


_T = TypeVar("_T")


def shared_default(name: str, make: Callable[[], _T]) -> _T:
    """One object per process for every layer built without its own, as the course's
    default arguments give: two layers built alike then still get different weights
    (or dropout masks), and a fresh process repeats the same numbers."""
    if name not in _shared_defaults:
        _shared_defaults[name] = make()
    return cast(_T, _shared_defaults[name])


# --- argument checks (each names the argument; see mlp._checks) --------------------------


def check_state_mapping(state: object, owner: object) -> None:
    """A TypeError naming `owner` unless `state` is a mapping of names to arrays."""
    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        raise TypeError(
            f"{owner!r} load_state needs a dict of name -> array, as state() returns, "
            f"got {type(state).__name__}"
        )


def float_batch(inputs: np.ndarray, layer: Layer) -> np.ndarray:
    """inputs as floats (`_checks.floats`), with a batch axis: not a 0-d array."""
    inputs = _checks.floats(inputs, "inputs", layer)
    if inputs.ndim == 0:
        raise ValueError(f"{layer!r} needs inputs of shape (batch_size, ...), got a 0-d array")
    return inputs


def elementwise_arguments(
    layer: Layer, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """An elementwise layer's bprop arguments as float arrays of one shape."""
    # Broadcasting would silently turn a (batch_size, 1) array into a wrong answer.
    inputs = _checks.floats(inputs, "inputs", layer)
    outputs = _checks.floats(outputs, "outputs", layer)
    grads_wrt_outputs = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", layer)
    if grads_wrt_outputs.shape != outputs.shape:
        raise ValueError(
            f"{layer!r} bprop needs grads_wrt_outputs shaped like its outputs "
            f"{outputs.shape}, got {grads_wrt_outputs.shape}"
        )
    if inputs.shape != outputs.shape:
        raise ValueError(
            f"{layer!r} bprop needs inputs shaped like its outputs {outputs.shape}, "
            f"got {inputs.shape}: pass the inputs fprop was given"
        )
    return inputs, outputs, grads_wrt_outputs


def check_rows(inputs: np.ndarray, dim: int, what: str, layer: Layer) -> None:
    """A ValueError naming `layer` and `what` unless inputs has shape (batch_size, dim)."""
    if inputs.ndim != 2 or inputs.shape[1] != dim:
        raise ValueError(
            f"{layer!r} expects {what} of shape (batch_size, {dim}), got {inputs.shape}"
        )


def layer_dtype(dtype: np.dtype | type | None, owner: str) -> np.dtype:
    """`dtypes.resolve(dtype)`, its error naming the argument."""
    expected = "float32 or float64 (np.float32, np.float64, or None for the default)"
    try:
        return dtypes.resolve(dtype)
    except TypeError:  # NumPy does not know it as a dtype at all
        raise TypeError(f"{owner} dtype must be {expected}, got {dtype!r}") from None
    except ValueError:
        raise ValueError(f"{owner} dtype must be {expected}, got {dtype!r}") from None


def check_initialiser(initialiser: object, name: str, owner: str = "AffineLayer") -> None:
    """A TypeError naming `owner` and `name` unless `initialiser` is None or an
    initialiser instance (a callable taking a shape)."""
    if initialiser is not None:
        _checks.callable_instance(
            initialiser,
            name,
            owner,
            "an initialiser (a callable taking a shape, e.g. UniformInit(-0.1, 0.1)) or None",
        )


def checked_penalty(penalty: object, name: str, owner: str = "AffineLayer") -> Penalty | None:
    """`penalty` (None, or a callable with a `grad` method), else a TypeError naming
    `owner` and `name`."""
    if penalty is None:
        return None
    expected = "a penalty such as L2Penalty(1e-4) (callable, with a grad method) or None"
    _checks.callable_instance(penalty, name, owner, expected)
    if not callable(getattr(penalty, "grad", None)):
        raise TypeError(f"{owner} {name} must be {expected}, got {penalty!r}")
    return cast(Penalty, penalty)


def parameter_values(values: object, names: Sequence[str], layer: Layer) -> list[Any]:
    """What a `params` setter was given, as a list of one value per name in `names`;
    else a TypeError (not a list) or ValueError (another count) naming the layer."""
    listed = ", ".join(names)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise TypeError(f"{layer!r} params must be a list [{listed}], got {values!r}")
    values = list(values)
    if len(values) != len(names):
        plural = "s" if len(names) != 1 else ""
        raise ValueError(
            f"{layer!r} has {len(names)} parameter{plural} ({listed}), got {len(values)}"
        )
    return values


def store_parameters(layer: Any, names: Sequence[str], arrays: Sequence[np.ndarray]) -> None:
    """Set the layer's parameter attributes `names` to `arrays`, after checking that
    each has the shape of the array it replaces: copied into the existing arrays, so a
    learning rule holding `model.params` keeps updating the arrays the layer uses and
    the caller's arrays are never aliased; new arrays (in `layer.dtype`) only when the
    layer's dtype changed (`layer.dtype = ...` first)."""
    current = [getattr(layer, name) for name in names]
    if any(new.shape != old.shape for new, old in zip(arrays, current, strict=True)):
        needs = " and ".join(f"{n} {old.shape}" for n, old in zip(names, current, strict=True))
        got = " and ".join(str(new.shape) for new in arrays)
        raise ValueError(f"{layer!r} needs {needs}, got {got}")
    if all(old.dtype == layer.dtype for old in current):
        for old, new in zip(current, arrays, strict=True):
            old[...] = new
    else:
        for name, new in zip(names, arrays, strict=True):
            setattr(layer, name, np.array(new, dtype=layer.dtype))
