"""Argument checks shared by the lab's public functions: a TypeError or ValueError that
names the argument, instead of an AttributeError from deep inside a report."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

from mlp._argchecks import check_real

__all__ = ["check_choice", "check_items", "check_mapping", "check_path", "check_seconds"]


def check_path(name: str, value: Any, where: str) -> None:
    """A TypeError unless `value` is a str or os.PathLike path."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{where}: {name} must be a path (str or os.PathLike), got {value!r}")


def check_items(name: str, value: Any, kind: type, where: str) -> None:
    """A TypeError unless `value` is a list or tuple (not a string) of `kind` instances."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{where}: {name} must be a list of {kind.__name__}, got {type(value).__name__}"
        )
    for index, item in enumerate(value):
        if not isinstance(item, kind):
            raise TypeError(
                f"{where}: {name}[{index}] must be a {kind.__name__}, "
                f"got {type(item).__name__} {item!r:.60}"
            )


def check_choice(name: str, value: Any, choices: Sequence[str], where: str) -> None:
    """A ValueError unless `value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{where}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )


def check_mapping(name: str, value: Any, where: str) -> None:
    """A TypeError unless `value` is None or a mapping."""
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(f"{where}: {name} must be a dict or None, got {type(value).__name__}")


def check_seconds(name: str, value: Any, where: str) -> float:
    """`value` as a float when it is a finite, non-negative number of seconds."""
    seconds = check_real(name, value, where)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {seconds}")
    return seconds
