"""One way to run independent jobs at once: the lab's experiments and a sweep's points.

    from mlp.parallel import run_jobs
    results = run_jobs(function, items, jobs=2, on_result=print)

`function(item)` runs once per item and returns a dict; the results come back in the
order they finish. The same rules hold for every caller:

- **Where.** `jobs=1` runs the items here, one after another, with the BLAS's threads
  left as they are. `jobs=N > 1` runs them in N worker processes (fresh interpreters,
  started with 'spawn'). `scheduler='tcp://host:8786'` runs them on that Dask cluster
  (`distributed`), whose workers keep their own thread settings.
- **BLAS threads.** Each of N local workers gets `blas_threads(N)` = cores // N BLAS
  (and OpenMP, torch and `mlp.threads`) threads, at least one, so N busy workers do not fight over the
  cores; N stays what was asked even when fewer items are left, so a restarted sweep
  runs with the same thread count. A matrix product split over another number of
  threads adds in another order, so a job's numbers equal those of the same job run
  alone under `limit_blas_threads(blas_threads(N))`, bit for bit, and differ from a run
  with the BLAS's own thread count by float rounding only.
- **Interrupts.** Ctrl-C here (or SIGTERM, which `mlp`'s command line turns into
  KeyboardInterrupt), or a job whose result says `interrupted: True` (its training
  caught Ctrl-C), stops everything: jobs not started are cancelled, running workers are
  terminated, and KeyboardInterrupt is raised (the command line exits with status 130).
  The results that arrived before were passed to `on_result`; the run records their jobs
  wrote are kept, and an unfinished one resumes from its latest checkpoint next time.
  Workers ignore SIGINT themselves: a terminal sends Ctrl-C to every process, and the
  decision belongs to this one.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from mlp import _checks
from mlp.threads import set_num_threads

__all__ = [
    "BLAS_THREAD_VARIABLES",
    "blas_thread_environment",
    "blas_threads",
    "limit_blas_threads",
    "run_jobs",
    "worker_count",
]

Item = TypeVar("Item")
Result = Mapping[str, Any]

BLAS_THREAD_VARIABLES = (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MLP_NUM_THREADS",  # the training step's own threads (mlp.threads)
)
"""Environment variables that set the thread count of a BLAS (or OpenMP, which torch
uses) when it loads."""


def worker_count(jobs: int) -> int:
    """The number of workers `jobs` asks for: itself, or one per core for -1.

    Raises:
        ValueError: for 0, or a negative number other than -1.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs == 0 or jobs < -1:
        raise ValueError(f"jobs must be a positive integer or -1 (one per core), got {jobs!r}")
    return (os.cpu_count() or 1) if jobs == -1 else jobs


def blas_threads(workers: int, cores: int | None = None) -> int:
    """BLAS threads for each of `workers` processes sharing `cores` (default all of this
    machine's): cores // workers, at least 1.

    Raises:
        TypeError, ValueError: unless `workers` (and `cores`, when given) is a positive
            integer.
    """
    workers = _checks.count(workers, "workers", "blas_threads", 1)
    if cores is not None:
        cores = _checks.count(cores, "cores", "blas_threads", 1)
    cores = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, cores // workers)


def limit_blas_threads(threads: int) -> None:
    """Limit the BLAS (through threadpoolctl, when installed), the training step's own
    threads (`mlp.threads`) and torch (when imported) to `threads` threads in this
    process, from now on (a positive integer)."""
    threads = _checks.count(threads, "threads", "limit_blas_threads", 1)
    set_num_threads(threads)
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


@contextlib.contextmanager
def blas_thread_environment(threads: int) -> Iterator[None]:
    """Inside the block, processes started (and libraries loaded) use `threads` BLAS and
    OpenMP threads: `BLAS_THREAD_VARIABLES` are set, and restored afterwards.
    `threads` is a positive integer."""
    threads = _checks.count(threads, "threads", "blas_thread_environment", 1)
    saved = {name: os.environ.get(name) for name in BLAS_THREAD_VARIABLES}
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, str(threads)))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_jobs(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    on_result: Callable[[Result], None] | None = None,
) -> list[Result]:
    """Run `function(item)` for every item, by the rules in the module docstring.

    Args:
        function: a module-level function (worker processes import it by name) taking
            one item and returning a dict; `{'interrupted': True, ...}` says that the job
            was interrupted and stops the others.
        items: what to run, in the order to start them (picklable for jobs > 1).
        jobs: worker processes; 1 runs here, -1 one per core.
        scheduler: the address of a Dask distributed scheduler to run the jobs on.
        on_result: called with each result as it arrives (progress, printing).
    Returns:
        The results, in the order they finished.
    Raises:
        KeyboardInterrupt: on Ctrl-C or SIGTERM, or when a job was interrupted.
        ValueError: for a bad `jobs`.
        TypeError: when `function` (or `on_result`) is not callable, or `items` is not a
            sequence.
        Whatever a job raised, after stopping the others.
    """
    _check_job_arguments(function, items, on_result)
    workers = worker_count(jobs)
    results: list[Result] = []

    def collect(result: Result) -> None:
        if result.get("interrupted"):
            raise KeyboardInterrupt
        results.append(result)
        if on_result is not None:
            on_result(result)

    if not items:
        return results
    if scheduler is not None:
        _run_on_dask(function, items, scheduler, collect)
    elif workers == 1:
        for item in items:
            collect(function(item))
    else:
        _run_in_processes(function, items, workers, collect)
    return results


def _check_job_arguments(function: Any, items: Any, on_result: Any) -> None:
    if not callable(function):
        raise TypeError(f"run_jobs: function must be callable, got {function!r}")
    if not isinstance(items, Sequence):
        raise TypeError(
            f"run_jobs: items must be a sequence (a list or tuple), got {type(items).__name__}"
        )
    if on_result is not None and not callable(on_result):
        raise TypeError(f"run_jobs: on_result must be callable or None, got {on_result!r}")


def _initialise_worker(threads: int) -> None:
    # Ctrl-C is the parent's to handle: it stops the workers, whose runs resume later.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Set here too, for libraries the jobs load later (torch reads OMP_NUM_THREADS).
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARIABLES, str(threads)))
    limit_blas_threads(threads)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)


def _run_in_processes(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    collect: Callable[[Result], None],
) -> None:
    threads = blas_threads(workers)
    already = set(multiprocessing.active_children())
    context = multiprocessing.get_context("spawn")
    # The workers start inside the block (at submit), so their BLAS loads with `threads`.
    with blas_thread_environment(threads):
        executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_initialise_worker,
            initargs=(threads,),
        )
        futures = [executor.submit(function, item) for item in items]
    try:
        _collect_all(futures, collect)
    except BaseException:
        # Stop at once: cancel what has not started, end the running workers.
        for future in futures:
            future.cancel()
        _terminate_workers(executor, already)
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def _terminate_workers(executor: ProcessPoolExecutor, already: set[Any]) -> None:
    """End the executor's worker processes now, through public interfaces only."""
    terminate = getattr(executor, "terminate_workers", None)  # Python 3.14 and later
    if terminate is not None:
        terminate()
        return
    # Before 3.14: the executor's workers are the child processes started since.
    for process in set(multiprocessing.active_children()) - already:
        with contextlib.suppress(Exception):  # best effort: a worker may have exited already
            process.terminate()


def _collect_all(futures: Iterable[Future[Result]], collect: Callable[[Result], None]) -> None:
    for future in as_completed(list(futures)):
        collect(future.result())


def _run_on_dask(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    scheduler: str,
    collect: Callable[[Result], None],
) -> None:
    from distributed import Client
    from distributed import as_completed as dask_completed

    # distributed's Client and as_completed are not annotated.
    connect: Callable[[str], Any] = Client
    completed: Callable[[list[Any]], Iterable[Any]] = dask_completed
    with connect(scheduler) as client:
        # pure=False: two equal items are two jobs, never one cached result.
        futures = [client.submit(function, item, pure=False) for item in items]
        try:
            for future in completed(futures):
                collect(future.result())
        except BaseException:
            client.cancel(futures)
            raise
