"""A run's diagnostic figures end to end: `mlp plot --layers/--weights/--confusion/
--mistakes/--histograms`, `mlp show`, and the finished model they read back
(`mlp.runs.model`); runs that lack what a figure needs are a one-line message and exit
status 2, never a traceback."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from mlp.cli import main
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.runs import RunError, RunRecord
from mlp.runs.layer_log import LayerStatsLog, write_activation_samples
from mlp.runs.model import model_of, predictions_of
from test_cli import png_size, run_cli

QUICK = ["--max-train-examples", "500", "--epochs", "2", "--no-progress"]

pytestmark = pytest.mark.usefixtures("one_blas_thread", "mnist_dir")

NAMES = ("AffineLayer", "SigmoidLayer", "AffineLayer", "SoftmaxLayer")


def write_layer_files(path, scale: float = 1.0) -> LayerStatsTable:
    """layers.csv and activations.npz as a 784-20-10 sigmoid run would record them."""
    log = LayerStatsLog(path / "layers.csv")
    log.write_header()
    rows = []
    for epoch in range(3):
        measurement = []
        for layer, name in enumerate(NAMES):
            values = [math.nan] * len(LAYER_COLUMNS)
            values[0] = scale * 10.0 ** (layer - 3) * (1 + epoch)
            values[3], values[4] = 0.5, 0.1
            if name == "AffineLayer":
                values[1] = 2 * values[0]
            if name == "SigmoidLayer":
                values[5] = 0.1 * epoch
            measurement.append((epoch, layer, name, values))
        log.append(LayerStatsTable.from_rows(measurement))
        rows += measurement
    rng = np.random.RandomState(0)
    samples = {e: {i: rng.randn(300) for i in range(len(NAMES))} for e in (0, 2)}
    write_activation_samples(path / "activations.npz", samples)
    return LayerStatsTable.from_rows(rows)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """sig: 784-20-10 sigmoid with layer files; soft: softmax regression without; ae: an
    autoencoder (a regression on images); unfinished: sig without its summary."""
    runs = tmp_path_factory.mktemp("runs")
    for name, flags in (
        ("sig", ["--hidden", "20"]),
        ("soft", ["--hidden", "none"]),
        ("ae", ["--hidden", "20", "--dataset", "mnist-autoencoder", "--error", "sum_of_squares"]),
    ):
        assert main(["train", *flags, "--name", name, "--runs-dir", str(runs), *QUICK]) == 0
    write_layer_files(runs / "sig")
    shutil.copytree(runs / "sig", runs / "twin")
    write_layer_files(runs / "twin", scale=1.5)
    shutil.copytree(runs / "sig", runs / "unfinished")
    (runs / "unfinished" / "summary.json").unlink()
    return runs


def test_model_of_a_finished_run_gives_its_recorded_accuracy(runs):
    record = RunRecord.load(runs / "soft")
    model = model_of(record)
    for param, saved in zip(model.params, record.params(), strict=True):
        np.testing.assert_array_equal(param, saved)
    inputs, targets, probabilities = predictions_of(record, "valid")
    assert inputs.shape == (10_000, 784) and targets.shape == (10_000,)
    assert probabilities.shape == (10_000, 10)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    accuracy = np.mean(probabilities.argmax(axis=1) == targets)
    assert accuracy == pytest.approx(record.summary["final"]["acc(valid)"], abs=1e-12)
    assert predictions_of(record, "test")[2].shape == (10_000, 10)


def test_model_of_refuses_what_it_cannot_rebuild(runs):
    with pytest.raises(RunError, match=r"has not finished.*--resume"):
        model_of(RunRecord.load(runs / "unfinished"))
    with pytest.raises(RunError, match="no confusion matrix"):
        predictions_of(RunRecord.load(runs / "ae"))
    with pytest.raises(ValueError, match="split"):
        predictions_of(RunRecord.load(runs / "soft"), "train")
    with pytest.raises(TypeError, match="record"):
        model_of(str(runs / "soft"))


@pytest.mark.parametrize(
    ("flag", "run"),
    [
        ("--weights", "soft"),
        ("--confusion", "soft"),
        ("--mistakes", "sig"),
        ("--histograms", "sig"),
        ("--layers", "sig"),
    ],
)
def test_plot_draws_each_diagnostic_figure(runs, tmp_path, capsys, flag, run):
    output = tmp_path / "figure.png"
    status, out, err = run_cli(["plot", flag, str(runs / run), "-o", str(output)], capsys)
    assert status == 0, err
    assert f"{output}: 1 run(s)" in out
    width, height = png_size(output)
    assert width > 300 and height > 200


def test_plot_layers_compares_several_runs(runs, tmp_path, capsys):
    output = tmp_path / "compare.png"
    args = ["plot", "--layers", str(runs / "sig"), str(runs / "twin"), "-o", str(output)]
    status, out, _ = run_cli([*args, "--title", "numpy and torch"], capsys)
    assert status == 0 and "2 run(s)" in out
    assert png_size(output)[0] > 800


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--layers", "soft"], "train it with `mlp train --layer-stats`"),
        (["--histograms", "soft"], "train it with `mlp train --layer-stats`"),
        (["--confusion", "ae"], "no confusion matrix"),
        (["--mistakes", "unfinished"], "has not finished"),
        (["--weights", "unfinished"], "mlp train --resume"),
        (["--weights", "soft", "sig"], "--weights draws one run; got 2 runs"),
        (["--weights", "--confusion", "soft"], "not allowed with argument"),
        (["--confusion", "soft", "--split", "train"], "invalid choice"),
    ],
)
def test_plot_refuses_what_a_run_cannot_show(runs, tmp_path, capsys, args, message):
    args = [str(runs / a) if a in ("soft", "sig", "ae", "unfinished") else a for a in args]
    status, _, err = run_cli(["plot", *args, "-o", str(tmp_path / "x.png")], capsys)
    assert status == 2 and message in err
    assert "Traceback" not in err and len(err.strip().splitlines()[-1]) > 10
    assert not (tmp_path / "x.png").exists()


def test_show_writes_every_figure_that_applies(runs, tmp_path, capsys):
    status, out, err = run_cli(["show", str(runs / "sig")], capsys)
    assert status == 0
    names = ["curves", "layers", "histograms", "weights", "confusion", "mistakes"]
    expected = [str(runs / "sig" / "figures" / f"{n}.png") for n in names]
    assert out.split() == expected
    for path in expected:
        png_size(runs / "sig" / "figures" / path.rsplit("/", 1)[1])
    status, out, err = run_cli(["show", str(runs / "ae"), "-o", str(tmp_path / "ae")], capsys)
    assert status == 0
    assert [p.rsplit("/", 1)[1] for p in out.split()] == ["curves.png", "weights.png"]
    assert "skipped confusion: not a classifier" in err and "--layer-stats" in err
    status, out, err = run_cli(
        ["show", str(runs / "unfinished"), "-o", str(tmp_path / "u")], capsys
    )
    assert status == 0 and "layers.png" in out and "weights.png" not in out
    assert "skipped weights" in err and "has not finished" in err


def test_show_refuses_what_is_not_a_run(tmp_path, capsys):
    status, _, err = run_cli(["show", str(tmp_path / "missing")], capsys)
    assert status == 2 and "mlp show: error:" in err and "Traceback" not in err
