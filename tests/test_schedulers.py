"""Schedulers: hand-computed rates, torch's schedulers as oracles, and the loop's calls."""

import math

import numpy as np
import pytest

from mlp.learning_rules import GradientDescentLearningRule
from mlp.schedulers import (
    ConstantLearningRateScheduler,
    CosineAnnealingScheduler,
    CosineAnnealingWithWarmRestarts,
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


# --- SGDR: CosineAnnealingWithWarmRestarts ---------------------------------------------


def _cosine(low, high, t, length):
    return low + (high - low) * (1 + math.cos(math.pi * t / length)) / 2


def test_warm_restarts_by_hand():
    # T_0 = 2, periods 2, 4, 8 epochs (r = 2), starting at epochs 0, 2, 6; maxima 1,
    # 0.5, 0.25 (d = 0.5); minimum 0.1.
    scheduler = CosineAnnealingWithWarmRestarts(0.1, 1.0, 2, 0.5, 2)
    expected = [
        1.0,
        _cosine(0.1, 1.0, 1, 2),  # 0.55
        0.5,
        _cosine(0.1, 0.5, 1, 4),
        _cosine(0.1, 0.5, 2, 4),  # 0.3
        _cosine(0.1, 0.5, 3, 4),
        0.25,
        _cosine(0.1, 0.25, 1, 8),
    ]
    rates = [scheduler.learning_rate(e) for e in range(8)]
    assert rates == pytest.approx(expected, abs=1e-15)
    assert rates[1] == pytest.approx(0.55) and rates[4] == pytest.approx(0.3)
    assert [scheduler.period(e)[0] for e in (0, 1, 2, 5, 6, 13, 14)] == [0, 0, 1, 1, 2, 2, 3]


def test_warm_restarts_with_equal_periods_and_a_fractional_expansion():
    # r = 1: a restart every 3 epochs, each at the same maximum when d = 1.
    same = CosineAnnealingWithWarmRestarts(0.0, 0.2, 3, 1.0, 1.0)
    assert [same.learning_rate(e) for e in range(6)] == pytest.approx(
        [0.2, 0.15, 0.05] * 2, abs=1e-15
    )
    # r = 1.5: periods of 2, 3, 4.5 epochs, starting at 0, 2, 5, 9.5.
    fractional = CosineAnnealingWithWarmRestarts(0.0, 1.0, 2, 1.0, 1.5)
    assert [fractional.period(e) for e in (1, 2, 4, 5, 9, 10)] == [
        (0, 1.0, 2.0),
        (1, 0.0, 3.0),
        (1, 2.0, 3.0),
        (2, 0.0, 4.5),
        (2, 4.0, 4.5),
        (3, 0.5, 6.75),
    ]


@pytest.mark.parametrize(("period", "mult"), [(1, 1), (3, 1), (2, 2), (1, 3), (5, 2)])
def test_warm_restarts_match_torch_without_discount(period, mult):
    torch = pytest.importorskip("torch")
    num_epochs = 40
    expected = _torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
            o, T_0=period, T_mult=mult, eta_min=1e-3
        ),
        num_epochs,
        0.1,
    )
    ours = CosineAnnealingWithWarmRestarts(1e-3, 0.1, period, 1.0, mult)
    assert [ours.learning_rate(e) for e in range(num_epochs)] == pytest.approx(
        expected, rel=1e-12, abs=1e-15
    )


def test_warm_restarts_set_the_rule_and_drive_the_optimiser():
    scheduler = CosineAnnealingWithWarmRestarts(0.0, 1.0, 2, 0.5, 1)
    assert isinstance(scheduler, Scheduler)
    rule = GradientDescentLearningRule(9.0)
    assert scheduler.update_learning_rule(rule, 2) == 0.5 == rule.learning_rate
    optimiser, rule = _tiny_optimiser(schedulers=[scheduler])
    optimiser.train(3, stats_interval=1)
    assert rule.learning_rate == pytest.approx(0.5)  # epoch 2 (0-based) starts period 1
    assert "total_iters_per_period=2" in repr(scheduler)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((math.nan, 1.0, 2, 1.0, 1.0), "min_learning_rate"),
        ((-0.1, 1.0, 2, 1.0, 1.0), "min_learning_rate"),
        ((0.0, math.inf, 2, 1.0, 1.0), "max_learning_rate"),
        ((0.0, -1.0, 2, 1.0, 1.0), "max_learning_rate"),
        ((0.5, 0.1, 2, 1.0, 1.0), "must not exceed"),
        ((0.0, 1.0, 0, 1.0, 1.0), "total_iters_per_period"),
        ((0.0, 1.0, -2, 1.0, 1.0), "total_iters_per_period"),
        ((0.0, 1.0, math.nan, 1.0, 1.0), "total_iters_per_period"),
        ((0.0, 1.0, 2, -0.5, 1.0), "max_learning_rate_discount_factor"),
        ((0.0, 1.0, 2, math.inf, 1.0), "max_learning_rate_discount_factor"),
        ((0.0, 1.0, 2, 1.0, 0.5), "period_iteration_expansion_factor"),
        ((0.0, 1.0, 2, 1.0, math.nan), "period_iteration_expansion_factor"),
    ],
)
def test_warm_restarts_refuse_bad_arguments_naming_them(arguments, message):
    with pytest.raises(ValueError, match=message):
        CosineAnnealingWithWarmRestarts(*arguments)
    with pytest.raises(TypeError, match="min_learning_rate"):
        CosineAnnealingWithWarmRestarts("0", 1.0, 2, 1.0, 1.0)  # type: ignore[arg-type]


def test_sgdr_is_a_registered_schedule_whose_config_is_checked_up_front():
    from mlp import registry
    from mlp.config import ConfigError, ExperimentConfig

    scheduler = registry.entry("schedule", "sgdr").build(
        0.1, 10, lr_min=0.01, restart_period=4.0, restart_discount=0.5, period_expansion=2.0
    )
    assert isinstance(scheduler, CosineAnnealingWithWarmRestarts)
    assert scheduler.learning_rate(4) == pytest.approx(0.05)  # period 1 starts at 0.1 * 0.5
    config = ExperimentConfig(schedule="sgdr", learning_rate=0.1, lr_min=0.01).validate()
    assert config.hyperparameters("schedule")["restart_period"] == 10.0
    with pytest.raises(ConfigError, match="lr_min"):
        ExperimentConfig(schedule="sgdr", learning_rate=0.1, lr_min=0.2).validate()
