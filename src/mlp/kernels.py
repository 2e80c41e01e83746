"""Switches for the compiled (numba) updates that training uses where numba is installed.

`mlp.optimisers.Optimiser` updates the built-in learning rules through `mlp._fast`,
which runs each rule's update as one compiled loop per parameter (one pass over memory)
with exactly the numbers of the rule's NumPy `_step`. To run NumPy code instead, e.g.
to compare: the environment variable `MLP_NO_JIT=1`, or

    from mlp import kernels
    kernels.enabled()              # True when training may use compiled kernels
    with kernels.numpy_updates():  # NumPy updates inside this block (this thread)
        ...

`compiled(name)` gives one kernel of `KERNELS` (None when they are switched off).
"""

from mlp._fast.kernels import KERNELS, compiled, enabled, numpy_updates

__all__ = ["KERNELS", "compiled", "enabled", "numpy_updates"]
