"""DataProvider and OneOfKDataProvider on small synthetic arrays; MNIST providers on the
real files (fetched once per session by the datasets fixture when needed)."""

from __future__ import annotations

import numpy as np
import pytest

import mlp
from mlp.data_providers import DataProvider, OneOfKDataProvider


def _data(n: int = 23, dim: int = 3) -> tuple[np.ndarray, np.ndarray]:
    # Row i holds the value i in every column, so a batch tells which examples it holds.
    inputs = np.repeat(np.arange(n, dtype=np.float64)[:, None], dim, axis=1)
    return inputs, np.arange(n) % 4


def _epoch_ids(provider: DataProvider) -> list[np.ndarray]:
    return [inputs[:, 0].astype(int) for inputs, _ in provider]


def test_batch_counts_drop_partial_last_batch_by_default():
    provider = DataProvider(*_data(23), batch_size=5, shuffle_order=False)
    batches = _epoch_ids(provider)
    assert provider.num_batches == 4 == len(batches)
    assert [len(b) for b in batches] == [5, 5, 5, 5]
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(20))


def test_keeping_the_partial_batch_serves_every_example_once():
    provider = DataProvider(*_data(23), batch_size=5, rng=np.random.RandomState(0), drop_last=False)
    for _ in range(3):
        batches = _epoch_ids(provider)
        assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
        assert sorted(np.concatenate(batches)) == list(range(23))


def test_each_epoch_is_a_new_permutation_and_targets_stay_aligned():
    inputs, targets = _data(40)
    provider = DataProvider(inputs, targets, batch_size=10, rng=np.random.RandomState(1))
    first = np.concatenate(_epoch_ids(provider))
    second = np.concatenate(_epoch_ids(provider))
    assert sorted(first) == sorted(second) == list(range(40))
    assert not np.array_equal(first, second)
    for batch_inputs, batch_targets in provider:
        np.testing.assert_array_equal(batch_inputs[:, 0].astype(int) % 4, batch_targets)


def test_same_seed_same_order_and_reset_with_reseeded_rng_repeats_a_run():
    rng_a, rng_b = np.random.RandomState(7), np.random.RandomState(7)
    a = DataProvider(*_data(30), batch_size=6, rng=rng_a)
    b = DataProvider(*_data(30), batch_size=6, rng=rng_b)
    run_a = [_epoch_ids(a) for _ in range(2)]
    run_b = [_epoch_ids(b) for _ in range(2)]
    for ea, eb in zip(run_a, run_b, strict=True):
        np.testing.assert_array_equal(np.concatenate(ea), np.concatenate(eb))
    rng_a.seed(7)
    a.reset()
    np.testing.assert_array_equal(np.concatenate(_epoch_ids(a)), np.concatenate(run_a[0]))


def test_default_rng_is_seeded_with_default_seed():
    a = DataProvider(*_data(30), batch_size=6)
    expected = np.random.RandomState(mlp.DEFAULT_SEED).permutation(30)
    np.testing.assert_array_equal(np.concatenate(_epoch_ids(a)), expected)


def test_batch_size_and_max_num_batches_can_be_set_after_construction():
    provider = DataProvider(*_data(50), batch_size=10, shuffle_order=False)
    provider.batch_size = 7
    assert provider.num_batches == 7
    assert [len(b) for b in _epoch_ids(provider)] == [7] * 7
    provider.max_num_batches = 2
    assert provider.num_batches == 2 and len(_epoch_ids(provider)) == 2
    provider.max_num_batches = -1
    assert len(_epoch_ids(provider)) == 7


def test_reset_returns_to_the_first_batch_midway_through_an_epoch():
    provider = DataProvider(*_data(20), batch_size=5, shuffle_order=False)
    next(provider)
    next(provider)
    provider.reset()
    assert len(_epoch_ids(provider)) == 4


def test_inputs_are_served_in_the_default_dtype():
    provider = DataProvider(*_data(10), batch_size=5)
    assert next(provider)[0].dtype == np.float32
    with mlp.default_dtype(np.float64):
        provider = DataProvider(*_data(10), batch_size=5)
    assert next(provider)[0].dtype == np.float64


def test_evaluation_batches_cover_everything_in_order_and_leave_the_epoch_alone():
    provider = DataProvider(*_data(23), batch_size=5, rng=np.random.RandomState(3))
    first = next(provider)[0][:, 0].copy()
    covered = np.concatenate([x[:, 0] for x, _ in provider.evaluation_batches(batch_size=10)])
    np.testing.assert_array_equal(covered, np.arange(23))
    assert len(list(provider)) == 3  # the epoch in progress goes on after its first batch
    assert first.shape == (5,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": 5, "max_num_batches": 0}, "max_num_batches"),
        ({"batch_size": 5, "max_num_batches": -2}, "max_num_batches"),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DataProvider(*_data(10), **kwargs)


def test_mismatched_inputs_and_targets_are_rejected():
    with pytest.raises(ValueError, match="one row per example"):
        DataProvider(np.zeros((5, 2)), np.zeros(4), batch_size=2)


def test_setting_a_bad_batch_size_later_is_rejected():
    provider = DataProvider(*_data(10), batch_size=5)
    with pytest.raises(ValueError, match="batch_size"):
        provider.batch_size = -1


def test_one_of_k_targets():
    inputs, labels = _data(12)
    provider = OneOfKDataProvider(inputs, labels, batch_size=4, shuffle_order=False)
    _, batch_targets = next(provider)
    assert batch_targets.shape == (4, 4) and batch_targets.dtype == np.float32
    np.testing.assert_array_equal(batch_targets.argmax(1), labels[:4])
    np.testing.assert_array_equal(batch_targets.sum(1), 1)
    np.testing.assert_array_equal(provider.to_one_of_k(np.array([2])), [[0, 0, 1, 0]])


@pytest.mark.parametrize("labels", [np.array([0.0, 1.0]), np.array([[0, 1]]), np.array([-1, 0])])
def test_one_of_k_rejects_non_integer_or_negative_labels(labels):
    with pytest.raises(ValueError, match="label"):
        OneOfKDataProvider(np.zeros((labels.shape[0], 2)), labels, batch_size=1)


def test_empty_or_scalar_data_gets_a_clear_error():
    with pytest.raises(ValueError, match="empty data set"):
        OneOfKDataProvider(np.zeros((0, 2)), np.zeros(0, int), batch_size=1)
    with pytest.raises(ValueError, match="one row per example"):
        DataProvider(np.zeros((3, 2)), np.array(3), batch_size=1)


def test_a_batch_larger_than_the_data_set_is_refused_when_it_would_never_be_served():
    inputs, targets = np.zeros((50, 4)), np.zeros((50, 2))
    with pytest.raises(ValueError, match="batch_size 100 is larger than the 50 examples"):
        DataProvider(inputs, targets, batch_size=100)
    provider = DataProvider(inputs, targets, batch_size=10)
    with pytest.raises(ValueError, match="drop_last=False"):
        provider.batch_size = 51
    assert provider.batch_size == 10  # refused, unchanged
    whole = DataProvider(inputs, targets, batch_size=100, drop_last=False)
    assert [b[0].shape[0] for b in whole] == [50]
    whole.drop_last = True
    with pytest.raises(ValueError, match="no batch would ever be served"):
        iter(whole)


def _next_ids(provider: DataProvider, epochs: int = 2) -> list[np.ndarray]:
    """The batches of the rest of this epoch and of `epochs` more."""
    return [ids for _ in range(epochs + 1) for ids in _epoch_ids(provider)]


@pytest.mark.parametrize("make_rng", [np.random.RandomState, np.random.default_rng])
def test_load_state_continues_with_the_batches_an_uninterrupted_provider_serves(make_rng):
    inputs, targets = _data(30)
    provider = DataProvider(inputs, targets, batch_size=4, rng=make_rng(5))
    _epoch_ids(provider)
    next(provider), next(provider)  # mid-epoch
    state = provider.state()
    fresh = DataProvider(inputs, targets, batch_size=4, rng=make_rng(99))
    fresh.load_state(state)
    for a, b in zip(_next_ids(provider), _next_ids(fresh), strict=True):
        np.testing.assert_array_equal(a, b)


def test_state_is_a_copy():
    provider = DataProvider(*_data(12), batch_size=3, rng=np.random.RandomState(2))
    state = provider.state()
    order = state["order"].copy()
    _next_ids(provider)
    np.testing.assert_array_equal(state["order"], order)
    assert state["position"] == 0 and state["batches_served"] == 0
    again = DataProvider(*_data(12), batch_size=3, rng=np.random.RandomState(7))
    again.load_state(state)
    state["order"][:] = 0  # the provider keeps its own copy
    assert sorted(np.concatenate(_epoch_ids(again))) == list(range(12))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"order": None}, "no 'order'"),
        ({"rng": None}, "no 'rng'"),
        ({"order": np.arange(11)}, "'order' must be integers of shape \\(12,\\)"),
        ({"order": np.arange(12.0)}, "'order' must be integers"),
        ({"order": np.zeros(12, int)}, "not a permutation"),
        ({"position": 13}, "'position' must be an integer in 0 .. 12"),
        ({"batches_served": -1}, "'batches_served'"),
        ({"position": True}, "'position'"),
        ({"rng": np.random.default_rng(0).bit_generator.state}, "'rng' is not a state"),
    ],
)
def test_load_state_names_what_is_wrong_and_changes_nothing(change, message):
    provider = DataProvider(*_data(12), batch_size=3, rng=np.random.RandomState(2))
    next(provider)
    before = provider.state()
    state = {**provider.state(), **change}
    state = {key: value for key, value in state.items() if value is not None}
    with pytest.raises(ValueError, match=message):
        provider.load_state(state)
    after = provider.state()
    np.testing.assert_array_equal(after["order"], before["order"])
    assert after["position"] == before["position"] == 3
    np.testing.assert_array_equal(after["rng"][1], before["rng"][1])


def test_load_state_of_nothing_names_every_missing_key():
    provider = DataProvider(*_data(12), batch_size=3)
    with pytest.raises(ValueError, match="'order', 'position', 'batches_served', 'rng'"):
        provider.load_state({})


def test_which_set_is_checked_by_the_one_split_check(mnist_dir):
    from mlp.data_providers import MNISTDataProvider

    assert MNISTDataProvider("eval", batch_size=10, max_num_batches=1).which_set == "test"
    with pytest.raises(ValueError, match=r"unknown which_set 'training'.*'eval' means 'test'"):
        MNISTDataProvider("training")
