"""mlp.live: the live plot callback and the progress-bar choice."""

from __future__ import annotations

import subprocess
import sys
import types
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mlp import live
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.live import LivePlot, in_notebook, progress_bar, widgets_available

REPO = Path(__file__).resolve().parents[1]


def _rows(count: int) -> list[tuple[int, dict[str, float]]]:
    return [
        (
            epoch,
            {
                "error(train)": 2.0 / (epoch + 1),
                "acc(train)": 0.1 + 0.08 * epoch,
                "error(valid)": 2.2 / (epoch + 1),
                "acc(valid)": 0.1 + 0.07 * epoch,
            },
        )
        for epoch in range(count)
    ]


def _feed(plot: LivePlot, count: int) -> None:
    plot.on_train_begin(None)
    for epoch, stats in _rows(count):
        if epoch:
            plot.on_epoch_begin(None, epoch)
            plot.on_epoch_end(None, epoch, 0.1)
        plot.on_stats(None, epoch, stats)
    plot.on_train_end(None)


class FakeHandle:
    def __init__(self, log: list[tuple[str, Any]]) -> None:
        self.log = log

    def update(self, obj: Any) -> None:
        self.log.append(("update", obj))


@pytest.fixture
def fake_display(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """IPython.display.display replaced by a recorder returning one handle per call."""
    from IPython import display

    log: list[tuple[str, Any]] = []

    def fake(obj: Any, display_id: Any = None) -> FakeHandle:
        assert display_id is True
        log.append(("display", obj))
        return FakeHandle(log)

    monkeypatch.setattr(display, "display", fake)
    return log


def _kernel(monkeypatch: pytest.MonkeyPatch, name: str = "ZMQInteractiveShell") -> None:
    """Make this process look like a Jupyter kernel's shell of class `name`."""
    import IPython

    shell = type(name, (), {"kernel": object()})()
    monkeypatch.setattr(IPython, "get_ipython", lambda: shell)


# --- LivePlot ---------------------------------------------------------------------------


def test_plain_process_keeps_the_rows_and_shows_nothing(fake_display: list) -> None:
    assert not in_notebook()
    plot = LivePlot()
    _feed(plot, 4)
    assert plot.epochs == [0, 1, 2, 3]
    assert plot.rows == [stats for _, stats in _rows(4)]
    assert fake_display == [] and plot.handle is None
    epochs, values = plot.series("acc(valid)")
    np.testing.assert_allclose(values, [0.1, 0.17, 0.24, 0.31])
    np.testing.assert_array_equal(epochs, [0, 1, 2, 3])
    assert np.isnan(plot.series("missing")[1]).all()


def test_a_plain_subprocess_trains_with_it() -> None:
    # A fresh interpreter (IPython never imported): training with a LivePlot works.
    code = (
        "import numpy as np\n"
        "from mlp.live import LivePlot, in_notebook\n"
        "from mlp.callbacks import Callback\n"
        "p = LivePlot()\n"
        "p.on_train_begin(None); p.on_stats(None, 0, {'error(train)': 1.0})\n"
        "p.on_train_end(None)\n"
        "import sys; assert 'matplotlib' not in sys.modules, 'drew without a display'\n"
        "print(in_notebook(), p.epochs)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO / "src"), "PATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False [0]"


def test_shown_once_then_updated_in_place(fake_display: list) -> None:
    plot = LivePlot(show=True)
    _feed(plot, 3)
    kinds = [kind for kind, _ in fake_display]
    assert kinds == ["display", "update", "update"]
    from IPython.display import Image

    assert all(isinstance(obj, Image) for _, obj in fake_display)
    assert fake_display[0][1].data[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_second_train_call_shows_a_new_figure(fake_display: list) -> None:
    plot = LivePlot(show=True, image_format="svg")
    _feed(plot, 2)
    _feed(plot, 2)
    assert [kind for kind, _ in fake_display] == ["display", "update", "display", "update"]
    assert plot.epochs == [0, 1]  # the second call's rows only (it restarted at 0)
    assert "<svg" in fake_display[0][1].data


def test_detected_kernel_displays(monkeypatch: pytest.MonkeyPatch, fake_display: list) -> None:
    plot = LivePlot()
    _kernel(monkeypatch)
    assert in_notebook()
    _feed(plot, 2)
    assert [kind for kind, _ in fake_display] == ["display", "update"]


def test_the_figure_holds_the_rows() -> None:
    plot = LivePlot()
    _feed(plot, 5)
    fig = plot.draw()
    error_ax, acc_ax = fig.axes
    assert error_ax.get_xlabel() == acc_ax.get_xlabel() == "Epoch number"
    assert (error_ax.get_ylabel(), acc_ax.get_ylabel()) == ("Error", "Accuracy")
    lines = {line.get_label(): line for ax in fig.axes for line in ax.lines}
    assert set(lines) == {"error(train)", "error(valid)", "acc(train)", "acc(valid)"}
    for key, line in lines.items():
        epochs, values = plot.series(key)
        np.testing.assert_array_equal(line.get_xdata(), epochs)
        np.testing.assert_allclose(line.get_ydata(), values)
    assert "epoch 4" in fig.get_suptitle()


def test_only_error_without_accuracies() -> None:
    plot = LivePlot()
    plot.on_stats(None, 0, {"error(train)": 1.0})
    fig = plot.draw()
    assert [ax.get_ylabel() for ax in fig.axes] == ["Error"]
    assert LivePlot().draw().axes[0].get_ylabel() == "Error"  # no rows yet: still a figure


def _table(epochs: list[int]) -> LayerStatsTable:
    nan = float("nan")
    rows = []
    for epoch in epochs:
        for layer, name, grad in (
            (0, "AffineLayer", 0.01),
            (1, "SigmoidLayer", nan),
            (2, "AffineLayer", 1.0),
        ):
            values = [nan] * len(LAYER_COLUMNS)
            values[LAYER_COLUMNS.index("param_grad_norm")] = grad * (epoch + 1)
            rows.append((epoch, layer, name, values))
    return LayerStatsTable.from_rows(rows)


class FakeLayerStats:
    """Measures in on_stats, as a LayerStats does; its table grows by one epoch."""

    def __init__(self) -> None:
        self.table: LayerStatsTable | None = None
        self.seen: list[int] = []

    def record(self, epoch: int) -> None:
        self.seen.append(epoch)
        self.table = _table(self.seen)


def test_gradient_panel_from_layer_stats(fake_display: list) -> None:
    stats = FakeLayerStats()
    plot = LivePlot(stats, show=True)
    plot.on_train_begin(None)
    # The live plot comes BEFORE the layer statistics in the callbacks: its redraw waits
    # for the next hook, by which time the same row's layer statistics are in.
    for epoch, row in _rows(3):
        if epoch:
            plot.on_epoch_begin(None, epoch)
        plot.on_stats(None, epoch, row)
        stats.record(epoch)
        if epoch:
            plot.on_epoch_end(None, epoch, 0.1)
    plot.on_train_end(None)
    assert [kind for kind, _ in fake_display] == ["display", "update", "update"]
    fig = plot.draw()
    grad_ax = fig.axes[2]
    assert grad_ax.get_yscale() == "log"
    lines = {line.get_label(): line for line in grad_ax.lines}
    assert set(lines) == {"0: AffineLayer", "2: AffineLayer"}
    np.testing.assert_allclose(lines["0: AffineLayer"].get_ydata(), [0.01, 0.02, 0.03])
    np.testing.assert_array_equal(lines["2: AffineLayer"].get_xdata(), [0, 1, 2])


def test_gradient_panel_before_any_measurement() -> None:
    fig = LivePlot(FakeLayerStats()).draw()
    assert [ax.get_title() for ax in fig.axes] == ["Error", "Gradient norm per layer"]
    assert fig.axes[1].texts[0].get_text() == "no layer statistics yet"


def test_writes_the_figure_to_a_path(tmp_path: Path) -> None:
    path = tmp_path / "live.png"
    plot = LivePlot(path=path, dpi=50)
    plot.on_stats(None, 0, _rows(1)[0][1])
    first = path.read_bytes()
    assert first[:8] == b"\x89PNG\r\n\x1a\n"
    plot.on_stats(None, 1, _rows(2)[1][1])
    assert path.read_bytes() != first
    assert [p.name for p in tmp_path.iterdir()] == ["live.png"]  # no temporary left


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"layer_stats": object()}, TypeError, "layer_stats"),
        ({"path": 5}, TypeError, "path"),
        ({"path": "/no/such/folder/f.png"}, FileNotFoundError, "path"),
        ({"show": "yes"}, TypeError, "show"),
        ({"image_format": "jpg"}, ValueError, "image_format"),
        ({"figsize": (0, 3)}, ValueError, "figsize"),
        ({"dpi": 0}, ValueError, "dpi"),
    ],
)
def test_bad_arguments(kwargs: dict, error: type, words: str) -> None:
    with pytest.raises(error, match=words):
        LivePlot(**kwargs)


# --- the progress bar -------------------------------------------------------------------


def test_text_bar_outside_a_kernel() -> None:
    from tqdm.std import tqdm as text_tqdm

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bar = progress_bar(range(3), total=3, disable=True)
    assert type(bar) is text_tqdm
    assert list(bar) == [0, 1, 2]


def test_notebook_bar_under_a_kernel_with_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    _kernel(monkeypatch)
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    for name in [n for n in live.os.environ if n == "QT_API" or n.startswith("SPYDER")]:
        monkeypatch.delenv(name)
    assert widgets_available()
    made: list[tuple[Any, dict]] = []
    notebook = types.ModuleType("tqdm.notebook")
    notebook.tqdm = lambda iterable, **options: made.append((iterable, options)) or "widget"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "tqdm.notebook", notebook)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert progress_bar(None, total=4, desc="epoch") == "widget"
    assert made == [(None, {"total": 4, "desc": "epoch"})]


def test_text_bar_under_a_kernel_without_widgets(monkeypatch: pytest.MonkeyPatch) -> None:
    from tqdm.std import tqdm as text_tqdm

    _kernel(monkeypatch)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails
    assert in_notebook() and not widgets_available()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 'IProgress not found'
        bar = progress_bar(range(2), disable=True)
    assert type(bar) is text_tqdm


@pytest.mark.parametrize("shell", ["ZMQInteractiveShell", "QtShell", "SpyderShell"])
def test_text_bar_in_consoles(monkeypatch: pytest.MonkeyPatch, shell: str) -> None:
    _kernel(monkeypatch, shell)
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    monkeypatch.setenv("QT_API", "pyqt5") if shell == "ZMQInteractiveShell" else None
    assert in_notebook() and not widgets_available()


def test_terminal_ipython_is_not_a_notebook(monkeypatch: pytest.MonkeyPatch) -> None:
    shell = type("TerminalInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    assert not in_notebook()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))
    assert not in_notebook()


def test_training_loop_and_epoch_bar_use_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlp.runs.callbacks import EpochProgressBar

    made: list[dict] = []

    class Bar:
        def __init__(self, iterable: Any, **options: Any) -> None:
            made.append(options)

        def close(self) -> None:
            pass

    monkeypatch.setattr(live, "progress_bar", Bar)
    bar = EpochProgressBar(total=5, initial=1, desc="run")
    bar.on_train_begin(None)
    bar.on_train_end(None)
    assert made[-1]["total"] == 5 and made[-1]["initial"] == 1

    from mlp.training_loop import TrainingLoop

    loop = TrainingLoop.__new__(TrainingLoop)
    loop.train_dataset = [1, 2, 3]
    loop.progress = True  # type: ignore[attr-defined]
    assert isinstance(loop._epoch_batches(), Bar)
    assert made[-1]["desc"] == "epoch"


def test_bad_rows_are_refused() -> None:
    plot = LivePlot()
    with pytest.raises(TypeError, match="stats"):
        plot.on_stats(None, 1, None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="acc"):
        plot.on_stats(None, 1, {"acc(valid)": "high"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="epoch"):
        plot.on_stats(None, -1, {})
    assert plot.rows == []


def test_gradient_panel_names_layers_whatever_the_row_order() -> None:
    rows = [row for row in _table([0, 1]).rows()]
    stats = FakeLayerStats()
    stats.table = LayerStatsTable.from_rows(rows[::-1])  # layer 2's rows first
    lines = {line.get_label() for line in LivePlot(stats).draw().axes[-1].lines}
    assert lines == {"0: AffineLayer", "2: AffineLayer"}


def test_with_the_optimiser(tmp_path: Path) -> None:
    from tests.test_schedulers import _tiny_optimiser

    plot = LivePlot(path=tmp_path / "live.svg")
    optimiser, _ = _tiny_optimiser(callbacks=[plot], progress=True)
    stats, keys, _ = optimiser.train(3, stats_interval=1)
    assert plot.epochs == [0, 1, 2, 3]
    np.testing.assert_allclose(plot.series("error(train)")[1], stats[:, keys["error(train)"]])
    assert (tmp_path / "live.svg").read_text().lstrip().startswith("<?xml")
