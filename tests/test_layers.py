"""Every layer: shapes, dtypes, gradient checks, repr, and PyTorch as an oracle.

One parametrised suite runs over every layer (`LAYER_CASES`: the cases written here,
and one built from its registry entry for every other layer `mlp.registry` knows); the
tests after it cover
what only some layers have: the seed notebook's reference values, a worked affine
example, stability for huge inputs, dropout's masks, and the affine layer's parameters
and penalties.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import mlp
from mlp import registry
from mlp.gradcheck import check_layer_gradients
from mlp.initialisers import UniformInit
from mlp.layers import (
    AffineLayer,
    BatchNormalizationLayer,
    DropoutLayer,
    ELULayer,
    Layer,
    LayerWithParameters,
    LeakyReluLayer,
    ReluLayer,
    SigmoidLayer,
    SoftmaxLayer,
    StochasticLayer,
    SwishLayer,
    TanhLayer,
)
from mlp.penalties import L1Penalty, L2Penalty

BATCH, IN_DIM, AFFINE_OUT = 5, 4, 3
GRAD_TOL = 1e-6  # largest relative error of a float64 gradient check
TORCH_TOL = 1e-10  # largest absolute difference from PyTorch in float64


def _inputs(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """float64 inputs with 0.1 <= |x| <= 2: clear of the kinks of ReLU and friends at 0."""
    rng = np.random.RandomState(seed)
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


def _torch_linear(layer: AffineLayer, x: torch.Tensor, outputs: np.ndarray):
    linear = nn.Linear(layer.input_dim, layer.output_dim, dtype=torch.float64)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(layer.weights))
        linear.bias.copy_(torch.from_numpy(layer.biases))
    return linear(x), [linear.weight, linear.bias]


def _torch_elementwise(make_module: Callable[[Layer], nn.Module]):
    def forward(layer: Layer, x: torch.Tensor, outputs: np.ndarray):
        return make_module(layer)(x), []

    return forward


def _torch_batch_norm(layer: BatchNormalizationLayer, x: torch.Tensor, outputs: np.ndarray):
    module = nn.BatchNorm1d(layer.input_dim, eps=layer.epsilon, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.gamma))
        module.bias.copy_(torch.from_numpy(layer.beta))
    return module(x), [module.weight, module.bias]


def _torch_dropout(layer: DropoutLayer, x: torch.Tensor, outputs: np.ndarray):
    # The mask the layer drew: the units it kept are exactly the non-zero outputs, since
    # no input is zero. PyTorch's inverted dropout with that mask is x * mask / p.
    mask = torch.from_numpy((outputs != 0).astype(np.float64))
    return x * mask / layer.incl_prob, []


@dataclass(frozen=True)
class LayerCase:
    name: str
    make: Callable[[], Layer]  # builds the layer in the current default dtype
    output_dim: int
    torch_forward: Callable  # (layer, x tensor, our outputs) -> (torch outputs, torch params)
    repr_parts: tuple[str, ...]

    def __str__(self) -> str:
        return self.name


LAYER_CASES = [
    LayerCase(
        "AffineLayer",
        lambda: AffineLayer(
            IN_DIM,
            AFFINE_OUT,
            UniformInit(-1.0, 1.0, rng=np.random.RandomState(1)),
            UniformInit(-1.0, 1.0, rng=np.random.RandomState(2)),
        ),
        AFFINE_OUT,
        _torch_linear,
        ("AffineLayer", f"input_dim={IN_DIM}", f"output_dim={AFFINE_OUT}"),
    ),
    LayerCase(
        "SigmoidLayer",
        SigmoidLayer,
        IN_DIM,
        _torch_elementwise(lambda layer: nn.Sigmoid()),
        ("SigmoidLayer",),
    ),
    LayerCase(
        "TanhLayer",
        TanhLayer,
        IN_DIM,
        _torch_elementwise(lambda layer: nn.Tanh()),
        ("TanhLayer",),
    ),
    LayerCase(
        "ReluLayer",
        ReluLayer,
        IN_DIM,
        _torch_elementwise(lambda layer: nn.ReLU()),
        ("ReluLayer",),
    ),
    LayerCase(
        "LeakyReluLayer",
        lambda: LeakyReluLayer(alpha=0.1),
        IN_DIM,
        _torch_elementwise(lambda layer: nn.LeakyReLU(negative_slope=layer.alpha)),
        ("LeakyReluLayer", "alpha=0.1"),
    ),
    LayerCase(
        "ELULayer",
        lambda: ELULayer(alpha=0.7),
        IN_DIM,
        _torch_elementwise(lambda layer: nn.ELU(alpha=layer.alpha)),
        ("ELULayer", "alpha=0.7"),
    ),
    LayerCase(
        "SoftmaxLayer",
        SoftmaxLayer,
        IN_DIM,
        _torch_elementwise(lambda layer: nn.Softmax(dim=1)),
        ("SoftmaxLayer",),
    ),
    LayerCase(
        "DropoutLayer-shared",
        lambda: DropoutLayer(np.random.RandomState(3), incl_prob=0.6, share_across_batch=True),
        IN_DIM,
        _torch_dropout,
        ("DropoutLayer", "incl_prob=0.6", "share_across_batch=True"),
    ),
    LayerCase(
        "DropoutLayer-per-example",
        lambda: DropoutLayer(np.random.RandomState(4), incl_prob=0.6, share_across_batch=False),
        IN_DIM,
        _torch_dropout,
        ("DropoutLayer", "incl_prob=0.6", "share_across_batch=False"),
    ),
    LayerCase(  # training mode; tests/test_normalisation.py checks evaluation mode
        "BatchNormalizationLayer",
        lambda: BatchNormalizationLayer(
            IN_DIM,
            gamma_initialiser=UniformInit(0.5, 2.0, rng=np.random.RandomState(5)),
            beta_initialiser=UniformInit(-1.0, 1.0, rng=np.random.RandomState(6)),
        ),
        IN_DIM,
        _torch_batch_norm,
        ("BatchNormalizationLayer", f"input_dim={IN_DIM}"),
    ),
]


# The course's other layers whose registry entry cannot be checked from its defaults
# alone: PReLU has a parameter torch must hold, RReLU draws its slopes (here one fixed
# slope, lower == upper, which torch's training mode draws too), maxout halves the width.


def _torch_prelu(layer: mlp.layers.ParametricReluLayer, x: torch.Tensor, outputs: np.ndarray):
    module = nn.PReLU(dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(layer.alpha))
    return module(x), [module.weight]


LAYER_CASES += [
    LayerCase(
        "ParametricReluLayer",
        lambda: mlp.layers.ParametricReluLayer(alpha=0.3),
        IN_DIM,
        _torch_prelu,
        ("ParametricReluLayer", "alpha=0.3"),
    ),
    LayerCase(
        "RandomReluLayer",
        lambda: mlp.layers.RandomReluLayer(0.2, 0.2, rng=np.random.RandomState(5)),
        IN_DIM,
        _torch_elementwise(lambda layer: lambda x: F.rrelu(x, 0.2, 0.2, training=True)),
        ("RandomReluLayer", "lower=0.2", "upper=0.2"),
    ),
    LayerCase(
        "MaxPoolingLayer",
        lambda: mlp.layers.MaxPoolingLayer(pool_size=2),
        IN_DIM // 2,
        lambda layer, x, outputs: (x.reshape(BATCH, -1, 2).max(dim=-1).values, []),
        ("MaxPoolingLayer", "pool_size=2"),
    ),
]


def _registry_case(entry: registry.Entry) -> LayerCase:
    """A case for a layer entry no case above covers: the layer built by the registry
    from its declared defaults, with the torch module the registry converts it to as the
    oracle. A new layer thus gets every check of the suite without a line here."""

    def make() -> Layer:
        layer, shape = entry.build((IN_DIM,))
        assert shape == (IN_DIM,), "a layer with other output shapes needs its own case"
        return layer

    name = entry.layer_class.__name__
    return LayerCase(name, make, IN_DIM, _torch_elementwise(entry.build_torch), (name,))


# Image layers take (batch_size, channels, height, width), which this flat suite does not
# make: tests/test_convolution.py gives them the same checks (gradients, PyTorch).
IMAGE_LAYERS = {mlp.layers.ConvolutionalLayer, mlp.layers.MaxPooling2DLayer}
_COVERED = {type(case.make()) for case in LAYER_CASES} | IMAGE_LAYERS
LAYER_CASES += [
    _registry_case(entry)
    for kind in ("activation", "layer")
    for entry in registry.entries(kind)
    if entry.layer_class not in _COVERED
]


def test_every_layer_of_the_registry_has_a_case() -> None:
    classes = {e.layer_class for kind in ("activation", "layer") for e in registry.entries(kind)}
    assert classes <= {type(case.make()) for case in LAYER_CASES} | IMAGE_LAYERS


def _forward_backward(layer: Layer, x: np.ndarray, upstream: np.ndarray):
    """outputs, grads_wrt_inputs and grads_wrt_params (empty list when parameter-free)."""
    outputs = layer.fprop(x)
    grads_wrt_inputs = layer.bprop(x, outputs, upstream)
    grads_wrt_params = (
        layer.grads_wrt_params(x, upstream) if isinstance(layer, LayerWithParameters) else []
    )
    return outputs, grads_wrt_inputs, grads_wrt_params


def torch_discrepancies(case: LayerCase) -> dict[str, float]:
    """Largest absolute differences from PyTorch, float64: outputs, inputs, each param."""
    with mlp.default_dtype(np.float64):
        layer = case.make()
    x = _inputs((BATCH, IN_DIM), seed=10)
    upstream = np.random.RandomState(11).normal(size=(BATCH, case.output_dim))
    outputs, grads_wrt_inputs, grads_wrt_params = _forward_backward(layer, x, upstream)

    x_torch = torch.tensor(x, requires_grad=True)
    outputs_torch, params_torch = case.torch_forward(layer, x_torch, outputs)
    outputs_torch.backward(torch.from_numpy(upstream))

    diffs = {
        "outputs": float(np.abs(outputs - outputs_torch.detach().numpy()).max()),
        "inputs": float(np.abs(grads_wrt_inputs - x_torch.grad.numpy()).max()),
    }
    assert len(grads_wrt_params) == len(params_torch)
    for i, (ours, theirs) in enumerate(zip(grads_wrt_params, params_torch, strict=True)):
        assert ours.shape == tuple(theirs.shape)
        diffs[f"params[{i}]"] = float(np.abs(ours - theirs.grad.numpy()).max())
    return diffs


def gradient_check_errors(case: LayerCase) -> dict[str, float]:
    """`check_layer_gradients` on the layer built in float64."""
    with mlp.default_dtype(np.float64):
        layer = case.make()
    return check_layer_gradients(layer, _inputs((BATCH, IN_DIM), seed=20))


# ---------------------------------------------------------------------------------------
# The parametrised suite over every layer
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_shapes_and_dtype(case: LayerCase, dtype) -> None:
    # float32 is the default; float64 only when asked for.
    context = contextlib.nullcontext() if dtype == np.float32 else mlp.default_dtype(dtype)
    with context:
        assert mlp.get_default_dtype() == dtype
        layer = case.make()
        x = _inputs((BATCH, IN_DIM)).astype(mlp.get_default_dtype())
    upstream = np.ones((BATCH, case.output_dim), dtype=dtype)
    outputs, grads_wrt_inputs, grads_wrt_params = _forward_backward(layer, x, upstream)

    assert outputs.shape == (BATCH, case.output_dim)
    assert outputs.dtype == dtype
    assert grads_wrt_inputs.shape == x.shape
    assert grads_wrt_inputs.dtype == dtype
    if isinstance(layer, LayerWithParameters):
        assert len(grads_wrt_params) == len(layer.params) > 0
        for param, grad in zip(layer.params, grads_wrt_params, strict=True):
            assert param.dtype == dtype
            assert grad.shape == param.shape
            assert grad.dtype == dtype


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_gradient_check(case: LayerCase) -> None:
    errors = gradient_check_errors(case)
    with mlp.default_dtype(np.float64):
        layer = case.make()
    num_params = len(layer.params) if isinstance(layer, LayerWithParameters) else 0
    assert set(errors) == {"inputs"} | {f"params[{i}]" for i in range(num_params)}
    for name, error in errors.items():
        assert error < GRAD_TOL, f"{case.name} {name}: relative error {error:.2e}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_matches_pytorch(case: LayerCase) -> None:
    for name, diff in torch_discrepancies(case).items():
        assert diff < TORCH_TOL, f"{case.name} {name}: differs from torch by {diff:.2e}"


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_repr_shows_sizes(case: LayerCase) -> None:
    text = repr(case.make())
    for part in case.repr_parts:
        assert part in text


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_fprop_leaves_inputs_unchanged(case: LayerCase) -> None:
    layer = case.make()
    x = _inputs((BATCH, IN_DIM)).astype(np.float32)
    x_before = x.copy()
    upstream = np.ones((BATCH, case.output_dim), dtype=np.float32)
    upstream_before = upstream.copy()
    _forward_backward(layer, x, upstream)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(upstream, upstream_before)


# ---------------------------------------------------------------------------------------
# The seed notebook's reference values
# ---------------------------------------------------------------------------------------

SEED_INPUTS = np.array([[0.1, -0.2, 0.3], [-0.4, 0.5, -0.6]])
SEED_GRADS_WRT_OUTPUTS = np.array([[5.0, 10.0, -10.0], [-5.0, 0.0, 10.0]])
SEED_REFERENCES = {
    "TanhLayer": (
        TanhLayer,
        np.array([[0.09966799, -0.19737532, 0.29131261], [-0.37994896, 0.46211716, -0.53704957]]),
        np.array([[4.95033145, 9.61042983, -9.15136962], [-4.27819393, 0.0, 7.11577763]]),
    ),
    "ReluLayer": (
        ReluLayer,
        np.array([[0.1, 0.0, 0.3], [0.0, 0.5, 0.0]]),
        np.array([[5.0, 0.0, -10.0], [-0.0, 0.0, 0.0]]),
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(SEED_REFERENCES))
def test_seed_reference_values(name: str, dtype) -> None:
    layer_class, expected_outputs, expected_grads = SEED_REFERENCES[name]
    # The references are given to 8 decimals; float32 adds its own ~1e-7 relative error.
    atol = 1e-8 if dtype == np.float64 else 1e-6
    inputs = SEED_INPUTS.astype(dtype)
    layer = layer_class()
    outputs = layer.fprop(inputs)
    grads = layer.bprop(inputs, outputs, SEED_GRADS_WRT_OUTPUTS.astype(dtype))
    assert outputs.shape == expected_outputs.shape
    np.testing.assert_allclose(outputs, expected_outputs, rtol=0, atol=atol)
    assert grads.shape == expected_grads.shape
    np.testing.assert_allclose(grads, expected_grads, rtol=0, atol=atol)


# ---------------------------------------------------------------------------------------
# A worked example
# ---------------------------------------------------------------------------------------


def test_affine_layer_worked_example() -> None:
    layer = AffineLayer(input_dim=3, output_dim=2)
    layer.params = [
        np.array([[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]]),  # W, shape (output_dim, input_dim)
        np.array([1.0, -2.0]),  # b
    ]
    x = np.array([[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], dtype=np.float32)

    # y = x W^T + b, one row per example:
    #   y[0,0] = 1*1 + 2*0 + 3*(-1) + 1   = -1
    #   y[0,1] = 1*2 + 2*1 + 3*0    - 2   =  2
    #   y[1,0] = 0*1 - 1*0 + 4*(-1) + 1   = -3
    #   y[1,1] = 0*2 - 1*1 + 4*0    - 2   = -3
    y = layer.fprop(x)
    np.testing.assert_array_equal(y, [[-1.0, 2.0], [-3.0, -3.0]])

    g = np.array([[1.0, -1.0], [2.0, 0.0]], dtype=np.float32)  # dE/dy
    # dE/dx = g W, one row per example:
    #   row 0:  1*[1, 0, -1] + (-1)*[2, 1, 0] = [-1, -1, -1]
    #   row 1:  2*[1, 0, -1] +   0 *[2, 1, 0] = [ 2,  0, -2]
    np.testing.assert_array_equal(layer.bprop(x, y, g), [[-1.0, -1.0, -1.0], [2.0, 0.0, -2.0]])

    # dE/dW = g^T x, summed over the batch, one row per output unit:
    #   row 0:  1*[1, 2, 3] + 2*[0, -1, 4] = [ 1,  0, 11]
    #   row 1: -1*[1, 2, 3] + 0*[0, -1, 4] = [-1, -2, -3]
    # dE/db = column sums of g = [1 + 2, -1 + 0] = [3, -1]
    grads_wrt_weights, grads_wrt_biases = layer.grads_wrt_params(x, g)
    np.testing.assert_array_equal(grads_wrt_weights, [[1.0, 0.0, 11.0], [-1.0, -2.0, -3.0]])
    np.testing.assert_array_equal(grads_wrt_biases, [3.0, -1.0])


# ---------------------------------------------------------------------------------------
# Stability for huge inputs
# ---------------------------------------------------------------------------------------

HUGE = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, 1000.0], [1000.0, 1000.0, -1000.0]])
HUGE_EXPECTED = {
    SigmoidLayer: [[1.0, 0.0, 0.5], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]],
    SoftmaxLayer: [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.5, 0.0]],
    TanhLayer: [[1.0, -1.0, 0.0], [-1.0, -1.0, 1.0], [1.0, 1.0, -1.0]],
    ELULayer: [[1000.0, -1.0, 0.0], [-1.0, -1.0, 1000.0], [1000.0, 1000.0, -1.0]],
    SwishLayer: [[1000.0, 0.0, 0.0], [0.0, 0.0, 1000.0], [1000.0, 1000.0, 0.0]],
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_class", list(HUGE_EXPECTED), ids=lambda c: c.__name__)
def test_huge_inputs_give_finite_values_without_warnings(layer_class, dtype) -> None:
    layer = layer_class()
    x = HUGE.astype(dtype)
    # Overflow, division by zero and invalid operations raise; underflow to exactly 0 (as
    # in exp(-2000) inside softmax) is the correct result and NumPy ignores it by default.
    with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
        warnings.simplefilter("error")
        outputs = layer.fprop(x)
        grads = layer.bprop(x, outputs, np.ones_like(x))
    assert outputs.dtype == dtype
    np.testing.assert_allclose(outputs, HUGE_EXPECTED[layer_class], rtol=1e-6, atol=1e-30)
    assert np.isfinite(grads).all()


# ---------------------------------------------------------------------------------------
# Dropout
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("share_across_batch", [True, False])
def test_dropout_evaluation_mode_is_the_identity(share_across_batch: bool) -> None:
    layer = DropoutLayer(np.random.RandomState(0), 0.5, share_across_batch)
    x = _inputs((BATCH, IN_DIM)).astype(np.float32)
    outputs = layer.fprop(x, stochastic=False)
    np.testing.assert_array_equal(outputs, x)
    upstream = _inputs((BATCH, IN_DIM), seed=1).astype(np.float32)
    np.testing.assert_array_equal(layer.bprop(x, outputs, upstream), upstream)


@pytest.mark.parametrize(
    ("share_across_batch", "shape", "tol"),
    # The tolerances are about 4 standard deviations of the kept fraction and the mean:
    # a shared mask has 20,000 independent units, a per-example one 100,000.
    [(True, (3, 20_000), 0.02), (False, (50, 2_000), 0.01)],
)
def test_dropout_keeps_incl_prob_of_units_and_preserves_the_mean(
    share_across_batch: bool, shape: tuple[int, int], tol: float
) -> None:
    incl_prob = 0.7
    layer = DropoutLayer(np.random.RandomState(5), incl_prob, share_across_batch)
    x = np.ones(shape, dtype=np.float32)
    outputs = layer.fprop(x, stochastic=True)
    kept = outputs != 0
    # Kept units are scaled by exactly 1 / incl_prob, the rest are zero.
    np.testing.assert_allclose(outputs[kept], 1 / incl_prob, rtol=1e-6)
    assert abs(kept.mean() - incl_prob) < tol
    assert abs(outputs.mean() - 1.0) < tol
    rows_identical = (kept == kept[:1]).all()
    assert rows_identical == share_across_batch


@pytest.mark.parametrize("make_rng", [np.random.RandomState, np.random.default_rng])
@pytest.mark.parametrize("share_across_batch", [True, False])
def test_dropout_same_seed_gives_same_mask(make_rng, share_across_batch: bool) -> None:
    x = _inputs((BATCH, 50)).astype(np.float32)
    first = DropoutLayer(make_rng(7), 0.5, share_across_batch).fprop(x)
    second = DropoutLayer(make_rng(7), 0.5, share_across_batch).fprop(x)
    other = DropoutLayer(make_rng(8), 0.5, share_across_batch).fprop(x)
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


def test_dropout_draws_a_new_mask_each_call_and_bprop_uses_the_latest() -> None:
    layer = DropoutLayer(np.random.RandomState(0), 0.5, share_across_batch=False)
    x = _inputs((BATCH, 50)).astype(np.float32)
    first, second = layer.fprop(x), layer.fprop(x)
    assert not np.array_equal(first, second)
    upstream = np.ones_like(x)
    np.testing.assert_array_equal(layer.bprop(x, second, upstream) != 0, second != 0)


@pytest.mark.parametrize("incl_prob", [0.0, -0.1, 1.5, float("nan")])
def test_dropout_rejects_bad_incl_prob(incl_prob: float) -> None:
    with pytest.raises(ValueError, match="incl_prob"):
        DropoutLayer(incl_prob=incl_prob)


def test_dropout_is_a_stochastic_layer() -> None:
    assert isinstance(DropoutLayer(), StochasticLayer)


# ---------------------------------------------------------------------------------------
# AffineLayer: inputs, parameters and penalties
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 5), (2, 3), (4,)])
def test_affine_rejects_inputs_of_the_wrong_width(shape: tuple[int, ...]) -> None:
    layer = AffineLayer(4, 3)
    with pytest.raises(ValueError, match=r"\(batch_size, 4\)") as info:
        layer.fprop(np.zeros(shape, dtype=np.float32))
    assert str(shape) in str(info.value)


@pytest.mark.parametrize("dims", [(0, 3), (3, -1), (2.5, 3), (True, 3)])
def test_affine_rejects_bad_sizes(dims) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        AffineLayer(*dims)


def test_affine_params_round_trip() -> None:
    layer = AffineLayer(4, 3)
    rng = np.random.RandomState(0)
    weights, biases = rng.normal(size=(3, 4)), rng.normal(size=3)
    layer.params = [weights, biases]
    got_weights, got_biases = layer.params
    assert got_weights is layer.weights and got_biases is layer.biases
    assert got_weights.dtype == got_biases.dtype == np.float32  # cast to the layer's dtype
    np.testing.assert_allclose(got_weights, weights, rtol=1e-6)
    np.testing.assert_allclose(got_biases, biases, rtol=1e-6)
    x = _inputs((BATCH, 4))
    np.testing.assert_allclose(layer.fprop(x), x @ weights.T + biases, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "values",
    [
        [np.zeros((3, 4))],
        [np.zeros((3, 4)), np.zeros(3), np.zeros(3)],
        [np.zeros((4, 3)), np.zeros(3)],
        [np.zeros((3, 4)), np.zeros(4)],
    ],
    ids=["too-few", "too-many", "weights-transposed", "biases-wrong-size"],
)
def test_affine_params_setter_rejects_wrong_shapes(values) -> None:
    layer = AffineLayer(4, 3)
    before = [p.copy() for p in layer.params]
    with pytest.raises(ValueError, match=r"AffineLayer\(.*\) (has 2 parameters|needs weights)"):
        layer.params = values
    for param, saved in zip(layer.params, before, strict=True):
        np.testing.assert_array_equal(param, saved)


def test_affine_initialiser_of_wrong_shape_is_rejected() -> None:
    with pytest.raises(ValueError, match="shape"):
        AffineLayer(4, 3, weights_initialiser=lambda shape: np.zeros((4, 3)))


PENALTIES = [
    (L2Penalty(0.3), L1Penalty(0.2)),
    (L1Penalty(0.1), L2Penalty(0.5)),
    (L2Penalty(0.4), None),
    (None, L1Penalty(0.25)),
]


def _torch_penalty(penalty, parameter: torch.Tensor) -> torch.Tensor:
    if penalty is None:
        return parameter.new_zeros(())
    if isinstance(penalty, L1Penalty):
        return penalty.coefficient * parameter.abs().sum()
    return 0.5 * penalty.coefficient * (parameter**2).sum()


def affine_penalty_discrepancies(weights_penalty, biases_penalty) -> dict[str, float]:
    """Largest differences from PyTorch of a penalised affine layer's grads and penalty."""
    with mlp.default_dtype(np.float64):
        layer = AffineLayer(
            IN_DIM,
            AFFINE_OUT,
            UniformInit(-1.0, 1.0, rng=np.random.RandomState(1)),
            UniformInit(-1.0, 1.0, rng=np.random.RandomState(2)),  # non-zero: sign(0) aside
            weights_penalty=weights_penalty,
            biases_penalty=biases_penalty,
        )
    x = _inputs((BATCH, IN_DIM), seed=30)
    upstream = np.random.RandomState(31).normal(size=(BATCH, AFFINE_OUT))
    grads_wrt_weights, grads_wrt_biases = layer.grads_wrt_params(x, upstream)

    # In torch: E = sum(upstream * outputs) + penalty(W) + penalty(b).
    outputs, (weight, bias) = _torch_linear(layer, torch.from_numpy(x), layer.fprop(x))
    penalty = _torch_penalty(weights_penalty, weight) + _torch_penalty(biases_penalty, bias)
    ((torch.from_numpy(upstream) * outputs).sum() + penalty).backward()
    return {
        "params[0]": float(np.abs(grads_wrt_weights - weight.grad.numpy()).max()),
        "params[1]": float(np.abs(grads_wrt_biases - bias.grad.numpy()).max()),
        "penalty": abs(layer.params_penalty() - penalty.item()),
    }


@pytest.mark.parametrize(
    ("weights_penalty", "biases_penalty"), PENALTIES, ids=lambda p: repr(p).replace(" ", "")
)
def test_affine_penalties_add_to_grads_like_pytorch(weights_penalty, biases_penalty) -> None:
    for name, diff in affine_penalty_discrepancies(weights_penalty, biases_penalty).items():
        assert diff < TORCH_TOL, f"{name}: differs from torch by {diff:.2e}"


def test_affine_penalties_change_the_grads_by_exactly_their_gradient() -> None:
    penalties = {"weights_penalty": L2Penalty(0.3), "biases_penalty": L1Penalty(0.2)}
    init = {
        "weights_initialiser": UniformInit(-1, 1, rng=np.random.RandomState(1)),
        "biases_initialiser": UniformInit(-1, 1, rng=np.random.RandomState(2)),
    }
    with mlp.default_dtype(np.float64):
        plain = AffineLayer(IN_DIM, AFFINE_OUT, **init)
        penalised = AffineLayer(IN_DIM, AFFINE_OUT, **init, **penalties)
    penalised.params = [p.copy() for p in plain.params]
    x, upstream = _inputs((BATCH, IN_DIM)), np.ones((BATCH, AFFINE_OUT))
    plain_grads = plain.grads_wrt_params(x, upstream)
    penalised_grads = penalised.grads_wrt_params(x, upstream)
    np.testing.assert_allclose(
        penalised_grads[0] - plain_grads[0], 0.3 * plain.weights, rtol=1e-12, atol=1e-15
    )
    np.testing.assert_allclose(
        penalised_grads[1] - plain_grads[1], 0.2 * np.sign(plain.biases), rtol=1e-12
    )
    assert plain.params_penalty() == 0.0
    expected = 0.15 * np.sum(plain.weights**2) + 0.2 * np.abs(plain.biases).sum()
    assert penalised.params_penalty() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("penalty_class", [L1Penalty, L2Penalty])
def test_penalty_value_and_grad_match_pytorch(penalty_class) -> None:
    penalty = penalty_class(0.7)
    parameter = _inputs((3, 4), seed=40)
    parameter_torch = torch.tensor(parameter, requires_grad=True)
    value_torch = _torch_penalty(penalty, parameter_torch)
    value_torch.backward()
    assert abs(penalty(parameter) - value_torch.item()) < TORCH_TOL
    assert np.abs(penalty.grad(parameter) - parameter_torch.grad.numpy()).max() < TORCH_TOL


@pytest.mark.parametrize("penalty_class", [L1Penalty, L2Penalty])
@pytest.mark.parametrize("coefficient", [-0.1, float("nan")])
def test_penalty_rejects_bad_coefficient(penalty_class, coefficient: float) -> None:
    with pytest.raises(ValueError, match="coefficient"):
        penalty_class(coefficient)


@pytest.mark.parametrize("layer_class", [LeakyReluLayer, ELULayer])
def test_negative_alpha_is_rejected(layer_class) -> None:
    with pytest.raises(ValueError, match="alpha"):
        layer_class(alpha=-0.5)


def test_setting_params_copies_into_the_arrays_a_learning_rule_holds():
    from mlp.learning_rules import GradientDescentLearningRule

    layer = AffineLayer(3, 2)
    rule = GradientDescentLearningRule(0.1)
    rule.initialise(layer.params)
    new_weights = np.ones((2, 3), np.float32)
    layer.params = [new_weights, np.zeros(2, np.float32)]
    rule.update_params([np.ones((2, 3), np.float32), np.ones(2, np.float32)])
    np.testing.assert_allclose(layer.weights, 0.9)  # the rule moved the new values
    np.testing.assert_array_equal(new_weights, 1.0)  # and the caller's array is untouched


def test_a_float64_layer_under_the_float32_default_draws_in_float64():
    from mlp.initialisers import UniformInit

    layer = AffineLayer(5, 4, UniformInit(-1, 1, rng=np.random.RandomState(3)), dtype=np.float64)
    expected = np.random.RandomState(3).uniform(-1, 1, size=(4, 5))
    assert layer.weights.dtype == np.float64
    np.testing.assert_array_equal(layer.weights, expected)


# ---------------------------------------------------------------------------------------
# Defaults, shapes and input kinds
# ---------------------------------------------------------------------------------------


def test_layers_built_without_an_initialiser_get_different_weights() -> None:
    # As the course's shared default initialiser: one seeded stream for all such layers.
    first, second = AffineLayer(20, 20), AffineLayer(20, 20)
    assert not np.array_equal(first.weights, second.weights)
    assert np.abs(first.weights).max() <= 0.1 and np.abs(second.weights).max() <= 0.1


def test_dropout_layers_built_without_an_rng_drop_different_units() -> None:
    x = np.ones((1, 200), np.float32)
    first, second = DropoutLayer(), DropoutLayer()
    assert not np.array_equal(first.fprop(x), second.fprop(x))


def test_a_fresh_process_repeats_the_default_weights() -> None:
    import subprocess
    import sys

    code = "from mlp.layers import AffineLayer; print(AffineLayer(3, 2).weights.tobytes().hex())"
    runs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        for _ in range(2)
    ]
    assert runs[0].returncode == 0 and runs[0].stdout == runs[1].stdout != ""


@pytest.mark.parametrize("case", [c for c in LAYER_CASES if c.name != "AffineLayer"], ids=str)
@pytest.mark.parametrize("grads_shape", [(BATCH, 1), (1, IN_DIM), (BATCH, IN_DIM + 1)])
def test_bprop_rejects_gradients_of_another_shape(case: LayerCase, grads_shape) -> None:
    layer = case.make()
    x = _inputs((BATCH, IN_DIM)).astype(np.float32)
    outputs = layer.fprop(x)
    with pytest.raises(ValueError, match="shaped like its outputs"):
        layer.bprop(x, outputs, np.ones(grads_shape, np.float32))


def test_affine_grads_wrt_params_checks_its_inputs() -> None:
    layer = AffineLayer(3, 2)
    with pytest.raises(ValueError, match=r"inputs of shape \(batch_size, 3\)"):
        layer.grads_wrt_params(np.ones((4, 5)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="4 inputs but 2 rows"):
        layer.grads_wrt_params(np.ones((4, 3)), np.ones((2, 2)))


@pytest.mark.parametrize("case", LAYER_CASES, ids=str)
def test_integer_and_list_inputs_are_taken_as_floats(case: LayerCase) -> None:
    layer = case.make()
    ints = np.arange(BATCH * IN_DIM).reshape(BATCH, IN_DIM) % 5 - 2
    expected = layer.fprop(ints.astype(np.float32)) if case.name != "DropoutLayer" else None
    for given in (ints, ints.tolist()):
        if isinstance(layer, DropoutLayer):
            outputs = layer.fprop(np.asarray(given, np.float32), stochastic=False)
        else:
            outputs = layer.fprop(given)
            np.testing.assert_array_equal(outputs, expected)
        assert outputs.dtype.kind == "f"


def test_elu_gradient_is_accurate_far_into_the_negative_tail_and_at_infinity() -> None:
    x = np.array([[-12.0, -17.0, -20.0, -40.0, np.inf, 2.0]], np.float32)
    layer = ELULayer(alpha=1.0)
    outputs = layer.fprop(x)
    ours = layer.bprop(x, outputs, np.ones_like(x))
    x_torch = torch.tensor(x, requires_grad=True)
    torch.nn.functional.elu(x_torch).sum().backward()
    np.testing.assert_allclose(ours, x_torch.grad.numpy(), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# Swish (its gradient check and PyTorch comparison are the suite's registry case)
# ---------------------------------------------------------------------------------------


def test_swish_is_checked_against_torch_silu() -> None:
    assert registry.layer_entry("swish").torch_class() is nn.SiLU
    assert "SwishLayer" in [case.name for case in LAYER_CASES]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_swish_matches_silu_and_its_gradient_far_into_both_tails(dtype) -> None:
    x = np.array([[-745.0, -100.0, -40.0, -17.0, -1e-3, 0.0, 1e-3, 3.0, 17.0, 40.0, 1e4]])
    x = x.astype(dtype)
    layer = SwishLayer()
    outputs = layer.fprop(x)
    ours = layer.bprop(x, outputs, np.ones_like(x))
    x_torch = torch.tensor(x, requires_grad=True)
    torch.nn.functional.silu(x_torch).sum().backward()
    tol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(outputs, torch.nn.functional.silu(torch.from_numpy(x)), rtol=tol)
    np.testing.assert_allclose(ours, x_torch.grad.numpy(), rtol=tol, atol=1e-300)


def test_swish_takes_inputs_of_any_shape() -> None:
    x = _inputs((2, 3, 4), seed=30)
    layer = SwishLayer()
    outputs = layer.fprop(x)
    grads = layer.bprop(x, outputs, np.ones_like(x))
    flat = x.reshape(6, 4)
    np.testing.assert_array_equal(outputs, layer.fprop(flat).reshape(x.shape))
    np.testing.assert_array_equal(
        grads, layer.bprop(flat, outputs.reshape(6, 4), np.ones((6, 4))).reshape(x.shape)
    )
    assert check_layer_gradients(layer, x)["inputs"] < GRAD_TOL
