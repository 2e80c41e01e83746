"""Argument checks for the public API: each one passes a good value through (converted
where that is harmless) or raises a TypeError or ValueError that names the argument, its
value and what it must be, as "<owner> <name> must be <expected>, got <value>".

The rule: a value of the wrong kind (a string where a number goes, a class where an
instance goes) is a TypeError; a value of the right kind that cannot be used (a negative
rate, inf, 2.5 as a size, True as a number) is a ValueError.

Every check is a few type tests and comparisons, never a pass over an array's elements,
so a layer can run them on every batch without slowing an epoch.

Every check is called as `check(value, name, owner, <options>)`. `owner` is what the
message starts with: a class name in a constructor, the object itself in a method (its
repr is only computed for a message).

Two message styles are kept, because tests and users match on both: the checks above
`named` write "<owner> <name> must be ..." and refuse bools and infinities as unusable
numbers (ValueError); the checks below it, used by the training side, the lab and the
PyTorch twin, write "<owner>: <name> must be ..." ('' leaves the owner out), show the
value after its type, and leave finiteness and range to the caller.
"""

from __future__ import annotations

import inspect
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from mlp import dtypes

__all__ = [
    "MAX_ENTRIES",
    "callable_instance",
    "choice",
    "count",
    "flag",
    "floats",
    "instance_with",
    "integer",
    "items",
    "mapping",
    "named",
    "not_a_class",
    "number",
    "number_array",
    "numeric_array",
    "os_path",
    "path",
    "range_text",
    "real",
    "refuse_class",
    "seconds",
    "shape",
    "truth",
]


def _owner(owner: object) -> str:
    return owner if isinstance(owner, str) else repr(owner)


def range_text(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """' >= 0', ' in (0, 1]' or '' (no bounds): how messages write a range."""
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if low_open else '>='} {low:g}"
    if low is None:
        return f" {'<' if high_open else '<='} {high:g}"
    return f" in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"


def number(
    value: object,
    name: str,
    owner: object,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """`value` as a float, when it is a finite real number in the range (None: no bound).

    Raises:
        TypeError: for anything that is not a real number (a string, None, an array).
        ValueError: for a bool, inf, NaN, or a number out of the range.
    """
    expected = "a finite number" + range_text(low, high, low_open, high_open)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{_owner(owner)} {name} must be {expected}, got {value!r}")
    number = float(value)
    below = low is not None and (number <= low if low_open else number < low)
    above = high is not None and (number >= high if high_open else number > high)
    if isinstance(value, bool) or not math.isfinite(number) or below or above:
        raise ValueError(f"{_owner(owner)} {name} must be {expected}, got {value!r}")
    return number


def integer(value: object, name: str, owner: object, low: int | None = None) -> int:
    """`value` as an int, when it is an integer (Python or NumPy) and at least `low`.

    Raises:
        TypeError: for anything that is not a number.
        ValueError: for a bool, a float (even 3.0) or an integer below `low`.
    """
    expected = "a positive integer" if low == 1 else "an integer" + range_text(low, None)
    if not isinstance(value, numbers.Real):
        raise TypeError(f"{_owner(owner)} {name} must be {expected}, got {value!r}")
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or (low is not None and value < low)
    ):
        raise ValueError(f"{_owner(owner)} {name} must be {expected}, got {value!r}")
    return int(value)


def flag(value: object, name: str, owner: object) -> bool:
    """`value` when it is True or False (a NumPy bool too).

    Raises:
        TypeError: for anything else, 0, 1 and 'false' among them.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{_owner(owner)} {name} must be True or False, got {value!r}")
    return bool(value)


def not_a_class(value: object, name: str, owner: object) -> None:
    """Raises a TypeError saying "pass X(...), an instance" when `value` is a class."""
    if isinstance(value, type):
        try:
            required = any(
                p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                for p in inspect.signature(value).parameters.values()
            )
        except (TypeError, ValueError):  # no signature to read (a builtin type)
            required = True
        call = f"{value.__name__}({'...' if required else ''})"
        raise TypeError(
            f"{_owner(owner)} {name} got the class {value.__name__}: pass {call}, an instance"
        )


def callable_instance(value: object, name: str, owner: object, expected: str) -> None:
    """Checks that `value` is a callable object and not a class.

    Args:
        expected: what it must be, for the message (e.g. "an initialiser, ...").
    Raises:
        TypeError: for a class ("pass X(...), an instance") or anything not callable.
    """
    not_a_class(value, name, owner)
    if not callable(value):
        raise TypeError(f"{_owner(owner)} {name} must be {expected}, got {value!r}")


def numeric_array(value: object, name: str, owner: object) -> np.ndarray:
    """`value` as an array of numbers (booleans, integers or floats), not converted.

    Raises:
        TypeError: for strings, objects, None or complex numbers.
        ValueError: for ragged nested lists.
    """
    if type(value) is np.ndarray and value.dtype.kind in "fiub":
        return value  # the common case first: one type test per call
    if isinstance(value, bool):  # np.asarray(True) would be a 0-d array of one number
        raise TypeError(f"{_owner(owner)} {name} must be an array of numbers, got {value!r}")
    try:
        array = np.asarray(value)
    except ValueError:  # NumPy's message for ragged lists names no argument
        raise ValueError(
            f"{_owner(owner)} {name} must be an array of numbers, got ragged lists "
            "(rows of different lengths)"
        ) from None
    if array.dtype.kind not in "fiub":
        raise TypeError(
            f"{_owner(owner)} {name} must be an array of numbers, got {_describe(value, array)}"
        )
    return array


def floats(value: object, name: str, owner: object) -> np.ndarray:
    """`value` as an array of floats: float arrays as they are (not copied); lists,
    integer and boolean arrays converted to the default dtype (`mlp.get_default_dtype()`).

    Raises:
        TypeError, ValueError: as `numeric_array`.
    """
    if type(value) is np.ndarray and value.dtype.kind == "f":
        return value
    array = numeric_array(value, name, owner)
    if array.dtype.kind != "f":
        array = array.astype(dtypes.get_default_dtype())
    return array


def shape(value: object, name: str, owner: object) -> tuple[int, ...]:
    """`value` as a shape: a tuple of sizes >= 0 (an int n is taken as (n,)).

    Raises:
        TypeError: for None, strings and other non-sequences, or a size that is no number.
        ValueError: for a negative, float or bool size.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list, np.ndarray)):
        raise TypeError(
            f"{_owner(owner)} {name} must be a tuple of sizes such as (3, 4), got {value!r}"
        )
    sizes = tuple(value)
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 0:
            kind = ValueError if isinstance(size, numbers.Real) else TypeError
            raise kind(
                f"{_owner(owner)} {name} must be a tuple of integer sizes >= 0, got {sizes!r}"
            )
    sizes = tuple(int(size) for size in sizes)
    if math.prod(sizes) > MAX_ENTRIES:
        raise ValueError(
            f"{_owner(owner)} {name} {sizes} has {math.prod(sizes):,} entries, more than "
            f"{MAX_ENTRIES:,}: no array that large fits in memory"
        )
    return sizes


MAX_ENTRIES = 2**40
"""More entries than any array mlp makes can have (4 TB of float32)."""


def _describe(value: object, array: np.ndarray) -> str:
    if array.dtype.kind == "O" and array.ndim == 0:
        return repr(value)
    return f"an array of {array.dtype} {array.shape}"


# The "<owner>: <name>" style, for the training side, the lab and the PyTorch twin.


def named(owner: str, name: str) -> str:
    """'owner: name', or 'name' when `owner` is '': how these messages begin."""
    return f"{owner}: {name}" if owner else name


def _shown(value: Any) -> str:
    """The value for a message: its repr, cut short, after its type."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"


def refuse_class(value: Any, name: str, owner: str) -> None:
    """A TypeError when `value` is a class where an instance of it goes, e.g.
    "error is the class CrossEntropySoftmaxError: pass CrossEntropySoftmaxError(), an
    instance"."""
    if isinstance(value, type):
        raise TypeError(
            f"{named(owner, name)} is the class {value.__name__}: "
            f"pass {value.__name__}(), an instance"
        )


def instance_with(
    value: Any, name: str, owner: str, methods: Sequence[str], what: str, hint: str = ""
) -> None:
    """A TypeError unless `value` is an instance with every one of `methods` callable.

    Args:
        what: the kind of object expected, e.g. 'a learning rule (mlp.learning_rules)'.
        hint: said after the message, e.g. how to fix the usual mistake.
    """
    refuse_class(value, name, owner)
    missing = [m for m in methods if not callable(getattr(value, m, None))]
    if missing:
        hint = f"; {hint}" if hint else ""
        raise TypeError(
            f"{named(owner, name)} must be {what}, with {', '.join(methods)}; "
            f"got {_shown(value)} (no {', '.join(missing)}){hint}"
        )


def real(value: Any, name: str, owner: str) -> float:
    """`value` as a Python float, when it is a real number (int, float, NumPy scalar or
    0-d array; not a bool, a string or None): a TypeError naming `name` otherwise. A
    Python float, because a NumPy float64 would make NumPy compute float32 updates in
    float64. Finiteness and range are the caller's to check."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{named(owner, name)} must be a number, got {_shown(value)}")
    return float(value)


def count(value: Any, name: str, owner: str, minimum: int) -> int:
    """`value` as an int when it is an integer (not a bool, not a float such as 2.7)
    of at least `minimum`; else a TypeError (wrong type) or a ValueError (too small)."""
    kind = {0: "a non-negative integer", 1: "a positive integer"}.get(
        minimum, f"an integer >= {minimum}"
    )
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{named(owner, name)} must be {kind}, got {_shown(value)}")
    if value < minimum:
        raise ValueError(f"{named(owner, name)} must be {kind}, got {value}")
    return int(value)


def truth(value: Any, name: str, owner: str) -> bool:
    """`value` as a bool when it is True or False (or a NumPy bool, or 0 or 1): a string
    such as 'no' would otherwise count as True."""
    if isinstance(value, (bool, np.bool_)) or (
        isinstance(value, (int, np.integer)) and value in (0, 1)
    ):
        return bool(value)
    raise TypeError(f"{named(owner, name)} must be True or False, got {_shown(value)}")


def number_array(value: Any, name: str, owner: str) -> np.ndarray:
    """`value` as a NumPy array (lists are converted) of numbers (bools, integers or
    floats): a TypeError naming `name` for strings, objects or complex numbers."""
    try:
        array = np.asarray(value)
    except ValueError:  # a ragged list: NumPy's message names no argument
        raise ValueError(
            f"{named(owner, name)} must be an array (rows of one length), got {_shown(value)}"
        ) from None
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{named(owner, name)} must be an array of numbers, got {array.dtype} "
            f"values ({_shown(value)})"
        )
    return array


def _is_path(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, os.PathLike) and not isinstance(value, bytes)
    )


def path(value: Any, name: str, owner: str) -> str | os.PathLike[str]:
    """`value` when it is a file-system path (a str or an os.PathLike such as a Path):
    a TypeError naming `name` otherwise, instead of os's "expected str, bytes or
    os.PathLike object"."""
    if _is_path(value):
        return value
    raise TypeError(f"{named(owner, name)} must be a path (a str or Path), got {_shown(value)}")


def os_path(value: Any, name: str, owner: str) -> None:
    """As `path`, in the lab's wording: "must be a path (str or os.PathLike)"."""
    if not _is_path(value):
        raise TypeError(f"{named(owner, name)} must be a path (str or os.PathLike), got {value!r}")


def items(value: Any, name: str, owner: str, kind: type) -> None:
    """A TypeError unless `value` is a list or tuple (not a string) of `kind` instances."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        raise TypeError(
            f"{named(owner, name)} must be a list of {kind.__name__}, got {type(value).__name__}"
        )
    for index, item in enumerate(value):
        if not isinstance(item, kind):
            raise TypeError(
                f"{named(owner, f'{name}[{index}]')} must be a {kind.__name__}, "
                f"got {type(item).__name__} {item!r:.60}"
            )


def choice(value: Any, name: str, owner: str, choices: Sequence[str]) -> None:
    """A ValueError unless `value` is one of `choices`."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"{named(owner, name)} must be one of {', '.join(map(repr, choices))}, got {value!r}"
        )


def mapping(value: Any, name: str, owner: str) -> None:
    """A TypeError unless `value` is None or a mapping."""
    if value is not None and not isinstance(value, Mapping):
        raise TypeError(f"{named(owner, name)} must be a dict or None, got {type(value).__name__}")


def seconds(value: Any, name: str, owner: str) -> float:
    """`value` as a float when it is a finite, non-negative number of seconds."""
    time = real(value, name, owner)
    if not math.isfinite(time) or time < 0:
        raise ValueError(f"{named(owner, name)} must be a finite number >= 0, got {time}")
    return time
