"""Recognising downloaded files by their digests, and gunzipping them with clear errors."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from pathlib import Path

from mlp.datasets.exceptions import DataError
from mlp.datasets.specs import IdxFile


def _check_digests(gz: bytes, idx: IdxFile, origin: str) -> bytes:
    """Return the decompressed content of ``gz`` when its digests match ``idx``."""
    content = _gunzip(gz, origin)
    if idx.gz_md5 is None and idx.sha256 is None:
        return content
    if idx.gz_md5 is not None and hashlib.md5(gz, usedforsecurity=False).hexdigest() == idx.gz_md5:
        return content
    digest = hashlib.sha256(content).hexdigest()
    if idx.sha256 is not None and digest == idx.sha256:
        return content
    raise DataError(
        f"checksum mismatch for {origin}: the SHA-256 of its content is {digest}, "
        f"expected {idx.sha256} (or MD5 {idx.gz_md5} for the .gz); "
        "the file is corrupt or not the one expected"
    )


def _gunzip(data: bytes, origin: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"{origin} is not a valid gzip file ({err})") from None


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
