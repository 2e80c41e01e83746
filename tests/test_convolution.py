"""ConvolutionalLayer, MaxPooling2DLayer and ReshapeLayer: the convolution's convention
against its own formula, finite differences, PyTorch in float64, the course's way of
calling them (integer inputs, bprop without fprop), shape errors, and their registry
entries through torch and back."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional

import mlp
from mlp import registry
from mlp.gradcheck import check_layer_gradients
from mlp.initialisers import UniformInit
from mlp.layers import ConvolutionalLayer, MaxPooling2DLayer, ReshapeLayer
from mlp.models import MultipleLayerModel
from mlp.penalties import L2Penalty

GRAD_TOL = 1e-6
REL_TOL = 1e-12  # the bound on the relative error from conv2d in float64


def _conv(channels_in=2, channels_out=3, height=6, width=5, kh=3, kw=2, seed=0, **kw_args):
    rng = np.random.RandomState(seed)
    return ConvolutionalLayer(
        channels_in,
        channels_out,
        height,
        width,
        kh,
        kw,
        UniformInit(-1.0, 1.0, rng=rng),
        UniformInit(-1.0, 1.0, rng=rng),
        dtype=np.float64,
        **kw_args,
    )


def _relative(ours: np.ndarray, theirs: np.ndarray) -> float:
    return float(np.abs(ours - theirs).max() / max(np.abs(theirs).max(), 1e-300))


def _loop_convolution(x: np.ndarray, kernels: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """The docstring's sum, written out term by term."""
    n, c_in, height, width = x.shape
    c_out, _, kh, kw = kernels.shape
    y = np.zeros((n, c_out, height - kh + 1, width - kw + 1))
    for b in range(n):
        for o in range(c_out):
            for i in range(height - kh + 1):
                for j in range(width - kw + 1):
                    total = biases[o]
                    for c in range(c_in):
                        for k in range(kh):
                            for m in range(kw):
                                total += (
                                    x[b, c, i + k, j + m] * kernels[o, c, kh - 1 - k, kw - 1 - m]
                                )
                    y[b, o, i, j] = total
    return y


def _torch_passes(layer: ConvolutionalLayer, x: np.ndarray, upstream: np.ndarray):
    xt = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    weight = torch.tensor(layer.kernels[:, :, ::-1, ::-1].copy(), requires_grad=True)
    bias = torch.tensor(layer.biases, requires_grad=True)
    out = functional.conv2d(xt, weight, bias)
    out.backward(torch.from_numpy(upstream))
    flipped_back = weight.grad.numpy()[:, :, ::-1, ::-1]
    return out.detach().numpy(), xt.grad.numpy(), [flipped_back, bias.grad.numpy()]


# --- the convention ---------------------------------------------------------------------------


def test_true_convolution_matches_the_formula_written_as_loops() -> None:
    layer = _conv(2, 2, 4, 5, 2, 3)
    x = np.random.RandomState(1).normal(size=(2, 2, 4, 5))
    np.testing.assert_allclose(
        layer.fprop(x), _loop_convolution(x, layer.kernels, layer.biases), rtol=1e-13, atol=1e-13
    )


def test_an_impulse_reproduces_the_kernel_unrotated() -> None:
    # A true convolution of an impulse gives the kernel as it is; a cross-correlation
    # (conv2d without the flip) would give it rotated by 180 degrees.
    layer = ConvolutionalLayer(1, 1, 3, 3, 2, 2, dtype=np.float64)
    layer.params = [np.array([[[[1.0, 2.0], [3.0, 4.0]]]]), np.zeros(1)]
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    np.testing.assert_array_equal(layer.fprop(x)[0, 0], [[1.0, 2.0], [3.0, 4.0]])


# --- gradients --------------------------------------------------------------------------------


@pytest.mark.parametrize("sizes", [(2, 3, 6, 5, 3, 2), (1, 1, 4, 4, 4, 4), (3, 2, 5, 5, 1, 1)])
def test_convolution_gradient_check(sizes) -> None:
    layer = _conv(*sizes, kernels_penalty=L2Penalty(0.1), biases_penalty=L2Penalty(0.2))
    x = np.random.RandomState(2).normal(size=(3, *sizes[:1], *sizes[2:4]))
    errors = check_layer_gradients(layer, x)
    assert set(errors) == {"inputs", "params[0]", "params[1]"}
    assert max(errors.values()) < GRAD_TOL, errors


def test_max_pooling_gradient_check() -> None:
    x = np.random.RandomState(3).permutation(2 * 3 * 6 * 4).reshape(2, 3, 6, 4) / 7.0
    errors = check_layer_gradients(MaxPooling2DLayer(2), x)
    assert errors["inputs"] < GRAD_TOL


# --- PyTorch as an oracle (float64) -----------------------------------------------------------


@pytest.mark.parametrize("sizes", [(2, 3, 6, 5, 3, 2), (1, 4, 7, 7, 5, 5), (3, 1, 4, 6, 1, 3)])
def test_convolution_matches_torch_conv2d_with_flipped_kernels(sizes) -> None:
    layer = _conv(*sizes)
    rng = np.random.RandomState(4)
    x = rng.normal(size=(4, sizes[0], sizes[2], sizes[3]))
    outputs = layer.fprop(x)
    upstream = rng.normal(size=outputs.shape)
    theirs, theirs_inputs, theirs_params = _torch_passes(layer, x, upstream)
    assert _relative(outputs, theirs) < REL_TOL
    assert _relative(layer.bprop(x, outputs, upstream), theirs_inputs) < REL_TOL
    for ours, expected in zip(layer.grads_wrt_params(x, upstream), theirs_params, strict=True):
        assert ours.shape == expected.shape
        assert _relative(ours, expected) < REL_TOL


def test_integer_inputs_without_fprop_match_torch() -> None:
    # As the course's tests call it: np.arange arrays, parameters set, bprop and
    # grads_wrt_params without a preceding fprop.
    layer = ConvolutionalLayer(2, 3, 4, 4, 2, 2, dtype=np.float64)
    kernels = np.arange(-12, 12).reshape(3, 2, 2, 2)
    biases = np.arange(3)
    layer.params = [kernels, biases]
    x = np.arange(2 * 2 * 4 * 4).reshape(2, 2, 4, 4)
    upstream = np.arange(-27, 27).reshape(2, 3, 3, 3)
    theirs, theirs_inputs, theirs_params = _torch_passes(layer, x.astype(float), upstream)
    outputs = np.zeros((2, 3, 3, 3))  # bprop needs only their shape
    assert _relative(layer.bprop(x, outputs, upstream), theirs_inputs) < REL_TOL
    for ours, expected in zip(layer.grads_wrt_params(x, upstream), theirs_params, strict=True):
        assert _relative(ours, expected) < REL_TOL
    assert _relative(layer.fprop(x), theirs) < REL_TOL


def test_max_pooling_matches_torch() -> None:
    rng = np.random.RandomState(5)
    x = rng.normal(size=(3, 2, 6, 9))
    layer = MaxPooling2DLayer(3)
    outputs = layer.fprop(x)
    upstream = rng.normal(size=outputs.shape)
    xt = torch.tensor(x, requires_grad=True)
    out = functional.max_pool2d(xt, 3)
    out.backward(torch.from_numpy(upstream))
    np.testing.assert_array_equal(outputs, out.detach().numpy())
    np.testing.assert_allclose(layer.bprop(x, outputs, upstream), xt.grad.numpy(), atol=1e-15)


def test_max_pooling_ties_go_to_the_first_in_row_major_order() -> None:
    x = np.array([[[[1.0, 3.0], [3.0, 3.0]]]])
    grads = MaxPooling2DLayer(2).bprop(x, np.array([[[[3.0]]]]), np.array([[[[5.0]]]]))
    np.testing.assert_array_equal(grads, [[[[0.0, 5.0], [0.0, 0.0]]]])


# --- dtypes and the course's calls --------------------------------------------------------


def test_dtype_follows_the_layer() -> None:
    layer = ConvolutionalLayer(1, 2, 5, 5, 3, 3)
    assert layer.kernels.dtype == np.float32 and layer.biases.dtype == np.float32
    x = np.arange(50).reshape(2, 1, 5, 5)
    outputs = layer.fprop(x)
    assert outputs.dtype == np.float32
    assert layer.bprop(x, outputs, np.ones_like(outputs)).dtype == np.float32
    with mlp.default_dtype(np.float64):
        assert ConvolutionalLayer(1, 2, 5, 5, 3, 3).fprop(x).dtype == np.float64


def test_course_defaults() -> None:
    first, second = ConvolutionalLayer(1, 4, 6, 6, 3, 3), ConvolutionalLayer(1, 4, 6, 6, 3, 3)
    assert np.abs(first.kernels).max() <= 0.01
    assert not np.array_equal(first.kernels, second.kernels)  # one shared stream
    np.testing.assert_array_equal(first.biases, 0.0)
    assert len(first.params) == 2 and first.params_penalty() == 0.0


# --- bad shapes and arguments ---------------------------------------------------------------


def test_convolution_shape_errors_name_the_argument() -> None:
    layer = ConvolutionalLayer(2, 3, 5, 5, 2, 2)
    with pytest.raises(ValueError, match=r"inputs of shape \(batch_size, 2, 5, 5\)"):
        layer.fprop(np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match="inputs of shape"):
        layer.fprop(np.zeros((2, 50)))
    x, good = np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 4, 4))
    with pytest.raises(ValueError, match=r"grads_wrt_outputs of shape \(batch_size, 3, 4, 4\)"):
        layer.bprop(x, good, np.zeros((1, 3, 5, 5)))
    with pytest.raises(ValueError, match="pass the batch fprop was given"):
        layer.grads_wrt_params(x, np.zeros((2, 3, 4, 4)))
    with pytest.raises(ValueError, match="pass what fprop returned"):
        layer.bprop(x, np.zeros((1, 3)), good)
    with pytest.raises(ValueError, match="kernel_height \\(6\\) is larger than input_height"):
        ConvolutionalLayer(1, 1, 5, 5, 6, 2)
    with pytest.raises(ValueError, match="needs kernels"):
        layer.params = [np.zeros((3, 2, 3, 3)), np.zeros(3)]
    with pytest.raises(TypeError, match="kernels_penalty"):
        ConvolutionalLayer(1, 1, 5, 5, 2, 2, kernels_penalty=0.1)  # type: ignore[arg-type]


def test_max_pooling_refuses_sizes_it_does_not_divide() -> None:
    layer = MaxPooling2DLayer(2)
    with pytest.raises(ValueError, match="multiples of pool_size 2"):
        layer.fprop(np.zeros((1, 1, 5, 4)))
    with pytest.raises(ValueError, match=r"\(batch_size, channels, height, width\)"):
        layer.fprop(np.zeros((1, 16)))
    with pytest.raises(ValueError, match="grads_wrt_outputs of shape"):
        layer.bprop(np.zeros((1, 1, 4, 4)), np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 4, 4)))
    with pytest.raises(ValueError, match="pool_size"):
        MaxPooling2DLayer(0)


# --- ReshapeLayer -------------------------------------------------------------------------------


def test_reshape_layer() -> None:
    x = np.arange(24.0).reshape(2, 3, 4)
    flat = ReshapeLayer()
    np.testing.assert_array_equal(flat.fprop(x), x.reshape(2, 12))
    images = ReshapeLayer((1, -1, 2))
    outputs = images.fprop(x)
    assert outputs.shape == (2, 1, 6, 2)
    grads = images.bprop(x, outputs, outputs * 2)
    np.testing.assert_array_equal(grads, x * 2)
    assert "output_shape=(1, -1, 2)" in repr(images)
    errors = check_layer_gradients(ReshapeLayer((4, 3)), x)
    assert errors["inputs"] < GRAD_TOL


def test_reshape_layer_errors() -> None:
    with pytest.raises(ValueError, match="do not have the size of output_shape"):
        ReshapeLayer((5,)).fprop(np.zeros((2, 6)))
    with pytest.raises(ValueError, match="output_shape"):
        ReshapeLayer((-1, -1))
    with pytest.raises(TypeError, match="output_shape"):
        ReshapeLayer("12")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="pass the inputs fprop was given"):
        ReshapeLayer().bprop(np.zeros((2, 6)), np.zeros((2, 4)), np.zeros((2, 4)))


# --- registry and torch conversion ------------------------------------------------------------


def _small_cnn(dtype=np.float64) -> MultipleLayerModel:
    shape: tuple[int, ...] = (64,)
    built = []
    with mlp.default_dtype(dtype):
        for name, values in [
            ("reshape", {"output_shape": (1, 8, 8)}),
            ("conv", {"num_output_channels": 3, "kernel_size": 3}),
            ("relu", {}),
            ("max_pool_2d", {"pool_size": 2}),
            ("reshape", {}),
            ("affine", {"output_dim": 4}),
        ]:
            layer, shape = registry.layer_entry(name).build(shape, **values)
            built.append(layer)
    assert shape == (4,)
    return MultipleLayerModel(built)


def test_registry_round_trip_through_torch() -> None:
    from mlp.pytorch import from_torch, to_torch

    model = _small_cnn()
    x = np.random.RandomState(6).normal(size=(5, 64))
    module = to_torch(model)
    theirs = module(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(theirs, model.fprop(x)[-1], rtol=1e-12, atol=1e-12)
    back = from_torch(module)
    assert [type(layer) for layer in back.layers] == [type(layer) for layer in model.layers]
    for ours, returned in zip(model.params, back.params, strict=True):
        np.testing.assert_array_equal(ours, returned)
    np.testing.assert_array_equal(back.fprop(x)[-1], model.fprop(x)[-1])


def test_from_torch_refuses_convolutions_mlp_does_not_have() -> None:
    entry = registry.layer_entry("conv")
    with pytest.raises(ValueError, match="input_size"):
        entry.from_torch(torch.nn.Conv2d(1, 2, 3))
    padded = torch.nn.Conv2d(1, 2, 3, padding=1)
    padded.input_size = (5, 5)
    with pytest.raises(ValueError, match="padding"):
        entry.from_torch(padded)
    with pytest.raises(ValueError, match="stride"):
        registry.layer_entry("max_pool_2d").from_torch(torch.nn.MaxPool2d(2, stride=1))


def test_registry_entries_refuse_bad_input_shapes() -> None:
    with pytest.raises(ValueError, match="conv needs image inputs"):
        registry.layer_entry("conv").build((784,), num_output_channels=2)
    with pytest.raises(ValueError, match="multiples"):
        registry.layer_entry("max_pool_2d").build((2, 5, 5))
    with pytest.raises(ValueError, match="larger than input_height"):
        registry.layer_entry("conv").build((1, 4, 4), num_output_channels=2, kernel_size=5)


def test_the_im2col_matrix_kept_from_fprop_serves_only_equal_inputs() -> None:
    from mlp.convolution import ConvolutionalLayer

    rng = np.random.RandomState(4)
    layer = ConvolutionalLayer(2, 3, 6, 6, 3, 3)
    fresh = ConvolutionalLayer(2, 3, 6, 6, 3, 3)
    fresh.params = [p.copy() for p in layer.params]
    x1, x2 = rng.normal(size=(2, 4, 2, 6, 6))
    grads = rng.normal(size=(4, 3, 4, 4))
    layer.fprop(x1)
    for inputs in (x2, x1):  # other inputs, then the same ones
        for got, want in zip(
            layer.grads_wrt_params(inputs, grads),
            fresh.grads_wrt_params(inputs, grads),
            strict=True,
        ):
            np.testing.assert_array_equal(got, want)
    layer.fprop(x1)
    x1 += 1.0  # changed in place after fprop: the kept matrix no longer belongs to it
    for got, want in zip(
        layer.grads_wrt_params(x1, grads), fresh.grads_wrt_params(x1, grads), strict=True
    ):
        np.testing.assert_array_equal(got, want)
