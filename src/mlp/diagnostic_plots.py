"""Figures that look inside a trained network: per-layer statistics over training, the
first layer's weights as images, a confusion matrix, the worst mistakes, and
activation histograms.

    from mlp.diagnostic_plots import plot_layer_stats, plot_weight_images
    from mlp.plotting import save_figure

    fig = plot_layer_stats([numpy_table, torch_table], ["numpy", "torch"])
    fig = plot_weight_images(model.layers[0].weights)      # (num_units, 784) -> 28x28 images
    save_figure(fig, "weights.png")

Like `mlp.plotting`, every function builds a `matplotlib.figure.Figure` without pyplot
(no display needed, pyplot's state left alone); every figure has a title and labelled
axes. Signed values (weights) are drawn on one colour scale symmetric about 0: blue
negative, white 0, red positive, so that signs and sizes compare across images.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlp import _checks
from mlp.evaluation import labels_of
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable

__all__ = [
    "COLUMN_LABELS",
    "LAYER_STATS_COLUMNS",
    "plot_activation_histograms",
    "plot_confusion_matrix",
    "plot_layer_stats",
    "plot_misclassified",
    "plot_weight_images",
]

LAYER_STATS_COLUMNS: tuple[str, ...] = (
    "output_grad_norm",
    "param_grad_norm",
    "saturated_fraction",
    "dead_fraction",
    "negative_fraction",
)
"""The statistics `plot_layer_stats` draws by default (those measured for some layer)."""

COLUMN_LABELS: dict[str, str] = {
    "output_grad_norm": "‖dE/d outputs‖",
    "param_grad_norm": "‖dE/d parameters‖",
    "update_ratio": "‖Δparameters‖ / ‖parameters‖",
    "activation_mean": "Mean output",
    "activation_std": "Standard deviation of outputs",
    "saturated_fraction": "Fraction of outputs saturated",
    "dead_fraction": "Fraction of units dead",
    "negative_fraction": "Fraction of inputs < 0",
}
"""The axis label of each statistic of `LAYER_COLUMNS`."""

_LOG_COLUMNS = ("output_grad_norm", "param_grad_norm", "update_ratio")
_FRACTIONS = ("saturated_fraction", "dead_fraction", "negative_fraction")
_LINE_STYLES: tuple[Any, ...] = ("-", "--", ":", "-.")
_EPOCH_LABEL = "Epoch number"


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _colour(index: int) -> Any:
    from matplotlib import colormaps

    return colormaps["tab10"](index % 10)


# --- per-layer statistics ----------------------------------------------------------------


def _check_tables(
    tables: Any, labels: Any, columns: Any
) -> tuple[list[LayerStatsTable], list[str]]:
    owner = "plot_layer_stats"
    if isinstance(tables, LayerStatsTable):
        tables = [tables]
    _checks.items(tables, "tables", owner, LayerStatsTable)
    if not tables or not all(len(t) for t in tables):
        raise ValueError(f"{owner}: tables must hold at least one non-empty LayerStatsTable")
    if labels is None:
        labels = [f"run {i + 1}" for i in range(len(tables))] if len(tables) > 1 else [""]
    _checks.items(labels, "labels", owner, str)
    if len(labels) != len(tables):
        raise ValueError(f"{owner}: {len(labels)} labels for {len(tables)} tables")
    _checks.items(columns, "columns", owner, str)
    for column in columns:
        _checks.choice(column, "columns", owner, LAYER_COLUMNS)
    if not columns:
        raise ValueError(f"{owner}: columns must name at least one of {LAYER_COLUMNS}")
    return list(tables), list(labels)


def plot_layer_stats(
    tables: LayerStatsTable | Sequence[LayerStatsTable],
    labels: Sequence[str] | None = None,
    *,
    columns: Sequence[str] = LAYER_STATS_COLUMNS,
    title: str | None = None,
) -> Any:
    """Per-layer statistics against epochs: one panel per statistic, one colour per
    layer, one line style per table (solid, dashed, ...), e.g. a NumPy run and its
    PyTorch twin. Gradient norms and update ratios on a log scale, fractions on [0, 1].

    Args:
        tables: a `LayerStatsTable` or a list of them (rows (epoch, layer) as
            `mlp.layer_stats` describes).
        labels: one legend label per table; default 'run 1', 'run 2', ...
        columns: statistics of `LAYER_COLUMNS` to draw; those measured for no layer
            (all NaN, e.g. dead_fraction of a sigmoid network) are left out.
        title: drawn above the panels.
    Returns:
        A Figure. Each line's gid is 'TABLE:LAYER:COLUMN' (TABLE the index in
        `tables`), its data `table.series(LAYER, COLUMN)`.
    Raises:
        TypeError, ValueError: naming the argument; ValueError when no column applies.
    """
    tables, labels = _check_tables(tables, labels, columns)
    drawn = [c for c in columns if any(t.applies(c) for t in tables)]
    if not drawn:
        raise ValueError(f"plot_layer_stats: none of columns {list(columns)} was measured")
    # Only the layers some panel draws get a colour and a legend entry.
    names: dict[int, str] = {}
    for table in tables:
        shown = {layer for column in drawn for layer in table.applies(column)}
        for layer, name in table.layer_names().items():
            if layer in shown:
                names.setdefault(layer, name)
    ncols = 2 if len(drawn) == 4 else min(3, len(drawn))
    nrows = math.ceil(len(drawn) / ncols)
    legend_columns = max(1, min(4, ncols * 2))
    fig = _figure(4.8 * ncols, 3.4 * nrows + 0.5 + 0.22 * math.ceil(len(names) / legend_columns))
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, column in zip(axes, drawn, strict=False):
        for t, table in enumerate(tables):
            for layer in table.applies(column):
                epochs, values = table.series(layer, column)
                ax.plot(
                    epochs,
                    values,
                    color=_colour(sorted(names).index(layer)),
                    linestyle=_LINE_STYLES[t % len(_LINE_STYLES)],
                    marker="o" if len(epochs) < 3 else None,
                    gid=f"{t}:{layer}:{column}",
                )
        _layer_stats_axes(ax, column)
    for ax in axes[len(drawn) :]:
        ax.set_axis_off()
    _layer_stats_legend(fig, names, labels, legend_columns)
    fig.suptitle(title or "Per-layer statistics over training")
    return fig


def _layer_stats_axes(ax: Any, column: str) -> None:
    from matplotlib.ticker import MaxNLocator

    if column in _LOG_COLUMNS:
        ax.set_yscale("log")
    if column in _FRACTIONS:
        # Fractions start at 0; the top follows the data (a few percent saturated would
        # be a flat line on [0, 1]), up to 1.
        drawn = [np.nanmax(line.get_ydata()) for line in ax.get_lines() if len(line.get_ydata())]
        largest = max([v for v in drawn if np.isfinite(v)], default=1.0)
        top = min(1.03, max(0.02, 1.15 * largest))
        ax.set_ylim(-0.03 * top, top)
    ax.set_xlabel(_EPOCH_LABEL)
    ax.set_ylabel(COLUMN_LABELS[column])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, alpha=0.3)


def _layer_stats_legend(
    fig: Any, names: Mapping[int, str], labels: Sequence[str], columns: int
) -> None:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=_colour(i), label=f"layer {layer}: {names[layer]}")
        for i, layer in enumerate(sorted(names))
    ]
    if len(labels) > 1:  # the line styles say which table
        handles += [
            Line2D([], [], color="0.3", linestyle=_LINE_STYLES[t % 4], label=label)
            for t, label in enumerate(labels)
        ]
    fig.legend(handles=handles, loc="outside lower center", ncol=columns, fontsize="small")


# --- images on a grid --------------------------------------------------------------------


def _images_of(weights: Any, image_shape: Any, owner: str) -> np.ndarray:
    """Weights as images (n, height, width): the rows or columns of a 2-D array whose
    length is the image's pixels, the (output, input) kernels of a 4-D array, or a 3-D
    array as it is."""
    array = _checks.number_array(weights, "weights", owner).astype(np.float64)
    if array.ndim == 4:
        return array.reshape(-1, *array.shape[-2:])
    if array.ndim == 3:
        return array
    if array.ndim != 2:
        raise ValueError(
            f"{owner}: weights must be 2-D (num_units, input_dim) or (input_dim, num_units), "
            f"3-D (n, height, width) or 4-D kernels (n, c, height, width); got {array.shape}"
        )
    shape = _checks.shape(image_shape, "image_shape", owner)
    pixels = math.prod(shape)
    if len(shape) != 2 or pixels == 0:
        raise ValueError(f"{owner}: image_shape must be (height, width), got {image_shape!r}")
    if array.shape[1] != pixels and array.shape[0] == pixels:
        array = array.T  # (input_dim, num_units): one column per unit
    if array.shape[1] != pixels:
        raise ValueError(
            f"{owner}: weights of shape {array.shape} have no side of "
            f"{pixels} = prod(image_shape {tuple(shape)}) inputs"
        )
    return array.reshape(-1, *shape)


def _image_grid(count: int, columns: int | None, cell: float, extra: float) -> tuple[Any, Any]:
    columns = columns or (count if count <= 5 else 5 if count <= 10 else 8)
    columns = max(1, min(columns, count))
    rows = math.ceil(count / columns)
    fig = _figure(cell * columns + extra, cell * rows + 0.9)
    axes = fig.subplots(rows, columns, squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= count:
            ax.set_axis_off()
    return fig, axes


def _weight_labels(fig: Any, units: bool, count: int, shown: int, title: str | None) -> None:
    """The caption under a weight grid and its title, for units or kernels."""
    if units:
        fig.supxlabel("one image per unit: its weight on each input pixel", fontsize=9)
    else:
        caption = "one image per kernel and input channel: its weight at each offset"
        fig.supxlabel(caption, fontsize=9)
    more = f" (first {shown} shown)" if shown < count else ""
    fig.suptitle(title or f"First-layer weights: {count} {'units' if units else 'kernels'}{more}")


def plot_weight_images(
    weights: np.ndarray,
    *,
    image_shape: tuple[int, int] = (28, 28),
    max_images: int = 64,
    columns: int | None = None,
    label: str = "weight",
    title: str | None = None,
) -> Any:
    """The first layer's weights as a grid of images on one colour scale symmetric
    about 0, with a colour bar: the templates of softmax regression, the feature
    detectors of a hidden layer, the kernels of a convolution.

    Args:
        weights: (num_units, input_dim) as `AffineLayer.weights`, or (input_dim,
            num_units), with input_dim = height * width of `image_shape` (a square
            array is read as (num_units, input_dim)); or kernels (n, c, height, width),
            one image per (output, input) channel pair; or images (n, height, width).
        image_shape: (height, width) of one image of a 2-D `weights`.
        max_images: the first this many images are drawn.
        columns: images per row; default 5 for up to 10 images, else 8.
        label: the colour bar's label.
        title: default 'First-layer weights: N units'.
    Returns:
        A Figure; image i (titled i) is `ax.images[0]` of the i-th axes, its array the
        i-th unit's weights reshaped to `image_shape`, its colour limits (-m, m), m the
        largest absolute weight drawn.
    """
    owner = "plot_weight_images"
    images = _images_of(weights, image_shape, owner)
    max_images = _checks.count(max_images, "max_images", owner, 1)
    if columns is not None:
        columns = _checks.count(columns, "columns", owner, 1)
    if not isinstance(label, str):
        raise TypeError(f"{owner}: label must be a str, got {type(label).__name__}")
    if len(images) == 0 or images[0].size == 0:
        raise ValueError(f"{owner}: weights of shape {np.shape(weights)} hold no images")
    shown = images[:max_images]
    if not np.isfinite(shown).all():
        raise ValueError(f"{owner}: weights hold NaN or infinite values")
    limit = float(np.max(np.abs(shown))) or 1.0
    fig, axes = _image_grid(len(shown), columns, 1.2, 1.3)
    image = None
    for index, ax in enumerate(axes.flat[: len(shown)]):
        image = ax.imshow(shown[index], cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(str(index), fontsize=8, pad=2)
    fig.colorbar(image, ax=axes, shrink=0.8, label=label)
    _weight_labels(fig, np.ndim(weights) == 2, len(images), len(shown), title)
    return fig


# --- judging a classifier ----------------------------------------------------------------


def plot_confusion_matrix(
    matrix: np.ndarray, *, class_names: Sequence[str] | None = None, title: str | None = None
) -> Any:
    """A confusion matrix: counts in the cells, shaded by count; rows the true class,
    columns the predicted class (as `mlp.evaluation.confusion_matrix` gives it).

    Args:
        matrix: (K, K) counts >= 0.
        class_names: K names; default '0', '1', ...
        title: default 'Confusion matrix: accuracy A% of N examples'.
    Returns:
        A Figure; the cell (i, j) text is `ax.texts[i * K + j]`, the count as written.
    """
    owner = "plot_confusion_matrix"
    counts = _checks.number_array(matrix, "matrix", owner)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] == 0:
        raise ValueError(f"{owner}: matrix must be square (K, K) with K >= 1, got {counts.shape}")
    if not np.isfinite(counts).all() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError(f"{owner}: matrix must hold counts (whole numbers >= 0)")
    k = counts.shape[0]
    names = [str(i) for i in range(k)] if class_names is None else class_names
    _checks.items(names, "class_names", owner, str)
    if len(names) != k:
        raise ValueError(f"{owner}: {len(names)} class_names for a {k}x{k} matrix")
    counts = counts.astype(np.int64)
    side = max(4.0, 0.55 * k + 2.2)
    fig = _figure(side + 1.0, side)
    ax = fig.subplots()
    image = ax.imshow(counts, cmap="Blues", vmin=0, vmax=max(int(counts.max()), 1))
    threshold = counts.max() / 2
    for i in range(k):
        for j in range(k):
            colour = "white" if counts[i, j] > threshold else "black"
            ax.text(j, i, str(counts[i, j]), ha="center", va="center", color=colour, fontsize=8)
    ax.set_xticks(range(k), names)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    fig.colorbar(image, ax=ax, shrink=0.8, label="examples")
    total = int(counts.sum())
    accuracy = np.trace(counts) / total if total else math.nan
    ax.set_title(title or f"Confusion matrix: accuracy {accuracy:.2%} of {total:,} examples")
    return fig


def _gallery_arguments(
    images: Any, targets: Any, predictions: Any, confidences: Any, image_shape: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    owner = "plot_misclassified"
    pixels = _checks.number_array(images, "images", owner).astype(np.float64)
    shape = _checks.shape(image_shape, "image_shape", owner)
    if len(shape) != 2:
        raise ValueError(f"{owner}: image_shape must be (height, width), got {image_shape!r}")
    if pixels.ndim == 2 and pixels.shape[1] == math.prod(shape):
        pixels = pixels.reshape(-1, *shape)
    if pixels.ndim != 3:
        raise ValueError(
            f"{owner}: images must be (m, {math.prod(shape)}) or (m, height, width), "
            f"got shape {pixels.shape}"
        )
    columns = []
    for name, value in (("targets", targets), ("predictions", predictions)):
        column = labels_of(value, name, owner)
        if column.shape != (len(pixels),):
            raise ValueError(
                f"{owner}: {name} must be {len(pixels)} labels (one per image), "
                f"got {column.shape[0]}"
            )
        columns.append(column)
    sure = _checks.number_array(confidences, "confidences", owner).astype(np.float64)
    if sure.shape != (len(pixels),) or not np.isfinite(sure).all():
        raise ValueError(f"{owner}: confidences must be {len(pixels)} finite numbers")
    return pixels, columns[0], columns[1], sure


def plot_misclassified(
    images: np.ndarray,
    targets: np.ndarray,
    predictions: np.ndarray,
    confidences: np.ndarray,
    *,
    image_shape: tuple[int, int] = (28, 28),
    title: str | None = None,
) -> Any:
    """A gallery of examples, each titled 'true 7, predicted 1 (0.98)'.

    Args:
        images: (m, height * width) or (m, height, width) pixel values.
        targets, predictions: int labels, shape (m,) each.
        confidences: shape (m,), the probability given to each prediction.
        image_shape: (height, width) of flat images.
        title: default 'The m most confident mistakes'.
    Returns:
        A Figure with one axes per image (its array the image, grey scale, dark ink on
        white), titled as above; with m = 0 a figure saying there are no mistakes.
    """
    pixels, true, predicted, sure = _gallery_arguments(
        images, targets, predictions, confidences, image_shape
    )
    heading = title or f"The {len(pixels)} most confident mistakes"
    if len(pixels) == 0:
        fig = _figure(5, 2)
        ax = fig.subplots()
        ax.set_axis_off()
        ax.text(0.5, 0.5, "no misclassified examples", ha="center", va="center")
        fig.suptitle(heading)
        return fig
    fig, axes = _image_grid(len(pixels), None if len(pixels) > 10 else 5, 1.65, 0.2)
    for index, ax in enumerate(axes.flat[: len(pixels)]):
        ax.imshow(pixels[index], cmap="gray_r")
        ax.set_title(
            f"true {true[index]}, predicted {predicted[index]}\n({sure[index]:.2f})", fontsize=8
        )
    fig.supxlabel("probability given to the wrong prediction in brackets", fontsize=9)
    fig.suptitle(heading)
    return fig


# --- activation histograms ---------------------------------------------------------------


def _check_samples(samples: Any, names: Any) -> tuple[list[int], list[int]]:
    owner = "plot_activation_histograms"
    if not isinstance(samples, Mapping) or not samples:
        raise TypeError(
            f"{owner}: samples must be a non-empty dict epoch -> {{layer: values}}, "
            f"got {type(samples).__name__} {samples!r:.60}"
        )
    for epoch, layers in samples.items():
        if not isinstance(epoch, (int, np.integer)) or not isinstance(layers, Mapping):
            raise TypeError(f"{owner}: samples must map int epochs to dicts, got {epoch!r}")
        for layer, values in layers.items():
            array = _checks.number_array(values, f"samples[{epoch}][{layer}]", owner)
            if array.size == 0 or not np.isfinite(array).all():
                raise ValueError(f"{owner}: samples[{epoch}][{layer}] must be finite values")
    _checks.mapping(names, "names", owner)
    epochs = sorted(int(e) for e in samples)
    layers = sorted({int(i) for layers in samples.values() for i in layers})
    if not layers:
        raise ValueError(f"{owner}: samples hold no layer's values")
    return epochs, layers


def plot_activation_histograms(
    samples: Mapping[int, Mapping[int, np.ndarray]],
    names: Mapping[int, str] | None = None,
    *,
    bins: int = 40,
    title: str | None = None,
) -> Any:
    """Per layer one panel: histograms of its outputs at the first and the last epoch
    of `samples`, overlaid on shared bins.

    Args:
        samples: epoch -> layer index -> values of any shape (flattened), as
            `mlp.runs.layer_log.read_activation_samples` gives them.
        names: layer index -> class name, for the panels' titles.
        bins: bins per histogram.
        title: drawn above the panels.
    Returns:
        A Figure; each histogram is a `StepPatch` in `ax.patches` with gid 'epoch E',
        its counts summing to the number of values.
    """
    epochs, layers = _check_samples(samples, names)
    bins = _checks.count(bins, "bins", "plot_activation_histograms", 1)
    shown = [epochs[0], epochs[-1]] if len(epochs) > 1 else epochs
    ncols = min(4, len(layers))
    nrows = math.ceil(len(layers) / ncols)
    fig = _figure(3.6 * ncols, 2.9 * nrows + 0.6)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for ax, layer in zip(axes, layers, strict=False):
        values = {
            e: np.asarray(samples[e][layer], float).ravel() for e in shown if layer in samples[e]
        }
        edges = np.histogram_bin_edges(np.concatenate(list(values.values())), bins=bins)
        for number, (epoch, data) in enumerate(values.items()):
            counts, _ = np.histogram(data, bins=edges)
            ax.stairs(
                counts,
                edges,
                fill=True,
                alpha=0.45,
                color=_colour(number),
                gid=f"epoch {epoch}",
                label=f"epoch {epoch}",
            )
        name = (names or {}).get(layer)
        ax.set_title(f"layer {layer}" + (f": {name}" if name else ""), fontsize=10)
        ax.set_xlabel("Output value")
        ax.set_ylabel("Count")
        ax.legend(fontsize="small")
    for ax in axes[len(layers) :]:
        ax.set_axis_off()
    fig.suptitle(title or "Layer outputs at the start and end of training")
    return fig
