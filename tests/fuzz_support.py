"""Shared machinery of the fuzz suite (tests/test_fuzz_*.py).

A `Case` is one call with bad (or borderline) input; `run_case` runs it and classifies
its outcome as

- ``result``: it returned (allowed unless the case says the input must be refused);
- ``clear``: a documented exception (`TypeError`, `ValueError` and the package's
  subclasses `ConfigError`, `RunError`, `DataError`, `SweepError`; `OSError` for files;
  `NotImplementedError` from abstract bases; exit status 1 or 2 from the CLI) whose
  message names what was wrong: one of the case's ``names`` (the parameter, flag or file)
  appears in it, and it is not a raw Python/NumPy message;
- ``failure``: anything else: an internal exception type escaping (`AttributeError`,
  `IndexError`, `KeyError`, `ZeroDivisionError`, NumPy's cast and axis errors,
  `UnicodeDecodeError`, `BadZipFile`, `JSONDecodeError`, `EOFError`, `OverflowError`,
  `MemoryError`, ...), a message that names nothing, a silently accepted input the case
  says must be refused, a result failing the case's check, work (training, a download)
  started by a call that should have refused first, or a traceback printed by the CLI.

Each area module (api, cli, records, data) defines ``AREA`` and ``generate(tmp)``, which
returns ``{group: [Case, ...]}``. `case_counts()` gives the counts per area;
``python tests/fuzz_support.py`` prints them and every failing case.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import logging
import math
import os
import pickle
import re
import signal
import struct
import sys
import tempfile
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

AREA_MODULES = ("test_fuzz_api", "test_fuzz_cli", "test_fuzz_records", "test_fuzz_data")
REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path.home() / ".local" / "share" / "mlp"

# Bad values fed where a number (a hyperparameter, a size) goes. `float` is a class where
# an instance goes; True is a bool where a number goes.
WRONG_TYPES: dict[str, Any] = {
    "None": None,
    "'abc'": "abc",
    "'0.5'": "0.5",
    "[0.5]": [0.5],
    "[[0.5]]": [[0.5]],
    "{'a': 1}": {"a": 1},
    "float": float,
    "True": True,
    "(1+2j)": 1 + 2j,
}
NON_FINITE: dict[str, float] = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
# Large enough that any allocation of this many elements exceeds every address space, so
# a size that is not refused up front fails at once (MemoryError), never slowly.
HUGE = 10**14


class FuzzWorkStarted(RuntimeError):
    """Raised by the guard when a call trains or runs jobs instead of refusing."""


class FuzzFetchAttempted(RuntimeError):
    """Raised by the guard when a call tries to download a data set."""


@dataclass
class Case:
    area: str
    group: str
    label: str
    call: Callable[[], Any]
    names: tuple[str, ...] = ()
    expect: str = "any"  # "error": the input must be refused; "any": a result is fine too
    check: Callable[[Any], str | None] | None = None
    covers: tuple[str, ...] = ()  # the public names ("mlp.layers.AffineLayer") it exercises
    fetch_ok: bool = False  # a re-fetch (caught by the guard) is a documented answer
    work_ok: bool = False  # the call may train (a control case of valid input)
    cli: bool = False  # the call returns (status, stdout, stderr) from the CLI


@dataclass
class Outcome:
    case: Case
    kind: str  # "result" | "clear" | "failure"
    detail: str = ""

    def line(self) -> str:
        return f"{self.case.label} -> {self.detail}"


# --------------------------------------------------------------------------- classifying

INTERNAL: tuple[type[BaseException], ...] = (
    AttributeError,
    LookupError,  # IndexError, KeyError (NumPy's AxisError is an IndexError too)
    ArithmeticError,  # ZeroDivisionError, OverflowError, FloatingPointError
    NameError,  # UnboundLocalError
    UnicodeError,
    json.JSONDecodeError,
    zipfile.BadZipFile,
    EOFError,
    MemoryError,
    RecursionError,
    AssertionError,
    struct.error,
    pickle.UnpicklingError,
    FuzzWorkStarted,
    FuzzFetchAttempted,
)

# Messages Python or NumPy write on their own: they name no argument of ours.
RAW_MESSAGES = re.compile(
    "|".join(
        [
            r"could not convert",
            r"could not broadcast",
            r"operands could not be broadcast",
            r"setting an array element",
            r"not supported between instances",
            r"unsupported operand",
            r"has no len",
            r"must be real number",
            r"cannot reshape",
            r"not aligned",
            r"matmul: ",
            r"input operand",
            r"ufunc",
            r"only integer scalar arrays",
            r"object of type",
            r"is not subscriptable",
            r"is not iterable",
            r"object cannot be interpreted",
            r"can't multiply",
            r"can only concatenate",
            r"invalid literal for int",
            r"truth value of an array",
            r"must be str, not",
            r"expected str, bytes or os\.pathlike",
            r"object is not callable",
            r"argument of type",
            r"unhashable type",
            r"cannot cast",
            r"inhomogeneous",
            r"zero-size array",
            r"takes \d+ positional argument",
            r"got an unexpected keyword",
            r"missing \d+ required",
        ]
    ),
    re.IGNORECASE,
)


def _documented() -> tuple[type[BaseException], ...]:
    from mlp.config import ConfigError
    from mlp.datasets import DataError
    from mlp.runs import RunError
    from mlp.sweep import SweepError

    # RuntimeError: a call out of order ("call initialise first"); torch's own RuntimeErrors
    # name no argument of ours, so the message rule still fails them.
    return (
        TypeError,
        ValueError,
        RuntimeError,
        NotImplementedError,
        OSError,
        ConfigError,
        DataError,
        RunError,
        SweepError,
    )


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def names_in(message: str, names: Sequence[str]) -> bool:
    """Whether `message` names one of `names` (case-insensitive; `_` and `-` may be
    written as a space)."""
    text = message.lower()
    for name in names:
        low = name.lower()
        bare = low.lstrip("-")
        variants = {
            low,
            bare,
            bare.replace("-", "_"),
            bare.replace("_", " "),
            bare.replace("-", " "),
        }
        if any(v and v in text for v in variants):
            return True
    return not names


def classify_exception(case: Case, exc: BaseException) -> Outcome:
    kind = type(exc).__name__
    message = str(exc)
    detail = f"{kind}: {_short(message)}"
    if isinstance(exc, FuzzFetchAttempted) and case.fetch_ok:
        return Outcome(case, "clear", detail)
    mro = {t.__name__ for t in type(exc).__mro__}
    if isinstance(exc, INTERNAL) or any("UFunc" in name for name in mro):
        return Outcome(case, "failure", detail)
    if not isinstance(exc, _documented()):
        return Outcome(case, "failure", detail)
    if isinstance(exc, NotImplementedError):
        return Outcome(case, "clear", detail)
    if RAW_MESSAGES.search(message):
        return Outcome(case, "failure", detail + "  [raw message]")
    if not names_in(message, case.names):
        return Outcome(case, "failure", detail + f"  [names none of {list(case.names)}]")
    return Outcome(case, "clear", detail)


def classify_cli(case: Case, status: Any, out: str, err: str) -> Outcome:
    both = out + err
    if status == "fetch" or "FuzzFetchAttempted" in both:
        kind = "clear" if case.fetch_ok else "failure"
        return Outcome(case, kind, "tried to download a data set")
    detail = f"exit {status}: {_short(err.strip().splitlines()[-1] if err.strip() else out)}"
    if "Traceback" in both:
        last = [line for line in both.splitlines() if line.strip()][-1]
        return Outcome(case, "failure", f"traceback printed: {_short(last)}")
    if status in (0, None):
        if case.expect == "error":
            return Outcome(case, "failure", "accepted (exit 0)")
        return Outcome(case, "result", "exit 0")
    if status not in (1, 2):
        return Outcome(case, "failure", detail + "  [exit status not 1 or 2]")
    if not err.strip():
        return Outcome(case, "failure", detail + "  [no message on stderr]")
    if not names_in(err, case.names):
        return Outcome(case, "failure", detail + f"  [names none of {list(case.names)}]")
    return Outcome(case, "clear", detail)


def finite_result(value: Any) -> str | None:
    """A check: the result holds no NaN or inf."""
    arrays = value if isinstance(value, list | tuple) else [value]
    for array in arrays:
        a = np.asarray(array)
        if a.dtype.kind in "fc" and a.size and not np.all(np.isfinite(a)):
            return "non-finite result from finite input"
    return None


# --------------------------------------------------------------------------- running


@contextlib.contextmanager
def guard(work_ok: bool = False) -> Iterator[None]:
    """Training epochs, job runs and downloads raise instead of running, so a call that
    accepts bad input fails fast; the environment, BLAS threads, warnings, the default
    dtype and open figures are restored afterwards."""

    def no_work(*args: Any, **kwargs: Any) -> Any:
        raise FuzzWorkStarted("started training or jobs instead of refusing its arguments")

    def no_fetch(*args: Any, **kwargs: Any) -> Any:
        raise FuzzFetchAttempted("tried to download a data set")

    from threadpoolctl import threadpool_limits

    import mlp
    import mlp.datasets.fetching
    import mlp.datasets.file_sets
    import mlp.lab.workers
    import mlp.optimisers
    import mlp.parallel

    patches = [
        mock.patch.object(mlp.datasets.fetching, "_from_sources", no_fetch),
        mock.patch.object(mlp.datasets.file_sets, "_download_and_build", no_fetch),
    ]
    if not work_ok:
        patches += [
            mock.patch.object(mlp.optimisers.Optimiser, "do_training_epoch", no_work),
            mock.patch.object(mlp.parallel, "run_jobs", no_work),
            mock.patch.object(mlp.lab.workers, "run_jobs", no_work),
        ]
    trainer = sys.modules.get("mlp.pytorch.trainer")
    if trainer is not None and not work_ok:
        patches.append(mock.patch.object(trainer.TorchTrainer, "do_training_epoch", no_work))
    environ = dict(os.environ)
    dtype = mlp.get_default_dtype() if hasattr(mlp, "get_default_dtype") else None
    with contextlib.ExitStack() as stack:
        for patch in patches:
            stack.enter_context(patch)
        stack.enter_context(threadpool_limits(limits=None))
        stack.enter_context(warnings.catch_warnings())
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(environ)
            if dtype is not None:
                mlp.set_default_dtype(dtype)
            _close_figures()


def _close_figures() -> None:
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None:
        plt.close("all")


def run_case(case: Case) -> Outcome:
    with guard(case.work_ok):
        try:
            value = case.call()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the point of the suite: classify whatever escapes
            if isinstance(exc, SystemExit) and not case.cli:
                return Outcome(case, "failure", f"SystemExit({exc.code}) from the API")
            return classify_exception(case, exc)
    if case.cli:
        return classify_cli(case, *value)
    if case.expect == "error":
        return Outcome(case, "failure", f"accepted: returned {_short(repr(value), 100)}")
    if case.check is not None:
        problem = case.check(value)
        if problem:
            return Outcome(case, "failure", problem)
    return Outcome(case, "result", "")


def run_cli(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[Any, str, str]:
    """`mlp.cli.main(argv)` in this process: (exit status, stdout, stderr), with logging
    sent to the captured stderr and the SIGTERM handler restored."""
    from mlp import cli

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_sigterm = signal.getsignal(signal.SIGTERM)
    root.handlers = [logging.StreamHandler(err)]
    os.environ.update(env or {})
    status: Any
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(argv))
            except SystemExit as exc:
                status = exc.code
            except KeyboardInterrupt:
                raise
            except FuzzFetchAttempted:
                status = "fetch"
            except BaseException:  # printed as the traceback the CLI let through
                import traceback

                traceback.print_exc(file=err)
                status = "exception"
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        signal.signal(signal.SIGTERM, saved_sigterm)
    return status, out.getvalue(), err.getvalue()


def cli_case(
    area: str,
    group: str,
    argv: Sequence[str],
    names: Sequence[str] = (),
    expect: str = "any",
    env: dict[str, str] | None = None,
    fetch_ok: bool = False,
    work_ok: bool = False,
    label: str | None = None,
) -> Case:
    argv = [str(a) for a in argv]
    label = label or "mlp " + " ".join(a if a and " " not in a else repr(a) for a in argv)
    return Case(
        area,
        group,
        label,
        lambda: run_cli(argv, env),
        tuple(names),
        expect,
        cli=True,
        fetch_ok=fetch_ok,
        work_ok=work_ok,
    )


# --------------------------------------------------------------------------- reporting


@dataclass
class Results:
    outcomes: list[Outcome] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter(o.kind for o in self.outcomes)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.kind == "failure"]

    def report(self) -> str:
        lines: list[str] = []
        by_group: dict[str, list[Outcome]] = {}
        for outcome in self.failures():
            by_group.setdefault(f"{outcome.case.area}/{outcome.case.group}", []).append(outcome)
        for group, outcomes in by_group.items():
            total = sum(1 for o in self.outcomes if f"{o.case.area}/{o.case.group}" == group)
            lines.append(f"== {group}: {len(outcomes)} failing of {total} cases ==")
            lines.extend("  " + o.line() for o in outcomes)
        return "\n".join(lines)


def run_cases(cases: Sequence[Case]) -> Results:
    return Results([run_case(case) for case in cases])


def assert_no_failures(cases: Sequence[Case]) -> None:
    import pytest

    assert cases, "no cases generated"
    results = run_cases(cases)
    if results.failures():
        counts = results.counts()
        head = (
            f"{len(results.failures())} failing of {len(cases)} fuzz cases "
            f"(result {counts['result']}, clear error {counts['clear']}):"
        )
        pytest.fail(head + "\n" + results.report(), pytrace=False)


def area_module(name: str) -> Any:
    if str(Path(__file__).parent) not in sys.path:
        sys.path.insert(0, str(Path(__file__).parent))
    return importlib.import_module(name)


def case_counts(run: bool = False, tmp: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Cases per area and group; with ``run=True`` also the outcome classes per area
    (``{"api": {"cases": n, "result": a, "clear": b, "failure": c, "groups": {...}}}``)."""
    counts: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        if tmp is None:
            tmp = stack.enter_context(tempfile.TemporaryDirectory())
        for name in AREA_MODULES:
            module = area_module(name)
            folder = Path(tmp) / module.AREA
            folder.mkdir(parents=True, exist_ok=True)
            groups = module.generate(folder)
            entry: dict[str, Any] = {
                "cases": sum(len(c) for c in groups.values()),
                "groups": {g: len(c) for g, c in groups.items()},
            }
            if run:
                results = run_cases([case for c in groups.values() for case in c])
                entry.update({k: results.counts()[k] for k in ("result", "clear", "failure")})
                entry["report"] = results.report()
            counts[module.AREA] = entry
    return counts


def readme_modules() -> list[str]:
    """The modules of README.md's module table (private ones left out)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text.split("## Modules", 1)[1]
    modules: list[str] = []
    for line in table.splitlines():
        if line.startswith("| `mlp."):
            first = line.split("|")[1]
            modules += [m for m in re.findall(r"`(mlp[.\w]*)`", first) if "._" not in m]
    return modules


if __name__ == "__main__":
    summary = case_counts(run=True)
    for area, entry in summary.items():
        report = entry.pop("report")
        print(area, json.dumps(entry))
        if report:
            print(report)
