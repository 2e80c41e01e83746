"""mlp sweep: grids and random searches of run records, in parallel and on Dask."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from mlp.config import config_from_dict
from mlp.runs import RunRecord, run_experiment
from mlp.sweep import SweepError, load_sweep, run_sweep, sweep_from_dict

BASE = {"epochs": 2, "max_train_examples": 400, "batch_size": 50, "stats_interval": 1, "seed": 5}
GRID = {"hidden": [[16], [16, 16]], "activation": ["sigmoid", "relu"]}


def _sweep(name: str = "tiny"):
    return sweep_from_dict({"name": name, "base": BASE, "grid": GRID})


def _stats(folder: Path) -> np.ndarray:
    return RunRecord.load(folder).stats


def test_grid_points_and_names():
    sweep = _sweep()
    assert [c.name for c in sweep.configs] == [
        "hidden=16+activation=sigmoid",
        "hidden=16+activation=relu",
        "hidden=16x16+activation=sigmoid",
        "hidden=16x16+activation=relu",
    ]
    assert all(c.epochs == 2 for c in sweep.configs)


def test_sweep_with_two_jobs_equals_the_runs_made_one_by_one(tmp_path):
    sweep = _sweep()
    result = run_sweep(sweep, tmp_path / "sweeps", jobs=2, progress=False)
    assert sorted(result["ran"]) == sorted(c.name for c in sweep.configs)
    for config in sweep.configs:
        swept = _stats(tmp_path / "sweeps" / "tiny" / config.name)
        # Each of the two workers gives its BLAS one thread. With the same thread count
        # a run alone gives the very same numbers...
        with threadpool_limits(1):
            alone = run_experiment(config, tmp_path / "alone-1", name=config.name)
        np.testing.assert_array_equal(swept, alone.stats)
        # ...and with the BLAS's own thread count, the same up to float32 rounding (a
        # matrix product split over threads adds in another order).
        alone = run_experiment(config, tmp_path / "alone", name=config.name)
        np.testing.assert_allclose(swept, alone.stats, rtol=1e-5, atol=1e-7)
    summary = (tmp_path / "sweeps" / "tiny" / "summary.md").read_text()
    assert summary.count("| finished |") == 4
    png = (tmp_path / "sweeps" / "tiny" / "summary.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    rows = json.loads((tmp_path / "sweeps" / "tiny" / "summary.json").read_text())
    assert {r["activation"] for r in rows} == {"sigmoid", "relu"}


def test_a_restarted_sweep_runs_only_the_missing_points(tmp_path):
    sweep = _sweep()
    folder = tmp_path / "tiny"
    # Half the sweep done before: two finished points, and one interrupted mid-run
    # (its record has a checkpoint but no summary) that must be resumed, not redone.
    for config in sweep.configs[:2]:
        run_experiment(config, folder, name=config.name)
    reference = {c.name: _stats(folder / c.name) for c in sweep.configs[:2]}
    result = run_sweep(sweep, tmp_path, jobs=2, progress=False)
    assert sorted(result["skipped"]) == sorted(c.name for c in sweep.configs[:2])
    assert sorted(result["ran"]) == sorted(c.name for c in sweep.configs[2:])
    for name, stats in reference.items():
        np.testing.assert_array_equal(_stats(folder / name), stats)
    again = run_sweep(sweep, tmp_path, jobs=2, progress=False)
    assert again["ran"] == [] and len(again["skipped"]) == 4


def test_an_unfinished_point_is_resumed_to_the_uninterrupted_result(tmp_path):
    sweep = _sweep()
    config = sweep.configs[0]
    run_sweep(sweep, tmp_path / "a", jobs=1, progress=False)
    expected = _stats(tmp_path / "a" / "tiny" / config.name)
    # Simulate a point killed after its first epoch: copy the finished run, then turn it
    # back into an interrupted one by removing what only the end of a run writes.
    shutil.copytree(tmp_path / "a" / "tiny", tmp_path / "b" / "tiny")
    point = tmp_path / "b" / "tiny" / config.name
    (point / "summary.json").unlink()
    result = run_sweep(sweep, tmp_path / "b", jobs=1, progress=False)
    assert result["ran"] == [config.name]
    np.testing.assert_array_equal(_stats(point), expected)


@pytest.mark.slow
def test_sweep_on_a_dask_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    sweep = _sweep()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        result = run_sweep(sweep, tmp_path, scheduler=cluster.scheduler_address, progress=False)
    assert sorted(result["ran"]) == sorted(c.name for c in sweep.configs)
    for config in sweep.configs:
        alone = run_experiment(config, tmp_path / "alone", name=config.name)
        swept = _stats(tmp_path / "tiny" / config.name)
        np.testing.assert_allclose(swept, alone.stats, rtol=1e-5, atol=1e-7)


def test_random_search_is_seeded_and_validated():
    values = {
        "name": "rnd",
        "mode": "random",
        "num_samples": 5,
        "seed": 3,
        "base": BASE,
        "random": {
            "learning_rate": {"log_uniform": [1e-3, 1e-1]},
            "activation": {"choice": ["tanh", "relu"]},
        },
    }
    first, second = sweep_from_dict(values), sweep_from_dict(values)
    assert [c.to_dict() for c in first.configs] == [c.to_dict() for c in second.configs]
    rates = [c.learning_rate for c in first.configs]
    assert all(1e-3 <= r <= 1e-1 for r in rates) and len(set(rates)) == len(rates)
    assert {c.activation for c in first.configs} <= {"tanh", "relu"}
    assert config_from_dict(first.configs[0].to_dict()) == first.configs[0]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name": "x", "grid": {}}, "at least one key"),
        ({"name": "x", "grid": {"hidden": []}}, "non-empty list"),
        ({"name": "x", "grid": {"activation": ["sigmoid", "no_such"]}}, "activation"),
        ({"name": "x", "grid": {"epochs": [1]}, "base": {"epochs": 2}}, "both in"),
        ({"name": "x", "grid": {"epochs": [1]}, "colour": 1}, "unknown key"),
        ({"name": "a/b", "grid": {"epochs": [1]}}, "folder name"),
        (
            {
                "name": "x",
                "mode": "random",
                "random": {"learning_rate": {"gauss": [0, 1]}},
                "num_samples": 2,
            },
            "distribution",
        ),
        (
            {
                "name": "x",
                "mode": "random",
                "random": {"learning_rate": {"log_uniform": [0, 1]}},
                "num_samples": 2,
            },
            "low > 0",
        ),
    ],
)
def test_bad_sweeps_are_clear_errors(values, message):
    with pytest.raises(SweepError, match=message):
        sweep_from_dict(values)


def test_load_sweep_reports_bad_toml(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("name = \n")
    with pytest.raises(SweepError, match="not valid TOML"):
        load_sweep(path)
    with pytest.raises(SweepError, match="does not exist"):
        load_sweep(tmp_path / "missing.toml")


def test_the_sweep_command(tmp_path, capsys):
    from mlp.cli import main

    path = tmp_path / "sweep.toml"
    path.write_text(
        'name = "cli"\n[base]\nepochs = 1\nmax_train_examples = 200\nbatch_size = 50\n'
        "[grid]\nhidden = [[8], [8, 8]]\n"
    )
    runs = str(tmp_path / "runs")
    assert main(["sweep", str(path), "--runs-dir", runs, "--dry-run"]) == 0
    assert "2 points" in capsys.readouterr().out
    assert main(["sweep", str(path), "--runs-dir", runs, "--jobs", "2", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "ran 2 points" in out and "| 8x8 |" in out
    assert main(["sweep", str(path), "--runs-dir", runs, "--no-progress"]) == 0
    assert "ran 0 points, skipped 2" in capsys.readouterr().out
    path.write_text('name = "cli"\n[grid]\nhiden = [[8]]\n')
    assert main(["sweep", str(path), "--runs-dir", runs]) == 2
    assert "hiden" in capsys.readouterr().err
    assert main(["sweep", str(path), "--jobs", "0"]) == 2


def test_ctrl_c_stops_the_whole_sweep_and_running_it_again_finishes_it(
    tmp_path, monkeypatch, interrupt_at_epoch
):
    sweep = _sweep()
    calls = interrupt_at_epoch(2)  # in the first point's second epoch
    with pytest.raises(KeyboardInterrupt):
        run_sweep(sweep, tmp_path, jobs=1, progress=False)
    assert len(calls) == 2  # no other point started
    folders = [tmp_path / "tiny" / c.name for c in sweep.configs]
    assert [f.exists() for f in folders] == [True, False, False, False]
    assert not RunRecord.load(folders[0]).finished
    monkeypatch.undo()
    result = run_sweep(sweep, tmp_path, jobs=1, progress=False)
    assert sorted(result["ran"]) == sorted(c.name for c in sweep.configs)
    assert all(RunRecord.load(f).finished for f in folders)


def test_distinct_values_never_share_a_point_and_names_give_the_exact_value():
    grid = sweep_from_dict({"name": "g", "grid": {"learning_rate": [1.00001e-3, 1.00002e-3]}})
    assert [c.learning_rate for c in grid.configs] == [1.00001e-3, 1.00002e-3]
    assert len({c.name for c in grid.configs}) == 2
    random = sweep_from_dict(
        {
            "name": "r",
            "mode": "random",
            "num_samples": 50,
            "random": {"learning_rate": {"uniform": [0.05, 0.06]}},
        }
    )
    assert len(random.configs) == 50
    for config in random.configs:  # the folder name states the value used exactly
        assert float(config.name.split("=")[1]) == config.learning_rate


def test_an_edited_sweep_file_is_refused_before_anything_runs(tmp_path):
    sweep = _sweep()
    run_sweep(sweep, tmp_path, jobs=1, progress=False)
    edited = sweep_from_dict({"name": "tiny", "base": {**BASE, "epochs": 1}, "grid": GRID})
    with pytest.raises(SweepError, match=r"4 point\(s\) .* another config"):
        run_sweep(edited, tmp_path, jobs=1, progress=False)


def test_a_bad_random_seed_is_a_sweep_error():
    values = {"name": "r", "mode": "random", "num_samples": 2, "seed": "abc"}
    values["random"] = {"learning_rate": {"uniform": [0.01, 0.1]}}
    with pytest.raises(SweepError, match="seed must be an integer"):
        sweep_from_dict(values)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('name = ".."', r"'name' must be a plain folder name .*got '\.\.'"),
        ('name = "."', r"'name' must be a plain folder name .*got '\.'"),
        ('name = ".hidden"', r"'name' must be a plain folder name .*got '\.hidden'"),
        ('name = "x"\nruns_dir = ["a", "b"]', r"runs_dir must be a folder name \(a string\)"),
        ('name = "x"\nruns_dir = 3', r"runs_dir must be a folder name \(a string\), got 3"),
        (
            'name = "x"\nmode = "random"\nnum_samples = true',
            "num_samples, a positive integer, got True",
        ),
    ],
    ids=["dot-dot", "dot", "hidden", "runs-dir-list", "runs-dir-number", "num-samples-bool"],
)
def test_sweep_files_refuse_names_and_types_they_cannot_mean(tmp_path, line, message):
    path = tmp_path / "sweep.toml"
    path.write_text(line + '\n[grid]\nactivation = ["relu"]\n')
    if "random" in line:
        path.write_text(line + "\n[random]\nlearning_rate = {log_uniform = [0.01, 0.1]}\n")
    with pytest.raises(SweepError, match=message) as error:
        load_sweep(path)
    assert str(error.value).startswith(f"{path}: ")


def test_a_point_too_large_to_train_is_refused_before_anything_runs(tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('name = "big"\n[grid]\nhidden = [[10], [1000000000]]\n')
    with pytest.raises(SweepError, match=r"point hidden=1000000000: this model needs about"):
        load_sweep(path)
