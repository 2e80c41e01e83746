"""The UCI Combined Cycle Power Plant data, as the course's ``ccpp_data.npz``.

UCI's ``CCPP.zip`` holds the 9,568 hourly rows as a spreadsheet (``Folds5x2_pp.xlsx``,
whose first sheet has the columns AT, V, AP, RH and PE: temperature, exhaust vacuum,
ambient pressure, relative humidity and the net electrical output). It is read with the
standard library (an .xlsx file is a zip of XML files).

``ccpp_data.npz`` holds ``train_inputs`` (8,568, 4), ``train_targets`` (8,568, 1),
``valid_inputs`` (1,000, 4) and ``valid_targets`` (1,000, 1), float64. The course's
file, read closely, has whitened inputs (over all 9,568 rows: zero mean, unit variance,
and no correlation between the four columns) and a standardised target (zero mean, unit
standard deviation). Its row order and its whitening's rotation cannot be recovered from
the file, so ours is built the same way with choices of our own, documented here: the
rows are ordered by ``np.random.RandomState(CCPP_SPLIT_SEED).permutation(9568)``, the
first 1,000 of that order are ``valid`` and the rest ``train``; the inputs are projected
on the eigenvectors of their covariance (largest eigenvalue first, each vector's largest
entry made positive) and divided by the square roots of the eigenvalues.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ElementTree
import zipfile
from pathlib import Path

import numpy as np

from mlp.datasets.exceptions import DataError

__all__ = [
    "CCPP_FILENAME",
    "CCPP_ROWS",
    "CCPP_SPLIT_SEED",
    "CCPP_VALID_SIZE",
    "build_ccpp",
    "check_ccpp",
    "read_ccpp",
    "xlsx_rows",
]

CCPP_FILENAME = "ccpp_data.npz"
CCPP_ROWS = 9_568
CCPP_VALID_SIZE = 1_000
CCPP_SPLIT_SEED = 14
_KEYS = ("train_inputs", "train_targets", "valid_inputs", "valid_targets")
_COLUMNS = ["AT", "V", "AP", "RH", "PE"]
_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def xlsx_rows(content: bytes, sheet: int = 1) -> list[list[str]]:
    """The cells of one sheet of an .xlsx file, row by row, as text.

    Shared strings are resolved; a missing cell reads as ''. Raises DataError when
    ``content`` is not an .xlsx file with that sheet.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as book:
            names = book.namelist()
            strings = []
            if "xl/sharedStrings.xml" in names:
                root = ElementTree.fromstring(book.read("xl/sharedStrings.xml"))
                strings = ["".join(t.text or "" for t in s.iter(_NS + "t")) for s in root]
            root = ElementTree.fromstring(book.read(f"xl/worksheets/sheet{sheet}.xml"))
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError) as err:
        raise DataError(f"not a readable .xlsx spreadsheet ({err})") from None
    rows = []
    for row in root.iter(_NS + "row"):
        cells: dict[int, str] = {}
        for cell in row.iter(_NS + "c"):
            cells[_column(cell.get("r", ""), len(cells))] = _cell_text(cell, strings)
        rows.append([cells.get(i, "") for i in range(max(cells, default=-1) + 1)])
    return rows


def _column(reference: str, fallback: int) -> int:
    letters = "".join(ch for ch in reference if ch.isalpha())
    if not letters:
        return fallback
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - ord("A") + 1
    return index - 1


def _cell_text(cell: ElementTree.Element, strings: list[str]) -> str:
    kind = cell.get("t")
    if kind == "inlineStr":
        return "".join(t.text or "" for t in cell.iter(_NS + "t"))
    value = cell.find(_NS + "v")
    text = value.text or "" if value is not None else ""
    if kind == "s" and text.isdigit() and int(text) < len(strings):
        return strings[int(text)]
    return text


def build_ccpp(archive: Path, num_rows: int = CCPP_ROWS) -> dict[str, bytes]:
    """``ccpp_data.npz`` from UCI's ``CCPP.zip`` (its first .xlsx member, first sheet).

    Returns:
        ``{'ccpp_data.npz': content}``; see the module's docstring for how it is made.
    """
    table = _spreadsheet_table(archive)
    if len(table) != num_rows:
        raise DataError(f"CCPP: expected {num_rows} rows, got {len(table)}")
    inputs, target = table[:, :4], table[:, 4]
    centred = inputs - inputs.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(centred))
    eigenvalues, eigenvectors = eigenvalues[::-1], eigenvectors[:, ::-1]
    signs = np.sign(eigenvectors[np.abs(eigenvectors).argmax(axis=0), range(4)])
    whitened = centred @ (eigenvectors * signs) / np.sqrt(eigenvalues)
    targets = ((target - target.mean()) / target.std())[:, None]
    order = np.random.RandomState(CCPP_SPLIT_SEED).permutation(len(table))
    valid, train = order[:CCPP_VALID_SIZE], order[CCPP_VALID_SIZE:]
    buffer = io.BytesIO()
    np.savez(
        buffer,
        train_inputs=whitened[train],
        train_targets=targets[train],
        valid_inputs=whitened[valid],
        valid_targets=targets[valid],
    )
    return {CCPP_FILENAME: buffer.getvalue()}


def _spreadsheet_table(archive: Path) -> np.ndarray:
    """The numeric rows (n, 5) of the spreadsheet in UCI's zip, columns AT V AP RH PE."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            member = next(n for n in zipped.namelist() if n.lower().endswith(".xlsx"))
            content = zipped.read(member)
    except StopIteration:
        raise DataError(f"{archive.name} holds no .xlsx spreadsheet") from None
    except (OSError, zipfile.BadZipFile) as err:
        raise DataError(f"{archive.name} is not UCI's CCPP.zip ({err})") from None
    rows = [row for row in xlsx_rows(content) if any(row)]
    if not rows or [cell.strip() for cell in rows[0][:5]] != _COLUMNS:
        raise DataError(f"CCPP: the first sheet's header is not {_COLUMNS}")
    try:
        table = np.array([[float(cell) for cell in row[:5]] for row in rows[1:]])
    except ValueError as err:
        raise DataError(f"CCPP: a cell that is not a number ({err})") from None
    if table.ndim != 2 or table.shape[1:] != (5,) or not np.isfinite(table).all():
        raise DataError("CCPP: every row needs five finite numbers")
    return table


def read_ccpp(path: Path, which_set: str) -> tuple[np.ndarray, np.ndarray]:
    """One split of ``ccpp_data.npz``: inputs (n, 4) and targets (n, 1), float64.

    Raises:
        DataError: naming ``path`` when the file is unreadable or has the wrong arrays.
    """
    try:
        with np.load(path, allow_pickle=False) as loaded:
            arrays = {key: loaded[key] for key in _KEYS}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        raise DataError(f"{path} is not a readable CCPP file ({err})") from None
    for split in ("train", "valid"):
        inputs, targets = arrays[f"{split}_inputs"], arrays[f"{split}_targets"]
        if (
            inputs.ndim != 2
            or inputs.shape[1] != 4
            or targets.shape != (len(inputs), 1)
            or inputs.dtype.kind != "f"
            or targets.dtype.kind != "f"
            or not (np.isfinite(inputs).all() and np.isfinite(targets).all())
        ):
            raise DataError(
                f"{path}: {split} needs finite float inputs (n, 4) and targets (n, 1), got "
                f"{inputs.dtype} {inputs.shape} and {targets.dtype} {targets.shape}"
            )
    return arrays[f"{which_set}_inputs"], arrays[f"{which_set}_targets"]


def check_ccpp(filename: str, path: Path) -> None:
    """`FileSet.check` for ``ccpp_data.npz``."""
    read_ccpp(path, "train")
