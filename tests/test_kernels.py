"""Every way a learning rule can update gives the same numbers: the flat path of small
models, the chunked path of large ones, non-contiguous parameters, and the compiled
kernels of `mlp.kernels`; and the compiled kernels switch off cleanly."""

from __future__ import annotations

import sys

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
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transposed", [False, True])
def test_compiled_adam_gives_the_numpy_numbers_exactly(dtype, transposed) -> None:
    case = _adam_case()
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
def test_compiled_adam_runs_and_numpy_updates_switches_it_off(monkeypatch) -> None:
    calls = []
    real = kernels.adam_update
    monkeypatch.setattr(kernels, "adam_update", lambda *a: calls.append(1) or real(*a))
    param = np.zeros(10, np.float32)
    rule = rules.AdamLearningRule()
    rule.initialise([param])
    rule.update_params([np.ones(10, np.float32)])
    assert calls and kernels.available()
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)  # Adam's first step: lr * sign(g)
    with kernels.numpy_updates():
        assert not kernels.available()
        assert not real(param, param.copy(), param.copy(), param.copy(), 0.9, 0.999, 1.0, 1e-8)
    assert kernels.available()


@needs_numba
def test_environment_variable_switches_compiled_updates_off(monkeypatch) -> None:
    monkeypatch.setenv("MLP_NO_JIT", "1")
    assert not kernels.available()
    monkeypatch.setenv("MLP_NO_JIT", "0")
    assert kernels.available()


@needs_numba
def test_adam_kernel_declines_arrays_it_cannot_update_in_place() -> None:
    def arrays(n=8, dtype=np.float32):
        return [np.zeros(n, dtype) for _ in range(4)]

    constants = (0.9, 0.999, 1e-3, 1e-8)
    param, grad, m, v = arrays()
    grad += 1
    assert kernels.adam_update(param, grad, m, v, *constants) and (param < 0).all()
    strided = np.zeros(16, np.float32)[::2]
    assert not kernels.adam_update(strided, grad, m, v, *constants)
    assert not kernels.adam_update(param, grad.astype(np.float64), m, v, *constants)
    assert not kernels.adam_update(*arrays(dtype=np.float16), *constants)
    read_only = np.zeros(8, np.float32)
    read_only.flags.writeable = False
    assert not kernels.adam_update(read_only, grad, m, v, *constants)


def test_without_numba_the_numpy_update_is_used(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # makes `import numba` fail
    monkeypatch.setattr(kernels, "_compiled", {})
    assert not kernels.available()
    param = np.zeros(4, np.float32)
    rule = rules.AdamLearningRule()
    rule.initialise([param])
    rule.update_params([np.ones(4, np.float32)])
    np.testing.assert_allclose(param, -1e-3, rtol=1e-5)


@needs_numba
def test_a_kernel_that_fails_to_compile_warns_and_falls_back(monkeypatch) -> None:
    import numba

    def broken_njit(**options):
        raise RuntimeError("no LLVM here")

    monkeypatch.setattr(numba, "njit", broken_njit)
    monkeypatch.setattr(kernels, "_compiled", {})
    with pytest.warns(RuntimeWarning, match="NumPy update"):
        assert not kernels.available()
    assert not kernels.available()  # remembered: warned once
