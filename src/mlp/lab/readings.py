"""What the report reads off the run records: final and best figures, test accuracy,
and the sentences of observations (which runs overfit, which depth did best, how far
apart two formulations' curves are)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp.lab.tasks import ACTIVATIONS, DEPTHS, LabTask
from mlp.runs import RunError, RunRecord

__all__ = [
    "OVERFIT_RISE",
    "best_epoch",
    "depth_observations",
    "final_value",
    "init_observations",
    "largest_differences",
    "load_records",
    "test_accuracy_of",
    "trajectory",
    "valid_error_rise",
]

OVERFIT_RISE = 0.02
"""Final validation error this far (2%) above its minimum counts as having risen."""


def load_records(runs_dir: Path, tasks: Sequence[LabTask]) -> dict[str, RunRecord]:
    """Task name -> its run record in `runs_dir`, for every task that has one (finished
    or not); folders that are not readable records are left out."""
    records = {}
    for task in tasks:
        path = runs_dir / task.name
        if (path / "stats.csv").exists():
            with contextlib.suppress(RunError):
                records[task.name] = RunRecord.load(path)
    return records


def final_value(record: RunRecord | None, key: str) -> float:
    """The statistic `key` (e.g. 'acc(valid)') at the last recorded epoch; nan when the
    record or the statistic is missing."""
    if record is None:
        return float("nan")
    value = record.figures().get("final", {}).get(key)
    return float(value) if value is not None else float("nan")


def best_epoch(record: RunRecord, key: str) -> Any:
    """The epoch of the best value of `key` (lowest error, highest accuracy), or None."""
    return (record.figures().get("best", {}).get(key) or {}).get("epoch")


def valid_error_rise(record: RunRecord) -> tuple[Any, float] | None:
    """(epoch of the lowest validation error, rise of the final one above it as a
    fraction) when the final error is more than OVERFIT_RISE above the minimum, that is,
    the run overfits; else None: the curve is still falling or flat at the end."""
    best = record.figures().get("best", {}).get("error(valid)") or {}
    final = final_value(record, "error(valid)")
    if not best.get("value") or math.isnan(final):
        return None
    rise = final / best["value"] - 1
    return (best["epoch"], rise) if rise > OVERFIT_RISE else None


def trajectory(record: RunRecord, label: str) -> str:
    """A clause on the run's validation error: where it is lowest, and whether it ends
    more than OVERFIT_RISE above that (it overfits) or within it."""
    rise = valid_error_rise(record)
    last = int(record.epochs[-1]) if len(record.epochs) else 0
    ending = (
        f" and ends {100 * rise[1]:.0f}% higher (it overfits)"
        if rise is not None
        else f" and ends within {100 * OVERFIT_RISE:.0f}% of that"
    )
    return (
        f"{label}'s validation error is lowest at epoch "
        f"{best_epoch(record, 'error(valid)')} of {last}{ending}"
    )


def largest_differences(a: RunRecord, b: RunRecord) -> dict[str, float]:
    """Statistic -> the largest absolute difference between two runs' curves over every
    recorded epoch, for the statistics of `a` (both records must have the same rows)."""
    return {
        key: float(np.max(np.abs(a.stats[:, column] - b.stats[:, b.keys[key]])))
        for key, column in a.keys.items()
    }


def _depth_extremes(
    records: Mapping[str, RunRecord], names: Mapping[tuple[str, int], str]
) -> list[str]:
    """Per activation: the depths with the best and the worst final validation accuracy."""
    sentences = []
    for activation in ACTIVATIONS:
        finals = {
            depth: final_value(records.get(names[activation, depth]), "acc(valid)")
            for depth in DEPTHS
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
    return sentences


def _overfitting(
    records: Mapping[str, RunRecord], names: Mapping[tuple[str, int], str]
) -> list[str]:
    """Which runs overfit (validation error rising at the end), and which do not."""
    overfit, still_falling = [], []
    for (activation, depth), name in names.items():
        record = records.get(name)
        if record is None:
            continue
        rise = valid_error_rise(record)
        if rise is None:
            still_falling.append(f"{activation}-{depth}")
        else:
            overfit.append(
                f"{activation}-{depth} (lowest at epoch {rise[0]}, final {100 * rise[1]:.0f}% higher)"
            )
    sentences = []
    if overfit:
        sentences.append(
            "Validation error reaches its minimum and then rises (by more than "
            f"{100 * OVERFIT_RISE:.0f}% by the last epoch), that is, the model overfits, "
            "for: " + ", ".join(overfit) + "."
        )
    if still_falling:
        sentences.append(
            "Validation error ends within that margin of its minimum for: "
            + ", ".join(still_falling)
            + "."
        )
    return sentences


def depth_observations(
    records: Mapping[str, RunRecord], names: Mapping[tuple[str, int], str]
) -> str:
    """A few sentences read off the exercise 2 and 3 results.

    Args:
        records: task name -> run record; names: (activation, depth) -> task name.
    """
    sentences = _depth_extremes(records, names) + _overfitting(records, names)
    return (" ".join(sentences) + "\n") if sentences else ""


def init_observations(records: Sequence[RunRecord], labels: Mapping[str, str]) -> str:
    """A few sentences read off the initialisation study."""
    finals = {r.name: final_value(r, "acc(valid)") for r in records}
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


def test_accuracy_of(record: RunRecord) -> float:
    """Test accuracy of a finished numpy-backend run, from its saved parameters."""
    from mlp.config import build_experiment
    from mlp.optimisers import accuracy

    config = record.experiment_config()
    experiment = build_experiment(config)
    params = record.params()
    for param, saved in zip(experiment.model.params, params, strict=True):
        param[...] = saved
    experiment.model.load_state(record.state())  # running statistics, where kept
    data = experiment.test_data()
    return accuracy(experiment.model.predict(data.inputs), data.targets)
