"""The training exercises (mlp.exercises.training_exercises): errors, penalties,
dropout, learning rules, schedulers and the convolutional layer.

Checked here on their own: deterministic reference results, references passing their
own gradient checks, every planted mistake visible on some case and only in its own
method, skeletons that compile and raise NotImplementedError, cases that fit in an npz
pack, and students' classes written from the skeletons' words alone passing.
"""

from __future__ import annotations

import numbers

import numpy as np
import pytest

from mlp.exercises.exercise import Case, Exercise, Method
from mlp.exercises.training_exercises import EXERCISES

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}
MISTAKES = [
    pytest.param(exercise, mistake, id=f"{exercise.name}-{mistake.name}")
    for exercise in EXERCISES
    for mistake in exercise.mistakes
]
WITH_GRADIENT_CHECK = [e for e in EXERCISES if e.gradient_check is not None]


def _cases(exercise: Exercise, seed: int = 0) -> list[Case]:
    return exercise.cases(np.random.default_rng(seed))


def _as_arrays(result: object) -> list[np.ndarray]:
    if isinstance(result, list):
        return [np.asarray(r, dtype=np.float64) for r in result]
    return [np.asarray(result, dtype=np.float64)]


def _same(a: object, b: object, method: Method) -> bool:
    left, right = _as_arrays(a), _as_arrays(b)
    return len(left) == len(right) and all(
        x.shape == y.shape and np.allclose(x, y, rtol=method.tolerance, atol=1e-12)
        for x, y in zip(left, right, strict=True)
    )


def _method(exercise: Exercise, name: str) -> Method:
    return next(m for m in exercise.methods if m.name == name)


def test_the_catalogue_names_what_the_task_asks_for():
    expected = {
        "sum_of_squares",
        "cross_entropy_softmax",
        "cross_entropy",
        "l1",
        "l2",
    }
    assert expected <= set(BY_NAME)
    assert len(BY_NAME) == len(EXERCISES)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_an_exercise_is_consistent(exercise):
    assert exercise.class_name == exercise.reference.__name__
    assert exercise.title and exercise.methods and exercise.mistakes
    method_names = [m.name for m in exercise.methods]
    assert len(set(method_names)) == len(method_names)
    mistake_names = [m.name for m in exercise.mistakes]
    assert len(set(mistake_names)) == len(mistake_names)
    for mistake in exercise.mistakes:
        assert mistake.method in method_names
        assert issubclass(mistake.planted, exercise.reference)
        assert mistake.hint.strip()


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_cases_fit_in_a_pack(exercise):
    cases = _cases(exercise)
    assert len(cases) >= 4
    assert cases[0].label == "small"
    for case in cases:
        assert case.arrays
        for name, value in case.arrays.items():
            assert isinstance(value, np.ndarray), name
            assert value.dtype.kind in "biuf", (name, value.dtype)
        for name, value in case.settings.items():
            assert isinstance(value, numbers.Real) and not isinstance(value, bool), name
            assert isinstance(value, (int, float)), (name, type(value))


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_reference_results_are_deterministic_and_finite(exercise):
    first, second = _cases(exercise, 7), _cases(exercise, 7)
    for a, b in zip(first, second, strict=True):
        assert a.label == b.label and a.settings == b.settings
        for name in a.arrays:
            np.testing.assert_array_equal(a.arrays[name], b.arrays[name])
        for method in exercise.methods:
            result = method.run(exercise.reference, a)
            assert _same(result, method.run(exercise.reference, b), method)
            assert all(np.isfinite(r).all() for r in _as_arrays(result)), (method.name, a.label)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_running_a_method_leaves_the_case_unchanged(exercise):
    case = _cases(exercise)[1]
    before = {name: value.copy() for name, value in case.arrays.items()}
    for method in exercise.methods:
        method.run(exercise.reference, case)
    for name, value in before.items():
        np.testing.assert_array_equal(case.arrays[name], value)


@pytest.mark.parametrize("exercise", WITH_GRADIENT_CHECK, ids=lambda e: e.name)
def test_the_reference_passes_its_own_gradient_check(exercise):
    assert exercise.gradient_check is not None
    for seed in (0, 1):
        for case in _cases(exercise, seed):
            assert exercise.gradient_check(exercise.reference, case) < 1e-6, case.label


@pytest.mark.parametrize(("exercise", "mistake"), MISTAKES)
def test_a_planted_mistake_shows_in_its_method_alone(exercise, mistake):
    differs = False
    for case in _cases(exercise):
        for method in exercise.methods:
            same = _same(
                method.run(mistake.planted, case), method.run(exercise.reference, case), method
            )
            if method.name == mistake.method:
                differs = differs or not same
            else:
                assert same, (method.name, case.label)
    assert differs, f"{mistake.name} gives the reference's results on every case"


@pytest.mark.parametrize("exercise", WITH_GRADIENT_CHECK, ids=lambda e: e.name)
def test_the_gradient_check_catches_a_wrong_gradient(exercise):
    assert exercise.gradient_check is not None
    gradient_methods = {"grad", "bprop", "grads_wrt_params"}
    wrong = [m for m in exercise.mistakes if m.method in gradient_methods]
    assert wrong
    for mistake in wrong:
        errors = [exercise.gradient_check(mistake.planted, case) for case in _cases(exercise)]
        assert max(errors) > 1e-3, mistake.name


def _skeleton_class(exercise: Exercise) -> type:
    source = "\n".join(exercise.imports) + "\n\n\n" + exercise.skeleton
    namespace: dict[str, object] = {}
    exec(compile(source, f"<skeleton {exercise.name}>", "exec"), namespace)
    cls = namespace[exercise.class_name]
    assert isinstance(cls, type)
    return cls


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_the_skeleton_compiles_and_every_method_is_not_implemented(exercise):
    cls = _skeleton_class(exercise)
    assert cls.__doc__ is not None and "=" in cls.__doc__  # the formula, in words
    for method in exercise.methods:
        assert getattr(cls, method.name).__doc__, method.name
    case = _cases(exercise)[0]
    for method in exercise.methods:
        with pytest.raises(NotImplementedError, match=exercise.class_name):
            method.run(cls, case)
    if exercise.gradient_check is not None:
        with pytest.raises(NotImplementedError, match=exercise.class_name):
            exercise.gradient_check(cls, case)


def test_a_method_lets_a_students_exception_through():
    class Broken:
        def __call__(self, outputs, targets):
            raise ZeroDivisionError("a student's bug")

        def grad(self, outputs, targets):
            return np.zeros(3)  # the wrong shape: returned as it is, for the checker

    exercise = BY_NAME["sum_of_squares"]
    case = _cases(exercise)[0]
    with pytest.raises(ZeroDivisionError, match="a student's bug"):
        _method(exercise, "__call__").run(Broken, case)
    assert np.shape(_method(exercise, "grad").run(Broken, case)) == (3,)
