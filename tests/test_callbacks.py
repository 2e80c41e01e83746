"""The training loop's callbacks: which hooks run, in which order, with what."""

import numpy as np
import pytest

from mlp.callbacks import Callback, EpochTimer, LambdaCallback
from tests.test_schedulers import _tiny_optimiser


class _Recorder(Callback):
    def __init__(self):
        self.events = []

    def on_train_begin(self, loop):
        self.events.append(("begin",))

    def on_epoch_begin(self, loop, epoch):
        self.events.append(("epoch_begin", epoch, loop.learning_rule.learning_rate))

    def on_epoch_end(self, loop, epoch, epoch_time):
        assert epoch_time >= 0
        self.events.append(("epoch_end", epoch))

    def on_stats(self, loop, epoch, stats):
        assert set(stats) == set(loop.stat_keys())
        self.events.append(("stats", epoch))

    def on_train_end(self, loop):
        self.events.append(("end", loop.interrupted))


def test_hooks_run_in_order():
    from mlp.schedulers import ExponentialDecayScheduler

    recorder = _Recorder()
    optimiser, _ = _tiny_optimiser(
        callbacks=[recorder], schedulers=[ExponentialDecayScheduler(1.0, 0.5)]
    )
    optimiser.train(4, stats_interval=2)
    assert recorder.events == [
        ("begin",),
        ("stats", 0),
        ("epoch_begin", 1, 1.0),  # the scheduler has set epoch 1's rate already
        ("epoch_end", 1),
        ("epoch_begin", 2, 0.5),
        ("stats", 2),
        ("epoch_end", 2),
        ("epoch_begin", 3, 0.25),
        ("epoch_end", 3),
        ("epoch_begin", 4, 0.125),
        ("stats", 4),
        ("epoch_end", 4),
        ("end", False),
    ]


def test_train_end_runs_after_ctrl_c():
    class Interrupt(Callback):
        def on_epoch_end(self, loop, epoch, epoch_time):
            if epoch == 2:
                raise KeyboardInterrupt

    recorder = _Recorder()
    optimiser, _ = _tiny_optimiser(callbacks=[Interrupt(), recorder])
    stats, _, _ = optimiser.train(5, stats_interval=1)
    assert optimiser.interrupted and recorder.events[-1] == ("end", True)
    assert stats.shape[0] == 3  # epochs 0, 1, 2


def test_epoch_timer_and_lambda_callback():
    timer, seen = EpochTimer(), []
    optimiser, _ = _tiny_optimiser(
        callbacks=[timer, LambdaCallback(on_stats=lambda epoch, stats: seen.append(epoch))]
    )
    optimiser.train(3, stats_interval=1)
    assert len(timer.epoch_times) == 3 and all(t > 0 for t in timer.epoch_times)
    assert seen == [0, 1, 2, 3]


def test_callbacks_do_not_change_training():
    plain, _ = _tiny_optimiser()
    watched, _ = _tiny_optimiser(callbacks=[_Recorder(), EpochTimer()])
    a, _, _ = plain.train(3, stats_interval=1)
    b, _, _ = watched.train(3, stats_interval=1)
    assert np.array_equal(a, b)


def test_wrong_callbacks_are_refused():
    with pytest.raises(TypeError, match=r"callbacks\[0\].*an instance"):
        _tiny_optimiser(callbacks=[EpochTimer])
    with pytest.raises(TypeError, match=r"callbacks\[0\] is .*print"):
        _tiny_optimiser(callbacks=[print])
    with pytest.raises(TypeError, match="on_stats must be callable"):
        LambdaCallback(on_stats=3)
