"""How the training step uses the cores: the thread policy for its matrix products.

The policy, and why (figures from this project's 2-core machine, OpenBLAS 0.3.31):

- A multi-threaded BLAS call ends only when its slowest thread ends. When another
  process competes for the cores, one of the BLAS threads is often descheduled for a
  scheduler time slice (milliseconds) while the others spin, waiting for it: with one
  busy process beside it, a 2-thread OpenBLAS training epoch ran 3-7x slower (W3
  0.28 -> 1.82 s, W4 3.3 -> 11.5 s), a 1-thread one 1.05x slower.
- So inside the training step BLAS runs on one thread, and the step itself spreads the
  products large enough to pay for it (at least `SPLIT_FLOPS`) over `num_threads()`
  threads: each product is cut into `CHUNKS` blocks of output columns, which the calling
  thread and the helpers take one at a time. A thread that is descheduled holds up one
  block, not the product, and waiting threads sleep instead of spinning. A 256x1024 by
  1024x1024 product took 3.4 ms in 2-thread OpenBLAS and 3.2-3.4 ms split so on an idle
  machine; beside a busy process 10.5 ms and 7.1 ms.
- Smaller products run whole on the calling thread: handing a block to a Python thread
  costs tens of microseconds, as much as a 784x100 layer's product on a batch of 128
  takes on one core.
- The cut depends only on the product's shape, never on the number of threads or on
  the load, and a block is computed alike whichever thread takes it: the same seed gives
  the same numbers on 1 core or 16, on a busy machine or an idle one. (Splitting the
  summed dimension would not: it changes the order of a sum.)

`num_threads()` is `MLP_NUM_THREADS` where set, else the cores this process may run on;
`set_num_threads(n)` overrides both (`mlp.threads` is the public face).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np

__all__ = [
    "CHUNKS",
    "SPLIT_FLOPS",
    "matmul",
    "num_threads",
    "one_blas_thread",
    "set_num_threads",
]

SPLIT_FLOPS = 50e6
"""Products of at least this many floating-point operations (2 m k n) are split over
threads; below it one core does a product in about half a millisecond or less."""

CHUNKS = 4
"""Blocks of output columns per split product: enough that a descheduled thread holds
up a quarter of the product, few enough that each block stays an efficient BLAS call."""

_ENV = "MLP_NUM_THREADS"
_chosen: int | None = None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def num_threads() -> int:
    """Threads the training step's matrix products use: `set_num_threads`'s choice, else
    `MLP_NUM_THREADS`, else the number of cores this process may run on."""
    if _chosen is not None:
        return _chosen
    value = os.environ.get(_ENV, "").strip()
    if not value:
        return _cores()
    try:
        count = int(value)
    except ValueError:
        count = 0
    if count < 1:
        raise ValueError(f"{_ENV}={value!r}: set it to a whole number of threads >= 1, or unset it")
    return count


def set_num_threads(count: int | None) -> None:
    """Use `count` threads for the training step's products (None: back to the default).

    Raises:
        TypeError, ValueError: for a count that is not a whole number >= 1.
    """
    global _chosen
    if count is not None:
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)):
            raise TypeError(f"set_num_threads: count must be an int >= 1 or None, got {count!r}")
        if count < 1:
            raise ValueError(f"set_num_threads: count must be >= 1, got {count}")
        count = int(count)
    _chosen = count


# --- one BLAS thread inside the step ------------------------------------------------------

_blas: list | None = None  # the BLAS libraries' threadpoolctl controllers, found once


def _blas_controllers() -> list:
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # nothing to control: BLAS keeps its own threads
            _blas = []
        else:
            _blas = list(ThreadpoolController().select(user_api="blas").lib_controllers)
    return _blas


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS runs single-threaded inside this block, as it was afterwards (this process)."""
    libs = _blas_controllers()
    before = [lib.num_threads for lib in libs]
    for lib, count in zip(libs, before, strict=True):
        if count != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, count in zip(libs, before, strict=True):
            if count != 1:
                lib.set_num_threads(count)


# --- the products -------------------------------------------------------------------------


def _column_blocks(columns: int) -> list[slice]:
    width = -(-columns // CHUNKS)
    return [slice(start, min(start + width, columns)) for start in range(0, columns, width)]


def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> np.ndarray:
    """out (m, n) = a (m, k) @ b (k, n): whole, or split by columns over the threads.

    Call it with BLAS single-threaded (`one_blas_thread`). The split depends only on
    the shapes, so the numbers do not depend on the number of threads.
    """
    m, k = a.shape
    n = b.shape[1]
    if 2.0 * m * k * n < SPLIT_FLOPS or n < CHUNKS:
        return np.matmul(a, b, out=out)
    blocks = _column_blocks(n)

    def block(part: slice) -> None:
        np.matmul(a, b[:, part], out=out[:, part])

    _pool(num_threads()).run(block, blocks)
    return out


class _Pool:
    """The calling thread and `helpers` sleeping threads, taking tasks one at a time."""

    def __init__(self, helpers: int) -> None:
        self.helpers = helpers
        self._lock = threading.Lock()
        self._wake = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._job: tuple[Callable, list] | None = None
        self._next = 0
        self._errors: list[BaseException] = []
        self._closed = False
        for _ in range(helpers):
            threading.Thread(target=self._serve, daemon=True, name="mlp-matmul").start()

    def _serve(self) -> None:
        while True:
            self._wake.acquire()
            if self._closed:
                return
            self._work()
            self._done.release()

    def _work(self) -> None:
        assert self._job is not None
        fn, tasks = self._job
        while True:
            with self._lock:
                i = self._next
                self._next += 1
            if i >= len(tasks):
                return
            try:
                fn(tasks[i])
            except BaseException as error:  # handed to the caller, which raises it
                self._errors.append(error)

    def run(self, fn: Callable, tasks: list) -> None:
        """fn(task) for every task, the helpers and the caller sharing them; returns when
        all are done and raises the first error any of them raised."""
        helpers = min(self.helpers, len(tasks) - 1)
        self._job, self._next, self._errors = (fn, tasks), 0, []
        for _ in range(helpers):
            self._wake.release()
        self._work()
        for _ in range(helpers):
            self._done.acquire()
        self._job = None
        if self._errors:
            raise self._errors[0]

    def close(self) -> None:
        """Let the helper threads end."""
        self._closed = True
        for _ in range(self.helpers):
            self._wake.release()


_pools: dict[tuple[int, int], _Pool] = {}


def _pool(threads: int) -> _Pool:
    """The pool of `threads` threads (the caller and threads - 1 helpers) of this process
    and thread; a forked child or another calling thread gets a pool of its own."""
    key = (os.getpid(), threading.get_ident())
    pool = _pools.get(key)
    if pool is None or pool.helpers != threads - 1:
        if pool is not None:
            pool.close()
        pool = _pools[key] = _Pool(threads - 1)
    return pool
