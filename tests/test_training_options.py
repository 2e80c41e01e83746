"""The course's training-loop options: `train(num_epochs, stats_interval=-1)` (statistics
before training and after the last epoch only) and `Optimiser(...,
use_stochastic_eval=...)` (statistics with the stochastic layers in training mode), for
both backends, and that measuring never changes a model's running statistics."""

from __future__ import annotations

import numpy as np
import pytest

from mlp.data_providers import OneOfKDataProvider
from mlp.errors import CrossEntropySoftmaxError
from mlp.initialisers import ConstantInit, GlorotUniformInit
from mlp.layers import AffineLayer, BatchNormalizationLayer, DropoutLayer, ReluLayer
from mlp.learning_rules import AdamLearningRule
from mlp.models import MultipleLayerModel
from mlp.optimisers import Optimiser, accuracy


def _optimiser(seed: int = 0, batch_norm: bool = True, **kwargs) -> Optimiser:
    rng = np.random.RandomState(seed)
    inputs = rng.normal(size=(300, 6)) * 3 + 1
    labels = (inputs @ rng.normal(size=(6, 3))).argmax(1)
    train = OneOfKDataProvider(inputs[:240], labels[:240], batch_size=40, rng=rng)
    valid = OneOfKDataProvider(inputs[240:], labels[240:], batch_size=30, rng=rng)
    middle = [BatchNormalizationLayer(12)] if batch_norm else []
    model = MultipleLayerModel(
        [
            AffineLayer(6, 12, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            *middle,
            ReluLayer(),
            DropoutLayer(rng, incl_prob=0.7),
            AffineLayer(12, 3, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    return Optimiser(
        model,
        CrossEntropySoftmaxError(),
        AdamLearningRule(1e-2),
        train,
        valid,
        {"acc": accuracy},
        **kwargs,
    )


# --- stats_interval=-1 ---------------------------------------------------------------------


def test_stats_interval_minus_one_records_before_training_and_after_the_last_epoch():
    seen: list[int] = []
    optimiser = _optimiser(on_stats=lambda epoch, stats: seen.append(epoch))
    stats, keys, _ = optimiser.train(num_epochs=4, stats_interval=-1)
    assert stats.shape == (2, len(keys))
    assert seen == [0, 4]
    # The same rows as statistics every 4 epochs: measuring does not change training.
    expected, _, _ = _optimiser().train(num_epochs=4, stats_interval=4)
    np.testing.assert_array_equal(stats, expected)
    assert len(optimiser.epoch_times) == 4


def test_stats_interval_minus_one_with_no_epochs_gives_the_row_before_training():
    stats, keys, _ = _optimiser().train(num_epochs=0, stats_interval=-1)
    assert stats.shape == (1, len(keys))


@pytest.mark.parametrize("interval", [0, -2, 2.5, True, None, "-1"])
def test_other_stats_intervals_are_refused_naming_minus_one(interval):
    with pytest.raises(ValueError, match="stats_interval must be a positive integer, or -1"):
        _optimiser().train(num_epochs=2, stats_interval=interval)


def test_the_torch_trainer_takes_stats_interval_minus_one_too():
    torch = pytest.importorskip("torch")
    from mlp import pytorch

    optimiser = _optimiser(batch_norm=False)
    module = pytorch.to_torch(optimiser.model)
    seen: list[int] = []
    stats, keys, _ = pytorch.train(
        module,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(module.parameters(), lr=0.1),
        optimiser.train_dataset,
        optimiser.valid_dataset,
        num_epochs=3,
        stats_interval=-1,
        on_stats=lambda epoch, values: seen.append(epoch),
        device="cpu",
    )
    assert stats.shape == (2, len(keys)) and seen == [0, 3]
    with pytest.raises(ValueError, match="-1"):
        pytorch.train(module, torch.nn.CrossEntropyLoss(), None, None, stats_interval=-3)


# --- use_stochastic_eval -------------------------------------------------------------------


def _by_hand(optimiser: Optimiser, evaluation: bool) -> float:
    """The validation error computed directly, over the provider's own batches."""
    total, count = 0.0, 0
    for inputs, targets in optimiser.valid_dataset:
        outputs = optimiser.model.fprop(inputs, evaluation=evaluation)[-1]
        total += optimiser.error(outputs, targets) * len(inputs)
        count += len(inputs)
    return total / count


def test_statistics_leave_running_statistics_alone_in_both_modes():
    for stochastic in (False, True):
        optimiser = _optimiser(use_stochastic_eval=stochastic)
        optimiser.train(num_epochs=2, stats_interval=1)
        before = optimiser.model.state()
        assert not np.allclose(before["1.running_mean"], 0.0)  # training moved them
        optimiser.get_epoch_stats()
        for key, value in optimiser.model.state().items():
            np.testing.assert_array_equal(value, before[key])


def test_stochastic_eval_measures_with_dropout_and_batch_statistics():
    deterministic = _optimiser()
    stochastic = _optimiser(use_stochastic_eval=True)
    assert stochastic.use_stochastic_eval and not deterministic.use_stochastic_eval
    deterministic.train(num_epochs=2, stats_interval=2)
    stochastic.model.params = deterministic.model.params
    stochastic.model.load_state(deterministic.model.state())
    plain = deterministic.get_epoch_stats()["error(valid)"]
    assert plain == pytest.approx(_by_hand(deterministic, evaluation=True), rel=1e-6)
    # Dropout on: an average over masks, so not the deterministic value.
    noisy = stochastic.get_epoch_stats()["error(valid)"]
    assert noisy != pytest.approx(plain, rel=1e-6)
    # Without dropout, training-mode statistics are batch normalisation on each batch's
    # own statistics: the batches of the statistics pass (one batch of all 60 here).
    stochastic.model.layers[3].incl_prob = 1.0
    values = stochastic.get_epoch_stats()
    whole = stochastic.valid_dataset.inputs
    outputs = stochastic.model.fprop(whole)[-1]  # training mode, one batch of all rows
    expected = stochastic.error(outputs, stochastic.valid_dataset.targets)
    assert values["error(valid)"] == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("value", ["yes", None, 2])
def test_use_stochastic_eval_must_be_a_bool(value):
    with pytest.raises(TypeError, match="use_stochastic_eval"):
        _optimiser(use_stochastic_eval=value)


def test_the_default_keeps_seeded_runs_as_they_were():
    a, _, _ = _optimiser(batch_norm=False).train(num_epochs=2, stats_interval=1)
    b, _, _ = _optimiser(batch_norm=False, use_stochastic_eval=False).train(2, 1)
    np.testing.assert_array_equal(a, b)


def test_course_style_code_trains_with_batch_norm_warm_restarts_and_no_monitoring():
    """As the course's later labs write it: positional and keyword names as they use."""
    from mlp.schedulers import CosineAnnealingWithWarmRestarts

    rng = np.random.RandomState(7)
    inputs = rng.normal(size=(400, 6)) * 4 - 2
    labels = (inputs @ rng.normal(size=(6, 3))).argmax(1)
    train = OneOfKDataProvider(inputs[:300], labels[:300], batch_size=50, rng=rng)
    valid = OneOfKDataProvider(inputs[300:], labels[300:], batch_size=50, rng=rng)
    model = MultipleLayerModel(
        [
            AffineLayer(6, 20, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            BatchNormalizationLayer(input_dim=20, rng=rng),
            ReluLayer(),
            AffineLayer(20, 3, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
    )
    scheduler = CosineAnnealingWithWarmRestarts(
        min_learning_rate=0.0001,
        max_learning_rate=0.01,
        total_iters_per_period=3,
        max_learning_rate_discount_factor=0.9,
        period_iteration_expansion_factor=1.0,
    )
    optimiser = Optimiser(
        model,
        CrossEntropySoftmaxError(),
        AdamLearningRule(),
        train,
        valid,
        {"acc": accuracy},
        schedulers=[scheduler],
        use_stochastic_eval=False,
    )
    stats, keys, _ = optimiser.train(num_epochs=6, stats_interval=-1)
    assert stats.shape == (2, 4)
    assert stats[1, keys["acc(valid)"]] > max(0.85, stats[0, keys["acc(valid)"]])
    assert optimiser.learning_rule.learning_rate == pytest.approx(scheduler.learning_rate(5))
