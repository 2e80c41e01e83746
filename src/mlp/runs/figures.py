"""The figures of a run record: its learning curves, per-layer statistics (layers.csv),
activation histograms (activations.npz), first-layer weights (params.npz), and, for a
classifier, its confusion matrix and most confident mistakes on the validation or test
set. `mlp plot` draws one of them, `mlp show` all that apply.

    from mlp.runs.figures import write_run_figures
    written, skipped = write_run_figures(record, record.path / "figures")

Each function returns a `matplotlib.figure.Figure`, or raises a `RunError` saying why
the figure does not apply to the run (no layers.csv, unfinished, not a classifier).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp import _checks
from mlp.layer_stats import LayerStatsTable
from mlp.runs.errors import RunError
from mlp.runs.layout import ACTIVATIONS, LAYERS
from mlp.runs.model import predictions_of
from mlp.runs.record import RunRecord

__all__ = [
    "FIGURES",
    "confusion_figure",
    "histograms_figure",
    "layers_figure",
    "mistakes_figure",
    "weights_figure",
    "write_run_figures",
]

FIGURES = ("curves", "layers", "histograms", "weights", "confusion", "mistakes")
"""The figures of a run, as `write_run_figures` names their files (NAME.png)."""

_IMAGE_SHAPES = {"mnist": (28, 28), "fashion-mnist": (28, 28), "mnist-autoencoder": (28, 28)}
Predictions = tuple[np.ndarray, np.ndarray, np.ndarray]


def _checked(record: Any, owner: str) -> RunRecord:
    if not isinstance(record, RunRecord):
        raise TypeError(f"{owner}: record must be a RunRecord, got {type(record).__name__}")
    return record


def _layer_file(record: RunRecord, name: str) -> Path:
    path = record.path / name
    if not path.exists():
        raise RunError(
            f"{record.path} has no {name}: it was trained without layer statistics; "
            "train it with `mlp train --layer-stats` to record them"
        )
    return path


def _table(record: RunRecord) -> LayerStatsTable:
    _layer_file(record, LAYERS)  # missing: say how to record them
    table = record.layer_stats()
    if table is None or not len(table):
        raise RunError(f"{record.path / LAYERS} holds no measurement yet")
    return table


def layers_figure(records: Sequence[RunRecord], *, title: str | None = None) -> Any:
    """Per-layer gradient norms and saturated / dead fractions over the epochs of one
    or more runs (e.g. a NumPy run and its PyTorch twin, in different line styles)."""
    from mlp.diagnostic_plots import plot_layer_stats

    if isinstance(records, RunRecord):
        records = [records]
    if isinstance(records, (str, bytes)) or not isinstance(records, Sequence) or not records:
        raise TypeError(f"layers_figure: records must be a list of RunRecord, got {records!r:.60}")
    for index, record in enumerate(records):
        if not isinstance(record, RunRecord):
            raise TypeError(
                f"layers_figure: records[{index}] must be a RunRecord, got {type(record).__name__}"
            )
    tables = [_table(record) for record in records]
    labels = [r.label() for r in records]
    default = f"Per-layer statistics: {', '.join(labels)}"
    return plot_layer_stats(tables, labels if len(labels) > 1 else None, title=title or default)


def histograms_figure(record: RunRecord, *, title: str | None = None) -> Any:
    """Histograms of each layer's outputs at the first and latest measurement."""
    from mlp.diagnostic_plots import plot_activation_histograms

    record = _checked(record, "histograms_figure")
    _layer_file(record, ACTIVATIONS)
    samples = record.activation_samples()
    if not samples:
        raise RunError(f"{record.path / ACTIVATIONS} holds no samples yet")
    names = _table(record).layer_names() if (record.path / LAYERS).exists() else None
    default = f"{record.label()}: layer outputs at the start and end of training"
    return plot_activation_histograms(samples, names, title=title or default)


def _finished(record: RunRecord, what: str) -> None:
    if not record.finished:
        raise RunError(
            f"{record.path} has not finished, so it has no final model for its {what}; "
            f"continue it with: mlp train --resume {record.path}"
        )


def weights_figure(record: RunRecord, *, title: str | None = None) -> Any:
    """The first layer's final weights as images (units of an affine layer as 28x28
    images, or a convolution's kernels)."""
    from mlp.diagnostic_plots import plot_weight_images

    record = _checked(record, "weights_figure")
    _finished(record, "weights")
    dataset = record.experiment_config().dataset
    weights = next((p for p in record.params() if p.ndim in (2, 4)), None)
    if dataset not in _IMAGE_SHAPES or weights is None:
        raise RunError(f"{record.path} trained on {dataset!r}: its inputs are not images")
    default = f"{record.label()}: first-layer weights"
    try:
        return plot_weight_images(
            weights, image_shape=_IMAGE_SHAPES[dataset], title=title or default
        )
    except ValueError as error:  # e.g. an RBF layer in front: not one weight per pixel
        raise RunError(f"{record.path}: its first weights are not images ({error})") from None


def _predictions(record: RunRecord, split: str, given: Predictions | None) -> Predictions:
    record = _checked(record, "figure")
    _finished(record, "confusion matrix and mistakes")
    return given if given is not None else predictions_of(record, split)


def confusion_figure(
    record: RunRecord, split: str = "valid", *, predictions: Predictions | None = None
) -> Any:
    """The confusion matrix of the run's final model on its `split` ('valid', 'test');
    `predictions` as `predictions_of` gives them, when already computed."""
    from mlp.diagnostic_plots import plot_confusion_matrix
    from mlp.evaluation import confusion_matrix

    _, targets, probabilities = _predictions(record, split, predictions)
    matrix = confusion_matrix(targets, probabilities)
    accuracy = np.trace(matrix) / matrix.sum()
    title = f"{record.label()}: confusion matrix on {split} (accuracy {accuracy:.2%})"
    return plot_confusion_matrix(matrix, title=title)


def mistakes_figure(
    record: RunRecord,
    split: str = "valid",
    count: int = 16,
    *,
    predictions: Predictions | None = None,
) -> Any:
    """The `count` most confidently misclassified examples of `split`, with their true
    and predicted labels and the probability given to the prediction."""
    from mlp.diagnostic_plots import plot_misclassified
    from mlp.evaluation import most_confident_mistakes

    inputs, targets, probabilities = _predictions(record, split, predictions)
    worst = most_confident_mistakes(probabilities, targets, count)
    predicted = probabilities[worst].argmax(axis=1)
    return plot_misclassified(
        inputs[worst],
        targets[worst],
        predicted,
        probabilities[worst, predicted],
        title=f"{record.label()}: the {len(worst)} most confident mistakes on {split}",
    )


def _classifies(record: RunRecord) -> bool:
    """Whether the run's data set has classes (a RunError when its config is missing)."""
    return record.experiment_config().classifies()


def write_run_figures(
    record: RunRecord, out: str | Path, split: str = "valid"
) -> tuple[list[Path], dict[str, str]]:
    """Write every figure of `FIGURES` that applies to the run into folder `out`
    (created), as NAME.png.

    Returns:
        (written, skipped): the files written, in `FIGURES` order, and name -> why
        for each figure that does not apply.
    """
    from mlp.plotting import plot_stats, save_figure

    record = _checked(record, "write_run_figures")
    out = Path(_checks.path(out, "out", "write_run_figures"))
    out.mkdir(parents=True, exist_ok=True)
    cache: dict[str, Predictions] = {}

    def predicted() -> Predictions:
        if "p" not in cache:
            cache["p"] = _predictions(record, split, None)
        return cache["p"]

    draw = {
        "curves": lambda: plot_stats(
            record.stats, record.keys, epochs=record.epochs, title=record.label()
        ),
        "layers": lambda: layers_figure([record]),
        "histograms": lambda: histograms_figure(record),
        "weights": lambda: weights_figure(record),
        "confusion": lambda: confusion_figure(record, split, predictions=predicted()),
        "mistakes": lambda: mistakes_figure(record, split, predictions=predicted()),
    }
    written, skipped = [], {}
    for name in FIGURES:
        try:
            if name in ("confusion", "mistakes") and not _classifies(record):
                skipped[name] = "not a classifier"
                continue
            fig = draw[name]()
        except RunError as error:
            skipped[name] = str(error)
            continue
        save_figure(fig, out / f"{name}.png")
        written.append(out / f"{name}.png")
    return written, skipped
