"""The exercises on how parameters move: the learning rules students write, gradient
descent with momentum and Adam.

A learning rule is checked on a run of a few steps: its `initialise` is given seeded
parameters, its `update_params` a seeded gradient per parameter and step, and the
result is how far each parameter has moved from its start after each step (one array
of shape (steps, *parameter shape) per parameter). Comparing displacements rather than
the parameters themselves keeps the comparison relative to the updates, which are
small next to the parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import ArrayLike

from mlp.exercises.case_tools import array, float64, number, planted
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule, MomentumLearningRule

__all__ = ["RULE_EXERCISES"]

Array = np.ndarray


# --- learning rules ------------------------------------------------------------------


def _run_rule(cls: type, case: Case, hyperparameters: Sequence[str]) -> list[Array]:
    """Build the rule from the case's settings, initialise it with the case's params
    ('param_0', 'param_1', ...), step it once per row of their gradients ('grads_0',
    ...: (steps, *parameter shape)), and return each parameter's displacement from its
    start after each step."""
    count = sum(1 for name in case.arrays if name.startswith("param_"))
    params = [array(case, f"param_{i}") for i in range(count)]
    starts = [p.copy() for p in params]
    grads = [array(case, f"grads_{i}") for i in range(count)]
    with float64():
        rule = cls(**{name: number(case, name) for name in hyperparameters})
        rule.initialise(params)
        moved: list[list[Array]] = [[] for _ in params]
        for step in range(grads[0].shape[0]):
            rule.update_params([g[step].copy() for g in grads])
            for history, param, start in zip(moved, params, starts, strict=True):
                history.append(param - start)
    return [np.stack(history) for history in moved]


def _rule_case(
    label: str, params: Sequence[Array], grads: Sequence[Array], settings: dict[str, float]
) -> Case:
    arrays = {f"param_{i}": np.asarray(p, dtype=np.float64) for i, p in enumerate(params)}
    arrays |= {f"grads_{i}": np.asarray(g, dtype=np.float64) for i, g in enumerate(grads)}
    return Case(label, arrays, settings)


def _rule_cases(
    rng: np.random.Generator, settings: Callable[[float], dict[str, float]]
) -> list[Case]:
    """The same kinds of runs for every rule; settings(learning_rate) gives the rule's
    hyperparameters."""
    shapes, steps = [(3, 2), (2,)], 5

    def random(scale: float, shape_list: Sequence[tuple[int, ...]] = shapes) -> list[Array]:
        return [scale * rng.normal(size=(steps, *shape)) for shape in shape_list]

    small_params = [np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([0.5])]
    small_grads = [
        np.array([[[1.0, -1.0], [0.5, 0.0]]] * 3),
        np.array([[1.0], [2.0], [-1.0]]),
    ]
    odd = [(1,), (2, 3, 4)]
    return [
        _rule_case("small", small_params, small_grads, settings(0.1)),
        _rule_case("random", [rng.normal(size=s) for s in shapes], random(1.0), settings(0.01)),
        _rule_case(
            "large magnitudes",
            [1e3 * rng.normal(size=s) for s in shapes],
            random(1e4),
            settings(0.1),
        ),
        _rule_case(
            "small gradients", [rng.normal(size=s) for s in shapes], random(1e-4), settings(0.1)
        ),
        _rule_case(
            "zeros",
            [np.zeros(s) for s in shapes],
            [np.zeros((steps, *s)) for s in shapes],
            settings(0.1),
        ),
        _rule_case(
            "shapes (1,) and (2, 3, 4)",
            [rng.normal(size=s) for s in odd],
            random(1.0, odd),
            settings(0.05),
        ),
    ]


def _state(rule: GradientDescentLearningRule, name: str) -> list[Array]:
    """The rule's state arrays `name` (one of its `state_names`, set by `initialise`)."""
    arrays: list[Array] = getattr(rule, name)
    return arrays


def _pairs(
    rule: GradientDescentLearningRule, grads: Sequence[ArrayLike]
) -> list[tuple[Array, Array]]:
    """(parameter, gradient as an array of its dtype) for each parameter."""
    return [(p, np.asarray(g, dtype=p.dtype)) for p, g in zip(rule.params, grads, strict=True)]


def _momentum_step(
    update: Callable[[MomentumLearningRule, Array, Array, Array], None],
) -> Callable[..., None]:
    """An `update_params` running update(rule, param, grad, velocity) per parameter."""

    def update_params(self: MomentumLearningRule, grads_wrt_params: Sequence[ArrayLike]) -> None:
        self.step_count += 1
        for (param, grad), velocity in zip(
            _pairs(self, grads_wrt_params), _state(self, "velocities"), strict=True
        ):
            update(self, param, grad, velocity)

    return update_params


def _wrong_sign(rule: MomentumLearningRule, p: Array, g: Array, v: Array) -> None:
    v *= rule.mom_coeff
    v -= g
    p -= rule.learning_rate * v


def _coefficient_on_gradient(rule: MomentumLearningRule, p: Array, g: Array, v: Array) -> None:
    v += rule.mom_coeff * g
    p -= rule.learning_rate * v


def _params_first(rule: MomentumLearningRule, p: Array, g: Array, v: Array) -> None:
    p -= rule.learning_rate * v
    v *= rule.mom_coeff
    v += g


def _no_momentum(rule: MomentumLearningRule, p: Array, g: Array, v: Array) -> None:
    v[...] = g
    p -= rule.learning_rate * v


def _not_in_place(reference: type[GradientDescentLearningRule]) -> Callable[..., None]:
    """An `update_params` that steps copies of the parameters: the model's arrays (those
    given to `initialise`) never move."""

    def update_params(
        self: GradientDescentLearningRule, grads_wrt_params: Sequence[ArrayLike]
    ) -> None:
        self.params = [p.copy() for p in self.params]
        reference.update_params(self, grads_wrt_params)

    return update_params


_IN_PLACE_HINT = (
    "the parameters given to initialise never moved: update those arrays in place "
    "(param -= ..., or param[...] = ...), since the model holds them; `param = param - "
    "...` makes a new array the model never sees"
)


def _momentum_mistakes() -> tuple[Mistake, ...]:
    wrong = [
        (
            "velocity-sign",
            "the parameters moved up the gradient: with v <- mom_coeff * v + g "
            "the step is p <- p - learning_rate * v (or accumulate -learning_rate * g in v and "
            "add v), the signs must agree",
            _wrong_sign,
        ),
        (
            "coefficient-on-gradient",
            "the momentum coefficient multiplied the gradient: it "
            "multiplies the velocity, v <- mom_coeff * v + g",
            _coefficient_on_gradient,
        ),
        (
            "params-before-velocity",
            "the parameters were stepped with the previous velocity: "
            "update the velocity first, then step with the new one",
            _params_first,
        ),
        (
            "no-momentum",
            "the velocity forgot the past steps (plain gradient descent): "
            "keep it between calls and decay it, v <- mom_coeff * v + g",
            _no_momentum,
        ),
    ]
    mistakes = [
        Mistake(
            name,
            "update_params",
            hint,
            planted(MomentumLearningRule, "update_params", _momentum_step(step), name),
        )
        for name, hint, step in wrong
    ]
    mistakes.append(
        Mistake(
            "not-in-place",
            "update_params",
            _IN_PLACE_HINT,
            planted(
                MomentumLearningRule,
                "update_params",
                _not_in_place(MomentumLearningRule),
                "not-in-place",
            ),
        )
    )
    return tuple(mistakes)


def _bias_corrected(beta: float, t: int) -> float:
    return 1 - beta**t


def _sqrt_plus_epsilon(v_hat: Array, epsilon: float) -> Array:
    return np.sqrt(v_hat) + epsilon


def _adam_body(
    correct: Callable[[float, int], float] = _bias_corrected,
    denominator: Callable[[Array, float], Array] = _sqrt_plus_epsilon,
    swap: bool = False,
) -> Callable[..., None]:
    """An `update_params` stepping Adam as the reference does, with one part replaced:
    correct(beta, t) divides the moments (the bias correction), denominator(v_hat,
    epsilon) divides the step, swap exchanges beta_1 and beta_2."""

    def update_params(self: AdamLearningRule, grads_wrt_params: Sequence[ArrayLike]) -> None:
        self.step_count += 1
        t = self.step_count
        beta_1, beta_2 = (self.beta_2, self.beta_1) if swap else (self.beta_1, self.beta_2)
        pairs = _pairs(self, grads_wrt_params)
        moms = _state(self, "moms_1"), _state(self, "moms_2")
        for (p, g), m, v in zip(pairs, *moms, strict=True):
            m *= beta_1
            m += (1 - beta_1) * g
            v *= beta_2
            v += (1 - beta_2) * g**2
            m_hat, v_hat = m / correct(beta_1, t), v / correct(beta_2, t)
            p -= self.learning_rate * m_hat / denominator(v_hat, self.epsilon)

    return update_params


def _adam_mistakes() -> tuple[Mistake, ...]:
    wrong = [
        (
            "no-bias-correction",
            "the moments were not bias-corrected: divide m by "
            "(1 - beta_1 ** t) and v by (1 - beta_2 ** t), t the step number from 1; early "
            "steps are then not too small",
            _adam_body(correct=lambda beta, t: 1.0),
        ),
        (
            "step-count-off-by-one",
            "the bias correction used the wrong step number: t is 1 "
            "at the first update (count the step before correcting)",
            _adam_body(correct=lambda beta, t: 1 - beta ** (t + 1)),
        ),
        (
            "epsilon-inside-sqrt",
            "epsilon went inside the square root: the step is m_hat / (sqrt(v_hat) + epsilon)",
            _adam_body(denominator=lambda v_hat, eps: np.sqrt(v_hat + eps)),
        ),
        (
            "betas-swapped",
            "beta_1 and beta_2 are swapped: beta_1 (0.9) averages the "
            "gradients, beta_2 (0.999) their squares",
            _adam_body(swap=True),
        ),
    ]
    mistakes = [
        Mistake(
            name, "update_params", hint, planted(AdamLearningRule, "update_params", update, name)
        )
        for name, hint, update in wrong
    ]
    mistakes.append(
        Mistake(
            "not-in-place",
            "update_params",
            _IN_PLACE_HINT,
            planted(
                AdamLearningRule, "update_params", _not_in_place(AdamLearningRule), "not-in-place"
            ),
        )
    )
    return tuple(mistakes)


_IN_PLACE_NOTE = """The model holds the arrays in self.params: change them in place
        (param -= ...), never rebind them (param = param - ... makes a new array the
        model never sees)."""

_MOMENTUM_SKELETON = f'''
class MomentumLearningRule(GradientDescentLearningRule):
    """Gradient descent with (heavy-ball) momentum, as torch.optim.SGD(momentum=...).

    Every parameter p has a velocity v of its shape, zero at the start. At each step,
    with g the gradient of p:

        v <- mom_coeff * v + g
        p <- p - learning_rate * v

    Args:
        learning_rate: the step size, >= 0.
        mom_coeff: the momentum coefficient, in [0, 1).
    """

    def __init__(self, learning_rate: float = 1e-3, mom_coeff: float = 0.9) -> None:
        super().__init__(learning_rate)
        self.mom_coeff = mom_coeff

    def initialise(self, params: list[np.ndarray]) -> None:
        """Remember the parameters and give each a zero velocity: call
        super().initialise(params) (it keeps them as self.params), then make
        self.velocities a list of zero arrays, one shaped like each parameter.

        Args:
            params: the model's parameter arrays, of any shapes.
        """
        raise NotImplementedError("MomentumLearningRule.initialise: allocate the velocities")

    def update_params(self, grads_wrt_params: list[np.ndarray]) -> None:
        """One step: update each velocity, then its parameter, both in place.

        Args:
            grads_wrt_params: one gradient per parameter, shaped like it.

        {_IN_PLACE_NOTE}
        """
        raise NotImplementedError("MomentumLearningRule.update_params: one step")
'''

_ADAM_SKELETON = f'''
class AdamLearningRule(GradientDescentLearningRule):
    """Adam (Kingma and Ba, 2015), as torch.optim.Adam.

    Every parameter p has two moment estimates m and v of its shape, zero at the start.
    At step t (1 at the first update), with g the gradient of p:

        m <- beta_1 * m + (1 - beta_1) * g
        v <- beta_2 * v + (1 - beta_2) * g ** 2
        m_hat = m / (1 - beta_1 ** t)          (bias corrections)
        v_hat = v / (1 - beta_2 ** t)
        p <- p - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    Args:
        learning_rate: the step size, >= 0.
        beta_1, beta_2: the decay rates of the two moment estimates, in [0, 1).
        epsilon: added to the denominator, > 0.
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        super().__init__(learning_rate)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def initialise(self, params: list[np.ndarray]) -> None:
        """Remember the parameters and give each zero moments: call
        super().initialise(params) (it keeps them as self.params and sets
        self.step_count to 0), then make self.moms_1 (the m) and self.moms_2 (the v)
        lists of zero arrays, one shaped like each parameter.

        Args:
            params: the model's parameter arrays, of any shapes.
        """
        raise NotImplementedError("AdamLearningRule.initialise: allocate the moments")

    def update_params(self, grads_wrt_params: list[np.ndarray]) -> None:
        """One step: add 1 to self.step_count (t), then update each parameter's moments
        and the parameter itself, in place.

        Args:
            grads_wrt_params: one gradient per parameter, shaped like it.

        {_IN_PLACE_NOTE}
        """
        raise NotImplementedError("AdamLearningRule.update_params: one step")
'''

_RULE_IMPORTS = ("import numpy as np", "from mlp.learning_rules import GradientDescentLearningRule")


def _momentum_settings(learning_rate: float) -> dict[str, float]:
    return {"learning_rate": learning_rate, "mom_coeff": 0.9}


def _adam_settings(learning_rate: float) -> dict[str, float]:
    return {"learning_rate": learning_rate, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8}


def _momentum_cases(rng: np.random.Generator) -> list[Case]:
    return _rule_cases(rng, _momentum_settings)


def _adam_cases(rng: np.random.Generator) -> list[Case]:
    cases = _rule_cases(rng, _adam_settings)
    # Other betas and a large epsilon, so a swap or a misplaced epsilon shows plainly.
    settings = {"learning_rate": 0.1, "beta_1": 0.5, "beta_2": 0.75, "epsilon": 0.5}
    shapes = [(2, 2)]
    grads = [rng.normal(size=(4, *s)) for s in shapes]
    cases.append(
        _rule_case("other hyperparameters", [rng.normal(size=s) for s in shapes], grads, settings)
    )
    return cases


def _rule_method(hyperparameters: Sequence[str]) -> Method:
    def run(cls: type, case: Case) -> list[Array]:
        return _run_rule(cls, case, hyperparameters)

    return Method("update_params", run)


RULE_EXERCISES = (
    Exercise(
        name="momentum",
        title="Gradient descent with momentum",
        class_name="MomentumLearningRule",
        reference=MomentumLearningRule,
        methods=(_rule_method(("learning_rate", "mom_coeff")),),
        skeleton=_MOMENTUM_SKELETON.lstrip("\n"),
        cases=_momentum_cases,
        mistakes=_momentum_mistakes(),
        imports=_RULE_IMPORTS,
        notes={"checked": "initialise, then update_params once per step"},
    ),
    Exercise(
        name="adam",
        title="Adam",
        class_name="AdamLearningRule",
        reference=AdamLearningRule,
        methods=(_rule_method(("learning_rate", "beta_1", "beta_2", "epsilon")),),
        skeleton=_ADAM_SKELETON.lstrip("\n"),
        cases=_adam_cases,
        mistakes=_adam_mistakes(),
        imports=_RULE_IMPORTS,
        notes={"checked": "initialise, then update_params once per step"},
    ),
)
"""The learning-rule exercises, in catalogue order."""
