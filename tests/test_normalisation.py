"""BatchNormalizationLayer: its two modes, its running statistics (state, not
parameters) and how that state travels with a model, checked against torch's
`nn.BatchNorm1d` in float64 and against finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import mlp
from mlp.gradcheck import check_layer_gradients, numerical_gradient
from mlp.layers import AffineLayer, BatchNormalizationLayer, ReluLayer, SoftmaxLayer
from mlp.models import MultipleLayerModel
from mlp.pytorch import from_torch, to_torch

DIM = 4
TOL = 1e-12


def _layer(epsilon: float = 1e-5, momentum: float = 0.1) -> BatchNormalizationLayer:
    rng = np.random.RandomState(3)
    return BatchNormalizationLayer(
        DIM,
        epsilon=epsilon,
        momentum=momentum,
        gamma_initialiser=lambda shape: rng.uniform(0.5, 2.0, shape),
        beta_initialiser=lambda shape: rng.normal(size=shape),
        dtype=np.float64,
    )


def _batch(seed: int, rows: int = 6) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return rng.normal(size=(rows, DIM)) * rng.uniform(0.5, 3.0, DIM) + rng.normal(size=DIM)


def _torch_twin(layer: BatchNormalizationLayer) -> nn.BatchNorm1d:
    module = nn.BatchNorm1d(DIM, eps=layer.epsilon, momentum=layer.momentum, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.gamma))
        module.bias.copy_(torch.from_numpy(layer.beta))
    return module


def _max_diff(ours: np.ndarray, theirs: torch.Tensor) -> float:
    return float(np.abs(ours - theirs.detach().numpy()).max())


def _assert_pass_matches_torch(
    layer: BatchNormalizationLayer,
    module: nn.BatchNorm1d,
    x: np.ndarray,
    upstream: np.ndarray,
    stochastic: bool,
) -> None:
    """One forward and backward pass of both (torch in its own mode): the outputs, the
    input gradients and both parameter gradients agree within TOL."""
    outputs = layer.fprop(x, stochastic=stochastic)
    x_torch = torch.tensor(x, requires_grad=True)
    module.zero_grad()
    outputs_torch = module(x_torch)
    outputs_torch.backward(torch.from_numpy(upstream))
    assert _max_diff(outputs, outputs_torch) < TOL
    assert _max_diff(layer.bprop(x, outputs, upstream), x_torch.grad) < TOL
    grads = layer.grads_wrt_params(x, upstream)
    assert _max_diff(grads[0], module.weight.grad) < TOL
    assert _max_diff(grads[1], module.bias.grad) < TOL


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0])
def test_training_steps_match_torch_outputs_gradients_and_running_statistics(
    momentum: float,
) -> None:
    layer = _layer(momentum=momentum)
    module = _torch_twin(layer)
    for step in range(4):
        x = _batch(step, rows=5 + step)
        upstream = np.random.RandomState(100 + step).normal(size=x.shape)
        _assert_pass_matches_torch(layer, module, x, upstream, stochastic=True)
        assert _max_diff(layer.running_mean, module.running_mean) < TOL
        assert _max_diff(layer.running_var, module.running_var) < TOL


def test_evaluation_mode_matches_torch_and_leaves_running_statistics_alone() -> None:
    layer = _layer()
    module = _torch_twin(layer)
    for step in range(3):
        layer.fprop(_batch(step))
        module(torch.from_numpy(_batch(step)))
    before = layer.state()
    module.eval()
    x = _batch(9, rows=1)  # one row is fine in evaluation
    upstream = np.random.RandomState(1).normal(size=x.shape)
    _assert_pass_matches_torch(layer, module, x, upstream, stochastic=False)
    for name, value in layer.state().items():
        np.testing.assert_array_equal(value, before[name])


def test_gradient_check_in_training_mode() -> None:
    errors = check_layer_gradients(_layer(), _batch(0))
    assert set(errors) == {"inputs", "params[0]", "params[1]"}
    assert max(errors.values()) < 1e-6, errors


def test_gradient_check_in_evaluation_mode() -> None:
    layer = _layer()
    layer.fprop(_batch(0))
    x = _batch(1)
    upstream = np.random.RandomState(2).normal(size=x.shape)
    outputs = layer.fprop(x, stochastic=False)

    def f() -> float:
        return float(np.vdot(upstream, layer.fprop(x, stochastic=False)))

    np.testing.assert_allclose(
        layer.bprop(x, outputs, upstream), numerical_gradient(f, x, 1e-5), rtol=1e-7
    )
    for analytic, param in zip(layer.grads_wrt_params(x, upstream), layer.params, strict=True):
        np.testing.assert_allclose(analytic, numerical_gradient(f, param, 1e-5), rtol=1e-7)


def test_backward_passes_without_a_preceding_fprop_take_integer_inputs() -> None:
    layer = BatchNormalizationLayer(3)
    x = np.arange(12).reshape(4, 3)
    grads = np.arange(12).reshape(4, 3) % 5
    twin = _layer_like(layer)
    x_torch = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    twin(x_torch).backward(torch.tensor(grads, dtype=torch.float64))
    np.testing.assert_allclose(layer.bprop(x, x, grads), x_torch.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(layer.grads_wrt_params(x, grads)[1], grads.sum(0), rtol=1e-6)


def _layer_like(layer: BatchNormalizationLayer) -> nn.BatchNorm1d:
    return nn.BatchNorm1d(layer.input_dim, eps=layer.epsilon, dtype=torch.float64)


def test_running_statistics_are_state_not_parameters() -> None:
    layer = BatchNormalizationLayer(DIM)
    assert [p.shape for p in layer.params] == [(DIM,), (DIM,)]
    state = layer.state()
    assert sorted(state) == ["running_mean", "running_var"]
    np.testing.assert_array_equal(state["running_mean"], np.zeros(DIM))
    np.testing.assert_array_equal(state["running_var"], np.ones(DIM))
    state["running_mean"][0] = 7.0  # a copy
    assert layer.running_mean[0] == 0.0
    layer.load_state({"running_mean": np.full(DIM, 2.0), "running_var": np.full(DIM, 3.0)})
    np.testing.assert_array_equal(layer.running_var, np.full(DIM, 3.0))
    assert layer.running_var.dtype == layer.dtype


@pytest.mark.parametrize(
    ("state", "match"),
    [
        ({"running_mean": np.zeros(DIM)}, "running_var"),
        ({"running_mean": np.zeros(DIM), "running_var": np.ones(DIM), "x": 1}, "got"),
        ({"running_mean": np.zeros(DIM + 1), "running_var": np.ones(DIM)}, "shape"),
        ({"running_mean": np.zeros(DIM), "running_var": -np.ones(DIM)}, ">= 0"),
        ({"running_mean": np.full(DIM, np.nan), "running_var": np.ones(DIM)}, "finite"),
    ],
)
def test_load_state_refuses_what_does_not_fit(state: dict, match: str) -> None:
    layer = BatchNormalizationLayer(DIM)
    with pytest.raises(ValueError, match=match):
        layer.load_state(state)
    with pytest.raises(TypeError, match="dict"):
        layer.load_state([1, 2])  # type: ignore[arg-type]


def test_stateless_layers_have_empty_state_and_refuse_any() -> None:
    relu = ReluLayer()
    assert relu.state() == {}
    relu.load_state({})
    with pytest.raises(ValueError, match="keeps no state"):
        relu.load_state({"running_mean": np.zeros(2)})


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"input_dim": 0}, ValueError),
        ({"input_dim": 2.0}, ValueError),
        ({"input_dim": "2"}, TypeError),
        ({"input_dim": 2, "epsilon": 0.0}, ValueError),
        ({"input_dim": 2, "epsilon": float("nan")}, ValueError),
        ({"input_dim": 2, "momentum": 1.5}, ValueError),
        ({"input_dim": 2, "momentum": -0.1}, ValueError),
        ({"input_dim": 2, "gamma_initialiser": 3}, TypeError),
        ({"input_dim": 2, "dtype": "int8"}, ValueError),
    ],
)
def test_bad_arguments_are_refused_naming_them(kwargs: dict, error: type) -> None:
    with pytest.raises(error, match="BatchNormalizationLayer"):
        BatchNormalizationLayer(**kwargs)


def test_shape_errors_name_the_argument() -> None:
    layer = BatchNormalizationLayer(3)
    with pytest.raises(ValueError, match=r"inputs of shape \(batch_size, 3\)"):
        layer.fprop(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="at least 2 rows"):
        layer.fprop(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="grads_wrt_outputs"):
        layer.bprop(np.zeros((4, 3)), np.zeros((4, 3)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="rows of grads_wrt_outputs"):
        layer.grads_wrt_params(np.zeros((4, 3)), np.zeros((5, 3)))
    with pytest.raises(TypeError, match="stochastic"):
        layer.fprop(np.zeros((4, 3)), stochastic=1)  # type: ignore[arg-type]


def _model() -> MultipleLayerModel:
    rng = np.random.RandomState(0)
    return MultipleLayerModel(
        [
            AffineLayer(3, DIM, lambda s: rng.normal(size=s), dtype=np.float64),
            BatchNormalizationLayer(DIM, dtype=np.float64),
            ReluLayer(),
            AffineLayer(DIM, 2, lambda s: rng.normal(size=s), dtype=np.float64),
            SoftmaxLayer(),
        ]
    )


def test_the_model_passes_its_evaluation_switch_and_gathers_state() -> None:
    model = _model()
    x = np.random.RandomState(1).normal(size=(10, 3))
    model.fprop(x)  # training: the running statistics move
    state = model.state()
    assert sorted(state) == ["1.running_mean", "1.running_var"]
    assert not np.allclose(state["1.running_mean"], 0.0)
    model.fprop(x, evaluation=True)
    model.predict(x)
    for key, value in model.state().items():
        np.testing.assert_array_equal(value, state[key])
    fresh = _model()
    fresh.load_state(state)
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


def test_model_load_state_refuses_unknown_names_and_changes_nothing() -> None:
    model = _model()
    model.fprop(np.random.RandomState(1).normal(size=(10, 3)))
    before = model.state()
    with pytest.raises(ValueError, match="layer index"):
        model.load_state({"9.running_mean": np.zeros(DIM)})
    bad = {**before, "1.running_var": -np.ones(DIM)}
    with pytest.raises(ValueError, match=">= 0"):
        model.load_state(bad)
    for key, value in model.state().items():
        np.testing.assert_array_equal(value, before[key])


def test_to_torch_and_back_carry_parameters_and_running_statistics() -> None:
    model = _model()
    x = np.random.RandomState(1).normal(size=(10, 3))
    for _ in range(3):
        model.fprop(x)
    module = to_torch(model)
    assert isinstance(module[1], nn.BatchNorm1d)
    module.eval()
    ours = model.predict(x)
    with torch.no_grad():
        np.testing.assert_allclose(module(torch.from_numpy(x)).numpy(), ours, atol=TOL)
    module.train()
    module(torch.from_numpy(x * 2))  # torch's running statistics move on
    back = from_torch(module)
    np.testing.assert_allclose(
        back.state()["1.running_mean"], module[1].running_mean.numpy(), atol=TOL
    )
    module.eval()
    with torch.no_grad():
        np.testing.assert_allclose(back.predict(x), module(torch.from_numpy(x)).numpy(), atol=TOL)


def test_from_torch_refuses_batch_norm_without_affine_or_running_statistics() -> None:
    for module in (
        nn.BatchNorm1d(3, affine=False),
        nn.BatchNorm1d(3, track_running_stats=False),
        nn.BatchNorm1d(3, momentum=None),
    ):
        with pytest.raises(ValueError, match="module 0"):
            from_torch(nn.Sequential(module))


def test_float32_layer_computes_in_float32() -> None:
    with mlp.default_dtype(np.float32):
        layer = BatchNormalizationLayer(DIM)
    outputs = layer.fprop(_batch(0))
    assert outputs.dtype == np.float32
    assert layer.running_mean.dtype == np.float32


def test_training_steps_of_a_model_match_torch_steps_on_the_converted_module() -> None:
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.optimisers import Optimiser

    model = MultipleLayerModel(_model().layers[:4])  # affine, batch norm, relu, affine
    module = to_torch(model)
    rng = np.random.RandomState(4)
    batches = [(rng.normal(size=(8, 3)), np.eye(2)[rng.randint(0, 2, 8)]) for _ in range(5)]
    optimiser = Optimiser(
        model, CrossEntropySoftmaxError(), GradientDescentLearningRule(0.5), batches
    )
    sgd = torch.optim.SGD(module.parameters(), lr=0.5)
    for inputs, targets in batches:
        optimiser.train_step(inputs, targets)
        sgd.zero_grad()
        loss = nn.functional.cross_entropy(
            module(torch.from_numpy(inputs)), torch.from_numpy(targets.argmax(1))
        )
        loss.backward()
        sgd.step()
    back = from_torch(module)
    for ours, theirs in zip(model.params, back.params, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    for key, value in model.state().items():
        np.testing.assert_allclose(value, back.state()[key], atol=1e-12)
