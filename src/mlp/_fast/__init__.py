"""The fast path: the training step at speed, with the numbers of the plain one.

The teaching modules define what training computes: a model's `fprop` and
`grads_wrt_params`, an error's `grad`, a learning rule's `update_params` (its textbook
`_step` per parameter). This private package makes it fast without changing a bit,
behind one seam:

    step = training_step(model, error, learning_rule)   # after learning_rule.initialise
    step(inputs_batch, targets_batch)                   # forward, backward, update

`mlp.optimisers.Optimiser` builds the step once and calls it for every batch. Today
forward and backward are the plain calls and the update is fast for the built-in rules
(`updates.FastUpdater`: compiled kernels from `kernels` where numba is on, else NumPy on
the whole model at once or in cache-sized chunks); anything else (a rule of your own,
a subclass with its own `_step`) runs its own `update_params`. A faster forward and
backward for known models belongs behind the same seam, so that the teaching code
does not change.

The invariant, tested in tests/test_fast_updates.py for every rule, both float dtypes,
contiguous and strided parameters, small and large models, non-finite gradients, with
numba and without: the fast step gives the plain step's bits.
"""

from mlp._fast.step import TrainingStep, training_step
from mlp._fast.updates import FastUpdater, fast_updater

__all__ = ["FastUpdater", "TrainingStep", "fast_updater", "training_step"]
