"""`mlp lab`: every experiment of the seed lab is planned with its settings, the quick
pipeline runs end to end and writes a report whose tables and figures cover them all."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import struct

import pytest

from mlp.cli import main
from mlp.lab import (
    FULL_EPOCHS,
    LAB_SEED,
    comparison_table,
    format_table,
    lab_tasks,
    run_tasks,
)
from mlp.lab.tasks import CNN_ARCH, CNN_SEEDS
from mlp.runs import RunRecord

HAVE_TORCH_TWIN = all(
    importlib.util.find_spec(name) is not None for name in ("torch", "mlp.pytorch", "mlp.twin")
)


# Bitwise comparisons between runs need one BLAS thread count (see conftest.py).
# ...and MNIST in the data directory (skipped with MLP_OFFLINE=1 when it is missing, not
# downloaded).
pytestmark = pytest.mark.usefixtures("one_blas_thread", "mnist_dir")


def png_size(path) -> tuple[int, int]:
    """Width and height of a PNG file, after checking its signature."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_the_full_lab_plans_every_experiment_with_the_seed_settings():
    tasks = {task.name: task for task in lab_tasks(quick=False)}
    assert len(tasks) == len(lab_tasks(quick=False))  # names are unique
    groups = {task.group for task in tasks.values()}
    assert groups == {"ex1", "ex2", "ex3", "init", "pytorch", "best", "cnn"}
    # Exercise 1: both formulations from the same initial weights, and the seed's cell.
    layer, folded = tasks["ex1-softmax-layer"].config, tasks["ex1-ce-softmax"].config
    assert (layer.error, folded.error) == ("cross_entropy", "cross_entropy_softmax")
    assert dataclasses.replace(layer, name=None, error="x") == dataclasses.replace(
        folded, name=None, error="x"
    )
    assert (layer.init_scale, layer.learning_rate, layer.batch_size) == (0.01, 0.1, 100)
    assert (layer.epochs, layer.stats_interval, layer.hidden) == (100, 5, ())
    assert tasks["ex1-ce-softmax-init0.1"].config.init_scale == 0.1
    # Exercises 2 and 3: 2..5 affine layers of width 100, three non-linearities.
    for activation in ("sigmoid", "tanh", "relu"):
        for depth in (2, 3, 4, 5):
            group = "ex2" if activation == "sigmoid" else "ex3"
            config = tasks[f"{group}-{activation}-{depth}"].config
            assert config.hidden == (100,) * (depth - 1) and config.activation == activation
            assert (config.init_scale, config.learning_rate, config.rule) == (0.1, 0.1, "sgd")
            assert config.epochs == FULL_EPOCHS[group] and config.max_train_examples is None
    inits = {t.config.init for t in tasks.values() if t.group == "init"}
    assert inits == {"uniform", "glorot_uniform"}
    assert {t.kind for t in tasks.values() if t.group == "pytorch"} == {"pytorch", "twin"}
    best = tasks["best-mlp"].config
    assert best.rule == "adam" and best.dropout > 0 and best.test
    assert all(
        t.config is None or t.config.seed == LAB_SEED for t in tasks.values() if t.group != "cnn"
    )
    # The CNN: three NumPy seeds and the same config in PyTorch, priced as CNNs.
    cnn = [t for t in tasks.values() if t.group == "cnn"]
    assert [t.config.backend for t in cnn] == ["numpy"] * 3 + ["torch"]
    assert {t.config.arch for t in cnn} == {CNN_ARCH}
    assert [t.config.seed for t in cnn] == [*CNN_SEEDS, LAB_SEED]
    assert len(set(CNN_SEEDS)) == 3 and all(t.config.test for t in cnn)
    assert cnn[0].config.epochs == FULL_EPOCHS["cnn"] and cnn[0].config.rule == "adam"
    # About 70 s on one core against best-mlp's 220 s and a depth task's 40-60 s.
    assert tasks["ex3-relu-5"].cost < cnn[0].cost < tasks["best-mlp"].cost
    assert cnn[3].cost < cnn[0].cost / 2


def test_cnn_cost_counts_multiply_adds():
    from mlp.lab.tasks import _conv_multiply_adds

    # 16*24*24*25 + 32*8*8*16*25 + 512*128 + 128*10
    assert _conv_multiply_adds(CNN_ARCH) == 230_400 + 819_200 + 65_536 + 1_280
    assert _conv_multiply_adds("conv:2x3,pool:2") == 2 * 26 * 26 * 9 + 2 * 13 * 13 * 10


def test_quick_tasks_are_small():
    for task in lab_tasks(quick=True):
        if task.config is not None:
            assert task.config.max_train_examples == 1000 and task.config.epochs == 2
        else:
            assert task.train_subset_size == 1000 and task.epochs == 2


def test_lab_quick_end_to_end(tmp_path, capsys):
    out = tmp_path / "lab"
    status = main(["lab", "--quick", "--out", str(out), "--jobs", "1"])
    assert status == (0 if HAVE_TORCH_TWIN else 1)
    report = (out / "report.md").read_text()
    tasks = lab_tasks(quick=True)
    for heading in (
        "## All models",
        "## Exercise 1",
        "## Exercises 2 and 3",
        "## Initialisation study",
        "## The PyTorch experiment and its NumPy twin",
        "## Best-effort MLP",
        "## A convolutional network",
        "## What was run",
    ):
        assert heading in report
    main_table = report.split("## All models")[1].split("##")[0]
    for task in tasks:
        if (task.kind == "config" and task.config.backend == "numpy") or HAVE_TORCH_TWIN:
            assert f"| {task.name} |" in main_table
            assert RunRecord.load(out / "runs" / task.name).finished
    assert "Largest difference between the two formulations' curves" in report
    # The header says how this lab ran (one process, quick mode's subset).
    assert "in one process, with the BLAS's own threads" in report
    assert "the first 1,000 of the 50,000 training images" in report
    # Statements about overfitting follow the curves: a run whose validation error is
    # lowest at its last epoch is never said to overfit.
    verdicts = re.findall(r"lowest at epoch (\d+) of (\d+) and ends (within|\d+% higher)", report)
    assert len(verdicts) == (2 if HAVE_TORCH_TWIN else 0)
    for best, last, verdict in verdicts:
        assert best != last or verdict == "within"
    assert re.search(r"scores \*\*0\.\d{4}\*\* on the test set", report)
    cnn = report.split("## A convolutional network")[1].split("##")[0]
    assert re.search(r"over 3 seed\(s\): 0\.\d{4}, 0\.\d{4}, 0\.\d{4}; mean \*\*0\.\d{4}\*\*", cnn)
    assert "for the best-effort MLP" in cnn and "cnn_kernels.png" in cnn
    assert ("s in PyTorch" in cnn) == HAVE_TORCH_TWIN
    _check_inside_the_networks(out, report)
    figures = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert len(figures) >= 15
    for name in figures:
        width, height = png_size(out / name)
        assert width > 300 and height > 200
    # Running it again keeps the finished experiments.
    before = (out / "runs" / "ex1-ce-softmax" / "summary.json").read_text()
    status = main(["lab", "--quick", "--out", str(out), "--jobs", "1"])
    assert "27 experiments (27 already finished)" in capsys.readouterr().err or not HAVE_TORCH_TWIN
    assert (out / "runs" / "ex1-ce-softmax" / "summary.json").read_text() == before


def _check_inside_the_networks(out, report):
    """The report's look inside: its figures, and the 5-layer sigmoid network's gradient
    ratio read off that run's layers.csv (last affine layer's weight-gradient norm over
    the first's, at every measurement of the quick lab's 2 epochs)."""
    for name in (
        "softmax_templates.png",
        "sigmoid_gradients.png",
        "tanh_saturation.png",
        "relu_dead.png",
        "best_confusion.png",
        "best_mistakes.png",
        "best_features.png",
        "cnn_layers.png",
    ):
        assert f"({name})" in report
    record = RunRecord.load(out / "runs" / "ex2-sigmoid-5")
    table = record.layer_stats()
    assert sorted(set(table.epochs.tolist())) == [0, 1, 2]  # every epoch
    first, last = (table.series(i, "param_grad_norm")[1] for i in (0, 8))
    ratios = last / first
    low, high = (f"{v:.0f}" if v >= 10 else f"{v:.1f}" for v in (ratios.min(), ratios.max()))
    sentence = next(line for line in report.splitlines() if "5-layer sigmoid network" in line)
    assert f"{low}-{high} times smaller" in sentence
    assert re.search(r"In the 5-layer tanh network, the fraction of saturated outputs", report)
    assert re.search(r"template k correlates .* r = -?0\.\d\d to -?0\.\d\d", report)
    assert re.search(r"The most frequent confusions: \d as \d|read as", report)


def test_worker_processes_give_the_same_records_as_one_process(tmp_path):
    tasks = [t for t in lab_tasks(quick=True) if t.group == "ex1"][:2]
    serial = run_tasks(tasks, tmp_path / "serial", jobs=1)
    parallel = run_tasks(tasks, tmp_path / "parallel", jobs=2)
    assert all(r["finished"] for r in [*serial.values(), *parallel.values()])
    for task in tasks:
        a = RunRecord.load(tmp_path / "serial" / task.name)
        b = RunRecord.load(tmp_path / "parallel" / task.name)
        # One BLAS thread in both: bit for bit the same statistics.
        assert (a.path / "stats.csv").read_text() == (b.path / "stats.csv").read_text()


def test_tables():
    headers = ["a", "b"]
    rows = [["x", 0.5], ["longer", None]]
    assert format_table(headers, rows, "markdown").splitlines()[2] == "| x | 0.5000 |"
    assert format_table(headers, rows, "csv").splitlines() == ["a,b", "x,0.5000", "longer,-"]
    text = format_table(headers, rows, "text").splitlines()
    assert text[0].startswith("a       b") and set(text[1]) == {"-", " "}
    assert comparison_table([], "text").splitlines()[0].startswith("run")


def test_ctrl_c_stops_a_one_process_lab(tmp_path, interrupt_at_epoch):
    tasks = [t for t in lab_tasks(quick=True) if t.group == "ex1"][:3]
    calls = interrupt_at_epoch(2)
    with pytest.raises(KeyboardInterrupt):
        run_tasks(tasks, tmp_path, jobs=1)
    assert len(calls) == 2  # the other tasks never started
    started = [t.name for t in tasks if (tmp_path / t.name).exists()]
    assert len(started) == 1 and not RunRecord.load(tmp_path / started[0]).finished


@pytest.mark.skipif(not HAVE_TORCH_TWIN, reason="needs torch")
def test_an_interrupted_twin_run_leaves_no_record_claiming_it_finished(
    tmp_path, interrupt_at_epoch
):
    from mlp.lab.pytorch_task import run_pytorch_task

    (task,) = [t for t in lab_tasks(quick=True) if t.name == "pytorch-twin"]
    interrupt_at_epoch(2)
    with pytest.raises(KeyboardInterrupt):
        run_pytorch_task(task, tmp_path / task.name)
    assert not (tmp_path / task.name).exists()
