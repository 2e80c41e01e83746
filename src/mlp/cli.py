"""The `mlp` command line.

    mlp data fetch [mnist|fashion-mnist|emnist|metoffice|ccpp]  fetch and verify a data set
    mlp quickstart [--epochs N]              train softmax regression on MNIST, print accuracy
    mlp train [--config FILE] [flags]        one experiment, written to runs/NAME/
    mlp train --resume runs/NAME             continue an interrupted run
    mlp plot RUN... [-o FILE]                curves of several runs on shared axes
    mlp plot --layers RUN... [-o FILE]       per-layer statistics, several runs compared
    mlp plot --weights|--confusion|--mistakes|--histograms RUN [-o FILE]
                                             one run's weights, errors or activations
    mlp show RUN [-o DIR]                    every figure that applies to a run
    mlp compare RUN... [--format F]          a table of their final and best figures
    mlp lab [--quick] [--out DIR]            the seed lab's experiments and a report
    mlp exercise list|start|check|pack|grade  write layers yourself and have them checked

Flags are checked before anything runs: a typo or an impossible value (on the command
line or in a TOML file) is a clear message and exit status 2, never a traceback. An
interrupted run exits with status 130 and says how to resume it.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["build_parser", "main"]


def _integer(text: str, minimum: int, expected: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def _positive_int(text: str) -> int:
    return _integer(text, 1, "a positive integer")


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def quickstart(epochs: int = 5, learning_rate: float = 0.1, batch_size: int = 100) -> float:
    """Train softmax regression on MNIST with a progress bar; return validation accuracy."""
    import numpy as np

    from mlp import DEFAULT_SEED
    from mlp.callbacks import LambdaCallback
    from mlp.data_providers import MNISTDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import ConstantInit, UniformInit
    from mlp.layers import AffineLayer
    from mlp.learning_rules import GradientDescentLearningRule
    from mlp.live import progress_bar as tqdm
    from mlp.models import SingleLayerModel
    from mlp.optimisers import Optimiser, accuracy

    rng = np.random.RandomState(DEFAULT_SEED)
    start = time.perf_counter()
    train_data = MNISTDataProvider("train", batch_size=batch_size, rng=rng)
    valid_data = MNISTDataProvider("valid", batch_size=batch_size, rng=rng)
    print(
        f"MNIST ready: {train_data.num_examples} training and {valid_data.num_examples} "
        f"validation images ({time.perf_counter() - start:.1f}s)"
    )
    model = SingleLayerModel(
        AffineLayer(784, 10, UniformInit(-0.01, 0.01, rng=rng), ConstantInit(0.0))
    )
    optimiser = Optimiser(
        model,
        CrossEntropySoftmaxError(),
        GradientDescentLearningRule(learning_rate),
        train_data,
        valid_data,
        {"acc": accuracy},
    )
    # The progress bar shows the statistics; the per-interval log lines would only break it.
    logging.getLogger("mlp.optimisers").setLevel(logging.WARNING)
    with tqdm(total=epochs, desc="softmax regression", unit="epoch") as bar:

        def show(epoch: int, stats: dict[str, float]) -> None:
            if epoch:
                bar.update(1)
            bar.set_postfix(acc_valid=f"{stats['acc(valid)']:.4f}")

        optimiser.callbacks.append(LambdaCallback(on_stats=show))
        stats, keys, run_time = optimiser.train(epochs, stats_interval=1)
    final = stats[-1, keys["acc(valid)"]]
    print(
        f"softmax regression, {epochs} epochs in {run_time:.1f}s: "
        f"validation accuracy {final:.4f}, error {stats[-1, keys['error(valid)']]:.4f}"
    )
    return float(final)


# --- mlp train -------------------------------------------------------------------------

# The experiment flags are generated from the config's declarations (`mlp.config.SETTINGS`):
# --learning-rate for learning_rate, with its type, range, choices, help and default.
# `name` is a flag of the run-record group instead.
_RECORD_KEYS = ("name",)


def _flag_type(setting: Any) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            return setting.parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = setting.name  # argparse names the type in some messages
    return parse


def _flag_options(setting: Any) -> dict[str, Any]:
    """argparse options of one declared key. Every default is SUPPRESS, so the namespace
    holds exactly the flags given, which then override the config file."""
    default = setting.default_text()
    help_text = setting.help + (f" (default {default})" if default is not None else "")
    options: dict[str, Any] = {"dest": setting.name, "default": argparse.SUPPRESS}
    options["help"] = help_text.replace("%", "%%")
    if setting.type is bool:
        options["action"] = argparse.BooleanOptionalAction
        return options
    options["type"] = _flag_type(setting)
    if setting.choices:
        options["choices"] = setting.choices
    elif setting.metavar:
        options["metavar"] = setting.metavar
    return options


def _train_flags() -> dict[str, dict[str, Any]]:
    """--flag -> argparse options, for every config key but the run record's."""
    from mlp.config import SETTINGS

    return {
        "--" + key.replace("_", "-"): _flag_options(setting)
        for key, setting in SETTINGS.items()
        if key not in _RECORD_KEYS
    }


def _names_epilog() -> str:
    """The names each choice flag offers, with a line of help each (from the registry)."""
    from mlp import registry
    from mlp.config import CHOSEN_KINDS

    width = 2 + max(len(name) for kind in CHOSEN_KINDS for name in registry.names(kind))
    lines = ["names (mlp.registry):"]
    for kind in CHOSEN_KINDS:
        lines.append(f"  --{kind}")
        lines.extend(f"    {e.name:<{width}}{e.help}" for e in registry.entries(kind))
    return "\n".join(lines)


def _add_train_parser(commands: Any) -> None:
    description = (
        "Train one model from flags or a TOML file (flags win) and write its run record "
        "to RUNS_DIR/NAME: config.toml, stats.csv, summary.json, params.npz, curves.png."
    )
    train = commands.add_parser(
        "train",
        usage="mlp train [--config FILE] [--name NAME] [--resume RUN] [experiment flags]",
        help="train one model and write a run record",
        description=textwrap.fill(description, 88),
        epilog=_names_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.set_defaults(subparser=train)
    record = train.add_argument_group("run record")
    record.add_argument("--config", metavar="FILE", help="TOML file of config keys")
    record.add_argument("--name", default=argparse.SUPPRESS, help="run name (folder)")
    record.add_argument("--runs-dir", default="runs", metavar="DIR", help="default ./runs")
    record.add_argument("--resume", metavar="RUN", help="continue the interrupted run in RUN")
    record.add_argument("--overwrite", action="store_true", help="replace an existing run")
    record.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar (default: when stderr is a terminal)",
    )
    model = train.add_argument_group("experiment (override the config file)")
    for flag, options in _train_flags().items():
        model.add_argument(flag, **options)


def _train_command(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mlp.config import SETTINGS, ConfigError, ExperimentConfig, config_from_dict, load_config
    from mlp.datasets import DataError
    from mlp.runs import RunError, resume_run, run_experiment

    overrides = {key: getattr(args, key) for key in SETTINGS if hasattr(args, key)}
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    if progress:
        logging.getLogger("mlp.optimisers").setLevel(logging.WARNING)
    try:
        if args.resume:
            if overrides or args.config or args.overwrite:
                given = ", ".join(f"--{k.replace('_', '-')}" for k in overrides)
                given = given or ("--config" if args.config else "--overwrite")
                parser.error(
                    f"--resume continues a run with its own config; drop {given} "
                    "(or start a new run without --resume)"
                )
            record = resume_run(args.resume, progress=progress)
        else:
            if args.config:
                config = load_config(args.config, overrides)
            else:
                config = config_from_dict(overrides, ExperimentConfig())
            record = run_experiment(
                config,
                args.runs_dir,
                if_exists="overwrite" if args.overwrite else "error",
                progress=progress,
            )
    except ConfigError as error:
        parser.error(str(error))
    except RunError as error:
        print(f"mlp train: error: {error}", file=sys.stderr)
        return 2
    except DataError as error:
        print(f"mlp train: error: {error}", file=sys.stderr)
        return 1
    if not record.finished:
        done = int(record.epochs[-1]) if len(record.epochs) else 0
        print(
            f"interrupted: {record.path} holds the statistics up to epoch {done}; "
            f"continue with: mlp train --resume {record.path}",
            file=sys.stderr,
        )
        return 130
    print(_one_line_summary(record))
    return 0


def _one_line_summary(record: Any) -> str:
    summary = record.summary
    final, best = summary["final"], summary["best"]
    parts = [f"{record.name}: {summary['epochs']} epochs"]
    if "acc(valid)" in final:
        best_acc = best["acc(valid)"]
        parts.append(
            f"acc(valid) {final['acc(valid)']:.4f} final, "
            f"{best_acc['value']:.4f} best (epoch {best_acc['epoch']})"
        )
    elif "error(valid)" in final:  # a regression: the error is the figure
        best_error = best["error(valid)"]
        parts.append(
            f"error(valid) {final['error(valid)']:.4g} final, "
            f"{best_error['value']:.4g} best (epoch {best_error['epoch']})"
        )
    if summary.get("test"):
        parts.append(f"acc(test) {summary['test']['acc']:.4f}")
    parts.append(f"{summary['seconds_per_epoch']:.3f} s/epoch")
    return "; ".join(parts) + f"\nrun record: {record.path}"


# --- mlp plot and mlp compare ----------------------------------------------------------


def _load_records(paths: Sequence[str]) -> list[Any]:
    from mlp.runs.record import load_runs

    return load_runs(paths)


def _figure_formats() -> set[str]:
    from matplotlib.backend_bases import FigureCanvasBase

    return set(FigureCanvasBase.get_supported_filetypes())


def _check_output(command: str, output: str) -> str | None:
    """What is wrong with the image path `output`, or None: a missing folder, a suffix
    matplotlib cannot write."""
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        return f"mlp {command}: error: folder {folder} does not exist (for -o {output})"
    suffix = os.path.splitext(output)[1].lower()
    if suffix and suffix[1:] not in _figure_formats():
        return f"mlp {command}: error: cannot write {suffix} files; use .png, .pdf or .svg"
    return None


# The one-run figures of `mlp plot`: flag -> the mlp.runs.figures function's name.
_RUN_FIGURES = {
    "weights": "weights_figure",
    "confusion": "confusion_figure",
    "mistakes": "mistakes_figure",
    "histograms": "histograms_figure",
}


def _diagnostic_figure(args: argparse.Namespace, records: list[Any]) -> Any | None:
    """The figure a diagnostic flag of `mlp plot` asks for, or None for the curves."""
    from mlp.runs import figures

    if args.layers:
        return figures.layers_figure(records, title=args.title)
    chosen = [flag for flag in _RUN_FIGURES if getattr(args, flag)]
    if not chosen:
        return None
    if len(records) != 1:
        raise _UsageError(f"--{chosen[0]} draws one run; got {len(records)} runs")
    draw = getattr(figures, _RUN_FIGURES[chosen[0]])
    if chosen[0] in ("confusion", "mistakes"):
        fig = draw(records[0], args.split)
    else:
        fig = draw(records[0])
    if args.title:
        fig.suptitle(args.title)
    return fig


class _UsageError(Exception):
    """A command line that asks for something its runs cannot give (exit status 2)."""


def _plot_command(args: argparse.Namespace) -> int:
    from mlp.plotting import plot_runs, save_figure

    problem = _check_output("plot", args.output)
    if problem:
        print(problem, file=sys.stderr)
        return 2
    records = _load_records(args.runs)
    try:
        fig = _diagnostic_figure(args, records)
    except _UsageError as error:
        print(f"mlp plot: error: {error}", file=sys.stderr)
        return 2
    if fig is None:
        metrics = ("error", "acc") if args.metric == "both" else (args.metric,)
        fig = plot_runs(records, metrics, show_train=not args.no_train, title=args.title)
    save_figure(fig, args.output)
    print(f"{args.output}: {len(records)} run(s)")
    return 0


def _show_command(args: argparse.Namespace) -> int:
    from mlp.runs import RunRecord
    from mlp.runs.figures import write_run_figures

    record = RunRecord.load(args.run)
    out = args.output or os.path.join(args.run, "figures")
    written, skipped = write_run_figures(record, out, args.split)
    for path in written:
        print(path)
    for name, why in skipped.items():
        print(f"skipped {name}: {why}", file=sys.stderr)
    return 0


def _compare_command(args: argparse.Namespace) -> int:
    from mlp.lab import comparison_table

    records = _load_records(args.runs)
    print(comparison_table(records, fmt=args.format, sort=args.sort), end="")
    return 0


# --- the parser ------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `mlp` command."""
    parser = argparse.ArgumentParser(prog="mlp", description="Multiple-layer models in NumPy.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_data_parser(commands)
    _add_quickstart_parser(commands)
    _add_train_parser(commands)
    _add_plot_parser(commands)
    _add_show_parser(commands)
    _add_compare_parser(commands)
    _add_lab_parser(commands)
    from mlp import sweep
    from mlp.exercises import command as exercise_command

    sweep.add_parser(commands)
    exercise_command.add_parser(commands)
    return parser


def _add_data_parser(commands: Any) -> None:
    data = commands.add_parser("data", help="fetch and verify data sets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = data_commands.add_parser("fetch", help="fetch a data set into the data directory")
    from mlp.config import DATASETS
    from mlp.datasets import FILE_SETS

    # Configs train on DATASETS; the course's other data sets can be fetched too.
    choices = [*DATASETS, *FILE_SETS]
    fetch.add_argument("dataset", nargs="?", default="mnist", choices=choices)
    fetch.add_argument("--data-dir", help="where to put the files (default: $MLP_DATA_DIR)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if present")
    fetch.add_argument("--no-progress", action="store_true", help="no download progress bar")


def _add_quickstart_parser(commands: Any) -> None:
    quick = commands.add_parser("quickstart", help="train softmax regression on MNIST")
    quick.add_argument(
        "--epochs", type=_positive_int, default=5, help="training epochs (default 5)"
    )
    quick.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=0.1,
        help="gradient descent step size (default 0.1)",
    )
    quick.add_argument(
        "--batch-size",
        type=_positive_int,
        default=100,
        help="examples per batch, at most 50,000 (default 100)",
    )


def _add_plot_parser(commands: Any) -> None:
    plot = commands.add_parser(
        "plot",
        help="curves of several runs on shared axes, or one of a run's diagnostic figures, "
        "as an image (PNG, PDF or SVG)",
    )
    plot.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders of runs")
    plot.add_argument(
        "-o",
        "--output",
        default="plot.png",
        metavar="FILE",
        help="image to write; its suffix picks the format: .png, .pdf, .svg (default plot.png)",
    )
    plot.add_argument("--metric", choices=["error", "acc", "both"], default="both")
    plot.add_argument("--no-train", action="store_true", help="validation curves only")
    plot.add_argument("--title", help="figure title")
    which = plot.add_argument_group(
        "diagnostic figures (one of them; default: the learning curves)"
    ).add_mutually_exclusive_group()
    which.add_argument(
        "--layers",
        action="store_true",
        help="per-layer gradient norms and saturated / dead fractions over the epochs "
        "(runs trained with --layer-stats; several runs are compared)",
    )
    which.add_argument(
        "--weights", action="store_true", help="the first layer's weights as images (one run)"
    )
    which.add_argument(
        "--confusion", action="store_true", help="a classifier's confusion matrix (one run)"
    )
    which.add_argument(
        "--mistakes", action="store_true", help="its most confident mistakes (one run)"
    )
    which.add_argument(
        "--histograms",
        action="store_true",
        help="each layer's outputs at the start and end of training (one run, --layer-stats)",
    )
    _add_split_argument(plot)


def _add_split_argument(parser: Any) -> None:
    parser.add_argument(
        "--split",
        choices=["valid", "test"],
        default="valid",
        help="the data the confusion matrix and mistakes are counted on (default valid)",
    )


def _add_show_parser(commands: Any) -> None:
    show = commands.add_parser(
        "show",
        help="write every figure that applies to a run into a folder",
        description="Write each figure that applies to the run: curves, layers and "
        "histograms (with --layer-stats), weights (image data), confusion and mistakes "
        "(finished classifiers), as NAME.png in DIR, and print their paths.",
    )
    show.add_argument("run", metavar="RUN", help="a run folder")
    show.add_argument(
        "-o", "--output", metavar="DIR", default=None, help="folder to write (default RUN/figures)"
    )
    _add_split_argument(show)


def _add_compare_parser(commands: Any) -> None:
    compare = commands.add_parser("compare", help="a table of runs' final and best figures")
    compare.add_argument("runs", nargs="+", metavar="RUN", help="run folders, or folders of runs")
    compare.add_argument("--format", choices=["text", "markdown", "csv"], default="text")
    compare.add_argument(
        "--sort",
        choices=["name", "acc", "error"],
        default="name",
        help="order of the rows (acc: best final validation accuracy first)",
    )


def _add_lab_parser(commands: Any) -> None:
    lab = commands.add_parser(
        "lab",
        help="run the seed lab's experiments and write a report",
        description="Run the seed lab's experiments end to end (exercises 1-3, an "
        "initialisation study, the PyTorch experiment and its NumPy twin, a best-effort "
        "MLP) and write OUT/report.md with tables and figures. Finished experiments are "
        "kept, so an interrupted lab continues where it stopped.",
    )
    lab.add_argument(
        "--quick",
        action="store_true",
        help="the same pipeline on a small subset, in under a minute",
    )
    lab.add_argument(
        "--out",
        default=None,
        metavar="DIR",
        help="output folder (default runs/lab, or runs/lab-quick with --quick)",
    )
    lab.add_argument(
        "--jobs",
        type=_positive_int,
        default=2,
        help="worker processes, each with cores // jobs BLAS threads (default 2)",
    )
    lab.add_argument(
        "--fresh",
        action="store_true",
        help="run every experiment again instead of keeping finished ones",
    )


def _data_command(args: argparse.Namespace) -> int:
    from mlp import datasets

    fetch_args = ["fetch", args.dataset]
    if args.data_dir:
        fetch_args += ["--data-dir", args.data_dir]
    if args.force:
        fetch_args.append("--force")
    if args.no_progress:
        fetch_args.append("--no-progress")
    return datasets.main(fetch_args, prog="mlp data")


def _quickstart_command(args: argparse.Namespace) -> int:
    from mlp.datasets import DataError

    try:
        quickstart(args.epochs, args.learning_rate, args.batch_size)
    except (ValueError, DataError) as error:
        print(f"mlp quickstart: error: {error}", file=sys.stderr)
        return 2
    return 0


def _interrupt_on_sigterm() -> None:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `mlp` command; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
    )
    try:
        if args.command == "data":
            return _data_command(args)
        if args.command == "quickstart":
            return _quickstart_command(args)
        if args.command == "train":
            _interrupt_on_sigterm()
            return _train_command(args, args.subparser)
        if args.command == "sweep":
            _interrupt_on_sigterm()
            from mlp import sweep

            return sweep.command(args)
        if args.command == "exercise":
            from mlp.exercises import command as exercise_command

            return exercise_command.command(args)
        if args.command in ("plot", "show", "compare", "lab"):
            from mlp.runs import RunError

            try:
                if args.command == "plot":
                    return _plot_command(args)
                if args.command == "show":
                    return _show_command(args)
                if args.command == "compare":
                    return _compare_command(args)
                _interrupt_on_sigterm()
                from mlp.lab import run_lab

                out = args.out or ("runs/lab-quick" if args.quick else "runs/lab")
                return run_lab(out, quick=args.quick, jobs=args.jobs, fresh=args.fresh)
            except RunError as error:
                print(f"mlp {args.command}: error: {error}", file=sys.stderr)
                return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as error:  # e.g. a runs directory that is a file, or not writable
        print(f"mlp {args.command}: error: {error}", file=sys.stderr)
        return 2
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
