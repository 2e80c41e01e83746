"""Student mistakes at the training side of the API get messages that name the argument:
models, the Optimiser and its training loop, learning rules, data providers, schedulers.
A refused call changes nothing (parameters, rule state, rngs)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from mlp.callbacks import EpochTimer, LambdaCallback
from mlp.data_providers import DataProvider, OneOfKDataProvider
from mlp.errors import CrossEntropySoftmaxError
from mlp.initialisers import UniformInit
from mlp.layers import AffineLayer, SigmoidLayer
from mlp.learning_rules import (
    AdaGradLearningRule,
    AdamLearningRule,
    GradientDescentLearningRule,
    MomentumLearningRule,
    NesterovMomentumLearningRule,
    RMSPropLearningRule,
)
from mlp.models import MultipleLayerModel, SingleLayerModel
from mlp.optimisers import Optimiser, accuracy
from mlp.schedulers import (
    ConstantLearningRateScheduler,
    CosineAnnealingScheduler,
    ExponentialDecayScheduler,
)


def _data(num_inputs: int = 4, num_classes: int = 3) -> OneOfKDataProvider:
    rng = np.random.RandomState(0)
    inputs = rng.normal(size=(20, num_inputs))
    labels = np.arange(20) % num_classes
    return OneOfKDataProvider(inputs, labels, 5, rng=np.random.RandomState(1))


def _model(num_inputs: int = 4, num_outputs: int = 3) -> MultipleLayerModel:
    layer = AffineLayer(num_inputs, num_outputs, weights_initialiser=UniformInit(-0.1, 0.1, rng=2))
    return MultipleLayerModel([layer])


def _parts(**changes):
    parts = {
        "model": _model(),
        "error": CrossEntropySoftmaxError(),
        "learning_rule": GradientDescentLearningRule(0.1),
        "train_dataset": _data(),
    }
    parts.update(changes)
    return parts


# --- Optimiser ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"model": [AffineLayer(4, 3)]}, TypeError, r"model is a list.*MultipleLayerModel"),
        ({"model": "model"}, TypeError, "model must be a model"),
        (
            {"error": CrossEntropySoftmaxError},
            TypeError,
            r"pass CrossEntropySoftmaxError\(\), an instance",
        ),
        ({"error": 3.0}, TypeError, "error must be an error"),
        (
            {"learning_rule": AdamLearningRule},
            TypeError,
            r"learning_rule is the class AdamLearningRule: pass AdamLearningRule\(\), an instance",
        ),
        ({"learning_rule": 0.1}, TypeError, "learning_rule must be a learning rule"),
        ({"train_dataset": None}, TypeError, "train_dataset must be a data provider.*None"),
        ({"train_dataset": OneOfKDataProvider}, TypeError, "train_dataset is the class"),
        ({"valid_dataset": 5}, TypeError, "valid_dataset must be a data provider"),
        ({"data_monitors": [accuracy]}, TypeError, r"data_monitors must be a dict.*list"),
        ({"data_monitors": {"acc": 1}}, TypeError, r"data_monitors\['acc'\] must be a function"),
        ({"data_monitors": {1: accuracy}}, TypeError, "the name 1 must be a string"),
        ({"progress": "yes"}, TypeError, "progress must be True or False"),
        ({"eval_batch_size": 0}, ValueError, "eval_batch_size"),
    ],
)
def test_optimiser_names_a_wrong_argument(changes, error, message) -> None:
    with pytest.raises(error, match=message):
        Optimiser(**_parts(**changes))


def test_a_refused_optimiser_leaves_the_rule_uninitialised() -> None:
    rule = AdamLearningRule()
    with pytest.raises(TypeError, match="data_monitors"):
        Optimiser(**_parts(learning_rule=rule, data_monitors=[accuracy]))
    assert rule.params == [] and rule.step_count == 0


def test_inputs_that_do_not_fit_the_model_are_named_with_the_layer() -> None:
    params = [p.copy() for p in _model(5).params]
    optimiser = Optimiser(**_parts(model=_model(5)))
    with pytest.raises(
        ValueError,
        match=r"train_dataset serves inputs of shape \(20, 4\).*layer 0 of the model, "
        r"AffineLayer\(input_dim=5, output_dim=3\), takes inputs of shape \(batch_size, 5\)",
    ):
        optimiser.train(1, 1)
    for before, after in zip(params, optimiser.model.params, strict=True):
        np.testing.assert_array_equal(before, after)


def test_training_batches_are_checked_too_when_statistics_are_not_computed_first() -> None:
    optimiser = Optimiser(**_parts(model=_model(5)))
    with pytest.raises(ValueError, match=r"train_dataset serves inputs of shape \(5, 4\)"):
        optimiser.do_training_epoch()


def test_targets_unlike_the_outputs_are_named() -> None:
    optimiser = Optimiser(**_parts(model=_model(4, 2)))
    with pytest.raises(
        ValueError, match=r"targets of shape \(20, 3\).*outputs have shape \(20, 2\)"
    ):
        optimiser.train(1, 1)


def test_valid_batches_are_named_as_valid() -> None:
    optimiser = Optimiser(**_parts(valid_dataset=_data(num_inputs=6)))
    with pytest.raises(ValueError, match=r"valid_dataset serves inputs of shape \(20, 6\)"):
        optimiser.train(1, 1)


def test_each_batch_shape_is_checked_once(monkeypatch) -> None:
    optimiser = Optimiser(**_parts())
    checked = []
    check = optimiser._check_batch
    monkeypatch.setattr(optimiser, "_check_batch", lambda *a: (checked.append(a), check(*a)))
    optimiser.train(3, 1)
    # the statistics batch (20 rows) and the training batch (5 rows), once each
    assert sorted(shapes for shapes, _ in checked) == [((5, 4), (5, 3)), ((20, 4), (20, 3))]


# --- models ------------------------------------------------------------------------------


def test_one_layer_instead_of_a_list_is_refused() -> None:
    with pytest.raises(TypeError, match=r"got one AffineLayer: pass \[layer\]"):
        MultipleLayerModel(AffineLayer(4, 3))
    with pytest.raises(TypeError, match="layers must be a list of layers, got int"):
        MultipleLayerModel(3)
    with pytest.raises(
        TypeError, match=r"layer 1 is the class SigmoidLayer: pass SigmoidLayer\(\)"
    ):
        MultipleLayerModel([AffineLayer(4, 3), SigmoidLayer])
    with pytest.raises(TypeError, match="SingleLayerModel takes one layer, got a list"):
        SingleLayerModel([AffineLayer(4, 3)])


def test_layers_whose_sizes_do_not_chain_are_refused() -> None:
    with pytest.raises(ValueError, match=r"layer 2, .* takes inputs of size 5, but layer 0"):
        MultipleLayerModel([AffineLayer(4, 3), SigmoidLayer(), AffineLayer(5, 2)])


def test_output_shape() -> None:
    model = MultipleLayerModel([AffineLayer(4, 3), SigmoidLayer(), AffineLayer(3, 2)])
    assert model.output_shape((7, 4)) == (7, 2)
    with pytest.raises(ValueError, match=r"layer 0 .* but the inputs have shape \(7, 5\)"):
        model.output_shape((7, 5))


def test_predict_takes_lists_and_checks_its_batch_size() -> None:
    model = _model()
    inputs = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]
    np.testing.assert_array_equal(model.predict(inputs), model.predict(np.array(inputs)))
    np.testing.assert_array_equal(model.predict([[1, 2, 3, 4]]), model.predict(inputs[:1]))
    for bad in (0, -1):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            model.predict(inputs, batch_size=bad)
    with pytest.raises(TypeError, match="batch_size must be a positive integer, got float"):
        model.predict(inputs, batch_size=2.5)
    with pytest.raises(TypeError, match="inputs must be an array of numbers"):
        model.predict([["a", "b", "c", "d"]])
    with pytest.raises(ValueError, match="0-d"):
        model.predict(np.float32(1))


def test_grads_wrt_params_needs_the_activations_list() -> None:
    with pytest.raises(TypeError, match="activations must be the list fprop returned"):
        _model().grads_wrt_params(np.zeros((2, 4)), np.zeros((2, 3)))


# --- learning rules ----------------------------------------------------------------------

RULES = {
    GradientDescentLearningRule: ["learning_rate"],
    MomentumLearningRule: ["learning_rate", "mom_coeff"],
    NesterovMomentumLearningRule: ["learning_rate", "mom_coeff"],
    AdaGradLearningRule: ["learning_rate", "epsilon"],
    RMSPropLearningRule: ["learning_rate", "beta", "epsilon"],
    AdamLearningRule: ["learning_rate", "beta_1", "beta_2", "epsilon"],
}
HYPERPARAMETERS = [(rule, name) for rule, names in RULES.items() for name in names]


@pytest.mark.parametrize(("rule", "name"), HYPERPARAMETERS)
@pytest.mark.parametrize("value", ["abc", None, True, [0.1], 1j])
def test_hyperparameters_of_the_wrong_type_are_named(rule, name, value) -> None:
    with pytest.raises(TypeError, match=f"{rule.__name__}: {name} must be a number, got"):
        rule(**{name: value})


@pytest.mark.parametrize(("rule", "name"), HYPERPARAMETERS)
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_hyperparameters_are_named(rule, name, value) -> None:
    with pytest.raises(ValueError, match=f"{rule.__name__}: {name} must"):
        rule(**{name: value})


def test_numpy_scalars_are_accepted_as_python_floats() -> None:
    rule = AdamLearningRule(np.float32(0.01), beta_1=np.array(0.5))
    assert type(rule.learning_rate) is float and rule.beta_1 == 0.5


def test_setting_a_bad_learning_rate_keeps_the_old_one() -> None:
    rule = GradientDescentLearningRule(0.1)
    with pytest.raises(TypeError, match="learning_rate must be a number, got str 'abc'"):
        rule.learning_rate = "abc"
    assert rule.learning_rate == 0.1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ([[1.0, 2.0]], r"params\[0\] is list, not a float array"),
        ([np.arange(3)], r"params\[0\] is int64, not a float array"),
        (np.zeros(3), "params must be a list of arrays"),
    ],
)
def test_initialise_refuses_what_it_cannot_update_in_place(params, message) -> None:
    with pytest.raises(TypeError, match=message):
        AdamLearningRule().initialise(params)


def test_update_params_takes_lists_of_gradients() -> None:
    plain, listed = GradientDescentLearningRule(0.5), GradientDescentLearningRule(0.5)
    plain.initialise([np.ones(3)])
    listed.initialise([np.ones(3)])
    plain.update_params([np.array([1.0, 2.0, 3.0])])
    listed.update_params([[1, 2, 3]])
    np.testing.assert_array_equal(plain.params[0], listed.params[0])


@pytest.mark.parametrize("rule_class", list(RULES))
def test_load_state_names_what_is_missing_and_changes_nothing(rule_class) -> None:
    rule = rule_class()
    rule.initialise([np.ones(3)])
    rule.update_params([np.ones(3)])
    before = rule.state()
    with pytest.raises(ValueError, match="the state has no 'step_count'"):
        rule.load_state({})
    with pytest.raises(TypeError, match="state must be a dict, got list"):
        rule.load_state([])
    if rule.state_names:
        wrong = {**before, rule.state_names[0]: []}
        with pytest.raises(ValueError, match="has 0 arrays for 1 parameters"):
            rule.load_state(wrong)
    after = rule.state()
    assert after["step_count"] == before["step_count"] == 1
    for name in rule.state_names:
        np.testing.assert_array_equal(after[name], before[name])


# --- data providers ----------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, -5])
def test_evaluation_batches_need_a_positive_size(batch_size) -> None:
    with pytest.raises(ValueError, match="evaluation_batches: batch_size must be a positive"):
        _data().evaluation_batches(batch_size)


def test_evaluation_batches_size_must_be_an_integer() -> None:
    with pytest.raises(TypeError, match="batch_size must be a positive integer, got float"):
        _data().evaluation_batches(2.5)


@pytest.mark.parametrize(
    ("num_classes", "error", "message"),
    [
        (2.7, TypeError, "num_classes must be a positive integer, got float 2.7"),
        (0, ValueError, "num_classes must be a positive integer, got 0"),
        (True, TypeError, "num_classes must be a positive integer, got bool"),
    ],
)
def test_num_classes_must_be_an_integer(num_classes, error, message) -> None:
    with pytest.raises(error, match=message):
        OneOfKDataProvider(np.zeros((4, 2)), [0, 1, 0, 1], 2, num_classes=num_classes)


def test_to_one_of_k_takes_lists_and_refuses_labels_out_of_range() -> None:
    data = _data()
    np.testing.assert_array_equal(data.to_one_of_k([2, 0]), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match=r"label 3 is out of range 0..2"):
        data.to_one_of_k([0, 3])
    with pytest.raises(ValueError, match=r"label -1 is out of range"):
        data.to_one_of_k(np.array([-1]))
    with pytest.raises(ValueError, match="1-D integer labels"):
        data.to_one_of_k([0.5])


def test_provider_arguments_are_named() -> None:
    with pytest.raises(TypeError, match="inputs must be an array of numbers"):
        DataProvider(np.array(["a", "b"]), np.zeros(2), 1)
    with pytest.raises(ValueError, match="inputs must be an array"):
        DataProvider([[1.0], [1.0, 2.0]], np.zeros(2), 1)
    with pytest.raises(TypeError, match="shuffle_order must be True or False, got str 'no'"):
        DataProvider(np.zeros((2, 1)), np.zeros(2), 1, shuffle_order="no")
    with pytest.raises(TypeError, match="drop_last must be True or False"):
        DataProvider(np.zeros((2, 1)), np.zeros(2), 1, drop_last=None)


def test_provider_load_state_of_a_wrong_kind() -> None:
    data = _data()
    with pytest.raises(ValueError, match="the state has no 'order'"):
        data.load_state({})
    with pytest.raises(TypeError, match="state must be a dict, got NoneType"):
        data.load_state(None)


# --- schedulers and callbacks ------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ConstantLearningRateScheduler(True), TypeError, "learning_rate must be a number"),
        (lambda: ExponentialDecayScheduler(0.1, None), TypeError, "decay must be a number"),
        (
            lambda: ExponentialDecayScheduler(math.inf, 0.5),
            ValueError,
            "learning_rate must be finite",
        ),
        (lambda: CosineAnnealingScheduler(0.1, 2.5), TypeError, "num_epochs must be a positive"),
        (lambda: CosineAnnealingScheduler(0.1, 3, "a"), TypeError, "min_learning_rate must be a"),
    ],
)
def test_scheduler_arguments_are_named(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_cosine_takes_numpy_integers() -> None:
    assert CosineAnnealingScheduler(0.1, np.int64(4)).num_epochs == 4


def test_a_scheduler_needs_a_rule_instance() -> None:
    schedule = ConstantLearningRateScheduler(0.1)
    with pytest.raises(TypeError, match=r"pass GradientDescentLearningRule\(\), an instance"):
        schedule.update_learning_rule(GradientDescentLearningRule, 0)
    assert GradientDescentLearningRule.__dict__.get("learning_rate") is not None  # untouched
    with pytest.raises(TypeError, match="learning_rule must have a learning_rate"):
        schedule.update_learning_rule(object(), 0)


def test_callbacks_are_checked() -> None:
    with pytest.raises(TypeError, match=r"callbacks\[0\].*an instance"):
        Optimiser(**_parts(), callbacks=[EpochTimer])
    with pytest.raises(TypeError, match="on_epoch_end must be callable"):
        LambdaCallback(on_epoch_end=3)
