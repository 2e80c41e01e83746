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

from mlp.data_providers import OneOfKDataProvider
from mlp.dtypes import default_dtype
from mlp.errors import CrossEntropySoftmaxError
from mlp.exercises.exercise import Case, Exercise, Method
from mlp.exercises.training_exercises import EXERCISES
from mlp.initialisers import ConstantInit, GlorotUniformInit
from mlp.layers import AffineLayer, DropoutLayer, ReluLayer
from mlp.learning_rules import GradientDescentLearningRule, MomentumLearningRule
from mlp.models import MultipleLayerModel
from mlp.optimisers import Optimiser
from mlp.schedulers import ExponentialDecayScheduler

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
    expected = [
        "sum_of_squares",
        "cross_entropy_softmax",
        "cross_entropy",
        "l1",
        "l2",
        "dropout",
        "momentum",
        "adam",
        "exponential_decay",
        "cosine_warm_restarts",
        "convolution",
    ]
    assert [exercise.name for exercise in EXERCISES] == expected
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


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_two_mistakes_never_give_one_wrong_result(exercise):
    # Else the checker could not say which hint fits a student's result.
    for case in _cases(exercise):
        for method in exercise.methods:
            reference = method.run(exercise.reference, case)
            wrong = []
            for mistake in exercise.mistakes:
                if mistake.method == method.name:
                    result = method.run(mistake.planted, case)
                    if not _same(result, reference, method):
                        wrong.append((mistake.name, result))
            for i, (name, result) in enumerate(wrong):
                for other, other_result in wrong[i + 1 :]:
                    assert not _same(result, other_result, method), (case.label, name, other)


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


# --- students' solutions, written from the skeletons' docstrings alone ----------------
# Each completes the skeleton (its given __init__ and params included) the plain way a
# student would: if one of these fails, a skeleton's words do not match the reference.


def _ssd_call(self, y, t):
    return 0.5 * np.sum((y - t) ** 2) / y.shape[0]


def _ssd_grad(self, y, t):
    return (y - t) / y.shape[0]


def _softmax(y):
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _softmax_ce_call(self, y, t):
    shifted = y - y.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return -np.sum(t * log_p) / y.shape[0]


def _softmax_ce_grad(self, y, t):
    return (_softmax(y) - t) / y.shape[0]


def _ce_call(self, y, t):
    return -np.sum(t * np.log(y)) / y.shape[0]


def _ce_grad(self, y, t):
    return -t / (y * y.shape[0])


def _dropout_fprop(self, inputs, stochastic=True):
    if not stochastic:
        self.mask = None
        return inputs
    shape = (1, *inputs.shape[1:]) if self.share_across_batch else inputs.shape
    self.mask = (self.rng.uniform(size=shape) < self.incl_prob) / self.incl_prob
    return inputs * self.mask


def _dropout_bprop(self, inputs, outputs, grads_wrt_outputs):
    return grads_wrt_outputs if self.mask is None else grads_wrt_outputs * self.mask


def _momentum_initialise(self, params):
    GradientDescentLearningRule.initialise(self, params)
    self.velocities = [np.zeros_like(p) for p in self.params]


def _momentum_update(self, grads_wrt_params):
    for p, g, v in zip(self.params, grads_wrt_params, self.velocities, strict=True):
        v *= self.mom_coeff
        v += g
        p -= self.learning_rate * v


def _adam_initialise(self, params):
    GradientDescentLearningRule.initialise(self, params)
    self.moms_1 = [np.zeros_like(p) for p in self.params]
    self.moms_2 = [np.zeros_like(p) for p in self.params]


def _adam_update(self, grads_wrt_params):
    self.step_count += 1
    t = self.step_count
    for p, g, m, v in zip(self.params, grads_wrt_params, self.moms_1, self.moms_2, strict=True):
        m[...] = self.beta_1 * m + (1 - self.beta_1) * g
        v[...] = self.beta_2 * v + (1 - self.beta_2) * g**2
        m_hat = m / (1 - self.beta_1**t)
        v_hat = v / (1 - self.beta_2**t)
        p -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.epsilon)


def _exponential_update(self, learning_rule, epoch_number):
    learning_rule.learning_rate = self.initial_rate * self.decay**epoch_number
    return learning_rule.learning_rate


def _restarts_update(self, learning_rule, epoch_number):
    start, i = 0.0, 0
    length = self.total_iters_per_period
    while start + length <= epoch_number:
        start += length
        length *= self.period_iteration_expansion_factor
        i += 1
    high = self.max_learning_rate * self.max_learning_rate_discount_factor**i
    low = self.min_learning_rate
    t = epoch_number - start
    learning_rule.learning_rate = low + (high - low) * (1 + np.cos(np.pi * t / length)) / 2
    return learning_rule.learning_rate


def _conv_fprop(self, inputs):
    n, _, h, w = inputs.shape
    o, _, kh, kw = self.kernels.shape
    flipped = self.kernels[:, :, ::-1, ::-1]
    y = np.zeros((n, o, h - kh + 1, w - kw + 1))
    for i in range(h - kh + 1):
        for j in range(w - kw + 1):
            window = inputs[:, :, i : i + kh, j : j + kw]
            y[:, :, i, j] = np.einsum("nckl,ockl->no", window, flipped)
    return y + self.biases[None, :, None, None]


def _conv_bprop(self, inputs, outputs, grads_wrt_outputs):
    _, _, kh, kw = self.kernels.shape
    flipped = self.kernels[:, :, ::-1, ::-1]
    grads = np.zeros(inputs.shape)
    for i in range(grads_wrt_outputs.shape[2]):
        for j in range(grads_wrt_outputs.shape[3]):
            share = np.einsum("no,ockl->nckl", grads_wrt_outputs[:, :, i, j], flipped)
            grads[:, :, i : i + kh, j : j + kw] += share
    return grads


def _conv_grads(self, inputs, grads_wrt_outputs):
    _, _, kh, kw = self.kernels.shape
    grads_flipped = np.zeros(self.kernels.shape)
    for i in range(grads_wrt_outputs.shape[2]):
        for j in range(grads_wrt_outputs.shape[3]):
            window = inputs[:, :, i : i + kh, j : j + kw]
            grads_flipped += np.einsum("no,nckl->ockl", grads_wrt_outputs[:, :, i, j], window)
    return [grads_flipped[:, :, ::-1, ::-1], grads_wrt_outputs.sum(axis=(0, 2, 3))]


SOLUTIONS = {
    "sum_of_squares": {"__call__": _ssd_call, "grad": _ssd_grad},
    "cross_entropy_softmax": {"__call__": _softmax_ce_call, "grad": _softmax_ce_grad},
    "cross_entropy": {"__call__": _ce_call, "grad": _ce_grad},
    "l1": {
        "__call__": lambda self, p: self.coefficient * np.abs(p).sum(),
        "grad": lambda self, p: self.coefficient * np.sign(p),
    },
    "l2": {
        "__call__": lambda self, p: 0.5 * self.coefficient * np.sum(p**2),
        "grad": lambda self, p: self.coefficient * p,
    },
    "dropout": {"fprop": _dropout_fprop, "bprop": _dropout_bprop},
    "momentum": {"initialise": _momentum_initialise, "update_params": _momentum_update},
    "adam": {"initialise": _adam_initialise, "update_params": _adam_update},
    "exponential_decay": {"update_learning_rule": _exponential_update},
    "cosine_warm_restarts": {"update_learning_rule": _restarts_update},
    "convolution": {"fprop": _conv_fprop, "bprop": _conv_bprop, "grads_wrt_params": _conv_grads},
}


def test_every_exercise_has_a_students_solution_here():
    assert set(SOLUTIONS) == set(BY_NAME)


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda e: e.name)
def test_a_students_solution_from_the_skeleton_passes(exercise):
    skeleton = _skeleton_class(exercise)
    student = type(exercise.class_name, (skeleton,), SOLUTIONS[exercise.name])
    for seed in (0, 3):
        for case in _cases(exercise, seed):
            for method in exercise.methods:
                assert _same(
                    method.run(student, case), method.run(exercise.reference, case), method
                ), (method.name, case.label)
            if exercise.gradient_check is not None:
                assert exercise.gradient_check(student, case) < 1e-6, case.label


@pytest.mark.parametrize("name", ["sum_of_squares", "l2", "exponential_decay"])
def test_a_method_that_returns_nothing_is_told_so(name):
    exercise = BY_NAME[name]
    method = exercise.methods[0]
    forgetful = type(exercise.class_name, (exercise.reference,), {method.name: lambda *a: None})
    with pytest.raises(TypeError, match=f"{method.name} must return a number, got NoneType"):
        method.run(forgetful, _cases(exercise)[0])


def test_students_classes_train_a_model_as_the_built_in_ones_do():
    def student(name: str) -> type:
        exercise = BY_NAME[name]
        return type(exercise.class_name, (_skeleton_class(exercise),), SOLUTIONS[name])

    def train(error: type, dropout: type, rule: type, scheduler: type) -> np.ndarray:
        rng = np.random.RandomState(4)
        inputs = rng.normal(size=(200, 6))
        labels = (inputs @ rng.normal(size=(6, 3))).argmax(1)
        data = OneOfKDataProvider(inputs, labels, batch_size=20, rng=rng)
        layers = [
            AffineLayer(6, 10, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
            ReluLayer(),
            dropout(rng=rng, incl_prob=0.8),
            AffineLayer(10, 3, GlorotUniformInit(rng=rng), ConstantInit(0.0)),
        ]
        optimiser = Optimiser(
            MultipleLayerModel(layers),
            error(),
            rule(learning_rate=0.05, mom_coeff=0.9),
            data,
            schedulers=[scheduler(learning_rate=0.05, decay=0.8)],
        )
        stats, _, _ = optimiser.train(num_epochs=3, stats_interval=1)
        return stats

    with default_dtype(np.float64):
        ours = train(
            CrossEntropySoftmaxError, DropoutLayer, MomentumLearningRule, ExponentialDecayScheduler
        )
        theirs = train(
            student("cross_entropy_softmax"),
            student("dropout"),
            student("momentum"),
            student("exponential_decay"),
        )
    np.testing.assert_allclose(theirs, ours, rtol=1e-9)
    assert ours[-1, 0] < ours[0, 0]  # it learned
