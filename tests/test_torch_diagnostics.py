"""Per-layer statistics of the PyTorch twin (`mlp.pytorch.diagnostics`): the numbers
against a NumPy computation from the same weights, training left bit for bit as it was,
the torch backend's layers.csv, and refused arguments."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

from mlp import pytorch, registry  # noqa: E402
from mlp.config import ExperimentConfig, build_experiment  # noqa: E402
from mlp.data_providers import OneOfKDataProvider  # noqa: E402
from mlp.errors import CrossEntropySoftmaxError  # noqa: E402
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable  # noqa: E402
from mlp.layers import (  # noqa: E402
    AffineLayer,
    DropoutLayer,
    ELULayer,
    ExponentialLinearUnitLayer,
    LayerWithParameters,
    LeakyReluLayer,
    ReluLayer,
    SigmoidLayer,
    TanhLayer,
)
from mlp.models import MultipleLayerModel  # noqa: E402
from mlp.pytorch.diagnostics import (  # noqa: E402
    SATURATION_MARGIN,
    TorchLayerStats,
    layer_modules,
    measure_torch_layers,
)
from mlp.runs.torch_backend import train_torch  # noqa: E402

LOSS = registry.entry("error", "cross_entropy_softmax").build_torch()


def _model(dtype=np.float64, seed=0) -> MultipleLayerModel:
    """Every kind of statistic: saturating, dying and leaky layers, dropout, one-of-K out.
    Large first weights saturate the sigmoid; very negative biases kill some ReLU units."""
    rng = np.random.RandomState(seed)

    def affine(n_in, n_out, scale=1.0):
        layer = AffineLayer(n_in, n_out, dtype=dtype)
        layer.weights = (rng.normal(scale=scale, size=(n_out, n_in))).astype(dtype)
        layer.biases = rng.normal(scale=0.5, size=n_out).astype(dtype)
        return layer

    dying = affine(8, 8)
    dying.biases = np.where(np.arange(8) < 3, -50.0, 0.1).astype(dtype)
    return MultipleLayerModel(
        [
            affine(6, 8, scale=4.0),
            SigmoidLayer(),
            affine(8, 8, scale=2.0),
            TanhLayer(),
            dying,
            ReluLayer(),
            affine(8, 8),
            LeakyReluLayer(alpha=0.1),
            affine(8, 8),
            ExponentialLinearUnitLayer(),
            DropoutLayer(rng=np.random.RandomState(3), incl_prob=0.7),
            affine(8, 4),
        ]
    )


def _batch(dtype=np.float64, n=30, seed=1):
    rng = np.random.RandomState(seed)
    inputs = rng.normal(size=(n, 6)).astype(dtype)
    targets = np.eye(4, dtype=dtype)[rng.randint(4, size=n)]
    return inputs, targets


def _norm(arrays) -> float:
    return float(np.sqrt(sum(np.sum(np.asarray(a, np.float64) ** 2) for a in arrays)))


def _by_hand(model, inputs, targets, previous) -> np.ndarray:
    """The statistics of `mlp.layer_stats`, from mlp's own fprop, bprop and
    grads_wrt_params, one row per layer."""
    activations = model.fprop(inputs, evaluation=True)
    grad = CrossEntropySoftmaxError().grad(activations[-1], targets)
    output_grads, param_grads = [None] * len(model.layers), [None] * len(model.layers)
    for i in reversed(range(len(model.layers))):
        layer = model.layers[i]
        output_grads[i] = grad
        if isinstance(layer, LayerWithParameters):
            param_grads[i] = layer.grads_wrt_params(activations[i], grad)
        grad = layer.bprop(activations[i], activations[i + 1], grad)
    rows, start = [], 0
    for i, layer in enumerate(model.layers):
        x = activations[i].astype(np.float64)
        y = activations[i + 1].astype(np.float64)
        row = dict.fromkeys(LAYER_COLUMNS, np.nan)
        row["output_grad_norm"] = _norm([output_grads[i]])
        if isinstance(layer, LayerWithParameters):
            params = layer.params
            before = previous[start : start + len(params)]
            start += len(params)
            row["param_grad_norm"] = _norm(param_grads[i])
            steps = [p.astype(np.float64) - q for p, q in zip(params, before, strict=True)]
            row["update_ratio"] = _norm(steps) / _norm(params)
        row["activation_mean"], row["activation_std"] = y.mean(), y.std()
        if isinstance(layer, SigmoidLayer):
            row["saturated_fraction"] = np.mean((y < SATURATION_MARGIN) | (y > 0.99))
        if isinstance(layer, TanhLayer):
            row["saturated_fraction"] = np.mean(np.abs(y) > 0.99)
        if isinstance(layer, ReluLayer):
            row["dead_fraction"] = np.mean(np.all(x <= 0, axis=0))
        if isinstance(layer, (LeakyReluLayer, ELULayer)):
            row["negative_fraction"] = np.mean(x < 0)
        rows.append([row[c] for c in LAYER_COLUMNS])
    return np.array(rows)


def _torch(array):
    return torch.from_numpy(np.array(array))


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-5)])
def test_statistics_equal_a_numpy_computation_from_the_same_weights(dtype, tol):
    model = _model(dtype)
    inputs, targets = _batch(dtype)
    rng = np.random.RandomState(5)
    previous = [p + rng.normal(scale=0.01, size=p.shape).astype(dtype) for p in model.params]
    names = [type(layer).__name__ for layer in model.layers]
    table = measure_torch_layers(
        pytorch.to_torch(model),
        LOSS,
        _torch(inputs),
        _torch(targets),
        names,
        epoch=3,
        previous_params=[_torch(p) for p in previous],
    )
    expected = _by_hand(model, inputs, targets, previous)
    assert table.names == tuple(names) and list(table.layers) == list(range(12))
    assert set(table.epochs.tolist()) == {3}
    np.testing.assert_allclose(table.values, expected, rtol=tol, atol=tol)
    # The constructed model exercises every statistic (not only NaNs and zeros).
    assert 0 < table.values[1, LAYER_COLUMNS.index("saturated_fraction")] < 1
    assert table.values[5, LAYER_COLUMNS.index("dead_fraction")] >= 3 / 8
    assert 0 < table.values[7, LAYER_COLUMNS.index("negative_fraction")] < 1


def test_rows_follow_the_model_layers_and_default_to_the_registry_names():
    model = _model()
    module = pytorch.to_torch(model)
    assert len(layer_modules(module)) == len(model.layers)
    assert [type(m) for m in layer_modules(nn.Sequential(nn.Sequential(*module), nn.ReLU()))] == [
        *(type(m) for m in module),
        nn.ReLU,
    ]
    inputs, targets = _batch()
    table = measure_torch_layers(module, LOSS, _torch(inputs), _torch(targets))
    # ExponentialLinearUnitLayer and ELULayer become the same nn.ELU: without names the
    # registry's class for nn.ELU is written; pass the model's names to keep its own.
    assert table.names[:9] == tuple(type(layer).__name__ for layer in model.layers[:9])
    assert table.names[9] in ("ELULayer", "ExponentialLinearUnitLayer")
    assert np.isnan(table.column("update_ratio")).all()


def test_measuring_changes_no_parameter_mode_gradient_or_rng():
    module = pytorch.to_torch(_model())
    module.train()
    module[3].eval()  # a submodule in its own mode keeps it
    before = [p.detach().clone() for p in module.parameters()]
    rng_state = torch.get_rng_state()
    inputs, targets = _batch()
    measure_torch_layers(module, LOSS, _torch(inputs), _torch(targets))
    assert [m.training for m in module] == [i != 3 for i in range(len(module))]
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))
    assert all(p.grad is None for p in module.parameters())
    assert torch.equal(rng_state, torch.get_rng_state())


def _providers(n=120, batch_size=40):
    rng = np.random.RandomState(2)
    inputs = rng.normal(size=(n + 40, 6)).astype(np.float32)
    labels = rng.randint(4, size=n + 40)
    train = OneOfKDataProvider(
        inputs[:n], labels[:n], batch_size, rng=np.random.RandomState(1), num_classes=4
    )
    valid = OneOfKDataProvider(inputs[n:], labels[n:], 40, shuffle_order=False, num_classes=4)
    return train, valid


def _train(callbacks, epochs=4, stats_interval=1, batch_size=40, record=None):
    """A seeded run with dropout; returns (stats, final parameters, trainer)."""
    torch.manual_seed(0)
    module = pytorch.to_torch(_model(np.float32))
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=0.9)
    if record is not None:  # the parameters before every step, independently of the callback
        optimizer.register_step_pre_hook(
            lambda opt, args, kwargs: record.append(
                [p.detach().clone() for p in module.parameters()]
            )
        )
    train, valid = _providers(batch_size=batch_size)
    trainer = pytorch.TorchTrainer(
        module,
        LOSS,
        optimizer,
        train,
        valid,
        device="cpu",
        class_indices=False,
        seed=4,
        callbacks=callbacks,
    )
    stats, _, _ = trainer.train(epochs, stats_interval)
    return stats, [p.detach().clone() for p in module.parameters()], trainer


def test_the_callback_leaves_training_bit_for_bit_as_it_was():
    plain_stats, plain_params, _ = _train([])
    stats_callback = TorchLayerStats(batch_size=50)
    stats, params, trainer = _train([stats_callback])
    assert np.array_equal(plain_stats, stats)
    assert all(torch.equal(a, b) for a, b in zip(plain_params, params, strict=True))
    assert "train_step" not in vars(trainer)  # the trainer itself is left as it was
    again = TorchLayerStats(batch_size=50)
    _train([again])
    assert np.array_equal(stats_callback.table.values, again.table.values, equal_nan=True)


def test_update_ratio_is_that_of_the_last_step_of_the_epoch():
    before_steps: list = []
    stats = TorchLayerStats(batch_size=50)
    _train([stats], epochs=2, record=before_steps)
    _, _, trainer = _train([], epochs=2)
    # 3 batches per epoch: the parameters before step 6 (the last of epoch 2).
    previous = before_steps[5]
    expected = measure_torch_layers(
        trainer.module,
        LOSS,
        trainer.train_data.inputs[:50],
        trainer.train_data.targets[:50],
        stats.table.names[:12],
        epoch=2,
        previous_params=previous,
    )
    last = stats.table.epochs == 2
    np.testing.assert_array_equal(stats.table.values[last], expected.values)
    ratio = stats.table.column("update_ratio")
    assert np.isnan(ratio[stats.table.epochs == 0]).all()
    affine = [i for i, name in enumerate(stats.table.names[:12]) if name == "AffineLayer"]
    assert np.all(ratio[last][affine] > 0)


def test_measurements_follow_the_interval_and_samples_keep_the_first_and_latest():
    seen = []
    every_row = TorchLayerStats(sample_size=7, on_measurement=lambda new, s: seen.append(new))
    _train([every_row], epochs=4, stats_interval=2)
    assert every_row.table.measured_epochs().tolist() == [0, 2, 4]
    assert [set(t.epochs.tolist()) for t in seen] == [{0}, {2}, {4}]
    assert all(isinstance(t, LayerStatsTable) and len(t) == 12 for t in seen)
    assert sorted(every_row.samples) == [0, 4]
    sample = every_row.samples[4][1]
    assert sample.dtype == np.float32 and sample.ndim == 1 and 1 <= len(sample) <= 7
    every_third = TorchLayerStats(interval=3)
    _train([every_third], epochs=4, stats_interval=2)
    assert every_third.table.measured_epochs().tolist() == [0, 3]


def test_an_explicit_batch_and_streamed_data():
    inputs, targets = _batch(np.float32, n=20)
    module = pytorch.to_torch(_model(np.float32))
    batches = [(inputs[:10], targets[:10]), (inputs[10:], targets[10:])]
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    stats = TorchLayerStats(batch=(inputs, targets))
    trainer = pytorch.TorchTrainer(
        module, LOSS, optimizer, batches, device="cpu", data_monitors={}, callbacks=[stats]
    )
    trainer.train(2, 1)
    assert stats.table.measured_epochs().tolist() == [0, 1, 2]
    assert np.isfinite(stats.table.column("update_ratio")[stats.table.epochs == 2][0])
    without_batch = pytorch.TorchTrainer(
        module,
        LOSS,
        optimizer,
        batches,
        device="cpu",
        data_monitors={},
        callbacks=[TorchLayerStats()],
    )
    with pytest.raises(TypeError, match="batch="):
        without_batch.train(1, 1)


class _Unknown(nn.Module):
    """A module no mlp layer converts to."""

    def forward(self, inputs):
        return inputs


def test_bad_arguments_are_refused():
    module = pytorch.to_torch(_model())
    inputs, targets = (_torch(a) for a in _batch())
    good = {"module": module, "loss": LOSS, "inputs": inputs, "targets": targets}
    bad = [
        ({"module": "abc"}, TypeError, "module"),
        ({"module": nn.Linear}, TypeError, "module"),
        ({"loss": None}, TypeError, "loss"),
        ({"inputs": np.zeros((3, 6))}, TypeError, "inputs"),
        ({"inputs": inputs[0]}, ValueError, "inputs"),
        ({"targets": targets[:3]}, ValueError, "targets"),
        ({"names": ["AffineLayer"]}, ValueError, "names"),
        ({"names": "AffineLayer"}, TypeError, "names"),
        ({"names": ["not a name"] * 12}, ValueError, "names"),
        ({"epoch": -1}, ValueError, "epoch"),
        ({"epoch": 1.5}, TypeError, "epoch"),
        ({"previous_params": [inputs]}, ValueError, "previous_params"),
        ({"previous_params": inputs}, TypeError, "previous_params"),
    ]
    for change, error, word in bad:
        with pytest.raises(error, match=word):
            measure_torch_layers(**{**good, **change})
    with pytest.raises(ValueError, match="names"):
        measure_torch_layers(nn.Sequential(_Unknown()), LOSS, inputs, targets)
    for kwargs, error, word in [
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": "10"}, TypeError, "batch_size"),
        ({"interval": 0}, ValueError, "interval"),
        ({"sample_size": -1}, ValueError, "sample_size"),
        ({"on_measurement": 5}, TypeError, "on_measurement"),
        ({"batch": inputs}, TypeError, "batch"),
        ({"names": "AffineLayer"}, TypeError, "names"),
    ]:
        with pytest.raises(error, match=word):
            TorchLayerStats(**kwargs)


def test_the_numpy_trainer_is_pointed_to_layer_stats():
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.optimisers import Optimiser

    train, _ = _providers()
    model = _model(np.float32)
    optimiser = Optimiser(
        model,
        CrossEntropySoftmaxError(),
        GradientDescentLearningRule(),
        train,
        callbacks=[TorchLayerStats()],
    )
    with pytest.raises(TypeError, match="LayerStats"):
        optimiser.train(1, 1)


# ------------------------------------------------------------------------------------------
# The torch backend's run record
# ------------------------------------------------------------------------------------------


def _with_layer_stats(config: ExperimentConfig, interval: int = 0) -> ExperimentConfig:
    """The config with layer statistics on: the fields once mlp.diagnostics' config
    fields are merged, else set as attributes (the backend reads them with getattr)."""
    if "layer_stats" in {f.name for f in dataclasses.fields(config)}:
        return dataclasses.replace(config, layer_stats=True, layer_stats_interval=interval)
    object.__setattr__(config, "layer_stats", True)
    object.__setattr__(config, "layer_stats_interval", interval)
    return config


@pytest.mark.usefixtures("mnist_dir")
def test_the_torch_backend_records_layers_csv_and_activations(tmp_path):
    from mlp.runs.layer_log import read_activation_samples, read_layer_stats

    config = ExperimentConfig(
        hidden=(16,),
        dropout=0.2,
        epochs=2,
        batch_size=50,
        max_train_examples=300,
        stats_interval=1,
        seed=3,
        backend="torch",
        device="cpu",
    )
    # train_torch itself (what run_experiment calls for backend 'torch'), given the
    # config as run_experiment hands it over, so that the flag can be set before the merge.
    record = train_torch(
        tmp_path / "t", _with_layer_stats(config.resolved().validate()), progress=False
    )
    assert record.finished and record.summary["backend"] == "torch"
    table = read_layer_stats(record.path / "layers.csv")
    model = build_experiment(config).model
    names = tuple(type(layer).__name__ for layer in model.layers)
    assert table.measured_epochs().tolist() == [0, 1, 2]
    assert table.names == names * 3
    samples = read_activation_samples(record.path / "activations.npz")
    assert sorted(samples) == [0, 2] and sorted(samples[2]) == list(range(len(names)))
    # Epoch 0 is the initial model on the first 300 (fewer than 1000) training examples.
    experiment = build_experiment(config)
    provider = experiment.train_data
    first = measure_torch_layers(
        pytorch.to_torch(experiment.model),
        LOSS,
        torch.from_numpy(np.array(provider.inputs[:1000], np.float32)),
        torch.from_numpy(np.array(provider.targets[:1000], np.float32)),
        names,
    )
    np.testing.assert_allclose(table.values[table.epochs == 0], first.values, rtol=1e-12)


# ------------------------------------------------------------------------------------------
# After the merge with mlp.diagnostics: the two backends' tables agree
# ------------------------------------------------------------------------------------------


def test_the_numpy_and_torch_measurements_agree_column_by_column():
    diagnostics = pytest.importorskip("mlp.diagnostics")
    model = _model()
    inputs, targets = _batch()
    rng = np.random.RandomState(5)
    previous = [p + rng.normal(scale=0.01, size=p.shape) for p in model.params]
    numpy_table = diagnostics.measure_layers(
        model, CrossEntropySoftmaxError(), inputs, targets, epoch=2, previous_params=previous
    )
    torch_table = measure_torch_layers(
        pytorch.to_torch(model),
        LOSS,
        _torch(inputs),
        _torch(targets),
        [type(layer).__name__ for layer in model.layers],
        epoch=2,
        previous_params=[_torch(p) for p in previous],
    )
    assert torch_table.names == numpy_table.names
    assert np.array_equal(torch_table.layers, numpy_table.layers)
    assert np.array_equal(torch_table.epochs, numpy_table.epochs)
    for column in LAYER_COLUMNS:
        np.testing.assert_allclose(
            torch_table.column(column),
            numpy_table.column(column),
            rtol=1e-10,
            atol=1e-12,
            err_msg=column,
        )
