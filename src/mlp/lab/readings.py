"""What the report reads off the run records: final and best figures, test accuracy,
and a few sentences of observations."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlp.lab.tasks import ACTIVATIONS, DEPTHS, LabTask
from mlp.runs import RunError, RunRecord


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


OVERFIT_RISE = 0.02
"""Final validation error this far (2%) above its minimum counts as having risen."""


def _valid_error_rise(record: RunRecord) -> tuple[Any, float] | None:
    """(epoch of the lowest validation error, rise of the final one above it as a
    fraction) when the final error is more than OVERFIT_RISE above the minimum, else
    None: the curve is still falling or flat at the end."""
    best = record.figures().get("best", {}).get("error(valid)") or {}
    final = _final(record, "error(valid)")
    if not best.get("value") or math.isnan(final):
        return None
    rise = final / best["value"] - 1
    return (best["epoch"], rise) if rise > OVERFIT_RISE else None


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
    overfit, still_falling = [], []
    for (activation, depth), name in names.items():
        record = records.get(name)
        if record is None:
            continue
        rise = _valid_error_rise(record)
        if rise is None:
            still_falling.append(f"{activation}-{depth}")
        else:
            overfit.append(
                f"{activation}-{depth} (lowest at epoch {rise[0]}, final {100 * rise[1]:.0f}% higher)"
            )
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
