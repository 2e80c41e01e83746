"""Data sets kept as the course ships them: a few files, made from one published download.

MNIST's files are rebuilt from several sources into one format (`fetching`). The course's
other data sets (EMNIST, the Met Office rainfall series, the power-plant data) are kept
in the course's own file formats, so that the course's code reads them too. Each is a
`FileSet`: the files it puts in the data directory, the one file its publisher offers
(``download``), the URLs that file is fetched from, how the download is turned into the
files (``build``) and how each file is checked (``check``).

`fetch_file_set` keeps the valid files already in the data directory; otherwise it
downloads into a temporary folder, builds the files there, checks each one, and only
then moves it into the data directory with an atomic write. A corrupt or interrupted
download therefore leaves nothing behind.
"""

from __future__ import annotations

import http.client
import logging
import os
import tempfile
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlp.atomic import atomic_write_bytes
from mlp.datasets.download import MAX_DOWNLOAD_BYTES, download_file
from mlp.datasets.exceptions import DataError

__all__ = ["FileSet", "fetch_file_set", "mirror_urls"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileSet:
    """One data set kept as files in the course's formats.

    ``build(downloaded_path)`` returns ``{filename: content}`` for every name in
    ``filenames``; ``check(filename, path)`` raises `DataError` naming ``path`` when the
    file is not a valid copy. ``mirrors`` are base URLs of ``download``, replaced by the
    URLs in the environment variable ``mirrors_env`` when it is set.
    """

    name: str
    filenames: tuple[str, ...]
    download: str
    mirrors: tuple[str, ...]
    mirrors_env: str
    build: Callable[[Path], dict[str, bytes]]
    check: Callable[[str, Path], None]
    max_bytes: int = MAX_DOWNLOAD_BYTES

    @property
    def fix(self) -> str:
        """How a user gets a good copy of this data set's files."""
        return f"delete it and run `python -m mlp.datasets fetch {self.name}`"


def mirror_urls(file_set: FileSet) -> list[str]:
    """The full URLs ``download`` is tried from, in order (the environment first)."""
    env = os.environ.get(file_set.mirrors_env, "") if file_set.mirrors_env else ""
    bases = env.replace(",", " ").split() if env.strip() else list(file_set.mirrors)
    return [(base if base.endswith("/") else base + "/") + file_set.download for base in bases]


def fetch_file_set(
    file_set: FileSet, directory: Path, *, force: bool, progress: bool
) -> tuple[dict[str, Path], list[str]]:
    """Make sure the files of ``file_set`` are in ``directory`` and valid.

    Returns:
        ``(paths, written)``: ``{filename: path}`` for every file, and the names of the
        files written now (empty when all were there and valid).

    Raises:
        DataError: when no mirror supplied a download that builds valid files; the
            message says what each mirror did.
    """
    paths = {filename: directory / filename for filename in file_set.filenames}
    todo = []
    for filename, path in paths.items():
        if not force and path.exists():
            try:
                file_set.check(filename, path)
                continue
            except DataError as err:
                logger.warning("%s; fetching it again", err)
        if path.is_dir():
            raise DataError(f"{path} is a folder, where the data file goes: remove that folder")
        todo.append(filename)
    if not todo:
        return paths, todo
    with tempfile.TemporaryDirectory(prefix="mlp-fetch-") as workdir:
        built = _download_and_build(file_set, Path(workdir), progress)
        for filename in todo:
            try:
                atomic_write_bytes(paths[filename], built[filename])
            except OSError as err:
                raise DataError(f"cannot write {paths[filename]} ({err})") from None
    logger.info("wrote %s to %s", ", ".join(todo), directory)
    return paths, todo


def _download_and_build(file_set: FileSet, workdir: Path, progress: bool) -> dict[str, bytes]:
    """The checked contents of every file, from the first mirror whose download builds
    them."""
    urls = mirror_urls(file_set)
    if not urls:
        raise DataError(f"could not fetch {file_set.name}: no mirrors configured")
    problems = []
    for url in urls:
        dest = workdir / file_set.download
        try:
            download_file(url, dest, progress, max_bytes=file_set.max_bytes)
            built = file_set.build(dest)
            _check_built(file_set, built, workdir)
            return built
        except (DataError, OSError, http.client.HTTPException, ValueError) as err:
            reason = str(err) if not isinstance(err, urllib.error.URLError) else repr(err)
            logger.warning("%s: %s failed: %s", file_set.name, url, reason)
            problems.append(f"- {url}: {reason}")
        finally:
            dest.unlink(missing_ok=True)
    raise DataError(
        f"could not fetch {file_set.name}:\n"
        + "\n".join(problems)
        + f"\nPut {', '.join(file_set.filenames)} in a folder and set MLP_DATA_DIR to it, "
        "or retry when the network is back."
    )


def _check_built(file_set: FileSet, built: dict[str, bytes], workdir: Path) -> None:
    """Check every built file as it would be checked in the data directory."""
    for filename in file_set.filenames:
        if filename not in built:
            raise DataError(f"the download did not give {filename}")
        trial = workdir / ("built-" + filename)
        trial.write_bytes(built[filename])
        try:
            file_set.check(filename, trial)
        finally:
            trial.unlink(missing_ok=True)
