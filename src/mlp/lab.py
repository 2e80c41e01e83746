"""`mlp lab`: the seed lab's experiments end to end, and a report of them.

    from mlp.lab import run_lab
    run_lab("runs/lab")                 # the full lab, about 10 minutes on 2 cores
    run_lab("runs/lab-quick", quick=True)

What runs (every experiment seeded with the seed notebook's seed, 6102016):

1. Exercise 1: softmax regression in both formulations, an affine layer plus a
   `SoftmaxLayer` trained on `CrossEntropyError`, and an affine layer trained on
   `CrossEntropySoftmaxError`, from the same initial weights (uniform +-0.01), which must
   give the same curves; and the seed's second cell (initial scale 0.1). Gradient
   descent, learning rate 0.1, batches of 100, 100 epochs, statistics every 5.
2. Exercise 2: sigmoid networks of 2 to 5 affine layers, hidden width 100, initial
   weights and biases uniform +-0.1, gradient descent with learning rate 0.1, batch 100.
3. Exercise 3: the same networks with tanh and with ReLU.
4. An initialisation study: the 5-affine-layer sigmoid network from uniform scales
   0.01 to 1 against Glorot's per-layer scale.
5. The seed's PyTorch experiment (`mlp.pytorch.run_seed_experiment`) and its NumPy twin
   (`mlp.twin.run_numpy_twin`), 50 epochs each.
6. A best-effort MLP from the framework's own parts: 784-800-800-10 ReLU with dropout,
   Adam and a cosine learning-rate schedule.

Each experiment leaves a run record in ``OUT/runs/NAME`` (see `mlp.runs`); a finished
record is kept when the lab runs again, so an interrupted lab continues where it stopped.
Experiments run in worker processes (`jobs`, default 2), each limited to one BLAS thread:
on this 2-core machine that is faster overall than one process with two threads, and it
does not slow down when something else is running. ``OUT/report.md`` then gathers the
tables and the figures (PNG files beside it).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import itertools
import logging
import math
import multiprocessing
import os
import platform
import signal
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlp.config import ConfigError, ExperimentConfig
from mlp.runs import RunError, RunRecord, atomic_write_text, is_finished, versions

__all__ = [
    "LAB_SEED",
    "LabTask",
    "comparison_rows",
    "comparison_table",
    "format_table",
    "lab_tasks",
    "run_lab",
    "write_report",
]

logger = logging.getLogger(__name__)

LAB_SEED = 6102016
"""The seed notebook's seed; every experiment of the lab uses it."""

DEPTHS = (2, 3, 4, 5)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_SCALES = (0.01, 0.1, 0.5, 1.0)

# Epochs of the full lab, chosen so that it finishes in about 10 minutes on 2 cores.
FULL_EPOCHS = {
    "ex1": 100,
    "ex2": 100,
    "ex3": 100,
    "init": 40,
    "pytorch": 50,
    "best": 30,
}
QUICK_EPOCHS = dict.fromkeys(FULL_EPOCHS, 2)
QUICK_TRAIN_EXAMPLES = 1000
"""The `--quick` lab trains every model on the first 1,000 training images for 2 epochs."""


@dataclass
class LabTask:
    """One experiment of the lab.

    Attributes:
        name: the run record's folder name.
        group: 'ex1', 'ex2', 'ex3', 'init', 'pytorch' or 'best'.
        label: a short description for tables and legends.
        config: the experiment, for runs of `mlp.runs.run_experiment`.
        kind: 'config', or 'pytorch' / 'twin' for the seed's PyTorch experiment and its
            NumPy twin (which have their own data pipeline).
        epochs, max_train_examples: for the 'pytorch' and 'twin' kinds.
        cost: an estimate of its run time, used to start the longest first.
    """

    name: str
    group: str
    label: str
    config: ExperimentConfig | None = None
    kind: str = "config"
    epochs: int = 0
    max_train_examples: int | None = None
    cost: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


def _estimated_cost(config: ExperimentConfig) -> float:
    widths = (784, *config.hidden, 10)
    flops = sum(a * b for a, b in itertools.pairwise(widths))
    examples = config.max_train_examples or 50_000
    factor = 1.6 if config.rule == "adam" or config.dropout else 1.0
    return config.epochs * examples * (flops + 20_000) * factor * 6e-10 + 1.0


def lab_tasks(quick: bool = False) -> list[LabTask]:
    """Every experiment of the lab, with the seed's settings (`quick`: small and short)."""
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    subset = QUICK_TRAIN_EXAMPLES if quick else None
    interval = 1 if quick else 5

    def config(**values: Any) -> ExperimentConfig:
        values.setdefault("seed", LAB_SEED)
        values.setdefault("batch_size", 100)
        values.setdefault("rule", "sgd")
        values.setdefault("learning_rate", 0.1)
        values.setdefault("stats_interval", interval)
        values.setdefault("max_train_examples", subset)
        return ExperimentConfig(**values).resolved().validate()

    tasks: list[LabTask] = []

    def add(name: str, group: str, label: str, cfg: ExperimentConfig, **notes: Any) -> None:
        cfg = dataclasses.replace(cfg, name=name)
        tasks.append(LabTask(name, group, label, cfg, cost=_estimated_cost(cfg), notes=notes))

    # Exercise 1: two formulations from the same initial weights, and the seed's 2nd cell.
    softmax = {"hidden": (), "epochs": epochs["ex1"], "test": True}
    add(
        "ex1-softmax-layer",
        "ex1",
        "Affine + SoftmaxLayer, CrossEntropyError, init 0.01",
        config(**softmax, error="cross_entropy", init_scale=0.01, bias_init_scale=0.01),
    )
    add(
        "ex1-ce-softmax",
        "ex1",
        "Affine, CrossEntropySoftmaxError, init 0.01",
        config(**softmax, init_scale=0.01, bias_init_scale=0.01),
    )
    add(
        "ex1-ce-softmax-init0.1",
        "ex1",
        "Affine, CrossEntropySoftmaxError, init 0.1",
        config(**softmax, init_scale=0.1, bias_init_scale=0.1),
    )

    # Exercises 2 and 3: depth 2..5 affine layers of width 100, three non-linearities.
    for activation in ACTIVATIONS:
        group = "ex2" if activation == "sigmoid" else "ex3"
        for depth in DEPTHS:
            add(
                f"{group}-{activation}-{depth}",
                group,
                f"{activation}, {depth} affine layers",
                config(
                    hidden=(100,) * (depth - 1),
                    activation=activation,
                    init_scale=0.1,
                    bias_init_scale=0.1,
                    epochs=epochs[group],
                ),
                depth=depth,
                activation=activation,
            )

    # Initialisation study: the deepest sigmoid net, uniform scales against Glorot.
    init_interval = 1 if quick else 2
    for scale in INIT_SCALES:
        add(
            f"init-uniform-{scale:g}",
            "init",
            f"uniform +-{scale:g}",
            config(
                hidden=(100,) * 4,
                activation="sigmoid",
                init="uniform",
                init_scale=scale,
                epochs=epochs["init"],
                stats_interval=init_interval,
            ),
            init="uniform",
            scale=scale,
        )
    add(
        "init-glorot-uniform",
        "init",
        "Glorot uniform (per layer)",
        config(
            hidden=(100,) * 4,
            activation="sigmoid",
            init="glorot_uniform",
            epochs=epochs["init"],
            stats_interval=init_interval,
        ),
        init="glorot_uniform",
        scale=None,
    )

    # The seed's PyTorch experiment and its NumPy twin.
    pytorch_cost = 50.0 * epochs["pytorch"] / 50 * (0.05 if quick else 1.0) + 1
    for kind, label in (("pytorch", "PyTorch (seed's experiment)"), ("twin", "NumPy twin")):
        tasks.append(
            LabTask(
                f"pytorch-{kind}" if kind == "twin" else "pytorch-seed",
                "pytorch",
                label,
                kind=kind,
                epochs=epochs["pytorch"],
                max_train_examples=subset,
                cost=pytorch_cost if kind == "pytorch" else pytorch_cost * 1.2,
            )
        )

    # The best-effort MLP from the framework's own parts.
    add(
        "best-mlp",
        "best",
        "784-800-800-10 ReLU, dropout, Adam, cosine schedule",
        config(
            hidden=(800, 800),
            activation="relu",
            rule="adam",
            learning_rate=1e-3,
            schedule="cosine",
            init="glorot_uniform",
            input_dropout=0.2,
            dropout=0.5,
            batch_size=128,
            epochs=epochs["best"],
            test=True,
        ),
    )
    return tasks


# --- running the tasks -----------------------------------------------------------------


def _limit_threads(threads: int) -> None:
    """Limit BLAS (and torch) to `threads` threads in this process."""
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


def _worker_init(threads: int) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers, whose runs resume later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_threads(threads)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)


def run_task(task: LabTask, runs_dir: str | os.PathLike[str], threads: int | None = None) -> dict:
    """Run one lab task, leaving its run record in `runs_dir`; returns a short summary.

    A finished record is kept as it is; an unfinished one is resumed.
    """
    if threads is not None:
        _limit_threads(threads)
    runs_dir = Path(runs_dir)
    start = time.perf_counter()
    path = runs_dir / task.name
    if task.kind == "config":
        from mlp.runs import run_experiment

        assert task.config is not None
        record = run_experiment(task.config, runs_dir, name=task.name, if_exists="resume")
    elif is_finished(path):
        record = RunRecord.load(path)
    else:
        record = _run_pytorch_task(task, path, threads)
    figures = record.figures()
    return {
        "name": task.name,
        "finished": record.finished,
        "seconds": time.perf_counter() - start,
        "acc(valid)": figures["final"].get("acc(valid)"),
    }


def _run_pytorch_task(task: LabTask, path: Path, threads: int | None) -> RunRecord:
    from mlp.runs import write_record

    try:
        if task.kind == "pytorch":
            from mlp.pytorch import run_seed_experiment as experiment
        else:
            from mlp.twin import run_numpy_twin as experiment
    except ImportError as error:
        raise RunError(f"{task.name} needs mlp.pytorch / mlp.twin: {error}") from None
    if threads is not None:
        _limit_threads(threads)
    options: dict[str, Any] = {
        "num_epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "progress": False,
        "max_train_examples": task.max_train_examples,
    }
    if task.kind == "pytorch":
        options["device"] = "auto"
    result = experiment(**options)
    rows = result.stats.shape[0]
    config = {
        "label": task.label,
        "experiment": f"mlp.{'pytorch.run_seed_experiment' if task.kind == 'pytorch' else 'twin.run_numpy_twin'}",
        "architecture": "784-100-100-10 relu",
        "rule": "adam",
        "learning_rate": 1e-3,
        "batch_size": 128,
        "epochs": task.epochs,
        "stats_interval": 1,
        "seed": LAB_SEED,
        "split": "60,000 training images split 48,000 / 12,000 by a seeded permutation",
        "normalisation": "(x - 0.1307) / 0.3081",
        "max_train_examples": task.max_train_examples,
        "backend": result.backend,
        "device": result.device,
    }
    summary = {
        "architecture": "784-100-100-10 relu",
        "rule": "adam",
        "learning_rate": 1e-3,
        "seed": LAB_SEED,
        "epochs": task.epochs,
        "stats_interval": 1,
        "backend": result.backend,
        "device": result.device,
        "test": {"acc": float(result.test_accuracy)},
        "seconds_per_epoch": float(result.seconds_per_epoch),
        "run_time": float(result.run_time),
        "versions": versions("torch" if task.kind == "pytorch" else "numpy"),
    }
    return write_record(
        path, config, result.stats, result.keys, np.arange(rows), summary, curves=True
    )


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Make processes started inside the block use one BLAS/OpenMP thread."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_tasks(tasks: Sequence[LabTask], runs_dir: Path, jobs: int) -> dict[str, dict]:
    """Run the tasks, longest first, in `jobs` worker processes (or here when jobs == 1)."""
    ordered = sorted(tasks, key=lambda t: -t.cost)
    results: dict[str, dict] = {}
    total = len(ordered)

    def report(result: dict) -> None:
        results[result["name"]] = result
        acc = result.get("acc(valid)")
        acc_text = f"acc(valid) {acc:.4f}" if isinstance(acc, float) else ""
        print(
            f"[{len(results)}/{total}] {result['name']}: {result['seconds']:.1f}s {acc_text}",
            file=sys.stderr,
            flush=True,
        )

    if jobs <= 1:
        for task in ordered:
            report(_safe_run(task, runs_dir, None))
        return results
    context = multiprocessing.get_context("spawn")
    with _single_threaded_children():
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_worker_init, initargs=(1,)
        )
        futures = [executor.submit(_safe_run, task, runs_dir, 1) for task in ordered]
    try:
        for future in concurrent.futures.as_completed(futures):
            report(future.result())
    except BaseException:
        # Stop the workers at once; each run keeps its latest checkpoint.
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return results


def _safe_run(task: LabTask, runs_dir: Path, threads: int | None) -> dict:
    """`run_task`, with a failure reported as a result instead of ending the lab."""
    start = time.perf_counter()
    try:
        return run_task(task, runs_dir, threads)
    except KeyboardInterrupt:
        return {"name": task.name, "finished": False, "seconds": time.perf_counter() - start}
    except (RunError, ConfigError) as error:
        logger.error("%s failed: %s", task.name, error)
        return {
            "name": task.name,
            "finished": False,
            "seconds": time.perf_counter() - start,
            "error": f"{error} (run `mlp lab --fresh` to start the lab again)",
        }
    except Exception as error:  # the report says which experiment failed and why
        logger.exception("%s failed", task.name)
        return {
            "name": task.name,
            "finished": False,
            "seconds": time.perf_counter() - start,
            "error": f"{type(error).__name__}: {error}",
        }


def run_lab(
    out: str | os.PathLike[str] = "runs/lab",
    *,
    quick: bool = False,
    jobs: int = 2,
    fresh: bool = False,
) -> int:
    """Run every lab experiment and write OUT/report.md; returns an exit status.

    Args:
        out: output folder: the report and its figures, and the run records in OUT/runs.
        quick: the same pipeline on 1,000 training images for 2 epochs each.
        jobs: worker processes (each limited to one BLAS thread); 1 runs everything in
            this process with the default threads.
        fresh: delete the run records of an earlier lab in OUT first.
    Returns:
        0 when every experiment finished, 1 when some failed (the report says which),
        130 when interrupted (finished experiments are kept for the next run).
    """
    import shutil

    out = Path(out)
    runs_dir = out / "runs"
    if fresh and runs_dir.exists():
        shutil.rmtree(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    tasks = lab_tasks(quick)
    already = sum(is_finished(runs_dir / t.name) for t in tasks)
    print(
        f"mlp lab{' --quick' if quick else ''}: {len(tasks)} experiments "
        f"({already} already finished) in {jobs} worker process(es); records in {runs_dir}",
        file=sys.stderr,
        flush=True,
    )
    start = time.perf_counter()
    try:
        results = _run_tasks(tasks, runs_dir, jobs)
    except KeyboardInterrupt:
        print(
            f"interrupted: finished experiments are kept in {runs_dir}; "
            "run the same command again to continue",
            file=sys.stderr,
        )
        return 130
    wall = time.perf_counter() - start
    report = write_report(
        out, tasks, wall_time=wall, quick=quick, jobs=jobs, results=results, kept=already
    )
    failed = [name for name, result in results.items() if not result.get("finished")]
    print(f"report: {report} ({wall:.0f}s)", file=sys.stderr)
    if failed:
        print(f"unfinished or failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


# --- tables ----------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan"
        return f"{value:.{digits}f}"
    return str(value)


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "markdown"
) -> str:
    """Rows as a 'markdown', aligned 'text' or 'csv' table (ending in a newline)."""
    cells = [[_fmt(v) for v in row] for row in rows]
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(cells)
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max([len(str(h)), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines) + "\n"


COMPARISON_HEADERS = (
    "run",
    "model",
    "rule",
    "epochs",
    "final error(train)",
    "final error(valid)",
    "final acc(valid)",
    "best acc(valid) (epoch)",
    "best error(valid) (epoch)",
    "acc(test)",
    "s/epoch",
)


def comparison_rows(records: Sequence[RunRecord]) -> list[list[Any]]:
    """One row of final and best figures per run, in `COMPARISON_HEADERS` order."""
    rows = []
    for record in records:
        figures = record.figures()
        final, best = figures.get("final", {}), figures.get("best", {})
        summary = record.summary or {}
        config = record.config
        model = summary.get("architecture") or config.get("architecture")
        if model is None and config:
            with contextlib.suppress(RunError):
                model = record.experiment_config().architecture()
        rule = summary.get("rule") or config.get("rule")
        rate = summary.get("learning_rate") or config.get("learning_rate")
        if rule and rate:
            rule = f"{rule} {rate:g}"
        test = (summary.get("test") or {}).get("acc")

        def best_of(key: str, best: Mapping[str, Any] = best) -> str:
            entry = best.get(key)
            if not entry or entry.get("value") is None:
                return "-"
            return f"{entry['value']:.4f} ({entry['epoch']})"

        epochs = figures.get("epochs")
        status = "" if record.finished else " (unfinished)"
        rows.append(
            [
                record.name + status,
                model or "-",
                rule or "-",
                epochs,
                final.get("error(train)"),
                final.get("error(valid)"),
                final.get("acc(valid)"),
                best_of("acc(valid)"),
                best_of("error(valid)"),
                test,
                summary.get("seconds_per_epoch"),
            ]
        )
    return rows


def comparison_table(records: Sequence[RunRecord], fmt: str = "text", sort: str = "name") -> str:
    """`mlp compare`'s table of runs: final and best figures, test accuracy, s/epoch.

    Args:
        records: the runs; fmt: 'text', 'markdown' or 'csv'; sort: 'name', 'acc'
            (highest final validation accuracy first) or 'error' (lowest final
            validation error first).
    """
    rows = comparison_rows(records)
    if sort == "acc":
        rows.sort(key=lambda r: -(r[6] if isinstance(r[6], float) else -1.0))
    elif sort == "error":
        rows.sort(key=lambda r: r[5] if isinstance(r[5], float) else math.inf)
    else:
        rows.sort(key=lambda r: r[0])
    return format_table(COMPARISON_HEADERS, rows, fmt)


# --- the report ------------------------------------------------------------------------


def _load(runs_dir: Path, tasks: Sequence[LabTask]) -> dict[str, RunRecord]:
    records = {}
    for task in tasks:
        path = runs_dir / task.name
        if (path / "stats.csv").exists():
            with contextlib.suppress(RunError):
                records[task.name] = RunRecord.load(path)
    return records


def _final(record: RunRecord | None, key: str) -> float:
    if record is None:
        return float("nan")
    value = record.figures().get("final", {}).get(key)
    return float(value) if value is not None else float("nan")


def _best_epoch(record: RunRecord, key: str) -> Any:
    return (record.figures().get("best", {}).get(key) or {}).get("epoch")


def _depth_observations(
    records: Mapping[str, RunRecord], names: Mapping[tuple[str, int], str]
) -> str:
    """A few sentences read off the exercise 2 and 3 results."""
    sentences = []
    for activation in ACTIVATIONS:
        finals = {
            depth: _final(records.get(names[activation, depth]), "acc(valid)") for depth in DEPTHS
        }
        finals = {d: v for d, v in finals.items() if not math.isnan(v)}
        if len(finals) < 2:
            continue
        best = max(finals, key=finals.__getitem__)
        worst = min(finals, key=finals.__getitem__)
        sentences.append(
            f"{activation}: the best final validation accuracy is at {best} affine layers "
            f"({finals[best]:.4f}), the worst at {worst} ({finals[worst]:.4f})."
        )
    overfit = []
    for (activation, depth), name in names.items():
        record = records.get(name)
        if record is None:
            continue
        best = record.figures().get("best", {}).get("error(valid)") or {}
        final = _final(record, "error(valid)")
        if best.get("value") and final > 1.2 * best["value"]:
            overfit.append(f"{activation}-{depth} (lowest at epoch {best['epoch']})")
    if overfit:
        sentences.append(
            "Validation error reaches its minimum and then rises while training error "
            "keeps falling, that is, the model overfits, for: " + ", ".join(overfit) + "."
        )
    return (" ".join(sentences) + "\n") if sentences else ""


def _init_observations(records: Sequence[RunRecord], labels: Mapping[str, str]) -> str:
    """A few sentences read off the initialisation study."""
    finals = {r.name: _final(r, "acc(valid)") for r in records}
    finals = {n: v for n, v in finals.items() if not math.isnan(v)}
    if not finals:
        return ""
    best = max(finals, key=finals.__getitem__)
    sentences = [f"Best: {labels[best]} ({finals[best]:.4f} final validation accuracy)."]
    stuck = [labels[n] for n, v in finals.items() if v < 0.2]
    if stuck:
        sentences.append(
            f"{', '.join(stuck)}: still at chance level at the end, stuck on the plateau "
            "where every output is about the same (signals and gradients shrink through "
            "each sigmoid layer when the weights are small)."
        )
    return " ".join(sentences) + "\n"


def _test_accuracy_of(record: RunRecord) -> float:
    """Test accuracy of a finished numpy-backend run, from its saved parameters."""
    from mlp.config import build_experiment
    from mlp.optimisers import accuracy

    config = record.experiment_config()
    experiment = build_experiment(config)
    params = record.params()
    for param, saved in zip(experiment.model.params, params, strict=True):
        param[...] = saved
    data = experiment.test_data()
    return accuracy(experiment.model.predict(data.inputs), data.targets)


def _figure(out: Path, name: str, fig: Any) -> str:
    from mlp.plotting import save_figure

    save_figure(fig, out / name)
    return name


def write_report(
    out: str | os.PathLike[str],
    tasks: Sequence[LabTask],
    *,
    wall_time: float,
    quick: bool = False,
    jobs: int = 2,
    results: Mapping[str, dict] | None = None,
    kept: int = 0,
) -> Path:
    """Write OUT/report.md and its figures from the run records in OUT/runs.

    Args:
        out: the lab's folder; tasks: the experiments (`lab_tasks`).
        wall_time: seconds this invocation of the lab took; kept: how many experiments
            were already finished before it (and so not run again).
        quick, jobs, results: how the lab ran, and what `run_task` reported.
    Returns:
        The path of report.md.
    """
    from mlp.plotting import plot_metric_against, plot_runs

    out = Path(out)
    runs_dir = out / "runs"
    records = _load(runs_dir, tasks)
    by_group: dict[str, list[LabTask]] = {}
    for task in tasks:
        by_group.setdefault(task.group, []).append(task)
    labels = {task.name: task.label for task in tasks}
    results = results or {}

    def runs_of(group: str) -> list[RunRecord]:
        return [records[t.name] for t in by_group.get(group, []) if t.name in records]

    def curves(group: str, title: str, filename: str, names: Sequence[str] | None = None) -> str:
        chosen = runs_of(group) if names is None else [records[n] for n in names if n in records]
        if not chosen:
            return ""
        fig = plot_runs(chosen, title=title, labels=[labels[r.name] for r in chosen])
        return f"![{title}]({_figure(out, filename, fig)})\n"

    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    lines: list[str] = []
    add = lines.append
    add("# mlp lab report\n")
    mode = (
        f"**quick mode**: every model trained on the first {QUICK_TRAIN_EXAMPLES:,} training "
        "images for 2 epochs, to check the pipeline; the figures mean little."
        if quick
        else "full mode, with the seed lab's settings."
    )
    version_info = versions("torch" if "torch" in sys.modules else "numpy")
    add(
        f"Generated by `mlp lab{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}: {mode} "
        f"Wall time {wall_time:.0f} s ({wall_time / 60:.1f} min)"
        + (
            f" for the {len(tasks) - kept} experiments not finished by an earlier run"
            if kept
            else ""
        )
        + f" with {jobs} worker "
        f"process(es), each limited to one BLAS thread, on {os.cpu_count()} CPU core(s) "
        f"({platform.machine()}). Python {version_info['python']}, mlp "
        f"{version_info['mlp']}, NumPy {version_info['numpy']}"
        + (f", PyTorch {version_info['torch']}" if "torch" in version_info else "")
        + ".\n"
    )
    add(
        f"Every experiment is seeded with {LAB_SEED} (the seed notebook's seed): initial "
        "weights, shuffles and dropout masks all follow from it, so running the lab again "
        "gives the same numbers. Each experiment's full config, statistics, summary, "
        "final parameters and curves are in `runs/NAME/` beside this report "
        "(`mlp plot` and `mlp compare` read them). Errors are the mean cross-entropy per "
        "example; accuracies are fractions of examples classified correctly. 'Final' is "
        "the last recorded epoch, 'best' the best recorded one; s/epoch counts the "
        "training passes only (statistics excluded), measured with two experiments running "
        "at once, one per core (and whatever else the machine was running). MNIST: 50,000 training, 10,000 "
        "validation and 10,000 test images, except in the PyTorch experiment (below).\n"
    )
    if not quick:
        add(
            f"Epochs: exercise 1 {epochs['ex1']}, exercises 2 and 3 {epochs['ex2']} "
            f"(the seed's settings), initialisation study {epochs['init']}, PyTorch "
            f"experiment and twin {epochs['pytorch']}, best-effort MLP {epochs['best']}: "
            "chosen to fit the whole lab in 15 minutes on 2 cores.\n"
        )
    failed = {n: r for n, r in results.items() if not r.get("finished")}
    missing = [t.name for t in tasks if t.name not in records or not records[t.name].finished]
    if failed or missing:
        add("**Not finished:** " + ", ".join(sorted(set(missing) | set(failed))) + ".")
        for name, result in failed.items():
            if result.get("error"):
                add(f"- {name}: {result['error']}")
        add("")

    # Main table
    add("## All models\n")
    ordered = [records[t.name] for t in tasks if t.name in records]
    rows = comparison_rows(ordered)
    add(format_table(COMPARISON_HEADERS, rows, "markdown"))

    # Exercise 1
    add("## Exercise 1: softmax regression, two formulations\n")
    ex1 = runs_of("ex1")
    add(
        "An affine layer followed by a `SoftmaxLayer` and trained on `CrossEntropyError`, "
        "and an affine layer trained on `CrossEntropySoftmaxError` (softmax folded into "
        "the error), from the same initial weights and biases (uniform +-0.01) and the same "
        "batches: the curves should be the same up to rounding, and the folded form cheaper. "
        "The third run is the seed's second cell (initial scale 0.1). Gradient descent, "
        f"learning rate 0.1, batch 100, {epochs['ex1']} epochs, statistics every "
        f"{1 if quick else 5} epochs.\n"
    )
    add(curves("ex1", "Exercise 1: softmax regression", "ex1.png"))
    ex1_rows = []
    for record in ex1:
        summary = record.summary or {}
        ex1_rows.append(
            [
                labels[record.name],
                summary.get("seconds_per_epoch"),
                summary.get("run_time"),
                _final(record, "error(valid)"),
                _final(record, "acc(valid)"),
                (summary.get("test") or {}).get("acc"),
            ]
        )
    add(
        format_table(
            [
                "formulation",
                "s/epoch",
                "total s (with statistics)",
                "final error(valid)",
                "final acc(valid)",
                "acc(test)",
            ],
            ex1_rows,
        )
    )
    pair = [records.get("ex1-softmax-layer"), records.get("ex1-ce-softmax")]
    if all(r is not None for r in pair) and pair[0].stats.shape == pair[1].stats.shape:  # type: ignore[union-attr]
        a, b = pair
        difference = {
            key: float(np.max(np.abs(a.stats[:, a.keys[key]] - b.stats[:, b.keys[key]])))  # type: ignore[union-attr]
            for key in a.keys  # type: ignore[union-attr]
        }
        worst = max(difference, key=difference.get)  # type: ignore[arg-type]
        add(
            "Largest difference between the two formulations' curves, over every recorded "
            f"statistic and epoch: {difference[worst]:.2e} ({worst}); "
            + ", ".join(f"{k} {v:.1e}" for k, v in difference.items())
            + ". (float32 arithmetic; the two compute the same function by different roundings.)\n"
        )
        time_a = (a.summary or {}).get("seconds_per_epoch")  # type: ignore[union-attr]
        time_b = (b.summary or {}).get("seconds_per_epoch")  # type: ignore[union-attr]
        if time_a and time_b:
            add(
                f"Time per epoch: {time_a:.3f} s with the softmax layer, {time_b:.3f} s with "
                f"the folded error ({time_a / time_b:.2f}x).\n"
            )

    # Exercises 2 and 3
    add("## Exercises 2 and 3: depth and non-linearity\n")
    add(
        "Networks of 2 to 5 affine layers (1 to 4 hidden layers of width 100) with "
        "sigmoid, tanh and ReLU hidden layers, trained on `CrossEntropySoftmaxError`; "
        "initial weights and biases uniform +-0.1, gradient descent with learning rate "
        f"0.1, batch 100, {epochs['ex2']} epochs, statistics every {1 if quick else 5}.\n"
    )
    depth_names = {
        (act, depth): f"{'ex2' if act == 'sigmoid' else 'ex3'}-{act}-{depth}"
        for act in ACTIVATIONS
        for depth in DEPTHS
    }
    series_acc = {
        act: [_final(records.get(depth_names[act, d]), "acc(valid)") for d in DEPTHS]
        for act in ACTIVATIONS
    }
    series_err = {
        act: [_final(records.get(depth_names[act, d]), "error(train)") for d in DEPTHS]
        for act in ACTIVATIONS
    }
    if any(not math.isnan(v) for values in series_acc.values() for v in values):
        fig = plot_metric_against(
            list(DEPTHS),
            series_acc,
            xlabel="Affine layers",
            ylabel="Final accuracy (valid)",
            title="Final validation accuracy against depth",
        )
        add(f"![accuracy against depth]({_figure(out, 'depth_accuracy.png', fig)})\n")
        fig = plot_metric_against(
            list(DEPTHS),
            series_err,
            xlabel="Affine layers",
            ylabel="Final error (train)",
            title="Final training error against depth",
        )
        add(f"![training error against depth]({_figure(out, 'depth_train_error.png', fig)})\n")
    for act in ACTIVATIONS:
        names = [depth_names[act, d] for d in DEPTHS]
        group = "ex2" if act == "sigmoid" else "ex3"
        add(curves(group, f"{act} networks of 2 to 5 affine layers", f"{act}_depths.png", names))
    headers = ["affine layers"]
    for act in ACTIVATIONS:
        headers += [f"{act} final error(train)", f"{act} final acc(valid) (best)", f"{act} s/epoch"]
    table = []
    for depth in DEPTHS:
        row: list[Any] = [depth]
        for act in ACTIVATIONS:
            record = records.get(depth_names[act, depth])
            if record is None:
                row += ["-", "-", "-"]
                continue
            best = record.figures()["best"].get("acc(valid)", {})
            best_value = best.get("value")
            best_text = f" ({best_value:.4f})" if best_value is not None else ""
            row += [
                _fmt(_final(record, "error(train)")),
                _fmt(_final(record, "acc(valid)")) + best_text,
                (record.summary or {}).get("seconds_per_epoch"),
            ]
        table.append(row)
    add(format_table(headers, table))
    add(_depth_observations(records, depth_names))
    chosen = [
        records[n]
        for n in depth_names.values()
        if n in records and records[n].finished and not math.isnan(_final(records[n], "acc(valid)"))
    ]
    if chosen:
        best_record = max(chosen, key=lambda r: _final(r, "acc(valid)"))
        try:
            test_acc = _test_accuracy_of(best_record)
            add(
                f"The model chosen by final validation accuracy, **{labels[best_record.name]}** "
                f"({best_record.name}: {_final(best_record, 'acc(valid)'):.4f} valid), "
                f"scores **{test_acc:.4f}** on the test set (computed from its saved "
                "parameters; the test set was not looked at for any other model of these "
                "exercises).\n"
            )
        except Exception as error:  # a report is still worth writing
            add(f"(Test accuracy of {best_record.name} unavailable: {error}.)\n")

    # Initialisation
    add("## Initialisation study\n")
    add(
        "The 5-affine-layer sigmoid network (4 hidden layers of 100) with every weight "
        "matrix drawn uniformly from +-scale for scales 0.01 to 1, against Glorot's "
        "per-layer scale (uniform on +-sqrt(6 / (fan_in + fan_out)): 0.082 for the first "
        "layer, 0.173 between hidden layers, 0.234 for the last); zero biases, gradient "
        f"descent with learning rate 0.1, batch 100, {epochs['init']} epochs, statistics "
        f"every {1 if quick else 2}.\n"
    )
    add(curves("init", "Initialisation: sigmoid, 5 affine layers", "init.png"))
    init_rows = []
    for record in runs_of("init"):
        best = record.figures()["best"].get("acc(valid)", {})
        init_rows.append(
            [
                labels[record.name],
                _final(record, "error(train)"),
                _final(record, "error(valid)"),
                _final(record, "acc(valid)"),
                best.get("value"),
            ]
        )
    add(
        format_table(
            [
                "initialisation",
                "final error(train)",
                "final error(valid)",
                "final acc(valid)",
                "best acc(valid)",
            ],
            init_rows,
        )
    )
    add(_init_observations(runs_of("init"), labels))

    # PyTorch
    add("## The PyTorch experiment and its NumPy twin\n")
    add(
        "The seed's PyTorch experiment (`mlp.pytorch.run_seed_experiment`): 784-100-100-10 "
        "ReLU, `CrossEntropyLoss`, Adam 1e-3, batch 128, the 60,000 original training "
        "images split 48,000 / 12,000 by a seeded permutation, inputs normalised with "
        "mean 0.1307 and std 0.3081, test accuracy over all 10,000 test images; and the "
        "same experiment trained by the framework's `Optimiser` (`mlp.twin.run_numpy_twin`).\n"
    )
    add(curves("pytorch", "PyTorch and its NumPy twin", "pytorch.png"))
    torch_rows = []
    for record in runs_of("pytorch"):
        summary = record.summary or {}
        torch_rows.append(
            [
                labels[record.name],
                summary.get("backend"),
                summary.get("device"),
                summary.get("seconds_per_epoch"),
                _final(record, "acc(valid)"),
                (summary.get("test") or {}).get("acc"),
            ]
        )
    if torch_rows:
        add(
            format_table(
                ["experiment", "backend", "device", "s/epoch", "final acc(valid)", "acc(test)"],
                torch_rows,
            )
        )
        seed_run, twin_run = records.get("pytorch-seed"), records.get("pytorch-twin")
        if seed_run is not None and twin_run is not None:
            seed_test = ((seed_run.summary or {}).get("test") or {}).get("acc")
            twin_test = ((twin_run.summary or {}).get("test") or {}).get("acc")
            if seed_test is not None and twin_test is not None:
                add(
                    f"The twin's test accuracy is {100 * (twin_test - seed_test):+.2f} "
                    "percentage points from PyTorch's. Both reach their lowest validation "
                    f"error early (epochs {_best_epoch(seed_run, 'error(valid)')} and "
                    f"{_best_epoch(twin_run, 'error(valid)')}) and overfit afterwards, as "
                    "the seed's setting does.\n"
                )
    else:
        add("(Not run: mlp.pytorch / mlp.twin unavailable.)\n")

    # Best MLP
    add("## Best-effort MLP\n")
    best_task = by_group.get("best", [None])[0]
    if best_task is not None and best_task.config is not None:
        c = best_task.config
        add(
            f"{c.architecture()} from the framework's own layers: input dropout "
            f"{c.input_dropout:g}, hidden dropout {c.dropout:g} (a mask per example), "
            f"{c.init} initial weights, Adam (learning rate {c.learning_rate:g}) with a "
            f"cosine schedule down to {c.lr_min:g} over {c.epochs} epochs, batch "
            f"{c.batch_size}, statistics every {c.stats_interval}.\n"
        )
    add(curves("best", "Best-effort MLP", "best.png"))
    best_record = records.get(best_task.name) if best_task is not None else None
    if best_record is not None and best_record.summary:
        test = (best_record.summary.get("test") or {}).get("acc")
        goal = "meets" if test is not None and test >= 0.985 else "misses"
        add(
            f"Test accuracy **{_fmt(test)}** ({goal} the goal of 0.985); final validation "
            f"accuracy {_fmt(_final(best_record, 'acc(valid)'))}; "
            f"{_fmt(best_record.summary.get('seconds_per_epoch'), 2)} s per epoch.\n"
        )

    # What was run
    add("## What was run\n")
    config_rows = []
    for task in tasks:
        if task.config is None:
            config_rows.append([task.name, labels[task.name], "see above", "-", "-", "-", "-"])
            continue
        c = task.config
        init = f"{c.init} {c.init_scale:g}" + (
            f", biases +-{c.bias_init_scale:g}" if c.bias_init_scale else ""
        )
        rule = f"{c.rule} {c.learning_rate:g}" + (
            f" ({c.schedule})" if c.schedule != "constant" else ""
        )
        config_rows.append(
            [task.name, c.architecture(), c.error, init, rule, c.batch_size, c.epochs]
        )
    add(
        format_table(
            ["run", "model", "error", "initialisation", "rule", "batch", "epochs"], config_rows
        )
    )
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path
