"""Small helpers the training exercises share: reading a case's inputs, and running a
student's code in float64.

A `Method.run` reads every array through `array`, which copies it: a student's method
may write into its arguments, and the same case is then run for the reference and for
each known mistake. Settings come back from a pack as NumPy scalars, so they are read
through `number`, `integer` and `flag`.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from mlp.dtypes import default_dtype
from mlp.exercises.exercise import Case
from mlp.gradcheck import check_layer_gradients

__all__ = [
    "array",
    "difference_step",
    "flag",
    "float64",
    "integer",
    "layer_gradient_check",
    "number",
    "planted",
    "upstream",
]


def array(case: Case, name: str) -> np.ndarray:
    """A copy of the case's array `name` (so a student writing into it changes nothing)."""
    return np.array(case.arrays[name], copy=True)


def number(case: Case, name: str) -> float:
    """The case's setting `name` as a Python float."""
    return float(case.settings[name])


def integer(case: Case, name: str) -> int:
    """The case's setting `name` as a Python int (a seed, a count)."""
    return int(case.settings[name])


def flag(case: Case, name: str) -> bool:
    """The case's setting `name`, stored as 0 or 1, as a bool."""
    return bool(case.settings[name])


@contextmanager
def float64() -> Iterator[None]:
    """Inside it, layers a student's code builds without a dtype compute in float64, as
    the reference does, so a comparison at 1e-6 sees the maths and not float32 rounding."""
    with default_dtype(np.float64):
        yield


def upstream(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """A random gradient of shape `shape`, standard normal entries."""
    return rng.normal(size=shape)


def planted(reference: type, method: str, body: Callable[..., Any], mistake: str) -> type:
    """A subclass of `reference` whose `method` is `body` (a function taking `self` and
    the method's arguments); every other method is the reference's. `body` may call
    the reference's own method explicitly, e.g. `Reference.grad(self, y, t) * 2`.

    The class is named after the reference and the mistake, as reports show it."""
    words = "".join(part.capitalize() for part in mistake.replace("_", "-").split("-"))
    doc = f"{reference.__name__} with the mistake '{mistake}' planted in {method}."
    return type(f"{reference.__name__}{words}", (reference,), {method: body, "__doc__": doc})


def difference_step(values: np.ndarray) -> float:
    """A finite-difference step in proportion to the largest of `values` (1e-4 for
    values up to 1): for values of 1e3 or more, a function's rounding over a step of
    1e-4 would swamp a comparison at 1e-6."""
    largest = float(np.abs(values).max()) if np.size(values) else 0.0
    return 1e-4 * max(1.0, largest)


def scalar(value: object, method: str) -> float:
    """A method's result as a float, or a TypeError naming the method and what it gave
    (a student's method that forgot its `return` gives None)."""
    if isinstance(value, (numbers.Real, np.ndarray)):
        values = np.asarray(value)
        if values.size == 1 and values.dtype.kind in "biuf":
            return float(values.reshape(()))
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    raise TypeError(f"{method} must return a number, got {type(value).__name__} {shown}")


def layer_gradient_check(build: Callable[[type, Case], Any]) -> Callable[[type, Case], float]:
    """An exercise's `gradient_check` for a layer built by build(cls, case): the largest
    relative error of its bprop (and grads_wrt_params) against central differences of
    its own fprop on the case's inputs, in float64, with a seeded random upstream
    gradient and a step suited to the inputs' size (`difference_step`)."""

    def check(cls: type, case: Case) -> float:
        with float64():
            inputs = array(case, "inputs")
            layer = build(cls, case)
            errors = check_layer_gradients(
                layer, inputs, rng=np.random.RandomState(0), eps=difference_step(inputs)
            )
        return max(errors.values())

    return check
