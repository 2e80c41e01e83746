"""Learning rules: how parameters move given their gradients.

Every rule follows one contract:

    rule = AdamLearningRule(learning_rate=1e-3)
    rule.initialise(model.params)     # remembers the arrays, allocates its state
    rule.update_params(grads)         # updates those arrays in place, once per batch
    rule.reset()                      # forgets the state (momenta, step count)

`grads` is a list aligned with the params, each gradient shaped like its parameter.
`update_params` calls the rule's `_step` once per parameter: `_step` is the rule's
formula for one parameter array, written as in the textbook and in `torch.optim`, so
runs can be compared number for number. `state()` and `load_state()` save and restore
the rule's state, so an interrupted run can resume where it stopped.

To write a rule of your own, subclass one of these and override `_step` (and
`state_names`, for a rule with state of its own): `update_params` runs your `_step`.

Speed. `mlp.optimisers.Optimiser` trains the built-in rules through a faster update
(`mlp._fast`: one pass over memory per parameter, or NumPy on the whole model at once)
that gives exactly the numbers of the `_step` below, which stays the definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from mlp import _checks

__all__ = [
    "AdaGradLearningRule",
    "AdamLearningRule",
    "GradientDescentLearningRule",
    "MomentumLearningRule",
    "NesterovMomentumLearningRule",
    "RMSPropLearningRule",
]


def _positive(name: str, value: float, rule: str, allow_zero: bool = True) -> float:
    value = _checks.real(value, name, rule)
    if not (value >= 0 if allow_zero else value > 0) or not np.isfinite(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{rule}: {name} must be finite and {bound}, got {value}")
    return value


def _fraction(name: str, value: float, rule: str) -> float:
    value = _checks.real(value, name, rule)
    if not 0 <= value < 1:
        raise ValueError(f"{rule}: {name} must lie in [0, 1), got {value}")
    return value


def _checked_params(params: Sequence[np.ndarray], rule: str) -> list[np.ndarray]:
    """The parameters as a list, after checking each is a float array (the rule updates
    them in place, so a list or an integer array could not be)."""
    if isinstance(params, np.ndarray) or not isinstance(params, (list, tuple)):
        raise TypeError(
            f"{rule}.initialise: params must be a list of arrays (model.params), "
            f"got {type(params).__name__}"
        )
    for i, param in enumerate(params):
        if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
            what = param.dtype if isinstance(param, np.ndarray) else type(param).__name__
            raise TypeError(
                f"{rule}.initialise: params[{i}] is {what}, not a float array: the rule "
                "updates its parameters in place, so pass the arrays themselves (model.params)"
            )
    return list(params)


def _check_state_keys(state: Mapping[str, object], keys: Sequence[str], rule: str) -> None:
    if not isinstance(state, Mapping):
        raise TypeError(f"{rule}.load_state: state must be a dict, got {type(state).__name__}")
    missing = [key for key in keys if key not in state]
    if missing:
        raise ValueError(
            f"{rule}.load_state: the state has no {', '.join(map(repr, missing))}: "
            "pass what state() returned"
        )


class GradientDescentLearningRule:
    """Gradient descent, as torch.optim.SGD.

    p <- p - learning_rate * g

    Args:
        learning_rate: step size, >= 0.
    """

    state_names: tuple[str, ...] = ()
    """The rule's state: one attribute per name, a list of arrays shaped like the params."""

    def __init__(self, learning_rate: float = 1e-3) -> None:
        self.learning_rate = learning_rate
        self.params: list[np.ndarray] = []
        self.step_count = 0
        self._initialised = False

    @property
    def learning_rate(self) -> float:
        """The step size, >= 0 (schedulers set it between epochs)."""
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        self._learning_rate = _positive("learning_rate", value, type(self).__name__)

    def initialise(self, params: Sequence[np.ndarray]) -> None:
        """Remember the parameter arrays to update and allocate state shaped like them.

        Args:
            params: float arrays of any shapes (a model's `params`), updated in place.
        """
        self.params = _checked_params(params, type(self).__name__)
        # The state, and every update, in the parameters' common dtype.
        self._dtype = np.result_type(*self.params) if self.params else np.dtype(np.float32)
        for name in self.state_names:
            setattr(self, name, [np.zeros(p.shape, self._dtype) for p in self.params])
        self.step_count = 0
        self._initialised = True

    def _require_initialised(self) -> None:
        if not self._initialised:
            raise RuntimeError(
                f"{type(self).__name__} has no parameters yet: call initialise(model.params) first"
            )

    def reset(self) -> None:
        """Zero the rule's state (momenta, running averages, step count)."""
        self._require_initialised()
        for name in self.state_names:
            for array in getattr(self, name):
                array.fill(0)  # in place: whoever holds these arrays sees the change
        self.step_count = 0

    def update_params(self, grads_wrt_params: Sequence[ArrayLike]) -> None:
        """One step: update every parameter in place from its gradient.

        Args:
            grads_wrt_params: list aligned with the params, each shaped like its parameter.
        """
        grads = self._checked(grads_wrt_params)
        self.step_count += 1
        states = [getattr(self, name) for name in self.state_names]
        for param, grad, *state in zip(self.params, grads, *states, strict=True):
            self._step(param, grad, *state)

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        """Update one parameter array in place from its gradient; `state` holds this
        parameter's arrays of each of `state_names`, updated in place too."""
        param -= self.learning_rate * grad

    def _checked(self, grads_wrt_params: Sequence[ArrayLike]) -> list[np.ndarray]:
        """The gradients as arrays of the rule's dtype (complex ones are refused, not
        truncated), after checking there is one per parameter, shaped like it."""
        self._require_initialised()
        if not hasattr(grads_wrt_params, "__len__"):
            raise TypeError(
                f"{type(self).__name__}: grads_wrt_params must be a list of arrays, one per "
                f"parameter, got {type(grads_wrt_params).__name__}"
            )
        if len(grads_wrt_params) != len(self.params):
            raise ValueError(
                f"{type(self).__name__} got {len(grads_wrt_params)} gradients for "
                f"{len(self.params)} parameters; call initialise(model.params) first"
            )
        grads = [np.asarray(grad) for grad in grads_wrt_params]
        for i, (param, grad) in enumerate(zip(self.params, grads, strict=True)):
            if grad.shape != param.shape:
                raise ValueError(
                    f"gradient {i} has shape {grad.shape}, its parameter {param.shape}"
                )
            if grad.dtype.kind not in "biuf":
                raise TypeError(
                    f"gradient {i} has dtype {grad.dtype}, which casting='same_kind' does "
                    f"not turn into the parameters' {self._dtype}: pass real numbers"
                )
        return [grad.astype(self._dtype, casting="same_kind", copy=False) for grad in grads]

    def state(self) -> dict[str, object]:
        """The rule's state as a dict of plain values and arrays (copies): 'step_count',
        and for each of `state_names` a list of arrays shaped like the params."""
        state: dict[str, object] = {"step_count": self.step_count}
        for name in self.state_names:
            state[name] = [a.copy() for a in getattr(self, name)]
        return state

    def load_state(self, state: dict[str, object]) -> None:
        """Restore what `state()` returned; call after `initialise`. The values are
        copied into the rule's own arrays."""
        self._require_initialised()
        _check_state_keys(state, ("step_count", *self.state_names), type(self).__name__)
        step_count = state["step_count"]
        if not isinstance(step_count, (int, np.integer)) or isinstance(step_count, bool):
            raise TypeError(f"state['step_count'] must be an integer, got {step_count!r}")
        saved: dict[str, Sequence[ArrayLike]] = {}
        for name in self.state_names:
            values = state[name]
            if not isinstance(values, (list, tuple)):
                raise TypeError(f"state[{name!r}] must be a list of arrays, got {values!r}")
            if len(values) != len(self.params):
                raise ValueError(
                    f"state[{name!r}] has {len(values)} arrays for {len(self.params)} parameters"
                )
            for i, (array, value) in enumerate(zip(getattr(self, name), values, strict=True)):
                if np.shape(value) != array.shape:
                    raise ValueError(
                        f"{name}[{i}] has shape {np.shape(value)}, its parameter {array.shape}"
                    )
            saved[name] = values
        self.step_count = int(step_count)
        for name, values in saved.items():
            for array, value in zip(getattr(self, name), values, strict=True):
                array[...] = value

    @classmethod
    def updates_like(cls, base: type[GradientDescentLearningRule]) -> bool:
        """True when this class updates exactly as `base` does: it changes none of
        `_step`, `update_params` and `state_names` (a subclass that only adds, say,
        a repr). The fast path takes over only such rules."""
        return (
            cls._step is base._step
            and cls.update_params is base.update_params
            and cls.state_names == base.state_names
        )

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

    state_names = ("velocities",)

    def __init__(self, learning_rate: float = 1e-3, mom_coeff: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.mom_coeff = _fraction("mom_coeff", mom_coeff, type(self).__name__)

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        (velocity,) = state
        velocity *= self.mom_coeff
        velocity += grad
        param -= self.learning_rate * velocity

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}, mom_coeff={self.mom_coeff}"


class NesterovMomentumLearningRule(MomentumLearningRule):
    """Nesterov momentum, as torch.optim.SGD(momentum=mom_coeff, nesterov=True).

    v <- mom_coeff * v + g;  p <- p - learning_rate * (g + mom_coeff * v)
    """

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        (velocity,) = state
        velocity *= self.mom_coeff
        velocity += grad
        param -= self.learning_rate * (grad + self.mom_coeff * velocity)


class AdaGradLearningRule(GradientDescentLearningRule):
    """AdaGrad, as torch.optim.Adagrad.

    s <- s + g**2;  p <- p - learning_rate * g / (sqrt(s) + epsilon)

    Args:
        learning_rate: step size, >= 0.
        epsilon: added to the denominator for stability, > 0.
    """

    state_names = ("sums_of_squares",)

    def __init__(self, learning_rate: float = 1e-2, epsilon: float = 1e-10) -> None:
        super().__init__(learning_rate)
        self.epsilon = _positive("epsilon", epsilon, type(self).__name__, allow_zero=False)

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        (sum_of_squares,) = state
        sum_of_squares += grad**2
        param -= self.learning_rate * (grad / (np.sqrt(sum_of_squares) + self.epsilon))

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

    state_names = ("moms_2",)

    def __init__(
        self, learning_rate: float = 1e-3, beta: float = 0.9, epsilon: float = 1e-8
    ) -> None:
        super().__init__(learning_rate)
        self.beta = _fraction("beta", beta, type(self).__name__)
        self.epsilon = _positive("epsilon", epsilon, type(self).__name__, allow_zero=False)

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        (mom_2,) = state
        mom_2 *= self.beta
        mom_2 += (1 - self.beta) * grad**2
        param -= self.learning_rate * (grad / (np.sqrt(mom_2) + self.epsilon))

    def _hyperparameters(self) -> str:
        return f"learning_rate={self.learning_rate}, beta={self.beta}, epsilon={self.epsilon}"


class AdamLearningRule(GradientDescentLearningRule):
    """Adam (Kingma and Ba, 2015), as torch.optim.Adam.

    m <- beta_1 m + (1 - beta_1) g;  v <- beta_2 v + (1 - beta_2) g**2
    p <- p - learning_rate * m_hat / (sqrt(v_hat) + epsilon)
    with m_hat = m / (1 - beta_1**t) and v_hat = v / (1 - beta_2**t) at step t.

    `moms_1` holds m and `moms_2` holds v, one array per parameter.

    Args:
        learning_rate: step size, >= 0.
        beta_1, beta_2: decay rates of the moment estimates, in [0, 1).
        epsilon: added to the denominator for stability, > 0.
    """

    state_names = ("moms_1", "moms_2")

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

    def _step(self, param: np.ndarray, grad: np.ndarray, *state: np.ndarray) -> None:
        m, v = state
        t = self.step_count
        m *= self.beta_1
        m += (1 - self.beta_1) * grad
        v *= self.beta_2
        v += (1 - self.beta_2) * grad**2
        m_hat = m / (1 - self.beta_1**t)
        v_hat = v / (1 - self.beta_2**t)
        param -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)

    def _hyperparameters(self) -> str:
        return (
            f"learning_rate={self.learning_rate}, beta_1={self.beta_1}, "
            f"beta_2={self.beta_2}, epsilon={self.epsilon}"
        )
