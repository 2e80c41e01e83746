"""Run records as folders: `RunRecord` reads one back; `finish_record` is the one writer
of summary.json (both backends of `run_experiment` and `write_record` end with it), and
`write_record` writes a whole record from results obtained elsewhere; `find_runs` and
`is_finished` look at folders, `versions` gives the package versions a summary keeps.

summary.json carries a format version (`RECORD_FORMAT_VERSION`, as 'format_version');
records of earlier versions of mlp have none and are format 1, which reads the same.
A record of a newer format than this version knows is refused with a `RunError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlp import _checks
from mlp.atomic import atomic_write_bytes, atomic_write_text
from mlp.config import (
    ConfigError,
    ExperimentConfig,
    config_from_dict,
    to_toml,
)
from mlp.layer_stats import LayerStatsTable
from mlp.runs.encoding import json_safe, npz_bytes
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.layer_log import Samples, read_activation_samples, read_layer_stats
from mlp.runs.layout import (
    ACTIVATIONS,
    CHECKPOINT,
    CONFIG,
    CURVES,
    LAYERS,
    PARAMS,
    STATE_PREFIX,
    STATS,
    SUMMARY,
)
from mlp.runs.reading import (
    config_fix,
    field,
    read_json_object,
    read_npz,
    read_toml,
    retrain_fix,
    summary_fix,
)
from mlp.runs.stats_log import StatsLog, read_stats, summarise_stats

__all__ = [
    "RECORD_FORMAT_VERSION",
    "RunRecord",
    "find_runs",
    "finish_record",
    "is_finished",
    "load_runs",
    "versions",
    "write_config",
    "write_curves",
    "write_record",
]

RECORD_FORMAT_VERSION = 2
"""The format of the records written now. 2: summary.json holds 'format_version'; 1:
records of earlier versions of mlp, which hold none. Their files read the same."""


def versions(backend: str = "numpy") -> dict[str, str]:
    """Versions of Python, mlp, NumPy (and PyTorch, or numba for compiled updates, when
    used) and the platform."""
    import mlp

    if backend not in ("numpy", "torch"):
        raise ValueError(f"versions: backend must be 'numpy' or 'torch', got {backend!r}")
    found = {
        "python": platform.python_version(),
        "mlp": mlp.__version__,
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    try:
        import matplotlib

        found["matplotlib"] = matplotlib.__version__
    except ImportError:  # pragma: no cover
        pass
    if backend == "torch":
        try:
            import torch

            found["torch"] = torch.__version__
        except ImportError:  # pragma: no cover
            pass
    else:
        from mlp import kernels

        # Compiled or NumPy updates give the same numbers; whether compiled ones were
        # enabled is still worth knowing.
        if kernels.enabled():
            import numba

            found["numba"] = numba.__version__
    return found


@dataclass
class RunRecord:
    """A run record read back from its folder.

    Attributes:
        path: the run's folder; `name` is its last part.
        config: the values of config.toml (a dict; `experiment_config()` gives the
            dataclass for records written by `run_experiment`).
        epochs: int array of shape (num_rows,), the epoch of each row of `stats`.
        stats: float64 array of shape (num_rows, num_keys); keys: label -> column.
        summary: the contents of summary.json, or None while the run is unfinished.
    """

    path: Path
    config: dict[str, Any]
    epochs: np.ndarray
    stats: np.ndarray
    keys: dict[str, int]
    summary: dict[str, Any] | None = None
    display_name: str | None = None
    """Set by whoever lists runs from several folders (e.g. 'sweep/point'); shown by
    `label()` in place of the folder's name."""

    @property
    def name(self) -> str:
        """The run's name (its folder's name)."""
        return self.path.name

    @property
    def finished(self) -> bool:
        """Whether the run finished (its summary.json was written)."""
        return self.summary is not None

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RunRecord:
        """Read a run record from its folder.

        Raises:
            RunError: when the folder is not a run record; RunRecordError when one of
                its files is damaged (the message says which, and what to do).
        """
        path = Path(_checks.path(path, "path", "RunRecord.load"))
        if not path.is_dir():
            raise RunError(f"{path} is not a folder: give the folder of a run record")
        epochs, stats, keys = read_stats(path / STATS)
        config: dict[str, Any] = {}
        if (path / CONFIG).exists():
            config = read_toml(path / CONFIG, config_fix(path))
        summary = _read_summary(path / SUMMARY) if (path / SUMMARY).exists() else None
        return cls(path, config, epochs, stats, keys, summary)

    @property
    def format_version(self) -> int | None:
        """The record's format: `RECORD_FORMAT_VERSION` for records written now, 1 for
        records of earlier versions of mlp; None while unfinished (summary.json holds it)."""
        if self.summary is None:
            return None
        return int(self.summary.get("format_version", 1))

    def experiment_config(self) -> ExperimentConfig:
        """The run's config as an `ExperimentConfig`.

        Raises:
            RunError: when config.toml is missing or is not an experiment config.
        """
        if not self.config:
            raise RunError(f"{self.path / CONFIG} is missing")
        try:
            return config_from_dict(self.config)
        except ConfigError as error:
            raise RunError(f"{self.path / CONFIG}: {error}") from None

    def figures(self) -> dict[str, Any]:
        """Final and best figures: summary.json's when finished, else from stats.csv."""
        if self.summary is not None:
            return self.summary
        figures: dict[str, Any] = json_safe(summarise_stats(self.epochs, self.stats, self.keys))
        return figures

    def params(self) -> list[np.ndarray]:
        """The final parameters, in `model.params` order (from params.npz)."""
        path, saved = self._saved_arrays()
        count = sum(1 for name in saved if name.startswith("param_"))
        return [
            field(saved, f"param_{i}", np.ndarray, path, retrain_fix(self.path))
            for i in range(count)
        ]

    def state(self) -> dict[str, np.ndarray]:
        """The final model state, as `model.state()` gave it (from params.npz): empty
        for a model without state, and for records written before models had state."""
        _, saved = self._saved_arrays()
        return {
            name[len(STATE_PREFIX) :]: value
            for name, value in saved.items()
            if name.startswith(STATE_PREFIX)
        }

    def _saved_arrays(self) -> tuple[Path, dict[str, np.ndarray]]:
        path = self.path / PARAMS
        if not path.exists():
            raise RunError(f"{path} does not exist: the run has not finished")
        return path, read_npz(path, retrain_fix(self.path))

    def layer_stats(self) -> LayerStatsTable | None:
        """The per-layer statistics of layers.csv (`mlp.layer_stats`), one row per
        measurement and layer; None when the run recorded none.

        Raises:
            RunRecordError: when layers.csv is damaged (a cut-off last line is ignored).
        """
        if not (self.path / LAYERS).exists():
            return None
        return read_layer_stats(self.path / LAYERS)

    def activation_samples(self) -> Samples:
        """epoch -> layer index -> 1-D float32 array of samples of that layer's outputs
        (activations.npz: the first and the latest measurement); {} when none.

        Raises:
            RunRecordError: when activations.npz is damaged.
        """
        if not (self.path / ACTIVATIONS).exists():
            return {}
        return read_activation_samples(self.path / ACTIVATIONS)

    def label(self) -> str:
        """The name to show in plots and tables."""
        return str(self.config.get("label", self.display_name or self.name))


# The entries of summary.json that readers (`mlp compare`, the lab's tables, ...) rely
# on, and their types; checked on reading, so that a hand-edited file is refused with
# its name rather than failing deep inside a table. The rest are read as they are.
_SUMMARY_FIELDS: dict[str, tuple[type, bool]] = {  # key -> (type, may be None or absent)
    "final": (dict, False),
    "best": (dict, False),
    "epochs": (int, False),
    "test": (dict, True),
    "seconds_per_epoch": (float, True),
    "run_time": (float, True),
    "learning_rate": (float, True),
    "architecture": (str, True),
    "rule": (str, True),
    "versions": (dict, True),
}


def _read_summary(path: Path) -> dict[str, Any]:
    """summary.json, its format version and the shape of its entries checked."""
    fix = summary_fix(path.parent)
    summary = read_json_object(path, fix)
    version = summary.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RunRecordError(
            path, f"has no valid format_version ({version!r}): not a run summary", fix
        )
    if version > RECORD_FORMAT_VERSION:
        raise RunError(
            f"{path} was written by a newer version of mlp (record format {version}; this "
            f"version reads formats up to {RECORD_FORMAT_VERSION}): read it with that "
            "version of mlp or a later one"
        )
    for key, (kind, optional) in _SUMMARY_FIELDS.items():
        field(summary, key, kind, path, fix, optional=optional)
    for key in summary["final"]:
        field(summary["final"], key, float, path, fix, where="'final'", optional=True)
    for key in summary["best"]:
        best = field(summary["best"], key, dict, path, fix, where="'best'")
        field(best, "value", float, path, fix, where=f"'best'[{key!r}]", optional=True)
        field(best, "epoch", int, path, fix, where=f"'best'[{key!r}]", optional=True)
    if summary.get("test") is not None:
        field(summary["test"], "acc", float, path, fix, where="'test'", optional=True)
    return summary


def is_finished(path: str | os.PathLike[str]) -> bool:
    """Whether the run record at `path` is finished (has its summary.json)."""
    return (Path(_checks.path(path, "path", "is_finished")) / SUMMARY).exists()


def find_runs(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Run folders from the given paths: a run folder itself, or a folder with run
    folders at any depth below it (a sweep's points in runs/SWEEP/POINT, the lab's in
    runs/lab/runs/NAME), in path order.

    Raises:
        RunError: for a path that is neither.
    """
    if isinstance(paths, (str, os.PathLike)) or not isinstance(paths, Sequence):
        raise TypeError(
            f"find_runs: paths must be a list of paths (wrap one path in a list), "
            f"got {type(paths).__name__} {paths!r}"
        )
    found: list[Path] = []
    for given in paths:
        path = Path(_checks.path(given, "paths", "find_runs"))
        if (path / STATS).exists():
            found.append(path)
            continue
        if path.is_dir():
            children = sorted({stats.parent for stats in path.rglob(STATS)})
            if children:
                found.extend(children)
                continue
            raise RunError(f"{path} holds no run records (no stats.csv in it or below it)")
        if path.exists():
            raise RunError(
                f"{path} is a file, not a run folder: give the folder of a run record "
                "(the one holding stats.csv), or a folder of such folders"
            )
        raise RunError(f"{path} does not exist")
    return found


def load_runs(paths: Sequence[str | os.PathLike[str]]) -> list[RunRecord]:
    """`RunRecord`s of `find_runs(paths)`. A run found below a given folder is labelled
    by its path from there ('sweep/point') when its folder name alone would be ambiguous."""
    records = []
    for given in paths:
        root = Path(given)
        for path in find_runs([root]):
            record = RunRecord.load(path)
            if path != root and len(path.relative_to(root).parts) > 1:
                record.display_name = path.relative_to(root).as_posix()
            records.append(record)
    return records


def write_record(
    path: str | os.PathLike[str],
    config: Mapping[str, Any],
    stats: np.ndarray,
    keys: Mapping[str, int],
    epochs: np.ndarray,
    summary: Mapping[str, Any],
    params: Sequence[np.ndarray] | None = None,
    curves: bool = True,
    state: Mapping[str, np.ndarray] | None = None,
) -> RunRecord:
    """Write a finished run record from results obtained elsewhere (e.g. `mlp.pytorch`).

    Args:
        path: the run's folder (created).
        config: what was run, written as config.toml (flat values and tables).
        stats: array of shape (num_rows, num_keys); keys: label -> column.
        epochs: int array of shape (num_rows,), the epoch of each row.
        summary: entries for summary.json (see `finish_record`, which writes it).
        params: parameters to keep in params.npz, in `model.params` order.
        curves: draw curves.png.
        state: the model's `state()` to keep beside them (see `finish_record`).
    """
    path = Path(_checks.path(path, "path", "write_record"))
    for name, value in (("config", config), ("keys", keys), ("summary", summary)):
        if not isinstance(value, Mapping):
            raise TypeError(f"write_record: {name} must be a mapping, got {type(value).__name__}")
    stats = np.asarray(stats)
    if stats.ndim != 2:
        raise ValueError(
            f"write_record: stats must be a 2-D array (num_rows, num_keys), got shape {stats.shape}"
        )
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / CONFIG, to_toml(config))
    log = StatsLog(path / STATS, keys)
    log.write_header(list(zip(np.asarray(epochs).tolist(), np.asarray(stats), strict=True)))
    return finish_record(path, summary, params, curves=curves, state=state)


def finish_record(
    path: str | os.PathLike[str],
    summary: Mapping[str, Any],
    params: Sequence[np.ndarray] | None = None,
    *,
    curves: bool = True,
    state: Mapping[str, np.ndarray] | None = None,
) -> RunRecord:
    """Finish the record in `path`, whose config.toml and stats.csv are written: params.npz
    (when `params` are given), curves.png (when `curves`), then summary.json, written last
    since its presence means the run finished; a checkpoint left there is removed.

    summary.json holds 'format_version', 'name' (the folder's, unless `summary` gives
    one), the final and best figures of stats.csv ('final', 'best', 'epochs', see
    `summarise_stats`), the entries of `summary` (which win over those), 'finished'
    (True) and 'finished_at' (now, unless given). NaN and inf are written as null.

    Args:
        params: arrays in `model.params` order, saved as param_0, param_1, ...
        state: the model's `state()` (e.g. batch normalisation's running statistics),
            saved beside them as state_<name>, e.g. state_1.running_mean; records
            without such entries (older ones among them) read back an empty state.
    Returns:
        The record read back.
    """
    path = Path(_checks.path(path, "path", "finish_record"))
    if not isinstance(summary, Mapping):
        raise TypeError(f"finish_record: summary must be a mapping, got {type(summary).__name__}")
    if params is not None:
        arrays = {f"param_{i}": p for i, p in enumerate(params)}
        arrays.update({f"{STATE_PREFIX}{name}": v for name, v in (state or {}).items()})
        atomic_write_bytes(path / PARAMS, npz_bytes(arrays))
    record = RunRecord.load(path)
    if curves:
        write_curves(record)
    full: dict[str, Any] = {"format_version": RECORD_FORMAT_VERSION, "name": path.name}
    full.update(summarise_stats(record.epochs, record.stats, record.keys))
    full.update(summary)
    full.update(format_version=RECORD_FORMAT_VERSION, finished=True)
    full.setdefault("finished_at", time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    atomic_write_text(path / SUMMARY, json.dumps(json_safe(full), indent=2) + "\n")
    with contextlib.suppress(FileNotFoundError):
        (path / CHECKPOINT).unlink()
    return RunRecord.load(path)


def write_curves(record: RunRecord) -> None:
    """Draw the record's error and accuracy against epochs into its curves.png."""
    from mlp import plotting

    fig = plotting.plot_stats(record.stats, record.keys, epochs=record.epochs, title=record.label())
    plotting.save_figure(fig, record.path / CURVES)


def write_config(path: Path, config: ExperimentConfig) -> None:
    """Write `config` (resolved) as the config.toml of the run in `path`, with a comment
    saying how to repeat the run."""
    comment = (
        f"mlp run {config.name}: the full config of this run.\n"
        f"Repeat it with: mlp train --config {CONFIG} --name NEW_NAME"
    )
    atomic_write_text(path / CONFIG, to_toml(config.to_dict(), comment))
