"""Watching training as it runs: curves redrawn in place in a notebook, and the right
progress bar for where the code runs.

    from mlp.live import LivePlot
    optimiser = Optimiser(..., callbacks=[LivePlot()])       # curves under the cell
    optimiser = Optimiser(..., callbacks=[stats := LayerStats(), LivePlot(stats)])

`LivePlot` keeps every statistics row it is given and, under a Jupyter kernel, shows
one figure (error and accuracy against epochs; with layer statistics, the per-layer
gradient norms too) that it replaces after each row, through IPython's display
handles. Elsewhere it only keeps the rows, or writes the figure to a file when given
`path=`. It draws `matplotlib.figure.Figure` objects directly, never through pyplot.

`progress_bar(...)` is the one place that picks a tqdm bar: the notebook widget
(`tqdm.notebook`) under a Jupyter kernel that can show widgets, with ipywidgets
importable; the text bar everywhere else. `tqdm.auto` makes the same choice but warns
('IProgress not found') when ipywidgets is missing; this does not.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

from mlp.callbacks import Callback

__all__ = ["LivePlot", "in_notebook", "progress_bar", "widgets_available"]

_FORMATS = ("png", "svg")


def in_notebook() -> bool:
    """True when this process is a Jupyter kernel (notebook, JupyterLab, VS Code,
    Colab, qtconsole): one whose display calls reach a front end that shows figures.
    A plain interpreter, a script or a terminal IPython gives False."""
    ipython = sys.modules.get("IPython")  # a kernel has imported IPython already
    if ipython is None:
        return False
    get_ipython = getattr(ipython, "get_ipython", None)
    shell = get_ipython() if callable(get_ipython) else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def widgets_available() -> bool:
    """True when tqdm's notebook bar can be drawn here: a Jupyter kernel whose front end
    shows widgets (not qtconsole or Spyder) and an importable ipywidgets."""
    if not in_notebook():
        return False
    shell = sys.modules["IPython"].get_ipython()
    console = type(shell).__name__.lower()
    if "qt" in console or "spyder" in console:
        return False
    if any(name == "QT_API" or name.startswith("SPYDER") for name in os.environ):
        return False
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def progress_bar(iterable: Any = None, **options: Any) -> Any:
    """A tqdm progress bar: the notebook widget when `widgets_available()`, else the
    text bar; never a warning about the choice.

    Args:
        iterable: what the bar iterates over, as for `tqdm(iterable)`; None for a bar
            advanced by hand with `update`.
        options: tqdm's keyword arguments (total, desc, unit, leave, initial, ...).
    Returns:
        A `tqdm.notebook.tqdm` or `tqdm.std.tqdm` object.
    """
    if widgets_available():
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm(iterable, **options)
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm(iterable, **options)


class LivePlot(Callback):
    """Training curves, redrawn in one place as statistics rows arrive.

    Each statistics row (label -> value, e.g. {'error(train)': .., 'acc(valid)': ..})
    is kept; the figure shows error and accuracy against the epoch, one line per split
    present (train, valid), every row included (epoch 0 too). Given `layer_stats`, an
    object whose `.table` is an `mlp.layer_stats.LayerStatsTable` (such as
    `mlp.diagnostics.LayerStats`), a third panel shows each layer's parameter gradient
    norm ||dE/dp|| against the epoch on a log scale.

    Under a Jupyter kernel the figure is shown once per `train` call and replaced in
    place after each row (IPython's `display(..., display_id=True)` and the handle's
    `update`). Elsewhere nothing is shown; with `path`, the figure is also written there
    (atomically, after each row), which is how a script watches a long run.

    With `layer_stats`, the redraw waits for the next hook of the loop (the start or end
    of an epoch, or the end of training), so that the layer statistics of the same row
    are in whatever the order of the callbacks.

    A row whose epoch is not after the last kept one starts a new series: `train`
    called again from epoch 0 draws afresh, a resumed run continues its curves.

    Args:
        layer_stats: None, or an object with a `.table` attribute (a LayerStatsTable,
            or None before the first measurement).
        path: None, or a file to write the figure to (.png, .svg, .pdf, ...).
        show: True to display also outside a detected kernel, False never to display;
            None (default) displays exactly when `in_notebook()`.
        image_format: 'png' or 'svg', what is sent to the notebook.
        figsize: the figure's (width, height) in inches; default by the panels.
        dpi: the resolution of the PNG images (shown and written).

    Attributes:
        epochs: the epoch of each kept row, in order.
        rows: the kept rows (label -> value), in order.
        handle: the display handle of the figure shown, or None.
    """

    def __init__(
        self,
        layer_stats: Any = None,
        *,
        path: str | os.PathLike[str] | None = None,
        show: bool | None = None,
        image_format: str = "png",
        figsize: tuple[float, float] | None = None,
        dpi: int = 80,
    ) -> None:
        if layer_stats is not None and not hasattr(layer_stats, "table"):
            raise TypeError(
                f"LivePlot: layer_stats must have a .table (a LayerStatsTable), got {layer_stats!r}"
            )
        _check_options(path, show, image_format, figsize, dpi)
        self.layer_stats = layer_stats
        self.path = path
        self.show = show
        self.image_format = image_format
        self.figsize = figsize
        self.dpi = dpi
        self.epochs: list[int] = []
        self.rows: list[dict[str, float]] = []
        self.handle: Any = None
        self._pending = False

    # --- the hooks ---------------------------------------------------------------------

    def on_train_begin(self, loop: Any) -> None:
        self.handle = None  # a new `train` call shows its figure under its own cell

    def on_stats(self, loop: Any, epoch: int, stats: dict[str, float]) -> None:
        self.add_row(epoch, stats)
        if self.layer_stats is None:
            self.refresh()
        else:
            self._pending = True

    def on_epoch_begin(self, loop: Any, epoch: int) -> None:
        self._refresh_pending()

    def on_epoch_end(self, loop: Any, epoch: int, epoch_time: float) -> None:
        self._refresh_pending()

    def on_train_end(self, loop: Any) -> None:
        self._refresh_pending()

    def _refresh_pending(self) -> None:
        if self._pending:
            self.refresh()

    # --- the data and the figure -------------------------------------------------------

    def add_row(self, epoch: int, stats: Mapping[str, float]) -> None:
        """Keep one statistics row; a row not after the last kept epoch starts anew.

        Args:
            epoch: the epoch the row was recorded after (0: before training).
            stats: label -> value, e.g. {'error(train)': 0.3, 'acc(valid)': 0.91}.
        """
        if not isinstance(epoch, (int, np.integer)) or isinstance(epoch, bool) or epoch < 0:
            raise ValueError(f"LivePlot: epoch must be an integer >= 0, got {epoch!r}")
        if not isinstance(stats, Mapping):
            raise TypeError(f"LivePlot: stats must be a mapping of label -> value, got {stats!r}")
        row = {}
        for key, value in stats.items():
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise TypeError(f"LivePlot: stats[{key!r}] must be a number, got {value!r}")
            row[str(key)] = float(value)
        if self.epochs and epoch <= self.epochs[-1]:
            self.epochs, self.rows = [], []
        self.epochs.append(int(epoch))
        self.rows.append(row)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """Statistic `key` (e.g. 'acc(valid)') over the kept rows.

        Returns:
            epochs: int array of shape (num_rows,); values: float array of the same
            shape, NaN in rows without `key`.
        """
        values = [row.get(key, np.nan) for row in self.rows]
        return np.array(self.epochs, dtype=np.int64), np.array(values, dtype=np.float64)

    def draw(self) -> Any:
        """The figure of the kept rows (and layer statistics), a new
        `matplotlib.figure.Figure`: axes 'Error', 'Accuracy' (when the rows have
        accuracies) and 'Gradient norm' (with `layer_stats`), against 'Epoch number'."""
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator

        metrics = [m for m in ("error", "acc") if any(_has(row, m) for row in self.rows)]
        panels = (metrics or ["error"]) + (["grad"] if self.layer_stats is not None else [])
        fig = Figure(figsize=self.figsize or (4.5 * len(panels), 3.6), layout="constrained")
        axes = np.atleast_1d(fig.subplots(1, len(panels)))
        for ax, panel in zip(axes, panels, strict=True):
            if panel == "grad":
                _draw_gradients(ax, getattr(self.layer_stats, "table", None))
            else:
                self._draw_metric(ax, panel)
            ax.set_xlabel("Epoch number")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(True, alpha=0.3)
        last = f" (epoch {self.epochs[-1]})" if self.epochs else ""
        fig.suptitle(f"Training{last}")
        return fig

    def _draw_metric(self, ax: Any, metric: str) -> None:
        for split in ("train", "valid"):
            key = f"{metric}({split})"
            epochs, values = self.series(key)
            if np.isfinite(values).any():
                ax.plot(epochs, values, label=key, marker="o", markersize=3)
        ax.set_ylabel({"error": "Error", "acc": "Accuracy"}[metric])
        ax.set_title({"error": "Error", "acc": "Accuracy"}[metric])
        if ax.lines:
            ax.legend(loc=0)

    def refresh(self) -> None:
        """Draw the figure and show it (replacing the one shown) and/or write it."""
        self._pending = False
        displaying = in_notebook() if self.show is None else self.show
        if not displaying and self.path is None:
            return
        fig = self.draw()
        if displaying:
            self._display(fig)
        if self.path is not None:
            from mlp.plotting import save_figure

            save_figure(fig, self.path, dpi=self.dpi)

    def _display(self, fig: Any) -> None:
        from IPython import display

        buffer = io.BytesIO()
        fig.savefig(buffer, format=self.image_format, dpi=self.dpi)
        data = buffer.getvalue()
        image = (
            display.SVG(data=data.decode("utf-8"))
            if self.image_format == "svg"
            else display.Image(data=data, format="png")
        )
        if self.handle is None:
            self.handle = display.display(image, display_id=True)
        else:
            self.handle.update(image)


def _has(row: dict[str, float], metric: str) -> bool:
    return any(key.startswith(metric + "(") for key in row)


def _draw_gradients(ax: Any, table: Any) -> None:
    """Each layer's parameter gradient norm against the epoch, log scale."""
    layers = table.applies("param_grad_norm") if table is not None and len(table) else []
    for layer in layers:
        epochs, values = table.series(layer, "param_grad_norm")
        shown = np.isfinite(values) & (values > 0)
        name = table.names[int(np.flatnonzero(table.layers == layer)[0])]
        ax.plot(epochs[shown], values[shown], label=f"{layer}: {name}", marker="o", ms=3)
    if any(len(line.get_xdata()) for line in ax.lines):
        ax.set_yscale("log")
        ax.legend(loc=0, fontsize="small")
    else:
        ax.text(0.5, 0.5, "no layer statistics yet", ha="center", transform=ax.transAxes)
    ax.set_ylabel("||dE/dp|| (log scale)")
    ax.set_title("Gradient norm per layer")


def _check_options(path: Any, show: Any, image_format: Any, figsize: Any, dpi: Any) -> None:
    if path is not None:
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"LivePlot: path must be a file path or None, got {path!r}")
        folder = os.path.dirname(os.fspath(path)) or "."
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"LivePlot: the folder of path {os.fspath(path)!r} is missing")
    if show is not None and not isinstance(show, bool):
        raise TypeError(f"LivePlot: show must be True, False or None, got {show!r}")
    if image_format not in _FORMATS:
        raise ValueError(f"LivePlot: image_format must be one of {_FORMATS}, got {image_format!r}")
    if figsize is not None and not (
        isinstance(figsize, (tuple, list))
        and len(figsize) == 2
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0 for v in figsize)
    ):
        raise ValueError(f"LivePlot: figsize must be (width, height) in inches, got {figsize!r}")
    if not isinstance(dpi, (int, np.integer)) or isinstance(dpi, bool) or dpi < 1:
        raise ValueError(f"LivePlot: dpi must be a positive integer, got {dpi!r}")
