"""Experiment configuration: one dataclass, read from TOML or flags, checked up front.

An `ExperimentConfig` says everything one training run needs: the data, the model's
architecture, the error, the learning rule and its hyperparameters, the initialiser,
regularisation, epochs and batches, the seed and the backend. It is what `mlp train`
builds from its flags and from a TOML file, and what a run record stores as
`config.toml`, fully resolved, so that a run can be repeated or resumed from its record::

    from mlp.config import ExperimentConfig, load_config
    config = ExperimentConfig(hidden=(100, 100), activation="relu", rule="adam")
    config = load_config("experiment.toml", overrides={"epochs": 5})
    experiment = build_experiment(config)      # model, error, rule and data providers

A TOML file holds the same keys as the dataclass fields, at the top level::

    hidden = [100, 100]
    activation = "relu"
    rule = "adam"
    learning_rate = 1e-3
    epochs = 20

Every problem (an unknown key, a wrong type, an impossible value, a TOML syntax error) is
a `ConfigError` whose message names the key and, for files, the line.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlp import DEFAULT_SEED
from mlp.compat import tomllib

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "DATASETS",
    "DEVICES",
    "DTYPES",
    "ERRORS",
    "INITIALISERS",
    "RULES",
    "SCHEDULES",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "build_experiment",
    "build_scheduler",
    "config_from_dict",
    "learning_rate_at",
    "load_config",
    "parse_hidden",
    "to_toml",
]

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu")
ERRORS = (
    "cross_entropy_softmax",
    "cross_entropy",
    "sum_of_squares",
    "binary_cross_entropy_sigmoid",
    "binary_cross_entropy",
)
RULES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
INITIALISERS = (
    "uniform",
    "normal",
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
)
SCHEDULES = ("constant", "cosine", "exponential")
DATASETS = ("mnist", "fashion-mnist")
BACKENDS = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")

_DEFAULT_LEARNING_RATES = {
    "sgd": 0.1,
    "momentum": 0.1,
    "nesterov": 0.1,
    "adagrad": 1e-2,
    "rmsprop": 1e-3,
    "adam": 1e-3,
}
_DEFAULT_EPSILONS = {"adagrad": 1e-10, "rmsprop": 1e-8, "adam": 1e-8}

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._=+-]*$")


class ConfigError(ValueError):
    """A configuration that cannot be run; the message names the key (and line) at fault."""


@dataclass
class ExperimentConfig:
    """Everything one training run needs. Defaults: a 784-100-100-10 sigmoid net trained
    with gradient descent (lr 0.1, batch 100), the seed lab's settings, for 10 epochs.

    Architecture: inputs (784) -> [affine -> activation (-> dropout)] per entry of `hidden`
    -> affine (10). With `error = "cross_entropy"` a `SoftmaxLayer` closes the model, with
    `"binary_cross_entropy"` a `SigmoidLayer`; the other errors take the affine outputs.

    Fields (the keys of a TOML file and, with dashes, the flags of `mlp train`):
        name: name of the run record (folder under the runs directory); None chooses one.
        dataset: 'mnist' or 'fashion-mnist'.
        hidden: widths of the hidden layers; () is softmax regression.
        activation: non-linearity after each hidden affine layer.
        error: the error trained on.
        rule: learning rule; learning_rate None takes the rule's usual default (0.1 for
            the gradient-descent family, 1e-2 AdaGrad, 1e-3 RMSProp and Adam).
        mom_coeff: momentum coefficient (momentum, nesterov).
        beta_1, beta_2: Adam's decay rates; beta: RMSProp's.
        epsilon: AdaGrad/RMSProp/Adam stabiliser; None takes the rule's default.
        schedule: learning rate per epoch: 'constant'; 'cosine' from learning_rate at the
            first epoch down towards lr_min, reached after the last; 'exponential', times
            lr_decay per epoch.
        init: weight initialiser; init_scale is the half-width of 'uniform' (default 0.1),
            the std of 'normal' (0.1), the gain of Glorot and He (1.0).
        bias_init_scale: biases uniform on +-this; 0 gives zero biases.
        dropout: probability of dropping each hidden unit while training (0 = none);
            input_dropout the same for the inputs; dropout_share_across_batch uses one
            mask for a whole batch (the course's layer default) instead of one per example.
        weight_decay: L2 penalty coefficient on the weights (0.5 * c * sum(w**2)).
        epochs, batch_size, stats_interval: as `Optimiser.train` and the data providers.
        seed: seeds everything random in the run (initial weights, shuffles, dropout).
        max_train_examples: train on the first this many training examples (quick runs).
        test: also record the accuracy on the test set at the end.
        backend: 'numpy' (the framework) or 'torch' (the same model via `mlp.pytorch`).
        device: torch device: 'auto' picks CUDA when there is a GPU.
        dtype: 'float32' or 'float64' (numpy backend).
    """

    name: str | None = None
    dataset: str = "mnist"
    hidden: tuple[int, ...] = (100, 100)
    activation: str = "sigmoid"
    error: str = "cross_entropy_softmax"
    rule: str = "sgd"
    learning_rate: float | None = None
    mom_coeff: float = 0.9
    beta_1: float = 0.9
    beta_2: float = 0.999
    beta: float = 0.9
    epsilon: float | None = None
    schedule: str = "constant"
    lr_min: float = 0.0
    lr_decay: float = 0.95
    init: str = "uniform"
    init_scale: float | None = None
    bias_init_scale: float = 0.0
    dropout: float = 0.0
    input_dropout: float = 0.0
    dropout_share_across_batch: bool = False
    weight_decay: float = 0.0
    epochs: int = 10
    batch_size: int = 100
    stats_interval: int = 1
    seed: int = DEFAULT_SEED
    max_train_examples: int | None = None
    test: bool = False
    backend: str = "numpy"
    device: str = "auto"
    dtype: str = "float32"

    # --- checks -------------------------------------------------------------------------

    def validate(self) -> ExperimentConfig:
        """Check every field and their combinations; returns self.

        Raises:
            ConfigError: naming the first field at fault and what it accepts.
        """
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("activation", self.activation, ACTIVATIONS)
        _check_choice("error", self.error, ERRORS)
        _check_choice("rule", self.rule, RULES)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_choice("init", self.init, INITIALISERS)
        _check_choice("backend", self.backend, BACKENDS)
        _check_choice("device", self.device, DEVICES)
        _check_choice("dtype", self.dtype, DTYPES)
        if self.name is not None and not _NAME_PATTERN.match(self.name):
            raise ConfigError(
                f"name {self.name!r} is not a plain folder name: use letters, digits and . _ - = +"
            )
        if any(width < 1 for width in self.hidden):
            raise ConfigError(f"hidden widths must be positive integers, got {list(self.hidden)}")
        for key in ("epochs", "batch_size", "stats_interval"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key} must be a positive integer, got {getattr(self, key)}")
        if self.epochs % self.stats_interval:
            raise ConfigError(
                f"epochs ({self.epochs}) must be a multiple of stats_interval "
                f"({self.stats_interval}), so that the last epoch's statistics are recorded"
            )
        if self.seed < 0 or self.seed >= 2**32:
            raise ConfigError(f"seed must lie in 0 .. 2**32 - 1, got {self.seed}")
        if self.max_train_examples is not None and self.max_train_examples < self.batch_size:
            raise ConfigError(
                f"max_train_examples ({self.max_train_examples}) must be at least batch_size "
                f"({self.batch_size}): a partial last batch is dropped"
            )
        if self.learning_rate is not None:
            _check_finite_positive("learning_rate", self.learning_rate)
        for key in ("mom_coeff", "beta_1", "beta_2", "beta"):
            value = getattr(self, key)
            if not 0 <= value < 1:
                raise ConfigError(f"{key} must lie in [0, 1), got {value}")
        if self.epsilon is not None:
            _check_finite_positive("epsilon", self.epsilon)
        if not (math.isfinite(self.lr_min) and self.lr_min >= 0):
            raise ConfigError(f"lr_min must be >= 0, got {self.lr_min}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"lr_decay must lie in (0, 1], got {self.lr_decay}")
        if self.init_scale is not None:
            _check_finite_positive("init_scale", self.init_scale, allow_zero=True)
            if self.init.startswith(("glorot", "he")) and self.init_scale == 0:
                raise ConfigError(f"init_scale is the gain of {self.init}: it must be > 0")
        if not (math.isfinite(self.bias_init_scale) and self.bias_init_scale >= 0):
            raise ConfigError(f"bias_init_scale must be >= 0, got {self.bias_init_scale}")
        for key in ("dropout", "input_dropout"):
            value = getattr(self, key)
            if not 0 <= value < 1:
                raise ConfigError(
                    f"{key} is the probability of dropping a unit: it must lie in [0, 1), got {value}"
                )
        if self.dropout and not self.hidden:
            raise ConfigError("dropout applies to hidden layers, and this model has none")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0):
            raise ConfigError(f"weight_decay must be >= 0, got {self.weight_decay}")
        if self.backend == "numpy" and self.device != "auto" and self.device != "cpu":
            raise ConfigError(
                f"device {self.device!r} needs backend 'torch'; the numpy backend runs on the CPU"
            )
        if self.backend == "torch":
            if self.dropout_share_across_batch and (self.dropout or self.input_dropout):
                raise ConfigError(
                    "backend 'torch' draws a dropout mask per example: "
                    "dropout_share_across_batch must be false"
                )
        return self

    # --- resolved values ----------------------------------------------------------------

    def resolved(self) -> ExperimentConfig:
        """A copy with every default that depends on other fields filled in."""
        learning_rate = self.learning_rate
        if learning_rate is None:
            learning_rate = _DEFAULT_LEARNING_RATES[self.rule]
        epsilon = self.epsilon
        if epsilon is None and self.rule in _DEFAULT_EPSILONS:
            epsilon = _DEFAULT_EPSILONS[self.rule]
        init_scale = self.init_scale
        if init_scale is None:
            init_scale = 0.1 if self.init in ("uniform", "normal") else 1.0
        return dataclasses.replace(
            self, learning_rate=learning_rate, epsilon=epsilon, init_scale=init_scale
        )

    def to_dict(self) -> dict[str, Any]:
        """Field -> value, with `hidden` as a list and unset (None) fields left out."""
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        return {key: value for key, value in values.items() if value is not None}

    def architecture(self) -> str:
        """A short description such as '784-100-100-10 sigmoid'."""
        widths = "-".join(str(w) for w in (784, *self.hidden, 10))
        return f"{widths} {self.activation}" if self.hidden else f"{widths} softmax regression"

    def default_name(self) -> str:
        """A descriptive run name such as 'sigmoid-100x100-sgd' (no timestamp)."""
        if not self.hidden:
            return f"softmax-{self.rule}"
        widths = "x".join(str(w) for w in self.hidden)
        return f"{self.activation}-{widths}-{self.rule}"


# --- reading and writing -------------------------------------------------------------------

_FIELDS = {f.name: f for f in dataclasses.fields(ExperimentConfig)}
_INT_FIELDS = {"epochs", "batch_size", "stats_interval", "seed", "max_train_examples"}
_FLOAT_FIELDS = {
    "learning_rate",
    "mom_coeff",
    "beta_1",
    "beta_2",
    "beta",
    "epsilon",
    "lr_min",
    "lr_decay",
    "init_scale",
    "bias_init_scale",
    "dropout",
    "input_dropout",
    "weight_decay",
}
_BOOL_FIELDS = {"test", "dropout_share_across_batch"}
_CHOICE_FIELDS = {
    "dataset": DATASETS,
    "activation": ACTIVATIONS,
    "error": ERRORS,
    "rule": RULES,
    "schedule": SCHEDULES,
    "init": INITIALISERS,
    "backend": BACKENDS,
    "device": DEVICES,
    "dtype": DTYPES,
}


def _normalise_choice(key: str, value: str) -> str:
    """Accept 'leaky-relu' for 'leaky_relu' and any case; datasets keep their dash."""
    text = value.strip().lower()
    if key == "dataset":
        return text.replace("_", "-")
    return text.replace("-", "_")


def _check_choice(key: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        hint = difflib.get_close_matches(str(value), choices, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ConfigError(f"{key} must be one of {', '.join(choices)}; got {value!r}{suggestion}")


def _check_finite_positive(key: str, value: float, allow_zero: bool = False) -> None:
    ok = math.isfinite(value) and (value >= 0 if allow_zero else value > 0)
    if not ok:
        raise ConfigError(f"{key} must be {'>= 0' if allow_zero else '> 0'}, got {value}")


def parse_hidden(value: Any) -> tuple[int, ...]:
    """Hidden widths from '100,100', '' or 'none' (no hidden layer), or a list of ints.

    Raises:
        ConfigError: for anything else.
    """
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("", "none", "0"):
            return ()
        parts = [part.strip() for part in text.split(",")]
        try:
            widths = tuple(int(part) for part in parts)
        except ValueError:
            raise ConfigError(
                f"hidden must be comma-separated positive integers such as 100,100; got {value!r}"
            ) from None
    elif isinstance(value, (list, tuple)):
        if not all(isinstance(w, int) and not isinstance(w, bool) for w in value):
            raise ConfigError(f"hidden must be a list of positive integers, got {value!r}")
        widths = tuple(value)
    else:
        raise ConfigError(f"hidden must be a list of positive integers, got {value!r}")
    if any(width < 1 for width in widths):
        raise ConfigError(f"hidden widths must be positive integers, got {list(widths)}")
    return widths


def _coerce(key: str, value: Any) -> Any:
    """One value checked against its field's type (TOML and flag values alike)."""
    if key == "hidden":
        return parse_hidden(value)
    if key in _INT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        return int(value)
    if key in _FLOAT_FIELDS:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        return float(value)
    if key in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} must be true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if key in _CHOICE_FIELDS:
        value = _normalise_choice(key, value)
        _check_choice(key, value, _CHOICE_FIELDS[key])
    return value


def config_from_dict(
    values: Mapping[str, Any],
    base: ExperimentConfig | None = None,
    *,
    where: Any = None,
) -> ExperimentConfig:
    """A validated config from key -> value pairs, on top of `base` (default: defaults).

    Args:
        values: TOML-style values (lists for `hidden`; strings, numbers, booleans).
        base: the config the values change.
        where: a function key -> ' (file line N)' to say where a key came from.
    Raises:
        ConfigError: for an unknown key (with a suggestion), a wrong type, an impossible
            value, or an impossible combination.
    """
    config = base if base is not None else ExperimentConfig()
    changes: dict[str, Any] = {}
    for key, value in values.items():
        place = where(key) if where is not None else ""
        if key not in _FIELDS:
            hint = difflib.get_close_matches(key, list(_FIELDS), n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(f"unknown key {key!r}{place}{suggestion}")
        try:
            changes[key] = _coerce(key, value)
        except ConfigError as error:
            raise ConfigError(f"{error}{place}") from None
    config = dataclasses.replace(config, **changes)
    try:
        return config.validate()
    except ConfigError as error:
        # Name the line of the first key the message mentions, when it came from a file.
        if where is not None:
            for key in changes:
                if str(error).startswith(key + " ") or f" {key} " in str(error):
                    raise ConfigError(f"{error}{where(key)}") from None
        raise


def _key_line(text: str, key: str) -> int | None:
    name = rf"(?:{re.escape(key)}|\"{re.escape(key)}\")"
    pattern = re.compile(rf"^\s*(?:{name}\s*=|\[\s*{name}\s*\])")
    for number, line in enumerate(text.splitlines(), start=1):
        if pattern.match(line):
            return number
    return None


def load_config(
    path: str | Path,
    overrides: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """Read a TOML file into a validated config; `overrides` (e.g. flags) win over it.

    Raises:
        ConfigError: naming the file and line for syntax errors, unknown keys (tables
            included), wrong types and impossible values.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read config file {path}: {error}") from None
    try:
        values = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None

    def where(key: str) -> str:
        line = _key_line(text, key)
        return f" ({path} line {line})" if line else f" ({path})"

    for key, value in values.items():
        if isinstance(value, dict):
            raise ConfigError(
                f"unexpected table [{key}]{where(key)}: the keys of an experiment go at "
                "the top level of the file"
            )
    # The flags change the file's values before anything is checked, so a flag can
    # mend a combination the file alone would make impossible.
    overrides = dict(overrides or {})

    def origin(key: str) -> str:
        return " (command line)" if key in overrides else where(key)

    return config_from_dict({**values, **overrides}, where=origin)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are valid TOML basic strings
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} as TOML")


def to_toml(values: Mapping[str, Any], comment: str | None = None) -> str:
    """Flat key -> value pairs (strings, numbers, booleans, lists) as TOML text.

    Nested mappings become tables. Floats are written with `repr`, so they read back
    exactly.
    """
    lines = [f"# {line}" for line in comment.splitlines()] if comment else []
    tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
    for key, value in values.items():
        if key not in tables and value is not None:
            lines.append(f"{key} = {_toml_value(value)}")
    for key, table in tables.items():
        lines.append("")
        lines.append(f"[{key}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in table.items() if v is not None)
    return "\n".join(lines) + "\n"


# --- building an experiment ------------------------------------------------------------


@dataclass
class Experiment:
    """The objects a config describes, ready for `Optimiser`.

    Attributes:
        model: a `MultipleLayerModel` (inputs (batch_size, 784) -> outputs (batch_size, 10)).
        error: the error object; learning_rule: the rule (not yet initialised).
        train_data, valid_data: one-of-K providers; test_data is built on demand.
        rngs: name -> random generator whose state a checkpoint must keep
            ('train', 'valid', 'dropout_<i>'); several names may share one generator.
    """

    config: ExperimentConfig
    model: Any
    error: Any
    learning_rule: Any
    train_data: Any
    valid_data: Any
    rngs: dict[str, Any] = field(default_factory=dict)

    def test_data(self) -> Any:
        """The test set as a provider (batches of 10,000, in order)."""
        from mlp.data_providers import OneOfKDataProvider

        inputs, labels = _load_split(self.config.dataset, "test")
        return OneOfKDataProvider(
            inputs, labels, 10_000, shuffle_order=False, drop_last=False, num_classes=10
        )


def _load_split(dataset: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    from mlp import datasets

    return datasets.load(dataset, split)


def _initialiser(config: ExperimentConfig, rng: np.random.RandomState) -> Any:
    from mlp import initialisers

    scale = config.init_scale
    assert scale is not None
    if config.init == "uniform":
        return initialisers.UniformInit(-scale, scale, rng=rng)
    if config.init == "normal":
        return initialisers.NormalInit(0.0, scale, rng=rng)
    cls = {
        "glorot_uniform": initialisers.GlorotUniformInit,
        "glorot_normal": initialisers.GlorotNormalInit,
        "he_uniform": initialisers.HeUniformInit,
        "he_normal": initialisers.HeNormalInit,
    }[config.init]
    return cls(gain=scale, rng=rng)


def _error(name: str) -> Any:
    from mlp import errors

    return {
        "cross_entropy_softmax": errors.CrossEntropySoftmaxError,
        "cross_entropy": errors.CrossEntropyError,
        "sum_of_squares": errors.SumOfSquaredDiffsError,
        "binary_cross_entropy_sigmoid": errors.BinaryCrossEntropySigmoidError,
        "binary_cross_entropy": errors.BinaryCrossEntropyError,
    }[name]()


def build_learning_rule(config: ExperimentConfig) -> Any:
    """The learning rule of a (resolved) config."""
    from mlp import learning_rules as lr

    config = config.resolved()
    rate = config.learning_rate
    if config.rule == "sgd":
        return lr.GradientDescentLearningRule(rate)
    if config.rule == "momentum":
        return lr.MomentumLearningRule(rate, config.mom_coeff)
    if config.rule == "nesterov":
        return lr.NesterovMomentumLearningRule(rate, config.mom_coeff)
    if config.rule == "adagrad":
        return lr.AdaGradLearningRule(rate, config.epsilon)
    if config.rule == "rmsprop":
        return lr.RMSPropLearningRule(rate, config.beta, config.epsilon)
    return lr.AdamLearningRule(rate, config.beta_1, config.beta_2, config.epsilon)


def build_scheduler(config: ExperimentConfig) -> Any:
    """The learning-rate scheduler (`mlp.schedulers`) of a config's `schedule`."""
    from mlp import schedulers

    config = config.resolved()
    base = float(config.learning_rate)  # type: ignore[arg-type]
    if config.schedule == "constant":
        return schedulers.ConstantLearningRateScheduler(base)
    if config.schedule == "exponential":
        return schedulers.ExponentialDecayScheduler(base, config.lr_decay)
    return schedulers.CosineAnnealingScheduler(base, config.epochs, config.lr_min)


def learning_rate_at(config: ExperimentConfig, epoch: int) -> float:
    """The learning rate of training epoch `epoch` (1-based) under the config's schedule."""
    return float(build_scheduler(config).learning_rate(epoch - 1))


def build_experiment(config: ExperimentConfig) -> Experiment:
    """The model, error, learning rule and data providers a config describes.

    One `RandomState(config.seed)` drives everything, in a fixed order: the training
    and validation providers' first shuffles, then the initial weights layer by layer,
    then the dropout masks and the later shuffles as training goes. The same config
    therefore always gives the same run.
    """
    from mlp import dtypes
    from mlp.data_providers import OneOfKDataProvider
    from mlp.initialisers import ConstantInit, UniformInit
    from mlp.layers import (
        AffineLayer,
        DropoutLayer,
        ELULayer,
        LeakyReluLayer,
        ReluLayer,
        SigmoidLayer,
        SoftmaxLayer,
        TanhLayer,
    )
    from mlp.models import MultipleLayerModel
    from mlp.penalties import L2Penalty

    config = config.resolved().validate()
    rng = np.random.RandomState(config.seed)
    with dtypes.default_dtype(np.dtype(config.dtype)):
        inputs, labels = _load_split(config.dataset, "train")
        if config.max_train_examples is not None:
            inputs = inputs[: config.max_train_examples]
            labels = labels[: config.max_train_examples]
        if config.batch_size > inputs.shape[0]:
            raise ConfigError(
                f"batch_size ({config.batch_size}) is larger than the {inputs.shape[0]} "
                f"training examples of {config.dataset}: no batch would ever be served"
            )
        train_data = OneOfKDataProvider(inputs, labels, config.batch_size, rng=rng, num_classes=10)
        inputs, labels = _load_split(config.dataset, "valid")
        # Only ever evaluated, in large batches: its batch size must not refuse it.
        valid_data = OneOfKDataProvider(
            inputs, labels, config.batch_size, rng=rng, num_classes=10, drop_last=False
        )

        weights_init = _initialiser(config, rng)
        if config.bias_init_scale > 0:
            biases_init: Any = UniformInit(-config.bias_init_scale, config.bias_init_scale, rng=rng)
        else:
            biases_init = ConstantInit(0.0)
        penalty = L2Penalty(config.weight_decay) if config.weight_decay > 0 else None
        activation = {
            "sigmoid": SigmoidLayer,
            "tanh": TanhLayer,
            "relu": ReluLayer,
            "leaky_relu": LeakyReluLayer,
            "elu": ELULayer,
        }[config.activation]
        share = config.dropout_share_across_batch
        layers: list[Any] = []
        if config.input_dropout > 0:
            layers.append(DropoutLayer(rng, 1 - config.input_dropout, share))
        widths = (inputs.shape[1], *config.hidden, 10)
        for i, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
            layers.append(AffineLayer(fan_in, fan_out, weights_init, biases_init, penalty))
            if i < len(widths) - 2:
                layers.append(activation())
                if config.dropout > 0:
                    layers.append(DropoutLayer(rng, 1 - config.dropout, share))
        if config.error == "cross_entropy":
            layers.append(SoftmaxLayer())
        elif config.error == "binary_cross_entropy":
            layers.append(SigmoidLayer())
        model = MultipleLayerModel(layers)

    rule = build_learning_rule(config)
    rule.learning_rate = learning_rate_at(config, 1)
    rngs: dict[str, Any] = {"train": train_data.rng, "valid": valid_data.rng}
    for i, layer in enumerate(model.layers):
        if isinstance(layer, DropoutLayer):
            rngs[f"dropout_{i}"] = layer.rng
    return Experiment(config, model, _error(config.error), rule, train_data, valid_data, rngs)
