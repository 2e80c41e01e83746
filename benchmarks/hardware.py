"""What the machine can do: sgemm peak, memory bandwidth, BLAS in use, peak memory."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def blas_info() -> list[dict[str, object]]:
    """The BLAS libraries NumPy loaded, with their kernel (architecture) and threads."""
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "num_threads", "filepath")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def _best_time(fn, repeats: int) -> float:
    fn()  # warm-up: page faults, thread start-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def sgemm_peak(n: int = 2048, repeats: int = 5) -> float:
    """float32 matrix-product throughput in FLOP/s, from an n x n x n product."""
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    seconds = _best_time(lambda: np.matmul(a, b, out=out), repeats)
    return 2.0 * n**3 / seconds


def memory_bandwidth(megabytes: int = 512, repeats: int = 5) -> float:
    """Bytes per second of a large copy, counting both the read and the write."""
    src = np.ones(megabytes * 2**20 // 8, dtype=np.float64)
    dst = np.empty_like(src)
    seconds = _best_time(lambda: np.copyto(dst, src), repeats)
    return 2.0 * src.nbytes / seconds


_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def reset_peak_memory() -> bool:
    """Reset the process's peak resident set size (Linux); False where unsupported."""
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def peak_memory() -> int | None:
    """Peak resident set size in bytes since the last reset (Linux VmHWM), or None."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
