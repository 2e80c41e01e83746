"""The data command line: ``python -m mlp.datasets fetch NAME [--data-dir DIR] [--force]``."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import time
from collections.abc import Sequence

from mlp.datasets.course_sets import FILE_SETS
from mlp.datasets.exceptions import DataError
from mlp.datasets.fetching import fetch_spec
from mlp.datasets.file_sets import fetch_file_set
from mlp.datasets.paths import resolve_dir
from mlp.datasets.registry import DATASETS, dataset_spec
from mlp.datasets.specs import SPLITS

__all__ = ["main"]


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the data command line; return its exit status (2 for bad arguments).

    ``fetch NAME [--data-dir DIR] [--force] [--no-progress]`` makes sure the three files
    of a data set are in the data directory and prints where they are.
    """
    parser = argparse.ArgumentParser(
        prog=prog or "python -m mlp.datasets",
        description="Fetch and verify the data sets mlp trains on.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    fetch_parser = commands.add_parser(
        "fetch",
        help="download and verify a data set into the data directory",
        description="Make sure the files of a data set are in the data directory "
        "({name}-{train,valid,test}.npz; the course's own files for emnist, metoffice, ccpp).",
    )
    fetch_parser.add_argument("name", choices=[*DATASETS, *FILE_SETS], help="the data set")
    fetch_parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the files go (default: $MLP_DATA_DIR or ~/.local/share/mlp)",
    )
    fetch_parser.add_argument("--force", action="store_true", help="fetch even if present")
    fetch_parser.add_argument(
        "--no-progress", action="store_true", help="do not show download progress"
    )
    if argv is not None and not all(isinstance(arg, str) for arg in argv):
        raise TypeError(f"argv must be a list of command-line argument strings, got {argv!r}")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # argparse has printed the usage and the problem
        return exit_.code if isinstance(exit_.code, int) else 2

    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(message)s")

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so that SIGTERM too removes the temporary files

    previous = signal.signal(signal.SIGTERM, interrupt)
    start = time.perf_counter()
    try:
        directory = resolve_dir(args.data_dir)
        if args.name in FILE_SETS:
            name = args.name
            paths, written = fetch_file_set(
                FILE_SETS[name], directory, force=args.force, progress=not args.no_progress
            )
        else:
            spec = dataset_spec(args.name)
            name = spec.name
            split_paths, written = fetch_spec(
                spec, directory, force=args.force, progress=not args.no_progress
            )
            paths = {split: split_paths[split] for split in SPLITS}
    except DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; no partial file was left behind", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    seconds = time.perf_counter() - start
    for key, path in paths.items():
        print(f"{key:>5}: {path}")
    verb = "fetched" if written else "already present and verified"
    print(f"{name}: {verb} in {directory} ({seconds:.1f} s)")
    return 0
