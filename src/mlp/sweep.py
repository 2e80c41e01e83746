"""Hyperparameter sweeps: many `mlp train` runs from one TOML file, in parallel.

A sweep file names a base config, the keys to vary and how::

    name = "depth-by-activation"     # the sweep's folder under the runs directory
    mode = "grid"                    # every combination; or "random" with num_samples
    # num_samples = 20               # random mode: how many points
    # seed = 0                       # random mode: seeds the sampling

    [base]                           # any `mlp train` config key (see mlp.config)
    epochs = 10
    rule = "sgd"
    learning_rate = 0.1

    [grid]                           # key -> list of values (grid and random mode)
    hidden = [[100], [100, 100], [100, 100, 100], [100, 100, 100, 100]]
    activation = ["sigmoid", "tanh", "relu"]

    [random]                         # random mode: key -> distribution
    learning_rate = { log_uniform = [1e-4, 1e-1] }
    init_scale = { uniform = [0.01, 0.5] }

Each point is an ordinary run record in ``RUNS_DIR/SWEEP_NAME/POINT_NAME`` (see
`mlp.runs`), named after its values, so a restarted sweep skips the finished points and
resumes the unfinished ones from their checkpoints: an interrupted sweep loses at most
the epochs in flight. Points run through `mlp.parallel`, as the lab's experiments do: in
this process (`jobs=1`), in worker processes (`jobs`, each with cores // jobs BLAS
threads), or on a Dask cluster (`scheduler`, the address of a `distributed` scheduler,
e.g. one started by dask-jobqueue's SLURMCluster). At the end
``summary.md``, ``summary.csv`` and ``summary.png`` (final validation accuracy against
each swept key) are written beside the points.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import json
import logging
import math
import os
import re
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlp import _checks
from mlp.compat import tomllib
from mlp.config import ConfigError, ExperimentConfig, config_from_dict

__all__ = ["Sweep", "SweepError", "load_sweep", "run_sweep", "summarise_sweep"]

logger = logging.getLogger(__name__)

_SWEEP_KEYS = {"name", "mode", "num_samples", "seed", "base", "grid", "random", "runs_dir"}
_DISTRIBUTIONS = ("uniform", "log_uniform", "int_uniform", "choice")


class SweepError(ValueError):
    """A sweep file or request that cannot be run; the message says what to change."""


@dataclass
class Sweep:
    """A validated sweep: a base config and the points to run.

    Attributes:
        name: folder of the sweep under the runs directory.
        base: the values every point shares (config keys).
        points: one dict per point, key -> value of the swept keys only.
        swept: the swept keys, in file order.
    """

    name: str
    base: dict[str, Any]
    points: list[dict[str, Any]]
    swept: list[str]
    runs_dir: str = "runs"
    configs: list[ExperimentConfig] = field(default_factory=list)

    def point_folder(self, folder: Path, config: ExperimentConfig) -> Path:
        """The run folder of one of `configs` in the sweep's folder `folder`."""
        _checks.path(folder, "folder", "Sweep.point_folder")
        if not isinstance(config, ExperimentConfig):
            raise TypeError(
                f"Sweep.point_folder: config must be an ExperimentConfig (one of the sweep's "
                f"configs), got {type(config).__name__}"
            )
        if config.name is None:  # every point's config is named by sweep_from_dict
            raise SweepError(f"sweep {self.name!r} has a point without a name")
        return folder / config.name

    def point_name(self, point: Mapping[str, Any]) -> str:
        """A folder name made of the point's values, e.g. 'hidden=100x100+activation=relu'."""
        missing = [key for key in self.swept if not isinstance(point, Mapping) or key not in point]
        if missing:
            raise TypeError(
                f"Sweep.point_name: point must map each swept key ({', '.join(self.swept)}) "
                f"to its value, got {point!r}"
            )
        parts = [f"{key}={_short(point[key])}" for key in self.swept]
        return re.sub(r"[^A-Za-z0-9._=+-]", "_", "+".join(parts)) or "base"


def _short(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "x".join(_short(v) for v in value) or "none"
    if isinstance(value, float):
        # Short where that loses nothing (sampled values are rounded to 6 digits), exact
        # otherwise: two distinct values must never share a folder.
        short = f"{value:.6g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _six_digits(value: float) -> float:
    """A sampled value rounded to 6 significant digits, so its folder name is exact."""
    return float(f"{value:.6g}")


def _sample(spec: Any, key: str, rng: np.random.RandomState) -> Any:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise SweepError(
            f"[random] {key} must be one distribution such as {{ uniform = [low, high] }}, "
            f"{{ log_uniform = [low, high] }}, {{ int_uniform = [low, high] }} or "
            f"{{ choice = [a, b, ...] }}; got {spec!r}"
        )
    ((kind, args),) = spec.items()
    if kind not in _DISTRIBUTIONS:
        raise SweepError(
            f"[random] {key}: unknown distribution {kind!r}; use one of {_DISTRIBUTIONS}"
        )
    if not isinstance(args, list) or not args:
        raise SweepError(f"[random] {key}: {kind} needs a list of values")
    if kind == "choice":
        return args[rng.randint(len(args))]
    if len(args) != 2 or not all(isinstance(a, (int, float)) for a in args) or args[0] > args[1]:
        raise SweepError(f"[random] {key}: {kind} needs [low, high] with low <= high, got {args}")
    low, high = args
    if kind == "uniform":
        return _six_digits(rng.uniform(low, high))
    if kind == "int_uniform":
        return int(rng.randint(int(low), int(high) + 1))
    if low <= 0:
        raise SweepError(f"[random] {key}: log_uniform needs low > 0, got {low}")
    return _six_digits(math.exp(rng.uniform(math.log(low), math.log(high))))


def sweep_from_dict(values: Mapping[str, Any], source: str = "sweep") -> Sweep:
    """A validated `Sweep` from the parsed TOML of a sweep file.

    Raises:
        SweepError: unknown keys, empty or malformed grids, bad distributions, or any
            point whose config is invalid (with the key at fault).
    """
    unknown = sorted(set(values) - _SWEEP_KEYS)
    if unknown:
        raise SweepError(
            f"{source}: unknown key(s) {unknown}; a sweep file has {sorted(_SWEEP_KEYS)}"
        )
    name = values.get("name")
    # A first letter or digit: '.', '..' and hidden names are not plain folder names.
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._=+-]*", name):
        raise SweepError(
            f"{source}: 'name' must be a plain folder name (a letter or digit, then "
            f"letters, digits and . _ - = +), got {name!r}"
        )
    mode = values.get("mode", "grid")
    if mode not in ("grid", "random"):
        raise SweepError(f"{source}: mode must be 'grid' or 'random', got {mode!r}")
    for table in ("base", "grid", "random"):
        if not isinstance(values.get(table, {}), Mapping):
            raise SweepError(f"{source}: [{table}] must be a table")
    base = dict(values.get("base", {}))
    grid = dict(values.get("grid", {}))
    randoms = dict(values.get("random", {}))
    for key, options in grid.items():
        if not isinstance(options, list) or not options:
            raise SweepError(f"{source}: [grid] {key} must be a non-empty list of values")
    if mode == "grid":
        swept, points = _grid_points(grid, randoms, source)
    else:
        swept, points = _random_points(values, grid, randoms, source)
    overlap = sorted(set(base) & set(swept))
    if overlap:
        raise SweepError(
            f"{source}: {overlap} both in [base] and swept; keep each key in one place"
        )
    if "name" in base:
        raise SweepError(
            f"{source}: [base] cannot set 'name': each point is named after its values"
        )
    runs_dir = values.get("runs_dir", "runs")
    if not isinstance(runs_dir, str) or not runs_dir:
        raise SweepError(f"{source}: runs_dir must be a folder name (a string), got {runs_dir!r}")
    sweep = Sweep(name, base, points, swept, runs_dir)
    sweep.configs.extend(_point_configs(sweep, source))
    return sweep


def _grid_points(
    grid: dict[str, Any], randoms: dict[str, Any], source: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """(swept keys, points) of a grid sweep: every combination of the [grid] values."""
    if randoms:
        raise SweepError(f"{source}: [random] needs mode = 'random'")
    if not grid:
        raise SweepError(f"{source}: a grid sweep needs a [grid] table with at least one key")
    swept = list(grid)
    points = [dict(zip(swept, combo, strict=True)) for combo in itertools.product(*grid.values())]
    return swept, points


def _random_points(
    values: Mapping[str, Any], grid: dict[str, Any], randoms: dict[str, Any], source: str
) -> tuple[list[str], list[dict[str, Any]]]:
    """(swept keys, points) of a random sweep: `num_samples` draws, seeded by `seed`."""
    num_samples = values.get("num_samples")
    if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1:
        raise SweepError(
            f"{source}: random mode needs num_samples, a positive integer, got {num_samples!r}"
        )
    seed = values.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32:
        raise SweepError(f"{source}: seed must be an integer in 0 .. 2**32 - 1, got {seed!r}")
    rng = np.random.RandomState(seed)
    swept = list(grid) + [k for k in randoms if k not in grid]
    points = []
    for _ in range(num_samples):
        point = {key: grid[key][rng.randint(len(grid[key]))] for key in grid}
        point.update({key: _sample(spec, key, rng) for key, spec in randoms.items()})
        points.append(point)
    return swept, points


def _point_configs(sweep: Sweep, source: str) -> list[ExperimentConfig]:
    """The validated config of each distinct point, named after its values."""
    configs = []
    seen: set[str] = set()
    for point in sweep.points:
        point_name = sweep.point_name(point)
        try:
            config = config_from_dict({**sweep.base, **point, "name": point_name})
            config.check_memory()  # a point too large to train is refused before any runs
        except ConfigError as error:
            raise SweepError(f"{source}: point {point_name}: {error}") from None
        if point_name in seen:
            logger.info("%s: point %s drawn twice; running it once", source, point_name)
            continue  # random search drew the same point twice: run it once
        seen.add(point_name)
        configs.append(config)
    return configs


def load_sweep(path: str | os.PathLike[str]) -> Sweep:
    """Read and validate a sweep TOML file.

    Raises:
        SweepError: for a missing file, bad TOML or an invalid sweep (naming the key).
    """
    path = Path(_checks.path(path, "path", "load_sweep"))
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SweepError(f"sweep file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise SweepError(f"cannot read sweep file {path}: {error}") from None
    except tomllib.TOMLDecodeError as error:
        raise SweepError(f"{path}: not valid TOML: {error}") from None
    return sweep_from_dict(values, source=str(path))


def _run_point(config_values: dict[str, Any], runs_dir: str) -> dict[str, Any]:
    """Run (or resume, or skip when finished) one point, wherever `mlp.parallel` runs it."""
    from mlp.runs import run_experiment

    config = config_from_dict(config_values)
    start = time.perf_counter()
    record = run_experiment(config, runs_dir, name=config.name, if_exists="resume")
    return {
        "name": record.name,
        "finished": record.finished,
        # Its training caught Ctrl-C (or SIGTERM) and saved what it had: the sweep stops
        # there, and running it again resumes this point.
        "interrupted": not record.finished,
        "seconds": time.perf_counter() - start,
    }


def run_sweep(
    sweep: Sweep,
    runs_dir: str | os.PathLike[str] | None = None,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run every point of `sweep` that has not finished, then write the summary.

    Args:
        sweep: from `load_sweep`.
        runs_dir: parent of the sweep's folder; default the file's `runs_dir` ('runs').
        jobs: worker processes on this machine; -1 for one per core; 1 runs the points
            in this process. With more than one, each worker's BLAS gets cores // jobs
            threads so they don't fight (see `mlp.parallel`).
        scheduler: address of a Dask distributed scheduler ('tcp://host:8786'): run the
            points on that cluster instead.
        progress: show a progress bar over the points.
    Returns:
        {'ran': names run now, 'skipped': names already finished, 'seconds': wall time,
         'summary': path of summary.md}.
    Raises:
        KeyboardInterrupt: on Ctrl-C or SIGTERM, or when a point's training was
            interrupted; finished points are kept, the unfinished ones resume next time.
    """
    from mlp.runs import config_differs, is_finished

    _check_run_arguments(sweep, runs_dir, jobs, scheduler)
    folder = Path(runs_dir if runs_dir is not None else sweep.runs_dir) / sweep.name
    folder.mkdir(parents=True, exist_ok=True)
    # A point already in the folder under another config (the sweep file was edited)
    # would be skipped or refused one by one; say so once, before running anything.
    changed = [
        sweep.point_folder(folder, c).name
        for c in sweep.configs
        if config_differs(sweep.point_folder(folder, c), c)
    ]
    if changed:
        raise SweepError(
            f"{len(changed)} point(s) in {folder} were run with another config than this "
            f"sweep file now gives ({', '.join(changed[:3])}{', ...' if len(changed) > 3 else ''}): "
            "give the sweep a new name, or delete those folders to run them again"
        )
    todo = [c for c in sweep.configs if not is_finished(sweep.point_folder(folder, c))]
    skipped = [
        sweep.point_folder(folder, c).name
        for c in sweep.configs
        if is_finished(sweep.point_folder(folder, c))
    ]
    if skipped:
        logger.info(
            "%d of %d points already finished; skipping them", len(skipped), len(sweep.configs)
        )
    start = time.perf_counter()
    results = _run_points(todo, folder, jobs, scheduler, progress)
    seconds = time.perf_counter() - start
    summary = summarise_sweep(sweep, folder)
    return {
        "ran": [r["name"] for r in results],
        "skipped": skipped,
        "seconds": seconds,
        "summary": summary,
    }


def _check_sweep(sweep: Any, where: str) -> None:
    if not isinstance(sweep, Sweep):
        raise TypeError(
            f"{where}: sweep must be a Sweep (load_sweep(path) reads one), "
            f"got {type(sweep).__name__} {sweep!r:.60}"
        )


def _check_run_arguments(sweep: Any, runs_dir: Any, jobs: Any, scheduler: Any) -> None:
    """run_sweep's arguments, checked before any folder is made or point is run."""
    _check_sweep(sweep, "run_sweep")
    if runs_dir is not None:
        _checks.path(runs_dir, "runs_dir", "run_sweep")
    if (
        isinstance(jobs, bool)
        or not isinstance(jobs, (int, np.integer))
        or not (jobs == -1 or jobs >= 1)
    ):
        raise ValueError(
            f"run_sweep: jobs must be a positive integer or -1 (one per core), got {jobs!r}"
        )
    if scheduler is not None and not isinstance(scheduler, str):
        raise TypeError(
            f"run_sweep: scheduler must be an address such as 'tcp://host:8786', got {scheduler!r}"
        )


def _run_points(
    configs: list[ExperimentConfig],
    folder: Path,
    jobs: int,
    scheduler: str | None,
    progress: bool,
) -> list[dict[str, Any]]:
    """Run the points through `mlp.parallel.run_jobs`, behind a progress bar."""
    from mlp.parallel import run_jobs

    if not configs:
        return []
    bar = _progress(progress, len(configs))

    def advance(result: Mapping[str, Any]) -> None:
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(result["name"][:40])

    try:
        results = run_jobs(
            functools.partial(_run_point, runs_dir=str(folder)),
            [c.to_dict() for c in configs],
            jobs=jobs,
            scheduler=scheduler,
            on_result=advance,
        )
    finally:
        if bar is not None:
            bar.close()
    return [dict(r) for r in results]


def _progress(enabled: bool, total: int) -> Any:
    if not enabled:
        return None
    from mlp.live import progress_bar as tqdm

    return tqdm(total=total, desc="sweep", unit="point")


def _rows(sweep: Sweep, folder: Path) -> list[dict[str, Any]]:
    from mlp.runs import RunError, RunRecord

    rows = []
    for config, point in zip(sweep.configs, _unique_points(sweep), strict=True):
        row: dict[str, Any] = {"point": config.name, **{k: point[k] for k in sweep.swept}}
        try:
            record = RunRecord.load(folder / str(config.name))  # a point's name is set
        except RunError:
            rows.append({**row, "status": "not run"})
            continue
        figures = record.figures()
        final, best = figures.get("final", {}), figures.get("best", {})
        row.update(
            status="finished" if record.finished else "unfinished",
            final_acc_valid=final.get("acc(valid)"),
            best_acc_valid=(best.get("acc(valid)") or {}).get("value"),
            final_error_valid=final.get("error(valid)"),
            final_error_train=final.get("error(train)"),
            seconds_per_epoch=figures.get("seconds_per_epoch"),
        )
        rows.append(row)
    return rows


def _unique_points(sweep: Sweep) -> list[dict[str, Any]]:
    seen, unique = set(), []
    for point in sweep.points:
        name = sweep.point_name(point)
        if name not in seen:
            seen.add(name)
            unique.append(point)
    return unique


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, (list, tuple)):
        return "x".join(map(str, value)) or "none"
    return str(value)


def summarise_sweep(sweep: Sweep, folder: str | os.PathLike[str]) -> Path:
    """Write summary.md, summary.csv, summary.json and summary.png into the sweep's folder.

    Returns:
        The path of summary.md.
    """
    from mlp.runs import atomic_write_bytes, atomic_write_text

    _check_sweep(sweep, "summarise_sweep")
    folder = Path(_checks.path(folder, "folder", "summarise_sweep"))
    rows = _rows(sweep, folder)
    columns = [
        "point",
        *sweep.swept,
        "status",
        "final_acc_valid",
        "best_acc_valid",
        "final_error_valid",
        "final_error_train",
        "seconds_per_epoch",
    ]
    lines = [
        f"# Sweep {sweep.name}",
        "",
        f"{len(rows)} points; base config: `{json.dumps(sweep.base)}`",
        "",
        "| " + " | ".join(columns[1:]) + " |",
        "|" + " --- |" * (len(columns) - 1),
    ]
    ranked = sorted(rows, key=lambda r: -(r.get("final_acc_valid") or -1))
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns[1:]) + " |" for r in ranked]
    lines += ["", "![final validation accuracy against each swept key](summary.png)", ""]
    atomic_write_text(folder / "summary.md", "\n".join(lines))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: _cell(row.get(c)) if c in sweep.swept else row.get(c) for c in columns})
    atomic_write_text(folder / "summary.csv", buffer.getvalue())
    atomic_write_text(folder / "summary.json", json.dumps(rows, indent=2, default=_cell))
    atomic_write_bytes(folder / "summary.png", _plot(sweep, rows))
    return folder / "summary.md"


def _plot(sweep: Sweep, rows: list[dict[str, Any]]) -> bytes:
    """Final validation accuracy against each swept key; with two swept keys, one line
    per value of the other key."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    keys = sweep.swept
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 4), squeeze=False)
    done = [r for r in rows if r.get("final_acc_valid") is not None]
    for ax, key in zip(axes[0], keys, strict=True):
        values = []
        for r in done:
            label = _cell(r[key])
            if label not in values:
                values.append(label)
        numeric = all(
            isinstance(r[key], (int, float)) and not isinstance(r[key], bool) for r in done
        )
        others = [k for k in keys if k != key]
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in done:
            group = ", ".join(f"{k}={_cell(r[k])}" for k in others) if len(others) == 1 else ""
            groups.setdefault(group, []).append(r)
        for group, members in groups.items():
            members = sorted(
                members, key=lambda r: r[key] if numeric else values.index(_cell(r[key]))
            )
            xs = [r[key] if numeric else values.index(_cell(r[key])) for r in members]
            ys = [r["final_acc_valid"] for r in members]
            style = "o-" if group else "o"
            ax.plot(xs, ys, style, label=group or None, alpha=0.8)
        if numeric and len({r[key] for r in done}) > 2 and min(r[key] for r in done) > 0:
            spread = max(r[key] for r in done) / min(r[key] for r in done)
            if spread > 50:
                ax.set_xscale("log")
        if not numeric:
            ax.set_xticks(range(len(values)), values, rotation=30, ha="right")
        ax.set_xlabel(key)
        ax.set_ylabel("final accuracy (valid)")
        ax.grid(alpha=0.3)
        if any(groups):
            ax.legend(fontsize="small")
    fig.suptitle(f"sweep {sweep.name}")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    plt.close(fig)
    return buffer.getvalue()


# --- command line -------------------------------------------------------------------------


def add_parser(commands: Any) -> None:
    """Add the `sweep` subcommand to the `mlp` command's subparsers."""
    parser = commands.add_parser(
        "sweep",
        help="run a grid or random search of experiments from a TOML file",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("config", help="the sweep's TOML file (see `mlp.sweep`)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (-1: one per core)")
    parser.add_argument(
        "--scheduler", help="address of a Dask distributed scheduler to run the points on"
    )
    parser.add_argument(
        "--runs-dir", help="parent folder of the sweep (default: the file's, else runs)"
    )
    parser.add_argument("--dry-run", action="store_true", help="list the points and exit")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def command(args: Any) -> int:
    """Run `mlp sweep` from parsed arguments; returns the exit status."""
    from mlp.runs import RunError

    if args.jobs == 0 or args.jobs < -1:
        print("mlp sweep: --jobs must be a positive integer or -1", file=sys.stderr)
        return 2
    try:
        sweep = load_sweep(args.config)
    except SweepError as error:
        print(f"mlp sweep: {error}", file=sys.stderr)
        return 2
    folder = Path(args.runs_dir or sweep.runs_dir) / sweep.name
    # Every point's statistics go to its run record; per-epoch log lines would only bury
    # the progress bar.
    logging.getLogger("mlp.optimisers").setLevel(logging.WARNING)
    if args.dry_run:
        from mlp.runs import is_finished

        for config in sweep.configs:
            point = sweep.point_folder(folder, config)
            state = "finished" if is_finished(point) else "to run"
            print(f"{point.name}  ({state})")
        print(f"{len(sweep.configs)} points in {folder}")
        return 0
    try:
        result = run_sweep(
            sweep,
            args.runs_dir,
            jobs=args.jobs,
            scheduler=args.scheduler,
            progress=not args.no_progress,
        )
    except SweepError as error:
        print(f"mlp sweep: {error}", file=sys.stderr)
        return 2
    except RunError as error:  # a point's record that cannot be resumed (damaged, say)
        print(f"mlp sweep: error: {error}", file=sys.stderr)
        return 2
    print(
        f"sweep {sweep.name}: ran {len(result['ran'])} points, skipped {len(result['skipped'])} "
        f"finished ones, in {result['seconds']:.1f}s"
    )
    print(Path(result["summary"]).read_text())
    return 0
