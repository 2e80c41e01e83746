"""Error (loss) functions.

Each error is a callable object: `error(outputs, targets)` is the error averaged over
the batch (summed over the output dimension), and `error.grad(outputs, targets)` its
gradient with respect to `outputs`, already divided by the batch size, which is what a
model's `bprop` needs.

Shape:
    outputs: (batch_size, output_dim), the model's final outputs
    targets: (batch_size, output_dim), one-of-K rows for the classification errors
    grad: (batch_size, output_dim)

All stay finite and warning-free for logits of +-1000 and for probabilities of exactly
0 or 1. Lists and integer outputs are taken as floats (the default dtype); targets may
be floats, integers or booleans.
"""

from __future__ import annotations

import numpy as np

from mlp import _checks, functional

__all__ = [
    "BinaryCrossEntropyError",
    "BinaryCrossEntropySigmoidError",
    "CrossEntropyError",
    "CrossEntropySoftmaxError",
    "SumOfSquaredDiffsError",
]


def _check(
    outputs: np.ndarray, targets: np.ndarray, error: object
) -> tuple[np.ndarray, np.ndarray, int]:
    """outputs as floats and targets as numbers, of one shape (batch_size, output_dim)
    with both sizes at least 1, and the batch size; else a ValueError or TypeError."""
    outputs = _checks.floats(outputs, "outputs", error)
    targets = _checks.numeric_array(targets, "targets", error)
    if outputs.shape != targets.shape or outputs.ndim != 2:
        raise ValueError(
            f"{error!r} needs outputs and targets of one shape (batch_size, output_dim), "
            f"got {outputs.shape} and {targets.shape}"
        )
    if outputs.shape[0] == 0:
        raise ValueError(
            f"{error!r} got an empty batch (0 examples): a mean over no examples is "
            "undefined; check the batch size and the data provider"
        )
    if outputs.shape[1] == 0:
        raise ValueError(f"{error!r} needs at least one output per example, got {outputs.shape}")
    return outputs, targets, outputs.shape[0]


def _safe_log(probabilities: np.ndarray) -> np.ndarray:
    # log(0) would be -inf, and 0 * -inf a NaN; the smallest positive normal number keeps
    # it finite (about -87 in float32) without changing any representable probability.
    tiny = np.finfo(probabilities.dtype).tiny if probabilities.dtype.kind == "f" else 1e-300
    return np.log(np.maximum(probabilities, tiny))


def _safe_divisor(probabilities: np.ndarray) -> np.ndarray:
    tiny = np.finfo(probabilities.dtype).tiny if probabilities.dtype.kind == "f" else 1e-300
    return np.maximum(probabilities, tiny)


class SumOfSquaredDiffsError:
    """E = mean over the batch of 0.5 * sum_k (y_k - t_k)**2."""

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """Error averaged over the batch, a scalar."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        diff = outputs - targets
        return 0.5 * float(np.vdot(diff, diff)) / batch_size

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(y - t) / batch_size, shape (batch_size, output_dim)."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        # In the outputs' dtype, as the other errors: float64 targets must not upcast.
        grads = np.subtract(outputs, targets, dtype=outputs.dtype)
        grads /= batch_size
        return grads

    def __repr__(self) -> str:
        return "SumOfSquaredDiffsError"


class CrossEntropyError:
    """E = -mean over the batch of sum_k t_k log y_k, for probabilities y (after softmax)."""

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """Error averaged over the batch, a scalar."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        return -float(np.vdot(targets, _safe_log(outputs))) / batch_size

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """-t / y / batch_size, shape (batch_size, output_dim)."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        grads = targets / _safe_divisor(outputs)
        grads *= -1.0 / batch_size
        return grads.astype(outputs.dtype, copy=False)

    def __repr__(self) -> str:
        return "CrossEntropyError"


class CrossEntropySoftmaxError:
    """Cross-entropy of softmax(outputs): the softmax is folded into the error.

    The model's last layer is then affine and its outputs are logits. The gradient is
    simply softmax(outputs) - targets (over the batch size), cheaper and stabler than
    going through a `SoftmaxLayer`.
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """-mean over the batch of sum_k t_k log softmax(y)_k, a scalar."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        return -float(np.vdot(targets, functional.log_softmax(outputs))) / batch_size

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(softmax(y) - t) / batch_size, shape (batch_size, output_dim)."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        grads = functional.softmax(outputs)
        grads -= targets
        grads /= batch_size
        return grads

    def __repr__(self) -> str:
        return "CrossEntropySoftmaxError"


class BinaryCrossEntropyError:
    """E = -mean over the batch of sum_k [t_k log y_k + (1 - t_k) log(1 - y_k)].

    For outputs that are probabilities (after a sigmoid), each unit its own binary class.
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """Error averaged over the batch, a scalar."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        total = np.vdot(targets, _safe_log(outputs)) + np.vdot(1 - targets, _safe_log(1 - outputs))
        return -float(total) / batch_size

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """((1 - t) / (1 - y) - t / y) / batch_size, shape (batch_size, output_dim)."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        grads = (1 - targets) / _safe_divisor(1 - outputs) - targets / _safe_divisor(outputs)
        grads /= batch_size
        return grads.astype(outputs.dtype, copy=False)

    def __repr__(self) -> str:
        return "BinaryCrossEntropyError"


class BinaryCrossEntropySigmoidError:
    """Binary cross-entropy of sigmoid(outputs): the sigmoid folded into the error.

    Computed from the logits as softplus(y) - t * y, which never overflows; the gradient
    is sigmoid(y) - t (over the batch size).
    """

    def __call__(self, outputs: np.ndarray, targets: np.ndarray) -> float:
        """Error averaged over the batch, a scalar."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        per_unit = functional.softplus(outputs) - targets * outputs
        return float(per_unit.sum()) / batch_size

    def grad(self, outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """(sigmoid(y) - t) / batch_size, shape (batch_size, output_dim)."""
        outputs, targets, batch_size = _check(outputs, targets, self)
        grads = functional.sigmoid(outputs)
        grads -= targets
        grads /= batch_size
        return grads

    def __repr__(self) -> str:
        return "BinaryCrossEntropySigmoidError"
