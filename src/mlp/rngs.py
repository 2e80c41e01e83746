"""One place that turns an `rng` argument into a random generator.

Every random choice in mlp (initial weights, shuffling, dropout masks) takes an `rng`.
Either NumPy interface is accepted: the legacy `np.random.RandomState` the course uses
(so `rng.seed(seed)` re-seeds everything that shares it) or a `np.random.Generator`.
"""

from __future__ import annotations

from typing import Union

import numpy as np

RandomState = Union[np.random.RandomState, np.random.Generator]  # noqa: UP007 (py3.10 alias)


def make_rng(rng: RandomState | int | None) -> RandomState:
    """`rng` itself when it is a generator; a RandomState seeded with `rng` when it is an
    int; a RandomState seeded with `mlp.DEFAULT_SEED` when it is None."""
    if isinstance(rng, (np.random.RandomState, np.random.Generator)):
        return rng
    if rng is None:
        from mlp import DEFAULT_SEED

        return np.random.RandomState(DEFAULT_SEED)
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        return np.random.RandomState(int(rng))
    raise TypeError(
        f"rng must be a numpy RandomState or Generator, an int seed, or None; got {type(rng).__name__}"
    )


def uniform01(rng: RandomState, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform draws on [0, 1) from either kind of generator."""
    if isinstance(rng, np.random.Generator):
        return rng.random(shape, dtype=np.float32)
    return rng.uniform(size=shape)
