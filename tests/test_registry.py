"""The registry: every entry builds its NumPy and PyTorch objects, the declarations are
consistent, and the config's checks and the CLI's flags are the ones they generate."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from mlp import config, registry
from mlp.cli import build_parser
from mlp.config import SETTINGS, ConfigError, ExperimentConfig, config_from_dict
from mlp.registry import Entry, Hyperparameter

ENTRIES = [e for kind in registry.KINDS for e in registry.entries(kind)]
LAYER_ENTRIES = [e for e in ENTRIES if e.kind in ("activation", "layer")]
IN_DIM = 4
# What a layer needs beyond its declared defaults to be built.
LAYER_ARGUMENTS = {
    "affine": {"output_dim": 3},
    "dropout": {"rng": np.random.RandomState(0)},
    "conv": {"num_output_channels": 2, "kernel_size": 2},
}
# The shape of one example each layer takes, where it is not (IN_DIM,).
LAYER_INPUT_SHAPES = {"conv": (2, 4, 4), "max_pool_2d": (2, 4, 4)}


def _input_shape(entry: Entry) -> tuple[int, ...]:
    return LAYER_INPUT_SHAPES.get(entry.name, (IN_DIM,))


def _id(entry: Entry) -> str:
    return f"{entry.kind}-{entry.name}"


def _numpy_object(entry: Entry):
    if entry.kind in ("activation", "layer"):
        return entry.build(_input_shape(entry), **LAYER_ARGUMENTS.get(entry.name, {}))
    if entry.kind == "init":
        return entry.build(rng=np.random.RandomState(0))
    if entry.kind == "schedule":
        return entry.build(0.1, 10)
    return entry.build()


# --- every entry builds ----------------------------------------------------------------------


@pytest.mark.parametrize("entry", ENTRIES, ids=_id)
def test_every_entry_builds_its_numpy_object(entry: Entry) -> None:
    built = _numpy_object(entry)
    if entry.kind in ("activation", "layer"):
        layer, shape = built
        assert type(layer) is entry.layer_class
        outputs = layer.fprop(np.random.RandomState(1).normal(size=(2, *_input_shape(entry))))
        assert outputs.shape == (2, *shape)
        if entry.kind == "activation":
            assert shape == (IN_DIM,)  # activations are elementwise
    elif entry.kind == "error":
        targets = np.eye(3)[[0, 2]]
        assert np.isfinite(built(np.full((2, 3), 0.3), targets))
    elif entry.kind == "rule":
        assert built.learning_rate == entry.defaults()["learning_rate"]
    elif entry.kind == "init":
        assert built((3, IN_DIM)).shape == (3, IN_DIM)
    else:
        assert built.learning_rate(0) == pytest.approx(0.1)


@pytest.mark.parametrize("entry", LAYER_ENTRIES, ids=_id)
def test_every_layer_entry_converts_to_torch_and_back(entry: Entry) -> None:
    torch = pytest.importorskip("torch")
    layer, _ = _numpy_object(entry)
    module = entry.build_torch(layer)
    assert isinstance(module, torch.nn.Module) and type(module) is entry.torch_class()
    assert registry.entry_for_layer(layer) is entry
    # A torch module comes back as the first entry of its class: the course's ELU
    # (exponential_linear_unit, a subclass of ELULayer) returns as the 'elu' activation.
    owner = registry.entry_for_module(module)
    assert owner is entry or (
        owner is not None
        and owner.torch_class is not None
        and owner.torch_class() is entry.torch_class()
        and issubclass(entry.layer_class, owner.layer_class)
    )
    back = owner.from_torch(module)
    assert type(back) is owner.layer_class
    x = np.random.RandomState(2).normal(size=(2, *_input_shape(entry))).astype(np.float32)
    module.eval()
    evaluation = layer.has_evaluation_mode  # dropout, rrelu, batch normalisation: as module.eval()
    ours = layer.fprop(x, stochastic=False) if evaluation else layer.fprop(x)
    np.testing.assert_allclose(module(torch.from_numpy(x)).detach().numpy(), ours, atol=1e-6)


@pytest.mark.parametrize("entry", registry.entries("error"), ids=_id)
def test_every_error_has_a_torch_loss_of_the_same_value(entry: Entry) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(3)
    outputs = rng.uniform(0.05, 0.95, size=(4, 3))
    if entry.output_layer == "softmax":
        outputs /= outputs.sum(axis=1, keepdims=True)
    targets = np.eye(3)[[0, 1, 2, 1]]
    loss = entry.build_torch()(torch.from_numpy(outputs), torch.from_numpy(targets))
    assert float(loss) == pytest.approx(entry.build()(outputs, targets), rel=1e-10)


@pytest.mark.parametrize("entry", registry.entries("rule"), ids=_id)
def test_every_rule_has_a_torch_optimiser_taking_the_same_steps(entry: Entry) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(4)
    start = rng.normal(size=(3, 2))
    grads = [rng.normal(size=(3, 2)) for _ in range(3)]
    ours = start.copy()
    rule = entry.build()
    rule.initialise([ours])
    theirs = torch.nn.Parameter(torch.from_numpy(start.copy()))
    optimiser = entry.build_torch([theirs])
    assert isinstance(optimiser, torch.optim.Optimizer)
    for grad in grads:
        rule.update_params([grad])
        theirs.grad = torch.from_numpy(grad.copy())
        optimiser.step()
    np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("entry", registry.entries("init"), ids=_id)
def test_every_initialiser_has_a_torch_fill_of_the_same_distribution(entry: Entry) -> None:
    torch = pytest.importorskip("torch")
    shape = (300, 400)
    ours = entry.build(rng=np.random.RandomState(5))(shape)
    torch.manual_seed(5)
    theirs = entry.build_torch()(torch.empty(shape, dtype=torch.float64)).numpy()
    assert theirs.shape == shape
    assert theirs.std() == pytest.approx(ours.std(), rel=0.02)
    assert abs(theirs.mean()) < 0.02 * ours.std() + 1e-3
    assert np.abs(theirs).max() == pytest.approx(np.abs(ours).max(), rel=0.3)


def test_only_schedules_lack_a_torch_factory_the_trainer_takes_them_as_they_are() -> None:
    assert {e.kind for e in ENTRIES if e.torch is None} == {"schedule"}
    with pytest.raises(TypeError, match="no PyTorch factory"):
        registry.entry("schedule", "cosine").build_torch()


def test_importing_the_registry_and_the_config_does_not_import_torch() -> None:
    code = "import sys, mlp.registry, mlp.config, mlp.cli; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "False"


# --- the declarations ------------------------------------------------------------------------


DECLARED = [(e, hp) for e in ENTRIES for hp in e.hyperparameters] + [
    (None, hp) for hp in SETTINGS.values()
]


@pytest.mark.parametrize(
    ("entry", "hp"), DECLARED, ids=lambda x: x.name if x is not None else "config"
)
def test_every_declared_default_lies_in_its_range(entry, hp: Hyperparameter) -> None:
    if hp.default is None:
        # None: the value must be given (a layer's width), or depends on another setting.
        assert hp.optional or hp.type is int or entry is None
        return
    assert hp.problem(hp.default) is None
    assert hp.coerce(hp.default) == hp.default


def test_names_are_unique_and_layer_names_are_shared_by_activations_and_layers() -> None:
    layer_names = registry.names("activation") + registry.names("layer")
    assert len(set(layer_names)) == len(layer_names)
    with pytest.raises(ValueError, match="registered already"):
        registry.register(Entry("layer", "relu", "again", lambda shape: None))
    bad = Hyperparameter("alpha", float, -1.0, "slope", 0.0)
    with pytest.raises(ValueError, match="alpha must be a number >= 0"):
        registry.register(Entry("activation", "new", "x", lambda shape: None, None, (bad,)))
    assert "new" not in registry.names("activation")


def test_unknown_names_are_refused_with_a_suggestion() -> None:
    with pytest.raises(ValueError, match=r"rule must be one of .*did you mean 'adam'"):
        registry.entry("rule", "adma")
    with pytest.raises(ValueError, match="unknown kind"):
        registry.names("optimiser")


def test_building_checks_the_declared_values() -> None:
    with pytest.raises(ValueError, match=r"incl_prob must be a number in \(0, 1\] for layer"):
        registry.entry("layer", "dropout").build((4,), incl_prob=0.0)
    with pytest.raises(ValueError, match="output_dim must be a positive integer"):
        registry.entry("layer", "affine").build((4,))
    layer, shape = registry.entry("layer", "affine").build((4,), output_dim=7)
    assert (layer.input_dim, layer.output_dim, shape) == (4, 7, (7,))


def test_config_keys_are_the_fields_and_their_defaults_are_the_declared_ones() -> None:
    fields = {f.name: f.default for f in dataclasses.fields(ExperimentConfig)}
    assert list(SETTINGS) == list(fields)
    for key, setting in SETTINGS.items():
        assert setting.default == fields[key], key


def test_the_configs_data_sets_are_those_of_mlp_datasets() -> None:
    from mlp import datasets

    assert config.DATASETS == tuple(datasets.DATASETS)


def test_a_rules_declared_defaults_are_what_a_config_resolves_to() -> None:
    for entry in registry.entries("rule"):
        resolved = ExperimentConfig(rule=entry.name).resolved()
        for hp in entry.hyperparameters:
            assert getattr(resolved, hp.name) == hp.default, (entry.name, hp.name)


# --- the checks they generate -------------------------------------------------------------


def _outside(setting: Hyperparameter):
    """A value of the declared type just outside the declared range (None if unbounded)."""
    if setting.low is not None:
        return setting.type(setting.low if setting.low_open else setting.low - 1)
    return None


RANGED = [s for s in SETTINGS.values() if s.type in (int, float) and s.low is not None]


@pytest.mark.parametrize("setting", RANGED, ids=lambda s: s.name)
def test_config_errors_name_the_key_the_value_and_the_declared_range(setting) -> None:
    value = _outside(setting)
    with pytest.raises(ConfigError, match=f"^{setting.name} ") as info:
        config_from_dict({setting.name: value})
    message = str(info.value)
    assert message.startswith(setting.name + " ")
    assert setting.describe() in message and f"got {value}" in message
    with pytest.raises(ConfigError, match=f"^{setting.name} must be"):
        dataclasses.replace(ExperimentConfig(), **{setting.name: value}).validate()


@pytest.mark.parametrize("setting", RANGED, ids=lambda s: s.name)
def test_flag_errors_are_generated_from_the_same_declaration(setting, capsys) -> None:
    flag = "--" + setting.name.replace("_", "-")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", flag, str(_outside(setting))])
    err = capsys.readouterr().err
    assert f"argument {flag}: expected {setting.describe()}" in err


def test_an_entrys_own_range_is_checked_with_its_help() -> None:
    with pytest.raises(ConfigError, match=r"init_scale must be a number > 0 for init 'he_normal'"):
        config_from_dict({"init": "he_normal", "init_scale": 0.0})
    assert config_from_dict({"init": "uniform", "init_scale": 0.0}).init_scale == 0.0


def _train_help(capsys) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    return capsys.readouterr().out


def test_the_cli_offers_exactly_the_registrys_names(capsys) -> None:
    out = _train_help(capsys)
    for kind in config.CHOSEN_KINDS:
        assert f"--{kind} {{{','.join(registry.names(kind))}}}" in out, kind
    for kind in config.CHOSEN_KINDS:
        name = registry.names(kind)[-1]
        assert (
            build_parser().parse_args(["train", f"--{kind}", name.upper()]).__dict__[kind] == name
        )
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--activation", "softmax"])  # a layer, not one
    assert "invalid choice: 'softmax'" in capsys.readouterr().err


def test_train_help_lists_every_flag_with_its_default_and_every_name(capsys) -> None:
    out = " ".join(_train_help(capsys).split())  # argparse wraps the lines
    for key in SETTINGS:
        if key != "name":
            assert "--" + key.replace("_", "-") in out
    assert "(default 0.1 for sgd, momentum, nesterov; 0.01 for adagrad" in out
    assert "(default 100,100)" in out and "(default 123456)" in out
    for kind in config.CHOSEN_KINDS:
        for entry in registry.entries(kind):
            assert entry.name in out and entry.help in out


def test_the_labs_activations_are_registry_names() -> None:
    from mlp.lab import ACTIVATIONS

    assert set(ACTIVATIONS) <= set(registry.names("activation"))


def test_a_value_of_the_wrong_type_is_refused_naming_the_key():
    lr = registry.entry("rule", "adam").hyperparameter("learning_rate")
    for value in ("0.5", [0.5], True, None):
        with pytest.raises(ValueError, match="learning_rate must be a number > 0"):
            lr.check(value)
    assert lr.problem(0.5) is None


def test_arguments_refuse_a_keyword_no_factory_takes():
    adam = registry.entry("rule", "adam")
    with pytest.raises(ValueError, match="takes no hyperparameter 'bogus'"):
        adam.arguments({"bogus": 1})
    with pytest.raises(TypeError, match="values must be a mapping"):
        adam.arguments(None)  # type: ignore[arg-type]
    # An undeclared keyword the factory takes (an initialiser's rng) passes through.
    init = registry.entry("init", "uniform")
    assert "rng" in init.arguments({"rng": np.random.RandomState(0)})


def test_entry_and_register_check_their_arguments():
    with pytest.raises(ValueError, match="kind must be one of"):
        Entry("bogus", "x", "h", dict)
    with pytest.raises(TypeError, match="name must be a non-empty string"):
        Entry("rule", "", "h", dict)
    with pytest.raises(TypeError, match="numpy must be a factory"):
        Entry("rule", "x", "h", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be an Entry instance"):
        registry.register("abc")  # type: ignore[arg-type]
