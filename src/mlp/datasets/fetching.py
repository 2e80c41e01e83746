"""Loading and fetching data sets: the entry points `load` and `fetch`.

`load` returns one split as ``(inputs, targets)``, arrays of shapes (num_examples, 784)
and (num_examples,), fetching the data set first when its files are missing. `fetch`
makes sure all three files are in the data directory, taking them from the data set's
sources in order and verifying everything before it is written.
"""

from __future__ import annotations

import errno
import logging
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

import mlp._checks as _checks
from mlp.datasets.course_sets import FILE_SETS, file_set
from mlp.datasets.exceptions import DataError
from mlp.datasets.file_sets import fetch_file_set
from mlp.datasets.paths import existing_split_path, resolve_dir, split_filename
from mlp.datasets.registry import DATASETS, dataset_spec, source_label
from mlp.datasets.specs import SPLITS, DatasetSpec, Splits, check_split
from mlp.datasets.storage import (
    read_verified,
    remove_partial_files,
    remove_stale_temp_files,
    write_split,
)
from mlp.datasets.verification import verify

__all__ = ["fetch", "fetch_spec", "load"]

logger = logging.getLogger(__name__)


def load(
    name: str,
    which_set: str,
    data_dir: str | os.PathLike[str] | None = None,
    fetch: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Load one split of a data set, fetching the data set first when it is missing.

    Args:
        name: ``'mnist'`` or ``'fashion-mnist'``.
        which_set: ``'train'``, ``'valid'`` or ``'test'`` (``'eval'`` is taken as ``'test'``).
        data_dir: folder holding ``{name}-{which_set}.npz``; the default is `data_dir()`.
        fetch: when the file is missing or corrupt, fetch it (True) or raise (False).

    Returns:
        ``(inputs, targets)``: ``inputs`` an array of shape (num_examples, 784), float32,
        values k/256 for integer k in 0..255; ``targets`` an array of shape
        (num_examples,), int64 labels. num_examples is 50,000 for ``'train'`` and 10,000
        for the others. The arrays are read-only and shared between calls (they are cached
        until the file changes): copy them before changing them in place.

    Raises:
        ValueError: for an unknown ``name`` or ``which_set``.
        DataError: when the file is missing or corrupt and ``fetch`` is False, or when no
            source could supply it.
    """
    spec = dataset_spec(name)
    split = check_split(which_set)
    fetch = _checks.truth(fetch, "fetch", "load")
    directory = resolve_dir(data_dir, create=fetch)
    path = existing_split_path(directory, spec.name, split)
    if not path.exists():
        if not fetch:
            raise DataError(
                f"{path} does not exist; run `python -m mlp.datasets fetch {spec.name}`, "
                f"or point MLP_DATA_DIR at a folder holding {spec.name}-{{train,valid,test}}.npz"
            )
        logger.info("%s not found in %s; fetching it", spec.name, directory)
        fetch_spec(spec, directory, force=False, progress=_interactive())
        path = directory / split_filename(spec.name, split)
    try:
        return read_verified(spec, split, path)
    except DataError:
        if not fetch:
            raise
    fetch_spec(spec, directory, force=False, progress=_interactive())  # logs why, replaces it
    return read_verified(spec, split, directory / split_filename(spec.name, split))


def fetch(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    force: bool = False,
    progress: bool = True,
    *,
    mirrors: Sequence[str] | None = None,
) -> dict[str, Path]:
    """Make sure all three files of a data set are in the data directory and valid.

    Files already there are verified and kept; missing or invalid ones (all of them with
    ``force``) are fetched from the data set's sources in order and written atomically.

    The course's other data sets (``'emnist'``, ``'metoffice'``, ``'ccpp'``, see
    `FILE_SETS`) are fetched the same way, in the course's own file formats.

    Args:
        name: ``'mnist'``, ``'fashion-mnist'`` or a name in `FILE_SETS`.
        data_dir: where the files go; the default is `data_dir()`.
        force: fetch and rewrite the files even when valid ones are there.
        progress: show download progress.
        mirrors: base URLs to use instead of the data set's mirrors, when the sources
            before them fail.

    Returns:
        ``{split: path}`` for ``'train'``, ``'valid'`` and ``'test'``; for a name in
        `FILE_SETS`, ``{filename: path}`` for each of its files.

    Raises:
        ValueError: for an unknown ``name``.
        DataError: when no source could supply valid data; the message lists why each
            source failed.
    """
    if isinstance(name, str) and name.strip().lower() in FILE_SETS:
        spec = None
    else:
        spec = _known_spec(name)
    if mirrors is not None and (
        isinstance(mirrors, str)
        or not isinstance(mirrors, Sequence)
        or not all(isinstance(url, str) for url in mirrors)
    ):
        raise TypeError(
            f"fetch: mirrors must be a list of base URLs (a str in a list for one), "
            f"got {type(mirrors).__name__} {mirrors!r}"
        )
    if spec is None:
        files = file_set(name)
        if mirrors is not None:
            files = replace(files, mirrors=tuple(mirrors), mirrors_env="")
        directory = resolve_dir(data_dir)
        return fetch_file_set(files, directory, force=force, progress=progress)[0]
    if mirrors is not None:
        spec = replace(spec, mirrors=tuple(mirrors), mirrors_env="")
    paths, _ = fetch_spec(spec, resolve_dir(data_dir), force=force, progress=progress)
    return paths


def _known_spec(name: str) -> DatasetSpec:
    """`dataset_spec`, whose error also lists the course's other data sets."""
    try:
        return dataset_spec(name)
    except ValueError:
        choices = ", ".join(repr(n) for n in [*DATASETS, *FILE_SETS])
        raise ValueError(f"unknown data set {name!r}: name must be one of {choices}") from None


def fetch_spec(
    spec: DatasetSpec, directory: Path, *, force: bool, progress: bool
) -> tuple[dict[str, Path], list[str]]:
    """`fetch` for a `DatasetSpec` and an existing folder; also says what it wrote.

    Args:
        spec: the data set (a known one, or one built for tests or other sources).
        directory: the folder the three files go to.
        force: fetch and rewrite the files even when valid ones are there.
        progress: show download progress.

    Returns:
        ``(paths, written)``: ``{split: path}`` for the three splits, and the splits whose
        files were written now (empty when all were there and valid). Each file holds
        ``inputs`` of shape (num_examples, 784) and ``targets`` of shape (num_examples,).

    Raises:
        DataError: when the folder is not writable or no source supplied valid data.
    """
    began = time.time()
    remove_stale_temp_files(directory, spec.name)
    paths: dict[str, Path] = {}
    todo: list[str] = []
    for split in SPLITS:
        path = existing_split_path(directory, spec.name, split)
        if not force and path.exists():
            try:
                read_verified(spec, split, path)
                paths[split] = path
                continue
            except DataError as err:
                logger.warning("%s; fetching it again", err)
        paths[split] = directory / split_filename(spec.name, split)
        todo.append(split)
    if not todo:
        return paths, todo

    _check_writable(directory)  # before downloading, not after
    _check_not_folders([paths[split] for split in todo])
    start = time.perf_counter()
    splits = _from_sources(spec, progress)
    for split in todo:
        try:
            write_split(spec, split, paths[split], *splits[split])
        except OSError as err:
            raise DataError(f"cannot write {paths[split]} ({err}); {_write_hint(err)}") from None
        remove_partial_files(paths[split], began)
    logger.info(
        "wrote %s to %s in %.1f s",
        ", ".join(split_filename(spec.name, s) for s in todo),
        directory,
        time.perf_counter() - start,
    )
    return paths, todo


def _write_hint(err: OSError) -> str:
    if err.errno == errno.ENOSPC:
        return "free some space, or choose another folder with --data-dir or MLP_DATA_DIR"
    return "choose a folder you can write to, with --data-dir or MLP_DATA_DIR"


def _check_not_folders(paths: list[Path]) -> None:
    """Refuse, before downloading, to fetch into a path a folder stands at: the file
    could not replace it, and another folder would not help."""
    for path in paths:
        if path.is_dir():
            raise DataError(
                f"{path} is a folder, where the data file goes: remove that folder "
                f"(rm -r {path}) and fetch again"
            )


def _check_writable(directory: Path) -> None:
    try:
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".mlp-write-test-"):
            pass
    except OSError as err:
        raise DataError(f"cannot write in {directory} ({err}); {_write_hint(err)}") from None


def _from_sources(spec: DatasetSpec, progress: bool) -> Splits:
    """The three verified splits from the first source that supplies them."""
    failures = []
    for source in spec.sources:
        label = source_label(source)
        try:
            with tempfile.TemporaryDirectory(prefix="mlp-fetch-") as workdir:
                splits = source(spec, Path(workdir), progress)
            for split in SPLITS:
                verify(spec.name, split, *splits[split], source=f"{spec.name} {split} ({label})")
            return splits
        except Exception as err:  # any failure of one source means: try the next
            problem = str(err) if isinstance(err, (DataError, OSError)) else repr(err)
            logger.warning("%s: %s failed: %s", spec.name, label, problem)
            failures.append(f"- {label}: {problem}")
    raise DataError(
        f"could not fetch {spec.name}:\n"
        + "\n".join(failures or ["- no sources configured"])
        + f"\nPut {spec.name}-{{train,valid,test}}.npz in a folder and set MLP_DATA_DIR to it, "
        "or retry when the network is back."
    )


def _interactive() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
