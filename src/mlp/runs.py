"""Run records: what one training run leaves behind, written so that nothing is lost.

`run_experiment(config)` trains the model a config describes and keeps, in
``RUNS_DIR/NAME/``:

    config.toml      the full, resolved config: enough to repeat the run exactly
    stats.csv        one row per stats interval (epoch 0 first), appended and fsynced as
                     training goes, so an interrupted run keeps every row it recorded
    checkpoint.npz   the state after the latest epoch: parameters, learning-rule state,
                     every random generator's state, the training data's epoch order;
                     removed once the run has finished
    summary.json     final and best figures, test accuracy when asked, seconds per
                     epoch, seed and package versions; written last: its presence means
                     the run finished
    params.npz       the final parameters (param_0, param_1, ... in `model.params` order)
    curves.png       error and accuracy against epochs, train and valid
    .lock            held while a process trains the run (removed at the end), so that
                     two processes never write one record

Every file is written atomically (a temporary file, fsynced, then `os.replace`), except
stats.csv, which only grows by whole rows. The checkpoint is one `.npz` file (arrays,
plus the scalars as a JSON string), never a pickle.

An interrupted run (Ctrl-C, SIGTERM, SIGKILL, power loss) continues from its latest
checkpoint with `run_experiment(config, name=..., if_exists="resume")` or
``mlp train --resume runs/NAME``, and ends with exactly the statistics an uninterrupted
run would have given: the restored state is bit for bit the state the uninterrupted run
had at that epoch. (Bit for bit on the same machine with the same number of BLAS threads:
BLAS splits its sums between threads, so another thread count changes the last bits.)

Reading records back::

    record = RunRecord.load("runs/relu-100x100-adam")
    record.finished, record.summary["final"]["acc(valid)"]
    record.stats[:, record.keys["acc(valid)"]], record.epochs
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import platform
import shutil
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from mlp.config import (
    ConfigError,
    Experiment,
    ExperimentConfig,
    build_experiment,
    config_from_dict,
    learning_rate_at,
    to_toml,
)

__all__ = [
    "CHECKPOINT",
    "CONFIG",
    "CURVES",
    "PARAMS",
    "STATS",
    "SUMMARY",
    "RunError",
    "RunRecord",
    "StatsLog",
    "atomic_write_bytes",
    "atomic_write_text",
    "find_runs",
    "is_finished",
    "read_stats",
    "run_experiment",
    "summarise_stats",
    "versions",
    "write_record",
]

logger = logging.getLogger(__name__)

CONFIG = "config.toml"
STATS = "stats.csv"
SUMMARY = "summary.json"
PARAMS = "params.npz"
CURVES = "curves.png"
CHECKPOINT = "checkpoint.npz"

_CHECKPOINT_VERSION = 1


class RunError(RuntimeError):
    """A run record that cannot be started, resumed or read as asked; says what to do."""


# --- atomic files ----------------------------------------------------------------------


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` so that readers see the old file or the new one, never a
    part: a temporary file beside it, fsynced, then renamed over it."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    _fsync_dir(path.parent)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """`atomic_write_bytes` for UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"))


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _json_safe(value: Any) -> Any:
    """Floats that JSON cannot hold (NaN, inf) as None; NumPy scalars as Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


# --- statistics ------------------------------------------------------------------------


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
        RunError: when the file is missing or has no header.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise RunError(f"{path} does not exist: not a run record") from None
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]  # `last` is '' when the file ends in a newline
    del last
    if not complete or not complete[0].startswith("epoch,"):
        raise RunError(f"{path} has no header line: not a run record")
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


def versions(backend: str = "numpy") -> dict[str, str]:
    """Versions of Python, mlp, NumPy (and PyTorch when it is used) and the platform."""
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
    return found


# --- reading records back --------------------------------------------------------------


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
        return str(self.config.get("label", self.name))


def is_finished(path: str | os.PathLike[str]) -> bool:
    """Whether the run record at `path` is finished (has its summary.json)."""
    return (Path(path) / SUMMARY).exists()


def find_runs(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """Run folders from the given paths: a run folder itself, or a folder of runs
    (every subfolder holding a stats.csv, in name order).

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
            children = sorted(p for p in path.iterdir() if (p / STATS).exists())
            if children:
                found.extend(children)
                continue
            raise RunError(f"{path} holds no run records (no stats.csv in it or below it)")
        raise RunError(f"{path} does not exist")
    return found


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


# --- checkpoints -----------------------------------------------------------------------


def _rng_state(rng: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A generator's state as JSON-able scalars plus arrays."""
    if isinstance(rng, np.random.RandomState):
        kind, key, pos, has_gauss, cached = rng.get_state()
        meta = {"type": "RandomState", "kind": kind, "pos": int(pos)}
        meta.update(has_gauss=int(has_gauss), cached_gaussian=float(cached))
        return meta, {"key": np.asarray(key)}
    if isinstance(rng, np.random.Generator):
        return {"type": "Generator", "state": rng.bit_generator.state}, {}
    raise TypeError(f"cannot checkpoint a {type(rng).__name__}")


def _set_rng_state(rng: Any, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    if meta["type"] == "RandomState":
        rng.set_state(
            (
                meta["kind"],
                arrays["key"],
                meta["pos"],
                meta["has_gauss"],
                meta["cached_gaussian"],
            )
        )
    else:
        rng.bit_generator.state = meta["state"]


def save_checkpoint(
    path: Path,
    experiment: Experiment,
    epoch: int,
    timing: Mapping[str, float],
) -> None:
    """Save everything training needs to continue after `epoch`, in one atomic .npz.

    Holds: the parameters (`param_<i>`), the learning rule's state arrays
    (`rule_<name>_<i>`) and step count, every random generator's state (generators shared
    between providers and layers are saved once), the training provider's epoch order
    and position, and the seconds spent so far; the scalars as a JSON string (`meta`).
    """
    arrays: dict[str, np.ndarray] = {}
    for i, param in enumerate(experiment.model.params):
        arrays[f"param_{i}"] = param
    rule_meta: dict[str, Any] = {}
    for name, value in experiment.learning_rule.state().items():
        if isinstance(value, list):
            rule_meta[name] = len(value)
            for i, array in enumerate(value):
                arrays[f"rule_{name}_{i}"] = array
        else:
            rule_meta[name] = value
    generators: list[Any] = []
    slots: dict[str, int] = {}
    rng_meta: list[dict[str, Any]] = []
    for name, rng in experiment.rngs.items():
        for index, known in enumerate(generators):
            if known is rng:
                slots[name] = index
                break
        else:
            slots[name] = len(generators)
            meta, rng_arrays = _rng_state(rng)
            for key, array in rng_arrays.items():
                arrays[f"rng_{len(generators)}_{key}"] = array
            generators.append(rng)
            rng_meta.append(meta)
    train = experiment.train_data
    arrays["train_order"] = np.asarray(train._order)
    meta = {
        "version": _CHECKPOINT_VERSION,
        "epoch": int(epoch),
        "rule": _json_safe(rule_meta),
        "rngs": rng_meta,
        "rng_slots": slots,
        "train_position": int(train._position),
        "train_batches_served": int(train._batches_served),
        "num_params": len(experiment.model.params),
        **{k: float(v) for k, v in timing.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    atomic_write_bytes(path, _npz_bytes(arrays))


def load_checkpoint(path: Path, experiment: Experiment) -> dict[str, Any]:
    """Restore a checkpoint into a freshly built experiment whose rule is initialised.

    Parameters are copied into the model's own arrays (the learning rule holds those).

    Returns:
        The checkpoint's scalars: 'epoch', timing, ...
    Raises:
        RunError: when the checkpoint does not fit the experiment.
    """
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays["meta"]))
    if meta.get("version") != _CHECKPOINT_VERSION:
        raise RunError(f"{path} has checkpoint version {meta.get('version')}, expected 1")
    params = experiment.model.params
    if meta["num_params"] != len(params):
        raise RunError(f"{path} holds {meta['num_params']} parameters, the model {len(params)}")
    for i, param in enumerate(params):
        saved_param = arrays[f"param_{i}"]
        if saved_param.shape != param.shape:
            raise RunError(
                f"{path}: parameter {i} has shape {saved_param.shape}, not {param.shape}"
            )
        param[...] = saved_param
    state: dict[str, Any] = {}
    for name, value in meta["rule"].items():
        if name == "step_count":
            state[name] = value
        else:
            state[name] = [arrays[f"rule_{name}_{i}"] for i in range(value)]
    experiment.learning_rule.load_state(state)
    for name, rng in experiment.rngs.items():
        slot = meta["rng_slots"][name]
        prefix = f"rng_{slot}_"
        rng_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        _set_rng_state(rng, meta["rngs"][slot], rng_arrays)
    train = experiment.train_data
    train._order = arrays["train_order"]
    train._position = meta["train_position"]
    train._batches_served = meta["train_batches_served"]
    return meta


# --- running ---------------------------------------------------------------------------

IfExists = Literal["error", "overwrite", "resume"]


def _unique_name(runs_dir: Path, base: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{base}-{stamp}"
    suffix = 2
    while (runs_dir / name).exists():
        name = f"{base}-{stamp}-{suffix}"
        suffix += 1
    return name


def _same_config(a: ExperimentConfig, b: ExperimentConfig) -> bool:
    ignore = {"name"}
    da = {k: v for k, v in a.resolved().to_dict().items() if k not in ignore}
    db = {k: v for k, v in b.resolved().to_dict().items() if k not in ignore}
    return da == db


def run_experiment(
    config: ExperimentConfig,
    runs_dir: str | os.PathLike[str] = "runs",
    *,
    name: str | None = None,
    if_exists: IfExists = "error",
    progress: bool = False,
) -> RunRecord:
    """Train the model `config` describes, writing a run record as it goes.

    Safe to call from a worker process (a sweep runs one call per point): everything it
    needs is in `config`, and what it leaves is the record in ``runs_dir/NAME``.

    Args:
        config: the experiment (validated here).
        runs_dir: folder of run records (created).
        name: the run's folder name; default `config.name`, else a descriptive name with
            a timestamp.
        if_exists: what to do when the folder exists: 'error' (raise `RunError`),
            'overwrite' (delete it and start again), or 'resume' (a finished run is
            returned as it is, an unfinished one continues from its checkpoint, or starts
            again with the torch backend, which keeps no checkpoints; the config must
            match the record's). 'resume' is what a sweep wants: finished points are
            skipped and interrupted ones continue.
        progress: show a progress bar over the epochs.
    Returns:
        The record read back. `record.finished` is False when training was interrupted
        (Ctrl-C): the record then holds what was done, ready to resume.
    Raises:
        ConfigError: for an invalid config; RunError: for a clash with an existing record.
    """
    config = config.resolved().validate()
    runs_dir = Path(runs_dir)
    name = name or config.name or _unique_name(runs_dir, config.default_name())
    path = runs_dir / name
    if path.exists() and any(path.iterdir()):
        if if_exists == "overwrite":
            shutil.rmtree(path)
        elif if_exists == "resume":
            if (path / CONFIG).exists():
                stored = _read_config(path)
                if not _same_config(stored, config):
                    raise RunError(
                        f"{path} holds a run with a different config; choose another name "
                        "or overwrite it"
                    )
                if is_finished(path) or stored.backend == "numpy":
                    return resume_run(path, progress=progress)
            # Nothing was recorded yet, or a torch run, which cannot resume: start again.
            shutil.rmtree(path)
        else:
            state = "finished" if is_finished(path) else "unfinished"
            raise RunError(
                f"{path} already holds a {state} run: resume it with "
                f"`mlp train --resume {path}`, or pass --overwrite or another --name"
            )
    config = _with_name(config, name)
    return _train(path, config, resume=False, progress=progress)


def resume_run(path: str | os.PathLike[str], *, progress: bool = False) -> RunRecord:
    """Continue the run recorded in `path` from its latest checkpoint.

    A finished run is returned unchanged. Without a checkpoint (killed before its first
    epoch ended) the run starts again from scratch, which gives the same result.

    Raises:
        RunError: when `path` is not a run record of `run_experiment`.
    """
    path = Path(path)
    if not (path / CONFIG).exists():
        raise RunError(f"{path} is not a run record (no {CONFIG})")
    record_config = _read_config(path)
    if is_finished(path):
        return RunRecord.load(path)
    if record_config.backend == "torch":
        raise RunError(
            f"{path} was trained with the torch backend, which keeps no checkpoints: "
            "start it again with --overwrite"
        )
    return _train(path, record_config, resume=True, progress=progress)


def _read_config(path: Path) -> ExperimentConfig:
    from mlp.config import load_config

    try:
        return load_config(path / CONFIG).resolved()
    except ConfigError as error:
        raise RunError(str(error)) from None


def _with_name(config: ExperimentConfig, name: str) -> ExperimentConfig:
    import dataclasses

    return dataclasses.replace(config, name=name)


def _write_config(path: Path, config: ExperimentConfig) -> None:
    comment = (
        f"mlp run {config.name}: the full config of this run.\n"
        f"Repeat it with: mlp train --config {CONFIG} --name NEW_NAME"
    )
    atomic_write_text(path / CONFIG, to_toml(config.to_dict(), comment))


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int, initial: int, desc: str) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit="epoch", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold a lock on the run folder while training, so that two processes never write
    one record; the system releases it when the process ends, however it ends."""
    path.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no locking
        yield
        return
    lock = path / ".lock"
    with open(lock, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunError(f"{path} is being trained by another process") from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
                path.rmdir()  # only when nothing was written (the build failed)


def _train(path: Path, config: ExperimentConfig, *, resume: bool, progress: bool) -> RunRecord:
    with _exclusive(path):
        if config.backend == "torch":
            return _train_torch(path, config, progress=progress)
        return _train_numpy(path, config, resume=resume, progress=progress)


def _train_numpy(
    path: Path, config: ExperimentConfig, *, resume: bool, progress: bool
) -> RunRecord:
    from mlp.optimisers import Optimiser, accuracy

    session_start = time.perf_counter()
    experiment = build_experiment(config)
    timing = {"train_seconds": 0.0, "run_seconds": 0.0, "sessions": 0.0}
    start_epoch = 0
    previous: np.ndarray | None = None
    # Built before the checkpoint is loaded: the optimiser initialises the learning rule,
    # whose state the checkpoint then restores.
    optimiser = Optimiser(
        experiment.model,
        experiment.error,
        experiment.learning_rule,
        experiment.train_data,
        experiment.valid_data,
        {"acc": accuracy},
    )
    keys = optimiser.stat_keys()
    log = StatsLog(path / STATS, keys)
    for stale in path.glob(".*.tmp"):  # left by a process killed while writing
        with contextlib.suppress(OSError):
            stale.unlink()
    if resume and (path / CHECKPOINT).exists():
        meta = load_checkpoint(path / CHECKPOINT, experiment)
        start_epoch = int(meta["epoch"])
        for key in timing:
            timing[key] = float(meta.get(key, 0.0))
        epochs, stats, stored_keys = read_stats(path / STATS)
        if stored_keys != keys:
            raise RunError(f"{path / STATS} has columns {list(stored_keys)}, expected {list(keys)}")
        # Rows after the checkpoint (recorded just before a kill) are recorded again.
        # From a checkpoint at epoch 0, the row before training is computed again too.
        keep = (epochs <= start_epoch) if start_epoch > 0 else np.zeros(len(epochs), bool)
        log.write_header(list(zip(epochs[keep].tolist(), stats[keep], strict=True)))
        previous = stats[keep] if start_epoch > 0 else None
        logger.info("resuming %s after epoch %d", path.name, start_epoch)
    else:
        if resume:
            logger.info("%s has no checkpoint yet: starting it again", path.name)
        _write_config(path, config)
        log.write_header()
        with contextlib.suppress(FileNotFoundError):
            (path / CHECKPOINT).unlink()
    timing["sessions"] += 1
    carried_train, carried_run = timing["train_seconds"], timing["run_seconds"]
    train_seconds = [carried_train]

    def current_timing() -> dict[str, float]:
        return {
            "train_seconds": train_seconds[0],
            "run_seconds": carried_run + time.perf_counter() - session_start,
            "sessions": timing["sessions"],
        }

    with _progress_bar(progress, config.epochs, start_epoch, path.name) as bar:

        def on_stats(epoch: int, values: dict[str, float]) -> None:
            log.append(epoch, [values[k] for k in keys])
            if epoch == 0:
                save_checkpoint(path / CHECKPOINT, experiment, 0, current_timing())
            if bar is not None and "acc(valid)" in values:
                bar.set_postfix(acc_valid=f"{values['acc(valid)']:.4f}", refresh=False)

        def on_epoch_end(epoch: int, epoch_time: float) -> None:
            train_seconds[0] += epoch_time
            experiment.learning_rule.learning_rate = learning_rate_at(config, epoch + 1)
            save_checkpoint(path / CHECKPOINT, experiment, epoch, current_timing())
            if bar is not None:
                bar.update(1)

        experiment.learning_rule.learning_rate = learning_rate_at(config, start_epoch + 1)
        optimiser.on_stats = on_stats
        optimiser.on_epoch_end = on_epoch_end
        stats, keys, _ = optimiser.train(
            config.epochs,
            config.stats_interval,
            start_epoch=start_epoch,
            previous_stats=previous,
        )
    if optimiser.interrupted:
        logger.warning("%s interrupted; continue it with `mlp train --resume %s`", path.name, path)
        return RunRecord.load(path)
    summary: dict[str, Any] = {}
    if config.test:
        summary["test"] = _test_figures(experiment)
    final_timing = current_timing()
    params = experiment.model.params
    return _finish(
        path,
        config,
        params,
        summary,
        final_timing,
        num_train_examples=experiment.train_data.num_examples,
    )


def _with_model(experiment: Experiment, model: Any) -> Experiment:
    """The same experiment with another model (the torch-trained one, brought back)."""
    import dataclasses

    return dataclasses.replace(experiment, model=model)


def _test_figures(experiment: Experiment) -> dict[str, float]:
    from mlp.optimisers import accuracy

    data = experiment.test_data()
    outputs = experiment.model.predict(data.inputs)
    return {
        "acc": accuracy(outputs, data.targets),
        "error": float(experiment.error(outputs, data.targets)),
    }


def _finish(
    path: Path,
    config: ExperimentConfig,
    params: Sequence[np.ndarray],
    summary: dict[str, Any],
    timing: Mapping[str, float],
    device: str = "cpu",
    num_train_examples: int | None = None,
) -> RunRecord:
    atomic_write_bytes(path / PARAMS, _npz_bytes({f"param_{i}": p for i, p in enumerate(params)}))
    record = RunRecord.load(path)
    _write_curves(record)
    figures = summarise_stats(record.epochs, record.stats, record.keys)
    epochs_trained = max(config.epochs, 1)
    full: dict[str, Any] = {
        "name": path.name,
        "finished": True,
        "architecture": config.architecture(),
        "rule": config.rule,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "epochs": config.epochs,
        "stats_interval": config.stats_interval,
        "backend": config.backend,
        "device": device,
        "num_parameters": int(sum(int(np.prod(p.shape)) for p in params)),
        "num_train_examples": num_train_examples,
        **figures,
        "test": summary.get("test"),
        "seconds_per_epoch": timing["train_seconds"] / epochs_trained,
        "run_time": timing["run_seconds"],
        "sessions": int(timing.get("sessions", 1)),
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "versions": versions(config.backend),
    }
    atomic_write_text(path / SUMMARY, json.dumps(_json_safe(full), indent=2) + "\n")
    with contextlib.suppress(FileNotFoundError):
        (path / CHECKPOINT).unlink()
    return RunRecord.load(path)


# --- the torch backend -----------------------------------------------------------------


def _torch_loss(error: str) -> Any:
    """The torch counterpart of an mlp error, on one-of-K targets, mean over the batch."""
    import torch

    if error == "cross_entropy_softmax":
        return lambda y, t: -(t * torch.log_softmax(y, dim=-1)).sum(dim=-1).mean()
    if error == "cross_entropy":
        tiny = torch.finfo(torch.float32).tiny
        return lambda y, t: -(t * torch.log(y.clamp_min(tiny))).sum(dim=-1).mean()
    if error == "sum_of_squares":
        return lambda y, t: 0.5 * ((y - t) ** 2).sum(dim=-1).mean()
    if error == "binary_cross_entropy_sigmoid":
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]
    bce = torch.nn.functional.binary_cross_entropy
    return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]


def _torch_optimizer(config: ExperimentConfig, module: Any) -> Any:
    import torch

    weights = [p for p in module.parameters() if p.ndim == 2]
    biases = [p for p in module.parameters() if p.ndim != 2]
    groups = [
        {"params": weights, "weight_decay": config.weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]
    rate = config.learning_rate
    if config.rule in ("sgd", "momentum", "nesterov"):
        momentum = 0.0 if config.rule == "sgd" else config.mom_coeff
        return torch.optim.SGD(
            groups, lr=rate, momentum=momentum, nesterov=config.rule == "nesterov"
        )
    if config.rule == "adagrad":
        return torch.optim.Adagrad(groups, lr=rate, eps=config.epsilon)
    if config.rule == "rmsprop":
        return torch.optim.RMSprop(groups, lr=rate, alpha=config.beta, eps=config.epsilon)
    return torch.optim.Adam(
        groups, lr=rate, betas=(config.beta_1, config.beta_2), eps=config.epsilon
    )


def _train_torch(path: Path, config: ExperimentConfig, *, progress: bool) -> RunRecord:
    try:
        from mlp import pytorch
    except ImportError as error:
        raise RunError(f"backend 'torch' needs mlp.pytorch and PyTorch: {error}") from None
    session_start = time.perf_counter()
    experiment = build_experiment(config)
    module = pytorch.to_torch(experiment.model)
    try:
        device = pytorch.resolve_device(config.device)
    except ValueError as error:
        raise RunError(str(error)) from None
    module.to(device)
    optimizer = _torch_optimizer(config, module)
    path.mkdir(parents=True, exist_ok=True)
    _write_config(path, config)
    names = [f"{k}{s}" for s in ("(train)", "(valid)") for k in ("error", "acc")]
    keys = {name: i for i, name in enumerate(names)}
    log = StatsLog(path / STATS, keys)
    log.write_header()
    with _progress_bar(progress, config.epochs, 0, path.name) as bar:

        def on_stats(epoch: int, values: dict[str, float]) -> None:
            log.append(epoch, [values[k] for k in names])
            for group in optimizer.param_groups:
                group["lr"] = learning_rate_at(config, epoch + 1)
            if bar is not None and epoch:
                bar.update(epoch - bar.n)
                bar.set_postfix(acc_valid=f"{values['acc(valid)']:.4f}", refresh=False)

        trainer = pytorch.TorchTrainer(
            module,
            _torch_loss(config.error),
            optimizer,
            experiment.train_data,
            experiment.valid_data,
            data_monitors={"acc": pytorch.accuracy},
            device=device,
            on_stats=on_stats,
            class_indices=False,
        )
        _, _, _ = trainer.train(config.epochs, config.stats_interval)
    if getattr(trainer, "interrupted", False):
        return RunRecord.load(path)
    model = pytorch.from_torch(module.cpu())
    summary: dict[str, Any] = {}
    if config.test:
        summary["test"] = _test_figures(_with_model(experiment, model))
    epoch_times = list(getattr(trainer, "epoch_times", []))
    timing = {
        "train_seconds": float(sum(epoch_times)) if epoch_times else 0.0,
        "run_seconds": time.perf_counter() - session_start,
        "sessions": 1,
    }
    return _finish(
        path,
        config,
        model.params,
        summary,
        timing,
        device=str(device),
        num_train_examples=experiment.train_data.num_examples,
    )
