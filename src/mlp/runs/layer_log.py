"""layers.csv: the per-layer statistics of a run (`mlp.layer_stats`), appended
measurement by measurement as training goes, and read back as a `LayerStatsTable`.

activations.npz holds samples of each layer's outputs at some measurements (the first
and the latest), as float32 arrays named ``epoch_E.layer_I`` (1-D, at most a few
thousand values each), for histograms; it is rewritten atomically at each measurement.

The header is ``epoch,layer,name,`` then `LAYER_COLUMNS`; each measurement's rows are
written with one `os.write` and fsynced, so a killed run keeps every measurement it
finished. Floats are written with `repr` (NaN as ``nan``) and read back bit for bit.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mlp import _checks
from mlp.atomic import append_synced, atomic_write_bytes, atomic_write_text
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable
from mlp.runs.encoding import npz_bytes
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.reading import read_npz, read_text, retrain_fix

__all__ = [
    "HEADER",
    "LayerStatsLog",
    "read_activation_samples",
    "read_layer_stats",
    "write_activation_samples",
]

logger = logging.getLogger(__name__)

HEADER = ",".join(["epoch", "layer", "name", *LAYER_COLUMNS])


class LayerStatsLog:
    """layers.csv of one run: `write_header` starts it, `append` adds a measurement."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(_checks.path(path, "path", "LayerStatsLog"))

    def write_header(self, table: LayerStatsTable | None = None) -> None:
        """Start the file afresh (atomically): the header and `table`'s rows, if given."""
        lines = [HEADER] + ([_line(*row) for row in table.rows()] if table is not None else [])
        atomic_write_text(self.path, "\n".join(lines) + "\n")

    def append(self, table: LayerStatsTable) -> None:
        """Append the rows of one measurement and fsync them."""
        if not isinstance(table, LayerStatsTable):
            raise TypeError(
                f"LayerStatsLog.append: expected a LayerStatsTable, got {type(table).__name__}"
            )
        data = "".join(_line(*row) + "\n" for row in table.rows()).encode("ascii")
        append_synced(self.path, data)


def _line(epoch: int, layer: int, name: str, values: Sequence[float]) -> str:
    if not name.isidentifier():
        raise ValueError(f"layer name {name!r} must be a class name (letters, digits, _)")
    return ",".join([str(int(epoch)), str(int(layer)), name, *(repr(float(v)) for v in values)])


def read_layer_stats(path: str | os.PathLike[str]) -> LayerStatsTable:
    """Read layers.csv back; a last line cut short by a crash is ignored.

    Raises:
        RunError: when the file is missing; RunRecordError when it is not ASCII text or
            its header is not the one `LayerStatsLog` writes.
    """
    path = Path(_checks.path(path, "path", "read_layer_stats"))
    if not path.exists():
        raise RunError(f"{path} does not exist: the run recorded no layer statistics")
    fix = f"{retrain_fix(path.parent)} (with layer statistics on)"
    lines = read_text(path, fix, encoding="ascii").split("\n")
    complete = lines[:-1]  # the last entry is '' when the file ends in a newline
    if not complete or complete[0] != HEADER:
        raise RunRecordError(path, f"does not start with the header {HEADER!r}", fix)
    rows = []
    for number, line in enumerate(complete[1:], start=2):
        fields = line.split(",")
        try:
            if len(fields) != 3 + len(LAYER_COLUMNS) or not fields[2].isidentifier():
                raise ValueError
            values = [float(v) for v in fields[3:]]
            rows.append((int(fields[0]), int(fields[1]), fields[2], values))
        except ValueError:
            logger.warning("%s line %d is not a row of layer statistics; ignored", path, number)
    return LayerStatsTable.from_rows(rows)


Samples = dict[int, dict[int, np.ndarray]]
"""epoch -> layer index -> 1-D array of that layer's output values at that epoch."""


def write_activation_samples(path: str | os.PathLike[str], samples: Samples) -> None:
    """Write activations.npz atomically: `samples[epoch][layer]` as 'epoch_E.layer_I'."""
    path = Path(_checks.path(path, "path", "write_activation_samples"))
    arrays = {
        f"epoch_{int(epoch)}.layer_{int(layer)}": np.asarray(values, np.float32).reshape(-1)
        for epoch, layers in samples.items()
        for layer, values in layers.items()
    }
    atomic_write_bytes(path, npz_bytes(arrays))


def read_activation_samples(path: str | os.PathLike[str]) -> Samples:
    """Read activations.npz back: epoch -> layer -> 1-D float32 array.

    Raises:
        RunError: when the file is missing; RunRecordError when it is damaged or holds
            an entry not named 'epoch_E.layer_I'.
    """
    path = Path(_checks.path(path, "path", "read_activation_samples"))
    if not path.exists():
        raise RunError(f"{path} does not exist: the run recorded no layer statistics")
    fix = f"{retrain_fix(path.parent)} (with layer statistics on)"
    samples: Samples = {}
    for name, values in read_npz(path, fix).items():
        epoch_part, _, layer_part = name.partition(".")
        try:
            epoch = int(epoch_part.removeprefix("epoch_"))
            layer = int(layer_part.removeprefix("layer_"))
        except ValueError:
            raise RunRecordError(
                path, f"holds {name!r}, not an 'epoch_E.layer_I' entry", fix
            ) from None
        samples.setdefault(epoch, {})[layer] = np.asarray(values).reshape(-1)
    return samples
