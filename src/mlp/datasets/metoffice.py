"""The Met Office's daily Southern Scotland precipitation series, ``HadSSP_daily_qc.txt``.

The Hadley Centre's HadUKP pages publish it as text: three header lines, then one row
per month: the year, the month, and 31 daily values in mm, -99.99 where the month has no
such day or there is no reading. The file is kept as published.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mlp.datasets.exceptions import DataError

__all__ = ["METOFFICE_FILENAME", "check_metoffice", "read_metoffice"]

METOFFICE_FILENAME = "HadSSP_daily_qc.txt"
_HEADER_LINES = 3
_MISSING = -99.99


def read_metoffice(path: Path, last_day: int = 30) -> np.ndarray:
    """The daily readings of the file, month after month, missing ones dropped.

    Args:
        path: the file.
        last_day: read the columns of days 1 to ``last_day``. The default 30 is what
            the course's loader reads (its column range stops one short of day 31), so
            that course numbers reproduce; 31 reads every day.

    Returns:
        float64 array of shape (num_readings,), every value >= 0.

    Raises:
        DataError: naming ``path`` and the line, when the file is not in this format.
    """
    table = _table(path)
    values = table[:, 2 : 2 + last_day].ravel()
    return np.ascontiguousarray(values[values >= 0])


def check_metoffice(filename: str, path: Path) -> None:
    """`FileSet.check` for the Met Office file."""
    _table(path)


def _table(path: Path) -> np.ndarray:
    """The rows of the file as an array of shape (num_months, 33)."""
    try:
        lines = path.read_text(encoding="ascii").splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not a readable Met Office series ({err})") from None
    rows = []
    for number, line in enumerate(lines[_HEADER_LINES:], start=_HEADER_LINES + 1):
        if not line.strip():
            continue
        fields = line.split()
        try:
            row = [float(field) for field in fields]
        except ValueError:
            row = []
        if len(row) != 33 or not 1 <= row[1] <= 12 or row[1] != int(row[1]):
            raise DataError(
                f"{path}, line {number}: expected year, month and 31 daily values, got {line!r:.80}"
            )
        if any(value < 0 and value != _MISSING for value in row[2:]):
            raise DataError(f"{path}, line {number}: a negative value other than -99.99")
        rows.append(row)
    if not rows:
        raise DataError(f"{path} holds no monthly rows after its {_HEADER_LINES} header lines")
    return np.array(rows)
