"""The penalty exercises (`mlp.penalties`): L1 and L2.

Each checks `__call__` and `grad` on one parameter array of any shape; the gradient
check compares a class's `grad` with central differences of its own `__call__`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlp.exercises.case_tools import array, float64, number, planted, scalar
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.gradcheck import numerical_gradient, relative_error
from mlp.penalties import L1Penalty, L2Penalty

__all__ = ["PENALTY_EXERCISES"]

Array = np.ndarray


def _run_penalty_call(cls: type, case: Case) -> float:
    """The penalty of the case's parameter, as a float."""
    with float64():
        penalty = cls(number(case, "coefficient"))
        return scalar(penalty(array(case, "parameter")), "__call__")


def _run_penalty_grad(cls: type, case: Case) -> Array:
    """grad(parameter): shaped like the parameter."""
    with float64():
        return cls(number(case, "coefficient")).grad(array(case, "parameter"))


def _penalty_gradient_check(cls: type, case: Case) -> float:
    """Largest relative error of grad against central differences of the class's own
    penalty at the case's parameter (float64)."""
    with float64():
        penalty = cls(number(case, "coefficient"))
        parameter = array(case, "parameter").astype(np.float64)
        numeric = numerical_gradient(lambda: float(penalty(parameter)), parameter)
        return relative_error(np.asarray(penalty.grad(parameter.copy())), numeric)


PENALTY_METHODS = (Method("__call__", _run_penalty_call), Method("grad", _run_penalty_grad))


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> Array:
    """Random entries of either sign with 0.1 <= |p| < 2: central differences of |p|
    are exact only more than a step away from its kink at 0."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 2.0, size=shape)


def _penalty_cases(rng: np.random.Generator) -> list[Case]:
    def case(label: str, parameter: object, coefficient: float) -> Case:
        values = np.asarray(parameter, dtype=np.float64)
        return Case(label, {"parameter": values}, {"coefficient": coefficient})

    return [
        case("small", [[1.0, -2.0], [0.5, 0.0]], 0.1),
        case("random", _away_from_zero(rng, (3, 4)), float(rng.uniform(0.01, 1.0))),
        case("large magnitudes", 1e4 * _away_from_zero(rng, (2, 3)), 1e-3),
        case("zeros", np.zeros((2, 3)), 0.5),
        case("shape (5,)", _away_from_zero(rng, (5,)), 0.25),
        case("shape (2, 3, 4)", _away_from_zero(rng, (2, 3, 4)), 2.0),
    ]


def _penalty_mistake(
    reference: type, name: str, method: str, hint: str, body: Callable[..., object]
) -> Mistake:
    return Mistake(name, method, hint, planted(reference, method, body, name))


def _l1_mistakes() -> tuple[Mistake, ...]:
    return (
        _penalty_mistake(
            L1Penalty,
            "no-abs",
            "__call__",
            "the penalty summed the parameters themselves: sum their absolute values |p|",
            lambda s, p: s.coefficient * float(np.sum(p)),
        ),
        _penalty_mistake(
            L1Penalty,
            "l2-gradient",
            "grad",
            "this is coefficient * p, the L2 penalty's gradient; the derivative of |p| "
            "is sign(p), so the L1 gradient is coefficient * sign(p)",
            lambda s, p: s.coefficient * np.asarray(p, dtype=np.float64),
        ),
        _penalty_mistake(
            L1Penalty,
            "no-coefficient",
            "grad",
            "the gradient is missing the coefficient: coefficient * sign(p)",
            lambda s, p: np.sign(p).astype(np.float64),
        ),
        _penalty_mistake(
            L1Penalty,
            "sign-of-zero",
            "grad",
            "a parameter of exactly 0 got a gradient of +-coefficient: take sign(0) = 0 "
            "(np.sign does), so a zero parameter stays at zero",
            lambda s, p: s.coefficient * np.where(np.asarray(p) >= 0, 1.0, -1.0),
        ),
    )


def _l2_mistakes() -> tuple[Mistake, ...]:
    return (
        _penalty_mistake(
            L2Penalty,
            "no-half",
            "__call__",
            "the penalty is twice too large: it is 0.5 * coefficient * sum(p ** 2)",
            lambda s, p: s.coefficient * float(np.sum(np.square(p))),
        ),
        _penalty_mistake(
            L2Penalty,
            "norm-not-squared",
            "__call__",
            "the penalty used the norm ||p||; it is half the coefficient times the "
            "squared norm, 0.5 * coefficient * sum(p ** 2)",
            lambda s, p: 0.5 * s.coefficient * float(np.sqrt(np.sum(np.square(p)))),
        ),
        _penalty_mistake(
            L2Penalty,
            "factor-two",
            "grad",
            "the gradient is twice too large: the penalty's 0.5 cancels the 2 from "
            "differentiating p ** 2, leaving coefficient * p",
            lambda s, p: 2 * s.coefficient * np.asarray(p, dtype=np.float64),
        ),
        _penalty_mistake(
            L2Penalty,
            "l1-gradient",
            "grad",
            "this is coefficient * sign(p), the L1 penalty's gradient; the L2 gradient "
            "is coefficient * p",
            lambda s, p: s.coefficient * np.sign(p).astype(np.float64),
        ),
    )


_L1_SKELETON = '''
class L1Penalty:
    """L1 penalty (lasso) of one parameter array: pushes parameters to exactly zero.

    For a parameter p of any shape and a coefficient c >= 0:

        penalty(p) = c * sum_i |p_i|
        d penalty / d p_i = c * sign(p_i)        with sign(0) = 0

    Args:
        coefficient: c, the penalty's weight.
    """

    def __init__(self, coefficient: float) -> None:
        self.coefficient = coefficient

    def __call__(self, parameter: np.ndarray) -> float:
        """The penalty, a float; parameter of any shape."""
        raise NotImplementedError("L1Penalty.__call__: compute c * sum |p|")

    def grad(self, parameter: np.ndarray) -> np.ndarray:
        """The penalty's gradient, shaped like parameter."""
        raise NotImplementedError("L1Penalty.grad: compute c * sign(p)")
'''

_L2_SKELETON = '''
class L2Penalty:
    """L2 penalty (weight decay) of one parameter array: shrinks parameters towards 0.

    For a parameter p of any shape and a coefficient c >= 0:

        penalty(p) = 0.5 * c * sum_i p_i ** 2
        d penalty / d p_i = c * p_i

    Args:
        coefficient: c, the penalty's weight.
    """

    def __init__(self, coefficient: float) -> None:
        self.coefficient = coefficient

    def __call__(self, parameter: np.ndarray) -> float:
        """The penalty, a float; parameter of any shape."""
        raise NotImplementedError("L2Penalty.__call__: compute 0.5 * c * sum p ** 2")

    def grad(self, parameter: np.ndarray) -> np.ndarray:
        """The penalty's gradient, shaped like parameter."""
        raise NotImplementedError("L2Penalty.grad: compute c * p")
'''


def _penalty_exercise(
    name: str, title: str, reference: type, skeleton: str, mistakes: tuple[Mistake, ...]
) -> Exercise:
    return Exercise(
        name=name,
        title=title,
        class_name=reference.__name__,
        reference=reference,
        methods=PENALTY_METHODS,
        skeleton=skeleton.lstrip("\n"),
        cases=_penalty_cases,
        mistakes=mistakes,
        gradient_check=_penalty_gradient_check,
        imports=("import numpy as np",),
    )


PENALTY_EXERCISES = (
    _penalty_exercise("l1", "L1 penalty", L1Penalty, _L1_SKELETON, _l1_mistakes()),
    _penalty_exercise("l2", "L2 penalty (weight decay)", L2Penalty, _L2_SKELETON, _l2_mistakes()),
)
"""The penalty exercises, in catalogue order."""
