"""The fast path (`mlp._fast`) gives the plain path's numbers.

The reference is a rule's own `update_params`, which runs its textbook `_step` on each
parameter. Every fast way of doing that step is compared with it: NumPy on the whole
model at once (fused) or in chunks, strided parameters, the compiled kernels, for every
rule, float32 and float64, finite and non-finite gradients. `ULPS` says, per rule, how
far each fast path may be from the plain one in one step: 0 means bit for bit.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import mlp._fast.kernels as fast_kernels
from mlp import kernels
from mlp import learning_rules as rules
from mlp._fast import fast_updater, training_step
from mlp._fast import updates as fast_updates
from test_learning_rules import RULE_CASES, TORCH_TOL, RuleCase, torch_discrepancy

# Adam with short memories: 1 - beta**t rounds to 1 within the 20 steps, where the fast
# paths skip the division by it.
RULE_CASES = [
    *RULE_CASES,
    RuleCase(
        "AdamLearningRule-short-memory",
        lambda: rules.AdamLearningRule(learning_rate=0.02, beta_1=0.01, beta_2=0.05),
        lambda params: torch.optim.Adam(params, lr=0.02, betas=(0.01, 0.05)),
    ),
]

ULPS = {case.name: 0 for case in RULE_CASES}
"""Per rule, the most units in the last place a fast step may differ from the plain one.
All 0: every fast path does the same float operations in the same order as `_step`
(only x * y against y * x, which round alike), so they agree bit for bit."""

SHAPES = [(6, 5), (6,), (3, 6), (3,)]
LARGE_SHAPES = [(600, 500), (500,)]  # more than FUSE_LIMIT entries: real CHUNK_SIZE chunks
NUM_STEPS = 20

needs_numba = pytest.mark.skipif(
    not kernels.enabled(), reason="compiled kernels need numba (pip install 'mlp[fast]')"
)
LAYOUTS = ["fused", "chunked", "strided", "strided-unfused"]


def _params(shapes, dtype, strided: bool) -> list[np.ndarray]:
    rng = np.random.RandomState(0)
    params = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    if strided:  # the first weight matrix becomes a non-contiguous view
        params[0] = np.ascontiguousarray(params[0].T).T
        assert not params[0].flags.c_contiguous
    return params


def _random_grads(shapes, dtype, num_steps: int = NUM_STEPS) -> list[list[np.ndarray]]:
    rng = np.random.RandomState(1)
    return [[rng.normal(size=s).astype(dtype) for s in shapes] for _ in range(num_steps)]


def _outcome(rule: rules.GradientDescentLearningRule) -> list[np.ndarray]:
    """Copies of the params and every state array of the rule."""
    state = [a for name in rule.state_names for a in getattr(rule, name)]
    return [a.copy() for a in [*rule.params, *state]]


def _plain(case: RuleCase, params, grads_sequence) -> list[np.ndarray]:
    rule = case.make()
    rule.initialise(params)
    for grads in grads_sequence:
        rule.update_params(grads)
    return _outcome(rule)


@contextlib.contextmanager
def _compiled_if(compiled: bool) -> Iterator[None]:
    if compiled:
        yield
    else:
        with kernels.numpy_updates():
            yield


def _fast(case: RuleCase, params, grads_sequence, compiled: bool) -> list[np.ndarray]:
    rule = case.make()
    rule.initialise(params)
    update = fast_updater(rule)
    assert update is not None
    with _compiled_if(compiled):
        for grads in grads_sequence:
            update(grads)
    return _outcome(rule)


def _ulps_apart(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Units in the last place between two float arrays (0 for two NaNs of any payload)."""
    bits = np.dtype(f"i{got.dtype.itemsize}")

    def ordered(a: np.ndarray) -> np.ndarray:  # floats -> integers in the same order
        i = a.view(bits).astype(np.int64)
        return np.where(i < 0, np.iinfo(bits).min - i, i)

    apart = np.abs(ordered(got) - ordered(want))
    return np.where(np.isnan(got) & np.isnan(want), 0, apart)


def _assert_agree(got: list[np.ndarray], want: list[np.ndarray], ulps: int) -> None:
    """Equal bit for bit (NaN payloads and the sign of zero included) when `ulps` is 0,
    else no more than `ulps` apart."""
    for a, b in zip(got, want, strict=True):
        assert a.dtype == b.dtype and a.shape == b.shape
        if ulps == 0:
            unsigned = np.dtype(f"u{a.dtype.itemsize}")
            np.testing.assert_array_equal(a.view(unsigned), b.view(unsigned))
        else:
            assert _ulps_apart(a, b).max(initial=0) <= ulps


def _layout(layout: str, monkeypatch) -> bool:
    """Set up a layout; return whether its parameters are strided."""
    if layout in ("chunked", "strided-unfused"):
        monkeypatch.setattr(fast_updates, "FUSE_LIMIT", 0)
        monkeypatch.setattr(fast_updates, "CHUNK_SIZE", 7)  # several chunks, the last short
    return layout.startswith("strided")


def _compare(case, dtype, layout, compiled, monkeypatch, shapes=SHAPES, steps=NUM_STEPS):
    strided = _layout(layout, monkeypatch)
    grads_sequence = _random_grads(shapes, dtype, steps)
    want = _plain(case, _params(shapes, dtype, strided), grads_sequence)
    got = _fast(case, _params(shapes, dtype, strided), grads_sequence, compiled)
    _assert_agree(got, want, ULPS[case.name])


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_numpy_fast_paths_give_the_plain_numbers(case, dtype, layout, monkeypatch) -> None:
    _compare(case, dtype, layout, False, monkeypatch)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_compiled_kernels_give_the_plain_numbers(case, dtype, layout, monkeypatch) -> None:
    _compare(case, dtype, layout, True, monkeypatch)


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_large_models_give_the_plain_numbers(case, compiled, monkeypatch) -> None:
    assert sum(np.prod(s) for s in LARGE_SHAPES) > fast_updates.FUSE_LIMIT
    assert LARGE_SHAPES[0][0] * LARGE_SHAPES[0][1] > fast_updates.CHUNK_SIZE
    _compare(case, np.float32, "large", compiled, monkeypatch, LARGE_SHAPES, steps=4)


SPECIAL = {  # inf, NaN, -0.0, an overflow of g**2, a denormal, an ordinary value
    np.float32: [np.inf, np.nan, -0.0, 3e38, 1e-42, 1.0],
    np.float64: [np.inf, np.nan, -0.0, 1e308, 1e-315, 1.0],
}


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_non_finite_and_denormal_gradients_give_the_plain_numbers(case, dtype, compiled):
    special = np.array(SPECIAL[dtype], dtype)
    grads_sequence = [[np.roll(special, step)] for step in range(NUM_STEPS)]
    params = [np.linspace(-1, 1, 6, dtype=dtype)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = _plain(case, [p.copy() for p in params], grads_sequence)
        got = _fast(case, [p.copy() for p in params], grads_sequence, compiled)
    assert not np.isfinite(want[0]).all()  # the case did reach inf or NaN
    _assert_agree(got, want, ULPS[case.name])


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_a_kernel_that_writes_inf_or_nan_warns(case) -> None:
    rule = case.make()
    rule.initialise([np.zeros(6, np.float32)])
    update = fast_updater(rule)
    with pytest.warns(RuntimeWarning, match="inf or NaN") as record:
        update([np.array(SPECIAL[np.float32], np.float32)])
    assert record[0].filename == __file__  # pointed at the caller, not at mlp


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("value", [1e20, 3e38, np.inf])
def test_where_numpy_warns_of_overflow_the_kernel_warns_too(case, value) -> None:
    def warns(compiled: bool) -> bool:
        rule = case.make()
        rule.initialise([np.zeros(2, np.float32)])
        update = fast_updater(rule)
        with warnings.catch_warnings(record=True) as caught, _compiled_if(compiled):
            warnings.simplefilter("always")
            update([np.array([value, 1.0], np.float32)])
        return any(issubclass(w.category, RuntimeWarning) for w in caught)

    assert warns(compiled=True) or not warns(compiled=False)


def _recording_kernels(monkeypatch) -> list[tuple[str, int]]:
    """Make every compiled kernel call that ran append (kernel name, parameter size)."""
    calls: list[tuple[str, int]] = []
    real = fast_kernels.compiled

    def recording(name):
        kernel = real(name)
        if kernel is None:
            return None

        def run(*args):
            finite = kernel(*args)  # a refused call raises here and is not recorded
            calls.append((name, args[0].size))
            return finite

        return run

    monkeypatch.setattr(fast_kernels, "compiled", recording)
    return calls


@needs_numba
def test_a_changed_numpy_error_state_is_obeyed_by_using_numpy(monkeypatch) -> None:
    calls = _recording_kernels(monkeypatch)
    rule = rules.AdamLearningRule(epsilon=1e-50)  # 0 in float32: 0 / 0 on a zero gradient
    rule.initialise([np.zeros(3, np.float32)])
    update = fast_updater(rule)
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        update([np.array([1.0, 0.0, 1.0], np.float32)])
    assert calls == []  # NumPy raised; a kernel would have written NaN silently


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_fast_updates_match_torch_as_the_plain_ones_do(case, compiled) -> None:
    with _compiled_if(compiled):
        assert torch_discrepancy(case, make_update=fast_updater) < TORCH_TOL


KERNEL_NAMES = {
    "AdamLearningRule-short-memory": "adam",
    "GradientDescentLearningRule": "gradient_descent",
    "MomentumLearningRule": "momentum",
    "NesterovMomentumLearningRule": "nesterov",
    "AdaGradLearningRule": "adagrad",
    "RMSPropLearningRule": "rmsprop",
    "AdamLearningRule": "adam",
}


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_each_rule_runs_its_own_kernel_unless_switched_off(case, monkeypatch) -> None:
    calls = _recording_kernels(monkeypatch)
    params = [np.zeros(shape, np.float32) for shape in SHAPES]
    rule = case.make()
    rule.initialise(params)
    update = fast_updater(rule)
    update([np.ones(shape, np.float32) for shape in SHAPES])
    assert calls == [(KERNEL_NAMES[case.name], p.size) for p in params]
    assert all((p < 0).all() for p in params)
    calls.clear()
    with kernels.numpy_updates():
        assert not kernels.enabled()
        update([np.ones(shape, np.float32) for shape in SHAPES])
    assert calls == [] and kernels.enabled()


@needs_numba
def test_numpy_updates_switches_kernels_off_in_its_own_thread_only() -> None:
    seen = {}
    inside, done = threading.Event(), threading.Event()

    def other_thread():
        inside.wait()
        seen["other"] = kernels.enabled()
        done.set()

    thread = threading.Thread(target=other_thread)
    thread.start()
    with kernels.numpy_updates():
        inside.set()
        done.wait()
        seen["this"] = kernels.enabled()
    thread.join()
    assert seen == {"this": False, "other": True}


@needs_numba
def test_environment_variable_switches_compiled_updates_off(monkeypatch) -> None:
    monkeypatch.setenv("MLP_NO_JIT", "1")
    assert not kernels.enabled()
    monkeypatch.setenv("MLP_NO_JIT", "0")
    assert kernels.enabled()


# --- rules of one's own ---------------------------------------------------------------


class _SignDescent(rules.GradientDescentLearningRule):
    """A rule of a user's own: a new `_step`."""

    def _step(self, param, grad, *state) -> None:
        param -= self.learning_rate * np.sign(grad)


class _CountingAdam(rules.AdamLearningRule):
    """A subclass that changes `update_params`."""

    calls = 0

    def update_params(self, grads_wrt_params) -> None:
        self.calls += 1
        super().update_params(grads_wrt_params)


class _QuietAdam(rules.AdamLearningRule):
    """A subclass that changes neither `_step` nor `update_params`."""

    def __init__(self) -> None:
        super().__init__(learning_rate=0.02, beta_1=0.8)


def _one_batch_model():
    from mlp.errors import SumOfSquaredDiffsError
    from mlp.initialisers import ConstantInit
    from mlp.layers import AffineLayer
    from mlp.models import SingleLayerModel

    model = SingleLayerModel(AffineLayer(2, 3, ConstantInit(0.0), ConstantInit(0.0)))
    return model, SumOfSquaredDiffsError()


def test_a_rule_with_its_own_step_or_update_runs_its_own_code() -> None:
    assert fast_updater(_init(_SignDescent(learning_rate=0.5))) is None
    assert fast_updater(_init(_CountingAdam())) is None
    assert fast_updater(_init(_QuietAdam())) is not None
    inputs, targets = np.ones((4, 2), np.float32), np.full((4, 3), 10.0, np.float32)
    for rule in (_SignDescent(learning_rate=0.5), _CountingAdam()):
        model, error = _one_batch_model()
        rule.initialise(model.params)
        training_step(model, error, rule)(inputs, targets)
        if isinstance(rule, _SignDescent):
            np.testing.assert_array_equal(model.params[1], [0.5, 0.5, 0.5])  # its own step
    assert rule.calls == 1


def _init(rule):
    rule.initialise([np.zeros(3, np.float32)])
    return rule


def test_a_numpy_float64_learning_rate_gives_the_same_bits() -> None:
    # A schedule of a user's own may set NumPy scalars; the rule keeps a Python float,
    # so the plain path computes in float32 as the kernels do (a NumPy float64 would make
    # NumPy compute the update in float64).
    adam = next(c for c in RULE_CASES if c.name == "AdamLearningRule")

    def make():
        rule = adam.make()
        rule.learning_rate = np.float64(0.02) / np.sqrt(np.float64(3.0))
        assert type(rule.learning_rate) is float
        return rule

    case = RuleCase("DecayedAdam", make, adam.make_torch)
    grads_sequence = _random_grads(SHAPES, np.float32)
    want = _plain(case, _params(SHAPES, np.float32, False), grads_sequence)
    for compiled in (False, True):
        got = _fast(case, _params(SHAPES, np.float32, False), grads_sequence, compiled)
        _assert_agree(got, want, 0)


# --- what the fast path leaves to the plain one ---------------------------------------


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_gradients_the_fast_path_cannot_take_get_the_plain_numbers(case, compiled) -> None:
    # Weights' gradients overlap their parameter (a reversed view of it); biases'
    # gradients are float64 (cast first) or read-only.
    def grads_for(params, step):
        grads = []
        for param in params:
            if param.ndim == 2:
                grads.append(param.T.T[::-1])
            elif param.size == 6:
                grads.append(np.full(param.shape, 0.1 * (step + 1), np.float64))
            else:
                grad = np.full(param.shape, 0.1 * (step + 1), np.float32)
                grad.flags.writeable = False
                grads.append(grad)
        return grads

    def run(update_of):
        params = [np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for s in SHAPES]
        rule = case.make()
        rule.initialise(params)
        update = update_of(rule)
        with _compiled_if(compiled):
            for step in range(3):
                update(grads_for(params, step))
        return _outcome(rule)

    _assert_agree(run(fast_updater), run(lambda rule: rule.update_params), 0)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_parameters_the_fast_path_cannot_take_are_left_to_the_plain_update() -> None:
    half = np.zeros(4, np.float16)
    rule = rules.AdamLearningRule(learning_rate=0.25)
    rule.initialise([half])
    fast_updater(rule)([np.ones(4, np.float16)])
    np.testing.assert_array_equal(half, np.full(4, -0.25, np.float16))
    matrix = np.asmatrix(np.zeros((2, 2), np.float32))
    rule.initialise([matrix])
    fast_updater(rule)([np.ones((2, 2), np.float32)])
    np.testing.assert_array_equal(matrix, np.full((2, 2), -0.25, np.float32))
    frozen = np.zeros(4, np.float32)
    rule.initialise([frozen])
    update = fast_updater(rule)
    frozen.flags.writeable = False  # after the layout: seen at the step
    with pytest.raises(ValueError, match="read-only"):
        update([np.ones(4, np.float32)])


def test_complex_gradients_are_refused_not_truncated() -> None:
    update = fast_updater(_init(rules.GradientDescentLearningRule()))
    with pytest.raises(TypeError, match="same_kind"):
        update([np.array([1 + 1j, 2, 3], np.complex64)])


def test_wrong_gradients_raise_as_the_plain_update_does() -> None:
    update = fast_updater(_init(rules.MomentumLearningRule()))
    with pytest.raises(ValueError, match="gradients"):
        update([np.zeros(3, np.float32)] * 2)
    with pytest.raises(ValueError, match="shape"):
        update([np.zeros(4, np.float32)])


# --- the rule's state, re-homed ---------------------------------------------------------


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_plain_and_fast_steps_share_the_rule_state(case) -> None:
    grads_sequence = _random_grads(SHAPES, np.float32, 8)
    want = _plain(case, _params(SHAPES, np.float32, False), grads_sequence)
    rule = case.make()
    rule.initialise(_params(SHAPES, np.float32, False))
    update = fast_updater(rule)
    for i, grads in enumerate(grads_sequence):  # alternate: fast, plain, fast, ...
        (update if i % 2 == 0 else rule.update_params)(grads)
    _assert_agree(_outcome(rule), want, 0)
    assert rule.step_count == len(grads_sequence)


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_state_reset_and_reinitialise_reach_the_fast_path(case) -> None:
    grads_sequence = _random_grads(SHAPES, np.float32, 6)
    params = _params(SHAPES, np.float32, False)
    rule = case.make()
    rule.initialise(params)
    update = fast_updater(rule)
    for grads in grads_sequence[:3]:
        update(grads)
    saved, saved_params = rule.state(), [p.copy() for p in params]
    for grads in grads_sequence[3:]:
        update(grads)
    after_six = _outcome(rule)

    for param, value in zip(params, saved_params, strict=True):
        param[...] = value
    rule.load_state(saved)  # into the fast path's arrays
    for grads in grads_sequence[3:]:
        update(grads)
    _assert_agree(_outcome(rule), after_six, 0)

    fresh = _params(SHAPES, np.float32, False)
    rule.initialise(fresh)  # new arrays: the updater follows them
    for grads in grads_sequence:
        update(grads)
    _assert_agree(_outcome(rule), after_six, 0)
    assert all(p is q for p, q in zip(rule.params, fresh, strict=True))

    rule.reset()
    for param, value in zip(fresh, _params(SHAPES, np.float32, False), strict=True):
        param[...] = value
    for grads in grads_sequence:
        update(grads)
    _assert_agree(_outcome(rule), after_six, 0)


@pytest.mark.parametrize("compiled", [False, pytest.param(True, marks=needs_numba)])
def test_an_optimiser_trains_as_the_plain_calls_do(compiled) -> None:
    from mlp.data_providers import DataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import GlorotUniformInit
    from mlp.layers import AffineLayer, ReluLayer
    from mlp.models import MultipleLayerModel
    from mlp.optimisers import Optimiser

    def train(rule) -> list[np.ndarray]:
        rng = np.random.RandomState(2)
        model = MultipleLayerModel(
            [
                AffineLayer(5, 8, GlorotUniformInit(rng=rng)),
                ReluLayer(),
                AffineLayer(8, 3, GlorotUniformInit(rng=rng)),
            ]
        )
        inputs = rng.normal(size=(40, 5)).astype(np.float32)
        targets = np.eye(3, dtype=np.float32)[rng.randint(3, size=40)]
        data = DataProvider(inputs, targets, batch_size=8, rng=rng)
        optimiser = Optimiser(model, CrossEntropySoftmaxError(), rule, data)
        with _compiled_if(compiled):
            optimiser.do_training_epoch()
            optimiser.do_training_epoch()
        return _outcome(rule)

    fast = train(rules.AdamLearningRule(learning_rate=0.01))
    plain = train(_CountingAdam(learning_rate=0.01))  # runs the rule's own update_params
    _assert_agree(fast, plain, 0)


# --- numba itself ----------------------------------------------------------------------


def test_without_numba_the_numpy_update_is_used(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    monkeypatch.setattr(fast_kernels, "_numba", None)
    monkeypatch.setattr(fast_kernels, "_numba_missing", False)
    monkeypatch.setattr(fast_kernels, "_compiled", {})
    assert not kernels.enabled()
    param = np.zeros(4, np.float32)
    rule = rules.AdamLearningRule()
    rule.initialise([param])
    fast_updater(rule)([np.ones(4, np.float32)])
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)  # Adam's first step: lr * sign(g)


@needs_numba
def test_a_kernel_that_fails_to_compile_warns_and_falls_back(monkeypatch) -> None:
    import numba

    def broken_njit(*signatures, **options):
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(fast_kernels, "_compiled", {})
    param = np.zeros(4, np.float32)
    rule = rules.AdamLearningRule()
    rule.initialise([param])
    with pytest.warns(RuntimeWarning, match="NumPy update") as record:
        update = fast_updater(rule)  # where the kernel is compiled, ahead of training
    assert record[0].filename == __file__  # the warning points at the caller
    update([np.ones(4, np.float32)])
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        update([np.ones(4, np.float32)])  # warned once, then quietly NumPy


@needs_numba
def test_without_a_writable_cache_the_kernel_is_compiled_each_run(monkeypatch) -> None:
    import numba

    real_njit = numba.njit

    def njit_without_cache(*signatures, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real_njit(*signatures, **options)

    monkeypatch.setattr(numba, "njit", njit_without_cache)
    monkeypatch.setattr(fast_kernels, "_compiled", {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kernels.compiled("gradient_descent") is not None


@needs_numba
def test_building_the_training_step_loads_the_kernel(monkeypatch) -> None:
    # So that the first epoch does not pay for importing numba and loading the kernel.
    monkeypatch.setattr(fast_kernels, "_compiled", {})
    model, error = _one_batch_model()
    rule = rules.MomentumLearningRule()
    rule.initialise(model.params)
    training_step(model, error, rule)
    assert fast_kernels._compiled.get("momentum") is not None


def test_the_public_kernels_module_is_the_fast_one() -> None:
    assert kernels.numpy_updates is fast_kernels.numpy_updates
    assert kernels.enabled is fast_kernels.enabled
    assert set(kernels.KERNELS) == set(KERNEL_NAMES.values())
    assert {cls.__name__ for cls in fast_updates.FAST_RULES} < set(KERNEL_NAMES)


def test_ulps_apart_counts_representable_floats_between() -> None:
    one = np.array([1.0, -2.0, 0.0, np.nan], np.float32)
    up = np.nextafter(np.nextafter(one, np.float32(np.inf)), np.float32(np.inf))
    assert list(_ulps_apart(up, one)) == [2, 2, 2, 0]
    assert _ulps_apart(np.array([-0.0]), np.array([0.0]))[0] == 0


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_numpy_updates_warn_of_an_inf_or_nan_step_as_the_kernels_do(
    case, layout, bad, monkeypatch
) -> None:
    strided = _layout(layout, monkeypatch)
    rule = case.make()
    rule.initialise(_params(SHAPES, np.float32, strided))
    update = fast_updater(rule)
    grads = _random_grads(SHAPES, np.float32, 1)[0]
    grads[2][1, 3] = bad
    with kernels.numpy_updates(), pytest.warns(RuntimeWarning) as record:
        update(grads)
    # NumPy may warn of its own invalid operation (inf / inf) too; ours names the parameter.
    ours = [w for w in record if "inf or NaN" in str(w.message)]
    assert len(ours) == 1 and "parameter 2" in str(ours[0].message)
    assert ours[0].filename == __file__  # pointed at the caller, not at mlp
    assert not np.isfinite(rule.params[2]).all()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_numpy_updates_with_finite_gradients_do_not_warn(layout, monkeypatch) -> None:
    strided = _layout(layout, monkeypatch)
    rule = rules.AdamLearningRule()
    rule.initialise(_params(SHAPES, np.float32, strided))
    update = fast_updater(rule)
    with kernels.numpy_updates(), warnings.catch_warnings():
        warnings.simplefilter("error")
        for grads in _random_grads(SHAPES, np.float32, 3):
            update(grads)
