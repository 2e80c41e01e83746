"""The gradient checker itself: it must pass correct layers, catch buggy ones, leave what
it checks unchanged, and work on float32 layers by checking in float64."""

from __future__ import annotations

import numpy as np
import pytest

from mlp.errors import SumOfSquaredDiffsError
from mlp.gradcheck import (
    check_error_gradients,
    check_layer_gradients,
    numerical_gradient,
    relative_error,
)
from mlp.initialisers import UniformInit
from mlp.layers import AffineLayer, DropoutLayer, Layer, LayerWithParameters, TanhLayer
from mlp.penalties import L1Penalty, L2Penalty

PASS, FAIL = 1e-6, 0.1


class CubeLayer(Layer):
    """y = x**3, written the way a student would: dy/dx = 3 x**2."""

    def fprop(self, inputs):
        return inputs**3

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        return 3 * inputs**2 * grads_wrt_outputs


class ForgotTheChainRuleLayer(CubeLayer):
    """The classic bug: returns dy/dx without multiplying by the upstream gradient."""

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        return 3 * inputs**2


class ScaleLayer(LayerWithParameters):
    """y = x * s + c with parameters s and c of shape (dim,)."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        rng = np.random.RandomState(seed)
        self.scales = rng.uniform(0.5, 1.5, size=dim).astype(np.float32)
        self.shifts = rng.normal(size=dim).astype(np.float32)

    def fprop(self, inputs):
        return inputs * self.scales + self.shifts

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        return grads_wrt_outputs * self.scales

    def grads_wrt_params(self, inputs, grads_wrt_outputs):
        return [(grads_wrt_outputs * inputs).sum(axis=0), grads_wrt_outputs.sum(axis=0)]

    @property
    def params(self):
        return [self.scales, self.shifts]

    @params.setter
    def params(self, values):
        self.scales, self.shifts = values


class MeanInsteadOfSumLayer(ScaleLayer):
    """Bug in one parameter only: the shift gradient is averaged over the batch."""

    def grads_wrt_params(self, inputs, grads_wrt_outputs):
        return [(grads_wrt_outputs * inputs).sum(axis=0), grads_wrt_outputs.mean(axis=0)]


def _inputs(shape=(5, 4), seed: int = 0, dtype=np.float64) -> np.ndarray:
    return np.random.RandomState(seed).normal(size=shape).astype(dtype)


def test_passes_a_correct_custom_layer() -> None:
    assert check_layer_gradients(CubeLayer(), _inputs())["inputs"] < PASS


def test_catches_a_layer_that_forgets_the_chain_rule() -> None:
    assert check_layer_gradients(ForgotTheChainRuleLayer(), _inputs())["inputs"] > FAIL


def test_catches_a_wrong_sign() -> None:
    class WrongSignTanh(TanhLayer):
        def bprop(self, inputs, outputs, grads_wrt_outputs):
            return -super().bprop(inputs, outputs, grads_wrt_outputs)

    assert check_layer_gradients(TanhLayer(), _inputs())["inputs"] < PASS
    assert check_layer_gradients(WrongSignTanh(), _inputs())["inputs"] > FAIL


def test_checks_every_parameter_separately() -> None:
    good = check_layer_gradients(ScaleLayer(4), _inputs())
    assert set(good) == {"inputs", "params[0]", "params[1]"}
    assert max(good.values()) < PASS

    bad = check_layer_gradients(MeanInsteadOfSumLayer(4), _inputs())
    assert bad["inputs"] < PASS and bad["params[0]"] < PASS
    assert bad["params[1]"] > FAIL  # the mean is off by a factor of the batch size


def test_catches_transposed_affine_weights_in_bprop() -> None:
    class TransposedAffine(AffineLayer):
        def bprop(self, inputs, outputs, grads_wrt_outputs):
            # Square weights, so the shapes fit and only the values are wrong.
            return grads_wrt_outputs @ self.weights.T

    layer = TransposedAffine(4, 4, UniformInit(-1, 1, rng=np.random.RandomState(0)))
    assert check_layer_gradients(layer, _inputs())["inputs"] > FAIL


def test_leaves_the_layer_unchanged() -> None:
    layer = AffineLayer(4, 3, UniformInit(-1, 1, rng=np.random.RandomState(0)))
    weights, biases = layer.params
    saved = [weights.copy(), biases.copy()]
    check_layer_gradients(layer, _inputs())
    assert layer.params[0] is weights and layer.params[1] is biases
    assert layer.dtype == weights.dtype == biases.dtype == np.float32
    for param, before in zip(layer.params, saved, strict=True):
        np.testing.assert_array_equal(param, before)


def test_leaves_a_stochastic_layers_rng_unchanged() -> None:
    layer = DropoutLayer(np.random.RandomState(0), incl_prob=0.5)
    state_before = layer.rng.get_state()[1].copy()
    errors = check_layer_gradients(layer, _inputs())
    assert errors["inputs"] < PASS
    np.testing.assert_array_equal(layer.rng.get_state()[1], state_before)


def test_float32_layers_are_checked_in_float64() -> None:
    # In float32 central differences could not get near 1e-6; the checker works on a
    # float64 copy, so a float32 layer and float32 inputs check just as well.
    layer = AffineLayer(4, 3, UniformInit(-1, 1, rng=np.random.RandomState(0)))
    assert layer.weights.dtype == np.float32
    errors = check_layer_gradients(layer, _inputs(dtype=np.float32))
    assert set(errors) == {"inputs", "params[0]", "params[1]"}
    assert max(errors.values()) < PASS
    assert max(check_layer_gradients(ScaleLayer(4), _inputs(dtype=np.float32)).values()) < PASS


def test_numerical_gradient_of_a_known_function() -> None:
    x = _inputs((3, 2))
    before = x.copy()
    grad = numerical_gradient(lambda: float(np.sum(np.sin(x) * x)), x)
    np.testing.assert_allclose(grad, np.cos(before) * before + np.sin(before), rtol=1e-9)
    np.testing.assert_array_equal(x, before)  # perturbed in place, then restored


def test_numerical_gradient_refuses_arrays_it_cannot_perturb_in_place() -> None:
    x = _inputs((4, 3)).T  # a view that reshape(-1) would have to copy
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: float(x.sum()), x)


def test_relative_error() -> None:
    a = np.array([1.0, -2.0, 3.0])
    assert relative_error(a, a.copy()) == 0.0
    assert relative_error(a, -a) == pytest.approx(2.0)
    assert relative_error(a, a * (1 + 1e-7)) == pytest.approx(1e-7, rel=1e-3)
    # A small entry that is wrong by a lot relative to itself still shows...
    assert relative_error([1.0, 0.01], [1.0, 0.02]) == pytest.approx(0.5)
    # ...but round-off far below a thousandth of the largest entry does not.
    assert relative_error([1.0, 1e-14], [1.0, 2e-14]) < 1e-10
    with pytest.raises(ValueError, match="shape"):
        relative_error(np.zeros(3), np.zeros(4))


def test_check_error_gradients_passes_and_catches() -> None:
    outputs, targets = _inputs((4, 3), seed=1), _inputs((4, 3), seed=2)
    assert check_error_gradients(SumOfSquaredDiffsError(), outputs, targets) < PASS

    class ForgotTheBatchSize(SumOfSquaredDiffsError):
        def grad(self, outputs, targets):
            return outputs - targets

    assert check_error_gradients(ForgotTheBatchSize(), outputs, targets) > FAIL


@pytest.mark.parametrize(
    "penalty", [L2Penalty(1e-4), L1Penalty(1e-3), L2Penalty(0.5)], ids=["l2-small", "l1", "l2-big"]
)
def test_a_correct_layer_with_a_penalty_passes_the_check(penalty) -> None:
    # Seeded weights and upstream gradients: the default streams are shared by the
    # whole process, so they would depend on what other tests drew first, and L1's
    # kink at 0 fails a finite difference that steps across it.
    rng = np.random.RandomState(0)
    layer = AffineLayer(
        5,
        4,
        UniformInit(-0.5, 0.5, rng=rng),
        UniformInit(-0.5, 0.5, rng=rng),
        weights_penalty=penalty,
        biases_penalty=penalty,
        dtype=np.float64,
    )
    inputs = np.random.RandomState(3).normal(size=(3, 5))
    errors = check_layer_gradients(layer, inputs, rng=np.random.RandomState(1))
    assert max(errors.values()) < 1e-6, errors
