"""Per-layer statistics of a torch module (`measure_torch_layers`, `TorchLayerStats`): the
PyTorch twin's side of `mlp.layer_stats`, so that a torch run's layers.csv compares row
for row with a NumPy run's.

Which module is which layer. The layers are the modules `from_torch` reads: the module's
children in order, nested `nn.Sequential`s flattened (a module that is not an
`nn.Sequential` is one layer). `to_torch` turns every mlp layer into exactly one such
module (its registry entry's torch factory builds one per layer, and no layer is dropped),
so row `i` of a converted model is `model.layers[i]`, named after the mlp class
(`names`, e.g. 'AffineLayer'; without `names`, the class of the module's registry entry).

How one measurement is taken. Forward hooks record each layer's input (the
pre-activation) and output during one forward pass in evaluation mode; the gradients of
the mean error with respect to every output and parameter come from one
`torch.autograd.grad` call, which leaves the parameters' `.grad` alone. Evaluation mode
means no dropout or RReLU draws and no batch-norm updates; each module's own mode is put
back afterwards. The statistics are computed in float64 on the device and read back once.

The classes of statistics go by the module's type: `nn.Sigmoid` and `nn.Tanh` saturate
(y < 0.01 or y > 0.99; |y| > 0.99), `nn.ReLU` has dead units, `nn.LeakyReLU`, `nn.PReLU`, `nn.RReLU` and `nn.ELU` have
negative pre-activations. A unit (for dead_fraction) is one entry of an example's output.

When to measure, the parameters before the last step of a measured epoch (for the update
ratio: copied at the training loop's `on_batch_begin` of the epoch's last batch, of every
batch when the number of batches is unknown) and what is kept are
`mlp.diagnostics.LayerMonitor`'s, shared with the NumPy `LayerStats`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from mlp import _checks
from mlp.diagnostics import LayerMonitor
from mlp.layer_stats import LAYER_COLUMNS, LayerStatsTable, sample_indices
from mlp.pytorch._checks import check_loss, check_module, check_tensor
from mlp.pytorch.convert import flatten_modules

__all__ = ["SATURATION_MARGIN", "TorchLayerStats", "layer_modules", "measure_torch_layers"]

SATURATION_MARGIN = 0.01
"""An output within this distance of a bound of sigmoid or tanh counts as saturated."""

_DYING = (nn.ReLU,)
_NEGATIVE = (nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU)

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Samples = dict[int, dict[int, np.ndarray]]


def layer_modules(module: nn.Module) -> list[nn.Module]:
    """The modules that are the layers of `module`, in order (see the module docstring):
    `model.layers[i]` is `layer_modules(to_torch(model))[i]`."""
    check_module(module, "module", "layer_modules")
    return list(flatten_modules(module))


def _registry_name(module: nn.Module, index: int) -> str:
    from mlp import registry

    entry = registry.entry_for_module(module)
    if entry is None or entry.layer_class is None:
        raise ValueError(
            f"layer {index} is a {type(module).__name__}, which has no mlp layer class; "
            "pass names=[...] (one layer class name per layer)"
        )
    return entry.layer_class.__name__


def _layer_names(layers: list[nn.Module], names: Sequence[str] | None, owner: str) -> list[str]:
    if names is None:
        return [_registry_name(m, i) for i, m in enumerate(layers)]
    if isinstance(names, str) or not isinstance(names, Sequence):
        raise TypeError(f"{owner}: names must be a list of layer class names, got {names!r}")
    names = list(names)
    if len(names) != len(layers):
        raise ValueError(
            f"{owner}: names has {len(names)} entries but the module has {len(layers)} layers"
        )
    for name in names:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"{owner}: names must be class names such as 'AffineLayer', got {name!r}"
            )
    return names


def _layer_params(layers: list[nn.Module]) -> list[list[torch.Tensor]]:
    return [list(layer.parameters()) for layer in layers]


def _previous_by_layer(
    params: list[list[torch.Tensor]], previous: Sequence[Any] | None, owner: str
) -> list[list[torch.Tensor]] | None:
    """`previous` (one tensor per parameter, in `module.parameters()` order) split by layer."""
    if previous is None:
        return None
    if isinstance(previous, (str, torch.Tensor)) or not isinstance(previous, Sequence):
        raise TypeError(
            f"{owner}: previous_params must be a list of tensors (module.parameters() order)"
        )
    flat = [p for group in params for p in group]
    if len(previous) != len(flat):
        raise ValueError(
            f"{owner}: previous_params has {len(previous)} entries, the module "
            f"{len(flat)} parameters"
        )
    for i, (old, new) in enumerate(zip(previous, flat, strict=True)):
        check_tensor(old, f"previous_params[{i}]", owner)
        if old.shape != new.shape:
            raise ValueError(
                f"{owner}: previous_params[{i}] has shape {tuple(old.shape)}, the parameter "
                f"{tuple(new.shape)}"
            )
    split, start = [], 0
    for group in params:
        split.append(list(previous[start : start + len(group)]))
        start += len(group)
    return split


def _forward(
    module: nn.Module, layers: list[nn.Module], inputs: torch.Tensor
) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
    """The module's outputs and each layer's (input, output), from forward hooks."""
    seen: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def recorder(index: int) -> Callable[..., None]:
        def record(layer: nn.Module, args: tuple[Any, ...], output: torch.Tensor) -> None:
            if index in seen:
                raise ValueError(f"layer {index} ({layer!r}) runs more than once per forward pass")
            seen[index] = (args[0], output)

        return record

    handles = [layer.register_forward_hook(recorder(i)) for i, layer in enumerate(layers)]
    try:
        outputs = module(inputs)
    finally:
        for handle in handles:
            handle.remove()
    missing = [i for i in range(len(layers)) if i not in seen]
    if missing:
        raise ValueError(f"layers {missing} did not run in the module's forward pass")
    return outputs, [seen[i] for i in range(len(layers))]


def _norm(tensors: Sequence[torch.Tensor]) -> torch.Tensor:
    """sqrt(sum of squares) over several tensors, in float64."""
    squares = [t.detach().to(torch.float64).square().sum() for t in tensors]
    return torch.stack(squares).sum().sqrt()


def _update_ratio(
    params: list[torch.Tensor], previous: list[torch.Tensor] | None, nan: torch.Tensor
) -> torch.Tensor:
    """||p - p_before|| / ||p|| over one layer's parameters (NaN without parameters,
    without the parameters before the step, or when ||p|| is 0)."""
    if not params or previous is None:
        return nan
    steps = [p.detach() - q.detach().to(p) for p, q in zip(params, previous, strict=True)]
    size = _norm(params)
    return torch.where(size > 0, _norm(steps) / size, nan)


def _activation_stats(
    layer: nn.Module, pre: torch.Tensor, y: torch.Tensor, nan: torch.Tensor
) -> list[torch.Tensor]:
    """activation_mean, activation_std, saturated, dead and negative fractions."""
    y = y.detach().to(torch.float64)
    x = pre.detach().to(torch.float64)
    saturated = dead = negative = nan
    if isinstance(layer, nn.Sigmoid):  # outputs in (0, 1)
        saturated = (torch.minimum(y, 1 - y) < SATURATION_MARGIN).to(torch.float64).mean()
    if isinstance(layer, nn.Tanh):  # outputs in (-1, 1)
        saturated = (1 - y.abs() < SATURATION_MARGIN).to(torch.float64).mean()
    if isinstance(layer, _DYING):
        dead = (x <= 0).reshape(x.shape[0], -1).all(dim=0).to(torch.float64).mean()
    if isinstance(layer, _NEGATIVE):
        negative = (x < 0).to(torch.float64).mean()
    return [y.mean(), y.std(correction=0), saturated, dead, negative]


def _measure(
    module: nn.Module,
    loss: Loss,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    names: list[str],
    epoch: int,
    previous: list[list[torch.Tensor]] | None,
) -> tuple[LayerStatsTable, list[torch.Tensor]]:
    """One measurement (arguments checked): the table and each layer's outputs."""
    layers = layer_modules(module)
    params = _layer_params(layers)
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        with torch.enable_grad():
            # Inputs that need a gradient give every output one, parameters or not.
            outputs, seen = _forward(module, layers, inputs.detach().requires_grad_(True))
            error = loss(outputs, targets)
            trained = [p for group in params for p in group if p.requires_grad]
            grads = torch.autograd.grad(error, [y for _, y in seen] + trained, allow_unused=True)
    finally:
        for m, mode in modes:
            m.training = mode
    output_grads = grads[: len(seen)]
    param_grads = dict(zip(map(id, trained), grads[len(seen) :], strict=True))
    nan = torch.tensor(math.nan, dtype=torch.float64, device=inputs.device)
    rows = []
    for i, (layer, (x, y)) in enumerate(zip(layers, seen, strict=True)):
        grad_y = output_grads[i] if output_grads[i] is not None else torch.zeros_like(y)
        # A frozen parameter (no gradient asked for) contributes zeros.
        own = [param_grads.get(id(p)) for p in params[i]]
        own_grads = [
            torch.zeros_like(p) if g is None else g for g, p in zip(own, params[i], strict=True)
        ]
        update = _update_ratio(params[i], None if previous is None else previous[i], nan)
        param_norm = _norm(own_grads) if params[i] else nan
        stats = _activation_stats(layer, x, y, nan)
        rows.append(torch.stack([_norm([grad_y]), param_norm, update, *stats]))
    values = torch.stack(rows).cpu().numpy() if rows else np.zeros((0, len(LAYER_COLUMNS)))
    table = LayerStatsTable(
        np.full(len(layers), epoch, dtype=np.int64), np.arange(len(layers)), tuple(names), values
    )
    return table, [y.detach() for _, y in seen]


def measure_torch_layers(
    module: nn.Module,
    loss: Loss,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    names: Sequence[str] | None = None,
    *,
    epoch: int = 0,
    previous_params: Sequence[torch.Tensor] | None = None,
) -> LayerStatsTable:
    """One measurement of every layer of `module` on one batch (`mlp.layer_stats`).

    Args:
        module: the torch model, e.g. `to_torch(model)`; its layers are `layer_modules`.
        loss: the mean error over the batch, loss(outputs, targets) -> 0-d tensor, e.g.
            the torch counterpart of CrossEntropySoftmaxError (mean cross-entropy of the
            softmax of the outputs) as the torch backend trains with.
        inputs: tensor of shape (batch_size, *input_shape) on the module's device.
        targets: the targets `loss` takes, e.g. one-of-K of shape (batch_size, K).
        names: one layer class name per layer (the mlp model's, e.g. 'AffineLayer');
            None: the class of each module's registry entry.
        epoch: the epoch written in every row.
        previous_params: the parameters before the last update step, one tensor per
            parameter in `module.parameters()` order; None gives update_ratio NaN.
    Returns:
        LayerStatsTable with one row per layer, in layer order.
    Raises:
        TypeError, ValueError: for arguments of the wrong kind or shape, naming them.
    """
    owner = "measure_torch_layers"
    check_module(module, "module", owner)
    check_loss(loss, "loss", owner)
    check_tensor(inputs, "inputs", owner)
    check_tensor(targets, "targets", owner)
    _check_batch(inputs, targets, owner)
    _checks.count(epoch, "epoch", owner, 0)
    layers = layer_modules(module)
    chosen = _layer_names(layers, names, owner)
    previous = _previous_by_layer(_layer_params(layers), previous_params, owner)
    return _measure(module, loss, inputs, targets, chosen, int(epoch), previous)[0]


def _check_batch(inputs: torch.Tensor, targets: torch.Tensor, owner: str) -> None:
    if inputs.ndim < 2 or inputs.shape[0] == 0:
        raise ValueError(
            f"{owner}: inputs must have shape (batch_size, ...) with at least one example, "
            f"got {tuple(inputs.shape)}"
        )
    if not inputs.is_floating_point():
        raise TypeError(f"{owner}: inputs must be floating point, got {inputs.dtype}")
    if targets.ndim < 1 or targets.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"{owner}: targets must have one entry per example ({inputs.shape[0]}), got shape "
            f"{tuple(targets.shape)}"
        )


def _sample(values: torch.Tensor, size: int) -> np.ndarray:
    """min(values.numel(), size) of the flattened values, the entries
    `mlp.layer_stats.sample_indices` picks (as `mlp.diagnostics.activation_sample`), as
    float32."""
    flat = values.reshape(-1)
    indices = sample_indices(flat.numel(), size)
    return flat[torch.from_numpy(indices).to(flat.device)].to(torch.float32).cpu().numpy()


class TorchLayerStats(LayerMonitor):
    """Per-layer statistics of a `TorchTrainer`'s module as it trains: the twin of
    `mlp.diagnostics.LayerStats`, with the same arguments and rows.

    Args:
        batch_size: measure on the first this many training examples (all of them when
            there are fewer), read from the trainer's data on the device without
            drawing from its shuffles.
        batch: (inputs, targets) to measure on instead (tensors or arrays, moved to the
            trainer's device and dtype); needed when the training data is not an mlp
            data provider.
        interval: None: measure at every statistics row (epoch 0 and each stats
            interval); k: at epoch 0 and after every k-th epoch.
        sample_size: the most output values per layer kept in `samples`.
        on_measurement: called as on_measurement(new_rows, samples) after each
            measurement (new_rows a LayerStatsTable).
        names: one layer class name per layer (the mlp model's); None: each module's
            registry entry's class (see `measure_torch_layers`).

    Attributes:
        table: LayerStatsTable of every measurement so far.
        samples: epoch -> layer -> 1-D float32 array of up to `sample_size` of the
            layer's outputs, for the first and the latest measurement.
    """

    def __init__(
        self,
        batch_size: int = 1000,
        *,
        batch: tuple[Any, Any] | None = None,
        interval: int | None = None,
        sample_size: int = 2000,
        on_measurement: Callable[[LayerStatsTable, Samples], None] | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        owner = "TorchLayerStats"
        super().__init__(
            batch_size,
            interval=interval,
            sample_size=sample_size,
            on_measurement=on_measurement,
            owner=owner,
        )
        if batch is not None and (not isinstance(batch, (tuple, list)) or len(batch) != 2):
            raise TypeError(f"{owner}: batch must be an (inputs, targets) pair, got {batch!r}")
        self.batch = batch
        if names is not None and (isinstance(names, str) or not isinstance(names, Sequence)):
            raise TypeError(f"{owner}: names must be a list of layer class names, got {names!r}")
        self.names = None if names is None else list(names)
        self._inputs: torch.Tensor | None = None
        self._targets: torch.Tensor | None = None
        self._buffer: list[torch.Tensor] | None = None
        self._resolved_names: list[str] = []

    # --- the hooks (when to measure: LayerMonitor) ---------------------------------------

    def on_train_begin(self, loop: Any) -> None:
        self._prepare(loop)
        super().on_train_begin(loop)

    def _prepare(self, loop: Any) -> None:
        """The fixed batch and the layer names, checked against the trainer."""
        owner = "TorchLayerStats"
        if not isinstance(getattr(loop, "module", None), nn.Module) or not callable(
            getattr(loop, "train_step", None)
        ):
            raise TypeError(
                f"{owner} measures a mlp.pytorch.TorchTrainer's module, not a "
                f"{type(loop).__name__}; use mlp.diagnostics.LayerStats with Optimiser"
            )
        self._inputs, self._targets = self._fixed_batch(loop)
        _check_batch(self._inputs, self._targets, owner)
        self._resolved_names = _layer_names(layer_modules(loop.module), self.names, owner)

    # --- the batch, the parameters before the last step, a measurement ------------------

    def _fixed_batch(self, loop: Any) -> tuple[torch.Tensor, torch.Tensor]:
        device, dtype = loop.device, loop.dtype
        if self.batch is not None:
            moved = []
            for value in self.batch:
                tensor = torch.as_tensor(np.asarray(value) if not torch.is_tensor(value) else value)
                tensor = tensor.to(device)
                moved.append(tensor.to(dtype) if tensor.is_floating_point() else tensor)
            return moved[0], moved[1]
        data = loop.train_dataset
        inputs, targets = getattr(data, "inputs", None), getattr(data, "targets", None)
        if not torch.is_tensor(inputs) or not torch.is_tensor(targets):
            raise TypeError(
                "TorchLayerStats: the training data is not an mlp data provider, so there "
                "is no fixed batch to read without drawing from it; pass "
                "batch=(inputs, targets)"
            )
        return inputs[: self.batch_size], targets[: self.batch_size]

    def copy_params(self, loop: Any) -> list[torch.Tensor]:
        """The module's parameters before the last step, in a buffer reused each time."""
        params = [p.detach() for p in loop.module.parameters()]
        buffer = self._buffer
        if buffer is None or [b.shape for b in buffer] != [p.shape for p in params]:
            buffer = [p.clone() for p in params]
        else:
            for old, new in zip(buffer, params, strict=True):
                old.copy_(new)
        self._buffer = buffer
        return buffer

    def measure(self, loop: Any, epoch: int) -> LayerStatsTable:
        """Measure the trainer's module now, label the rows `epoch`, keep and announce them
        (and return them)."""
        if self._inputs is None or self._targets is None:
            self._prepare(loop)
        assert self._inputs is not None and self._targets is not None
        layers = layer_modules(loop.module)
        split = _previous_by_layer(
            _layer_params(layers), self.previous_params(epoch), "TorchLayerStats"
        )
        new, outputs = _measure(
            loop.module, loop.loss, self._inputs, self._targets, self._resolved_names, epoch, split
        )
        return self.keep(new, {i: _sample(y, self.sample_size) for i, y in enumerate(outputs)})
