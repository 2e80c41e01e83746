"""The lab's report: OUT/report.md, its tables and its figures, from the run records.

`write_report` joins one function per section, in the report's order; each takes the
`LabRecords` (what ran and the records it left) and returns the section's lines. The
tables come from `mlp.lab.tables`, the figures from `mlp.lab.figures` and the sentences
of observations from `mlp.lab.readings`.
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlp import _checks
from mlp.datasets import DataError
from mlp.lab.figures import depth_figures, kernel_grid, learning_curves
from mlp.lab.inside import (
    best_model_mistakes,
    dead_units,
    first_layer_features,
    gradients_while_stuck,
    inside_the_cnn,
    saturation,
    softmax_templates,
)
from mlp.lab.readings import (
    depth_observations,
    final_value,
    init_observations,
    largest_differences,
    load_records,
    test_accuracy_of,
    trajectory,
)
from mlp.lab.tables import COMPARISON_HEADERS, comparison_rows, format_table, format_value
from mlp.lab.tasks import (
    ACTIVATIONS,
    CNN_ARCH,
    CNN_LEARNING_RATE,
    CNN_SEEDS,
    DEPTHS,
    FULL_EPOCHS,
    LAB_SEED,
    QUICK_EPOCHS,
    QUICK_TRAIN_EXAMPLES,
    LabTask,
)
from mlp.parallel import blas_threads
from mlp.runs import RunError, RunRecord, atomic_write_text, versions

__all__ = ["LabRecords", "write_report"]


@dataclass
class LabRecords:
    """What a lab ran and the run records it left, as every section reads them.

    Attributes:
        out: the lab's folder (figures are written there).
        tasks: the experiments, in the report's order.
        records: task name -> its record in OUT/runs (finished or not).
        quick, jobs: how the lab ran.
    """

    out: Path
    tasks: Sequence[LabTask]
    records: dict[str, RunRecord]
    quick: bool = False
    jobs: int = 2
    labels: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.labels = {task.name: task.label for task in self.tasks}

    @property
    def epochs(self) -> Mapping[str, int]:
        """Group -> epochs of its experiments."""
        return QUICK_EPOCHS if self.quick else FULL_EPOCHS

    @property
    def interval(self) -> int:
        """Epochs between statistics rows of exercises 1 to 3."""
        return 1 if self.quick else 5

    def group(self, name: str) -> list[LabTask]:
        """The tasks of one group ('ex1', 'ex2', ...), in order."""
        return [task for task in self.tasks if task.group == name]

    def runs_of(self, group: str) -> list[RunRecord]:
        """The records of a group's tasks that have one."""
        return [self.records[t.name] for t in self.group(group) if t.name in self.records]

    def curves(
        self, group: str, title: str, filename: str, names: Sequence[str] | None = None
    ) -> str:
        """The learning curves of a group's runs (or of `names`), as a markdown image."""
        if names is None:
            chosen = self.runs_of(group)
        else:
            chosen = [self.records[n] for n in names if n in self.records]
        return learning_curves(self.out, chosen, self.labels, title, filename)


def write_report(
    out: str | os.PathLike[str],
    tasks: Sequence[LabTask],
    *,
    wall_time: float,
    quick: bool = False,
    jobs: int = 2,
    results: Mapping[str, dict[str, Any]] | None = None,
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
    _checks.os_path(out, "out", "write_report")
    _checks.items(tasks, "tasks", "write_report", LabTask)
    wall_time = _checks.seconds(wall_time, "wall_time", "write_report")
    _checks.mapping(results, "results", "write_report")
    out = Path(out)
    lab = LabRecords(out, tasks, load_records(out / "runs", tasks), quick, jobs)
    lines = [
        *_header(lab, wall_time, kept),
        *_unfinished(lab, results or {}),
        *_all_models(lab),
        *_exercise1(lab),
        *_depth_study(lab),
        *_initialisation(lab),
        *_pytorch(lab),
        *_best_mlp(lab),
        *_cnn(lab),
        *_what_was_run(lab),
    ]
    path = out / "report.md"
    atomic_write_text(path, "\n".join(lines))
    return path


# --- the header -------------------------------------------------------------------------


def _versions(lab: LabRecords) -> dict[str, str]:
    found = versions("torch" if "torch" in sys.modules else "numpy")
    for record in lab.records.values():  # the workers, not this process, imported torch
        torch_version = ((record.summary or {}).get("versions") or {}).get("torch")
        if torch_version and "torch" not in found:
            found["torch"] = torch_version
    return found


def _how_it_ran(lab: LabRecords) -> str:
    if lab.jobs <= 1:
        return "one process, with the BLAS's own threads,"
    threads = blas_threads(lab.jobs)
    each = "one BLAS thread" if threads == 1 else f"{threads} BLAS threads"
    return f"{lab.jobs} worker processes, each limited to {each},"


def _header(lab: LabRecords, wall_time: float, kept: int) -> list[str]:
    """The title, when and how the lab ran, and what its numbers mean."""
    quick = lab.quick
    mode = (
        f"**quick mode**: every model trained on the first {QUICK_TRAIN_EXAMPLES:,} training "
        "images for 2 epochs, to check the pipeline; the figures mean little."
        if quick
        else "full mode, with the seed lab's settings."
    )
    found = _versions(lab)
    not_kept = f" for the {len(lab.tasks) - kept} experiments not finished by an earlier run"
    generated = (
        f"Generated by `mlp lab{' --quick' if quick else ''}` on "
        f"{time.strftime('%Y-%m-%d %H:%M')}: {mode} "
        f"Wall time {wall_time:.0f} s ({wall_time / 60:.1f} min)"
        + (not_kept if kept else "")
        + f" in {_how_it_ran(lab)} on {os.cpu_count()} CPU core(s) "
        f"({platform.machine()}). Python {found['python']}, mlp "
        f"{found['mlp']}, NumPy {found['numpy']}"
        + (f", PyTorch {found['torch']}" if "torch" in found else "")
        + ".\n"
    )
    lines = ["# mlp lab report\n", generated, _reading_guide(lab)]
    if not quick:
        epochs = lab.epochs
        lines.append(
            f"Epochs: exercise 1 {epochs['ex1']}, exercises 2 and 3 {epochs['ex2']} "
            f"(the seed's settings), initialisation study {epochs['init']}, PyTorch "
            f"experiment and twin {epochs['pytorch']}, best-effort MLP {epochs['best']}, "
            f"CNN {epochs['cnn']}: chosen to fit the whole lab in under 12 minutes on "
            "2 cores.\n"
        )
    return lines


def _reading_guide(lab: LabRecords) -> str:
    """Seeds, where the records are, and what the figures of the tables are."""
    measured = (
        f"with {lab.jobs} experiments running at once"
        if lab.jobs > 1
        else "with one experiment at a time"
    )
    images = (
        f"the first {QUICK_TRAIN_EXAMPLES:,} of the 50,000 training images, 10,000 "
        if lab.quick
        else "50,000 training, 10,000 "
    )
    return (
        f"Every experiment is seeded with {LAB_SEED} (the seed notebook's seed): initial "
        "weights, shuffles and dropout masks all follow from it, so running the lab again "
        "gives the same numbers. Each experiment's config, statistics, summary and curves "
        "are in `runs/NAME/` beside this report (`mlp plot` and `mlp compare` read them); "
        "the NumPy experiments also keep their final parameters, and `mlp train --config "
        "runs/NAME/config.toml --name NEW` repeats them. Errors are the mean cross-entropy "
        "per example; accuracies are fractions of examples classified correctly. 'Final' "
        "is the last recorded epoch, 'best' the best recorded one; s/epoch counts the "
        f"training passes only (statistics excluded), measured {measured}"
        " (and whatever else the machine was running). MNIST: "
        f"{images}validation and 10,000 test images, except in the PyTorch experiment "
        "(below).\n"
    )


def _unfinished(lab: LabRecords, results: Mapping[str, dict[str, Any]]) -> list[str]:
    """The experiments that did not finish, and why, when there are any."""
    failed = {n: r for n, r in results.items() if not r.get("finished")}
    missing = [
        t.name for t in lab.tasks if t.name not in lab.records or not lab.records[t.name].finished
    ]
    if not failed and not missing:
        return []
    lines = ["**Not finished:** " + ", ".join(sorted(set(missing) | set(failed))) + "."]
    lines += [f"- {name}: {r['error']}" for name, r in failed.items() if r.get("error")]
    return [*lines, ""]


def _all_models(lab: LabRecords) -> list[str]:
    """The main table: one row per run, in task order."""
    ordered = [lab.records[t.name] for t in lab.tasks if t.name in lab.records]
    return [
        "## All models\n",
        format_table(COMPARISON_HEADERS, comparison_rows(ordered), "markdown"),
    ]


# --- exercise 1 -------------------------------------------------------------------------


def _exercise1(lab: LabRecords) -> list[str]:
    """Softmax regression in two formulations, which must give the same curves."""
    intro = (
        "An affine layer followed by a `SoftmaxLayer` and trained on `CrossEntropyError`, "
        "and an affine layer trained on `CrossEntropySoftmaxError` (softmax folded into "
        "the error), from the same initial weights and biases (uniform +-0.01) and the same "
        "batches: the curves should be the same up to rounding, and the folded form cheaper. "
        "The third run is the seed's second cell (initial scale 0.1). Gradient descent, "
        f"learning rate 0.1, batch 100, {lab.epochs['ex1']} epochs, statistics every "
        f"{lab.interval} epochs.\n"
    )
    rows = []
    for record in lab.runs_of("ex1"):
        summary = record.summary or {}
        rows.append(
            [
                lab.labels[record.name],
                summary.get("seconds_per_epoch"),
                summary.get("run_time"),
                final_value(record, "error(valid)"),
                final_value(record, "acc(valid)"),
                (summary.get("test") or {}).get("acc"),
            ]
        )
    headers = [
        "formulation",
        "s/epoch",
        "total s (with statistics)",
        "final error(valid)",
        "final acc(valid)",
        "acc(test)",
    ]
    return [
        "## Exercise 1: softmax regression, two formulations\n",
        intro,
        lab.curves("ex1", "Exercise 1: softmax regression", "ex1.png"),
        format_table(headers, rows),
        *_formulations_compared(lab),
        *softmax_templates(
            lab.out, lab.records.get("ex1-ce-softmax"), lab.labels.get("ex1-ce-softmax", "")
        ),
    ]


def _formulations_compared(lab: LabRecords) -> list[str]:
    """How far apart the two formulations' curves are, and their times per epoch."""
    a, b = lab.records.get("ex1-softmax-layer"), lab.records.get("ex1-ce-softmax")
    if a is None or b is None or a.stats.shape != b.stats.shape:
        return []
    difference = largest_differences(a, b)
    worst = max(difference, key=difference.__getitem__)
    lines = [
        "Largest difference between the two formulations' curves, over every recorded "
        f"statistic and epoch: {difference[worst]:.2e} ({worst}); "
        + ", ".join(f"{k} {v:.1e}" for k, v in difference.items())
        + ". (float32 arithmetic; the two compute the same function by different roundings.)\n"
    ]
    time_a = (a.summary or {}).get("seconds_per_epoch")
    time_b = (b.summary or {}).get("seconds_per_epoch")
    if time_a and time_b:
        lines.append(
            f"Time per epoch: {time_a:.3f} s with the softmax layer, {time_b:.3f} s with "
            f"the folded error ({time_a / time_b:.2f}x).\n"
        )
    return lines


# --- exercises 2 and 3 ------------------------------------------------------------------


def _depth_names() -> dict[tuple[str, int], str]:
    """(activation, depth) -> the name of its task."""
    return {
        (act, depth): f"{'ex2' if act == 'sigmoid' else 'ex3'}-{act}-{depth}"
        for act in ACTIVATIONS
        for depth in DEPTHS
    }


def _depth_study(lab: LabRecords) -> list[str]:
    """Depth and non-linearity: figures, curves, a table, observations, the chosen model."""
    names = _depth_names()
    intro = (
        "Networks of 2 to 5 affine layers (1 to 4 hidden layers of width 100) with "
        "sigmoid, tanh and ReLU hidden layers, trained on `CrossEntropySoftmaxError`; "
        "initial weights and biases uniform +-0.1, gradient descent with learning rate "
        f"0.1, batch 100, {lab.epochs['ex2']} epochs, statistics every {lab.interval}.\n"
    )
    lines = ["## Exercises 2 and 3: depth and non-linearity\n", intro]

    def series(key: str) -> dict[str, list[float]]:
        return {
            act: [final_value(lab.records.get(names[act, d]), key) for d in DEPTHS]
            for act in ACTIVATIONS
        }

    accuracies = series("acc(valid)")
    if any(not math.isnan(v) for values in accuracies.values() for v in values):
        lines += depth_figures(lab.out, accuracies, series("error(train)"))
    for act in ACTIVATIONS:
        group = "ex2" if act == "sigmoid" else "ex3"
        runs = [names[act, d] for d in DEPTHS]
        title = f"{act} networks of 2 to 5 affine layers"
        lines.append(lab.curves(group, title, f"{act}_depths.png", runs))
    lines.append(_depth_table(lab, names))
    lines.append(depth_observations(lab.records, names))
    return lines + _chosen_by_validation(lab, names) + _inside_depths(lab, names)


def _inside_depths(lab: LabRecords, names: Mapping[tuple[str, int], str]) -> list[str]:
    """What the layer statistics show: vanishing gradients in the deep sigmoid network,
    saturation in the deepest tanh network, dead units in the deepest ReLU network."""
    depths = [d for d in (DEPTHS[0], DEPTHS[-1]) if names["sigmoid", d] in lab.records]
    lines = gradients_while_stuck(
        lab.out,
        [lab.records[names["sigmoid", d]] for d in depths],
        [f"{d}-layer sigmoid network" for d in depths],
    )

    def of(act: str) -> dict[str, RunRecord]:
        name, label = names[act, DEPTHS[-1]], f"{DEPTHS[-1]}-layer {act} network"
        return {label: lab.records[name]} if name in lab.records else {}

    lines += saturation(lab.out, of("tanh"))
    lines += dead_units(lab.out, of("relu"))
    if lines:
        intro = (
            "### Inside the networks\n\n"
            "Per-layer statistics measured on a fixed batch of 1,000 training images "
            "(`mlp train --layer-stats`; `layers.csv` in each run's record): the norm of "
            "each affine layer's weight gradient, the fraction of tanh outputs within 0.01 "
            "of +-1, the fraction of ReLU units that are 0 for every image of the batch.\n"
        )
        lines.insert(0, intro)
    return lines


def _depth_table(lab: LabRecords, names: Mapping[tuple[str, int], str]) -> str:
    """One row per depth; per activation its final training error, final (best)
    validation accuracy and time per epoch."""
    headers = ["affine layers"]
    for act in ACTIVATIONS:
        headers += [f"{act} final error(train)", f"{act} final acc(valid) (best)", f"{act} s/epoch"]
    table = []
    for depth in DEPTHS:
        row: list[Any] = [depth]
        for act in ACTIVATIONS:
            record = lab.records.get(names[act, depth])
            if record is None:
                row += ["-", "-", "-"]
                continue
            best_value = record.figures()["best"].get("acc(valid)", {}).get("value")
            best_text = f" ({best_value:.4f})" if best_value is not None else ""
            row += [
                format_value(final_value(record, "error(train)")),
                format_value(final_value(record, "acc(valid)")) + best_text,
                (record.summary or {}).get("seconds_per_epoch"),
            ]
        table.append(row)
    return format_table(headers, table)


def _chosen_by_validation(lab: LabRecords, names: Mapping[tuple[str, int], str]) -> list[str]:
    """The test accuracy of the one model of exercises 2 and 3 chosen on validation."""
    chosen = [
        lab.records[n]
        for n in names.values()
        if n in lab.records
        and lab.records[n].finished
        and not math.isnan(final_value(lab.records[n], "acc(valid)"))
    ]
    if not chosen:
        return []
    best = max(chosen, key=lambda r: final_value(r, "acc(valid)"))
    try:
        test_acc = test_accuracy_of(best)
    except (RunError, DataError, OSError, ValueError) as error:  # the report is still worth writing
        return [f"(Test accuracy of {best.name} unavailable: {error}.)\n"]
    return [
        f"The model chosen by final validation accuracy, **{lab.labels[best.name]}** "
        f"({best.name}: {final_value(best, 'acc(valid)'):.4f} valid), "
        f"scores **{test_acc:.4f}** on the test set (computed from its saved "
        "parameters; the test set was not looked at for any other model of these "
        "exercises).\n"
    ]


# --- the initialisation study -----------------------------------------------------------


def _initialisation(lab: LabRecords) -> list[str]:
    """The deepest sigmoid network from uniform scales, against Glorot's."""
    intro = (
        "The 5-affine-layer sigmoid network (4 hidden layers of 100) with every weight "
        "matrix drawn uniformly from +-scale for scales 0.01 to 1, against Glorot's "
        "per-layer scale (uniform on +-sqrt(6 / (fan_in + fan_out)): 0.082 for the first "
        "layer, 0.173 between hidden layers, 0.234 for the last); zero biases, gradient "
        f"descent with learning rate 0.1, batch 100, {lab.epochs['init']} epochs, statistics "
        f"every {1 if lab.quick else 2}.\n"
    )
    rows = [
        [
            lab.labels[record.name],
            final_value(record, "error(train)"),
            final_value(record, "error(valid)"),
            final_value(record, "acc(valid)"),
            record.figures()["best"].get("acc(valid)", {}).get("value"),
        ]
        for record in lab.runs_of("init")
    ]
    headers = [
        "initialisation",
        "final error(train)",
        "final error(valid)",
        "final acc(valid)",
        "best acc(valid)",
    ]
    return [
        "## Initialisation study\n",
        intro,
        lab.curves("init", "Initialisation: sigmoid, 5 affine layers", "init.png"),
        format_table(headers, rows),
        init_observations(lab.runs_of("init"), lab.labels),
    ]


# --- the PyTorch experiment -------------------------------------------------------------


def _pytorch(lab: LabRecords) -> list[str]:
    """The seed's PyTorch experiment and its NumPy twin, side by side."""
    intro = (
        "The seed's PyTorch experiment (`mlp.pytorch.run_seed_experiment`): 784-100-100-10 "
        "ReLU, `CrossEntropyLoss`, Adam 1e-3, batch 128, the 60,000 original training "
        "images split 48,000 / 12,000 by a seeded permutation, inputs normalised with "
        "mean 0.1307 and std 0.3081, test accuracy over all 10,000 test images; and the "
        "same experiment trained by the framework's `Optimiser` (`mlp.twin.run_numpy_twin`).\n"
    )
    lines = [
        "## The PyTorch experiment and its NumPy twin\n",
        intro,
        lab.curves("pytorch", "PyTorch and its NumPy twin", "pytorch.png"),
    ]
    rows = []
    for record in lab.runs_of("pytorch"):
        summary = record.summary or {}
        rows.append(
            [
                lab.labels[record.name],
                summary.get("backend"),
                summary.get("device"),
                summary.get("seconds_per_epoch"),
                final_value(record, "acc(valid)"),
                (summary.get("test") or {}).get("acc"),
            ]
        )
    if not rows:
        return [*lines, "(Not run: mlp.pytorch / mlp.twin unavailable.)\n"]
    headers = ["experiment", "backend", "device", "s/epoch", "final acc(valid)", "acc(test)"]
    return [*lines, format_table(headers, rows), *_twin_compared(lab)]


def _twin_compared(lab: LabRecords) -> list[str]:
    """The test accuracy gap and both validation-error trajectories."""
    seed_run, twin_run = lab.records.get("pytorch-seed"), lab.records.get("pytorch-twin")
    if seed_run is None or twin_run is None:
        return []
    seed_test = ((seed_run.summary or {}).get("test") or {}).get("acc")
    twin_test = ((twin_run.summary or {}).get("test") or {}).get("acc")
    if seed_test is None or twin_test is None:
        return []
    trajectories = [trajectory(seed_run, "PyTorch"), trajectory(twin_run, "the twin")]
    return [
        f"The twin's test accuracy is {100 * (twin_test - seed_test):+.2f} "
        f"percentage points from PyTorch's. {'; '.join(trajectories)}.\n"
    ]


# --- the best-effort MLP and the list of runs -------------------------------------------


def _best_mlp(lab: LabRecords) -> list[str]:
    """The best-effort MLP: its recipe, curves and test accuracy against the goal."""
    lines = ["## Best-effort MLP\n"]
    best_tasks = lab.group("best")
    best_task = best_tasks[0] if best_tasks else None
    if best_task is not None and best_task.config is not None:
        c = best_task.config
        lines.append(
            f"{c.architecture()} from the framework's own layers: input dropout "
            f"{c.input_dropout:g}, hidden dropout {c.dropout:g} (a mask per example), "
            f"{c.init} initial weights, Adam (learning rate {c.learning_rate:g}) with a "
            f"cosine schedule towards {c.lr_min:g} over {c.epochs} epochs, batch "
            f"{c.batch_size}, statistics every {c.stats_interval}.\n"
        )
    lines.append(lab.curves("best", "Best-effort MLP", "best.png"))
    record = lab.records.get(best_task.name) if best_task is not None else None
    if record is not None and record.summary:
        test = (record.summary.get("test") or {}).get("acc")
        goal = "meets" if test is not None and test >= 0.985 else "misses"
        lines.append(
            f"Test accuracy **{format_value(test)}** ({goal} the goal of 0.985); final "
            f"validation accuracy {format_value(final_value(record, 'acc(valid)'))}; "
            f"{format_value(record.summary.get('seconds_per_epoch'), 2)} s per epoch.\n"
        )
    label = lab.labels.get(best_task.name, "") if best_task is not None else ""
    lines += best_model_mistakes(lab.out, record)
    lines += first_layer_features(lab.out, record, label)
    return lines


# --- the convolutional network ---------------------------------------------------------

CNN_TARGET = 0.990
"""The mean test accuracy over `CNN_SEEDS` that the CNN aims at."""


def _cnn(lab: LabRecords) -> list[str]:
    """The small CNN over three seeds and in PyTorch, against the best MLP."""
    first = lab.group("cnn")[0].config if lab.group("cnn") else None
    epochs, batch = (first.epochs, first.batch_size) if first else (lab.epochs["cnn"], "-")
    intro = (
        f"A small convolutional network, `{CNN_ARCH}` (`mlp train --arch`): the images "
        "as 1x28x28, two 5x5 convolutions (16 then 32 channels, true convolutions) each "
        "followed by ReLU and 2x2 max pooling, a ReLU layer of 128 and the affine layer to "
        f"the classes; He-uniform initial kernels, Adam from {CNN_LEARNING_RATE:g} with a "
        f"cosine schedule to 0 over {epochs} epochs (what the lab's time budget allows), "
        f"batch {batch}, statistics before and after training. In NumPy with seeds "
        f"{', '.join(str(s) for s in CNN_SEEDS)}, and the same config on the torch backend "
        f"(`--backend torch`) with the first.\n"
    )
    lines = ["## A convolutional network\n", intro]
    runs = lab.runs_of("cnn")
    if not runs:
        return [*lines, "(Not run.)\n"]
    rows = [
        [
            lab.labels[record.name],
            (record.summary or {}).get("backend") or record.config.get("backend"),
            record.config.get("seed"),
            (record.summary or {}).get("seconds_per_epoch"),
            final_value(record, "acc(valid)"),
            ((record.summary or {}).get("test") or {}).get("acc"),
        ]
        for record in runs
    ]
    headers = ["run", "backend", "seed", "s/epoch", "final acc(valid)", "acc(test)"]
    lines += [format_table(headers, rows), *_cnn_compared(lab), *_cnn_kernels(lab)]
    lines += inside_the_cnn(
        lab.out, lab.records.get("cnn-seed1"), f"NumPy CNN (seed {CNN_SEEDS[0]})"
    )
    return lines


def _summary_floats(
    records: Sequence[RunRecord], entry: Callable[[dict[str, Any]], Any]
) -> list[float]:
    """`entry` of each record's summary, for the records that have it."""
    values = [entry(record.summary or {}) for record in records]
    return [float(value) for value in values if value is not None]


def _cnn_compared(lab: LabRecords) -> list[str]:
    """The NumPy CNN's mean test accuracy against the target and the best MLP, and its
    time per epoch against PyTorch's."""
    numpy_runs = [
        lab.records[t.name]
        for t in lab.group("cnn")
        if t.name in lab.records and t.notes.get("backend") == "numpy"
    ]
    tests = _summary_floats(numpy_runs, lambda s: (s.get("test") or {}).get("acc"))
    if not tests:
        return []
    mean = sum(tests) / len(tests)
    goal = "meets" if mean >= CNN_TARGET else "misses"
    sentence = (
        f"NumPy CNN test accuracy over {len(tests)} seed(s): "
        + ", ".join(f"{t:.4f}" for t in tests)
        + f"; mean **{mean:.4f}** ({goal} the target of {CNN_TARGET:.3f})"
    )
    best = lab.records.get("best-mlp")
    best_test = ((best.summary or {}).get("test") or {}).get("acc") if best else None
    if best_test is not None:
        sentence += (
            f", against {best_test:.4f} for the best-effort MLP "
            f"({100 * (mean - best_test):+.2f} percentage points)"
        )
    lines = [sentence + ".\n"]
    torch_run = lab.records.get("cnn-torch")
    numpy_times = _summary_floats(numpy_runs, lambda s: s.get("seconds_per_epoch"))
    torch_time = (torch_run.summary or {}).get("seconds_per_epoch") if torch_run else None
    if numpy_times and torch_time:
        numpy_time = sum(numpy_times) / len(numpy_times)
        lines.append(
            f"Time per epoch: {numpy_time:.1f} s in NumPy (mean over the seeds), "
            f"{torch_time:.1f} s in PyTorch on the same core count "
            f"({numpy_time / torch_time:.2f}x).\n"
        )
    return lines


def _cnn_kernels(lab: LabRecords) -> list[str]:
    """The first convolution's learned kernels of the first seed's NumPy run."""
    record = lab.records.get("cnn-seed1")
    if record is None or not record.finished:
        return []
    try:
        kernels = next(p for p in record.params() if p.ndim == 4)
    except (RunError, OSError, StopIteration, ValueError):  # the report is still worth writing
        return []
    title = f"First-layer kernels of the NumPy CNN (seed {CNN_SEEDS[0]})"
    return [
        kernel_grid(lab.out, kernels, title, "cnn_kernels.png"),
        "The first convolution's 16 kernels as stored, on one colour scale symmetric about "
        "0 (red positive, blue negative); a true convolution applies each one flipped "
        "left-right and upside-down, so the pattern it responds to is this image rotated "
        "by 180 degrees.\n",
    ]


def _what_was_run(lab: LabRecords) -> list[str]:
    """Every task's model, error, initialisation, rule, batch size and epochs."""
    rows: list[list[Any]] = []
    for task in lab.tasks:
        if task.config is None:
            rows.append([task.name, lab.labels[task.name], "see above", "-", "-", "-", "-"])
            continue
        c = task.config
        init = f"{c.init} {c.init_scale:g}" + (
            f", biases +-{c.bias_init_scale:g}" if c.bias_init_scale else ""
        )
        rule = f"{c.rule} {c.learning_rate:g}" + (
            f" ({c.schedule})" if c.schedule != "constant" else ""
        )
        rows.append([task.name, c.architecture(), c.error, init, rule, c.batch_size, c.epochs])
    headers = ["run", "model", "error", "initialisation", "rule", "batch", "epochs"]
    return ["## What was run\n", format_table(headers, rows)]
