"""The report's look inside the networks: figures and sentences read off the layer
statistics (layers.csv), the saved weights and the best model's predictions.

Each function takes the lab's folder (figures are written there), the records it
needs and their labels, and returns markdown lines; a record without what a function
reads (no layer statistics, not finished) gives no lines, so that the report is still
written for an interrupted lab.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp.datasets import DataError
from mlp.lab.layer_readings import (
    confusion_statement,
    dead_units_statement,
    saturation_statement,
    templates_statement,
    vanishing_gradients_statement,
)
from mlp.layer_stats import LayerStatsTable
from mlp.runs import RunError, RunRecord

__all__ = [
    "best_model_mistakes",
    "dead_units",
    "first_layer_features",
    "gradients_while_stuck",
    "inside_the_cnn",
    "saturation",
    "softmax_templates",
]

GRADIENT_EPOCHS = 40
"""Exercise 2's gradient figure shows the first this many epochs (where the deep
sigmoid network sits near chance, then starts to learn)."""


def _table(record: RunRecord | None) -> LayerStatsTable | None:
    """The record's layer statistics, or None when it has none (or they are damaged)."""
    if record is None:
        return None
    try:
        table = record.layer_stats()
    except (RunError, OSError):
        return None
    return table if table is not None and len(table) else None


def _save(out: Path, name: str, fig: Any) -> str:
    from mlp.plotting import save_figure

    save_figure(fig, out / name)
    return name


def _accuracy(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, validation accuracies) of a record's statistics rows."""
    return record.epochs, record.stats[:, record.keys["acc(valid)"]]


def gradients_while_stuck(
    out: Path, records: Sequence[RunRecord], labels: Sequence[str]
) -> list[str]:
    """Exercise 2: validation accuracy beside each network's per-layer weight-gradient
    norms over the first `GRADIENT_EPOCHS` epochs, and for each network a sentence on
    its first layer's gradient against its last layer's while it is stuck."""
    chosen: list[tuple[RunRecord, str, LayerStatsTable]] = []
    for record, label in zip(records, labels, strict=True):
        table = _table(record)
        if table is not None:
            chosen.append((record, label, table))
    if not chosen:
        return []
    fig = _gradient_figure(chosen)
    lines = [f"![gradients per layer]({_save(out, 'sigmoid_gradients.png', fig)})\n"]
    for record, label, table in chosen:
        epochs, accuracies = _accuracy(record)
        lines.append(vanishing_gradients_statement(table, epochs, accuracies, label) + "\n")
    return lines


def _gradient_figure(chosen: Sequence[tuple[RunRecord, str, LayerStatsTable]]) -> Any:
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(4.6 * (1 + len(chosen)), 4.0), layout="constrained")
    axes = fig.subplots(1, 1 + len(chosen), squeeze=False)[0]
    for record, label, _ in chosen:
        epochs, accuracies = _accuracy(record)
        keep = epochs <= GRADIENT_EPOCHS
        axes[0].plot(epochs[keep], accuracies[keep], marker="o", label=label)
    axes[0].set(xlabel="Epoch", ylabel="Accuracy (valid)", title="Validation accuracy")
    axes[0].legend(fontsize=8)
    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax, (_, label, table) in zip(axes[1:], chosen, strict=True):
        for layer in table.applies("param_grad_norm"):
            epochs, norms = table.series(layer, "param_grad_norm")
            keep = epochs <= GRADIENT_EPOCHS
            ax.plot(epochs[keep], norms[keep], label=f"affine layer {layer // 2 + 1}")
        ax.set_yscale("log")
        ax.set(xlabel="Epoch", ylabel="‖dE/dW‖ (weights and biases)", title=label)
        ax.legend(fontsize=8)
    fig.suptitle(f"Sigmoid networks: accuracy and gradient norms, first {GRADIENT_EPOCHS} epochs")
    return fig


def _fraction_figure(
    out: Path, chosen: Sequence[tuple[str, LayerStatsTable]], column: str, name: str, title: str
) -> str:
    from mlp.diagnostic_plots import plot_layer_stats

    labels = [label for label, _ in chosen]
    fig = plot_layer_stats([t for _, t in chosen], labels, columns=[column], title=title)
    return f"![{title}]({_save(out, name, fig)})\n"


def saturation(out: Path, records: Mapping[str, RunRecord]) -> list[str]:
    """Exercise 3: the saturated fraction of the hidden layers of tanh networks
    (`records`: label -> record, e.g. '5-layer tanh network') over training, and a
    sentence per network."""
    return _fractions(
        out, records, "saturated_fraction", saturation_statement, "tanh_saturation.png"
    )


def dead_units(out: Path, records: Mapping[str, RunRecord]) -> list[str]:
    """Exercise 3: the dead fraction of the hidden layers of ReLU networks (`records`:
    label -> record) over training, and a sentence per network."""
    return _fractions(out, records, "dead_fraction", dead_units_statement, "relu_dead.png")


def _fractions(
    out: Path, records: Mapping[str, RunRecord], column: str, statement: Any, name: str
) -> list[str]:
    chosen = [(label, _table(r)) for label, r in records.items()]
    tables = [(label, t) for label, t in chosen if t is not None and t.applies(column)]
    if not tables:
        return []
    what = "saturated outputs" if column == "saturated_fraction" else "dead units"
    title = f"Fraction of {what} per hidden layer"
    if len(tables) == 1:
        title += f", {tables[0][0]}"
    lines = [_fraction_figure(out, tables, column, name, title)]
    return lines + [statement(table, label) + "\n" for label, table in tables]


def inside_the_cnn(out: Path, record: RunRecord | None, label: str) -> list[str]:
    """The CNN: each layer's parameter-gradient norm and each ReLU's dead fraction over
    its epochs (a unit of a convolution's ReLU is one channel at one position), and a
    sentence on the dead units."""
    table = _table(record)
    if table is None:
        return []
    from mlp.diagnostic_plots import plot_layer_stats

    title = f"Inside the {label}: gradient norms and dead units per layer"
    columns = ("param_grad_norm", "dead_fraction")
    fig = plot_layer_stats(table, columns=columns, title=title)
    return [
        f"![{title}]({_save(out, 'cnn_layers.png', fig)})\n",
        dead_units_statement(table, label) + "\n",
    ]


def softmax_templates(out: Path, record: RunRecord | None, label: str) -> list[str]:
    """Exercise 1: the ten learned templates of softmax regression as images."""
    weights = _first_weights(record)
    if weights is None:
        return []
    from mlp.diagnostic_plots import plot_weight_images

    title = f"Learned templates: {label}"
    fig = plot_weight_images(weights, columns=10, title=title)
    return [
        f"![{title}]({_save(out, 'softmax_templates.png', fig)})\n",
        "Each image is one class's row of the weight matrix, on one colour scale symmetric "
        "about 0 (red positive, blue negative): a digit's score is the sum of its template "
        "times the image, so red strokes are pixels that raise it and blue ones lower it.\n",
        *_templates_read_off(record, weights),
    ]


def _templates_read_off(record: RunRecord | None, weights: np.ndarray) -> list[str]:
    """The templates against the training images of the run's own data."""
    from mlp.config import build_experiment

    try:
        data = build_experiment(record.experiment_config()).train_data  # type: ignore[union-attr]
        inputs, labels = np.asarray(data.inputs), np.asarray(data.targets)
    except (RunError, DataError, OSError, ValueError, AttributeError):
        return []
    if labels.ndim == 2:  # one-of-K rows
        labels = labels.argmax(axis=1)
    return [templates_statement(weights, inputs, labels) + "\n"]


def first_layer_features(out: Path, record: RunRecord | None, label: str) -> list[str]:
    """The best model: the first 64 units of its first hidden layer as images."""
    weights = _first_weights(record)
    if weights is None:
        return []
    from mlp.diagnostic_plots import plot_weight_images

    title = f"First-layer feature detectors: {label}"
    fig = plot_weight_images(weights, max_images=64, title=title)
    return [f"![{title}]({_save(out, 'best_features.png', fig)})\n"]


def _first_weights(record: RunRecord | None) -> np.ndarray | None:
    if record is None or not record.finished:
        return None
    try:
        return next((p for p in record.params() if p.ndim == 2), None)
    except (RunError, OSError):
        return None


def best_model_mistakes(out: Path, record: RunRecord | None) -> list[str]:
    """The best model on the test set: its confusion matrix, a sentence on its most
    frequent confusions, and its most confident mistakes."""
    if record is None or not record.finished:
        return []
    from mlp.evaluation import confusion_matrix
    from mlp.runs.figures import confusion_figure, mistakes_figure
    from mlp.runs.model import predictions_of

    try:
        predictions = predictions_of(record, "test")
    except (RunError, DataError, OSError, ValueError) as error:
        return [f"(Confusion matrix unavailable: {error}.)\n"]
    matrix = confusion_matrix(predictions[1], predictions[2])
    confusion = confusion_figure(record, "test", predictions=predictions)
    mistakes = mistakes_figure(record, "test", predictions=predictions)
    return [
        f"![confusion matrix]({_save(out, 'best_confusion.png', confusion)})\n",
        confusion_statement(matrix) + "\n",
        f"![most confident mistakes]({_save(out, 'best_mistakes.png', mistakes)})\n",
    ]
