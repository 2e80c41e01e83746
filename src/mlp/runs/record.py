"""Run records as folders: `RunRecord` reads one back, `write_record` writes one from
results obtained elsewhere; `find_runs` and `is_finished` look at folders, `versions`
gives the package versions a summary keeps."""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlp.config import (
    ConfigError,
    ExperimentConfig,
    config_from_dict,
    to_toml,
)
from mlp.runs.atomic import atomic_write_bytes, atomic_write_text
from mlp.runs.encoding import _json_safe, _npz_bytes
from mlp.runs.errors import RunError
from mlp.runs.layout import CONFIG, CURVES, PARAMS, STATS, SUMMARY
from mlp.runs.stats_log import StatsLog, read_stats, summarise_stats


def versions(backend: str = "numpy") -> dict[str, str]:
    """Versions of Python, mlp, NumPy (and PyTorch, or numba for compiled updates, when
    used) and the platform."""
    import mlp

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
            RunError: when the folder is not a run record.
        """
        path = Path(path)
        if not path.is_dir():
            raise RunError(f"{path} is not a folder: give the folder of a run record")
        epochs, stats, keys = read_stats(path / STATS)
        config: dict[str, Any] = {}
        if (path / CONFIG).exists():
            from mlp.config import tomllib

            try:
                config = tomllib.loads((path / CONFIG).read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as error:
                raise RunError(f"{path / CONFIG} is not valid TOML: {error}") from None
        summary = None
        if (path / SUMMARY).exists():
            try:
                summary = json.loads((path / SUMMARY).read_text(encoding="utf-8"))
            except json.JSONDecodeError as error:
                raise RunError(f"{path / SUMMARY} is not valid JSON: {error}") from None
        return cls(path, config, epochs, stats, keys, summary)

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
        return _json_safe(summarise_stats(self.epochs, self.stats, self.keys))

    def params(self) -> list[np.ndarray]:
        """The final parameters, in `model.params` order (from params.npz)."""
        path = self.path / PARAMS
        if not path.exists():
            raise RunError(f"{path} does not exist: the run has not finished")
        with np.load(path, allow_pickle=False) as saved:
            return [saved[f"param_{i}"] for i in range(len(saved.files))]

    def label(self) -> str:
        """The name to show in plots and tables."""
        return str(self.config.get("label", self.display_name or self.name))


def is_finished(path: str | os.PathLike[str]) -> bool:
    """Whether the run record at `path` is finished (has its summary.json)."""
    return (Path(path) / SUMMARY).exists()


def find_runs(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Run folders from the given paths: a run folder itself, or a folder with run
    folders at any depth below it (a sweep's points in runs/SWEEP/POINT, the lab's in
    runs/lab/runs/NAME), in path order.

    Raises:
        RunError: for a path that is neither.
    """
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if (path / STATS).exists():
            found.append(path)
            continue
        if path.is_dir():
            children = sorted({stats.parent for stats in path.rglob(STATS)})
            if children:
                found.extend(children)
                continue
            raise RunError(f"{path} holds no run records (no stats.csv in it or below it)")
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
) -> RunRecord:
    """Write a finished run record from results obtained elsewhere (e.g. `mlp.pytorch`).

    Args:
        path: the run's folder (created).
        config: what was run, written as config.toml (flat values and tables).
        stats: array of shape (num_rows, num_keys); keys: label -> column.
        epochs: int array of shape (num_rows,), the epoch of each row.
        summary: extra entries for summary.json (final and best figures are added).
        params: parameters to keep in params.npz.
        curves: draw curves.png.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path / CONFIG, to_toml(config))
    log = StatsLog(path / STATS, keys)
    log.write_header(list(zip(np.asarray(epochs).tolist(), np.asarray(stats), strict=True)))
    if params is not None:
        atomic_write_bytes(
            path / PARAMS, _npz_bytes({f"param_{i}": p for i, p in enumerate(params)})
        )
    record = RunRecord.load(path)
    if curves:
        _write_curves(record)
    full = dict(summarise_stats(record.epochs, record.stats, record.keys))
    full.update(summary)
    full.setdefault("name", path.name)
    full["finished"] = True
    atomic_write_text(path / SUMMARY, json.dumps(_json_safe(full), indent=2) + "\n")
    return RunRecord.load(path)


def _write_curves(record: RunRecord) -> None:
    from mlp import plotting

    fig = plotting.plot_stats(record.stats, record.keys, epochs=record.epochs, title=record.label())
    plotting.save_figure(fig, record.path / CURVES)


def _write_config(path: Path, config: ExperimentConfig) -> None:
    comment = (
        f"mlp run {config.name}: the full config of this run.\n"
        f"Repeat it with: mlp train --config {CONFIG} --name NEW_NAME"
    )
    atomic_write_text(path / CONFIG, to_toml(config.to_dict(), comment))
