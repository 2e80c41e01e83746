"""The convolutional layer's exercise (`mlp.convolution.ConvolutionalLayer`, a true
convolution: kernels flipped).

Its three methods are checked separately: each case holds the kernels and biases (set
through `params`, as the course's tests do) and the outputs `bprop` is given, so a
wrong `fprop` does not spoil the check of `bprop`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from mlp.convolution import ConvolutionalLayer
from mlp.exercises.case_tools import (
    array,
    float64,
    layer_gradient_check,
    planted,
    upstream,
)
from mlp.exercises.exercise import Case, Exercise, Method, Mistake

__all__ = ["CONVOLUTION_EXERCISE"]

Array = np.ndarray


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
    gradient_check=layer_gradient_check(_conv),
    imports=("import numpy as np", "from mlp.layer_base import LayerWithParameters"),
)
"""The convolutional layer's exercise."""
