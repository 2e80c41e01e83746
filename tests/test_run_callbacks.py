"""The callbacks that keep a run record (mlp.runs.callbacks), alone and in the training
loop, and a torch run with a schedule recording every few epochs from the command line."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlp.config import ExperimentConfig, build_experiment
from mlp.optimisers import Optimiser, accuracy
from mlp.runs import RunRecord, StatsLog, read_stats, run_experiment
from mlp.runs.callbacks import Checkpointer, EpochProgressBar, StatsWriter, TrainingClock

pytestmark = pytest.mark.usefixtures("one_blas_thread")

KEYS = {"error(train)": 0, "acc(train)": 1, "error(valid)": 2, "acc(valid)": 3}
TINY = ExperimentConfig(hidden=(8,), epochs=4, max_train_examples=200, stats_interval=2, seed=3)


def test_stats_writer_appends_rows_in_the_logs_column_order(tmp_path):
    log = StatsLog(tmp_path / "stats.csv", KEYS)
    log.write_header()
    writer = StatsWriter(log)
    writer.on_stats(
        None, 0, {"acc(valid)": 0.1, "error(valid)": 2.0, "acc(train)": 0.2, "error(train)": 1.0}
    )
    writer.on_stats(None, 5, dict(zip(KEYS, [0.5, 0.8, 0.6, 0.7], strict=True)))
    epochs, stats, keys = read_stats(tmp_path / "stats.csv")
    assert epochs.tolist() == [0, 5] and keys == KEYS
    np.testing.assert_array_equal(stats, [[1.0, 0.2, 2.0, 0.1], [0.5, 0.8, 0.6, 0.7]])


def test_training_clock_adds_epochs_to_the_earlier_sessions():
    clock = TrainingClock(10.0, 100.0, 2, started=0.0)
    clock.on_epoch_end(None, 1, 1.5)
    clock.on_epoch_end(None, 2, 0.25)
    timing = clock.timing()
    assert timing["train_seconds"] == 11.75 and timing["sessions"] == 2
    assert timing["run_seconds"] > 100.0  # earlier sessions plus this one so far
    fresh = TrainingClock().timing()
    assert fresh["train_seconds"] == 0.0 and fresh["sessions"] == 1
    assert 0 <= fresh["run_seconds"] < 1


def test_checkpointer_saves_at_epoch_0_and_after_every_epoch_with_the_clocks_timing():
    saved = []
    clock = TrainingClock(started=0.0)
    checkpointer = Checkpointer("ckpt", "experiment", clock, save=lambda *args: saved.append(args))
    checkpointer.on_stats(None, 0, {})
    clock.on_epoch_end(None, 1, 2.0)
    checkpointer.on_epoch_end(None, 1, 2.0)
    checkpointer.on_stats(None, 2, {})  # a later row: the epoch's end saves it
    assert [(path, experiment, epoch) for path, experiment, epoch, _ in saved] == [
        ("ckpt", "experiment", 0),
        ("ckpt", "experiment", 1),
    ]
    assert saved[0][3]["train_seconds"] == 0.0 and saved[1][3]["train_seconds"] == 2.0


def test_progress_bar_counts_epochs_shows_accuracy_and_closes(capsys):
    bar = EpochProgressBar(5, initial=2, desc="run")
    bar.close()  # before training: nothing to close
    bar.on_train_begin(None)
    assert bar.bar.n == 2 and bar.bar.total == 5
    bar.on_stats(None, 3, {"acc(valid)": 0.91234})
    bar.on_epoch_end(None, 3, 0.1)
    assert bar.bar.n == 3 and "acc_valid=0.9123" in str(bar.bar)
    bar.on_train_end(None)
    assert bar.bar is None
    bar.close()
    assert "run" in capsys.readouterr().err


def test_the_callbacks_in_the_training_loop(tmp_path, mnist_dir):
    experiment = build_experiment(TINY)
    optimiser = Optimiser(
        experiment.model,
        experiment.error,
        experiment.learning_rule,
        experiment.train_data,
        experiment.valid_data,
        {"acc": accuracy},
    )
    log = StatsLog(tmp_path / "stats.csv", optimiser.stat_keys())
    log.write_header()
    clock = TrainingClock()
    epochs_saved = []

    def save(path, experiment, epoch, timing):
        epochs_saved.append((epoch, timing["train_seconds"]))

    checkpointer = Checkpointer(tmp_path / "checkpoint.npz", experiment, clock, save=save)
    optimiser.callbacks += [StatsWriter(log), clock, checkpointer]
    stats, _, _ = optimiser.train(4, 2)
    epochs, written, _ = read_stats(tmp_path / "stats.csv")
    assert epochs.tolist() == [0, 2, 4]
    np.testing.assert_array_equal(written, stats)
    assert [epoch for epoch, _ in epochs_saved] == [0, 1, 2, 3, 4]
    assert clock.train_seconds == sum(optimiser.epoch_times) == epochs_saved[-1][1]


def test_a_run_with_a_progress_bar_shows_every_epoch(tmp_path, capsys, mnist_dir):
    record = run_experiment(
        dataclasses.replace(TINY, epochs=2, stats_interval=1), tmp_path, progress=True
    )
    assert record.finished
    err = capsys.readouterr().err
    assert "2/2" in err and "acc_valid=" in err


def test_cli_trains_torch_with_a_cosine_schedule_recording_every_5_epochs(tmp_path, mnist_dir):
    pytest.importorskip("torch")
    pytest.importorskip("mlp.pytorch")
    from mlp.cli import main

    def train(schedule: str) -> RunRecord:
        status = main(
            [
                "train", "--schedule", schedule, "--backend", "torch", "--stats-interval", "5",
                "--epochs", "10", "--max-train-examples", "500", "--hidden", "16",
                "--rule", "adam", "--learning-rate", "0.005", "--runs-dir", str(tmp_path), "--name", schedule,
                "--no-progress",
            ]
        )  # fmt: skip
        assert status == 0
        return RunRecord.load(tmp_path / schedule)

    record = train("cosine")
    assert record.finished and record.epochs.tolist() == [0, 5, 10]
    assert record.summary["backend"] == "torch" and record.summary["epochs"] == 10
    config = record.experiment_config()
    assert (config.schedule, config.backend, config.stats_interval) == ("cosine", "torch", 5)
    acc = record.stats[:, record.keys["acc(valid)"]]
    assert acc[-1] > acc[0] + 0.3  # it learnt
    # The schedule reached the torch trainer: the same run at a constant rate differs
    # after training, not before.
    constant = train("constant")
    np.testing.assert_array_equal(constant.stats[0], record.stats[0])
    assert not np.array_equal(constant.stats[1:], record.stats[1:])
