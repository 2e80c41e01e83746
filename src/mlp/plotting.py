"""Plots of training statistics: one run's curves, and several runs on shared axes.

    from mlp.plotting import train_model_and_plot_stats, plot_stats, plot_runs, save_figure

    stats, keys, run_time, fig_1, ax_1, fig_2, ax_2 = train_model_and_plot_stats(
        model, error, learning_rule, train_data, valid_data, num_epochs=10, stats_interval=1)

    fig = plot_stats(stats, keys, stats_interval=5)          # error and accuracy panels
    fig = plot_runs([RunRecord.load(p) for p in paths])     # several runs, shared axes
    save_figure(fig, "curves.png")                           # written atomically

`train_model_and_plot_stats` draws with pyplot, so its figures show inline in a notebook.
The other functions build `matplotlib.figure.Figure` objects directly: they need no
display and leave pyplot's state alone, which is what scripts and worker processes want.
Every axis is labelled.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlp import _checks

__all__ = [
    "plot_metric_against",
    "plot_runs",
    "plot_stats",
    "save_figure",
    "train_model_and_plot_stats",
]

EPOCH_LABEL = "Epoch number"
_Y_LABELS = {"error": "Error", "acc": "Accuracy"}


def _figure(figsize: tuple[float, float]) -> Any:
    """A figure whose layout makes room for every label, title and outside legend."""
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _marker(num_points: int) -> str | None:
    # A curve of one point is invisible as a line: show the points of short curves.
    return "o" if num_points < 3 else None


def _integer_epochs(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _y_label(metric: str) -> str:
    return _Y_LABELS.get(metric, metric)


def _epochs_of(num_rows: int, stats_interval: int | None, epochs: Any) -> np.ndarray:
    if epochs is not None:
        epochs = np.asarray(epochs)
        if epochs.shape != (num_rows,):
            raise ValueError(f"epochs must have shape ({num_rows},), got {epochs.shape}")
        return epochs
    return np.arange(num_rows) * (stats_interval or 1)


def plot_stats(
    stats: np.ndarray,
    keys: Mapping[str, int],
    stats_interval: int | None = None,
    *,
    epochs: np.ndarray | None = None,
    include_initial: bool = False,
    title: str | None = None,
) -> Any:
    """Error and accuracy against epochs, train and valid, side by side.

    Args:
        stats: array of shape (num_rows, num_keys) as `Optimiser.train` returns it (row 0
            before training, then one row per stats interval).
        keys: label -> column, e.g. {'error(train)': 0, 'acc(valid)': 3}.
        stats_interval: epochs between rows; or give `epochs`.
        epochs: array of shape (num_rows,), the epoch of each row.
        include_initial: also draw row 0 (before training); the seed lab leaves it out.
        title: drawn above the panels.
    Returns:
        A `matplotlib.figure.Figure` with two axes, 'Error' and 'Accuracy' against
        'Epoch number' (only 'Error' when `keys` has no accuracy, as a regression's).
    """
    stats = _checks.number_array(stats, "stats", "plot_stats")
    if stats.ndim != 2:
        raise ValueError(
            f"plot_stats: stats must be 2-D, (num_rows, num_keys), got shape {stats.shape}"
        )
    if not isinstance(keys, Mapping):
        raise TypeError(f"plot_stats: keys must be a dict of label -> column, got {keys!r}")
    if stats_interval is not None:
        _checks.count(stats_interval, "stats_interval", "plot_stats", 1)
    x = _epochs_of(stats.shape[0], stats_interval, epochs)
    # Row 0 is left out (the seed lab's habit) unless only one row would remain.
    start = 0 if include_initial or stats.shape[0] < 3 else 1
    # Without accuracies (a regression's statistics) only the error panel is drawn.
    metrics = [m for m in ("error", "acc") if any(k.startswith(m + "(") for k in keys)]
    metrics = metrics or ["error"]
    fig = _figure((10, 4) if len(metrics) == 2 else (5.5, 4))
    axes = np.atleast_1d(fig.subplots(1, len(metrics)))
    for ax, metric in zip(axes, metrics, strict=True):
        for split in ("train", "valid"):
            key = f"{metric}({split})"
            if key in keys:
                ax.plot(
                    x[start:], stats[start:, keys[key]], label=key, marker=_marker(len(x) - start)
                )
        ax.set_xlabel(EPOCH_LABEL)
        ax.set_ylabel(_y_label(metric))
        _integer_epochs(ax)
        ax.grid(True, alpha=0.3)
        ax.legend(loc=0)
    if title:
        fig.suptitle(title)
    return fig


def _curves(run: Any) -> tuple[str, np.ndarray, np.ndarray, Mapping[str, int]]:
    """(label, epochs, stats, keys) from a RunRecord or a 4-tuple."""
    if isinstance(run, tuple):
        label, epochs, stats, keys = run
        return str(label), np.asarray(epochs), np.asarray(stats), keys
    label = run.label() if hasattr(run, "label") else run.name
    return label, run.epochs, run.stats, run.keys


def _check_runs(runs: Any, metrics: Any, labels: Any) -> list[Any]:
    """The runs' curves, (label, epochs, stats, keys) each, once the arguments are
    checked: a TypeError or ValueError naming the bad one."""
    if isinstance(runs, (str, bytes)) or not isinstance(runs, Sequence):
        raise TypeError(f"plot_runs: runs must be a list of runs, got {type(runs).__name__}")
    if not runs:
        raise ValueError("plot_runs needs at least one run in runs")
    for name, value in (("metrics", metrics), ("labels", labels)):
        if value is None and name == "labels":
            continue
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"plot_runs: {name} must be a list of str, got {value!r}")
    if labels is not None and len(labels) != len(runs):
        raise ValueError(f"plot_runs: {len(labels)} labels for {len(runs)} runs")
    curves = []
    for index, run in enumerate(runs):
        if not (isinstance(run, tuple) and len(run) == 4) and not hasattr(run, "stats"):
            raise TypeError(
                f"plot_runs: runs[{index}] must be a RunRecord or a tuple "
                f"(label, epochs, stats, keys), got {type(run).__name__}"
            )
        curves.append(_curves(run))
    known = {key.split("(")[0] for *_, keys in curves for key in keys}
    unknown = [m for m in metrics if m not in known]
    # A metric missing from some runs draws an empty panel (an error-only run under the
    # default ('error', 'acc')); only metrics that are all unknown are a mistake.
    if len(unknown) == len(metrics):
        raise ValueError(
            f"plot_runs: metrics {unknown} are in none of the runs, which have {sorted(known)}"
        )
    return curves


def plot_runs(
    runs: Sequence[Any],
    metrics: Sequence[str] = ("error", "acc"),
    *,
    show_train: bool = True,
    include_initial: bool = False,
    title: str | None = None,
    labels: Sequence[str] | None = None,
) -> Any:
    """Several runs' curves on shared axes: one panel per metric, one colour per run,
    validation solid and training dashed.

    Args:
        runs: `RunRecord`s, or tuples (label, epochs, stats, keys) with epochs of shape
            (num_rows,) and stats of shape (num_rows, num_keys).
        metrics: statistics to draw, e.g. ('error', 'acc').
        show_train: also draw the training curves (dashed).
        include_initial: draw the rows at epoch 0 too.
        title: drawn above the panels.
        labels: legend labels to use instead of the runs' names.
    Returns:
        A `matplotlib.figure.Figure`.
    """
    curves = _check_runs(runs, metrics, labels)
    # Many runs: the legend goes below the panels, in columns, and the figure grows.
    legend_rows = 0 if len(runs) <= 8 else math.ceil(len(runs) / 3)
    fig = _figure((5.5 * len(metrics), 4.2 + 0.22 * legend_rows))
    axes = np.atleast_1d(fig.subplots(1, len(metrics), sharex=True))
    colours = _colours(len(runs))
    for index, (label, epochs, stats, keys) in enumerate(curves):
        if labels is not None:
            label = labels[index]
        start = 0 if include_initial or len(epochs) < 3 else 1
        for ax, metric in zip(axes, metrics, strict=True):
            valid, train = f"{metric}(valid)", f"{metric}(train)"
            marker = _marker(len(epochs) - start)
            if valid in keys:
                ax.plot(
                    epochs[start:],
                    stats[start:, keys[valid]],
                    color=colours[index],
                    label=label,
                    marker=marker,
                )
            if show_train and train in keys:
                ax.plot(
                    epochs[start:],
                    stats[start:, keys[train]],
                    color=colours[index],
                    linestyle="--",
                    alpha=0.7,
                    marker=marker,
                )
    for ax, metric in zip(axes, metrics, strict=True):
        ax.set_xlabel(EPOCH_LABEL)
        suffix = " (valid solid, train dashed)" if show_train else " (valid)"
        ax.set_ylabel(_y_label(metric) + suffix)
        _integer_epochs(ax)
        ax.grid(True, alpha=0.3)
    if legend_rows:
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="outside lower center", ncol=3, fontsize="small")
    else:
        axes[-1].legend(loc=0, fontsize="small")
    if title:
        fig.suptitle(title)
    return fig


def plot_metric_against(
    x: Sequence[Any],
    series: Mapping[str, Sequence[float]],
    *,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    log_x: bool = False,
) -> Any:
    """One line per series against shared x values, e.g. validation accuracy against
    depth for each non-linearity.

    Args:
        x: the x values, shape (n,); numbers, or strings for categories.
        series: label -> y values of shape (n,); NaN leaves a gap.
        xlabel, ylabel: the axis labels.
        log_x: logarithmic x axis.
    Returns:
        A `matplotlib.figure.Figure`.
    """
    _check_series(x, series)
    fig = _figure((6.5, 4.2))
    ax = fig.subplots()
    positions = np.arange(len(x)) if any(isinstance(v, str) for v in x) else np.asarray(x)
    for colour, (label, values) in zip(_colours(len(series)), series.items(), strict=True):
        ax.plot(positions, np.asarray(values, dtype=float), marker="o", color=colour, label=label)
    ax.set_xticks(positions, [str(v) for v in x])
    if log_x:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend(loc=0)
    if title:
        ax.set_title(title)
    return fig


def _check_series(x: Any, series: Any) -> None:
    if isinstance(x, (str, bytes)) or not isinstance(x, Sequence | np.ndarray):
        raise TypeError(f"plot_metric_against: x must be a list of values, got {x!r}")
    if not isinstance(series, Mapping):
        raise TypeError(
            f"plot_metric_against: series must be a dict of label -> values, got {series!r}"
        )
    for label, values in series.items():
        try:  # as the plot converts them: None (a missing figure) becomes a NaN gap
            array = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(
                f"plot_metric_against: series[{label!r}] must hold numbers, got {values!r:.60}"
            ) from None
        if array.shape != (len(x),):
            raise ValueError(
                f"plot_metric_against: series[{label!r}] has shape {array.shape}, "
                f"x has {len(x)} values"
            )


def _colours(count: int) -> list[Any]:
    """`count` distinct colours: the qualitative tab10/tab20 palettes, and beyond 20
    evenly spaced colours of a continuous map rather than repeats."""
    from matplotlib import colormaps

    if count <= 20:
        cmap = colormaps["tab10" if count <= 10 else "tab20"]
        return [cmap(i) for i in range(count)]
    return [colormaps["turbo"](v) for v in np.linspace(0.05, 0.95, count)]


def save_figure(fig: Any, path: str | os.PathLike[str], dpi: int = 100) -> None:
    """Save a figure atomically (never a half-written file) and release it. The format
    follows the file's suffix (.png, .pdf, .svg, ...; PNG when there is none).

    Raises:
        TypeError, ValueError: for a `path` that is not a path, a `dpi` that is not a
            positive number, or a `fig` without `savefig`.
        FileNotFoundError: when the folder of `path` does not exist.
    """
    from mlp.atomic import atomic_write_bytes

    _check_figure_target(fig, path, dpi)

    suffix = os.fspath(path).rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else ""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix or "png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    try:  # a pyplot figure stays registered until closed
        import matplotlib.pyplot as plt

        if plt.fignum_exists(getattr(fig, "number", -1)):
            plt.close(fig)
    except ImportError:  # pragma: no cover
        pass


def _check_figure_target(fig: Any, path: Any, dpi: Any) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"save_figure: path must be a path (str or os.PathLike), got {path!r}")
    folder = os.path.dirname(os.fspath(path)) or "."
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save_figure: the folder of path {os.fspath(path)!r} is missing")
    rate = _checks.real(dpi, "dpi", "save_figure")
    if not 0 < rate < math.inf:
        raise ValueError(f"save_figure: dpi must be a positive number, got {dpi!r}")
    if isinstance(fig, type) or not callable(getattr(fig, "savefig", None)):
        raise TypeError(f"save_figure: fig must be a matplotlib Figure, got {fig!r}")


def train_model_and_plot_stats(
    model: Any,
    error: Any,
    learning_rule: Any,
    train_data: Any,
    valid_data: Any,
    num_epochs: int,
    stats_interval: int,
    notebook: bool = False,
    progress: bool = False,
) -> tuple[np.ndarray, dict[str, int], float, Any, Any, Any, Any]:
    """Train a model with `Optimiser` and plot error and accuracy against epochs.

    The seed lab's helper, as a library function: accuracy is monitored besides the
    error, on training and validation data, and two pyplot figures are drawn (error,
    then accuracy), each with both axes labelled.

    Args:
        model, error, learning_rule, train_data, valid_data: as `Optimiser`.
        num_epochs, stats_interval: as `Optimiser.train`.
        notebook, progress: show a progress bar over each epoch's batches.
    Returns:
        (stats, keys, run_time, fig_1, ax_1, fig_2, ax_2): `stats` of shape
        (1 + num_epochs // stats_interval, 4) as `Optimiser.train` returns it, and the
        error figure and axes, then the accuracy figure and axes.
    """
    import matplotlib.pyplot as plt

    from mlp.optimisers import Optimiser, accuracy
    from mlp.training_loop import check_count

    # Checked before the Optimiser checks the model, so the message names the count.
    check_count("num_epochs", num_epochs, 0)
    check_count("stats_interval", stats_interval, 1)

    optimiser = Optimiser(
        model,
        error,
        learning_rule,
        train_data,
        valid_data,
        {"acc": accuracy},
        progress=progress or notebook,
    )
    stats, keys, run_time = optimiser.train(num_epochs=num_epochs, stats_interval=stats_interval)
    epochs = np.arange(1, stats.shape[0]) * stats_interval
    figures = []
    for metric in ("error", "acc"):
        fig = plt.figure(figsize=(8, 4))
        ax = fig.add_subplot(111)
        for split in ("train", "valid"):
            key = f"{metric}({split})"
            if key in keys:
                ax.plot(epochs, stats[1:, keys[key]], label=key)
        ax.legend(loc=0)
        ax.set_xlabel(EPOCH_LABEL)
        ax.set_ylabel(_y_label(metric))
        figures.extend([fig, ax])
    fig_1, ax_1, fig_2, ax_2 = figures
    return stats, keys, run_time, fig_1, ax_1, fig_2, ax_2
