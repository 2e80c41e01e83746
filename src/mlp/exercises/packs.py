"""Graded packs: a per-student set of cases with the reference's results, and marking.

`write_pack(names, path, seed)` draws each exercise's cases from `seed` (one seed per
student gives each their own random cases) and stores, in one npz file without pickles:

    format_version, mlp_version, seed, exercises     what made the pack, and its contents
    NAME/count                                       the number of cases of exercise NAME
    NAME/I/label                                     case I's label
    NAME/I/array/KEY, NAME/I/setting/KEY             its arrays and settings
    NAME/I/expected/METHOD                           the reference's result (an array)
    NAME/I/expected/METHOD/K, NAME/I/parts/METHOD    or its K-th array, and how many

`grade(path, submission)` runs the student's classes on the stored cases and compares
with the stored results, never recomputing them, so a pack made by one version of mlp
marks the same with the next, even if a reference changes.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

import mlp
import mlp.exercises.catalogue as catalogue
import mlp.exercises.outcomes as outcomes
from mlp.atomic import atomic_write
from mlp.exercises.exercise import Case, Exercise, Result

__all__ = ["PACK_FORMAT_VERSION", "Grade", "PackError", "grade", "write_pack"]

PACK_FORMAT_VERSION = 1
"""The version of the layout above; a reader refuses packs of a later one."""


class PackError(ValueError):
    """A file that is not a readable pack (corrupt, foreign, or from a later format)."""


# --- writing ----------------------------------------------------------------------------


def _store_result(arrays: dict[str, np.ndarray], key: str, result: Result, method: str) -> None:
    if isinstance(result, (list, tuple)):
        arrays[f"{key}/parts/{method}"] = np.array(len(result))
        for k, part in enumerate(result):
            arrays[f"{key}/expected/{method}/{k}"] = np.asarray(part, dtype=np.float64)
    else:
        arrays[f"{key}/expected/{method}"] = np.asarray(result, dtype=np.float64)


def _exercise_arrays(entry: Exercise, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The pack's arrays of one exercise: its cases and the reference's results."""
    arrays: dict[str, np.ndarray] = {}
    cases = entry.cases(rng)
    arrays[f"{entry.name}/count"] = np.array(len(cases))
    for i, case in enumerate(cases):
        key = f"{entry.name}/{i}"
        arrays[f"{key}/label"] = np.array(case.label)
        for name, value in case.arrays.items():
            arrays[f"{key}/array/{name}"] = np.asarray(value)
        for name, setting in case.settings.items():
            arrays[f"{key}/setting/{name}"] = np.array(float(setting))
        for method in entry.methods:
            got = outcomes.run(method, entry.reference, case)
            if got.error:
                raise RuntimeError(f"{entry.name} reference {method.name} raised: {got.message}")
            assert got.result is not None
            _store_result(arrays, key, got.result, method.name)
    return arrays


def write_pack(names: Iterable[str] | str, path: str | os.PathLike[str], seed: int) -> Path:
    """Write a graded pack of the exercises `names`, its random cases drawn from `seed`.

    Args:
        names: catalogue names, e.g. ['tanh', 'affine'].
        path: the npz file to create or replace (atomically).
        seed: a non-negative int, e.g. a student number: different seeds give
            different random cases.
    Returns:
        the path written.
    """
    chosen = catalogue.exercises(names)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"write_pack seed must be a non-negative int, got {seed!r}")
    if seed < 0:
        raise ValueError(f"write_pack seed must be a non-negative int, got {seed}")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"write_pack path must be a file path, got {path!r}")
    arrays: dict[str, np.ndarray] = {
        "format_version": np.array(PACK_FORMAT_VERSION),
        "mlp_version": np.array(mlp.__version__),
        "seed": np.array(int(seed)),
        "exercises": np.array([entry.name for entry in chosen]),
    }
    for index, entry in enumerate(chosen):
        # One stream per exercise, so adding an exercise leaves the others' cases alone.
        rng = np.random.default_rng([int(seed), index])
        arrays.update(_exercise_arrays(entry, rng))
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()))
    return Path(path)


# --- reading ------------------------------------------------------------------------------


def _load(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Every array of the pack at `path`, or a PackError naming the file."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"grade pack must be a file path, got {path!r}")
    if Path(path).is_file() and not zipfile.is_zipfile(path):
        raise PackError(f"{path} is not an exercise pack (not an npz file)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise PackError(f"{path} is not a readable exercise pack: {error}") from None
    except AttributeError:  # np.load gave a single array: a .npy file, not a pack
        raise PackError(f"{path} is not an exercise pack (an npz file)") from None
    if "format_version" not in arrays or "exercises" not in arrays:
        raise PackError(f"{path} is an npz file but not an exercise pack (no format_version)")
    version = int(arrays["format_version"])
    if version > PACK_FORMAT_VERSION:
        raise PackError(
            f"{path} is a pack of format {version}, made by mlp "
            f"{arrays.get('mlp_version')}; this mlp reads formats up to {PACK_FORMAT_VERSION}"
        )
    return arrays


def _stored_cases(
    arrays: Mapping[str, np.ndarray], entry: Exercise, path: object
) -> list[tuple[Case, dict[str, Result]]]:
    """The exercise's cases in the pack, each with the stored results per method."""
    try:
        count = int(arrays[f"{entry.name}/count"])
        stored = []
        for i in range(count):
            key = f"{entry.name}/{i}/"
            case_arrays = {
                k[len(key) + 6 :]: v for k, v in arrays.items() if k.startswith(key + "array/")
            }
            settings = {
                k[len(key) + 8 :]: float(v)
                for k, v in arrays.items()
                if k.startswith(key + "setting/")
            }
            case = Case(str(arrays[key + "label"]), case_arrays, settings)
            stored.append(
                (case, {m.name: _stored_result(arrays, key, m.name) for m in entry.methods})
            )
    except KeyError as missing:
        raise PackError(
            f"{path} lacks {missing} for exercise {entry.name!r}: a damaged pack"
        ) from None
    return stored


def _stored_result(arrays: Mapping[str, np.ndarray], key: str, method: str) -> Result:
    parts = arrays.get(f"{key}parts/{method}")
    if parts is not None:
        return [arrays[f"{key}expected/{method}/{k}"] for k in range(int(parts))]
    return arrays[f"{key}expected/{method}"]


# --- grading ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grade:
    """The marks of one submission against one pack.

    Attributes:
        pack: the pack's path; seed: its seed.
        marks: exercise name -> method name -> (cases right, cases).
        missing: exercises whose class the submission does not have (marked 0).
    """

    pack: str
    seed: int
    marks: Mapping[str, Mapping[str, tuple[int, int]]]
    missing: tuple[str, ...] = ()

    @property
    def total(self) -> float:
        """The fraction of all the pack's method-case pairs that were right."""
        right = sum(r for methods in self.marks.values() for r, _ in methods.values())
        cases = sum(n for methods in self.marks.values() for _, n in methods.values())
        return right / cases if cases else 0.0

    def to_json(self) -> str:
        """The marks as JSON, for a grading script."""
        exercises = {
            name: {
                "missing": name in self.missing,
                "methods": {
                    method: {"right": right, "cases": cases, "mark": right / cases}
                    for method, (right, cases) in methods.items()
                },
            }
            for name, methods in self.marks.items()
        }
        body = {"pack": self.pack, "seed": self.seed, "exercises": exercises, "total": self.total}
        return json.dumps(body, indent=2)

    def __str__(self) -> str:
        lines = [f"grade against {self.pack} (seed {self.seed})"]
        for name, methods in self.marks.items():
            note = "  (no such class in the submission)" if name in self.missing else ""
            lines.append(f"  {name}{note}")
            for method, (right, cases) in methods.items():
                lines.append(f"    {method:<18} {right}/{cases}")
        lines.append(f"  total {self.total:.1%}")
        return "\n".join(lines)


def _classes(submission: Any) -> dict[str, type]:
    """class name -> class, from a module, a class, a list of classes or a mapping."""
    if isinstance(submission, ModuleType):
        found = {k: v for k, v in vars(submission).items() if isinstance(v, type)}
    elif isinstance(submission, type):
        found = {submission.__name__: submission}
    elif isinstance(submission, Mapping):
        found = dict(submission)
    elif isinstance(submission, (list, tuple)):
        found = {getattr(c, "__name__", repr(c)): c for c in submission}
    else:
        raise TypeError(
            "grade submission must be a module, a class, a list of classes or a dict of "
            f"name -> class, got {type(submission).__name__}"
        )
    bad = [name for name, value in found.items() if not isinstance(value, type)]
    if bad:
        raise TypeError(f"grade submission must hold classes, not instances: {bad}")
    return found


def grade(pack: str | os.PathLike[str], submission: Any) -> Grade:
    """Mark `submission` (a student module, or its classes) against the pack's stored results.

    Per exercise and method: the number of cases whose result equals the stored one
    (within the method's tolerance, the arguments left unchanged).

    Raises:
        PackError: for a file that is not a pack, or a pack naming an exercise this
            version of mlp does not have.
    """
    classes = _classes(submission)
    arrays = _load(pack)
    marks: dict[str, dict[str, tuple[int, int]]] = {}
    missing = []
    for name in (str(n) for n in arrays["exercises"]):
        if name not in catalogue.EXERCISES:
            raise PackError(f"{pack} has exercise {name!r}, which this mlp does not know")
        entry = catalogue.EXERCISES[name]
        stored = _stored_cases(arrays, entry, pack)
        cls = classes.get(entry.class_name)
        if cls is None:
            missing.append(name)
        marks[name] = {m.name: _mark(m, cls, stored) for m in entry.methods}
    return Grade(str(pack), int(arrays.get("seed", -1)), marks, tuple(missing))


def _mark(
    method: Any, cls: type | None, stored: list[tuple[Case, dict[str, Result]]]
) -> tuple[int, int]:
    right = 0
    for case, expected in stored:
        if cls is None:
            continue
        got = outcomes.run(method, cls, case)
        if not got.error and not got.modified:
            right += outcomes.compare(expected[method.name], got.result, method.tolerance) is None
    return right, len(stored)
