"""Every learning rule: against torch.optim over 20 steps, in-place updates, hyperparameter
checks, reset, and saving and restoring state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from mlp.learning_rules import (
    AdaGradLearningRule,
    AdamLearningRule,
    GradientDescentLearningRule,
    MomentumLearningRule,
    NesterovMomentumLearningRule,
    RMSPropLearningRule,
)

NUM_STEPS = 20
SHAPES = [(3, 4), (4,)]
TORCH_TOL = 1e-6  # float32


@dataclass(frozen=True)
class RuleCase:
    name: str
    make: Callable[[], GradientDescentLearningRule]
    make_torch: Callable[[list[torch.Tensor]], torch.optim.Optimizer]

    def __str__(self) -> str:
        return self.name


# Hyperparameters away from the defaults, so a rule that ignored one would show.
RULE_CASES = [
    RuleCase(
        "GradientDescentLearningRule",
        lambda: GradientDescentLearningRule(learning_rate=0.1),
        lambda params: torch.optim.SGD(params, lr=0.1),
    ),
    RuleCase(
        "MomentumLearningRule",
        lambda: MomentumLearningRule(learning_rate=0.05, mom_coeff=0.8),
        lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.8),
    ),
    RuleCase(
        "NesterovMomentumLearningRule",
        lambda: NesterovMomentumLearningRule(learning_rate=0.05, mom_coeff=0.8),
        lambda params: torch.optim.SGD(params, lr=0.05, momentum=0.8, nesterov=True),
    ),
    RuleCase(
        "AdaGradLearningRule",
        lambda: AdaGradLearningRule(learning_rate=0.1, epsilon=1e-6),
        lambda params: torch.optim.Adagrad(params, lr=0.1, eps=1e-6),
    ),
    RuleCase(
        "RMSPropLearningRule",
        lambda: RMSPropLearningRule(learning_rate=0.01, beta=0.8, epsilon=1e-6),
        lambda params: torch.optim.RMSprop(params, lr=0.01, alpha=0.8, eps=1e-6),
    ),
    RuleCase(
        "AdamLearningRule",
        lambda: AdamLearningRule(learning_rate=0.02, beta_1=0.8, beta_2=0.95, epsilon=1e-6),
        lambda params: torch.optim.Adam(params, lr=0.02, betas=(0.8, 0.95), eps=1e-6),
    ),
]


def _initial_params(seed: int = 0) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    return [rng.normal(size=shape).astype(np.float32) for shape in SHAPES]


def _gradient_sequence(num_steps: int = NUM_STEPS, seed: int = 1) -> list[list[np.ndarray]]:
    rng = np.random.RandomState(seed)
    return [
        [rng.normal(size=shape).astype(np.float32) for shape in SHAPES] for _ in range(num_steps)
    ]


def _run(rule, params: list[np.ndarray], grads_sequence) -> list[list[np.ndarray]]:
    """Apply every step; return a copy of the params after each."""
    trajectory = []
    for grads in grads_sequence:
        rule.update_params(grads)
        trajectory.append([p.copy() for p in params])
    return trajectory


def torch_discrepancy(
    case: RuleCase,
    make_update: Callable[[GradientDescentLearningRule], Callable | None] | None = None,
    grads_sequence: list[list[np.ndarray]] | None = None,
) -> float:
    """Largest absolute difference from torch.optim over every step, float32, updating
    with `rule.update_params` or with what `make_update(rule)` gives."""
    params = _initial_params()
    params_torch = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    rule, optimiser = case.make(), case.make_torch(params_torch)
    rule.initialise(params)
    update = rule.update_params if make_update is None else make_update(rule)
    assert update is not None
    largest = 0.0
    for grads in _gradient_sequence() if grads_sequence is None else grads_sequence:
        update(grads)
        for param_torch, grad in zip(params_torch, grads, strict=True):
            param_torch.grad = torch.from_numpy(grad.copy())
        optimiser.step()
        for param, param_torch in zip(params, params_torch, strict=True):
            assert param.dtype == np.float32
            largest = max(largest, float(np.abs(param - param_torch.detach().numpy()).max()))
    return largest


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_matches_torch_optim_over_20_steps(case: RuleCase) -> None:
    diff = torch_discrepancy(case)
    assert diff < TORCH_TOL, f"{case}: differs from torch.optim by {diff:.2e}"


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_updates_params_in_place(case: RuleCase) -> None:
    params = _initial_params()
    before = [p.copy() for p in params]
    rule = case.make()
    rule.initialise(params)
    rule.update_params(_gradient_sequence(1)[0])
    for param, rule_param, saved in zip(params, rule.params, before, strict=True):
        assert rule_param is param  # the very arrays a model holds
        assert np.abs(param - saved).max() > 1e-3  # and they moved


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_reset_makes_a_rerun_repeat_exactly(case: RuleCase) -> None:
    params = _initial_params()
    initial = [p.copy() for p in params]
    grads_sequence = _gradient_sequence(5)
    rule = case.make()
    rule.initialise(params)
    first = _run(rule, params, grads_sequence)

    rule.reset()
    assert rule.step_count == 0
    for name, value in rule.state().items():
        if name != "step_count":
            assert all(not array.any() for array in value), f"{name} not zeroed"
    for param, saved in zip(params, initial, strict=True):
        param[...] = saved
    second = _run(rule, params, grads_sequence)
    for step_first, step_second in zip(first, second, strict=True):
        for a, b in zip(step_first, step_second, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_state_round_trip_continues_identically(case: RuleCase) -> None:
    grads_sequence = _gradient_sequence(10)
    params = _initial_params()
    rule = case.make()
    rule.initialise(params)
    _run(rule, params, grads_sequence[:5])
    saved_state, saved_params = rule.state(), [p.copy() for p in params]
    uninterrupted = _run(rule, params, grads_sequence[5:])

    # state() returned copies: the five steps since have not changed them.
    resumed_params = [p.copy() for p in saved_params]
    resumed = case.make()
    resumed.initialise(resumed_params)
    resumed.load_state(saved_state)
    assert resumed.step_count == 5
    continued = _run(resumed, resumed_params, grads_sequence[5:])
    for step_a, step_b in zip(uninterrupted, continued, strict=True):
        for a, b in zip(step_a, step_b, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
@pytest.mark.parametrize("num_grads", [1, 3])
def test_wrong_number_of_gradients_raises(case: RuleCase, num_grads: int) -> None:
    rule = case.make()
    rule.initialise(_initial_params())
    with pytest.raises(ValueError, match="gradients"):
        rule.update_params(_gradient_sequence(1)[0][:1] * num_grads)


NAN, INF = float("nan"), float("inf")
BAD_HYPERPARAMETERS = [
    (GradientDescentLearningRule, {"learning_rate": -0.1}, "learning_rate"),
    (GradientDescentLearningRule, {"learning_rate": NAN}, "learning_rate"),
    (GradientDescentLearningRule, {"learning_rate": INF}, "learning_rate"),
    (MomentumLearningRule, {"learning_rate": -1.0}, "learning_rate"),
    (MomentumLearningRule, {"mom_coeff": 1.0}, "mom_coeff"),
    (MomentumLearningRule, {"mom_coeff": -0.1}, "mom_coeff"),
    (MomentumLearningRule, {"mom_coeff": NAN}, "mom_coeff"),
    (NesterovMomentumLearningRule, {"mom_coeff": 1.5}, "mom_coeff"),
    (NesterovMomentumLearningRule, {"learning_rate": NAN}, "learning_rate"),
    (AdaGradLearningRule, {"learning_rate": -0.01}, "learning_rate"),
    (AdaGradLearningRule, {"epsilon": 0.0}, "epsilon"),
    (AdaGradLearningRule, {"epsilon": -1e-8}, "epsilon"),
    (AdaGradLearningRule, {"epsilon": NAN}, "epsilon"),
    (RMSPropLearningRule, {"learning_rate": -1e-3}, "learning_rate"),
    (RMSPropLearningRule, {"beta": 1.0}, "beta"),
    (RMSPropLearningRule, {"beta": -0.5}, "beta"),
    (RMSPropLearningRule, {"beta": NAN}, "beta"),
    (RMSPropLearningRule, {"epsilon": 0.0}, "epsilon"),
    (AdamLearningRule, {"learning_rate": -1e-3}, "learning_rate"),
    (AdamLearningRule, {"beta_1": 1.0}, "beta_1"),
    (AdamLearningRule, {"beta_1": -0.1}, "beta_1"),
    (AdamLearningRule, {"beta_2": 1.0}, "beta_2"),
    (AdamLearningRule, {"beta_2": NAN}, "beta_2"),
    (AdamLearningRule, {"epsilon": 0.0}, "epsilon"),
    (AdamLearningRule, {"epsilon": -1e-8}, "epsilon"),
    (AdamLearningRule, {"epsilon": NAN}, "epsilon"),
]


@pytest.mark.parametrize(
    ("rule_class", "kwargs", "name"),
    BAD_HYPERPARAMETERS,
    ids=[f"{c.__name__}-{k}" for c, k, _ in BAD_HYPERPARAMETERS],
)
def test_bad_hyperparameters_raise_at_construction(rule_class, kwargs, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        rule_class(**kwargs)


@pytest.mark.parametrize(
    ("rule_class", "kwargs"),
    [
        (GradientDescentLearningRule, {"learning_rate": 0.0}),
        (MomentumLearningRule, {"mom_coeff": 0.0}),
        (RMSPropLearningRule, {"beta": 0.0}),
        (AdamLearningRule, {"beta_1": 0.0, "beta_2": 0.0}),
    ],
)
def test_edge_hyperparameters_are_accepted(rule_class, kwargs) -> None:
    rule = rule_class(**kwargs)
    for name, value in kwargs.items():
        assert getattr(rule, name) == value


def test_zero_momentum_is_gradient_descent() -> None:
    grads_sequence = _gradient_sequence(5)
    runs = []
    for rule in (GradientDescentLearningRule(0.1), MomentumLearningRule(0.1, mom_coeff=0.0)):
        params = _initial_params()
        rule.initialise(params)
        runs.append(_run(rule, params, grads_sequence)[-1])
    for a, b in zip(*runs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", RULE_CASES, ids=str)
def test_repr_shows_hyperparameters(case: RuleCase) -> None:
    text = repr(case.make())
    assert case.name in text and "learning_rate=" in text


def test_rmsprop_with_beta_zero_matches_torch_after_a_large_gradient():
    # s = beta s + (1 - beta) g**2 must not cancel to 0 when g**2 << s.
    param = np.zeros(1, np.float32)
    rule = RMSPropLearningRule(1e-3, beta=0.0)
    rule.initialise([param])
    tensor = torch.zeros(1, requires_grad=True)
    optimiser = torch.optim.RMSprop([tensor], lr=1e-3, alpha=0.0, eps=rule.epsilon)
    for grad in (1e4, 1e-5):
        rule.update_params([np.array([grad], np.float32)])
        tensor.grad = torch.tensor([grad])
        optimiser.step()
    np.testing.assert_allclose(param, tensor.detach().numpy(), rtol=1e-5)


@pytest.mark.parametrize("call", ["reset", "update", "load_state"])
def test_using_a_rule_before_initialise_says_what_to_do(call):
    rule = AdamLearningRule()
    with pytest.raises(RuntimeError, match="initialise"):
        if call == "reset":
            rule.reset()
        elif call == "update":
            rule.update_params([])
        else:
            rule.load_state({"step_count": 1, "moms_1": [], "moms_2": []})


def test_load_state_checks_shapes_and_gradients_may_be_lists():
    param = np.zeros((3, 4), np.float32)
    rule = AdamLearningRule()
    rule.initialise([param])
    with pytest.raises(ValueError, match="shape"):
        rule.load_state({"step_count": 1, "moms_1": [np.zeros((1, 4))], "moms_2": [np.zeros(4)]})
    rule.update_params([[[1.0] * 4] * 3])
    assert rule.step_count == 1 and (param < 0).all()


EPSILON_CASES = [  # large epsilon, small gradients: where epsilon sits shows clearly
    RuleCase(
        "AdaGradLearningRule",
        lambda: AdaGradLearningRule(learning_rate=0.1, epsilon=1e-1),
        lambda params: torch.optim.Adagrad(params, lr=0.1, eps=1e-1),
    ),
    RuleCase(
        "RMSPropLearningRule",
        lambda: RMSPropLearningRule(learning_rate=0.1, beta=0.8, epsilon=1e-1),
        lambda params: torch.optim.RMSprop(params, lr=0.1, alpha=0.8, eps=1e-1),
    ),
    RuleCase(
        "AdamLearningRule",
        lambda: AdamLearningRule(learning_rate=0.1, beta_1=0.8, beta_2=0.95, epsilon=1e-1),
        lambda params: torch.optim.Adam(params, lr=0.1, betas=(0.8, 0.95), eps=1e-1),
    ),
]


@pytest.mark.parametrize("path", ["update_params", "fast"])
@pytest.mark.parametrize("case", EPSILON_CASES, ids=str)
def test_epsilon_is_added_outside_the_square_root_as_in_torch(case: RuleCase, path: str) -> None:
    # With g ~ 1e-2 and epsilon = 0.1, sqrt(v) + eps ~ 0.11 but sqrt(v + eps) ~ 0.32: a
    # step about three times too small, which moves the parameters by ~1e-2 in 20 steps.
    # Both the textbook `_step` (update_params) and the fast path training uses (the
    # compiled kernel with numba, the fused NumPy update under MLP_NO_JIT=1) are checked.
    from mlp._fast import fast_updater

    small = [[g * np.float32(1e-2) for g in grads] for grads in _gradient_sequence()]
    make_update = fast_updater if path == "fast" else None
    diff = torch_discrepancy(case, make_update=make_update, grads_sequence=small)
    assert diff < TORCH_TOL, f"{case}: differs from torch.optim by {diff:.2e}"
