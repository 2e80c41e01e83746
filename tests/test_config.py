"""ExperimentConfig: defaults, TOML round trips, clear errors naming key and line, and
the objects a config builds."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np
import pytest

from mlp.config import (
    ConfigError,
    ExperimentConfig,
    build_experiment,
    build_scheduler,
    config_from_dict,
    learning_rate_at,
    load_config,
    parse_hidden,
    to_toml,
)
from mlp.layers import DropoutLayer, SigmoidLayer, SoftmaxLayer
from mlp.learning_rules import AdamLearningRule, NesterovMomentumLearningRule


def test_defaults_are_valid_and_resolve_rule_defaults():
    config = ExperimentConfig().validate()
    assert config.hidden == (100, 100) and config.rule == "sgd"
    assert config.resolved().learning_rate == 0.1
    adam = ExperimentConfig(rule="adam").resolved()
    assert adam.learning_rate == 1e-3 and adam.epsilon == 1e-8
    assert ExperimentConfig(init="glorot_uniform").resolved().init_scale == 1.0
    assert ExperimentConfig(init="uniform").resolved().init_scale == 0.1


def test_toml_round_trip_is_exact(tmp_path):
    config = ExperimentConfig(
        name="r1",
        hidden=(800, 30),
        activation="leaky_relu",
        rule="adam",
        learning_rate=3.3e-4,
        epsilon=1e-7,
        dropout=0.25,
        max_train_examples=1234,
        test=True,
        weight_decay=1 / 3,
    ).resolved()
    path = tmp_path / "c.toml"
    path.write_text(to_toml(config.to_dict(), comment="a comment\nover two lines"))
    assert load_config(path) == config


def test_flags_override_the_file(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('hidden = [10]\nepochs = 3\nrule = "adam"\n')
    config = load_config(path, overrides={"epochs": 1, "hidden": (5, 5)})
    assert (config.epochs, config.hidden, config.rule) == (1, (5, 5), "adam")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "hidden = [100]\nlearning_rat = 0.1\n",
            ["unknown key 'learning_rat'", "line 2", "learning_rate"],
        ),
        ('epochs = "ten"\n', ["epochs must be an integer", "line 1"]),
        ("epochs = 2.5\n", ["epochs must be an integer"]),
        ("test = 1\n", ["test must be true or false"]),
        ("hidden = [100\nepochs = 3\n", ["not valid TOML", "line 2"]),
        ('rule = "adma"\n', ["rule must be one of", "did you mean 'adam'", "line 1"]),
        ("\n\ndropout = 2.0\n", ["dropout", "[0, 1)", "line 3"]),
        ("epochs = 0\n", ["epochs must be a positive integer", "line 1"]),
        ("[model]\nhidden = [1]\n", ["unexpected table [model]", "line 1"]),
        ('hidden = ["a"]\n', ["hidden must be a list of positive integers"]),
        ("hidden = [0]\n", ["hidden widths must be positive"]),
        ('init = "glorot_uniform"\ninit_scale = 0.0\n', ["gain"]),
        ("max_train_examples = 10\n", ["at least batch_size"]),
    ],
)
def test_bad_files_name_the_key_and_line(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=re.escape(expected[0])) as info:
        load_config(path)
    for fragment in expected:
        assert fragment in str(info.value)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"device": "cuda"}, "device 'cuda' needs backend 'torch'"),  # numpy backend
        (
            {"backend": "torch", "dropout": 0.5, "dropout_share_across_batch": True},
            "dropout_share_across_batch must be false",
        ),
        ({"hidden": (), "dropout": 0.5}, "dropout applies to hidden layers"),
        ({"seed": -1}, "seed must be an integer"),
        ({"beta_1": 1.0}, r"beta_1 must be a number in \[0, 1\)"),
        ({"lr_decay": 0.0}, r"lr_decay must be a number in \(0, 1\]"),
        ({"name": "a/b"}, "name 'a/b' is not a plain folder name"),
    ],
)
def test_impossible_combinations_are_refused(values, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict(values)


def test_choices_accept_dashes_and_case():
    config = config_from_dict({"activation": "Leaky-ReLU", "dataset": "fashion_mnist"})
    assert config.activation == "leaky_relu" and config.dataset == "fashion-mnist"


@pytest.mark.parametrize(
    ("text", "widths"), [("100,100", (100, 100)), (" 7 ", (7,)), ("none", ()), ("", ())]
)
def test_parse_hidden(text, widths):
    assert parse_hidden(text) == widths


@pytest.mark.parametrize("text", ["10,x", "10,,3", "-5", "1.5"])
def test_parse_hidden_rejects(text):
    with pytest.raises(ConfigError, match=r"hidden (must be comma-separated|widths must be pos)"):
        parse_hidden(text)


def test_a_schedule_with_the_torch_backend_takes_any_stats_interval():
    config = config_from_dict(
        {"backend": "torch", "schedule": "cosine", "stats_interval": 5, "epochs": 10}
    )
    assert build_scheduler(config).learning_rate(9) == learning_rate_at(config, 10)


def test_learning_rate_schedules():
    cosine = ExperimentConfig(rule="adam", learning_rate=1e-3, schedule="cosine", epochs=10)
    assert learning_rate_at(cosine, 1) == pytest.approx(1e-3)
    assert learning_rate_at(cosine, 6) == pytest.approx(5e-4)  # half way: (6 - 1) / 10
    # The last epoch still learns: lr_min (0) would come only after it.
    assert learning_rate_at(cosine, 10) == pytest.approx(0.5e-3 * (1 + math.cos(0.9 * math.pi)))
    assert learning_rate_at(cosine, 10) > 2e-5
    exponential = dataclasses.replace(cosine, schedule="exponential", lr_decay=0.5)
    assert learning_rate_at(exponential, 3) == pytest.approx(2.5e-4)
    constant = dataclasses.replace(cosine, schedule="constant")
    assert all(learning_rate_at(constant, e) == 1e-3 for e in (1, 5, 11))


def test_build_experiment_follows_the_config(mnist_dir):
    config = ExperimentConfig(
        hidden=(20, 20),
        activation="sigmoid",
        error="cross_entropy",
        rule="nesterov",
        input_dropout=0.1,
        dropout=0.2,
        max_train_examples=500,
        batch_size=50,
        dtype="float64",
    )
    experiment = build_experiment(config)
    layers = experiment.model.layers
    assert isinstance(layers[0], DropoutLayer) and isinstance(layers[-1], SoftmaxLayer)
    assert sum(isinstance(layer, DropoutLayer) for layer in layers) == 3
    assert sum(isinstance(layer, SigmoidLayer) for layer in layers) == 2
    assert isinstance(experiment.learning_rule, NesterovMomentumLearningRule)
    assert experiment.train_data.num_examples == 500 and experiment.train_data.batch_size == 50
    assert all(p.dtype == np.float64 for p in experiment.model.params)
    # Every generator a checkpoint must keep is listed (here all are one shared generator).
    assert {"train", "valid", "dropout_0"} <= set(experiment.rngs)


def test_same_seed_same_model_other_seed_other_model(mnist_dir):
    config = ExperimentConfig(hidden=(10,), rule="adam", max_train_examples=200)
    a, b = build_experiment(config), build_experiment(config)
    c = build_experiment(dataclasses.replace(config, seed=1))
    assert isinstance(a.learning_rule, AdamLearningRule)
    for pa, pb, pc in zip(a.model.params, b.model.params, c.model.params, strict=True):
        np.testing.assert_array_equal(pa, pb)
        assert pa.ndim == 1 or not np.array_equal(pa, pc)
    np.testing.assert_array_equal(a.train_data._order, b.train_data._order)


def test_uniform_init_scale_and_bias_scale(mnist_dir):
    config = ExperimentConfig(
        hidden=(), init_scale=0.01, bias_init_scale=0.01, max_train_examples=100
    )
    weights, biases = build_experiment(config).model.params
    assert 0.009 < np.abs(weights).max() <= 0.01 and 0 < np.abs(biases).max() <= 0.01
    zero_bias = build_experiment(dataclasses.replace(config, bias_init_scale=0.0)).model.params[1]
    assert not zero_bias.any()


def test_architecture_and_default_name():
    assert ExperimentConfig(hidden=()).architecture() == "784-10 softmax regression"
    config = ExperimentConfig(hidden=(100, 50), activation="relu", rule="adam")
    assert config.architecture() == "784-100-50-10 relu"
    assert config.default_name() == "relu-100x50-adam"
    assert not math.isnan(ExperimentConfig().resolved().learning_rate)


def test_flags_can_mend_a_file_that_is_impossible_on_its_own(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text("max_train_examples = 50\n")  # under the default batch_size 100
    config = load_config(path, overrides={"batch_size": 10})
    assert (config.max_train_examples, config.batch_size) == (50, 10)
    path.write_text("stats_interval = 2\nepochs = 5\n")
    assert load_config(path, overrides={"stats_interval": 1}).stats_interval == 1
    with pytest.raises(ConfigError, match=r"batch_size.*\(command line\)"):
        load_config(path, overrides={"batch_size": 0})


def test_epochs_must_be_a_multiple_of_stats_interval():
    with pytest.raises(
        ConfigError, match=r"epochs \(5\) must be a multiple of stats_interval \(2\)"
    ):
        config_from_dict({"epochs": 5, "stats_interval": 2})
    assert config_from_dict({"epochs": 6, "stats_interval": 2}).epochs == 6


def test_a_batch_larger_than_the_training_set_is_a_config_error(mnist_dir):
    with pytest.raises(ConfigError, match="larger than the 50000 training examples"):
        build_experiment(ExperimentConfig(batch_size=60_000, epochs=1, stats_interval=1))


def test_the_test_error_includes_the_penalty_as_the_other_errors_do(mnist_dir):
    from mlp.optimisers import Optimiser
    from mlp.runs.finish import evaluate_test_set

    config = ExperimentConfig(hidden=(16,), weight_decay=0.05, max_train_examples=200)
    experiment = build_experiment(config)
    optimiser = Optimiser(
        experiment.model, experiment.error, experiment.learning_rule, experiment.train_data
    )
    monitors = optimiser.eval_monitors(experiment.test_data(), "(test)")
    assert experiment.model.params_penalty() > 0.01
    assert evaluate_test_set(experiment)["error"] == pytest.approx(
        monitors["error(test)"], rel=1e-6
    )


def test_normalise_choice_follows_each_keys_declared_choices():
    from mlp.config import normalise_choice

    assert normalise_choice("activation", " Leaky-ReLU ") == "leaky_relu"
    assert normalise_choice("dataset", "Fashion_MNIST") == "fashion-mnist"
    assert normalise_choice("rule", "adma") == "adma"  # left for the check to refuse


def test_the_chosen_entries_and_the_values_they_are_built_with():
    config = ExperimentConfig(rule="rmsprop", init="he_uniform", schedule="cosine", lr_min=1e-4)
    assert config.entry("rule").name == "rmsprop"
    assert config.hyperparameters("rule") == {"learning_rate": 1e-3, "beta": 0.9, "epsilon": 1e-8}
    assert config.hyperparameters("init") == {"init_scale": 1.0}
    assert config.hyperparameters("schedule") == {"lr_min": 1e-4}
    # Declared hyperparameters without a config key take their declared default.
    assert ExperimentConfig(activation="leaky_relu").hyperparameters("activation") == {
        "alpha": 0.01
    }
    with pytest.raises(ConfigError, match="rule must be one of"):
        ExperimentConfig(rule="adma").entry("rule")


def test_range_errors_name_the_key_the_value_and_the_range():
    with pytest.raises(ConfigError, match=r"^mom_coeff must be a number in \[0, 1\), got 1.5$"):
        config_from_dict({"mom_coeff": 1.5})
    with pytest.raises(ConfigError, match=r"^seed must be an integer in \[0, 4294967295\]"):
        config_from_dict({"seed": 2**32})
    with pytest.raises(ConfigError, match=r"^learning_rate must be a number > 0, got nan"):
        config_from_dict({"learning_rate": float("nan")})


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"epochs": True}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"learning_rate": "0.1"}, "learning_rate"),
        ({"test": "yes"}, "test"),
        ({"hidden": [2.5]}, "hidden"),
        ({"hidden": "100,100"}, "hidden"),
        ({"name": 5}, "name"),
    ],
)
def test_validate_refuses_a_field_of_the_wrong_type_naming_it(changes, key):
    with pytest.raises(ConfigError, match=key):
        ExperimentConfig(**changes).validate()


def test_a_cosine_schedule_may_rise_as_torchs_does():
    # Refusing it would make configs written by earlier versions unreadable.
    config = ExperimentConfig(schedule="cosine", learning_rate=0.01, lr_min=0.1, epochs=4)
    assert build_scheduler(config.validate()).learning_rate(2) == pytest.approx(0.055)
