"""The `mlp` command end to end on a small subset: train, plot, compare; bad flags and bad
TOML files are a clear message and exit status 2, never a traceback."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest

from mlp.cli import main
from mlp.runs import RunRecord


def png_size(path) -> tuple[int, int]:
    """Width and height of a PNG file, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


QUICK = ["--max-train-examples", "500", "--epochs", "2", "--no-progress"]


# Bitwise comparisons between runs need one BLAS thread count (see conftest.py).
# ...and MNIST in the data directory (skipped with MLP_OFFLINE=1 when it is missing, not
# downloaded).
pytestmark = pytest.mark.usefixtures("one_blas_thread", "mnist_dir")


def run_cli(args: list[str], capsys) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `mlp ARGS`, in this process."""
    try:
        status = main(args)
    except SystemExit as exit:
        status = exit.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    runs = tmp_path_factory.mktemp("runs")
    status = main(["train", "--hidden", "20", "--name", "sig", "--runs-dir", str(runs), *QUICK])
    assert status == 0
    config = runs / "relu.toml"
    config.write_text(
        'hidden = [20]\nactivation = "relu"\nrule = "adam"\nepochs = 5\ntest = true\n'
    )
    status = main(
        ["train", "--config", str(config), "--name", "relu", "--runs-dir", str(runs), *QUICK]
    )
    assert status == 0
    return runs


def test_train_writes_a_run_record_and_flags_override_the_file(two_runs):
    relu = RunRecord.load(two_runs / "relu")
    config = relu.experiment_config()
    # From the file: activation, rule and test; from the flags (which win): epochs.
    assert (config.activation, config.rule, config.test, config.epochs) == ("relu", "adam", True, 2)
    assert relu.finished and relu.epochs.tolist() == [0, 1, 2]
    assert 0 < relu.summary["test"]["acc"] <= 1
    sig = RunRecord.load(two_runs / "sig")
    assert sig.experiment_config().activation == "sigmoid" and sig.summary["test"] is None
    png_size(two_runs / "sig" / "curves.png")


def test_train_prints_a_summary(tmp_path, capsys):
    status, out, _ = run_cli(
        ["train", "--hidden", "none", "--runs-dir", str(tmp_path), "--name", "s", *QUICK], capsys
    )
    assert status == 0
    assert "s: 2 epochs; acc(valid)" in out and str(tmp_path / "s") in out


def test_plot_writes_a_png_of_several_runs(two_runs, tmp_path, capsys):
    output = tmp_path / "both.png"
    status, out, _ = run_cli(
        ["plot", str(two_runs / "sig"), str(two_runs / "relu"), "-o", str(output)], capsys
    )
    assert status == 0 and "2 run(s)" in out
    width, height = png_size(output)
    assert width > 800 and height > 300
    status, _, _ = run_cli(
        ["plot", str(two_runs), "-o", str(tmp_path / "acc.png"), "--metric", "acc", "--no-train"],
        capsys,
    )
    assert status == 0 and png_size(tmp_path / "acc.png")[0] > 300


@pytest.mark.parametrize("fmt", ["text", "markdown", "csv"])
def test_compare_tabulates_final_and_best_figures(two_runs, capsys, fmt):
    status, out, _ = run_cli(["compare", str(two_runs), "--format", fmt, "--sort", "acc"], capsys)
    assert status == 0
    lines = out.strip().splitlines()
    assert "final acc(valid)" in lines[0] and "best acc(valid) (epoch)" in lines[0]
    body = "\n".join(lines[1:])
    assert "sig" in body and "relu" in body and "784-20-10 relu" in body
    relu = RunRecord.load(two_runs / "relu")
    assert f"{relu.summary['test']['acc']:.4f}" in body


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--activation", "rleu"], "invalid choice: 'rleu'"),
        (["--rule", "adma"], "invalid choice: 'adma'"),
        (["--epochs", "0"], "argument --epochs: expected a positive integer"),
        (["--epochs", "ten"], "argument --epochs"),
        (["--learning-rate", "-1"], "argument --learning-rate"),
        (["--dropout", "1.5"], "argument --dropout"),
        (["--hidden", "10,x"], "argument --hidden"),
        (["--batch-size", "2.5"], "argument --batch-size"),
        (["--device", "cuda"], "needs backend 'torch'"),
        (["--hidden", "none", "--dropout", "0.5"], "dropout applies to hidden layers"),
        (["--max-train-examples", "10"], "at least batch_size"),
        (["--learnin-rate", "0.1"], "unrecognized arguments"),
        (["--resume", "runs/x", "--epochs", "3"], "--resume continues a run with its own config"),
    ],
)
def test_bad_flags_are_a_clear_message_and_status_2(tmp_path, capsys, args, message):
    status, _, err = run_cli(["train", "--runs-dir", str(tmp_path), *args], capsys)
    assert status == 2
    assert message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())  # nothing was started


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hidden = [100]\nlearning_rat = 0.1\n", "unknown key 'learning_rat'"),
        ('epochs = "ten"\n', "epochs must be an integer"),
        ("hidden = [100\nepochs = 3\n", "not valid TOML"),
        ("dropout = 2.0\n", "dropout"),
        ("[model]\nhidden = [1]\n", "unexpected table [model]"),
    ],
)
def test_bad_toml_is_a_clear_message_and_status_2(tmp_path, capsys, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    status, _, err = run_cli(
        ["train", "--config", str(path), "--runs-dir", str(tmp_path / "r")], capsys
    )
    assert status == 2
    assert message in err and "bad.toml" in err and "line" in err and "Traceback" not in err


def test_missing_config_file_and_existing_run_are_status_2(two_runs, tmp_path, capsys):
    status, _, err = run_cli(["train", "--config", str(tmp_path / "no.toml")], capsys)
    assert status == 2 and "does not exist" in err
    status, _, err = run_cli(
        ["train", "--name", "sig", "--runs-dir", str(two_runs), *QUICK], capsys
    )
    assert status == 2 and "already holds a finished run" in err
    status, _, err = run_cli(["train", "--resume", str(tmp_path)], capsys)
    assert status == 2 and "not a run record" in err


@pytest.mark.parametrize("command", ["plot", "compare"])
def test_plot_and_compare_refuse_what_is_not_a_run(tmp_path, capsys, command):
    status, _, err = run_cli([command, str(tmp_path / "absent")], capsys)
    assert status == 2 and "does not exist" in err and "Traceback" not in err


def test_resuming_a_finished_run_changes_nothing(two_runs, capsys):
    before = json.loads((two_runs / "sig" / "summary.json").read_text())
    status, out, _ = run_cli(["train", "--resume", str(two_runs / "sig")], capsys)
    assert status == 0 and "sig: 2 epochs" in out
    assert json.loads((two_runs / "sig" / "summary.json").read_text()) == before


def test_the_console_script_exits_2_without_a_traceback(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mlp.cli", "train", "--epochs", "-3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "argument --epochs" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()


def test_plot_writes_the_format_its_suffix_names_and_checks_the_folder(tmp_path, capsys):
    runs = tmp_path / "runs"
    assert run_cli(["train", *QUICK, "--runs-dir", str(runs), "--name", "a"], capsys)[0] == 0
    pdf = tmp_path / "curves.pdf"
    assert run_cli(["plot", str(runs / "a"), "-o", str(pdf)], capsys)[0] == 0
    assert pdf.read_bytes().startswith(b"%PDF")
    status, _, err = run_cli(
        ["plot", str(runs / "a"), "-o", str(tmp_path / "no" / "x.png")], capsys
    )
    assert status == 2 and "does not exist" in err
    status, _, err = run_cli(["plot", str(runs / "a"), "-o", str(tmp_path / "x.docx")], capsys)
    assert status == 2 and ".docx" in err


def test_data_fetch_forwards_its_flags(tmp_path, monkeypatch, capsys):
    """Each flag of `mlp data fetch` reaches the fetch: its folder, force and progress."""
    from mlp.datasets import SPLITS
    from mlp.datasets import cli as data_cli

    calls = []

    def recording_fetch(spec, directory, *, force, progress):
        calls.append({"name": spec.name, "directory": directory, "force": force})
        calls[-1]["progress"] = progress
        paths = {split: directory / f"{spec.name}-{split}.npz" for split in SPLITS}
        return paths, False

    monkeypatch.setattr(data_cli, "fetch_spec", recording_fetch)
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path / "default"))
    args = ["data", "fetch", "fashion-mnist", "--data-dir", str(tmp_path / "d")]
    status, out, _ = run_cli([*args, "--force", "--no-progress"], capsys)
    assert status == 0 and str(tmp_path / "d" / "fashion-mnist-train.npz") in out
    status, _, _ = run_cli(["data", "fetch"], capsys)
    assert status == 0
    assert calls == [
        {"name": "fashion-mnist", "directory": tmp_path / "d", "force": True, "progress": False},
        {"name": "mnist", "directory": tmp_path / "default", "force": False, "progress": True},
    ]


# --- swish: one layer class and one registry entry, usable everywhere --------------------

SWISH_QUICK = ["--max-train-examples", "200", "--batch-size", "50", "--epochs", "1"]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_with_swish_on_either_backend(tmp_path, capsys, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    args = ["train", "--activation", "swish", "--backend", backend, "--hidden", "16"]
    status, out, err = run_cli(
        [*args, *SWISH_QUICK, "--no-progress", "--runs-dir", str(tmp_path), "--name", "s"],
        capsys,
    )
    assert status == 0, err
    assert "s: 1 epochs; acc(valid)" in out
    record = RunRecord.load(tmp_path / "s")
    assert record.finished and record.experiment_config().activation == "swish"
    assert record.experiment_config().architecture() == "784-16-10 swish"
    assert 0 < record.summary["final"]["acc(valid)"] <= 1


def test_a_toml_config_and_a_sweep_with_swish(tmp_path, capsys):
    config = tmp_path / "swish.toml"
    config.write_text('hidden = [16]\nactivation = "swish"\n')
    runs = tmp_path / "runs"
    args = ["train", "--config", str(config), "--runs-dir", str(runs), "--name", "toml"]
    status, _, err = run_cli([*args, *SWISH_QUICK, "--no-progress"], capsys)
    assert status == 0, err
    assert RunRecord.load(runs / "toml").experiment_config().activation == "swish"

    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        'name = "acts"\n[base]\nepochs = 1\nmax_train_examples = 200\nbatch_size = 50\n'
        'hidden = [8]\n[grid]\nactivation = ["relu", "swish"]\n'
    )
    status, out, err = run_cli(
        ["sweep", str(sweep), "--runs-dir", str(runs), "--no-progress"], capsys
    )
    assert status == 0, err
    assert "ran 2 points" in out
    swept = RunRecord.load(runs / "acts" / "activation=swish")
    assert swept.finished and swept.experiment_config().activation == "swish"


# --- a small CNN from --arch (mlp.arch) ---------------------------------------------------

CNN_QUICK = ["--max-train-examples", "500", "--epochs", "1", "--no-progress"]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_train_a_small_cnn_from_arch(tmp_path, capsys, backend):
    if backend == "torch":
        pytest.importorskip("torch")
    args = ["train", "--arch", "conv:4x5, pool:2,fc:16", "--activation", "relu", "--rule", "adam"]
    status, out, err = run_cli(
        [*args, "--backend", backend, *CNN_QUICK, "--runs-dir", str(tmp_path), "--name", "c"],
        capsys,
    )
    assert status == 0, err
    assert "c: 1 epochs; acc(valid)" in out
    record = RunRecord.load(tmp_path / "c")
    config = record.experiment_config()
    assert config.arch == "conv:4x5,pool:2,fc:16"  # stored in its canonical form
    assert config.architecture() == "784 conv:4x5,pool:2,fc:16 10 relu"
    assert 0 < record.summary["final"]["acc(valid)"] <= 1


def test_arch_builds_the_layers_it_names():
    from mlp.config import ExperimentConfig, build_experiment

    config = ExperimentConfig(arch="conv:3x5,pool:2,conv:2x3,pool:5,fc:8", dropout=0.5)
    config.max_train_examples, config.batch_size = 100, 50
    names = [type(layer).__name__ for layer in build_experiment(config).model.layers]
    assert names == [
        "ReshapeLayer",
        "ConvolutionalLayer",
        "SigmoidLayer",
        "MaxPooling2DLayer",
        "ConvolutionalLayer",
        "SigmoidLayer",
        "MaxPooling2DLayer",
        "ReshapeLayer",
        "AffineLayer",
        "SigmoidLayer",
        "DropoutLayer",
        "AffineLayer",
    ]
    assert config.default_name() == "sigmoid-conv3x5-pool2-conv2x3-pool5-fc8-sgd"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("conv:32", "arch item 1, 'conv:32', is not conv:CxK, pool:P or fc:N"),
        ("conv:8x5,fc:0", "arch item 2, 'fc:0', needs sizes of at least 1"),
        ("fc:10,pool:2", "arch item 2, 'pool:2', follows an fc layer"),
        ("conv:8x29", "arch item 1, conv:8x29, gets images of 28x28, smaller than its 29x29"),
        ("conv:8x5,pool:2,conv:8x9,conv:2x5", "arch item 4, conv:2x5, gets images of 4x4"),
        ("conv:8x5,pool:5", "arch item 2, pool:5, gets images of 24x24"),
        ("conv:8x5,,fc:3", "arch item 2, '', is not"),
    ],
)
def test_bad_arch_is_a_clear_message_naming_the_flag(tmp_path, capsys, spec, message):
    status, _, err = run_cli(["train", "--runs-dir", str(tmp_path), "--arch", spec], capsys)
    assert status == 2
    assert "argument --arch" in err and message in err and "Traceback" not in err
    assert not any(tmp_path.iterdir())


def test_arch_in_a_toml_file(tmp_path, capsys):
    config = tmp_path / "cnn.toml"
    config.write_text('arch = "conv:8x5,pool:7"\n')
    status, _, err = run_cli(
        ["train", "--config", str(config), "--runs-dir", str(tmp_path)], capsys
    )
    assert status == 2
    assert "arch item 2, pool:7, gets images of 24x24" in err and "line 1" in err
