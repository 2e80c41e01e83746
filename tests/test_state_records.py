"""A model's state (batch normalisation's running statistics) travels where its
parameters travel: params.npz of run records and checkpoint.npz, in a format that still
reads the records and checkpoints written before models had state."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mlp.config import ExperimentConfig, build_experiment
from mlp.layers import AffineLayer, BatchNormalizationLayer, ReluLayer
from mlp.models import MultipleLayerModel
from mlp.runs import RunRecord, RunRecordError, write_record
from mlp.runs.checkpoint import load_checkpoint, save_checkpoint

TIMING = {"train_seconds": 1.0, "run_seconds": 1.0, "sessions": 1}


def _bn_model(seed: int) -> MultipleLayerModel:
    rng = np.random.RandomState(seed)
    init = lambda shape: rng.normal(scale=0.05, size=shape)  # noqa: E731
    return MultipleLayerModel(
        [
            AffineLayer(784, 8, init),
            BatchNormalizationLayer(8),
            ReluLayer(),
            AffineLayer(8, 10, init),
        ]
    )


def _experiment(model: MultipleLayerModel):
    config = ExperimentConfig(
        hidden=(8,), epochs=2, max_train_examples=100, error="cross_entropy_softmax"
    ).validate()
    experiment = dataclasses.replace(build_experiment(config), model=model)
    experiment.learning_rule.initialise(model.params)
    return experiment


def test_a_checkpoint_keeps_and_restores_the_running_statistics(tmp_path, mnist_dir):
    trained = _bn_model(0)
    trained.fprop(np.random.RandomState(1).uniform(size=(20, 784)))
    experiment = _experiment(trained)
    save_checkpoint(tmp_path / "checkpoint.npz", experiment, 1, TIMING)

    fresh = _experiment(_bn_model(5))
    load_checkpoint(tmp_path / "checkpoint.npz", fresh)
    for key, value in trained.state().items():
        np.testing.assert_array_equal(fresh.model.state()[key], value)
    for ours, theirs in zip(fresh.model.params, trained.params, strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_a_checkpoint_without_the_state_its_model_keeps_is_refused(tmp_path, mnist_dir):
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, _experiment(_bn_model(0)), 1, TIMING)
    with np.load(path) as saved:
        kept = {k: saved[k] for k in saved.files if not k.startswith("state_")}
    np.savez(path, **kept)  # as a model without state would have written it
    with pytest.raises(RunRecordError, match=r"model state none.*keeps \['1.running_mean'"):
        load_checkpoint(path, _experiment(_bn_model(0)))


def _record(path, **kwargs) -> RunRecord:
    stats = np.array([[2.0, 0.1], [1.0, 0.5]])
    keys = {"error(valid)": 0, "acc(valid)": 1}
    return write_record(path, {}, stats, keys, np.arange(2), {}, curves=False, **kwargs)


def test_params_npz_keeps_the_state_beside_the_parameters(tmp_path):
    model = _bn_model(0)
    model.fprop(np.random.RandomState(1).uniform(size=(20, 784)))
    record = _record(tmp_path / "bn", params=model.params, state=model.state())
    assert len(record.params()) == len(model.params)
    for ours, theirs in zip(record.params(), model.params, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    state = record.state()
    assert sorted(state) == ["1.running_mean", "1.running_var"]
    fresh = _bn_model(3)
    fresh.params = record.params()
    fresh.load_state(state)
    x = np.random.RandomState(2).uniform(size=(4, 784))
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


def test_records_without_state_read_back_an_empty_state(tmp_path):
    params = [np.ones((3, 2)), np.zeros(3)]
    record = _record(tmp_path / "plain", params=params)
    assert record.state() == {}
    assert [p.shape for p in record.params()] == [(3, 2), (3,)]
