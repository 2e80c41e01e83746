"""The one exception the data code raises for bad files and failed downloads."""

from __future__ import annotations

__all__ = ["DataError"]


class DataError(ValueError):
    """A data file or a download is missing, corrupt, or not what it should be.

    The message names the file or source and says how to fix it.
    """
