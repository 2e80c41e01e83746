"""Fuzz run records: corrupt copies of a real run folder (truncated, random bytes, wrong
JSON shapes, missing keys, missing files) given to `RunRecord.load`, `mlp compare`,
`mlp plot` and `mlp train --resume`. Each must give a clear error naming the file, or work.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from fuzz_support import DEFAULT_DATA_DIR, Case, assert_no_failures, cli_case, run_cli

AREA = "records"
ENV = {"MLP_DATA_DIR": str(DEFAULT_DATA_DIR)}
FILES = ("checkpoint.npz", "stats.csv", "summary.json", "config.toml", "params.npz")


def _base_run(tmp: Path, name: str, interrupt: bool) -> Path:
    """A real run record of a tiny network: finished after one epoch, or interrupted
    (as by Ctrl-C) in the second of two, leaving its checkpoint."""
    import os
    from unittest import mock

    from mlp.optimisers import Optimiser

    real = Optimiser.do_training_epoch
    calls: list[int] = []

    def epoch(self: Optimiser) -> None:
        calls.append(1)
        if interrupt and len(calls) == 2:
            raise KeyboardInterrupt
        real(self)

    argv = [
        "train",
        "--runs-dir",
        str(tmp / "runs"),
        "--name",
        name,
        "--hidden",
        "5",
        "--epochs",
        "2" if interrupt else "1",
        "--max-train-examples",
        "100",
        "--no-progress",
    ]
    os.environ.update(ENV)
    with mock.patch.object(Optimiser, "do_training_epoch", epoch):
        status, _, err = run_cli(argv)
    assert status == (130 if interrupt else 0), f"could not make the base run {name}: {err}"
    return tmp / "runs" / name


def _npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def corruptions(run: Path, rng: np.random.RandomState) -> dict[str, Callable[[Path], None]]:
    """name -> a function corrupting a copy of the run folder."""
    out: dict[str, Callable[[Path], None]] = {}
    for name in FILES:
        if not (run / name).is_file():
            continue
        data = (run / name).read_bytes()
        out[f"{name} missing"] = lambda p, n=name: (p / n).unlink()
        out[f"{name} empty"] = lambda p, n=name: (p / n).write_bytes(b"")
        out[f"{name} truncated to half"] = lambda p, n=name, d=data: (p / n).write_bytes(
            d[: len(d) // 2]
        )
        noise = rng.bytes(64)
        out[f"{name} random bytes"] = lambda p, n=name, b=noise: (p / n).write_bytes(b)
        out[f"{name} a directory"] = lambda p, n=name: ((p / n).unlink(), (p / n).mkdir())
    for text, value in {
        "[]": [],
        "{}": {},
        "{'final': 5}": {"final": 5},
        "'x'": "x",
        "null": None,
        "5": 5,
        "{'final': {'acc(valid)': 'x'}}": {"final": {"acc(valid)": "x"}},
    }.items():
        out[f"summary.json = {text}"] = lambda p, v=value: (p / "summary.json").write_text(
            json.dumps(v)
        )
    out["summary.json not UTF-8"] = lambda p: (p / "summary.json").write_bytes(b'{"a": "\xff"}')
    for text, content in {
        "bogus key": "bogus_key = 1\n",
        "hidden = 'abc'": "hidden = 'abc'\n",
        "not TOML": "[[[",
        "epochs = -1": "epochs = -1\n",
    }.items():
        out[f"config.toml {text}"] = lambda p, c=content: (p / "config.toml").write_text(c)
    stats = (run / "stats.csv").read_text()
    header = stats.splitlines()[0]
    for text, content in {
        "header only": header + "\n",
        "ragged row": header + "\n0,1\n",
        "non-numeric row": header + "\n0," + ",".join(["x"] * header.count(",")) + "\n",
        "no header": "0,1,2,3,4\n",
        "binary": "\x00\x01",
    }.items():
        out[f"stats.csv {text}"] = lambda p, c=content: (p / "stats.csv").write_text(c)
    if not (run / "checkpoint.npz").is_file():
        return out
    with np.load(run / "checkpoint.npz") as saved:
        arrays = dict(saved)
    meta_key = next((k for k in arrays if "meta" in k), None)
    some_param = next((k for k in arrays if k != meta_key), None)
    if meta_key:
        without = {k: v for k, v in arrays.items() if k != meta_key}
        out["checkpoint.npz without meta"] = lambda p, a=without: (
            p / "checkpoint.npz"
        ).write_bytes(_npz_bytes(a))
        out["checkpoint.npz meta not JSON"] = lambda p: (p / "checkpoint.npz").write_bytes(
            _npz_bytes({**arrays, meta_key: np.array("{not json")})
        )
        meta = json.loads(str(arrays[meta_key]))
        for field in list(meta)[:4]:
            less = {k: v for k, v in meta.items() if k != field}
            out[f"checkpoint.npz meta without {field!r}"] = lambda p, m=less: (
                p / "checkpoint.npz"
            ).write_bytes(_npz_bytes({**arrays, meta_key: np.array(json.dumps(m))}))
        if "epoch" in meta:
            out["checkpoint.npz epoch past the end"] = lambda p: (p / "checkpoint.npz").write_bytes(
                _npz_bytes({**arrays, meta_key: np.array(json.dumps({**meta, "epoch": 99}))})
            )
    if some_param:
        out[f"checkpoint.npz without {some_param!r}"] = lambda p: (
            p / "checkpoint.npz"
        ).write_bytes(_npz_bytes({k: v for k, v in arrays.items() if k != some_param}))
        out[f"checkpoint.npz {some_param!r} of shape (1,)"] = lambda p: (
            p / "checkpoint.npz"
        ).write_bytes(_npz_bytes({**arrays, some_param: np.zeros(1)}))
    return out


def generate(tmp: Path) -> dict[str, list[Case]]:
    from mlp.runs import RunRecord

    finished = _base_run(tmp, "finished", interrupt=False)
    interrupted = _base_run(tmp, "interrupted", interrupt=True)
    rng = np.random.RandomState(12)
    groups: dict[str, list[Case]] = {
        "RunRecord.load": [],
        "compare": [],
        "plot": [],
        "train --resume": [],
    }
    for index, (label, corrupt) in enumerate(corruptions(finished, rng).items()):
        folder = tmp / "corrupt" / f"r{index}"
        shutil.copytree(finished, folder, dirs_exist_ok=True)
        corrupt(folder)
        names = tuple(n for n in FILES if n in label) or (folder.name,)
        groups["RunRecord.load"].append(
            Case(
                AREA,
                "RunRecord.load",
                f"RunRecord.load(<{label}>)",
                lambda f=folder: RunRecord.load(f),
                names,
            )
        )
        groups["compare"].append(
            cli_case(
                AREA, "compare", ["compare", folder], names, env=ENV, label=f"mlp compare <{label}>"
            )
        )
        groups["plot"].append(
            cli_case(
                AREA,
                "plot",
                ["plot", folder, "-o", folder / "out.png"],
                names,
                env=ENV,
                label=f"mlp plot <{label}> -o out.png",
            )
        )
    for index, (label, corrupt) in enumerate(corruptions(interrupted, rng).items()):
        if not label.startswith(("checkpoint", "config", "stats")):
            continue
        folder = tmp / "corrupt" / f"i{index}"
        shutil.copytree(interrupted, folder, dirs_exist_ok=True)
        corrupt(folder)
        names = (*(n for n in FILES if n in label), "--overwrite")
        groups["train --resume"].append(
            cli_case(
                AREA,
                "train --resume",
                ["train", "--resume", folder, "--no-progress"],
                names,
                env=ENV,
                work_ok=True,
                label=f"mlp train --resume <{label}>",
            )
        )
    lock_only = tmp / "runs" / "lock-only"
    lock_only.mkdir(parents=True, exist_ok=True)
    (lock_only / ".lock").write_text("")
    groups["train --resume"].append(
        cli_case(
            AREA,
            "train --resume",
            ["train", "--resume", lock_only, "--no-progress"],
            ("lock-only",),
            env=ENV,
            work_ok=True,
        )
    )
    return groups


@pytest.fixture(scope="module")
def record_groups(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Case]]:
    return generate(tmp_path_factory.mktemp("records"))


@pytest.mark.parametrize("group", ["RunRecord.load", "compare", "plot", "train --resume"])
def test_records_fuzz(group: str, record_groups: dict[str, list[Case]]) -> None:
    assert_no_failures(record_groups[group])
