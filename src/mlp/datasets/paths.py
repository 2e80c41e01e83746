"""Where the data files live: the data directory and the names of the files in it.

The data directory is ``$MLP_DATA_DIR`` when set, else ``$XDG_DATA_HOME/mlp`` or
``~/.local/share/mlp``; each split of a data set is the file ``{name}-{split}.npz`` there.
"""

from __future__ import annotations

import os
from pathlib import Path

from mlp.datasets.exceptions import DataError

__all__ = ["data_dir"]


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


def _resolve_dir(directory: str | os.PathLike[str] | None, *, create: bool = True) -> Path:
    if directory is None:
        return data_dir()
    path = Path(directory).expanduser()
    if create:
        _make_dir(path)
    return path


def _filename(name: str, split: str) -> str:
    return f"{name}-{split}.npz"


def _existing_path(directory: Path, name: str, split: str) -> Path:
    """The file holding a split: ``{name}-{split}.npz``, or the course's ``-eval`` name."""
    path = directory / _filename(name, split)
    if split == "test" and not path.exists():
        course = directory / _filename(name, "eval")
        if course.exists():
            return course
    return path
