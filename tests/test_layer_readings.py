"""mlp.lab.layer_readings: the report's sentences read off synthetic layer statistics
and confusion matrices whose answers are known."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from mlp.lab.layer_readings import (
    class_accuracies,
    confusion_statement,
    dead_units_statement,
    fraction_change,
    gradient_ratio,
    saturation_statement,
    stuck_epochs,
    top_confusions,
    vanishing_gradients_statement,
)
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable

NAN = math.nan


def make_table(
    names: list[str], epochs: list[int], columns: dict[str, dict[int, list[float]]]
) -> LayerStatsTable:
    """A table for layers `names` measured at `epochs`; columns[stat][layer] holds one
    value per epoch, every other entry NaN."""
    rows = []
    for e, epoch in enumerate(epochs):
        for layer, name in enumerate(names):
            values = [NAN] * len(LAYER_COLUMNS)
            for stat, per_layer in columns.items():
                if layer in per_layer:
                    values[LAYER_COLUMNS.index(stat)] = per_layer[layer][e]
            rows.append((epoch, layer, name, values))
    return LayerStatsTable.from_rows(rows)


def sigmoid_net(depth: int) -> list[str]:
    """[Affine, Sigmoid, Affine, Sigmoid, ..., Affine]: `depth` affine layers."""
    names = []
    for _ in range(depth - 1):
        names += ["AffineLayer", "SigmoidLayer"]
    return [*names, "AffineLayer"]


# The lab's 5-layer sigmoid network, made up: stuck near 0.11 until epoch 15, then up.
EPOCHS = [0, 5, 10, 15, 20, 25, 30]
ACCURACY = [0.098, 0.110, 0.114, 0.112, 0.40, 0.84, 0.90]
FIRST = [1e-4, 2e-4, 1e-4, 4e-5, 1e-3, 1e-2, 2e-2]
RATIO = [25.0, 60.0, 140.0, 50.0, 10.0, 3.1, 2.0]  # last / first


def lab_table(ratios: list[float] = RATIO, epochs: list[int] = EPOCHS) -> LayerStatsTable:
    first = FIRST[: len(epochs)]
    last = [f * r for f, r in zip(first, ratios, strict=True)]
    middle = [1e-3] * len(epochs)
    grads = {0: first, 2: middle, 4: middle, 6: middle, 8: last}
    return make_table(sigmoid_net(5), epochs, {"param_grad_norm": grads})


# --- gradient_ratio ---------------------------------------------------------------------


def test_gradient_ratio_is_last_over_first_affine_layer() -> None:
    epochs, ratios = gradient_ratio(lab_table())
    np.testing.assert_array_equal(epochs, EPOCHS)
    np.testing.assert_allclose(ratios, RATIO)


def test_gradient_ratio_orders_layers_by_index_and_skips_missing() -> None:
    # Rows listed in reverse layer order; layer 2's epoch-5 norm missing; layer 0's 0.
    names = ["AffineLayer", "ReluLayer", "AffineLayer"]
    rows = []
    for epoch, g0, g2 in ((0, 1.0, 4.0), (5, 2.0, NAN), (10, 0.0, 1.0), (15, 0.5, 1.0)):
        for layer in (2, 1, 0):
            values = [NAN] * len(LAYER_COLUMNS)
            values[LAYER_COLUMNS.index("param_grad_norm")] = {0: g0, 1: NAN, 2: g2}[layer]
            rows.append((epoch, layer, names[layer], values))
    epochs, ratios = gradient_ratio(LayerStatsTable.from_rows(rows))
    np.testing.assert_array_equal(epochs, [0, 15])
    np.testing.assert_allclose(ratios, [4.0, 2.0])


def test_gradient_ratio_needs_two_affine_layers() -> None:
    one = make_table(["AffineLayer"], [0, 1], {"param_grad_norm": {0: [1.0, 2.0]}})
    for table in (one, LayerStatsTable.from_rows([])):
        epochs, ratios = gradient_ratio(table)
        assert epochs.shape == ratios.shape == (0,)
    with pytest.raises(TypeError, match="table"):
        gradient_ratio("layers.csv")  # type: ignore[arg-type]


# --- stuck_epochs -----------------------------------------------------------------------


def test_stuck_then_moving() -> None:
    assert stuck_epochs(EPOCHS, ACCURACY) == (15, 20)
    # Any order; NaN accuracies skipped.
    assert stuck_epochs(EPOCHS[::-1], ACCURACY[::-1]) == (15, 20)
    assert stuck_epochs([0, 5, 10, 15], [0.1, 0.11, NAN, 0.5]) == (5, 15)


def test_chance_at_epoch_0_alone_is_not_stuck() -> None:
    assert stuck_epochs([0, 1, 2], [0.1, 0.85, 0.9]) == (None, 1)
    assert stuck_epochs([1, 2], [0.85, 0.9]) == (None, 1)


def test_never_moving_and_nothing_measured() -> None:
    assert stuck_epochs([0, 10, 20], [0.1, 0.11, 0.12]) == (20, None)
    assert stuck_epochs([0], [0.1]) == (None, None)
    assert stuck_epochs([], []) == (None, None)


def test_a_later_fall_to_chance_is_not_stuck() -> None:
    assert stuck_epochs([0, 5, 10], [0.1, 0.8, 0.1]) == (None, 5)


def test_chance_and_margin_set_the_threshold() -> None:
    assert stuck_epochs([0, 5, 10], [0.5, 0.52, 0.7], chance=0.5) == (5, 10)
    assert stuck_epochs(EPOCHS, ACCURACY, margin=0.35) == (20, 25)


@pytest.mark.parametrize(
    "args, error, word",
    [
        (([0, 1], [0.1]), ValueError, "one length"),
        (([[0, 1]], [[0.1, 0.2]]), ValueError, "1-D"),
        (([0, -1], [0.1, 0.2]), ValueError, "epochs"),
        (([0, 0.5], [0.1, 0.2]), ValueError, "epochs"),
        ((["a"], [0.1]), TypeError, "epochs"),
        (([0], [0.1], 2.0), ValueError, "chance"),
        (([0], [0.1], 0.1, "x"), TypeError, "margin"),
    ],
)
def test_stuck_epochs_refuses_bad_arguments(args: tuple, error: type, word: str) -> None:
    with pytest.raises(error, match=word):
        stuck_epochs(*args)


# --- vanishing_gradients_statement ------------------------------------------------------

LABEL = "5-layer sigmoid network"


def test_the_lab_statement() -> None:
    text = vanishing_gradients_statement(lab_table(), EPOCHS, ACCURACY, LABEL)
    assert text == (
        "While the 5-layer sigmoid network was stuck near chance (epochs 0-15, validation "
        "accuracy at most 0.114), its first layer's gradient norm was 25-140 times smaller "
        "than its last layer's (median 55x); by epoch 20, when validation accuracy had "
        "reached 0.4, the ratio had fallen to 10x (2.0x at epoch 30)."
    )


def test_the_numbers_follow_the_data() -> None:
    ratios = [300.0, 200.0, 100.0, 80.0, 5.0, 2.5, 1.5]
    text = vanishing_gradients_statement(lab_table(ratios), EPOCHS, ACCURACY, "deep net")
    assert "80-300 times smaller" in text and "(median 150x)" in text
    assert "fallen to 5.0x (1.5x at epoch 30)" in text
    # Measured only every 10 epochs: the first measurement after moving is epoch 20.
    sparse = lab_table([100.0, 50.0, 4.0, 3.0], [0, 10, 20, 30])
    text = vanishing_gradients_statement(sparse, EPOCHS, ACCURACY, "deep net")
    assert "epochs 0-15" in text and "50-100 times smaller" in text
    assert "(median" not in text  # two values: no median
    assert (
        "by epoch 20, when validation accuracy had reached 0.4, the ratio had fallen to 4.0x"
        in text
    )


def test_never_stuck_compares_start_and_end() -> None:
    text = vanishing_gradients_statement(
        lab_table([4.0, 3.0, 2.0, 1.5, 1.2, 0.9, 0.5]),
        EPOCHS,
        [0.1, 0.85, 0.9, 0.92, 0.93, 0.94, 0.95],
        "2-layer sigmoid network",
    )
    assert text == (
        "The 2-layer sigmoid network was never stuck near chance (validation accuracy "
        "0.85 by epoch 5); its first layer's gradient norm was 4.0 times smaller than its "
        "last layer's at epoch 0, and 2.0 times larger at epoch 30."
    )


def test_never_unstuck() -> None:
    text = vanishing_gradients_statement(
        lab_table(), EPOCHS, [0.1, 0.11, 0.1, 0.12, 0.11, 0.1, 0.13], LABEL
    )
    assert text.startswith(
        "The 5-layer sigmoid network stayed near chance throughout (epochs 0-30, "
    )
    assert "at most 0.13); its first layer's" in text
    assert "2.0-140 times smaller" in text and text.endswith("(median 25x).")


def test_moving_after_the_last_gradient_measurement() -> None:
    table = lab_table(RATIO[:3], EPOCHS[:3])
    text = vanishing_gradients_statement(table, EPOCHS, ACCURACY, LABEL)
    assert "25-140 times smaller" in text
    assert text.endswith("it left chance at epoch 20, after the last gradient measurement.")


def test_stuck_without_gradients_then() -> None:
    table = lab_table([10.0, 3.1, 2.0], [20, 25, 30])
    text = vanishing_gradients_statement(table, EPOCHS, ACCURACY, LABEL)
    assert "but no gradient norms were measured then" in text
    assert (
        "10 times smaller than its last layer's at epoch 20, and 2.0 times smaller at epoch 30"
        in text
    )


def test_first_layer_larger_while_stuck() -> None:
    text = vanishing_gradients_statement(
        lab_table([0.5, 0.25, 0.5, 0.2, 0.5, 1, 1]), EPOCHS, ACCURACY, LABEL
    )
    assert (
        "its first layer's gradient norm was 2.0-5.0 times larger than its last layer's (median 3.0x)"
        in text
    )
    assert "the ratio had risen to 0.5x" in text


def test_mixed_ratios_while_stuck() -> None:
    text = vanishing_gradients_statement(
        lab_table([0.5, 2.0, 3.0, 4.0, 1, 1, 1]), EPOCHS, ACCURACY, LABEL
    )
    assert (
        "its last layer's gradient norm was 0.5-4.0 times its first layer's (median 2.5x)" in text
    )


def test_missing_data() -> None:
    no_grads = make_table(["AffineLayer"], [0], {"param_grad_norm": {0: [1.0]}})
    assert vanishing_gradients_statement(no_grads, EPOCHS, ACCURACY, LABEL) == (
        "No first- and last-layer gradient norms were recorded for the 5-layer sigmoid "
        "network, so its layers' gradients cannot be compared."
    )
    text = vanishing_gradients_statement(lab_table(), [], [], LABEL)
    assert text.startswith("For the 5-layer sigmoid network (no accuracies recorded), its first")
    assert (
        "25 times smaller than its last layer's at epoch 0, and 2.0 times smaller at epoch 30"
        in text
    )
    with pytest.raises(TypeError, match="label"):
        vanishing_gradients_statement(lab_table(), EPOCHS, ACCURACY, "")


# --- saturation and dead units ----------------------------------------------------------


def tanh_table() -> LayerStatsTable:
    names = ["AffineLayer", "TanhLayer", "AffineLayer", "TanhLayer", "AffineLayer"]
    saturated = {1: [0.002, 0.05, 0.18], 3: [0.001, 0.1, 0.31]}
    return make_table(names, [0, 50, 100], {"saturated_fraction": saturated})


def test_fraction_change_reads_first_and_last() -> None:
    first, last, values = fraction_change(tanh_table(), "saturated_fraction")
    assert (first, last) == (0, 100)
    assert values == {1: (0.002, 0.18), 3: (0.001, 0.31)}
    assert fraction_change(tanh_table(), "dead_fraction") == (0, 0, {})


def test_saturation_statement() -> None:
    assert saturation_statement(tanh_table(), "tanh network") == (
        "In the tanh network, the fraction of saturated outputs (within 0.01 of their "
        "bounds) went from epoch 0 to epoch 100: 0.2% to 18% in hidden layer 1, 0.1% to "
        "31% in hidden layer 2; hidden layer 2 has the most (31% at epoch 100)."
    )


def test_dead_units_statement() -> None:
    names = ["AffineLayer", "ReluLayer"] * 3 + ["AffineLayer"]
    dead = {1: [0.0, 0.02], 3: [0.01, 0.12], 5: [0.0, 0.07]}
    text = dead_units_statement(make_table(names, [0, 30], {"dead_fraction": dead}), "ReLU net")
    assert text == (
        "In the ReLU net, the fraction of dead units (no positive input for any example of "
        "the batch) went from epoch 0 to epoch 30: 0% to 2% in hidden layer 1, 1% to 12% in "
        "hidden layer 2, 0% to 7% in hidden layer 3; hidden layer 2 has the most (12% at "
        "epoch 30)."
    )


def test_fraction_edge_cases() -> None:
    names = ["AffineLayer", "ReluLayer", "AffineLayer", "ReluLayer", "AffineLayer"]
    none_dead = make_table(names, [0, 10], {"dead_fraction": {1: [0.0, 0.0], 3: [0.0, 0.0]}})
    assert dead_units_statement(none_dead, "net").endswith("; no layer has any at epoch 10.")
    once = make_table(names, [0], {"dead_fraction": {1: [0.25], 3: [0.5]}})
    assert dead_units_statement(once, "net") == (
        "In the net at epoch 0, the fraction of dead units (no positive input for any "
        "example of the batch) was 25% in hidden layer 1, 50% in hidden layer 2; hidden "
        "layer 2 has the most (50% at epoch 0)."
    )
    single = make_table(names[:3], [0, 5], {"dead_fraction": {1: [0.1, 0.3]}})
    assert dead_units_statement(single, "net").endswith("10% to 30% in hidden layer 1.")
    assert saturation_statement(none_dead, "ReLU net") == (
        "No saturated outputs (within 0.01 of their bounds) were measured for the ReLU net "
        "(it has no sigmoid or tanh layers, or none were measured)."
    )
    assert "No dead units" in dead_units_statement(LayerStatsTable.from_rows([]), "net")
    with pytest.raises(TypeError, match="table"):
        saturation_statement(None, "net")  # type: ignore[arg-type]


def test_a_layer_missing_at_the_end() -> None:
    names = ["AffineLayer", "SigmoidLayer", "AffineLayer", "SigmoidLayer", "AffineLayer"]
    table = make_table(names, [0, 10], {"saturated_fraction": {1: [0.3, 0.4], 3: [0.2, NAN]}})
    text = saturation_statement(table, "net")
    assert "20% to not measured in hidden layer 2; hidden layer 1 has the most (40%" in text


# --- confusions -------------------------------------------------------------------------


def confusion() -> np.ndarray:
    m = np.diag([980, 1130, 1000, 990, 960, 880, 950, 1000, 900, 980]).astype(np.int64)
    m[7, 2], m[4, 9], m[3, 5], m[8, 3], m[9, 4] = 23, 19, 15, 15, 2
    return m


def test_top_confusions_and_class_accuracies() -> None:
    m = confusion()
    assert top_confusions(m) == [(7, 2, 23), (4, 9, 19), (3, 5, 15)]
    assert top_confusions(m, 10)[3:] == [(8, 3, 15), (9, 4, 2)]
    accuracies = class_accuracies(m)
    np.testing.assert_allclose(accuracies[8], 900 / 915)
    assert accuracies[1] == 1.0
    with_empty = np.zeros((3, 3))
    with_empty[0, 0] = 5
    assert np.isnan(class_accuracies(with_empty)[1:]).all()


def test_confusion_statement() -> None:
    assert confusion_statement(confusion()) == (
        "The most frequent confusions: 7 read as 2 (23 times), 4 as 9 (19), 3 as 5 (15). "
        "The worst class is 7, 97.8% correct (the best, 0, 100.0%)."
    )
    names = ["zero", "one", "two"]
    m = np.array([[10, 1, 0], [0, 5, 0], [0, 0, 3]])
    assert confusion_statement(m, names, count=5) == (
        "The most frequent confusion: zero read as one (1 time). The worst class is zero, "
        "90.9% correct (the best, one, 100.0%)."
    )


def test_confusion_edge_cases() -> None:
    assert confusion_statement(np.eye(3) * 4) == "No example was misclassified (all 12 correct)."
    assert confusion_statement(np.zeros((2, 2))) == "The confusion matrix holds no examples."
    for bad, error in (
        (np.zeros((2, 3)), ValueError),
        (np.array([[1, -1], [0, 1]]), ValueError),
        (np.array([[1.5, 0], [0, 1]]), ValueError),
        ("abc", TypeError),
    ):
        with pytest.raises(error, match="matrix"):
            confusion_statement(bad)
    with pytest.raises(ValueError, match="class_names"):
        confusion_statement(np.eye(3), ["a", "b"])
    with pytest.raises(ValueError, match="count"):
        top_confusions(np.eye(3), 0)


def test_statements_carry_no_unformatted_numbers() -> None:
    # Every number in a statement is short: read off, not dumped.
    texts = [
        vanishing_gradients_statement(lab_table(), EPOCHS, ACCURACY, LABEL),
        saturation_statement(tanh_table(), "tanh network"),
        confusion_statement(confusion()),
    ]
    for text in texts:
        assert not re.search(r"\d\.\d{4,}", text), text


def test_templates_read_off_their_class_mean_images():
    from mlp.lab.layer_readings import template_correlations, templates_statement

    rng = np.random.default_rng(3)
    prototypes = rng.normal(size=(3, 16))
    labels = np.repeat(np.arange(3), 40)
    inputs = prototypes[labels] + 0.1 * rng.normal(size=(120, 16))
    typical = np.stack([inputs[labels == j].mean(0) - inputs.mean(0) for j in range(3)])
    # Templates equal to what sets each class apart correlate 1 with their own class.
    r = template_correlations(typical, inputs, labels)
    assert r.shape == (3, 3)
    assert np.allclose(np.diag(r), 1.0)
    assert np.all(r[~np.eye(3, dtype=bool)] < 0.9)
    # Swapping two templates: those two now match another class best.
    swapped = typical[[1, 0, 2]]
    sentence = templates_statement(swapped, inputs, labels)
    assert "for 1 of the 3 digits" in sentence
    r_swapped = template_correlations(swapped, inputs, labels)
    assert f"r = {np.diag(r_swapped).min():.2f} to {np.diag(r_swapped).max():.2f}" in sentence
    with pytest.raises(ValueError, match="labels must be integers"):
        template_correlations(typical, inputs, labels + 5)
    with pytest.raises(ValueError, match="need weights"):
        template_correlations(typical, inputs[:, :5], labels)
