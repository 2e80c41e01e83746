"""Forward and backward passes of a plain multi-layer perceptron, without the overhead.

For the most common model, affine layers with sigmoid, tanh or ReLU between them and
`CrossEntropySoftmaxError` on the logits, `DensePasses` computes what
`model.fprop`, `error.grad` and `model.grads_wrt_params` compute, operation for
operation, but:

- into arrays allocated once per batch shape and reused every step (`np.matmul(out=)`),
  instead of a dozen new arrays a layer; the gradients land in one flat array whose
  views the update reads;
- without the argument checks the layers make for a user's call (the step checks its
  batch once per shape, in `Optimiser.train_step`);
- with the large matrix products split over threads by `mlp._fast.threads`, BLAS on one
  thread (see there for why).

The numbers: with every product whole (products below `threads.SPLIT_FLOPS`, or one
thread), the same operations in the same order as the layers' own methods run with one
BLAS thread, so the same bits; with split products, each output column block is its own
BLAS call, which may round differently from one call for the whole product (float32
rounding, tested in tests/test_fast_dense.py). Nothing is returned to a user: the
buffers stay inside the step.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

import mlp._fast.threads as threads
from mlp import errors, functional, layers, models

__all__ = ["DensePasses", "dense_passes"]

_ACTIVATIONS = (layers.SigmoidLayer, layers.TanhLayer, layers.ReluLayer)


@dataclass
class _Buffers:
    """The arrays of one batch shape: per affine layer its pre-activations, its
    activations (None for the last layer, whose outputs are the logits) and the
    gradient with respect to its outputs."""

    pre: list[np.ndarray]
    post: list[np.ndarray | None]
    grad_out: list[np.ndarray]
    mask: list[np.ndarray]


def dense_passes(model: object, error: object) -> DensePasses | None:
    """The passes for `model` and `error` when they are the plain MLP this module knows
    (exact classes: subclasses may compute something else), else None."""
    if type(model) is not models.MultipleLayerModel or type(error) is not (
        errors.CrossEntropySoftmaxError
    ):
        return None
    stack = list(model.layers)
    affine: list[layers.AffineLayer] = []
    activations: list[type] = []
    while stack:
        layer = stack.pop(0)
        if type(layer) is not layers.AffineLayer or layer.weights_penalty or layer.biases_penalty:
            return None
        affine.append(layer)
        if not stack:
            break
        kind = type(stack.pop(0))
        if kind not in _ACTIVATIONS or not stack:
            return None
        activations.append(kind)
    dtypes = {layer.dtype for layer in affine}
    if len(dtypes) != 1 or any(b.input_dim != a.output_dim for a, b in itertools.pairwise(affine)):
        return None
    return DensePasses(affine, activations, np.dtype(dtypes.pop()))


class DensePasses:
    """Forward, error gradient and backward of one batch, into reused buffers.

    Args:
        affine: the model's affine layers, first first.
        activations: the activation class after each affine layer but the last.
        dtype: the layers' dtype.
    """

    def __init__(self, affine: list[layers.AffineLayer], activations: list[type], dtype) -> None:
        self.affine = affine
        self.activations = activations
        self.dtype = dtype
        sizes = [layer.weights.size + layer.biases.size for layer in affine]
        self.flat_grads = np.empty(sum(sizes), dtype=dtype)
        self.grads: list[np.ndarray] = []
        start = 0
        for layer in affine:
            for param in (layer.weights, layer.biases):
                view = self.flat_grads[start : start + param.size].reshape(param.shape)
                self.grads.append(view)
                start += param.size
        self._buffers: dict[int, _Buffers] = {}

    def fits(self, inputs: np.ndarray, targets: np.ndarray) -> bool:
        """Whether this batch can take the fast passes: arrays of the layers' dtype and
        the model's shapes, with parameters still laid out as when built."""
        first, last = self.affine[0], self.affine[-1]
        return (
            type(inputs) is np.ndarray
            and inputs.dtype == self.dtype
            and inputs.ndim == 2
            and inputs.shape[1] == first.input_dim
            and inputs.shape[0] > 0
            and type(targets) is np.ndarray
            and targets.dtype.kind in "fiu"
            and targets.shape == (inputs.shape[0], last.output_dim)
            and all(
                grad.shape == param.shape and param.dtype == self.dtype
                for layer, i in zip(self.affine, range(0, len(self.grads), 2), strict=True)
                for grad, param in zip(self.grads[i : i + 2], layer.params, strict=True)
            )
        )

    def __call__(self, inputs: np.ndarray, targets: np.ndarray) -> list[np.ndarray]:
        """The gradients of the error with respect to every parameter, aligned with
        `model.params`, for inputs (batch_size, input_dim) and one-of-K targets
        (batch_size, num_classes). They are views into `flat_grads`, valid until the
        next call."""
        buffers = self._buffers_for(inputs.shape[0])
        with threads.one_blas_thread():
            self._forward(inputs, buffers)
            self._error_grad(buffers.pre[-1], targets, buffers.grad_out[-1])
            self._backward(inputs, buffers)
        return self.grads

    def _buffers_for(self, batch_size: int) -> _Buffers:
        buffers = self._buffers.get(batch_size)
        if buffers is None:
            shapes = [(batch_size, layer.output_dim) for layer in self.affine]
            buffers = _Buffers(
                pre=[np.empty(s, self.dtype) for s in shapes],
                post=[np.empty(s, self.dtype) for s in shapes[:-1]] + [None],
                grad_out=[np.empty(s, self.dtype) for s in shapes],
                mask=[np.empty(s, bool) for s in shapes[:-1]],
            )
            self._buffers[batch_size] = buffers
        return buffers

    def _forward(self, inputs: np.ndarray, buffers: _Buffers) -> None:
        """pre = h @ W.T + b and post = f(pre), layer by layer (AffineLayer.fprop and the
        activation's fprop)."""
        h = inputs
        for k, layer in enumerate(self.affine):
            pre = buffers.pre[k]
            threads.matmul(h, layer.weights.T, out=pre)
            _add_bias(pre, layer.biases)
            if k < len(self.activations):
                h = _activate(self.activations[k], pre, buffers.post[k])

    @staticmethod
    def _error_grad(logits: np.ndarray, targets: np.ndarray, out: np.ndarray) -> None:
        """(softmax(logits) - targets) / batch_size, as CrossEntropySoftmaxError.grad."""
        np.subtract(logits, logits.max(axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        out /= out.sum(axis=-1, keepdims=True)
        out -= targets
        out /= logits.shape[0]

    def _backward(self, inputs: np.ndarray, buffers: _Buffers) -> None:
        """dW = g.T @ h and db = sum of g over the batch per layer, and g for the layer
        below through W and the activation's derivative (AffineLayer.grads_wrt_params
        and bprop, the activation's bprop); none for the inputs."""
        for k in range(len(self.affine) - 1, -1, -1):
            layer, grad_out = self.affine[k], buffers.grad_out[k]
            h = inputs if k == 0 else buffers.post[k - 1]
            assert h is not None
            threads.matmul(grad_out.T, h, out=self.grads[2 * k])
            _bias_grads(grad_out, self.grads[2 * k + 1])
            if k:
                below = buffers.grad_out[k - 1]
                threads.matmul(grad_out, layer.weights, out=below)
                _derivative(self.activations[k - 1], buffers, k - 1, below)


def _add_bias(pre: np.ndarray, biases: np.ndarray) -> None:
    pre += biases


def _bias_grads(grads_wrt_outputs: np.ndarray, out: np.ndarray) -> None:
    np.sum(grads_wrt_outputs, axis=0, out=out)


def _activate(kind: type, pre: np.ndarray, post: np.ndarray | None) -> np.ndarray:
    """post = f(pre) as the activation layer's fprop computes it."""
    assert post is not None
    if kind is layers.ReluLayer:
        np.maximum(pre, 0, out=post)
    elif kind is layers.SigmoidLayer:
        functional.sigmoid(pre, out=post)
    else:
        np.tanh(pre, out=post)
    return post


def _derivative(kind: type, buffers: _Buffers, k: int, grads: np.ndarray) -> None:
    """grads *= f'(pre) in place, as the activation layer's bprop computes it."""
    pre, post = buffers.pre[k], buffers.post[k]
    assert post is not None
    if kind is layers.ReluLayer:
        mask = np.greater(pre, 0, out=buffers.mask[k])
        np.multiply(grads, mask, out=grads)
    elif kind is layers.SigmoidLayer:  # y (1 - y) g, in SigmoidLayer.bprop's order
        factor = np.subtract(1, post, out=buffers.pre[k])
        factor *= post
        np.multiply(factor, grads, out=grads)
    else:  # (1 - y**2) g
        factor = np.square(post, out=buffers.pre[k])
        np.subtract(1, factor, out=factor)
        np.multiply(factor, grads, out=grads)
