"""The registry: every name an experiment can choose, and what each one builds.

One table maps each name of each kind to its NumPy factory, its PyTorch factory, the
hyperparameters it takes (declared with type, range, default and help) and a line of
help. The config's choices, checks and defaults, the flags of `mlp train` and their help,
and the torch backend (losses, optimisers, layer conversion both ways) all read it, so
adding an activation is one layer class and one `register(Entry(...))` below::

    from mlp import registry
    registry.names("activation")                  # ('sigmoid', 'tanh', ..., 'swish')
    entry = registry.entry("rule", "adam")
    rule = entry.build(learning_rate=1e-3)        # declared defaults fill the rest
    layer, shape = registry.entry("layer", "affine").build((784,), output_dim=100)

Kinds and the factories' signatures (`build` fills in declared defaults and checks the
declared values first; other keyword arguments pass straight through):

    activation, layer: numpy(input_shape, **hp) -> (layer, output_shape), shapes without
        the batch dimension; torch(layer) -> nn.Module computing the same function with
        the layer's weights; from_torch(module) -> layer; torch_class() -> the module type.
        Activations are the elementwise layers `--activation` offers; their names and
        the other layers' names are distinct.
    error: numpy() -> error object; torch() -> loss(outputs, one_of_k_targets), the mean
        over the batch; `output_layer` names the layer the model then ends with.
    rule: numpy(**hp) -> learning rule; torch(param_groups, **hp) -> torch.optim optimiser.
    init: numpy(rng=rng, **hp) -> initialiser; torch(**hp) -> fill(tensor), in place.
    schedule: numpy(learning_rate, num_epochs, **hp) -> `mlp.schedulers` scheduler; the
        same object drives the torch trainer, so schedules have no torch factory.

PyTorch factories import torch when called: importing this module never does.
"""

from __future__ import annotations

import difflib
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlp import errors, initialisers, layers, learning_rules, schedulers

__all__ = [
    "KINDS",
    "Entry",
    "Hyperparameter",
    "entries",
    "entry",
    "entry_for_layer",
    "entry_for_module",
    "layer_entry",
    "names",
    "register",
    "shared_hyperparameter",
]

KINDS = ("activation", "layer", "error", "rule", "init", "schedule")
_LAYER_KINDS = ("activation", "layer")


# --- declarations ------------------------------------------------------------------------


def _number_text(value: float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:g}"


@dataclass(frozen=True)
class Hyperparameter:
    """A declared value: its name, type, range, default and a line of help.

    The same declaration checks a config key, parses its flag and writes its help, so
    the three never disagree.

    Attributes:
        name: the keyword (and, for experiment settings, the config key).
        type: int, float, bool, str, or tuple (with `convert`, e.g. hidden widths).
        default: its value when none is given; None when it must be given, or (with
            `optional`) when it depends on another setting.
        help: one line, without the default.
        low, high: the range of a number (None: unbounded); `low_open`/`high_open`
            leave the bound itself out. Floats must also be finite.
        choices: the names a str may take.
        optional: None is a valid value (the default depends on another setting).
        metavar: the placeholder of its flag in `--help`.
        convert: turns any given value (flag text or TOML value) into the typed value,
            raising ValueError; for types the plain rules do not cover.
        default_help: says what the default is when it is not one value.
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    metavar: str | None = None
    convert: Callable[[Any], Any] | None = None
    default_help: str | None = None

    def describe(self) -> str:
        """What the value may be, e.g. 'a positive integer' or 'a number in [0, 1)'."""
        if self.choices:
            return f"one of {', '.join(self.choices)}"
        if self.type is bool:
            return "true or false"
        if self.type is int:
            return self._describe_integer()
        if self.type is float:
            return "a number" + self._range_text()
        return "a list" if self.type is tuple else "a string"

    def _describe_integer(self) -> str:
        if self.high is None and self.low == 1 and not self.low_open:
            return "a positive integer"
        text = self._range_text()
        return ("an integer" + text) if text else "an integer"

    def _range_text(self) -> str:
        low, high = self.low, self.high
        if low is None and high is None:
            return ""
        if high is None:
            assert low is not None
            return f" {'>' if self.low_open else '>='} {_number_text(low)}"
        if low is None:
            return f" {'<' if self.high_open else '<='} {_number_text(high)}"
        left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
        return f" in {left}{_number_text(low)}, {_number_text(high)}{right}"

    def in_range(self, value: float) -> bool:
        """Whether a number lies in the declared range (floats: and is finite)."""
        if isinstance(value, float) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def problem(self, value: Any, context: str = "") -> str | None:
        """Why a value of the declared type is not valid (None when it is).

        Args:
            value: the value, already of the declared type (see `coerce`).
            context: inserted after the description, e.g. " for init 'he_normal'".
        """
        if value is None:
            if self.optional:
                return None
            return f"{self.name} must be {self.describe()}{context}, got None"
        if self.choices:
            if value in self.choices:
                return None
            hint = difflib.get_close_matches(str(value), self.choices, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            return f"{self.name} must be {self.describe()}; got {value!r}{suggestion}"
        if self.type in (int, float) and not self.in_range(value):
            return f"{self.name} must be {self.describe()}{context}, got {value}"
        return None

    def check(self, value: Any, context: str = "") -> None:
        """Raises ValueError with `problem`'s message for an invalid value."""
        message = self.problem(value, context)
        if message is not None:
            raise ValueError(message)

    def normalise(self, text: str) -> str:
        """A choice as written ('Leaky-ReLU') in the form the choices use ('leaky_relu')."""
        text = text.strip().lower()
        for candidate in (text, text.replace("-", "_"), text.replace("_", "-")):
            if candidate in self.choices:
                return candidate
        return text

    def coerce(self, value: Any) -> Any:
        """A given value (a TOML value, or a Python one) as the declared type.

        Raises:
            ValueError: naming the key, when the value is not of the declared type.
        """
        if self.convert is not None:
            return self.convert(value)
        if self.type is int:
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ValueError(f"{self.name} must be an integer, got {value!r}")
            return int(value)
        if self.type is float:
            numbers = (int, float, np.integer, np.floating)
            if isinstance(value, bool) or not isinstance(value, numbers):
                raise ValueError(f"{self.name} must be a number, got {value!r}")
            return float(value)
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false, got {value!r}")
            return value
        if not isinstance(value, str):
            raise ValueError(f"{self.name} must be a string, got {value!r}")
        return self.normalise(value) if self.choices else value

    def parse(self, text: str) -> Any:
        """The value of a flag's text; choices are only normalised (argparse checks them).

        Raises:
            ValueError: 'expected <description>, got <text>' for anything else.
        """
        if self.convert is not None:
            return self.convert(text)
        if self.choices:
            return self.normalise(text)
        if self.type is str:
            return text
        try:
            value = self.type(text)
        except ValueError:
            raise ValueError(f"expected {self.describe()}, got {text!r}") from None
        if self.problem(value) is not None:
            raise ValueError(f"expected {self.describe()}, got {value}")
        return value

    def default_text(self) -> str | None:
        """The default as `--help` shows it (None when there is none to show)."""
        if self.default_help is not None:
            return self.default_help
        if self.default is None:
            return None
        if isinstance(self.default, tuple):
            return ",".join(str(v) for v in self.default) or "none"
        if isinstance(self.default, (bool, int, float)):
            return _number_text(self.default)
        return str(self.default)


@dataclass(frozen=True)
class Entry:
    """One name of one kind, and how to build it (see the module docstring).

    Attributes:
        kind, name: where it sits in the table ('rule', 'adam').
        help: one line saying what it is.
        numpy: the NumPy factory; torch: the PyTorch factory, None for schedules.
        hyperparameters: what the factories take, declared.
        layer_class: layers: the class `numpy` builds (conversion finds the entry by it).
        torch_class: layers: returns the torch module class `torch` builds.
        from_torch: layers: an equivalent layer from such a module.
        output_layer: errors: the layer the model ends with (e.g. 'softmax').
    """

    kind: str
    name: str
    help: str
    numpy: Callable[..., Any]
    torch: Callable[..., Any] | None = None
    hyperparameters: tuple[Hyperparameter, ...] = ()
    layer_class: type | None = None
    torch_class: Callable[[], type] | None = None
    from_torch: Callable[[Any], Any] | None = None
    output_layer: str | None = None
    _by_name: dict[str, Hyperparameter] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {hp.name: hp for hp in self.hyperparameters})

    def hyperparameter(self, name: str) -> Hyperparameter | None:
        """The declaration of `name`, or None when this entry takes no such value."""
        return self._by_name.get(name)

    def defaults(self) -> dict[str, Any]:
        """name -> declared default, for every hyperparameter."""
        return {hp.name: hp.default for hp in self.hyperparameters}

    def arguments(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """`values` over the declared defaults, each declared one checked.

        Raises:
            ValueError: naming the hyperparameter, its value and its range.
        """
        arguments = {**self.defaults(), **values}
        for hp in self.hyperparameters:
            hp.check(arguments[hp.name], f" for {self.kind} {self.name!r}")
        return arguments

    def build(self, *args: Any, **values: Any) -> Any:
        """The NumPy object: `numpy(*args, **arguments(values))`."""
        return self.numpy(*args, **self.arguments(values))

    def build_torch(self, *args: Any, **values: Any) -> Any:
        """The PyTorch object: `torch(*args, **arguments(values))` (layers: `torch(layer)`).

        Raises:
            TypeError: for an entry without a PyTorch factory.
        """
        if self.torch is None:
            raise TypeError(f"{self.kind} {self.name!r} has no PyTorch factory")
        if self.kind in _LAYER_KINDS:
            return self.torch(*args)
        return self.torch(*args, **self.arguments(values))


_TABLE: dict[str, dict[str, Entry]] = {kind: {} for kind in KINDS}


def register(new: Entry) -> Entry:
    """Add an entry to the table (its name must be new to its kind; layer names are
    shared by activations and layers) and return it.

    Raises:
        ValueError: for an unknown kind, a name taken, or a default out of its range.
    """
    if new.kind not in _TABLE:
        raise ValueError(f"unknown kind {new.kind!r}; kinds: {', '.join(KINDS)}")
    kinds = _LAYER_KINDS if new.kind in _LAYER_KINDS else (new.kind,)
    if any(new.name in _TABLE[kind] for kind in kinds):
        raise ValueError(f"{new.kind} {new.name!r} is registered already")
    for hp in new.hyperparameters:
        if hp.default is not None:
            hp.check(hp.default, f" (the default of {new.kind} {new.name!r})")
    _TABLE[new.kind][new.name] = new
    return new


def names(kind: str) -> tuple[str, ...]:
    """The names of a kind, in the order they were registered."""
    return tuple(_kind(kind))


def entries(kind: str) -> tuple[Entry, ...]:
    """The entries of a kind, in the order they were registered."""
    return tuple(_kind(kind).values())


def entry(kind: str, name: str) -> Entry:
    """The entry `name` of `kind`.

    Raises:
        ValueError: for an unknown kind or name, listing the names (with a suggestion).
    """
    table = _kind(kind)
    if name not in table:
        hint = difflib.get_close_matches(str(name), list(table), n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        raise ValueError(f"{kind} must be one of {', '.join(table)}; got {name!r}{suggestion}")
    return table[name]


def layer_entry(name: str) -> Entry:
    """The activation or layer entry `name`.

    Raises:
        ValueError: for a name of neither kind.
    """
    for kind in _LAYER_KINDS:
        if name in _TABLE[kind]:
            return _TABLE[kind][name]
    known = [n for kind in _LAYER_KINDS for n in _TABLE[kind]]
    raise ValueError(f"layer must be one of {', '.join(known)}; got {name!r}")


def entry_for_layer(layer: object) -> Entry | None:
    """The entry whose `layer_class` is exactly the layer's type (a subclass may compute
    something else), or None."""
    for kind in _LAYER_KINDS:
        for candidate in _TABLE[kind].values():
            if type(layer) is candidate.layer_class:
                return candidate
    return None


def entry_for_module(module: object) -> Entry | None:
    """The entry whose torch module class is exactly the module's type, or None."""
    for kind in _LAYER_KINDS:
        for candidate in _TABLE[kind].values():
            if candidate.torch_class is not None and type(module) is candidate.torch_class():
                return candidate
    return None


def shared_hyperparameter(kind: str, name: str) -> Hyperparameter:
    """One declaration of `name` covering every entry of `kind` that takes it.

    Its range spans theirs (each entry still checks its own); its default is theirs
    when they agree, else None, with `default_help` listing each one; its help says
    which entries take it when not all do.

    Raises:
        ValueError: when no entry of the kind takes `name`, or they disagree on its type.
    """
    owners = [(e.name, e.hyperparameter(name)) for e in entries(kind)]
    declared = [(owner, hp) for owner, hp in owners if hp is not None]
    if not declared:
        raise ValueError(f"no {kind} takes a hyperparameter {name!r}")
    first = declared[0][1]
    if any(hp.type is not first.type for _, hp in declared):
        raise ValueError(f"the {kind} entries declare {name!r} with different types")
    lows = [hp.low for _, hp in declared]
    highs = [hp.high for _, hp in declared]
    low = None if None in lows else min(lows)  # type: ignore[type-var]
    high = None if None in highs else max(highs)  # type: ignore[type-var]
    helps = list(dict.fromkeys(hp.help for _, hp in declared))
    help_text = "; ".join(helps)
    if len(declared) < len(owners):
        help_text += f" [{', '.join(owner for owner, _ in declared)}]"
    defaults = list(dict.fromkeys(hp.default for _, hp in declared))
    return Hyperparameter(
        name,
        first.type,
        defaults[0] if len(defaults) == 1 else None,
        help_text,
        low=low,
        high=high,
        low_open=all(hp.low_open for _, hp in declared if hp.low == low),
        high_open=all(hp.high_open for _, hp in declared if hp.high == high),
        optional=len(defaults) > 1 or any(hp.optional for _, hp in declared),
        metavar=first.metavar,
        default_help=None if len(defaults) == 1 else _defaults_text(declared),
    )


def _defaults_text(declared: list[tuple[str, Hyperparameter]]) -> str:
    groups: dict[Any, list[str]] = {}
    for owner, hp in declared:
        groups.setdefault(hp.default, []).append(owner)
    return "; ".join(f"{_number_text(d)} for {', '.join(o)}" for d, o in groups.items())


def _kind(kind: str) -> dict[str, Entry]:
    if kind not in _TABLE:
        raise ValueError(f"unknown kind {kind!r}; kinds: {', '.join(KINDS)}")
    return _TABLE[kind]


# --- helpers for the table ---------------------------------------------------------------


def _fraction(name: str, default: float, help: str, metavar: str = "B") -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, 1.0, high_open=True, metavar=metavar)


def _positive(name: str, default: float, help: str, metavar: str) -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, low_open=True, metavar=metavar)


def _at_least_zero(name: str, default: float, help: str, metavar: str) -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, metavar=metavar)


def _torch_module(path: str) -> Callable[[], type]:
    """The torch class at `path` (e.g. 'nn.SiLU'), looked up only when asked for."""

    def lookup() -> type:
        import torch

        found: Any = torch
        for part in path.split("."):
            found = getattr(found, part)
        return found

    return lookup


def _elementwise(
    kind: str,
    name: str,
    help: str,
    layer_class: type,
    torch_path: str,
    *hyperparameters: Hyperparameter,
    torch_names: Mapping[str, str] | None = None,
) -> Entry:
    """An elementwise layer (output shape = input shape) whose hyperparameters are
    attributes of the layer and, under `torch_names` (default: the same names), keyword
    arguments and attributes of its torch module."""
    renamed = dict(torch_names or {})
    torch_class = _torch_module(torch_path)

    def build(input_shape: tuple[int, ...], **values: Any) -> tuple[Any, tuple[int, ...]]:
        return layer_class(**values), tuple(input_shape)

    def to_torch(layer: Any) -> Any:
        values = {renamed.get(hp.name, hp.name): getattr(layer, hp.name) for hp in hyperparameters}
        return torch_class()(**values)

    def from_torch(module: Any) -> Any:
        return layer_class(
            **{hp.name: getattr(module, renamed.get(hp.name, hp.name)) for hp in hyperparameters}
        )

    return Entry(
        kind,
        name,
        help,
        build,
        to_torch,
        tuple(hyperparameters),
        layer_class=layer_class,
        torch_class=torch_class,
        from_torch=from_torch,
    )


def _alpha(default: float, help: str) -> Hyperparameter:
    return _at_least_zero("alpha", default, help, "A")


# --- activations (the elementwise layers `--activation` offers) --------------------------

register(
    _elementwise(
        "activation",
        "sigmoid",
        "logistic sigmoid 1 / (1 + exp(-x))",
        layers.SigmoidLayer,
        "nn.Sigmoid",
    )
)
register(_elementwise("activation", "tanh", "tanh(x)", layers.TanhLayer, "nn.Tanh"))
register(_elementwise("activation", "relu", "max(0, x)", layers.ReluLayer, "nn.ReLU"))
register(
    _elementwise(
        "activation",
        "leaky_relu",
        "x for x > 0, alpha * x otherwise",
        layers.LeakyReluLayer,
        "nn.LeakyReLU",
        _alpha(0.01, "slope for x < 0"),
        torch_names={"alpha": "negative_slope"},
    )
)
register(
    _elementwise(
        "activation",
        "elu",
        "x for x > 0, alpha * (exp(x) - 1) otherwise",
        layers.ELULayer,
        "nn.ELU",
        _alpha(1.0, "limit -alpha for x -> -inf"),
    )
)

register(_elementwise("activation", "swish", "x * sigmoid(x) (SiLU)", layers.SwishLayer, "nn.SiLU"))


# --- other layers --------------------------------------------------------------------------


def _build_affine(
    input_shape: tuple[int, ...], output_dim: int, **arguments: Any
) -> tuple[Any, tuple[int, ...]]:
    if len(input_shape) != 1:
        raise ValueError(f"affine needs flat inputs of shape (dim,), got {tuple(input_shape)}")
    return layers.AffineLayer(input_shape[0], output_dim, **arguments), (output_dim,)


def _affine_to_torch(layer: Any) -> Any:
    from torch import nn

    if layer.weights_penalty is not None or layer.biases_penalty is not None:
        warnings.warn(
            f"to_torch: {layer!r} has parameter penalties, which nn.Linear cannot hold; "
            "they are left out (use the optimiser's weight_decay instead)",
            stacklevel=4,
        )
    linear = nn.Linear(layer.input_dim, layer.output_dim, device="meta")  # no init draws
    linear.weight = nn.Parameter(_to_tensor(layer.weights))
    linear.bias = nn.Parameter(_to_tensor(layer.biases))
    return linear


def _affine_from_torch(module: Any) -> Any:
    if module.bias is None:
        raise ValueError("it has no bias; AffineLayer always has one")
    weights = _to_array(module.weight, "its weight")
    biases = _to_array(module.bias, "its bias")
    if weights.dtype != biases.dtype:
        raise ValueError(f"it mixes {weights.dtype} and {biases.dtype}")
    return layers.AffineLayer(
        module.in_features,
        module.out_features,
        weights_initialiser=lambda shape: weights,
        biases_initialiser=lambda shape: biases,
        dtype=weights.dtype,
    )


def _to_tensor(array: np.ndarray) -> Any:
    import torch

    # A copy: mlp's arrays (read-only cached data among them) are never shared with torch.
    return torch.from_numpy(np.array(array, copy=True, order="C"))


def _to_array(tensor: Any, what: str) -> np.ndarray:
    import torch

    if tensor.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{what} is {tensor.dtype}; mlp computes in float32 or float64")
    return tensor.detach().cpu().numpy().copy()


register(
    Entry(
        "layer",
        "affine",
        "inputs @ weights.T + biases (keywords: weights_initialiser, biases_initialiser, "
        "weights_penalty, biases_penalty, dtype)",
        _build_affine,
        _affine_to_torch,
        (Hyperparameter("output_dim", int, None, "output width", 1, metavar="N"),),
        layer_class=layers.AffineLayer,
        torch_class=_torch_module("nn.Linear"),
        from_torch=_affine_from_torch,
    )
)


_SOFTMAX = _torch_module("nn.Softmax")


def _softmax_from_torch(module: Any) -> Any:
    if module.dim not in (None, 1, -1):
        raise ValueError(
            f"it normalises dimension {module.dim}; SoftmaxLayer normalises each row (dim=-1)"
        )
    return layers.SoftmaxLayer()


register(
    Entry(
        "layer",
        "softmax",
        "exp(x) / sum(exp(x)) along the last axis",
        lambda input_shape: (layers.SoftmaxLayer(), tuple(input_shape)),
        lambda layer: _SOFTMAX()(dim=-1),
        layer_class=layers.SoftmaxLayer,
        torch_class=_SOFTMAX,
        from_torch=_softmax_from_torch,
    )
)


_DROPOUT = _torch_module("nn.Dropout")


def _dropout_from_torch(module: Any) -> Any:
    if module.p >= 1:
        raise ValueError("it drops every unit")
    # nn.Dropout draws one mask entry per element.
    return layers.DropoutLayer(incl_prob=1.0 - module.p, share_across_batch=False)


register(
    Entry(
        "layer",
        "dropout",
        "while training, zeroes each input with probability 1 - incl_prob (keyword: rng)",
        lambda input_shape, **values: (layers.DropoutLayer(**values), tuple(input_shape)),
        lambda layer: _DROPOUT()(p=1.0 - layer.incl_prob),
        (
            Hyperparameter(
                "incl_prob", float, 0.5, "probability of keeping a unit", 0.0, 1.0, low_open=True
            ),
            Hyperparameter(
                "share_across_batch", bool, True, "one mask for the batch, not one per example"
            ),
        ),
        layer_class=layers.DropoutLayer,
        torch_class=_DROPOUT,
        from_torch=_dropout_from_torch,
    )
)


# --- errors --------------------------------------------------------------------------------

Loss = Callable[[Any, Any], Any]


def _torch_cross_entropy_softmax() -> Loss:
    import torch

    return lambda y, t: -(t * torch.log_softmax(y, dim=-1)).sum(dim=-1).mean()


def _torch_cross_entropy() -> Loss:
    import torch

    tiny = torch.finfo(torch.float32).tiny
    return lambda y, t: -(t * torch.log(y.clamp_min(tiny))).sum(dim=-1).mean()


def _torch_sum_of_squares() -> Loss:
    return lambda y, t: 0.5 * ((y - t) ** 2).sum(dim=-1).mean()


def _torch_binary_cross_entropy_sigmoid() -> Loss:
    from torch.nn import functional

    bce = functional.binary_cross_entropy_with_logits
    return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]


def _torch_binary_cross_entropy() -> Loss:
    from torch.nn import functional

    bce = functional.binary_cross_entropy
    return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]


register(
    Entry(
        "error",
        "cross_entropy_softmax",
        "cross-entropy of the softmax of the outputs",
        errors.CrossEntropySoftmaxError,
        _torch_cross_entropy_softmax,
    )
)
register(
    Entry(
        "error",
        "cross_entropy",
        "cross-entropy of probabilities (the model ends with softmax)",
        errors.CrossEntropyError,
        _torch_cross_entropy,
        output_layer="softmax",
    )
)
register(
    Entry(
        "error",
        "sum_of_squares",
        "0.5 * sum of squared differences",
        errors.SumOfSquaredDiffsError,
        _torch_sum_of_squares,
    )
)
register(
    Entry(
        "error",
        "binary_cross_entropy_sigmoid",
        "binary cross-entropy of the sigmoid of the outputs",
        errors.BinaryCrossEntropySigmoidError,
        _torch_binary_cross_entropy_sigmoid,
    )
)
register(
    Entry(
        "error",
        "binary_cross_entropy",
        "binary cross-entropy of probabilities (the model ends with sigmoid)",
        errors.BinaryCrossEntropyError,
        _torch_binary_cross_entropy,
        output_layer="sigmoid",
    )
)


# --- learning rules ------------------------------------------------------------------------


def _rate(default: float) -> Hyperparameter:
    return _positive("learning_rate", default, "step size", "LR")


_MOM_COEFF = _fraction("mom_coeff", 0.9, "momentum coefficient", "M")


def _epsilon(default: float) -> Hyperparameter:
    return _positive("epsilon", default, "stabiliser added to the denominator", "EPS")


def _torch_sgd(nesterov: bool) -> Callable[..., Any]:
    def build(params: Any, learning_rate: float, mom_coeff: float = 0.0) -> Any:
        import torch

        return torch.optim.SGD(params, lr=learning_rate, momentum=mom_coeff, nesterov=nesterov)

    return build


def _torch_adagrad(params: Any, learning_rate: float, epsilon: float) -> Any:
    import torch

    return torch.optim.Adagrad(params, lr=learning_rate, eps=epsilon)


def _torch_rmsprop(params: Any, learning_rate: float, beta: float, epsilon: float) -> Any:
    import torch

    return torch.optim.RMSprop(params, lr=learning_rate, alpha=beta, eps=epsilon)


def _torch_adam(
    params: Any, learning_rate: float, beta_1: float, beta_2: float, epsilon: float
) -> Any:
    import torch

    return torch.optim.Adam(params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon)


register(
    Entry(
        "rule",
        "sgd",
        "gradient descent",
        lambda learning_rate: learning_rules.GradientDescentLearningRule(learning_rate),
        _torch_sgd(nesterov=False),
        (_rate(0.1),),
    )
)
register(
    Entry(
        "rule",
        "momentum",
        "gradient descent with momentum",
        lambda learning_rate, mom_coeff: learning_rules.MomentumLearningRule(
            learning_rate, mom_coeff
        ),
        _torch_sgd(nesterov=False),
        (_rate(0.1), _MOM_COEFF),
    )
)
register(
    Entry(
        "rule",
        "nesterov",
        "Nesterov's accelerated gradient",
        lambda learning_rate, mom_coeff: learning_rules.NesterovMomentumLearningRule(
            learning_rate, mom_coeff
        ),
        _torch_sgd(nesterov=True),
        (_rate(0.1), _MOM_COEFF),
    )
)
register(
    Entry(
        "rule",
        "adagrad",
        "AdaGrad: steps over the root of the summed squared gradients",
        lambda learning_rate, epsilon: learning_rules.AdaGradLearningRule(learning_rate, epsilon),
        _torch_adagrad,
        (_rate(1e-2), _epsilon(1e-10)),
    )
)
register(
    Entry(
        "rule",
        "rmsprop",
        "RMSProp: steps over a running root mean square of the gradients",
        lambda learning_rate, beta, epsilon: learning_rules.RMSPropLearningRule(
            learning_rate, beta, epsilon
        ),
        _torch_rmsprop,
        (
            _rate(1e-3),
            _fraction("beta", 0.9, "RMSProp's decay of the average of squared gradients"),
            _epsilon(1e-8),
        ),
    )
)
register(
    Entry(
        "rule",
        "adam",
        "Adam: bias-corrected averages of the gradients and their squares",
        lambda learning_rate, beta_1, beta_2, epsilon: learning_rules.AdamLearningRule(
            learning_rate, beta_1, beta_2, epsilon
        ),
        _torch_adam,
        (
            _rate(1e-3),
            _fraction("beta_1", 0.9, "Adam's decay of the average of gradients"),
            _fraction("beta_2", 0.999, "Adam's decay of the average of squared gradients"),
            _epsilon(1e-8),
        ),
    )
)


# --- initialisers --------------------------------------------------------------------------


def _nn_init() -> Any:
    from torch.nn import init

    return init


def _torch_init(fill: Callable[[Any, float], Any]) -> Callable[[float], Callable[[Any], Any]]:
    """A torch initialiser factory: init_scale -> fill(tensor), in place, for weights
    shaped (output_dim, input_dim) as mlp's are."""

    def make(init_scale: float) -> Callable[[Any], Any]:
        def apply(tensor: Any) -> Any:
            import torch

            with torch.no_grad():
                return fill(tensor, init_scale)

        return apply

    return make


def _scaled_init(name: str, help: str, cls: type, fill: Callable[[Any, float], Any]) -> Entry:
    gain = _positive("init_scale", 1.0, "gain of Glorot and He", "S")
    return Entry(
        "init",
        name,
        help,
        lambda init_scale, rng: cls(gain=init_scale, rng=rng),
        _torch_init(fill),
        (gain,),
    )


register(
    Entry(
        "init",
        "uniform",
        "uniform on [-init_scale, init_scale]",
        lambda init_scale, rng: initialisers.UniformInit(-init_scale, init_scale, rng=rng),
        _torch_init(lambda t, s: _nn_init().uniform_(t, -s, s)),
        (_at_least_zero("init_scale", 0.1, "half-width of uniform", "S"),),
    )
)
register(
    Entry(
        "init",
        "normal",
        "normal with mean 0 and std init_scale",
        lambda init_scale, rng: initialisers.NormalInit(0.0, init_scale, rng=rng),
        _torch_init(lambda t, s: _nn_init().normal_(t, 0.0, s)),
        (_at_least_zero("init_scale", 0.1, "std of normal", "S"),),
    )
)
register(
    _scaled_init(
        "glorot_uniform",
        "uniform on +-gain * sqrt(6 / (fan_in + fan_out))",
        initialisers.GlorotUniformInit,
        lambda t, s: _nn_init().xavier_uniform_(t, gain=s),
    )
)
register(
    _scaled_init(
        "glorot_normal",
        "normal with std gain * sqrt(2 / (fan_in + fan_out))",
        initialisers.GlorotNormalInit,
        lambda t, s: _nn_init().xavier_normal_(t, gain=s),
    )
)
register(
    _scaled_init(
        "he_uniform",
        "uniform on +-gain * sqrt(6 / fan_in)",
        initialisers.HeUniformInit,
        lambda t, s: _nn_init().kaiming_uniform_(t, nonlinearity="relu").mul_(s),
    )
)
register(
    _scaled_init(
        "he_normal",
        "normal with std gain * sqrt(2 / fan_in)",
        initialisers.HeNormalInit,
        lambda t, s: _nn_init().kaiming_normal_(t, nonlinearity="relu").mul_(s),
    )
)


# --- learning-rate schedules ---------------------------------------------------------------

register(
    Entry(
        "schedule",
        "constant",
        "the same learning rate every epoch",
        lambda learning_rate, num_epochs: schedulers.ConstantLearningRateScheduler(learning_rate),
    )
)
register(
    Entry(
        "schedule",
        "cosine",
        "half a cosine from learning_rate down towards lr_min",
        lambda learning_rate, num_epochs, lr_min: schedulers.CosineAnnealingScheduler(
            learning_rate, num_epochs, lr_min
        ),
        hyperparameters=(
            _at_least_zero(
                "lr_min",
                0.0,
                "learning rate the cosine schedule reaches after the last epoch",
                "LR",
            ),
        ),
    )
)
register(
    Entry(
        "schedule",
        "exponential",
        "the learning rate times lr_decay each epoch",
        lambda learning_rate, num_epochs, lr_decay: schedulers.ExponentialDecayScheduler(
            learning_rate, lr_decay
        ),
        hyperparameters=(
            Hyperparameter(
                "lr_decay",
                float,
                0.95,
                "factor per epoch of the exponential schedule",
                0.0,
                1.0,
                low_open=True,
                metavar="G",
            ),
        ),
    )
)
