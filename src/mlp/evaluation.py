"""Judging a trained classifier on labelled examples: which classes it confuses, and
which of its mistakes it made with most confidence.

    from mlp.evaluation import confusion_matrix, most_confident_mistakes

    matrix = confusion_matrix(targets, probabilities)      # (10, 10) counts
    worst = most_confident_mistakes(probabilities, targets, count=16)

Targets are integer labels of shape (n,) or one-of-K rows of shape (n, K); predictions
are integer labels (n,) or per-class scores (n, K), whose largest entry is the
prediction (the first one on a tie, as `numpy.argmax`).
"""

from __future__ import annotations

import numpy as np

from mlp import _checks

__all__ = ["confusion_matrix", "labels_of", "most_confident_mistakes"]


def labels_of(values: object, name: str, owner: str) -> np.ndarray:
    """Integer labels of shape (n,) from labels (n,) or one-of-K rows / scores (n, K).

    Rows (n, K) give the index of their largest entry. Labels must be whole numbers
    >= 0 (floats such as 3.0 are accepted).

    Raises:
        TypeError: for values that are not an array of numbers.
        ValueError: for another number of dimensions, an empty K, or labels that are
            negative or not whole numbers.
    """
    array = _checks.number_array(values, name, owner)
    if array.ndim == 2:
        if array.shape[1] == 0:
            raise ValueError(f"{owner}: {name} has shape {array.shape}: rows need K >= 1 classes")
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            raise ValueError(f"{owner}: {name} holds NaN or infinite scores")
        return np.argmax(array, axis=1).astype(np.int64)
    if array.ndim != 1:
        raise ValueError(
            f"{owner}: {name} must be labels of shape (n,) or rows of shape (n, K), "
            f"got shape {array.shape}"
        )
    if array.dtype.kind == "f" and not (np.isfinite(array) & (array == np.round(array))).all():
        raise ValueError(f"{owner}: {name} must hold whole-number labels, got {array[:5]}...")
    if len(array) and array.min() < 0:
        raise ValueError(f"{owner}: {name} must hold labels >= 0, got {array.min()}")
    return array.astype(np.int64)


def confusion_matrix(
    targets: np.ndarray, predictions: np.ndarray, num_classes: int | None = None
) -> np.ndarray:
    """Counts of (true class, predicted class) pairs.

    Args:
        targets: true labels, shape (n,), or one-of-K rows, shape (n, K).
        predictions: predicted labels, shape (n,), or scores / probabilities, shape (n, K).
        num_classes: K; None takes the rows' width when either argument has rows, else
            one more than the largest label.
    Returns:
        int64 array of shape (num_classes, num_classes): entry [i, j] counts the
        examples of true class i predicted as class j (rows true, columns predicted),
        so the diagonal holds the correct ones and the entries sum to n.
    Raises:
        TypeError, ValueError: naming the argument, for arrays of another shape, a
            different n, labels outside 0..num_classes-1 or a bad num_classes.
    """
    owner = "confusion_matrix"
    true = labels_of(targets, "targets", owner)
    predicted = labels_of(predictions, "predictions", owner)
    if len(true) != len(predicted):
        raise ValueError(
            f"{owner}: targets has {len(true)} examples, predictions has {len(predicted)}"
        )
    widths = {
        name: np.shape(value)[1]
        for name, value in (("targets", targets), ("predictions", predictions))
        if np.ndim(value) == 2
    }
    if num_classes is None:
        largest = max([int(a.max()) + 1 for a in (true, predicted) if len(a)], default=0)
        num_classes = max(widths.values()) if widths else max(largest, 1)
    num_classes = _checks.count(num_classes, "num_classes", owner, 1)
    for name, width in widths.items():
        if width != num_classes:
            raise ValueError(f"{owner}: {name} has {width} columns for num_classes {num_classes}")
    for name, labels in (("targets", true), ("predictions", predicted)):
        if len(labels) and labels.max() >= num_classes:
            raise ValueError(
                f"{owner}: {name} holds label {labels.max()}, outside 0..{num_classes - 1} "
                f"(num_classes {num_classes})"
            )
    counts = np.bincount(true * num_classes + predicted, minlength=num_classes**2)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def most_confident_mistakes(
    probabilities: np.ndarray, targets: np.ndarray, count: int = 16
) -> np.ndarray:
    """The misclassified examples the classifier was surest of.

    Args:
        probabilities: shape (n, K), each example's probability (or score) per class;
            the prediction is the largest.
        targets: true labels, shape (n,), or one-of-K rows, shape (n, K).
        count: at most this many indices are returned.
    Returns:
        int64 array of shape (m,), m = min(count, number of mistakes): indices of the
        examples whose prediction is wrong, sorted by the probability given to the
        (wrong) prediction, largest first (ties in index order).
    Raises:
        TypeError, ValueError: naming the argument, for other shapes, a different n,
            labels outside 0..K-1 or a count that is not a positive integer.
    """
    owner = "most_confident_mistakes"
    scores = _checks.number_array(probabilities, "probabilities", owner)
    if scores.ndim != 2 or scores.shape[1] == 0:
        raise ValueError(
            f"{owner}: probabilities must have shape (n, K) with K >= 1, got {scores.shape}"
        )
    predicted = labels_of(scores, "probabilities", owner)
    true = labels_of(targets, "targets", owner)
    count = _checks.count(count, "count", owner, 1)
    if len(true) != len(predicted):
        raise ValueError(
            f"{owner}: targets has {len(true)} examples, probabilities has {len(predicted)}"
        )
    if len(true) and true.max() >= scores.shape[1]:
        raise ValueError(
            f"{owner}: targets holds label {true.max()}, outside 0..{scores.shape[1] - 1}"
        )
    wrong = np.flatnonzero(true != predicted)
    confidence = scores[wrong, predicted[wrong]]
    order = np.argsort(-confidence, kind="stable")
    return wrong[order[:count]].astype(np.int64)
