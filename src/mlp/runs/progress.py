"""The optional progress bar over a run's epochs (tqdm, imported only when shown)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int, initial: int, desc: str) -> Iterator[Any]:
    if not enabled:
        yield None
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=total, initial=initial, desc=desc, unit="epoch", dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
