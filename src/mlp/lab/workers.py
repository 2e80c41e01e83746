"""Running lab tasks: one (`run_task`), or all of them longest first (`run_tasks`)
through `mlp.parallel`, which the sweeps use too."""

from __future__ import annotations

import functools
import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlp import _checks
from mlp.config import ConfigError
from mlp.lab.pytorch_task import run_pytorch_task
from mlp.lab.tasks import LabTask
from mlp.parallel import limit_blas_threads, run_jobs, worker_count
from mlp.runs import RunError, RunRecord, is_finished

__all__ = ["TaskResult", "run_task", "run_task_safely", "run_tasks"]

logger = logging.getLogger(__name__)

TaskResult = dict[str, Any]
"""What running a task gives: 'name', 'finished', 'seconds', and 'acc(valid)' when it
finished, 'error' when it failed, 'interrupted' when Ctrl-C stopped it."""


def run_task(
    task: LabTask, runs_dir: str | os.PathLike[str], threads: int | None = None
) -> TaskResult:
    """Run one lab task, leaving its run record in `runs_dir`; returns a short summary.

    A finished record is kept as it is; an unfinished one is resumed.

    Args:
        threads: limit the BLAS (and torch) of this process to this many threads first
            (see `mlp.parallel.limit_blas_threads`); None leaves them as they are.
    Raises:
        KeyboardInterrupt: when training was interrupted (its record resumes next time).
    """
    if threads is not None:
        limit_blas_threads(threads)
    runs_dir = Path(runs_dir)
    start = time.perf_counter()
    path = runs_dir / task.name
    if task.kind == "config":
        from mlp.runs import run_experiment

        assert task.config is not None
        record = run_experiment(task.config, runs_dir, name=task.name, if_exists="resume")
    elif is_finished(path):
        record = RunRecord.load(path)
    else:
        record = run_pytorch_task(task, path, threads)
    if not record.finished:  # training was interrupted; its record resumes next time
        raise KeyboardInterrupt
    return {
        "name": task.name,
        "finished": record.finished,
        "seconds": time.perf_counter() - start,
        "acc(valid)": record.figures()["final"].get("acc(valid)"),
    }


def run_task_safely(task: LabTask, runs_dir: str | os.PathLike[str]) -> TaskResult:
    """`run_task`, with a failure reported as a result instead of ending the lab, and an
    interrupt as a result with 'interrupted' (which stops `mlp.parallel.run_jobs`)."""
    start = time.perf_counter()
    failed: TaskResult = {"name": task.name, "finished": False}
    try:
        return run_task(task, runs_dir)
    except KeyboardInterrupt:
        return {**failed, "interrupted": True, "seconds": time.perf_counter() - start}
    except (RunError, ConfigError) as error:
        logger.error("%s failed: %s", task.name, error)
        message = f"{error} (run `mlp lab --fresh` to start the lab again)"
    except Exception as error:  # the report says which experiment failed and why
        logger.exception("%s failed", task.name)
        message = f"{type(error).__name__}: {error}"
    return {**failed, "seconds": time.perf_counter() - start, "error": message}


def run_tasks(tasks: Sequence[LabTask], runs_dir: Path, jobs: int) -> dict[str, TaskResult]:
    """Run the tasks, longest first, in `jobs` worker processes (here when jobs == 1),
    printing a line as each ends; returns name -> result.

    Raises:
        KeyboardInterrupt: on Ctrl-C or SIGTERM, or when a task was interrupted; the
            finished tasks' records are kept (see `mlp.parallel`).
        TypeError, ValueError: for tasks that are not `LabTask`s, a `runs_dir` that is
            not a path, or a bad `jobs`.
    """
    _checks.items(tasks, "tasks", "run_tasks", LabTask)
    _checks.os_path(runs_dir, "runs_dir", "run_tasks")
    worker_count(jobs)
    ordered = sorted(tasks, key=lambda t: -t.cost)
    results: dict[str, TaskResult] = {}

    def report(result: Mapping[str, Any]) -> None:
        results[result["name"]] = dict(result)
        acc = result.get("acc(valid)")
        acc_text = f"acc(valid) {acc:.4f}" if isinstance(acc, float) else ""
        print(
            f"[{len(results)}/{len(ordered)}] {result['name']}: {result['seconds']:.1f}s {acc_text}",
            file=sys.stderr,
            flush=True,
        )

    run_jobs(
        functools.partial(run_task_safely, runs_dir=runs_dir),
        ordered,
        jobs=jobs,
        on_result=report,
    )
    return results
