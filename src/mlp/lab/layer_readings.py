"""What the lab report reads off per-layer statistics and confusion matrices: sentences
whose every number comes from the data (vanishing gradients while a deep sigmoid
network is stuck, saturated tanh and sigmoid units, dead ReLUs, the most frequent
confusions), and the functions giving the numbers they read, for tests and figures.

Everything here is a pure function of arrays and `mlp.layer_stats.LayerStatsTable`
objects (see that module for what each statistic means); nothing reads files.

    epochs, ratios = gradient_ratio(table)          # last / first affine layer's ||dE/dp||
    stuck_epochs(epochs, valid_accuracies)          # (last stuck epoch, first moving one)
    vanishing_gradients_statement(table, epochs, valid_accuracies, "5-layer sigmoid network")
    saturation_statement(table, "tanh network")     # dead_units_statement for ReLU
    confusion_statement(matrix)                     # rows: true class, columns: predicted
    templates_statement(weights, inputs, labels)    # softmax regression's learned templates
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from mlp.layer_stats import LayerStatsTable

__all__ = [
    "CHANCE",
    "STUCK_MARGIN",
    "class_accuracies",
    "confusion_statement",
    "dead_units_statement",
    "fraction_change",
    "gradient_ratio",
    "saturation_statement",
    "stuck_epochs",
    "template_correlations",
    "templates_statement",
    "top_confusions",
    "vanishing_gradients_statement",
]

CHANCE = 0.1
"""The accuracy of guessing among MNIST's ten classes."""

STUCK_MARGIN = 0.05
"""A network is near chance while its accuracy is below CHANCE + STUCK_MARGIN."""

_EMPTY = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


# --- formatting -------------------------------------------------------------------------


def _times(x: float) -> str:
    """A ratio the way a reader says it: 140, 25, 3.1, 0.45."""
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}" if x >= 1 else f"{x:.2g}"


def _percent(x: float) -> str:
    if math.isnan(x):
        return "not measured"
    return f"{100 * x:.0f}%" if x >= 0.1 else f"{100 * x:.2g}%"


def _accuracy(x: float) -> str:
    return f"{x:.3g}"


def _epochs(first: int, last: int) -> str:
    return f"epoch {first}" if first == last else f"epochs {first}-{last}"


# --- checks -----------------------------------------------------------------------------


def _check_table(table: Any, function: str) -> LayerStatsTable:
    if not isinstance(table, LayerStatsTable):
        raise TypeError(
            f"{function}: table must be an mlp.layer_stats.LayerStatsTable, got {table!r}"
        )
    return table


def _check_label(label: Any, function: str) -> str:
    if not isinstance(label, str) or not label:
        raise TypeError(f"{function}: label must be a non-empty string, got {label!r}")
    return label


def _accuracy_series(epochs: Any, accuracies: Any, function: str) -> tuple[np.ndarray, np.ndarray]:
    """(epochs, accuracies) as sorted 1-D arrays, measurements without an accuracy
    (NaN) left out."""
    try:
        e = np.asarray(epochs, dtype=np.float64)
        a = np.asarray(accuracies, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{function}: epochs and accuracies must be 1-D arrays of numbers, "
            f"got {epochs!r} and {accuracies!r}"
        ) from None
    if e.ndim != 1 or a.shape != e.shape:
        raise ValueError(
            f"{function}: epochs and accuracies must be 1-D of one length, "
            f"got shapes {e.shape} and {a.shape}"
        )
    if not np.all(np.isfinite(e)) or np.any(e < 0) or np.any(e != np.round(e)):
        raise ValueError(f"{function}: epochs must be integers >= 0, got {epochs!r}")
    keep = np.isfinite(a)
    order = np.argsort(e[keep], kind="stable")
    return e[keep][order].astype(np.int64), a[keep][order]


def _check_level(value: Any, name: str, function: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{function}: {name} must be a number, got {value!r}")
    if not low <= float(value) <= high:
        raise ValueError(f"{function}: {name} must be in [{low}, {high}], got {value!r}")
    return float(value)


# --- vanishing gradients ----------------------------------------------------------------


def gradient_ratio(
    table: LayerStatsTable, layer_name: str = "AffineLayer"
) -> tuple[np.ndarray, np.ndarray]:
    """How many times larger the last affine layer's gradient is than the first's.

    For each measurement, the last `layer_name` layer's `param_grad_norm` divided by the
    first one's (layers ordered by their index in `model.layers`). Measurements where
    either norm is missing (NaN) or the first is 0 are left out.

    Returns:
        epochs: int64 array of shape (num_measurements,), sorted; ratios: float64 array
        of the same shape. Both empty when the table has fewer than two such layers.
    """
    table = _check_table(table, "gradient_ratio")
    # The layers by index, whatever the order of the table's rows.
    named = zip(table.layers.tolist(), table.names, strict=True)
    layers = sorted({int(i) for i, name in named if name == layer_name})
    if len(layers) < 2:
        return _EMPTY
    first_epochs, first = table.series(layers[0], "param_grad_norm")
    last_epochs, last = table.series(layers[-1], "param_grad_norm")
    epochs, i, j = np.intersect1d(first_epochs, last_epochs, return_indices=True)
    first, last = first[i], last[j]
    keep = np.isfinite(first) & np.isfinite(last) & (first > 0)
    return epochs[keep].astype(np.int64), last[keep] / first[keep]


def stuck_epochs(
    epochs: Sequence[int] | np.ndarray,
    accuracies: Sequence[float] | np.ndarray,
    chance: float = CHANCE,
    margin: float = STUCK_MARGIN,
) -> tuple[int | None, int | None]:
    """When a network stops being stuck near chance.

    A measurement is near chance when its accuracy is below `chance + margin`. The
    network is stuck over the initial run of near-chance measurements, provided that
    run includes a measurement after training began (every network is at chance at
    epoch 0, before training; that alone is not being stuck). Only the start matters:
    a later fall back to chance (divergence) is not counted.

    Args:
        epochs: shape (num_measurements,), the epoch of each accuracy (any order).
        accuracies: the same shape, e.g. the validation accuracies; NaN ones are skipped.
        chance: the accuracy of guessing (0.1 for ten classes).
        margin: how far above chance still counts as near it.
    Returns:
        (last_stuck_epoch, first_moving_epoch): the last epoch of the stuck run, None
        when the network was never stuck; the first epoch at or above the threshold,
        None when it never got there (or nothing was measured).
    """
    e, a = _accuracy_series(epochs, accuracies, "stuck_epochs")
    chance = _check_level(chance, "chance", "stuck_epochs", 0.0, 1.0)
    margin = _check_level(margin, "margin", "stuck_epochs", 0.0, 1.0)
    moving = np.flatnonzero(a >= chance + margin)
    first_moving = int(e[moving[0]]) if moving.size else None
    stuck = e[: moving[0] if moving.size else len(e)]
    trained = stuck[stuck > 0]
    return (int(trained[-1]) if trained.size else None), first_moving


def _span(values: np.ndarray) -> str:
    low, high = _times(float(values.min())), _times(float(values.max()))
    return low if low == high else f"{low}-{high}"


def _median(values: np.ndarray) -> str:
    return f" (median {_times(float(np.median(values)))}x)" if len(values) >= 3 else ""


def _ratio_range(ratios: np.ndarray) -> str:
    """'its first layer's gradient norm was 25-140 times smaller than its last layer's
    (median 60x)', or the larger/mixed wording when the ratios say so."""
    if ratios.min() >= 1:
        return (
            f"its first layer's gradient norm was {_span(ratios)} times smaller than its "
            f"last layer's{_median(ratios)}"
        )
    if ratios.max() <= 1:
        return (
            f"its first layer's gradient norm was {_span(1 / ratios)} times larger than its "
            f"last layer's{_median(1 / ratios)}"
        )
    return (
        f"its last layer's gradient norm was {_span(ratios)} times its first "
        f"layer's{_median(ratios)}"
    )


def _relation(ratio: float) -> str:
    """'3.1 times smaller than' or '2.0 times larger than': the first layer against the last."""
    if ratio >= 1:
        return f"{_times(ratio)} times smaller than"
    return f"{_times(1 / ratio)} times larger than"


def _accuracy_by(epoch: int, e: np.ndarray, a: np.ndarray) -> float:
    """The accuracy of the latest measurement at or before `epoch` (NaN if none)."""
    before = np.flatnonzero(e <= epoch)
    return float(a[before[-1]]) if before.size else math.nan


def _change_clause(ratio_epochs: np.ndarray, ratios: np.ndarray) -> str:
    """The first layer against the last at the first measurement and at the last."""
    start = (
        f"its first layer's gradient norm was {_relation(float(ratios[0]))} its last "
        f"layer's at epoch {ratio_epochs[0]}"
    )
    if len(ratios) == 1:
        return start
    end = _relation(float(ratios[-1])).removesuffix(" than")
    return f"{start}, and {end} at epoch {ratio_epochs[-1]}"


def vanishing_gradients_statement(
    table: LayerStatsTable,
    epochs: Sequence[int] | np.ndarray,
    accuracies: Sequence[float] | np.ndarray,
    label: str,
    *,
    chance: float = CHANCE,
    margin: float = STUCK_MARGIN,
) -> str:
    """A sentence on the first affine layer's gradient against the last's, while the
    network is stuck near chance (see `stuck_epochs`) and once it moves, e.g.

        While the 5-layer sigmoid network was stuck near chance (epochs 0-15,
        validation accuracy at most 0.114), its first layer's gradient norm was
        25-140 times smaller than its last layer's (median 60x); by epoch 25, when
        validation accuracy had reached 0.84, the ratio had fallen to 3.1x.

    Args:
        table: the network's layer statistics (`gradient_ratio` reads it).
        epochs, accuracies: shape (num_rows,): its validation accuracy at each epoch
            recorded, e.g. a run record's epochs and 'acc(valid)' column.
        label: what the network is called in the sentence.
        chance, margin: as for `stuck_epochs`.
    """
    label = _check_label(label, "vanishing_gradients_statement")
    ratio_epochs, ratios = gradient_ratio(table)
    e, a = _accuracy_series(epochs, accuracies, "vanishing_gradients_statement")
    last_stuck, first_moving = stuck_epochs(e, a, chance, margin)
    if not len(ratios):
        return (
            f"No first- and last-layer gradient norms were recorded for the {label}, "
            "so its layers' gradients cannot be compared."
        )
    if not len(e):
        return f"For the {label} (no accuracies recorded), {_change_clause(ratio_epochs, ratios)}."
    if last_stuck is None:
        reached = (
            f"validation accuracy {_accuracy(_accuracy_by(first_moving, e, a))} by epoch {first_moving}"
            if first_moving is not None
            else f"validation accuracy at most {_accuracy(float(a.max()))}"
        )
        return f"The {label} was never stuck near chance ({reached}); {_change_clause(ratio_epochs, ratios)}."
    return _stuck_statement(label, ratio_epochs, ratios, e, a, last_stuck, first_moving)


def _stuck_statement(
    label: str,
    ratio_epochs: np.ndarray,
    ratios: np.ndarray,
    e: np.ndarray,
    a: np.ndarray,
    last_stuck: int,
    first_moving: int | None,
) -> str:
    """The statement for a network that was stuck (the common case of the lab)."""
    stuck = f"{_epochs(int(e[0]), last_stuck)}, validation accuracy at most {_accuracy(float(a[e <= last_stuck].max()))}"
    if first_moving is None:
        head = f"The {label} stayed near chance throughout ({stuck})"
    else:
        head = f"While the {label} was stuck near chance ({stuck})"
    during = ratio_epochs <= last_stuck
    if not during.any():
        return f"{head}, but no gradient norms were measured then; {_change_clause(ratio_epochs, ratios)}."
    if first_moving is None:
        return f"{head}; {_ratio_range(ratios[during])}."
    sentence = f"{head}, {_ratio_range(ratios[during])}"
    after = np.flatnonzero(ratio_epochs >= first_moving)
    if not after.size:
        return f"{sentence}; it left chance at epoch {first_moving}, after the last gradient measurement."
    at, ratio = int(ratio_epochs[after[0]]), float(ratios[after[0]])
    moved = "fallen" if ratio < float(np.median(ratios[during])) else "risen"
    sentence += (
        f"; by epoch {at}, when validation accuracy had reached "
        f"{_accuracy(_accuracy_by(at, e, a))}, the ratio had {moved} to {_times(ratio)}x"
    )
    if after[0] != len(ratios) - 1:
        sentence += f" ({_times(float(ratios[-1]))}x at epoch {ratio_epochs[-1]})"
    return sentence + "."


# --- saturation and dead units ----------------------------------------------------------


def fraction_change(
    table: LayerStatsTable, column: str
) -> tuple[int, int, dict[int, tuple[float, float]]]:
    """A statistic of each layer it applies to, at the first and the last measurement.

    Args:
        table: layer statistics.
        column: e.g. 'saturated_fraction' or 'dead_fraction' (one of LAYER_COLUMNS).
    Returns:
        (first_epoch, last_epoch, {layer index: (value at first, value at last)}),
        layers in order, NaN where a layer was not measured at that epoch; (0, 0, {})
        when no layer has the statistic.
    """
    table = _check_table(table, "fraction_change")
    layers = table.applies(column)
    if not layers:
        return 0, 0, {}
    measured = table.measured_epochs()
    first, last = int(measured[0]), int(measured[-1])
    values = {}
    for layer in layers:
        epochs, series = table.series(layer, column)
        at = {int(epoch): float(value) for epoch, value in zip(epochs, series, strict=True)}
        values[layer] = (at.get(first, math.nan), at.get(last, math.nan))
    return first, last, values


def _fraction_statement(
    table: LayerStatsTable, label: str, column: str, what: str, missing: str, function: str
) -> str:
    label = _check_label(label, function)
    first, last, values = fraction_change(_check_table(table, function), column)
    if not values:
        return f"No {what} were measured for the {label} ({missing})."
    parts = ", ".join(
        (f"{_percent(start)} to {_percent(end)}" if first != last else _percent(end))
        + f" in hidden layer {k}"
        for k, (start, end) in enumerate(values.values(), start=1)
    )
    if first == last:
        sentence = f"In the {label} at epoch {first}, the fraction of {what} was {parts}"
    else:
        sentence = (
            f"In the {label}, the fraction of {what} went from epoch {first} to epoch "
            f"{last}: {parts}"
        )
    ends = np.array([end for _, end in values.values()])
    if len(values) > 1 and np.isfinite(ends).any():
        k = int(np.nanargmax(ends)) + 1
        top = float(np.nanmax(ends))
        sentence += (
            f"; hidden layer {k} has the most ({_percent(top)} at epoch {last})"
            if top > 0
            else f"; no layer has any at epoch {last}"
        )
    return sentence + "."


def saturation_statement(table: LayerStatsTable, label: str) -> str:
    """A sentence on the fraction of saturated outputs (sigmoid, tanh: within 0.01 of a
    bound) of each hidden layer at the first and last measurement, and which layer ends
    the most saturated, e.g.

        In the tanh network, the fraction of saturated outputs (within 0.01 of their
        bounds) went from epoch 0 to epoch 100: 0.2% to 18% in hidden layer 1, 0.1% to
        31% in hidden layer 2; hidden layer 2 has the most (31% at epoch 100).

    Hidden layers are numbered from 1 in the order of `model.layers`, counting the
    layers the statistic applies to.
    """
    return _fraction_statement(
        table,
        label,
        "saturated_fraction",
        "saturated outputs (within 0.01 of their bounds)",
        "it has no sigmoid or tanh layers, or none were measured",
        "saturation_statement",
    )


def dead_units_statement(table: LayerStatsTable, label: str) -> str:
    """A sentence on the fraction of dead ReLU units (input <= 0 for every example of
    the measurement batch) of each hidden layer at the first and last measurement, and
    which layer ends with the most, in the words of `saturation_statement`."""
    return _fraction_statement(
        table,
        label,
        "dead_fraction",
        "dead units (no positive input for any example of the batch)",
        "it has no ReLU layers, or none were measured",
        "dead_units_statement",
    )


# --- confusions -------------------------------------------------------------------------


def _check_matrix(matrix: Any, function: str) -> np.ndarray:
    try:
        m = np.asarray(matrix, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(
            f"{function}: matrix must be a square array of counts, got {matrix!r}"
        ) from None
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(
            f"{function}: matrix must be square (num_classes, num_classes), got shape {m.shape}"
        )
    if not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(m != np.round(m)):
        raise ValueError(f"{function}: matrix must hold counts (integers >= 0)")
    return m.astype(np.int64)


def class_accuracies(matrix: np.ndarray) -> np.ndarray:
    """Per-class accuracy of a confusion matrix.

    Args:
        matrix: shape (num_classes, num_classes), matrix[i, j] the number of examples
            of true class i predicted as class j.
    Returns:
        shape (num_classes,): matrix[i, i] / the examples of class i; NaN for a class
        without examples.
    """
    m = _check_matrix(matrix, "class_accuracies")
    totals = m.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(m) / np.maximum(totals, 1), np.nan)


def top_confusions(matrix: np.ndarray, count: int = 3) -> list[tuple[int, int, int]]:
    """The most frequent mistakes of a confusion matrix (rows true, columns predicted).

    Returns:
        Up to `count` (true class, predicted class, number of examples) triples, the
        most frequent first (ties: by true class, then predicted), mistakes only.
    """
    m = _check_matrix(matrix, "top_confusions")
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
        raise ValueError(f"top_confusions: count must be an integer >= 1, got {count!r}")
    off = m.copy()
    np.fill_diagonal(off, 0)
    true, predicted = np.nonzero(off)
    order = sorted(zip(true, predicted, strict=True), key=lambda tp: (-off[tp], tp[0], tp[1]))
    return [(int(t), int(p), int(off[t, p])) for t, p in order[:count]]


def confusion_statement(
    matrix: np.ndarray, class_names: Sequence[str] | None = None, count: int = 3
) -> str:
    """The most frequent confusions and the worst class of a confusion matrix, e.g.

        The most frequent confusions: 7 read as 2 (23 times), 4 as 9 (19), 3 as 5 (15).
        The worst class is 8, 91.2% correct (the best, 1, 99.1%).

    Args:
        matrix: shape (num_classes, num_classes), rows true classes, columns predicted.
        class_names: one name per class; default the class indices.
        count: how many confusions to name.
    """
    m = _check_matrix(matrix, "confusion_statement")
    if class_names is None:
        names = [str(i) for i in range(len(m))]
    elif isinstance(class_names, str) or len(class_names) != len(m):
        raise ValueError(
            f"confusion_statement: class_names must name the {len(m)} classes, got {class_names!r}"
        )
    else:
        names = [str(name) for name in class_names]
    if m.sum() == 0:
        return "The confusion matrix holds no examples."
    mistakes = top_confusions(m, count)
    if not mistakes:
        return f"No example was misclassified (all {int(m.sum())} correct)."
    t, p, n = mistakes[0]
    said = [f"{names[t]} read as {names[p]} ({n} time{'s' if n != 1 else ''})"]
    said += [f"{names[t]} as {names[p]} ({n})" for t, p, n in mistakes[1:]]
    heading = "The most frequent confusion" + (": " if len(said) == 1 else "s: ")
    accuracies = class_accuracies(m)
    worst, best = int(np.nanargmin(accuracies)), int(np.nanargmax(accuracies))
    return (
        f"{heading}{', '.join(said)}. The worst class is {names[worst]}, "
        f"{100 * accuracies[worst]:.1f}% correct (the best, {names[best]}, "
        f"{100 * accuracies[best]:.1f}%)."
    )


# --- softmax regression's templates ------------------------------------------------------


def template_correlations(
    weights: np.ndarray, inputs: np.ndarray, labels: np.ndarray
) -> np.ndarray:
    """How much each class's weights look like each class's typical image.

    Args:
        weights: (num_classes, input_dim), one row (template) per class, as
            `AffineLayer.weights` of softmax regression.
        inputs: (n, input_dim) images; labels: (n,) integer classes in 0..num_classes-1.
    Returns:
        (num_classes, num_classes): entry (k, j) is the correlation between template k
        and the mean image of class j minus the mean of all images (what sets class j
        apart from the others).
    """
    w = np.asarray(weights, dtype=np.float64)
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(labels)
    if w.ndim != 2 or x.ndim != 2 or x.shape[1] != w.shape[1] or y.shape != (len(x),):
        raise ValueError(
            "template_correlations: need weights (num_classes, input_dim), inputs (n, "
            f"input_dim) and labels (n,); got {w.shape}, {x.shape} and {y.shape}"
        )
    if y.dtype.kind not in "iu" or len(y) == 0 or y.min() < 0 or y.max() >= len(w):
        raise ValueError(
            f"template_correlations: labels must be integers in 0..{len(w) - 1}, one per image"
        )
    overall = x.mean(axis=0)
    typical = np.stack(
        [
            x[y == j].mean(axis=0) - overall if np.any(y == j) else np.zeros_like(overall)
            for j in range(len(w))
        ]
    )
    return np.corrcoef(w, typical)[: len(w), len(w) :]


def templates_statement(weights: np.ndarray, inputs: np.ndarray, labels: np.ndarray) -> str:
    """A sentence on how far each learned template is a picture of its own class, read
    off `template_correlations`."""
    r = template_correlations(weights, inputs, labels)
    own = np.diag(r)
    best_is_own = int(np.sum(np.argmax(r, axis=1) == np.arange(len(r))))
    worst = int(np.argmin(own))
    return (
        "Each template is a picture of what sets its digit apart: template k correlates "
        "with the mean training image of digit k minus the mean of all images with "
        f"r = {own.min():.2f} to {own.max():.2f} (median {np.median(own):.2f}), and more "
        f"than with any other digit's for {best_is_own} of the {len(r)} digits; the least "
        f"alike is {worst} (r = {own[worst]:.2f})."
    )
