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

The package, one concept per module (every name below is importable from `mlp.pytorch`):

    convert      to_torch, from_torch (the layer table is there), resolve_device
    monitors     accuracy, evaluate_accuracy, numpy_monitor
    data         the data set on the device (ResidentData, StreamedData)
    trainer      TorchTrainer, train, OptimizerLearningRate
    experiment   the seed lab's experiment: run_seed_experiment, seed_model, make_adam
    diagnostics  per-layer statistics (`mlp.layer_stats`) through hooks:
                 measure_torch_layers, TorchLayerStats (a callback, like
                 `mlp.diagnostics.LayerStats`)

The seed experiment's data (`mnist_providers`) and `ExperimentResult` are
`mlp.seed_experiment`'s, shared with the NumPy twin `mlp.twin.run_numpy_twin()`; they are
re-exported here.
"""

from __future__ import annotations

try:
    import torch  # noqa: F401  (fail here, with a clear message, when it is missing)
except ImportError as error:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "mlp.pytorch needs PyTorch: install it with `pip install 'mlp[torch]'`"
    ) from error

from mlp.pytorch.convert import from_torch, resolve_device, to_torch
from mlp.pytorch.diagnostics import TorchLayerStats, measure_torch_layers
from mlp.pytorch.experiment import make_adam, run_seed_experiment, seed_model
from mlp.pytorch.monitors import TorchMonitor, accuracy, evaluate_accuracy, numpy_monitor
from mlp.pytorch.trainer import OptimizerLearningRate, TorchTrainer, train
from mlp.seed_experiment import ExperimentResult, mnist_loaders, mnist_providers

__all__ = [
    "ExperimentResult",
    "OptimizerLearningRate",
    "TorchLayerStats",
    "TorchMonitor",
    "TorchTrainer",
    "accuracy",
    "evaluate_accuracy",
    "from_torch",
    "make_adam",
    "measure_torch_layers",
    "mnist_loaders",
    "mnist_providers",
    "numpy_monitor",
    "resolve_device",
    "run_seed_experiment",
    "seed_model",
    "to_torch",
    "train",
]
