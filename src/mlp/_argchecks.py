"""Argument checks for the training side of the API (models, optimisers, learning rules,
data providers, schedulers): each raises a TypeError or ValueError that names the
argument, shows its value and says what is expected, so the teaching modules can check
an argument in one line and still read like the concept.

`where` in every helper is the owner named at the start of the message (e.g.
'AdamLearningRule'); '' leaves it out.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "check_flag",
    "check_integer",
    "check_numeric_array",
    "check_object",
    "check_path",
    "check_real",
    "refuse_class",
]


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def _shown(value: Any) -> str:
    """The value for a message: its repr, cut short, after its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def refuse_class(name: str, value: Any, where: str = "") -> None:
    """A TypeError when `value` is a class where an instance of it goes, e.g.
    "error is the class CrossEntropySoftmaxError: pass CrossEntropySoftmaxError(), an
    instance"."""
    if isinstance(value, type):
        raise TypeError(
            f"{_prefix(where)}{name} is the class {value.__name__}: "
            f"pass {value.__name__}(), an instance"
        )


def check_object(
    name: str, value: Any, methods: Sequence[str], what: str, where: str = "", hint: str = ""
) -> None:
    """A TypeError unless `value` is an instance with every one of `methods` callable.

    Args:
        what: the kind of object expected, e.g. 'a learning rule (mlp.learning_rules)'.
        hint: said after the message, e.g. how to fix the usual mistake.
    """
    refuse_class(name, value, where)
    missing = [m for m in methods if not callable(getattr(value, m, None))]
    if missing:
        hint = f"; {hint}" if hint else ""
        raise TypeError(
            f"{_prefix(where)}{name} must be {what}, with {', '.join(methods)}; "
            f"got {_shown(value)} (no {', '.join(missing)}){hint}"
        )


def check_real(name: str, value: Any, where: str = "") -> float:
    """`value` as a Python float, when it is a real number (int, float, NumPy scalar or
    0-d array; not a bool, a string or None): a TypeError naming `name` otherwise. A
    Python float, because a NumPy float64 would make NumPy compute float32 updates in
    float64. Finiteness and range are the caller's to check."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_prefix(where)}{name} must be a number, got {_shown(value)}")
    return float(value)


def check_integer(name: str, value: Any, minimum: int, where: str = "") -> int:
    """`value` as an int when it is an integer (not a bool, not a float such as 2.7)
    of at least `minimum`; else a TypeError (wrong type) or a ValueError (too small)."""
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer >= {minimum}"
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{_prefix(where)}{name} must be {kind}, got {_shown(value)}")
    if value < minimum:
        raise ValueError(f"{_prefix(where)}{name} must be {kind}, got {value}")
    return int(value)


def check_flag(name: str, value: Any, where: str = "") -> bool:
    """`value` as a bool when it is True or False (or a NumPy bool, or 0 or 1): a string
    such as 'no' would otherwise count as True."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, np.integer)) and value in (0, 1)
    ):
        return bool(value)
    raise TypeError(f"{_prefix(where)}{name} must be True or False, got {_shown(value)}")


def check_numeric_array(name: str, value: Any, where: str = "") -> np.ndarray:
    """`value` as a NumPy array (lists are converted) of numbers (bools, integers or
    floats): a TypeError naming `name` for strings, objects or complex numbers."""
    try:
        array = np.asarray(value)
    except ValueError:  # a ragged list: NumPy's message names no argument
        raise ValueError(
            f"{_prefix(where)}{name} must be an array (rows of one length), got {_shown(value)}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{_prefix(where)}{name} must be an array of numbers, got {array.dtype} "
            f"values ({_shown(value)})"
        )
    return array


def check_path(name: str, value: Any, where: str = "") -> str | os.PathLike[str]:
    """`value` when it is a file-system path (a str or an os.PathLike such as a Path):
    a TypeError naming `name` otherwise, instead of os's "expected str, bytes or
    os.PathLike object"."""
    if isinstance(value, str) or (isinstance(value, os.PathLike) and not isinstance(value, bytes)):
        return value
    raise TypeError(f"{_prefix(where)}{name} must be a path (a str or Path), got {_shown(value)}")
