"""Source: the original idx files, downloaded from the data set's HTTP mirrors."""

from __future__ import annotations

import http.client
import logging
import os
import urllib.error
from pathlib import Path

from mlp.datasets.checksums import check_digests
from mlp.datasets.download import download_file
from mlp.datasets.exceptions import DataError
from mlp.datasets.idx import splits_from_idx
from mlp.datasets.specs import DatasetSpec, Splits

__all__ = ["from_mirrors"]

logger = logging.getLogger(__name__)


def _mirror_list(spec: DatasetSpec) -> list[str]:
    env = os.environ.get(spec.mirrors_env, "") if spec.mirrors_env else ""
    urls = env.replace(",", " ").split() if env.strip() else list(spec.mirrors)
    return [url if url.endswith("/") else url + "/" for url in urls]


def from_mirrors(spec: DatasetSpec, workdir: Path, progress: bool) -> Splits:
    """Source: the original idx files, each from the first mirror that has a good copy.

    The mirrors are ``spec.mirrors``, or the URLs in the environment variable
    ``spec.mirrors_env`` when it is set; a mirror that cannot be reached is skipped for
    the remaining files. Downloads go to ``workdir``.

    Returns:
        ``{split: (inputs, targets)}`` as `splits_from_idx` gives them: arrays of shapes
        (num_examples, 784) and (num_examples,).

    Raises:
        DataError: when no mirrors are configured or none supplied one of the files; the
            message says what each mirror did.
    """
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
                download_file(url, dest, progress)
                contents[role] = check_digests(dest.read_bytes(), idx, url)
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
    return splits_from_idx(spec, contents)
