"""Argument checks for the public API: each one passes a good value through (converted
where that is harmless) or raises a TypeError or ValueError that names the argument, its
value and what it must be, as "<owner> <name> must be <expected>, got <value>".

The rule: a value of the wrong kind (a string where a number goes, a class where an
instance goes) is a TypeError; a value of the right kind that cannot be used (a negative
rate, inf, 2.5 as a size, True as a number) is a ValueError.

Every check is a few type tests and comparisons, never a pass over an array's elements,
so a layer can run them on every batch without slowing an epoch. `owner` is what the
message starts with: a class name in a constructor, the object itself in a method (its
repr is only computed for a message).
"""

from __future__ import annotations

import inspect
import math
import numbers

import numpy as np

from mlp import dtypes

__all__ = [
    "callable_instance",
    "flag",
    "floats",
    "integer",
    "not_a_class",
    "number",
    "numeric_array",
    "range_text",
    "shape",
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
