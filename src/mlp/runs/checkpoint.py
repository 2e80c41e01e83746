"""checkpoint.npz: everything training needs to continue after an epoch, bit for bit
(parameters, learning-rule state, random generators' states, the epoch order), in one
atomic `.npz` file with the scalars as a JSON string."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlp.config import (
    Experiment,
)
from mlp.runs.atomic import atomic_write_bytes
from mlp.runs.encoding import _json_safe, _npz_bytes
from mlp.runs.errors import RunError

_CHECKPOINT_VERSION = 1


def _rng_state(rng: Any) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """A generator's state as JSON-able scalars plus arrays."""
    if isinstance(rng, np.random.RandomState):
        kind, key, pos, has_gauss, cached = rng.get_state()
        meta = {"type": "RandomState", "kind": kind, "pos": int(pos)}
        meta.update(has_gauss=int(has_gauss), cached_gaussian=float(cached))
        return meta, {"key": np.asarray(key)}
    if isinstance(rng, np.random.Generator):
        return {"type": "Generator", "state": rng.bit_generator.state}, {}
    raise TypeError(f"cannot checkpoint a {type(rng).__name__}")


def _set_rng_state(rng: Any, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> None:
    if meta["type"] == "RandomState":
        rng.set_state(
            (
                meta["kind"],
                arrays["key"],
                meta["pos"],
                meta["has_gauss"],
                meta["cached_gaussian"],
            )
        )
    else:
        rng.bit_generator.state = meta["state"]


def save_checkpoint(
    path: Path,
    experiment: Experiment,
    epoch: int,
    timing: Mapping[str, float],
) -> None:
    """Save everything training needs to continue after `epoch`, in one atomic .npz.

    Holds: the parameters (`param_<i>`), the learning rule's state arrays
    (`rule_<name>_<i>`) and step count, every random generator's state (generators shared
    between providers and layers are saved once), the training provider's epoch order
    and position, and the seconds spent so far; the scalars as a JSON string (`meta`).
    """
    arrays: dict[str, np.ndarray] = {}
    for i, param in enumerate(experiment.model.params):
        arrays[f"param_{i}"] = param
    rule_meta: dict[str, Any] = {}
    for name, value in experiment.learning_rule.state().items():
        if isinstance(value, list):
            rule_meta[name] = len(value)
            for i, array in enumerate(value):
                arrays[f"rule_{name}_{i}"] = array
        else:
            rule_meta[name] = value
    generators: list[Any] = []
    slots: dict[str, int] = {}
    rng_meta: list[dict[str, Any]] = []
    for name, rng in experiment.rngs.items():
        for index, known in enumerate(generators):
            if known is rng:
                slots[name] = index
                break
        else:
            slots[name] = len(generators)
            meta, rng_arrays = _rng_state(rng)
            for key, array in rng_arrays.items():
                arrays[f"rng_{len(generators)}_{key}"] = array
            generators.append(rng)
            rng_meta.append(meta)
    train = experiment.train_data
    arrays["train_order"] = np.asarray(train._order)
    meta = {
        "version": _CHECKPOINT_VERSION,
        "epoch": int(epoch),
        "rule": _json_safe(rule_meta),
        "rngs": rng_meta,
        "rng_slots": slots,
        "train_position": int(train._position),
        "train_batches_served": int(train._batches_served),
        "num_params": len(experiment.model.params),
        **{k: float(v) for k, v in timing.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    atomic_write_bytes(path, _npz_bytes(arrays))


def load_checkpoint(path: Path, experiment: Experiment) -> dict[str, Any]:
    """Restore a checkpoint into a freshly built experiment whose rule is initialised.

    Parameters are copied into the model's own arrays (the learning rule holds those).

    Returns:
        The checkpoint's scalars: 'epoch', timing, ...
    Raises:
        RunError: when the checkpoint does not fit the experiment.
    """
    with np.load(path, allow_pickle=False) as saved:
        arrays = {name: saved[name] for name in saved.files}
    meta = json.loads(str(arrays["meta"]))
    if meta.get("version") != _CHECKPOINT_VERSION:
        raise RunError(f"{path} has checkpoint version {meta.get('version')}, expected 1")
    params = experiment.model.params
    if meta["num_params"] != len(params):
        raise RunError(f"{path} holds {meta['num_params']} parameters, the model {len(params)}")
    for i, param in enumerate(params):
        saved_param = arrays[f"param_{i}"]
        if saved_param.shape != param.shape:
            raise RunError(
                f"{path}: parameter {i} has shape {saved_param.shape}, not {param.shape}"
            )
        param[...] = saved_param
    state: dict[str, Any] = {}
    for name, value in meta["rule"].items():
        if name == "step_count":
            state[name] = value
        else:
            state[name] = [arrays[f"rule_{name}_{i}"] for i in range(value)]
    experiment.learning_rule.load_state(state)
    for name, rng in experiment.rngs.items():
        slot = meta["rng_slots"][name]
        prefix = f"rng_{slot}_"
        rng_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        _set_rng_state(rng, meta["rngs"][slot], rng_arrays)
    train = experiment.train_data
    train._order = arrays["train_order"]
    train._position = meta["train_position"]
    train._batches_served = meta["train_batches_served"]
    return meta
