"""mlp: multiple-layer neural networks in NumPy, built from layers with `fprop` and `bprop`.

The package is organised one concept per module:

- `mlp.layers`: layers with `fprop`/`bprop` (affine, sigmoid, tanh, ReLU, softmax, dropout, ...)
- `mlp.errors`: error functions with `__call__` and `grad`
- `mlp.models`: models that chain layers
- `mlp.initialisers`: parameter initialisers, all driven by an explicit `rng`
- `mlp.learning_rules`: gradient descent and its relatives
- `mlp.data_providers`: mini-batch iterators over MNIST and friends
- `mlp.optimisers`: the training loop that records statistics
- `mlp.gradcheck`: numerical gradient checks for your own layers
"""

from mlp.dtypes import default_dtype, get_default_dtype, set_default_dtype

DEFAULT_SEED = 123456
"""Seed used wherever a random choice is made and no `rng` is given."""

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_SEED",
    "__version__",
    "default_dtype",
    "get_default_dtype",
    "set_default_dtype",
]
