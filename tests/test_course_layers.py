"""The course's other layers: radial basis features, PReLU, RReLU, the course's ELU and
maxout, each against PyTorch (or a direct formula) in float64, by finite differences, with
its argument checks; every elementwise layer on inputs of any shape; the registry's torch
adapters and a tiny `mlp train` run with the new activations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import mlp
from mlp import pytorch
from mlp.gradcheck import check_layer_gradients
from mlp.layers import (
    AffineLayer,
    ELULayer,
    ExponentialLinearUnitLayer,
    LayerWithParameters,
    LeakyReluLayer,
    MaxPoolingLayer,
    ParametricReluLayer,
    RadialBasisFunctionLayer,
    RandomReluLayer,
    ReluLayer,
    SigmoidLayer,
    StochasticLayer,
    SwishLayer,
    TanhLayer,
)
from mlp.models import MultipleLayerModel

GRAD_TOL = 1e-6  # largest relative error of a float64 gradient check
TORCH_TOL = 1e-12  # largest absolute difference from PyTorch in float64


def _signed(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """float64 values with 0.1 <= |x| <= 2, clear of the kinks at 0."""
    rng = np.random.RandomState(seed)
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _torch_pass(forward, x: np.ndarray, upstream: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Outputs and input gradients of a torch function, float64."""
    x_torch = torch.tensor(x, requires_grad=True)
    y = forward(x_torch)
    y.backward(torch.from_numpy(upstream))
    return y.detach().numpy(), x_torch.grad.numpy()


def _close(actual: np.ndarray, expected: np.ndarray, tol: float = TORCH_TOL) -> None:
    assert actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


# --- RadialBasisFunctionLayer ----------------------------------------------------------


def _rbf_reference(x: torch.Tensor, grid_dim: int, intervals: list[list[float]]) -> torch.Tensor:
    """The formula of DESIGN.md written out: for each dimension d, then each centre."""
    columns = []
    for d in range(x.shape[1]):
        low, high = intervals[d] if len(intervals) > 1 else intervals[0]
        scale = (high - low) / grid_dim
        for centre in np.linspace(low, high, grid_dim):
            columns.append(torch.exp(-((x[:, d] - float(centre)) ** 2) / scale**2))
    return torch.stack(columns, dim=1)


@pytest.mark.parametrize(
    "intervals", [[[-2.0, 2.0]], [[-2.0, 2.0], [0.0, 1.0], [-1.0, 3.0]]], ids=["shared", "own"]
)
def test_rbf_matches_the_formula_and_autograd(intervals) -> None:
    layer = RadialBasisFunctionLayer(4, intervals)
    x = _signed((6, 3), seed=1)
    upstream = np.random.RandomState(2).normal(size=(6, 12))
    outputs = layer.fprop(x)
    expected, expected_grads = _torch_pass(lambda t: _rbf_reference(t, 4, intervals), x, upstream)
    _close(outputs, expected)
    _close(layer.bprop(x, outputs, upstream), expected_grads)
    assert check_layer_gradients(layer, x)["inputs"] < GRAD_TOL


def test_rbf_centres_scales_and_the_order_of_its_features() -> None:
    layer = RadialBasisFunctionLayer(3, [[0.0, 1.0], [10.0, 16.0]])
    np.testing.assert_array_equal(layer.centres, [[0.0, 0.5, 1.0], [10.0, 13.0, 16.0]])
    np.testing.assert_array_equal(layer.scales, [1 / 3, 2.0])
    outputs = layer.fprop(np.array([[0.5, 16.0]]))
    # Dimension 0's three features, then dimension 1's; each is 1 at its own centre.
    assert outputs.shape == (1, 6)
    assert outputs[0, 1] == 1.0 and outputs[0, 5] == 1.0
    assert outputs[0, 0] == pytest.approx(math.exp(-(0.5**2) / (1 / 3) ** 2))


def test_rbf_takes_a_1d_grid_as_one_input_dimension() -> None:
    # The course's regression lab: a (batch_size,) grid of points in [0, 1].
    layer = RadialBasisFunctionLayer(5)
    grid = np.linspace(0.0, 1.0, 11)
    outputs = layer.fprop(grid)
    _close(outputs, layer.fprop(grid[:, None]))
    assert outputs.shape == (11, 5)
    upstream = np.random.RandomState(3).normal(size=(11, 5))
    grads = layer.bprop(grid, outputs, upstream)
    assert grads.shape == (11,)
    _close(grads, layer.bprop(grid[:, None], outputs, upstream)[:, 0])


def test_rbf_float32_integers_and_bprop_without_fprop() -> None:
    layer = RadialBasisFunctionLayer(2, [[0.0, 4.0]])
    x32 = np.array([[0.5, 1.5]], np.float32)
    assert layer.fprop(x32).dtype == np.float32
    ints = np.arange(6).reshape(3, 2)
    outputs = layer.fprop(ints.astype(np.float64))
    upstream = np.ones((3, 4))
    expected = layer.bprop(ints.astype(np.float64), outputs, upstream)
    _close(
        layer.bprop(ints, outputs.tolist(), upstream.astype(int)), expected.astype(np.float32), 1e-6
    )


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ((0,), ValueError, "grid_dim must be a positive integer"),
        ((2.5,), ValueError, "grid_dim must be a positive integer"),
        ((True,), ValueError, "grid_dim must be a positive integer"),
        ((int,), TypeError, "grid_dim must be a positive integer"),
        ((3, [0.0, 1.0]), ValueError, "intervals must be a list of"),
        ((3, [[1.0, 0.0]]), ValueError, "intervals must be a list of"),
        ((3, [[0.0, 0.0]]), ValueError, "intervals must be a list of"),
        ((3, [[0.0, math.inf]]), ValueError, "intervals must be a list of"),
        ((3, [[0.0, 1.0, 2.0]]), ValueError, "intervals must be a list of"),
        ((3, []), ValueError, "intervals must be a list of"),
        ((3, "abc"), TypeError, "intervals must be a list of"),
        ((3, [["a", "b"]]), TypeError, "intervals must be a list of"),
        ((3, list), TypeError, "intervals"),
    ],
)
def test_rbf_refuses_bad_arguments(arguments, error, message) -> None:
    with pytest.raises(error, match=message):
        RadialBasisFunctionLayer(*arguments)


def test_rbf_refuses_inputs_that_do_not_fit_its_intervals() -> None:
    layer = RadialBasisFunctionLayer(3, [[0.0, 1.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="2 intervals, one per input dimension"):
        layer.fprop(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"\(batch_size, input_dim\) or \(batch_size,\)"):
        layer.fprop(np.ones((4, 2, 1)))
    outputs = layer.fprop(np.ones((4, 2)))
    with pytest.raises(ValueError, match="shaped like its outputs"):
        layer.bprop(np.ones((4, 2)), outputs, np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"outputs of shape \(3, 6\)"):
        layer.bprop(np.ones((3, 2)), outputs, outputs)


# --- ParametricReluLayer ---------------------------------------------------------------


def test_prelu_matches_nn_prelu_on_images() -> None:
    layer = ParametricReluLayer(alpha=0.3, dtype=np.float64)
    x = _signed((4, 3, 5, 5), seed=4)
    upstream = np.random.RandomState(5).normal(size=x.shape)
    module = nn.PReLU(init=0.3, dtype=torch.float64)
    outputs, grads = _torch_pass(module, x, upstream)
    _close(layer.fprop(x), outputs)
    _close(layer.bprop(x, layer.fprop(x), upstream), grads)
    (grad_alpha,) = layer.grads_wrt_params(x, upstream)
    assert grad_alpha.shape == (1,)
    _close(grad_alpha, module.weight.grad.numpy())


def test_prelu_gradient_check_and_its_parameter() -> None:
    layer = ParametricReluLayer(-0.2, dtype=np.float64)
    errors = check_layer_gradients(layer, _signed((5, 4), seed=6))
    assert set(errors) == {"inputs", "params[0]"} and max(errors.values()) < GRAD_TOL
    assert isinstance(layer, LayerWithParameters) and layer.keeps_shape


def test_prelu_params_are_settable_in_place() -> None:
    layer = ParametricReluLayer()
    (alpha,) = layer.params
    assert alpha.shape == (1,) and alpha[0] == np.float32(0.25)
    layer.params = [np.array([0.5])]
    assert layer.params[0] is alpha and alpha[0] == 0.5  # a learning rule keeps its array
    layer.params = [0.75]  # a scalar is taken as the one slope
    assert alpha[0] == 0.75
    with pytest.raises(ValueError, match=r"alpha of shape \(1,\)"):
        layer.params = [np.ones(2)]
    with pytest.raises(ValueError, match="has 1 parameter"):
        layer.params = [alpha, alpha]
    with pytest.raises(TypeError, match=r"params must be a list \[alpha\]"):
        layer.params = 0.5  # type: ignore[assignment]


def test_prelu_learns_its_slope_in_a_model() -> None:
    from mlp.learning_rules import GradientDescentLearningRule

    with mlp.default_dtype(np.float64):
        model = MultipleLayerModel([AffineLayer(3, 4), ParametricReluLayer(), AffineLayer(4, 2)])
    assert len(model.params) == 5 and model.params[2] is model.layers[1].alpha
    rule = GradientDescentLearningRule(0.1)
    rule.initialise(model.params)
    x = _signed((6, 3), seed=7)
    activations = model.fprop(x)
    rule.update_params(model.grads_wrt_params(activations, np.ones((6, 2))))
    assert model.layers[1].alpha[0] != 0.25


def test_prelu_bprop_and_grads_without_fprop_take_integers() -> None:
    layer = ParametricReluLayer(0.5)
    ints = np.array([[-2, 3], [1, -1]])
    grads = layer.bprop(ints, ints, np.ones((2, 2), dtype=int))
    np.testing.assert_array_equal(grads, [[0.5, 1.0], [1.0, 0.5]])
    np.testing.assert_array_equal(layer.grads_wrt_params(ints, np.ones((2, 2), int))[0], [-3.0])
    with pytest.raises(ValueError, match="shaped like its inputs"):
        layer.grads_wrt_params(ints, np.ones((2, 1)))


@pytest.mark.parametrize(
    ("alpha", "error"),
    [
        (math.nan, ValueError),
        (math.inf, ValueError),
        ("0.2", TypeError),
        (float, TypeError),
        (True, ValueError),
    ],
)
def test_prelu_refuses_bad_alphas(alpha, error) -> None:
    with pytest.raises(error, match="ParametricReluLayer alpha must be a finite number"):
        ParametricReluLayer(alpha)


# --- RandomReluLayer -------------------------------------------------------------------


def test_rrelu_draws_each_slope_as_the_course_does() -> None:
    x = _signed((50, 3, 4, 4), seed=8)
    layer = RandomReluLayer(rng=np.random.RandomState(9))
    outputs = layer.fprop(x)
    slopes = np.random.RandomState(9).uniform(0.125, 1 / 3, size=x.shape)
    np.testing.assert_array_equal(layer.leakiness, slopes)
    upstream = np.random.RandomState(10).normal(size=x.shape)
    theirs = _torch_pass(lambda t: torch.where(t > 0, t, torch.from_numpy(slopes) * t), x, upstream)
    _close(outputs, theirs[0])
    _close(layer.bprop(x, outputs, upstream), theirs[1])  # the slopes of the latest fprop
    assert 0.125 <= slopes.min() and slopes.max() <= 1 / 3


def test_rrelu_evaluation_uses_the_mean_slope_as_torch_does() -> None:
    x = _signed((7, 5), seed=11)
    upstream = np.random.RandomState(12).normal(size=x.shape)
    layer = RandomReluLayer(0.1, 0.3)
    outputs = layer.fprop(x, stochastic=False)
    expected = _torch_pass(lambda t: F.rrelu(t, 0.1, 0.3, training=False), x, upstream)
    _close(outputs, expected[0])
    _close(layer.bprop(x, outputs, upstream), expected[1])
    # ...and so does a model in evaluation mode, whose statistics the optimiser reports.
    model = MultipleLayerModel([RandomReluLayer(0.1, 0.3)])
    _close(model.fprop(x, evaluation=True)[-1], expected[0])
    # bprop before any fprop: the evaluation slope.
    _close(RandomReluLayer(0.1, 0.3).bprop(x, outputs, upstream), expected[1])


def test_rrelu_fixed_slopes_match_torch_training_mode() -> None:
    x = _signed((6, 4), seed=13)
    upstream = np.ones_like(x)
    layer = RandomReluLayer(0.2, 0.2)
    expected = _torch_pass(lambda t: F.rrelu(t, 0.2, 0.2, training=True), x, upstream)
    _close(layer.fprop(x), expected[0])
    _close(layer.bprop(x, layer.fprop(x), upstream), expected[1])


def test_rrelu_leakiness_given_is_used_in_both_modes() -> None:
    x = _signed((3, 4), seed=14)
    slopes = np.random.RandomState(15).uniform(0.0, 0.5, size=x.shape)
    expected = np.where(x > 0, x, slopes * x)
    layer = RandomReluLayer(rng=np.random.RandomState(0))
    state = layer.rng.get_state()[1].copy()
    _close(layer.fprop(x, leakiness=slopes), expected)
    _close(layer.fprop(x, stochastic=False, leakiness=slopes), expected)
    np.testing.assert_array_equal(layer.rng.get_state()[1], state)  # nothing drawn
    _close(layer.fprop(x, leakiness=0.5), np.where(x > 0, x, 0.5 * x))
    grads = layer.bprop(x, expected, np.ones_like(x))
    _close(grads, np.where(x > 0, 1.0, 0.5))


def test_rrelu_gradient_check_and_kind() -> None:
    layer = RandomReluLayer(rng=np.random.RandomState(16))
    assert isinstance(layer, StochasticLayer) and layer.keeps_shape
    assert check_layer_gradients(layer, _signed((5, 4), seed=17))["inputs"] < GRAD_TOL


def test_rrelu_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="lower must be at most upper"):
        RandomReluLayer(0.5, 0.25)
    for name, value in (("lower", -0.1), ("lower", math.nan), ("upper", math.inf)):
        with pytest.raises(ValueError, match=f"RandomReluLayer {name} must be a finite number"):
            RandomReluLayer(**{name: value})
    with pytest.raises(TypeError, match="RandomReluLayer upper must be"):
        RandomReluLayer(upper=float)
    with pytest.raises(TypeError, match="rng"):
        RandomReluLayer(rng=np.random.RandomState)
    layer = RandomReluLayer()
    x = np.ones((3, 4))
    with pytest.raises(ValueError, match="leakiness of shape"):
        layer.fprop(x, leakiness=np.ones((3, 5)))
    with pytest.raises(ValueError, match="leakiness of shape"):
        layer.fprop(x, leakiness=np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="leakiness must be finite"):
        layer.fprop(x, leakiness=math.nan)
    with pytest.raises(TypeError, match="leakiness must be an array of numbers"):
        layer.fprop(x, leakiness="abc")
    layer.fprop(x)
    with pytest.raises(ValueError, match="call fprop on these inputs first"):
        layer.bprop(np.ones((2, 4)), np.ones((2, 4)), np.ones((2, 4)))


# --- ExponentialLinearUnitLayer --------------------------------------------------------


def test_course_elu_has_the_course_default_and_elus_maths() -> None:
    layer = ExponentialLinearUnitLayer()
    assert layer.alpha == 0.01 and isinstance(layer, ELULayer) and layer.keeps_shape
    assert repr(layer) == "ExponentialLinearUnitLayer(alpha=0.01)"
    x = _signed((4, 2, 3, 3), seed=18)
    upstream = np.random.RandomState(19).normal(size=x.shape)
    expected = _torch_pass(nn.ELU(alpha=0.01), x, upstream)
    _close(layer.fprop(x), expected[0])
    _close(layer.bprop(x, layer.fprop(x), upstream), expected[1])
    _close(layer.fprop(x), ELULayer(0.01).fprop(x), 0.0)
    assert (
        check_layer_gradients(ExponentialLinearUnitLayer(0.5), _signed((5, 4)))["inputs"] < GRAD_TOL
    )
    for alpha, error in ((-1.0, ValueError), (math.nan, ValueError), ("a", TypeError)):
        with pytest.raises(error, match="ExponentialLinearUnitLayer alpha must be"):
            ExponentialLinearUnitLayer(alpha)


# --- MaxPoolingLayer -------------------------------------------------------------------


@pytest.mark.parametrize("pool_size", [1, 2, 3])
def test_maxout_matches_a_max_over_a_reshaped_axis(pool_size: int) -> None:
    layer = MaxPoolingLayer(pool_size)
    x = _signed((5, 6), seed=20)
    upstream = np.random.RandomState(21).normal(size=(5, 6 // pool_size))
    outputs = layer.fprop(x)
    expected = _torch_pass(lambda t: t.reshape(5, -1, pool_size).max(dim=-1).values, x, upstream)
    _close(outputs, expected[0])
    _close(layer.bprop(x, outputs, upstream), expected[1])
    assert check_layer_gradients(layer, x)["inputs"] < GRAD_TOL


def test_maxout_pools_the_last_axis_and_sends_ties_to_the_first_winner() -> None:
    layer = MaxPoolingLayer(2)
    ints = np.array([[1, 3, 2, 2], [5, -1, 0, 4]])
    outputs = layer.fprop(ints)
    np.testing.assert_array_equal(outputs, [[3, 2], [5, 4]])
    grads = layer.bprop(ints, outputs, np.array([[1, 2], [3, 4]]))  # no fprop needed
    np.testing.assert_array_equal(grads, [[0, 1, 2, 0], [3, 0, 0, 4]])
    assert layer.fprop(np.ones((2, 3, 4))).shape == (2, 3, 2)
    assert not layer.keeps_shape


def test_maxout_refuses_bad_arguments_and_shapes() -> None:
    for value, error in ((0, ValueError), (2.0, ValueError), (True, ValueError), (int, TypeError)):
        with pytest.raises(error, match="MaxPoolingLayer pool_size must be a positive integer"):
            MaxPoolingLayer(value)
    layer = MaxPoolingLayer(3)
    with pytest.raises(ValueError, match="divisible by pool_size 3, got \\(4, 5\\)"):
        layer.fprop(np.ones((4, 5)))
    with pytest.raises(ValueError, match="divisible by pool_size 3"):
        layer.fprop(np.ones(6))
    with pytest.raises(ValueError, match="shaped like its outputs"):
        layer.bprop(np.ones((4, 6)), np.ones((4, 2)), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"outputs of shape \(4, 2\)"):
        layer.bprop(np.ones((4, 6)), np.ones((4, 3)), np.ones((4, 3)))


# --- elementwise layers on inputs of any shape -------------------------------------------

ANY_SHAPE = {
    "sigmoid": (SigmoidLayer, lambda: nn.Sigmoid()),
    "tanh": (TanhLayer, lambda: nn.Tanh()),
    "relu": (ReluLayer, lambda: nn.ReLU()),
    "leaky_relu": (lambda: LeakyReluLayer(0.1), lambda: nn.LeakyReLU(0.1)),
    "elu": (lambda: ELULayer(0.7), lambda: nn.ELU(0.7)),
    "swish": (SwishLayer, lambda: nn.SiLU()),
    "prelu": (
        lambda: ParametricReluLayer(0.3, dtype=np.float64),
        lambda: nn.PReLU(init=0.3, dtype=torch.float64),
    ),
    "rrelu": (lambda: RandomReluLayer(0.2, 0.2), lambda: lambda t: F.rrelu(t, 0.2, 0.2, True)),
    "course_elu": (ExponentialLinearUnitLayer, lambda: nn.ELU(0.01)),
}


@pytest.fixture(scope="module")
def images() -> tuple[np.ndarray, np.ndarray]:
    """The course's activation tests' shape: (50, 3, 64, 64)."""
    rng = np.random.RandomState(22)
    return rng.normal(scale=2.0, size=(50, 3, 64, 64)), rng.normal(size=(50, 3, 64, 64))


@pytest.mark.parametrize("name", list(ANY_SHAPE))
def test_elementwise_layers_take_inputs_of_any_shape(name: str, images) -> None:
    make_layer, make_module = ANY_SHAPE[name]
    x, upstream = images
    layer = make_layer()
    outputs = layer.fprop(x)
    expected = _torch_pass(make_module(), x, upstream)
    _close(outputs, expected[0])
    _close(layer.bprop(x, outputs, upstream), expected[1])
    small = _signed((2, 3, 2, 2), seed=23)
    assert check_layer_gradients(make_layer(), small)["inputs"] < GRAD_TOL


# --- the registry: torch adapters, round trips, the command line --------------------------


def _course_model(dtype) -> MultipleLayerModel:
    rng = np.random.RandomState(24)
    with mlp.default_dtype(dtype):
        return MultipleLayerModel(
            [
                AffineLayer(6, 8, mlp.initialisers.UniformInit(-1, 1, rng=rng)),
                ParametricReluLayer(0.3),
                RandomReluLayer(0.1, 0.3),
                AffineLayer(8, 8, mlp.initialisers.UniformInit(-1, 1, rng=rng)),
                ExponentialLinearUnitLayer(0.4),
                MaxPoolingLayer(2),
                AffineLayer(4, 3, mlp.initialisers.UniformInit(-1, 1, rng=rng)),
            ]
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_to_torch_and_back_carry_the_course_layers(dtype) -> None:
    model = _course_model(dtype)
    module = pytorch.to_torch(model).eval()
    kinds = [type(m) for m in module]
    assert kinds[1:6] == [nn.PReLU, nn.RReLU, nn.Linear, nn.ELU, nn.MaxPool1d]
    assert module[1].weight.dtype == pytorch.convert.TORCH_DTYPES[np.dtype(dtype)]
    x = _signed((5, 6), seed=25).astype(dtype)
    ours = model.fprop(x, evaluation=True)[-1]
    tol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(
        module(torch.from_numpy(x)).detach().numpy(), ours, rtol=tol, atol=tol
    )

    back = pytorch.from_torch(module)
    assert [type(layer) for layer in back.layers[1:6]] == [
        ParametricReluLayer,
        RandomReluLayer,
        AffineLayer,
        ELULayer,  # nn.ELU comes back as ELULayer, which computes the same
        MaxPoolingLayer,
    ]
    assert (
        back.layers[1].alpha.dtype == dtype and back.layers[1].alpha[0] == model.layers[1].alpha[0]
    )
    assert (back.layers[2].lower, back.layers[2].upper) == (0.1, 0.3)
    assert back.layers[4].alpha == 0.4 and back.layers[5].pool_size == 2
    np.testing.assert_array_equal(back.fprop(x, evaluation=True)[-1], ours)


def test_from_torch_refuses_modules_the_layers_cannot_hold() -> None:
    with pytest.raises(ValueError, match="shares one slope"):
        pytorch.from_torch(nn.Sequential(nn.PReLU(num_parameters=3)))
    with pytest.raises(ValueError, match="non-overlapping"):
        pytorch.from_torch(nn.Sequential(nn.MaxPool1d(2, stride=1)))


def test_the_registry_lists_the_new_names() -> None:
    from mlp import registry

    assert {"prelu", "rrelu"} <= set(registry.names("activation"))
    assert {"maxout", "exponential_linear_unit"} <= set(registry.names("layer"))
    layer, shape = registry.entry("layer", "maxout").build((6,), pool_size=3)
    assert isinstance(layer, MaxPoolingLayer) and shape == (2,)
    with pytest.raises(ValueError, match="divisible by pool_size 4"):
        registry.entry("layer", "maxout").build((6,), pool_size=4)


QUICK = ["--max-train-examples", "200", "--batch-size", "50", "--epochs", "1", "--no-progress"]


@pytest.mark.usefixtures("one_blas_thread", "mnist_dir")
@pytest.mark.parametrize(
    ("activation", "backend"), [("prelu", "numpy"), ("prelu", "torch"), ("rrelu", "numpy")]
)
def test_mlp_train_with_a_course_activation(tmp_path, capsys, activation, backend) -> None:
    from mlp.cli import main
    from mlp.runs import RunRecord

    def train(name: str) -> dict:
        args = ["train", "--activation", activation, "--backend", backend, "--hidden", "16"]
        status = main([*args, *QUICK, "--runs-dir", str(tmp_path), "--name", name])
        assert status in (0, None), capsys.readouterr().err
        record = RunRecord.load(tmp_path / name)
        assert record.finished and record.experiment_config().activation == activation
        return record.summary["final"]

    first = train("a")
    assert 0 < first["acc(valid)"] <= 1
    if backend == "numpy":  # seeded: rrelu's slopes come from the run's seed too
        assert train("b") == first
