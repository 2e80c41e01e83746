"""The PyTorch twin: mlp models as `torch.nn` modules, and torch training in mlp's format.

Needs PyTorch (`pip install 'mlp[torch]'`); `import mlp` alone never imports it.

Moving between the two worlds::

    from mlp.pytorch import to_torch, from_torch, train
    module = to_torch(model)            # nn.Sequential with the same weights and dtype
    model = from_torch(module)          # back again, weights copied exactly

Training a torch module on mlp's data providers, with statistics in exactly the format
`Optimiser.train` returns, so the same plotting code serves both::

    stats, keys, run_time = train(module, torch.nn.CrossEntropyLoss(),
                                  torch.optim.Adam(module.parameters()),
                                  train_data, valid_data, num_epochs=10, stats_interval=1)
    stats[:, keys['acc(valid)']]

The data set moves to the device once; each epoch is shuffled there with `torch.randperm`
and served as slices of one gathered tensor, so there is no per-example Python work and
no host-to-device copy per batch. `device='auto'` picks CUDA when there is a GPU.

The seed lab's PyTorch experiment is `run_seed_experiment()` (with `mnist_loaders` and
`seed_model`); its NumPy twin is `mlp.twin.run_numpy_twin()`.

Layer correspondence (`to_torch` / `from_torch`), as the layer entries of `mlp.registry`
declare it; among them:

    AffineLayer      nn.Linear (weights (output_dim, input_dim) in both)
    SigmoidLayer     nn.Sigmoid          TanhLayer       nn.Tanh
    ReluLayer        nn.ReLU             LeakyReluLayer  nn.LeakyReLU(negative_slope=alpha)
    ELULayer         nn.ELU(alpha)       SoftmaxLayer    nn.Softmax(dim=-1)
    DropoutLayer     nn.Dropout(p=1 - incl_prob)

Dropout is the same in evaluation mode (the identity in both). While training,
`nn.Dropout` draws a mask per element, where `DropoutLayer(share_across_batch=True)`
shares one across the batch; `from_torch` gives `share_across_batch=False`.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

try:
    import torch
    from torch import nn
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "mlp.pytorch needs PyTorch: install it with `pip install 'mlp[torch]'`"
    ) from error

from mlp import DEFAULT_SEED
from mlp.callbacks import Callback
from mlp.data_providers import DataProvider, OneOfKDataProvider
from mlp.layers import Layer
from mlp.models import MultipleLayerModel
from mlp.optimisers import StatsCallback, TrainingLoop, check_count
from mlp.schedulers import Scheduler
from mlp.twin import ExperimentResult, mnist_loaders

__all__ = [
    "ExperimentResult",
    "OptimizerLearningRate",
    "TorchTrainer",
    "accuracy",
    "evaluate_accuracy",
    "from_torch",
    "make_adam",
    "mnist_loaders",
    "numpy_monitor",
    "resolve_device",
    "run_seed_experiment",
    "seed_model",
    "to_torch",
    "train",
]

logger = logging.getLogger(__name__)

TorchMonitor = Callable[[torch.Tensor, torch.Tensor], "torch.Tensor | float"]

_TORCH_DTYPES = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


# --- devices -----------------------------------------------------------------------------


def resolve_device(device: str | torch.device | None = "auto") -> torch.device:
    """The torch device to run on.

    Args:
        device: 'auto' (or None) for the first CUDA GPU when there is one, else the CPU;
            otherwise anything `torch.device` accepts ('cpu', 'cuda', 'cuda:1', ...).
    Raises:
        ValueError: for an unknown device name, or CUDA asked for where there is none.
    """
    if device is None or (isinstance(device, str) and device == "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(
            f"unknown device {device!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'"
        ) from error
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available here")
        if resolved.index is None:
            resolved = torch.device("cuda", torch.cuda.current_device())
    return resolved


# --- models: mlp <-> torch ---------------------------------------------------------------


def _supported_layers() -> str:
    from mlp import registry

    kinds = ("activation", "layer")
    return ", ".join(
        e.layer_class.__name__ for k in kinds for e in registry.entries(k) if e.layer_class
    )


def _supported_modules() -> str:
    from mlp import registry

    kinds = ("activation", "layer")
    names = [
        f"nn.{e.torch_class().__name__}"
        for k in kinds
        for e in registry.entries(k)
        if e.torch_class
    ]
    return ", ".join(names) + ", and nn.Sequential of these"


def _layer_to_torch(layer: Layer, index: int) -> nn.Module:
    from mlp import registry

    entry = registry.entry_for_layer(layer)  # exact types: a subclass may compute something else
    if entry is None or entry.torch is None:
        raise TypeError(
            f"to_torch: layer {index} is a {type(layer).__name__} ({layer!r}), which has no "
            f"PyTorch equivalent here; supported layers: {_supported_layers()}"
        )
    return entry.build_torch(layer)  # type: ignore[no-any-return]


def to_torch(model: MultipleLayerModel | Layer) -> nn.Sequential:
    """An `nn.Sequential` computing what `model` computes, with copies of its weights.

    Args:
        model: a `MultipleLayerModel` or `SingleLayerModel` (or a single layer) of the
            layers in the module docstring's table.
    Returns:
        nn.Sequential, one module per layer, on the CPU, in the model's dtype (float32
        stays float32, float64 stays float64), in training mode.
    Raises:
        TypeError: for a layer with no PyTorch counterpart, naming it.
    """
    if isinstance(model, Layer):
        layers = [model]
    elif isinstance(model, MultipleLayerModel):
        layers = model.layers
    else:
        raise TypeError(
            f"to_torch needs an mlp MultipleLayerModel or Layer, got {type(model).__name__}"
        )
    return nn.Sequential(*(_layer_to_torch(layer, i) for i, layer in enumerate(layers)))


def _flatten(module: nn.Module) -> Iterator[nn.Module]:
    if isinstance(module, nn.Sequential):
        for child in module:
            yield from _flatten(child)
    else:
        yield module


def _module_to_layer(module: nn.Module, index: int) -> Layer:
    from mlp import registry

    entry = registry.entry_for_module(module)
    if entry is None or entry.from_torch is None:
        raise TypeError(
            f"from_torch: module {index} is a {type(module).__name__} ({module!r}), which has "
            f"no mlp equivalent; supported modules: {_supported_modules()}"
        )
    try:
        return entry.from_torch(module)  # type: ignore[no-any-return]
    except ValueError as error:
        raise ValueError(f"from_torch: module {index} ({module!r}): {error}") from None


def from_torch(module: nn.Module) -> MultipleLayerModel:
    """A `MultipleLayerModel` computing what `module` computes, with copies of its weights.

    Args:
        module: an `nn.Sequential` (nested ones are flattened) of the modules in the
            module docstring's table, or one such module; on any device.
    Returns:
        MultipleLayerModel whose AffineLayers hold the Linear weights in their dtype.
    Raises:
        TypeError: for a module with no mlp counterpart, naming it.
        ValueError: for a Linear without bias, or parameters neither float32 nor float64.
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    return MultipleLayerModel([_module_to_layer(m, i) for i, m in enumerate(_flatten(module))])


# --- monitors ----------------------------------------------------------------------------


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose largest output is the target class, as a 0-d tensor.

    Args:
        outputs: tensor of shape (batch_size, num_classes).
        targets: class indices of shape (batch_size,) or one-of-K rows of shape
            (batch_size, num_classes).
    """
    if targets.ndim == outputs.ndim:
        targets = targets.argmax(-1)
    return (outputs.argmax(-1) == targets).to(torch.float64).mean()


def numpy_monitor(fn: Callable[[np.ndarray, np.ndarray], float]) -> TorchMonitor:
    """Wrap a NumPy monitor f(outputs, targets) -> batch mean for use by `train`.

    The wrapped monitor gets NumPy arrays, with class-index targets turned into one-of-K
    rows as mlp's providers serve them. It copies each batch to the host, so prefer a
    torch monitor on a GPU. `mlp.optimisers.accuracy` needs no wrapping: `train` swaps it
    for `mlp.pytorch.accuracy`.
    """

    def monitor(outputs: torch.Tensor, targets: torch.Tensor) -> float:
        out = outputs.detach().cpu().numpy()
        tgt = targets.detach().cpu().numpy()
        if tgt.ndim == 1 and out.ndim == 2 and tgt.dtype.kind in "iu":
            one_of_k = np.zeros_like(out)
            one_of_k[np.arange(tgt.shape[0]), tgt] = 1
            tgt = one_of_k
        return float(fn(out, tgt))

    monitor.__name__ = getattr(fn, "__name__", "numpy_monitor")
    return monitor


def _as_torch_monitor(fn: Callable) -> Callable:
    from mlp import errors, optimisers

    if fn is optimisers.accuracy:
        return accuracy
    if type(fn).__module__ == errors.__name__:  # an mlp error as a monitor
        return numpy_monitor(fn)
    return fn


# --- data on the device ------------------------------------------------------------------


class _ResidentData:
    """An mlp data provider's whole data set held on the device.

    Follows the provider's current `batch_size`, `max_num_batches`, `shuffle_order` and
    `drop_last` at every epoch, as the provider itself would.
    """

    def __init__(
        self,
        provider: DataProvider,
        device: torch.device,
        dtype: torch.dtype,
        class_indices: bool,
        generator: torch.Generator,
    ) -> None:
        self.provider = provider
        self.generator = generator
        self.inputs = torch.tensor(np.asarray(provider.inputs), dtype=dtype, device=device)
        if class_indices and isinstance(provider, OneOfKDataProvider):
            targets = torch.tensor(np.asarray(provider.labels), dtype=torch.int64, device=device)
        else:
            targets = torch.tensor(np.asarray(provider.targets), device=device)
            if targets.is_floating_point():
                targets = targets.to(dtype)
        self.targets = targets
        self._buffers: tuple[torch.Tensor, torch.Tensor] | None = None

    def __len__(self) -> int:
        return self.provider.num_batches

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """One epoch of training batches: slices of one gathered, shuffled copy."""
        p = self.provider
        size, stop = p.batch_size, p.num_examples_per_epoch
        if p.shuffle_order:
            order = torch.randperm(
                p.num_examples, generator=self.generator, device=self.inputs.device
            )[:stop]
            if self._buffers is None or self._buffers[0].shape[0] != stop:
                self._buffers = (
                    self.inputs.new_empty((stop, *self.inputs.shape[1:])),
                    self.targets.new_empty((stop, *self.targets.shape[1:])),
                )
            inputs = torch.index_select(self.inputs, 0, order, out=self._buffers[0])
            targets = torch.index_select(self.targets, 0, order, out=self._buffers[1])
        else:
            inputs, targets = self.inputs[:stop], self.targets[:stop]
        for start in range(0, stop, size):
            yield inputs[start : start + size], targets[start : start + size]

    def evaluation_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Every example an epoch covers, in order, in large batches (as the provider's)."""
        p = self.provider
        stop = p.num_examples_per_epoch if p.max_num_batches != -1 else p.num_examples
        for start in range(0, stop, batch_size):
            end = min(start + batch_size, stop)
            yield self.inputs[start:end], self.targets[start:end]


class _StreamedData:
    """Any other iterable of (inputs, targets) batches, a DataLoader say, moved per batch."""

    def __init__(self, batches: Iterable, device: torch.device, dtype: torch.dtype) -> None:
        self.batches = batches
        self.device = device
        self.dtype = dtype

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]

    def _move(self, tensor: Any) -> torch.Tensor:
        tensor = torch.as_tensor(tensor)
        tensor = tensor.to(self.device, non_blocking=True)
        return tensor.to(self.dtype) if tensor.is_floating_point() else tensor

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for batch in self.batches:
            inputs, targets = batch[0], batch[1]
            yield self._move(inputs), self._move(targets)

    def evaluation_batches(self, batch_size: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        return iter(self)


def _shuffle_seed(provider: DataProvider) -> int:
    rng = provider.rng
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, 2**62))
    return int(rng.randint(0, 2**31 - 1))


# --- training ----------------------------------------------------------------------------


class OptimizerLearningRate:
    """A `torch.optim` optimiser's learning rate as a rule's `learning_rate`, for the
    schedulers: reading gives the first parameter group's rate, setting sets every
    group's."""

    def __init__(self, optimizer: torch.optim.Optimizer) -> None:
        self.optimizer = optimizer

    @property
    def learning_rate(self) -> float:
        return float(self.optimizer.param_groups[0]["lr"])

    @learning_rate.setter
    def learning_rate(self, value: float) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = value


class TorchTrainer(TrainingLoop):
    """Trains a torch module the way `mlp.optimisers.Optimiser` trains an mlp model.

    Args:
        module: the torch model; it is moved to `device`.
        loss: a loss with mean reduction, e.g. `nn.CrossEntropyLoss()`; called as
            loss(outputs, targets) and recorded as 'error'.
        optimizer: a `torch.optim` optimiser over the module's parameters (made before
            or after the move to the device: parameters are moved in place).
        train_data: an mlp data provider or an iterable of (inputs, targets) batches
            such as a `torch.utils.data.DataLoader`.
        valid_data: the same kinds, for statistics only; optional.
        data_monitors: name -> f(outputs, targets) giving a batch mean (a 0-d tensor or
            a float), called with torch tensors on the device in evaluation mode; None
            means {'acc': accuracy}, {} records the error alone. `mlp.optimisers.accuracy`
            is swapped for `mlp.pytorch.accuracy`; wrap other NumPy monitors with
            `numpy_monitor`.
        device: 'auto', 'cpu', 'cuda', ... (see `resolve_device`).
        progress: show a progress bar over the batches of each epoch (tqdm).
        on_stats: called as on_stats(epoch, stats) each time statistics are recorded.
        eval_batch_size: batch size of the statistics passes over provider data; None
            for 10,000 on the CPU (cache-friendly) and 65,536 on a GPU (one batch for
            MNIST, so a statistics pass is a handful of kernel launches).
        class_indices: serve a one-of-K provider's targets as class indices (int64), as
            torch's classification losses take them; False serves the one-of-K rows.
        seed: seeds the shuffles of provider data on the device; None draws it from the
            provider's own rng, so a seeded provider gives a repeatable run.
        schedulers: `mlp.schedulers` objects; they set the rate of every parameter group
            of `optimizer` before each epoch (through `learning_rule`, an
            `OptimizerLearningRate`), as they set an mlp learning rule's.
        callbacks: `mlp.callbacks.Callback` objects, called as `Optimiser` calls them.

    A provider's data set moves to the device once; after each epoch the shuffled order
    comes from `torch.randperm` on the device and batches are slices of one gathered
    copy. Statistics run without gradients, in evaluation mode, in large batches, with
    the sums kept on the device and read back once per row.
    """

    def __init__(
        self,
        module: nn.Module,
        loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        optimizer: torch.optim.Optimizer,
        train_data: Iterable,
        valid_data: Iterable | None = None,
        data_monitors: Mapping[str, Callable] | None = None,
        device: str | torch.device = "auto",
        progress: bool = False,
        on_stats: StatsCallback | None = None,
        eval_batch_size: int | None = None,
        class_indices: bool = True,
        seed: int | None = None,
        schedulers: Iterable[Scheduler] | None = None,
        callbacks: Iterable[Callback] | None = None,
    ) -> None:
        self.device = resolve_device(device)
        self.module = module.to(self.device)
        self.loss = loss
        self.optimizer = optimizer
        self.dtype = next(
            (p.dtype for p in module.parameters() if p.is_floating_point()),
            torch.get_default_dtype(),
        )
        self.class_indices = class_indices
        self.seed = seed
        self.train_dataset = self._on_device(train_data)
        self.valid_dataset = None if valid_data is None else self._on_device(valid_data)
        monitors = {"acc": accuracy} if data_monitors is None else dict(data_monitors)
        self.data_monitors: dict[str, Callable] = {"error": loss}
        self.data_monitors.update({k: _as_torch_monitor(f) for k, f in monitors.items()})
        self.progress = progress
        self.learning_rule = OptimizerLearningRate(optimizer)
        self._set_hooks(schedulers, callbacks, on_stats)
        if eval_batch_size is None:
            eval_batch_size = 10_000 if self.device.type == "cpu" else 65_536
        check_count("eval_batch_size", eval_batch_size, 1)
        self.eval_batch_size = int(eval_batch_size)
        self.interrupted = False
        self.epoch_times: list[float] = []
        self._warned_non_finite = False

    @property
    def train_data(self) -> _ResidentData | _StreamedData:
        """The training data as the trainer serves it (on the device)."""
        return self.train_dataset

    @property
    def valid_data(self) -> _ResidentData | _StreamedData | None:
        """The validation data as the trainer serves it (on the device), or None."""
        return self.valid_dataset

    def _on_device(self, data: Iterable) -> _ResidentData | _StreamedData:
        if isinstance(data, DataProvider):
            seed = _shuffle_seed(data) if self.seed is None else self.seed
            generator = torch.Generator(device=self.device)
            generator.manual_seed(seed)
            return _ResidentData(data, self.device, self.dtype, self.class_indices, generator)
        if not isinstance(data, Iterable):
            raise TypeError(
                f"expected an mlp data provider or an iterable of (inputs, targets) batches, "
                f"got {type(data).__name__}"
            )
        return _StreamedData(data, self.device, self.dtype)

    def _synchronise(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    # --- one epoch ---------------------------------------------------------------------

    def train_step(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """One gradient step on one batch; nothing waits for the device."""
        loss = self.loss(self.module(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def do_training_epoch(self) -> None:
        """One pass over the training data, one update per batch."""
        self.module.train()
        for inputs, targets in self._epoch_batches():
            self.train_step(inputs, targets)

    # --- statistics --------------------------------------------------------------------

    def eval_monitors(self, data: _ResidentData | _StreamedData, label: str) -> dict[str, float]:
        """Every monitor over a whole data set: exact means over the examples, computed in
        evaluation mode (dropout off) without gradients."""
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.inference_mode():
                totals = torch.zeros(
                    len(self.data_monitors), dtype=torch.float64, device=self.device
                )
                count = 0
                for inputs, targets in data.evaluation_batches(self.eval_batch_size):
                    outputs = self.module(inputs)
                    size = inputs.shape[0]
                    values = [
                        torch.as_tensor(m(outputs, targets), device=self.device).to(torch.float64)
                        for m in self.data_monitors.values()
                    ]
                    totals += torch.stack(values) * size
                    count += size
                means = (totals / max(count, 1)).tolist()  # the one wait for the device
        finally:
            self.module.train(was_training)
        return {f"{key}{label}": v for key, v in zip(self.data_monitors, means, strict=True)}


def train(
    module: nn.Module,
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_data: Iterable,
    valid_data: Iterable | None = None,
    num_epochs: int = 10,
    stats_interval: int = 5,
    data_monitors: Mapping[str, Callable] | None = None,
    device: str | torch.device = "auto",
    progress: bool = False,
    on_stats: StatsCallback | None = None,
    **options: Any,
) -> tuple[np.ndarray, dict[str, int], float]:
    """Train a torch module and return `(stats, keys, run_time)` as `Optimiser.train` does.

    See `TorchTrainer` for the arguments (`options` are its `eval_batch_size`,
    `class_indices` and `seed`) and `TorchTrainer.train` for what is returned. With mlp
    data providers the data set moves to the device once and is shuffled there; monitors
    receive torch tensors, and None gives {'acc': accuracy}. Ctrl-C returns the rows
    recorded so far.
    """
    trainer = TorchTrainer(
        module,
        loss,
        optimizer,
        train_data,
        valid_data,
        data_monitors=data_monitors,
        device=device,
        progress=progress,
        on_stats=on_stats,
        **options,
    )
    return trainer.train(num_epochs, stats_interval)


# --- the seed lab's experiment -----------------------------------------------------------


def seed_model(input_dim: int = 784, hidden_dim: int = 100, output_dim: int = 10) -> nn.Sequential:
    """The seed lab's network: Linear-ReLU-Linear-ReLU-Linear, PyTorch's default init,
    drawn from torch's global generator (seed it with `torch.manual_seed`)."""
    return nn.Sequential(
        nn.Linear(input_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, hidden_dim),
        nn.ReLU(),
        nn.Linear(hidden_dim, output_dim),
    )


def evaluate_accuracy(
    module: nn.Module,
    data: OneOfKDataProvider,
    device: str | torch.device = "auto",
    batch_size: int = 10_000,
) -> float:
    """Correct predictions over every example of `data`, divided by their number.

    Counted, not averaged over batches (a mean of batch means over-weights a small last
    batch). The module runs in evaluation mode without gradients, in large batches.

    Args:
        module: outputs of shape (n, num_classes) for inputs of shape (n, input_dim).
        data: a one-of-K provider (its `inputs` and integer `labels` are used).
        device: where to evaluate; 'auto' is wherever the module's parameters are. The
            module is not moved: another device than its own is an error.
    """
    parameter = next(module.parameters())
    device = parameter.device if device == "auto" else resolve_device(device)
    if parameter.device != device:
        raise ValueError(
            f"the module is on {parameter.device} but evaluation was asked on {device}: "
            f"move it first with module.to({str(device)!r}), or pass device='auto'"
        )
    dtype = parameter.dtype
    was_training = module.training
    module.eval()
    try:
        with torch.inference_mode():
            inputs = torch.tensor(np.asarray(data.inputs), dtype=dtype, device=device)
            labels = torch.tensor(np.asarray(data.labels), dtype=torch.int64, device=device)
            correct = torch.zeros((), dtype=torch.int64, device=device)
            for start in range(0, inputs.shape[0], batch_size):
                outputs = module(inputs[start : start + batch_size])
                correct += (outputs.argmax(-1) == labels[start : start + batch_size]).sum()
            return int(correct) / inputs.shape[0]
    finally:
        module.train(was_training)


def make_adam(
    module: nn.Module, learning_rate: float = 1e-3, device: str | torch.device | None = None
) -> torch.optim.Adam:
    """`torch.optim.Adam` with the fewest kernel launches per step: fused (one kernel for
    all parameters) on CUDA and on the CPU, foreach elsewhere.

    The fused CPU kernel makes the seed's 784-100-100-10 epoch about 20% faster than the
    default for-each implementation here; on a GPU it replaces a dozen launches per
    parameter with one.

    Args:
        device: where the parameters will live; default where they are now.
    """
    if device is None:
        device = next(module.parameters()).device
    kind = resolve_device(device).type
    options = {"fused": True} if kind in ("cuda", "cpu") else {"foreach": True}
    return torch.optim.Adam(module.parameters(), lr=learning_rate, **options)


def run_seed_experiment(
    num_epochs: int = 50,
    stats_interval: int = 1,
    seed: int = DEFAULT_SEED,
    device: str | torch.device = "auto",
    progress: bool = False,
    max_train_examples: int | None = None,
    data_dir: str | None = None,
    on_stats: StatsCallback | None = None,
) -> ExperimentResult:
    """The seed lab's PyTorch experiment, seeded, with mlp's statistics.

    784-100-100-10 ReLU network, `CrossEntropyLoss`, Adam 1e-3, batches of 128, the
    60,000 training images split 48,000 / 12,000 by a seeded permutation, the seed's
    normalisation (see `mlp.twin`), and the test accuracy counted over all 10,000 test
    images. The initial weights come from `torch.manual_seed(seed)` inside a forked RNG
    state, so torch's global generator is left as it was.

    Args:
        num_epochs, stats_interval: as `Optimiser.train`.
        seed: seeds the split, the initial weights and the shuffles.
        device: 'auto' picks CUDA when present.
        progress: progress bar over each epoch's batches.
        max_train_examples: train on a random subset of this size (quick runs, tests).
        data_dir: where the MNIST files live.
        on_stats: called as on_stats(epoch, stats) for every row of statistics.
    Returns:
        ExperimentResult with backend 'torch'; `seconds_per_epoch` is the median training
        epoch, statistics excluded.
    """
    device = resolve_device(device)
    train_data, valid_data, test_data = mnist_loaders(
        batch_size=128, seed=seed, data_dir=data_dir, max_train_examples=max_train_examples
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = seed_model()
    module.to(device)
    trainer = TorchTrainer(
        module,
        nn.CrossEntropyLoss(),
        make_adam(module, 1e-3, device),
        train_data,
        valid_data,
        data_monitors={"acc": accuracy},
        device=device,
        progress=progress,
        on_stats=on_stats,
        seed=seed,
    )
    stats, keys, run_time = trainer.train(num_epochs, stats_interval)

    accuracy_on_test = evaluate_accuracy(module, test_data, device)
    times = trainer.epoch_times
    return ExperimentResult(
        stats=stats,
        keys=keys,
        run_time=run_time,
        seconds_per_epoch=statistics.median(times) if times else float("nan"),
        test_accuracy=accuracy_on_test,
        device=str(device),
        backend="torch",
        epoch_times=list(times),
        interrupted=trainer.interrupted,
    )
