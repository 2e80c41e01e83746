"""mlp.diagnostics: each statistic against a hand computation, the gradients against the
model's and a finite difference, the callback's timing, and that measuring leaves
training bit for bit as it was."""

from __future__ import annotations

import numpy as np
import pytest

from mlp._fast.dense import dense_passes
from mlp.callbacks import Callback
from mlp.convolution import ConvolutionalLayer, MaxPooling2DLayer
from mlp.data_providers import DataProvider
from mlp.diagnostics import (
    LayerStats,
    activation_sample,
    first_examples,
    layer_statistics,
    measure_layers,
)
from mlp.errors import CrossEntropySoftmaxError
from mlp.initialisers import UniformInit
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.layers import (
    AffineLayer,
    DropoutLayer,
    ELULayer,
    ExponentialLinearUnitLayer,
    LeakyReluLayer,
    ParametricReluLayer,
    RandomReluLayer,
    ReluLayer,
    ReshapeLayer,
    SigmoidLayer,
    SoftmaxLayer,
    TanhLayer,
)
from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule
from mlp.models import MultipleLayerModel, SingleLayerModel
from mlp.normalisation import BatchNormalizationLayer
from mlp.optimisers import Optimiser

pytestmark = pytest.mark.usefixtures("one_blas_thread")

COL = {name: i for i, name in enumerate(LAYER_COLUMNS)}


def _tiny() -> tuple[MultipleLayerModel, np.ndarray, np.ndarray]:
    """A 2-3-2 sigmoid network with known float64 weights and a batch of 4."""
    first = AffineLayer(2, 3, dtype=np.float64)
    first.params = [np.array([[1.0, -2.0], [0.5, 0.25], [-1.5, 3.0]]), np.array([0.1, -0.2, 0.3])]
    second = AffineLayer(3, 2, dtype=np.float64)
    second.params = [np.array([[2.0, -1.0, 0.5], [-0.5, 1.5, 1.0]]), np.array([0.05, -0.05])]
    x = np.array([[0.5, -1.0], [2.0, 0.0], [-1.0, 1.0], [0.0, 0.5]])
    t = np.eye(2)[[0, 1, 1, 0]]
    return MultipleLayerModel([first, SigmoidLayer(), second]), x, t


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_every_statistic_of_a_tiny_network_by_hand():
    model, x, t = _tiny()
    (w1, b1), (w2, b2) = model.layers[0].params, model.layers[2].params
    a = x @ w1.T + b1
    h = 1 / (1 + np.exp(-a))
    z = h @ w2.T + b2
    dz = (_softmax(z) - t) / len(x)  # the gradient of the batch's mean error
    dh = dz @ w2
    da = dh * h * (1 - h)
    table = measure_layers(model, CrossEntropySoftmaxError(), x, t, epoch=3)
    assert table.epochs.tolist() == [3, 3, 3] and table.layers.tolist() == [0, 1, 2]
    assert table.names == ("AffineLayer", "SigmoidLayer", "AffineLayer")
    v = table.values
    np.testing.assert_allclose(
        v[:, COL["output_grad_norm"]], [np.linalg.norm(g) for g in (da, dh, dz)]
    )
    grads = [(da.T @ x, da.sum(0)), (dz.T @ h, dz.sum(0))]
    norms = [np.sqrt(np.sum(gw**2) + np.sum(gb**2)) for gw, gb in grads]
    np.testing.assert_allclose(v[[0, 2], COL["param_grad_norm"]], norms)
    assert np.isnan(v[1, COL["param_grad_norm"]])
    assert np.isnan(v[:, COL["update_ratio"]]).all()  # no previous parameters given
    np.testing.assert_allclose(v[:, COL["activation_mean"]], [a.mean(), h.mean(), z.mean()])
    np.testing.assert_allclose(v[:, COL["activation_std"]], [a.std(), h.std(), z.std()])
    saturated = np.mean((h < 0.01) | (h > 0.99))
    np.testing.assert_allclose(v[1, COL["saturated_fraction"]], saturated)
    assert np.isnan(v[[0, 2], COL["saturated_fraction"]]).all()
    assert np.isnan(v[:, COL["dead_fraction"]]).all()
    assert np.isnan(v[:, COL["negative_fraction"]]).all()


def test_update_ratio_is_the_change_relative_to_the_weights():
    model, x, t = _tiny()
    previous = [p - 0.1 * np.sign(p) for p in model.params]
    table = measure_layers(model, CrossEntropySoftmaxError(), x, t, previous_params=previous)
    for row, layer, (start, stop) in ((0, model.layers[0], (0, 2)), (2, model.layers[2], (2, 4))):
        change = [p - q for p, q in zip(layer.params, previous[start:stop], strict=True)]
        expected = np.sqrt(sum(np.sum(c**2) for c in change)) / np.sqrt(
            sum(np.sum(p**2) for p in layer.params)
        )
        np.testing.assert_allclose(table.values[row, COL["update_ratio"]], expected)
    assert np.isnan(table.values[1, COL["update_ratio"]])


def test_gradient_norms_match_the_model_and_a_finite_difference():
    rng = np.random.RandomState(3)
    model = MultipleLayerModel(
        [
            AffineLayer(4, 5, _init(rng), dtype=np.float64),
            TanhLayer(),
            AffineLayer(5, 3, _init(rng), dtype=np.float64),
        ]
    )
    x, t = rng.randn(6, 4), np.eye(3)[rng.randint(0, 3, 6)]
    error = CrossEntropySoftmaxError()
    table = measure_layers(model, error, x, t)
    activations = model.fprop(x)
    grads = model.grads_wrt_params(activations, error.grad(activations[-1], t))
    expected = [np.sqrt(np.sum(grads[0] ** 2) + np.sum(grads[1] ** 2))]
    expected.append(np.sqrt(np.sum(grads[2] ** 2) + np.sum(grads[3] ** 2)))
    np.testing.assert_allclose(table.values[[0, 2], COL["param_grad_norm"]], expected, rtol=1e-12)
    # dE/dy of the tanh layer's outputs y, by central differences through the last layer.
    y, eps = activations[2], 1e-6
    numeric = np.zeros_like(y)
    for index in np.ndindex(*y.shape):
        step = np.zeros_like(y)
        step[index] = eps
        up = error(model.layers[2].fprop(y + step), t)
        down = error(model.layers[2].fprop(y - step), t)
        numeric[index] = (up - down) / (2 * eps)
    np.testing.assert_allclose(
        table.values[1, COL["output_grad_norm"]], np.linalg.norm(numeric), rtol=1e-6
    )


def _fractions(layer, inputs, outputs=None):
    outputs = layer.fprop(inputs) if outputs is None else outputs
    values = layer_statistics(layer, inputs, outputs, np.zeros_like(outputs))
    return {
        name: values[COL[name]]
        for name in ("saturated_fraction", "dead_fraction", "negative_fraction")
    }


def test_saturated_dead_and_negative_fractions_on_constructed_inputs():
    # sigmoid(+-6) is within 0.01 of 1 and 0 (0.9975, 0.0025); sigmoid(4) = 0.982 is not.
    sig = _fractions(SigmoidLayer(), np.array([[6.0, -6.0, 0.0, 4.0]]))
    assert sig["saturated_fraction"] == 0.5 and np.isnan(sig["dead_fraction"])
    tanh = _fractions(TanhLayer(), np.array([[3.0, -3.0, 0.5], [-0.1, 2.0, 10.0]]))
    assert tanh["saturated_fraction"] == pytest.approx(3 / 6)  # |tanh(2)| = 0.964 is not
    # Unit 0 is positive for one example (alive); units 1 and 2 never (dead, 0 counts).
    relu = _fractions(ReluLayer(), np.array([[-1.0, -2.0, 0.0, 1.0], [3.0, -1.0, 0.0, 2.0]]))
    assert relu["dead_fraction"] == 0.5 and np.isnan(relu["saturated_fraction"])
    inputs = np.array([[-1.0, 0.0, 2.0, -3.0]])
    for layer in (
        LeakyReluLayer(),
        ELULayer(),
        ExponentialLinearUnitLayer(),
        ParametricReluLayer(),
        RandomReluLayer(),
    ):
        found = _fractions(
            layer,
            inputs,
            layer.fprop(inputs, stochastic=False) if isinstance(layer, RandomReluLayer) else None,
        )
        assert found["negative_fraction"] == 0.5, layer
        assert np.isnan(found["dead_fraction"]) and np.isnan(found["saturated_fraction"])
    assert all(np.isnan(v) for v in _fractions(SoftmaxLayer(), inputs).values())


def test_a_convolutions_unit_is_one_channel_at_one_position():
    inputs = -np.ones((3, 2, 2, 2))
    inputs[1, 0, 1, 1] = 1.0  # one entry of one example makes that unit alive
    found = _fractions(ReluLayer(), inputs)
    assert found["dead_fraction"] == pytest.approx(7 / 8)


def test_integer_arrays_and_a_single_layer_model_are_measured():
    layer = AffineLayer(3, 2, dtype=np.float64)
    model = SingleLayerModel(layer)
    x = np.arange(12).reshape(4, 3)
    table = measure_layers(model, CrossEntropySoftmaxError(), x, np.eye(2)[[0, 1, 0, 1]])
    assert len(table) == 1 and table.names == ("AffineLayer",)
    assert np.isfinite(table.values[0, :2]).all()


def _init(rng: np.random.RandomState) -> UniformInit:
    return UniformInit(-0.5, 0.5, rng=rng)


def _conv_model(rng: np.random.RandomState) -> MultipleLayerModel:
    return MultipleLayerModel(
        [
            ReshapeLayer((1, 6, 6)),
            ConvolutionalLayer(1, 2, 6, 6, 3, 3, _init(rng)),
            ReluLayer(),
            MaxPooling2DLayer(2),
            ReshapeLayer((8,)),
            BatchNormalizationLayer(8),
            DropoutLayer(rng, 0.8, share_across_batch=False),
            RandomReluLayer(rng=rng),
            AffineLayer(8, 3, _init(rng)),
        ]
    )


def test_a_model_with_every_kind_of_layer_is_measured_without_changing_it():
    rng = np.random.RandomState(5)
    model = _conv_model(rng)
    x, t = rng.rand(10, 36).astype(np.float32), np.eye(3, dtype=np.float32)[rng.randint(0, 3, 10)]
    model.fprop(x)  # batch statistics into the running ones, a mask drawn
    state, params = model.state(), [p.copy() for p in model.params]
    rng_state = rng.get_state()
    table = measure_layers(model, CrossEntropySoftmaxError(), x, t)
    assert table.names == tuple(type(layer).__name__ for layer in model.layers)
    assert np.isfinite(table.values[:, COL["output_grad_norm"]]).all()
    assert table.applies("param_grad_norm") == [1, 5, 8]
    assert table.applies("dead_fraction") == [2] and table.applies("negative_fraction") == [7]
    for key, value in model.state().items():
        np.testing.assert_array_equal(value, state[key])
    for a, b in zip(model.params, params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert str(rng.get_state()) == str(rng_state)  # nothing drawn


def _data(n: int = 120, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.RandomState(seed)
    return rng.rand(n, 36).astype(np.float32), np.eye(3, dtype=np.float32)[rng.randint(0, 3, n)]


def _train(kind: str, callbacks: list[Callback], epochs: int = 4) -> tuple[np.ndarray, list]:
    rng = np.random.RandomState(11)
    x, t = _data()
    if kind == "conv":
        model, rule = _conv_model(rng), AdamLearningRule()
    else:
        activation = {"sigmoid": SigmoidLayer, "relu": ReluLayer}[kind]
        model = MultipleLayerModel(
            [
                AffineLayer(36, 16, _init(rng), dtype=np.float32),
                activation(),
                AffineLayer(16, 3, _init(rng), dtype=np.float32),
            ]
        )
        rule = GradientDescentLearningRule(0.5) if kind == "sigmoid" else AdamLearningRule()
    # The plain nets take the fast path, whose buffers the measurements must not touch.
    assert (dense_passes(model, CrossEntropySoftmaxError()) is not None) == (kind != "conv")
    provider = DataProvider(x, t, 20, rng=np.random.RandomState(2))
    optimiser = Optimiser(model, CrossEntropySoftmaxError(), rule, provider, callbacks=callbacks)
    stats, _, _ = optimiser.train(epochs, 2)
    return stats, [p.copy() for p in model.params]


@pytest.mark.parametrize("kind", ["sigmoid", "relu", "conv"])
def test_measuring_does_not_change_training(kind):
    """Bit for bit: the dense fast path (sigmoid, SGD), Adam (relu), and a model with
    convolution, batch norm, dropout and RReLU, whose rngs must not be drawn from."""
    plain_stats, plain_params = _train(kind, [])
    monitor = LayerStats(50)
    stats, params = _train(kind, [monitor])
    np.testing.assert_array_equal(stats, plain_stats)
    for a, b in zip(params, plain_params, strict=True):
        np.testing.assert_array_equal(a, b)
    assert monitor.table.measured_epochs().tolist() == [0, 2, 4]


class _ParamsBeforeEachStep(Callback):
    def __init__(self):
        self.seen: list[tuple[int, int]] = []
        self.params: dict[int, list[np.ndarray]] = {}

    def on_batch_begin(self, loop, epoch, batch_index):
        self.seen.append((epoch, batch_index))
        self.params[epoch] = [np.array(p, np.float64) for p in loop.model.params]


def test_interval_update_ratio_and_samples_of_the_callback():
    watcher = _ParamsBeforeEachStep()
    measured = []
    monitor = LayerStats(
        30, interval=3, sample_size=7, on_measurement=lambda r, s: measured.append((r, dict(s)))
    )
    _train("sigmoid", [watcher, monitor], epochs=6)
    assert watcher.seen[:7] == [(1, 0), (1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (2, 0)]
    table = monitor.table
    assert table.measured_epochs().tolist() == [0, 3, 6]
    assert [r.epochs[0] for r, _ in measured] == [0, 3, 6]
    assert sorted(measured[-1][1]) == [0, 6]  # the first and the latest measurement only
    assert sorted(monitor.samples) == [0, 6] and monitor.samples[6][1].shape == (7,)
    assert monitor.samples[6][1].dtype == np.float32
    _, ratios = table.series(0, "update_ratio")
    assert np.isnan(ratios[0]) and np.isfinite(ratios[1:]).all()
    # The ratio after epoch 6 is that of its last step, whose start the watcher saw.
    model_params = _train("sigmoid", [], epochs=6)[1]
    w, b = model_params[0].astype(np.float64), model_params[1].astype(np.float64)
    before = watcher.params[6]
    expected = np.sqrt(np.sum((w - before[0]) ** 2) + np.sum((b - before[1]) ** 2)) / np.sqrt(
        np.sum(w**2) + np.sum(b**2)
    )
    np.testing.assert_allclose(ratios[2], expected, rtol=1e-12)


def test_the_batch_hook_costs_nothing_when_no_callback_overrides_it():
    x, t = _data(40)
    provider = DataProvider(x, t, 20)
    model = MultipleLayerModel([AffineLayer(36, 3)])
    optimiser = Optimiser(
        model, CrossEntropySoftmaxError(), GradientDescentLearningRule(), provider
    )
    assert optimiser._epoch_batches() is provider
    optimiser.callbacks.append(_ParamsBeforeEachStep())
    assert optimiser._epoch_batches() is not provider


def test_the_fixed_batch_is_read_without_drawing_from_the_provider():
    x, t = _data(30)
    provider = DataProvider(x, t, 10, rng=np.random.RandomState(4))
    before = str(provider.state())
    inputs, targets = first_examples(provider, 1000)  # fewer examples: all of them
    np.testing.assert_array_equal(inputs, x)
    np.testing.assert_array_equal(targets, t)
    assert str(provider.state()) == before
    inputs, _ = first_examples(provider, 12)
    assert inputs.shape == (12, 36)


def test_a_provider_without_arrays_needs_an_explicit_batch():
    x, t = _data(40)
    batches = [(x[:20], t[:20]), (x[20:], t[20:])]
    model = MultipleLayerModel([AffineLayer(36, 3)])
    rule = GradientDescentLearningRule()
    with pytest.raises(TypeError, match="pass batch="):
        Optimiser(model, CrossEntropySoftmaxError(), rule, batches, callbacks=[LayerStats()]).train(
            1, 1
        )
    monitor = LayerStats(batch=(x[:5], t[:5]))
    Optimiser(model, CrossEntropySoftmaxError(), rule, batches, callbacks=[monitor]).train(2, 1)
    assert monitor.table.measured_epochs().tolist() == [0, 1, 2]
    # Without a length the parameters are copied at every batch: the ratios are known.
    assert np.isfinite(monitor.table.series(0, "update_ratio")[1][1:]).all()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"batch_size": True}, TypeError, "batch_size"),
        ({"sample_size": -1}, ValueError, "sample_size"),
        ({"interval": 0}, ValueError, "interval"),
        ({"interval": "2"}, TypeError, "interval"),
        ({"batch": np.zeros((3, 2))}, TypeError, "batch"),
        ({"batch": (np.zeros((3, 2)), np.zeros((4, 2)))}, ValueError, "batch"),
        ({"batch": (np.zeros(3), np.zeros(3))}, ValueError, "batch"),
        ({"on_measurement": 5}, TypeError, "on_measurement"),
        ({"on_measurement": LayerStatsTable}, TypeError, "on_measurement"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, match):
    with pytest.raises(error, match=match):
        LayerStats(**kwargs)


def test_measure_layers_refuses_what_it_cannot_measure():
    model, x, t = _tiny()
    error = CrossEntropySoftmaxError()
    with pytest.raises(TypeError, match="model"):
        measure_layers(MultipleLayerModel, error, x, t)
    with pytest.raises(TypeError, match="model"):
        measure_layers([AffineLayer(2, 2)], error, x, t)
    with pytest.raises(TypeError, match="error"):
        measure_layers(model, CrossEntropySoftmaxError, x, t)
    with pytest.raises(ValueError, match="previous_params"):
        measure_layers(model, error, x, t, previous_params=model.params[:3])
    with pytest.raises(ValueError, match="previous_params"):
        measure_layers(model, error, x, t, previous_params=[p.T for p in model.params])
    with pytest.raises(TypeError, match="previous_params"):
        measure_layers(model, error, x, t, previous_params=np.zeros(3))
    with pytest.raises(ValueError, match="epoch"):
        measure_layers(model, error, x, t, epoch=-1)


def test_activation_sample_is_a_fixed_sorted_subset_and_bounded():
    values = np.arange(100.0).reshape(10, 10)
    sample = activation_sample(values, 5)
    assert sample.dtype == np.float32 and len(set(sample.tolist())) == 5
    assert np.all(np.diff(sample) > 0) and sample.tolist() == activation_sample(values, 5).tolist()
    assert activation_sample(values, 1000).shape == (100,)
    with pytest.raises(ValueError, match="sample_size"):
        activation_sample(values, 0)


def test_activation_samples_cover_every_unit_without_drawing_from_training_streams():
    # An exact stride of 5 over a (1000, 10) output would keep units 0 and 5 only.
    from mlp.diagnostics import activation_sample
    from mlp.layer_stats import sample_indices

    outputs = np.tile(np.arange(10.0), (1000, 1))
    state = np.random.get_state()  # noqa: NPY002 (the legacy global stream, untouched)
    sample = activation_sample(outputs, 2000)
    assert np.array_equal(np.random.get_state()[1], state[1])  # noqa: NPY002
    assert sample.shape == (2000,) and set(np.unique(sample)) == set(range(10))
    assert np.array_equal(sample_indices(10_000, 2000), sample_indices(10_000, 2000))
    assert np.array_equal(activation_sample(outputs[:100], 2000), outputs[:100].ravel())
    indices = sample_indices(10_000, 2000)
    assert len(np.unique(indices)) == 2000 and np.all(np.diff(indices) > 0)
