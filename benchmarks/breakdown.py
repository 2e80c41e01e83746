"""Where an mlp training epoch's time goes: matrix products, elementwise work, the
learning rule's update, gathering batches, and the rest (Python between the calls).

`breakdown(optimiser)` runs one epoch with a timer around each of the fast path's
calls of each kind (`mlp._fast`: `threads.matmul`; the activations, their derivatives,
the error gradient and the bias terms of `dense`; `FastUpdater`; the data provider's
`__next__`) and gives seconds per kind; "other" is the epoch's time less their sum.
A timer costs about a microsecond a call, far below the calls it times.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

KINDS = ("products", "elementwise", "update", "data", "other")


def _timed(fn: Callable, totals: dict[str, float], kind: str) -> Callable:
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[kind] += time.perf_counter() - start

    return wrapper


@contextmanager
def _patched(targets: list[tuple[object, str, str]], totals: dict[str, float]) -> Iterator[None]:
    saved = [(owner, name, owner.__dict__[name]) for owner, name, _ in targets]
    try:
        for owner, name, kind in targets:
            original = owner.__dict__[name]
            if isinstance(original, staticmethod):
                setattr(owner, name, staticmethod(_timed(original.__func__, totals, kind)))
            else:
                setattr(owner, name, _timed(original, totals, kind))
        yield
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def breakdown(optimiser) -> dict[str, float]:
    """Seconds of one training epoch of `optimiser` by kind of work (`KINDS`)."""
    from mlp._fast import dense, threads, updates

    totals = dict.fromkeys(KINDS, 0.0)
    provider_class = type(optimiser.train_dataset)
    targets = [
        (threads, "matmul", "products"),
        (dense, "_activate", "elementwise"),
        (dense, "_derivative", "elementwise"),
        (dense, "_add_bias", "elementwise"),
        (dense, "_bias_grads", "elementwise"),
        (dense.DensePasses, "_error_grad", "elementwise"),
        (updates.FastUpdater, "__call__", "update"),
    ]
    # The provider's own __next__ (it may be inherited: patch it where the class sees it).
    owner = next(c for c in provider_class.__mro__ if "__next__" in c.__dict__)
    targets.append((owner, "__next__", "data"))
    with _patched(targets, totals):
        start = time.perf_counter()
        optimiser.do_training_epoch()
        total = time.perf_counter() - start
    totals["other"] = max(total - sum(totals[k] for k in KINDS if k != "other"), 0.0)
    totals["total"] = total
    return totals
