"""Fuzz data files: corrupt `mnist-*.npz` in a temporary data directory (truncated, random
bytes, wrong keys, wrong shapes and dtypes, out-of-range values), read by
`mlp.datasets.load(..., fetch=False)`, `MNISTDataProvider(data_dir=...)` and
`mlp data fetch --data-dir`. Each must give a clear error naming the file (a provider or
`fetch` may also re-fetch: the guard stops the download and counts it as an answer)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fuzz_support import DEFAULT_DATA_DIR, Case, assert_no_failures, cli_case

AREA = "data"
SPLIT = "valid"
FILE = f"mnist-{SPLIT}.npz"


def _npz(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def contents(rng: np.random.RandomState) -> dict[str, Callable[[], bytes]]:
    real = DEFAULT_DATA_DIR / FILE
    data = (
        real.read_bytes()
        if real.exists()
        else _npz(inputs=np.zeros((10000, 784), np.float32), targets=np.zeros(10000, np.int64))
    )
    n = 10000
    good_inputs = np.zeros((n, 784), np.float32)
    good_targets = np.arange(n) % 10
    noise = rng.bytes(256)
    out: dict[str, Callable[[], bytes]] = {
        "empty": lambda: b"",
        "random bytes": lambda: noise,
        "a zip of nothing": lambda: _npz(),
        "wrong keys": lambda: _npz(x=good_inputs, y=good_targets),
        "inputs only": lambda: _npz(inputs=good_inputs),
        "inputs (n, 10)": lambda: _npz(inputs=np.zeros((n, 10), np.float32), targets=good_targets),
        "inputs 1-d": lambda: _npz(inputs=np.zeros(n, np.float32), targets=good_targets),
        "3 rows": lambda: _npz(inputs=good_inputs[:3], targets=good_targets[:3]),
        "targets shorter": lambda: _npz(inputs=good_inputs, targets=good_targets[:5]),
        "inputs as strings": lambda: _npz(inputs=np.full((n, 784), "a"), targets=good_targets),
        "object arrays": lambda: _npz(
            inputs=np.array([None] * n, dtype=object), targets=good_targets
        ),
        "inputs above 1": lambda: _npz(
            inputs=np.full((n, 784), 7.0, np.float32), targets=good_targets
        ),
        "inputs nan": lambda: _npz(
            inputs=np.full((n, 784), np.nan, np.float32), targets=good_targets
        ),
        "labels 10..19": lambda: _npz(inputs=good_inputs, targets=good_targets + 10),
        "labels negative": lambda: _npz(inputs=good_inputs, targets=-good_targets - 1),
        "labels float": lambda: _npz(inputs=good_inputs, targets=good_targets + 0.5),
        "complex inputs": lambda: _npz(inputs=good_inputs + 1j, targets=good_targets),
        "a pickle": lambda: __import__("pickle").dumps({"inputs": 1}),
    }
    for fraction in (0.001, 0.1, 0.5, 0.9, 0.999):
        out[f"truncated at {fraction:.1%}"] = lambda f=fraction: data[: int(len(data) * f)]
    out["one byte flipped"] = lambda: data[:2000] + bytes([data[2000] ^ 0xFF]) + data[2001:]
    return out


def generate(tmp: Path) -> dict[str, list[Case]]:
    from mlp import datasets
    from mlp.data_providers import MNISTDataProvider

    rng = np.random.RandomState(34)
    groups: dict[str, list[Case]] = {"datasets.load": [], "MNISTDataProvider": [], "data fetch": []}
    for index, (label, make) in enumerate(contents(rng).items()):
        folder = tmp / f"d{index}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / FILE).write_bytes(make())
        names = (FILE,)
        groups["datasets.load"].append(
            Case(
                AREA,
                "datasets.load",
                f"load('mnist', {SPLIT!r}, <{label}>, fetch=False)",
                lambda f=folder: datasets.load("mnist", SPLIT, data_dir=f, fetch=False),
                names,
            )
        )
        groups["MNISTDataProvider"].append(
            Case(
                AREA,
                "MNISTDataProvider",
                f"MNISTDataProvider({SPLIT!r}, data_dir=<{label}>)",
                lambda f=folder: MNISTDataProvider(SPLIT, data_dir=str(f)),
                names,
                fetch_ok=True,
            )
        )
        if index % 3 == 0:
            groups["data fetch"].append(
                cli_case(
                    AREA,
                    "data fetch",
                    ["data", "fetch", "--data-dir", folder, "--no-progress"],
                    names,
                    fetch_ok=True,
                )
            )
    directory = tmp / "dir-in-place"
    (directory / FILE).mkdir(parents=True, exist_ok=True)
    groups["datasets.load"].append(
        Case(
            AREA,
            "datasets.load",
            f"load('mnist', {SPLIT!r}, <{FILE} is a directory>, fetch=False)",
            lambda: datasets.load("mnist", SPLIT, data_dir=directory, fetch=False),
            (FILE,),
        )
    )
    return groups


@pytest.fixture(scope="module")
def data_groups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    return generate(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize("group", ["datasets.load", "MNISTDataProvider", "data fetch"])
def test_data_fuzz(group: str, data_groups: dict[str, list[Case]]) -> None:
    assert_no_failures(data_groups[group])
