"""Schedulers: hand-computed rates, torch's schedulers as oracles, and the loop's calls."""

import math

import numpy as np
import pytest

from mlp.learning_rules import GradientDescentLearningRule
from mlp.schedulers import (
    ConstantLearningRateScheduler,
    CosineAnnealingScheduler,
    ExponentialDecayScheduler,
    Scheduler,
)


def test_constant_sets_and_returns_its_rate():
    rule = GradientDescentLearningRule(0.5)
    scheduler = ConstantLearningRateScheduler(0.01)
    assert isinstance(scheduler, Scheduler)
    assert scheduler.update_learning_rule(rule, 3) == 0.01
    assert rule.learning_rate == 0.01


def test_exponential_by_hand():
    # 0.1 * 0.5**e for e = 0, 1, 2: 0.1, 0.05, 0.025
    scheduler = ExponentialDecayScheduler(0.1, 0.5)
    assert [scheduler.learning_rate(e) for e in range(3)] == [0.1, 0.05, 0.025]


def test_cosine_by_hand():
    # num_epochs 4: progress e/4 -> rates 1, (1 + cos(pi/4))/2, 1/2, (1 + cos(3pi/4))/2;
    # the minimum (0) would come only at e = 4, after the last epoch.
    scheduler = CosineAnnealingScheduler(1.0, 4)
    expected = [1.0, (1 + math.sqrt(0.5)) / 2, 0.5, (1 - math.sqrt(0.5)) / 2]
    assert [scheduler.learning_rate(e) for e in range(4)] == pytest.approx(expected, abs=1e-15)
    assert scheduler.learning_rate(4) == pytest.approx(0.0, abs=1e-15)
    with_floor = CosineAnnealingScheduler(1.0, 4, min_learning_rate=0.2)
    assert with_floor.learning_rate(2) == pytest.approx(0.6)


def _torch_rates(make_scheduler, num_epochs, lr):
    torch = pytest.importorskip("torch")
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=lr)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(num_epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_cosine_matches_torch_cosine_annealing_lr():
    torch = pytest.importorskip("torch")
    expected = _torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=7, eta_min=1e-4), 7, 0.1
    )
    ours = CosineAnnealingScheduler(0.1, 7, min_learning_rate=1e-4)
    assert [ours.learning_rate(e) for e in range(7)] == pytest.approx(expected, rel=1e-12)


def test_exponential_matches_torch_exponential_lr():
    torch = pytest.importorskip("torch")
    expected = _torch_rates(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9), 6, 0.1)
    ours = ExponentialDecayScheduler(0.1, 0.9)
    assert [ours.learning_rate(e) for e in range(6)] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: ConstantLearningRateScheduler(float("nan")), "learning_rate must be finite"),
        (lambda: ConstantLearningRateScheduler("a"), "learning_rate must be a number"),
        (lambda: ExponentialDecayScheduler(0.1, 1.5), r"decay must lie in \(0, 1\]"),
        (lambda: ExponentialDecayScheduler(0.1, 0), "decay must be finite and > 0"),
        (lambda: CosineAnnealingScheduler(0.1, 0), "num_epochs must be a positive integer"),
        (lambda: CosineAnnealingScheduler(-1.0, 3), "max_learning_rate must be finite"),
    ],
)
def test_bad_hyperparameters_are_named(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_epoch_number_must_be_a_non_negative_integer():
    rule = GradientDescentLearningRule(0.1)
    with pytest.raises(ValueError, match="epoch_number must be a non-negative integer"):
        ConstantLearningRateScheduler(0.1).update_learning_rule(rule, -1)
    assert ConstantLearningRateScheduler(0.1).update_learning_rule(rule, np.int64(2)) == 0.1


class _RecordingScheduler:
    def __init__(self):
        self.calls = []

    def update_learning_rule(self, learning_rule, epoch_number):
        self.calls.append(epoch_number)
        learning_rule.learning_rate = 0.1 / (1 + epoch_number)
        return learning_rule.learning_rate


def _tiny_optimiser(**kwargs):
    from mlp.data_providers import OneOfKDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import ConstantInit, NormalInit
    from mlp.layers import AffineLayer
    from mlp.models import SingleLayerModel
    from mlp.optimisers import Optimiser

    rng = np.random.RandomState(0)
    data = OneOfKDataProvider(rng.randn(20, 4), rng.randint(0, 3, 20), 5, rng=rng, num_classes=3)
    model = SingleLayerModel(AffineLayer(4, 3, NormalInit(0, 0.1, rng=rng), ConstantInit(0.0)))
    rule = GradientDescentLearningRule(1.0)
    return Optimiser(model, CrossEntropySoftmaxError(), rule, data, **kwargs), rule


def test_optimiser_calls_schedulers_before_each_epoch_with_0_based_numbers():
    scheduler = _RecordingScheduler()
    optimiser, rule = _tiny_optimiser(schedulers=[scheduler])
    optimiser.train(3, stats_interval=1)
    assert scheduler.calls == [0, 1, 2]
    assert rule.learning_rate == pytest.approx(0.1 / 3)


def test_a_scheduler_class_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="pass scheduler instances"):
        _tiny_optimiser(schedulers=[ConstantLearningRateScheduler])


def test_schedulers_resume_at_the_right_epoch():
    scheduler = _RecordingScheduler()
    optimiser, _ = _tiny_optimiser(schedulers=[scheduler])
    optimiser.train(4, stats_interval=1, start_epoch=2)
    assert scheduler.calls == [2, 3]


@pytest.mark.parametrize("epoch_number", [-1, 2.5, None, "abc", math.nan])
def test_learning_rate_refuses_an_epoch_number_that_is_not_one(epoch_number):
    for scheduler in (
        ConstantLearningRateScheduler(0.1),
        ExponentialDecayScheduler(0.1, 0.9),
        CosineAnnealingScheduler(0.1, 5),
    ):
        with pytest.raises(ValueError, match="epoch_number must be a non-negative integer"):
            scheduler.learning_rate(epoch_number)


def test_a_cosine_may_rise_as_torchs_does():
    torch = pytest.importorskip("torch")
    expected = _torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5, eta_min=1.0), 5, 0.1
    )
    ours = CosineAnnealingScheduler(0.1, 5, min_learning_rate=1.0)
    assert [ours.learning_rate(e) for e in range(5)] == pytest.approx(expected, rel=1e-12)
