"""BLAS thread limits, in this process and in the worker processes it starts."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def _limit_threads(threads: int) -> None:
    """Limit BLAS (and torch) to `threads` threads in this process."""
    with contextlib.suppress(ImportError):
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


@contextlib.contextmanager
def _single_threaded_children() -> Iterator[None]:
    """Make processes started inside the block use one BLAS/OpenMP thread."""
    names = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update(dict.fromkeys(names, "1"))
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
