"""Learning-rate schedulers: the learning rate of each epoch.

The course's protocol: before each epoch the training loop calls

    rate = scheduler.update_learning_rule(learning_rule, epoch_number)

with the 0-based number of the epoch about to run; the scheduler sets
`learning_rule.learning_rate` and returns the rate it set. Pass schedulers to the loop
with `Optimiser(..., schedulers=[scheduler])` (the PyTorch trainer takes the same).
`learning_rate(epoch_number)` gives a scheduler's rate without changing anything, e.g.
to plot a schedule:

    schedule = CosineAnnealingScheduler(max_learning_rate=1e-3, num_epochs=20)
    rates = [schedule.learning_rate(e) for e in range(20)]
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

from mlp import _checks

__all__ = [
    "ConstantLearningRateScheduler",
    "CosineAnnealingScheduler",
    "CosineAnnealingWithWarmRestarts",
    "ExponentialDecayScheduler",
    "HasLearningRate",
    "Scheduler",
]


@runtime_checkable
class HasLearningRate(Protocol):
    """Anything with a settable `learning_rate`: every learning rule, and the PyTorch
    trainer's view of a `torch.optim` optimiser's rate."""

    learning_rate: float


@runtime_checkable
class Scheduler(Protocol):
    """The course's scheduler protocol."""

    def update_learning_rule(self, learning_rule: HasLearningRate, epoch_number: int) -> float:
        """Set the rule's rate for epoch `epoch_number` (0-based) and return it."""
        ...


def _finite(name: str, value: float, scheduler: str, *, positive: bool = False) -> float:
    value = _checks.real(value, name, scheduler)
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        bound = "> 0" if positive else ">= 0"
        raise ValueError(f"{scheduler}: {name} must be finite and {bound}, got {value}")
    return value


def _epoch_number(epoch_number: int) -> int:
    if isinstance(epoch_number, bool) or not isinstance(epoch_number, int) or epoch_number < 0:
        try:
            if int(epoch_number) == epoch_number and epoch_number >= 0:  # NumPy integers
                return int(epoch_number)
        except (TypeError, ValueError):
            pass
        raise ValueError(f"epoch_number must be a non-negative integer, got {epoch_number!r}")
    return epoch_number


class _RateFunctionScheduler:
    """A scheduler whose rate is a function of the epoch number alone."""

    def learning_rate(self, epoch_number: int) -> float:
        """The rate of epoch `epoch_number` (0-based, a non-negative integer).

        Raises:
            ValueError: naming epoch_number, for anything else.
        """
        return self._rate(_epoch_number(epoch_number))

    def _rate(self, epoch_number: int) -> float:
        raise NotImplementedError

    def update_learning_rule(self, learning_rule: HasLearningRate, epoch_number: int) -> float:
        """Set `learning_rule.learning_rate` for epoch `epoch_number` (0-based); return it."""
        _checks.refuse_class(learning_rule, "learning_rule", type(self).__name__)
        if not hasattr(learning_rule, "learning_rate"):
            raise TypeError(
                f"{type(self).__name__}: learning_rule must have a learning_rate to set "
                f"(a learning rule), got {type(learning_rule).__name__}"
            )
        rate = self.learning_rate(epoch_number)
        learning_rule.learning_rate = rate
        return rate


class ConstantLearningRateScheduler(_RateFunctionScheduler):
    """The same rate every epoch.

    Args:
        learning_rate: the rate, >= 0.
    """

    def __init__(self, learning_rate: float) -> None:
        self.rate = _finite("learning_rate", learning_rate, type(self).__name__)

    def _rate(self, epoch_number: int) -> float:
        return self.rate

    def __repr__(self) -> str:
        return f"ConstantLearningRateScheduler(learning_rate={self.rate})"


class ExponentialDecayScheduler(_RateFunctionScheduler):
    """rate(e) = learning_rate * decay**e for the 0-based epoch number e.

    Args:
        learning_rate: the rate of the first epoch, >= 0.
        decay: factor per epoch, in (0, 1].
    """

    def __init__(self, learning_rate: float, decay: float) -> None:
        name = type(self).__name__
        self.initial_rate = _finite("learning_rate", learning_rate, name)
        self.decay = _finite("decay", decay, name, positive=True)
        if self.decay > 1:
            raise ValueError(f"{name}: decay must lie in (0, 1], got {self.decay}")

    def _rate(self, epoch_number: int) -> float:
        return self.initial_rate * self.decay**epoch_number

    def __repr__(self) -> str:
        return f"ExponentialDecayScheduler(learning_rate={self.initial_rate}, decay={self.decay})"


class CosineAnnealingScheduler(_RateFunctionScheduler):
    """Half a cosine from `max_learning_rate` down towards `min_learning_rate`:

        rate(e) = min + (max - min) * (1 + cos(pi * e / num_epochs)) / 2

    for the 0-based epoch number e. The minimum is reached only after the last epoch
    (as torch's `CosineAnnealingLR` with `T_max = num_epochs`), so the last epoch still
    learns; epochs past `num_epochs` continue the cosine.

    Args:
        max_learning_rate: the rate of the first epoch, >= 0.
        num_epochs: the length of the run, > 0.
        min_learning_rate: the rate approached at the end, >= 0 (above
            `max_learning_rate` the half cosine rises, as torch's does).
    """

    def __init__(
        self, max_learning_rate: float, num_epochs: int, min_learning_rate: float = 0.0
    ) -> None:
        name = type(self).__name__
        self.max_learning_rate = _finite("max_learning_rate", max_learning_rate, name)
        self.min_learning_rate = _finite("min_learning_rate", min_learning_rate, name)
        self.num_epochs = _checks.count(num_epochs, "num_epochs", name, 1)

    def _rate(self, epoch_number: int) -> float:
        low, high = self.min_learning_rate, self.max_learning_rate
        progress = epoch_number / self.num_epochs
        return low + 0.5 * (high - low) * (1 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return (
            f"CosineAnnealingScheduler(max_learning_rate={self.max_learning_rate}, "
            f"num_epochs={self.num_epochs}, min_learning_rate={self.min_learning_rate})"
        )


class CosineAnnealingWithWarmRestarts(_RateFunctionScheduler):
    """SGDR (Loshchilov and Hutter, 2016): half a cosine from a maximum down towards
    `min_learning_rate`, restarted at the maximum at the end of each period.

    Periods are measured in epochs. Period i (0-based) lasts T_i = T_0 * r**i epochs,
    T_0 = `total_iters_per_period` and r = `period_iteration_expansion_factor`, and
    starts at the epoch S_i = T_0 + T_1 + ... + T_(i-1); its maximum is
    max_i = `max_learning_rate` * d**i, d = `max_learning_rate_discount_factor`. The
    rate of the 0-based epoch e of period i, t = e - S_i epochs into it, is

        rate(e) = min + (max_i - min) * (1 + cos(pi * t / T_i)) / 2

    so each period starts at its maximum and approaches the minimum at its end. With
    d = 1 and a whole-number r this is torch's `CosineAnnealingWarmRestarts(T_0=T_0,
    T_mult=r, eta_min=min)` stepped once per epoch.

    Args:
        min_learning_rate: the rate approached at the end of each period, >= 0.
        max_learning_rate: the rate of the first epoch, >= min_learning_rate.
        total_iters_per_period: T_0, the length of the first period in epochs, > 0.
        max_learning_rate_discount_factor: d, the factor of the maximum at each
            restart, >= 0 (1 restarts at the same maximum).
        period_iteration_expansion_factor: r, each period's length over the last's,
            >= 1 (1 keeps every period T_0 epochs long).
    """

    def __init__(
        self,
        min_learning_rate: float,
        max_learning_rate: float,
        total_iters_per_period: float,
        max_learning_rate_discount_factor: float,
        period_iteration_expansion_factor: float,
    ) -> None:
        name = type(self).__name__
        self.min_learning_rate = _finite("min_learning_rate", min_learning_rate, name)
        self.max_learning_rate = _finite("max_learning_rate", max_learning_rate, name)
        if self.min_learning_rate > self.max_learning_rate:
            raise ValueError(
                f"{name}: min_learning_rate ({self.min_learning_rate}) must not exceed "
                f"max_learning_rate ({self.max_learning_rate})"
            )
        self.total_iters_per_period = _finite(
            "total_iters_per_period", total_iters_per_period, name, positive=True
        )
        self.max_learning_rate_discount_factor = _finite(
            "max_learning_rate_discount_factor", max_learning_rate_discount_factor, name
        )
        expansion = _finite(
            "period_iteration_expansion_factor", period_iteration_expansion_factor, name
        )
        if expansion < 1:  # shrinking periods would never reach later epochs
            raise ValueError(
                f"{name}: period_iteration_expansion_factor must be finite and >= 1, "
                f"got {expansion}"
            )
        self.period_iteration_expansion_factor = expansion

    def period(self, epoch_number: int) -> tuple[int, float, float]:
        """(i, t, T_i): the 0-based period of epoch `epoch_number`, the epochs into it
        and its length, as in the class docstring."""
        e = _epoch_number(epoch_number)
        first, r = self.total_iters_per_period, self.period_iteration_expansion_factor
        if r == 1:
            i = math.floor(e / first)
        else:  # S_i = T_0 (r**i - 1) / (r - 1) <= e, solved for i; rounding fixed below
            i = math.floor(math.log(e * (r - 1) / first + 1, r))

        def start(k: int) -> float:
            if r == 1:
                return k * first
            try:
                return first * (r**k - 1) / (r - 1)
            except OverflowError:  # beyond any epoch number
                return math.inf

        while i > 0 and start(i) > e:
            i -= 1
        while start(i + 1) <= e:
            i += 1
        return i, e - start(i), first * r**i

    def _rate(self, epoch_number: int) -> float:
        i, t, length = self.period(epoch_number)
        low = self.min_learning_rate
        high = self.max_learning_rate * self.max_learning_rate_discount_factor**i
        return low + 0.5 * (high - low) * (1 + math.cos(math.pi * t / length))

    def __repr__(self) -> str:
        return (
            f"CosineAnnealingWithWarmRestarts(min_learning_rate={self.min_learning_rate}, "
            f"max_learning_rate={self.max_learning_rate}, "
            f"total_iters_per_period={self.total_iters_per_period}, "
            f"max_learning_rate_discount_factor={self.max_learning_rate_discount_factor}, "
            f"period_iteration_expansion_factor={self.period_iteration_expansion_factor})"
        )
