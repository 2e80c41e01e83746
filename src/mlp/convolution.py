"""Convolutional and max-pooling layers for images: batches of shape
(batch_size, channels, height, width).

The convolution here is a true convolution, as in signal processing: the kernel is
flipped in both spatial axes before it slides over the image. That is what
`scipy.signal.convolve2d(image, kernel, mode='valid')` computes; PyTorch's `conv2d`
(a cross-correlation, no flip) computes the same with `kernels[:, :, ::-1, ::-1]`.

The passes are written as "im2col": every kernel-sized window of the image is laid out
as one row of a matrix (a strided view, `sliding_window_view`, copied once by the
product), so each pass is one matrix product, with no Python loop over positions; the
backward pass adds its per-window gradients back into the images ("col2im") with one
vectorised addition per kernel offset. Max pooling likewise loops over the offsets
within a window, never over windows. Users import these layers from `mlp.layers`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mlp import _checks, dtypes
from mlp.layer_base import (
    Initialiser,
    Layer,
    LayerWithParameters,
    Penalty,
    check_initialiser,
    checked_penalty,
    float_batch,
    layer_dtype,
    parameter_values,
    shared_default,
    store_parameters,
)

__all__ = ["ConvolutionalLayer", "MaxPooling2DLayer"]


CACHE_LIMIT = 4_194_304
"""Entries of the largest im2col matrix a layer keeps between fprop and grads_wrt_params
(16 MB in float32: a batch of 100 through a 16-to-32-channel 5x5 layer is 2.6 M)."""


def _check_images(array: np.ndarray, shape: tuple[int, int, int], what: str, layer: Layer) -> None:
    """A ValueError naming `layer` and `what` unless array is (batch_size, *shape)."""
    if array.ndim != 4 or array.shape[1:] != shape:
        expected = ", ".join(str(n) for n in shape)
        raise ValueError(
            f"{layer!r} expects {what} of shape (batch_size, {expected}), got {array.shape}"
        )


def _same_batch(inputs: np.ndarray, grads: np.ndarray, layer: Layer) -> None:
    if inputs.shape[0] != grads.shape[0]:
        raise ValueError(
            f"{layer!r} got {inputs.shape[0]} inputs but {grads.shape[0]} grads_wrt_outputs: "
            "pass the batch fprop was given"
        )


class ConvolutionalLayer(LayerWithParameters):
    """A 2-D convolution of each input image with learned kernels, plus a bias per
    output channel; no padding, unit stride.

    With x the inputs, K the kernels and b the biases, output channel o at (i, j) is

        y[n, o, i, j] = b[o] + sum_c sum_k sum_l x[n, c, i + k, j + l]
                                                 * K[o, c, KH - 1 - k, KW - 1 - l]

    for k < KH = kernel_height and l < KW = kernel_width: the kernel enters flipped in
    both axes, so this is a true convolution (`scipy.signal.convolve2d(mode='valid')`
    summed over input channels), which is `torch.nn.functional.conv2d(x,
    K[:, :, ::-1, ::-1], b)`.

    Shape:
        inputs: (batch_size, num_input_channels, input_height, input_width)
        outputs: (batch_size, num_output_channels, output_height, output_width) with
            output_height = input_height - kernel_height + 1 and
            output_width = input_width - kernel_width + 1
        kernels: (num_output_channels, num_input_channels, kernel_height, kernel_width)
        biases: (num_output_channels,)

    Args:
        num_input_channels, num_output_channels: channels in and out.
        input_height, input_width: size of the input images.
        kernel_height, kernel_width: size of the kernels (at most the image's).
        kernels_init, biases_init: callables taking a shape (see `mlp.initialisers`);
            default uniform on +-0.01 and zeros, as in the course.
        kernels_penalty, biases_penalty: optional `L1Penalty`/`L2Penalty`.
        dtype: np.float32 or np.float64; default `mlp.get_default_dtype()`. Inputs of
            any numeric dtype (integers too) are computed in it.

    `bprop` and `grads_wrt_params` compute from their arguments alone: no fprop first.
    """

    def __init__(
        self,
        num_input_channels: int,
        num_output_channels: int,
        input_height: int,
        input_width: int,
        kernel_height: int,
        kernel_width: int,
        kernels_init: Initialiser | None = None,
        biases_init: Initialiser | None = None,
        kernels_penalty: Penalty | None = None,
        biases_penalty: Penalty | None = None,
        dtype: np.dtype | type | None = None,
    ) -> None:
        from mlp.initialisers import ConstantInit, UniformInit

        owner = "ConvolutionalLayer"
        sizes = [
            _checks.integer(value, name, owner, low=1)
            for name, value in (
                ("num_input_channels", num_input_channels),
                ("num_output_channels", num_output_channels),
                ("input_height", input_height),
                ("input_width", input_width),
                ("kernel_height", kernel_height),
                ("kernel_width", kernel_width),
            )
        ]
        self.num_input_channels, self.num_output_channels = sizes[0], sizes[1]
        self.input_height, self.input_width = sizes[2], sizes[3]
        self.kernel_height, self.kernel_width = sizes[4], sizes[5]
        self._check_sizes()
        self.dtype = layer_dtype(dtype, owner)
        check_initialiser(kernels_init, "kernels_init", owner)
        check_initialiser(biases_init, "biases_init", owner)
        self.kernels_penalty = checked_penalty(kernels_penalty, "kernels_penalty", owner)
        self._cached_columns: tuple[np.ndarray, np.ndarray] | None = None
        self.biases_penalty = checked_penalty(biases_penalty, "biases_penalty", owner)
        kernels_shape = (
            self.num_output_channels,
            self.num_input_channels,
            self.kernel_height,
            self.kernel_width,
        )
        if kernels_init is None:  # one for all such layers, so each draws other kernels
            kernels_init = shared_default("kernels", lambda: UniformInit(-0.01, 0.01))
        if biases_init is None:
            biases_init = ConstantInit(0.0)
        self.kernels = self._initial(kernels_init, kernels_shape)
        self.biases = self._initial(biases_init, (self.num_output_channels,))

    def _check_sizes(self) -> None:
        for side in ("height", "width"):
            kernel, image = getattr(self, f"kernel_{side}"), getattr(self, f"input_{side}")
            if kernel > image:
                raise ValueError(
                    f"ConvolutionalLayer kernel_{side} ({kernel}) is larger than "
                    f"input_{side} ({image}): no position fits the kernel"
                )
        entries = self.num_output_channels * self.num_input_channels
        if entries * self.kernel_height * self.kernel_width > _checks.MAX_ENTRIES:
            raise ValueError("ConvolutionalLayer has more kernel entries than fit in memory")

    def _initial(self, initialiser: Initialiser, shape: tuple[int, ...]) -> np.ndarray:
        with dtypes.default_dtype(self.dtype):
            value = np.array(initialiser(shape), dtype=self.dtype)
        if value.shape != shape:
            raise ValueError(f"initialiser {initialiser!r} gave shape {value.shape}, not {shape}")
        return value

    @property
    def output_height(self) -> int:
        return self.input_height - self.kernel_height + 1

    @property
    def output_width(self) -> int:
        return self.input_width - self.kernel_width + 1

    def _windows(self, images: np.ndarray) -> np.ndarray:
        """Every kernel-sized window: (batch, channels, rows, cols, kernel_height,
        kernel_width) as a strided view, nothing copied; window (i, j) starts at (i, j)."""
        return sliding_window_view(images, (self.kernel_height, self.kernel_width), axis=(2, 3))

    def _inputs(self, inputs: np.ndarray) -> np.ndarray:
        inputs = _checks.numeric_array(inputs, "inputs", self)
        shape = (self.num_input_channels, self.input_height, self.input_width)
        _check_images(inputs, shape, "inputs", self)
        return np.asarray(inputs, dtype=self.dtype)

    def _grads(self, grads_wrt_outputs: np.ndarray) -> np.ndarray:
        grads = _checks.numeric_array(grads_wrt_outputs, "grads_wrt_outputs", self)
        shape = (self.num_output_channels, self.output_height, self.output_width)
        _check_images(grads, shape, "grads_wrt_outputs", self)
        return np.asarray(grads, dtype=self.dtype)

    def _columns(self, inputs: np.ndarray) -> np.ndarray:
        """The im2col matrix: row (c, k, l), column (n, i, j) holds inputs[n, c, i+k, j+l],
        shape (channels * kernel_height * kernel_width, batch * rows * cols). This order
        makes each row a copy of whole image rows, and the products below plain ones.

        The matrix of the latest fprop is kept with a copy of its inputs, and reused by
        grads_wrt_params only when it is given equal inputs (checking costs a pass over
        the inputs; building the matrix, kernel_height * kernel_width of them)."""
        cached = self._cached_columns
        if cached is not None and cached[0].shape == inputs.shape:
            if np.array_equal(cached[0], inputs):
                return cached[1]
        windows = self._windows(inputs).transpose(1, 4, 5, 0, 2, 3)
        size = self.num_input_channels * self.kernel_height * self.kernel_width
        columns = np.ascontiguousarray(windows).reshape(size, -1)
        # Kept only at training-batch sizes: an evaluation batch's matrix is large.
        self._cached_columns = (inputs.copy(), columns) if columns.size <= CACHE_LIMIT else None
        return columns

    def _flipped_matrix(self) -> np.ndarray:
        """The kernels flipped in both spatial axes, as (num_output_channels, c * k * l)."""
        flipped = self.kernels[:, :, ::-1, ::-1]
        return np.ascontiguousarray(flipped).reshape(self.num_output_channels, -1)

    def _by_channel(self, grads: np.ndarray) -> np.ndarray:
        """(n, o, i, j) gradients as the matrix (o, n * i * j)."""
        return np.ascontiguousarray(grads.transpose(1, 0, 2, 3)).reshape(
            self.num_output_channels, -1
        )

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs[n, o, i, j] = b[o] + sum_{c,k,l} inputs[n, c, i+k, j+l] *
        kernels[o, c, KH-1-k, KW-1-l] (see the class docstring for the shapes)."""
        inputs = self._inputs(inputs)
        # One product: the flipped kernels (o, c*k*l) times the im2col matrix
        # (c*k*l, n*i*j), then (o, n, i, j) -> (n, o, i, j).
        outputs = self._flipped_matrix() @ self._columns(inputs)
        outputs += self.biases[:, None]
        shape = (self.num_output_channels, inputs.shape[0], self.output_height, self.output_width)
        return np.ascontiguousarray(outputs.reshape(shape).transpose(1, 0, 2, 3))

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs[n, c, i+k, j+l] += sum_o G[n, o, i, j] * kernels[o, c, KH-1-k,
        KW-1-l] over every output position (i, j) and kernel offset (k, l), G being
        grads_wrt_outputs: each output spreads its gradient back over the window it
        came from, weighted as in fprop (a "full" convolution of G with the kernels).

        Computed as one product, the gradient with respect to each window's entries
        (the im2col matrix's), then "col2im": those added back into the images, one
        vectorised addition per kernel offset (KH * KW of them, not one per position).

        Shape: grads_wrt_inputs like inputs; outputs and grads_wrt_outputs like fprop's.
        """
        inputs = self._inputs(inputs)
        grads = self._grads(grads_wrt_outputs)
        outputs = _checks.numeric_array(outputs, "outputs", self)
        if outputs.shape != grads.shape:
            raise ValueError(
                f"{self!r} outputs have shape {outputs.shape}, grads_wrt_outputs "
                f"{grads.shape}: pass what fprop returned"
            )
        _same_batch(inputs, grads, self)
        # (c*k*l, o) . (o, n*i*j): dE/d(window entries), laid out (c, k, l, n, i, j).
        n, rows, cols = grads.shape[0], self.output_height, self.output_width
        windows = (self._flipped_matrix().T @ self._by_channel(grads)).reshape(
            self.num_input_channels, self.kernel_height, self.kernel_width, n, rows, cols
        )
        # Summed in (c, n, height, width) order, the windows' own, then transposed once.
        by_channel = np.zeros((inputs.shape[1], n, *inputs.shape[2:]), dtype=windows.dtype)
        for k in range(self.kernel_height):
            for m in range(self.kernel_width):
                # Entry (k, m) of window (i, j) is pixel (i + k, j + m).
                by_channel[:, :, k : k + rows, m : m + cols] += windows[:, k, m]
        return np.ascontiguousarray(by_channel.transpose(1, 0, 2, 3))

    def grads_wrt_params(
        self, inputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> list[np.ndarray]:
        """[dE/dkernels (like kernels), dE/dbiases (num_output_channels,)]:

            dE/dkernels[o, c, KH-1-k, KW-1-l] = sum_{n,i,j} G[n, o, i, j] x[n, c, i+k, j+l]
            dE/dbiases[o] = sum_{n,i,j} G[n, o, i, j]

        summed over the batch (errors already divide by its size), plus the penalties'
        gradients where the layer has them.
        """
        inputs = self._inputs(inputs)
        grads = self._grads(grads_wrt_outputs)
        _same_batch(inputs, grads, self)
        # (o, n*i*j) . (n*i*j, c*k*l) -> (o, c, k, l), then unflip.
        correlation = (self._by_channel(grads) @ self._columns(inputs).T).reshape(
            self.kernels.shape
        )
        grads_wrt_kernels = np.ascontiguousarray(correlation[:, :, ::-1, ::-1])
        grads_wrt_biases = grads.sum(axis=(0, 2, 3))
        if self.kernels_penalty is not None:
            grads_wrt_kernels += self.kernels_penalty.grad(self.kernels)
        if self.biases_penalty is not None:
            grads_wrt_biases += self.biases_penalty.grad(self.biases)
        return [grads_wrt_kernels, grads_wrt_biases]

    def params_penalty(self) -> float:
        """Sum of the kernel and bias penalties (0 without penalties)."""
        total = 0.0
        if self.kernels_penalty is not None:
            total += self.kernels_penalty(self.kernels)
        if self.biases_penalty is not None:
            total += self.biases_penalty(self.biases)
        return total

    @property
    def params(self) -> list[np.ndarray]:
        """[kernels (num_output_channels, num_input_channels, kernel_height,
        kernel_width), biases (num_output_channels,)]."""
        return [self.kernels, self.biases]

    @params.setter
    def params(self, values: Sequence[np.ndarray]) -> None:
        # Copied into the existing arrays (see `store_parameters`).
        values = parameter_values(values, ("kernels", "biases"), self)
        arrays = [_checks.numeric_array(v, "params", self) for v in values]
        store_parameters(self, ("kernels", "biases"), arrays)

    def __repr__(self) -> str:
        return (
            f"ConvolutionalLayer(num_input_channels={self.num_input_channels}, "
            f"num_output_channels={self.num_output_channels}, "
            f"input_height={self.input_height}, input_width={self.input_width}, "
            f"kernel_height={self.kernel_height}, kernel_width={self.kernel_width})"
        )


class MaxPooling2DLayer(Layer):
    """The maximum of each non-overlapping pool_size x pool_size window of each channel.

        outputs[n, c, i, j] = max_{0 <= k, l < pool_size} inputs[n, c, i*s + k, j*s + l]

    with s = pool_size. The height and width must be multiples of pool_size (a
    ValueError otherwise: nothing is cropped silently).

    Shape:
        inputs: (batch_size, channels, height, width)
        outputs: (batch_size, channels, height // pool_size, width // pool_size)

    `bprop` passes each window's gradient to its maximum alone, the others get 0; when
    several entries tie for the maximum, the first in row-major order within the window
    (smallest k, then smallest l) takes it all, so the gradient is never split. It
    finds the maxima from `inputs` again: no fprop is needed first.

    Integer inputs are computed in the default float dtype, float inputs in their own.
    """

    def __init__(self, pool_size: int = 2) -> None:
        self.pool_size = _checks.integer(pool_size, "pool_size", "MaxPooling2DLayer", low=1)

    def _blocks(self, inputs: np.ndarray) -> np.ndarray:
        """inputs as (n, c, rows, pool_size, cols, pool_size), a view: window (i, j) is
        [:, :, i, :, j, :]."""
        inputs = float_batch(inputs, self)
        size = self.pool_size
        if inputs.ndim != 4:
            raise ValueError(
                f"{self!r} expects inputs of shape (batch_size, channels, height, width), "
                f"got {inputs.shape}"
            )
        n, c, height, width = inputs.shape
        if height % size or width % size:
            raise ValueError(
                f"{self!r} needs a height and width that are multiples of pool_size "
                f"{size}, got inputs of shape {inputs.shape}"
            )
        return inputs.reshape(n, c, height // size, size, width // size, size)

    def fprop(self, inputs: np.ndarray) -> np.ndarray:
        """outputs (n, c, height // pool_size, width // pool_size): each window's maximum."""
        blocks = self._blocks(inputs)
        # One elementwise maximum per window offset (k, l): NumPy is slow to reduce
        # along axes as short as a window's.
        outputs = blocks[:, :, :, 0, :, 0].copy()
        for k in range(self.pool_size):
            for m in range(self.pool_size):
                np.maximum(outputs, blocks[:, :, :, k, :, m], out=outputs)
        return outputs

    def bprop(
        self, inputs: np.ndarray, outputs: np.ndarray, grads_wrt_outputs: np.ndarray
    ) -> np.ndarray:
        """grads_wrt_inputs (like inputs): each window's gradient at its (first) maximum."""
        blocks = self._blocks(inputs)
        grads = _checks.floats(grads_wrt_outputs, "grads_wrt_outputs", self)
        outputs = _checks.numeric_array(outputs, "outputs", self)
        n, c, rows, _, cols, _ = blocks.shape
        for name, array in (("grads_wrt_outputs", grads), ("outputs", outputs)):
            if array.shape != (n, c, rows, cols):
                raise ValueError(
                    f"{self!r} needs {name} of shape {(n, c, rows, cols)} for inputs of "
                    f"shape {np.shape(inputs)}, got {array.shape}"
                )
        maxima = self.fprop(inputs)  # from the inputs: `outputs` is only checked
        routed = np.zeros(blocks.shape, dtype=np.result_type(grads.dtype, blocks.dtype))
        unclaimed = np.ones(maxima.shape, dtype=bool)
        # Offsets in row-major order, each window's gradient to the first maximum met.
        for k in range(self.pool_size):
            for m in range(self.pool_size):
                winner = unclaimed & (blocks[:, :, :, k, :, m] == maxima)
                np.copyto(routed[:, :, :, k, :, m], grads, where=winner)
                unclaimed &= ~winner
        return routed.reshape(np.shape(inputs))

    def __repr__(self) -> str:
        return f"MaxPooling2DLayer(pool_size={self.pool_size})"
