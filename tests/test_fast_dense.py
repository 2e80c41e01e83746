"""The fast forward and backward passes (mlp._fast.dense) compute what the layers compute.

With every product whole, the fast step gives the plain step's bits (both with one BLAS
thread: a product that OpenBLAS splits over threads may add in another order). With the
products split over threads (`SPLIT_FLOPS` lowered so that every product splits), the
numbers agree with the plain step within float32 rounding, and are the same bits for any
number of threads and with or without a competing process.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mlp import errors, layers, learning_rules, models, threads
from mlp._fast import dense
from mlp._fast import threads as fast_threads
from mlp.data_providers import OneOfKDataProvider
from mlp.initialisers import GlorotUniformInit
from mlp.optimisers import Optimiser

ACTIVATIONS = [layers.SigmoidLayer, layers.TanhLayer, layers.ReluLayer]
RULES = {
    "sgd": lambda: learning_rules.GradientDescentLearningRule(0.1),
    "momentum": lambda: learning_rules.MomentumLearningRule(0.05, 0.9),
    "adam": lambda: learning_rules.AdamLearningRule(1e-3),
}


def _model(activation, dtype=np.float32, dims=(30, 24, 16, 5), seed=1):
    rng = np.random.RandomState(seed)
    stack = []
    for k, (i, o) in enumerate(itertools.pairwise(dims)):
        stack.append(layers.AffineLayer(i, o, GlorotUniformInit(rng=rng), dtype=dtype))
        if k < len(dims) - 2:
            stack.append(activation())
    return models.MultipleLayerModel(stack)


def _data(dtype=np.float32, n=96, dims=(30, 5), seed=2):
    rng = np.random.RandomState(seed)
    inputs = rng.normal(size=(n, dims[0])).astype(dtype)
    labels = rng.randint(dims[1], size=n)
    return inputs, labels


def _train(model, rule, inputs, labels, batch_size=32, epochs=2, seed=3):
    provider = OneOfKDataProvider(
        inputs, labels, batch_size, rng=np.random.RandomState(seed), num_classes=5
    )
    optimiser = Optimiser(model, errors.CrossEntropySoftmaxError(), rule, provider)
    for _ in range(epochs):
        optimiser.do_training_epoch()
    return [p.copy() for p in model.params]


def _trained(activation, rule_name, dtype=np.float32, fast=True, monkeypatch=None):
    if not fast:
        monkeypatch.setattr(dense.DensePasses, "fits", lambda self, i, t: False)
    inputs, labels = _data(dtype)
    params = _train(_model(activation, dtype), RULES[rule_name](), inputs, labels)
    if not fast:
        monkeypatch.undo()
    return params


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("rule_name", sorted(RULES))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_whole_products_give_the_plain_bits(
    activation, rule_name, dtype, monkeypatch, one_blas_thread
) -> None:
    plain = _trained(activation, rule_name, dtype, fast=False, monkeypatch=monkeypatch)
    fast = _trained(activation, rule_name, dtype)
    for got, want in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(got, want)


def test_the_fast_passes_are_taken_for_a_plain_mlp(monkeypatch) -> None:
    calls = []
    original = dense.DensePasses.__call__
    monkeypatch.setattr(
        dense.DensePasses, "__call__", lambda self, *a: calls.append(1) or original(self, *a)
    )
    _trained(layers.ReluLayer, "sgd")
    assert len(calls) == 2 * 3  # two epochs of three batches


@pytest.mark.parametrize(
    "stack",
    [
        lambda: [layers.AffineLayer(30, 5, weights_penalty=_l2())],
        lambda: [layers.AffineLayer(30, 8), layers.DropoutLayer(), layers.AffineLayer(8, 5)],
        lambda: [layers.AffineLayer(30, 8), layers.LeakyReluLayer(), layers.AffineLayer(8, 5)],
        lambda: [layers.AffineLayer(30, 8), layers.ReluLayer()],
        lambda: [layers.AffineLayer(30, 5, dtype=np.float64)],  # float32 inputs
    ],
    ids=["penalty", "dropout", "leaky-relu", "activation-last", "other-dtype"],
)
def test_other_models_take_the_plain_passes_and_train(stack, monkeypatch) -> None:
    model = models.MultipleLayerModel(stack())
    passes = dense.dense_passes(model, errors.CrossEntropySoftmaxError())
    inputs, labels = _data()
    targets = np.eye(5, dtype=np.float32)[labels]
    if passes is not None:
        assert not passes.fits(inputs, targets)
    before = [p.copy() for p in model.params]
    if model.layers[-1].__class__ is layers.ReluLayer:
        return  # ReLU outputs as logits: refused as a dense model, nothing more to see
    after = _train(model, learning_rules.GradientDescentLearningRule(0.1), inputs, labels)
    assert any(not np.array_equal(a, b) for a, b in zip(after, before, strict=True))


def _l2():
    from mlp.penalties import L2Penalty

    return L2Penalty(1e-3)


def test_a_subclassed_error_or_model_is_not_taken_for_the_plain_one() -> None:
    class MyError(errors.CrossEntropySoftmaxError):
        pass

    class MyModel(models.MultipleLayerModel):
        pass

    stack = [layers.AffineLayer(30, 5)]
    assert dense.dense_passes(models.MultipleLayerModel(stack), MyError()) is None
    assert dense.dense_passes(MyModel(stack), errors.CrossEntropySoftmaxError()) is None
    assert dense.dense_passes(models.MultipleLayerModel(stack), errors.CrossEntropySoftmaxError())


def test_replaced_parameters_are_read_at_each_step(one_blas_thread, monkeypatch) -> None:
    # Setting model.params swaps the layers' arrays: the passes must use the new ones.
    inputs, labels = _data()
    fast_model, plain_model = _model(layers.ReluLayer), _model(layers.ReluLayer)
    new = [np.full_like(p, 0.01) for p in fast_model.params]
    fast_model.params = [p.copy() for p in new]
    plain_model.params = [p.copy() for p in new]
    fast = _train(fast_model, RULES["sgd"](), inputs, labels)
    monkeypatch.setattr(dense.DensePasses, "fits", lambda self, i, t: False)
    plain = _train(plain_model, RULES["sgd"](), inputs, labels)
    for got, want in zip(fast, plain, strict=True):
        np.testing.assert_array_equal(got, want)


def test_what_fprop_returned_before_a_step_is_not_overwritten_by_it() -> None:
    model = _model(layers.SigmoidLayer)
    inputs, labels = _data()
    activations = model.fprop(inputs[:32])
    kept = [a.copy() for a in activations]
    _train(model, RULES["sgd"](), inputs, labels, epochs=1)
    for got, want in zip(activations, kept, strict=True):
        np.testing.assert_array_equal(got, want)


# --- products split over threads ----------------------------------------------------------


@pytest.fixture
def split_everything(monkeypatch):
    """Every product of at least CHUNKS columns is split into column blocks."""
    monkeypatch.setattr(fast_threads, "SPLIT_FLOPS", 0.0)
    yield
    threads.set_num_threads(None)


def _split_run(count: int, activation=layers.ReluLayer, rule_name="adam"):
    threads.set_num_threads(count)
    return _trained(activation, rule_name)


@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda c: c.__name__)
def test_split_products_agree_with_the_plain_step_within_rounding(
    activation, split_everything, monkeypatch, one_blas_thread
) -> None:
    plain = _trained(activation, "adam", fast=False, monkeypatch=monkeypatch)
    split = _split_run(2, activation)
    for got, want in zip(split, plain, strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-6)


def test_split_numbers_do_not_depend_on_the_number_of_threads(split_everything) -> None:
    one, two, five = _split_run(1), _split_run(2), _split_run(5)
    for a, b, c in zip(one, two, five, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_numbers_do_not_depend_on_a_competing_process(split_everything) -> None:
    from benchmarks.contention import Competitor

    quiet = _split_run(2)
    with Competitor(processes=2):
        busy = _split_run(2)
    for a, b in zip(quiet, busy, strict=True):
        np.testing.assert_array_equal(a, b)


def test_the_step_leaves_blas_threads_as_they_were() -> None:
    from threadpoolctl import threadpool_info, threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        _trained(layers.ReluLayer, "sgd")
        counts = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    assert counts == {2}
