"""The exercises on the later labs' layers: dropout (`mlp.layers.DropoutLayer`) and the
convolutional layer (`mlp.convolution.ConvolutionalLayer`).

Dropout's draws are random: every case carries a seed, and the layer is built with
`rng=np.random.RandomState(seed)`, so a student's layer drawing as its skeleton says
draws the reference's masks. Its `fprop` is checked in both modes (a list: the training
outputs, then the evaluation outputs); its `bprop` after one training `fprop`.

The convolutional layer's methods are checked separately: each case holds the
kernels and biases (set through `params`, as the course's tests do) and the outputs
`bprop` is given, so a wrong `fprop` does not spoil the check of `bprop`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlp.convolution import ConvolutionalLayer
from mlp.exercises.case_tools import (
    array,
    difference_step,
    flag,
    float64,
    integer,
    number,
    planted,
    upstream,
)
from mlp.exercises.exercise import Case, Exercise, Method, Mistake
from mlp.gradcheck import check_layer_gradients
from mlp.layers import DropoutLayer

__all__ = ["CONVOLUTION_EXERCISE", "DROPOUT_EXERCISE"]

Array = np.ndarray


# --- dropout -------------------------------------------------------------------------


def _dropout(cls: type, case: Case) -> Any:
    return cls(
        rng=np.random.RandomState(integer(case, "seed")),
        incl_prob=number(case, "incl_prob"),
        share_across_batch=flag(case, "share_across_batch"),
    )


def _run_dropout_fprop(cls: type, case: Case) -> list[Array]:
    """[fprop(inputs, stochastic=True), fprop(inputs, stochastic=False)] of one layer."""
    with float64():
        layer = _dropout(cls, case)
        training = layer.fprop(array(case, "inputs"), stochastic=True)
        return [training, layer.fprop(array(case, "inputs"), stochastic=False)]


def _run_dropout_bprop(cls: type, case: Case) -> Array:
    """bprop(inputs, outputs, grads_wrt_outputs) after one training fprop."""
    with float64():
        layer = _dropout(cls, case)
        outputs = layer.fprop(array(case, "inputs"), stochastic=True)
        return layer.bprop(array(case, "inputs"), outputs, array(case, "grads_wrt_outputs"))


def _dropout_gradient_check(cls: type, case: Case) -> float:
    """Largest relative error of bprop against central differences of the layer's own
    training fprop (its mask drawn from the case's seed, the same at every evaluation)."""
    with float64():
        inputs = array(case, "inputs")
        layer = _dropout(cls, case)
        errors = check_layer_gradients(
            layer, inputs, rng=np.random.RandomState(0), eps=difference_step(inputs)
        )
    return max(errors.values())


def _dropout_case(
    rng: np.random.Generator, label: str, inputs: object, incl_prob: float, share: bool
) -> Case:
    values = np.asarray(inputs, dtype=np.float64)
    arrays = {"inputs": values, "grads_wrt_outputs": upstream(rng, values.shape)}
    settings = {
        "seed": int(rng.integers(2**31)),
        "incl_prob": incl_prob,
        "share_across_batch": int(share),
    }
    return Case(label, arrays, settings)


def _dropout_cases(rng: np.random.Generator) -> list[Case]:
    small = [[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]
    return [
        _dropout_case(rng, "small", small, 0.5, True),
        _dropout_case(rng, "random, a mask per example", rng.normal(size=(5, 6)), 0.8, False),
        _dropout_case(rng, "random, one mask", rng.normal(size=(4, 6)), 0.3, True),
        _dropout_case(rng, "large magnitudes", 1e4 * rng.normal(size=(3, 5)), 0.5, False),
        _dropout_case(rng, "zeros", np.zeros((3, 4)), 0.5, True),
        _dropout_case(rng, "shape (2, 3, 4)", rng.normal(size=(2, 3, 4)), 0.6, False),
        _dropout_case(rng, "keep everything", rng.normal(size=(2, 3)), 1.0, True),
    ]


def _redrawn_fprop(
    keep: Callable[[Any, Array], Array], shape: Callable[[Any, Array], tuple[int, ...]]
) -> Callable[..., Array]:
    """A training fprop drawing its own mask, keep(layer, uniform draws) of the given
    shape, from where the reference's draws start. The reference's fprop runs first
    and keeps its own (right) mask for bprop: the mistake lives in fprop alone."""

    def fprop(self: Any, inputs: Array, stochastic: bool = True) -> Array:
        if not stochastic:
            return DropoutLayer.fprop(self, inputs, stochastic=False)
        start = self.rng.get_state()
        DropoutLayer.fprop(self, inputs, stochastic=True)
        self.rng.set_state(start)
        values = np.asarray(inputs, dtype=np.float64)
        draws = self.rng.uniform(size=shape(self, values))
        return values * keep(self, draws) / self.incl_prob

    return fprop


def _right_shape(layer: Any, inputs: Array) -> tuple[int, ...]:
    return (1, *inputs.shape[1:]) if layer.share_across_batch else inputs.shape


def _wrong_shape(layer: Any, inputs: Array) -> tuple[int, ...]:
    return inputs.shape if layer.share_across_batch else (1, *inputs.shape[1:])


def _unscaled_training(self: Any, inputs: Array, stochastic: bool = True) -> Array:
    outputs = DropoutLayer.fprop(self, inputs, stochastic=stochastic)
    return outputs * self.incl_prob if stochastic else outputs


def _scaled_evaluation(self: Any, inputs: Array, stochastic: bool = True) -> Array:
    outputs = DropoutLayer.fprop(self, inputs, stochastic=stochastic)
    return outputs if stochastic else outputs * self.incl_prob


def _dropout_mistakes() -> tuple[Mistake, ...]:
    wrong: list[tuple[str, str, str, Callable[..., Any]]] = [
        (
            "fprop",
            "no-inverted-scaling",
            "the kept inputs were not scaled by 1 / incl_prob "
            "while training: inverted dropout scales them so that evaluation is the identity",
            _unscaled_training,
        ),
        (
            "fprop",
            "scaled-at-evaluation",
            "the evaluation outputs were scaled by incl_prob: "
            "with inverted dropout the training outputs are scaled, and evaluation "
            "(stochastic=False) returns the inputs unchanged",
            _scaled_evaluation,
        ),
        (
            "fprop",
            "keep-and-drop-swapped",
            "units were kept with probability 1 - incl_prob: "
            "keep where rng.uniform(size=shape) < incl_prob",
            _redrawn_fprop(lambda s, u: u >= s.incl_prob, _right_shape),
        ),
        (
            "fprop",
            "mask-sharing-swapped",
            "the mask was shared across the batch when it "
            "should not be, or the other way round: with share_across_batch draw one mask of "
            "shape (1,) + inputs.shape[1:], else one of inputs.shape",
            _redrawn_fprop(lambda s, u: u < s.incl_prob, _wrong_shape),
        ),
        (
            "bprop",
            "no-mask",
            "bprop passed the gradients through unchanged: multiply them by "
            "the mask of the latest training fprop (dropped units get no gradient)",
            lambda s, x, y, g: np.asarray(g, dtype=np.float64),
        ),
        (
            "bprop",
            "mask-unscaled",
            "bprop applied the mask without the 1 / incl_prob "
            "that fprop applied: the gradient is grads_wrt_outputs * mask / incl_prob",
            lambda s, x, y, g: DropoutLayer.bprop(s, x, y, g) * s.incl_prob,
        ),
    ]
    return tuple(
        Mistake(name, method, hint, planted(DropoutLayer, method, body, name))
        for method, name, hint, body in wrong
    )


_DROPOUT_SKELETON = '''
class DropoutLayer(StochasticLayer):
    """Inverted dropout: while training each input is kept with probability incl_prob
    and scaled by 1 / incl_prob, or set to 0; at evaluation the layer is the identity.

    fprop(x, stochastic=True) draws a mask, exactly so (the check repeats your draws
    from the same seed):

        shape = (1,) + x.shape[1:] if share_across_batch else x.shape
        keep = self.rng.uniform(size=shape) < incl_prob
        y = x * keep / incl_prob

    fprop(x, stochastic=False) is y = x. bprop multiplies the gradients by the same
    keep / incl_prob as the latest training fprop (the identity after an evaluation one):

        dE/dx = dE/dy * keep / incl_prob

    Shape:
        inputs: (batch_size, ...), any shape; outputs and gradients: like inputs.

    Args:
        rng: the np.random.RandomState the masks are drawn from (self.rng).
        incl_prob: the probability of keeping a unit, in (0, 1].
        share_across_batch: one mask for the whole batch rather than one per example.
    """

    def __init__(self, rng=None, incl_prob: float = 0.5, share_across_batch: bool = True) -> None:
        super().__init__(rng)
        self.incl_prob = incl_prob
        self.share_across_batch = share_across_batch

    def fprop(self, inputs: np.ndarray, stochastic: bool = True) -> np.ndarray:
        """outputs, shaped like inputs; draws and keeps the mask when stochastic."""
        raise NotImplementedError("DropoutLayer.fprop: draw the mask and apply it")

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs, shaped like inputs, through the latest mask."""
        raise NotImplementedError("DropoutLayer.bprop: apply the latest mask")
'''

DROPOUT_EXERCISE = Exercise(
    name="dropout",
    title="Dropout layer (inverted dropout)",
    class_name="DropoutLayer",
    reference=DropoutLayer,
    methods=(Method("fprop", _run_dropout_fprop), Method("bprop", _run_dropout_bprop)),
    skeleton=_DROPOUT_SKELETON.lstrip("\n"),
    cases=_dropout_cases,
    mistakes=_dropout_mistakes(),
    gradient_check=_dropout_gradient_check,
    imports=("import numpy as np", "from mlp.layer_base import StochasticLayer"),
    notes={"fprop result": "[training outputs, evaluation outputs]"},
)
"""The dropout exercise."""


# --- convolution ---------------------------------------------------------------------


def _conv(cls: type, case: Case) -> Any:
    """The layer of the case's sizes, its params set to the case's kernels and biases."""
    _, channels, height, width = np.shape(case.arrays["inputs"])
    out_channels, _, kernel_height, kernel_width = np.shape(case.arrays["kernels"])
    layer = cls(channels, out_channels, height, width, kernel_height, kernel_width)
    layer.params = [array(case, "kernels"), array(case, "biases")]
    return layer


def _run_conv_fprop(cls: type, case: Case) -> Array:
    """fprop(inputs): (batch_size, num_output_channels, output_height, output_width)."""
    with float64():
        return _conv(cls, case).fprop(array(case, "inputs"))


def _run_conv_bprop(cls: type, case: Case) -> Array:
    """bprop(inputs, outputs, grads_wrt_outputs), shaped like inputs, with no fprop first."""
    with float64():
        layer = _conv(cls, case)
        grads = array(case, "grads_wrt_outputs")
        return layer.bprop(array(case, "inputs"), array(case, "outputs"), grads)


def _run_conv_grads(cls: type, case: Case) -> list[Array]:
    """grads_wrt_params(inputs, grads_wrt_outputs): [like kernels, like biases]."""
    with float64():
        layer = _conv(cls, case)
        return list(layer.grads_wrt_params(array(case, "inputs"), array(case, "grads_wrt_outputs")))


def _conv_gradient_check(cls: type, case: Case) -> float:
    """Largest relative error of bprop and grads_wrt_params against central differences
    of the layer's own fprop (a random upstream gradient, seeded)."""
    with float64():
        inputs = array(case, "inputs")
        layer = _conv(cls, case)
        errors = check_layer_gradients(
            layer, inputs, rng=np.random.RandomState(0), eps=difference_step(inputs)
        )
    return max(errors.values())


def _conv_case(
    rng: np.random.Generator, label: str, inputs: object, kernels: object, biases: object
) -> Case:
    arrays = {
        "inputs": np.asarray(inputs, dtype=np.float64),
        "kernels": np.asarray(kernels, dtype=np.float64),
        "biases": np.asarray(biases, dtype=np.float64),
    }
    with float64():
        outputs = _conv(ConvolutionalLayer, Case(label, arrays)).fprop(arrays["inputs"])
    arrays |= {"outputs": outputs, "grads_wrt_outputs": upstream(rng, outputs.shape)}
    return Case(label, arrays)


def _conv_cases(rng: np.random.Generator) -> list[Case]:
    small_inputs = np.arange(32.0).reshape(2, 1, 4, 4)
    small_kernels = np.arange(9.0).reshape(1, 1, 3, 3) - 4
    n = rng.normal
    return [
        _conv_case(rng, "small", small_inputs, small_kernels, [0.5]),
        _conv_case(rng, "random", n(size=(2, 2, 5, 4)), n(size=(3, 2, 3, 2)), n(size=3)),
        _conv_case(
            rng,
            "large magnitudes",
            1e3 * n(size=(2, 1, 4, 4)),
            n(size=(2, 1, 2, 2)),
            1e3 * n(size=2),
        ),
        _conv_case(rng, "zeros", np.zeros((2, 2, 4, 4)), n(size=(1, 2, 3, 3)), np.zeros(1)),
        _conv_case(rng, "1x1 kernels", n(size=(3, 2, 3, 3)), n(size=(2, 2, 1, 1)), n(size=2)),
        _conv_case(
            rng,
            "kernels as large as the image, batch 1",
            n(size=(1, 1, 3, 3)),
            n(size=(2, 1, 3, 3)),
            n(size=2),
        ),
    ]


def _like(layer: Any, kernels: Array) -> ConvolutionalLayer:
    """A reference layer of `layer`'s sizes and biases with the given kernels."""
    twin = ConvolutionalLayer(
        layer.num_input_channels,
        layer.num_output_channels,
        layer.input_height,
        layer.input_width,
        layer.kernel_height,
        layer.kernel_width,
        dtype=layer.dtype,
    )
    twin.params = [kernels, layer.biases]
    return twin


def _flipped(layer: Any) -> Array:
    return np.ascontiguousarray(layer.kernels[:, :, ::-1, ::-1])


def _overwriting_bprop(self: Any, inputs: Array, outputs: Array, grads_wrt_outputs: Array) -> Array:
    """bprop assigning each window's gradient where it must be added: pixels shared by
    overlapping windows keep the last window's share only."""
    grads = np.asarray(grads_wrt_outputs, dtype=np.float64)
    # shares[n, c, k, l, i, j]: what output (i, j) sends back to pixel (i + k, j + l).
    shares = np.einsum("noij,ockl->ncklij", grads, _flipped(self))
    result = np.zeros(np.shape(inputs))
    rows, cols = grads.shape[2:]
    for k in range(self.kernel_height):
        for m in range(self.kernel_width):
            result[:, :, k : k + rows, m : m + cols] = shares[:, :, k, m]
    return result


def _conv_mistakes() -> tuple[Mistake, ...]:
    grads = ConvolutionalLayer.grads_wrt_params
    wrong: list[tuple[str, str, str, Callable[..., Any]]] = [
        (
            "fprop",
            "cross-correlation",
            "the kernels were not flipped: this layer computes a "
            "true convolution, each kernel rotated by 180 degrees (kernels[:, :, ::-1, ::-1]) "
            "before it slides over the image",
            lambda s, x: _like(s, _flipped(s)).fprop(x),
        ),
        (
            "fprop",
            "no-biases",
            "the biases were not added: each output channel o gets biases[o] at every position",
            lambda s, x: ConvolutionalLayer.fprop(s, x) - s.biases[None, :, None, None],
        ),
        (
            "bprop",
            "kernels-not-flipped",
            "bprop used the kernels flipped the other way: "
            "each output's gradient goes back to its window weighted as in fprop, by the "
            "flipped kernel entry that multiplied each pixel",
            lambda s, x, y, g: _like(s, _flipped(s)).bprop(x, y, g),
        ),
        (
            "bprop",
            "overlaps-overwritten",
            "where windows overlap the gradients were "
            "overwritten, not summed: each pixel's gradient adds (+=) what every window "
            "containing it sends back",
            _overwriting_bprop,
        ),
        (
            "grads_wrt_params",
            "batch-mean",
            "the parameter gradients were divided by the "
            "batch size: sum them over the batch (the error already divides by it)",
            lambda s, x, g: [p / np.shape(x)[0] for p in grads(s, x, g)],
        ),
        (
            "grads_wrt_params",
            "kernel-gradient-not-flipped",
            "the kernels' gradient is "
            "flipped: the correlation of the inputs with the output gradients gives it "
            "rotated by 180 degrees; flip it back (grad[:, :, ::-1, ::-1])",
            lambda s, x, g: [(r := grads(s, x, g))[0][:, :, ::-1, ::-1], r[1]],
        ),
    ]
    return tuple(
        Mistake(name, method, hint, planted(ConvolutionalLayer, method, body, name))
        for method, name, hint, body in wrong
    )


_CONV_SKELETON = '''
class ConvolutionalLayer(LayerWithParameters):
    """A 2-D convolution of each input image with learned kernels, plus a bias per
    output channel; no padding, unit stride.

    With x the inputs, K the kernels, b the biases, KH and KW the kernel's height and
    width, output channel o at position (i, j) is

        y[n, o, i, j] = b[o] + sum_c sum_k sum_l x[n, c, i + k, j + l]
                                                 * K[o, c, KH - 1 - k, KW - 1 - l]

    for 0 <= k < KH and 0 <= l < KW: the kernel enters flipped in both axes, a TRUE
    convolution (scipy.signal.convolve2d(image, kernel, mode='valid') summed over the
    input channels), not the cross-correlation that PyTorch's conv2d computes.

    The gradients, with G = grads_wrt_outputs:

        dE/dx[n, c, i + k, j + l] += sum_o G[n, o, i, j] * K[o, c, KH - 1 - k, KW - 1 - l]
                                     (summed over every (i, j) and (k, l): windows overlap)
        dE/dK[o, c, KH - 1 - k, KW - 1 - l] = sum_n sum_i sum_j G[n, o, i, j] x[n, c, i + k, j + l]
        dE/db[o] = sum_n sum_i sum_j G[n, o, i, j]

    summed over the batch (the error already divides by the batch size). bprop and
    grads_wrt_params compute from their arguments alone: they are checked with no
    fprop before them.

    Shape:
        inputs: (batch_size, num_input_channels, input_height, input_width)
        outputs: (batch_size, num_output_channels, input_height - kernel_height + 1,
            input_width - kernel_width + 1)
        kernels: (num_output_channels, num_input_channels, kernel_height, kernel_width)
        biases: (num_output_channels,)
    """

    def __init__(
        self,
        num_input_channels: int,
        num_output_channels: int,
        input_height: int,
        input_width: int,
        kernel_height: int,
        kernel_width: int,
    ) -> None:
        self.num_input_channels = num_input_channels
        self.num_output_channels = num_output_channels
        self.input_height, self.input_width = input_height, input_width
        self.kernel_height, self.kernel_width = kernel_height, kernel_width
        shape = (num_output_channels, num_input_channels, kernel_height, kernel_width)
        self.kernels = np.random.uniform(-0.01, 0.01, size=shape)
        self.biases = np.zeros(num_output_channels)

    @property
    def params(self) -> list[np.ndarray]:
        """[kernels, biases]."""
        return [self.kernels, self.biases]

    @params.setter
    def params(self, values: list[np.ndarray]) -> None:
        self.kernels = np.array(values[0], dtype=np.float64)
        self.biases = np.array(values[1], dtype=np.float64)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs y (see the class docstring for the formula and the shapes)."""
        raise NotImplementedError("ConvolutionalLayer.fprop: convolve with flipped kernels")

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """dE/dx, shaped like inputs."""
        raise NotImplementedError("ConvolutionalLayer.bprop: the gradient of the inputs")

    def grads_wrt_params(self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray) -> list[np.ndarray]:
        """[dE/dK shaped like kernels, dE/db shaped like biases]."""
        raise NotImplementedError("ConvolutionalLayer.grads_wrt_params: dE/dK and dE/db")
'''

CONVOLUTION_EXERCISE = Exercise(
    name="convolution",
    title="Convolutional layer (a true convolution)",
    class_name="ConvolutionalLayer",
    reference=ConvolutionalLayer,
    methods=(
        Method("fprop", _run_conv_fprop),
        Method("bprop", _run_conv_bprop),
        Method("grads_wrt_params", _run_conv_grads),
    ),
    skeleton=_CONV_SKELETON.lstrip("\n"),
    cases=_conv_cases,
    mistakes=_conv_mistakes(),
    gradient_check=_conv_gradient_check,
    imports=("import numpy as np", "from mlp.layer_base import LayerWithParameters"),
)
"""The convolutional layer's exercise."""
