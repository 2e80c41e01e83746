"""`mlp.parallel`, the one runner of the lab and the sweeps: where jobs run, with how
many BLAS threads, and how an interrupt stops them all."""

from __future__ import annotations

import multiprocessing
import os
import time

import pytest

from mlp import parallel


def report_threads(item: int) -> dict:
    """A job: where it ran and with how many BLAS threads (module level, so that worker
    processes can import it)."""
    from threadpoolctl import threadpool_info

    blas = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
    return {
        "name": str(item),
        "pid": os.getpid(),
        "variable": os.environ.get("OPENBLAS_NUM_THREADS"),
        "blas": blas,
    }


def sleep_or_stop(item: int) -> dict:
    """A job: item 0 says its training was interrupted, the others take a minute."""
    if item == 0:
        return {"name": "0", "interrupted": True}
    time.sleep(60)
    return {"name": str(item)}


def test_the_thread_policy_shares_the_cores():
    assert parallel.blas_threads(2, cores=2) == 1
    assert parallel.blas_threads(2, cores=16) == 8
    assert parallel.blas_threads(3, cores=16) == 5
    assert parallel.blas_threads(4, cores=2) == 1  # at least one
    assert parallel.worker_count(-1) == (os.cpu_count() or 1)
    assert parallel.worker_count(3) == 3
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="jobs must be a positive integer or -1"):
            parallel.worker_count(bad)


def test_the_thread_environment_is_restored():
    before = {name: os.environ.get(name) for name in parallel.BLAS_THREAD_VARIABLES}
    with parallel.blas_thread_environment(3):
        assert all(os.environ[name] == "3" for name in parallel.BLAS_THREAD_VARIABLES)
    assert {name: os.environ.get(name) for name in parallel.BLAS_THREAD_VARIABLES} == before


def test_one_job_runs_here_in_order_and_an_interrupt_stops_the_rest():
    seen = []
    results = parallel.run_jobs(report_threads, [1, 2, 3], jobs=1, on_result=seen.append)
    assert [r["name"] for r in results] == ["1", "2", "3"] and seen == results
    assert {r["pid"] for r in results} == {os.getpid()}

    calls = []

    def job(item: int) -> dict:
        calls.append(item)
        return {"name": str(item), "interrupted": item == 2}

    with pytest.raises(KeyboardInterrupt):
        parallel.run_jobs(job, [1, 2, 3], jobs=1)
    assert calls == [1, 2]  # the third never started


def test_workers_get_cores_over_jobs_blas_threads():
    results = parallel.run_jobs(report_threads, [1, 2, 3, 4], jobs=2)
    assert sorted(r["name"] for r in results) == ["1", "2", "3", "4"]
    assert os.getpid() not in {r["pid"] for r in results}
    threads = parallel.blas_threads(2)
    for result in results:
        assert result["variable"] == str(threads)
        assert all(count == threads for count in result["blas"])


def test_an_interrupted_job_stops_the_running_workers_at_once():
    before = set(multiprocessing.active_children())
    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        parallel.run_jobs(sleep_or_stop, [1, 0, 2, 3], jobs=2)
    assert time.perf_counter() - start < 30  # not the minute the others would take
    assert set(multiprocessing.active_children()) <= before  # no worker left behind


def test_ctrl_c_while_waiting_stops_the_workers_and_keeps_what_arrived():
    arrived = []

    def on_result(result: dict) -> None:
        arrived.append(result["name"])
        raise KeyboardInterrupt  # as Ctrl-C (or SIGTERM through the CLI) would

    start = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        parallel.run_jobs(report_threads_then_sleep, [1, 2], jobs=2, on_result=on_result)
    assert arrived == ["1"] and time.perf_counter() - start < 30


def report_threads_then_sleep(item: int) -> dict:
    """A job: item 1 ends at once, the others take a minute."""
    if item != 1:
        time.sleep(60)
    return {"name": str(item)}
