"""Optimiser.train: the statistics contract, monitors, interruption, reproducibility."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from mlp.data_providers import OneOfKDataProvider
from mlp.errors import CrossEntropySoftmaxError
from mlp.initialisers import ConstantInit, GlorotUniformInit
from mlp.layers import AffineLayer, DropoutLayer, ReluLayer
from mlp.learning_rules import AdamLearningRule, GradientDescentLearningRule
from mlp.models import MultipleLayerModel
from mlp.optimisers import Optimiser, accuracy


def _problem(seed: int = 0, n: int = 600, dim: int = 8, classes: int = 3):
    rng = np.random.RandomState(seed)
    inputs = rng.normal(size=(n, dim))
    labels = (inputs @ rng.normal(size=(dim, classes))).argmax(1)
    train = OneOfKDataProvider(inputs[:500], labels[:500], batch_size=50, rng=rng)
    valid = OneOfKDataProvider(inputs[500:], labels[500:], batch_size=50, rng=rng)
    model = MultipleLayerModel(
        [
            AffineLayer(dim, 16, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            ReluLayer(),
            DropoutLayer(rng, incl_prob=0.8),
            AffineLayer(16, classes, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    return model, train, valid


def _optimiser(seed: int = 0, rule=None, **kwargs) -> Optimiser:
    model, train, valid = _problem(seed)
    rule = rule or AdamLearningRule(learning_rate=1e-2)
    return Optimiser(
        model, CrossEntropySoftmaxError(), rule, train, valid, {"acc": accuracy}, **kwargs
    )


def test_stats_have_a_row_before_training_and_one_per_interval():
    stats, keys, run_time = _optimiser().train(num_epochs=7, stats_interval=3)
    assert stats.shape == (1 + 7 // 3, 4)
    assert keys == {"error(train)": 0, "acc(train)": 1, "error(valid)": 2, "acc(valid)": 3}
    assert run_time > 0
    assert stats[-1, keys["error(train)"]] < stats[0, keys["error(train)"]]
    assert stats[-1, keys["acc(valid)"]] > 0.8


def test_monitors_are_exact_means_over_every_example_with_dropout_off():
    optimiser = _optimiser()
    optimiser.train(num_epochs=2, stats_interval=1)
    stats = optimiser.get_epoch_stats()
    dataset = optimiser.valid_dataset
    # The deterministic forward pass, by hand: dropout is the identity in evaluation.
    outputs = dataset.inputs
    for layer in optimiser.model.layers:
        outputs = outputs if isinstance(layer, DropoutLayer) else layer.fprop(outputs)
    expected_acc = np.mean(outputs.argmax(1) == dataset.labels)
    assert stats["acc(valid)"] == pytest.approx(expected_acc, abs=1e-12)
    error = CrossEntropySoftmaxError()(outputs, dataset.targets)
    assert stats["error(valid)"] == pytest.approx(error, rel=1e-5)
    assert stats == optimiser.get_epoch_stats()  # no randomness left in the monitors


def test_two_seeded_runs_give_identical_statistics():
    first, _, _ = _optimiser(seed=3).train(num_epochs=4, stats_interval=1)
    second, _, _ = _optimiser(seed=3).train(num_epochs=4, stats_interval=1)
    np.testing.assert_array_equal(first, second)
    other, _, _ = _optimiser(seed=4).train(num_epochs=4, stats_interval=1)
    assert not np.array_equal(first, other)


class _InterruptAfter(GradientDescentLearningRule):
    """A rule that raises KeyboardInterrupt on update number `limit`, like a Ctrl-C."""

    def __init__(self, limit: int) -> None:
        super().__init__(learning_rate=0.1)
        self.limit = limit

    def update_params(self, grads_wrt_params):
        if self.step_count + 1 == self.limit:
            raise KeyboardInterrupt
        super().update_params(grads_wrt_params)


def test_ctrl_c_stops_cleanly_and_keeps_the_statistics_recorded_so_far(caplog):
    # 10 batches per epoch: the interrupt comes in epoch 4, after the rows of epochs 0-3.
    optimiser = _optimiser(rule=_InterruptAfter(limit=35))
    with caplog.at_level(logging.WARNING):
        stats, keys, _ = optimiser.train(num_epochs=10, stats_interval=1)
    assert optimiser.interrupted
    assert stats.shape == (4, len(keys))
    assert "interrupted" in caplog.text


def test_on_stats_is_called_for_every_row():
    seen = []
    optimiser = _optimiser(on_stats=lambda epoch, stats: seen.append((epoch, dict(stats))))
    stats, keys, _ = optimiser.train(num_epochs=4, stats_interval=2)
    assert [epoch for epoch, _ in seen] == [0, 2, 4]
    for row, (_, values) in zip(stats, seen, strict=True):
        np.testing.assert_array_equal(row, [values[k] for k in keys])


def test_stats_are_logged_at_each_interval(caplog):
    with caplog.at_level(logging.INFO, logger="mlp.optimisers"):
        _optimiser().train(num_epochs=2, stats_interval=1)
    assert caplog.text.count("Epoch") == 2 and "acc(valid)=" in caplog.text


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_divergence_is_reported(caplog):
    optimiser = _optimiser(rule=GradientDescentLearningRule(learning_rate=1e30))
    with caplog.at_level(logging.WARNING):
        optimiser.train(num_epochs=2, stats_interval=1)
    assert "diverged" in caplog.text


def test_progress_bar_runs(capsys):
    optimiser = _optimiser(progress=True)
    stats, _, _ = optimiser.train(num_epochs=1, stats_interval=1)
    assert stats.shape[0] == 2
    batches = len(list(optimiser.train_dataset))
    bar = capsys.readouterr().err  # tqdm draws on stderr
    assert "epoch:" in bar and f"/{batches} [" in bar and "batch/s" in bar
    quiet = _optimiser(progress=False)
    quiet.train(num_epochs=1, stats_interval=1)
    assert "epoch:" not in capsys.readouterr().err


@pytest.mark.parametrize(("epochs", "interval"), [(-1, 1), (2, 0), (2.5, 1), (2, None)])
def test_bad_train_arguments(epochs, interval):
    with pytest.raises(ValueError, match=r"num_epochs|stats_interval"):
        _optimiser().train(num_epochs=epochs, stats_interval=interval)


def test_accuracy_floor_on_real_mnist(mnist_dir):
    """A 784-100-10 model trained on 5,000 real MNIST images for a few epochs must
    generalise: at least 0.90 accuracy on the 10,000 validation images."""
    from mlp.data_providers import MNISTDataProvider

    rng = np.random.RandomState(6102016)
    train = MNISTDataProvider("train", batch_size=50, rng=rng)
    train = OneOfKDataProvider(train.inputs[:5000], train.labels[:5000], batch_size=50, rng=rng)
    valid = MNISTDataProvider("valid", batch_size=100, rng=rng)
    model = MultipleLayerModel(
        [
            AffineLayer(784, 100, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            ReluLayer(),
            AffineLayer(100, 10, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    optimiser = Optimiser(
        model, CrossEntropySoftmaxError(), AdamLearningRule(1e-3), train, valid, {"acc": accuracy}
    )
    stats, keys, _ = optimiser.train(num_epochs=5, stats_interval=5)
    assert stats[0, keys["acc(valid)"]] < 0.3  # it starts at chance...
    assert stats[-1, keys["acc(valid)"]] >= 0.90  # ...and learns


def test_accuracy_takes_one_of_k_targets_or_integer_labels_and_rejects_others():
    outputs = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    assert accuracy(outputs, np.array([[0, 1], [1, 0], [0, 1]])) == pytest.approx(2 / 3)
    assert accuracy(outputs, np.array([1, 0, 0])) == 1.0
    with pytest.raises(ValueError, match="integer labels"):
        accuracy(outputs, np.array([1.0, 0.0, 0.0]))


def test_eval_batch_size_is_checked_when_the_optimiser_is_built():
    with pytest.raises(ValueError, match="eval_batch_size"):
        _optimiser(eval_batch_size=0)


def test_after_ctrl_c_the_next_epoch_is_a_whole_one():
    optimiser = _optimiser(rule=_InterruptAfter(limit=3))  # stops mid-way through epoch 1
    optimiser.train(num_epochs=2, stats_interval=1)
    assert optimiser.interrupted
    assert len(list(optimiser.train_dataset)) == optimiser.train_dataset.num_batches


def test_ctrl_c_during_the_first_statistics_returns_no_rows_but_the_keys(monkeypatch):
    optimiser = _optimiser()

    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(optimiser, "get_epoch_stats", interrupted)
    stats, keys, _ = optimiser.train(num_epochs=2, stats_interval=1)
    assert optimiser.interrupted and stats.shape == (0, 4) and keys["error(train)"] == 0


def test_a_learning_rule_replaced_after_construction_is_the_one_that_trains():
    import numpy as np

    from mlp.data_providers import OneOfKDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import ConstantInit
    from mlp.layers import AffineLayer
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.models import SingleLayerModel
    from mlp.optimisers import Optimiser

    rng = np.random.RandomState(0)
    data = OneOfKDataProvider(rng.randn(20, 4), rng.randint(0, 3, 20), 5, rng=rng, num_classes=3)
    model = SingleLayerModel(AffineLayer(4, 3, ConstantInit(0.0), ConstantInit(0.0)))
    optimiser = Optimiser(model, CrossEntropySoftmaxError(), GradientDescentLearningRule(0.1), data)
    frozen = GradientDescentLearningRule(0.0)  # a rate of 0 leaves the parameters as they are
    frozen.initialise(model.params)
    optimiser.learning_rule = frozen
    optimiser.train(1, stats_interval=1)
    assert frozen.step_count == 4 and not model.params[0].any()
