"""stats.csv: the per-interval statistics, appended row by row as training goes, read
back, and summarised as final and best figures."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mlp.atomic import atomic_write_text
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
        self.path = Path(path)
        self.names = sorted(keys, key=keys.__getitem__)

    def write_header(self, rows: Sequence[tuple[int, Sequence[float]]] = ()) -> None:
        """Start the file afresh (atomically): the header and the given (epoch, row) pairs."""
        lines = [",".join(["epoch", *self.names])]
        lines += [self._line(epoch, values) for epoch, values in rows]
        atomic_write_text(self.path, "\n".join(lines) + "\n")

    @staticmethod
    def _line(epoch: int, values: Sequence[float]) -> str:
        return ",".join([str(int(epoch)), *(repr(float(v)) for v in values)])

    def append(self, epoch: int, values: Sequence[float]) -> None:
        """Append one row (epoch, then the values in key order) and fsync it."""
        if len(values) != len(self.names):
            raise ValueError(f"expected {len(self.names)} values, got {len(values)}")
        data = (self._line(epoch, values) + "\n").encode("ascii")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


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
    path = Path(path)
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
