"""`mlp train` on the course's regression and autoencoder data sets: real-valued targets,
the sum-of-squares error, no accuracy column; small CCPP and Met Office files written
by the tests into a temporary data directory (no network)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from mlp.cli import main
from mlp.config import ConfigError, ExperimentConfig, build_experiment, config_from_dict
from mlp.layers import RadialBasisFunctionLayer
from mlp.runs import RunRecord

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def write_ccpp(folder, num_train: int = 300, num_valid: int = 100) -> None:
    """A small ``ccpp_data.npz``: four whitened-looking inputs, one smooth target."""
    rng = np.random.RandomState(1)

    def split(rows: int) -> tuple[np.ndarray, np.ndarray]:
        inputs = rng.normal(size=(rows, 4))
        return inputs, 0.8 * inputs[:, :1] + np.sin(inputs[:, 1:2])

    (train_inputs, train_targets), (valid_inputs, valid_targets) = (
        split(num_train),
        split(num_valid),
    )
    np.savez(
        folder / "ccpp_data.npz",
        train_inputs=train_inputs,
        train_targets=train_targets,
        valid_inputs=valid_inputs,
        valid_targets=valid_targets,
    )


def write_metoffice(folder, years: int = 3) -> None:
    """A small ``HadSSP_daily_qc.txt`` in the Met Office's layout: three header lines,
    then per month its year, month and 31 readings (-99.99 after the month's end)."""
    rng = np.random.RandomState(2)
    lines = [
        "Daily rain (test file).",
        "A reference.",
        "Format=Year, Month, 1-31 daily precipitation values.",
    ]
    for year in range(1931, 1931 + years):
        for month in range(1, 13):
            values = np.round(rng.gamma(1.0, 3.0, size=31), 2)
            values[30:] = -99.99
            lines.append(f"{year:5d}{month:5d}" + "".join(f"{v:7.2f}" for v in values))
    (folder / "HadSSP_daily_qc.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    folder = tmp_path / "data"
    folder.mkdir()
    write_ccpp(folder)
    write_metoffice(folder)
    monkeypatch.setenv("MLP_DATA_DIR", str(folder))
    return folder


def stats_columns(run) -> list[str]:
    with open(run / "stats.csv", newline="") as handle:
        return next(csv.reader(handle))


QUICK = ["--epochs", "2", "--batch-size", "50", "--no-progress"]


def test_ccpp_run_records_errors_and_no_accuracy(data_dir, tmp_path, capsys):
    runs = tmp_path / "runs"
    args = ["--dataset", "ccpp", "--error", "sum_of_squares", "--hidden", "10", "--rbf-grid", "4"]
    status = main(["train", *args, "--input-dims", "0,1", "--name", "c", "--runs-dir", str(runs)])
    assert status == 0
    assert stats_columns(runs / "c") == ["epoch", "error(train)", "error(valid)"]
    out = capsys.readouterr().out
    assert "error(valid)" in out and "acc" not in out
    record = RunRecord.load(runs / "c")
    assert record.finished and "acc(valid)" not in record.summary["final"]
    assert record.summary["architecture"] == "2x4 rbf-8-10-1 sigmoid"
    assert (runs / "c" / "curves.png").stat().st_size > 0
    config = record.experiment_config()
    assert config.input_dims == (0, 1) and config.rbf_grid == 4


def test_met_office_run_from_a_config_file(data_dir, tmp_path):
    runs = tmp_path / "runs"
    path = tmp_path / "met.toml"
    path.write_text(
        'dataset = "met-office"\nwindow_size = 6\nerror = "sum_of_squares"\nhidden = []\n'
        'rule = "adam"\n'
    )
    status = main(["train", "--config", str(path), "--name", "m", "--runs-dir", str(runs), *QUICK])
    assert status == 0
    assert stats_columns(runs / "m") == ["epoch", "error(train)", "error(valid)"]
    assert RunRecord.load(runs / "m").summary["architecture"] == "5-1 linear regression"


def test_met_office_split_leaves_no_reading_in_both(data_dir):
    config = config_from_dict(
        {"dataset": "met-office", "window_size": 4, "error": "sum_of_squares", "hidden": []}
    )
    experiment = build_experiment(config)
    train, valid = experiment.train_data, experiment.valid_data
    assert train.inputs.shape[1] == 3 and train.targets.shape[1] == 1
    total = train.num_examples + valid.num_examples + 3  # windows skipped at the boundary
    assert train.num_examples == int(0.9 * total)


def test_autoencoder_run_targets_its_inputs(mnist_dir, tmp_path):
    runs = tmp_path / "runs"
    args = ["--dataset", "mnist-autoencoder", "--error", "sum_of_squares", "--hidden", "16"]
    quick = ["--max-train-examples", "200", "--epochs", "1", "--no-progress", "--rule", "adam"]
    assert main(["train", *args, *quick, "--name", "ae", "--runs-dir", str(runs)]) == 0
    assert stats_columns(runs / "ae") == ["epoch", "error(train)", "error(valid)"]
    experiment = build_experiment(RunRecord.load(runs / "ae").experiment_config())
    inputs, targets = next(iter(experiment.train_data))
    np.testing.assert_array_equal(inputs, targets)
    assert experiment.model.fprop(inputs)[-1].shape == (100, 784)


def test_rbf_layer_spans_the_training_inputs(data_dir):
    config = ExperimentConfig(
        dataset="ccpp", error="sum_of_squares", hidden=(), rbf_grid=3, input_dims=(2,)
    )
    experiment = build_experiment(config)
    rbf = experiment.model.layers[0]
    assert isinstance(rbf, RadialBasisFunctionLayer)
    column = experiment.train_data.inputs[:, 0]
    np.testing.assert_allclose(rbf.intervals, [[column.min(), column.max()]], rtol=1e-6)
    assert experiment.model.layers[-1].weights.shape == (1, 3)


def test_resumed_regression_run_equals_an_uninterrupted_one(data_dir, tmp_path, interrupt_at_epoch):
    from mlp.runs import run_experiment

    config = ExperimentConfig(
        dataset="ccpp", error="sum_of_squares", hidden=(8,), rbf_grid=3, epochs=3, batch_size=50
    )
    whole = run_experiment(config, tmp_path / "runs", name="whole")
    interrupt_at_epoch(2)
    assert not run_experiment(config, tmp_path / "runs", name="cut").finished
    resumed = run_experiment(config, tmp_path / "runs", name="cut", if_exists="resume")
    assert resumed.finished
    np.testing.assert_array_equal(resumed.stats, whole.stats)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"dataset": "ccpp"}, "error 'cross_entropy_softmax' needs class targets"),
        ({"dataset": "met-office", "error": "sum_of_squares"}, "window_size must be set"),
        ({"window_size": 4}, "window_size applies to dataset 'met-office'"),
        ({"input_dims": [0]}, "input_dims applies to dataset 'ccpp'"),
        ({"rbf_grid": 3}, "rbf_grid applies to the regression data sets"),
        ({"dataset": "ccpp", "error": "sum_of_squares", "input_dims": [4]}, "input_dims must"),
        ({"dataset": "ccpp", "error": "sum_of_squares", "arch": "fc:5"}, "arch needs images"),
        ({"dataset": "ccpp", "error": "sum_of_squares", "test": True}, "test records"),
        (
            {"dataset": "ccpp", "error": "sum_of_squares", "rbf_grid": 3, "backend": "torch"},
            "rbf_grid needs backend 'numpy'",
        ),
    ],
)
def test_regression_keys_are_checked_up_front(values, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(values)


def test_bad_regression_flags_exit_2_naming_the_field(tmp_path, capsys):
    status = None
    try:
        status = main(["train", "--dataset", "ccpp", "--runs-dir", str(tmp_path)])
    except SystemExit as exit:
        status = exit.code
    assert status == 2
    err = capsys.readouterr().err
    assert "error" in err and "sum_of_squares" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_classification_configs_keep_their_names_and_widths():
    config = ExperimentConfig()
    assert config.architecture() == "784-100-100-10 sigmoid"
    assert config.default_name() == "sigmoid-100x100-sgd"
    assert config.data_dims() == (784, 10) and config.classifies()
    assert "input_dims" not in config.to_dict() and "rbf_grid" not in config.to_dict()


def test_torch_backend_trains_a_regression_without_accuracy(data_dir, tmp_path):
    pytest.importorskip("torch")
    runs = tmp_path / "runs"
    args = ["--dataset", "ccpp", "--error", "sum_of_squares", "--hidden", "5", "--backend", "torch"]
    assert (
        main(
            [
                "train",
                *args,
                "--epochs",
                "1",
                "--no-progress",
                "--name",
                "t",
                "--runs-dir",
                str(runs),
            ]
        )
        == 0
    )
    assert stats_columns(runs / "t") == ["epoch", "error(train)", "error(valid)"]
