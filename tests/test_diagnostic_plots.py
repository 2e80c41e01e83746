"""The diagnostic figures (`mlp.diagnostic_plots`) and what they are computed from
(`mlp.evaluation`): each PNG is written at its figure's size, and the data behind each
figure is the data given (lines, images, cell texts, histogram counts, colour limits)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlp import diagnostic_plots as D
from mlp.evaluation import confusion_matrix, labels_of, most_confident_mistakes
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.plotting import save_figure

RNG = np.random.RandomState(15)
NAMES = ["AffineLayer", "SigmoidLayer", "AffineLayer", "ReluLayer", "AffineLayer"]


def stats_table(scale: float = 1.0, epochs: int = 4) -> LayerStatsTable:
    """A table as a 784-20-20-10 sigmoid/ReLU net would give: gradient norms for every
    layer, parameter statistics for the affine layers, saturation for the sigmoid and
    dead units for the ReLU."""
    rows = []
    for epoch in range(epochs + 1):
        for layer, name in enumerate(NAMES):
            values = [math.nan] * len(LAYER_COLUMNS)
            values[0] = scale * 10.0 ** (layer - 4) * (1 + epoch)
            if name == "AffineLayer":
                values[1] = 2 * values[0]
                values[2] = 1e-3 if epoch else math.nan
            values[3], values[4] = 0.1 * epoch, 0.5
            if name == "SigmoidLayer":
                values[5] = 0.05 * epoch
            if name == "ReluLayer":
                values[6] = 0.02 * epoch
            rows.append((epoch, layer, name, values))
    return LayerStatsTable.from_rows(rows)


def saved_size(fig, path) -> tuple[int, int]:
    """Save `fig` to `path` and return the PNG's (width, height), read back, after
    checking that it is the figure's size at 100 dpi."""
    from matplotlib.image import imread

    expected = tuple(round(v * 100) for v in fig.get_size_inches())
    save_figure(fig, path)
    height, width = imread(path).shape[:2]
    assert (width, height) == expected
    return width, height


def titled(fig) -> bool:
    return bool(fig.get_suptitle()) or any(ax.get_title() for ax in fig.axes)


# --- mlp.evaluation ----------------------------------------------------------------------


def test_confusion_matrix_counts_rows_true_columns_predicted():
    targets = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])
    matrix = confusion_matrix(targets, predictions)
    assert matrix.dtype == np.int64
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    # One-of-K targets and probability rows give the same counts, and set K.
    one_hot = np.eye(4)[targets]
    scores = np.eye(4)[predictions] * 0.7 + 0.05
    wide = confusion_matrix(one_hot, scores)
    assert wide.shape == (4, 4) and wide[:3, :3].tolist() == matrix.tolist()
    assert confusion_matrix(targets, predictions, num_classes=10).sum() == 6


def test_confusion_matrix_agrees_with_a_loop():
    targets, predictions = RNG.randint(0, 10, 500), RNG.randint(0, 10, 500)
    expected = np.zeros((10, 10), np.int64)
    for t, p in zip(targets, predictions, strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(confusion_matrix(targets, predictions, 10), expected)


@pytest.mark.parametrize(
    ("targets", "predictions", "num_classes", "message"),
    [
        ([0, 1], [0], None, "targets has 2 examples, predictions has 1"),
        ([0, 5], [0, 1], 3, "targets holds label 5"),
        ([0, -1], [0, 1], None, "labels >= 0"),
        ([0.5, 1], [0, 1], None, "whole-number labels"),
        (np.zeros((2, 2, 2)), [0, 1], None, "shape (2, 2, 2)"),
        (np.eye(3)[[0, 1]], [0, 1], 4, "targets has 3 columns"),
        ([0, 1], [0, 1], 0, "num_classes"),
        (["a", "b"], [0, 1], None, "targets"),
    ],
)
def test_confusion_matrix_refuses_clearly(targets, predictions, num_classes, message):
    with pytest.raises(
        (TypeError, ValueError), match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        confusion_matrix(targets, predictions, num_classes)


def test_most_confident_mistakes_orders_the_wrong_predictions_by_their_probability():
    probabilities = np.array(
        [
            [0.9, 0.1, 0.0],  # right
            [0.2, 0.7, 0.1],  # wrong (true 0), 0.7
            [0.1, 0.1, 0.8],  # wrong (true 1), 0.8
            [0.5, 0.4, 0.1],  # wrong (true 2), 0.5
            [0.0, 0.0, 1.0],  # right
        ]
    )
    targets = np.array([0, 0, 1, 2, 2])
    np.testing.assert_array_equal(most_confident_mistakes(probabilities, targets), [2, 1, 3])
    np.testing.assert_array_equal(
        most_confident_mistakes(probabilities, np.eye(3)[targets], 2), [2, 1]
    )
    assert most_confident_mistakes(probabilities, probabilities.argmax(1)).shape == (0,)
    with pytest.raises(ValueError, match="count"):
        most_confident_mistakes(probabilities, targets, 0)
    with pytest.raises(ValueError, match="probabilities must have shape"):
        most_confident_mistakes(probabilities[0], targets)
    with pytest.raises(ValueError, match="label 3"):
        most_confident_mistakes(probabilities, [0, 0, 1, 3, 2])


def test_labels_of_takes_labels_or_rows():
    np.testing.assert_array_equal(labels_of([[0, 1], [1, 0]], "t", "f"), [1, 0])
    np.testing.assert_array_equal(labels_of(np.array([2.0, 0.0]), "t", "f"), [2, 0])


# --- per-layer statistics ----------------------------------------------------------------


def test_layer_stats_lines_are_the_tables_series(tmp_path):
    numpy_table, torch_table = stats_table(), stats_table(1.1)
    fig = D.plot_layer_stats([numpy_table, torch_table], ["numpy", "torch"], title="W2")
    saved_size(fig, tmp_path / "layers.png")
    assert fig.get_suptitle() == "W2"
    lines = {line.get_gid(): line for ax in fig.axes for line in ax.get_lines() if line.get_gid()}
    # Both gradient norms for every layer that has them, saturation for the sigmoid
    # (layer 1), dead units for the ReLU (layer 3); negative_fraction applies to none.
    expected = {
        f"{t}:{layer}:{column}"
        for t in (0, 1)
        for column, layers in (
            ("output_grad_norm", range(5)),
            ("param_grad_norm", (0, 2, 4)),
            ("saturated_fraction", (1,)),
            ("dead_fraction", (3,)),
        )
        for layer in layers
    }
    assert set(lines) == expected
    for gid, line in lines.items():
        t, layer, column = gid.split(":")
        epochs, values = (numpy_table, torch_table)[int(t)].series(int(layer), column)
        np.testing.assert_array_equal(line.get_xdata(), epochs)
        np.testing.assert_array_equal(line.get_ydata(), values)
        assert line.get_linestyle() == ("-" if t == "0" else "--")
    panels = [ax for ax in fig.axes if ax.get_lines()]
    assert [ax.get_yscale() for ax in panels] == ["log", "log", "linear", "linear"]
    assert all(ax.get_xlabel() == "Epoch number" and ax.get_ylabel() for ax in panels)
    legend = [text.get_text() for text in fig.legends[0].get_texts()]
    assert "layer 1: SigmoidLayer" in legend and legend[-2:] == ["numpy", "torch"]


def test_layer_stats_of_one_table_and_chosen_columns(tmp_path):
    fig = D.plot_layer_stats(stats_table(), columns=["update_ratio", "activation_mean"])
    saved_size(fig, tmp_path / "one.png")
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_lines()] == [
        D.COLUMN_LABELS["update_ratio"],
        D.COLUMN_LABELS["activation_mean"],
    ]
    assert fig.get_suptitle() == "Per-layer statistics over training"
    with pytest.raises(ValueError, match="none of columns"):
        D.plot_layer_stats(stats_table(), columns=["negative_fraction"])
    with pytest.raises(ValueError, match="columns"):
        D.plot_layer_stats(stats_table(), columns=["bogus"])
    with pytest.raises(TypeError, match="tables"):
        D.plot_layer_stats([None])
    with pytest.raises(ValueError, match="2 labels for 1 tables"):
        D.plot_layer_stats([stats_table()], ["a", "b"])


# --- weight images -----------------------------------------------------------------------


@pytest.mark.parametrize("transposed", [False, True])
def test_weight_images_are_the_reshaped_weights_on_a_symmetric_scale(tmp_path, transposed):
    weights = RNG.randn(10, 784)  # softmax regression's (num_units, input_dim)
    fig = D.plot_weight_images(weights.T if transposed else weights)
    saved_size(fig, tmp_path / "templates.png")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 10
    limit = np.abs(weights).max()
    for unit, image in enumerate(images):
        np.testing.assert_array_equal(image.get_array(), weights[unit].reshape(28, 28))
        assert image.get_clim() == (-limit, limit)
    assert titled(fig) and "10 units" in fig.get_suptitle()
    colorbar = [ax for ax in fig.axes if ax.get_ylabel() == "weight"]
    assert len(colorbar) == 1


def test_weight_images_show_at_most_max_images_and_take_kernels(tmp_path):
    hidden = RNG.randn(100, 784)
    fig = D.plot_weight_images(hidden, max_images=64)
    saved_size(fig, tmp_path / "hidden.png")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 64 and "first 64 shown" in fig.get_suptitle()
    assert images[0].get_clim()[1] == np.abs(hidden[:64]).max()
    kernels = RNG.randn(6, 2, 5, 5)
    fig = D.plot_weight_images(kernels, label="kernel weight")
    saved_size(fig, tmp_path / "kernels.png")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 12
    np.testing.assert_array_equal(images[3].get_array(), kernels[1, 1])
    low, high = images[0].get_clim()
    assert low == -high == -np.abs(kernels).max()
    with pytest.raises(ValueError, match="no side of 784"):
        D.plot_weight_images(RNG.randn(10, 50))
    with pytest.raises(ValueError, match="weights must be 2-D"):
        D.plot_weight_images(RNG.randn(784))


# --- judging a classifier ----------------------------------------------------------------


def test_confusion_matrix_figure_writes_the_counts_in_its_cells(tmp_path):
    targets, predictions = RNG.randint(0, 10, 300), RNG.randint(0, 10, 300)
    matrix = confusion_matrix(targets, predictions, 10)
    fig = D.plot_confusion_matrix(matrix)
    saved_size(fig, tmp_path / "confusion.png")
    ax = fig.axes[0]
    texts = np.array([int(text.get_text()) for text in ax.texts]).reshape(10, 10)
    np.testing.assert_array_equal(texts, matrix)
    np.testing.assert_array_equal(ax.images[0].get_array(), matrix)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("Predicted class", "True class")
    assert f"{np.trace(matrix) / 300:.2%}" in ax.get_title()
    names = ["cat", "dog"]
    fig = D.plot_confusion_matrix([[3, 1], [0, 4]], class_names=names, title="pets")
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == names
    with pytest.raises(ValueError, match="square"):
        D.plot_confusion_matrix(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="counts"):
        D.plot_confusion_matrix([[1, -1], [0, 1]])


def test_misclassified_gallery_titles_each_image(tmp_path):
    images = RNG.rand(12, 784)
    targets, predictions = np.arange(12) % 10, (np.arange(12) + 1) % 10
    confidences = np.linspace(0.99, 0.5, 12)
    fig = D.plot_misclassified(images, targets, predictions, confidences)
    saved_size(fig, tmp_path / "mistakes.png")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 12
    assert panels[7].get_title() == f"true 7, predicted 8\n({confidences[7]:.2f})"
    np.testing.assert_array_equal(panels[3].images[0].get_array(), images[3].reshape(28, 28))
    assert "12 most confident mistakes" in fig.get_suptitle()
    empty = D.plot_misclassified(np.zeros((0, 784)), [], [], [])
    saved_size(empty, tmp_path / "none.png")
    with pytest.raises(ValueError, match="targets"):
        D.plot_misclassified(images, targets[:3], predictions, confidences)


# --- activation histograms ---------------------------------------------------------------


def test_activation_histograms_count_every_sample(tmp_path):
    samples = {
        0: {1: RNG.randn(1000), 3: RNG.rand(500)},
        5: {1: RNG.randn(1000) * 2, 3: RNG.rand(500)},
        10: {1: RNG.randn(1000) * 3, 3: RNG.rand(500) * 2},
    }
    fig = D.plot_activation_histograms(samples, {1: "SigmoidLayer", 3: "ReluLayer"})
    saved_size(fig, tmp_path / "histograms.png")
    panels = [ax for ax in fig.axes if ax.patches]
    assert [ax.get_title() for ax in panels] == ["layer 1: SigmoidLayer", "layer 3: ReluLayer"]
    for ax, layer in zip(panels, (1, 3), strict=True):
        # The first and the last epoch only, on shared bins covering every value.
        assert [patch.get_gid() for patch in ax.patches] == ["epoch 0", "epoch 10"]
        for patch, epoch in zip(ax.patches, (0, 10), strict=True):
            counts, edges, _ = patch.get_data()
            assert edges[0] <= samples[epoch][layer].min()
            assert counts.sum() == len(samples[epoch][layer])
        assert ax.get_xlabel() == "Output value" and ax.get_ylabel() == "Count"
    with pytest.raises(TypeError, match="samples"):
        D.plot_activation_histograms({})
    with pytest.raises(ValueError, match="finite"):
        D.plot_activation_histograms({0: {1: [np.nan]}})
