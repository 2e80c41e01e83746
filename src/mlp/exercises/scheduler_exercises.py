"""The learning-rate scheduler exercises: exponential decay, and cosine annealing with
warm restarts (SGDR, the course's coursework scheduler).

A scheduler is checked on a sequence of epoch numbers (in order, out of order,
repeated): the rates its `update_learning_rule` returns and the rates it leaves on the
learning rule it is given, a gradient-descent rule starting at another rate.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlp.exercises.case_tools import array, number, planted, scalar
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.learning_rules import GradientDescentLearningRule
from mlp.schedulers import CosineAnnealingWithWarmRestarts, ExponentialDecayScheduler

__all__ = ["SCHEDULER_EXERCISES"]

Array = np.ndarray


def _run_scheduler(cls: type, case: Case, hyperparameters: dict[str, type]) -> list[Array]:
    """Build the scheduler from the case's settings (each converted as `hyperparameters`
    says), call update_learning_rule(rule, epoch) for each of the case's 'epochs' in
    order on one gradient-descent rule starting at 'rule_learning_rate', and return
    [the rates it returned, the rates it left on the rule], one entry per call."""
    scheduler = cls(**{name: kind(case.settings[name]) for name, kind in hyperparameters.items()})
    rule = GradientDescentLearningRule(learning_rate=number(case, "rule_learning_rate"))
    returned, held = [], []
    for epoch in array(case, "epochs"):
        rate = scheduler.update_learning_rule(rule, int(epoch))
        returned.append(scalar(rate, "update_learning_rule"))
        held.append(float(rule.learning_rate))
    return [np.array(returned), np.array(held)]


def _scheduler_method(hyperparameters: dict[str, type]) -> Method:
    def run(cls: type, case: Case) -> list[Array]:
        return _run_scheduler(cls, case, hyperparameters)

    return Method("update_learning_rule", run)


def _scheduler_case(label: str, epochs: object, **settings: float) -> Case:
    return Case(label, {"epochs": np.asarray(epochs, dtype=np.int64)}, settings)


def _set(rule: GradientDescentLearningRule, rate: float) -> float:
    rule.learning_rate = rate
    return rate


def _scheduler_mistakes(
    reference: type[Any], specific: list[tuple[str, str, Callable[..., float]]]
) -> tuple[Mistake, ...]:
    """The specific mistakes, plus the two any scheduler can have."""
    common = [
        (
            "epoch-off-by-one",
            "the rates are one epoch ahead: epoch_number is 0-based, the "
            "first epoch (0) runs at the initial rate",
            lambda s, rule, e: reference.update_learning_rule(s, rule, e + 1),
        ),
        (
            "rate-not-set",
            "the right rate was returned but not set: assign it to "
            "learning_rule.learning_rate too, which is what the training loop uses",
            lambda s, rule, e: s.learning_rate(e),
        ),
    ]
    return tuple(
        Mistake(
            name,
            "update_learning_rule",
            hint,
            planted(reference, "update_learning_rule", body, name),
        )
        for name, hint, body in specific + common
    )


def _exponential_mistakes() -> tuple[Mistake, ...]:
    return _scheduler_mistakes(
        ExponentialDecayScheduler,
        [
            (
                "compounding",
                "the decay was applied to the rule's current rate, so it compounds "
                "with every call: compute it from the initial rate, learning_rate * decay ** "
                "epoch_number",
                lambda s, rule, e: _set(rule, rule.learning_rate * s.decay),
            ),
        ],
    )


def _restart_mistakes() -> tuple[Mistake, ...]:
    def changed(
        s: CosineAnnealingWithWarmRestarts, **change: float
    ) -> CosineAnnealingWithWarmRestarts:
        values = {
            "min_learning_rate": s.min_learning_rate,
            "max_learning_rate": s.max_learning_rate,
            "total_iters_per_period": s.total_iters_per_period,
            "max_learning_rate_discount_factor": s.max_learning_rate_discount_factor,
            "period_iteration_expansion_factor": s.period_iteration_expansion_factor,
        }
        return CosineAnnealingWithWarmRestarts(**(values | change))

    def minimum_at_end(
        s: CosineAnnealingWithWarmRestarts, rule: GradientDescentLearningRule, e: int
    ) -> float:
        i, t, length = s.period(e)
        low = s.min_learning_rate
        high = s.max_learning_rate * s.max_learning_rate_discount_factor**i
        return _set(rule, low + 0.5 * (high - low) * (1 + np.cos(np.pi * t / (length - 1))))

    return _scheduler_mistakes(
        CosineAnnealingWithWarmRestarts,
        [
            (
                "no-discount",
                "every restart went back to the first maximum: multiply the maximum "
                "by max_learning_rate_discount_factor at each restart (max * d ** i in period i)",
                lambda s, rule, e: _set(
                    rule, changed(s, max_learning_rate_discount_factor=1.0).learning_rate(e)
                ),
            ),
            (
                "periods-not-expanding",
                "every period had the first one's length: each is "
                "period_iteration_expansion_factor times longer than the last",
                lambda s, rule, e: _set(
                    rule, changed(s, period_iteration_expansion_factor=1.0).learning_rate(e)
                ),
            ),
            (
                "minimum-at-period-end",
                "the minimum was reached at a period's last epoch: "
                "t / T_i runs from 0 up to (T_i - 1) / T_i, the minimum comes only with the "
                "restart",
                minimum_at_end,
            ),
        ],
    )


_EXPONENTIAL_SKELETON = '''
class ExponentialDecayScheduler:
    """The learning rate decays by a constant factor per epoch:

        rate(e) = learning_rate * decay ** e

    for the 0-based epoch number e (the first epoch runs at learning_rate).

    Args:
        learning_rate: the rate of the first epoch, >= 0.
        decay: the factor per epoch, in (0, 1].
    """

    def __init__(self, learning_rate: float, decay: float) -> None:
        self.initial_rate = learning_rate
        self.decay = decay

    def update_learning_rule(self, learning_rule, epoch_number: int) -> float:
        """Set learning_rule.learning_rate to rate(epoch_number) and return it.

        Called by the training loop before each epoch with the 0-based number of the
        epoch about to run; epochs may come in any order (a resumed run).
        """
        raise NotImplementedError("ExponentialDecayScheduler.update_learning_rule")
'''

_RESTARTS_SKELETON = '''
class CosineAnnealingWithWarmRestarts:
    """SGDR (Loshchilov and Hutter, 2016): in each period the rate follows half a cosine
    from the period's maximum down towards min_learning_rate, then restarts.

    Periods are counted in epochs. Period i (0-based) lasts T_i = T_0 * r ** i epochs
    and starts at epoch S_i = T_0 + T_1 + ... + T_(i-1) (S_0 = 0); its maximum is
    max_i = max_learning_rate * d ** i. The rate of epoch e in period i, t = e - S_i
    epochs into it, is

        rate(e) = min + (max_i - min) * (1 + cos(pi * t / T_i)) / 2

    with T_0 = total_iters_per_period, r = period_iteration_expansion_factor and
    d = max_learning_rate_discount_factor. Each period starts at its maximum; the
    minimum would come only at t = T_i, the restart.

    Args:
        min_learning_rate: the rate approached at the end of each period.
        max_learning_rate: the rate of the first epoch.
        total_iters_per_period: T_0, the first period's length in epochs.
        max_learning_rate_discount_factor: d, the maximum's factor at each restart.
        period_iteration_expansion_factor: r, each period's length over the last's.
    """

    def __init__(
        self,
        min_learning_rate: float,
        max_learning_rate: float,
        total_iters_per_period: int,
        max_learning_rate_discount_factor: float,
        period_iteration_expansion_factor: float,
    ) -> None:
        self.min_learning_rate = min_learning_rate
        self.max_learning_rate = max_learning_rate
        self.total_iters_per_period = total_iters_per_period
        self.max_learning_rate_discount_factor = max_learning_rate_discount_factor
        self.period_iteration_expansion_factor = period_iteration_expansion_factor

    def update_learning_rule(self, learning_rule, epoch_number: int) -> float:
        """Set learning_rule.learning_rate to rate(epoch_number) and return it.

        Called by the training loop before each epoch with the 0-based number of the
        epoch about to run; epochs may come in any order (a resumed run).
        """
        raise NotImplementedError("CosineAnnealingWithWarmRestarts.update_learning_rule")
'''


def _exponential_cases(rng: np.random.Generator) -> list[Case]:
    return [
        _scheduler_case("small", range(5), learning_rate=1.0, decay=0.5, rule_learning_rate=0.3),
        _scheduler_case(
            "twenty epochs", range(20), learning_rate=0.01, decay=0.9, rule_learning_rate=0.3
        ),
        _scheduler_case(
            "random",
            range(10),
            learning_rate=float(rng.uniform(1e-3, 1.0)),
            decay=float(rng.uniform(0.5, 1.0)),
            rule_learning_rate=0.3,
        ),
        _scheduler_case(
            "epochs out of order",
            [3, 0, 7, 7, 1],
            learning_rate=0.1,
            decay=0.8,
            rule_learning_rate=0.3,
        ),
        _scheduler_case(
            "no decay", range(4), learning_rate=0.05, decay=1.0, rule_learning_rate=0.3
        ),
        _scheduler_case("zeros", range(3), learning_rate=0.0, decay=0.5, rule_learning_rate=0.3),
    ]


def _restart_case(
    label: str,
    epochs: object,
    low: float,
    high: float,
    first: int,
    discount: float,
    expansion: float,
) -> Case:
    return _scheduler_case(
        label,
        epochs,
        min_learning_rate=low,
        max_learning_rate=high,
        total_iters_per_period=first,
        max_learning_rate_discount_factor=discount,
        period_iteration_expansion_factor=expansion,
        rule_learning_rate=0.3,
    )


def _restart_cases(rng: np.random.Generator) -> list[Case]:
    random = _restart_case(
        "random",
        range(25),
        float(rng.uniform(0, 1e-3)),
        float(rng.uniform(1e-2, 1e-1)),
        int(rng.integers(2, 6)),
        float(rng.uniform(0.5, 1.0)),
        float(rng.choice([1.0, 2.0, 3.0])),
    )
    return [
        _restart_case("small", range(10), 0.0, 1.0, 2, 0.5, 2.0),
        _restart_case("thirty epochs, equal periods", range(30), 1e-5, 1e-3, 10, 0.9, 1.0),
        random,
        _restart_case("epochs out of order", [12, 0, 5, 5, 3], 1e-4, 1e-2, 3, 0.8, 2.0),
        _restart_case("periods growing by 1.5", range(20), 0.0, 0.1, 4, 1.0, 1.5),
    ]


SCHEDULER_EXERCISES = (
    Exercise(
        name="exponential_decay",
        title="Exponential learning-rate decay",
        class_name="ExponentialDecayScheduler",
        reference=ExponentialDecayScheduler,
        methods=(_scheduler_method({"learning_rate": float, "decay": float}),),
        skeleton=_EXPONENTIAL_SKELETON.lstrip("\n"),
        cases=_exponential_cases,
        mistakes=_exponential_mistakes(),
    ),
    Exercise(
        name="cosine_warm_restarts",
        title="Cosine annealing with warm restarts (SGDR)",
        class_name="CosineAnnealingWithWarmRestarts",
        reference=CosineAnnealingWithWarmRestarts,
        methods=(
            _scheduler_method(
                {
                    "min_learning_rate": float,
                    "max_learning_rate": float,
                    "total_iters_per_period": int,
                    "max_learning_rate_discount_factor": float,
                    "period_iteration_expansion_factor": float,
                }
            ),
        ),
        skeleton=_RESTARTS_SKELETON.lstrip("\n"),
        cases=_restart_cases,
        mistakes=_restart_mistakes(),
    ),
)
"""The scheduler exercises, in catalogue order."""
