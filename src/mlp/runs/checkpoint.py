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

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlp.atomic import atomic_write_bytes
from mlp.config import Experiment
from mlp.runs.encoding import json_safe, npz_bytes
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.layout import CONFIG, STATE_PREFIX
from mlp.runs.reading import config_fix, field, read_npz, resume_fix

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

    Holds: the parameters (`param_<i>`, each of its parameter's shape), the model's
    state (`state_<name>`, as `model.state()` names it; none for most models), the learning
    rule's state arrays (`rule_<name>_<i>`) and scalars, every random generator's state
    (generators shared between providers and layers are saved once), the training
    provider's `state()` (its order as `train_order`, shape (num_examples,); its
    generator is among the generators), and `timing` (seconds so far, sessions); the
    scalars as a JSON string (`meta`), with 'format_version'.
    """
    arrays: dict[str, np.ndarray] = {}
    for i, param in enumerate(experiment.model.params):
        arrays[f"param_{i}"] = param
    for name, value in _model_state(experiment).items():
        arrays[f"{STATE_PREFIX}{name}"] = value
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


def _model_state(experiment: Experiment) -> dict[str, np.ndarray]:
    state = getattr(experiment.model, "state", None)
    return state() if callable(state) else {}


def _saved_state(arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The model state a checkpoint holds (none in those written before models had
    state, which is right for their models: they had none)."""
    return {k[len(STATE_PREFIX) :]: v for k, v in arrays.items() if k.startswith(STATE_PREFIX)}


def _fix(path: Path) -> str:
    return f"it is not a readable checkpoint, so {resume_fix(path.parent)}"


def _read(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The checkpoint's arrays and scalars, its format version checked."""
    arrays = read_npz(path, _fix(path))
    if "meta" not in arrays:
        raise RunRecordError(path, "has no 'meta' entry (its scalars)", _fix(path))
    try:
        meta = json.loads(str(arrays["meta"]))
    except json.JSONDecodeError as error:
        problem = f"has a 'meta' entry that is not JSON ({error})"
        raise RunRecordError(path, problem, _fix(path)) from None
    if not isinstance(meta, dict):
        raise RunRecordError(path, "has a 'meta' entry that is not a JSON object", _fix(path))
    # Checkpoints of earlier versions wrote 'version': 1 (or nothing) instead.
    version = meta.get("format_version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise RunRecordError(path, "has no valid format version", _fix(path))
    if version < CHECKPOINT_FORMAT_VERSION:
        raise RunError(
            f"{path} was written by an earlier version of mlp (checkpoint format {version}; "
            f"this version reads format {CHECKPOINT_FORMAT_VERSION}, whose learning-rule "
            f"state differs), so {resume_fix(path.parent)}"
        )
    if version > CHECKPOINT_FORMAT_VERSION:
        raise RunError(
            f"{path} was written by a newer version of mlp (checkpoint format {version}; "
            f"this version reads format {CHECKPOINT_FORMAT_VERSION}): resume it with that "
            f"version of mlp, or else {resume_fix(path.parent)}"
        )
    return arrays, meta


_META_FIELDS = {
    "epoch": int,
    "num_params": int,
    "rule": dict,
    "rngs": list,
    "rng_slots": dict,
    "train_position": int,
    "train_batches_served": int,
}


def _array(arrays: Mapping[str, np.ndarray], name: str, path: Path) -> np.ndarray:
    if name not in arrays:
        raise RunRecordError(path, f"has no array {name!r}", _fix(path))
    return arrays[name]


def _check(
    path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], experiment: Experiment
) -> None:
    """Check everything `load_checkpoint` reads is there and fits `experiment`, before
    anything is changed."""
    for key, kind in _META_FIELDS.items():
        field(meta, key, kind, path, _fix(path), where="meta")
    epochs = experiment.config.epochs
    if not 0 <= meta["epoch"] <= epochs:
        raise RunRecordError(
            path, f"is of epoch {meta['epoch']}, outside the run's 0 .. {epochs}", _fix(path)
        )
    params = experiment.model.params
    # A model unlike the checkpoint's means config.toml and the checkpoint are of two
    # different runs (an edited or emptied config.toml): name both.
    if meta["num_params"] != len(params):
        raise RunRecordError(
            path,
            f"holds {meta['num_params']} parameters, but the model {CONFIG} describes has "
            f"{len(params)}",
            config_fix(path.parent),
        )
    for i, param in enumerate(params):
        saved_param = _array(arrays, f"param_{i}", path)
        if saved_param.shape != param.shape:
            raise RunRecordError(
                path,
                f"has parameter {i} of shape {saved_param.shape}, but the model {CONFIG} "
                f"describes has {param.shape}",
                config_fix(path.parent),
            )
    saved, expected = sorted(_saved_state(arrays)), sorted(_model_state(experiment))
    if saved != expected:
        raise RunRecordError(
            path,
            f"holds the model state {saved or 'none'}, but the model {CONFIG} describes "
            f"keeps {expected or 'none'}",
            config_fix(path.parent),
        )
    _check_rule(path, arrays, meta["rule"], experiment.learning_rule)
    _check_rngs(path, arrays, meta, experiment.rngs)
    _array(arrays, "train_order", path)


def _check_rule(
    path: Path, arrays: Mapping[str, np.ndarray], rule: dict[str, Any], learning_rule: Any
) -> None:
    where = "meta['rule']"
    counts = field(rule, "arrays", dict, path, _fix(path), where=where)
    scalars = field(rule, "scalars", dict, path, _fix(path), where=where)
    for name in counts:
        for i in range(field(counts, name, int, path, _fix(path), where=f"{where}['arrays']")):
            _array(arrays, f"rule_{name}_{i}", path)
    missing = sorted(set(learning_rule.state()) - set(counts) - set(scalars))
    if missing:
        raise RunRecordError(path, f"has no learning-rule state {missing}", _fix(path))


_RNG_FIELDS: dict[str, dict[str, type]] = {
    "RandomState": {"kind": str, "pos": int, "has_gauss": int, "cached_gaussian": float},
    "Generator": {"state": dict},
}


def _check_rngs(
    path: Path, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any], rngs: Mapping[str, Any]
) -> None:
    for name, rng in rngs.items():
        slot = field(meta["rng_slots"], name, int, path, _fix(path), where="meta['rng_slots']")
        if not 0 <= slot < len(meta["rngs"]) or not isinstance(meta["rngs"][slot], dict):
            raise RunRecordError(path, f"has no generator state for {name!r}", _fix(path))
        rng_meta = meta["rngs"][slot]
        kind = rng_meta.get("type")
        if kind != type(rng).__name__ or kind not in _RNG_FIELDS:
            problem = f"has a generator of type {kind!r} for {name!r}, a {type(rng).__name__}"
            raise RunRecordError(path, problem, _fix(path))
        for key, key_kind in _RNG_FIELDS[kind].items():
            field(rng_meta, key, key_kind, path, _fix(path), where=f"meta['rngs'][{slot}]")
        if kind == "RandomState":
            _array(arrays, f"rng_{slot}_key", path)


def _restore(path: Path, what: str, restore: Callable[[], None]) -> None:
    """Run `restore`, a `load_state` of `what`, naming the checkpoint when the state it
    holds is refused (these raise ValueError or TypeError for a state that does not fit)."""
    try:
        restore()
    except (ValueError, TypeError) as error:
        raise RunRecordError(
            path, f"holds a {what} state that does not fit ({error})", _fix(path)
        ) from None


def load_checkpoint(path: Path, experiment: Experiment) -> dict[str, Any]:
    """Restore a checkpoint into a freshly built experiment whose rule is initialised.

    Parameters are copied into the model's own arrays (the learning rule holds those).

    Returns:
        The checkpoint's scalars: 'epoch', 'format_version', timing, ...
    Raises:
        RunError: when the checkpoint is of another format version (one written before
            format versions, say) or does not fit the experiment; `RunRecordError` when
            it is damaged (not an .npz, entries missing or of the wrong kind). The
            message says what to do.
    """
    arrays, meta = _read(path)
    _check(path, arrays, meta, experiment)
    for i, param in enumerate(experiment.model.params):
        param[...] = arrays[f"param_{i}"]
    model_state = _saved_state(arrays)
    if model_state:
        restore_model = functools.partial(experiment.model.load_state, model_state)
        _restore(path, "model", restore_model)
    state: dict[str, Any] = dict(meta["rule"]["scalars"])
    for name, count in meta["rule"]["arrays"].items():
        state[name] = [arrays[f"rule_{name}_{i}"] for i in range(count)]
    _restore(path, "learning-rule", functools.partial(experiment.learning_rule.load_state, state))
    for name, rng in experiment.rngs.items():
        slot = meta["rng_slots"][name]
        prefix = f"rng_{slot}_"
        rng_arrays = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        restore = functools.partial(_set_rng_state, rng, meta["rngs"][slot], rng_arrays)
        _restore(path, "generator", restore)
    train = experiment.train_data
    # Its generator was restored with the others (it may be shared with layers).
    state = {
        **train.state(),
        "order": arrays["train_order"],
        "position": meta["train_position"],
        "batches_served": meta["train_batches_served"],
    }
    _restore(path, "training data", functools.partial(train.load_state, state))
    return meta
