"""Running lab tasks: one at a time (`run_task`), or longest first in worker processes."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from mlp.config import ConfigError
from mlp.lab.pytorch_task import _run_pytorch_task
from mlp.lab.tasks import LabTask
from mlp.lab.threads import _limit_threads, _single_threaded_children
from mlp.runs import RunError, RunRecord, is_finished

logger = logging.getLogger(__name__)


def _worker_init(threads: int) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers, whose runs resume later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _limit_threads(threads)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)


def run_task(task: LabTask, runs_dir: str | os.PathLike[str], threads: int | None = None) -> dict:
    """Run one lab task, leaving its run record in `runs_dir`; returns a short summary.

    A finished record is kept as it is; an unfinished one is resumed.
    """
    if threads is not None:
        _limit_threads(threads)
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
        record = _run_pytorch_task(task, path, threads)
    if not record.finished:  # training was interrupted; its record resumes next time
        raise KeyboardInterrupt
    figures = record.figures()
    return {
        "name": task.name,
        "finished": record.finished,
        "seconds": time.perf_counter() - start,
        "acc(valid)": figures["final"].get("acc(valid)"),
    }


def _run_tasks(tasks: Sequence[LabTask], runs_dir: Path, jobs: int) -> dict[str, dict]:
    """Run the tasks, longest first, in `jobs` worker processes (or here when jobs == 1)."""
    ordered = sorted(tasks, key=lambda t: -t.cost)
    results: dict[str, dict] = {}
    total = len(ordered)

    def report(result: dict) -> None:
        results[result["name"]] = result
        acc = result.get("acc(valid)")
        acc_text = f"acc(valid) {acc:.4f}" if isinstance(acc, float) else ""
        print(
            f"[{len(results)}/{total}] {result['name']}: {result['seconds']:.1f}s {acc_text}",
            file=sys.stderr,
            flush=True,
        )

    if jobs <= 1:
        for task in ordered:
            result = _safe_run(task, runs_dir, None)
            report(result)
            if result.get("interrupted"):  # Ctrl-C stops the lab, not just this task
                raise KeyboardInterrupt
        return results
    context = multiprocessing.get_context("spawn")
    with _single_threaded_children():
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=jobs, mp_context=context, initializer=_worker_init, initargs=(1,)
        )
        futures = [executor.submit(_safe_run, task, runs_dir, 1) for task in ordered]
    try:
        for future in concurrent.futures.as_completed(futures):
            report(future.result())
    except BaseException:
        # Stop the workers at once; each run keeps its latest checkpoint.
        for process in list(getattr(executor, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)
    return results


def _safe_run(task: LabTask, runs_dir: Path, threads: int | None) -> dict:
    """`run_task`, with a failure reported as a result instead of ending the lab."""
    start = time.perf_counter()
    try:
        return run_task(task, runs_dir, threads)
    except KeyboardInterrupt:
        return {
            "name": task.name,
            "finished": False,
            "interrupted": True,
            "seconds": time.perf_counter() - start,
        }
    except (RunError, ConfigError) as error:
        logger.error("%s failed: %s", task.name, error)
        return {
            "name": task.name,
            "finished": False,
            "seconds": time.perf_counter() - start,
            "error": f"{error} (run `mlp lab --fresh` to start the lab again)",
        }
    except Exception as error:  # the report says which experiment failed and why
        logger.exception("%s failed", task.name)
        return {
            "name": task.name,
            "finished": False,
            "seconds": time.perf_counter() - start,
            "error": f"{type(error).__name__}: {error}",
        }
