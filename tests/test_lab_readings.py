"""What the lab's report reads off run records (`mlp.lab.readings`), checked on records
built here with known curves: which runs overfit, and how far apart two curves are."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mlp.lab import readings
from mlp.lab.report import write_report
from mlp.lab.tasks import ACTIVATIONS, DEPTHS, lab_tasks
from mlp.runs import RunRecord
from mlp.runs.record import write_record

KEYS = {"error(train)": 0, "acc(train)": 1, "error(valid)": 2, "acc(valid)": 3}


def record(valid_errors, name="run", shift=0.0) -> RunRecord:
    """An unfinished record, one row per epoch from 0, with the given validation errors
    (training error a little below, accuracies rising); `shift` moves every value."""
    valid = np.asarray(valid_errors, dtype=np.float64)
    rows = len(valid)
    accuracy = np.linspace(0.1, 0.9, rows)
    stats = np.stack([valid * 0.9, accuracy, valid, accuracy - 0.05], axis=1) + shift
    return RunRecord(Path(name), {}, np.arange(rows), stats, dict(KEYS))


FALLING = [2.0, 1.5, 1.2, 1.0, 0.9]
"""Validation error still falling at the last epoch: no overfitting."""

RISING = [2.0, 1.0, 0.8, 0.9, 1.0]
"""Lowest at epoch 2, then 25% higher at the end: overfitting."""


def test_a_falling_validation_error_is_not_overfitting():
    run = record(FALLING)
    assert readings.valid_error_rise(run) is None
    assert readings.best_epoch(run, "error(valid)") == 4
    assert readings.trajectory(run, "PyTorch") == (
        "PyTorch's validation error is lowest at epoch 4 of 4 and ends within 2% of that"
    )


def test_a_validation_error_that_rises_again_is_overfitting():
    run = record(RISING)
    epoch, rise = readings.valid_error_rise(run)
    assert epoch == 2 and rise == pytest.approx(0.25)
    assert readings.trajectory(run, "the twin") == (
        "the twin's validation error is lowest at epoch 2 of 4 and ends 25% higher (it overfits)"
    )


def test_a_rise_within_the_margin_is_not_overfitting():
    run = record([2.0, 1.0, 1.0 + readings.OVERFIT_RISE / 2])
    assert readings.valid_error_rise(run) is None


def test_depth_observations_name_the_runs_that_overfit_and_the_best_depth():
    names = {(act, depth): f"{act}-{depth}" for act in ACTIVATIONS for depth in DEPTHS}
    records = {
        "sigmoid-2": record(RISING, "sigmoid-2"),
        "sigmoid-3": record(FALLING, "sigmoid-3", shift=0.05),
        "tanh-2": record(FALLING, "tanh-2"),
    }
    text = readings.depth_observations(records, names)
    assert "the model overfits, for: sigmoid-2 (lowest at epoch 2, final 25% higher)." in text
    assert "ends within that margin of its minimum for: sigmoid-3, tanh-2." in text
    # Both sigmoid depths have a final accuracy; the shifted one (depth 3) is higher.
    assert "sigmoid: the best final validation accuracy is at 3 affine layers" in text
    assert "the worst at 2" in text


def test_largest_differences_are_the_largest_over_every_epoch():
    a = record(FALLING)
    b = record(FALLING)
    b.stats[:, KEYS["error(valid)"]] += [0.0, 0.1, -0.5, 0.2, 0.0]
    b.stats[3, KEYS["acc(train)"]] -= 0.01
    differences = readings.largest_differences(a, b)
    assert differences["error(valid)"] == pytest.approx(0.5)
    assert differences["acc(train)"] == pytest.approx(0.01)
    assert differences["error(train)"] == 0 and differences["acc(valid)"] == 0


def test_final_value_and_missing_records():
    run = record(FALLING)
    assert readings.final_value(run, "error(valid)") == 0.9
    assert np.isnan(readings.final_value(None, "error(valid)"))
    assert np.isnan(readings.final_value(run, "no such statistic"))


def _write(path: Path, run: RunRecord, test_accuracy: float = 0.9) -> None:
    summary = {"test": {"acc": test_accuracy}, "seconds_per_epoch": 0.1}
    write_record(path, {"label": path.name}, run.stats, run.keys, run.epochs, summary, curves=False)


def test_the_report_says_which_run_overfits_and_how_far_apart_the_formulations_are(tmp_path):
    tasks = [t for t in lab_tasks(quick=True) if t.group in ("ex1", "pytorch")]
    runs = tmp_path / "runs"
    folded = record(FALLING)
    folded.stats[:, KEYS["error(valid)"]] += [0.0, 0.001, 0.004, -0.002, 0.0]
    _write(runs / "ex1-softmax-layer", record(FALLING))
    _write(runs / "ex1-ce-softmax", folded)
    _write(runs / "pytorch-seed", record(FALLING))
    _write(runs / "pytorch-twin", record(RISING), test_accuracy=0.91)
    report = write_report(tmp_path, tasks, wall_time=1.0, quick=True, jobs=1).read_text()
    assert (
        "PyTorch's validation error is lowest at epoch 4 of 4 and ends within 2% of that" in report
    )
    assert (
        "the twin's validation error is lowest at epoch 2 of 4 and ends 25% higher (it overfits)"
        in report
    )
    assert "The twin's test accuracy is +1.00 percentage points from PyTorch's." in report
    # The largest of the differences over the epochs (0, 0.001, 0.004, 0.002, 0).
    assert "over every recorded statistic and epoch: 4.00e-03 (error(valid))" in report
