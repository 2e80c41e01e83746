"""Per-layer statistics in run records: the shared table (mlp.layer_stats), layers.csv
and activations.npz (mlp.runs.layer_log), `run_experiment` with `layer_stats`, resuming
it, and `mlp train --layer-stats`."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import mlp.runs.training
from mlp.cli import main
from mlp.config import ConfigError, ExperimentConfig, config_from_dict
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.runs import RunError, RunRecord, RunRecordError, resume_run, run_experiment
from mlp.runs.layer_log import (
    HEADER,
    LayerStatsLog,
    read_activation_samples,
    read_layer_stats,
    write_activation_samples,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


def _table(epoch: int = 0, layers: int = 3) -> LayerStatsTable:
    values = [[float(epoch + i + k / 7) for k in range(len(LAYER_COLUMNS))] for i in range(layers)]
    values[0][2] = math.nan
    values[1][5] = math.inf
    return LayerStatsTable.from_rows((epoch, i, f"Layer{i}", row) for i, row in enumerate(values))


def _same(a: LayerStatsTable, b: LayerStatsTable) -> None:
    assert a.epochs.tolist() == b.epochs.tolist() and a.layers.tolist() == b.layers.tolist()
    assert a.names == b.names
    np.testing.assert_array_equal(a.values, b.values)  # NaN where NaN, bit for bit


# --- the table and the files -------------------------------------------------------------


def test_the_table_refuses_bad_shapes_and_names():
    with pytest.raises(ValueError, match="values must have shape"):
        LayerStatsTable(np.zeros(2), np.zeros(2), ("A", "B"), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one entry per row"):
        LayerStatsTable(np.zeros(2), np.zeros(1), ("A", "B"), np.zeros((2, len(LAYER_COLUMNS))))
    with pytest.raises(TypeError, match="names must be strings"):
        LayerStatsTable(np.zeros(1), np.zeros(1), (3,), np.zeros((1, len(LAYER_COLUMNS))))
    with pytest.raises(ValueError, match="unknown layer statistic"):
        _table().column("gradient")


def test_the_table_reads_series_by_layer():
    table = LayerStatsTable.from_rows([*_table(2).rows(), *_table(0).rows()])
    epochs, values = table.series(1, "activation_mean")
    assert epochs.tolist() == [0, 2] and values.tolist() == [1 + 3 / 7, 3 + 3 / 7]
    assert table.measured_epochs().tolist() == [0, 2]
    assert table.layer_names() == {0: "Layer0", 1: "Layer1", 2: "Layer2"}
    assert table.applies("update_ratio") == [1, 2]
    assert len(LayerStatsTable.from_rows([])) == 0


def test_layers_csv_round_trips_bit_for_bit_with_nan_and_inf(tmp_path):
    log = LayerStatsLog(tmp_path / "layers.csv")
    log.write_header()
    log.append(_table(0))
    log.append(_table(5))
    back = read_layer_stats(tmp_path / "layers.csv")
    _same(back, LayerStatsTable.from_rows([*_table(0).rows(), *_table(5).rows()]))
    log.write_header(_table(0))  # a fresh start with some rows
    _same(read_layer_stats(tmp_path / "layers.csv"), _table(0))


def test_a_line_cut_short_is_ignored_and_a_damaged_file_named(tmp_path):
    path = tmp_path / "layers.csv"
    log = LayerStatsLog(path)
    log.write_header(_table(0))
    with open(path, "a") as handle:
        handle.write("1,0,Affine,0.5,0.")  # killed while writing
    _same(read_layer_stats(path), _table(0))
    path.write_text("epoch,layer\n0,0\n")
    with pytest.raises(RunRecordError, match=r"layers\.csv"):
        read_layer_stats(path)
    path.write_bytes(b"\xff\xfe binary")
    with pytest.raises(RunRecordError, match=r"layers\.csv"):
        read_layer_stats(path)
    with pytest.raises(RunError, match="no layer statistics"):
        read_layer_stats(tmp_path / "missing.csv")
    with pytest.raises(TypeError, match="LayerStatsTable"):
        log.append([1, 2])
    with pytest.raises(ValueError, match="class name"):
        log.append(LayerStatsTable.from_rows([(0, 0, "not a name", [0.0] * len(LAYER_COLUMNS))]))


def test_activation_samples_round_trip_and_damage_is_named(tmp_path):
    path = tmp_path / "activations.npz"
    samples = {0: {0: np.arange(5, dtype=np.float32), 2: np.array([np.nan], np.float32)}}
    samples[4] = {0: np.ones(3, np.float32)}
    write_activation_samples(path, samples)
    back = read_activation_samples(path)
    assert sorted(back) == [0, 4] and sorted(back[0]) == [0, 2]
    np.testing.assert_array_equal(back[0][2], samples[0][2])
    path.write_bytes(path.read_bytes()[:40])  # cut short
    with pytest.raises(RunRecordError, match=r"activations\.npz"):
        read_activation_samples(path)
    np.savez(tmp_path / "odd.npz", something=np.zeros(2))
    with pytest.raises(RunRecordError, match=r"epoch_E\.layer_I"):
        read_activation_samples(tmp_path / "odd.npz")


# --- run records -------------------------------------------------------------------------

LAYERED = ExperimentConfig(
    hidden=(16, 16),
    activation="relu",
    rule="adam",
    dropout=0.2,
    epochs=4,
    batch_size=50,
    max_train_examples=300,
    stats_interval=1,
    seed=3,
    layer_stats=True,
)


@pytest.fixture(scope="module")
def layered(tmp_path_factory, mnist_dir) -> RunRecord:
    return run_experiment(LAYERED, tmp_path_factory.mktemp("layered"), name="full")


def test_a_run_with_layer_stats_records_them_and_trains_the_same(layered, tmp_path):
    table = layered.layer_stats()
    assert table is not None and table.measured_epochs().tolist() == [0, 1, 2, 3, 4]
    names = [n for _, n in sorted(table.layer_names().items())]
    assert names == ["AffineLayer", "ReluLayer", "DropoutLayer"] * 2 + ["AffineLayer"]
    assert len(table) == 5 * len(names)
    assert sorted(layered.activation_samples()) == [0, 4]
    plain = run_experiment(dataclasses.replace(LAYERED, layer_stats=False), tmp_path, name="p")
    assert plain.layer_stats() is None and plain.activation_samples() == {}
    assert (plain.path / "stats.csv").read_text() == (layered.path / "stats.csv").read_text()
    for a, b in zip(plain.params(), layered.params(), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("before_checkpoint", [False, True])
def test_a_resumed_run_records_the_same_layer_statistics(
    layered, tmp_path, monkeypatch, before_checkpoint
):
    save = mlp.runs.training.save_checkpoint

    def interrupting_save(path, experiment, epoch, timing):
        if epoch == 2 and not before_checkpoint:
            save(path, experiment, epoch, timing)
        if epoch == 2:
            raise KeyboardInterrupt
        save(path, experiment, epoch, timing)

    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", interrupting_save)
    stopped = run_experiment(LAYERED, tmp_path, name="r")
    assert not stopped.finished
    assert stopped.layer_stats().measured_epochs().tolist() == [0, 1, 2]
    monkeypatch.setattr(mlp.runs.training, "save_checkpoint", save)
    resumed = resume_run(tmp_path / "r")
    assert resumed.finished
    assert (resumed.path / "layers.csv").read_text() == (layered.path / "layers.csv").read_text()
    ours, theirs = resumed.activation_samples(), layered.activation_samples()
    assert sorted(ours) == sorted(theirs)
    for epoch in ours:
        for layer in ours[epoch]:
            np.testing.assert_array_equal(ours[epoch][layer], theirs[epoch][layer])


def test_the_interval_and_a_damaged_record(tmp_path, mnist_dir):
    config = dataclasses.replace(LAYERED, layer_stats_interval=3, epochs=6, stats_interval=2)
    record = run_experiment(config, tmp_path, name="k")
    assert record.layer_stats().measured_epochs().tolist() == [0, 3, 6]
    (record.path / "layers.csv").write_text("not,the,header\n")
    with pytest.raises(RunRecordError, match=r"layers\.csv"):
        record.layer_stats()
    (record.path / "activations.npz").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(RunRecordError, match=r"activations\.npz"):
        record.activation_samples()


def test_the_config_fields_are_checked():
    assert config_from_dict({"layer_stats": True, "layer_stats_interval": 2}).layer_stats
    with pytest.raises(ConfigError, match="layer_stats_interval"):
        config_from_dict({"layer_stats_interval": -1})
    with pytest.raises(ConfigError, match="layer_stats"):
        config_from_dict({"layer_stats": "yes"})
    assert f"{HEADER}".startswith("epoch,layer,name,output_grad_norm")


def test_mlp_train_layer_stats_writes_layers_csv(tmp_path, capsys, mnist_dir):
    args = ["train", "--hidden", "8", "--max-train-examples", "200", "--epochs", "2"]
    args += ["--no-progress", "--layer-stats", "--runs-dir", str(tmp_path), "--name", "c"]
    assert main(args) == 0
    record = RunRecord.load(tmp_path / "c")
    table = record.layer_stats()
    assert table is not None and table.measured_epochs().tolist() == [0, 1, 2]
    assert table.names[:3] == ("AffineLayer", "SigmoidLayer", "AffineLayer")
    assert record.experiment_config().layer_stats is True
