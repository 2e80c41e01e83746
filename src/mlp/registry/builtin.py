"""The built-in entries: every name mlp ships, with its NumPy and PyTorch factories.

Adding a name is one `register(...)` here (and, for a layer, its class in
`mlp.layers`). PyTorch is imported only inside the torch factories, when called.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from mlp import errors, initialisers, layers, learning_rules, schedulers
from mlp.registry.table import Entry, Hyperparameter, register

# --- helpers for the table ---------------------------------------------------------------


def _fraction(name: str, default: float, help: str, metavar: str = "B") -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, 1.0, high_open=True, metavar=metavar)


def _positive(name: str, default: float, help: str, metavar: str) -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, low_open=True, metavar=metavar)


def _at_least_zero(name: str, default: float, help: str, metavar: str) -> Hyperparameter:
    return Hyperparameter(name, float, default, help, 0.0, metavar=metavar)


def _torch_module(path: str) -> Callable[[], type]:
    """The torch class at `path` (e.g. 'nn.SiLU'), looked up only when asked for."""

    def lookup() -> type:
        import torch

        found: Any = torch
        for part in path.split("."):
            found = getattr(found, part)
        return found

    return lookup


def _elementwise(
    kind: str,
    name: str,
    help: str,
    layer_class: type,
    torch_path: str,
    *hyperparameters: Hyperparameter,
    torch_names: Mapping[str, str] | None = None,
) -> Entry:
    """An elementwise layer (output shape = input shape) whose hyperparameters are
    attributes of the layer and, under `torch_names` (default: the same names), keyword
    arguments and attributes of its torch module."""
    renamed = dict(torch_names or {})
    torch_class = _torch_module(torch_path)

    def build(input_shape: tuple[int, ...], **values: Any) -> tuple[Any, tuple[int, ...]]:
        return layer_class(**values), tuple(input_shape)

    def to_torch(layer: Any) -> Any:
        values = {renamed.get(hp.name, hp.name): getattr(layer, hp.name) for hp in hyperparameters}
        return torch_class()(**values)

    def from_torch(module: Any) -> Any:
        return layer_class(
            **{hp.name: getattr(module, renamed.get(hp.name, hp.name)) for hp in hyperparameters}
        )

    return Entry(
        kind,
        name,
        help,
        build,
        to_torch,
        tuple(hyperparameters),
        layer_class=layer_class,
        torch_class=torch_class,
        from_torch=from_torch,
    )


def _alpha(default: float, help: str) -> Hyperparameter:
    return _at_least_zero("alpha", default, help, "A")


# --- activations (the elementwise layers `--activation` offers) --------------------------

register(
    _elementwise(
        "activation",
        "sigmoid",
        "logistic sigmoid 1 / (1 + exp(-x))",
        layers.SigmoidLayer,
        "nn.Sigmoid",
    )
)
register(_elementwise("activation", "tanh", "tanh(x)", layers.TanhLayer, "nn.Tanh"))
register(_elementwise("activation", "relu", "max(0, x)", layers.ReluLayer, "nn.ReLU"))
register(
    _elementwise(
        "activation",
        "leaky_relu",
        "x for x > 0, alpha * x otherwise",
        layers.LeakyReluLayer,
        "nn.LeakyReLU",
        _alpha(0.01, "slope for x < 0"),
        torch_names={"alpha": "negative_slope"},
    )
)
register(
    _elementwise(
        "activation",
        "elu",
        "x for x > 0, alpha * (exp(x) - 1) otherwise",
        layers.ELULayer,
        "nn.ELU",
        _alpha(1.0, "limit -alpha for x -> -inf"),
    )
)

register(_elementwise("activation", "swish", "x * sigmoid(x) (SiLU)", layers.SwishLayer, "nn.SiLU"))


# --- other layers --------------------------------------------------------------------------


def _build_affine(
    input_shape: tuple[int, ...], output_dim: int, **arguments: Any
) -> tuple[Any, tuple[int, ...]]:
    if len(input_shape) != 1:
        raise ValueError(f"affine needs flat inputs of shape (dim,), got {tuple(input_shape)}")
    return layers.AffineLayer(input_shape[0], output_dim, **arguments), (output_dim,)


def _warn_penalties_left_out(layer: Any, penalties: tuple[Any, ...], module: str) -> None:
    """Warn that `to_torch` leaves a layer's penalties out (`module` cannot hold them)."""
    if any(penalty is not None for penalty in penalties):
        warnings.warn(
            f"to_torch: {layer!r} has parameter penalties, which {module} cannot hold; "
            "they are left out (use the optimiser's weight_decay instead)",
            stacklevel=5,  # the line in mlp.pytorch.convert that converts the layer
        )


def _affine_to_torch(layer: Any) -> Any:
    from torch import nn

    _warn_penalties_left_out(layer, (layer.weights_penalty, layer.biases_penalty), "nn.Linear")
    linear = nn.Linear(layer.input_dim, layer.output_dim, device="meta")  # no init draws
    linear.weight = nn.Parameter(_to_tensor(layer.weights))
    linear.bias = nn.Parameter(_to_tensor(layer.biases))
    return linear


def _affine_from_torch(module: Any) -> Any:
    if module.bias is None:
        raise ValueError("it has no bias; AffineLayer always has one")
    weights = _to_array(module.weight, "its weight")
    biases = _to_array(module.bias, "its bias")
    if weights.dtype != biases.dtype:
        raise ValueError(f"it mixes {weights.dtype} and {biases.dtype}")
    return layers.AffineLayer(
        module.in_features,
        module.out_features,
        weights_initialiser=lambda shape: weights,
        biases_initialiser=lambda shape: biases,
        dtype=weights.dtype,
    )


def _to_tensor(array: np.ndarray) -> Any:
    import torch

    # A copy: mlp's arrays (read-only cached data among them) are never shared with torch.
    return torch.from_numpy(np.array(array, copy=True, order="C"))


def _to_array(tensor: Any, what: str) -> np.ndarray:
    import torch

    if tensor.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"{what} is {tensor.dtype}; mlp computes in float32 or float64")
    return tensor.detach().cpu().numpy().copy()


register(
    Entry(
        "layer",
        "affine",
        "inputs @ weights.T + biases (keywords: weights_initialiser, biases_initialiser, "
        "weights_penalty, biases_penalty, dtype)",
        _build_affine,
        _affine_to_torch,
        (Hyperparameter("output_dim", int, None, "output width", 1, metavar="N"),),
        layer_class=layers.AffineLayer,
        torch_class=_torch_module("nn.Linear"),
        from_torch=_affine_from_torch,
    )
)


_SOFTMAX = _torch_module("nn.Softmax")


def _softmax_from_torch(module: Any) -> Any:
    if module.dim not in (None, 1, -1):
        raise ValueError(
            f"it normalises dimension {module.dim}; SoftmaxLayer normalises each row (dim=-1)"
        )
    return layers.SoftmaxLayer()


register(
    Entry(
        "layer",
        "softmax",
        "exp(x) / sum(exp(x)) along the last axis",
        lambda input_shape: (layers.SoftmaxLayer(), tuple(input_shape)),
        lambda layer: _SOFTMAX()(dim=-1),
        layer_class=layers.SoftmaxLayer,
        torch_class=_SOFTMAX,
        from_torch=_softmax_from_torch,
    )
)


_DROPOUT = _torch_module("nn.Dropout")


def _dropout_from_torch(module: Any) -> Any:
    if module.p >= 1:
        raise ValueError("it drops every unit")
    # nn.Dropout draws one mask entry per element.
    return layers.DropoutLayer(incl_prob=1.0 - module.p, share_across_batch=False)


register(
    Entry(
        "layer",
        "dropout",
        "while training, zeroes each input with probability 1 - incl_prob (keyword: rng)",
        lambda input_shape, **values: (layers.DropoutLayer(**values), tuple(input_shape)),
        lambda layer: _DROPOUT()(p=1.0 - layer.incl_prob),
        (
            Hyperparameter(
                "incl_prob", float, 0.5, "probability of keeping a unit", 0.0, 1.0, low_open=True
            ),
            Hyperparameter(
                "share_across_batch", bool, True, "one mask for the batch, not one per example"
            ),
        ),
        layer_class=layers.DropoutLayer,
        torch_class=_DROPOUT,
        from_torch=_dropout_from_torch,
    )
)


# --- errors --------------------------------------------------------------------------------

Loss = Callable[[Any, Any], Any]


def _torch_cross_entropy_softmax() -> Loss:
    import torch

    return lambda y, t: -(t * torch.log_softmax(y, dim=-1)).sum(dim=-1).mean()


def _torch_cross_entropy() -> Loss:
    import torch

    tiny = torch.finfo(torch.float32).tiny
    return lambda y, t: -(t * torch.log(y.clamp_min(tiny))).sum(dim=-1).mean()


def _torch_sum_of_squares() -> Loss:
    return lambda y, t: 0.5 * ((y - t) ** 2).sum(dim=-1).mean()


def _torch_binary_cross_entropy_sigmoid() -> Loss:
    from torch.nn import functional

    bce = functional.binary_cross_entropy_with_logits
    return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]


def _torch_binary_cross_entropy() -> Loss:
    from torch.nn import functional

    bce = functional.binary_cross_entropy
    return lambda y, t: bce(y, t, reduction="sum") / y.shape[0]


register(
    Entry(
        "error",
        "cross_entropy_softmax",
        "cross-entropy of the softmax of the outputs",
        errors.CrossEntropySoftmaxError,
        _torch_cross_entropy_softmax,
    )
)
register(
    Entry(
        "error",
        "cross_entropy",
        "cross-entropy of probabilities (the model ends with softmax)",
        errors.CrossEntropyError,
        _torch_cross_entropy,
        output_layer="softmax",
    )
)
register(
    Entry(
        "error",
        "sum_of_squares",
        "0.5 * sum of squared differences",
        errors.SumOfSquaredDiffsError,
        _torch_sum_of_squares,
    )
)
register(
    Entry(
        "error",
        "binary_cross_entropy_sigmoid",
        "binary cross-entropy of the sigmoid of the outputs",
        errors.BinaryCrossEntropySigmoidError,
        _torch_binary_cross_entropy_sigmoid,
    )
)
register(
    Entry(
        "error",
        "binary_cross_entropy",
        "binary cross-entropy of probabilities (the model ends with sigmoid)",
        errors.BinaryCrossEntropyError,
        _torch_binary_cross_entropy,
        output_layer="sigmoid",
    )
)


# --- learning rules ------------------------------------------------------------------------


def _rate(default: float) -> Hyperparameter:
    return _positive("learning_rate", default, "step size", "LR")


_MOM_COEFF = _fraction("mom_coeff", 0.9, "momentum coefficient", "M")


def _epsilon(default: float) -> Hyperparameter:
    return _positive("epsilon", default, "stabiliser added to the denominator", "EPS")


def _torch_sgd(nesterov: bool) -> Callable[..., Any]:
    def build(params: Any, learning_rate: float, mom_coeff: float = 0.0) -> Any:
        import torch

        return torch.optim.SGD(params, lr=learning_rate, momentum=mom_coeff, nesterov=nesterov)

    return build


def _torch_adagrad(params: Any, learning_rate: float, epsilon: float) -> Any:
    import torch

    return torch.optim.Adagrad(params, lr=learning_rate, eps=epsilon)


def _torch_rmsprop(params: Any, learning_rate: float, beta: float, epsilon: float) -> Any:
    import torch

    return torch.optim.RMSprop(params, lr=learning_rate, alpha=beta, eps=epsilon)


def _torch_adam(
    params: Any, learning_rate: float, beta_1: float, beta_2: float, epsilon: float
) -> Any:
    import torch

    return torch.optim.Adam(params, lr=learning_rate, betas=(beta_1, beta_2), eps=epsilon)


register(
    Entry(
        "rule",
        "sgd",
        "gradient descent",
        lambda learning_rate: learning_rules.GradientDescentLearningRule(learning_rate),
        _torch_sgd(nesterov=False),
        (_rate(0.1),),
    )
)
register(
    Entry(
        "rule",
        "momentum",
        "gradient descent with momentum",
        lambda learning_rate, mom_coeff: learning_rules.MomentumLearningRule(
            learning_rate, mom_coeff
        ),
        _torch_sgd(nesterov=False),
        (_rate(0.1), _MOM_COEFF),
    )
)
register(
    Entry(
        "rule",
        "nesterov",
        "Nesterov's accelerated gradient",
        lambda learning_rate, mom_coeff: learning_rules.NesterovMomentumLearningRule(
            learning_rate, mom_coeff
        ),
        _torch_sgd(nesterov=True),
        (_rate(0.1), _MOM_COEFF),
    )
)
register(
    Entry(
        "rule",
        "adagrad",
        "AdaGrad: steps over the root of the summed squared gradients",
        lambda learning_rate, epsilon: learning_rules.AdaGradLearningRule(learning_rate, epsilon),
        _torch_adagrad,
        (_rate(1e-2), _epsilon(1e-10)),
    )
)
register(
    Entry(
        "rule",
        "rmsprop",
        "RMSProp: steps over a running root mean square of the gradients",
        lambda learning_rate, beta, epsilon: learning_rules.RMSPropLearningRule(
            learning_rate, beta, epsilon
        ),
        _torch_rmsprop,
        (
            _rate(1e-3),
            _fraction("beta", 0.9, "RMSProp's decay of the average of squared gradients"),
            _epsilon(1e-8),
        ),
    )
)
register(
    Entry(
        "rule",
        "adam",
        "Adam: bias-corrected averages of the gradients and their squares",
        lambda learning_rate, beta_1, beta_2, epsilon: learning_rules.AdamLearningRule(
            learning_rate, beta_1, beta_2, epsilon
        ),
        _torch_adam,
        (
            _rate(1e-3),
            _fraction("beta_1", 0.9, "Adam's decay of the average of gradients"),
            _fraction("beta_2", 0.999, "Adam's decay of the average of squared gradients"),
            _epsilon(1e-8),
        ),
    )
)


# --- initialisers --------------------------------------------------------------------------


def _nn_init() -> Any:
    from torch.nn import init

    return init


def _torch_init(fill: Callable[[Any, float], Any]) -> Callable[[float], Callable[[Any], Any]]:
    """A torch initialiser factory: init_scale -> fill(tensor), in place, for weights
    shaped (output_dim, input_dim) as mlp's are."""

    def make(init_scale: float) -> Callable[[Any], Any]:
        def apply(tensor: Any) -> Any:
            import torch

            with torch.no_grad():
                return fill(tensor, init_scale)

        return apply

    return make


def _scaled_init(name: str, help: str, cls: type, fill: Callable[[Any, float], Any]) -> Entry:
    gain = _positive("init_scale", 1.0, "gain of Glorot and He", "S")
    return Entry(
        "init",
        name,
        help,
        lambda init_scale, rng: cls(gain=init_scale, rng=rng),
        _torch_init(fill),
        (gain,),
    )


register(
    Entry(
        "init",
        "uniform",
        "uniform on [-init_scale, init_scale]",
        lambda init_scale, rng: initialisers.UniformInit(-init_scale, init_scale, rng=rng),
        _torch_init(lambda t, s: _nn_init().uniform_(t, -s, s)),
        (_at_least_zero("init_scale", 0.1, "half-width of uniform", "S"),),
    )
)
register(
    Entry(
        "init",
        "normal",
        "normal with mean 0 and std init_scale",
        lambda init_scale, rng: initialisers.NormalInit(0.0, init_scale, rng=rng),
        _torch_init(lambda t, s: _nn_init().normal_(t, 0.0, s)),
        (_at_least_zero("init_scale", 0.1, "std of normal", "S"),),
    )
)
register(
    _scaled_init(
        "glorot_uniform",
        "uniform on +-gain * sqrt(6 / (fan_in + fan_out))",
        initialisers.GlorotUniformInit,
        lambda t, s: _nn_init().xavier_uniform_(t, gain=s),
    )
)
register(
    _scaled_init(
        "glorot_normal",
        "normal with std gain * sqrt(2 / (fan_in + fan_out))",
        initialisers.GlorotNormalInit,
        lambda t, s: _nn_init().xavier_normal_(t, gain=s),
    )
)
register(
    _scaled_init(
        "he_uniform",
        "uniform on +-gain * sqrt(6 / fan_in)",
        initialisers.HeUniformInit,
        lambda t, s: _nn_init().kaiming_uniform_(t, nonlinearity="relu").mul_(s),
    )
)
register(
    _scaled_init(
        "he_normal",
        "normal with std gain * sqrt(2 / fan_in)",
        initialisers.HeNormalInit,
        lambda t, s: _nn_init().kaiming_normal_(t, nonlinearity="relu").mul_(s),
    )
)


# --- learning-rate schedules ---------------------------------------------------------------

register(
    Entry(
        "schedule",
        "constant",
        "the same learning rate every epoch",
        lambda learning_rate, num_epochs: schedulers.ConstantLearningRateScheduler(learning_rate),
    )
)
register(
    Entry(
        "schedule",
        "cosine",
        "half a cosine from learning_rate down towards lr_min",
        lambda learning_rate, num_epochs, lr_min: schedulers.CosineAnnealingScheduler(
            learning_rate, num_epochs, lr_min
        ),
        hyperparameters=(
            _at_least_zero(
                "lr_min",
                0.0,
                "learning rate the cosine schedule reaches after the last epoch",
                "LR",
            ),
        ),
    )
)
register(
    Entry(
        "schedule",
        "exponential",
        "the learning rate times lr_decay each epoch",
        lambda learning_rate, num_epochs, lr_decay: schedulers.ExponentialDecayScheduler(
            learning_rate, lr_decay
        ),
        hyperparameters=(
            Hyperparameter(
                "lr_decay",
                float,
                0.95,
                "factor per epoch of the exponential schedule",
                0.0,
                1.0,
                low_open=True,
                metavar="G",
            ),
        ),
    )
)


# --- the course's other layers (issue 14, part 2): PReLU, RReLU, its ELU, maxout -----------
# RadialBasisFunctionLayer has no torch counterpart and its width depends on a grid, not
# on the model's widths, so it is used from Python rather than listed here.

_PRELU = _torch_module("nn.PReLU")


def _prelu_to_torch(layer: Any) -> Any:
    from torch import nn

    module = _PRELU()(num_parameters=1, init=float(layer.alpha[0]), device="meta")
    module.weight = nn.Parameter(_to_tensor(layer.alpha))
    return module


def _prelu_from_torch(module: Any) -> Any:
    slope = _to_array(module.weight, "its weight")
    if slope.shape != (1,):
        raise ValueError(
            f"it learns {slope.size} slopes (num_parameters={module.num_parameters}); "
            "ParametricReluLayer shares one slope, as nn.PReLU() does"
        )
    return layers.ParametricReluLayer(float(slope[0]), dtype=slope.dtype)


register(
    Entry(
        "activation",
        "prelu",
        "x for x > 0, alpha * x otherwise, with alpha learned (one slope shared by all units)",
        lambda input_shape, alpha: (layers.ParametricReluLayer(alpha), tuple(input_shape)),
        _prelu_to_torch,
        (Hyperparameter("alpha", float, 0.25, "initial learned slope for x < 0", metavar="A"),),
        layer_class=layers.ParametricReluLayer,
        torch_class=_PRELU,
        from_torch=_prelu_from_torch,
    )
)

register(
    _elementwise(
        "activation",
        "rrelu",
        "x for x > 0, a * x otherwise; a ~ uniform(lower, upper) while training, their "
        "mean in evaluation (keyword: rng)",
        layers.RandomReluLayer,
        "nn.RReLU",
        _at_least_zero("lower", 0.125, "smallest random slope", "L"),
        _at_least_zero("upper", 1.0 / 3.0, "largest random slope", "U"),
    )
)

# The course's ELU (alpha 0.01 by default) as a layer, so `to_torch` carries it; nn.ELU
# comes back from `from_torch` as the 'elu' activation's ELULayer, which computes the same.
register(
    _elementwise(
        "layer",
        "exponential_linear_unit",
        "the course's ELU: x for x > 0, alpha * (exp(x) - 1) otherwise",
        layers.ExponentialLinearUnitLayer,
        "nn.ELU",
        _alpha(0.01, "limit -alpha for x -> -inf"),
    )
)


def _build_maxout(input_shape: tuple[int, ...], pool_size: int) -> tuple[Any, tuple[int, ...]]:
    if len(input_shape) != 1 or input_shape[0] % pool_size != 0:
        raise ValueError(
            f"maxout needs flat inputs of shape (dim,) with dim divisible by pool_size "
            f"{pool_size}, got {tuple(input_shape)}"
        )
    return layers.MaxPoolingLayer(pool_size), (input_shape[0] // pool_size,)


_MAX_POOL_1D = _torch_module("nn.MaxPool1d")


def _maxout_from_torch(module: Any) -> Any:
    size = module.kernel_size
    plain = (module.stride, module.padding, module.dilation) == (size, 0, 1)
    if not plain or module.ceil_mode or module.return_indices:
        raise ValueError(
            "MaxPoolingLayer pools non-overlapping groups: it needs stride == kernel_size, "
            "no padding, dilation 1, ceil_mode and return_indices off"
        )
    return layers.MaxPoolingLayer(size)


# nn.MaxPool1d(k) pools the last axis of a (batch_size, dim) input, which it takes as
# (channels, length) without a batch axis: the same maxima, the gradient to the same winner.
register(
    Entry(
        "layer",
        "maxout",
        "the maximum of each group of pool_size consecutive features",
        _build_maxout,
        lambda layer: _MAX_POOL_1D()(layer.pool_size),
        (Hyperparameter("pool_size", int, 2, "features per group", 1, metavar="K"),),
        layer_class=layers.MaxPoolingLayer,
        torch_class=_MAX_POOL_1D,
        from_torch=_maxout_from_torch,
    )
)


# --- batch normalisation (issue 14, part 3) -------------------------------------------------


def _build_batch_norm(input_shape: tuple[int, ...], **values: Any) -> tuple[Any, tuple[int, ...]]:
    if len(input_shape) != 1:
        raise ValueError(f"batch_norm needs flat inputs of shape (dim,), got {tuple(input_shape)}")
    return layers.BatchNormalizationLayer(input_shape[0], **values), tuple(input_shape)


def _batch_norm_to_torch(layer: Any) -> Any:
    from torch import nn

    module = nn.BatchNorm1d(
        layer.input_dim, eps=layer.epsilon, momentum=layer.momentum, device="meta"
    )
    module.weight = nn.Parameter(_to_tensor(layer.gamma))
    module.bias = nn.Parameter(_to_tensor(layer.beta))
    # The running statistics are buffers in torch, state in mlp: both travel.
    module.running_mean = _to_tensor(layer.running_mean)
    module.running_var = _to_tensor(layer.running_var)
    module.num_batches_tracked = _to_tensor(np.array(0, dtype=np.int64))
    return module


def _batch_norm_from_torch(module: Any) -> Any:
    if not module.affine or module.weight is None:
        raise ValueError("it has no weight and bias (affine=False); mlp's always has gamma, beta")
    if not module.track_running_stats or module.running_mean is None:
        raise ValueError("it keeps no running statistics (track_running_stats=False)")
    if module.momentum is None:
        raise ValueError("it averages cumulatively (momentum=None); mlp's needs a momentum")
    gamma = _to_array(module.weight, "its weight")
    beta = _to_array(module.bias, "its bias")
    layer = layers.BatchNormalizationLayer(
        module.num_features, epsilon=module.eps, momentum=module.momentum, dtype=gamma.dtype
    )
    layer.params = [gamma, beta]
    layer.load_state(
        {
            "running_mean": _to_array(module.running_mean, "its running_mean"),
            "running_var": _to_array(module.running_var, "its running_var"),
        }
    )
    return layer


register(
    Entry(
        "layer",
        "batch_norm",
        "each feature normalised by the batch's mean and variance while training (running "
        "averages in evaluation), then scaled by gamma and shifted by beta",
        _build_batch_norm,
        _batch_norm_to_torch,
        (
            _positive("epsilon", 1e-5, "added to the variance before its square root", "E"),
            Hyperparameter(
                "momentum", float, 0.1, "weight of each batch in the running statistics", 0.0, 1.0
            ),
        ),
        layer_class=layers.BatchNormalizationLayer,
        torch_class=_torch_module("nn.BatchNorm1d"),
        from_torch=_batch_norm_from_torch,
    )
)
register(
    Entry(
        "schedule",
        "sgdr",
        "cosine annealing with warm restarts (SGDR): from learning_rate down towards lr_min "
        "over each period, restarting at learning_rate times restart_discount per restart",
        lambda learning_rate, num_epochs, lr_min, restart_period, restart_discount, period_expansion: (
            schedulers.CosineAnnealingWithWarmRestarts(
                lr_min, learning_rate, restart_period, restart_discount, period_expansion
            )
        ),
        hyperparameters=(
            _at_least_zero(
                "lr_min",
                0.0,
                "learning rate the cosine schedule reaches after the last epoch",
                "LR",
            ),
            _positive("restart_period", 10.0, "epochs of the first SGDR period", "EPOCHS"),
            _at_least_zero(
                "restart_discount", 1.0, "factor of the maximum rate at each restart", "D"
            ),
            Hyperparameter(
                "period_expansion",
                float,
                1.0,
                "each SGDR period's length over the last's",
                1.0,
                metavar="R",
            ),
        ),
    )
)


# --- convolutional layers (issue 14: ConvolutionalLayer, MaxPooling2DLayer, ReshapeLayer) --


def _images(name: str, input_shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(input_shape) != 3:
        raise ValueError(
            f"{name} needs image inputs of shape (channels, height, width), "
            f"got {tuple(input_shape)}"
        )
    channels, height, width = (int(n) for n in input_shape)
    return channels, height, width


def _build_conv(
    input_shape: tuple[int, ...], num_output_channels: int, kernel_size: int, **arguments: Any
) -> tuple[Any, tuple[int, ...]]:
    channels, height, width = _images("conv", input_shape)
    layer = layers.ConvolutionalLayer(
        channels, num_output_channels, height, width, kernel_size, kernel_size, **arguments
    )
    return layer, (num_output_channels, layer.output_height, layer.output_width)


def _conv_to_torch(layer: Any) -> Any:
    from torch import nn

    _warn_penalties_left_out(layer, (layer.kernels_penalty, layer.biases_penalty), "nn.Conv2d")
    kernel = (layer.kernel_height, layer.kernel_width)
    conv: Any = nn.Conv2d(
        layer.num_input_channels, layer.num_output_channels, kernel, device="meta"
    )
    # conv2d is a cross-correlation: the true convolution's kernels, flipped, give it.
    conv.weight = nn.Parameter(_to_tensor(layer.kernels[:, :, ::-1, ::-1]))
    conv.bias = nn.Parameter(_to_tensor(layer.biases))
    # nn.Conv2d takes images of any size, mlp's layer is built for one: the module
    # carries it, for from_torch.
    conv.input_size = (layer.input_height, layer.input_width)
    return conv


def _conv_from_torch(module: Any) -> Any:
    plain = {"stride": (1, 1), "padding": (0, 0), "dilation": (1, 1), "groups": 1}
    for name, value in plain.items():
        if getattr(module, name) != value:
            raise ValueError(
                f"its {name} is {getattr(module, name)}; ConvolutionalLayer has {value}"
            )
    if module.bias is None:
        raise ValueError("it has no bias; ConvolutionalLayer always has one")
    kernels = _to_array(module.weight, "its weight")[:, :, ::-1, ::-1].copy()
    biases = _to_array(module.bias, "its bias")
    if kernels.dtype != biases.dtype:
        raise ValueError(f"it mixes {kernels.dtype} and {biases.dtype}")
    size = getattr(module, "input_size", None)
    if not (isinstance(size, tuple) and len(size) == 2):
        raise ValueError(
            "ConvolutionalLayer is built for one image size, which an nn.Conv2d does not "
            "know: set module.input_size = (height, width) first (to_torch sets it)"
        )
    (height, width), (kernel_height, kernel_width) = size, module.kernel_size
    return layers.ConvolutionalLayer(
        module.in_channels,
        module.out_channels,
        height,
        width,
        kernel_height,
        kernel_width,
        kernels_init=lambda shape: kernels,
        biases_init=lambda shape: biases,
        dtype=kernels.dtype,
    )


register(
    Entry(
        "layer",
        "conv",
        "true 2-D convolution (conv2d with flipped kernels), no padding, unit stride "
        "(keywords: kernels_init, biases_init, kernels_penalty, biases_penalty, dtype)",
        _build_conv,
        _conv_to_torch,
        (
            Hyperparameter("num_output_channels", int, None, "output channels", 1, metavar="N"),
            Hyperparameter("kernel_size", int, 5, "kernel height and width", 1, metavar="K"),
        ),
        layer_class=layers.ConvolutionalLayer,
        torch_class=_torch_module("nn.Conv2d"),
        from_torch=_conv_from_torch,
    )
)


def _build_max_pool(input_shape: tuple[int, ...], pool_size: int) -> tuple[Any, tuple[int, ...]]:
    channels, height, width = _images("max_pool_2d", input_shape)
    if height % pool_size or width % pool_size:
        raise ValueError(
            f"max_pool_2d with pool_size {pool_size} needs a height and width that are "
            f"multiples of it, got {tuple(input_shape)}"
        )
    layer = layers.MaxPooling2DLayer(pool_size)
    return layer, (channels, height // pool_size, width // pool_size)


def _max_pool_to_torch(layer: Any) -> Any:
    from torch import nn

    return nn.MaxPool2d(layer.pool_size)


def _max_pool_from_torch(module: Any) -> Any:
    size = module.kernel_size
    if isinstance(size, tuple):
        if len(set(size)) != 1:
            raise ValueError(f"its kernel_size {size} is not square")
        size = size[0]
    if module.stride not in (size, (size, size)):
        raise ValueError(f"its stride {module.stride} differs from its kernel_size {size}")
    if module.padding not in (0, (0, 0)) or module.dilation not in (1, (1, 1)):
        raise ValueError("it pads or dilates; MaxPooling2DLayer does neither")
    if module.ceil_mode or module.return_indices:
        raise ValueError("ceil_mode and return_indices are not MaxPooling2DLayer's")
    return layers.MaxPooling2DLayer(size)


register(
    Entry(
        "layer",
        "max_pool_2d",
        "maximum over non-overlapping pool_size x pool_size windows of each channel",
        _build_max_pool,
        _max_pool_to_torch,
        (Hyperparameter("pool_size", int, 2, "window height and width", 1, metavar="P"),),
        layer_class=layers.MaxPooling2DLayer,
        torch_class=_torch_module("nn.MaxPool2d"),
        from_torch=_max_pool_from_torch,
    )
)


def _build_reshape(
    input_shape: tuple[int, ...], output_shape: tuple[int, ...] | None = None
) -> tuple[Any, tuple[int, ...]]:
    layer = layers.ReshapeLayer(output_shape)
    # The shape of one example's outputs, from a batch of one (a view: no copy).
    shape = layer.fprop(np.zeros((1, *input_shape))).shape[1:]
    return layer, tuple(int(n) for n in shape)


def _reshape_class() -> type:
    from mlp.pytorch.modules import Reshape

    return Reshape


register(
    Entry(
        "layer",
        "reshape",
        "each example reshaped to output_shape (keyword; default: flattened)",
        _build_reshape,
        lambda layer: _reshape_class()(layer.output_shape),
        layer_class=layers.ReshapeLayer,
        torch_class=_reshape_class,
        from_torch=lambda module: layers.ReshapeLayer(module.output_shape),
    )
)
