"""The catalogue of exercises: the one place their names are listed.

`EXERCISES` maps each name to its `Exercise`: the layer exercises first
(`mlp.exercises.layer_exercises`), then the others (`mlp.exercises.training_exercises`).
The CLI, the checker, the skeleton writer and the packs all look names up here.
"""

from __future__ import annotations

from collections.abc import Iterable

import mlp.exercises.layer_exercises as layer_exercises
import mlp.exercises.training_exercises as training_exercises
from mlp.exercises.exercise import Exercise

__all__ = ["EXERCISES", "exercise", "exercises"]


def _catalogue(groups: Iterable[tuple[Exercise, ...]]) -> dict[str, Exercise]:
    """name -> exercise, in order; a ValueError for a name or class listed twice."""
    catalogue: dict[str, Exercise] = {}
    for group in groups:
        for entry in group:
            if entry.name in catalogue:
                raise ValueError(f"exercise {entry.name!r} is listed twice in the catalogue")
            catalogue[entry.name] = entry
    return catalogue


EXERCISES: dict[str, Exercise] = _catalogue(
    (layer_exercises.EXERCISES, training_exercises.EXERCISES)
)
"""Every exercise, by name, in catalogue order."""


def exercise(name: str) -> Exercise:
    """The exercise called `name`.

    Raises:
        TypeError: unless name is a str.
        ValueError: for a name not in the catalogue (the message lists them).
    """
    if not isinstance(name, str):
        raise TypeError(f"exercise name must be a str, got {type(name).__name__} {name!r}")
    if name not in EXERCISES:
        raise ValueError(f"no exercise named {name!r}; the exercises are: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def exercises(names: Iterable[str]) -> list[Exercise]:
    """The exercises called `names`, in the order given (at least one; no repeats)."""
    if isinstance(names, str):
        names = [names]
    try:
        listed = list(names)
    except TypeError:
        raise TypeError(f"exercise names must be a list of str, got {names!r}") from None
    if not listed:
        raise ValueError(
            f"exercise names must list at least one exercise; the exercises are: "
            f"{', '.join(EXERCISES)}"
        )
    if len(set(map(str, listed))) != len(listed):
        raise ValueError(f"exercise names repeat: {listed}")
    return [exercise(name) for name in listed]
