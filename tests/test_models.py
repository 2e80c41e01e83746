"""Models: activations, parameters and their gradients, a whole-model gradient check,
PyTorch's nn.Sequential as an oracle, evaluation mode, repr."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import mlp
from mlp.errors import CrossEntropySoftmaxError, SumOfSquaredDiffsError
from mlp.gradcheck import numerical_gradient, relative_error
from mlp.initialisers import UniformInit
from mlp.layers import (
    AffineLayer,
    DropoutLayer,
    ReluLayer,
    SigmoidLayer,
    TanhLayer,
)
from mlp.models import MultipleLayerModel, SingleLayerModel
from mlp.penalties import L2Penalty

BATCH, SIZES = 6, (4, 7, 5, 3)  # input, two hidden widths, output
GRAD_TOL = 1e-6
TORCH_TOL = 1e-10


def _affine(input_dim: int, output_dim: int, seed: int, **kwargs) -> AffineLayer:
    return AffineLayer(
        input_dim,
        output_dim,
        UniformInit(-0.8, 0.8, rng=np.random.RandomState(seed)),
        UniformInit(-0.5, 0.5, rng=np.random.RandomState(seed + 100)),
        **kwargs,
    )


def three_layer_model(**penalties) -> MultipleLayerModel:
    """Affine-sigmoid-affine-tanh-affine, built in the current default dtype."""
    a, b, c, d = SIZES
    return MultipleLayerModel(
        [
            _affine(a, b, 1, **penalties),
            SigmoidLayer(),
            _affine(b, c, 2, **penalties),
            TanhLayer(),
            _affine(c, d, 3, **penalties),
        ]
    )


def _data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    inputs = rng.normal(size=(BATCH, SIZES[0]))
    targets = np.eye(SIZES[-1])[rng.randint(SIZES[-1], size=BATCH)]
    return inputs, targets


def test_fprop_returns_inputs_then_one_activation_per_layer() -> None:
    model = three_layer_model()
    inputs, _ = _data()
    activations = model.fprop(inputs.astype(np.float32))
    assert len(activations) == len(model.layers) + 1
    np.testing.assert_array_equal(activations[0], inputs.astype(np.float32))
    widths = [SIZES[0], SIZES[1], SIZES[1], SIZES[2], SIZES[2], SIZES[3]]
    assert [a.shape for a in activations] == [(BATCH, w) for w in widths]
    # Each activation is its layer applied to the one before.
    for layer, before, after in zip(model.layers, activations[:-1], activations[1:], strict=True):
        np.testing.assert_array_equal(layer.fprop(before), after)


def test_params_are_the_layers_arrays_aligned_with_their_gradients() -> None:
    model = three_layer_model()
    affine_layers = [layer for layer in model.layers if isinstance(layer, AffineLayer)]
    expected = [p for layer in affine_layers for p in (layer.weights, layer.biases)]
    assert len(model.params) == len(expected) == 6
    for got, want in zip(model.params, expected, strict=True):
        assert got is want

    inputs, targets = _data()
    activations = model.fprop(inputs.astype(np.float32))
    grads = model.grads_wrt_params(
        activations, SumOfSquaredDiffsError().grad(activations[-1], targets.astype(np.float32))
    )
    assert len(grads) == len(model.params)
    for param, grad in zip(model.params, grads, strict=True):
        assert grad.shape == param.shape
        assert grad.dtype == param.dtype


def whole_model_gradient_errors(penalised: bool = False) -> list[float]:
    """Largest relative error of each parameter's gradient against central differences
    of the error (plus the penalties when there are some), float64."""
    penalties = {"weights_penalty": L2Penalty(0.1), "biases_penalty": L2Penalty(0.05)}
    with mlp.default_dtype(np.float64):
        model = three_layer_model(**(penalties if penalised else {}))
    inputs, targets = _data()
    error = CrossEntropySoftmaxError()

    def objective() -> float:
        return error(model.fprop(inputs)[-1], targets) + model.params_penalty()

    activations = model.fprop(inputs)
    analytic = model.grads_wrt_params(activations, error.grad(activations[-1], targets))
    return [
        relative_error(grad, numerical_gradient(objective, param))
        for param, grad in zip(model.params, analytic, strict=True)
    ]


@pytest.mark.parametrize("penalised", [False, True], ids=["plain", "L2-penalised"])
def test_whole_model_gradient_check(penalised: bool) -> None:
    errors = whole_model_gradient_errors(penalised)
    assert len(errors) == 6
    for i, error in enumerate(errors):
        assert error < GRAD_TOL, f"params[{i}]: relative error {error:.2e}"


def torch_discrepancies() -> dict[str, float]:
    """Largest absolute differences from an nn.Sequential twin, float64."""
    with mlp.default_dtype(np.float64):
        model = three_layer_model()
    inputs, targets = _data()
    error = CrossEntropySoftmaxError()
    activations = model.fprop(inputs)
    grads = model.grads_wrt_params(activations, error.grad(activations[-1], targets))

    a, b, c, d = SIZES
    twin = nn.Sequential(
        nn.Linear(a, b), nn.Sigmoid(), nn.Linear(b, c), nn.Tanh(), nn.Linear(c, d)
    ).double()
    linears = [m for m in twin if isinstance(m, nn.Linear)]
    torch_params = [p for m in linears for p in (m.weight, m.bias)]
    with torch.no_grad():
        for param_torch, param in zip(torch_params, model.params, strict=True):
            param_torch.copy_(torch.from_numpy(param))
    outputs_torch = twin(torch.from_numpy(inputs))
    loss = F.cross_entropy(outputs_torch, torch.from_numpy(targets.argmax(axis=1)))
    loss.backward()

    diffs = {
        "outputs": float(np.abs(activations[-1] - outputs_torch.detach().numpy()).max()),
        "error": abs(error(activations[-1], targets) - loss.item()),
    }
    for i, (grad, param_torch) in enumerate(zip(grads, torch_params, strict=True)):
        diffs[f"params[{i}]"] = float(np.abs(grad - param_torch.grad.numpy()).max())
    return diffs


def test_matches_torch_sequential() -> None:
    diffs = torch_discrepancies()
    assert len(diffs) == 2 + 6
    for name, diff in diffs.items():
        assert diff < TORCH_TOL, f"{name}: differs from torch by {diff:.2e}"


def _dropout_model(rng) -> MultipleLayerModel:
    return MultipleLayerModel(
        [
            _affine(4, 40, 1),
            ReluLayer(),
            DropoutLayer(rng, incl_prob=0.5, share_across_batch=False),
            _affine(40, 3, 2),
        ]
    )


def test_evaluation_mode_turns_dropout_off() -> None:
    model = _dropout_model(np.random.RandomState(0))
    without_dropout = MultipleLayerModel([model.layers[0], model.layers[1], model.layers[3]])
    inputs = _data()[0].astype(np.float32)

    evaluated = model.fprop(inputs, evaluation=True)
    np.testing.assert_array_equal(evaluated[-1], without_dropout.fprop(inputs)[-1])
    np.testing.assert_array_equal(evaluated[3], evaluated[2])  # dropout passed it through
    np.testing.assert_array_equal(model.fprop(inputs, evaluation=True)[-1], evaluated[-1])

    trained = model.fprop(inputs)  # evaluation=False: dropout samples
    assert (trained[3] == 0).sum() > (trained[2] == 0).sum()
    assert not np.array_equal(trained[-1], evaluated[-1])
    assert not np.array_equal(model.fprop(inputs)[-1], trained[-1])


def test_predict_is_evaluation_mode_in_batches() -> None:
    model = _dropout_model(np.random.RandomState(0))
    inputs = np.random.RandomState(1).normal(size=(25, 4)).astype(np.float32)
    predicted = model.predict(inputs, batch_size=7)
    np.testing.assert_allclose(
        predicted, model.fprop(inputs, evaluation=True)[-1], rtol=1e-6, atol=1e-6
    )


def test_params_setter_updates_every_layer() -> None:
    model = three_layer_model()
    rng = np.random.RandomState(5)
    new_values = [rng.normal(size=p.shape).astype(np.float32) for p in model.params]
    model.params = new_values
    for got, want in zip(model.params, new_values, strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(model.layers[4].weights, new_values[4])
    # and the forward pass uses them
    inputs = _data()[0].astype(np.float32)
    hidden = np.tanh(
        1 / (1 + np.exp(-(inputs @ new_values[0].T + new_values[1]))) @ new_values[2].T
        + new_values[3]
    )
    np.testing.assert_allclose(
        model.fprop(inputs)[-1], hidden @ new_values[4].T + new_values[5], rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("count", [5, 7])
def test_params_setter_rejects_the_wrong_number_of_arrays(count: int) -> None:
    model = three_layer_model()
    with pytest.raises(ValueError, match="6"):
        model.params = [np.zeros(1)] * count


def test_grads_wrt_params_rejects_activations_of_the_wrong_length() -> None:
    model = three_layer_model()
    inputs = _data()[0].astype(np.float32)
    activations = model.fprop(inputs)
    with pytest.raises(ValueError, match="activations"):
        model.grads_wrt_params(activations[1:], np.ones_like(activations[-1]))


def test_only_layers_are_accepted() -> None:
    with pytest.raises(TypeError, match="layer 1"):
        MultipleLayerModel([AffineLayer(2, 2), np.tanh])


def test_single_layer_model() -> None:
    layer = _affine(4, 3, 1)
    model = SingleLayerModel(layer)
    assert model.layer is layer
    assert model.params[0] is layer.weights and model.params[1] is layer.biases
    inputs, targets = _data()
    inputs, targets = inputs.astype(np.float32), targets[:, :3].astype(np.float32)
    activations = model.fprop(inputs)
    assert len(activations) == 2
    error = SumOfSquaredDiffsError()
    grads = model.grads_wrt_params(activations, error.grad(activations[-1], targets))
    expected = layer.grads_wrt_params(inputs, error.grad(layer.fprop(inputs), targets))
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_repr_lists_the_layers() -> None:
    text = repr(three_layer_model())
    assert text.startswith("MultipleLayerModel")
    for part in ("AffineLayer(input_dim=4, output_dim=7)", "SigmoidLayer", "TanhLayer"):
        assert part in text
    assert text.index("SigmoidLayer") < text.index("TanhLayer")
    single = repr(SingleLayerModel(AffineLayer(784, 10)))
    assert single.startswith("SingleLayerModel") and "input_dim=784" in single


def test_the_same_dropout_layer_twice_in_a_model_is_rejected():
    from mlp.layers import AffineLayer, DropoutLayer

    dropout = DropoutLayer(np.random.RandomState(0))
    with pytest.raises(ValueError, match="appears twice"):
        MultipleLayerModel([AffineLayer(3, 3), dropout, AffineLayer(3, 3), dropout])


def test_predict_on_no_examples_gives_an_empty_array_like_fprop() -> None:
    model = MultipleLayerModel([AffineLayer(4, 3), ReluLayer(), AffineLayer(3, 2)])
    outputs = model.predict(np.zeros((0, 4), np.float32))
    assert outputs.shape == (0, 2) and outputs.dtype == np.float32
