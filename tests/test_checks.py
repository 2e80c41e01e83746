"""mlp._checks: the argument checks the teaching core shares, and their messages."""

from __future__ import annotations

import math
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

import mlp
from mlp import _checks


@pytest.mark.parametrize(
    ("value", "expected"), [(0.5, 0.5), (2, 2.0), (np.float32(0.25), 0.25), (np.int64(3), 3.0)]
)
def test_number_takes_real_numbers_as_floats(value, expected: float) -> None:
    got = _checks.number(value, "alpha", "Owner")
    assert got == expected and type(got) is float


@pytest.mark.parametrize("value", ["a", None, [1.0], np.ones(2), 1j])
def test_number_refuses_what_is_no_number_with_a_type_error(value) -> None:
    with pytest.raises(TypeError, match=r"Owner alpha must be a finite number, got "):
        _checks.number(value, "alpha", "Owner")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, True])
def test_number_refuses_unusable_numbers_with_a_value_error(value) -> None:
    with pytest.raises(ValueError, match=rf"Owner alpha must be a finite number, got {value!r}"):
        _checks.number(value, "alpha", "Owner")


@pytest.mark.parametrize(
    ("bounds", "good", "bad", "text"),
    [
        ({"low": 0}, 0.0, -1e-9, ">= 0"),
        ({"low": 0, "low_open": True}, 1e-9, 0.0, "> 0"),
        ({"high": 1}, 1.0, 1.5, "<= 1"),
        ({"low": 0, "high": 1, "low_open": True}, 1.0, 0.0, r"in \(0, 1\]"),
        ({"low": 0, "high": 1, "high_open": True}, 0.0, 1.0, r"in \[0, 1\)"),
    ],
)
def test_number_checks_its_range(bounds, good: float, bad: float, text: str) -> None:
    assert _checks.number(good, "x", "Owner", **bounds) == good
    with pytest.raises(ValueError, match=rf"Owner x must be a finite number {text}, got {bad}"):
        _checks.number(bad, "x", "Owner", **bounds)


def test_integer_takes_python_and_numpy_integers() -> None:
    assert _checks.integer(3, "n", "Owner", low=1) == 3
    assert type(_checks.integer(np.int32(3), "n", "Owner", low=1)) is int


@pytest.mark.parametrize("value", [2.5, 3.0, True, 0, -1])
def test_integer_refuses_floats_bools_and_small_values(value) -> None:
    with pytest.raises(ValueError, match=rf"Owner n must be a positive integer, got {value!r}"):
        _checks.integer(value, "n", "Owner", low=1)


def test_integer_refuses_strings_with_a_type_error() -> None:
    with pytest.raises(TypeError, match=r"Owner n must be an integer >= 0, got '3'"):
        _checks.integer("3", "n", "Owner", low=0)


@pytest.mark.parametrize("value", [0, 1, "false", None])
def test_flag_takes_only_true_or_false(value) -> None:
    assert _checks.flag(np.bool_(True), "f", "Owner") is True
    with pytest.raises(TypeError, match=r"Owner f must be True or False, got "):
        _checks.flag(value, "f", "Owner")


class _NeedsArguments:
    def __init__(self, value: float) -> None:
        self.value = value


class _NeedsNone:
    def __init__(self, value: float = 1.0) -> None:
        self.value = value


def test_a_class_instead_of_an_instance_says_pass_an_instance() -> None:
    with pytest.raises(TypeError, match=r"pass _NeedsArguments\(\.\.\.\), an instance"):
        _checks.not_a_class(_NeedsArguments, "thing", "Owner")
    with pytest.raises(
        TypeError, match=r"Owner thing got the class _NeedsNone: pass _NeedsNone\(\)"
    ):
        _checks.callable_instance(_NeedsNone, "thing", "Owner", "a callable")
    with pytest.raises(TypeError, match=r"Owner thing must be a callable, got 0.1"):
        _checks.callable_instance(0.1, "thing", "Owner", "a callable")
    _checks.callable_instance(lambda: None, "thing", "Owner", "a callable")


def test_floats_leaves_float_arrays_alone_and_converts_the_rest() -> None:
    array = np.ones((2, 3), np.float64)
    assert _checks.floats(array, "x", "Owner") is array
    for given in ([[1, 2]], np.array([[1, 2]]), np.array([[True, False]])):
        converted = _checks.floats(given, "x", "Owner")
        assert converted.dtype == mlp.get_default_dtype()
    assert _checks.floats([[0.5]], "x", "Owner").dtype == np.float64  # as NumPy reads it


@pytest.mark.parametrize("value", [["a", "b"], None, np.array([1j]), {"a": 1}])
def test_floats_refuses_what_is_no_array_of_numbers(value) -> None:
    with pytest.raises(TypeError, match=r"Owner x must be an array of numbers, got "):
        _checks.floats(value, "x", "Owner")


def test_floats_refuses_ragged_lists() -> None:
    with pytest.raises(ValueError, match=r"Owner x must be an array of numbers, got ragged"):
        _checks.floats([[1.0, 2.0], [3.0]], "x", "Owner")


@pytest.mark.parametrize(
    ("value", "expected"), [((3, 4), (3, 4)), ([3, 4], (3, 4)), (5, (5,)), ((0, 2), (0, 2))]
)
def test_shape_takes_tuples_lists_and_ints(value, expected: tuple[int, ...]) -> None:
    assert _checks.shape(value, "shape", "Owner") == expected


@pytest.mark.parametrize(
    ("value", "error"),
    [(None, TypeError), ("34", TypeError), (2.5, TypeError), ((2.5, 3), ValueError),
     ((-1, 3), ValueError), (("a", 3), TypeError), ((True, 3), ValueError)],
)  # fmt: skip
def test_shape_refuses_what_is_no_shape(value, error: type[Exception]) -> None:
    with pytest.raises(error, match=r"Owner shape must be a"):
        _checks.shape(value, "shape", "Owner")


def test_an_object_owner_is_named_by_its_repr() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing(7)"

    with pytest.raises(TypeError, match=r"^Thing\(7\) inputs must be an array of numbers"):
        _checks.floats("abc", "inputs", Thing())


# The "<owner>: <name>" checks the training side, the lab and the PyTorch twin use.


def test_named_leaves_an_empty_owner_out() -> None:
    assert _checks.named("Owner", "x") == "Owner: x"
    assert _checks.named("", "x") == "x"


def test_real_takes_any_real_number_and_refuses_bools_by_type() -> None:
    assert _checks.real(np.array(2), "x", "f") == 2.0
    assert _checks.real(math.inf, "x", "f") == math.inf  # range is the caller's
    for value in (True, "1", None):
        with pytest.raises(TypeError, match=r"^f: x must be a number, got "):
            _checks.real(value, "x", "f")


def test_count_refuses_floats_by_type_and_small_values_by_value() -> None:
    assert _checks.count(np.int64(0), "n", "", 0) == 0
    with pytest.raises(TypeError, match=r"^f: n must be a positive integer, got float 2.0"):
        _checks.count(2.0, "n", "f", 1)
    with pytest.raises(ValueError, match=r"^n must be an integer >= 2, got 1$"):
        _checks.count(1, "n", "", 2)


def test_truth_takes_zero_and_one_but_no_strings() -> None:
    assert _checks.truth(1, "f", "g") is True and _checks.truth(np.bool_(False), "f", "g") is False
    with pytest.raises(TypeError, match=r"^g: f must be True or False, got str 'no'"):
        _checks.truth("no", "f", "g")


def test_number_array_converts_lists_and_names_ragged_ones() -> None:
    assert _checks.number_array([[1, 2]], "a", "f").shape == (1, 2)
    with pytest.raises(ValueError, match=r"^f: a must be an array \(rows of one length\)"):
        _checks.number_array([[1], [1, 2]], "a", "f")
    with pytest.raises(TypeError, match=r"^f: a must be an array of numbers, got <U1 values"):
        _checks.number_array(["x"], "a", "f")


def test_the_two_path_wordings_take_the_same_paths(tmp_path) -> None:
    assert _checks.path(tmp_path, "p", "f") is tmp_path
    _checks.os_path("here", "p", "f")
    with pytest.raises(TypeError, match=r"^f: p must be a path \(a str or Path\), got bytes"):
        _checks.path(b"here", "p", "f")
    with pytest.raises(TypeError, match=r"^f: p must be a path \(str or os.PathLike\), got b'"):
        _checks.os_path(b"here", "p", "f")


def test_refuse_class_and_instance_with_name_the_argument() -> None:
    with pytest.raises(TypeError, match=r"^f: e is the class _NeedsNone: pass _NeedsNone\(\)"):
        _checks.refuse_class(_NeedsNone, "e", "f")
    _checks.instance_with(_NeedsNone(), "e", "f", ("__init__",), "a thing")
    with pytest.raises(TypeError, match=r"^e must be a thing, with grad; got .* \(no grad\); fix"):
        _checks.instance_with(_NeedsNone(), "e", "", ("grad",), "a thing", hint="fix")


def test_items_choice_mapping_and_seconds() -> None:
    _checks.items([1, 2], "xs", "f", int)
    with pytest.raises(TypeError, match=r"^f: xs\[1\] must be a int, got str 'a'"):
        _checks.items([1, "a"], "xs", "f", int)
    with pytest.raises(TypeError, match=r"^f: xs must be a list of int, got str"):
        _checks.items("12", "xs", "f", int)
    with pytest.raises(ValueError, match=r"^f: fmt must be one of 'a', 'b', got 'c'"):
        _checks.choice("c", "fmt", "f", ("a", "b"))
    _checks.mapping(None, "m", "f")
    with pytest.raises(TypeError, match=r"^f: m must be a dict or None, got list"):
        _checks.mapping([], "m", "f")
    assert _checks.seconds(2, "t", "f") == 2.0
    with pytest.raises(ValueError, match=r"^f: t must be a finite number >= 0, got -1.0"):
        _checks.seconds(-1, "t", "f")


def test_the_shared_checks_do_not_import_torch() -> None:
    # The NumPy core imports mlp._checks; torch stays mlp.pytorch's to import.
    code = "import sys, mlp._checks; sys.exit('torch' in sys.modules)"
    source = str(pathlib.Path(mlp.__file__).parents[1])  # this tree's mlp, not another
    env = {**os.environ, "PYTHONPATH": source}
    assert subprocess.run([sys.executable, "-c", code], env=env, check=False).returncode == 0
