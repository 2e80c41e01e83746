"""Every way a learning rule can update gives the same numbers: the flat path of small
models, the chunked path of large ones, non-contiguous parameters, and the compiled
kernels of `mlp.kernels`; and the compiled kernels switch off cleanly."""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest

from mlp import kernels
from mlp import learning_rules as rules
from test_learning_rules import RULE_CASES, TORCH_TOL, RuleCase, torch_discrepancy

SHAPES = [(6, 5), (6,), (3, 6), (3,)]
NUM_STEPS = 20

needs_numba = pytest.mark.skipif(
    not kernels.available(), reason="compiled kernels need numba (pip install 'mlp[fast]')"
)


def _trajectory(case: RuleCase, dtype=np.float32, transposed: bool = False) -> list[np.ndarray]:
    """Params and rule state after 20 steps, flattened into one list of arrays."""
    rng = np.random.RandomState(0)
    params = [rng.normal(size=shape).astype(dtype) for shape in SHAPES]
    if transposed:  # the first weight matrix becomes a non-contiguous view
        params[0] = np.ascontiguousarray(params[0].T).T
        assert not params[0].flags.c_contiguous
    rule = case.make()
    rule.initialise(params)
    for _ in range(NUM_STEPS):
        rule.update_params([rng.normal(size=shape).astype(dtype) for shape in SHAPES])
    state = [a for name in rule._state_names for a in getattr(rule, name)]
    return [p.copy() for p in params] + [a.copy() for a in state]


def _assert_identical(result: list[np.ndarray], expected: list[np.ndarray]) -> None:
    for got, want in zip(result, expected, strict=True):
        np.testing.assert_array_equal(got, want)


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
    _assert_identical(chunked, flat)
    _assert_identical(strided, flat)


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_compiled_kernels_give_the_numpy_numbers_exactly(case, dtype, transposed) -> None:
    compiled = _trajectory(case, dtype, transposed)
    with kernels.numpy_updates():
        plain = _trajectory(case, dtype, transposed)
    _assert_identical(compiled, plain)


def _adam_case() -> RuleCase:
    (case,) = [c for c in RULE_CASES if c.name == "AdamLearningRule"]
    return case


def test_numpy_adam_matches_torch_as_the_compiled_one_does() -> None:
    # test_learning_rules compares the default path (compiled where numba is) with torch.
    with kernels.numpy_updates():
        assert torch_discrepancy(_adam_case()) < TORCH_TOL


@needs_numba
@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_each_rule_runs_its_own_kernel_unless_switched_off(case, monkeypatch) -> None:
    calls = []
    real = kernels.compiled

    def recording(name):
        kernel = real(name)
        return lambda *args: calls.append((name, args[0].size)) or kernel(*args)

    monkeypatch.setattr(kernels, "compiled", recording)
    params = [np.zeros(shape, np.float32) for shape in SHAPES]
    rule = case.make()
    rule.initialise(params)
    rule.update_params([np.ones(shape, np.float32) for shape in SHAPES])
    assert calls == [(rule._kernel, p.size) for p in params]
    assert all((p < 0).all() for p in params)
    with kernels.numpy_updates():
        assert not kernels.available() and real(rule._kernel) is None
    assert kernels.available() and real(rule._kernel) is not None


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


@needs_numba
def test_environment_variable_switches_compiled_updates_off(monkeypatch) -> None:
    monkeypatch.setenv("MLP_NO_JIT", "1")
    assert not kernels.available()
    monkeypatch.setenv("MLP_NO_JIT", "0")
    assert kernels.available()


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_gradients_a_kernel_cannot_take_get_the_numpy_numbers(case) -> None:
    # float64 gradients for float32 params, non-contiguous and read-only gradients.
    def run(grads_of):
        params = [np.linspace(-1, 1, int(np.prod(s)), dtype=np.float32).reshape(s) for s in SHAPES]
        rule = case.make()
        rule.initialise(params)
        for step in range(3):
            rule.update_params([grads_of(s, step) for s in SHAPES])
        return params

    def odd_grads(shape, step):  # weights': float64 and Fortran order; biases' read-only
        if len(shape) == 2:
            return np.asfortranarray(np.full(shape, 0.1 * (step + 1), np.float64))
        grad = np.full(shape, 0.1 * (step + 1), np.float32)
        grad.flags.writeable = False
        return grad

    with kernels.numpy_updates():
        expected = run(odd_grads)
    _assert_identical(run(odd_grads), expected)


def test_float16_parameters_are_updated_by_numpy() -> None:
    param = np.zeros(4, np.float16)
    rule = rules.AdamLearningRule(learning_rate=0.25)
    rule.initialise([param])
    rule.update_params([np.ones(4, np.float16)])
    np.testing.assert_array_equal(param, np.full(4, -0.25, np.float16))


def test_without_numba_the_numpy_update_is_used(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    monkeypatch.setattr(kernels, "_numba", None)
    monkeypatch.setattr(kernels, "_numba_missing", False)
    monkeypatch.setattr(kernels, "_compiled", {})
    assert not kernels.available()
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
    rule.initialise([param])
    with pytest.warns(RuntimeWarning, match="NumPy update"):
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
