"""Source: the original idx files, downloaded from the data set's HTTP mirrors."""

from __future__ import annotations

import http.client
import logging
import os
import urllib.error
from pathlib import Path

from mlp.datasets.checksums import _check_digests
from mlp.datasets.download import _download
from mlp.datasets.exceptions import DataError
from mlp.datasets.idx import _splits_from_idx
from mlp.datasets.specs import DatasetSpec, Splits

logger = logging.getLogger(__name__)


def _mirror_list(spec: DatasetSpec) -> list[str]:
    env = os.environ.get(spec.mirrors_env, "") if spec.mirrors_env else ""
    urls = env.replace(",", " ").split() if env.strip() else list(spec.mirrors)
    return [url if url.endswith("/") else url + "/" for url in urls]


def _from_mirrors(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the original idx files, from the first mirror that has each."""
    mirrors = _mirror_list(spec)
    if not mirrors:
        raise DataError("no mirrors configured")
    dead: set[str] = set()
    contents: dict[str, bytes] = {}
    for role, idx in spec.idx_files.items():
        problems = []
        for base in mirrors:
            if base in dead:
                continue
            url = base + idx.filename
            dest = workdir / idx.filename
            try:
                _download(url, dest, progress)
                contents[role] = _check_digests(dest.read_bytes(), idx, url)
                break
            except DataError as err:
                problems.append(str(err))
                logger.warning("%s", err)
            except (OSError, http.client.HTTPException, ValueError) as err:
                # Unreachable, refused, timed out or HTTP error: skip this mirror for the rest.
                if not isinstance(err, urllib.error.HTTPError):
                    dead.add(base)
                problems.append(f"{url}: {err}")
                logger.warning("could not download %s: %s", url, err)
        if role not in contents:
            raise DataError(f"no mirror supplied {idx.filename}: " + "; ".join(problems))
    return _splits_from_idx(spec, contents)
