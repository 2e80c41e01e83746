"""Fuzz the `mlp` command line: every command and subcommand, in-process through
`mlp.cli.main(argv)` (cheap), plus a few real subprocesses. Each outcome must be exit 0,
or exit 1/2 with a message naming the flag or file; never a traceback (see fuzz_support).
MNIST is read from the default data directory; nothing is downloaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz_support import DEFAULT_DATA_DIR, HUGE, Case, assert_no_failures, cli_case

AREA = "cli"
ENV = {"MLP_DATA_DIR": str(DEFAULT_DATA_DIR)}
TINY = ["--hidden", "5", "--epochs", "1", "--max-train-examples", "100", "--no-progress"]


def _case(
    group: str, argv: list, names: tuple = (), expect: str = "any", work_ok: bool = False
) -> Case:
    return cli_case(AREA, group, argv, names, expect, ENV, work_ok=work_ok)


def train_cases(tmp: Path) -> list[Case]:
    runs = ["--runs-dir", str(tmp / "runs")]
    bad_values = {
        # "--hidden 0" is documented as no hidden layer (softmax regression): a control
        # case below, not a bad value.
        "--hidden": ["abc", "-1", "1,,2", str(HUGE), "1e3"],
        "--learning-rate": ["abc", "nan", "inf", "-1", "0"],
        "--epochs": ["0", "-1", "abc", "2.5"],
        "--batch-size": ["0", "abc", str(HUGE)],
        "--stats-interval": ["0", "abc"],
        "--dropout": ["1", "-0.5", "nan"],
        "--seed": ["abc", "-1", str(2**70)],
        "--max-train-examples": ["0", "abc"],
        "--activation": ["bogus"],
        "--rule": ["bogus"],
        "--init-scale": ["nan", "-1"],
        "--weight-decay": ["-1", "inf"],
        "--dtype": ["float16"],
        "--name": ["..", "a/b", ""],
        "--mom-coeff": ["2", "nan"],
        "--beta-1": ["1", "-1"],
        "--epsilon": ["0", "inf"],
        "--lr-decay": ["0", "inf"],
        # The regression data sets' keys (issue 14, part 6).
        "--input-dims": ["5", "0,0", "abc", "1.5"],
        "--window-size": ["1", "abc"],
        "--rbf-grid": ["0", "abc", "-3"],
    }
    cases = [
        _case(
            "train", ["train", *runs, *TINY, flag, value], (flag, flag.lstrip("-"), value), "error"
        )
        for flag, values in bad_values.items()
        for value in values
    ]
    cases.append(
        _case("train", ["train", *runs, *TINY, "--hidden", "0", "--name", "h0"], (), work_ok=True)
    )
    cases.append(_case("train", ["train", *runs, "--bogus"], ("--bogus",), "error"))
    # Keys of one data set given with another, and errors without classes to predict.
    for flags, names in (
        (["--dataset", "ccpp"], ("error", "ccpp")),
        (["--dataset", "met-office", "--error", "sum_of_squares"], ("window_size",)),
        (["--window-size", "5"], ("window_size", "met-office")),
        (["--input-dims", "0,1"], ("input_dims", "ccpp")),
        (["--rbf-grid", "4"], ("rbf_grid",)),
        (["--dataset", "mnist-autoencoder", "--error", "sum_of_squares", "--test"], ("test",)),
    ):
        cases.append(_case("train", ["train", *runs, *TINY, *flags], names, "error"))
    cases.append(
        _case(
            "train",
            ["train", *runs, *TINY, "--config", str(tmp / "missing.toml")],
            ("missing.toml",),
            "error",
        )
    )
    binary = tmp / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00hidden = [")
    cases.append(
        _case("train", ["train", *runs, *TINY, "--config", str(binary)], ("binary.toml",), "error")
    )
    bad_key = tmp / "bad-key.toml"
    bad_key.write_text("bogus_key = 1\n")
    cases.append(
        _case("train", ["train", *runs, *TINY, "--config", str(bad_key)], ("bogus_key",), "error")
    )
    cases.append(
        _case("train", ["train", "--resume", str(tmp / "no-such-run")], ("no-such-run",), "error")
    )
    cases.append(_case("train", ["train", "--resume", str(binary)], ("binary.toml",), "error"))
    cases.append(_case("train", ["train", *runs, *TINY, "--name", "ok"], (), work_ok=True))
    cases.append(
        _case(
            "train",
            ["train", *runs, *TINY, "--name", "ok"],
            ("ok", "--overwrite", "--resume"),
            work_ok=True,
        )
    )
    return cases


def other_cases(tmp: Path) -> list[Case]:
    empty = tmp / "empty"
    empty.mkdir(exist_ok=True)
    a_file = tmp / "a-file.txt"
    a_file.write_text("x")
    cases = [
        _case("mlp", [], ("command",)),
        _case("mlp", ["bogus"], ("bogus",), "error"),
        _case("mlp", ["--help"], ()),
        _case("mlp", ["-v"], ("command",)),
        _case("data fetch", ["data"], ("data", "command", "fetch")),
        _case("data fetch", ["data", "fetch", "bogus"], ("bogus",), "error"),
        _case(
            "data fetch",
            ["data", "fetch", "--data-dir", str(a_file), "--no-progress"],
            ("a-file.txt",),
            "error",
        ),
        _case(
            "data fetch",
            ["data", "fetch", "--data-dir", str(DEFAULT_DATA_DIR), "--no-progress"],
            (),
        ),
        _case("data fetch", ["data", "fetch", "--bogus"], ("--bogus",), "error"),
        _case("quickstart", ["quickstart", "--epochs", "0"], ("--epochs",), "error"),
        _case("quickstart", ["quickstart", "--epochs", "abc"], ("--epochs",), "error"),
        _case(
            "quickstart", ["quickstart", "--learning-rate", "nan"], ("--learning-rate",), "error"
        ),
        _case("quickstart", ["quickstart", "--learning-rate", "-1"], ("--learning-rate",), "error"),
        _case("quickstart", ["quickstart", "--batch-size", "0"], ("--batch-size",), "error"),
        _case("quickstart", ["quickstart", "--batch-size", str(HUGE)], ("--batch-size",), "any"),
        _case("plot", ["plot"], ("RUN", "runs"), "error"),
        _case("plot", ["plot", str(tmp / "no-such-run")], ("no-such-run",), "error"),
        _case("plot", ["plot", str(empty)], ("empty",), "error"),
        _case("plot", ["plot", str(a_file)], ("a-file.txt",), "error"),
        _case("plot", ["plot", str(empty), "--metric", "bogus"], ("--metric",), "error"),
        _case(
            "plot",
            ["plot", str(empty), "-o", str(tmp / "missing" / "x.png")],
            ("empty", "x.png"),
            "error",
        ),
        _case("compare", ["compare"], ("RUN", "runs"), "error"),
        _case("compare", ["compare", str(tmp / "no-such-run")], ("no-such-run",), "error"),
        _case("compare", ["compare", str(empty)], ("empty",), "error"),
        _case("compare", ["compare", str(a_file)], ("a-file.txt",), "error"),
        _case("compare", ["compare", str(empty), "--format", "bogus"], ("--format",), "error"),
        _case("compare", ["compare", str(empty), "--sort", "bogus"], ("--sort",), "error"),
        _case("lab", ["lab", "--jobs", "0", "--out", str(tmp / "lab")], ("--jobs",), "error"),
        _case("lab", ["lab", "--jobs", "abc", "--out", str(tmp / "lab")], ("--jobs",), "error"),
        _case("lab", ["lab", "--jobs", "-5", "--out", str(tmp / "lab")], ("--jobs",), "error"),
        _case("lab", ["lab", "--quick", "--out", str(a_file)], ("a-file.txt", "--out"), "error"),
        _case("lab", ["lab", "--bogus"], ("--bogus",), "error"),
    ]
    sweeps = {
        "binary": b"\xff\xfe\x00",
        "dotdot": b'name = ".."\n[grid]\nlearning_rate = [0.1]\n',
        "bool-samples": b'mode = "random"\nnum_samples = true\n[random]\nlearning_rate = { log_uniform = [1e-4, 1e-1] }\n',
        "list-runs-dir": b'runs_dir = ["a", "b"]\n[grid]\nlearning_rate = [0.1]\n',
        "bad-key": b"[grid]\nbogus = [1]\n",
        # A sweep file must name the sweep (its folder under the runs directory).
        "good": b'name = "fuzz"\n[base]\nepochs = 1\nhidden = [5]\n[grid]\nlearning_rate = [0.1, 0.2]\n',
    }
    for text, content in sweeps.items():
        path = tmp / f"sweep-{text}.toml"
        path.write_bytes(content)
        names = (path.name, "name", "num_samples", "runs_dir", "bogus")
        expect = "any" if text == "good" else "error"
        cases.append(
            _case(
                "sweep",
                ["sweep", str(path), "--dry-run", "--runs-dir", str(tmp / "sw")],
                names,
                expect,
            )
        )
    good = tmp / "sweep-good.toml"
    cases += [
        _case("sweep", ["sweep"], ("FILE", "file", "sweep"), "error"),
        _case("sweep", ["sweep", str(tmp / "missing.toml")], ("missing.toml",), "error"),
        _case("sweep", ["sweep", str(good), "--jobs", "0"], ("--jobs",), "error"),
        _case("sweep", ["sweep", str(good), "--jobs", "abc"], ("--jobs",), "error"),
        _case(
            "sweep",
            ["sweep", str(good), "--runs-dir", str(a_file), "--dry-run"],
            ("a-file.txt", "--runs-dir"),
            "any",
        ),
    ]
    return cases


GENERATORS = {"train": train_cases, "others": other_cases}


def generate(tmp: Path) -> dict[str, list[Case]]:
    groups = {}
    for group, function in GENERATORS.items():
        (tmp / group).mkdir(parents=True, exist_ok=True)
        groups[group] = function(tmp / group)
    return groups


@pytest.mark.parametrize("group", list(GENERATORS))
def test_cli_fuzz(group: str, tmp_path: Path) -> None:
    assert_no_failures(GENERATORS[group](tmp_path))


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "--hidden", "abc"],
        ["train", "--resume", "no-such-run"],
        ["compare", "no-such-run"],
        ["plot", "no-such-run"],
        ["data", "fetch", "bogus"],
    ],
)
def test_cli_subprocess_prints_no_traceback(argv: list[str], tmp_path: Path) -> None:
    env = {
        **os.environ,
        "MLP_DATA_DIR": str(DEFAULT_DATA_DIR),
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "mlp", *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr, (
        f"mlp {' '.join(argv)} printed a traceback:\n{done.stderr}"
    )
    assert done.returncode in (1, 2), (
        f"mlp {' '.join(argv)} exited {done.returncode}: {done.stderr}"
    )
    assert done.stderr.strip(), f"mlp {' '.join(argv)} exited {done.returncode} without a message"
