"""Every error: gradient checks, PyTorch as an oracle, stability at the extremes, shapes.

Our errors sum over the output dimension and average over the batch; the PyTorch
equivalents below are written to do the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mlp.errors import (
    BinaryCrossEntropyError,
    BinaryCrossEntropySigmoidError,
    CrossEntropyError,
    CrossEntropySoftmaxError,
    SumOfSquaredDiffsError,
)
from mlp.gradcheck import check_error_gradients

BATCH, DIM = 5, 4
GRAD_TOL = 1e-6
TORCH_TOL = 1e-10


def _one_hot(labels: np.ndarray, dim: int) -> np.ndarray:
    targets = np.zeros((labels.size, dim))
    targets[np.arange(labels.size), labels] = 1.0
    return targets


def _logits_and_one_hot(rng: np.random.RandomState, scale: float = 2.0):
    return rng.normal(scale=scale, size=(BATCH, DIM)), _one_hot(rng.randint(DIM, size=BATCH), DIM)


def _probabilities_and_one_hot(rng: np.random.RandomState):
    # Moderate logits keep every probability well above the checker's step of 1e-4: near
    # y = 0.003 the five-point difference of log(y) is itself off by about 1e-6.
    logits, targets = _logits_and_one_hot(rng, scale=0.5)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True), targets


def _real_pairs(rng: np.random.RandomState):
    return rng.normal(size=(BATCH, DIM)), rng.normal(size=(BATCH, DIM))


def _probabilities_and_binary(rng: np.random.RandomState):
    return rng.uniform(0.05, 0.95, size=(BATCH, DIM)), rng.randint(2, size=(BATCH, DIM)) * 1.0


def _logits_and_binary(rng: np.random.RandomState):
    return rng.normal(scale=2.0, size=(BATCH, DIM)), rng.randint(2, size=(BATCH, DIM)) * 1.0


def _labels(targets: torch.Tensor) -> torch.Tensor:
    return targets.argmax(dim=1)


@dataclass(frozen=True)
class ErrorCase:
    error_class: type
    data: Callable  # rng -> (outputs, targets), float64
    torch_error: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

    def __str__(self) -> str:
        return self.error_class.__name__


ERROR_CASES = [
    ErrorCase(
        CrossEntropyError,
        _probabilities_and_one_hot,
        lambda y, t: F.nll_loss(torch.log(y), _labels(t)),
    ),
    ErrorCase(
        CrossEntropySoftmaxError,
        _logits_and_one_hot,
        lambda y, t: F.cross_entropy(y, _labels(t)),
    ),
    ErrorCase(
        SumOfSquaredDiffsError,
        _real_pairs,
        lambda y, t: 0.5 * ((y - t) ** 2).sum() / y.shape[0],
    ),
    ErrorCase(
        BinaryCrossEntropyError,
        _probabilities_and_binary,
        lambda y, t: F.binary_cross_entropy(y, t, reduction="sum") / y.shape[0],
    ),
    ErrorCase(
        BinaryCrossEntropySigmoidError,
        _logits_and_binary,
        lambda y, t: F.binary_cross_entropy_with_logits(y, t, reduction="sum") / y.shape[0],
    ),
]


def gradient_check_error(case: ErrorCase) -> float:
    outputs, targets = case.data(np.random.RandomState(0))
    return check_error_gradients(case.error_class(), outputs, targets)


def torch_discrepancies(case: ErrorCase, seed: int = 1) -> dict[str, float]:
    """Largest absolute differences from PyTorch, float64, of the value and the gradient."""
    outputs, targets = case.data(np.random.RandomState(seed))
    error = case.error_class()
    outputs_torch = torch.tensor(outputs, requires_grad=True)
    value_torch = case.torch_error(outputs_torch, torch.from_numpy(targets))
    value_torch.backward()
    return {
        "value": abs(error(outputs, targets) - value_torch.item()),
        "grad": float(np.abs(error.grad(outputs, targets) - outputs_torch.grad.numpy()).max()),
    }


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_gradient_check(case: ErrorCase) -> None:
    error = gradient_check_error(case)
    assert error < GRAD_TOL, f"{case}: relative error {error:.2e}"


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_matches_pytorch(case: ErrorCase, seed: int) -> None:
    for name, diff in torch_discrepancies(case, seed).items():
        assert diff < TORCH_TOL, f"{case} {name}: differs from torch by {diff:.2e}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_value_is_a_float_and_grad_is_shaped_like_outputs(case: ErrorCase, dtype) -> None:
    outputs, targets = (a.astype(dtype) for a in case.data(np.random.RandomState(3)))
    error = case.error_class()
    value = error(outputs, targets)
    assert isinstance(value, float) and np.isfinite(value)
    grad = error.grad(outputs, targets)
    assert grad.shape == outputs.shape
    assert grad.dtype == dtype


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_is_a_mean_over_the_batch(case: ErrorCase) -> None:
    # The error of a batch is the mean of the errors of its examples.
    outputs, targets = case.data(np.random.RandomState(4))
    error = case.error_class()
    singles = [error(outputs[i : i + 1], targets[i : i + 1]) for i in range(BATCH)]
    assert error(outputs, targets) == pytest.approx(np.mean(singles), rel=1e-12)


# ---------------------------------------------------------------------------------------
# The extremes: logits of +-1000, probabilities of exactly 0 and 1
# ---------------------------------------------------------------------------------------

HUGE_LOGITS = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, -1000.0]])
ONE_HOT = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])  # the second row is badly wrong
BINARY = np.array([[1.0, 0.0, 1.0], [1.0, 1.0, 0.0]])
CERTAIN = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # probabilities of exactly 0 and 1

EXTREME_CASES = {
    "CrossEntropySoftmaxError-logits": (CrossEntropySoftmaxError, HUGE_LOGITS, ONE_HOT),
    "BinaryCrossEntropySigmoidError-logits": (
        BinaryCrossEntropySigmoidError,
        HUGE_LOGITS,
        BINARY,
    ),
    "SumOfSquaredDiffsError-huge": (SumOfSquaredDiffsError, HUGE_LOGITS, ONE_HOT),
    "CrossEntropyError-certain-right": (CrossEntropyError, CERTAIN, CERTAIN),
    "CrossEntropyError-certain-wrong": (CrossEntropyError, CERTAIN, ONE_HOT),
    "BinaryCrossEntropyError-certain-right": (BinaryCrossEntropyError, CERTAIN, CERTAIN),
    "BinaryCrossEntropyError-certain-wrong": (BinaryCrossEntropyError, CERTAIN, BINARY),
}


def _quietly(function, *args):
    # Overflow, division by zero and invalid operations raise; so does any warning.
    # Underflow to exactly 0 is a correct result and NumPy ignores it by default.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        return function(*args)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXTREME_CASES))
def test_extremes_are_finite_and_warning_free(name: str, dtype) -> None:
    error_class, outputs, targets = EXTREME_CASES[name]
    error = error_class()
    outputs, targets = outputs.astype(dtype), targets.astype(dtype)
    value = _quietly(error, outputs, targets)
    grad = _quietly(error.grad, outputs, targets)
    assert np.isfinite(value)
    assert np.isfinite(grad).all()
    assert grad.dtype == dtype
    if name.endswith("certain-right"):
        assert value == 0.0
    if name.endswith("certain-wrong"):
        assert value > 10.0  # a confident mistake costs a lot


@pytest.mark.parametrize("error_class", [CrossEntropySoftmaxError, BinaryCrossEntropySigmoidError])
def test_huge_logits_match_pytorch(error_class) -> None:
    # Folding the non-linearity into the error keeps even +-1000 logits exact.
    case = next(c for c in ERROR_CASES if c.error_class is error_class)
    targets = ONE_HOT if error_class is CrossEntropySoftmaxError else BINARY
    error = error_class()
    outputs_torch = torch.tensor(HUGE_LOGITS, requires_grad=True)
    value_torch = case.torch_error(outputs_torch, torch.from_numpy(targets))
    value_torch.backward()
    assert error(HUGE_LOGITS, targets) == pytest.approx(value_torch.item(), rel=1e-12)
    np.testing.assert_allclose(
        error.grad(HUGE_LOGITS, targets), outputs_torch.grad.numpy(), rtol=1e-12, atol=1e-15
    )


def test_cross_entropy_softmax_worked_example() -> None:
    # Logits [0, log 3]: softmax = [1/4, 3/4]. With target class 1 the error is
    # -log(3/4) = log(4/3), and the gradient softmax - t = [1/4, -1/4] (batch of 1).
    outputs = np.array([[0.0, np.log(3.0)]])
    targets = np.array([[0.0, 1.0]])
    error = CrossEntropySoftmaxError()
    assert error(outputs, targets) == pytest.approx(np.log(4.0 / 3.0), rel=1e-14)
    np.testing.assert_allclose(error.grad(outputs, targets), [[0.25, -0.25]], rtol=1e-14)


# ---------------------------------------------------------------------------------------
# Shapes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outputs_shape", "targets_shape"),
    [((3, 4), (3, 5)), ((3, 4), (2, 4)), ((4,), (4,)), ((3, 4), (12,))],
)
@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_shape_mismatch_raises_value_error(case: ErrorCase, outputs_shape, targets_shape) -> None:
    error = case.error_class()
    outputs, targets = np.full(outputs_shape, 0.5), np.full(targets_shape, 0.5)
    with pytest.raises(ValueError, match="shape"):
        error(outputs, targets)
    with pytest.raises(ValueError, match="shape"):
        error.grad(outputs, targets)


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_repr_names_the_error(case: ErrorCase) -> None:
    assert case.error_class.__name__ in repr(case.error_class())


@pytest.mark.parametrize("case", ERROR_CASES, ids=str)
def test_an_empty_batch_is_a_clear_error(case: ErrorCase) -> None:
    error = case.error_class()
    empty = np.zeros((0, 10), np.float32)
    for call in (error, error.grad):
        with pytest.raises(ValueError, match="empty batch"):
            call(empty, empty)
