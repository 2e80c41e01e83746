"""Fuzz data files: corrupt `mnist-*.npz` in a temporary data directory (truncated, random
bytes, wrong keys, wrong shapes and dtypes, out-of-range values), read by
`mlp.datasets.load(..., fetch=False)`, `MNISTDataProvider(data_dir=...)` and
`mlp data fetch --data-dir`. Each must give a clear error naming the file (a provider or
`fetch` may also re-fetch: the guard stops the download and counts it as an answer)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


# --- issue 14 part 4: the course's other data files -----------------------------------

HEADER = "a\nb\nc\n"
DAY_ROW = " 1931    1" + "   1.00" * 31


def course_contents(rng: np.random.RandomState) -> dict[str, dict[str, bytes]]:
    """Corrupt copies of each course file: {filename: {label: content}}."""
    noise = rng.bytes(256)
    images, labels = np.zeros((20, 28, 28), np.uint8), np.arange(20) % 47
    good_ccpp = {
        "train_inputs": np.zeros((30, 4)),
        "train_targets": np.zeros((30, 1)),
        "valid_inputs": np.zeros((20, 4)),
        "valid_targets": np.zeros((20, 1)),
    }
    emnist = _npz(inputs=images, targets=labels)
    return {
        "emnist-valid.npz": {
            "empty": b"",
            "random bytes": noise,
            "wrong keys": _npz(x=images, y=labels),
            "float images": _npz(inputs=images.astype(np.float32), targets=labels),
            "images (20, 5)": _npz(inputs=np.zeros((20, 5), np.uint8), targets=labels),
            "labels 47..": _npz(inputs=images, targets=labels + 47),
            "labels float": _npz(inputs=images, targets=labels + 0.5),
            "targets shorter": _npz(inputs=images, targets=labels[:3]),
            "truncated": emnist[: len(emnist) // 2],
        },
        "HadSSP_daily_qc.txt": {
            "empty": b"",
            "random bytes": noise,
            "header only": HEADER.encode(),
            "short row": (HEADER + " 1931 1 2.0\n").encode(),
            "month 13": (HEADER + DAY_ROW.replace("    1", "   13", 1) + "\n").encode(),
            "negative readings": (HEADER + DAY_ROW.replace("1.00", "-5.0") + "\n").encode(),
            "words": (HEADER + "x " * 33 + "\n").encode(),
        },
        "ccpp_data.npz": {
            "empty": b"",
            "random bytes": noise,
            "wrong keys": _npz(x=np.zeros(3)),
            "inputs (n, 3)": _npz(**{**good_ccpp, "train_inputs": np.zeros((30, 3))}),
            "targets (n,)": _npz(**{**good_ccpp, "valid_targets": np.zeros(20)}),
            "nan inputs": _npz(**{**good_ccpp, "valid_inputs": np.full((20, 4), np.nan)}),
            "integer inputs": _npz(**{**good_ccpp, "train_inputs": np.zeros((30, 4), int)}),
        },
    }


_COURSE_SETS = {
    "emnist-valid.npz": "emnist",
    "HadSSP_daily_qc.txt": "metoffice",
    "ccpp_data.npz": "ccpp",
}


def _course_provider(filename: str, folder: Path) -> Any:
    from mlp import data_providers as D

    if filename == "emnist-valid.npz":
        return D.EMNISTDataProvider("valid", 5, data_dir=str(folder))
    if filename == "ccpp_data.npz":
        return D.CCPPDataProvider("valid", data_dir=str(folder))
    return D.MetOfficeDataProvider(3, data_dir=str(folder))


def course_generate(tmp: Path) -> dict[str, list[Case]]:
    from mlp import datasets

    groups: dict[str, list[Case]] = {"file_path": [], "course providers": []}
    rng = np.random.RandomState(35)
    for filename, variants in course_contents(rng).items():
        name = _COURSE_SETS[filename]
        for index, (label, content) in enumerate(variants.items()):
            folder = tmp / f"{name}-{index}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / filename).write_bytes(content)
            groups["file_path"].append(
                Case(
                    AREA,
                    "file_path",
                    f"file_path({name!r}, <{label}>, fetch=False)",
                    lambda n=name, f=filename, d=folder: datasets.file_path(n, f, d, fetch=False),
                    (filename,),
                )
            )
            groups["course providers"].append(
                Case(
                    AREA,
                    "course providers",
                    f"{name} provider(data_dir=<{label}>)",
                    lambda f=filename, d=folder: _course_provider(f, d),
                    (filename,),
                    fetch_ok=True,
                )
            )
    return groups


@pytest.fixture(scope="module")
def course_groups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    return course_generate(tmp_path_factory.mktemp("course-data"))


@pytest.mark.parametrize("group", ["file_path", "course providers"])
def test_course_data_fuzz(group: str, course_groups: dict[str, list[Case]]) -> None:
    assert_no_failures(course_groups[group])


@pytest.fixture(scope="module")
def data_groups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    return generate(tmp_path_factory.mktemp("data"))


@pytest.mark.parametrize("group", ["datasets.load", "MNISTDataProvider", "data fetch"])
def test_data_fuzz(group: str, data_groups: dict[str, list[Case]]) -> None:
    assert_no_failures(data_groups[group])
