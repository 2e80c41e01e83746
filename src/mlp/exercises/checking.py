"""Checks that teach: run a student's class against the reference and say what is wrong.

`check(StudentClass)` runs each of the exercise's methods, in order, on each of its
cases (drawn from a seeded generator), for the reference and for the student's class
(`mlp.exercises.outcomes.run`: on copies of the arrays, exceptions caught). A method is
right on a case when its result equals the reference's within the method's tolerance
and it left its arguments as they were. On the first wrong case the report gives the
first wrong entry: its index, the inputs there (for arrays shaped like the result), and
the expected and received values.

Hints: each known mistake of that method (`Exercise.mistakes`) is run on every case the
student got wrong; a mistake gives its hint when its outcome agrees with the student's
on all of those cases (the same values or the same kind of exception, and the same
arguments changed in place). Requiring every wrong case, not only the first, keeps a
mistake that happens to agree on one case from giving a misleading hint.

Then, for a layer whose fprop is right, a gradient check: the student's bprop (and
grads_wrt_params) against finite differences of the student's own fprop.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

import mlp.exercises.catalogue as catalogue
import mlp.exercises.outcomes as outcomes
from mlp.exercises.exercise import Case, Exercise, Method

__all__ = ["GRADIENT_TOLERANCE", "CaseResult", "CheckReport", "MethodReport", "check"]

GRADIENT_TOLERANCE = 1e-5
"""The largest relative error of the gradient check that passes."""

_IN_PLACE = (
    "it changed {names} in place: leave the arguments as they are and return a new "
    "array (the model keeps them for the backward pass)"
)


@dataclass(frozen=True)
class CaseResult:
    """One method on one case: status 'ok', 'wrong', 'not implemented' or 'error'."""

    label: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class MethodReport:
    """One method's results on every case, and the hints its mistakes gave."""

    name: str
    cases: tuple[CaseResult, ...]
    hints: tuple[str, ...] = ()

    @property
    def right(self) -> int:
        return sum(case.status == "ok" for case in self.cases)

    @property
    def passed(self) -> bool:
        return self.right == len(self.cases)

    @property
    def status(self) -> str:
        """'ok', 'not implemented', or 'WRONG'."""
        if self.passed:
            return "ok"
        if all(case.status == "not implemented" for case in self.cases):
            return "not implemented"
        return "WRONG"

    @property
    def first_failure(self) -> CaseResult | None:
        return next((case for case in self.cases if case.status != "ok"), None)


@dataclass(frozen=True)
class GradientReport:
    """The gradient check: its largest relative error, or why it did not run."""

    error: float | None
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.error is not None and self.error <= GRADIENT_TOLERANCE


@dataclass(frozen=True, repr=False)
class CheckReport:
    """What `check` found: per method, right or the first wrong entry and hints.

    `str(report)` is plain text for a terminal; in Jupyter the report shows as a table.
    """

    exercise: str
    title: str
    class_name: str
    methods: tuple[MethodReport, ...]
    gradient: GradientReport | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        """True when every method is right on every case and the gradient check passes."""
        methods_right = all(method.passed for method in self.methods)
        return methods_right and (self.gradient is None or self.gradient.passed)

    def marks(self) -> dict[str, float]:
        """method name -> the fraction of cases it got right."""
        return {m.name: m.right / len(m.cases) if m.cases else 0.0 for m in self.methods}

    def __str__(self) -> str:
        lines = [f"{self.class_name} (exercise {self.exercise!r}: {self.title})"]
        for method in self.methods:
            lines.append(
                f"  {method.name:<18} {method.status:<16} "
                f"{method.right}/{len(method.cases)} cases right"
            )
            failure = method.first_failure
            if failure is not None and method.status != "not implemented":
                lines.extend(f"      {line}" for line in failure.detail.splitlines())
            elif failure is not None:
                lines.append(f"      {failure.detail}")
            lines.extend(f"      hint: {hint}" for hint in method.hints)
        if self.gradient is not None:
            status = "ok" if self.gradient.passed else "WRONG"
            lines.append(f"  {'gradient check':<18} {status:<16} {self.gradient.detail}")
        lines.extend(f"  {note}" for note in self.notes)
        verdict = "all right" if self.passed else "not yet right"
        lines.append(f"  => {self.class_name}: {verdict}")
        return "\n".join(lines)

    def __repr__(self) -> str:  # what a notebook shows as plain text
        return str(self)

    def _repr_html_(self) -> str:
        rows = []
        for method in self.methods:
            failure = method.first_failure
            detail = failure.detail if failure is not None else ""
            detail += "".join(f"\nhint: {hint}" for hint in method.hints)
            rows.append((method.name, method.status, f"{method.right}/{len(method.cases)}", detail))
        if self.gradient is not None:
            status = "ok" if self.gradient.passed else "WRONG"
            rows.append(("gradient check", status, "", self.gradient.detail))
        body = "".join(
            "<tr>" + "".join(_cell(value, i) for i, value in enumerate(row)) + "</tr>"
            for row in rows
        )
        caption = html.escape(f"{self.class_name} ({self.title}): ")
        caption += "all right" if self.passed else "<b>not yet right</b>"
        head = "<tr><th>method</th><th>result</th><th>cases right</th><th>details</th></tr>"
        return f"<table><caption>{caption}</caption>{head}{body}</table>"


def _cell(value: str, column: int) -> str:
    text = html.escape(value).replace("\n", "<br>")
    style = ' style="text-align:left; white-space:pre-wrap"' if column == 3 else ""
    return f"<td{style}>{text}</td>"


# --- the check ------------------------------------------------------------------------


def check(
    student_class: type, exercise: Exercise | str | None = None, seed: int = 0
) -> CheckReport:
    """Check a student's class against the reference of its exercise.

    Args:
        student_class: the class (not an instance), e.g. TanhLayer.
        exercise: the Exercise, or its catalogue name; default: the exercise whose
            class name is student_class's name.
        seed: seeds the random cases.
    Returns:
        a CheckReport (print it, or show it in a notebook).
    Raises:
        TypeError: for an instance instead of a class, or a bad `exercise`.
        ValueError: for a class name no exercise has, or an unknown exercise name.
    """
    if not isinstance(student_class, type):
        kind = type(student_class).__name__
        got = f"{kind} {student_class!r:.60}"
        if hasattr(student_class, "fprop"):
            got = f"an instance of {kind} (pass {kind}, not {kind}())"
        raise TypeError(f"check student_class must be a class, e.g. TanhLayer, got {got}")
    chosen = _exercise_for(student_class, exercise)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"check seed must be an int, got {seed!r}")
    cases = chosen.cases(np.random.default_rng(int(seed)))
    reports = tuple(_check_method(chosen, m, student_class, cases) for m in chosen.methods)
    gradient = None
    if chosen.gradient_check is not None and reports and reports[0].passed:
        gradient = _gradient(chosen, student_class, cases)
    return CheckReport(chosen.name, chosen.title, student_class.__name__, reports, gradient)


def _exercise_for(student_class: type, exercise: Exercise | str | None) -> Exercise:
    if isinstance(exercise, Exercise):
        return exercise
    if isinstance(exercise, str):
        return catalogue.exercise(exercise)
    if exercise is not None:
        raise TypeError(f"check exercise must be an Exercise, a name or None, got {exercise!r}")
    name = student_class.__name__
    for entry in catalogue.EXERCISES.values():
        if entry.class_name == name:
            return entry
    known = ", ".join(sorted({e.class_name for e in catalogue.EXERCISES.values()}))
    raise ValueError(
        f"no exercise has a class named {name!r} (the classes are: {known}); name the "
        "exercise with check(cls, exercise='...')"
    )


def _check_method(
    chosen: Exercise, method: Method, student_class: type, cases: list[Case]
) -> MethodReport:
    results = []
    wrong: list[tuple[Case, outcomes.Outcome]] = []
    for case in cases:
        expected = outcomes.run(method, chosen.reference, case)
        got = outcomes.run(method, student_class, case)
        result = _judge(method, case, expected, got)
        results.append(result)
        if result.status in ("wrong", "error"):
            wrong.append((case, got))
    hints = _hints(chosen, method, wrong) if wrong else ()
    return MethodReport(method.name, tuple(results), hints)


def _judge(
    method: Method, case: Case, expected: outcomes.Outcome, got: outcomes.Outcome
) -> CaseResult:
    """The student's outcome `got` on `case` against the reference's `expected`."""
    label = f"case {case.label!r}"
    if expected.error:  # the exercise's own bug, not the student's
        raise RuntimeError(f"the reference {method.name} raised on {label}: {expected.message}")
    if got.not_implemented:
        return CaseResult(case.label, "not implemented", f"{method.name}: not implemented yet")
    if got.error:
        return CaseResult(case.label, "error", f"{label}: raised {got.error}: {got.message}")
    assert expected.result is not None
    mismatch = outcomes.compare(expected.result, got.result, method.tolerance)
    if mismatch is not None:
        shape = () if isinstance(expected.result, list) else np.shape(expected.result)
        return CaseResult(case.label, "wrong", f"{label}: {_describe(mismatch, case, shape)}")
    if got.modified:
        names = ", ".join(repr(name) for name in got.modified)
        return CaseResult(case.label, "wrong", f"{label}: " + _IN_PLACE.format(names=names))
    return CaseResult(case.label, "ok")


def _describe(mismatch: outcomes.Mismatch, case: Case, shape: tuple[int, ...]) -> str:
    """The first difference in words, with the case's arrays at its index where they
    have the result's `shape` (the inputs of an elementwise layer)."""
    what = f"result{mismatch.part}"
    if mismatch.what == "shape":
        return f"{what} has shape {mismatch.received}, expected {mismatch.expected}"
    if mismatch.what == "length":
        return f"returned {mismatch.received} arrays, expected {mismatch.expected}"
    if mismatch.what == "type":
        return f"{what} is {mismatch.received}, expected {mismatch.expected}"
    entry = f"[{', '.join(map(str, mismatch.index))}]"
    lines = [
        f"first wrong entry: {entry} of {what}"
        if mismatch.part
        else f"first wrong entry: {what}{entry}"
    ]
    if not mismatch.part and shape:
        inputs = [
            f"{name} = {_number(value[mismatch.index])}"
            for name, value in case.arrays.items()
            if np.shape(value) == shape
        ]
        if inputs:
            lines.append("  where " + ", ".join(inputs))
    lines.append(f"  expected {_number(mismatch.expected)}, received {_number(mismatch.received)}")
    return "\n".join(lines)


def _number(value: object) -> str:
    return f"{float(value):.6g}"  # type: ignore[arg-type]


def _hints(
    chosen: Exercise, method: Method, wrong: list[tuple[Case, outcomes.Outcome]]
) -> tuple[str, ...]:
    """The hints of the mistakes in `method` that agree with the student on every wrong case."""
    hints = []
    for mistake in chosen.mistakes:
        if mistake.method != method.name:
            continue
        if all(
            outcomes.agree(outcomes.run(method, mistake.planted, case), got, method.tolerance)
            for case, got in wrong
        ):
            hints.append(mistake.hint)
    return tuple(hints)


def _gradient(chosen: Exercise, student_class: type, cases: list[Case]) -> GradientReport:
    """The exercise's gradient check of the student's class, on its 'random' case."""
    assert chosen.gradient_check is not None
    case = next((c for c in cases if c.label == "random"), cases[0])
    try:
        with np.errstate(all="ignore"):
            error = chosen.gradient_check(student_class, case)
    except NotImplementedError:
        return GradientReport(None, "not run: the backward pass is not implemented yet")
    except Exception as exc:  # the student's code may raise anything
        return GradientReport(None, f"not run: {type(exc).__name__}: {exc}")
    error = float(error)
    verdict = "agrees with" if error <= GRADIENT_TOLERANCE else "DISAGREES with"
    return GradientReport(
        error,
        f"largest relative error {error:.2g}: your backward pass {verdict} finite "
        "differences of your fprop",
    )
