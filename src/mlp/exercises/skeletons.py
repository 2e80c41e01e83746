"""Student modules: the skeleton classes of some exercises, in one file to fill in."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import mlp.exercises.catalogue as catalogue
from mlp.atomic import atomic_write_text
from mlp.exercises.exercise import Exercise

__all__ = ["module_name_for", "student_module", "write_skeletons"]

_DEFAULT_MODULE = "my_exercises"


def module_name_for(chosen: list[Exercise]) -> str:
    """The default module name: the one the exercises share in their notes (e.g.
    'my_layers'), else 'my_exercises'."""
    names = {entry.notes.get("module", _DEFAULT_MODULE) for entry in chosen}
    return str(names.pop()) if len(names) == 1 else _DEFAULT_MODULE


def student_module(chosen: list[Exercise], module_name: str) -> str:
    """The source of a student module holding the skeletons of `chosen`: a docstring
    saying how to check it, each import line once, then the classes."""
    titles = "\n".join(f"    {e.class_name}: {e.title} (exercise {e.name!r})" for e in chosen)
    header = (
        f'"""Your exercises: complete the methods that raise NotImplementedError.\n\n'
        f"{titles}\n\n"
        f"Check them from a terminal with `mlp exercise check {module_name}.py`, or in a\n"
        f"notebook with `from mlp.exercises import check; check({chosen[0].class_name})`.\n"
        '"""\n'
    )
    imports: list[str] = []
    for entry in chosen:
        imports.extend(line for line in entry.imports if line not in imports)
    classes = "\n\n".join(entry.skeleton.strip("\n") + "\n" for entry in chosen)
    return header + "\n" + "\n".join(imports) + "\n\n\n" + classes


def write_skeletons(
    names: Iterable[str] | str,
    out_dir: str | os.PathLike[str] = ".",
    module_name: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write one student module with the skeletons of the exercises `names`.

    Args:
        names: catalogue names, e.g. ['tanh', 'relu'].
        out_dir: the folder to write to (created if missing).
        module_name: the module's name without '.py'; default from the exercises,
            e.g. 'my_layers'.
        overwrite: replace an existing file (default: refuse, so a student's work is
            never lost).
    Returns:
        the path written.
    Raises:
        FileExistsError: the file exists and overwrite is False.
        ValueError: for unknown names or a module name that is not an identifier.
    """
    chosen = catalogue.exercises(names)
    if module_name is None:
        module_name = module_name_for(chosen)
    if not isinstance(module_name, str) or not module_name.isidentifier():
        raise ValueError(
            f"write_skeletons module_name must be a Python identifier (no '.py'), got "
            f"{module_name!r}"
        )
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"write_skeletons out_dir must be a path, got {out_dir!r}")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{module_name}.py"
    if path.exists() and not overwrite:
        raise FileExistsError(
            f"{path} exists: not overwriting your work (pass overwrite=True, or "
            "--overwrite, to replace it)"
        )
    atomic_write_text(path, student_module(chosen, module_name))
    return path
