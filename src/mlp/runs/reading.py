"""Reading the files of a run record: the one place that turns what a damaged or
hand-edited file gives (bytes that are not text, a zip that is not one, JSON or TOML that
does not parse, JSON of the wrong shape, a missing entry) into a `RunRecordError` naming
the file and what to do. checkpoint.npz, stats.csv, summary.json and config.toml are all
read through it; the messages' advice comes from the `*_fix` functions.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mlp.compat import tomllib
from mlp.runs.errors import RunRecordError
from mlp.runs.layout import CONFIG

__all__ = [
    "config_fix",
    "field",
    "read_json_object",
    "read_npz",
    "read_text",
    "read_toml",
    "resume_fix",
    "retrain_fix",
    "summary_fix",
]


# --- what to do --------------------------------------------------------------------------


def retrain_fix(run: Path) -> str:
    """The command that trains the run in folder `run` again from its own config."""
    return (
        f"train it again with `mlp train --config {run / CONFIG} --runs-dir {run.parent} "
        f"--name {run.name} --overwrite` (or run_experiment(..., if_exists='overwrite'))"
    )


def resume_fix(run: Path) -> str:
    """What to do when the checkpoint of the run in `run` cannot be resumed."""
    return f"`mlp train --resume` cannot continue it: {retrain_fix(run)}"


def summary_fix(run: Path) -> str:
    """What to do when the summary.json of the finished run in `run` is damaged: without
    it the run reads as unfinished, and resuming it trains it again (same numbers)."""
    return (
        f"remove that file and run `mlp train --resume {run}` to train the run again, "
        f"or {retrain_fix(run)}"
    )


def config_fix(run: Path) -> str:
    """What to do when the config.toml of the run in `run` is damaged: the run cannot be
    repeated from it, so only its own command (or removing the folder) helps."""
    return (
        f"the run cannot be resumed or repeated from it: remove the folder {run}, or train "
        f"it again with the command that started it and --overwrite"
    )


# --- reading -----------------------------------------------------------------------------


def read_text(path: Path, fix: str, *, encoding: str = "utf-8") -> str:
    """The text of a record file.

    Raises:
        RunRecordError: when it is missing, a folder, or not text in `encoding`.
    """
    try:
        return path.read_text(encoding=encoding)
    except FileNotFoundError:
        raise RunRecordError(path, "does not exist", fix) from None
    except IsADirectoryError:
        raise RunRecordError(path, "is a folder, not a file", fix) from None
    except UnicodeDecodeError as error:
        problem = f"is not {encoding} text (byte {error.start} is {error.object[error.start]:#04x})"
        raise RunRecordError(path, problem + ": it is damaged", fix) from None


def read_json_object(path: Path, fix: str) -> dict[str, Any]:
    """A record file holding one JSON object, as a dict.

    Raises:
        RunRecordError: as `read_text`, or when it is not JSON or not a JSON object.
    """
    text = read_text(path, fix)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise RunRecordError(path, f"is not valid JSON ({error})", fix) from None
    if not isinstance(value, dict):
        raise RunRecordError(path, f"holds a JSON {type(value).__name__}, not an object", fix)
    return value


def read_toml(path: Path, fix: str) -> dict[str, Any]:
    """A record's TOML file as a dict.

    Raises:
        RunRecordError: as `read_text`, or when it is not valid TOML.
    """
    text = read_text(path, fix)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RunRecordError(path, f"is not valid TOML ({error})", fix) from None


def read_npz(path: Path, fix: str) -> dict[str, np.ndarray]:
    """Every array of an `.npz` record file (never unpickled): name -> array.

    Raises:
        RunRecordError: when it is missing, empty, cut short, not a zip, not an `.npz`
            (a single `.npy` array), or holds an entry that is not a plain array.
    """
    try:
        saved = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise RunRecordError(path, "does not exist", fix) from None
    except IsADirectoryError:
        raise RunRecordError(path, "is a folder, not a file", fix) from None
    except EOFError:
        raise RunRecordError(path, "is empty", fix) from None
    except (ValueError, zipfile.BadZipFile) as error:
        # Garbage bytes read as a pickle (refused), a zip cut short as no zip at all.
        raise RunRecordError(path, f"is not an .npz archive ({error})", fix) from None
    if not isinstance(saved, np.lib.npyio.NpzFile):
        raise RunRecordError(path, "holds a single array, not an .npz archive", fix)
    with saved:
        try:
            return {name: saved[name] for name in saved.files}
        except (ValueError, EOFError, zipfile.BadZipFile) as error:
            # A damaged member: bad CRC, a header cut short, an object array.
            raise RunRecordError(path, f"holds a damaged entry ({error})", fix) from None


# --- the shape of what was read ----------------------------------------------------------

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", dict: "a table"}


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def field(
    mapping: Mapping[str, Any],
    key: str,
    kind: type,
    path: Path,
    fix: str,
    *,
    where: str = "",
    optional: bool = False,
) -> Any:
    """`mapping[key]`, checked to be of `kind` (int excludes bool; float takes ints too;
    `optional`: None or missing is allowed and gives None).

    Args:
        where: what `mapping` is within the file, for the message ('meta', say).
    Raises:
        RunRecordError: naming `path`, the entry and what it should be.
    """
    name = f"{where}[{key!r}]" if where else repr(key)
    value = mapping.get(key)
    if value is None and optional:
        return None
    if key not in mapping:
        raise RunRecordError(path, f"has no entry {name}", fix)
    if not _is(value, kind):
        expected = _TYPE_NAMES.get(kind, kind.__name__)
        raise RunRecordError(path, f"has {name} = {value!r}, not {expected}", fix)
    return value
