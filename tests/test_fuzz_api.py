"""Fuzz the Python API: every public name of the modules in README.md's module table.

Wrong types, non-finite numbers, negative and zero sizes, odd shapes, integer arrays and
impossible sizes go into each constructor and method; each outcome must be a result or a
clear error naming the argument (see fuzz_support). `test_every_public_name_has_cases`
fails when a module of the table gains a public name with no case.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from fuzz_support import (
    DEFAULT_DATA_DIR,
    HUGE,
    NON_FINITE,
    WRONG_TYPES,
    Case,
    assert_no_failures,
    finite_result,
    readme_modules,
)

AREA = "api"
BAD_NUMBERS = {**WRONG_TYPES, **NON_FINITE}
BAD_COUNTS = {**WRONG_TYPES, "2.5": 2.5, "0": 0, "-1": -1, "nan": math.nan}
RNG = np.random.RandomState(20240612)


def _x(*shape: int, kind: str = "f") -> np.ndarray:
    data = RNG.uniform(0.05, 0.95, size=shape)
    return data.astype(np.float32) if kind == "f" else (data * 10).astype(np.int64)


def _one_hot(n: int = 5, k: int = 4) -> np.ndarray:
    return np.eye(k, dtype=np.float32)[np.arange(n) % k]


# Bad values for an array argument: (value, expect). "any": conversion or a clear refusal.
BAD_ARRAYS: dict[str, tuple[Any, str]] = {
    # A flat list of numbers is an array-like (converted, then judged by its shape): "any".
    **{
        label: (value, "any" if label == "[0.5]" else "error")
        for label, value in WRONG_TYPES.items()
        if label != "[[0.5]]"
    },
    "ndarray (the class)": (np.ndarray, "error"),
    "ragged list": ([[0.1], [0.1, 0.2]], "error"),
    "nested list (5,4)": (_x(5, 4).tolist(), "any"),
    "0-d array": (np.float32(0.5), "any"),
    "empty (0,4)": (np.zeros((0, 4), np.float32), "any"),
    "(5,0)": (np.zeros((5, 0), np.float32), "any"),
    "3-d (2,5,4)": (_x(2, 5, 4), "any"),
    "int64 (5,4)": (_x(5, 4, kind="i"), "any"),
    "complex (5,4)": (_x(5, 4) + 1j, "any"),
}
# Shapes that broadcast against (5, 4) but are not (5, 4).
BROADCASTING = {"(5,1)": _x(5, 1), "(1,4)": _x(1, 4), "(4,)": _x(4)}


class Cases:
    """Collects the cases of one group."""

    def __init__(self, group: str) -> None:
        self.group = group
        self.cases: list[Case] = []

    def add(
        self,
        covers: str | tuple[str, ...],
        label: str,
        call: Callable[[], Any],
        names: tuple[str, ...] | str,
        expect: str = "error",
        check: Callable[[Any], str | None] | None = None,
    ) -> None:
        covers = (covers,) if isinstance(covers, str) else covers
        names = (names,) if isinstance(names, str) else names
        self.cases.append(Case(AREA, self.group, label, call, names, expect, check, covers))

    def arguments(
        self,
        covers: str,
        label: str,
        function: Callable[..., Any],
        base: dict[str, Any],
        bad: dict[str, dict[str, Any]],
        expect: str = "error",
        extra_names: tuple[str, ...] = (),
    ) -> None:
        """A case per (argument, bad value): `function(**base)` with one argument bad."""
        for name, values in bad.items():
            for text, value in values.items():
                kwargs = {**base, name: value}
                self.add(
                    covers,
                    f"{label}({name}={text})",
                    lambda kwargs=kwargs: function(**kwargs),
                    (name, *extra_names),
                    expect,
                )

    def arrays(
        self,
        covers: str,
        label: str,
        function: Callable[..., Any],
        base: dict[str, Any],
        names: tuple[str, ...] | None = None,
        broadcasting: bool = True,
        check: Callable[[Any], str | None] | None = finite_result,
    ) -> None:
        """A case per (array argument, bad array), and per broadcasting shape."""
        for name in names or tuple(base):
            for text, (value, expect) in BAD_ARRAYS.items():
                kwargs = {**base, name: value}
                self.add(
                    covers,
                    f"{label}({name}={text})",
                    lambda kwargs=kwargs: function(**kwargs),
                    (name, name.split("_")[0]),
                    expect,
                    check if (expect == "any" and "int" in text) or "list" in text else None,
                )
            if broadcasting and len(base) > 1:
                for text, value in BROADCASTING.items():
                    kwargs = {**base, name: value}
                    self.add(
                        covers,
                        f"{label}({name}={text} against (5,4))",
                        lambda kwargs=kwargs: function(**kwargs),
                        (name, "shape"),
                    )


def _mod(name: str) -> Any:
    return importlib.import_module(f"mlp.{name}")


# --------------------------------------------------------------------------- teaching core


def layers_cases(tmp: Path) -> list[Case]:
    from mlp import layers as L
    from mlp.initialisers import ConstantInit

    c = Cases("layers")
    simple = ["SigmoidLayer", "TanhLayer", "ReluLayer", "SwishLayer", "SoftmaxLayer"]
    params = {"LeakyReluLayer": "alpha", "ELULayer": "alpha"}
    for name in [*simple, *params, "DropoutLayer", "AffineLayer"]:
        cls = getattr(L, name)
        cov = f"mlp.layers.{name}"

        def make(cls: type = cls) -> Any:
            return cls(4, 4) if cls is L.AffineLayer else cls()

        c.arrays(
            cov,
            f"{name}().fprop",
            lambda inputs, make=make: make().fprop(inputs),
            {"inputs": _x(5, 4)},
        )
        c.arrays(
            cov,
            f"{name}().bprop",
            lambda inputs, outputs, grads_wrt_outputs, make=make: make().bprop(
                inputs, outputs, grads_wrt_outputs
            ),
            {"inputs": _x(5, 4), "outputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
        )
    for name, param in params.items():
        cls = getattr(L, name)
        bad = {**BAD_NUMBERS, "-1": -1.0}
        c.arguments(f"mlp.layers.{name}", name, cls, {}, {param: bad})
    c.arguments(
        "mlp.layers.DropoutLayer",
        "DropoutLayer",
        L.DropoutLayer,
        {},
        {
            "incl_prob": {**BAD_NUMBERS, "0": 0.0, "1.5": 1.5, "-0.5": -0.5},
            "rng": {"'abc'": "abc", "5.5": 5.5, "RandomState": np.random.RandomState},
        },
    )
    c.arguments(
        "mlp.layers.AffineLayer",
        "AffineLayer",
        L.AffineLayer,
        {"input_dim": 4, "output_dim": 3},
        {
            "input_dim": BAD_COUNTS,
            "output_dim": {**BAD_COUNTS, "HUGE": HUGE},
            "weights_initialiser": {"0.1": 0.1, "'abc'": "abc", "ConstantInit": ConstantInit},
            "biases_initialiser": {"0.1": 0.1, "[0.0]": [0.0]},
            "weights_penalty": {"1e-4": 1e-4, "'l2'": "l2"},
            "biases_penalty": {"1e-4": 1e-4},
            "dtype": {"'abc'": "abc", "5": 5},
        },
    )
    c.add(
        "mlp.layers.AffineLayer",
        "AffineLayer(4, 3, 0.1)",
        lambda: L.AffineLayer(4, 3, 0.1),  # type: ignore[arg-type]
        "weights_initialiser",
    )
    c.arrays(
        "mlp.layers.AffineLayer",
        "AffineLayer(4,4).grads_wrt_params",
        lambda inputs, grads_wrt_outputs: L.AffineLayer(4, 4).grads_wrt_params(
            inputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    c.add(
        "mlp.layers.AffineLayer",
        "AffineLayer(4,4).params_penalty()",
        lambda: L.AffineLayer(4, 4).params_penalty(),
        (),
        "any",
    )
    c.add(
        "mlp.layers.AffineLayer",
        "AffineLayer(4,4).params = [None, None]",
        lambda: setattr(L.AffineLayer(4, 4), "params", [None, None]),
        ("params", "weights"),
    )
    c.add(
        "mlp.layers.AffineLayer",
        "AffineLayer(4,4).params = [(3,3) array, (4,)]",
        lambda: setattr(L.AffineLayer(4, 4), "params", [np.zeros((3, 3)), np.zeros(4)]),
        ("params", "weights", "shape"),
    )
    c.add(
        "mlp.layers.DropoutLayer",
        "DropoutLayer().fprop(int64 (5,4))",
        lambda: L.DropoutLayer().fprop(_x(5, 4, kind="i")),
        "inputs",
        "any",
        finite_result,
    )
    for base in ("Layer", "LayerWithParameters", "StochasticLayer"):
        cls = getattr(L, base)
        cov = f"mlp.layers.{base}"
        c.add(cov, f"{base}().fprop(x)", lambda cls=cls: cls().fprop(_x(5, 4)), (), "any")
        c.add(cov, f"{base}().fprop(None)", lambda cls=cls: cls().fprop(None), "inputs", "any")
    c.arguments(
        "mlp.layers.StochasticLayer",
        "StochasticLayer",
        L.StochasticLayer,
        {},
        {"rng": {"'abc'": "abc", "RandomState": np.random.RandomState}},
    )
    return c.cases


def course_layers_cases(tmp: Path) -> list[Case]:
    """The course's other layers (issue 14, part 2): RBF, PReLU, RReLU, its ELU, maxout."""
    from mlp import layers as L

    c = Cases("course_layers")
    elementwise = {
        "ParametricReluLayer": L.ParametricReluLayer,
        "RandomReluLayer": lambda: L.RandomReluLayer(rng=0),
        "ExponentialLinearUnitLayer": L.ExponentialLinearUnitLayer,
    }
    for name, make in elementwise.items():
        cov = f"mlp.layers.{name}"
        c.arrays(
            cov,
            f"{name}().fprop",
            lambda inputs, make=make: make().fprop(inputs),
            {"inputs": _x(5, 4)},
        )
        c.arrays(
            cov,
            f"{name}().bprop",
            lambda inputs, outputs, grads_wrt_outputs, make=make: make().bprop(
                inputs, outputs, grads_wrt_outputs
            ),
            {"inputs": _x(5, 4), "outputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
        )
    numbers = {**BAD_NUMBERS, "-1": -1.0}
    prelu = "mlp.layers.ParametricReluLayer"
    c.arguments(
        prelu,
        "ParametricReluLayer",
        L.ParametricReluLayer,
        {},
        {"alpha": BAD_NUMBERS, "dtype": {"'abc'": "abc", "5": 5}},
    )
    c.arrays(
        prelu,
        "ParametricReluLayer().grads_wrt_params",
        lambda inputs, grads_wrt_outputs: L.ParametricReluLayer().grads_wrt_params(
            inputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    for text, value in {
        "[None]": [None],
        "[(3,) array]": [np.zeros(3)],
        "None": None,
        "[]": [],
    }.items():
        c.add(
            prelu,
            f"ParametricReluLayer().params = {text}",
            lambda value=value: setattr(L.ParametricReluLayer(), "params", value),
            ("params", "alpha", "parameter"),
        )
    c.arguments(
        "mlp.layers.ExponentialLinearUnitLayer",
        "ExponentialLinearUnitLayer",
        L.ExponentialLinearUnitLayer,
        {},
        {"alpha": numbers},
    )
    rrelu = "mlp.layers.RandomReluLayer"
    c.arguments(
        rrelu,
        "RandomReluLayer",
        L.RandomReluLayer,
        {},
        {
            "lower": {**numbers, "0.5 > upper": 0.5},
            "upper": {**numbers, "0.1 < lower": 0.1},
            "rng": {"'abc'": "abc", "5.5": 5.5, "RandomState": np.random.RandomState},
        },
    )
    leakiness = {k: v for k, v in WRONG_TYPES.items() if k not in ("None", "[0.5]", "[[0.5]]")}
    c.arguments(
        rrelu,
        "RandomReluLayer().fprop",
        lambda **kwargs: L.RandomReluLayer(rng=0).fprop(**kwargs),
        {"inputs": _x(5, 4)},
        {"leakiness": {**leakiness, "nan": math.nan, "(5,5)": _x(5, 5), "(2,5,4)": _x(2, 5, 4)}},
    )
    c.arguments(
        rrelu,
        "RandomReluLayer().fprop",
        lambda **kwargs: L.RandomReluLayer(rng=0).fprop(**kwargs),
        {"inputs": _x(5, 4)},
        {"stochastic": {"'yes'": "yes", "None": None}},
    )
    rbf = "mlp.layers.RadialBasisFunctionLayer"
    c.arguments(
        rbf,
        "RadialBasisFunctionLayer",
        L.RadialBasisFunctionLayer,
        {"grid_dim": 3},
        {
            "grid_dim": {**BAD_COUNTS, "HUGE": HUGE},
            "intervals": {
                **WRONG_TYPES,
                "[[1, 0]]": [[1.0, 0.0]],
                "[[0, inf]]": [[0.0, math.inf]],
                "[[0, 1, 2]]": [[0.0, 1.0, 2.0]],
                "[]": [],
                "list": list,
            },
        },
    )
    c.arrays(
        rbf,
        "RadialBasisFunctionLayer(1).fprop",
        lambda inputs: L.RadialBasisFunctionLayer(1).fprop(inputs),
        {"inputs": _x(5, 4)},
    )
    c.arrays(
        rbf,
        "RadialBasisFunctionLayer(1).bprop",
        lambda inputs, outputs, grads_wrt_outputs: L.RadialBasisFunctionLayer(1).bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "outputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    c.add(
        rbf,
        "RadialBasisFunctionLayer(2, 2 intervals).fprop((5,3))",
        lambda: L.RadialBasisFunctionLayer(2, [[0, 1], [0, 2]]).fprop(_x(5, 3)),
        ("intervals", "inputs"),
    )
    maxout = "mlp.layers.MaxPoolingLayer"
    c.arguments(maxout, "MaxPoolingLayer", L.MaxPoolingLayer, {}, {"pool_size": BAD_COUNTS})
    c.arrays(
        maxout,
        "MaxPoolingLayer().fprop",
        lambda inputs: L.MaxPoolingLayer().fprop(inputs),
        {"inputs": _x(5, 4)},
    )
    c.add(
        maxout,
        "MaxPoolingLayer(3).fprop((5,4))",
        lambda: L.MaxPoolingLayer(3).fprop(_x(5, 4)),
        ("inputs", "pool_size"),
    )
    c.arrays(
        maxout,
        "MaxPoolingLayer().bprop",
        lambda inputs, outputs, grads_wrt_outputs: L.MaxPoolingLayer().bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "outputs": _x(5, 2), "grads_wrt_outputs": _x(5, 2)},
    )
    return c.cases


def errors_cases(tmp: Path) -> list[Case]:
    from mlp import errors as E

    c = Cases("errors")
    for name in E.__all__:
        cls = getattr(E, name)
        cov = f"mlp.errors.{name}"
        base = {"outputs": _x(5, 4), "targets": _one_hot()}
        c.arrays(cov, f"{name}()", lambda outputs, targets, cls=cls: cls()(outputs, targets), base)
        c.arrays(
            cov,
            f"{name}().grad",
            lambda outputs, targets, cls=cls: cls().grad(outputs, targets),
            base,
        )
        c.add(
            cov,
            f"{name}()(outputs (5,4), targets (5,3))",
            lambda cls=cls: cls()(_x(5, 4), _one_hot(5, 3)),
            ("targets", "outputs", "shape"),
        )
        c.add(cov, f"{name}(outputs)", lambda cls=cls: cls(_x(5, 4)), ("outputs", name), "error")
    return c.cases


def models_cases(tmp: Path) -> list[Case]:
    from mlp import layers as L
    from mlp import models as M

    c = Cases("models")
    bad_layers = {
        "None": None,
        "'abc'": "abc",
        "a layer, not a list": L.AffineLayer(4, 3),
        "[AffineLayer] (a class)": [L.AffineLayer],
        "[None]": [None],
        "{'a': layer}": {"a": L.ReluLayer()},
        "5": 5,
        "[]": [],
    }
    c.arguments(
        "mlp.models.MultipleLayerModel",
        "MultipleLayerModel",
        M.MultipleLayerModel,
        {},
        {"layers": bad_layers},
        extra_names=("layer",),
    )
    c.arguments(
        "mlp.models.SingleLayerModel",
        "SingleLayerModel",
        M.SingleLayerModel,
        {},
        {"layer": {k: v for k, v in bad_layers.items() if k != "a layer, not a list"}},
    )

    def model() -> Any:
        return M.MultipleLayerModel([L.AffineLayer(4, 3), L.ReluLayer()])

    cov = "mlp.models.MultipleLayerModel"
    c.arrays(
        cov, "model.fprop", lambda inputs: model().fprop(inputs), {"inputs": _x(5, 4)}, check=None
    )
    c.arrays(
        cov,
        "model.predict",
        lambda inputs: model().predict(inputs),
        {"inputs": _x(5, 4)},
        check=None,
    )
    c.arguments(
        cov,
        "model.predict",
        lambda **k: model().predict(_x(5, 4), **k),
        {},
        {"batch_size": BAD_COUNTS},
    )
    c.add(
        cov,
        "model.fprop((5,3) into a 4-input model)",
        lambda: model().fprop(_x(5, 3)),
        ("inputs", "shape", "input_dim"),
    )
    c.add(
        cov,
        "model.grads_wrt_params(None, grads)",
        lambda: model().grads_wrt_params(None, _x(5, 3)),
        "activations",
    )
    c.add(
        cov,
        "model.grads_wrt_params([x], grads)",
        lambda: model().grads_wrt_params([_x(5, 4)], _x(5, 3)),
        ("activations",),
    )
    c.add(
        cov,
        "model.grads_wrt_params(acts, None)",
        lambda: (lambda m: m.grads_wrt_params(m.fprop(_x(5, 4)), None))(model()),
        "grads_wrt_outputs",
    )
    c.add(
        cov,
        "model.grads_wrt_params(acts, (5,1))",
        lambda: (lambda m: m.grads_wrt_params(m.fprop(_x(5, 4)), _x(5, 1)))(model()),
        ("grads_wrt_outputs", "shape"),
    )
    c.add(cov, "model.params_penalty()", lambda: model().params_penalty(), (), "any")
    c.add(
        "mlp.models.SingleLayerModel",
        "SingleLayerModel(layer).fprop(None)",
        lambda: M.SingleLayerModel(L.AffineLayer(4, 3)).fprop(None),
        "inputs",
    )
    return c.cases


def initialisers_cases(tmp: Path) -> list[Case]:
    from mlp import initialisers as I

    c = Cases("initialisers")
    ctor = {
        "ConstantInit": ({"value": 0.0}, {"value": BAD_NUMBERS}),
        "UniformInit": (
            {"low": -0.1, "high": 0.1},
            {"low": BAD_NUMBERS, "high": {**BAD_NUMBERS, "below low": -0.5}},
        ),
        "NormalInit": (
            {"mean": 0.0, "std": 0.1},
            {"mean": BAD_NUMBERS, "std": {**BAD_NUMBERS, "-1": -1.0}},
        ),
    }
    for name in ("GlorotUniformInit", "GlorotNormalInit", "HeUniformInit", "HeNormalInit"):
        ctor[name] = (
            {},
            {
                "gain": {**BAD_NUMBERS, "-1": -1.0},
                "rng": {"'abc'": "abc", "RandomState": np.random.RandomState},
            },
        )
    shapes = {
        "None": None,
        "int 5": 5,
        "(5, 0)": (5, 0),
        "(0,)": (0,),
        "(-1, 3)": (-1, 3),
        "(2.5, 3)": (2.5, 3),
        "'ab'": "ab",
        "(HUGE, HUGE)": (HUGE, HUGE),
        "(5,)": (5,),
        "(2, 3, 4)": (2, 3, 4),
    }
    for name, (base, bad) in ctor.items():
        cls = getattr(I, name)
        cov = f"mlp.initialisers.{name}"
        c.arguments(cov, name, cls, base, bad)
        for text, shape in shapes.items():
            # An int n is documented as the shape (n,), as NumPy takes it.
            ok = ("(5,)", "(2, 3, 4)", "(5, 0)", "(0,)", "int 5")
            expect = "any" if text in ok else "error"
            c.add(
                cov,
                f"{name}(...)(shape={text})",
                lambda cls=cls, base=base, shape=shape: cls(**base)(shape),
                "shape",
                expect,
            )
    return c.cases


def learning_rules_cases(tmp: Path) -> list[Case]:
    from mlp import learning_rules as R

    c = Cases("learning_rules")
    hyper = {
        "GradientDescentLearningRule": ["learning_rate"],
        "MomentumLearningRule": ["learning_rate", "mom_coeff"],
        "NesterovMomentumLearningRule": ["learning_rate", "mom_coeff"],
        "AdaGradLearningRule": ["learning_rate", "epsilon"],
        "RMSPropLearningRule": ["learning_rate", "beta", "epsilon"],
        "AdamLearningRule": ["learning_rate", "beta_1", "beta_2", "epsilon"],
    }
    for name, params in hyper.items():
        cls = getattr(R, name)
        cov = f"mlp.learning_rules.{name}"
        c.arguments(cov, name, cls, {}, {p: {**BAD_NUMBERS, "-1": -1.0} for p in params})

        def rule(cls: type = cls) -> Any:
            r = cls()
            r.initialise([np.zeros((4, 3), np.float32), np.zeros(3, np.float32)])
            return r

        for text, value in {
            "None": None,
            "[None]": [None],
            "'abc'": "abc",
            "5": 5,
            "{}": {},
        }.items():
            c.add(
                cov,
                f"{name}().initialise({text})",
                lambda cls=cls, value=value: cls().initialise(value),
                "params",
            )
        c.add(
            cov,
            f"{name}().initialise([nested list])",
            lambda cls=cls: cls().initialise([[[0.0, 1.0]]]),
            "params",
            "any",
        )
        c.add(
            cov,
            f"{name}().update_params(grads) before initialise",
            lambda cls=cls: cls().update_params([np.zeros(3)]),
            ("initialise",),
        )
        for text, grads in {
            "None": None,
            "[]": [],
            "one grad of two": [np.zeros((4, 3))],
            "wrong shapes": [np.zeros((3, 4)), np.zeros(3)],
            "broadcasting (1,3)": [np.zeros((1, 3)), np.zeros(3)],
            "[None, None]": [None, None],
            "'abc'": "abc",
        }.items():
            c.add(
                cov,
                f"{name}().update_params({text})",
                lambda rule=rule, grads=grads: rule().update_params(grads),
                ("grads_wrt_params", "grad"),
            )
        c.add(
            cov,
            f"{name}().update_params(nested lists)",
            lambda rule=rule: rule().update_params([np.zeros((4, 3)).tolist(), [0.0] * 3]),
            "grads_wrt_params",
            "any",
        )
        c.add(
            cov,
            f"{name}().update_params(int arrays)",
            lambda rule=rule: rule().update_params([np.ones((4, 3), int), np.ones(3, int)]),
            "grads_wrt_params",
            "any",
        )
        for text, state in {
            "{}": {},
            "None": None,
            "'abc'": "abc",
            "{'bogus': 1}": {"bogus": 1},
        }.items():
            c.add(
                cov,
                f"{name}().load_state({text})",
                lambda rule=rule, state=state: rule().load_state(state),
                "state",
            )
        c.add(
            cov,
            f"{name}().reset(); state()",
            lambda rule=rule: (rule().reset(), rule().state()),
            (),
            "any",
        )
        c.add(
            cov,
            f"{name}().learning_rate = 'abc'",
            lambda cls=cls: setattr(cls(), "learning_rate", "abc"),
            "learning_rate",
        )
    return c.cases


def penalties_cases(tmp: Path) -> list[Case]:
    from mlp import penalties as P

    c = Cases("penalties")
    for name in P.__all__:
        cls = getattr(P, name)
        cov = f"mlp.penalties.{name}"
        c.arguments(cov, name, cls, {}, {"coefficient": {**BAD_NUMBERS, "-1": -1.0}})
        c.arrays(
            cov,
            f"{name}(0.1)",
            lambda parameter, cls=cls: cls(0.1)(parameter),
            {"parameter": _x(5, 4)},
        )
        c.arrays(
            cov,
            f"{name}(0.1).grad",
            lambda parameter, cls=cls: cls(0.1).grad(parameter),
            {"parameter": _x(5, 4)},
        )
    return c.cases


def schedulers_cases(tmp: Path) -> list[Case]:
    from mlp import schedulers as S
    from mlp.learning_rules import GradientDescentLearningRule

    c = Cases("schedulers")
    specs = {
        "ConstantLearningRateScheduler": (
            {"learning_rate": 0.1},
            {"learning_rate": {**BAD_NUMBERS, "-1": -1.0}},
        ),
        "CosineAnnealingScheduler": (
            {"max_learning_rate": 0.1, "num_epochs": 5},
            {
                "max_learning_rate": BAD_NUMBERS,
                "num_epochs": BAD_COUNTS,
                # Above the maximum the half cosine rises, as torch's does: not refused.
                "min_learning_rate": BAD_NUMBERS,
            },
        ),
        "ExponentialDecayScheduler": (
            {"learning_rate": 0.1, "decay": 0.9},
            {"learning_rate": BAD_NUMBERS, "decay": {**BAD_NUMBERS, "-1": -1.0, "0": 0.0}},
        ),
    }
    for name, (base, bad) in specs.items():
        cls = getattr(S, name)
        cov = (f"mlp.schedulers.{name}", "mlp.schedulers.Scheduler")
        c.arguments(cov, name, cls, base, bad)  # type: ignore[arg-type]
        for text, epoch in {
            "None": None,
            "'abc'": "abc",
            "-1": -1,
            "2.5": 2.5,
            "nan": math.nan,
        }.items():
            c.add(
                cov,
                f"{name}(...).learning_rate({text})",
                lambda cls=cls, base=base, epoch=epoch: cls(**base).learning_rate(epoch),
                ("epoch_number", "epoch"),
            )
        for text, rule in {
            "None": None,
            "GradientDescentLearningRule (class)": GradientDescentLearningRule,
            "'abc'": "abc",
        }.items():
            c.add(
                cov,
                f"{name}(...).update_learning_rule({text}, 0)",
                lambda cls=cls, base=base, rule=rule: cls(**base).update_learning_rule(rule, 0),
                "learning_rule",
            )
    for text, value in {"None": None, "a rule": GradientDescentLearningRule(), "5": 5}.items():
        c.add(
            "mlp.schedulers.HasLearningRate",
            f"isinstance({text}, HasLearningRate)",
            lambda value=value: isinstance(value, S.HasLearningRate),
            (),
            "any",
        )
    return c.cases


def callbacks_cases(tmp: Path) -> list[Case]:
    from mlp import callbacks as C

    c = Cases("callbacks")
    for name in ("Callback", "EpochTimer", "LambdaCallback"):
        cls = getattr(C, name)
        cov = f"mlp.callbacks.{name}"
        for hook, args in {
            "on_train_begin": (None,),
            "on_epoch_begin": (None, "abc"),
            "on_batch_begin": (None, 1, 0),
            "on_epoch_end": (None, None, "abc"),
            "on_stats": (None, 1, None),
            "on_train_end": (None,),
        }.items():
            c.add(
                cov,
                f"{name}().{hook}{args}",
                lambda cls=cls, hook=hook, args=args: getattr(cls(), hook)(*args),
                ("epoch", "epoch_time", "stats"),
                "any",
            )
    c.arguments(
        "mlp.callbacks.LambdaCallback",
        "LambdaCallback",
        C.LambdaCallback,
        {},
        {"on_stats": {"5": 5, "'abc'": "abc"}, "on_epoch_end": {"5": 5, "[print]": [print]}},
    )
    return c.cases


def kernels_cases(tmp: Path) -> list[Case]:
    from mlp import kernels as K

    c = Cases("kernels")
    for text, value in {"None": None, "'bogus'": "bogus", "5": 5, "'sgd'": "sgd"}.items():
        c.add(
            "mlp.kernels.compiled",
            f"compiled({text})",
            lambda value=value: K.compiled(value),
            "name",
            "any",
        )
    c.add("mlp.kernels.enabled", "enabled()", K.enabled, (), "any")
    c.add(
        "mlp.kernels.numpy_updates",
        "with numpy_updates(): enabled()",
        lambda: _in_context(K.numpy_updates(), K.enabled),
        (),
        "any",
    )
    c.add(
        "mlp.kernels.KERNELS",
        "KERNELS is a mapping of names",
        lambda: _constant(K.KERNELS, dict),
        (),
        "any",
    )
    return c.cases


def threads_cases(tmp: Path) -> list[Case]:
    from mlp import threads as T

    c = Cases("threads")
    c.add("mlp.threads.num_threads", "num_threads()", T.num_threads, (), "any")
    bad = {"0": 0, "-1": -1, "2.5": 2.5, "'2'": "2", "True": True, "[2]": [2], "nan": math.nan}
    for text, value in {**bad, "1": 1, "3": 3, "None": None}.items():
        c.add(
            "mlp.threads.set_num_threads",
            f"set_num_threads({text})",
            lambda value=value: _restoring_threads(T, value),
            "count",
            "error" if text in bad else "any",
        )
    return c.cases


def _restoring_threads(threads: Any, count: Any) -> int:
    """set_num_threads(count), then back to the default; the count it took."""
    try:
        threads.set_num_threads(count)
        return threads.num_threads()
    finally:
        threads.set_num_threads(None)


def _in_context(manager: Any, function: Callable[[], Any]) -> Any:
    with manager:
        return function()


def _constant(value: Any, kind: type | tuple[type, ...] = object) -> Any:
    if not isinstance(value, kind) or (callable(value) and not hasattr(value, "__origin__")):
        raise AssertionError(f"constant of unexpected type {type(value).__name__}")
    return value


def data_providers_cases(tmp: Path) -> list[Case]:
    from mlp import data_providers as D

    c = Cases("data_providers")
    inputs, labels = _x(20, 4), np.arange(20) % 4
    base = {"inputs": inputs, "targets": labels, "batch_size": 5}
    bad = {
        "inputs": {
            "None": None,
            "'abc'": "abc",
            "3 rows for 20 labels": _x(3, 4),
            "0-d": np.float32(1),
        },
        "targets": {"None": None, "'abc'": "abc", "3 labels for 20 rows": np.arange(3)},
        "batch_size": {**BAD_COUNTS, "HUGE": HUGE},
        "max_num_batches": {"2.5": 2.5, "0": 0, "'abc'": "abc", "None": None},
        "rng": {"'abc'": "abc", "5.5": 5.5, "RandomState (class)": np.random.RandomState},
        "shuffle_order": {"'abc'": "abc"},
        "drop_last": {"'abc'": "abc"},
    }
    for name in ("DataProvider", "OneOfKDataProvider"):
        cls = getattr(D, name)
        cov = f"mlp.data_providers.{name}"
        extra = (
            {"num_classes": {"2.7": 2.7, "0": 0, "-1": -1, "'abc'": "abc", "2 (labels up to 3)": 2}}
            if name == "OneOfKDataProvider"
            else {}
        )
        c.arguments(cov, name, cls, base, {**bad, **extra})
        c.add(
            cov,
            f"{name}(list inputs, list targets)",
            lambda cls=cls: cls(inputs.tolist(), labels.tolist(), 5),
            ("inputs", "targets"),
            "any",
        )

        def provider(cls: type = cls) -> Any:
            return cls(inputs, labels, 5, rng=np.random.RandomState(1))

        for text, size in BAD_COUNTS.items():
            c.add(
                cov,
                f"{name}(...).evaluation_batches({text})",
                lambda provider=provider, size=size: list(provider().evaluation_batches(size)),
                "batch_size",
            )
        for text, state in {
            "{}": {},
            "None": None,
            "{'order': 'x'}": {"order": "x"},
            "'abc'": "abc",
        }.items():
            c.add(
                cov,
                f"{name}(...).load_state({text})",
                lambda provider=provider, state=state: provider().load_state(state),
                "state",
            )
        c.add(
            cov,
            f"{name}(...): next, new_epoch, reset, state",
            lambda provider=provider: _cycle(provider()),
            (),
            "any",
        )
    oneofk = "mlp.data_providers.OneOfKDataProvider"
    for text, (value, expect) in {
        "None": (None, "error"),
        "[9] (out of range)": (np.array([9]), "error"),
        "[-1]": (np.array([-1]), "error"),
        "[1.5]": (np.array([1.5]), "error"),
        "list [0, 1]": ([0, 1], "any"),
        "'abc'": ("abc", "error"),
    }.items():
        c.add(
            oneofk,
            f"OneOfKDataProvider(...).to_one_of_k({text})",
            lambda value=value: D.OneOfKDataProvider(inputs, labels, 5).to_one_of_k(value),
            ("int_targets", "targets", "label"),
            expect,
        )
    env_dir = str(DEFAULT_DATA_DIR)
    for name in ("MNISTDataProvider", "FashionMNISTDataProvider"):
        cls = getattr(D, name)
        cov = f"mlp.data_providers.{name}"
        bad_mnist = {
            "which_set": {"'bogus'": "bogus", "None": None, "5": 5},
            "batch_size": {"0": 0, "'abc'": "abc", "-1": -1, "None": None},
            "data_dir": {"5": 5, "[dir]": [env_dir]},
            "rng": {"'abc'": "abc"},
        }
        c.arguments(
            cov, name, cls, {"data_dir": env_dir} if name == "MNISTDataProvider" else {}, bad_mnist
        )
    return c.cases


def _cycle(provider: Any) -> Any:
    batch = provider.next()
    provider.new_epoch()
    provider.reset()
    return batch, provider.state()


def optimisers_cases(tmp: Path) -> list[Case]:
    from mlp import optimisers as O
    from mlp import training_loop as T
    from mlp.data_providers import OneOfKDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.layers import AffineLayer
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.models import MultipleLayerModel

    c = Cases("optimisers")

    def parts() -> dict[str, Any]:
        data = OneOfKDataProvider(_x(20, 4), np.arange(20) % 3, 5, rng=np.random.RandomState(2))
        model = MultipleLayerModel([AffineLayer(4, 3)])
        return {
            "model": model,
            "error": CrossEntropySoftmaxError(),
            "learning_rule": GradientDescentLearningRule(0.1),
            "train_dataset": data,
        }

    def build(**kwargs: Any) -> Any:
        return O.Optimiser(**{**parts(), **kwargs})

    layer = AffineLayer(4, 3)
    bad = {
        "model": {"None": None, "[layer]": [layer], "a layer": layer, "'abc'": "abc"},
        "error": {
            "None": None,
            "CrossEntropySoftmaxError (class)": CrossEntropySoftmaxError,
            "'abc'": "abc",
        },
        "learning_rule": {
            "None": None,
            "GradientDescentLearningRule (class)": GradientDescentLearningRule,
            "0.1": 0.1,
        },
        "train_dataset": {"None": None, "'abc'": "abc", "5": 5},
        "valid_dataset": {"'abc'": "abc", "5": 5},
        "data_monitors": {"[accuracy]": [O.accuracy], "{'acc': 5}": {"acc": 5}, "'abc'": "abc"},
        "eval_batch_size": BAD_COUNTS,
        "schedulers": {"5": 5, "[None]": [None]},
        "callbacks": {
            "5": 5,
            "[None]": [None],
            "[Callback (class)]": [__import__("mlp.callbacks").callbacks.Callback],
        },
        "on_stats": {"5": 5},
        "on_epoch_end": {"'abc'": "abc"},
    }
    cov = (
        "mlp.optimisers.Optimiser",
        "mlp.optimisers.TrainingLoop",
        "mlp.training_loop.TrainingLoop",
    )
    c.arguments(cov, "Optimiser", build, {}, bad)  # type: ignore[arg-type]
    # num_epochs 0 is documented (the epoch to train up to): it records the row before
    # training only, as TorchTrainer.train(num_epochs=0) does in test_pytorch.
    counts = {k: v for k, v in BAD_COUNTS.items() if k != "0"}
    # stats_interval -1 is documented too (the course's "don't monitor"); -2 is not.
    intervals = {**{k: v for k, v in BAD_COUNTS.items() if k != "-1"}, "-2": -2}
    for name in ("num_epochs", "stats_interval"):
        c.arguments(
            cov,
            "Optimiser(...).train",
            lambda **k: build().train(**{"num_epochs": 1, **k}),
            {},
            {name: intervals if name == "stats_interval" else counts},
        )  # type: ignore[arg-type]
    c.arguments(
        cov,
        "Optimiser(...).train(1)",
        lambda **k: build().train(1, **k),
        {},
        {
            "start_epoch": {"-1": -1, "'abc'": "abc"},
            "previous_stats": {"'abc'": "abc", "(2,)": np.zeros(2)},
        },
    )  # type: ignore[arg-type]
    c.arrays(
        cov,
        "Optimiser(...).train_step",
        lambda inputs_batch, targets_batch: build().train_step(inputs_batch, targets_batch),
        {"inputs_batch": _x(5, 4), "targets_batch": _one_hot(5, 3)},
        names=("inputs_batch", "targets_batch"),
        check=None,
    )  # type: ignore[arg-type]
    c.add(
        cov,
        "Optimiser(...).eval_monitors(None, 'train')",
        lambda: build().eval_monitors(None, "train"),
        "dataset",
    )
    c.add(
        cov,
        "Optimiser(...).get_epoch_stats(); stat_keys()",
        lambda: (build().get_epoch_stats(), build().stat_keys()),
        (),
        "any",
    )
    c.add(
        cov,
        "Optimiser(...).log_stats(1, 'a', None)",
        lambda: build().log_stats(1, "a", None),
        ("epoch_time", "stats"),
        "any",
    )
    c.arrays(
        "mlp.optimisers.accuracy",
        "accuracy",
        O.accuracy,
        {"outputs": _x(5, 4), "targets": _one_hot()},
        check=None,
    )
    for text, value in {
        "'abc'": "abc",
        "None": None,
        "2.5": 2.5,
        "0 (minimum 1)": 0,
        "True": True,
    }.items():
        c.add(
            "mlp.training_loop.check_count",
            f"check_count('epochs', {text}, 1)",
            lambda value=value: T.check_count("epochs", value, 1),
            "epochs",
        )
    c.add(
        (
            "mlp.optimisers.Monitor",
            "mlp.training_loop.EpochCallback",
            "mlp.training_loop.StatsCallback",
        ),
        "Monitor, EpochCallback, StatsCallback are type aliases",
        lambda: [_constant(v) for v in (O.Monitor, T.EpochCallback, T.StatsCallback)],
        (),
        "any",
    )
    return c.cases


def protocols_cases(tmp: Path) -> list[Case]:
    from mlp import protocols as P
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.learning_rules import AdamLearningRule

    c = Cases("protocols")
    for name in P.__all__:
        proto = getattr(P, name)
        for text, value in {
            "None": None,
            "5": 5,
            "an error": CrossEntropySoftmaxError(),
            "a rule": AdamLearningRule(),
        }.items():
            c.add(
                f"mlp.protocols.{name}",
                f"isinstance({text}, {name})",
                lambda value=value, proto=proto: isinstance(value, proto),
                (),
                "any",
            )
    return c.cases


def gradcheck_cases(tmp: Path) -> list[Case]:
    from mlp import gradcheck as G
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.layers import AffineLayer, SigmoidLayer

    c = Cases("gradcheck")
    cov = "mlp.gradcheck.check_layer_gradients"
    c.arguments(
        cov,
        "check_layer_gradients",
        G.check_layer_gradients,
        {"layer": SigmoidLayer(), "inputs": _x(3, 4)},
        {
            "layer": {"None": None, "SigmoidLayer (class)": SigmoidLayer, "'abc'": "abc"},
            "inputs": {"None": None, "'abc'": "abc", "(3,0)": np.zeros((3, 0))},
            "eps": {**BAD_NUMBERS, "0": 0.0, "-1": -1.0},
            "rng": {"'abc'": "abc"},
        },
    )
    c.add(
        cov,
        "check_layer_gradients(AffineLayer(4,3), list inputs)",
        lambda: G.check_layer_gradients(AffineLayer(4, 3), _x(3, 4).tolist()),
        "inputs",
        "any",
    )
    c.add(
        cov,
        "check_layer_gradients(AffineLayer(4,3), (3,5) inputs)",
        lambda: G.check_layer_gradients(AffineLayer(4, 3), _x(3, 5)),
        ("inputs", "shape", "input_dim"),
    )
    cov = "mlp.gradcheck.check_error_gradients"
    c.arguments(
        cov,
        "check_error_gradients",
        G.check_error_gradients,
        {"error": CrossEntropySoftmaxError(), "outputs": _x(5, 4), "targets": _one_hot()},
        {
            "error": {"None": None, "CrossEntropySoftmaxError (class)": CrossEntropySoftmaxError},
            "outputs": {"None": None, "(5,3)": _x(5, 3)},
            "targets": {"None": None, "(5,1)": _x(5, 1)},
            "eps": {**BAD_NUMBERS, "0": 0.0},
        },
    )
    cov = "mlp.gradcheck.numerical_gradient"
    c.arguments(
        cov,
        "numerical_gradient",
        G.numerical_gradient,
        {"f": lambda: 0.0, "x": _x(3)},
        {
            "f": {"None": None, "5": 5},
            "x": {"None": None, "'abc'": "abc", "int64 (3,)": np.arange(3)},
            "eps": {**BAD_NUMBERS, "0": 0.0},
        },
    )
    cov = "mlp.gradcheck.relative_error"
    c.arguments(
        cov,
        "relative_error",
        G.relative_error,
        {"analytic": _x(3), "numeric": _x(3)},
        {
            "analytic": {"None": None, "(4,)": _x(4), "'abc'": "abc"},
            "numeric": {"None": None, "(3,1)": _x(3, 1)},
            "floor": {**BAD_NUMBERS, "-1": -1.0},
        },
    )
    c.add(
        cov,
        "relative_error(list, list)",
        lambda: G.relative_error([0.1, 0.2], [0.1, 0.2]),
        "analytic",
        "any",
    )
    return c.cases


# --------------------------------------------------------------------------- data, registry, config


def datasets_cases(tmp: Path) -> list[Case]:
    from mlp import datasets as DS

    c = Cases("datasets")
    empty = tmp / "empty-data"
    empty.mkdir(exist_ok=True)
    a_file = tmp / "a-file"
    a_file.write_text("x")
    names = {"'bogus'": "bogus", "None": None, "5": 5, "''": ""}
    c.arguments("mlp.datasets.check_split", "check_split", DS.check_split, {}, {"which_set": names})
    c.add("mlp.datasets.data_dir", "data_dir()", DS.data_dir, (), "any")
    c.add(
        "mlp.datasets.data_dir",
        "data_dir() with MLP_DATA_DIR=''",
        lambda: _with_env({"MLP_DATA_DIR": ""}, DS.data_dir),
        ("MLP_DATA_DIR",),
        "any",
    )
    c.arguments(
        "mlp.datasets.fetch",
        "fetch",
        DS.fetch,
        {"name": "mnist", "progress": False, "data_dir": str(DEFAULT_DATA_DIR)},
        {
            "name": names,
            "data_dir": {"5": 5, "a file": str(a_file), "[dir]": [str(empty)]},
            "mirrors": {"5": 5, "'http://x'": "http://x"},
        },
    )
    c.arguments(
        "mlp.datasets.load",
        "load",
        DS.load,
        {"name": "mnist", "which_set": "valid", "fetch": False, "data_dir": str(DEFAULT_DATA_DIR)},
        {
            "name": names,
            "which_set": names,
            "data_dir": {
                "5": 5,
                "a file": str(a_file),
                "an empty dir": str(empty),
                "missing dir": str(tmp / "nope"),
            },
            "fetch": {"'abc'": "abc"},
        },
        extra_names=("mnist-valid.npz", "--data-dir"),
    )
    for text, argv in {
        "['bogus']": ["bogus"],
        "['fetch', 'bogus']": ["fetch", "bogus"],
        "[5]": [5],
        "None": "x",
    }.items():
        c.add(
            "mlp.datasets.main",
            f"main({text})",
            lambda argv=argv: _exit_status(DS.main, argv),
            ("bogus", "argument", "invalid"),
            "any",
        )
    rng = np.random.RandomState(7)
    for text, content in {
        "b''": b"",
        "8 random bytes": rng.bytes(8),
        "bad magic": b"\x00\x00\x09\x03" + rng.bytes(20),
        "header only": b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x02",
        "dims past the data": b"\x00\x00\x08\x01\xff\xff\xff\xff" + rng.bytes(4),
    }.items():
        c.add(
            "mlp.datasets.parse_idx",
            f"parse_idx({text}, 3, 'f.idx')",
            lambda content=content: DS.parse_idx(content, 3, "f.idx"),
            "f.idx",
        )
    c.arguments(
        "mlp.datasets.parse_idx",
        "parse_idx",
        DS.parse_idx,
        {"content": b"\x00\x00\x08\x01\x00\x00\x00\x01\x05", "ndim": 1, "origin": "f.idx"},
        {
            "content": {"None": None, "'abc'": "abc"},
            "ndim": {"-1": -1, "'abc'": "abc", "None": None},
        },
        extra_names=("f.idx",),
    )
    good = {
        "name": "mnist",
        "which_set": "valid",
        "inputs": np.zeros((10000, 784), np.float32),
        "targets": np.zeros(10000, np.int64),
    }
    c.arguments(
        "mlp.datasets.verify",
        "verify",
        DS.verify,
        good,
        {
            "name": names,
            "which_set": names,
            "inputs": {
                "None": None,
                "(3,784)": np.zeros((3, 784), np.float32),
                "values above 1": np.full((10000, 784), 9.0, np.float32),
                "'abc'": "abc",
            },
            "targets": {
                "None": None,
                "(3,)": np.zeros(3, np.int64),
                "float labels": np.zeros(10000),
            },
        },
        extra_names=("mnist", "valid"),
    )
    spec = DS.DATASETS["mnist"]
    c.add(
        "mlp.datasets.DATASETS",
        "DATASETS['mnist'] is a DatasetSpec",
        lambda: _constant(DS.DATASETS["mnist"], DS.DatasetSpec),
        (),
        "any",
    )
    c.add(
        "mlp.datasets.SPLITS", "SPLITS is a tuple", lambda: _constant(DS.SPLITS, tuple), (), "any"
    )
    c.add(
        "mlp.datasets.DataError", "DataError('message')", lambda: DS.DataError("message"), (), "any"
    )
    c.add(
        "mlp.datasets.DatasetSpec",
        "DatasetSpec(name=None, ...)",
        lambda: DS.DatasetSpec(None, spec.sizes, None, {}, (), ""),
        ("name",),
        "any",
    )
    c.add(
        "mlp.datasets.DatasetSpec",
        "DatasetSpec(sizes=5, ...)",
        lambda: DS.DatasetSpec("x", 5, None, {}, (), ""),
        ("sizes",),
        "any",
    )
    c.add("mlp.datasets.IdxFile", "IdxFile(None)", lambda: DS.IdxFile(None), ("filename",), "any")
    return c.cases


# --- issue 14 part 4: the course's other data sets and providers ----------------------


def _course_data_dir(tmp: Path) -> Path:
    """Small valid files of EMNIST, the Met Office series and CCPP."""
    folder = tmp / "course-data"
    folder.mkdir(exist_ok=True)
    np.savez(
        folder / "emnist-valid.npz",
        inputs=np.zeros((20, 28, 28), np.uint8),
        targets=np.arange(20) % 47,
    )
    row = " 1931    1" + "   1.00" * 31
    (folder / "HadSSP_daily_qc.txt").write_text("a\nb\nc\n" + "\n".join([row] * 3) + "\n")
    rng = np.random.RandomState(0)
    np.savez(
        folder / "ccpp_data.npz",
        train_inputs=rng.normal(size=(30, 4)),
        train_targets=rng.normal(size=(30, 1)),
        valid_inputs=rng.normal(size=(20, 4)),
        valid_targets=rng.normal(size=(20, 1)),
    )
    return folder


def course_data_cases(tmp: Path) -> list[Case]:
    from mlp import data_providers as D
    from mlp import datasets as DS

    c = Cases("course_data")
    folder = str(_course_data_dir(tmp))
    mnist_dir = str(DEFAULT_DATA_DIR)
    common = {
        "batch_size": {"0": 0, "'abc'": "abc", "None": None},
        "max_num_batches": {"0": 0, "2.5": 2.5},
        "rng": {"'abc'": "abc"},
        "data_dir": {"5": 5},
    }
    for name in ("AugmentedMNISTDataProvider", "MNISTAutoencoderDataProvider"):
        extra: dict[str, dict[str, Any]] = {"which_set": {"'bogus'": "bogus", "None": None}}
        if name == "AugmentedMNISTDataProvider":
            extra["transformer"] = {"'flip'": "flip", "5": 5}
        c.arguments(
            f"mlp.data_providers.{name}",
            name,
            getattr(D, name),
            {"which_set": "valid", "data_dir": mnist_dir},
            {**common, **extra},
        )
    c.add(
        "mlp.data_providers.AugmentedMNISTDataProvider",
        "AugmentedMNISTDataProvider(transformer returning the wrong shape)",
        lambda: next(
            D.AugmentedMNISTDataProvider(
                "valid", data_dir=mnist_dir, transformer=lambda x, rng: x[:, :3]
            )
        ),
        "transformer",
    )
    c.arguments(
        "mlp.data_providers.EMNISTDataProvider",
        "EMNISTDataProvider",
        D.EMNISTDataProvider,
        {"which_set": "valid", "batch_size": 5, "data_dir": folder},
        {**common, "which_set": {"'bogus'": "bogus", "5": 5}, "flatten": {"'yes'": "yes"}},
    )
    c.arguments(
        "mlp.data_providers.MetOfficeDataProvider",
        "MetOfficeDataProvider",
        D.MetOfficeDataProvider,
        {"window_size": 3, "data_dir": folder},
        {
            **common,
            "window_size": {"1": 1, "2.5": 2.5, "None": None, "'3'": "3", "10**6": 10**6},
            "all_days": {"'abc'": "abc"},
        },
    )
    c.arguments(
        "mlp.data_providers.CCPPDataProvider",
        "CCPPDataProvider",
        D.CCPPDataProvider,
        {"which_set": "valid", "data_dir": folder},
        {
            **common,
            "which_set": {"'test'": "test", "None": None},
            "input_dims": {"[4]": [4], "[0, 0]": [0, 0], "[]": [], "3": 3, "'ab'": "ab"},
        },
    )
    for name, provider in {
        "EMNISTDataProvider": lambda: D.EMNISTDataProvider("valid", 5, data_dir=folder),
        "MetOfficeDataProvider": lambda: D.MetOfficeDataProvider(3, data_dir=folder),
        "CCPPDataProvider": lambda: D.CCPPDataProvider("valid", [1], data_dir=folder),
    }.items():
        cov = f"mlp.data_providers.{name}"
        c.add(cov, f"{name}(...): next, state", lambda p=provider: _cycle(p()), (), "any")
        c.add(
            cov,
            f"{name}(...).load_state({{}})",
            lambda p=provider: p().load_state({}),
            "state",
        )
    c.arguments(
        "mlp.datasets.file_path",
        "file_path",
        DS.file_path,
        {"name": "ccpp", "filename": "ccpp_data.npz", "data_dir": folder, "fetch": False},
        {
            "name": {"'bogus'": "bogus", "None": None},
            "filename": {"'x.npz'": "x.npz", "None": None},
            "data_dir": {"5": 5, "missing dir": str(tmp / "nope")},
            "fetch": {"'abc'": "abc"},
        },
        extra_names=("ccpp_data.npz",),
    )
    c.add(
        "mlp.datasets.FILE_SETS",
        "FILE_SETS['ccpp'].filenames",
        lambda: _constant(DS.FILE_SETS["ccpp"].filenames, tuple),
        (),
        "any",
    )
    return c.cases


def _with_env(env: dict[str, str], function: Callable[[], Any]) -> Any:
    import os

    os.environ.update(env)  # the guard restores the environment
    return function()


def _exit_status(function: Callable[..., Any], argv: Any) -> Any:
    """A command's `main(argv)`: SystemExit(2) from argparse counts as its answer."""
    import contextlib
    import io

    with (
        contextlib.redirect_stderr(io.StringIO()) as err,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        try:
            status = function(argv)
        except SystemExit as exc:
            status = exc.code
    if status not in (0, 1, 2, None):
        raise AssertionError(f"exit status {status!r}")
    if status in (1, 2) and "Traceback" in err.getvalue():
        raise AssertionError("traceback printed")
    return status


def registry_cases(tmp: Path) -> list[Case]:
    from mlp import registry as G

    c = Cases("registry")
    kinds = {"'bogus'": "bogus", "None": None, "5": 5}
    for name in ("entries", "names"):
        c.arguments(f"mlp.registry.{name}", name, getattr(G, name), {}, {"kind": kinds})
    c.arguments(
        "mlp.registry.entry",
        "entry",
        G.entry,
        {"kind": "rule", "name": "adam"},
        {"kind": kinds, "name": kinds},
    )
    c.arguments(
        "mlp.registry.layer_entry",
        "layer_entry",
        G.layer_entry,
        {},
        {"name": kinds},
        extra_names=("layer",),
    )
    c.arguments(
        "mlp.registry.shared_hyperparameter",
        "shared_hyperparameter",
        G.shared_hyperparameter,
        {"kind": "rule", "name": "learning_rate"},
        {"kind": kinds, "name": kinds},
    )
    for name in ("entry_for_layer", "entry_for_module"):
        for text, value in {
            "None": None,
            "'abc'": "abc",
            "ReluLayer (class)": __import__("mlp.layers").layers.ReluLayer,
        }.items():
            c.add(
                f"mlp.registry.{name}",
                f"{name}({text})",
                lambda name=name, value=value: getattr(G, name)(value),
                (),
                "any",
            )
    adam = G.entry("rule", "adam")
    for text, value in {
        "None": None,
        "'abc'": "abc",
        "an existing entry": adam,
        "Entry (class)": G.Entry,
    }.items():
        c.add(
            "mlp.registry.register",
            f"register({text})",
            lambda value=value: G.register(value),
            ("entry", "adam", "registered", "new"),
        )
    c.arguments(
        "mlp.registry.Entry",
        "Entry",
        G.Entry,
        {"kind": "rule", "name": "fuzz-rule", "help": "h", "numpy": dict},
        {
            "kind": kinds,
            "name": {"None": None, "5": 5, "''": ""},
            "numpy": {"None": None, "5": 5},
            "hyperparameters": {"5": 5, "('x',)": ("x",)},
        },
    )
    c.add("mlp.registry.KINDS", "KINDS is a tuple", lambda: _constant(G.KINDS, tuple), (), "any")
    cov = ("mlp.registry.Entry", "mlp.registry.Hyperparameter")
    c.add(
        cov,
        "entry('rule','adam').build(learning_rate='abc')",
        lambda: adam.build(learning_rate="abc"),
        "learning_rate",
    )
    c.add(cov, "entry('rule','adam').build(bogus=1)", lambda: adam.build(bogus=1), "bogus")
    c.add(
        cov,
        "entry('rule','adam').arguments({'bogus': 1})",
        lambda: adam.arguments({"bogus": 1}),
        "bogus",
    )
    c.add(cov, "entry('rule','adam').arguments(None)", lambda: adam.arguments(None), "values")
    c.add(
        cov,
        "entry('rule','adam').hyperparameter(None); defaults()",
        lambda: (adam.hyperparameter(None), adam.defaults()),
        (),
        "any",
    )
    lr = adam.hyperparameter("learning_rate")
    for text, value in {**BAD_NUMBERS, "-1": -1.0}.items():
        c.add(
            cov,
            f"learning_rate.check({text})",
            lambda value=value: lr.check(value),
            "learning_rate",
        )
        c.add(
            cov,
            f"learning_rate.coerce({text})",
            lambda value=value: lr.coerce(value),
            "learning_rate",
            "any",
        )
        c.add(
            cov, f"learning_rate.problem({text})", lambda value=value: lr.problem(value), (), "any"
        )
    for text in ("abc", "", "nan", "1e999", "-1"):
        c.add(
            cov,
            f"learning_rate.parse({text!r})",
            lambda text=text: lr.parse(text),
            ("learning_rate", repr(text)),
        )
    c.add(cov, "learning_rate.parse(None)", lambda: lr.parse(None), "learning_rate")
    c.add(
        cov, "learning_rate.in_range('abc')", lambda: lr.in_range("abc"), ("learning_rate", "value")
    )
    c.add(
        cov,
        "learning_rate.normalise(None); describe(); default_text()",
        lambda: (lr.describe(), lr.default_text(), lr.normalise(None)),
        ("text", "learning_rate"),
        "any",
    )
    c.arguments(
        "mlp.registry.Hyperparameter",
        "Hyperparameter",
        G.Hyperparameter,
        {"name": "x", "type": float, "default": 1.0, "help": "h"},
        {
            "type": {"None": None, "'float'": "float"},
            "low": {"'abc'": "abc", "nan": math.nan},
            "default": {"'abc'": "abc"},
        },
        expect="any",
    )
    return c.cases


def config_cases(tmp: Path) -> list[Case]:
    from mlp import config as CF

    c = Cases("config")
    per_key = {
        "name": {"5": 5, "'..'": "..", "'a/b'": "a/b", "''": ""},
        "dataset": {"'bogus'": "bogus", "5": 5},
        "hidden": {
            "'a,b'": "a,b",
            "[-1]": [-1],
            "[0]": [0],
            "[2.5]": [2.5],
            "'abc'": "abc",
            "[HUGE]": [HUGE],
            "True": True,
        },
        "activation": {"'bogus'": "bogus", "None": None, "5": 5},
        "rule": {"'bogus'": "bogus", "['adam']": ["adam"]},
        # learning_rate None is documented: it takes the chosen rule's usual default.
        "learning_rate": {**{k: v for k, v in BAD_NUMBERS.items() if v is not None}, "-1": -1.0},
        "epsilon": {**NON_FINITE, "'abc'": "abc"},
        "dropout": {"1.0": 1.0, "-0.1": -0.1, "nan": math.nan, "'abc'": "abc"},
        "epochs": BAD_COUNTS,
        "batch_size": {**BAD_COUNTS, "HUGE": HUGE},
        "stats_interval": BAD_COUNTS,
        "seed": {"'abc'": "abc", "-1": -1, "2.5": 2.5, "2**70": 2**70},
        "max_train_examples": {"0": 0, "'abc'": "abc", "-1": -1},
        "test": {"'yes'": "yes", "5": 5},
        "backend": {"'bogus'": "bogus"},
        "dtype": {"'float16'": "float16", "5": 5},
    }
    for key, values in per_key.items():
        for text, value in values.items():
            # A huge width or batch is a valid description: the memory a run needs is
            # checked against $MLP_MAX_MEMORY_GB (which differs per machine) when it is
            # built (`check_memory`; the build_experiment(hidden=(HUGE,)) case), so a
            # record written on a large machine still reads on a small one.
            expect = "any" if text == "HUGE" or "HUGE" in text else "error"
            c.add(
                "mlp.config.config_from_dict",
                f"config_from_dict({{{key!r}: {text}}})",
                lambda key=key, value=value: CF.config_from_dict({key: value}),
                key,
                expect,
            )
            c.add(
                ("mlp.config.ExperimentConfig", "mlp.config.ConfigError"),
                f"ExperimentConfig({key}={text}).validate()",
                lambda key=key, value=value: CF.ExperimentConfig(**{key: value}).validate(),
                key,
                expect,
            )
    for text, value in {
        "None": None,
        "'abc'": "abc",
        "[('a', 1)]": [("a", 1)],
        "{'bogus': 1}": {"bogus": 1},
    }.items():
        c.add(
            "mlp.config.config_from_dict",
            f"config_from_dict({text})",
            lambda value=value: CF.config_from_dict(value),
            ("values", "bogus"),
        )
    cfg = CF.ExperimentConfig(hidden=(5,), epochs=1, max_train_examples=100)
    for name in ("build_experiment", "build_scheduler"):
        for text, value in {
            "None": None,
            "a dict": cfg.to_dict(),
            "ExperimentConfig (class)": CF.ExperimentConfig,
        }.items():
            c.add(
                f"mlp.config.{name}",
                f"{name}({text})",
                lambda name=name, value=value: getattr(CF, name)(value),
                "config",
            )
    c.add(
        "mlp.config.build_experiment",
        "build_experiment(hidden=(HUGE,))",
        lambda: CF.build_experiment(CF.ExperimentConfig(hidden=(HUGE,), max_train_examples=100)),
        ("hidden", "--hidden", "memory", "GB"),
    )
    c.add(
        ("mlp.config.build_experiment", "mlp.config.Experiment"),
        "build_experiment(tiny).test_data()",
        lambda: _test_data(CF.build_experiment(cfg)),
        (),
        "any",
    )
    c.arguments(
        "mlp.config.learning_rate_at",
        "learning_rate_at",
        CF.learning_rate_at,
        {"config": cfg, "epoch": 1},
        {"config": {"None": None}, "epoch": {"'abc'": "abc", "-1": -1, "None": None, "2.5": 2.5}},
    )
    bad_toml = tmp / "bad.toml"
    bad_toml.write_bytes(b"\xff\xfe hidden = [")
    c.arguments(
        "mlp.config.load_config",
        "load_config",
        CF.load_config,
        {"path": str(bad_toml)},
        {
            "path": {
                "None": None,
                "5": 5,
                "missing.toml": str(tmp / "missing.toml"),
                "a dir": str(tmp),
                "binary file": str(bad_toml),
            },
            "overrides": {"'abc'": "abc", "{'epochs': 'x'}": {"epochs": "x"}},
        },
        extra_names=("bad.toml", "missing.toml", str(tmp)),
    )
    c.arguments(
        "mlp.config.normalise_choice",
        "normalise_choice",
        CF.normalise_choice,
        {"key": "rule", "value": "adam"},
        {
            "key": {"'bogus'": "bogus", "None": None},
            "value": {"None": None, "5": 5},
        },
        extra_names=("rule",),
    )
    # An unknown choice is only normalised: the config's check refuses it, with a
    # suggestion (test_config asserts normalise_choice("rule", "adma") == "adma").
    c.add(
        "mlp.config.normalise_choice",
        "normalise_choice(value='bogus')",
        lambda: CF.normalise_choice("rule", "bogus"),
        ("value", "rule"),
        "any",
    )
    for text, value in {
        "'a,b'": "a,b",
        "-1": -1,
        "[0]": [0],
        "2.5": 2.5,
        "None": None,
        "{}": {},
        "'1e3'": "1e3",
        "True": True,
        "[HUGE]": [HUGE],
    }.items():
        c.add(
            "mlp.config.parse_hidden",
            f"parse_hidden({text})",
            lambda value=value: CF.parse_hidden(value),
            ("hidden", "width"),
            "error" if text != "[HUGE]" else "any",
        )
    for text, value in {
        "None": None,
        "{'a': object()}": {"a": object()},
        "{'a': None}": {"a": None},
        "{5: 1}": {5: 1},
        "{'a': {'b': [1, {}]}}": {"a": {"b": [1, {}]}},
    }.items():
        c.add(
            "mlp.config.to_toml",
            f"to_toml({text})",
            lambda value=value: CF.to_toml(value),
            ("values", "a", "5"),
            "any",
        )
    for name in (
        "ACTIVATIONS",
        "BACKENDS",
        "CHOSEN_KINDS",
        "DATASETS",
        "DEVICES",
        "DTYPES",
        "ERRORS",
        "INITIALISERS",
        "RULES",
        "SCHEDULES",
        "SETTINGS",
    ):
        c.add(
            f"mlp.config.{name}",
            f"{name} is a constant",
            lambda name=name: _constant(getattr(CF, name), tuple | dict),
            (),
            "any",
        )
    for name in ("EVAL_BATCH_SIZE", "MAX_MEMORY_GB"):
        c.add(
            f"mlp.config.{name}",
            f"{name} is a number",
            lambda name=name: _constant(getattr(CF, name), int | float),
            (),
            "any",
        )
    good = CF.ExperimentConfig()
    methods = {"entry": ("bogus",), "hyperparameters": ("bogus",)}
    for meth, args in methods.items():
        c.add(
            "mlp.config.ExperimentConfig",
            f"ExperimentConfig().{meth}{args}",
            lambda meth=meth, args=args: getattr(good, meth)(*args),
            "kind",
        )
    c.add(
        "mlp.config.ExperimentConfig",
        "ExperimentConfig(): resolved, to_dict, architecture, default_name",
        lambda: (good.resolved(), good.to_dict(), good.architecture(), good.default_name()),
        (),
        "any",
    )
    return c.cases


def _test_data(experiment: Any) -> Any:
    import os

    os.environ["MLP_DATA_DIR"] = str(DEFAULT_DATA_DIR)
    return experiment


# --------------------------------------------------------------------------- experiments


def runs_cases(tmp: Path) -> list[Case]:
    from mlp import config as CF
    from mlp import runs as RN

    c = Cases("runs")
    missing = tmp / "no-such-run"
    garbage = tmp / "garbage.csv"
    garbage.write_bytes(b"\x00\xff\xfe garbage")
    paths = {"None": None, "5": 5, "missing": str(missing), "a binary file": str(garbage)}
    c.arguments(
        "mlp.runs.find_runs",
        "find_runs",
        RN.find_runs,
        {},
        {"paths": {**paths, "'abc' (a str, not a list)": "abc", "[missing]": [str(missing)]}},
        extra_names=("no-such-run", "garbage.csv", "abc"),
    )
    c.arguments(
        "mlp.runs.is_finished",
        "is_finished",
        RN.is_finished,
        {},
        {"path": paths},
        expect="any",
        extra_names=("no-such-run", "garbage.csv"),
    )
    c.arguments(
        "mlp.runs.read_stats",
        "read_stats",
        RN.read_stats,
        {},
        {"path": paths},
        extra_names=("no-such-run", "garbage.csv"),
    )
    cfg = CF.ExperimentConfig(hidden=(5,), epochs=1, max_train_examples=100)
    c.arguments(
        "mlp.runs.config_differs",
        "config_differs",
        RN.config_differs,
        {"path": str(missing), "config": cfg},
        {"path": paths, "config": {"None": None, "{}": {}}},
        expect="any",
        extra_names=("no-such-run", "garbage.csv"),
    )
    keys = {"error(train)": 0, "acc(train)": 1}
    c.arguments(
        "mlp.runs.summarise_stats",
        "summarise_stats",
        RN.summarise_stats,
        {"epochs": np.arange(2), "stats": np.zeros((2, 2)), "keys": keys},
        {
            "epochs": {"None": None, "(5,)": np.arange(5)},
            "stats": {"None": None, "(0,2)": np.zeros((0, 2)), "(2,)": np.zeros(2), "'abc'": "abc"},
            "keys": {"None": None, "{'error(train)': 9}": {"error(train)": 9}, "{}": {}},
        },
        expect="any",
    )
    c.arguments(
        "mlp.runs.versions",
        "versions",
        RN.versions,
        {},
        {"backend": {"'bogus'": "bogus", "None": None}},
    )
    c.arguments(
        "mlp.runs.StatsLog",
        "StatsLog",
        RN.StatsLog,
        {"path": str(tmp / "s.csv"), "keys": keys},
        {"path": {"None": None}, "keys": {"None": None, "'abc'": "abc"}},
    )
    c.add(
        "mlp.runs.StatsLog",
        "StatsLog(...).append('a', None)",
        lambda: RN.StatsLog(tmp / "s2.csv", keys).append("a", None),
        ("epoch", "values"),
    )
    c.add(
        "mlp.runs.StatsLog",
        "StatsLog(...).append(1, [1.0]) (one value for two keys)",
        lambda: RN.StatsLog(tmp / "s3.csv", keys).append(1, [1.0]),
        ("values", "keys"),
    )
    c.add(
        "mlp.runs.StatsLog",
        "StatsLog(...).write_header(None)",
        lambda: RN.StatsLog(tmp / "s4.csv", keys).write_header(None),
        "rows",
    )
    wr = {
        "path": str(tmp / "rec"),
        "config": cfg.to_dict(),
        "stats": np.zeros((2, 2)),
        "keys": keys,
        "epochs": np.arange(2),
        "summary": {},
        "curves": False,
    }
    c.arguments(
        "mlp.runs.write_record",
        "write_record",
        RN.write_record,
        wr,
        {
            "path": {"None": None},
            "config": {"None": None, "'abc'": "abc"},
            "stats": {"None": None, "(2,)": np.zeros(2)},
            "keys": {"None": None},
            "summary": {"None": None, "'abc'": "abc"},
        },
    )
    c.arguments(
        "mlp.runs.finish_record",
        "finish_record",
        RN.finish_record,
        {"path": str(missing), "summary": {}, "curves": False},
        {"path": paths, "summary": {"None": None}, "params": {"'abc'": "abc"}},
        extra_names=("no-such-run", "garbage.csv"),
    )
    c.arguments(
        "mlp.runs.run_experiment",
        "run_experiment",
        RN.run_experiment,
        {"config": cfg, "runs_dir": str(tmp / "runs")},
        {
            "config": {
                "None": None,
                "a dict": cfg.to_dict(),
                "ExperimentConfig (class)": CF.ExperimentConfig,
            },
            "runs_dir": {"5": 5, "None": None, "a file": str(garbage)},
            "name": {"5": 5, "'..'": "..", "'a/b'": "a/b"},
            "if_exists": {"'bogus'": "bogus", "5": 5},
        },
        extra_names=("garbage.csv",),
    )
    c.add(
        "mlp.runs.RunRecord",
        "RunRecord.load(missing)",
        lambda: RN.RunRecord.load(missing),
        "no-such-run",
    )
    c.add("mlp.runs.RunRecord", "RunRecord.load(None)", lambda: RN.RunRecord.load(None), "path")
    record = RN.RunRecord(missing, {}, np.arange(1), np.zeros((1, 2)), keys)
    for meth in ("experiment_config", "figures", "params", "label"):
        c.add(
            "mlp.runs.RunRecord",
            f"RunRecord(config={{}}, ...).{meth}()",
            lambda meth=meth: getattr(record, meth)(),
            ("config", "no-such-run", "params.npz", "config.toml"),
            "any",
        )
    c.add("mlp.runs.RunError", "RunError('message')", lambda: RN.RunError("message"), (), "any")
    c.add(
        "mlp.runs.RunRecordError",
        "RunRecordError(None, None, None)",
        lambda: RN.RunRecordError(None, None, None),
        (),
        "any",
    )
    for name in ("atomic_write_bytes", "atomic_write_text"):
        function = getattr(RN, name)
        data = b"x" if name.endswith("bytes") else "x"
        c.arguments(
            f"mlp.runs.{name}",
            name,
            function,
            {"path": str(tmp / "w"), ("data" if name.endswith("bytes") else "text"): data},
            {
                "path": {"None": None, "in a missing dir": str(tmp / "missing" / "w")},
                ("data" if name.endswith("bytes") else "text"): {
                    "None": None,
                    "wrong kind": "x" if name.endswith("bytes") else b"x",
                    "5": 5,
                },
            },
            extra_names=("missing",),
        )
    for name in (
        "CHECKPOINT",
        "CHECKPOINT_FORMAT_VERSION",
        "CONFIG",
        "CURVES",
        "PARAMS",
        "RECORD_FORMAT_VERSION",
        "STATS",
        "SUMMARY",
    ):
        c.add(
            f"mlp.runs.{name}",
            f"{name} is a constant",
            lambda name=name: _constant(getattr(RN, name), str | int),
            (),
            "any",
        )
    return c.cases


def plotting_cases(tmp: Path) -> list[Case]:
    from mlp import plotting as PL

    c = Cases("plotting")
    keys = {"error(train)": 0, "acc(train)": 1}
    c.arguments(
        "mlp.plotting.plot_stats",
        "plot_stats",
        PL.plot_stats,
        {"stats": np.zeros((3, 2)), "keys": keys},
        {
            "stats": {"None": None, "(3,)": np.zeros(3), "(0,2)": np.zeros((0, 2)), "'abc'": "abc"},
            "keys": {"None": None, "{'bogus': 5}": {"bogus": 5}, "{}": {}},
            "stats_interval": {"0": 0, "'abc'": "abc", "-1": -1},
            "epochs": {"(5,)": np.arange(5), "'abc'": "abc"},
        },
        expect="any",
    )
    c.arguments(
        "mlp.plotting.plot_runs",
        "plot_runs",
        PL.plot_runs,
        # One real run: with none, every case would be refused for its empty runs alone.
        {"runs": [("r", np.arange(3), np.zeros((3, 2)), keys)]},
        {
            "runs": {"[]": [], "None": None, "[None]": [None], "'abc'": "abc"},
            "metrics": {"['bogus']": ["bogus"], "None": None},
            "labels": {"5": 5},
        },
    )
    c.arguments(
        "mlp.plotting.plot_metric_against",
        "plot_metric_against",
        PL.plot_metric_against,
        {"x": [1, 2], "series": {"a": [0.1, 0.2]}, "xlabel": "x", "ylabel": "y"},
        {
            "x": {"None": None, "[1]": [1], "5": 5},
            "series": {"{'a': [1]}": {"a": [1]}, "None": None, "{'a': 'ab'}": {"a": "ab"}},
            "log_x": {"'abc'": "abc"},
        },
        expect="any",
        extra_names=("series", "x"),
    )
    c.arguments(
        "mlp.plotting.save_figure",
        "save_figure",
        PL.save_figure,
        {"fig": None, "path": str(tmp / "f.png")},
        {
            "fig": {"None": None, "'abc'": "abc"},
            "path": {"None": None, "in a missing dir": str(tmp / "missing" / "f.png")},
            "dpi": {"0": 0, "'abc'": "abc"},
        },
        extra_names=("missing",),
    )
    c.arguments(
        "mlp.plotting.train_model_and_plot_stats",
        "train_model_and_plot_stats",
        PL.train_model_and_plot_stats,
        {
            "model": None,
            "error": None,
            "learning_rule": None,
            "train_data": None,
            "valid_data": None,
            "num_epochs": 1,
            "stats_interval": 1,
        },
        {
            "model": {"None": None},
            "num_epochs": {"'abc'": "abc", "-1": -1},
        },
    )
    return c.cases


def lab_cases(tmp: Path) -> list[Case]:
    from mlp import lab as LB

    c = Cases("lab")
    c.arguments(
        "mlp.lab.LabTask",
        "LabTask",
        LB.LabTask,
        {"name": "t", "group": "g", "label": "l"},
        {
            "kind": {"'bogus'": "bogus"},
            "epochs": {"-1": -1, "'abc'": "abc"},
            "config": {"'abc'": "abc"},
        },
        expect="any",
    )
    c.arguments(
        "mlp.lab.comparison_rows",
        "comparison_rows",
        LB.comparison_rows,
        {},
        {"records": {"None": None, "[None]": [None], "'abc'": "abc", "[]": []}},
        expect="any",
    )
    c.arguments(
        "mlp.lab.comparison_table",
        "comparison_table",
        LB.comparison_table,
        {"records": []},
        {
            "records": {"None": None, "[None]": [None]},
            "fmt": {"'bogus'": "bogus", "None": None},
            "sort": {"'bogus'": "bogus"},
        },
    )
    c.arguments(
        "mlp.lab.format_table",
        "format_table",
        LB.format_table,
        {"headers": ["a"], "rows": [[1]]},
        {
            "headers": {"None": None, "5": 5},
            "rows": {"None": None, "[[1, 2]] (two cells, one header)": [[1, 2]], "[5]": [5]},
            "fmt": {"'bogus'": "bogus"},
        },
    )
    c.arguments(
        "mlp.lab.lab_tasks",
        "lab_tasks",
        LB.lab_tasks,
        {},
        {"quick": {"'abc'": "abc", "None": None}},
        expect="any",
    )
    c.arguments(
        "mlp.lab.run_lab",
        "run_lab",
        LB.run_lab,
        {"out": str(tmp / "lab"), "quick": True},
        {
            "out": {"None": None, "5": 5},
            "jobs": {"0": 0, "'abc'": "abc", "-5": -5, "2.5": 2.5, "None": None},
        },
    )
    c.arguments(
        "mlp.lab.run_tasks",
        "run_tasks",
        LB.run_tasks,
        {"tasks": [], "runs_dir": tmp / "lab-runs", "jobs": 1},
        {
            "tasks": {"None": None, "[None]": [None]},
            "runs_dir": {"None": None},
            "jobs": {"0": 0, "'abc'": "abc"},
        },
    )
    c.arguments(
        "mlp.lab.write_report",
        "write_report",
        LB.write_report,
        {"out": str(tmp / "rep"), "tasks": [], "wall_time": 1.0},
        {
            "out": {"None": None},
            "tasks": {"None": None, "[None]": [None]},
            "wall_time": {"'abc'": "abc", "nan": math.nan},
            "results": {"'abc'": "abc"},
        },
    )
    c.add("mlp.lab.LAB_SEED", "LAB_SEED is an int", lambda: _constant(LB.LAB_SEED, int), (), "any")
    return c.cases


def sweep_cases(tmp: Path) -> list[Case]:
    from mlp import sweep as SW

    c = Cases("sweep")
    files = {
        "binary": b"\xff\xfe\x00",
        "empty": b"",
        "no grid": b"[base]\nepochs = 1\n",
        "name '..'": b'name = ".."\n[base]\nepochs = 1\n[grid]\nlearning_rate = [0.1]\n',
        "num_samples = true": b'mode = "random"\nnum_samples = true\n[random]\nlearning_rate = { log_uniform = [1e-4, 1e-1] }\n',
        "runs_dir list": b'runs_dir = ["a", "b"]\n[grid]\nlearning_rate = [0.1]\n',
        "grid not a list": b"[grid]\nlearning_rate = 0.1\n",
        "bad key": b"[grid]\nbogus = [1]\n",
        "bad value": b"[grid]\nlearning_rate = ['abc']\n",
        "empty grid list": b"[grid]\nlearning_rate = []\n",
        "log_uniform reversed": b'mode = "random"\nnum_samples = 2\n[random]\nlearning_rate = { log_uniform = [1e-1, -1] }\n',
        "huge grid": b"[grid]\nseed = [1,2,3,4,5,6,7,8,9,10]\nlearning_rate = [1,2,3,4,5,6,7,8,9,10]\nbatch_size = [1,2,3,4,5,6,7,8,9,10]\nepochs = [1,2,3,4,5,6,7,8,9,10]\nhidden = [[1],[2],[3],[4],[5],[6],[7],[8],[9],[10]]\n",
    }
    for text, content in files.items():
        path = tmp / f"sweep-{abs(hash(text)) % 10**6}.toml"
        path.write_bytes(content)
        expect = "any" if text == "huge grid" else "error"
        c.add(
            ("mlp.sweep.load_sweep", "mlp.sweep.SweepError"),
            f"load_sweep(<{text}>)",
            lambda path=path: SW.load_sweep(path),
            (path.name, "name", "num_samples", "runs_dir", "grid", "bogus", "learning_rate"),
            expect,
        )
    c.arguments(
        "mlp.sweep.load_sweep",
        "load_sweep",
        SW.load_sweep,
        {},
        {"path": {"None": None, "missing": str(tmp / "missing.toml"), "a dir": str(tmp)}},
        extra_names=("missing.toml", str(tmp)),
    )
    good = tmp / "good.toml"
    # A sweep file must name the sweep (its folder under the runs directory).
    good.write_bytes(
        b'name = "fuzz"\n'
        b"[base]\nepochs = 1\nhidden = [5]\nmax_train_examples = 100\n[grid]\nlearning_rate = [0.1, 0.2]\n"
    )

    def sweep() -> Any:
        return SW.load_sweep(good)

    c.add(
        "mlp.sweep.Sweep",
        "Sweep(name=None, base=None, points=None, swept=None)",
        lambda: SW.Sweep(None, None, None, None),
        ("name", "base", "points"),
        "any",
    )
    c.add("mlp.sweep.Sweep", "sweep.point_name(None)", lambda: sweep().point_name(None), "point")
    c.add(
        "mlp.sweep.Sweep",
        "sweep.point_folder(tmp, None)",
        lambda: sweep().point_folder(tmp, None),
        "config",
    )
    c.arguments(
        "mlp.sweep.run_sweep",
        "run_sweep",
        lambda **k: SW.run_sweep(
            **{"sweep": sweep(), "runs_dir": str(tmp / "sw"), "progress": False, **k}
        ),
        {},
        {
            "sweep": {"None": None, "a path": str(good)},
            "jobs": {"0": 0, "'abc'": "abc", "-5": -5, "2.5": 2.5},
            "scheduler": {"5": 5},
            "runs_dir": {"5": 5},
        },
    )
    c.arguments(
        "mlp.sweep.summarise_sweep",
        "summarise_sweep",
        SW.summarise_sweep,
        # A real sweep as the base, so that each case has one bad argument only.
        {"sweep": sweep(), "folder": str(tmp / "none")},
        {"sweep": {"None": None}, "folder": {"None": None, "missing": str(tmp / "nope")}},
        extra_names=("nope",),
    )
    return c.cases


def parallel_cases(tmp: Path) -> list[Case]:
    from mlp import parallel as PA

    c = Cases("parallel")
    counts = {"0": 0, "-5": -5, "'abc'": "abc", "None": None, "2.5": 2.5, "nan": math.nan}
    c.arguments(
        "mlp.parallel.blas_thread_environment",
        "blas_thread_environment",
        lambda **k: _in_context(PA.blas_thread_environment(**k), lambda: None),
        {},
        {"threads": counts},
    )
    c.arguments(
        "mlp.parallel.blas_threads",
        "blas_threads",
        PA.blas_threads,
        {"workers": 1},
        # cores=None is the documented default (all of this machine's cores).
        {"workers": counts, "cores": {k: v for k, v in counts.items() if k != "None"}},
    )
    c.arguments(
        "mlp.parallel.limit_blas_threads",
        "limit_blas_threads",
        PA.limit_blas_threads,
        {},
        {"threads": counts},
    )
    c.arguments(
        "mlp.parallel.worker_count",
        "worker_count",
        PA.worker_count,
        {},
        {"jobs": {k: v for k, v in counts.items() if k != "-5"}},
    )
    run_jobs = PA.run_jobs  # the real one: the guard replaces the module's name only
    c.arguments(
        "mlp.parallel.run_jobs",
        "run_jobs",
        run_jobs,
        {"function": abs, "items": [1, -2]},
        {
            "function": {"None": None, "5": 5},
            "items": {"None": None, "5": 5},
            "jobs": {"0": 0, "'abc'": "abc", "2.5": 2.5},
            "scheduler": {"5": 5},
            "on_result": {"5": 5},
        },
    )
    c.add(
        "mlp.parallel.BLAS_THREAD_VARIABLES",
        "BLAS_THREAD_VARIABLES is a tuple",
        lambda: _constant(PA.BLAS_THREAD_VARIABLES, tuple),
        (),
        "any",
    )
    return c.cases


def _torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def pytorch_cases(tmp: Path) -> list[Case]:
    c = Cases("pytorch")
    if not _torch_available():
        return c.cases
    import torch

    from mlp import pytorch as PT
    from mlp.layers import AffineLayer, ReluLayer
    from mlp.models import MultipleLayerModel

    module = PT.seed_model(4, 3, 2)
    c.arguments(
        "mlp.pytorch.to_torch",
        "to_torch",
        PT.to_torch,
        {},
        {
            "model": {
                "None": None,
                "AffineLayer (class)": AffineLayer,
                "'abc'": "abc",
                "[layer]": [AffineLayer(4, 3)],
            }
        },
    )
    c.arguments(
        "mlp.pytorch.from_torch",
        "from_torch",
        PT.from_torch,
        {},
        {
            "module": {
                "None": None,
                "'abc'": "abc",
                "Conv2d": torch.nn.Conv2d(1, 1, 3),
                "nn.Linear (class)": torch.nn.Linear,
            }
        },
    )
    c.add(
        "mlp.pytorch.to_torch",
        "to_torch(model) round trip",
        lambda: PT.from_torch(PT.to_torch(MultipleLayerModel([AffineLayer(4, 3), ReluLayer()]))),
        (),
        "any",
    )
    c.arguments(
        "mlp.pytorch.make_adam",
        "make_adam",
        PT.make_adam,
        {"module": module},
        {
            "module": {"None": None, "'abc'": "abc"},
            "learning_rate": {**BAD_NUMBERS, "-1": -1.0},
            "device": {"'bogus'": "bogus", "5": 5},
        },
    )
    c.arguments(
        "mlp.pytorch.resolve_device",
        "resolve_device",
        PT.resolve_device,
        {},
        {"device": {"'bogus'": "bogus", "5": 5, "'cuda:99'": "cuda:99"}},
        expect="any",
    )
    c.arguments(
        "mlp.pytorch.seed_model",
        "seed_model",
        PT.seed_model,
        {"input_dim": 4, "hidden_dim": 3, "output_dim": 2},
        {
            "input_dim": BAD_COUNTS,
            "hidden_dim": {**BAD_COUNTS, "HUGE": HUGE},
            "output_dim": BAD_COUNTS,
        },
    )
    c.arguments(
        "mlp.pytorch.numpy_monitor",
        "numpy_monitor",
        PT.numpy_monitor,
        {},
        {"fn": {"None": None, "5": 5}},
    )
    c.arguments(
        "mlp.pytorch.accuracy",
        "accuracy",
        PT.accuracy,
        {"outputs": torch.zeros(5, 4), "targets": torch.zeros(5, dtype=torch.long)},
        {
            "outputs": {"None": None, "(5,)": torch.zeros(5), "ndarray": np.zeros((5, 4))},
            "targets": {"None": None, "(3,)": torch.zeros(3, dtype=torch.long)},
        },
    )
    c.arguments(
        "mlp.pytorch.evaluate_accuracy",
        "evaluate_accuracy",
        PT.evaluate_accuracy,
        {"module": module, "data": None},
        {"module": {"None": None}, "data": {"None": None, "'abc'": "abc"}, "batch_size": {"0": 0}},
    )
    loss = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(module.parameters(), lr=0.1)
    tbase = {"module": module, "loss": loss, "optimizer": opt, "train_data": None}
    tbad = {
        "module": {"None": None, "'abc'": "abc"},
        "loss": {"None": None, "CrossEntropyLoss (class)": torch.nn.CrossEntropyLoss},
        "optimizer": {"None": None, "torch.optim.SGD (class)": torch.optim.SGD},
        "train_data": {"None": None, "'abc'": "abc"},
        "device": {"'bogus'": "bogus"},
    }
    c.arguments("mlp.pytorch.TorchTrainer", "TorchTrainer", PT.TorchTrainer, tbase, tbad)
    # num_epochs=0 is documented (TrainingLoop.train): the statistics row before training.
    epochs = {k: v for k, v in BAD_COUNTS.items() if k != "0"}
    c.arguments("mlp.pytorch.train", "train", PT.train, tbase, {**tbad, "num_epochs": epochs})
    c.arguments(
        "mlp.pytorch.OptimizerLearningRate",
        "OptimizerLearningRate",
        PT.OptimizerLearningRate,
        {},
        {"optimizer": {"None": None, "'abc'": "abc"}},
    )
    for name in ("mnist_providers", "mnist_loaders"):
        c.arguments(
            f"mlp.pytorch.{name}",
            name,
            getattr(PT, name),
            {"data_dir": str(DEFAULT_DATA_DIR)},
            {"batch_size": {"0": 0}, "valid_fraction": {"2.0": 2.0}, "data_dir": {"5": 5}},
        )
    c.arguments(
        "mlp.pytorch.run_seed_experiment",
        "run_seed_experiment",
        PT.run_seed_experiment,
        {"data_dir": str(DEFAULT_DATA_DIR), "device": "cpu"},
        {
            "num_epochs": {"'abc'": "abc", "-1": -1},
            "device": {"'bogus'": "bogus"},
            "train_subset_size": {"0": 0},
        },
    )
    er = {
        "stats": np.zeros((2, 2)),
        "keys": {},
        "run_time": 1.0,
        "seconds_per_epoch": 1.0,
        "test_accuracy": 0.5,
        "device": "cpu",
        "backend": "torch",
    }
    if True:
        c.add(
            "mlp.pytorch.ExperimentResult",
            "ExperimentResult(keys={}).summary()",
            lambda: PT.ExperimentResult(**er).summary(),
            ("keys",),
            "any",
        )
        c.add(
            "mlp.pytorch.ExperimentResult",
            "ExperimentResult(test_accuracy='abc').summary()",
            lambda: PT.ExperimentResult(**{**er, "test_accuracy": "abc"}).summary(),
            ("test_accuracy",),
            "any",
        )
    c.add(
        "mlp.pytorch.TorchMonitor",
        "TorchMonitor is a type alias",
        lambda: _constant(PT.TorchMonitor),
        (),
        "any",
    )
    return c.cases


def torch_diagnostics_cases(tmp: Path) -> list[Case]:
    """mlp.pytorch's per-layer statistics (measure_torch_layers, TorchLayerStats)."""
    c = Cases("torch_diagnostics")
    if not _torch_available():
        return c.cases
    import torch

    from mlp import pytorch as PT

    module = PT.seed_model(4, 3, 2)
    inputs, targets = torch.zeros(5, 4), torch.eye(2)[torch.zeros(5, dtype=torch.long)]
    loss = torch.nn.CrossEntropyLoss()
    base = {"module": module, "loss": loss, "inputs": inputs, "targets": targets}
    c.arguments(
        "mlp.pytorch.measure_torch_layers",
        "measure_torch_layers",
        PT.measure_torch_layers,
        base,
        {
            "module": {"None": None, "'abc'": "abc", "nn.Linear (class)": torch.nn.Linear},
            "loss": {"None": None, "CrossEntropyLoss (class)": torch.nn.CrossEntropyLoss},
            "inputs": {"None": None, "ndarray": np.zeros((5, 4)), "(4,)": torch.zeros(4)},
            "targets": {"None": None, "(3,)": torch.zeros(3, dtype=torch.long)},
            "names": {"'abc'": "abc", "['AffineLayer']": ["AffineLayer"], "[5, 5, 5]": [5] * 3},
            "epoch": {"-1": -1, "'abc'": "abc", "1.5": 1.5},
            "previous_params": {"5": 5, "[tensor (4,)]": [torch.zeros(4)]},
        },
    )
    c.add(
        "mlp.pytorch.measure_torch_layers",
        "measure_torch_layers(seed_model) on a batch",
        lambda: PT.measure_torch_layers(**base),
        (),
        "any",
    )
    c.arguments(
        "mlp.pytorch.TorchLayerStats",
        "TorchLayerStats",
        PT.TorchLayerStats,
        {},
        {
            "batch_size": {**BAD_COUNTS},
            "interval": {"0": 0, "'abc'": "abc"},
            "sample_size": {"0": 0, "2.5": 2.5},
            "on_measurement": {"5": 5, "type (class)": type},
            "batch": {"5": 5, "(x,)": (inputs,)},
            "names": {"'abc'": "abc", "5": 5},
        },
    )
    return c.cases


def twin_cases(tmp: Path) -> list[Case]:
    from mlp import seed_experiment as SE
    from mlp import twin as TW

    c = Cases("twin")
    for mod, M in (("twin", TW), ("seed_experiment", SE)):
        pre = f"mlp.{mod}"
        for name in (
            "MNIST_MEAN",
            "MNIST_STD",
            "NUM_TRAINING_IMAGES",
            *(["BATCH_SIZE", "LEARNING_RATE"] if mod == "seed_experiment" else []),
        ):
            c.add(
                f"{pre}.{name}",
                f"{mod}.{name} is a number",
                lambda M=M, name=name: _constant(getattr(M, name), int | float),
                (),
                "any",
            )
        c.arrays(
            f"{pre}.normalise", f"{mod}.normalise", M.normalise, {"inputs": _x(5, 4)}, check=None
        )
        c.arguments(
            f"{pre}.seed_split",
            f"{mod}.seed_split",
            M.seed_split,
            {},
            {
                "valid_fraction": {**BAD_NUMBERS, "2.0": 2.0, "0": 0.0, "1": 1.0},
                "num_examples": BAD_COUNTS,
                "seed": {"'abc'": "abc", "-1": -1},
            },
        )
        c.arguments(
            f"{pre}.seed_arrays",
            f"{mod}.seed_arrays",
            M.seed_arrays,
            {"data_dir": str(DEFAULT_DATA_DIR)},
            {"valid_fraction": {"2.0": 2.0}, "train_subset_size": {"0": 0}, "data_dir": {"5": 5}},
        )
        for name in ("mnist_providers", "mnist_loaders"):
            c.arguments(
                f"{pre}.{name}",
                f"{mod}.{name}",
                getattr(M, name),
                {"data_dir": str(DEFAULT_DATA_DIR)},
                {"batch_size": {"0": 0}},
            )
        er = {
            "stats": np.zeros((2, 2)),
            "keys": {},
            "run_time": 1.0,
            "seconds_per_epoch": 1.0,
            "test_accuracy": 0.5,
            "device": "cpu",
            "backend": "numpy",
        }
        c.add(
            f"{pre}.ExperimentResult",
            f"{mod}.ExperimentResult(keys={{}}).summary()",
            lambda M=M, er=er: M.ExperimentResult(**er).summary(),
            ("keys",),
            "any",
        )
    c.arguments(
        "mlp.seed_experiment.resolve_subset_size",
        "resolve_subset_size",
        SE.resolve_subset_size,
        {"train_subset_size": None, "max_train_examples": None, "caller": "f"},
        {
            "train_subset_size": {"0": 0, "-1": -1, "'abc'": "abc", "2.5": 2.5},
            "max_train_examples": {"0": 0, "'abc'": "abc"},
        },
    )
    c.add(
        "mlp.seed_experiment.resolve_subset_size",
        "resolve_subset_size(5, 6, 'f') (both given)",
        lambda: SE.resolve_subset_size(5, 6, "f"),
        ("train_subset_size", "max_train_examples"),
    )
    c.arguments(
        "mlp.twin.exact_accuracy",
        "exact_accuracy",
        TW.exact_accuracy,
        {"predict": lambda x: x, "inputs": _x(5, 4), "labels": np.arange(5) % 4},
        {
            "predict": {"None": None, "5": 5},
            "inputs": {"None": None, "(3,4)": _x(3, 4)},
            "labels": {"None": None, "(3,)": np.arange(3)},
            "batch_size": BAD_COUNTS,
        },
    )
    c.arguments(
        "mlp.seed_experiment.check_network_dims",
        "check_network_dims",
        SE.check_network_dims,
        {"input_dim": 4, "hidden_dim": 3, "output_dim": 2, "where": "f"},
        {"input_dim": BAD_COUNTS, "hidden_dim": {**BAD_COUNTS, "HUGE": HUGE}},
    )
    c.arguments(
        "mlp.twin.numpy_seed_model",
        "numpy_seed_model",
        TW.numpy_seed_model,
        {"input_dim": 4, "hidden_dim": 3, "output_dim": 2},
        {
            "input_dim": BAD_COUNTS,
            "hidden_dim": {**BAD_COUNTS, "HUGE": HUGE},
            "output_dim": BAD_COUNTS,
        },
    )
    c.arguments(
        "mlp.twin.run_numpy_twin",
        "run_numpy_twin",
        TW.run_numpy_twin,
        {"data_dir": str(DEFAULT_DATA_DIR)},
        {"num_epochs": {"'abc'": "abc", "-1": -1}, "train_subset_size": {"0": 0}},
    )
    return c.cases


def atomic_cases(tmp: Path) -> list[Case]:
    from mlp import atomic as AT
    from mlp import compat

    c = Cases("atomic")
    target = str(tmp / "out.bin")
    missing = str(tmp / "missing" / "out.bin")
    c.arguments(
        "mlp.atomic.atomic_write",
        "atomic_write",
        AT.atomic_write,
        {"path": target, "write": lambda f: f.write(b"x")},
        {
            "path": {"None": None, "in a missing dir": missing, "a dir": str(tmp)},
            "write": {"None": None, "5": 5, "writes a str": lambda f: f.write("x")},
            "suffix": {"5": 5, "'/x'": "/x"},
        },
        extra_names=("missing", "out.bin", str(tmp)),
    )
    c.arguments(
        "mlp.atomic.append_synced",
        "append_synced",
        AT.append_synced,
        {"path": str(tmp / "log.csv"), "data": b"x\n"},
        {
            "path": {"None": None, "in a missing dir": missing, "a dir": str(tmp)},
            "data": {"None": None, "'x' (a str)": "x", "5": 5},
        },
        extra_names=("missing", str(tmp)),
    )
    c.arguments(
        "mlp.atomic.atomic_write_bytes",
        "atomic_write_bytes",
        AT.atomic_write_bytes,
        {"path": target, "data": b"x"},
        {
            "path": {"None": None, "in a missing dir": missing},
            "data": {"None": None, "'x' (a str)": "x", "5": 5},
        },
        extra_names=("missing",),
    )
    c.arguments(
        "mlp.atomic.atomic_write_text",
        "atomic_write_text",
        AT.atomic_write_text,
        {"path": target, "text": "x"},
        {
            "path": {"None": None, "in a missing dir": missing},
            "text": {"None": None, "b'x' (bytes)": b"x", "5": 5},
        },
        extra_names=("missing",),
    )
    c.arguments(
        "mlp.atomic.fsync_dir",
        "fsync_dir",
        AT.fsync_dir,
        {},
        {"directory": {"None": None, "missing": str(tmp / "missing"), "5": 5}},
        extra_names=("missing",),
    )
    c.add(
        "mlp.compat.tomllib",
        "compat.tomllib.loads(b'x')",
        lambda: compat.tomllib.loads(b"x"),
        ("s", "str"),
        "any",
    )
    c.add(
        "mlp.compat.tomllib",
        "compat.tomllib.loads('a = ')",
        lambda: compat.tomllib.loads("a = "),
        # tomllib names the place as "line N" or, when the text ends early, "end of
        # document": both tell the reader where the TOML is broken.
        ("line", "end of document"),
        "error",
    )
    return c.cases


# ------------------------------------------- issue 14, part 3: batch normalisation, SGDR


def batch_norm_cases(tmp: Path) -> list[Case]:
    from mlp import layers as L
    from mlp import normalisation as N

    c = Cases("batch_norm")
    cov = ("mlp.layers.BatchNormalizationLayer", "mlp.normalisation.BatchNormalizationLayer")
    c.arguments(
        cov,  # type: ignore[arg-type]
        "BatchNormalizationLayer",
        N.BatchNormalizationLayer,
        {"input_dim": 4},
        {
            "input_dim": BAD_COUNTS,
            "epsilon": {**BAD_NUMBERS, "0": 0.0, "-1": -1.0},
            "momentum": {**BAD_NUMBERS, "-0.5": -0.5, "1.5": 1.5},
            "gamma_initialiser": {"0.1": 0.1, "'abc'": "abc"},
            "beta_initialiser": {"[0.0]": [0.0]},
            "dtype": {"'abc'": "abc", "5": 5},
        },
    )
    c.arrays(
        cov[0],
        "BatchNormalizationLayer(4).fprop",
        lambda inputs: L.BatchNormalizationLayer(4).fprop(inputs),
        {"inputs": _x(5, 4)},
    )
    c.arrays(
        cov[0],
        "BatchNormalizationLayer(4).fprop(stochastic=False)",
        lambda inputs: L.BatchNormalizationLayer(4).fprop(inputs, stochastic=False),
        {"inputs": _x(5, 4)},
    )
    c.arrays(
        cov[0],
        "BatchNormalizationLayer(4).bprop",
        lambda inputs, outputs, grads_wrt_outputs: L.BatchNormalizationLayer(4).bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "outputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    c.arrays(
        cov[0],
        "BatchNormalizationLayer(4).grads_wrt_params",
        lambda inputs, grads_wrt_outputs: L.BatchNormalizationLayer(4).grads_wrt_params(
            inputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    for text, value in {"None": None, "'abc'": "abc", "1": 1}.items():
        c.add(
            cov[0],
            f"BatchNormalizationLayer(4).fprop(x, stochastic={text})",
            lambda value=value: L.BatchNormalizationLayer(4).fprop(_x(5, 4), stochastic=value),
            "stochastic",
        )
    good = {"running_mean": np.zeros(4), "running_var": np.ones(4)}
    for text, state in {
        "None": None,
        "[]": [],
        "{}": {},
        "running_mean only": {"running_mean": np.zeros(4)},
        "running_var=None": {**good, "running_var": None},
        "running_var 'abc'": {**good, "running_var": "abc"},
        "running_var (3,)": {**good, "running_var": np.ones(3)},
        "running_var -1": {**good, "running_var": -np.ones(4)},
        "running_mean nan": {**good, "running_mean": np.full(4, np.nan)},
        "an extra key": {**good, "x": np.ones(4)},
    }.items():
        c.add(
            cov[0],
            f"BatchNormalizationLayer(4).load_state({text})",
            lambda state=state: L.BatchNormalizationLayer(4).load_state(state),
            ("state", "running", "dict"),
        )
    c.add(
        cov[0],
        "BatchNormalizationLayer(4).params = [None, None]",
        lambda: setattr(L.BatchNormalizationLayer(4), "params", [None, None]),
        ("params", "gamma"),
    )
    c.add(
        cov[0],
        "BatchNormalizationLayer(4).params = [(3,), (4,)]",
        lambda: setattr(L.BatchNormalizationLayer(4), "params", [np.ones(3), np.zeros(4)]),
        ("params", "gamma", "shape"),
    )
    return c.cases


def warm_restarts_cases(tmp: Path) -> list[Case]:
    from mlp import schedulers as S
    from mlp.learning_rules import GradientDescentLearningRule

    c = Cases("warm_restarts")
    cov = "mlp.schedulers.CosineAnnealingWithWarmRestarts"
    cls = S.CosineAnnealingWithWarmRestarts
    base = {
        "min_learning_rate": 0.0,
        "max_learning_rate": 0.1,
        "total_iters_per_period": 3,
        "max_learning_rate_discount_factor": 0.5,
        "period_iteration_expansion_factor": 2.0,
    }
    c.arguments(
        cov,
        "CosineAnnealingWithWarmRestarts",
        cls,
        base,
        {
            "min_learning_rate": {**BAD_NUMBERS, "-1": -1.0, "0.5 (> max)": 0.5},
            "max_learning_rate": {**BAD_NUMBERS, "-1": -1.0},
            "total_iters_per_period": {**BAD_NUMBERS, "0": 0, "-3": -3},
            "max_learning_rate_discount_factor": {**BAD_NUMBERS, "-0.5": -0.5},
            "period_iteration_expansion_factor": {**BAD_NUMBERS, "0.5": 0.5, "0": 0.0},
        },
        extra_names=("learning_rate",),
    )
    for text, epoch in {"None": None, "'abc'": "abc", "-1": -1, "2.5": 2.5}.items():
        for method in ("learning_rate", "period"):
            c.add(
                cov,
                f"CosineAnnealingWithWarmRestarts(...).{method}({text})",
                lambda epoch=epoch, method=method: getattr(cls(**base), method)(epoch),
                ("epoch_number", "epoch"),
            )
    for text, rule in {"None": None, "'abc'": "abc", "class": GradientDescentLearningRule}.items():
        c.add(
            cov,
            f"CosineAnnealingWithWarmRestarts(...).update_learning_rule({text}, 0)",
            lambda rule=rule: cls(**base).update_learning_rule(rule, 0),
            "learning_rule",
        )
    c.add(
        cov,
        "CosineAnnealingWithWarmRestarts(...).learning_rate(10**6)",
        lambda: cls(**base).learning_rate(10**6),
        (),
        "any",
        finite_result,
    )
    return c.cases


def training_options_cases(tmp: Path) -> list[Case]:
    from mlp import training_loop as T
    from mlp.data_providers import OneOfKDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.layers import AffineLayer, BatchNormalizationLayer
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.models import MultipleLayerModel
    from mlp.optimisers import Optimiser

    c = Cases("training_options")

    def build(**kwargs: Any) -> Any:
        rng = np.random.RandomState(0)
        data = OneOfKDataProvider(rng.randn(20, 4), rng.randint(0, 3, 20), 5, rng=rng)
        model = MultipleLayerModel([BatchNormalizationLayer(4), AffineLayer(4, 3)])
        rule = GradientDescentLearningRule(0.1)
        return Optimiser(model, CrossEntropySoftmaxError(), rule, data, **kwargs)

    cov = "mlp.optimisers.Optimiser"
    c.arguments(
        cov,
        "Optimiser",
        build,
        {},
        {"use_stochastic_eval": {"'yes'": "yes", "None": None, "2": 2, "[True]": [True]}},
    )
    for flag in (False, True):
        c.add(
            cov,
            f"Optimiser(use_stochastic_eval={flag}).get_epoch_stats()",
            lambda flag=flag: build(use_stochastic_eval=flag).get_epoch_stats(),
            (),
            "any",
        )
    c.add(
        cov,
        "Optimiser(...).train(2, stats_interval=-1)",
        lambda: build().train(2, stats_interval=-1)[0].shape,
        (),
        "any",
    )
    c.cases[-1].work_ok = True  # valid input: a control case, which trains
    values = {**{k: v for k, v in BAD_COUNTS.items() if k != "-1"}, "-2": -2, "'-1'": "-1"}
    for text, value in values.items():
        c.add(
            "mlp.training_loop.check_stats_interval",
            f"check_stats_interval({text})",
            lambda value=value: T.check_stats_interval(value),
            "stats_interval",
        )
    for text, value in {"-1": -1, "1": 1, "np.int64(3)": np.int64(3)}.items():
        c.add(
            "mlp.training_loop.check_stats_interval",
            f"check_stats_interval({text})",
            lambda value=value: T.check_stats_interval(value),
            (),
            "any",
        )
    return c.cases


def convolution_cases(tmp: Path) -> list[Case]:
    """ConvolutionalLayer, MaxPooling2DLayer (mlp.convolution, re-exported by mlp.layers)
    and ReshapeLayer."""
    from mlp import layers as L

    c = Cases("convolution")
    conv = ("mlp.layers.ConvolutionalLayer", "mlp.convolution.ConvolutionalLayer")
    pool = ("mlp.layers.MaxPooling2DLayer", "mlp.convolution.MaxPooling2DLayer")
    sizes = {
        "num_input_channels": 2,
        "num_output_channels": 3,
        "input_height": 5,
        "input_width": 4,
        "kernel_height": 2,
        "kernel_width": 3,
    }
    bad_sizes = {name: BAD_COUNTS for name in sizes}
    bad_sizes["kernel_height"] = {**BAD_COUNTS, "6 (> input_height)": 6}
    bad_options = {
        "kernels_init": {"0.1": 0.1, "'abc'": "abc"},
        "biases_init": {"[0.0]": [0.0]},
        "kernels_penalty": {"1e-4": 1e-4},
        "biases_penalty": {"'l2'": "l2"},
        "dtype": {"'abc'": "abc", "5": 5},
    }
    for covers in conv:
        c.arguments(covers, "ConvolutionalLayer", L.ConvolutionalLayer, sizes, bad_sizes)
        c.arguments(covers, "ConvolutionalLayer", L.ConvolutionalLayer, sizes, bad_options)

    def layer() -> Any:
        return L.ConvolutionalLayer(**sizes)

    images, grads = _x(3, 2, 5, 4), _x(3, 3, 4, 2)
    c.arrays(
        conv[0],
        "ConvolutionalLayer.fprop",
        lambda inputs: layer().fprop(inputs),
        {"inputs": images},
        broadcasting=False,
    )
    c.arrays(
        conv[0],
        "ConvolutionalLayer.bprop",
        lambda inputs, outputs, grads_wrt_outputs: layer().bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": images, "outputs": grads, "grads_wrt_outputs": grads},
        broadcasting=False,
    )
    c.arrays(
        conv[0],
        "ConvolutionalLayer.grads_wrt_params",
        lambda inputs, grads_wrt_outputs: layer().grads_wrt_params(inputs, grads_wrt_outputs),
        {"inputs": images, "grads_wrt_outputs": grads},
        broadcasting=False,
    )
    c.add(
        conv[0],
        "ConvolutionalLayer.params = [(3,2,3,3), (3,)]",
        lambda: setattr(layer(), "params", [np.zeros((3, 2, 3, 3)), np.zeros(3)]),
        ("params", "kernels"),
    )
    c.add(conv[0], "ConvolutionalLayer.params = 5", lambda: setattr(layer(), "params", 5), "params")
    for covers in pool:
        c.arguments(covers, "MaxPooling2DLayer", L.MaxPooling2DLayer, {}, {"pool_size": BAD_COUNTS})
    c.arrays(
        pool[0],
        "MaxPooling2DLayer().fprop",
        lambda inputs: L.MaxPooling2DLayer().fprop(inputs),
        {"inputs": _x(3, 2, 4, 6)},
        broadcasting=False,
    )
    c.add(
        pool[0],
        "MaxPooling2DLayer().fprop((1,1,5,4))",
        lambda: L.MaxPooling2DLayer().fprop(_x(1, 1, 5, 4)),
        ("pool_size", "height"),
    )
    c.arrays(
        pool[0],
        "MaxPooling2DLayer().bprop",
        lambda inputs, outputs, grads_wrt_outputs: L.MaxPooling2DLayer().bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": _x(3, 2, 4, 6), "outputs": _x(3, 2, 2, 3), "grads_wrt_outputs": _x(3, 2, 2, 3)},
        broadcasting=False,
    )
    bad_shapes = {"'12'": "12", "(0,)": (0,), "(-1, -1)": (-1, -1), "(2.0,)": (2.0,), "5": 5}
    c.arguments(
        "mlp.layers.ReshapeLayer", "ReshapeLayer", L.ReshapeLayer, {}, {"output_shape": bad_shapes}
    )
    c.arrays(
        "mlp.layers.ReshapeLayer",
        "ReshapeLayer((2, 2)).fprop",
        lambda inputs: L.ReshapeLayer((2, 2)).fprop(inputs),
        {"inputs": _x(5, 4)},
    )
    c.arrays(
        "mlp.layers.ReshapeLayer",
        "ReshapeLayer().bprop",
        lambda inputs, outputs, grads_wrt_outputs: L.ReshapeLayer().bprop(
            inputs, outputs, grads_wrt_outputs
        ),
        {"inputs": _x(5, 4), "outputs": _x(5, 4), "grads_wrt_outputs": _x(5, 4)},
    )
    return c.cases


def arch_cases(tmp: Path) -> list[Case]:
    """mlp.arch: the CNN spec of `mlp train --arch`."""
    from mlp import arch

    c = Cases("arch")
    for text, value in {
        **WRONG_TYPES,
        "'conv:3'": "conv:3",
        "'fc:1,conv:2x2'": "fc:1,conv:2x2",
    }.items():
        c.add(
            "mlp.arch.parse_arch", f"parse_arch({text})", lambda v=value: arch.parse_arch(v), "arch"
        )
    c.add(
        "mlp.arch.parse_arch",
        "parse_arch('conv:2x3,fc:4')",
        lambda: arch.parse_arch("conv:2x3,fc:4"),
        (),
        "any",
    )
    c.add(
        ("mlp.arch.arch_shapes", "mlp.arch.ArchLayer", "mlp.arch.IMAGE_SHAPE"),
        "arch_shapes(conv:2x29)",
        lambda: arch.arch_shapes((arch.ArchLayer("conv", 2, 29),), arch.IMAGE_SHAPE),
        "arch",
    )
    c.add(
        "mlp.arch.arch_shapes",
        "arch_shapes(pool:3 on 28x28)",
        lambda: arch.arch_shapes((arch.ArchLayer("pool", 3),)),
        "arch",
    )
    return c.cases


def regression_config_cases(tmp: Path) -> list[Case]:
    """The config keys of the regression data sets (issue 14, part 6)."""
    from mlp import config as CF

    c = Cases("regression_config")
    c.add(
        "mlp.config.REGRESSION_DATASETS",
        "REGRESSION_DATASETS is a constant",
        lambda: _constant(CF.REGRESSION_DATASETS, tuple),
        (),
        "any",
    )
    ccpp = {"dataset": "ccpp", "error": "sum_of_squares"}
    per_key: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
        "input_dims": (
            ccpp,
            {"[5]": [5], "[0, 0]": [0, 0], "[]": [], "'abc'": "abc", "[True]": [True], "3": 3},
        ),
        "window_size": (
            {"dataset": "met-office", "error": "sum_of_squares"},
            {"1": 1, "'abc'": "abc", "2.5": 2.5, "True": True, "-4": -4},
        ),
        "rbf_grid": (ccpp, {"0": 0, "-1": -1, "'abc'": "abc", "HUGE": HUGE, "nan": math.nan}),
        "error": (
            {"dataset": "ccpp"},
            {
                "'cross_entropy_softmax'": "cross_entropy_softmax",
                "'cross_entropy'": "cross_entropy",
            },
        ),
    }
    for key, (base, values) in per_key.items():
        for text, value in values.items():
            c.add(
                "mlp.config.config_from_dict",
                f"config_from_dict({base} + {key}={text})",
                lambda base=base, key=key, value=value: CF.config_from_dict({**base, key: value}),
                key,
            )
    # Each key belongs to one data set; on another it is refused, naming it.
    for key, value in (("input_dims", [0]), ("window_size", 3), ("rbf_grid", 4)):
        c.add(
            ("mlp.config.ExperimentConfig", "mlp.config.ConfigError"),
            f"ExperimentConfig({key}={value!r}).validate() on mnist",
            lambda key=key, value=value: CF.ExperimentConfig(**{key: value}).validate(),
            key,
        )
    return c.cases


# --------------------------------------------------------------------------- live plots (issue 15)


def live_cases(tmp: Path) -> list[Case]:
    from mlp import live as LV

    c = Cases("live")
    c.add("mlp.live.in_notebook", "in_notebook()", LV.in_notebook, (), "any")
    c.add("mlp.live.widgets_available", "widgets_available()", LV.widgets_available, (), "any")
    c.add(
        "mlp.live.progress_bar",
        "progress_bar(range(3), disable=True)",
        lambda: list(LV.progress_bar(range(3), disable=True)),
        (),
        "any",
    )
    c.arguments(
        "mlp.live.LivePlot",
        "LivePlot",
        LV.LivePlot,
        {},
        {
            "layer_stats": {"5": 5, "'abc'": "abc"},
            "path": {"5": 5, "in a missing dir": str(tmp / "missing" / "f.png")},
            "show": {"'yes'": "yes", "1": 1},
            "image_format": {"'jpg'": "jpg", "None": None},
            "figsize": {"(0, 3)": (0, 3), "'abc'": "abc", "(1,)": (1,)},
            "dpi": {"0": 0, "'abc'": "abc", "1.5": 1.5},
        },
        extra_names=("missing",),
    )
    for hook, args in {
        "on_train_begin": (None,),
        "on_epoch_begin": (None, "abc"),
        "on_epoch_end": (None, None, "abc"),
        "on_stats": (None, 1, None),
        "on_train_end": (None,),
    }.items():
        c.add(
            "mlp.live.LivePlot",
            f"LivePlot().{hook}{args}",
            lambda hook=hook, args=args: getattr(LV.LivePlot(), hook)(*args),
            ("epoch", "epoch_time", "stats"),
            "any",
        )
    for text, (epoch, stats) in {
        "(-1, {})": (-1, {}),
        "('abc', {})": ("abc", {}),
        "(0, {'acc(valid)': 'high'})": (0, {"acc(valid)": "high"}),
        "(0, [1])": (0, [1]),
    }.items():
        c.add(
            "mlp.live.LivePlot",
            f"LivePlot().add_row{text}",
            lambda epoch=epoch, stats=stats: LV.LivePlot().add_row(epoch, stats),
            ("epoch", "stats"),
        )
    return c.cases


# --------------------------------------------------------------------------- diagnostics


def diagnostics_cases(tmp: Path) -> list[Case]:
    """mlp.diagnostics (measure_layers, LayerStats, ...) and mlp.layer_stats' table."""
    from mlp import diagnostics as DG
    from mlp import layer_stats as LS
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.layers import AffineLayer, ReluLayer, SigmoidLayer
    from mlp.models import MultipleLayerModel

    c = Cases("diagnostics")
    model = MultipleLayerModel([AffineLayer(4, 3), SigmoidLayer(), AffineLayer(3, 4)])
    base = {"model": model, "error": CrossEntropySoftmaxError(), "inputs": _x(5, 4)}
    base["targets"] = _one_hot()
    cov = "mlp.diagnostics.measure_layers"
    c.add(cov, "measure_layers(valid)", lambda: DG.measure_layers(**base), (), "any")
    c.arguments(
        cov,
        "measure_layers",
        DG.measure_layers,
        base,
        {
            "model": {"None": None, "5": 5, "a list of layers": [ReluLayer()]},
            "error": {"None": None, "the class": CrossEntropySoftmaxError},
            "inputs": {"None": None, "'abc'": "abc", "(5,3)": _x(5, 3)},
            "targets": {"None": None, "(5,3)": _x(5, 3)},
            "epoch": {k: v for k, v in BAD_COUNTS.items() if k != "0"},
            "previous_params": {"5": 5, "[]": [], "an array": _x(3)},
        },
    )
    layer_base = {
        "layer": ReluLayer(),
        "inputs": _x(5, 4),
        "outputs": _x(5, 4),
        "grads_wrt_outputs": _x(5, 4),
    }
    cov = "mlp.diagnostics.layer_statistics"
    c.add(cov, "layer_statistics(valid)", lambda: DG.layer_statistics(**layer_base), (), "any")
    c.arguments(
        cov,
        "layer_statistics",
        DG.layer_statistics,
        layer_base,
        {
            "layer": {"None": None, "the class": ReluLayer, "'relu'": "relu"},
            "inputs": {"None": None, "'abc'": "abc", "0-d": np.float32(1), "(4,4)": _x(4, 4)},
            "outputs": {"None": None, "(4,4)": _x(4, 4)},
            "grads_wrt_outputs": {"None": None, "(5,3)": _x(5, 3), "(5,1)": _x(5, 1)},
        },
    )
    cov = "mlp.diagnostics.activation_sample"
    c.add(cov, "activation_sample(empty)", lambda: DG.activation_sample(_x(0, 4), 3), (), "any")
    c.arguments(
        cov,
        "activation_sample",
        DG.activation_sample,
        {"outputs": _x(5, 4), "sample_size": 3},
        {"outputs": {"None": None, "'abc'": "abc"}, "sample_size": BAD_COUNTS},
    )
    cov = "mlp.diagnostics.first_examples"
    c.arguments(
        cov,
        "first_examples",
        DG.first_examples,
        {"dataset": [(_x(5, 4), _one_hot())], "count": 3},
        {
            "dataset": {"None": None, "a list of batches": [], "the class": list},
            "count": BAD_COUNTS,
        },
        extra_names=("batch", "train_dataset"),
    )
    cov = "mlp.diagnostics.LayerStats"
    bad_interval = {"0": 0, "-1": -1, "2.5": 2.5, "'2'": "2", "True": True}
    c.arguments(
        cov,
        "LayerStats",
        DG.LayerStats,
        {},
        {
            "batch_size": BAD_COUNTS,
            "sample_size": BAD_COUNTS,
            "interval": bad_interval,
            "batch": {"5": 5, "(x,)": (_x(5, 4),), "rows differ": (_x(5, 4), _x(4, 4))},
            "on_measurement": {"5": 5, "the class": LS.LayerStatsTable},
        },
    )
    c.arguments(
        "mlp.diagnostics.LayerMonitor",
        "LayerMonitor",
        DG.LayerMonitor,
        {},
        {"batch_size": BAD_COUNTS, "sample_size": BAD_COUNTS, "interval": bad_interval},
    )
    c.add(
        "mlp.diagnostics.LayerMonitor",
        "LayerMonitor().measure(None, 0)",
        lambda: DG.LayerMonitor().measure(None, 0),
        (),
        "error",
    )
    for hook, args in {
        "on_train_begin": (None,),
        "on_batch_begin": (None, 1, 0),
        "on_stats": (None, 0, {}),
        "on_epoch_end": (None, 3, 0.5),
        "measure": (None, 0),
    }.items():
        c.add(
            cov,
            f"LayerStats(interval=1).{hook}{args}",
            lambda hook=hook, args=args: getattr(DG.LayerStats(interval=1), hook)(*args),
            ("loop", "batch", "train_dataset"),
        )
    # mlp.layer_stats: the shared table.
    width = len(LS.LAYER_COLUMNS)
    c.add(
        "mlp.layer_stats.LAYER_COLUMNS",
        "LAYER_COLUMNS is a constant",
        lambda: _constant(LS.LAYER_COLUMNS, tuple),
        (),
        "any",
    )
    cov = "mlp.layer_stats.LayerStatsTable"
    table_base = {"epochs": [0], "layers": [0], "names": ("A",), "values": np.zeros((1, width))}
    c.arguments(
        cov,
        "LayerStatsTable",
        LS.LayerStatsTable,
        table_base,
        {
            "layers": {"[0, 1]": [0, 1]},
            "names": {"(3,)": (3,), "()": ()},
            "values": {"(1,3)": np.zeros((1, 3)), "(2,width)": np.zeros((2, width))},
        },
        extra_names=("values", "names", "layers", "rows"),
    )
    table = LS.LayerStatsTable(**table_base)
    c.add(cov, "table.column('x')", lambda: table.column("x"), ("statistic", "x"))
    c.add(cov, "table.series(0, 'x')", lambda: table.series(0, "x"), ("statistic", "x"))
    c.add(cov, "table.applies('x')", lambda: table.applies("x"), ("statistic", "x"))
    c.add(cov, "from_rows([])", lambda: LS.LayerStatsTable.from_rows([]), (), "any")
    picks = "mlp.layer_stats.sample_indices"
    c.add(picks, "sample_indices(10, 3)", lambda: LS.sample_indices(10, 3), (), "any")
    for text, (size, count) in {
        "(-1, 3)": (-1, 3),
        "(10, 0)": (10, 0),
        "(10.5, 3)": (10.5, 3),
        "('10', 3)": ("10", 3),
        "(10, None)": (10, None),
    }.items():
        c.add(
            picks,
            f"sample_indices{text}",
            lambda size=size, count=count: LS.sample_indices(size, count),
            ("size", "count"),
        )
    return c.cases


# --------------------------------------------------------------- issue 15: diagnostic figures


def _layer_table() -> Any:
    from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable

    values = [1.0] * len(LAYER_COLUMNS)
    return LayerStatsTable.from_rows(
        [(e, i, n, values) for e in (0, 1) for i, n in enumerate(("AffineLayer", "ReluLayer"))]
    )


def diagnostic_plots_cases(tmp: Path) -> list[Case]:
    from mlp import diagnostic_plots as DP
    from mlp import evaluation as EV

    c = Cases("diagnostic_plots")
    flat_labels = {"None": None, "'abc'": "abc", "ragged": [[0], [0, 1]]}
    labels = {**flat_labels, "(2,2,2)": np.zeros((2, 2, 2))}  # (n, h, w) images are fine
    c.arguments(
        "mlp.evaluation.confusion_matrix",
        "confusion_matrix",
        EV.confusion_matrix,
        {"targets": np.array([0, 1, 2]), "predictions": np.array([0, 2, 2])},
        {
            "targets": {**labels, "[-1, 0, 1]": [-1, 0, 1], "[0.5, 1, 2]": [0.5, 1, 2]},
            "predictions": {**labels, "[0, 1]": [0, 1], "[nan]*3": [math.nan] * 3},
            "num_classes": {"0": 0, "2": 2, "'abc'": "abc", "2.5": 2.5},
        },
    )
    c.arguments(
        "mlp.evaluation.most_confident_mistakes",
        "most_confident_mistakes",
        EV.most_confident_mistakes,
        {"probabilities": np.eye(3)[[0, 1, 1]], "targets": np.array([0, 1, 2])},
        {
            "probabilities": {**labels, "(3,)": np.zeros(3), "(3,0)": np.zeros((3, 0))},
            "targets": {**labels, "[0, 1]": [0, 1], "[0, 1, 7]": [0, 1, 7]},
            "count": {"0": 0, "'abc'": "abc", "None": None},
        },
    )
    c.arguments(
        "mlp.evaluation.labels_of",
        "labels_of",
        EV.labels_of,
        {"values": [0, 1], "name": "targets", "owner": "f"},
        {"values": {**labels, "[-1]": [-1], "(2,0)": np.zeros((2, 0))}},
        extra_names=("targets",),
    )
    table = _layer_table()
    c.arguments(
        "mlp.diagnostic_plots.plot_layer_stats",
        "plot_layer_stats",
        DP.plot_layer_stats,
        {"tables": [table]},
        {
            "tables": {"None": None, "[]": [], "[None]": [None], "'abc'": "abc"},
            "labels": {"5": 5, "['a', 'b']": ["a", "b"], "[5]": [5]},
            "columns": {"['bogus']": ["bogus"], "[]": [], "'abc'": "abc"},
        },
    )
    c.arguments(
        "mlp.diagnostic_plots.plot_weight_images",
        "plot_weight_images",
        DP.plot_weight_images,
        {"weights": np.zeros((3, 784))},
        {
            "weights": {
                **flat_labels,
                "(784,)": np.zeros(784),
                "(3, 50)": np.zeros((3, 50)),
                "nan": np.full((3, 784), math.nan),
            },
            "image_shape": {"None": None, "(5,)": (5,), "(0, 0)": (0, 0), "'abc'": "abc"},
            "max_images": {"0": 0, "'abc'": "abc"},
            "columns": {"0": 0, "2.5": 2.5},
            "label": {"5": 5},
        },
    )
    c.arguments(
        "mlp.diagnostic_plots.plot_confusion_matrix",
        "plot_confusion_matrix",
        DP.plot_confusion_matrix,
        {"matrix": np.eye(3, dtype=int)},
        {
            "matrix": {**labels, "(2,3)": np.zeros((2, 3)), "[[-1]]": [[-1]], "[[0.5]]": [[0.5]]},
            "class_names": {"['a']": ["a"], "'abc'": "abc", "[1, 2, 3]": [1, 2, 3]},
        },
    )
    base = {
        "images": np.zeros((2, 784)),
        "targets": np.array([1, 2]),
        "predictions": np.array([2, 1]),
        "confidences": np.array([0.9, 0.8]),
    }
    c.arguments(
        "mlp.diagnostic_plots.plot_misclassified",
        "plot_misclassified",
        DP.plot_misclassified,
        base,
        {
            "images": {**flat_labels, "(2, 50)": np.zeros((2, 50))},
            "targets": {**labels, "[1]": [1]},
            "predictions": {"[0.5, 1]": [0.5, 1], "None": None},
            "confidences": {"[nan, 1]": [math.nan, 1], "[1]": [1], "'abc'": "abc"},
            "image_shape": {"(5,)": (5,), "None": None},
        },
    )
    c.arguments(
        "mlp.diagnostic_plots.plot_activation_histograms",
        "plot_activation_histograms",
        DP.plot_activation_histograms,
        {"samples": {0: {1: np.zeros(5)}}},
        {
            "samples": {
                "None": None,
                "{}": {},
                "{'a': {}}": {"a": {}},
                "{0: {1: []}}": {0: {1: []}},
                "{0: {1: 'abc'}}": {0: {1: "abc"}},
                "{0: {}}": {0: {}},
            },
            "names": {"5": 5},
            "bins": {"0": 0, "'abc'": "abc"},
        },
    )
    for name, kind in (("COLUMN_LABELS", dict), ("LAYER_STATS_COLUMNS", tuple)):
        c.add(
            f"mlp.diagnostic_plots.{name}",
            f"{name} is a constant",
            lambda name=name, kind=kind: _constant(getattr(DP, name), kind),
            (),
            "any",
        )
    return c.cases


def run_figures_cases(tmp: Path) -> list[Case]:
    from mlp import config as CF
    from mlp.runs import RunRecord, write_record
    from mlp.runs import figures as RF
    from mlp.runs import model as RM

    c = Cases("run_figures")
    keys = {"error(train)": 0, "acc(train)": 1, "error(valid)": 2, "acc(valid)": 3}
    config = CF.ExperimentConfig(hidden=(5,), epochs=1, max_train_examples=100).to_dict()
    config = {k: v for k, v in config.items() if v is not None}
    # A finished record whose params.npz does not fit its config, and one with no config.
    misfit = write_record(
        tmp / "misfit",
        config,
        np.zeros((2, 4)),
        keys,
        np.arange(2),
        {},
        [np.zeros((2, 2))],
        curves=False,
    )
    bare = write_record(tmp / "bare", {}, np.zeros((2, 4)), keys, np.arange(2), {}, curves=False)
    not_records = {"None": None, "'abc'": "abc", "a path": str(tmp / "misfit")}
    c.arguments(
        "mlp.runs.model.model_of",
        "model_of",
        RM.model_of,
        {"record": misfit},
        {"record": {**not_records, "misfit params": misfit, "no config": bare}},
        extra_names=("params.npz", "config.toml"),
    )
    c.arguments(
        "mlp.runs.model.predictions_of",
        "predictions_of",
        RM.predictions_of,
        {"record": misfit},
        {"record": not_records, "split": {"'train'": "train", "None": None}},
    )
    for name in ("histograms_figure", "weights_figure", "confusion_figure", "mistakes_figure"):
        c.arguments(
            f"mlp.runs.figures.{name}",
            name,
            getattr(RF, name),
            {"record": bare},
            {"record": {**not_records, "no layer files or config": bare}},
            extra_names=("layer-stats", "config.toml", "not finished", "images"),
        )
    c.arguments(
        "mlp.runs.figures.layers_figure",
        "layers_figure",
        RF.layers_figure,
        {"records": [bare]},
        {"records": {"None": None, "[]": [], "[None]": [None], "[bare]": [bare]}},
        extra_names=("layer-stats",),
    )
    c.arguments(
        "mlp.runs.figures.write_run_figures",
        "write_run_figures",
        RF.write_run_figures,
        {"record": bare, "out": str(tmp / "figures")},
        {
            "record": {"None": None, "'abc'": "abc", "bare": bare},
            "out": {"None": None, "5": 5},
        },
        expect="any",
    )
    assert isinstance(RunRecord.load(tmp / "bare"), RunRecord)
    for name, module, kind in (("SPLITS", RM, tuple), ("FIGURES", RF, tuple)):
        c.add(
            f"{module.__name__}.{name}",
            f"{name} is a constant",
            lambda module=module, name=name, kind=kind: _constant(getattr(module, name), kind),
            (),
            "any",
        )
    return c.cases


# --- mlp.exercises (exercise mode) ---------------------------------------------------------


def exercises_cases(tmp: Path) -> list[Case]:
    from mlp import exercises as EX
    from mlp import layers as L

    c = Cases("exercises")
    pack = str(tmp / "pack.npz")
    c.add(
        ("mlp.exercises.EXERCISES", "mlp.exercises.exercise", "mlp.exercises.Exercise"),
        "exercise('tanh') is EXERCISES['tanh']",
        lambda: EX.exercise("tanh") is EX.EXERCISES["tanh"] is not None,
        (),
        "any",
    )
    c.arguments(
        "mlp.exercises.exercise",
        "exercise",
        EX.exercise,
        {},
        {"name": {"None": None, "5": 5, "'nope'": "nope", "['tanh']": ["tanh"]}},
    )
    c.add(
        ("mlp.exercises.check", "mlp.exercises.CheckReport"),
        "check(TanhLayer) passes",
        lambda: EX.check(L.TanhLayer).passed,
        (),
        "any",
    )
    c.arguments(
        "mlp.exercises.check",
        "check",
        EX.check,
        {"student_class": L.TanhLayer},
        {
            "student_class": {
                "None": None,
                "5": 5,
                "'TanhLayer'": "TanhLayer",
                "TanhLayer()": L.TanhLayer(),
                "a class named Foo": type("Foo", (), {}),
            },
            "exercise": {"5": 5, "'nope'": "nope"},
            "seed": {"2.5": 2.5, "'a'": "a", "None": None},
        },
        extra_names=("exercise", "class"),
    )
    c.arguments(
        "mlp.exercises.write_skeletons",
        "write_skeletons",
        EX.write_skeletons,
        {"names": ["tanh"], "out_dir": str(tmp / "skeletons")},
        {
            "names": {
                "None": None,
                "5": 5,
                "[]": [],
                "['nope']": ["nope"],
                "repeats": ["tanh", "tanh"],
            },
            "out_dir": {"None": None, "5": 5},
            "module_name": {"'my-layers'": "my-layers", "5": 5, "'x.py'": "x.py"},
        },
        extra_names=("exercise",),
    )
    c.arguments(
        "mlp.exercises.write_pack",
        "write_pack",
        EX.write_pack,
        {"names": ["tanh"], "path": pack, "seed": 1},
        {
            "names": {"None": None, "[]": [], "['nope']": ["nope"]},
            "path": {"None": None, "5": 5, "in a missing dir": str(tmp / "missing" / "p.npz")},
            "seed": {"-1": -1, "2.5": 2.5, "'a'": "a", "None": None, "True": True},
        },
        extra_names=("exercise", "missing"),
    )
    foreign = tmp / "foreign.npz"
    np.savez(foreign, x=np.arange(3))
    text = tmp / "text.npz"
    text.write_text("not a pack")

    def graded() -> Any:
        EX.write_pack(["relu"], pack, seed=3)
        result = EX.grade(pack, [L.ReluLayer])
        return isinstance(result, EX.Grade) and result.total == 1.0 and result.to_json()

    c.add(
        ("mlp.exercises.write_pack", "mlp.exercises.grade", "mlp.exercises.Grade"),
        "grade(write_pack(['relu']), [ReluLayer])",
        graded,
        (),
        "any",
    )
    c.arguments(
        "mlp.exercises.grade",
        "grade",
        EX.grade,
        {"pack": pack, "submission": [L.ReluLayer]},
        {
            "pack": {
                "None": None,
                "5": 5,
                "missing": str(tmp / "missing.npz"),
                "foreign": str(foreign),
                "text": str(text),
            },
            "submission": {"None": None, "5": 5, "'x'": "x", "[TanhLayer()]": [L.TanhLayer()]},
        },
        extra_names=("missing", "foreign", "text", "pack"),
    )
    c.add(
        "mlp.exercises.PackError",
        "grade(a foreign npz) raises PackError",
        lambda: EX.grade(str(foreign), [L.ReluLayer]),
        ("foreign", "pack"),
    )
    c.add(
        "mlp.exercises.PACK_FORMAT_VERSION",
        "PACK_FORMAT_VERSION is 1",
        lambda: EX.PACK_FORMAT_VERSION == 1,
        (),
        "any",
    )

    def new_exercise() -> Any:
        entry = EX.exercise("relu")
        case = EX.Case("mine", {"inputs": np.ones((2, 2))})
        method = EX.Method("fprop", lambda cls, case: cls().fprop(case.arrays["inputs"]))
        mistake = EX.Mistake("none", "fprop", "no hint", L.ReluLayer)
        made = EX.Exercise(
            "mine", "Mine", "ReluLayer", L.ReluLayer, (method,), "", lambda rng: [case], (mistake,)
        )
        return EX.check(L.ReluLayer, made).passed and entry is not made

    c.add(
        (
            "mlp.exercises.Case",
            "mlp.exercises.Method",
            "mlp.exercises.Mistake",
            "mlp.exercises.Exercise",
        ),
        "an Exercise of one's own, checked",
        new_exercise,
        (),
        "any",
    )
    return c.cases


GENERATORS: dict[str, Callable[[Path], list[Case]]] = {
    "layers": layers_cases,
    "course_layers": course_layers_cases,
    "convolution": convolution_cases,
    "arch": arch_cases,
    "errors": errors_cases,
    "models": models_cases,
    "initialisers": initialisers_cases,
    "learning_rules": learning_rules_cases,
    "penalties": penalties_cases,
    "schedulers": schedulers_cases,
    "callbacks": callbacks_cases,
    "kernels": kernels_cases,
    "threads": threads_cases,
    "data_providers": data_providers_cases,
    "optimisers": optimisers_cases,
    "protocols": protocols_cases,
    "gradcheck": gradcheck_cases,
    "datasets": datasets_cases,
    "course_data": course_data_cases,
    "registry": registry_cases,
    "config": config_cases,
    "runs": runs_cases,
    "plotting": plotting_cases,
    "lab": lab_cases,
    "sweep": sweep_cases,
    "parallel": parallel_cases,
    "pytorch": pytorch_cases,
    "torch_diagnostics": torch_diagnostics_cases,
    "twin": twin_cases,
    "atomic": atomic_cases,
    "batch_norm": batch_norm_cases,
    "warm_restarts": warm_restarts_cases,
    "training_options": training_options_cases,
    "regression_config": regression_config_cases,
    "live": live_cases,
    "diagnostics": diagnostics_cases,
    "exercises": exercises_cases,
    "diagnostic_plots": diagnostic_plots_cases,
    "run_figures": run_figures_cases,
}


def generate(tmp: Path) -> dict[str, list[Case]]:
    groups = {}
    for group, function in GENERATORS.items():
        folder = tmp / group
        folder.mkdir(parents=True, exist_ok=True)
        groups[group] = function(folder)
    return groups


@pytest.mark.parametrize("group", list(GENERATORS))
def test_api_fuzz(group: str, tmp_path: Path) -> None:
    assert_no_failures(GENERATORS[group](tmp_path))


def test_every_public_name_has_cases(tmp_path: Path) -> None:
    covered = {
        name for cases in generate(tmp_path).values() for case in cases for name in case.covers
    }
    public = set()
    for module_name in readme_modules():
        module = importlib.import_module(module_name)
        if module_name == "mlp.pytorch" and not _torch_available():
            continue
        for name in getattr(module, "__all__", ()):
            public.add(f"{module_name}.{name}")
    missing = sorted(public - covered)
    assert not missing, "public names with no fuzz case: " + ", ".join(missing)
