"""The benchmarked workloads in JAX, written as fast as JAX allows on the CPU.

Two loops per workload, both with the data set resident as one device array:

- `scan`: the whole epoch is one jitted function, a `lax.scan` over the batches, so XLA
  compiles forward pass, backward pass and optimiser update of every step into one
  program with no Python between steps (the fastest way to train an MLP in JAX);
- `step`: the common loop, one jitted (and buffer-donating) training step per batch,
  called from Python, with the batch gathered inside the jitted step from the resident
  data by its indices.

Same architectures, initialisers (uniform +-0.1 for sigmoid, Glorot uniform for ReLU,
zero biases), error (mean softmax cross-entropy) and rules (SGD; Adam with torch's
defaults, via optax) as `benchmarks.workloads`. `available()` says whether JAX is
installed; nothing here imports it before a builder is called.
"""

from __future__ import annotations

import importlib.util
import itertools
from collections.abc import Callable

import numpy as np

from benchmarks.workloads import Workload


def available() -> bool:
    """Whether jax and optax can be imported (the `bench` extra)."""
    return all(importlib.util.find_spec(name) is not None for name in ("jax", "optax"))


def version() -> str | None:
    """jax's version string, or None when it is not installed."""
    if not available():
        return None
    import jax

    return jax.__version__


def _init_params(w: Workload, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = []
    for i, o in itertools.pairwise(w.dims):
        scale = 0.1 if w.activation == "sigmoid" else np.sqrt(6.0 / (i + o))
        weights = rng.uniform(-scale, scale, size=(i, o)).astype(np.float32)
        params.append((weights, np.zeros(o, dtype=np.float32)))
    return params


def _pieces(w: Workload, seed: int):
    """(params, opt_state, update step function) for `w`: pure functions of JAX arrays."""
    import jax
    import jax.numpy as jnp
    import optax

    activation = jax.nn.sigmoid if w.activation == "sigmoid" else jax.nn.relu
    optimiser = (
        optax.sgd(w.learning_rate)
        if w.rule == "sgd"
        else optax.adam(w.learning_rate, b1=0.9, b2=0.999, eps=1e-8)
    )

    def loss(params, x, t):
        h = x
        for weights, bias in params[:-1]:
            h = activation(h @ weights + bias)
        weights, bias = params[-1]
        logits = h @ weights + bias
        return -jnp.mean(jnp.take_along_axis(jax.nn.log_softmax(logits), t[:, None], axis=1))

    def update(params, opt_state, x, t):
        grads = jax.grad(loss)(params, x, t)
        updates, opt_state = optimiser.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    params = jax.tree_util.tree_map(jnp.asarray, _init_params(w, seed))
    return params, optimiser.init(params), update


def build_jax_scan(
    w: Workload, inputs: np.ndarray, labels: np.ndarray, seed: int = 0
) -> Callable[[], None]:
    """One epoch as one jitted `lax.scan` over shuffled batches; returns when it is done."""
    import jax
    import jax.numpy as jnp

    params, opt_state, update = _pieces(w, seed)
    x_all, t_all = jnp.asarray(inputs), jnp.asarray(labels.astype(np.int32))
    batches = inputs.shape[0] // w.batch_size

    @jax.jit
    def epoch(params, opt_state, key):
        order = jax.random.permutation(key, x_all.shape[0])[: batches * w.batch_size]
        order = order.reshape(batches, w.batch_size)

        def body(carry, idx):
            p, s = carry
            return update(p, s, x_all[idx], t_all[idx]), None

        (params, opt_state), _ = jax.lax.scan(body, (params, opt_state), order)
        return params, opt_state

    state = {"params": params, "opt": opt_state, "key": jax.random.PRNGKey(seed)}

    def run() -> None:
        state["key"], key = jax.random.split(state["key"])
        state["params"], state["opt"] = epoch(state["params"], state["opt"], key)
        jax.block_until_ready(state["params"])

    return run


def build_jax_step(
    w: Workload, inputs: np.ndarray, labels: np.ndarray, seed: int = 0
) -> Callable[[], None]:
    """One epoch of a Python loop over a jitted, buffer-donating training step."""
    import jax
    import jax.numpy as jnp

    params, opt_state, update = _pieces(w, seed)
    x_all, t_all = jnp.asarray(inputs), jnp.asarray(labels.astype(np.int32))
    n, b = inputs.shape[0], w.batch_size
    rng = np.random.default_rng(seed)

    def step(params, opt_state, idx):
        return update(params, opt_state, x_all[idx], t_all[idx])

    step = jax.jit(step, donate_argnums=(0, 1))
    state = {"params": params, "opt": opt_state}

    def run() -> None:
        # Indices as NumPy rows: a few hundred bytes per step to hand over, where
        # slicing a device array in Python would cost a dispatch of its own.
        order = rng.permutation(n)[: n // b * b].reshape(-1, b).astype(np.int32)
        p, s = state["params"], state["opt"]
        for idx in order:
            p, s = step(p, s, idx)
        jax.block_until_ready(p)
        state["params"], state["opt"] = p, s

    return run
