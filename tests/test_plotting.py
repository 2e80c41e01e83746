"""mlp.plotting: labelled axes, the seed's helper as a library function, valid PNG files."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from mlp.data_providers import OneOfKDataProvider
from mlp.errors import CrossEntropySoftmaxError
from mlp.initialisers import ConstantInit, UniformInit
from mlp.layers import AffineLayer, SigmoidLayer
from mlp.learning_rules import GradientDescentLearningRule
from mlp.models import MultipleLayerModel
from mlp.plotting import (
    plot_metric_against,
    plot_runs,
    plot_stats,
    save_figure,
    train_model_and_plot_stats,
)

KEYS = {"error(train)": 0, "acc(train)": 1, "error(valid)": 2, "acc(valid)": 3}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path) -> tuple[int, int]:
    """Width and height from a PNG file's IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.rstrip(b"\x00")[-8:-4] == b"IEND"
    return width, height


def _stats(rows: int = 6, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    errors = np.sort(rng.uniform(0.1, 2.3, size=(rows, 2)), axis=0)[::-1]
    accs = np.sort(rng.uniform(0.1, 0.99, size=(rows, 2)), axis=0)
    return np.column_stack([errors[:, 0], accs[:, 0], errors[:, 1], accs[:, 1]])


def _labels(ax) -> tuple[str, str]:
    return ax.get_xlabel(), ax.get_ylabel()


def test_plot_stats_has_two_labelled_panels_and_skips_row_zero(tmp_path):
    stats = _stats()
    fig = plot_stats(stats, KEYS, stats_interval=5, title="run")
    error_ax, acc_ax = fig.axes
    assert _labels(error_ax) == ("Epoch number", "Error")
    assert _labels(acc_ax) == ("Epoch number", "Accuracy")
    line = error_ax.get_lines()[0]
    np.testing.assert_array_equal(line.get_xdata(), [5, 10, 15, 20, 25])
    np.testing.assert_array_equal(line.get_ydata(), stats[1:, 0])
    save_figure(fig, tmp_path / "curves.png")
    width, height = png_size(tmp_path / "curves.png")
    assert (width, height) == (1000, 400)
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*"))


def test_plot_runs_shares_axes_across_runs(tmp_path):
    runs = [(f"run {i}", np.arange(6) * 2, _stats(seed=i), KEYS) for i in range(3)]
    fig = plot_runs(runs, title="three runs")
    assert len(fig.axes) == 2
    for ax in fig.axes:
        xlabel, ylabel = _labels(ax)
        assert xlabel == "Epoch number" and ylabel
        assert len(ax.get_lines()) == 6  # valid and train per run
    assert [t.get_text() for t in fig.axes[-1].get_legend().get_texts()] == [
        "run 0",
        "run 1",
        "run 2",
    ]
    valid_only = plot_runs(runs, ("acc",), show_train=False, labels=["a", "b", "c"])
    assert len(valid_only.axes) == 1 and len(valid_only.axes[0].get_lines()) == 3
    save_figure(fig, tmp_path / "runs.png")
    assert png_size(tmp_path / "runs.png")[0] > 500
    with pytest.raises(ValueError, match="plot_runs needs at least one run"):
        plot_runs([])


def test_plot_metric_against(tmp_path):
    fig = plot_metric_against(
        [2, 3, 4, 5],
        {"sigmoid": [0.97, 0.975, float("nan"), 0.96], "relu": [0.97, 0.98, 0.98, 0.979]},
        xlabel="Affine layers",
        ylabel="Final accuracy (valid)",
    )
    assert _labels(fig.axes[0]) == ("Affine layers", "Final accuracy (valid)")
    save_figure(fig, tmp_path / "depth.png")
    png_size(tmp_path / "depth.png")


def test_train_model_and_plot_stats_is_the_seed_helper():
    import matplotlib.pyplot as plt

    rng = np.random.RandomState(0)
    inputs = rng.normal(size=(300, 5))
    labels = (inputs[:, 0] > 0).astype(int) + (inputs[:, 1] > 0)
    train = OneOfKDataProvider(inputs[:200], labels[:200], batch_size=20, rng=rng)
    valid = OneOfKDataProvider(inputs[200:], labels[200:], batch_size=20, rng=rng)
    init = UniformInit(-0.1, 0.1, rng=rng)
    model = MultipleLayerModel(
        [AffineLayer(5, 8, init, ConstantInit(0)), SigmoidLayer(), AffineLayer(8, 3, init)]
    )
    result = train_model_and_plot_stats(
        model,
        CrossEntropySoftmaxError(),
        GradientDescentLearningRule(0.5),
        train,
        valid,
        num_epochs=6,
        stats_interval=2,
    )
    stats, keys, run_time, fig_1, ax_1, fig_2, ax_2 = result
    assert stats.shape == (4, 4) and set(keys) == set(KEYS) and run_time > 0
    assert _labels(ax_1) == ("Epoch number", "Error")
    assert _labels(ax_2) == ("Epoch number", "Accuracy")
    np.testing.assert_array_equal(ax_2.get_lines()[1].get_xdata(), [2, 4, 6])
    assert [line.get_label() for line in ax_1.get_lines()] == ["error(train)", "error(valid)"]
    plt.close(fig_1)
    plt.close(fig_2)


def test_a_run_of_one_epoch_is_drawn_visibly_with_its_start():
    one_epoch = [("short", np.array([0, 1]), _stats(rows=2), KEYS)]
    for fig in (plot_runs(one_epoch), plot_stats(_stats(rows=2), KEYS, stats_interval=1)):
        for line in fig.axes[0].get_lines():
            assert line.get_marker() == "o"  # a single point would be an invisible line
            np.testing.assert_array_equal(line.get_xdata(), [0, 1])


def test_many_runs_get_distinct_colours_and_a_legend_below_that_names_them_all(tmp_path):
    runs = [(f"run {i}", np.arange(6), _stats(seed=i), KEYS) for i in range(23)]
    fig = plot_runs(runs)
    colours = [tuple(line.get_color()) for line in fig.axes[0].get_lines()[::2]]
    assert len(set(colours)) == 23
    (legend,) = fig.legends  # one legend for the figure, outside the panels
    assert [t.get_text() for t in legend.get_texts()] == [f"run {i}" for i in range(23)]
    save_figure(fig, tmp_path / "many.png")
    assert png_size(tmp_path / "many.png")[1] > 420  # grown to hold the legend
