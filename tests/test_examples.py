"""The examples of examples/README.md run as documented, in a quick mode (a small
subset, one epoch): `mlp train --config examples/...`, then the plotting script, which
writes its figure."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from mlp.cli import main
from test_cli import png_size
from test_regression_runs import write_ccpp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
QUICK = ["--epochs", "1", "--no-progress"]

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def script(name: str):
    """The module of examples/NAME.py, imported from its file."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.pop(spec.name, None)
    spec.loader.exec_module(module)
    return module


def test_ccpp_rbf_example_writes_the_predictions_figure(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    data.mkdir()
    write_ccpp(data, num_train=200, num_valid=60)
    monkeypatch.setenv("MLP_DATA_DIR", str(data))
    runs = tmp_path / "runs"
    config = str(EXAMPLES / "ccpp_rbf.toml")
    assert main(["train", "--config", config, "--runs-dir", str(runs), *QUICK]) == 0
    figure = tmp_path / "predictions.png"
    assert script("plot_regression").main([str(runs / "ccpp-rbf"), "-o", str(figure)]) == 0
    assert png_size(figure)[0] > 100
    assert "validation RMSE" in capsys.readouterr().out


def test_mnist_autoencoder_example_writes_the_reconstructions(mnist_dir, tmp_path):
    runs = tmp_path / "runs"
    config = str(EXAMPLES / "mnist_autoencoder.toml")
    quick = [*QUICK, "--max-train-examples", "200"]
    assert main(["train", "--config", config, "--runs-dir", str(runs), *quick]) == 0
    run = runs / "mnist-autoencoder"
    assert script("plot_autoencoder").main([str(run), "--count", "4"]) == 0
    width, height = png_size(run / "reconstructions.png")
    assert width > height > 100


def test_plot_scripts_refuse_an_unfinished_run(tmp_path):
    with pytest.raises(SystemExit, match=r"not a run record"):
        script("plot_regression").main([str(tmp_path)])
