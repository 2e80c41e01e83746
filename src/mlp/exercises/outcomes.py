"""Running one method of a class on one case, and comparing what two runs gave.

The checker (`mlp.exercises.checking`) and the grader (`mlp.exercises.packs`) share
these: a run never raises (an exception becomes part of its `Outcome`), works on copies
of the case's arrays, and records which of them the method changed in place.
"""

from __future__ import annotations

import sys
import traceback
import warnings
from dataclasses import dataclass

import numpy as np

from mlp.exercises.exercise import Case, Method, Result

__all__ = ["Mismatch", "Outcome", "agree", "compare", "run"]


@dataclass(frozen=True)
class Outcome:
    """What running a method gave.

    Attributes:
        result: the method's result, or None when it raised.
        error: '' when it returned; the exception's type name otherwise.
        message: the exception's message (with the student's line where known).
        modified: names of the case's arrays the method changed in place.
    """

    result: Result | None
    error: str = ""
    message: str = ""
    modified: tuple[str, ...] = ()

    @property
    def not_implemented(self) -> bool:
        return self.error == "NotImplementedError"


@dataclass(frozen=True)
class Mismatch:
    """Where a result differs from the expected one.

    Attributes:
        what: 'shape', 'type', 'length' or 'value'.
        part: '' for a single array; '[k]' for the k-th array of a list.
        index: the index of the first wrong entry, for 'value'.
        expected, received: the values (or shapes, types, lengths) there.
    """

    what: str
    part: str
    index: tuple[int, ...]
    expected: object
    received: object


def _where(error: BaseException, cls: type) -> str:
    """' (line N of FILE)' for the deepest frame in the file defining `cls`, if any."""
    filename = getattr(sys.modules.get(cls.__module__), "__file__", None)
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    return f" (line {frames[-1].lineno} of {frames[-1].filename})" if frames else ""


def run(method: Method, cls: type, case: Case) -> Outcome:
    """method.run(cls, case) on copies of the case's arrays, NumPy's warnings silenced
    (overflow is judged by the result, not the warning)."""
    copies = {name: np.array(value, copy=True) for name, value in case.arrays.items()}
    work = Case(case.label, copies, dict(case.settings))
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            result = method.run(cls, work)
    except Exception as error:  # the student's code may raise anything
        message = f"{error}{_where(error, cls)}"
        return Outcome(None, type(error).__name__, message, _changed(case, work))
    return Outcome(result, modified=_changed(case, work))


def _changed(case: Case, work: Case) -> tuple[str, ...]:
    return tuple(
        name
        for name, value in case.arrays.items()
        if not np.array_equal(np.asarray(value), work.arrays[name], equal_nan=True)
    )


def compare(expected: Result, received: object, tolerance: float) -> Mismatch | None:
    """None when `received` equals `expected` within `tolerance` (relative, with the
    same absolute floor; NaN equals NaN, inf equals inf), else the first difference."""
    if isinstance(expected, list):
        if not isinstance(received, (list, tuple)):
            return Mismatch("type", "", (), "a list of arrays", type(received).__name__)
        if len(received) != len(expected):
            return Mismatch("length", "", (), len(expected), len(received))
        for k, (e, r) in enumerate(zip(expected, received, strict=True)):
            found = _compare_array(np.asarray(e), r, tolerance, f"[{k}]")
            if found is not None:
                return found
        return None
    return _compare_array(np.asarray(expected), received, tolerance, "")


def _compare_array(
    expected: np.ndarray, received: object, tolerance: float, part: str
) -> Mismatch | None:
    try:
        got = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return Mismatch("type", part, (), "an array of numbers", type(received).__name__)
    if got.shape != expected.shape:
        return Mismatch("shape", part, (), expected.shape, got.shape)
    close = np.isclose(got, expected, rtol=tolerance, atol=tolerance, equal_nan=True)
    if close.all():
        return None
    index = tuple(int(i) for i in np.argwhere(~close)[0])
    return Mismatch("value", part, index, float(expected[index]), float(got[index]))


def agree(first: Outcome, second: Outcome, tolerance: float) -> bool:
    """Whether two outcomes are the same: the same arrays changed in place, and equal
    results or exceptions of one type."""
    if first.modified != second.modified or first.error != second.error:
        return False
    if first.error:
        return True
    assert first.result is not None
    return compare(first.result, second.result, tolerance) is None
