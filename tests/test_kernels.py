"""Every way a learning rule can update gives the same bits: the flat path of small
models, the chunked path of large ones, non-contiguous parameters, and the compiled
kernels of `mlp.kernels`; the kernels report what NumPy reports, fall back where they do
not fit, and switch off cleanly."""

from __future__ import annotations

import sys
import threading
import warnings

import numpy as np
import pytest

from mlp import kernels
from mlp import learning_rules as rules
from test_learning_rules import RULE_CASES, TORCH_TOL, RuleCase, torch_discrepancy

SHAPES = [(6, 5), (6,), (3, 6), (3,)]
NUM_STEPS = 20

needs_numba = pytest.mark.skipif(
    not kernels.enabled(), reason="compiled kernels need numba (pip install 'mlp[fast]')"
)


def _trajectory(
    case: RuleCase, dtype=np.float32, transposed: bool = False, shapes=SHAPES, grads=None
) -> list[np.ndarray]:
    """Params and rule state after 20 steps, flattened into one list of arrays."""
    rng = np.random.RandomState(0)
    params = [rng.normal(size=shape).astype(dtype) for shape in shapes]
    if transposed:  # the first weight matrix becomes a non-contiguous view
        params[0] = np.ascontiguousarray(params[0].T).T
        assert not params[0].flags.c_contiguous
    rule = case.make()
    rule.initialise(params)
    for step in range(NUM_STEPS):
        if grads is None:
            rule.update_params([rng.normal(size=shape).astype(dtype) for shape in shapes])
        else:
            rule.update_params(grads(step))
    state = [a for name in rule._state_names for a in getattr(rule, name)]
    return [p.copy() for p in params] + [a.copy() for a in state]


def _assert_same_bits(result: list[np.ndarray], expected: list[np.ndarray]) -> None:
    """Equal bit for bit: NaN payloads and the sign of zero included."""
    for got, want in zip(result, expected, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        unsigned = np.dtype(f"u{got.dtype.itemsize}")
        np.testing.assert_array_equal(got.view(unsigned), want.view(unsigned))


def _recording_kernels(monkeypatch) -> list[tuple[str, int]]:
    """Make every compiled kernel call that ran append (kernel name, parameter size)."""
    calls: list[tuple[str, int]] = []
    real = kernels.compiled

    def recording(name):
        kernel = real(name)
        if kernel is None:
            return None

        def run(*args):
            finite = kernel(*args)  # a refused call raises here and is not recorded
            calls.append((name, args[0].size))
            return finite

        return run

    monkeypatch.setattr(kernels, "compiled", recording)
    return calls


def _adam_case() -> RuleCase:
    (case,) = [c for c in RULE_CASES if c.name == "AdamLearningRule"]
    return case


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flat_chunked_and_strided_numpy_paths_agree_exactly(case, dtype, monkeypatch) -> None:
    with kernels.numpy_updates():
        flat = _trajectory(case, dtype)
        assert rules.FUSE_LIMIT >= sum(np.prod(s) for s in SHAPES)  # flat path taken above
        monkeypatch.setattr(rules, "FUSE_LIMIT", 0)
        monkeypatch.setattr(rules, "CHUNK_SIZE", 7)  # several chunks, the last one short
        chunked = _trajectory(case, dtype)
        strided = _trajectory(case, dtype, transposed=True)
    _assert_same_bits(chunked, flat)
    _assert_same_bits(strided, flat)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_compiled_kernels_give_the_numpy_bits(case, dtype, transposed) -> None:
    compiled = _trajectory(case, dtype, transposed)
    with kernels.numpy_updates():
        plain = _trajectory(case, dtype, transposed)
    _assert_same_bits(compiled, plain)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_compiled_kernels_match_the_chunked_path_at_full_size(case) -> None:
    # 300,000 + 500 parameters: more than FUSE_LIMIT, so NumPy takes real CHUNK_SIZE chunks.
    shapes = [(600, 500), (500,)]
    assert sum(np.prod(s) for s in shapes) > rules.FUSE_LIMIT > rules.CHUNK_SIZE
    compiled = _trajectory(case, shapes=shapes)
    with kernels.numpy_updates():
        plain = _trajectory(case, shapes=shapes)
    _assert_same_bits(compiled, plain)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_non_finite_gradients_give_the_same_bits_and_a_warning(case) -> None:
    # inf, NaN, -0.0, an overflow of g**2 and a denormal, in every step.
    special = np.array([np.inf, np.nan, -0.0, 3e38, 1e-42, 1.0], np.float32)
    shapes = [(6,)]

    def grads(step):
        return [np.roll(special, step)]

    with pytest.warns(RuntimeWarning, match="inf or NaN"):
        compiled = _trajectory(case, shapes=shapes, grads=grads)
    with kernels.numpy_updates(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = _trajectory(case, shapes=shapes, grads=grads)
    _assert_same_bits(compiled, plain)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("value", [1e20, 3e38, np.inf])
def test_where_numpy_warns_of_overflow_the_kernel_warns_too(case, value) -> None:
    def warns(numpy_only: bool) -> bool:
        param = np.zeros(2, np.float32)
        rule = case.make()
        rule.initialise([param])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if numpy_only:
                with kernels.numpy_updates():
                    rule.update_params([np.array([value, 1.0], np.float32)])
            else:
                rule.update_params([np.array([value, 1.0], np.float32)])
        return any(issubclass(w.category, RuntimeWarning) for w in caught)

    assert warns(numpy_only=False) or not warns(numpy_only=True)


@needs_numba
def test_a_changed_numpy_error_state_is_obeyed_by_using_numpy(monkeypatch) -> None:
    calls = _recording_kernels(monkeypatch)
    param = np.zeros(3, np.float32)
    rule = rules.AdamLearningRule(epsilon=1e-50)  # 0 in float32: 0 / 0 on a zero gradient
    rule.initialise([param])
    with np.errstate(all="raise"), pytest.raises(FloatingPointError):
        rule.update_params([np.array([1.0, 0.0, 1.0], np.float32)])
    assert calls == []  # NumPy raised; a kernel would have written NaN silently


def test_numpy_adam_matches_torch_as_the_compiled_one_does() -> None:
    # test_learning_rules compares the default path (compiled where numba is) with torch.
    with kernels.numpy_updates():
        assert torch_discrepancy(_adam_case()) < TORCH_TOL


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_each_rule_runs_its_own_kernel_unless_switched_off(case, monkeypatch) -> None:
    calls = _recording_kernels(monkeypatch)
    params = [np.zeros(shape, np.float32) for shape in SHAPES]
    rule = case.make()
    rule.initialise(params)
    rule.update_params([np.ones(shape, np.float32) for shape in SHAPES])
    assert calls == [(rule._kernel, p.size) for p in params]
    assert all((p < 0).all() for p in params)
    calls.clear()
    with kernels.numpy_updates():
        assert not kernels.enabled()
        rule.update_params([np.ones(shape, np.float32) for shape in SHAPES])
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


class _SignDescent(rules.GradientDescentLearningRule):
    """A rule of a user's own: a new `_step`, no kernel of its own."""

    def _step(self, grad, step, learning_rate) -> None:  # type: ignore[override]
        np.sign(grad, out=step)
        step *= learning_rate


@needs_numba
def test_a_subclass_with_its_own_step_is_not_given_its_parents_kernel() -> None:
    param = np.zeros(3, np.float32)
    rule = _SignDescent(learning_rate=0.5)
    rule.initialise([param])
    rule.update_params([np.array([10.0, -3.0, 0.0], np.float32)])
    np.testing.assert_array_equal(param, [-0.5, 0.5, 0.0])


class _DecayingAdam(rules.AdamLearningRule):
    """A schedule of a user's own that returns NumPy float64 scalars."""

    def _step_constants(self):
        step_size, epsilon = super()._step_constants()
        return (np.float64(step_size) / np.sqrt(np.float64(self.step_count)), np.float64(epsilon))


@needs_numba
def test_numpy_scalars_from_step_constants_give_the_same_bits() -> None:
    case = RuleCase(
        "DecayingAdam", lambda: _DecayingAdam(learning_rate=0.02), _adam_case().make_torch
    )
    compiled = _trajectory(case)
    with kernels.numpy_updates():
        plain = _trajectory(case)
    _assert_same_bits(compiled, plain)


@needs_numba
def test_environment_variable_switches_compiled_updates_off(monkeypatch) -> None:
    monkeypatch.setenv("MLP_NO_JIT", "1")
    assert not kernels.enabled()
    monkeypatch.setenv("MLP_NO_JIT", "0")
    assert kernels.enabled()


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_gradients_a_kernel_cannot_take_get_the_numpy_bits(case, monkeypatch) -> None:
    # Biases' gradients: float64 (cast first) or read-only; weights' gradients overlap
    # their parameter, which a one-pass loop would read after writing.
    def run():
        params = [np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for s in SHAPES]
        rule = case.make()
        rule.initialise(params)
        for step in range(3):
            grads = []
            for param in params:
                if param.ndim == 2:
                    grads.append(param.T.T[::-1])  # a reversed view of the parameter itself
                elif param.size == 6:
                    grads.append(np.full(param.shape, 0.1 * (step + 1), np.float64))
                else:
                    grad = np.full(param.shape, 0.1 * (step + 1), np.float32)
                    grad.flags.writeable = False
                    grads.append(grad)
            rule.update_params(grads)
        return params

    calls = _recording_kernels(monkeypatch)
    compiled = run()
    assert calls == [(case.make()._kernel, 6), (case.make()._kernel, 3)] * 3  # biases only
    with kernels.numpy_updates():
        plain = run()
    _assert_same_bits(compiled, plain)


@needs_numba
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_parameters_a_kernel_cannot_take_are_left_to_numpy(monkeypatch) -> None:
    calls = _recording_kernels(monkeypatch)
    half = np.zeros(4, np.float16)
    matrix = np.asmatrix(np.zeros((2, 2), np.float32))
    rule = rules.AdamLearningRule(learning_rate=0.25)
    rule.initialise([half])
    rule.update_params([np.ones(4, np.float16)])
    np.testing.assert_array_equal(half, np.full(4, -0.25, np.float16))
    rule = rules.AdamLearningRule(learning_rate=0.25)
    rule.initialise([matrix])
    rule.update_params([np.ones((2, 2), np.float32)])
    np.testing.assert_array_equal(matrix, np.full((2, 2), -0.25, np.float32))
    frozen = np.zeros(4, np.float32)
    rule.initialise([frozen])
    frozen.flags.writeable = False  # after initialise: the kernel refuses it at the call
    with pytest.raises(ValueError, match="read-only"):
        rule.update_params([np.ones(4, np.float32)])
    assert calls == []


def test_complex_gradients_are_refused_not_truncated() -> None:
    rule = rules.GradientDescentLearningRule()
    rule.initialise([np.zeros(2, np.float32)])
    with pytest.raises(TypeError, match="same_kind"):
        rule.update_params([np.array([1 + 1j, 2], np.complex64)])


def test_without_numba_the_numpy_update_is_used(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    monkeypatch.setattr(kernels, "_numba", None)
    monkeypatch.setattr(kernels, "_numba_missing", False)
    monkeypatch.setattr(kernels, "_compiled", {})
    assert not kernels.enabled()
    param = np.zeros(4, np.float32)
    rule = rules.AdamLearningRule()
    rule.initialise([param])
    rule.update_params([np.ones(4, np.float32)])
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)  # Adam's first step: lr * sign(g)


@needs_numba
def test_a_kernel_that_fails_to_compile_warns_and_falls_back(monkeypatch) -> None:
    import numba

    def broken_njit(*signatures, **options):
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(kernels, "_compiled", {})
    param = np.zeros(4, np.float32)
    rule = rules.AdamLearningRule()
    with pytest.warns(RuntimeWarning, match="NumPy update") as record:
        rule.initialise([param])  # where the kernel is compiled, ahead of training
    assert record[0].filename == __file__  # the warning points at the caller
    rule.update_params([np.ones(4, np.float32)])
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rule.update_params([np.ones(4, np.float32)])  # warned once, then quietly NumPy


@needs_numba
def test_without_a_writable_cache_the_kernel_is_compiled_each_run(monkeypatch) -> None:
    import numba

    real_njit = numba.njit

    def njit_without_cache(*signatures, cache=False, **options):
        if cache:
            raise RuntimeError("cannot cache function: no locator available")
        return real_njit(*signatures, **options)

    monkeypatch.setattr(numba, "njit", njit_without_cache)
    monkeypatch.setattr(kernels, "_compiled", {})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert kernels.compiled("gradient_descent") is not None


@needs_numba
def test_initialise_loads_the_kernel_so_the_first_epoch_does_not_pay_for_it(monkeypatch):
    monkeypatch.setattr(kernels, "_compiled", {})
    rule = rules.MomentumLearningRule()
    rule.initialise([np.zeros(3, np.float32)])
    assert kernels._compiled.get("momentum") is not None
