"""Fast updates for the built-in learning rules: the numbers of their `_step`, sooner.

A rule's `update_params` runs its textbook `_step` once per parameter, each NumPy
operation a new temporary array and a pass over memory. `FastUpdater(rule)` does the
same operations in the same order, so it gives the same bits, in one of three ways:

- compiled (`mlp._fast.kernels`, where numba is installed and enabled): one loop per
  parameter that reads and writes each array once;
- fused, in NumPy, for a model of at most `FUSE_LIMIT` parameters in all (784-100-100-10
  has 89,610): the gradients are gathered into one flat array, so each operation is one
  NumPy call for the whole model instead of one per parameter array;
- chunked, in NumPy, for a larger parameter: `CHUNK_SIZE` entries at a time, so the dozen
  passes of an Adam step hit the CPU cache instead of main memory.

To make the fused path possible the updater moves the rule's state arrays into one flat
array per kind: the rule's lists (`rule.moms_1`, ...) then hold views into it, with the
same values, so `rule.state()`, `load_state()`, `reset()` and `rule.update_params` still
work on them. When the rule is initialised again, the updater lays itself out afresh.

Every way warns alike (a RuntimeWarning pointed at the caller) when a step leaves inf or
NaN in a parameter's update, as from an inf or NaN gradient, which NumPy's arithmetic
would otherwise spread silently.

Whatever it cannot do exactly so (a gradient of another dtype or shape, a read-only or
non-NumPy parameter, a rule it does not know), it leaves to `rule.update_params`.
"""

from __future__ import annotations

import itertools
import operator
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

import mlp._fast.kernels as kernels
from mlp import learning_rules as rules

__all__ = ["CHUNK_SIZE", "FAST_RULES", "FUSE_LIMIT", "FastRule", "FastUpdater", "fast_updater"]

CHUNK_SIZE = 65_536
"""Entries per chunk of an update: 256 KB per float32 array, so the arrays an update
touches stay in cache between its passes (measured best between 16K and 256K)."""

FUSE_LIMIT = 262_144
"""Models with at most this many parameters are updated as one flat array."""

Array = np.ndarray

# Each rule's `_step` with every operation written into a preallocated array, leaving in
# `delta` what `_step` subtracts from the parameter (`work` is more scratch). The
# arguments: the gradient, the rule's state arrays (updated in place), `delta`, `work`,
# then the scalars of `FastRule.scalars`, Python floats that NumPy applies in the arrays'
# dtype as it does those of `_step`. x * y and y * x round alike, so the order of the
# factors may differ from `_step`; the order of the operations may not.


def _gradient_descent(grad: Array, delta: Array, work: Array, learning_rate: float) -> None:
    np.multiply(grad, learning_rate, out=delta)


def _momentum(
    grad: Array, velocity: Array, delta: Array, work: Array, mom_coeff: float, lr: float
) -> None:
    velocity *= mom_coeff
    velocity += grad
    np.multiply(velocity, lr, out=delta)


def _nesterov(
    grad: Array, velocity: Array, delta: Array, work: Array, mom_coeff: float, lr: float
) -> None:
    velocity *= mom_coeff
    velocity += grad
    np.multiply(velocity, mom_coeff, out=delta)
    delta += grad
    delta *= lr


def _adagrad(
    grad: Array, sums: Array, delta: Array, work: Array, epsilon: float, lr: float
) -> None:
    np.multiply(grad, grad, out=delta)
    sums += delta
    np.sqrt(sums, out=delta)
    delta += epsilon
    np.divide(grad, delta, out=delta)
    delta *= lr


def _rmsprop(
    grad: Array,
    mom_2: Array,
    delta: Array,
    work: Array,
    beta: float,
    one_minus_beta: float,
    epsilon: float,
    lr: float,
) -> None:
    mom_2 *= beta
    np.multiply(grad, grad, out=delta)
    delta *= one_minus_beta
    mom_2 += delta
    np.sqrt(mom_2, out=delta)
    delta += epsilon
    np.divide(grad, delta, out=delta)
    delta *= lr


def _adam(
    grad: Array,
    m: Array,
    v: Array,
    delta: Array,
    work: Array,
    beta_1: float,
    one_minus_beta_1: float,
    beta_2: float,
    one_minus_beta_2: float,
    correction_1: float,
    correction_2: float,
    lr: float,
    eps: float,
) -> None:
    m *= beta_1
    np.multiply(grad, one_minus_beta_1, out=delta)
    m += delta
    v *= beta_2
    np.multiply(grad, grad, out=delta)
    delta *= one_minus_beta_2
    v += delta
    # v_hat and m_hat, without a pass where the correction is 1 in this dtype (x / 1 is x).
    in_dtype = delta.dtype.type
    np.sqrt(np.divide(v, correction_2, out=work) if in_dtype(correction_2) != 1 else v, out=work)
    work += eps
    if in_dtype(correction_1) != 1:
        np.divide(m, correction_1, out=delta)
        delta *= lr
    else:
        np.multiply(m, lr, out=delta)
    delta /= work


@dataclass(frozen=True)
class FastRule:
    """How to update one built-in rule fast.

    Attributes:
        kernel: the name of its compiled kernel in `mlp._fast.kernels.KERNELS`.
        numpy_step: its `_step` in preallocated arrays (see the functions above).
        scalars: rule -> the scalars both take this step (after `step_count` has grown).
    """

    kernel: str
    numpy_step: Callable[..., None]
    scalars: Callable[[Any], tuple[float, ...]]


def _adam_scalars(rule: rules.AdamLearningRule) -> tuple[float, ...]:
    b1, b2, t = rule.beta_1, rule.beta_2, rule.step_count
    return (b1, 1 - b1, b2, 1 - b2, 1 - b1**t, 1 - b2**t, rule.learning_rate, rule.epsilon)


FAST_RULES: dict[type[rules.GradientDescentLearningRule], FastRule] = {
    rules.GradientDescentLearningRule: FastRule(
        "gradient_descent", _gradient_descent, lambda r: (r.learning_rate,)
    ),
    rules.MomentumLearningRule: FastRule(
        "momentum", _momentum, lambda r: (r.mom_coeff, r.learning_rate)
    ),
    rules.NesterovMomentumLearningRule: FastRule(
        "nesterov", _nesterov, lambda r: (r.mom_coeff, r.learning_rate)
    ),
    rules.AdaGradLearningRule: FastRule(
        "adagrad", _adagrad, lambda r: (r.epsilon, r.learning_rate)
    ),
    rules.RMSPropLearningRule: FastRule(
        "rmsprop", _rmsprop, lambda r: (r.beta, 1 - r.beta, r.epsilon, r.learning_rate)
    ),
    rules.AdamLearningRule: FastRule("adam", _adam, _adam_scalars),
}
"""The rules with a fast update: the six built-in ones."""


def fast_updater(rule: rules.GradientDescentLearningRule) -> FastUpdater | None:
    """A `FastUpdater` for `rule`, or None when it is no built-in rule: a rule of its own,
    or a subclass of a built-in one that changes `_step`, `update_params` or its state.
    Call after `rule.initialise(params)`."""
    cls = type(rule)
    base = next((c for c in cls.__mro__ if c in FAST_RULES), None)
    if base is None:
        return None
    if not cls.updates_like(base):
        return None
    return FastUpdater(rule, FAST_RULES[base])


class FastUpdater:
    """Called as updater(grads_wrt_params), it does `rule.update_params(grads_wrt_params)`
    with the same numbers, faster (see the module's docstring).

    Args:
        rule: an initialised built-in rule (see `fast_updater`).
        fast_rule: its entry of `FAST_RULES`.
    """

    def __init__(self, rule: rules.GradientDescentLearningRule, fast_rule: FastRule) -> None:
        self.rule = rule
        self._fast_rule = fast_rule
        self._lay_out()

    # --- layout --------------------------------------------------------------------------

    def _lay_out(self) -> None:
        """Take the rule's current parameters and state: move the state into flat arrays
        and size the scratch arrays, when every parameter can be updated fast."""
        rule = self.rule
        self._params = list(rule.params)
        self._watched: list[tuple[str, list[Array]]] = [("params", self._params)]
        self._ok = self._can_update(rule)
        if not self._ok:
            return
        params = self._params
        self._dtype = params[0].dtype
        offsets = [0, *itertools.accumulate(p.size for p in params)]
        self._slices = [slice(a, b) for a, b in itertools.pairwise(offsets)]
        total = offsets[-1]
        self._flat_state = []
        for name in rule.state_names:
            flat = np.empty(total, self._dtype)
            arrays: list[Array] = getattr(rule, name)
            views = [flat[sl].reshape(p.shape) for sl, p in zip(self._slices, params, strict=True)]
            for view, array in zip(views, arrays, strict=True):
                view[...] = array
            arrays[:] = views  # the rule's own list now holds the views
            self._flat_state.append(flat)
            self._watched.append((name, list(views)))
        self._state_1d = [[flat[sl] for flat in self._flat_state] for sl in self._slices]
        self._chunk = CHUNK_SIZE
        self._fused = total <= FUSE_LIMIT
        sizes = [min(p.size, self._chunk) if p.flags.c_contiguous else p.size for p in params]
        scratch = total if self._fused else max(sizes)
        self._delta, self._work = np.empty(scratch, self._dtype), np.empty(scratch, self._dtype)
        if self._fused:
            self._flat_grads = np.empty(total, self._dtype)
            self._grad_views = [self._flat_grads[sl].reshape(p.shape) for sl, p in self._pairs()]
            self._delta_views = [self._delta[sl].reshape(p.shape) for sl, p in self._pairs()]
        # A kernel takes the very arrays: reshape(-1) of a non-contiguous one is a copy.
        self._kernel_fits = [p.flags.c_contiguous for p in params]
        if any(self._kernel_fits):
            kernels.compiled(self._fast_rule.kernel)  # compiled now, not in the first epoch

    def _pairs(self) -> zip[tuple[slice, Array]]:
        return zip(self._slices, self._params, strict=True)

    def _can_update(self, rule: rules.GradientDescentLearningRule) -> bool:
        """Whether the parameters are NumPy arrays of one dtype, float32 or float64,
        with state arrays shaped like them."""
        params = self._params
        if not params or any(type(p) is not np.ndarray for p in params):
            return False
        if params[0].dtype not in (np.float32, np.float64):
            return False
        if any(p.dtype != params[0].dtype for p in params):
            return False
        for name in rule.state_names:
            arrays = getattr(rule, name, None)
            if not isinstance(arrays, list) or len(arrays) != len(params):
                return False
            if any(np.shape(a) != p.shape for a, p in zip(arrays, params, strict=True)):
                return False
        return True

    def _laid_out_for_current_arrays(self) -> bool:
        """Whether the rule still holds the arrays of the layout (not so after another
        `initialise`, or when a state array was replaced)."""
        for name, arrays in self._watched:
            now = getattr(self.rule, name)
            if len(now) != len(arrays) or not all(map(operator.is_, now, arrays)):
                return False
        return True

    # --- one step ------------------------------------------------------------------------

    def __call__(self, grads_wrt_params: Sequence[ArrayLike]) -> None:
        """One step of the rule: update every parameter in place from its gradient.

        Args:
            grads_wrt_params: list aligned with the params, each shaped like its parameter.
        """
        if not self._laid_out_for_current_arrays():
            self._lay_out()
        grads = self._fitting(grads_wrt_params)
        if grads is None:
            self.rule.update_params(grads_wrt_params)
            return
        rule = self.rule
        rule.step_count += 1
        scalars = self._fast_rule.scalars(rule)
        kernel = kernels.compiled(self._fast_rule.kernel)
        if kernel is None and self._fused:
            self._update_fused(grads, scalars)
        else:
            self._update_each(grads, scalars, kernel)

    def _fitting(self, grads: Sequence[ArrayLike]) -> list[Array] | None:
        """The gradients, when this step can be done fast: one per parameter, NumPy
        arrays of its shape and dtype, every parameter writable; else None."""
        if not self._ok or len(grads) != len(self._params):
            return None
        fitting = []
        for param, grad in zip(self._params, grads, strict=True):
            if not (
                isinstance(grad, np.ndarray)
                and type(grad) is np.ndarray  # not np.matrix, whose reshape(-1) is 2-D
                and grad.dtype == self._dtype
                and grad.shape == param.shape
                and param.flags.writeable
            ):
                return None
            fitting.append(grad)
        return fitting

    def _update_fused(self, grads: list[Array], scalars: tuple[float, ...]) -> None:
        """The whole model's step as one NumPy call per operation."""
        for flat_view, grad in zip(self._grad_views, grads, strict=True):
            flat_view[...] = grad
        step = self._fast_rule.numpy_step
        step(self._flat_grads, *self._flat_state, self._delta, self._work, *scalars)
        for param, delta in zip(self._params, self._delta_views, strict=True):
            param -= delta
        if not np.isfinite(self._delta).all():
            for i, delta in enumerate(self._delta_views):
                if not np.isfinite(delta).all():
                    self._warn_non_finite(i)

    def _warn_non_finite(self, i: int) -> None:
        """Say that parameter `i` took an inf or NaN step, as the compiled kernels do. NumPy
        warns of an overflow or invalid operation itself, but an inf or NaN gradient
        spreads through its arithmetic silently."""
        warnings.warn(
            f"{type(self.rule).__name__}: overflow or invalid value in the update "
            f"of parameter {i}: it, or the rule's state, now holds inf or NaN",
            RuntimeWarning,
            stacklevel=kernels.first_caller_outside_mlp(),
        )

    def _update_each(
        self, grads: list[Array], scalars: tuple[float, ...], kernel: kernels.Loop | None
    ) -> None:
        """Each parameter by its kernel where one fits, else in NumPy (chunked if large)."""
        typed = [self._dtype.type(c) for c in scalars] if kernel is not None else []
        for i, (param, grad) in enumerate(zip(self._params, grads, strict=True)):
            if np.may_share_memory(param, grad):
                grad = grad.copy()  # `_step` reads all of the gradient before it writes
            if kernel is not None and self._kernel_fits[i]:
                try:
                    finite = kernel(param.reshape(-1), grad.reshape(-1), *self._state_1d[i], *typed)
                except TypeError:  # refused before changing anything: NumPy does it
                    self._update_numpy(i, param, grad, scalars)
                    continue
                if not finite:
                    self._warn_non_finite(i)
            else:
                self._update_numpy(i, param, grad, scalars)

    def _update_numpy(self, i: int, param: Array, grad: Array, scalars: tuple[float, ...]) -> None:
        """Parameter `i`'s step in NumPy: in cache-sized chunks when it is contiguous."""
        step, state, chunk = self._fast_rule.numpy_step, self._state_1d[i], self._chunk
        flat_grad = grad.reshape(-1)
        if not param.flags.c_contiguous:
            delta = self._delta[: param.size]
            step(flat_grad, *state, delta, self._work[: param.size], *scalars)
            param -= delta.reshape(param.shape)
            if not np.isfinite(delta).all():
                self._warn_non_finite(i)
            return
        flat_param, finite = param.reshape(-1), True
        for start in range(0, param.size, chunk):
            part = slice(start, start + chunk)
            size = min(chunk, param.size - start)
            delta = self._delta[:size]
            step(flat_grad[part], *(s[part] for s in state), delta, self._work[:size], *scalars)
            flat_param[part] -= delta
            finite = finite and bool(np.isfinite(delta).all())
        if not finite:
            self._warn_non_finite(i)
