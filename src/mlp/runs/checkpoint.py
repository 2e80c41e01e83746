"""checkpoint.npz: everything training needs to continue after an epoch, bit for bit
(parameters, learning-rule state, random generators' states, the training data's epoch
order and position), in one atomic `.npz` file with the scalars as a JSON string.

Checkpoints carry a format version (`CHECKPOINT_FORMAT_VERSION`, in the scalars as
'format_version'). Only checkpoints of this version are resumed: one from an earlier
version of mlp (format 1, which kept Adam's moments scaled and wrote no
'format_version') would restore a learning rule whose state means something else, so
`load_checkpoint` refuses it with a `RunError` that says how to train the run again.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlp.atomic import atomic_write_bytes
from mlp.config import Experiment
from mlp.runs.encoding import json_safe, npz_bytes
from mlp.runs.errors import RunError

__all__ = ["CHECKPOINT_FORMAT_VERSION", "load_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT_VERSION = 2
"""The format `save_checkpoint` writes and `load_checkpoint` reads. 2: learning rules'
state as their `state()` gives it since Adam keeps m and v; 1 (no 'format_version'):
the checkpoints of earlier versions, not resumed."""


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


def _rule_state(rule: Any, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The rule's `state()` for the JSON part: {'arrays': name -> count, 'scalars':
    name -> value}; each list of arrays goes into `arrays` as `rule_<name>_<i>`."""
    counts: dict[str, int] = {}
    scalars: dict[str, Any] = {}
    for name, value in rule.state().items():
        if isinstance(value, list):
            counts[name] = len(value)
            for i, array in enumerate(value):
                arrays[f"rule_{name}_{i}"] = array
        else:
            scalars[name] = value
    return {"arrays": counts, "scalars": json_safe(scalars)}


def _generators(
    rngs: Mapping[str, Any], arrays: dict[str, np.ndarray]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Each distinct generator's state once (arrays `rng_<slot>_<key>` into `arrays`),
    and name -> slot, so generators shared between providers and layers stay shared."""
    generators: list[Any] = []
    slots: dict[str, int] = {}
    rng_meta: list[dict[str, Any]] = []
    for name, rng in rngs.items():
        slot = next((i for i, known in enumerate(generators) if known is rng), None)
        if slot is None:
            slot = len(generators)
            meta, rng_arrays = _rng_state(rng)
            for key, array in rng_arrays.items():
                arrays[f"rng_{slot}_{key}"] = array
            generators.append(rng)
            rng_meta.append(meta)
        slots[name] = slot
    return rng_meta, slots


def save_checkpoint(
    path: Path,
    experiment: Experiment,
    epoch: int,
    timing: Mapping[str, float],
) -> None:
    """Save everything training needs to continue after `epoch`, in one atomic .npz.

    Holds: the parameters (`param_<i>`, each of its parameter's shape), the learning
    rule's state arrays (`rule_<name>_<i>`) and scalars, every random generator's state
    (generators shared between providers and layers are saved once), the training
    provider's `state()` (its order as `train_order`, shape (num_examples,); its
    generator is among the generators), and `timing` (seconds so far, sessions); the
    scalars as a JSON string (`meta`), with 'format_version'.
    """
    arrays: dict[str, np.ndarray] = {}
    for i, param in enumerate(experiment.model.params):
        arrays[f"param_{i}"] = param
    rule_meta = _rule_state(experiment.learning_rule, arrays)
    rng_meta, slots = _generators(experiment.rngs, arrays)
    train = experiment.train_data.state()
    arrays["train_order"] = train["order"]
    meta = {
        "format_version": CHECKPOINT_FORMAT_VERSION,
        "epoch": int(epoch),
        "rule": rule_meta,
        "rngs": rng_meta,
        "rng_slots": slots,
        "train_position": int(train["position"]),
        "train_batches_served": int(train["batches_served"]),
        "num_params": len(experiment.model.params),
        **{k: float(v) for k, v in timing.items()},
    }
    arrays["meta"] = np.array(json.dumps(meta))
    atomic_write_bytes(path, npz_bytes(arrays))


def _train_again(path: Path) -> str:
    """How to start the run whose checkpoint is `path` again, from its own config."""
    run = path.parent
    return (
        f"`mlp train --resume` cannot continue it: train it again with "
        f"`mlp train --config {run / 'config.toml'} --runs-dir {run.parent} "
        f"--name {run.name} --overwrite` (or run_experiment(..., if_exists='overwrite'))"
    )


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The checkpoint's arrays and scalars, its format version checked."""
    try:
        with np.load(path, allow_pickle=False) as saved:
            arrays = {name: saved[name] for name in saved.files}
        meta = json.loads(str(arrays["meta"]))
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as error:
        raise RunError(
            f"{path} is not a readable checkpoint ({error}); {_train_again(path)}"
        ) from None
    # Checkpoints of earlier versions wrote 'version': 1 (or nothing) instead.
    version = meta.get("format_version", 1) if isinstance(meta, dict) else None
    if not isinstance(version, int) or isinstance(version, bool):
        raise RunError(f"{path} has no valid format version; {_train_again(path)}")
    if version < CHECKPOINT_FORMAT_VERSION:
        raise RunError(
            f"{path} was written by an earlier version of mlp (checkpoint format {version}; "
            f"this version reads format {CHECKPOINT_FORMAT_VERSION}, whose learning-rule "
            f"state differs), so {_train_again(path)}"
        )
    if version > CHECKPOINT_FORMAT_VERSION:
        raise RunError(
            f"{path} was written by a newer version of mlp (checkpoint format {version}; "
            f"this version reads format {CHECKPOINT_FORMAT_VERSION}): resume it with that "
            f"version of mlp, or else {_train_again(path)}"
        )
    return arrays, meta


def load_checkpoint(path: Path, experiment: Experiment) -> dict[str, Any]:
    """Restore a checkpoint into a freshly built experiment whose rule is initialised.

    Parameters are copied into the model's own arrays (the learning rule holds those).

    Returns:
        The checkpoint's scalars: 'epoch', 'format_version', timing, ...
    Raises:
        RunError: when the checkpoint is of another format version (one written before
            format versions, say) or does not fit the experiment; the message says what
            to do.
    """
    arrays, meta = _read(path)
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
    state: dict[str, Any] = dict(meta["rule"]["scalars"])
    for name, count in meta["rule"]["arrays"].items():
        state[name] = [arrays[f"rule_{name}_{i}"] for i in range(count)]
    experiment.learning_rule.load_state(state)
    for name, rng in experiment.rngs.items():
        slot = meta["rng_slots"][name]
        prefix = f"rng_{slot}_"
        rng_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        _set_rng_state(rng, meta["rngs"][slot], rng_arrays)
    train = experiment.train_data
    # Its generator was restored with the others (it may be shared with layers).
    train.load_state(
        {
            **train.state(),
            "order": arrays["train_order"],
            "position": meta["train_position"],
            "batches_served": meta["train_batches_served"],
        }
    )
    return meta
