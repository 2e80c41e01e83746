"""Initialisers: shapes, dtypes, seeding, the distributions they draw from, bad arguments."""

from __future__ import annotations

import numpy as np
import pytest

import mlp
from mlp.initialisers import (
    ConstantInit,
    GlorotNormalInit,
    GlorotUniformInit,
    HeNormalInit,
    HeUniformInit,
    NormalInit,
    UniformInit,
)


def _all_initialisers(rng=None):
    return {
        "ConstantInit": ConstantInit(0.25),
        "UniformInit": UniformInit(-0.2, 0.3, rng=rng),
        "NormalInit": NormalInit(0.1, 0.2, rng=rng),
        "GlorotUniformInit": GlorotUniformInit(gain=1.5, rng=rng),
        "GlorotNormalInit": GlorotNormalInit(rng=rng),
        "HeUniformInit": HeUniformInit(rng=rng),
        "HeNormalInit": HeNormalInit(gain=0.5, rng=rng),
    }


NAMES = list(_all_initialisers())
RANDOM_NAMES = [name for name in NAMES if name != "ConstantInit"]
SCALED_NAMES = [name for name in NAMES if name.startswith(("Glorot", "He"))]


@pytest.mark.parametrize("shape", [(3, 5), (1, 1), (7, 2)])
@pytest.mark.parametrize("name", NAMES)
def test_shape_and_default_dtype(name: str, shape: tuple[int, int]) -> None:
    init = _all_initialisers(np.random.RandomState(0))[name]
    values = init(shape)
    assert values.shape == shape
    assert values.dtype == np.float32
    with mlp.default_dtype(np.float64):
        values = init(shape)
    assert values.dtype == np.float64
    assert np.isfinite(values).all()


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4)])
@pytest.mark.parametrize("name", ["ConstantInit", "UniformInit", "NormalInit"])
def test_plain_initialisers_accept_any_shape(name: str, shape: tuple[int, ...]) -> None:
    assert _all_initialisers(np.random.RandomState(0))[name](shape).shape == shape


@pytest.mark.parametrize("shape", [(6,), (2, 3, 4), ()])
@pytest.mark.parametrize("name", SCALED_NAMES)
def test_glorot_and_he_need_a_2d_shape(name: str, shape: tuple[int, ...]) -> None:
    init = _all_initialisers()[name]
    with pytest.raises(ValueError, match="2-D"):
        init(shape)


@pytest.mark.parametrize("make_rng", [np.random.RandomState, np.random.default_rng])
@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_same_seed_same_values(name: str, make_rng) -> None:
    first = _all_initialisers(make_rng(42))[name]((4, 6))
    second = _all_initialisers(make_rng(42))[name]((4, 6))
    other = _all_initialisers(make_rng(43))[name]((4, 6))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("name", RANDOM_NAMES)
def test_successive_calls_draw_new_values(name: str) -> None:
    # One initialiser shared by several layers gives each its own values, with or
    # without an explicit rng.
    for rng in (np.random.RandomState(0), None):
        init = _all_initialisers(rng)[name]
        assert not np.array_equal(init((4, 6)), init((4, 6)))


def test_without_rng_the_default_seed_is_used() -> None:
    expected = np.random.RandomState(mlp.DEFAULT_SEED).uniform(-0.2, 0.3, size=(3, 4))
    np.testing.assert_array_equal(UniformInit(-0.2, 0.3)((3, 4)), expected.astype(np.float32))


def test_constant_init_fills_with_the_value() -> None:
    values = ConstantInit(-1.5)((2, 3))
    np.testing.assert_array_equal(values, np.full((2, 3), -1.5))


# A non-square shape, so that swapping fan-in and fan-out would show:
# fan_in = shape[1] = 600, fan_out = shape[0] = 400.
STATS_SHAPE = (400, 600)
FAN_IN, FAN_OUT = 600, 400
N = FAN_IN * FAN_OUT


def _draw(init) -> np.ndarray:
    with mlp.default_dtype(np.float64):
        return init(STATS_SHAPE)


@pytest.mark.parametrize(
    ("init_class", "gain", "bound"),
    [
        (GlorotUniformInit, 1.0, np.sqrt(6.0 / (FAN_IN + FAN_OUT))),
        (GlorotUniformInit, 2.0, 2.0 * np.sqrt(6.0 / (FAN_IN + FAN_OUT))),
        (HeUniformInit, 1.0, np.sqrt(6.0 / FAN_IN)),
        (HeUniformInit, 0.5, 0.5 * np.sqrt(6.0 / FAN_IN)),
    ],
)
def test_uniform_schemes_draw_within_the_formula_bound(init_class, gain: float, bound) -> None:
    values = _draw(init_class(gain=gain, rng=np.random.RandomState(0)))
    assert np.abs(values).max() <= bound
    assert np.abs(values).max() > 0.999 * bound  # and fill it
    # Uniform on [-a, a]: std a / sqrt(3); the sample std is within 0.3% at 4 sigma.
    assert values.std() == pytest.approx(bound / np.sqrt(3.0), rel=0.01)
    assert abs(values.mean()) < 4 * bound / np.sqrt(3.0 * N)


@pytest.mark.parametrize(
    ("init_class", "gain", "std"),
    [
        (GlorotNormalInit, 1.0, np.sqrt(2.0 / (FAN_IN + FAN_OUT))),
        (GlorotNormalInit, 3.0, 3.0 * np.sqrt(2.0 / (FAN_IN + FAN_OUT))),
        (HeNormalInit, 1.0, np.sqrt(2.0 / FAN_IN)),
        (HeNormalInit, 0.5, 0.5 * np.sqrt(2.0 / FAN_IN)),
    ],
)
def test_normal_schemes_have_the_formula_std(init_class, gain: float, std: float) -> None:
    values = _draw(init_class(gain=gain, rng=np.random.RandomState(0)))
    assert values.std() == pytest.approx(std, rel=0.01)
    assert abs(values.mean()) < 4 * std / np.sqrt(N)
    # Normal, not uniform: about 4.55% of draws lie beyond 2 std.
    assert (np.abs(values) > 2 * std).mean() == pytest.approx(0.0455, abs=0.002)


def test_uniform_init_statistics() -> None:
    values = _draw(UniformInit(-0.2, 0.6, rng=np.random.RandomState(0)))
    assert values.min() >= -0.2 and values.max() < 0.6
    assert values.mean() == pytest.approx(0.2, abs=4 * 0.8 / np.sqrt(12 * N))
    assert values.std() == pytest.approx(0.8 / np.sqrt(12), rel=0.01)


def test_normal_init_statistics() -> None:
    values = _draw(NormalInit(-0.3, 0.05, rng=np.random.RandomState(0)))
    assert values.mean() == pytest.approx(-0.3, abs=4 * 0.05 / np.sqrt(N))
    assert values.std() == pytest.approx(0.05, rel=0.01)


@pytest.mark.parametrize(
    "make",
    [
        lambda: UniformInit(1.0, 0.0),
        lambda: UniformInit(float("nan"), 1.0),
        lambda: NormalInit(0.0, -1.0),
        lambda: NormalInit(0.0, float("nan")),
        lambda: GlorotUniformInit(gain=0.0),
        lambda: GlorotNormalInit(gain=-1.0),
        lambda: HeUniformInit(gain=float("nan")),
        lambda: HeNormalInit(gain=0.0),
    ],
    ids=[
        "uniform-low>high",
        "uniform-nan",
        "normal-negative-std",
        "normal-nan-std",
        "glorot-uniform-zero-gain",
        "glorot-normal-negative-gain",
        "he-uniform-nan-gain",
        "he-normal-zero-gain",
    ],
)
def test_bad_arguments_raise_value_error(make) -> None:
    with pytest.raises(
        ValueError,
        match=r"Init (needs low <= high, a finite width apart|(low|std|gain) must be a finite number( >= 0| > 0)?), got",
    ):
        make()


@pytest.mark.parametrize("init_class", [UniformInit, NormalInit])
def test_bad_rng_is_rejected(init_class) -> None:
    with pytest.raises(TypeError, match="rng"):
        init_class(0.0, 1.0, rng="not a generator")


@pytest.mark.parametrize("name", NAMES)
def test_repr_names_the_initialiser(name: str) -> None:
    assert name in repr(_all_initialisers()[name])
