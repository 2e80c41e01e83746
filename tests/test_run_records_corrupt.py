"""Damaged and hand-edited run records: every file of a record (checkpoint.npz,
stats.csv, summary.json, config.toml) is read through one loader, so whatever was done
to it, `mlp train --resume`, `mlp compare` and `mlp plot` end in one line naming the file
and what to do (exit status 2), never a traceback; a run folder in which nothing was
trained yet starts again with the command that started it."""

from __future__ import annotations

import dataclasses
import io
import json
import shutil

import numpy as np
import pytest

import mlp.runs
from mlp.cli import main
from mlp.config import ConfigError, ExperimentConfig, to_toml
from mlp.runs import RunError, RunRecord, RunRecordError, resume_run, run_experiment

pytestmark = pytest.mark.usefixtures("one_blas_thread", "mnist_dir")

SMALL = ExperimentConfig(hidden=(8,), epochs=3, max_train_examples=200, stats_interval=1, seed=5)
# The flags that give SMALL on the command line.
SMALL_FLAGS = [
    "--hidden",
    "8",
    "--epochs",
    "3",
    "--max-train-examples",
    "200",
    "--seed",
    "5",
    "--no-progress",
]


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    """(a run stopped after the checkpoint of epoch 1, a finished run): their folders,
    made once; tests work on copies."""
    root = tmp_path_factory.mktemp("records")
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        save(path, experiment, epoch, timing)
        if epoch == 1:
            raise KeyboardInterrupt

    mlp.runs.training.save_checkpoint = interrupting_save
    try:
        assert not run_experiment(SMALL, root, name="interrupted").finished
    finally:
        mlp.runs.training.save_checkpoint = save
    assert run_experiment(SMALL, root, name="finished").finished
    return root / "interrupted", root / "finished"


@pytest.fixture
def interrupted(records, tmp_path):
    return shutil.copytree(records[0], tmp_path / "r")


@pytest.fixture
def finished(records, tmp_path):
    return shutil.copytree(records[1], tmp_path / "done")


def _one_line_error(capsys, command: str) -> str:
    """The error `mlp COMMAND` printed: one line, no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and lines[0].startswith(f"mlp {command}: error: "), err
    return lines[0]


# --- checkpoint.npz -----------------------------------------------------------------------


def _arrays(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as saved:
        return {name: saved[name] for name in saved.files}


def _rewrite(path, change) -> None:
    """Rewrite checkpoint.npz with `change(arrays, meta)` applied to its entries."""
    arrays = _arrays(path)
    original = arrays["meta"]
    meta = json.loads(str(original))
    change(arrays, meta)
    if arrays.get("meta") is original:  # not removed or replaced by `change`
        arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def _set_meta(key, value):
    return lambda arrays, meta: meta.update({key: value})


def _one_array() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    return buffer.getvalue()


BYTES = {
    "garbage": (lambda data: b"\x00\xffnot a checkpoint" * 50, r"is not an \.npz archive"),
    "empty": (lambda data: b"", r"is empty"),
    "truncated": (lambda data: data[: len(data) // 2], r"is not an \.npz archive"),
    "single-array": (lambda data: _one_array(), r"holds a single array, not an \.npz archive"),
}

EDITS = {
    "no-meta": (lambda arrays, meta: arrays.pop("meta"), r"has no 'meta' entry"),
    "no-parameter": (lambda arrays, meta: arrays.pop("param_1"), r"has no array 'param_1'"),
    "meta-not-json": (
        lambda arrays, meta: arrays.update(meta=np.array("{epoch: 1")),
        r"'meta' entry that is not JSON",
    ),
    "meta-a-list": (
        lambda arrays, meta: arrays.update(meta=np.array("[1, 2]")),
        r"'meta' entry that is not a JSON object",
    ),
    "meta-lacks-epoch": (lambda arrays, meta: meta.pop("epoch"), r"has no entry meta\['epoch'\]"),
    "epoch-past-the-end": (_set_meta("epoch", 99), r"is of epoch 99, outside the run's 0 \.\. 3"),
    "epoch-negative": (_set_meta("epoch", -1), r"is of epoch -1, outside"),
    "epoch-a-string": (_set_meta("epoch", "1"), r"meta\['epoch'\] = '1', not an integer"),
    "rng-slots-a-list": (_set_meta("rng_slots", []), r"meta\['rng_slots'\] = \[\], not a table"),
    "rule-state-missing": (
        lambda arrays, meta: meta["rule"]["scalars"].clear(),
        r"has no learning-rule state \['step_count'\]",
    ),
    "train-order-cut": (
        lambda arrays, meta: arrays.update(train_order=arrays["train_order"][:5]),
        r"holds a training data state that does not fit",
    ),
    "generator-lacks-a-field": (
        lambda arrays, meta: meta["rngs"][0].pop("pos"),
        r"has no entry meta\['rngs'\]\[0\]\['pos'\]",
    ),
}


def _damage(checkpoint, case: str) -> str:
    """Damage `checkpoint` as `case` says; returns the message expected."""
    if case in BYTES:
        change, message = BYTES[case]
        checkpoint.write_bytes(change(checkpoint.read_bytes()))
    else:
        edit, message = EDITS[case]
        _rewrite(checkpoint, edit)
    return message


@pytest.mark.parametrize("case", [*BYTES, *EDITS])
def test_a_damaged_checkpoint_is_refused_naming_it_and_what_to_do(interrupted, case):
    checkpoint = interrupted / "checkpoint.npz"
    message = _damage(checkpoint, case)
    before = checkpoint.read_bytes()
    with pytest.raises(RunRecordError, match=message) as error:
        resume_run(interrupted)
    text = str(error.value)
    assert text.startswith(f"{checkpoint} ") and "--overwrite" in text, text
    assert error.value.path == checkpoint and isinstance(error.value, RunError)
    assert checkpoint.read_bytes() == before  # nothing was changed


@pytest.mark.parametrize("case", ["garbage", "empty", "no-parameter", "epoch-past-the-end"])
def test_mlp_train_resume_on_a_damaged_checkpoint_is_one_line_and_status_2(
    interrupted, capsys, case
):
    message = _damage(interrupted / "checkpoint.npz", case)
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 2
    line = _one_line_error(capsys, "train")
    assert str(interrupted / "checkpoint.npz") in line and "--overwrite" in line
    with pytest.raises(RunRecordError, match=message):
        resume_run(interrupted)


def test_a_damaged_stats_file_or_config_refuses_to_resume(interrupted, capsys):
    (interrupted / "stats.csv").write_bytes(b"epoch,\xff\xfe\x00binary")
    assert main(["train", "--resume", str(interrupted), "--no-progress"]) == 2
    assert "stats.csv is not ascii text" in _one_line_error(capsys, "train")
    (interrupted / "config.toml").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(RunRecordError, match=r"config.toml is not utf-8 text .*remove the folder"):
        resume_run(interrupted)
    (interrupted / "config.toml").write_text('hidden = "many"\n')
    with pytest.raises(RunRecordError, match=r"config.toml is not an experiment config .*hidden"):
        resume_run(interrupted)


# --- stats.csv, summary.json and config.toml, read by mlp compare and mlp plot -----------

RECORD_DAMAGE = {
    "stats-binary": ("stats.csv", b"\x00\x01\xff\xfe" * 20, r"stats.csv is not ascii text"),
    "stats-no-header": ("stats.csv", b"1,2,3\n", r"stats.csv has no header line"),
    "summary-binary": ("summary.json", b"\xff\xd8\xff\xe0", r"summary.json is not utf-8 text"),
    "summary-not-json": ("summary.json", b"{final: 1", r"summary.json is not valid JSON"),
    "summary-a-list": ("summary.json", b"[]", r"summary.json holds a JSON list, not an object"),
    "summary-final-a-number": (
        "summary.json",
        b'{"final": 5}',
        r"summary.json has 'final' = 5, not a table",
    ),
    "summary-without-best": (
        "summary.json",
        b'{"final": {}, "epochs": 3}',
        r"summary.json has no entry 'best'",
    ),
    "summary-best-a-number": (
        "summary.json",
        b'{"final": {}, "best": {"acc(valid)": 3}, "epochs": 3}',
        r"summary.json has 'best'\['acc\(valid\)'\] = 3, not a table",
    ),
    "summary-final-a-string": (
        "summary.json",
        b'{"final": {"acc(valid)": "high"}, "best": {}, "epochs": 3}',
        r"summary.json has 'final'\['acc\(valid\)'\] = 'high', not a number",
    ),
    "config-binary": ("config.toml", b"\x80\x81\x82", r"config.toml is not utf-8 text"),
    "config-not-toml": ("config.toml", b"hidden = [8", r"config.toml is not valid TOML"),
}


@pytest.mark.parametrize("case", list(RECORD_DAMAGE))
def test_a_damaged_record_file_is_refused_by_compare_and_plot(finished, tmp_path, capsys, case):
    name, data, message = RECORD_DAMAGE[case]
    (finished / name).write_bytes(data)
    with pytest.raises(RunRecordError, match=message) as error:
        RunRecord.load(finished)
    assert error.value.path == finished / name
    fix = "remove that file" if name == "summary.json" else "remove the folder"
    assert fix in str(error.value)
    assert main(["compare", str(finished)]) == 2
    assert str(finished / name) in _one_line_error(capsys, "compare")
    assert main(["plot", str(finished), "-o", str(tmp_path / "p.png")]) == 2
    assert str(finished / name) in _one_line_error(capsys, "plot")
    assert not (tmp_path / "p.png").exists()


def test_the_fix_for_a_damaged_summary_trains_the_run_again(finished, capsys):
    reference = RunRecord.load(finished)
    (finished / "summary.json").write_bytes(b"[]")
    with pytest.raises(RunRecordError, match=r"remove that file and run `mlp train --resume"):
        RunRecord.load(finished)
    (finished / "summary.json").unlink()
    assert main(["train", "--resume", str(finished), "--no-progress"]) == 0
    again = RunRecord.load(finished)
    assert again.finished
    np.testing.assert_array_equal(again.stats, reference.stats)


def test_damaged_final_parameters_are_a_clear_error(finished):
    (finished / "params.npz").write_bytes(b"")
    with pytest.raises(RunRecordError, match=r"params.npz is empty; train it again with"):
        RunRecord.load(finished).params()


def test_plot_on_a_regular_file_says_it_is_not_a_run_folder(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert main(["plot", str(path), "-o", str(tmp_path / "p.png")]) == 2
    line = _one_line_error(capsys, "plot")
    assert f"{path} is a file, not a run folder" in line and "does not exist" not in line
    assert main(["compare", str(path)]) == 2
    assert "is a file, not a run folder" in _one_line_error(capsys, "compare")


# --- a run folder in which nothing was trained yet ----------------------------------------


def _train_command(runs_dir) -> list[str]:
    return ["train", "--runs-dir", str(runs_dir), "--name", "r", *SMALL_FLAGS]


def test_a_folder_left_with_only_its_lock_restarts_with_the_same_command(tmp_path, capsys):
    # What a kill -9 while the data load leaves: the lock is taken first.
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / ".lock").write_text("")
    assert main(["train", "--resume", str(tmp_path / "r"), "--no-progress"]) == 2
    line = _one_line_error(capsys, "train")
    assert "nothing was trained in" in line and "without --resume" in line
    assert "--resume " + str(tmp_path / "r") not in line  # no circle back to --resume
    assert main(_train_command(tmp_path)) == 0
    record = RunRecord.load(tmp_path / "r")
    assert record.finished and record.epochs.tolist() == [0, 1, 2, 3]
    reference = run_experiment(SMALL, tmp_path, name="reference")
    np.testing.assert_array_equal(record.stats, reference.stats)


def test_a_folder_left_with_only_a_config_restarts_with_the_same_command(tmp_path, capsys):
    path = tmp_path / "r"
    path.mkdir()
    (path / ".lock").write_text("")
    (path / "config.toml").write_text(to_toml(dataclasses.replace(SMALL, name="r").to_dict()))
    assert main(_train_command(tmp_path)) == 0
    assert RunRecord.load(path).finished


def test_a_folder_with_nothing_trained_but_another_config_is_still_refused(tmp_path, capsys):
    path = tmp_path / "r"
    path.mkdir()
    other = dataclasses.replace(SMALL, name="r", seed=6)
    (path / "config.toml").write_text(to_toml(other.to_dict()))
    with pytest.raises(RunError, match=r"holds a run with a different config.*--overwrite"):
        run_experiment(SMALL, tmp_path, name="r")
    assert main(_train_command(tmp_path)) == 2
    assert "different config" in _one_line_error(capsys, "train")


def test_a_folder_being_trained_is_not_restarted(tmp_path):
    path = tmp_path / "r"
    with mlp.runs.training._exclusive(path):  # as a process loading its data holds it
        with pytest.raises(RunError, match="being trained by another process"):
            run_experiment(SMALL, tmp_path, name="r")
    assert not path.exists()


# --- sizes that cannot fit ------------------------------------------------------------------


def test_an_impossible_size_is_refused_before_anything_is_built(tmp_path, capsys):
    with pytest.raises(SystemExit, match=r"^2$"):  # a config error: parser.error, as for flags
        main(["train", "--runs-dir", str(tmp_path), "--hidden", "1000000000"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "MemoryError" not in err
    assert "mlp train: error: this model needs about" in err
    assert "--hidden" in err and "--batch-size" in err and "--max-memory-gb" in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_memory_limit_is_a_flag_a_key_and_an_environment_variable(monkeypatch, tmp_path):
    config = ExperimentConfig(hidden=(2000, 2000), rule="adam")
    estimate = config.memory_estimate()
    assert estimate["total"] == sum(v for k, v in estimate.items() if k != "total")
    assert estimate["rule state"] == 4 * estimate["parameters"]  # gradients twice, m and v
    config.check_memory()  # about 0.5 GB: within the default 8
    small_limit = dataclasses.replace(config, max_memory_gb=0.1)
    with pytest.raises(ConfigError, match=r"needs about 0\.\d+ GB .* max_memory_gb \(0\.1 GB\)"):
        small_limit.check_memory()
    with pytest.raises(ConfigError, match=r"more than max_memory_gb \(0\.1 GB\)"):
        run_experiment(small_limit, tmp_path)
    monkeypatch.setenv("MLP_MAX_MEMORY_GB", "0.1")
    with pytest.raises(ConfigError, match=r"more than max_memory_gb \(0\.1 GB\)"):
        config.check_memory()
    dataclasses.replace(config, max_memory_gb=1.0).check_memory()  # the key wins
    monkeypatch.setenv("MLP_MAX_MEMORY_GB", "lots")
    with pytest.raises(ConfigError, match=r"\$MLP_MAX_MEMORY_GB must be a positive number"):
        config.check_memory()
    assert list(tmp_path.iterdir()) == []


def test_the_memory_limit_does_not_make_a_run_another(tmp_path):
    first = run_experiment(dataclasses.replace(SMALL, epochs=1), tmp_path, name="r")
    same = dataclasses.replace(SMALL, epochs=1, max_memory_gb=2.0)
    kept = run_experiment(same, tmp_path, name="r", if_exists="resume")
    assert kept.summary["finished_at"] == first.summary["finished_at"]
