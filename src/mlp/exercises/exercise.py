"""What an exercise is: the class a student writes, the methods checked, the inputs they
are checked on, and the known mistakes whose results give the hints.

Every exercise of the catalogue (`mlp.exercises.catalogue`) is an `Exercise`. The
checker (`mlp.exercises.checking`) runs each `Method` on each `Case` for the reference
class and the student's class, compares the two, and when they differ runs each
`Mistake`'s planted class on the same case: a mistake whose result equals the student's
gives its hint. Hints come from results, never from reading the student's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Case", "Exercise", "Method", "Mistake", "Result"]

Result = np.ndarray | list[np.ndarray] | float
"""What running one method on one case gives: an array, a list of arrays (one per
parameter, as `grads_wrt_params` returns), or a number (an error's value)."""


@dataclass(frozen=True)
class Case:
    """One set of inputs a method is checked on.

    Attributes:
        label: what kind of case, shown in reports: 'small', 'random', 'large
            magnitudes', 'zeros', 'shape (2, 3, 4)', ...
        arrays: named inputs, e.g. {'inputs': (batch, dim), 'grads_wrt_outputs': ...};
            what the names mean is up to the exercise's `Method.run`. Stored in packs.
        settings: named numbers the instance is built with (a learning rate, a slope,
            a seed), stored in packs beside the arrays.
    """

    label: str
    arrays: Mapping[str, np.ndarray]
    settings: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Method:
    """One method a student writes, and how to run it.

    Attributes:
        name: the method's name, e.g. 'fprop', 'bprop', 'grads_wrt_params', 'grad'.
        run: run(cls, case) -> Result: build an instance of `cls` from the case's
            settings and call the method on the case's arrays (for a stateful concept,
            such as a learning rule, several calls, returning what they give).
        tolerance: the relative tolerance of the comparison with the reference.
    """

    name: str
    run: Callable[[type, Case], Result]
    tolerance: float = 1e-6


@dataclass(frozen=True)
class Mistake:
    """A mistake students make, planted in a subclass of the reference.

    Attributes:
        name: a short identifier, e.g. 'inputs-for-outputs', 'no-batch-mean'.
        method: the method it is in.
        hint: what to tell a student whose result matches it, in words.
        planted: the reference class with this mistake in `method` (for the hints and
            for the tests: each planted class must get its hint).
    """

    name: str
    method: str
    hint: str
    planted: type


@dataclass(frozen=True)
class Exercise:
    """One concept a student writes.

    Attributes:
        name: the catalogue's name, e.g. 'tanh', 'affine', 'adam'.
        title: one line, e.g. 'Hyperbolic tangent layer'.
        class_name: the class the student writes, e.g. 'TanhLayer'.
        reference: mlp's own class, the solution checked against.
        methods: the methods the student writes, in the order they are checked.
        skeleton: Python source of the student's class: signature, a docstring with the
            maths and the arrays' shapes, bodies that raise NotImplementedError.
        cases: cases(rng) -> the cases to check on, small hand-readable ones first.
        mistakes: the known mistakes, each with its hint.
        gradient_check: optional; gradient_check(cls, case) -> the largest relative
            error between the analytic gradients of `cls` (bprop, grads_wrt_params) and
            numerical gradients of its own fprop on the case.
        imports: the import lines the skeleton needs (written once at the top of a
            student module holding several skeletons).
        notes: anything else the exercise wants to keep (e.g. constructor defaults).
    """

    name: str
    title: str
    class_name: str
    reference: type
    methods: tuple[Method, ...]
    skeleton: str
    cases: Callable[[np.random.Generator], list[Case]]
    mistakes: tuple[Mistake, ...] = ()
    gradient_check: Callable[[type, Case], float] | None = None
    imports: tuple[str, ...] = ()
    notes: Mapping[str, Any] = field(default_factory=dict)
