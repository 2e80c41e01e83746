"""Downloading one file over HTTP, with short timeouts, a size cap and a progress bar."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from mlp.datasets.exceptions import DataError

__all__ = ["DOWNLOAD_TIMEOUT", "MAX_DOWNLOAD_BYTES", "download_file"]

DOWNLOAD_TIMEOUT = 10.0
"""Seconds a mirror may take to connect or to send the next chunk before it is given up."""

MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
"""The largest idx file accepted from a mirror (the largest real one is about 26 MB)."""


def download_file(
    url: str, dest: Path, progress: bool, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> None:
    """Stream ``url`` into the file ``dest``, with short timeouts and a size cap.

    Args:
        url: what to download (http, https or file URLs).
        dest: the file written; it is left partial when the download fails.
        progress: show a tqdm progress bar.
        max_bytes: the largest file accepted (EMNIST's archive is far above the default).

    Raises:
        DataError: when the server announces or sends more than ``max_bytes``, or
            sends fewer bytes than it announced.
        OSError, http.client.HTTPException, ValueError: when the server cannot be reached,
            takes longer than `DOWNLOAD_TIMEOUT` to connect or to send a chunk, or answers
            with an HTTP error (``urllib.error.HTTPError``, itself an ``OSError``).
    """
    from mlp import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"mlp/{__version__}"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DataError(f"{url} is {total} bytes, more than expected")
        from mlp.live import progress_bar as tqdm

        received = 0
        with (
            open(dest, "wb") as out,
            tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
                leave=False,
            ) as bar,
        ):
            while block := response.read(1 << 16):
                received += len(block)
                if received > max_bytes:
                    raise DataError(f"{url} sent more than {max_bytes} bytes")
                out.write(block)
                bar.update(len(block))
    if total is not None and received != total:
        raise DataError(f"{url} ended after {received} of {total} bytes")
