"""Run records: written atomically, read back exactly, and an interrupted run (Ctrl-C,
SIGKILL, or a crash between two files) resumes to bit-for-bit the statistics of an
uninterrupted run."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import mlp.runs
from mlp import kernels
from mlp.config import ExperimentConfig
from mlp.runs import (
    CHECKPOINT,
    RunError,
    RunRecord,
    StatsLog,
    atomic_write_text,
    find_runs,
    is_finished,
    read_stats,
    resume_run,
    run_experiment,
    summarise_stats,
)

# Everything that carries state across epochs: Adam's moments and step count, dropout
# masks (inputs and hidden units), shuffles, and a learning rate that changes per epoch.
RESUMABLE = ExperimentConfig(
    hidden=(64, 64),
    activation="relu",
    rule="adam",
    schedule="cosine",
    input_dropout=0.1,
    dropout=0.3,
    epochs=16,
    batch_size=50,
    max_train_examples=1000,
    stats_interval=1,
    seed=7,
)
SMALL = dataclasses.replace(RESUMABLE, epochs=4, hidden=(16,), max_train_examples=500)

# Subprocesses use one BLAS thread, as the in-process tests do (see `one_blas_thread`):
# small matrix products gain nothing from a second thread, and with other work running
# on the machine a second, spinning OpenBLAS thread makes them many times slower. It also
# matters for equality: BLAS splits its sums by thread, so the number of threads changes
# the last bits of results. A run resumes bit for bit with the same thread count.
ONE_THREAD_ENV = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


# Bitwise comparisons between runs need one BLAS thread count (see conftest.py).
# ...and MNIST in the data directory (skipped with MLP_OFFLINE=1 when it is missing, not
# downloaded).
pytestmark = pytest.mark.usefixtures("one_blas_thread", "mnist_dir")


def _tmp_files(path: Path) -> list[Path]:
    return list(path.rglob("*.tmp"))


def test_stats_log_round_trips_bit_for_bit(tmp_path):
    keys = {"error(train)": 0, "acc(train)": 1}
    log = StatsLog(tmp_path / "stats.csv", keys)
    log.write_header()
    rows = [[1 / 3, 0.1 + 0.2], [np.float32(0.7), float("nan")], [float("inf"), 5e-324]]
    for epoch, row in enumerate(rows):
        log.append(epoch * 5, row)
    epochs, stats, read_keys = read_stats(tmp_path / "stats.csv")
    assert read_keys == keys and epochs.tolist() == [0, 5, 10]
    np.testing.assert_array_equal(stats, np.array(rows, dtype=np.float64))


def test_a_row_cut_short_by_a_crash_is_ignored(tmp_path):
    path = tmp_path / "stats.csv"
    path.write_text("epoch,error(train)\n0,2.5\n1,1.25\n2,0.")
    epochs, stats, _ = read_stats(path)
    assert epochs.tolist() == [0, 1] and stats[:, 0].tolist() == [2.5, 1.25]


def test_atomic_write_replaces_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "f.txt"
    atomic_write_text(path, "one")
    atomic_write_text(path, "two")
    assert path.read_text() == "two" and not _tmp_files(tmp_path)


def _rewrite(name: str, path: Path) -> None:
    """Write the record file `name` of the finished run in `path` again, as training does."""
    from mlp.config import build_experiment
    from mlp.runs.checkpoint import save_checkpoint
    from mlp.runs.record import finish_record, write_config, write_curves

    record = RunRecord.load(path)
    if name == "config.toml":
        write_config(path, record.experiment_config())
    elif name == "stats.csv":
        rows = list(zip(record.epochs, record.stats, strict=True))
        StatsLog(path / name, record.keys).write_header(rows)
    elif name == "params.npz":
        finish_record(path, {}, [p * 2 for p in record.params()], curves=False)
    elif name == "summary.json":
        finish_record(path, {"note": "rewritten"}, curves=False)
    elif name == "curves.png":
        write_curves(record)
    else:
        experiment = build_experiment(record.experiment_config())
        experiment.learning_rule.initialise(experiment.model.params)
        timing = {"train_seconds": 1.0, "run_seconds": 1.0, "sessions": 1}
        save_checkpoint(path / name, experiment, 1, timing)


@pytest.mark.parametrize(
    "name",
    ["config.toml", "stats.csv", "params.npz", "summary.json", "curves.png", CHECKPOINT],
)
def test_run_record_files_are_written_atomically(tmp_path, monkeypatch, mnist_dir, name):
    """A write that fails before its file is complete (here: the rename of a finished
    temporary file fails, as on a full disk) leaves the old file whole and no part."""
    path = run_experiment(dataclasses.replace(SMALL, epochs=1), tmp_path, name="r").path
    if name == CHECKPOINT:
        _rewrite(name, path)  # a finished run has none: write one to replace
    before = (path / name).read_bytes()

    def failing_replace(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="No space left on device"):
        _rewrite(name, path)
    assert (path / name).read_bytes() == before
    assert not _tmp_files(tmp_path)


def test_summarise_stats_final_and_best():
    keys = {"error(valid)": 0, "acc(valid)": 1}
    stats = np.array([[2.3, 0.1], [0.5, 0.9], [0.4, 0.85], [0.6, 0.88]])
    figures = summarise_stats(np.array([0, 5, 10, 15]), stats, keys)
    assert figures["final"] == {"error(valid)": 0.6, "acc(valid)": 0.88}
    assert figures["best"]["error(valid)"] == {"value": 0.4, "epoch": 10}
    assert figures["best"]["acc(valid)"] == {"value": 0.9, "epoch": 5}
    assert figures["epochs"] == 15


def test_run_record_is_complete_and_reads_back(tmp_path):
    config = dataclasses.replace(SMALL, test=True, stats_interval=2)
    record = run_experiment(config, tmp_path, name="small")
    path = tmp_path / "small"
    assert record.finished and is_finished(path)
    assert {p.name for p in path.iterdir()} == {
        "config.toml",
        "stats.csv",
        "summary.json",
        "params.npz",
        "curves.png",
    }
    again = RunRecord.load(path)
    assert again.experiment_config() == dataclasses.replace(config, name="small").resolved()
    np.testing.assert_array_equal(again.stats, record.stats)
    assert again.epochs.tolist() == [0, 2, 4]
    assert list(again.keys) == ["error(train)", "acc(train)", "error(valid)", "acc(valid)"]
    summary = json.loads((path / "summary.json").read_text())
    assert summary["final"]["acc(valid)"] == again.stats[-1, again.keys["acc(valid)"]]
    assert summary["best"]["acc(valid)"]["epoch"] in (2, 4)
    assert 0 < summary["test"]["acc"] <= 1 and summary["seconds_per_epoch"] > 0
    assert summary["seed"] == 7 and summary["versions"]["numpy"] == np.__version__
    assert ("numba" in summary["versions"]) == kernels.enabled()  # compiled updates enabled
    params = again.params()
    assert [p.shape for p in params] == [(16, 784), (16,), (10, 16), (10,)]
    assert not _tmp_files(tmp_path)


def test_existing_runs_are_refused_kept_or_replaced(tmp_path):
    first = run_experiment(SMALL, tmp_path, name="r")
    with pytest.raises(RunError, match="already holds a finished run"):
        run_experiment(SMALL, tmp_path, name="r")
    kept = run_experiment(SMALL, tmp_path, name="r", if_exists="resume")
    np.testing.assert_array_equal(kept.stats, first.stats)
    assert kept.summary["finished_at"] == first.summary["finished_at"]
    with pytest.raises(RunError, match="different config"):
        run_experiment(dataclasses.replace(SMALL, seed=8), tmp_path, name="r", if_exists="resume")
    replaced = run_experiment(
        dataclasses.replace(SMALL, epochs=2), tmp_path, name="r", if_exists="overwrite"
    )
    assert replaced.epochs.tolist() == [0, 1, 2]


def test_unnamed_runs_get_distinct_descriptive_names(tmp_path):
    config = dataclasses.replace(SMALL, epochs=1)
    a = run_experiment(config, tmp_path)
    b = run_experiment(config, tmp_path)
    assert a.name != b.name and a.name.startswith("relu-16-adam-")
    assert [p.name for p in find_runs([tmp_path])] == sorted([a.name, b.name])


def test_find_runs_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(RunError, match="absent does not exist"):
        find_runs([tmp_path / "absent"])
    with pytest.raises(RunError, match=r"holds no run records \(no stats.csv in it or below it\)"):
        find_runs([tmp_path])
    with pytest.raises(RunError, match=r"stats\.csv does not exist: not a run record"):
        RunRecord.load(tmp_path)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> RunRecord:
    return run_experiment(RESUMABLE, tmp_path_factory.mktemp("full"), name="full")


def _assert_same_run(record: RunRecord, reference: RunRecord) -> None:
    assert record.finished
    assert record.epochs.tolist() == reference.epochs.tolist()
    np.testing.assert_array_equal(record.stats, reference.stats)  # bit for bit
    # The text too: every number is written with repr, so equal floats give equal rows.
    assert (record.path / "stats.csv").read_text() == (reference.path / "stats.csv").read_text()
    for a, b in zip(record.params(), reference.params(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not (record.path / CHECKPOINT).exists()


@pytest.mark.parametrize("before_checkpoint", [False, True])
def test_interrupted_in_process_resumes_to_the_same_statistics(
    tmp_path, uninterrupted, monkeypatch, before_checkpoint
):
    """Ctrl-C right after the checkpoint of epoch 3, or between the stats row of epoch 3
    and its checkpoint (so stats.csv is one row ahead of the checkpoint)."""
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        if epoch == 3 and not before_checkpoint:
            save(path, experiment, epoch, timing)
        if epoch == 3:
            raise KeyboardInterrupt
        save(path, experiment, epoch, timing)

    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", interrupting_save)
    stopped = run_experiment(RESUMABLE, tmp_path, name="r")
    assert not stopped.finished and stopped.epochs[-1] == 3
    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", save)
    resumed = resume_run(tmp_path / "r")
    _assert_same_run(resumed, uninterrupted)
    assert resumed.summary["sessions"] == 2


def _start_train(runs_dir: Path, name: str) -> subprocess.Popen:
    config = RESUMABLE
    args = [
        sys.executable, "-m", "mlp.cli", "train", "--name", name, "--runs-dir", str(runs_dir),
        "--hidden", ",".join(map(str, config.hidden)), "--activation", config.activation,
        "--rule", config.rule, "--schedule", config.schedule,
        "--input-dropout", str(config.input_dropout), "--dropout", str(config.dropout),
        "--epochs", str(config.epochs), "--batch-size", str(config.batch_size),
        "--max-train-examples", str(config.max_train_examples),
        "--stats-interval", "1", "--seed", str(config.seed), "--no-progress",
    ]  # fmt: skip
    return subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD_ENV
    )


def _wait_for_rows(path: Path, rows: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= rows + 1:
            return
        if process.poll() is not None:
            pytest.fail(f"training ended early: {process.communicate()}")
        time.sleep(0.005)
    process.kill()
    pytest.fail("training did not record statistics in time")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_killed_training_resumes_to_the_same_statistics(tmp_path, uninterrupted, sig):
    process = _start_train(tmp_path, "r")
    stats_path = tmp_path / "r" / "stats.csv"
    _wait_for_rows(stats_path, 4, process)  # epochs 0..3 recorded: mid-run
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    if sig == signal.SIGINT:
        assert process.returncode == 130, stderr
        assert "mlp train --resume" in stderr and "Traceback" not in stderr
    else:
        assert process.returncode == -signal.SIGKILL
    done = read_stats(stats_path)[0]
    assert 3 <= done[-1] < RESUMABLE.epochs and not is_finished(tmp_path / "r")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlp.cli",
            "train",
            "--resume",
            str(tmp_path / "r"),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=ONE_THREAD_ENV,
    )
    assert result.returncode == 0, result.stderr
    _assert_same_run(RunRecord.load(tmp_path / "r"), uninterrupted)
    assert not _tmp_files(tmp_path)


def test_resume_without_checkpoint_starts_again(tmp_path, uninterrupted):
    path = tmp_path / "r"
    path.mkdir()
    # What a run killed while loading its data leaves: its config and a header.
    stopped_early = dataclasses.replace(RESUMABLE, name="r")
    from mlp.config import to_toml

    (path / "config.toml").write_text(to_toml(stopped_early.resolved().to_dict()))
    (path / "stats.csv").write_text("epoch,error(train),acc(train),error(valid),acc(valid)\n")
    _assert_same_run(resume_run(path), uninterrupted)


def test_a_run_in_progress_is_not_trained_twice(tmp_path, monkeypatch):
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        save(path, experiment, epoch, timing)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", interrupting_save)
    run_experiment(SMALL, tmp_path, name="r")
    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", save)
    with mlp.runs.training._exclusive(tmp_path / "r"):  # as another process training it would
        with pytest.raises(RunError, match="being trained by another process"):
            resume_run(tmp_path / "r")
    assert resume_run(tmp_path / "r").finished
    assert not (tmp_path / "r" / ".lock").exists()


def test_resume_refuses_what_is_not_a_run(tmp_path):
    with pytest.raises(RunError, match="not a run record"):
        resume_run(tmp_path)


def test_stale_temporary_files_are_cleaned_on_resume(tmp_path, monkeypatch):
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        save(path, experiment, epoch, timing)
        if epoch == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", interrupting_save)
    run_experiment(SMALL, tmp_path, name="r")
    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", save)
    (tmp_path / "r" / ".checkpoint.npz.123.tmp").write_bytes(b"half a file")
    assert resume_run(tmp_path / "r").finished
    assert not _tmp_files(tmp_path)


def test_torch_backend_writes_the_same_kind_of_record(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("mlp.pytorch")
    config = dataclasses.replace(
        SMALL, backend="torch", device="cpu", test=True, schedule="constant"
    )
    record = run_experiment(config, tmp_path, name="t")
    assert record.finished and record.summary["backend"] == "torch"
    assert record.stats.shape == (5, 4) and 0 < record.summary["test"]["acc"] <= 1
    numpy_record = run_experiment(dataclasses.replace(config, backend="numpy"), tmp_path, name="n")
    # Same model, data order and initial weights; dropout masks and float rounding differ,
    # and 4 epochs of Adam on 500 examples amplify both, so only roughly equal. Measured:
    # 0.032 here and 0.015 at this seed in a script with other thread settings, 0.008 to
    # 0.050 over seeds 1 to 5 (0.001 to 0.084 even without dropout).
    # 0.06 is above every gap seen, and still fails a backend that trains another model.
    gap = abs(record.summary["final"]["acc(valid)"] - numpy_record.summary["final"]["acc(valid)"])
    assert gap < 0.06
    with pytest.raises(RunError, match="torch"):
        os.remove(record.path / "summary.json")
        resume_run(record.path)


def test_overwrite_refuses_a_run_another_process_is_training(tmp_path):
    import fcntl

    first = run_experiment(SMALL, tmp_path, name="r")
    with open(first.path / ".lock", "w") as handle:  # as a training process holds it
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RunError, match="being trained by another process"):
            run_experiment(SMALL, tmp_path, name="r", if_exists="overwrite")
        assert RunRecord.load(first.path).finished  # untouched
    replaced = run_experiment(
        dataclasses.replace(SMALL, epochs=2), tmp_path, name="r", if_exists="overwrite"
    )
    assert replaced.epochs.tolist() == [0, 1, 2]


def test_an_unusable_runs_directory_is_a_clear_error(tmp_path, capsys):
    from mlp.cli import main

    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("")
    status = main(["train", "--hidden", "8", "--epochs", "1", "--runs-dir", str(not_a_folder)])
    assert status == 2
    assert "mlp train: error:" in capsys.readouterr().err


def test_compare_finds_runs_at_any_depth_and_names_them_by_path(tmp_path, capsys):
    from mlp.cli import main

    config = dataclasses.replace(SMALL, epochs=1)
    run_experiment(config, tmp_path / "top", name="a")
    run_experiment(config, tmp_path / "top" / "sweep", name="p1")
    run_experiment(config, tmp_path / "top" / "lab" / "runs", name="p1")
    assert main(["compare", str(tmp_path / "top")]) == 0
    rows = [line.split()[0] for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == ["a", "lab/runs/p1", "sweep/p1"]


def test_find_runs_refuses_a_bare_path_for_its_list(tmp_path):
    with pytest.raises(TypeError, match="paths must be a list of paths"):
        find_runs(str(tmp_path))  # type: ignore[arg-type]


def test_run_experiment_checks_its_arguments_before_training(tmp_path):
    config = ExperimentConfig(hidden=(5,), epochs=1, max_train_examples=100)
    with pytest.raises(ValueError, match="if_exists must be"):
        run_experiment(config, tmp_path, if_exists="bogus")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="config must be an ExperimentConfig"):
        run_experiment(config.to_dict(), tmp_path)  # type: ignore[arg-type]
    assert not any(tmp_path.iterdir())
