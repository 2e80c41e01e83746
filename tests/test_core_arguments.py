"""The teaching core's answers to bad arguments: layers, errors, penalties, initialisers,
functional and gradcheck.

Each case a tester met is here, with the message it now gives (a TypeError for the wrong
kind of value, a ValueError for an unusable one, each naming the argument and its value),
or with a check that it now works: lists and integer arrays are taken as floats
everywhere an array goes. Every public class of these modules has cases (a test fails
when a new one has none).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import mlp
from mlp import errors, functional, initialisers, layers, penalties, registry
from mlp.errors import CrossEntropySoftmaxError, SumOfSquaredDiffsError
from mlp.gradcheck import (
    check_error_gradients,
    check_layer_gradients,
    numerical_gradient,
    relative_error,
)
from mlp.initialisers import (
    ConstantInit,
    GlorotNormalInit,
    GlorotUniformInit,
    HeNormalInit,
    HeUniformInit,
    NormalInit,
    UniformInit,
)
from mlp.layers import (
    AffineLayer,
    DropoutLayer,
    ELULayer,
    LeakyReluLayer,
    ReluLayer,
    SigmoidLayer,
    SoftmaxLayer,
    SwishLayer,
    TanhLayer,
)
from mlp.penalties import L1Penalty, L2Penalty

BATCH, DIM = 5, 4
INF, NAN = math.inf, math.nan


def _x(shape: tuple[int, ...] = (BATCH, DIM), seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    return rng.uniform(0.1, 2.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)


ELEMENTWISE = {
    "SigmoidLayer": SigmoidLayer,
    "TanhLayer": TanhLayer,
    "ReluLayer": ReluLayer,
    "LeakyReluLayer": lambda: LeakyReluLayer(0.1),
    "ELULayer": lambda: ELULayer(0.7),
    "SwishLayer": SwishLayer,
    "SoftmaxLayer": SoftmaxLayer,
    "DropoutLayer": lambda: DropoutLayer(np.random.RandomState(0), 0.6, False),
    "ParametricReluLayer": lambda: layers.ParametricReluLayer(0.3),
    "RandomReluLayer": lambda: layers.RandomReluLayer(rng=np.random.RandomState(0)),
    "ExponentialLinearUnitLayer": lambda: layers.ExponentialLinearUnitLayer(0.2),
}
# Layers that change the shape of their inputs; tests/test_course_layers.py checks their
# arguments.
RESHAPING_LAYERS = {"RadialBasisFunctionLayer", "MaxPoolingLayer"}
ABSTRACT_LAYERS = {"Layer", "LayerWithParameters", "StochasticLayer"}
# Image and reshaping layers: their arguments below, their shapes in test_convolution.py.
SHAPING_LAYERS = {"ConvolutionalLayer", "MaxPooling2DLayer", "ReshapeLayer"}


def _affine() -> AffineLayer:
    rng = np.random.RandomState(1)
    return AffineLayer(DIM, 3, UniformInit(-1, 1, rng=rng), UniformInit(-1, 1, rng=rng))


def test_every_layer_class_has_cases() -> None:
    # BatchNormalizationLayer's argument checks: tests/test_normalisation.py.
    covered = set(ELEMENTWISE) | {"AffineLayer", "BatchNormalizationLayer"} | SHAPING_LAYERS
    assert set(layers.__all__) == covered | ABSTRACT_LAYERS | RESHAPING_LAYERS, (
        "add the new layer to ELEMENTWISE (or here)"
    )


def test_every_error_penalty_and_initialiser_class_has_cases() -> None:
    assert set(errors.__all__) == {e.__name__ for e in ERRORS}
    assert set(penalties.__all__) == {"L1Penalty", "L2Penalty"}
    assert set(initialisers.__all__) == set(INITIALISERS)


# ---------------------------------------------------------------------------------------
# Layer hyperparameters
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: LeakyReluLayer("a"), TypeError, "LeakyReluLayer alpha must be a finite number >= 0, got 'a'"),
        (lambda: LeakyReluLayer(INF), ValueError, "LeakyReluLayer alpha must be a finite number >= 0, got inf"),
        (lambda: LeakyReluLayer(True), ValueError, "LeakyReluLayer alpha .* got True"),
        (lambda: ELULayer(None), TypeError, "ELULayer alpha must be a finite number >= 0, got None"),
        (lambda: ELULayer(alpha=INF), ValueError, "ELULayer alpha must be a finite number >= 0, got inf"),
        (lambda: ELULayer(alpha=NAN), ValueError, "ELULayer alpha .* got nan"),
        (lambda: DropoutLayer(incl_prob="0.5"), TypeError, r"DropoutLayer incl_prob must be a finite number in \(0, 1\], got '0.5'"),
        (lambda: DropoutLayer(incl_prob=INF), ValueError, "DropoutLayer incl_prob .* got inf"),
        (lambda: DropoutLayer(share_across_batch="no"), TypeError, "DropoutLayer share_across_batch must be True or False, got 'no'"),
        (lambda: DropoutLayer(rng="seed"), TypeError, "rng must be a numpy RandomState"),
    ],
)  # fmt: skip
def test_layer_hyperparameters_are_checked(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: layers.ConvolutionalLayer(0, 1, 5, 5, 2, 2), ValueError, "ConvolutionalLayer num_input_channels"),
        (lambda: layers.ConvolutionalLayer(1, 1.5, 5, 5, 2, 2), ValueError, "ConvolutionalLayer num_output_channels"),
        (lambda: layers.ConvolutionalLayer(1, 1, 5, 5, 2, 9), ValueError, r"kernel_width \(9\) is larger than input_width"),
        (lambda: layers.ConvolutionalLayer(1, 1, 5, 5, 2, 2, kernels_init=0.1), TypeError, "ConvolutionalLayer kernels_init must be an initialiser"),
        (lambda: layers.ConvolutionalLayer(1, 1, 5, 5, 2, 2, biases_penalty="l2"), TypeError, "ConvolutionalLayer biases_penalty must be a penalty"),
        (lambda: layers.ConvolutionalLayer(1, 1, 5, 5, 2, 2, dtype="abc"), TypeError, "ConvolutionalLayer dtype"),
        (lambda: layers.MaxPooling2DLayer(pool_size="2"), TypeError, "MaxPooling2DLayer pool_size"),
        (lambda: layers.MaxPooling2DLayer(pool_size=0), ValueError, "MaxPooling2DLayer pool_size"),
        (lambda: layers.ReshapeLayer(output_shape=(2, 0)), ValueError, "ReshapeLayer output_shape"),
        (lambda: layers.ReshapeLayer(output_shape=(2.0,)), TypeError, "ReshapeLayer output_shape"),
    ],
)  # fmt: skip
def test_shaping_layer_arguments_are_checked(make, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        make()


def test_a_refused_dropout_layer_leaves_its_rng_alone() -> None:
    rng = np.random.RandomState(5)
    with pytest.raises(TypeError, match="share_across_batch"):
        DropoutLayer(rng, 0.5, share_across_batch=1)
    assert rng.uniform() == np.random.RandomState(5).uniform()


# ---------------------------------------------------------------------------------------
# AffineLayer's arguments: sizes, initialisers, penalties, dtype
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"weights_initialiser": 0.1}, TypeError, r"AffineLayer weights_initialiser must be an initialiser .*, got 0.1"),
        ({"biases_initialiser": "zeros"}, TypeError, r"AffineLayer biases_initialiser must be an initialiser .*, got 'zeros'"),
        ({"weights_initialiser": UniformInit}, TypeError, r"weights_initialiser got the class UniformInit: pass UniformInit\(\.\.\.\), an instance"),
        ({"biases_initialiser": ConstantInit}, TypeError, r"pass ConstantInit\(\.\.\.\), an instance"),
        ({"weights_penalty": 1e-4}, TypeError, r"AffineLayer weights_penalty must be a penalty such as L2Penalty\(1e-4\) .*, got 0.0001"),
        ({"weights_penalty": L2Penalty}, TypeError, r"weights_penalty got the class L2Penalty: pass L2Penalty\(\.\.\.\), an instance"),
        ({"biases_penalty": lambda p: 0.0}, TypeError, r"AffineLayer biases_penalty must be a penalty .*grad"),
        ({"dtype": "abc"}, TypeError, r"AffineLayer dtype must be float32 or float64 .*, got 'abc'"),
        ({"dtype": np.int64}, ValueError, r"AffineLayer dtype must be float32 or float64"),
    ],
)  # fmt: skip
def test_affine_arguments_of_the_wrong_kind_are_named(kwargs, error, message: str) -> None:
    with pytest.raises(error, match=message):
        AffineLayer(4, 3, **kwargs)


def test_affine_takes_a_number_where_an_initialiser_goes_as_a_mistake() -> None:
    with pytest.raises(TypeError, match=r"weights_initialiser must be an initialiser"):
        AffineLayer(4, 3, 0.1)


@pytest.mark.parametrize("dims", [("4", 3), (4, None)])
def test_affine_sizes_that_are_no_numbers_are_type_errors(dims) -> None:
    with pytest.raises(
        TypeError, match=r"AffineLayer (input|output)_dim must be a positive integer"
    ):
        AffineLayer(*dims)


def test_a_refused_affine_layer_leaves_its_initialisers_rng_alone() -> None:
    rng = np.random.RandomState(0)
    with pytest.raises(TypeError, match="weights_penalty"):
        AffineLayer(4, 3, UniformInit(-1, 1, rng=rng), weights_penalty=1e-4)
    assert rng.uniform() == np.random.RandomState(0).uniform()


def test_affine_takes_any_penalty_with_a_grad() -> None:
    class Half:
        def __call__(self, parameter: np.ndarray) -> float:
            return 0.5 * float(parameter.sum())

        def grad(self, parameter: np.ndarray) -> np.ndarray:
            return np.full_like(parameter, 0.5)

    layer = AffineLayer(4, 3, weights_penalty=Half())
    assert layer.params_penalty() == pytest.approx(0.5 * float(layer.weights.sum()))


# ---------------------------------------------------------------------------------------
# Layer inputs: lists, integers, 0-d arrays, empty rows, strings
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_elementwise_bprop_takes_lists_and_integer_arrays(name: str) -> None:
    layer = ELEMENTWISE[name]()
    x = _x()
    outputs = layer.fprop(x)
    upstream = np.random.RandomState(1).normal(size=x.shape)
    expected = layer.bprop(x, outputs, upstream)
    got = layer.bprop(x.tolist(), outputs.tolist(), upstream.tolist())
    np.testing.assert_array_equal(got, expected)
    ints = np.arange(BATCH * DIM).reshape(BATCH, DIM) % 3 - 1
    from_ints = layer.bprop(x, outputs, ints)
    np.testing.assert_array_equal(from_ints, layer.bprop(x, outputs, ints.astype(np.float32)))
    assert from_ints.dtype.kind == "f"


def test_leaky_relu_bprop_takes_integer_gradients() -> None:
    layer = LeakyReluLayer(0.1)
    x = np.array([[-2.0, 3.0]], np.float32)
    grads = layer.bprop(x, layer.fprop(x), np.array([[1, 1]]))
    np.testing.assert_allclose(grads, [[0.1, 1.0]], rtol=1e-7)
    assert grads.dtype == np.float32


@pytest.mark.parametrize("name", ["ReluLayer", "LeakyReluLayer", "ELULayer", "SwishLayer", "SigmoidLayer", "SoftmaxLayer", "DropoutLayer"])  # fmt: skip
def test_bprop_refuses_inputs_that_would_broadcast_against_outputs(name: str) -> None:
    layer = ELEMENTWISE[name]()
    x = _x()
    outputs = layer.fprop(x)
    with pytest.raises(
        ValueError, match=r"bprop needs inputs shaped like its outputs \(5, 4\), got \(5, 1\)"
    ):
        layer.bprop(x[:, :1], outputs, np.ones_like(outputs))


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_zero_dimensional_inputs_are_refused(name: str) -> None:
    layer = ELEMENTWISE[name]()
    with pytest.raises(
        ValueError, match=r"needs inputs of shape \(batch_size, \.\.\.\), got a 0-d"
    ):
        layer.fprop(np.float32(1.5))
    with pytest.raises(ValueError, match=r"\(batch_size, 4\), got \(\)"):
        _affine().fprop(np.float32(1.5))


@pytest.mark.parametrize("name", list(ELEMENTWISE))
def test_inputs_that_are_no_numbers_are_named(name: str) -> None:
    layer = ELEMENTWISE[name]()
    with pytest.raises(TypeError, match=r"inputs must be an array of numbers, got an array of <U1"):
        layer.fprop([["a", "b"]])
    with pytest.raises(ValueError, match=r"inputs must be an array of numbers, got ragged"):
        layer.fprop([[1.0, 2.0], [3.0]])


def test_softmax_refuses_rows_without_inputs() -> None:
    with pytest.raises(
        ValueError,
        match=r"SoftmaxLayer needs at least one input per row, got inputs of shape \(5, 0\)",
    ):
        SoftmaxLayer().fprop(np.zeros((5, 0), np.float32))


def test_affine_bprop_and_grads_wrt_params_take_lists_and_integers() -> None:
    layer = _affine()
    x = _x().astype(np.float32)
    upstream = np.random.RandomState(2).normal(size=(BATCH, 3)).astype(np.float32)
    outputs = layer.fprop(x)
    np.testing.assert_array_equal(
        layer.bprop(x.tolist(), outputs.tolist(), upstream.tolist()),
        layer.bprop(x, outputs, upstream.astype(np.float64)),
    )
    for got, want in zip(
        layer.grads_wrt_params(x.tolist(), upstream.tolist()),
        layer.grads_wrt_params(x.astype(np.float64), upstream.astype(np.float64)),
        strict=True,
    ):
        np.testing.assert_array_equal(got, want)
    ints = np.ones((BATCH, 3), np.int64)
    grads = layer.grads_wrt_params(x, ints)
    assert [g.dtype for g in grads] == [np.float32, np.float32]


def test_affine_bprop_checks_its_inputs_and_batch() -> None:
    layer = _affine()
    with pytest.raises(
        ValueError, match=r"expects inputs of shape \(batch_size, 4\), got \(5, 1\)"
    ):
        layer.bprop(np.ones((5, 1)), None, np.ones((5, 3)))
    with pytest.raises(ValueError, match="5 inputs but 2 rows"):
        layer.bprop(np.ones((5, 4)), None, np.ones((2, 3)))


def test_dropout_on_integer_inputs_computes_in_floats() -> None:
    ints = np.arange(40).reshape(4, 10) % 4
    got = DropoutLayer(np.random.RandomState(0), 0.5).fprop(ints)
    want = DropoutLayer(np.random.RandomState(0), 0.5).fprop(ints.astype(np.float32))
    assert np.isfinite(got).all() and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    evaluated = DropoutLayer(np.random.RandomState(0)).fprop(ints.tolist(), stochastic=False)
    np.testing.assert_array_equal(evaluated, ints)
    assert evaluated.dtype == np.float32


def test_dropout_shares_one_mask_across_the_batch_for_any_shape() -> None:
    x = np.ones((6, 2, 3), np.float32)
    outputs = DropoutLayer(np.random.RandomState(0), 0.5, share_across_batch=True).fprop(x)
    assert outputs.shape == x.shape
    assert (outputs == outputs[:1]).all()


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------

ERRORS = [
    errors.SumOfSquaredDiffsError,
    errors.CrossEntropyError,
    errors.CrossEntropySoftmaxError,
    errors.BinaryCrossEntropyError,
    errors.BinaryCrossEntropySigmoidError,
]


def _probabilities() -> np.ndarray:
    exp = np.exp(_x() * 0.5)
    return exp / exp.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda c: c.__name__)
def test_errors_take_lists(error_class) -> None:
    error = error_class()
    outputs, targets = _probabilities(), np.eye(DIM)[[0, 1, 2, 3, 0]]
    assert error(outputs.tolist(), targets.tolist()) == error(outputs, targets)
    np.testing.assert_array_equal(
        error.grad(outputs.tolist(), targets.tolist()), error.grad(outputs, targets)
    )


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda c: c.__name__)
def test_errors_take_integer_outputs_as_floats(error_class) -> None:
    error = error_class()
    outputs, targets = np.eye(DIM, dtype=np.int64)[[0, 1, 2, 3, 0]], np.eye(DIM)[[0, 1, 2, 3, 1]]
    floats = outputs.astype(np.float32)
    assert error(outputs, targets) == error(floats, targets)
    grads = error.grad(outputs, targets)
    np.testing.assert_array_equal(grads, error.grad(floats, targets))
    assert grads.dtype == np.float32


@pytest.mark.parametrize("error_class", ERRORS, ids=lambda c: c.__name__)
def test_errors_refuse_rows_without_outputs_and_0d_arrays(error_class) -> None:
    error = error_class()
    empty = np.zeros((5, 0), np.float32)
    for call in (error, error.grad):
        with pytest.raises(
            ValueError, match=r"needs at least one output per example, got \(5, 0\)"
        ):
            call(empty, empty)
        with pytest.raises(
            ValueError, match=r"one shape \(batch_size, output_dim\), got \(\) and \(\)"
        ):
            call(0.5, 1.0)


def test_errors_name_targets_that_are_no_numbers() -> None:
    with pytest.raises(
        TypeError, match=r"CrossEntropySoftmaxError targets must be an array of numbers"
    ):
        CrossEntropySoftmaxError().grad(np.zeros((2, 2)), [["a", "b"], ["c", "d"]])
    with pytest.raises(
        TypeError, match=r"SumOfSquaredDiffsError outputs must be an array of numbers, got None"
    ):
        SumOfSquaredDiffsError()(None, np.zeros((2, 2)))


# ---------------------------------------------------------------------------------------
# Penalties
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("penalty_class", [L1Penalty, L2Penalty])
@pytest.mark.parametrize(
    ("coefficient", "error", "shown"),
    [("a", TypeError, "'a'"), (None, TypeError, "None"), (INF, ValueError, "inf"), (True, ValueError, "True")],
)  # fmt: skip
def test_penalty_coefficients_are_checked(penalty_class, coefficient, error, shown: str) -> None:
    name = penalty_class.__name__
    with pytest.raises(
        error, match=rf"{name} coefficient must be a finite number >= 0, got {shown}"
    ):
        penalty_class(coefficient)


@pytest.mark.parametrize("penalty_class", [L1Penalty, L2Penalty])
def test_penalties_take_lists_and_integer_arrays(penalty_class) -> None:
    penalty = penalty_class(0.5)
    parameter = _x((3, 4))
    assert penalty(parameter.tolist()) == penalty(parameter)
    np.testing.assert_array_equal(penalty.grad(parameter.tolist()), penalty.grad(parameter))
    ints = np.array([[1, -2], [0, 3]])
    np.testing.assert_array_equal(penalty.grad(ints), penalty.grad(ints.astype(np.float32)))
    with pytest.raises(TypeError, match=rf"{penalty_class.__name__}\(0.5\) parameter must be"):
        penalty.grad("abc")


# ---------------------------------------------------------------------------------------
# Initialisers
# ---------------------------------------------------------------------------------------

INITIALISERS = {
    "ConstantInit": lambda: ConstantInit(0.5),
    "UniformInit": lambda: UniformInit(-1, 1, rng=np.random.RandomState(0)),
    "NormalInit": lambda: NormalInit(0, 1, rng=np.random.RandomState(0)),
    "GlorotUniformInit": lambda: GlorotUniformInit(rng=np.random.RandomState(0)),
    "GlorotNormalInit": lambda: GlorotNormalInit(rng=np.random.RandomState(0)),
    "HeUniformInit": lambda: HeUniformInit(rng=np.random.RandomState(0)),
    "HeNormalInit": lambda: HeNormalInit(rng=np.random.RandomState(0)),
}
PLAIN = ["ConstantInit", "UniformInit", "NormalInit"]
SCALED = [name for name in INITIALISERS if name not in PLAIN]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: ConstantInit("a"), TypeError, "ConstantInit value must be a finite number, got 'a'"),
        (lambda: ConstantInit(NAN), ValueError, "ConstantInit value must be a finite number, got nan"),
        (lambda: NormalInit(0.0, std=INF), ValueError, "NormalInit std must be a finite number >= 0, got inf"),
        (lambda: NormalInit(mean=NAN, std=1.0), ValueError, "NormalInit mean must be a finite number, got nan"),
        (lambda: NormalInit("0", 1.0), TypeError, "NormalInit mean must be a finite number, got '0'"),
        (lambda: UniformInit(0, INF), ValueError, "UniformInit high must be a finite number, got inf"),
        (lambda: UniformInit(None, 1), TypeError, "UniformInit low must be a finite number, got None"),
        (lambda: UniformInit(-1e308, 1e308), ValueError, "UniformInit needs low <= high, a finite width apart"),
        (lambda: GlorotUniformInit(gain=INF), ValueError, "GlorotUniformInit gain must be a finite number > 0, got inf"),
        (lambda: HeNormalInit(gain="1"), TypeError, "HeNormalInit gain must be a finite number > 0, got '1'"),
    ],
)  # fmt: skip
def test_initialiser_arguments_are_checked_at_construction(make, error, message: str) -> None:
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("name", list(INITIALISERS))
def test_initialiser_shapes_given_as_an_int(name: str) -> None:
    init = INITIALISERS[name]()
    if name in PLAIN:
        assert init(5).shape == (5,)
    else:
        with pytest.raises(ValueError, match="2-D weight shape"):
            init(5)


@pytest.mark.parametrize("name", list(INITIALISERS))
@pytest.mark.parametrize(
    ("shape", "error"), [(None, TypeError), ("3", TypeError), ((2.5, 3), ValueError), ((-1, 3), ValueError)]
)  # fmt: skip
def test_initialisers_refuse_what_is_no_shape(name: str, shape, error) -> None:
    with pytest.raises(error, match=rf"{name}\(.*\) shape must be a"):
        INITIALISERS[name]()(shape)


@pytest.mark.parametrize("name", list(INITIALISERS))
@pytest.mark.parametrize("shape", [(0, 3), (3, 0)])
def test_initialiser_shapes_with_a_zero(name: str, shape: tuple[int, int]) -> None:
    init = INITIALISERS[name]()
    if name in PLAIN:
        assert init(shape).shape == shape  # an empty array is the right answer
    else:
        with pytest.raises(ValueError, match=r"needs fan_in and fan_out of at least 1"):
            init(shape)


def test_a_gain_too_large_for_the_shape_is_refused_before_drawing() -> None:
    rng = np.random.RandomState(0)
    with pytest.raises(
        ValueError, match=r"GlorotUniformInit\(gain=1e\+308\) gives an infinite scale"
    ):
        GlorotUniformInit(gain=1e308, rng=rng)((1, 1))
    assert rng.uniform() == np.random.RandomState(0).uniform()


def test_initialisers_give_the_same_draws_for_lists_tuples_and_ints() -> None:
    with mlp.default_dtype(np.float64):
        as_tuple = UniformInit(0, 1, rng=np.random.RandomState(3))((2, 3))
        as_list = UniformInit(0, 1, rng=np.random.RandomState(3))([2, 3])
        flat = NormalInit(0, 1, rng=np.random.RandomState(3))(6)
    np.testing.assert_array_equal(as_tuple, as_list)
    np.testing.assert_array_equal(flat, np.random.RandomState(3).normal(0, 1, size=6))


# ---------------------------------------------------------------------------------------
# functional and gradcheck
# ---------------------------------------------------------------------------------------


def test_functional_takes_integer_lists_and_refuses_empty_rows() -> None:
    np.testing.assert_array_equal(functional.sigmoid([[0, 0]]), [[0.5, 0.5]])
    assert functional.softplus([[0]]).dtype == mlp.get_default_dtype()
    for function in (functional.softmax, functional.log_softmax):
        np.testing.assert_allclose(np.exp(functional.log_softmax([[1, 1]])), [[0.5, 0.5]])
        with pytest.raises(
            ValueError, match=r"needs x of shape \(batch_size, dim\) with dim >= 1, got \(5, 0\)"
        ):
            function(np.zeros((5, 0)))
        with pytest.raises(ValueError, match=r"with dim >= 1, got \(\)"):
            function(np.float64(1.0))


def test_gradcheck_says_pass_an_instance_for_a_class() -> None:
    with pytest.raises(
        TypeError,
        match=r"check_layer_gradients layer got the class SigmoidLayer: pass SigmoidLayer\(\), an instance",
    ):
        check_layer_gradients(SigmoidLayer, _x())
    with pytest.raises(TypeError, match=r"pass CrossEntropySoftmaxError\(\), an instance"):
        check_error_gradients(CrossEntropySoftmaxError, _x(), np.eye(DIM)[[0, 1, 2, 3, 0]])
    with pytest.raises(TypeError, match=r"layer must be a layer with fprop and bprop, got 3"):
        check_layer_gradients(3, _x())
    with pytest.raises(TypeError, match=r"error must be an error object, callable with a grad"):
        check_error_gradients(lambda y, t: 0.0, _x(), _x())


def test_gradcheck_takes_lists_and_checks_its_numbers() -> None:
    assert check_layer_gradients(TanhLayer(), _x().tolist())["inputs"] < 1e-6
    assert (
        check_error_gradients(SumOfSquaredDiffsError(), _x().tolist(), _x(seed=1).tolist()) < 1e-6
    )
    with pytest.raises(
        ValueError, match=r"check_layer_gradients eps must be a finite number > 0, got 0"
    ):
        check_layer_gradients(TanhLayer(), _x(), eps=0)
    with pytest.raises(
        TypeError, match=r"numerical_gradient x must be a float array .*got ndarray int64"
    ):
        numerical_gradient(lambda: 0.0, np.arange(3))
    with pytest.raises(
        TypeError, match=r"numerical_gradient f must be a function of no arguments, got 1"
    ):
        numerical_gradient(1, np.zeros(3))
    with pytest.raises(TypeError, match=r"relative_error analytic must be an array of numbers"):
        relative_error(["a"], [1.0])
    assert relative_error([1, 2], [1.0, 2.0]) == 0.0


# ---------------------------------------------------------------------------------------
# The classes agree with the registry's declarations
# ---------------------------------------------------------------------------------------


def _refused_values(hp) -> list[object]:
    """Values the registry's declaration of `hp` refuses: out of range, inf, a string."""
    values: list[object] = ["a", INF]
    if hp.low is not None:
        values.append(hp.low if hp.low_open else hp.low - 0.5)
    if hp.high is not None:
        values.append(hp.high if hp.high_open else hp.high + 0.5)
    return values


def _declared_numbers(kinds: tuple[str, ...]):
    for kind in kinds:
        for entry in registry.entries(kind):
            for hp in entry.hyperparameters:
                if hp.type is float:
                    yield pytest.param(entry, hp, id=f"{entry.name}-{hp.name}")


# The arguments a layer class needs besides its declared hyperparameters.
REQUIRED_ARGUMENTS: dict[str, dict[str, object]] = {"BatchNormalizationLayer": {"input_dim": 3}}


@pytest.mark.parametrize(("entry", "hp"), list(_declared_numbers(("activation", "layer"))))
def test_layers_built_directly_refuse_what_the_registry_refuses(entry, hp) -> None:
    required = REQUIRED_ARGUMENTS.get(entry.layer_class.__name__, {})
    for value in _refused_values(hp):
        assert isinstance(value, str) or hp.problem(value) is not None
        with pytest.raises(
            (TypeError, ValueError), match=rf"{entry.layer_class.__name__} {hp.name} must be"
        ):
            entry.layer_class(**required, **{hp.name: value})
    entry.layer_class(**required, **{hp.name: hp.default})


@pytest.mark.parametrize(("entry", "hp"), list(_declared_numbers(("init",))))
def test_initialisers_built_directly_refuse_what_the_registry_refuses(entry, hp) -> None:
    # The factory without the registry's own check (`entry.build` checks first); no
    # string, which a factory may negate before the class sees it.
    for value in _refused_values(hp)[1:]:
        with pytest.raises(
            (TypeError, ValueError),
            match=r"Init (low|high|std|gain) must be|UniformInit needs low <= high",
        ):
            entry.numpy(**{hp.name: value, "rng": None})
    entry.numpy(**{hp.name: hp.default, "rng": None})


def test_dropout_fprop_takes_only_a_bool_for_stochastic() -> None:
    with pytest.raises(
        TypeError, match=r"DropoutLayer\(.*\) stochastic must be True or False, got 'no'"
    ):
        DropoutLayer(np.random.RandomState(0)).fprop(np.ones((2, 3)), stochastic="no")


def test_affine_params_must_be_a_list_of_two_arrays() -> None:
    layer = _affine()
    with pytest.raises(
        TypeError, match=r"AffineLayer\(.*\) params must be a list \[weights, biases\], got 3"
    ):
        layer.params = 3
    layer.params = (w for w in [np.zeros((3, DIM)), np.zeros(3)])  # any iterable
    assert not layer.weights.any()
