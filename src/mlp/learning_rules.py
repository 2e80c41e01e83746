"""Learning rules: how parameters move given their gradients.

Every rule follows one contract:

    rule = AdamLearningRule(learning_rate=1e-3)
    rule.initialise(model.params)     # remembers the arrays, allocates its state
    rule.update_params(grads)         # updates those arrays in place, once per batch
    rule.reset()                      # forgets the state (momenta, step count)

`grads` is a list aligned with the params, each gradient shaped like its parameter. Each
update rule follows the formulas of its `torch.optim` counterpart exactly, so runs can be
compared number for number. `state()` and `load_state()` save and restore the rule's
state, so an interrupted run can resume where it stopped.

Speed. Each rule's arithmetic is one `_step` method of in-place NumPy operations that
leaves in a scratch array what to subtract from the parameters. Its cost is the number of
NumPy calls for small models and the number of passes over memory for large ones, so the
rule state lives in one flat array per kind (momenta, averages), and:

- a small model (at most `FUSE_LIMIT` parameters in all, like 784-100-100-10) has its
  gradients gathered into one flat array, so each operation is one call for the whole
  model rather than one per parameter array: a dozen calls per Adam step, not seventy;
- a large parameter is updated in chunks of `CHUNK_SIZE` entries, so the dozen passes of
  an Adam step hit the CPU cache instead of main memory: for a 784-1024-1024-10 model a
  step takes about 3.2 ms instead of 5.6 ms done whole (4.3 ms in training, where the
  matrix products have pushed the arrays out of cache);
- where numba is installed, every rule runs a compiled kernel (`mlp.kernels`) that does
  the same arithmetic in one pass over memory, one call per parameter: 1.7 ms for that
  Adam step, and no gathering for small models; the numbers are the same. The NumPy
  `_step` stays the definition; `kernels.numpy_updates()` switches the kernels off.

Sharing the chunks between threads was measured and dropped: while training, OpenBLAS's
threads spin between matrix products and take the second core, so threads made the
update slower, not faster.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from collections.abc import Sequence

import numpy as np

from mlp import kernels

CHUNK_SIZE = 65_536
"""Entries per chunk of an update: 256 KB per float32 array, so the arrays an update
touches stay in cache between its passes (measured best between 16K and 256K)."""


FUSE_LIMIT = 262_144
"""Models with at most this many parameters are updated as one flat array."""

__all__ = [
    "AdaGradLearningRule",
    "AdamLearningRule",
    "GradientDescentLearningRule",
    "MomentumLearningRule",
    "NesterovMomentumLearningRule",
    "RMSPropLearningRule",
]


def _positive(name: str, value: float, rule: str, allow_zero: bool = True) -> float:
    value = float(value)
    if not (value >= 0 if allow_zero else value > 0) or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{rule}: {name} must be finite and {bound}, got {value}")
    return value


def _fraction(name: str, value: float, rule: str) -> float:
    value = float(value)
    if not 0 <= value < 1:
        raise ValueError(f"{rule}: {name} must lie in [0, 1), got {value}")
    return value


@functools.cache
def _kernel_for_step(rule_class: type) -> str | None:
    """The class's `_kernel`, unless a subclass redefined `_step` without naming a new
    kernel (a rule of your own): then None, and its own `_step` runs."""
    mro = rule_class.__mro__
    kernel_owner = next(c for c in mro if "_kernel" in vars(c))
    step_owner = next(c for c in mro if "_step" in vars(c))
    return rule_class._kernel if issubclass(kernel_owner, step_owner) else None


class GradientDescentLearningRule:
    """p <- p - learning_rate * g.

    Args:
        learning_rate: step size, >= 0.
    """

    _state_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float = 1e-3) -> None:
        self.learning_rate = _positive("learning_rate", learning_rate, type(self).__name__)
        self.params: list[np.ndarray] = []
        self.step_count = 0

    def initialise(self, params: Sequence[np.ndarray]) -> None:
        """Remember the parameter arrays to update and allocate state shaped like them."""
        self.params = list(params)
        sizes = [p.size for p in self.params]
        offsets = np.cumsum([0, *sizes])
        total = int(offsets[-1])
        dtype = np.result_type(*self.params) if self.params else np.float32
        self._slices = [slice(int(a), int(b)) for a, b in itertools.pairwise(offsets)]
        self._fused = total <= FUSE_LIMIT

        def flat_with_views(fill: float | None) -> tuple[np.ndarray, list[np.ndarray]]:
            flat = np.zeros(total, dtype) if fill is not None else np.empty(total, dtype)
            views = [
                flat[sl].reshape(p.shape) for sl, p in zip(self._slices, self.params, strict=True)
            ]
            return flat, views

        self._flat_state = []
        for name in self._state_names:
            flat, views = flat_with_views(0.0)
            self._flat_state.append(flat)
            setattr(self, name, views)
        self._flat_scratch, self._scratch = flat_with_views(None)
        self._chunk_scratch = np.empty(min(CHUNK_SIZE, total), dtype)
        self._flat_grads = np.empty(total, dtype) if self._fused else None
        # Per parameter: its 1-D state views, and whether a compiled kernel can update it.
        self._state_views = [[flat[sl] for flat in self._flat_state] for sl in self._slices]
        self._dtype = np.dtype(dtype)
        self._kernel_fits = [  # see kernels.compiled for what a kernel takes
            p.flags.c_contiguous and p.dtype == dtype and p.dtype in (np.float32, np.float64)
            for p in self.params
        ]
        name = _kernel_for_step(type(self))
        if name is not None and any(self._kernel_fits):
            # Load (or compile) the kernel now, so that importing numba is not timed as
            # part of the first training epoch.
            kernels.compiled(name)
        self.step_count = 0

    def _require_initialised(self) -> None:
        if not hasattr(self, "_flat_state"):
            raise RuntimeError(
                f"{type(self).__name__} has no parameters yet: call initialise(model.params) first"
            )

    def reset(self) -> None:
        """Zero the rule's state (momenta, running averages, step count)."""
        self._require_initialised()
        for flat in self._flat_state:
            flat.fill(0)
        self.step_count = 0

    def _check(self, grads_wrt_params: Sequence[np.ndarray]) -> None:
        self._require_initialised()
        if len(grads_wrt_params) != len(self.params):
            raise ValueError(
                f"{type(self).__name__} got {len(grads_wrt_params)} gradients for "
                f"{len(self.params)} parameters; call initialise(model.params) first"
            )
        for i, (param, grad) in enumerate(zip(self.params, grads_wrt_params, strict=True)):
            if np.shape(grad) != param.shape:
                raise ValueError(
                    f"gradient {i} has shape {np.shape(grad)}, its parameter {param.shape}"
                )

    def update_params(self, grads_wrt_params: Sequence[np.ndarray]) -> None:
        """One step: update every parameter in place from its gradient.

        Args:
            grads_wrt_params: list aligned with the params, each shaped like its parameter.
        """
        self._check(grads_wrt_params)
        # Lists too; gradients of another dtype are cast first, so every path below
        # computes in the rule's dtype (complex ones are refused, not truncated).
        grads_wrt_params = [
            np.asarray(grad).astype(self._dtype, casting="same_kind", copy=False)
            for grad in grads_wrt_params
        ]
        self.step_count += 1
        # Python floats, which NumPy and the kernels both apply in the arrays' dtype (a
        # NumPy float64 scalar would make NumPy compute float32 updates in float64).
        constants = tuple(float(c) for c in self._step_constants())
        remaining = self._compiled_updates(grads_wrt_params, constants)
        if not remaining:
            return
        if self._fused and len(remaining) == len(self.params):
            grads = self._flat_grads
            for sl, grad in zip(self._slices, grads_wrt_params, strict=True):
                grads[sl] = grad.reshape(-1)
            self._step(grads, *self._flat_state, self._flat_scratch, *constants)
            for param, step in zip(self.params, self._scratch, strict=True):
                param -= step
            return
        for i in remaining:
            param, grad = self.params[i], grads_wrt_params[i]
            state = self._state_views[i]
            scratch = self._flat_scratch[self._slices[i]]
            if not (param.flags.c_contiguous and grad.flags.c_contiguous):
                self._step(grad.reshape(-1), *state, scratch, *constants)
                param -= scratch.reshape(param.shape)
                continue
            flat_param, flat_grad = param.reshape(-1), grad.reshape(-1)
            # One chunk-sized scratch array for every chunk: it stays in cache, where
            # slices of a parameter-sized one would each come cold from main memory.
            if self._chunk_scratch.size < min(CHUNK_SIZE, param.size):
                self._chunk_scratch = np.empty(CHUNK_SIZE, self._flat_scratch.dtype)
            chunk_scratch = self._chunk_scratch
            for start in range(0, param.size, CHUNK_SIZE):
                chunk = slice(start, start + CHUNK_SIZE)
                step = chunk_scratch[: min(CHUNK_SIZE, param.size - start)]
                self._step(flat_grad[chunk], *(a[chunk] for a in state), step, *constants)
                flat_param[chunk] -= step

    def _compiled_updates(
        self, grads_wrt_params: list[np.ndarray], constants: tuple[float, ...]
    ) -> list[int]:
        """Update each parameter with the rule's compiled kernel (`mlp.kernels`), the whole
        step in one pass over memory; return the indices it could not do, all of them
        when compiled updates are not enabled, for the NumPy code to update."""
        name = _kernel_for_step(type(self))
        kernel = kernels.compiled(name) if name is not None else None
        if kernel is None:
            return list(range(len(self.params)))
        # The scalars in the arrays' dtype, as NumPy uses Python floats in `_step`.
        scalars = [self._dtype.type(c) for c in self._kernel_scalars(constants)]
        remaining = []
        for i, (param, grad) in enumerate(zip(self.params, grads_wrt_params, strict=True)):
            # The kernel must see the very arrays (reshape(-1) of a non-contiguous array
            # would be a copy), in one dtype (else it would compute in another
            # precision), and a gradient that does not overlap them.
            if not self._kernel_fits[i] or np.may_share_memory(param, grad):
                remaining.append(i)
                continue
            try:
                finite = kernel(
                    param.reshape(-1), grad.reshape(-1), *self._state_views[i], *scalars
                )
            except TypeError:  # refused before any change: e.g. a read-only parameter
                remaining.append(i)
                continue
            if not finite:
                warnings.warn(
                    f"{type(self).__name__}: overflow or invalid value in the update of "
                    f"parameter {i}: it, or the rule's state, now holds inf or NaN",
                    RuntimeWarning,
                    stacklevel=3,
                )
        return remaining

    _kernel = "gradient_descent"
    """Name of the kernel in `mlp.kernels.KERNELS` that does `_step` in one loop."""

    def _kernel_scalars(self, constants: tuple[float, ...]) -> tuple[float, ...]:
        """The kernel's scalar arguments, from this step's `_step_constants`."""
        return constants

    def _step_constants(self) -> tuple[float, ...]:
        """Scalars of this step's update (they may depend on `step_count`)."""
        return (self.learning_rate,)

    def _step(self, grad: np.ndarray, *rest: np.ndarray | float) -> None:
        """The update of one block of entries: from grad, the state arrays (updated in
        place), leave in the scratch array what to subtract from the parameters. `rest`
        is the state arrays, then scratch, then the constants of `_step_constants`."""
        step, learning_rate = rest
        np.multiply(grad, learning_rate, out=step)

    def state(self) -> dict[str, object]:
        """The rule's state as a dict of plain values and arrays (copies)."""
        state: dict[str, object] = {"step_count": self.step_count}
        for name in self._state_names:
            state[name] = [a.copy() for a in getattr(self, name)]
        return state

    def load_state(self, state: dict[str, object]) -> None:
        """Restore what `state()` returned; call after `initialise`."""
        self._require_initialised()
        for name in self._state_names:
            for i, (array, saved) in enumerate(zip(getattr(self, name), state[name], strict=True)):  # type: ignore[call-overload]
                if np.shape(saved) != array.shape:
                    raise ValueError(
                        f"{name}[{i}] has shape {np.shape(saved)}, its parameter {array.shape}"
                    )
        self.step_count = int(state["step_count"])  # type: ignore[arg-type]
        for name in self._state_names:
            for array, saved in zip(getattr(self, name), state[name], strict=True):  # type: ignore[call-overload]
                array[...] = saved

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._hyperparameters()})"


class MomentumLearningRule(GradientDescentLearningRule):
    """Heavy-ball momentum, as torch.optim.SGD(momentum=mom_coeff).

    v <- mom_coeff * v + g;  p <- p - learning_rate * v   (v starts at 0)

    Args:
        learning_rate: step size, >= 0.
        mom_coeff: momentum coefficient in [0, 1).
    """

    _state_names = ("velocities",)

    def __init__(self, learning_rate: float = 1e-3, mom_coeff: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.mom_coeff = _fraction("mom_coeff", mom_coeff, type(self).__name__)

    _kernel = "momentum"

    def _kernel_scalars(self, constants):  # type: ignore[override]
        return (self.mom_coeff, *constants)

    def _step(self, grad, velocity, step, learning_rate) -> None:  # type: ignore[override]
        velocity *= self.mom_coeff
        velocity += grad
        np.multiply(velocity, learning_rate, out=step)

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}, mom_coeff={self.mom_coeff}"


class NesterovMomentumLearningRule(MomentumLearningRule):
    """Nesterov momentum, as torch.optim.SGD(momentum=mom_coeff, nesterov=True).

    v <- mom_coeff * v + g;  p <- p - learning_rate * (g + mom_coeff * v)
    """

    _kernel = "nesterov"

    def _step(self, grad, velocity, step, learning_rate) -> None:  # type: ignore[override]
        velocity *= self.mom_coeff
        velocity += grad
        np.multiply(velocity, self.mom_coeff, out=step)
        step += grad
        step *= learning_rate


class AdaGradLearningRule(GradientDescentLearningRule):
    """AdaGrad, as torch.optim.Adagrad.

    s <- s + g**2;  p <- p - learning_rate * g / (sqrt(s) + epsilon)

    Args:
        learning_rate: step size, >= 0.
        epsilon: added to the denominator for stability, > 0.
    """

    _state_names = ("sums_of_squares",)

    def __init__(self, learning_rate: float = 1e-2, epsilon: float = 1e-10) -> None:
        super().__init__(learning_rate)
        self.epsilon = _positive("epsilon", epsilon, type(self).__name__, allow_zero=False)

    _kernel = "adagrad"

    def _kernel_scalars(self, constants):  # type: ignore[override]
        return (self.epsilon, *constants)

    def _step(self, grad, sums, step, learning_rate) -> None:  # type: ignore[override]
        np.multiply(grad, grad, out=step)
        sums += step
        np.sqrt(sums, out=step)
        step += self.epsilon
        np.divide(grad, step, out=step)
        step *= learning_rate

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}, epsilon={self.epsilon}"


class RMSPropLearningRule(GradientDescentLearningRule):
    """RMSProp, as torch.optim.RMSprop(alpha=beta).

    s <- beta * s + (1 - beta) * g**2;  p <- p - learning_rate * g / (sqrt(s) + epsilon)

    Args:
        learning_rate: step size, >= 0.
        beta: decay of the running average of squared gradients, in [0, 1).
        epsilon: added to the denominator for stability, > 0.
    """

    _state_names = ("moms_2",)

    def __init__(
        self, learning_rate: float = 1e-3, beta: float = 0.9, epsilon: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.beta = _fraction("beta", beta, type(self).__name__)
        self.epsilon = _positive("epsilon", epsilon, type(self).__name__, allow_zero=False)

    _kernel = "rmsprop"

    def _kernel_scalars(self, constants):  # type: ignore[override]
        return (self.beta, 1 - self.beta, self.epsilon, *constants)

    def _step(self, grad, mom_2, step, learning_rate) -> None:  # type: ignore[override]
        # s = beta s + (1 - beta) g**2 as torch computes it. (The shorter
        # s += (1 - beta)(g**2 - s) cancels to 0 when beta is 0 and g**2 << s.)
        mom_2 *= self.beta
        np.multiply(grad, grad, out=step)
        step *= 1 - self.beta
        mom_2 += step
        np.sqrt(mom_2, out=step)
        step += self.epsilon
        np.divide(grad, step, out=step)
        step *= learning_rate

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}, beta={self.beta}, epsilon={self.epsilon}"


class AdamLearningRule(GradientDescentLearningRule):
    """Adam (Kingma and Ba, 2015), as torch.optim.Adam.

    m <- beta_1 m + (1 - beta_1) g;  v <- beta_2 v + (1 - beta_2) g**2
    p <- p - learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    with m_hat = m / (1 - beta_1**t) and v_hat = v / (1 - beta_2**t) at step t.

    The rule keeps m / (1 - beta_1) and v / (1 - beta_2) in `moms_1` and `moms_2`: with
    that scaling the averages update as u <- beta_1 u + g and w <- beta_2 w + g**2, two
    passes over memory fewer per step, and the scales fold into two per-step scalars.

    Args:
        learning_rate: step size, >= 0.
        beta_1, beta_2: decay rates of the moment estimates, in [0, 1).
        epsilon: added to the denominator for stability, > 0.
    """

    _state_names = ("moms_1", "moms_2")

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate)
        name = type(self).__name__
        self.beta_1 = _fraction("beta_1", beta_1, name)
        self.beta_2 = _fraction("beta_2", beta_2, name)
        self.epsilon = _positive("epsilon", epsilon, name, allow_zero=False)

    def _step_constants(self) -> tuple[float, ...]:
        # With m = (1 - b1) u, v = (1 - b2) w and the bias corrections c1 = 1 - b1**t,
        # c2 = 1 - b2**t: lr * m_hat / (sqrt(v_hat) + eps) = a * u / (sqrt(w) + eps / r)
        # where r = sqrt((1 - b2) / c2) and a = lr (1 - b1) / (c1 r).
        t = self.step_count
        r = float(np.sqrt((1 - self.beta_2) / (1 - self.beta_2**t)))
        step_size = self.learning_rate * (1 - self.beta_1) / ((1 - self.beta_1**t) * r)
        return (step_size, self.epsilon / r)

    _kernel = "adam"

    def _kernel_scalars(self, constants):  # type: ignore[override]
        return (self.beta_1, self.beta_2, *constants)

    def _step(self, grad, mom_1, mom_2, step, step_size, epsilon) -> None:  # type: ignore[override]
        mom_1 *= self.beta_1
        mom_1 += grad
        mom_2 *= self.beta_2
        np.multiply(grad, grad, out=step)
        mom_2 += step
        np.sqrt(mom_2, out=step)
        step += epsilon
        np.divide(mom_1, step, out=step)
        step *= step_size

    def _hyperparameters(self) -> str:
        return (
            f"learning_rate={self.learning_rate}, beta_1={self.beta_1}, "
            f"beta_2={self.beta_2}, epsilon={self.epsilon}"
        )
