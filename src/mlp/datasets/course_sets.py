"""The course's other data sets, kept as the course ships them: `FILE_SETS`, `file_path`.

========== ======================================= ==========================================
name       files in the data directory             fetched from
========== ======================================= ==========================================
emnist     ``emnist-{train,valid,test}.npz``       NIST's ``gzip.zip`` (``$MLP_EMNIST_MIRRORS``)
metoffice  ``HadSSP_daily_qc.txt``                 the Hadley Centre's HadUKP pages
                                                   (``$MLP_METOFFICE_MIRRORS``)
ccpp       ``ccpp_data.npz``                       UCI's ``CCPP.zip`` (``$MLP_CCPP_MIRRORS``)
========== ======================================= ==========================================

Files already in the data directory are used first (after a check); missing or invalid
ones are fetched, checked and written atomically (`file_sets`).
"""

from __future__ import annotations

import os
from pathlib import Path

import mlp._checks as _checks
from mlp.datasets.ccpp import CCPP_FILENAME, build_ccpp, check_ccpp
from mlp.datasets.emnist import build_emnist, check_emnist, emnist_filename
from mlp.datasets.exceptions import DataError
from mlp.datasets.file_sets import FileSet, fetch_file_set
from mlp.datasets.metoffice import METOFFICE_FILENAME, check_metoffice
from mlp.datasets.paths import resolve_dir

__all__ = ["FILE_SETS", "file_path", "file_set"]


def _as_published(download: Path) -> dict[str, bytes]:
    return {METOFFICE_FILENAME: download.read_bytes()}


FILE_SETS: dict[str, FileSet] = {
    "emnist": FileSet(
        name="emnist",
        filenames=tuple(emnist_filename(split) for split in ("train", "valid", "test")),
        download="gzip.zip",
        mirrors=("https://biometrics.nist.gov/cs_links/EMNIST/",),
        mirrors_env="MLP_EMNIST_MIRRORS",
        build=build_emnist,
        check=check_emnist,
        max_bytes=1 << 30,  # the archive of every EMNIST split is about 560 MB
    ),
    "metoffice": FileSet(
        name="metoffice",
        filenames=(METOFFICE_FILENAME,),
        download=METOFFICE_FILENAME,
        mirrors=("https://www.metoffice.gov.uk/hadobs/hadukp/data/daily/",),
        mirrors_env="MLP_METOFFICE_MIRRORS",
        build=_as_published,
        check=check_metoffice,
    ),
    "ccpp": FileSet(
        name="ccpp",
        filenames=(CCPP_FILENAME,),
        download="CCPP.zip",
        mirrors=("https://archive.ics.uci.edu/ml/machine-learning-databases/00294/",),
        mirrors_env="MLP_CCPP_MIRRORS",
        build=build_ccpp,
        check=check_ccpp,
    ),
}
"""The course's data sets kept in its own formats, by name."""


def file_set(name: str) -> FileSet:
    """The `FileSet` of a name in `FILE_SETS` (blanks and case ignored).

    Raises:
        ValueError: naming ``name`` and the choices.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in FILE_SETS:
        choices = ", ".join(repr(n) for n in FILE_SETS)
        raise ValueError(f"unknown data set {name!r}: name must be one of {choices}")
    return FILE_SETS[key]


def file_path(
    name: str,
    filename: str,
    data_dir: str | os.PathLike[str] | None = None,
    fetch: bool = True,
) -> Path:
    """The checked path of one file of a course data set, fetching the set when needed.

    Args:
        name: ``'emnist'``, ``'metoffice'`` or ``'ccpp'``.
        filename: one of the set's files (e.g. ``'emnist-valid.npz'``).
        data_dir: the folder; the default is `data_dir()`.
        fetch: when the file is missing or invalid, fetch it (True) or raise (False).

    Raises:
        ValueError: for an unknown ``name`` or ``filename``.
        DataError: when the file is missing or invalid and cannot be fetched.
    """
    spec = file_set(name)
    if filename not in spec.filenames:
        raise ValueError(
            f"filename {filename!r} is not a file of {spec.name}: one of {spec.filenames}"
        )
    fetch = _checks.truth(fetch, "fetch", "file_path")
    directory = resolve_dir(data_dir, create=fetch)
    path = directory / filename
    try:
        spec.check(filename, path)
        return path
    except DataError:
        if not fetch:
            if not path.exists():
                raise DataError(
                    f"{path} does not exist; run `python -m mlp.datasets fetch {spec.name}`"
                ) from None
            raise
    fetch_file_set(spec, directory, force=False, progress=False)
    return path
