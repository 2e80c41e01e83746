"""The stable building blocks: accurate in the tails, finite and silent at the extremes."""

import warnings

import numpy as np
import pytest

from mlp import functional


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_keeps_full_relative_precision_in_both_tails(dtype):
    x = np.linspace(-80, 80, 1601).astype(dtype)
    exact = 1 / (1 + np.exp(-x.astype(np.longdouble)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = functional.sigmoid(x)
    assert got.dtype == dtype
    tolerance = 4 * np.finfo(dtype).eps
    np.testing.assert_allclose(got.astype(np.longdouble), exact, rtol=tolerance, atol=0)


def test_sigmoid_of_extreme_inputs_is_exact_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = functional.sigmoid(np.array([-1e4, -1000, 1000, 1e4], dtype=np.float32))
    np.testing.assert_array_equal(got, [0, 0, 1, 1])


def test_log_softmax_equals_log_of_softmax_and_is_finite_for_huge_logits():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    np.testing.assert_allclose(functional.log_softmax(x), np.log(functional.softmax(x)), atol=1e-14)
    big = np.array([[1000.0, -1000.0, 0.0]])
    assert np.isfinite(functional.log_softmax(big)).all()
    np.testing.assert_allclose(functional.softmax(big), [[1, 0, 0]])


def test_softplus_matches_the_direct_formula_where_that_is_safe():
    x = np.linspace(-30, 30, 121)
    np.testing.assert_allclose(functional.softplus(x), np.log1p(np.exp(x)), rtol=1e-12)
    assert functional.softplus(np.array([1000.0]))[0] == 1000.0
