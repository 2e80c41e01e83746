"""Format versions of run records and checkpoints: new files carry one; records written
before versions were kept still read, compare and plot; checkpoints of an earlier (or a
later) format are refused with a message that says how to train the run again."""

from __future__ import annotations

import dataclasses
import json
import re
import shlex

import numpy as np
import pytest

import mlp.runs
from mlp.config import ExperimentConfig
from mlp.runs import (
    CHECKPOINT_FORMAT_VERSION,
    RECORD_FORMAT_VERSION,
    RunError,
    RunRecord,
    resume_run,
    run_experiment,
    write_record,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")

SMALL = ExperimentConfig(hidden=(8,), epochs=3, max_train_examples=200, stats_interval=1, seed=5)


@pytest.fixture
def interrupted(tmp_path, monkeypatch, mnist_dir):
    """A run stopped (Ctrl-C) after the checkpoint of epoch 1: its folder."""
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        save(path, experiment, epoch, timing)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", interrupting_save)
    assert not run_experiment(SMALL, tmp_path, name="r").finished
    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", save)
    return tmp_path / "r"


def _rewrite_meta(path, change) -> None:
    """Rewrite checkpoint.npz's scalars with `change(meta)`, as another version would."""
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_new_checkpoints_and_summaries_carry_their_format_version(interrupted):
    with np.load(interrupted / "checkpoint.npz", allow_pickle=False) as saved:
        assert json.loads(str(saved["meta"]))["format_version"] == CHECKPOINT_FORMAT_VERSION == 2
    record = resume_run(interrupted)
    assert record.finished and record.format_version == RECORD_FORMAT_VERSION == 2
    assert json.loads((interrupted / "summary.json").read_text())["format_version"] == 2


def _as_version_1(meta) -> None:
    del meta["format_version"]
    meta["version"] = 1  # what checkpoints before format versions held


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (_as_version_1, "earlier version of mlp \\(checkpoint format 1"),
        (lambda meta: meta.pop("format_version"), "earlier version of mlp \\(checkpoint format 1"),
        (lambda meta: meta.update(format_version=3), "newer version of mlp \\(checkpoint format 3"),
        (lambda meta: meta.update(format_version="2"), "no valid format version"),
    ],
    ids=["version-1", "unversioned", "newer", "not-an-integer"],
)
def test_a_checkpoint_of_another_format_is_refused_with_what_to_do(interrupted, change, message):
    checkpoint = interrupted / "checkpoint.npz"
    _rewrite_meta(checkpoint, change)
    with pytest.raises(RunError, match=message) as error:
        resume_run(interrupted)
    text = str(error.value)
    assert str(checkpoint) in text and "--overwrite" in text and "mlp train --resume" in text
    with pytest.raises(RunError, match=message):  # what a sweep's restart does
        run_experiment(dataclasses.replace(SMALL, name="r"), interrupted.parent, if_exists="resume")
    assert checkpoint.exists()  # nothing was changed


def test_an_unreadable_checkpoint_is_a_clear_error(interrupted):
    (interrupted / "checkpoint.npz").write_bytes(b"not a zip file")
    with pytest.raises(RunError, match=r"not a readable checkpoint.*--overwrite"):
        resume_run(interrupted)


def test_the_command_the_refusal_gives_trains_the_run_again(interrupted, capsys):
    from mlp.cli import main

    _rewrite_meta(interrupted / "checkpoint.npz", _as_version_1)
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "mlp train: error:" in err and "Traceback" not in err
    command = re.search(r"train it again with `mlp (train [^`]+)`", err)
    assert command, err
    assert main([*shlex.split(command.group(1)), "--no-progress"]) == 0
    again = RunRecord.load(interrupted)
    assert again.finished and again.epochs.tolist() == [0, 1, 2, 3]
    reference = run_experiment(SMALL, interrupted.parent, name="reference")
    np.testing.assert_array_equal(again.stats, reference.stats)


@pytest.fixture
def version_1_record(tmp_path, mnist_dir):
    """A finished record as earlier versions wrote it: no format_version in summary.json."""
    record = run_experiment(dataclasses.replace(SMALL, epochs=2), tmp_path / "runs", name="old")
    summary = json.loads((record.path / "summary.json").read_text())
    del summary["format_version"]
    (record.path / "summary.json").write_text(json.dumps(summary, indent=2))
    return record.path


def test_a_version_1_record_reads_compares_and_plots(version_1_record, tmp_path, capsys):
    from mlp.cli import main

    record = RunRecord.load(version_1_record)
    assert record.finished and record.format_version == 1
    assert record.experiment_config().epochs == 2 and record.epochs.tolist() == [0, 1, 2]
    assert resume_run(version_1_record).finished  # finished: returned as it is
    assert main(["compare", str(version_1_record.parent)]) == 0
    assert "old" in capsys.readouterr().out
    assert main(["plot", str(version_1_record), "-o", str(tmp_path / "old.png")]) == 0
    assert (tmp_path / "old.png").stat().st_size > 0


def test_a_record_of_a_newer_format_is_refused(version_1_record):
    summary = json.loads((version_1_record / "summary.json").read_text())
    summary["format_version"] = RECORD_FORMAT_VERSION + 1
    (version_1_record / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(RunError, match="newer version of mlp \\(record format 3"):
        RunRecord.load(version_1_record)


def test_write_record_writes_the_same_kind_of_summary(tmp_path):
    stats = np.array([[2.0, 0.1], [1.0, 0.5], [0.5, 0.7]])
    keys = {"error(valid)": 0, "acc(valid)": 1}
    record = write_record(
        tmp_path / "w", {"label": "elsewhere"}, stats, keys, np.arange(3), {"seed": 1}, curves=False
    )
    assert record.finished and record.format_version == RECORD_FORMAT_VERSION
    assert record.summary["final"]["acc(valid)"] == 0.7 and record.summary["seed"] == 1
    assert record.summary["name"] == "w" and "finished_at" in record.summary
    assert record.label() == "elsewhere"
    np.testing.assert_array_equal(record.stats, stats)
