"""The PyTorch twin: layer-by-layer parity with torch.nn, weight round trips, whole runs
of SGD and Adam step for step, and `train`'s statistics in `Optimiser.train`'s format."""

from __future__ import annotations

import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn

import mlp  # noqa: E402
from mlp import pytorch, registry  # noqa: E402
from mlp.data_providers import DataProvider, OneOfKDataProvider  # noqa: E402
from mlp.errors import CrossEntropySoftmaxError  # noqa: E402
from mlp.initialisers import UniformInit  # noqa: E402
from mlp.layers import (  # noqa: E402
    AffineLayer,
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
from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule  # noqa: E402
from mlp.models import MultipleLayerModel, SingleLayerModel  # noqa: E402
from mlp.optimisers import Optimiser  # noqa: E402
from mlp.optimisers import accuracy as numpy_accuracy  # noqa: E402

TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}

ELEMENTWISE = {
    "sigmoid": SigmoidLayer,
    "tanh": TanhLayer,
    "relu": ReluLayer,
    "leaky_relu": lambda: LeakyReluLayer(alpha=0.1),
    "elu": lambda: ELULayer(alpha=0.7),
    "softmax": SoftmaxLayer,
    "dropout": lambda: DropoutLayer(incl_prob=0.8),  # compared in evaluation mode
}
# Every other activation of the registry gets the same checks, built from its defaults.
ELEMENTWISE.update(
    {
        entry.name: lambda entry=entry: entry.build((7,))[0]
        for entry in registry.entries("activation")
        if entry.name not in ELEMENTWISE
    }
)


def _model(make_layer, dtype, seed: int = 0) -> MultipleLayerModel:
    rng = np.random.RandomState(seed)
    with mlp.default_dtype(dtype):
        return MultipleLayerModel(
            [
                AffineLayer(7, 6, UniformInit(-0.8, 0.8, rng), UniformInit(-0.5, 0.5, rng)),
                make_layer(),
                AffineLayer(6, 4, UniformInit(-0.8, 0.8, rng), UniformInit(-0.5, 0.5, rng)),
            ]
        )


def _assert_close(actual, expected, dtype) -> None:
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


# ------------------------------------------------------------------------------------------
# Parity: outputs, input gradients and parameter gradients
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_model_and_its_torch_twin_agree_on_outputs_and_parameter_gradients(name, dtype):
    model = _model(ELEMENTWISE[name], dtype)
    module = pytorch.to_torch(model)
    rng = np.random.RandomState(1)
    inputs = rng.normal(size=(5, 7)).astype(dtype)
    grads_wrt_outputs = rng.normal(size=(5, 4)).astype(dtype)

    # Random masks and slopes cannot be matched; their evaluation modes can.
    evaluation = name in ("dropout", "rrelu")
    module.train(not evaluation)
    activations = model.fprop(inputs, evaluation=evaluation)
    outputs = module(torch.from_numpy(inputs))
    assert outputs.dtype == pytorch.convert.TORCH_DTYPES[np.dtype(dtype)]
    _assert_close(outputs.detach().numpy(), activations[-1], dtype)

    outputs.backward(torch.from_numpy(grads_wrt_outputs))
    grads = model.grads_wrt_params(activations, grads_wrt_outputs)
    torch_grads = [p.grad.numpy() for p in module.parameters()]
    extra = len(model.layers[1].params) if isinstance(model.layers[1], LayerWithParameters) else 0
    assert len(grads) == len(torch_grads) == 4 + extra  # prelu: its slope between the weights
    for grad, torch_grad in zip(grads, torch_grads, strict=True):
        _assert_close(grad, torch_grad, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", [*ELEMENTWISE, "affine"])
def test_each_layer_bprop_matches_torch_autograd(name, dtype):
    with mlp.default_dtype(dtype):
        layer = (
            AffineLayer(7, 7, UniformInit(-1, 1, 3)) if name == "affine" else ELEMENTWISE[name]()
        )
    module = pytorch.to_torch(layer)
    module.eval()
    rng = np.random.RandomState(2)
    inputs = rng.normal(scale=2.0, size=(6, 7)).astype(dtype)
    grads_wrt_outputs = rng.normal(size=(6, 7)).astype(dtype)
    torch_inputs = torch.from_numpy(inputs.copy()).requires_grad_()
    torch_outputs = module(torch_inputs)
    torch_outputs.backward(torch.from_numpy(grads_wrt_outputs))

    fprop = (
        layer.fprop(inputs, stochastic=False)
        if isinstance(layer, StochasticLayer)
        else layer.fprop(inputs)
    )
    _assert_close(fprop, torch_outputs.detach().numpy(), dtype)
    _assert_close(layer.bprop(inputs, fprop, grads_wrt_outputs), torch_inputs.grad.numpy(), dtype)


def test_softmax_output_layer_with_cross_entropy_matches_nll_of_log_probabilities():
    with mlp.default_dtype(np.float64):
        model = _model(TanhLayer, np.float64)
        model.layers.append(SoftmaxLayer())
    module = pytorch.to_torch(model)
    assert isinstance(module[-1], nn.Softmax)
    inputs = np.random.RandomState(3).normal(size=(8, 7))
    _assert_close(
        module(torch.from_numpy(inputs)).detach().numpy(), model.fprop(inputs)[-1], np.float64
    )


def test_dropout_maps_its_inclusion_probability_and_back():
    module = pytorch.to_torch(SingleLayerModel(DropoutLayer(incl_prob=0.8)))
    assert isinstance(module[0], nn.Dropout) and module[0].p == pytest.approx(0.2)
    (layer,) = pytorch.from_torch(module).layers
    assert isinstance(layer, DropoutLayer) and layer.incl_prob == pytest.approx(0.8)
    assert not layer.share_across_batch  # nn.Dropout draws one mask entry per element


def test_hyperparameters_of_activations_carry_over():
    module = pytorch.to_torch(MultipleLayerModel([LeakyReluLayer(0.3), ELULayer(2.0)]))
    assert module[0].negative_slope == 0.3 and module[1].alpha == 2.0
    back = pytorch.from_torch(module)
    assert back.layers[0].alpha == 0.3 and back.layers[1].alpha == 2.0


# ------------------------------------------------------------------------------------------
# Round trips and errors
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_model_with_swish_converts_to_silu_and_back(dtype):
    model = _model(SwishLayer, dtype, seed=6)
    module = pytorch.to_torch(model)
    assert isinstance(module[1], nn.SiLU)
    inputs = np.random.RandomState(7).normal(scale=3.0, size=(5, 7)).astype(dtype)
    _assert_close(module(torch.from_numpy(inputs)).detach().numpy(), model.fprop(inputs)[-1], dtype)
    back = pytorch.from_torch(module)
    assert [type(layer) for layer in back.layers] == [AffineLayer, SwishLayer, AffineLayer]
    for original, copied in zip(model.params, back.params, strict=True):
        assert copied.dtype == dtype and np.array_equal(original, copied)
    np.testing.assert_array_equal(back.fprop(inputs)[-1], model.fprop(inputs)[-1])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_preserves_weights_exactly_and_the_dtype(dtype):
    model = _model(ReluLayer, dtype, seed=5)
    module = pytorch.to_torch(model)
    assert all(
        p.dtype == pytorch.convert.TORCH_DTYPES[np.dtype(dtype)] for p in module.parameters()
    )
    back = pytorch.from_torch(module)
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]
    for original, copied in zip(model.params, back.params, strict=True):
        assert copied.dtype == dtype
        assert np.array_equal(original, copied)
        assert not np.shares_memory(original, copied)


def test_conversion_copies_so_training_one_leaves_the_other_alone():
    model = _model(ReluLayer, np.float32)
    before = [p.copy() for p in model.params]
    module = pytorch.to_torch(model)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(1.0)
    for original, now in zip(before, model.params, strict=True):
        assert np.array_equal(original, now)


def test_from_torch_keeps_torch_weights_exactly_and_flattens_nested_sequentials():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(5, 4), nn.Sequential(nn.Tanh(), nn.Linear(4, 3)))
    model = pytorch.from_torch(module)
    assert [type(layer) for layer in model.layers] == [AffineLayer, TanhLayer, AffineLayer]
    again = pytorch.to_torch(model)
    for a, b in zip(module.parameters(), again.parameters(), strict=True):
        assert torch.equal(a, b)


def test_to_torch_draws_no_random_numbers():
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    pytorch.to_torch(_model(ReluLayer, np.float32))
    assert torch.equal(torch.rand(3), expected)


class _Square(Layer):
    def fprop(self, inputs):
        return inputs**2


def test_unsupported_layers_get_an_error_naming_them():
    with pytest.raises(TypeError, match="layer 1 is a _Square"):
        pytorch.to_torch(MultipleLayerModel([AffineLayer(2, 2), _Square()]))
    with pytest.raises(TypeError, match="Conv1d"):
        pytorch.from_torch(nn.Sequential(nn.Linear(2, 2), nn.Conv1d(1, 1, 1)))
    with pytest.raises(ValueError, match="no bias"):
        pytorch.from_torch(nn.Linear(2, 2, bias=False))
    with pytest.raises(ValueError, match="float16"):
        pytorch.from_torch(nn.Linear(2, 2).half())
    with pytest.raises(TypeError, match="MultipleLayerModel"):
        pytorch.to_torch("not a model")


def test_penalties_are_dropped_with_a_warning():
    from mlp.penalties import L2Penalty

    model = SingleLayerModel(AffineLayer(3, 2, weights_penalty=L2Penalty(0.1)))
    with pytest.warns(UserWarning, match="penalties"):
        pytorch.to_torch(model)


# ------------------------------------------------------------------------------------------
# Whole runs, step for step
# ------------------------------------------------------------------------------------------


def _learning_run(rule, make_optimizer, steps: int = 10):
    rng = np.random.RandomState(8)
    with mlp.default_dtype(np.float32):
        model = MultipleLayerModel(
            [
                AffineLayer(12, 16, UniformInit(-0.3, 0.3, rng), UniformInit(-0.1, 0.1, rng)),
                ReluLayer(),
                AffineLayer(16, 16, UniformInit(-0.3, 0.3, rng), UniformInit(-0.1, 0.1, rng)),
                TanhLayer(),
                AffineLayer(16, 5, UniformInit(-0.3, 0.3, rng), UniformInit(-0.1, 0.1, rng)),
            ]
        )
    module = pytorch.to_torch(model)
    optimizer = make_optimizer(module.parameters())
    error, loss = CrossEntropySoftmaxError(), nn.CrossEntropyLoss()
    rule.initialise(model.params)
    for _ in range(steps):
        inputs = rng.normal(size=(20, 12)).astype(np.float32)
        labels = rng.randint(5, size=20)
        activations = model.fprop(inputs)
        one_of_k = np.eye(5, dtype=np.float32)[labels]
        rule.update_params(
            model.grads_wrt_params(activations, error.grad(activations[-1], one_of_k))
        )
        optimizer.zero_grad()
        loss(module(torch.from_numpy(inputs)), torch.from_numpy(labels)).backward()
        optimizer.step()
    return model, module


def test_ten_sgd_steps_end_at_the_same_parameters():
    model, module = _learning_run(
        GradientDescentLearningRule(learning_rate=0.5), lambda p: torch.optim.SGD(p, lr=0.5)
    )
    for param, torch_param in zip(model.params, module.parameters(), strict=True):
        np.testing.assert_allclose(param, torch_param.detach().numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("options", [{}, {"fused": True}], ids=["foreach", "fused"])
def test_ten_adam_steps_end_at_the_same_parameters(options):
    model, module = _learning_run(
        AdamLearningRule(learning_rate=1e-2), lambda p: torch.optim.Adam(p, lr=1e-2, **options)
    )
    for param, torch_param in zip(model.params, module.parameters(), strict=True):
        np.testing.assert_allclose(param, torch_param.detach().numpy(), rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------------------------------
# train: the format, the monitors, the data on the device
# ------------------------------------------------------------------------------------------


def _blobs(n: int = 240, dim: int = 10, classes: int = 3, seed: int = 0):
    rng = np.random.RandomState(seed)
    labels = rng.randint(classes, size=n)
    centres = rng.normal(scale=2.0, size=(classes, dim))
    return (centres[labels] + rng.normal(size=(n, dim))).astype(np.float32), labels


def _providers(batch_size: int = 32):
    inputs, labels = _blobs()
    train = OneOfKDataProvider(
        inputs[:180], labels[:180], batch_size, rng=np.random.RandomState(1), num_classes=3
    )
    valid = OneOfKDataProvider(inputs[180:], labels[180:], 50, shuffle_order=False, num_classes=3)
    return train, valid


def _module(seed: int = 0, dtype=torch.float32):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 3)).to(dtype)


def test_train_returns_the_optimiser_format():
    train_data, valid_data = _providers()
    module = _module()
    stats, keys, run_time = pytorch.train(
        module,
        nn.CrossEntropyLoss(),
        torch.optim.Adam(module.parameters(), lr=1e-2),
        train_data,
        valid_data,
        num_epochs=7,
        stats_interval=2,
        device="auto",
    )
    assert list(keys) == ["error(train)", "acc(train)", "error(valid)", "acc(valid)"]
    assert list(keys.values()) == [0, 1, 2, 3]
    assert stats.shape == (1 + 7 // 2, 4) and stats.dtype == np.float64
    assert isinstance(run_time, float) and run_time > 0
    assert np.all((stats[:, 1] >= 0) & (stats[:, 1] <= 1))
    assert stats[-1, keys["error(train)"]] < stats[0, keys["error(train)"]]
    assert stats[-1, keys["acc(valid)"]] > 0.9


def test_statistics_equal_the_optimisers_for_the_same_model():
    # Before any training, both record the same exact means over the same examples
    # (the last, partial validation batch included).
    train_data, valid_data = _providers()
    valid_data.batch_size = 23
    rng = np.random.RandomState(4)
    with mlp.default_dtype(np.float64):
        model = MultipleLayerModel(
            [
                AffineLayer(10, 6, UniformInit(-0.5, 0.5, rng), UniformInit(-0.5, 0.5, rng)),
                ReluLayer(),
                AffineLayer(6, 3, UniformInit(-0.5, 0.5, rng), UniformInit(-0.5, 0.5, rng)),
            ]
        )
    optimiser = Optimiser(
        model,
        CrossEntropySoftmaxError(),
        GradientDescentLearningRule(0.0),
        train_data,
        valid_data,
        data_monitors={"acc": numpy_accuracy},
    )
    expected, expected_keys, _ = optimiser.train(num_epochs=0)
    module = pytorch.to_torch(model)
    stats, keys, _ = pytorch.train(
        module,
        nn.CrossEntropyLoss(),
        torch.optim.SGD(module.parameters(), lr=0.0),
        train_data,
        valid_data,
        num_epochs=0,
        data_monitors={"acc": numpy_accuracy},  # swapped for the torch version
        eval_batch_size=37,
    )
    assert keys == expected_keys
    np.testing.assert_allclose(stats, expected, rtol=1e-12, atol=1e-12)


def test_dataloaders_and_numpy_monitors_work_too():
    from torch.utils.data import DataLoader, TensorDataset

    inputs, labels = _blobs()
    loader = DataLoader(
        TensorDataset(torch.from_numpy(inputs), torch.from_numpy(labels)), batch_size=40
    )
    module = _module()
    seen = []
    stats, keys, _ = pytorch.train(
        module,
        nn.CrossEntropyLoss(),
        torch.optim.Adam(module.parameters(), lr=1e-2),
        loader,
        num_epochs=3,
        stats_interval=1,
        data_monitors={"err": pytorch.numpy_monitor(CrossEntropySoftmaxError())},
        on_stats=lambda epoch, values: seen.append(epoch),
        device="cpu",
    )
    assert list(keys) == ["error(train)", "err(train)"]
    assert stats.shape == (4, 2) and seen == [0, 1, 2, 3]
    # The torch loss and mlp's error agree on the same outputs.
    np.testing.assert_allclose(stats[:, 0], stats[:, 1], rtol=1e-5)


def test_resident_data_serves_a_fresh_permutation_each_epoch_and_follows_the_provider():
    ids = np.arange(50)
    provider = DataProvider(ids[:, None].astype(np.float32), ids, batch_size=8, drop_last=False)
    data = pytorch.data.ResidentData(
        provider, torch.device("cpu"), torch.float32, True, torch.Generator().manual_seed(0)
    )
    epochs = [torch.cat([t for _, t in data]).numpy() for _ in range(2)]
    for epoch in epochs:
        assert sorted(epoch) == list(range(50))
    assert not np.array_equal(epochs[0], epochs[1])
    for inputs, targets in data:  # inputs and targets stay aligned
        assert torch.equal(inputs[:, 0].long(), targets)
    provider.batch_size, provider.max_num_batches = 10, 3
    assert [len(t) for _, t in data] == [10, 10, 10] and len(data) == 3
    assert sum(len(t) for _, t in data.evaluation_batches(1000)) == 30


def test_the_same_seed_repeats_a_run_exactly():
    def run():
        train_data, valid_data = _providers()
        module = _module(seed=3)
        stats, _, _ = pytorch.train(
            module,
            nn.CrossEntropyLoss(),
            torch.optim.Adam(module.parameters(), lr=1e-2),
            train_data,
            valid_data,
            num_epochs=2,
            stats_interval=1,
        )
        return stats

    np.testing.assert_array_equal(run(), run())


class _InterruptingSGD(torch.optim.SGD):
    """Raises KeyboardInterrupt on step number `limit`, like a Ctrl-C."""

    def __init__(self, params, limit: int) -> None:
        super().__init__(params, lr=0.1)
        self.steps, self.limit = 0, limit

    def step(self, closure=None):
        self.steps += 1
        if self.steps == self.limit:
            raise KeyboardInterrupt
        return super().step(closure)


def test_ctrl_c_keeps_the_statistics_recorded_so_far(caplog):
    train_data, valid_data = _providers(batch_size=30)  # 6 batches per epoch
    module = _module()
    trainer = pytorch.TorchTrainer(
        module,
        nn.CrossEntropyLoss(),
        _InterruptingSGD(module.parameters(), limit=21),  # in epoch 4
        train_data,
        valid_data,
    )
    with caplog.at_level(logging.WARNING):
        stats, keys, _ = trainer.train(num_epochs=10, stats_interval=1)
    assert trainer.interrupted
    assert stats.shape == (4, len(keys)) and len(trainer.epoch_times) == 3
    assert "interrupted" in caplog.text


def test_bad_arguments_are_refused():
    train_data, _ = _providers()
    module = _module()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    loss = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match="num_epochs"):
        pytorch.train(module, loss, optimizer, train_data, num_epochs=-1)
    with pytest.raises(ValueError, match="stats_interval"):
        pytorch.train(module, loss, optimizer, train_data, stats_interval=0)
    with pytest.raises(TypeError, match="iterable"):
        pytorch.train(module, loss, optimizer, 42)


def test_training_in_float64_keeps_float64():
    train_data, _ = _providers()
    module = _module(dtype=torch.float64)
    trainer = pytorch.TorchTrainer(
        module, nn.CrossEntropyLoss(), torch.optim.SGD(module.parameters(), lr=0.1), train_data
    )
    trainer.train(num_epochs=1)
    assert trainer.train_data.inputs.dtype == torch.float64
    assert all(p.dtype == torch.float64 for p in module.parameters())


# ------------------------------------------------------------------------------------------
# Devices, monitors, the seed's model
# ------------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present")
def test_auto_falls_back_to_the_cpu_and_cuda_is_refused_without_a_gpu():
    assert pytorch.resolve_device("auto") == torch.device("cpu")
    assert pytorch.resolve_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        pytorch.resolve_device("cuda")


def test_device_names_are_checked():
    assert pytorch.resolve_device("cpu") == torch.device("cpu")
    assert pytorch.resolve_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device"):
        pytorch.resolve_device("abacus")


def test_accuracy_takes_class_indices_or_one_of_k_rows():
    outputs = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    labels = torch.tensor([1, 0, 0, 0])
    assert pytorch.accuracy(outputs, labels).item() == 0.75
    assert pytorch.accuracy(outputs, nn.functional.one_hot(labels, 2).float()).item() == 0.75


def test_evaluate_accuracy_counts_every_example():
    _, valid_data = _providers()
    module = _module()
    outputs = module(torch.from_numpy(valid_data.inputs)).argmax(-1).numpy()
    expected = (outputs == valid_data.labels).mean()
    assert pytorch.evaluate_accuracy(module, valid_data, "cpu", batch_size=7) == expected
    # 'auto' evaluates where the module is, even where a GPU would be the default.
    assert pytorch.evaluate_accuracy(module, valid_data, batch_size=7) == expected


def test_evaluate_accuracy_on_another_device_than_the_modules_says_to_move_it():
    _, valid_data = _providers()
    with pytest.raises(ValueError, match=r"module is on cpu .* module.to\('meta'\)"):
        pytorch.evaluate_accuracy(_module(), valid_data, "meta")


def test_seed_model_is_the_seeds_network():
    module = pytorch.seed_model()
    kinds = [type(m) for m in module]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert [m.weight.shape for m in module[::2]] == [(100, 784), (100, 100), (10, 100)]
    optimizer = pytorch.make_adam(module)
    assert optimizer.defaults["lr"] == 1e-3 and optimizer.defaults["fused"]


def test_a_short_seed_experiment_gives_a_sane_result(mnist_dir):
    result = pytorch.run_seed_experiment(
        num_epochs=2, stats_interval=1, train_subset_size=2000, device="auto"
    )
    assert isinstance(result, pytorch.ExperimentResult)
    assert result.backend == "torch"
    assert result.device == str(pytorch.resolve_device("auto"))
    assert list(result.keys) == ["error(train)", "acc(train)", "error(valid)", "acc(valid)"]
    assert result.stats.shape == (3, 4) and len(result.epoch_times) == 2
    assert result.stats[-1, result.keys["acc(valid)"]] > 0.8
    assert 0.8 < result.test_accuracy <= 1
    assert result.test_accuracy * 10_000 == pytest.approx(round(result.test_accuracy * 10_000))


def test_schedulers_set_every_group_rate_before_each_epoch():
    from mlp.callbacks import Callback
    from mlp.schedulers import CosineAnnealingScheduler

    class Rates(Callback):
        def __init__(self):
            self.seen = []

        def on_epoch_begin(self, loop, epoch):
            self.seen.append([group["lr"] for group in loop.optimizer.param_groups])

    train_data, valid_data = _providers()
    module = _module()
    optimizer = torch.optim.SGD(
        [{"params": module[0].parameters()}, {"params": module[2].parameters()}], lr=0.5
    )
    schedule, rates = CosineAnnealingScheduler(0.1, 10), Rates()
    trainer = pytorch.TorchTrainer(
        module,
        nn.CrossEntropyLoss(),
        optimizer,
        train_data,
        valid_data,
        schedulers=[schedule],
        callbacks=[rates],
    )
    trainer.train(num_epochs=10, stats_interval=5)  # the rate changes between rows too
    expected = [schedule.learning_rate(e) for e in range(10)]
    assert rates.seen == [[rate, rate] for rate in expected]
    assert trainer.learning_rule.learning_rate == expected[-1]


def test_every_name_of_the_old_module_is_importable_from_the_package():
    from mlp import seed_experiment

    old_names = [
        "ExperimentResult",
        "OptimizerLearningRate",
        "TorchTrainer",
        "accuracy",
        "evaluate_accuracy",
        "from_torch",
        "make_adam",
        "mnist_loaders",
        "numpy_monitor",
        "resolve_device",
        "run_seed_experiment",
        "seed_model",
        "to_torch",
        "train",
    ]
    assert set(old_names) <= set(pytorch.__all__)
    for name in old_names:
        assert getattr(pytorch, name) is not None
    # The seed experiment's data and result have one home, shared with the NumPy twin.
    assert pytorch.ExperimentResult is seed_experiment.ExperimentResult
    assert pytorch.mnist_providers is seed_experiment.mnist_providers


def test_evaluate_accuracy_is_the_accuracy_monitor_over_every_example():
    _, valid_data = _providers()
    module = _module()
    with torch.inference_mode():
        outputs = module(torch.from_numpy(valid_data.inputs))
    expected = pytorch.accuracy(outputs, torch.from_numpy(valid_data.labels).long()).item()
    assert pytorch.evaluate_accuracy(module, valid_data, batch_size=7) == expected
    # The count over the examples, divided once: as mlp.optimisers.accuracy gives.
    assert expected == numpy_accuracy(outputs.numpy(), valid_data.labels)
