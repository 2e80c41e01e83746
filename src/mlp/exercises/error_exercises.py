"""The error exercises (`mlp.errors`): sum of squared differences, cross-entropy of
probabilities, and cross-entropy of a softmax of logits.

Each checks `__call__` (the error averaged over the batch) and `grad` (its gradient
with respect to the outputs, divided by the batch size); the gradient check compares a
class's `grad` with central differences of its own `__call__`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mlp import functional
from mlp.errors import CrossEntropyError, CrossEntropySoftmaxError, SumOfSquaredDiffsError
from mlp.exercises.case_tools import array, difference_step, float64, planted, scalar
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.gradcheck import check_error_gradients

__all__ = ["ERROR_EXERCISES"]

Array = np.ndarray


def _run_error_call(cls: type, case: Case) -> float:
    """The error of the case's outputs and targets, as a float."""
    with float64():
        return scalar(cls()(array(case, "outputs"), array(case, "targets")), "__call__")


def _run_error_grad(cls: type, case: Case) -> Array:
    """grad(outputs, targets): (batch_size, output_dim)."""
    with float64():
        return cls().grad(array(case, "outputs"), array(case, "targets"))


def _error_gradient_check(cls: type, case: Case) -> float:
    """Largest relative error of grad against central differences of the class's own
    error on the case's outputs (float64)."""
    outputs = array(case, "outputs")
    eps = difference_step(outputs)
    with float64():
        return check_error_gradients(cls(), outputs, array(case, "targets"), eps=eps)


ERROR_METHODS = (Method("__call__", _run_error_call), Method("grad", _run_error_grad))


def _error_case(label: str, outputs: object, targets: object) -> Case:
    return Case(
        label,
        {
            "outputs": np.asarray(outputs, dtype=np.float64),
            "targets": np.asarray(targets, dtype=np.float64),
        },
    )


def _one_hot(rng: np.random.Generator, batch_size: int, dim: int) -> Array:
    """(batch_size, dim) one-of-K rows, each class drawn uniformly."""
    return np.eye(dim)[rng.integers(dim, size=batch_size)]


def _regression_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _error_case(
            "small", [[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]], [[1.0, 0.0], [0.0, 0.0], [1.0, 1.0]]
        ),
        _error_case("random", rng.normal(size=(4, 3)), rng.normal(size=(4, 3))),
        _error_case(
            "large magnitudes", 1e3 * rng.normal(size=(3, 2)), 1e3 * rng.normal(size=(3, 2))
        ),
        _error_case("zeros", np.zeros((3, 2)), np.zeros((3, 2))),
        _error_case("shape (1, 1)", [[0.7]], [[0.2]]),
        _error_case("shape (6, 5)", rng.normal(size=(6, 5)), rng.normal(size=(6, 5))),
    ]


def _logit_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _error_case("small", [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], [[0, 0, 1], [1, 0, 0]]),
        _error_case("random", 2 * rng.normal(size=(5, 4)), _one_hot(rng, 5, 4)),
        _error_case("large magnitudes", 1e3 * rng.normal(size=(3, 4)), _one_hot(rng, 3, 4)),
        _error_case("zeros", np.zeros((3, 4)), _one_hot(rng, 3, 4)),
        _error_case("shape (1, 2)", [[0.5, -0.5]], [[0, 1]]),
        _error_case("shape (8, 10)", rng.normal(size=(8, 10)), _one_hot(rng, 8, 10)),
    ]


def _probability_cases(rng: np.random.Generator) -> list[Case]:
    # No nearer 0 than 1e-3: the gradient check's steps (up to 2e-4) must stay positive.
    near = [[1e-3, 0.998, 1e-3], [0.998, 1e-3, 1e-3]]
    return [
        _error_case("small", [[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]], [[0, 0, 1], [1, 0, 0]]),
        _error_case("random", functional.softmax(rng.normal(size=(5, 4))), _one_hot(rng, 5, 4)),
        _error_case("probabilities near 0 and 1", near, [[0, 1, 0], [1, 0, 0]]),
        _error_case("zero targets", functional.softmax(rng.normal(size=(3, 4))), np.zeros((3, 4))),
        _error_case("shape (1, 2)", [[0.25, 0.75]], [[0, 1]]),
    ]


def _batch_size(outputs: Array) -> int:
    return int(np.shape(outputs)[0])


def _error_mistakes(
    reference: type, grad_mistakes: list[tuple[str, str, Callable[..., Array]]]
) -> tuple[Mistake, ...]:
    """The grad mistakes given, plus the one every error's `__call__` can have: the
    error summed over the batch rather than averaged."""

    def summed(self: object, outputs: Array, targets: Array) -> float:
        return reference.__call__(self, outputs, targets) * _batch_size(outputs)

    summed_hint = (
        "the error is summed over the batch: divide it by the batch size "
        "(outputs.shape[0]) to get the mean over the examples"
    )
    mistakes = [
        Mistake(
            "sum-over-batch",
            "__call__",
            summed_hint,
            planted(reference, "__call__", summed, "sum-over-batch"),
        )
    ]
    for name, hint, body in grad_mistakes:
        mistakes.append(Mistake(name, "grad", hint, planted(reference, "grad", body, name)))
    return tuple(mistakes)


_NO_BATCH_MEAN = (
    "the gradient is not divided by the batch size: the error is a mean over the batch, "
    "so each example's gradient carries a factor 1 / batch_size"
)
_SIGN_FLIP = "the gradient has the wrong sign: it points downhill; the gradient points uphill"


def _ssd_mistakes() -> tuple[Mistake, ...]:
    ref = SumOfSquaredDiffsError.grad
    return _error_mistakes(
        SumOfSquaredDiffsError,
        [
            ("no-batch-mean", _NO_BATCH_MEAN, lambda s, y, t: ref(s, y, t) * _batch_size(y)),
            ("sign-flip", _SIGN_FLIP + ": (y - t), not (t - y)", lambda s, y, t: -ref(s, y, t)),
            (
                "factor-two",
                "the gradient is twice too large: the error's 1/2 cancels the 2 from "
                "differentiating the square, leaving (y - t) / batch_size",
                lambda s, y, t: 2 * ref(s, y, t),
            ),
        ],
    )


def _softmax_grad_mistakes() -> tuple[Mistake, ...]:
    ref = CrossEntropySoftmaxError.grad
    return _error_mistakes(
        CrossEntropySoftmaxError,
        [
            ("no-batch-mean", _NO_BATCH_MEAN, lambda s, y, t: ref(s, y, t) * _batch_size(y)),
            (
                "sign-flip",
                _SIGN_FLIP + ": (softmax(y) - t), not (t - softmax(y))",
                lambda s, y, t: -ref(s, y, t),
            ),
            (
                "no-softmax",
                "the gradient used the outputs themselves: they are logits, so take "
                "softmax(outputs) first, then subtract the targets",
                lambda s, y, t: (y - t) / _batch_size(y),
            ),
            (
                "softmax-over-batch",
                "the softmax was taken down the columns (over the batch, axis 0): take it "
                "along each row (axis=-1), one distribution per example",
                lambda s, y, t: (functional.softmax(np.asarray(y).T).T - t) / _batch_size(y),
            ),
        ],
    )


def _cross_entropy_mistakes() -> tuple[Mistake, ...]:
    ref = CrossEntropyError.grad
    return _error_mistakes(
        CrossEntropyError,
        [
            ("no-batch-mean", _NO_BATCH_MEAN, lambda s, y, t: ref(s, y, t) * _batch_size(y)),
            ("sign-flip", _SIGN_FLIP + ": -t / y, with the minus", lambda s, y, t: -ref(s, y, t)),
            (
                "softmax-gradient",
                "this is (y - t) / batch_size, the gradient of the cross-entropy of a "
                "softmax of logits; here the outputs are already probabilities: -t / y",
                lambda s, y, t: (y - t) / _batch_size(y),
            ),
        ],
    )


_SSD_SKELETON = '''
class SumOfSquaredDiffsError:
    """Sum of squared differences, averaged over the batch.

    With outputs y and targets t, both (batch_size, output_dim), and N = batch_size:

        E = (1 / N) * sum_n 0.5 * sum_k (y[n, k] - t[n, k]) ** 2

    and its gradient with respect to the outputs (already divided by N: a model's
    bprop starts from it):

        dE/dy[n, k] = (y[n, k] - t[n, k]) / N
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The error E, a float. outputs and targets: (batch_size, output_dim)."""
        raise NotImplementedError("SumOfSquaredDiffsError.__call__: compute E")

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """dE/dy, shape (batch_size, output_dim)."""
        raise NotImplementedError("SumOfSquaredDiffsError.grad: compute dE/dy")
'''

_SOFTMAX_SKELETON = '''
class CrossEntropySoftmaxError:
    """Cross-entropy of the softmax of the outputs (logits), averaged over the batch.

    With logits y and one-of-K targets t, both (batch_size, output_dim), N = batch_size
    and p = softmax(y) taken along each row, p[n, k] = exp(y[n, k]) / sum_j exp(y[n, j]):

        E = -(1 / N) * sum_n sum_k t[n, k] * log p[n, k]
        dE/dy[n, k] = (p[n, k] - t[n, k]) / N

    Subtract each row's maximum from its logits before exp (softmax does not change):
    logits of +-1000 must give finite numbers.
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The error E, a float. outputs (logits) and targets: (batch_size, output_dim)."""
        raise NotImplementedError("CrossEntropySoftmaxError.__call__: compute E")

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """dE/dy, shape (batch_size, output_dim)."""
        raise NotImplementedError("CrossEntropySoftmaxError.grad: compute dE/dy")
'''

_CROSS_ENTROPY_SKELETON = '''
class CrossEntropyError:
    """Cross-entropy of outputs that are already probabilities (after a softmax layer),
    averaged over the batch.

    With probabilities y and one-of-K targets t, both (batch_size, output_dim), and
    N = batch_size:

        E = -(1 / N) * sum_n sum_k t[n, k] * log y[n, k]
        dE/dy[n, k] = -t[n, k] / (N * y[n, k])
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """The error E, a float. outputs and targets: (batch_size, output_dim)."""
        raise NotImplementedError("CrossEntropyError.__call__: compute E")

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """dE/dy, shape (batch_size, output_dim)."""
        raise NotImplementedError("CrossEntropyError.grad: compute dE/dy")
'''


def _error_exercise(
    name: str,
    title: str,
    reference: type,
    skeleton: str,
    cases: Callable[[np.random.Generator], list[Case]],
    mistakes: tuple[Mistake, ...],
) -> Exercise:
    return Exercise(
        name=name,
        title=title,
        class_name=reference.__name__,
        reference=reference,
        methods=ERROR_METHODS,
        skeleton=skeleton.lstrip("\n"),
        cases=cases,
        mistakes=mistakes,
        gradient_check=_error_gradient_check,
        imports=("import numpy as np",),
    )


ERROR_EXERCISES = (
    _error_exercise(
        "sum_of_squares",
        "Sum of squared differences error",
        SumOfSquaredDiffsError,
        _SSD_SKELETON,
        _regression_cases,
        _ssd_mistakes(),
    ),
    _error_exercise(
        "cross_entropy_softmax",
        "Cross-entropy of a softmax (from logits)",
        CrossEntropySoftmaxError,
        _SOFTMAX_SKELETON,
        _logit_cases,
        _softmax_grad_mistakes(),
    ),
    _error_exercise(
        "cross_entropy",
        "Cross-entropy of probabilities",
        CrossEntropyError,
        _CROSS_ENTROPY_SKELETON,
        _probability_cases,
        _cross_entropy_mistakes(),
    ),
)
"""The error exercises, in catalogue order."""
