"""float32 end to end by default, float64 when asked for, nothing else accepted."""

from __future__ import annotations

import numpy as np
import pytest

import mlp
from mlp.errors import (
    BinaryCrossEntropyError,
    BinaryCrossEntropySigmoidError,
    CrossEntropyError,
    CrossEntropySoftmaxError,
    SumOfSquaredDiffsError,
)
from mlp.layers import (
    AffineLayer,
    DropoutLayer,
    ELULayer,
    LeakyReluLayer,
    ReluLayer,
    SigmoidLayer,
    TanhLayer,
)
from mlp.learning_rules import (
    AdaGradLearningRule,
    AdamLearningRule,
    GradientDescentLearningRule,
    MomentumLearningRule,
    NesterovMomentumLearningRule,
    RMSPropLearningRule,
)
from mlp.models import MultipleLayerModel

RULES = [
    GradientDescentLearningRule,
    MomentumLearningRule,
    NesterovMomentumLearningRule,
    AdaGradLearningRule,
    RMSPropLearningRule,
    AdamLearningRule,
]
ERRORS = [
    CrossEntropyError,
    CrossEntropySoftmaxError,
    SumOfSquaredDiffsError,
    BinaryCrossEntropyError,
    BinaryCrossEntropySigmoidError,
]


def _float64_draws(seed: int):
    """An initialiser as a user might write one: NumPy's float64 draws, no cast."""
    rng = np.random.RandomState(seed)
    return lambda shape: rng.uniform(-0.5, 0.5, size=shape)


def _model() -> MultipleLayerModel:
    return MultipleLayerModel(
        [
            AffineLayer(6, 8, _float64_draws(0), _float64_draws(1)),
            SigmoidLayer(),
            AffineLayer(8, 8, _float64_draws(2), _float64_draws(3)),
            TanhLayer(),
            AffineLayer(8, 8, _float64_draws(4), _float64_draws(5)),
            ReluLayer(),
            DropoutLayer(np.random.RandomState(6), incl_prob=0.8),
            AffineLayer(8, 8, _float64_draws(7), _float64_draws(8)),
            LeakyReluLayer(),
            AffineLayer(8, 8, _float64_draws(9), _float64_draws(10)),
            ELULayer(),
            AffineLayer(8, 3, _float64_draws(11), _float64_draws(12)),
        ]
    )


def _batch(dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(0)
    inputs = rng.normal(size=(5, 6)).astype(dtype)
    targets = np.eye(3, dtype=dtype)[rng.randint(3, size=5)]
    return inputs, targets


def test_float32_is_the_default() -> None:
    assert mlp.get_default_dtype() == np.float32


@pytest.mark.parametrize("rule_class", RULES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_training_step_stays_in_the_default_dtype(dtype, rule_class) -> None:
    # float64 initialiser draws are cast; nothing is silently upcast along the way.
    with mlp.default_dtype(dtype):
        model = _model()
        inputs, targets = _batch(dtype)
    rule = rule_class()
    rule.initialise(model.params)
    error = CrossEntropySoftmaxError()
    for _ in range(2):
        activations = model.fprop(inputs)
        grads = model.grads_wrt_params(activations, error.grad(activations[-1], targets))
        rule.update_params(grads)
    assert all(a.dtype == dtype for a in activations)
    assert all(g.dtype == dtype for g in grads)
    assert all(p.dtype == dtype for p in model.params)
    for name, value in rule.state().items():
        if name != "step_count":
            assert all(array.dtype == dtype for array in value), name


def test_float64_inputs_do_not_upcast_a_float32_model() -> None:
    model = _model()
    inputs, targets = _batch(np.float64)
    activations = model.fprop(inputs)
    assert activations[-1].dtype == np.float32
    grads = model.grads_wrt_params(
        activations, CrossEntropySoftmaxError().grad(activations[-1], targets)
    )
    assert all(g.dtype == np.float32 for g in grads)


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda c: c.__name__)
def test_error_grads_keep_the_outputs_dtype_whatever_the_targets(error_class) -> None:
    outputs = np.random.RandomState(0).uniform(0.1, 0.9, size=(4, 3)).astype(np.float32)
    targets = np.eye(3)[[0, 2, 1, 1]]  # float64, as np.eye gives
    assert error_class().grad(outputs, targets).dtype == np.float32


@pytest.mark.parametrize("rule_class", RULES, ids=lambda c: c.__name__)
def test_learning_rule_keeps_float32_params_with_float64_grads(rule_class) -> None:
    params = [np.ones((2, 3), dtype=np.float32), np.ones(3, dtype=np.float32)]
    rule = rule_class(learning_rate=0.1)
    rule.initialise(params)
    rule.update_params([np.full((2, 3), 0.5), np.full(3, 0.5)])
    assert rule.params[0] is params[0]
    assert all(p.dtype == np.float32 for p in params)
    assert not np.array_equal(params[0], np.ones((2, 3)))


def test_default_dtype_context_manager_restores_even_after_an_error() -> None:
    with mlp.default_dtype(np.float64) as dtype:
        assert dtype == np.float64 == mlp.get_default_dtype()
        assert AffineLayer(2, 2).weights.dtype == np.float64
    assert mlp.get_default_dtype() == np.float32
    with pytest.raises(RuntimeError, match="boom"), mlp.default_dtype(np.float64):
        raise RuntimeError("boom")
    assert mlp.get_default_dtype() == np.float32


def test_set_default_dtype() -> None:
    try:
        mlp.set_default_dtype(np.float64)
        assert mlp.get_default_dtype() == np.float64
        assert AffineLayer(2, 2).params[0].dtype == np.float64
        mlp.set_default_dtype("float32")
        assert mlp.get_default_dtype() == np.float32
    finally:
        mlp.set_default_dtype(np.float32)


def test_layer_dtype_argument_overrides_the_default() -> None:
    layer = AffineLayer(2, 3, dtype=np.float64)
    assert layer.weights.dtype == layer.biases.dtype == np.float64
    assert layer.fprop(np.ones((1, 2), dtype=np.float32)).dtype == np.float64


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.int64, np.complex128, "bool"])
def test_bad_dtype_raises_value_error(dtype) -> None:
    with pytest.raises(ValueError, match="float32 or float64"):
        mlp.set_default_dtype(dtype)
    with pytest.raises(ValueError, match="float32 or float64"), mlp.default_dtype(dtype):
        pass
    with pytest.raises(ValueError, match="float32 or float64"):
        AffineLayer(2, 2, dtype=dtype)
    assert mlp.get_default_dtype() == np.float32
