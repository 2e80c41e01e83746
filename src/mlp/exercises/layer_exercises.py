"""The layer exercises: the non-linearities, softmax and the affine layer.

Each exercise checks `fprop` and `bprop` (and the affine layer's `grads_wrt_params`)
against mlp's own layer on a few cases, in this order: a small hand-readable batch, a
seeded random batch (values kept at least 0.1 away from ReLU's kink, so finite
differences hold), large magnitudes (+-50 and +-800: exp overflows in float64 past about
709), zeros, and a 3-d batch for the elementwise layers. `bprop` is given the reference
layer's outputs, so a wrong `fprop` does not spoil the `bprop` check.

The mistakes are planted in subclasses of the reference that override one method; the
checker compares a student's results with theirs to give hints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlp import dtypes, gradcheck, layers
from mlp.exercises.exercise import Case, Exercise, Method, Mistake

__all__ = ["EXERCISES"]

_IMPORTS = ("import numpy as np", "from mlp.layers import Layer, LayerWithParameters")
_NOTES = {"module": "my_layers"}

# --- running a method on a case -------------------------------------------------------


def _elementwise(cls: type, case: Case) -> Any:
    """An instance of an elementwise layer class built with the case's settings."""
    return cls(**{name: float(value) for name, value in case.settings.items()})


def _affine(cls: type, case: Case) -> Any:
    """An affine layer of the case's sizes holding the case's weights and biases."""
    with dtypes.default_dtype(np.float64):
        layer = cls(int(case.settings["input_dim"]), int(case.settings["output_dim"]))
    layer.weights = case.arrays["weights"]
    layer.biases = case.arrays["biases"]
    return layer


Build = Callable[[type, Case], Any]


def _methods(build: Build, with_params: bool = False) -> tuple[Method, ...]:
    """fprop and bprop (and grads_wrt_params) of the layer `build` makes from a case."""

    def fprop(cls: type, case: Case) -> Any:
        return build(cls, case).fprop(case.arrays["inputs"])

    def bprop(cls: type, case: Case) -> Any:
        a = case.arrays
        return build(cls, case).bprop(a["inputs"], a["outputs"], a["grads_wrt_outputs"])

    def grads_wrt_params(cls: type, case: Case) -> Any:
        a = case.arrays
        # Returned as given: a tuple is as good as a list, anything else is reported.
        return build(cls, case).grads_wrt_params(a["inputs"], a["grads_wrt_outputs"])

    methods = [Method("fprop", fprop), Method("bprop", bprop)]
    if with_params:
        methods.append(Method("grads_wrt_params", grads_wrt_params))
    return tuple(methods)


def _gradient_check(build: Build) -> Callable[[type, Case], float]:
    """gradient_check(cls, case): the largest relative error of the layer's bprop (and
    grads_wrt_params) against finite differences of its own fprop on case's inputs."""

    def check(cls: type, case: Case) -> float:
        layer = build(cls, case)
        errors = gradcheck.check_layer_gradients(
            layer, case.arrays["inputs"], rng=np.random.default_rng(0)
        )
        return max(errors.values())

    return check


# --- the cases ------------------------------------------------------------------------

_SMALL = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 2.0]])
_SMALL_GRADS = np.array([[1.0, -1.0, 0.5], [2.0, 1.0, -0.5]])
_LARGE = np.array([[-800.0, -50.0, -20.0], [20.0, 50.0, 800.0]])


def _away_from_zero(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Random values of either sign with magnitudes in [0.1, 3)."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.1, 3.0, size=shape)


def _elementwise_cases(
    reference: type, settings: dict[str, float], any_shape: bool = True
) -> Callable[[np.random.Generator], list[Case]]:
    """cases(rng) for an elementwise (or row-wise) layer built with `settings`."""

    def case(label: str, inputs: np.ndarray, grads: np.ndarray) -> Case:
        outputs = reference(**settings).fprop(inputs)
        arrays = {"inputs": inputs, "outputs": outputs, "grads_wrt_outputs": grads}
        return Case(label, arrays, dict(settings))

    def cases(rng: np.random.Generator) -> list[Case]:
        made = [
            case("small", _SMALL.copy(), _SMALL_GRADS.copy()),
            case("random", _away_from_zero(rng, (4, 5)), rng.normal(size=(4, 5))),
            case("large magnitudes", _LARGE.copy(), rng.normal(size=(2, 3))),
            case("zeros", np.zeros((3, 4)), rng.normal(size=(3, 4))),
        ]
        if any_shape:
            made.append(
                case("shape (2, 3, 4)", rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 3, 4)))
            )
        return made

    return cases


def _affine_case(label: str, inputs: np.ndarray, weights: np.ndarray, rng: Any) -> Case:
    """A case for the affine layer: the given inputs and weights, random biases and
    upstream gradients, and the reference's outputs."""
    output_dim, input_dim = weights.shape
    biases = rng.normal(size=output_dim) if label != "small" else np.array([0.5, -0.5])
    grads = rng.normal(size=(inputs.shape[0], output_dim))
    if label == "small":
        grads = np.array([[1.0, -1.0], [0.5, 2.0]])
    settings = {"input_dim": float(input_dim), "output_dim": float(output_dim)}
    arrays = {"inputs": inputs, "weights": weights, "biases": biases, "grads_wrt_outputs": grads}
    outputs = _affine(layers.AffineLayer, Case(label, arrays, settings)).fprop(inputs)
    return Case(label, {**arrays, "outputs": outputs}, settings)


def _affine_cases(rng: np.random.Generator) -> list[Case]:
    small_w = np.array([[0.1, -0.2, 0.3], [0.5, 0.0, -1.0]])
    return [
        _affine_case("small", np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]]), small_w, rng),
        _affine_case("random", rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), rng),
        _affine_case("square weights", rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng),
        _affine_case(
            "large magnitudes", 50 * rng.normal(size=(2, 3)), rng.normal(size=(2, 3)), rng
        ),
        _affine_case("zeros", np.zeros((3, 2)), rng.normal(size=(4, 2)), rng),
    ]


# --- planted mistakes -----------------------------------------------------------------


def _plant(reference: type, method: str, name: str, hint: str, body: Callable) -> Mistake:
    """A Mistake whose planted class is `reference` with `method` replaced by `body`."""
    planted = type(f"{reference.__name__}With_{name.replace('-', '_')}", (reference,), {})
    setattr(planted, method, body)
    return Mistake(name, method, hint, planted)


_SIGN_HINT = (
    "your gradients have the right size but the wrong sign: bprop multiplies "
    "grads_wrt_outputs by the derivative dy/dx, with no minus sign"
)
_UPSTREAM_HINT = (
    "bprop returned dy/dx alone: multiply it by grads_wrt_outputs (the chain rule), "
    "so the gradients of the layers above reach the inputs"
)
_IN_PLACE_HINT = (
    "fprop wrote its results into the inputs array: the model keeps the inputs for "
    "bprop, so compute into a new array (np.tanh(x), not np.tanh(x, out=x))"
)


def _sigmoid_mistakes() -> tuple[Mistake, ...]:
    ref = layers.SigmoidLayer
    return (
        _plant(
            ref,
            "fprop",
            "exponent-sign",
            "fprop computed 1 / (1 + exp(x)): the exponent is -x, so that large positive "
            "inputs give outputs near 1",
            lambda self, x: 1 / (1 + np.exp(x)),
        ),
        _plant(
            ref,
            "bprop",
            "inputs-for-outputs",
            "bprop computed x (1 - x) from the inputs: the derivative is y (1 - y) with "
            "y = sigmoid(x), the outputs",
            lambda self, x, y, g: g * x * (1 - x),
        ),
        _plant(ref, "bprop", "sign-flip", _SIGN_HINT, lambda self, x, y, g: -g * y * (1 - y)),
        _plant(
            ref,
            "bprop",
            "tanh-derivative",
            "bprop used tanh's derivative 1 - y**2: the sigmoid's is y (1 - y)",
            lambda self, x, y, g: g * (1 - y**2),
        ),
        _plant(
            ref, "bprop", "no-upstream-gradient", _UPSTREAM_HINT, lambda self, x, y, g: y * (1 - y)
        ),
    )


def _tanh_mistakes() -> tuple[Mistake, ...]:
    ref = layers.TanhLayer
    return (
        _plant(ref, "fprop", "in-place", _IN_PLACE_HINT, lambda self, x: np.tanh(x, out=x)),
        _plant(
            ref,
            "bprop",
            "inputs-for-outputs",
            "bprop computed 1 - x**2 from the inputs: the derivative is 1 - y**2 with "
            "y = tanh(x), the outputs",
            lambda self, x, y, g: g * (1 - x**2),
        ),
        _plant(ref, "bprop", "sign-flip", _SIGN_HINT, lambda self, x, y, g: -g * (1 - y**2)),
        _plant(
            ref,
            "bprop",
            "sigmoid-derivative",
            "bprop used the sigmoid's derivative y (1 - y): tanh's is 1 - y**2",
            lambda self, x, y, g: g * y * (1 - y),
        ),
        _plant(
            ref,
            "bprop",
            "no-square",
            "bprop used 1 - y: tanh's derivative is 1 - y**2, the outputs squared",
            lambda self, x, y, g: g * (1 - y),
        ),
        _plant(
            ref, "bprop", "no-upstream-gradient", _UPSTREAM_HINT, lambda self, x, y, g: 1 - y**2
        ),
    )


def _relu_in_place(self: Any, x: np.ndarray) -> np.ndarray:
    x[x < 0] = 0
    return x


def _relu_mistakes() -> tuple[Mistake, ...]:
    ref = layers.ReluLayer
    return (
        _plant(
            ref,
            "fprop",
            "in-place",
            "fprop set the negative entries of the inputs array to 0: the model keeps the "
            "inputs for bprop, so compute a new array (np.maximum(x, 0))",
            _relu_in_place,
        ),
        _plant(
            ref,
            "bprop",
            "gradient-at-zero",
            "bprop let the gradient through where x == 0 (x >= 0): take the derivative at "
            "0 to be 0, as mlp and PyTorch do (x > 0)",
            lambda self, x, y, g: g * (x >= 0),
        ),
        _plant(
            ref,
            "bprop",
            "outputs-for-mask",
            "bprop multiplied by the outputs max(0, x): the derivative is 1 where x > 0 "
            "and 0 elsewhere, a mask, not the outputs",
            lambda self, x, y, g: g * y,
        ),
        _plant(ref, "bprop", "sign-flip", _SIGN_HINT, lambda self, x, y, g: -g * (x > 0)),
        _plant(
            ref,
            "bprop",
            "no-upstream-gradient",
            _UPSTREAM_HINT,
            lambda self, x, y, g: (x > 0) * 1.0,
        ),
    )


def _leaky_relu_mistakes() -> tuple[Mistake, ...]:
    ref = layers.LeakyReluLayer
    return (
        _plant(
            ref,
            "fprop",
            "slope-on-positive-side",
            "fprop scaled the positive inputs by alpha: y = x for x > 0 and alpha x elsewhere",
            lambda self, x: np.where(x > 0, self.alpha * x, x),
        ),
        _plant(
            ref,
            "bprop",
            "no-negative-slope",
            "bprop gave 0 where x <= 0, as ReLU does: the leaky ReLU's derivative is alpha there",
            lambda self, x, y, g: g * (x > 0),
        ),
        _plant(
            ref,
            "bprop",
            "slopes-swapped",
            "bprop used alpha for x > 0 and 1 elsewhere: it is 1 for x > 0 and alpha elsewhere",
            lambda self, x, y, g: g * np.where(x > 0, self.alpha, 1.0),
        ),
        _plant(
            ref,
            "bprop",
            "sign-flip",
            _SIGN_HINT,
            lambda self, x, y, g: -g * np.where(x > 0, 1.0, self.alpha),
        ),
    )


def _elu_mistakes() -> tuple[Mistake, ...]:
    ref = layers.ELULayer
    return (
        _plant(
            ref,
            "fprop",
            "no-minus-one",
            "fprop computed alpha exp(x) for x <= 0: it is alpha (exp(x) - 1), which is 0 "
            "at x = 0 and joins the line y = x",
            lambda self, x: np.where(x > 0, x, self.alpha * np.exp(np.minimum(x, 0))),
        ),
        _plant(
            ref,
            "fprop",
            "no-alpha",
            "fprop left out alpha: y = alpha (exp(x) - 1) for x <= 0",
            lambda self, x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        ),
        _plant(
            ref,
            "bprop",
            "exp-for-positive-inputs",
            "bprop used alpha exp(x) for x > 0 too: there the derivative is 1, and "
            "alpha exp(x) only for x <= 0",
            lambda self, x, y, g: g * self.alpha * np.exp(x),
        ),
        _plant(
            ref,
            "bprop",
            "no-alpha-in-derivative",
            "bprop used exp(x) for x <= 0: the derivative there is alpha exp(x)",
            lambda self, x, y, g: g * np.where(x > 0, 1.0, np.exp(np.minimum(x, 0))),
        ),
    )


def _softmax_no_shift(self: Any, x: np.ndarray) -> np.ndarray:
    exp = np.exp(x)
    return exp / exp.sum(axis=-1, keepdims=True)


def _softmax_wrong_axis(self: Any, x: np.ndarray) -> np.ndarray:
    exp = np.exp(x - x.max(axis=0, keepdims=True))
    return exp / exp.sum(axis=0, keepdims=True)


def _softmax_mistakes() -> tuple[Mistake, ...]:
    ref = layers.SoftmaxLayer
    return (
        _plant(
            ref,
            "fprop",
            "no-max-shift",
            "fprop overflowed for large inputs (exp(800) is inf, and inf / inf is NaN): "
            "subtract each row's maximum before exp; softmax does not change",
            _softmax_no_shift,
        ),
        _plant(
            ref,
            "fprop",
            "wrong-axis",
            "fprop normalised over the batch (axis 0): each row, one example's "
            "inputs, must sum to 1 (axis=-1, keepdims=True)",
            _softmax_wrong_axis,
        ),
        _plant(
            ref,
            "bprop",
            "diagonal-only",
            "bprop used only the diagonal y_i (1 - y_i) of the Jacobian: every output "
            "depends on every input of its row, so dx_i = y_i (g_i - sum_j g_j y_j)",
            lambda self, x, y, g: g * y * (1 - y),
        ),
        _plant(
            ref,
            "bprop",
            "sign-flip",
            _SIGN_HINT,
            lambda self, x, y, g: -y * (g - (g * y).sum(axis=-1, keepdims=True)),
        ),
    )


def _affine_mistakes() -> tuple[Mistake, ...]:
    return _affine_pass_mistakes() + _affine_params_mistakes()


def _affine_pass_mistakes() -> tuple[Mistake, ...]:
    """The affine layer's mistakes in fprop and bprop."""
    ref = layers.AffineLayer
    return (
        _plant(
            ref,
            "fprop",
            "no-bias",
            "fprop left out the biases: outputs = inputs @ W.T + b",
            lambda self, x: x @ self.weights.T,
        ),
        _plant(
            ref,
            "fprop",
            "weights-not-transposed",
            "fprop multiplied by W where W.T was meant: W has shape (output_dim, "
            "input_dim), so outputs = inputs @ W.T + b",
            lambda self, x: x @ self.weights + self.biases,
        ),
        _plant(
            ref,
            "bprop",
            "weights-transposed",
            "bprop multiplied by W.T where W was meant: grads_wrt_inputs (batch_size, "
            "input_dim) = grads_wrt_outputs (batch_size, output_dim) @ W",
            lambda self, x, y, g: g @ self.weights.T,
        ),
        _plant(ref, "bprop", "sign-flip", _SIGN_HINT, lambda self, x, y, g: -g @ self.weights),
    )


def _affine_params_mistakes() -> tuple[Mistake, ...]:
    """The affine layer's mistakes in grads_wrt_params."""
    ref = layers.AffineLayer
    return (
        _plant(
            ref,
            "grads_wrt_params",
            "divided-by-batch-size",
            "grads_wrt_params divided by the batch size: sum over the batch without "
            "dividing, since the error's grad already divides by it",
            lambda self, x, g: [g.T @ x / len(x), g.sum(axis=0) / len(x)],
        ),
        _plant(
            ref,
            "grads_wrt_params",
            "transposed-weights-gradient",
            "the weights' gradient is transposed: it must have W's shape (output_dim, "
            "input_dim), grads_wrt_outputs.T @ inputs",
            lambda self, x, g: [x.T @ g, g.sum(axis=0)],
        ),
        _plant(
            ref,
            "grads_wrt_params",
            "bias-summed-over-wrong-axis",
            "the biases' gradient summed over the outputs (axis 1): sum over the batch, "
            "grads_wrt_outputs.sum(axis=0), shape (output_dim,)",
            lambda self, x, g: [g.T @ x, g.sum(axis=1)],
        ),
        _plant(
            ref,
            "grads_wrt_params",
            "bias-not-summed",
            "the biases' gradient was not summed over the batch: "
            "grads_wrt_outputs.sum(axis=0), shape (output_dim,)",
            lambda self, x, g: [g.T @ x, g],
        ),
    )


# --- the skeletons --------------------------------------------------------------------

_ELEMENTWISE_SKELETON = '''
class {cls}({base}):
    """{title}: {forward}, elementwise.

    Shape:
        inputs: any shape (batch_size, ...); outputs and both gradients: the same.
    """

    keeps_shape = True
{init}
    def fprop(self, inputs):
        """Forward pass: {forward}.

        Args:
            inputs: array of shape (batch_size, input_dim), or any shape.
        Returns:
            outputs: array shaped like inputs.
        """
        raise NotImplementedError("{cls}.fprop: compute {forward}")

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        """Backward pass: grads_wrt_inputs = grads_wrt_outputs * dy/dx, with
        {derivative}.

        Args:
            inputs: the array fprop was given, x.
            outputs: the array fprop returned, y.
            grads_wrt_outputs: dE/dy, shaped like outputs.
        Returns:
            grads_wrt_inputs: dE/dx, shaped like inputs.
        """
        raise NotImplementedError("{cls}.bprop: compute grads_wrt_outputs * dy/dx")
'''

_ALPHA_INIT = """
    def __init__(self, alpha={alpha}):
        self.alpha = alpha
"""


def _elementwise_skeleton(
    cls: str, title: str, forward: str, derivative: str, alpha: float | None = None
) -> str:
    init = _ALPHA_INIT.format(alpha=alpha) if alpha is not None else ""
    return _ELEMENTWISE_SKELETON.format(
        cls=cls, base="Layer", title=title, forward=forward, derivative=derivative, init=init
    ).lstrip("\n")


_SOFTMAX_SKELETON = '''
class SoftmaxLayer(Layer):
    """Softmax layer: y_i = exp(x_i) / sum_j exp(x_j), along each row (the last axis).

    Shape:
        inputs: (batch_size, dim), or any shape (along the last axis);
        outputs and both gradients: the same.
    """

    keeps_shape = True

    def fprop(self, inputs):
        """Forward pass: each row of the outputs is positive and sums to 1.

        exp(800) overflows: softmax(x) = softmax(x - c) for any c, so subtract each
        row's maximum first.

        Args:
            inputs: array of shape (batch_size, dim).
        Returns:
            outputs: array of shape (batch_size, dim).
        """
        raise NotImplementedError("SoftmaxLayer.fprop: compute the row-wise softmax")

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        """Backward pass through the Jacobian dy_i/dx_k = y_i (delta_ik - y_k):

            grads_wrt_inputs_k = y_k (g_k - sum_i g_i y_i)    (g = grads_wrt_outputs)

        Args:
            inputs, outputs, grads_wrt_outputs: arrays of shape (batch_size, dim).
        Returns:
            grads_wrt_inputs: array of shape (batch_size, dim).
        """
        raise NotImplementedError("SoftmaxLayer.bprop: apply the softmax Jacobian")
'''.lstrip("\n")

_AFFINE_SKELETON = '''
class AffineLayer(LayerWithParameters):
    """Affine layer: outputs = inputs @ W.T + b.

    Shape:
        inputs: (batch_size, input_dim); outputs: (batch_size, output_dim)
        weights W: (output_dim, input_dim); biases b: (output_dim,)
    """

    def __init__(self, input_dim, output_dim, rng=None):
        self.input_dim = input_dim
        self.output_dim = output_dim
        rng = np.random.default_rng(rng)
        self.weights = rng.uniform(-0.1, 0.1, size=(output_dim, input_dim))
        self.biases = np.zeros(output_dim)

    def fprop(self, inputs):
        """Forward pass: y = x @ W.T + b for each row x of inputs.

        Args:
            inputs: array of shape (batch_size, input_dim).
        Returns:
            outputs: array of shape (batch_size, output_dim).
        """
        raise NotImplementedError("AffineLayer.fprop: compute inputs @ W.T + b")

    def bprop(self, inputs, outputs, grads_wrt_outputs):
        """Backward pass: dE/dx = dE/dy @ W.

        Args:
            inputs: array of shape (batch_size, input_dim).
            outputs: array of shape (batch_size, output_dim), what fprop returned.
            grads_wrt_outputs: array of shape (batch_size, output_dim).
        Returns:
            grads_wrt_inputs: array of shape (batch_size, input_dim).
        """
        raise NotImplementedError("AffineLayer.bprop: compute grads_wrt_outputs @ W")

    def grads_wrt_params(self, inputs, grads_wrt_outputs):
        """Gradients of the error with respect to W and b, summed over the batch (the
        error's grad already divides by the batch size):

            dE/dW = grads_wrt_outputs.T @ inputs    shape (output_dim, input_dim)
            dE/db = sum of grads_wrt_outputs over the batch    shape (output_dim,)

        Args:
            inputs: array of shape (batch_size, input_dim).
            grads_wrt_outputs: array of shape (batch_size, output_dim).
        Returns:
            [grads_wrt_weights, grads_wrt_biases]
        """
        raise NotImplementedError("AffineLayer.grads_wrt_params: compute [dE/dW, dE/db]")

    @property
    def params(self):
        """[weights, biases]: what the optimiser updates in place."""
        return [self.weights, self.biases]

    @params.setter
    def params(self, values):
        self.weights, self.biases = values
'''.lstrip("\n")


# --- the exercises --------------------------------------------------------------------


def _elementwise_exercise(
    name: str,
    reference: type,
    title: str,
    forward: str,
    derivative: str,
    mistakes: tuple[Mistake, ...],
    alpha: float | None = None,
) -> Exercise:
    """One exercise for an elementwise layer (with an `alpha` setting when given)."""
    settings = {"alpha": alpha} if alpha is not None else {}
    default = None if alpha is None else reference().alpha
    return Exercise(
        name=name,
        title=title,
        class_name=reference.__name__,
        reference=reference,
        methods=_methods(_elementwise),
        skeleton=_elementwise_skeleton(reference.__name__, title, forward, derivative, default),
        cases=_elementwise_cases(reference, settings),
        mistakes=mistakes,
        gradient_check=_gradient_check(_elementwise),
        imports=_IMPORTS,
        notes=_NOTES,
    )


def _elementwise_exercises() -> tuple[Exercise, ...]:
    return (
        _elementwise_exercise(
            "sigmoid",
            layers.SigmoidLayer,
            "Logistic sigmoid layer",
            "y = 1 / (1 + exp(-x))",
            "dy/dx = y (1 - y), y being the outputs",
            _sigmoid_mistakes(),
        ),
        _elementwise_exercise(
            "tanh",
            layers.TanhLayer,
            "Hyperbolic tangent layer",
            "y = tanh(x)",
            "dy/dx = 1 - y**2, y being the outputs",
            _tanh_mistakes(),
        ),
        _elementwise_exercise(
            "relu",
            layers.ReluLayer,
            "Rectified linear layer",
            "y = max(0, x)",
            "dy/dx = 1 where x > 0 and 0 elsewhere (0 at x = 0 too)",
            _relu_mistakes(),
        ),
        _elementwise_exercise(
            "leaky_relu",
            layers.LeakyReluLayer,
            "Leaky rectified linear layer",
            "y = x where x > 0, alpha * x elsewhere",
            "dy/dx = 1 where x > 0 and alpha elsewhere",
            _leaky_relu_mistakes(),
            alpha=0.1,
        ),
        _elementwise_exercise(
            "elu",
            layers.ELULayer,
            "Exponential linear unit layer",
            "y = x where x > 0, alpha * (exp(x) - 1) elsewhere",
            "dy/dx = 1 where x > 0 and alpha * exp(x) elsewhere",
            _elu_mistakes(),
            alpha=0.5,
        ),
    )


def _all_exercises() -> tuple[Exercise, ...]:
    return (
        *_elementwise_exercises(),
        Exercise(
            name="softmax",
            title="Softmax layer",
            class_name="SoftmaxLayer",
            reference=layers.SoftmaxLayer,
            methods=_methods(_elementwise),
            skeleton=_SOFTMAX_SKELETON,
            cases=_elementwise_cases(layers.SoftmaxLayer, {}),
            mistakes=_softmax_mistakes(),
            gradient_check=_gradient_check(_elementwise),
            imports=_IMPORTS,
            notes=_NOTES,
        ),
        Exercise(
            name="affine",
            title="Affine layer",
            class_name="AffineLayer",
            reference=layers.AffineLayer,
            methods=_methods(_affine, with_params=True),
            skeleton=_AFFINE_SKELETON,
            cases=_affine_cases,
            mistakes=_affine_mistakes(),
            gradient_check=_gradient_check(_affine),
            imports=_IMPORTS,
            notes=_NOTES,
        ),
    )


EXERCISES: tuple[Exercise, ...] = _all_exercises()
"""This module's exercises, in catalogue order."""
