"""What differs between the Python versions mlp supports (3.10 and later), in one place.

`from mlp.compat import tomllib` gives the standard library's TOML reader on 3.11 and
later, and the `tomli` package (its original) on 3.10.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["tomllib"]
