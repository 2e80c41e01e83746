"""A competing CPU-bound process, to time training on a busy machine.

`Competitor()` starts one process that spins in a pure-Python loop, as a second
notebook, a browser tab or a lab worker would, and counts its iterations in shared
memory, so that the benchmark can say how much work it got done while each framework
trained beside it (a framework that is fast only by starving it has not won):

    with Competitor() as rival:
        before = rival.count()
        epoch()
        done = rival.count() - before

`rate()` is its iterations per second over a second; measured before any training
starts, it is the rate the shares are relative to. On a machine with more than two cores the busy
processes are `cores - 1`, so that one core is left for whichever framework runs: the
same pressure as one busy process on two cores (documented in benchmarks/run.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time

_COUNT_EVERY = 20_000


def _spin(counter) -> None:  # pragma: no cover - runs in the child process
    n = 0
    while True:
        for _ in range(_COUNT_EVERY):
            n += 1
        counter.value += _COUNT_EVERY


def competitors_for(cores: int | None) -> int:
    """Busy processes for a machine of `cores` cores: one on two cores, cores - 1 beyond."""
    return max(1, (cores or 2) - 1)


class Competitor:
    """`processes` spinning processes for the duration of a `with` block."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or competitors_for(os.cpu_count())
        context = mp.get_context("spawn")
        self._counters = [context.Value("q", 0, lock=False) for _ in range(self.processes)]
        self._procs = [
            context.Process(target=_spin, args=(c,), daemon=True) for c in self._counters
        ]

    def __enter__(self) -> Competitor:
        for proc in self._procs:
            proc.start()
        deadline = time.monotonic() + 30
        while self.count() == 0 and time.monotonic() < deadline:  # started and spinning
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        for proc in self._procs:
            proc.kill()
        for proc in self._procs:
            proc.join()

    def count(self) -> int:
        """Iterations done so far, all processes together."""
        return sum(int(c.value) for c in self._counters)

    def rate(self, seconds: float = 1.0) -> float:
        """Iterations per second over the next `seconds`, with whatever else runs now."""
        before, start = self.count(), time.perf_counter()
        time.sleep(seconds)
        return (self.count() - before) / (time.perf_counter() - start)
