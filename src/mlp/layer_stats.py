"""Per-layer statistics as a table: what `mlp.diagnostics` measures, what a run record's
layers.csv holds, and what the plots and the lab report read.

One row per (measurement, layer): the epoch it was measured after (0: before training),
the layer's index in `model.layers`, the layer's class name (the NumPy layer's name
also for the PyTorch twin, so that the two backends' tables compare row for row), and
one value per entry of `LAYER_COLUMNS`, NaN where the statistic does not apply to the
layer (no parameters, not a saturating non-linearity, ...).

The statistics, all measured on one fixed batch of training examples:

    output_grad_norm     ||dE/dy||, the Frobenius norm of the gradient of the batch's
                         mean error E with respect to the layer's outputs y
    param_grad_norm      sqrt(sum over the layer's parameters p of ||dE/dp||^2); NaN
                         for a layer without parameters
    update_ratio         ||dp|| / ||p|| over the layer's parameters, for the last
                         update step before the measurement (dp = p after - p before,
                         ||p|| after the step); NaN before the first step, for a layer
                         without parameters and when ||p|| is 0
    activation_mean      the mean of the layer's outputs over the batch and units
    activation_std       their standard deviation
    saturated_fraction   sigmoid: the fraction of outputs within 0.01 of 0 or 1; tanh:
                         within 0.01 of -1 or 1; NaN for other layers
    dead_fraction        ReLU: the fraction of units whose input (pre-activation) is
                         <= 0 for every example of the batch; NaN for other layers
    negative_fraction    leaky ReLU, parametric and randomised ReLU, ELU: the fraction
                         of inputs (pre-activations) < 0; NaN for other layers
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = ["LAYER_COLUMNS", "LayerStatsTable", "sample_indices"]

LAYER_COLUMNS: tuple[str, ...] = (
    "output_grad_norm",
    "param_grad_norm",
    "update_ratio",
    "activation_mean",
    "activation_std",
    "saturated_fraction",
    "dead_fraction",
    "negative_fraction",
)
"""The statistics of each row, in column order (see the module's docstring)."""


SAMPLE_SEED = 20161206
"""The seed of the entries `sample_indices` picks: fixed, and a generator of its own, so
that sampling a layer's outputs draws from none of the training's random streams."""


def sample_indices(size: int, count: int) -> np.ndarray:
    """Which `count` of `size` flattened entries a sample of a layer's outputs keeps:
    min(count, size) distinct indices, sorted, chosen at random with `SAMPLE_SEED`, the
    same for every call (both backends sample the same entries). Random rather than
    strided, so that no regular pattern of the layout (units, channels, positions) can
    line up with the sample (an exact stride of 5 over a (1000, 10) output would keep
    units 0 and 5 only).

    Returns:
        int64 array of shape (min(count, size),).
    """
    if not isinstance(size, int | np.integer) or not isinstance(count, int | np.integer):
        raise TypeError(f"sample_indices: size and count must be integers, got {size!r}, {count!r}")
    if size < 0 or count < 1:
        raise ValueError(f"sample_indices: need size >= 0 and count >= 1, got {size}, {count}")
    return _indices(int(size), int(min(count, size))).copy()


@lru_cache(maxsize=64)
def _indices(size: int, count: int) -> np.ndarray:
    if count == size:
        return np.arange(size, dtype=np.int64)
    chosen = np.random.default_rng(SAMPLE_SEED).choice(size, count, replace=False)
    return np.sort(chosen).astype(np.int64)


@dataclass(frozen=True)
class LayerStatsTable:
    """Per-layer statistics, one row per (measurement, layer).

    Attributes:
        epochs: int64 array of shape (num_rows,): the epoch each row was measured after.
        layers: int64 array of shape (num_rows,): the layer's index in `model.layers`.
        names: the layer class name of each row (num_rows strings).
        values: float64 array of shape (num_rows, len(LAYER_COLUMNS)).
    """

    epochs: np.ndarray
    layers: np.ndarray
    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        epochs = np.asarray(self.epochs, dtype=np.int64).reshape(-1)
        layers = np.asarray(self.layers, dtype=np.int64).reshape(-1)
        values = np.asarray(self.values, dtype=np.float64)
        names = tuple(self.names)
        rows = len(epochs)
        if values.ndim != 2 or values.shape != (rows, len(LAYER_COLUMNS)):
            raise ValueError(
                f"LayerStatsTable: values must have shape ({rows}, {len(LAYER_COLUMNS)}) "
                f"(one row per epoch entry, one column per LAYER_COLUMNS), got {values.shape}"
            )
        if len(layers) != rows or len(names) != rows:
            raise ValueError(
                f"LayerStatsTable: epochs, layers and names must have one entry per row; "
                f"got {rows}, {len(layers)} and {len(names)}"
            )
        if not all(isinstance(name, str) for name in names):
            raise TypeError("LayerStatsTable: names must be strings (layer class names)")
        object.__setattr__(self, "epochs", epochs)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, int, str, Sequence[float]]]) -> LayerStatsTable:
        """A table from (epoch, layer, name, values) rows, values in `LAYER_COLUMNS` order."""
        rows = list(rows)
        return cls(
            np.array([row[0] for row in rows], dtype=np.int64),
            np.array([row[1] for row in rows], dtype=np.int64),
            tuple(row[2] for row in rows),
            np.array([list(row[3]) for row in rows], dtype=np.float64).reshape(
                len(rows), len(LAYER_COLUMNS)
            ),
        )

    def __len__(self) -> int:
        return len(self.epochs)

    def rows(self) -> list[tuple[int, int, str, list[float]]]:
        """The (epoch, layer, name, values) rows, in order."""
        return [
            (int(e), int(i), n, v.tolist())
            for e, i, n, v in zip(self.epochs, self.layers, self.names, self.values, strict=True)
        ]

    def column(self, name: str) -> np.ndarray:
        """The values of statistic `name` (one of LAYER_COLUMNS), shape (num_rows,)."""
        if name not in LAYER_COLUMNS:
            raise ValueError(f"unknown layer statistic {name!r}; choose from {LAYER_COLUMNS}")
        return self.values[:, LAYER_COLUMNS.index(name)]

    def layer_names(self) -> dict[int, str]:
        """Layer index -> class name, in layer order."""
        return {layer: self.names[row] for layer, row in sorted(self._first_rows().items())}

    def _first_rows(self) -> dict[int, int]:
        first: dict[int, int] = {}
        for row, layer in enumerate(self.layers.tolist()):
            first.setdefault(layer, row)
        return first

    def measured_epochs(self) -> np.ndarray:
        """The epochs measured, sorted, shape (num_measurements,)."""
        return np.unique(self.epochs)

    def series(self, layer: int, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Statistic `name` of layer `layer` over the measurements.

        Returns:
            epochs: shape (num_measurements,), sorted; values: the same shape.
        """
        values = self.column(name)
        mask = self.layers == layer
        order = np.argsort(self.epochs[mask], kind="stable")
        return self.epochs[mask][order], values[mask][order]

    def applies(self, name: str) -> list[int]:
        """The layers for which statistic `name` is measured (not all NaN), in order."""
        values = self.column(name)
        return sorted({int(i) for i, v in zip(self.layers, values, strict=True) if np.isfinite(v)})
