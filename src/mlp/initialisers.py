"""Parameter initialisers.

Each initialiser is a callable: `init(shape)` returns a new array of that shape in the
default dtype (`mlp.get_default_dtype()`, float32 unless changed). Random ones draw from
the `rng` they were given, so the same seed gives the same parameters; without one they
use `np.random.RandomState(mlp.DEFAULT_SEED)`, created once per initialiser, so a single
initialiser shared by several layers still gives each layer different values.

Weight matrices have shape (output_dim, input_dim), so `shape[-1]` is the fan-in and
`shape[0]` the fan-out. A shape is a tuple of sizes (an int n is taken as (n,)); the
Glorot and He schemes need both fans at least 1.
"""

from __future__ import annotations

import math

import numpy as np

from mlp import _checks, dtypes
from mlp.rngs import RandomState, make_rng

__all__ = [
    "ConstantInit",
    "GlorotNormalInit",
    "GlorotUniformInit",
    "HeNormalInit",
    "HeUniformInit",
    "NormalInit",
    "UniformInit",
]


def _fans(shape: tuple[int, ...], name: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight matrix of shape (output_dim, input_dim)."""
    if len(shape) != 2:
        raise ValueError(
            f"{name} needs a 2-D weight shape (output_dim, input_dim), got {shape}; "
            "initialise biases with ConstantInit(0.) instead"
        )
    if min(shape) < 1:  # the variance would divide by a fan of 0
        raise ValueError(f"{name} needs fan_in and fan_out of at least 1, got shape {shape}")
    return shape[1], shape[0]


class ConstantInit:
    """Every entry equal to `value`."""

    def __init__(self, value: float) -> None:
        self.value = _checks.number(value, "value", "ConstantInit")

    def __call__(self, shape: tuple[int, ...]) -> np.ndarray:
        """Array of `shape` filled with `value`."""
        shape = _checks.shape(shape, "shape", self)
        return np.full(shape, self.value, dtype=dtypes.get_default_dtype())

    def __repr__(self) -> str:
        return f"ConstantInit({self.value})"


class UniformInit:
    """Independent draws from the uniform distribution on [low, high)."""

    def __init__(self, low: float, high: float, rng: RandomState | None = None) -> None:
        low = _checks.number(low, "low", "UniformInit")
        high = _checks.number(high, "high", "UniformInit")
        if not high >= low or not math.isfinite(high - low):  # NumPy cannot draw wider
            raise ValueError(
                f"UniformInit needs low <= high, a finite width apart, got low={low}, high={high}"
            )
        self.low, self.high = low, high
        self.rng = make_rng(rng)

    def __call__(self, shape: tuple[int, ...]) -> np.ndarray:
        """Array of `shape` with entries uniform on [low, high)."""
        shape = _checks.shape(shape, "shape", self)
        draws = self.rng.uniform(low=self.low, high=self.high, size=shape)
        return draws.astype(dtypes.get_default_dtype(), copy=False)

    def __repr__(self) -> str:
        return f"UniformInit({self.low}, {self.high})"


class NormalInit:
    """Independent draws from a normal distribution with the given mean and std."""

    def __init__(self, mean: float, std: float, rng: RandomState | None = None) -> None:
        self.mean = _checks.number(mean, "mean", "NormalInit")
        self.std = _checks.number(std, "std", "NormalInit", low=0)
        self.rng = make_rng(rng)

    def __call__(self, shape: tuple[int, ...]) -> np.ndarray:
        """Array of `shape` with entries drawn from N(mean, std**2)."""
        shape = _checks.shape(shape, "shape", self)
        draws = self.rng.normal(loc=self.mean, scale=self.std, size=shape)
        return draws.astype(dtypes.get_default_dtype(), copy=False)

    def __repr__(self) -> str:
        return f"NormalInit({self.mean}, {self.std})"


class _ScaledInit:
    """Shared machinery of the Glorot and He schemes: a scale computed from the fans."""

    def __init__(self, gain: float = 1.0, rng: RandomState | None = None) -> None:
        self.gain = _checks.number(gain, "gain", type(self).__name__, low=0, low_open=True)
        self.rng = make_rng(rng)

    def _variance(self, fan_in: int, fan_out: int) -> float:
        raise NotImplementedError

    def _draw(self, std: float, shape: tuple[int, ...]) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, shape: tuple[int, ...]) -> np.ndarray:
        """Weight matrix of `shape` = (output_dim, input_dim)."""
        shape = _checks.shape(shape, "shape", self)
        fan_in, fan_out = _fans(shape, type(self).__name__)
        variance = self._variance(fan_in, fan_out)
        # In Python floats, which overflow to inf silently; a uniform's bound is sqrt(3) std.
        if not math.isfinite(3 * self.gain * math.sqrt(variance)):
            raise ValueError(f"{self!r} gives an infinite scale for shape {shape}: lower gain")
        std = self.gain * np.sqrt(variance)
        return self._draw(std, shape).astype(dtypes.get_default_dtype(), copy=False)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(gain={self.gain})"


class _Uniform(_ScaledInit):
    def _draw(self, std: float, shape: tuple[int, ...]) -> np.ndarray:
        # A uniform on [-a, a] has variance a**2 / 3.
        bound = np.sqrt(3.0) * std
        return self.rng.uniform(-bound, bound, size=shape)


class _Normal(_ScaledInit):
    def _draw(self, std: float, shape: tuple[int, ...]) -> np.ndarray:
        return self.rng.normal(0.0, std, size=shape)


class _Glorot:
    # Glorot and Bengio (2010): keep the variance of activations and of gradients alike.
    def _variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / (fan_in + fan_out)


class _He:
    # He et al. (2015): ReLU halves the variance, so double it back, counting the fan-in.
    def _variance(self, fan_in: int, fan_out: int) -> float:
        return 2.0 / fan_in


class GlorotUniformInit(_Glorot, _Uniform):
    """Uniform on [-a, a] with a = gain * sqrt(6 / (fan_in + fan_out))."""


class GlorotNormalInit(_Glorot, _Normal):
    """Normal with std = gain * sqrt(2 / (fan_in + fan_out))."""


class HeUniformInit(_He, _Uniform):
    """Uniform on [-a, a] with a = gain * sqrt(6 / fan_in): suits ReLU layers."""


class HeNormalInit(_He, _Normal):
    """Normal with std = gain * sqrt(2 / fan_in): suits ReLU layers."""
