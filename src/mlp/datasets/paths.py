"""Where the data files live: the data directory and the names of the files in it.

The data directory is ``$MLP_DATA_DIR`` when set, else ``$XDG_DATA_HOME/mlp`` or
``~/.local/share/mlp``; each split of a data set is the file ``{name}-{split}.npz`` there.
"""

from __future__ import annotations

import os
from pathlib import Path

import mlp._checks as _checks
from mlp.datasets.exceptions import DataError

__all__ = ["data_dir", "existing_split_path", "resolve_dir", "split_filename"]


def data_dir() -> Path:
    """Return the data directory, creating it when it does not exist.

    It is ``$MLP_DATA_DIR`` when that is set, else ``$XDG_DATA_HOME/mlp``, else
    ``~/.local/share/mlp``.
    """
    env = os.environ.get("MLP_DATA_DIR")
    if env:
        path = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
        path = base / "mlp"
    _make_dir(path)
    return path


def _make_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DataError(
            f"cannot create the data directory {path} ({err}); choose a folder you can "
            "write to (with --data-dir, or the MLP_DATA_DIR environment variable)"
        ) from None


def resolve_dir(directory: str | os.PathLike[str] | None, *, create: bool = True) -> Path:
    """The folder a caller asked for, or `data_dir()` when ``directory`` is None.

    Args:
        directory: a folder (``~`` is expanded), or None for the data directory.
        create: make the folder when it does not exist (the data directory always is).

    Raises:
        TypeError: when ``directory`` is not a path (named as data_dir, the argument of
            every public function that passes it on).
        DataError: when the folder cannot be created.
    """
    if directory is None:
        return data_dir()
    path = Path(_checks.path(directory, "data_dir", "")).expanduser()
    if create:
        _make_dir(path)
    return path


def split_filename(name: str, split: str) -> str:
    """The file name of one split of a data set in the data directory: ``{name}-{split}.npz``.

    The file holds ``inputs``, shape (num_examples, 784), and ``targets``, shape
    (num_examples,).
    """
    return f"{name}-{split}.npz"


def existing_split_path(directory: Path, name: str, split: str) -> Path:
    """The path of the file holding a split, preferring what is already on disk.

    That is ``directory / split_filename(name, split)``, except that for ``'test'`` the
    course's own ``{name}-eval.npz`` is returned when only that file exists. The path
    returned need not exist.
    """
    path = directory / split_filename(name, split)
    if split == "test" and not path.exists():
        course = directory / split_filename(name, "eval")
        if course.exists():
            return course
    return path
