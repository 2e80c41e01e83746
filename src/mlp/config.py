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
a `ConfigError` whose message names the key and, for files, the line. The checks are
generated from `SETTINGS`, one declaration (type, range, default, help) per key; the
names a key may take, and the hyperparameters of what it names, come from `mlp.registry`.
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlp import DEFAULT_SEED, _checks, registry
from mlp.compat import tomllib
from mlp.registry import Hyperparameter

__all__ = [
    "ACTIVATIONS",
    "BACKENDS",
    "CHOSEN_KINDS",
    "DATASETS",
    "DEVICES",
    "DTYPES",
    "ERRORS",
    "EVAL_BATCH_SIZE",
    "INITIALISERS",
    "MAX_MEMORY_GB",
    "REGRESSION_DATASETS",
    "RULES",
    "SCHEDULES",
    "SETTINGS",
    "ConfigError",
    "Experiment",
    "ExperimentConfig",
    "build_experiment",
    "build_scheduler",
    "config_from_dict",
    "learning_rate_at",
    "load_config",
    "normalise_choice",
    "parse_hidden",
    "to_toml",
]

# The names of each kind come from the registry; the others are this module's own.
ACTIVATIONS = registry.names("activation")
ERRORS = registry.names("error")
RULES = registry.names("rule")
INITIALISERS = registry.names("init")
SCHEDULES = registry.names("schedule")
DATASETS = ("mnist", "fashion-mnist")  # the data sets of `mlp.datasets` (a test checks)
# The course's data sets of real-valued targets (mlp.data_providers): trained with
# sum of squares (or, for the autoencoder, a binary cross-entropy) and no accuracy.
REGRESSION_DATASETS = ("ccpp", "met-office", "mnist-autoencoder")
_REGRESSION_ERRORS = {
    "ccpp": ("sum_of_squares",),
    "met-office": ("sum_of_squares",),
    "mnist-autoencoder": ("sum_of_squares", "binary_cross_entropy_sigmoid", "binary_cross_entropy"),
}
_IMAGE_DATASETS = ("mnist", "fashion-mnist", "mnist-autoencoder")
BACKENDS = ("numpy", "torch")
DEVICES = ("auto", "cpu", "cuda")
DTYPES = ("float32", "float64")

# The registry kinds a config chooses an entry of; each is also the name of the field
# that chooses it. The chosen entry's declared hyperparameters that share a field's name
# take that field's value (e.g. adam's learning_rate, beta_1, beta_2 and epsilon).
CHOSEN_KINDS = ("activation", "error", "rule", "init", "schedule")

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
        dataset: 'mnist' or 'fashion-mnist' (ten classes, accuracy monitored), or one
            of `REGRESSION_DATASETS`, whose targets are real values (no accuracy):
            'ccpp' (the power plant's output from its readings, `input_dims` choosing
            the columns), 'met-office' (the next day's rainfall from the `window_size`
            - 1 days before; the first 90% of the windows train, the windows after
            them validate) or 'mnist-autoencoder' (each image is its own target).
        hidden: widths of the hidden layers; () is softmax regression.
        arch: a small convolutional network instead, e.g.
            'conv:32x5,pool:2,conv:64x5,pool:2,fc:256' (see `mlp.arch`): the inputs
            reshaped to (1, 28, 28), each conv and fc followed by `activation` (and
            each fc by dropout), then an affine layer to the classes; `hidden` is then
            unused. None (the default) builds the `hidden` network.
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
        max_memory_gb: the most memory, in GB, the run may need by `memory_estimate`;
            a larger model is refused before anything is built. None takes
            $MLP_MAX_MEMORY_GB, else `MAX_MEMORY_GB` (8). It does not change the run's
            numbers, so resuming a run ignores it.
        input_dims: the CCPP input columns (of 0 to 3) to use; None uses all four.
        window_size: Met Office window length (>= 2; needed with 'met-office').
        rbf_grid: put a `RadialBasisFunctionLayer` of this many Gaussians per input in
            front of the network, its centres spanning each input's range in the
            training set (regression data sets); None: no RBF layer.
        layer_stats: record per-layer statistics (`mlp.diagnostics.LayerStats`) in
            the run's layers.csv and activations.npz; they do not change training.
        layer_stats_interval: with layer_stats, 0 measures at every statistics row;
            k > 0 at epoch 0 and after every k-th epoch.
    """

    name: str | None = None
    dataset: str = "mnist"
    hidden: tuple[int, ...] = (100, 100)
    arch: str | None = None
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
    max_memory_gb: float | None = None
    input_dims: tuple[int, ...] | None = None
    window_size: int | None = None
    rbf_grid: int | None = None
    layer_stats: bool = False
    layer_stats_interval: int = 0

    # --- checks -------------------------------------------------------------------------

    def validate(self) -> ExperimentConfig:
        """Check every field (against its declaration in `SETTINGS`), the values the
        chosen entries declare ranges of, and the combinations; returns self.

        Raises:
            ConfigError: naming the first field at fault and what it accepts.
        """
        # The choices first: the checks after them look the chosen entries up.
        for setting in SETTINGS.values():
            if setting.choices:
                _raise_problem(setting.problem(getattr(self, setting.name)))
        if self.name is not None and not (
            isinstance(self.name, str) and _NAME_PATTERN.match(self.name)
        ):
            raise ConfigError(
                f"name {self.name!r} is not a plain folder name: use letters, digits and . _ - = +"
            )
        if not isinstance(self.hidden, (list, tuple)):
            raise ConfigError(f"hidden must be a list of positive integers, got {self.hidden!r}")
        parse_hidden(self.hidden)  # integers, each positive
        if self.arch is not None:
            _arch_layers(self.arch)  # its items, and that each takes its inputs
        for setting in SETTINGS.values():
            if not setting.choices:
                _raise_problem(setting.problem(getattr(self, setting.name)))
        self._check_chosen_entries()
        self._check_combinations()
        return self

    def _check_chosen_entries(self) -> None:
        # An entry may declare a narrower range than the key's (Glorot's gain must be > 0).
        for kind in CHOSEN_KINDS:
            entry = self.entry(kind)
            for hp in entry.hyperparameters:
                value = getattr(self, hp.name, None)
                if hp.name in _FIELDS and value is not None:
                    _raise_problem(hp.problem(value, f" for {kind} {entry.name!r} ({hp.help})"))

    def _check_combinations(self) -> None:
        if self.epochs % self.stats_interval:
            raise ConfigError(
                f"epochs ({self.epochs}) must be a multiple of stats_interval "
                f"({self.stats_interval}), so that the last epoch's statistics are recorded"
            )
        if self.max_train_examples is not None and self.max_train_examples < self.batch_size:
            raise ConfigError(
                f"max_train_examples ({self.max_train_examples}) must be at least batch_size "
                f"({self.batch_size}): a partial last batch is dropped"
            )
        if self.dropout and not self._hidden_widths():
            raise ConfigError("dropout applies to hidden layers, and this model has none")
        rate = self.resolved().learning_rate
        if self.schedule == "sgdr" and rate is not None and self.lr_min > rate:
            raise ConfigError(
                f"lr_min ({self.lr_min}) must not exceed learning_rate ({rate}) with "
                "schedule 'sgdr': each period anneals from learning_rate down to lr_min"
            )
        self._check_dataset_fields()
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

    def _check_dataset_fields(self) -> None:
        """The fields that belong to some data sets only, and the errors they allow."""
        for key, owner in (("input_dims", "ccpp"), ("window_size", "met-office")):
            if getattr(self, key) is not None and self.dataset != owner:
                raise ConfigError(f"{key} applies to dataset {owner!r}, not {self.dataset!r}")
        if self.dataset == "met-office" and self.window_size is None:
            raise ConfigError("window_size must be set (an integer >= 2) for dataset 'met-office'")
        if self.rbf_grid is not None and self.dataset not in ("ccpp", "met-office"):
            raise ConfigError(
                f"rbf_grid applies to the regression data sets 'ccpp' and 'met-office', "
                f"not {self.dataset!r}"
            )
        if self.arch is not None and self.dataset not in _IMAGE_DATASETS:
            raise ConfigError(f"arch needs images; dataset {self.dataset!r} has none")
        allowed = _REGRESSION_ERRORS.get(self.dataset)
        if allowed is not None and self.error not in allowed:
            raise ConfigError(
                f"error {self.error!r} needs class targets; dataset {self.dataset!r} has "
                f"real-valued targets: use error = {' or '.join(map(repr, allowed))}"
            )
        if self.test and not self.classifies():
            raise ConfigError(
                f"test records the test-set accuracy, which dataset {self.dataset!r} "
                "does not have: set test = false"
            )
        _input_dims(self.input_dims)  # set directly rather than read: still checked
        if self.backend == "torch" and self.rbf_grid is not None:
            raise ConfigError("rbf_grid needs backend 'numpy': the RBF layer has no torch twin")

    def classifies(self) -> bool:
        """Whether the data set has classes (so an accuracy is monitored)."""
        return self.dataset not in REGRESSION_DATASETS

    def data_dims(self) -> tuple[int, int]:
        """(input_dim, output_dim) of the data set, known before anything is loaded
        (the inputs before any RBF layer)."""
        if self.dataset == "ccpp":
            return (len(self.input_dims) if self.input_dims is not None else 4), 1
        if self.dataset == "met-office":
            return int(self.window_size or 2) - 1, 1
        return 784, 784 if self.dataset == "mnist-autoencoder" else 10

    def _hidden_widths(self) -> tuple[int, ...]:
        """The widths of the hidden affine layers: `hidden`'s, or arch's fc items."""
        if self.arch is None:
            return tuple(self.hidden)
        return tuple(layer.size for layer in _arch_layers(self.arch) if layer.kind == "fc")

    # --- resolved values ----------------------------------------------------------------

    def entry(self, kind: str) -> registry.Entry:
        """The registry entry this config chooses of `kind` (one of `CHOSEN_KINDS`).

        Raises:
            ConfigError: for a name the registry does not know.
        """
        if kind not in CHOSEN_KINDS:
            raise ValueError(f"kind must be one of {', '.join(CHOSEN_KINDS)}; got {kind!r}")
        try:
            return registry.entry(kind, getattr(self, kind))
        except ValueError as error:
            raise ConfigError(str(error)) from None

    def resolved(self) -> ExperimentConfig:
        """A copy with every default that depends on other fields filled in (the chosen
        entries' defaults, e.g. the rule's learning rate)."""
        changes: dict[str, Any] = {}
        for kind in CHOSEN_KINDS:
            for hp in self.entry(kind).hyperparameters:
                if hp.name in _FIELDS and getattr(self, hp.name) is None:
                    changes.setdefault(hp.name, hp.default)
        return dataclasses.replace(self, **changes)

    def hyperparameters(self, kind: str) -> dict[str, Any]:
        """The values the chosen entry of `kind` is built with: each hyperparameter it
        declares, from the (resolved) field of that name, else its declared default."""
        config = self.resolved()
        return {
            hp.name: getattr(config, hp.name) if hp.name in _FIELDS else hp.default
            for hp in config.entry(kind).hyperparameters
        }

    def to_dict(self) -> dict[str, Any]:
        """Field -> value, with `hidden` as a list and unset (None) fields left out."""
        values = dataclasses.asdict(self)
        values["hidden"] = list(self.hidden)
        return {key: value for key, value in values.items() if value is not None}

    def memory_estimate(self) -> dict[str, int]:
        """An estimate, in bytes, of the memory training this config's model takes
        (the data sets aside), computed from the widths alone, before anything is built.

        Returns:
            {'parameters': weights and biases, 'rule state': their gradients and the
            learning rule's arrays (Adam's two moments, say), 'activations': the layers'
            outputs and gradients for a training batch, or the outputs for a statistics
            batch of `EVAL_BATCH_SIZE` examples, whichever is larger; 'total': the sum}.
        """
        itemsize = np.dtype(self.dtype).itemsize
        input_dim, output_dim = self.data_dims()
        features = input_dim * (self.rbf_grid or 1)  # the RBF layer's outputs, if any
        if self.arch is None:
            widths = (features, *self.hidden, output_dim)
            num_params = sum((a + 1) * b for a, b in itertools.pairwise(widths))
            per_hidden = 2 + (self.dropout > 0)  # affine, activation (and dropout) outputs
            hidden_units = per_hidden * sum(self.hidden)
        else:
            num_params, hidden_units = _arch_sizes(self.arch, self.dropout > 0, output_dim)
        # Gradients twice (the layers' and the fast path's flat buffer), and the rule's own.
        state_arrays = 2 + len(build_learning_rule(self.resolved()).state_names)
        units = input_dim * (1 + (self.input_dropout > 0)) + hidden_units + 2 * output_dim
        if self.rbf_grid is not None:
            units += features
        rows = max(2 * self.batch_size, EVAL_BATCH_SIZE)  # forward and backward, or forward
        estimate = {
            "parameters": num_params * itemsize,
            "rule state": num_params * itemsize * state_arrays,
            "activations": rows * units * itemsize,
        }
        return {**estimate, "total": sum(estimate.values())}

    def memory_limit_gb(self) -> float:
        """The limit `check_memory` applies: `max_memory_gb`, else $MLP_MAX_MEMORY_GB,
        else `MAX_MEMORY_GB`.

        Raises:
            ConfigError: when $MLP_MAX_MEMORY_GB is not a positive number.
        """
        if self.max_memory_gb is not None:
            return float(self.max_memory_gb)
        text = os.environ.get("MLP_MAX_MEMORY_GB", "").strip()
        if not text:
            return MAX_MEMORY_GB
        try:
            limit = float(text)
        except ValueError:
            limit = math.nan
        if not (math.isfinite(limit) and limit > 0):
            raise ConfigError(f"$MLP_MAX_MEMORY_GB must be a positive number of GB, got {text!r}")
        return limit

    def check_memory(self) -> None:
        """Refuse a model whose `memory_estimate` exceeds `memory_limit_gb()` (a
        `--hidden 1000000000` typo would otherwise end in NumPy's memory error).

        Raises:
            ConfigError: giving the estimate, and the flags that change it.
        """
        estimate, limit = self.memory_estimate(), self.memory_limit_gb()
        if estimate["total"] <= limit * 1e9:
            return
        parts = ", ".join(
            f"{key} {_gb(value)}" for key, value in estimate.items() if key != "total"
        )
        raise ConfigError(
            f"this model needs about {_gb(estimate['total'])} of memory ({parts}), more than "
            f"max_memory_gb ({limit:g} GB): make --hidden (or --batch-size) smaller, or "
            "raise the limit with --max-memory-gb or $MLP_MAX_MEMORY_GB"
        )

    def eval_batch_size(self) -> int:
        """Rows per forward pass of the statistics and test passes: `EVAL_BATCH_SIZE`
        for an MLP, `CONV_EVAL_BATCH_SIZE` for a CNN, whose im2col arrays grow with the
        batch (25x the images for 5x5 kernels): 10,000 images at once make them too big
        for the caches, and a pass about 3x slower than in batches of 2,000."""
        return EVAL_BATCH_SIZE if self.arch is None else CONV_EVAL_BATCH_SIZE

    def architecture(self) -> str:
        """A short description such as '784-100-100-10 sigmoid' (with arch, e.g.
        '784 conv:32x5,pool:2,fc:256 10 relu')."""
        input_dim, output_dim = self.data_dims()
        if self.arch is not None:
            return f"{input_dim} {self.arch} {output_dim} {self.activation}"
        rbf = f"{input_dim}x{self.rbf_grid} rbf-" if self.rbf_grid is not None else ""
        features = input_dim * (self.rbf_grid or 1)
        widths = rbf + "-".join(str(w) for w in (features, *self.hidden, output_dim))
        if self.hidden:
            return f"{widths} {self.activation}"
        return f"{widths} {'softmax' if self.classifies() else 'linear'} regression"

    def default_name(self) -> str:
        """A descriptive run name such as 'sigmoid-100x100-sgd' (no timestamp); with
        arch, e.g. 'relu-conv32x5-pool2-fc256-adam'."""
        # The classification sets keep their names; the others say which data set.
        prefix = "" if self.classifies() else f"{self.dataset}-"
        if self.rbf_grid is not None:
            prefix += f"rbf{self.rbf_grid}-"
        if self.arch is not None:
            items = self.arch.replace(":", "").replace(",", "-")
            return f"{prefix}{self.activation}-{items}-{self.rule}"
        if not self.hidden:
            return f"{prefix}{'softmax' if self.classifies() else 'linear'}-{self.rule}"
        widths = "x".join(str(w) for w in self.hidden)
        return f"{prefix}{self.activation}-{widths}-{self.rule}"


MAX_MEMORY_GB = 8.0
"""The most memory, in GB, a run may need (`ExperimentConfig.check_memory`) when neither
its max_memory_gb nor $MLP_MAX_MEMORY_GB says otherwise."""

EVAL_BATCH_SIZE = 10_000
"""The batch size of the statistics passes (`Optimiser`'s default `eval_batch_size`),
for the memory estimate."""

CONV_EVAL_BATCH_SIZE = 2_000
"""The batch size of a CNN's statistics and test passes (`ExperimentConfig.eval_batch_size`)."""


def _gb(num_bytes: float) -> str:
    return f"{num_bytes / 1e9:,.3g} GB" if num_bytes < 1e12 else f"{num_bytes / 1e9:,.0f} GB"


# --- the declarations of the keys ----------------------------------------------------------

_FIELDS = {f.name: f for f in dataclasses.fields(ExperimentConfig)}


def _check_config(config: Any, where: str) -> None:
    """A TypeError naming `config` unless it is an `ExperimentConfig` instance (a dict
    of its values, or the class itself, is the usual mistake).

    Args:
        where: the function named at the start of the message, e.g. 'build_experiment'.
    """
    _checks.refuse_class(config, "config", where)
    if not isinstance(config, ExperimentConfig):
        raise TypeError(
            f"{where}: config must be an ExperimentConfig, got {type(config).__name__}; "
            "config_from_dict(values) makes one from a dict"
        )


def _raise_problem(message: str | None) -> None:
    if message is not None:
        raise ConfigError(message)


def normalise_choice(key: str, value: str) -> str:
    """A choice as written to its canonical form: any case, and dashes or underscores as
    the key's choices have them ('Leaky-ReLU' -> 'leaky_relu', 'fashion_mnist' ->
    'fashion-mnist')."""
    setting = SETTINGS.get(key) if isinstance(key, str) else None
    if setting is None or not setting.choices:
        keys = ", ".join(k for k, s in SETTINGS.items() if s.choices)
        raise ValueError(f"normalise_choice: key must be one of {keys}; got {key!r}")
    return setting.normalise(value)


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


def _input_dims(value: Any) -> tuple[int, ...] | None:
    """CCPP input columns from '0,1', a list of ints, or None / '' / 'none' (all four).

    Raises:
        ConfigError: unless they are distinct columns of 0 to 3.
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    problem = ConfigError(
        f"input_dims must be distinct CCPP input columns of 0 to 3, such as 0,1; got {value!r}"
    )
    if isinstance(value, str):
        try:
            columns = tuple(int(part) for part in value.split(","))
        except ValueError:
            raise problem from None
    elif isinstance(value, (list, tuple)) and all(
        isinstance(c, int) and not isinstance(c, bool) for c in value
    ):
        columns = tuple(value)
    else:
        raise problem
    if not columns or not set(columns) <= {0, 1, 2, 3} or len(set(columns)) != len(columns):
        raise problem
    return columns


def _arch_text(value: Any) -> str | None:
    """An arch value in its canonical form ('conv:32x5,pool:2'), None for '' or 'none'.

    Raises:
        ConfigError: naming the item at fault or the first one that cannot take its
            inputs (see `mlp.arch`).
    """
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none")):
        return None
    return ",".join(str(layer) for layer in _arch_layers(value))


def _arch_layers(value: Any) -> tuple[Any, ...]:
    """The items of an arch spec, each checked against the shape it gets."""
    from mlp import arch

    try:
        layers = arch.parse_arch(value)
        arch.arch_shapes(layers)
    except (TypeError, ValueError) as error:
        raise ConfigError(str(error)) from None
    return layers


def _arch_sizes(spec: str, dropout: bool, output_dim: int = 10) -> tuple[int, int]:
    """(parameters, output units of the hidden layers per example) of an arch spec."""
    from mlp import arch

    layers = _arch_layers(spec)
    shapes = [arch.IMAGE_SHAPE, *arch.arch_shapes(layers), (output_dim,)]
    num_params, units = 0, 0
    for layer, before, after in zip((*layers, None), shapes[:-1], shapes[1:], strict=True):
        size_after = math.prod(after)
        if layer is None or layer.kind == "fc":
            num_params += (math.prod(before) + 1) * size_after
        elif layer.kind == "conv":
            num_params += (before[0] * layer.kernel**2 + 1) * after[0]
        # conv and fc outputs and their activation's (and fc's dropout's); pool outputs
        if layer is not None:  # the classes' outputs are counted by the caller
            copies = 1 if layer.kind == "pool" else 2 + (dropout and layer.kind == "fc")
            units += copies * size_after
    return num_params, units


def _coerce(key: str, value: Any) -> Any:
    """One value as its declared type and checked against its declaration (TOML and
    flag values alike)."""
    setting = SETTINGS[key]
    try:
        value = setting.coerce(value)
    except ConfigError:
        raise
    except ValueError as error:
        raise ConfigError(str(error)) from None
    _raise_problem(setting.problem(value))
    return value


def _declared(name: str, help: str, **options: Any) -> Hyperparameter:
    """The declaration of a key of this module's own: its type, default and whether it
    may be None come from its ExperimentConfig field; the rest (range, choices) here."""
    annotation = str(_FIELDS[name].type)
    base = annotation.split(" | ")[0].split("[")[0]
    kind = {"int": int, "float": float, "bool": bool, "str": str, "tuple": tuple}[base]
    optional = "None" in annotation
    return Hyperparameter(name, kind, _FIELDS[name].default, help, optional=optional, **options)


def _fraction(name: str, help: str) -> Hyperparameter:
    return _declared(name, help, low=0.0, high=1.0, high_open=True, metavar="P")


_OWN_KEYS = (
    _declared("name", "run name: its folder under the runs directory; default: chosen"),
    _declared("dataset", "data set", choices=DATASETS + REGRESSION_DATASETS),
    _declared(
        "hidden",
        "hidden layer widths, e.g. 100,100; 'none' for softmax regression",
        metavar="WIDTHS",
        convert=parse_hidden,
    ),
    _declared(
        "arch",
        "a small CNN instead of hidden, e.g. conv:32x5,pool:2,conv:64x5,pool:2,fc:256 "
        "(conv:CHANNELSxKERNEL, pool:SIZE, fc:UNITS; images 1x28x28)",
        metavar="SPEC",
        convert=_arch_text,
    ),
    _declared("activation", "non-linearity after each hidden affine layer", choices=ACTIVATIONS),
    _declared("error", "error function trained on", choices=ERRORS),
    _declared("rule", "learning rule", choices=RULES),
    _declared("schedule", "learning rate schedule over the epochs", choices=SCHEDULES),
    _declared("init", "weight initialiser", choices=INITIALISERS),
    _declared(
        "bias_init_scale", "biases uniform on +-S; 0 gives zero biases", low=0.0, metavar="S"
    ),
    _fraction("dropout", "probability of dropping each hidden unit while training"),
    _fraction("input_dropout", "probability of dropping each input while training"),
    _declared(
        "dropout_share_across_batch", "one dropout mask per batch instead of one per example"
    ),
    _declared("weight_decay", "L2 penalty 0.5*C*sum(w**2) on the weights", low=0.0, metavar="C"),
    _declared("epochs", "epochs to train", low=1),
    _declared("batch_size", "examples per batch", low=1),
    _declared("stats_interval", "epochs between rows of statistics", low=1),
    _declared("seed", "seeds everything random in the run", low=0, high=2**32 - 1),
    _declared(
        "max_train_examples",
        "train on the first N training examples only (quick runs)",
        low=1,
        metavar="N",
    ),
    _declared("test", "also record the test-set accuracy at the end"),
    _declared(
        "backend", "numpy (the framework) or torch (the same model in PyTorch)", choices=BACKENDS
    ),
    _declared("device", "torch device; auto picks CUDA when there is a GPU", choices=DEVICES),
    _declared("dtype", "floating-point type of the numpy backend", choices=DTYPES),
    _declared(
        "max_memory_gb",
        "refuse a model that needs more than GB of memory (estimated before building)",
        low=0.0,
        low_open=True,
        metavar="GB",
        default_help=f"$MLP_MAX_MEMORY_GB, else {MAX_MEMORY_GB:g}",
    ),
    _declared(
        "input_dims",
        "dataset ccpp: the input columns to use, e.g. 0,1 (of 0 to 3); default all",
        metavar="COLUMNS",
        convert=_input_dims,
    ),
    _declared("window_size", "dataset met-office: days per window (inputs + target)", low=2),
    _declared(
        "rbf_grid",
        "an RBF layer of N Gaussians per input in front (ccpp, met-office)",
        low=1,
        high=1000,
        metavar="N",
    ),
    _declared("layer_stats", "record per-layer statistics (layers.csv)"),
    _declared(
        "layer_stats_interval",
        "with layer_stats: 0 measures at every statistics row, K every K epochs",
        low=0,
        metavar="K",
    ),
)


def _entry_keys() -> dict[str, Hyperparameter]:
    """The keys the chosen entries declare, one declaration per key across each kind."""
    keys: dict[str, Hyperparameter] = {}
    for kind in CHOSEN_KINDS:
        for entry in registry.entries(kind):
            for hp in entry.hyperparameters:
                if hp.name in _FIELDS and hp.name not in keys:
                    keys[hp.name] = registry.shared_hyperparameter(kind, hp.name)
    return keys


SETTINGS: dict[str, Hyperparameter] = {
    name: declaration
    for name, declaration in sorted(
        {**{hp.name: hp for hp in _OWN_KEYS}, **_entry_keys()}.items(),
        key=lambda item: list(_FIELDS).index(item[0]),
    )
}
"""Config key -> its declaration (type, range, default, help), in field order: what the
checks, the coercion of TOML values and the flags of `mlp train` are generated from.
The keys the chosen entries take (learning_rate, mom_coeff, ...) are declared by the
registry's entries; the others here."""


# --- reading and writing -------------------------------------------------------------------


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
    if not isinstance(values, Mapping):
        raise TypeError(
            f"config_from_dict: values must be a mapping of config keys to values, "
            f"got {type(values).__name__} {values!r}"
        )
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
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"load_config: path must be a file path, got {type(path).__name__} {path!r}"
        )
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
    if not isinstance(values, Mapping):
        raise TypeError(
            f"to_toml: values must be a mapping, got {type(values).__name__} {values!r}"
        )
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


_MET_OFFICE_TRAIN_FRACTION = 0.9
"""The share of the Met Office windows, the earliest, that dataset 'met-office' trains on."""


def _regression_split(config: ExperimentConfig, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (n, input_dim) and targets (n, output_dim) of a regression data set's
    'train' or 'valid' split, read from the data directory (fetched when missing).

    Met Office: the first `_MET_OFFICE_TRAIN_FRACTION` of the windows (in time order)
    train; validation takes the windows that start after the last training window ends,
    so that no reading is in both.
    """
    from mlp import datasets
    from mlp.data_providers import MetOfficeDataProvider

    if config.dataset == "mnist-autoencoder":
        inputs, _ = _load_split("mnist", split)
        return inputs, inputs
    if config.dataset == "ccpp":
        from mlp.datasets.ccpp import CCPP_FILENAME, read_ccpp

        inputs, targets = read_ccpp(datasets.file_path("ccpp", CCPP_FILENAME), split)
        if config.input_dims is not None:
            inputs = inputs[:, list(config.input_dims)]
        return inputs, targets
    size = int(config.window_size)  # type: ignore[arg-type]
    windows = MetOfficeDataProvider(size, shuffle_order=False)
    count = len(windows.inputs)
    num_train = int(count * _MET_OFFICE_TRAIN_FRACTION)
    if num_train < 1 or num_train + size - 1 >= count:
        raise ConfigError(
            f"window_size {size} leaves too few Met Office windows ({count}) to split "
            "into training and validation windows"
        )
    rows = slice(0, num_train) if split == "train" else slice(num_train + size - 1, None)
    return windows.inputs[rows], windows.targets[rows].reshape(-1, 1)


def _providers(config: ExperimentConfig, rng: np.random.RandomState) -> tuple[Any, Any]:
    """The training and validation providers (each shuffled once here, in that order):
    one-of-K for the classification sets, the targets as they are for the others."""
    from mlp.data_providers import DataProvider, OneOfKDataProvider

    def split(name: str) -> tuple[np.ndarray, np.ndarray]:
        if config.classifies():
            return _load_split(config.dataset, name)
        inputs, targets = _regression_split(config, name)
        dtype = np.dtype(config.dtype)
        return inputs.astype(dtype, copy=False), targets.astype(dtype, copy=False)

    def provider(inputs: np.ndarray, targets: np.ndarray, drop_last: bool) -> Any:
        if config.classifies():
            return OneOfKDataProvider(
                inputs, targets, config.batch_size, rng=rng, num_classes=10, drop_last=drop_last
            )
        return DataProvider(inputs, targets, config.batch_size, rng=rng, drop_last=drop_last)

    inputs, targets = split("train")
    if config.max_train_examples is not None:
        inputs = inputs[: config.max_train_examples]
        targets = targets[: config.max_train_examples]
    if config.batch_size > inputs.shape[0]:
        raise ConfigError(
            f"batch_size ({config.batch_size}) is larger than the {inputs.shape[0]} "
            f"training examples of {config.dataset}: no batch would ever be served"
        )
    train_data = provider(inputs, targets, drop_last=True)
    # Only ever evaluated, in large batches: its batch size must not refuse it.
    valid_data = provider(*split("valid"), drop_last=False)
    return train_data, valid_data


def _initialiser(config: ExperimentConfig, rng: np.random.RandomState) -> Any:
    return config.entry("init").build(rng=rng, **config.hyperparameters("init"))


def _error(name: str) -> Any:
    return registry.entry("error", name).build()


def build_learning_rule(config: ExperimentConfig) -> Any:
    """The learning rule of a (resolved) config."""
    return config.entry("rule").build(**config.hyperparameters("rule"))


def build_scheduler(config: ExperimentConfig) -> Any:
    """The learning-rate scheduler (`mlp.schedulers`) of a config's `schedule`."""
    _check_config(config, "build_scheduler")
    config = config.resolved()
    base = float(config.learning_rate)  # type: ignore[arg-type]
    values = config.hyperparameters("schedule")
    return config.entry("schedule").build(base, config.epochs, **values)


def learning_rate_at(config: ExperimentConfig, epoch: int) -> float:
    """The learning rate of training epoch `epoch` (1-based) under the config's schedule."""
    _check_config(config, "learning_rate_at")
    _checks.count(epoch, "epoch", "learning_rate_at", 1)
    return float(build_scheduler(config).learning_rate(epoch - 1))


def _rbf_layer(config: ExperimentConfig, train_inputs: np.ndarray) -> Any:
    """The config's RBF layer, its centres spanning each input's training range, or None."""
    if config.rbf_grid is None:
        return None
    from mlp.layers import RadialBasisFunctionLayer

    low, high = train_inputs.min(axis=0), train_inputs.max(axis=0)
    high = np.where(high > low, high, low + 1.0)  # a constant column: any width will do
    intervals = [(float(a), float(b)) for a, b in zip(low, high, strict=True)]
    return RadialBasisFunctionLayer(config.rbf_grid, intervals)


def _build_model(
    config: ExperimentConfig,
    input_dim: int,
    rng: np.random.RandomState,
    weights_init: Any,
    front: Any = None,
) -> Any:
    """The model of a resolved config, its layers built by their registry entries in
    order (the initialisers and dropout layers draw from `rng` in that order), after
    the layer `front` when one is given (an RBF layer)."""
    from mlp.initialisers import ConstantInit, UniformInit
    from mlp.layer_base import StochasticLayer
    from mlp.models import MultipleLayerModel
    from mlp.penalties import L2Penalty

    if config.bias_init_scale > 0:
        biases_init: Any = UniformInit(-config.bias_init_scale, config.bias_init_scale, rng=rng)
    else:
        biases_init = ConstantInit(0.0)
    penalty = L2Penalty(config.weight_decay) if config.weight_decay > 0 else None
    share = config.dropout_share_across_batch
    layers: list[Any] = []
    shape: tuple[int, ...] = (input_dim,)
    if front is not None:
        layers.append(front)
        shape = (input_dim * front.grid_dim,)

    def add(entry: registry.Entry, **arguments: Any) -> None:
        nonlocal shape
        layer, shape = entry.build(shape, **arguments)
        layers.append(layer)

    dropout, affine = registry.entry("layer", "dropout"), registry.entry("layer", "affine")
    activation = config.entry("activation")
    activation_arguments = config.hyperparameters("activation")
    if activation.layer_class is not None and issubclass(activation.layer_class, StochasticLayer):
        activation_arguments["rng"] = rng  # a random activation (rrelu) draws from the seed too

    def add_affine(width: int, hidden: bool) -> None:
        add(
            affine,
            output_dim=width,
            weights_initialiser=weights_init,
            biases_initialiser=biases_init,
            weights_penalty=penalty,
        )
        if hidden:
            add(activation, **activation_arguments)
            if config.dropout > 0:
                add(dropout, rng=rng, incl_prob=1 - config.dropout, share_across_batch=share)

    if config.input_dropout > 0:
        add(dropout, rng=rng, incl_prob=1 - config.input_dropout, share_across_batch=share)
    if config.arch is None:
        for width in config.hidden:
            add_affine(width, hidden=True)
    else:
        _add_arch_layers(config, add, add_affine, _kernels_init(weights_init), biases_init, penalty)
    add_affine(config.data_dims()[1], hidden=False)
    output_layer = config.entry("error").output_layer
    if output_layer is not None:
        add(registry.layer_entry(output_layer))
    return MultipleLayerModel(layers)


def _kernels_init(weights_init: Any) -> Any:
    """The weight initialiser for kernels (output_channels, input_channels, k, k): drawn
    as the matrix (output_channels, input_channels * k * k), the fans Glorot and He then
    use (fan_in = input_channels * k * k, fan_out = output_channels)."""

    def draw(shape: tuple[int, ...]) -> np.ndarray:
        return np.reshape(weights_init((shape[0], math.prod(shape[1:]))), shape)

    return draw


def _add_arch_layers(
    config: ExperimentConfig,
    add: Any,
    add_affine: Any,
    kernels_init: Any,
    biases_init: Any,
    penalty: Any,
) -> None:
    """The hidden layers of `config.arch` (see `mlp.arch`), through `add(entry, **values)`
    and, for fc items, `add_affine(width, hidden=True)`."""
    from mlp import arch

    reshape = registry.entry("layer", "reshape")
    add(reshape, output_shape=arch.IMAGE_SHAPE)
    flat = False
    for layer in _arch_layers(config.arch):
        if layer.kind == "fc":
            if not flat:
                add(reshape)
                flat = True
            add_affine(layer.size, hidden=True)
        elif layer.kind == "pool":
            add(registry.entry("layer", "max_pool_2d"), pool_size=layer.size)
        else:
            conv = registry.entry("layer", "conv")
            add(
                conv,
                num_output_channels=layer.size,
                kernel_size=layer.kernel,
                kernels_init=kernels_init,
                biases_init=biases_init,
                kernels_penalty=penalty,
            )
            add(config.entry("activation"), **config.hyperparameters("activation"))
    if not flat:
        add(reshape)


def build_experiment(config: ExperimentConfig) -> Experiment:
    """The model, error, learning rule and data providers a config describes.

    One `RandomState(config.seed)` drives everything, in a fixed order: the training
    and validation providers' first shuffles, then the initial weights layer by layer,
    then the dropout masks and the later shuffles as training goes. The same config
    therefore always gives the same run.
    """
    from mlp import dtypes
    from mlp.layers import DropoutLayer

    _check_config(config, "build_experiment")
    config = config.resolved().validate()
    config.check_memory()  # before the data are loaded or anything is allocated
    rng = np.random.RandomState(config.seed)
    with dtypes.default_dtype(np.dtype(config.dtype)):
        train_data, valid_data = _providers(config, rng)
        rbf = _rbf_layer(config, train_data.inputs)
        model = _build_model(
            config, train_data.inputs.shape[1], rng, _initialiser(config, rng), rbf
        )

    rule = build_learning_rule(config)
    rule.learning_rate = learning_rate_at(config, 1)
    rngs: dict[str, Any] = {"train": train_data.rng, "valid": valid_data.rng}
    for i, layer in enumerate(model.layers):
        if isinstance(layer, DropoutLayer):
            rngs[f"dropout_{i}"] = layer.rng
    return Experiment(config, model, _error(config.error), rule, train_data, valid_data, rngs)
