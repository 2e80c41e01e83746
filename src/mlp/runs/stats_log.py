"""stats.csv: the per-interval statistics, appended row by row as training goes, read
back, and summarised as final and best figures."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp import _checks
from mlp.atomic import append_synced, atomic_write_text
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.reading import read_text, retrain_fix

logger = logging.getLogger(__name__)


class StatsLog:
    """stats.csv: a header, then one complete row per record, appended and fsynced.

    Each row is written with a single `os.write` of the whole line and fsynced at once, so
    a killed run leaves every row it reported. Floats are written with `repr`, so they
    read back bit for bit.
    """

    def __init__(self, path: str | os.PathLike[str], keys: Mapping[str, int]) -> None:
        self.path = Path(_checks.path(path, "path", "StatsLog"))
        self.names = sorted(_check_keys(keys, "StatsLog"), key=keys.__getitem__)

    def write_header(self, rows: Sequence[tuple[int, Sequence[float]]] = ()) -> None:
        """Start the file afresh (atomically): the header and the given (epoch, row) pairs."""
        if not isinstance(rows, Sequence) or isinstance(rows, str):
            raise TypeError(
                f"StatsLog.write_header: rows must be a list of (epoch, values) pairs, "
                f"got {type(rows).__name__}"
            )
        lines = [",".join(["epoch", *self.names])]
        lines += [self._line(epoch, values) for epoch, values in rows]
        atomic_write_text(self.path, "\n".join(lines) + "\n")

    @staticmethod
    def _line(epoch: int, values: Sequence[float]) -> str:
        return ",".join([str(int(epoch)), *(repr(float(v)) for v in values)])

    def append(self, epoch: int, values: Sequence[float]) -> None:
        """Append one row (epoch, then the values in key order) and fsync it."""
        _checks.count(epoch, "epoch", "StatsLog.append", 0)
        if not isinstance(values, (Sequence, np.ndarray)) or isinstance(values, str):
            raise TypeError(
                f"StatsLog.append: values must be a list of numbers, got {type(values).__name__}"
            )
        if len(values) != len(self.names):
            raise ValueError(
                f"StatsLog.append: expected {len(self.names)} values (one per key), "
                f"got {len(values)}"
            )
        data = (self._line(epoch, values) + "\n").encode("ascii")
        append_synced(self.path, data)


def read_stats(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Read stats.csv back.

    A last line cut short by a crash (no newline, or the wrong number of fields) is
    ignored.

    Returns:
        epochs: int array of shape (num_rows,), the epoch of each row (0 first).
        stats: float64 array of shape (num_rows, num_keys).
        keys: label -> column of `stats`, as `Optimiser.train` gives.
    Raises:
        RunError: when the file is missing; RunRecordError when it is not ASCII text
            (damaged) or has no header.
    """
    path = Path(_checks.path(path, "path", "read_stats"))
    if not path.exists():
        raise RunError(f"{path} does not exist: not a run record")
    fix = f"{retrain_fix(path.parent)}, or remove the folder {path.parent}"
    text = read_text(path, fix, encoding="ascii")
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]  # `last` is '' when the file ends in a newline
    del last
    if not complete or not complete[0].startswith("epoch,"):
        raise RunRecordError(path, "has no header line: it is not a stats file", fix)
    names = complete[0].split(",")[1:]
    epochs: list[int] = []
    rows: list[list[float]] = []
    for number, line in enumerate(complete[1:], start=2):
        fields = line.split(",")
        if len(fields) != len(names) + 1:
            logger.warning("%s line %d is incomplete; ignored", path, number)
            continue
        try:
            epochs.append(int(fields[0]))
            rows.append([float(v) for v in fields[1:]])
        except ValueError:
            logger.warning("%s line %d is not a row of numbers; ignored", path, number)
            if len(epochs) > len(rows):
                epochs.pop()
    stats = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    return np.array(epochs, dtype=np.int64), stats, {name: i for i, name in enumerate(names)}


def summarise_stats(
    epochs: np.ndarray, stats: np.ndarray, keys: Mapping[str, int]
) -> dict[str, Any]:
    """Final and best value of every statistic.

    Best is the smallest for errors and the largest for everything else (accuracies),
    over the rows after epoch 0.

    Args:
        epochs: array of shape (num_rows,); stats: array of shape (num_rows, num_keys).
    Returns:
        {'final': {key: value}, 'best': {key: {'value': v, 'epoch': e}}, 'epochs': last}
    """
    epochs, stats = _check_table(epochs, stats, _check_keys(keys, "summarise_stats"))
    final: dict[str, float] = {}
    best: dict[str, dict[str, float]] = {}
    trained = epochs > 0 if len(epochs) > 1 else np.ones(len(epochs), bool)
    for key, column in keys.items():
        values = stats[:, column]
        final[key] = float(values[-1]) if len(values) else float("nan")
        candidates = np.where(trained & np.isfinite(values))[0]
        if len(candidates) == 0:
            best[key] = {"value": float("nan"), "epoch": None}  # type: ignore[dict-item]
            continue
        pick = (
            values[candidates].argmin() if key.startswith("error") else values[candidates].argmax()
        )
        index = candidates[pick]
        best[key] = {"value": float(values[index]), "epoch": int(epochs[index])}
    return {"final": final, "best": best, "epochs": int(epochs[-1]) if len(epochs) else 0}


def _check_keys(keys: Any, where: str) -> Mapping[str, int]:
    """`keys` when it maps labels to column numbers: a TypeError naming it otherwise."""
    if not isinstance(keys, Mapping) or not all(
        isinstance(k, str) and isinstance(c, (int, np.integer)) for k, c in keys.items()
    ):
        raise TypeError(
            f"{where}: keys must map each label to its column, such as "
            f"{{'error(train)': 0}}; got {type(keys).__name__} {keys!r}"
        )
    return keys


def _check_table(epochs: Any, stats: Any, keys: Mapping[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """epochs (num_rows,) and stats (num_rows, num_keys) as arrays that fit each other and
    `keys`: a ValueError naming the argument otherwise."""
    epochs = np.asarray(epochs) if epochs is not None else None
    stats = np.asarray(stats) if stats is not None else None
    if epochs is None or epochs.ndim != 1 or epochs.dtype.kind not in "iuf":
        raise ValueError(f"summarise_stats: epochs must be a 1-D array of epochs, got {epochs!r}")
    if stats is None or stats.ndim != 2 or stats.dtype.kind not in "biuf":
        shape = None if stats is None else stats.shape
        raise ValueError(
            f"summarise_stats: stats must be a 2-D array (num_rows, num_keys), got shape {shape}"
        )
    if stats.shape[0] != epochs.shape[0]:
        raise ValueError(
            f"summarise_stats: stats has {stats.shape[0]} rows but epochs {epochs.shape[0]}"
        )
    outside = [k for k, c in keys.items() if not 0 <= c < stats.shape[1]]
    if outside:
        raise ValueError(
            f"summarise_stats: keys give column {keys[outside[0]]} for {outside[0]!r}, "
            f"but stats has {stats.shape[1]} columns"
        )
    return epochs, stats
