"""The registry's machinery: declared hyperparameters, entries, and the table of them.

`mlp.registry` is the public face (its docstring says how entries are used); the
entries mlp ships are in `mlp.registry.builtin`.
"""

from __future__ import annotations

import difflib
import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:57] + '...' if len(text) > 60 else text}"


def _is_number(value: Any) -> bool:
    # bool is an int to Python, but True for a learning rate is a mistake.
    numbers = (int, float, np.integer, np.floating)
    return isinstance(value, numbers) and not isinstance(value, (bool, np.bool_))


def _is_integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer))


def _takes(factory: Callable[..., Any] | None, key: str) -> bool:
    """Whether `factory` accepts the keyword `key` (True when its signature is unknown)."""
    if factory is None:
        return False
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == key or p.kind is p.VAR_KEYWORD for p in parameters)


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
        """Whether a number lies in the declared range (floats: and is finite).

        Raises:
            TypeError: when `value` is not a number.
        """
        if not _is_number(value):
            raise TypeError(f"{self.name}: value must be a number, got {_shown(value)}")
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
        if not self._has_type(value):
            return f"{self.name} must be {self.describe()}{context}, got {_shown(value)}"
        if self.choices:
            if value in self.choices:
                return None
            hint = difflib.get_close_matches(str(value), self.choices, n=1)
            suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
            return f"{self.name} must be {self.describe()}; got {value!r}{suggestion}"
        if self.type in (int, float) and not self.in_range(value):
            return f"{self.name} must be {self.describe()}{context}, got {value}"
        return None

    def _has_type(self, value: Any) -> bool:
        # Checked before the range, which cannot compare a string with a bound.
        if self.type is bool:
            return isinstance(value, (bool, np.bool_))
        if self.type in (int, float):
            return _is_number(value) and (self.type is float or _is_integer(value))
        return not (self.type is str and not self.choices) or isinstance(value, str)

    def check(self, value: Any, context: str = "") -> None:
        """Raises ValueError with `problem`'s message for an invalid value."""
        message = self.problem(value, context)
        if message is not None:
            raise ValueError(message)

    def normalise(self, text: str) -> str:
        """A choice as written ('Leaky-ReLU') in the form the choices use ('leaky_relu').

        Raises:
            TypeError: when `text` is not a string.
        """
        if not isinstance(text, str):
            raise TypeError(f"{self.name}: text must be a string, got {_shown(text)}")
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
        if not isinstance(text, str):
            raise TypeError(f"{self.name}: text must be a string, got {_shown(text)}")
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
        if self.problem(value) is not None:  # the text as given: '1e999' rather than inf
            raise ValueError(f"expected {self.describe()}, got {text!r}")
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
        if self.kind not in KINDS:
            raise ValueError(f"Entry: kind must be one of {', '.join(KINDS)}; got {self.kind!r}")
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Entry: name must be a non-empty string, got {_shown(self.name)}")
        if not callable(self.numpy):
            raise TypeError(f"Entry: numpy must be a factory (callable), got {_shown(self.numpy)}")
        if not isinstance(self.hyperparameters, tuple) or not all(
            isinstance(hp, Hyperparameter) for hp in self.hyperparameters
        ):
            raise TypeError(
                "Entry: hyperparameters must be a tuple of Hyperparameter declarations, "
                f"got {_shown(self.hyperparameters)}"
            )
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
        if not isinstance(values, Mapping):
            raise TypeError(
                f"{self.kind} {self.name!r}: values must be a mapping, got {_shown(values)}"
            )
        # Undeclared keywords a factory takes (an initialiser's rng) pass through unchecked.
        unknown = [
            key
            for key in values
            if key not in self._by_name
            and not _takes(self.numpy, key)
            and not _takes(self.torch, key)
        ]
        if unknown:
            taken = ", ".join(self._by_name) or "none"
            raise ValueError(
                f"{self.kind} {self.name!r} takes no hyperparameter {unknown[0]!r} (it takes {taken})"
            )
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
        TypeError: when `new` is not an Entry instance.
        ValueError: for an unknown kind, a name taken, or a default out of its range.
    """
    if not isinstance(new, Entry):
        what = f"the class {new.__name__}" if isinstance(new, type) else _shown(new)
        raise TypeError(f"register: the new entry must be an Entry instance, got {what}")
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
        raise ValueError(f"{kind} must be one of {', '.join(table)}; got name {name!r}{suggestion}")
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
        raise ValueError(f"no {kind} takes a hyperparameter named {name!r}")
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
