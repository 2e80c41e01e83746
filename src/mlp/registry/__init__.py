"""The registry: every name an experiment can choose, and what each one builds.

One table maps each name of each kind to its NumPy factory, its PyTorch factory, the
hyperparameters it takes (declared with type, range, default and help) and a line of
help. The config's choices, checks and defaults, the flags of `mlp train` and their help,
and the torch backend (losses, optimisers, layer conversion both ways) all read it, so
adding an activation is one layer class and one `register(...)` in `mlp.registry.builtin`::

    from mlp import registry
    registry.names("activation")                  # ('sigmoid', 'tanh', ..., 'swish')
    entry = registry.entry("rule", "adam")
    rule = entry.build(learning_rate=1e-3)        # declared defaults fill the rest
    layer, shape = registry.entry("layer", "affine").build((784,), output_dim=100)

Kinds and the factories' signatures (`build` fills in declared defaults and checks the
declared values first; other keyword arguments pass straight through):

    activation, layer: numpy(input_shape, **hp) -> (layer, output_shape), shapes without
        the batch dimension; torch(layer) -> nn.Module computing the same function with
        the layer's weights; from_torch(module) -> layer; torch_class() -> the module type.
        Activations are the elementwise layers `--activation` offers; their names and
        the other layers' names are distinct.
    error: numpy() -> error object; torch() -> loss(outputs, one_of_k_targets), the mean
        over the batch; `output_layer` names the layer the model then ends with.
    rule: numpy(**hp) -> learning rule; torch(param_groups, **hp) -> torch.optim optimiser.
    init: numpy(rng=rng, **hp) -> initialiser; torch(**hp) -> fill(tensor), in place.
    schedule: numpy(learning_rate, num_epochs, **hp) -> `mlp.schedulers` scheduler; the
        same object drives the torch trainer, so schedules have no torch factory.

PyTorch factories import torch when called: importing this module never does.
"""

from mlp.registry.table import (
    KINDS,
    Entry,
    Hyperparameter,
    entries,
    entry,
    entry_for_layer,
    entry_for_module,
    layer_entry,
    names,
    register,
    shared_hyperparameter,
)

# Importing the built-in entries fills the table.
from mlp.registry import builtin  # noqa: F401  isort: skip

__all__ = [
    "KINDS",
    "Entry",
    "Hyperparameter",
    "entries",
    "entry",
    "entry_for_layer",
    "entry_for_module",
    "layer_entry",
    "names",
    "register",
    "shared_hyperparameter",
]
