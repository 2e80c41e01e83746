"""The `mlp` command line.

    mlp data fetch [mnist|fashion-mnist]   fetch and verify a data set
    mlp quickstart [--epochs N]            train softmax regression on MNIST, print accuracy

Bad flags are a clear message and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def quickstart(epochs: int = 5, learning_rate: float = 0.1, batch_size: int = 100) -> float:
    """Train softmax regression on MNIST with a progress bar; return validation accuracy."""
    import numpy as np
    from tqdm.auto import tqdm

    from mlp import DEFAULT_SEED
    from mlp.data_providers import MNISTDataProvider
    from mlp.errors import CrossEntropySoftmaxError
    from mlp.initialisers import ConstantInit, UniformInit
    from mlp.layers import AffineLayer
    from mlp.learning_rules import GradientDescentLearningRule
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

        optimiser.on_stats = show
        stats, keys, run_time = optimiser.train(epochs, stats_interval=1)
    final = stats[-1, keys["acc(valid)"]]
    print(
        f"softmax regression, {epochs} epochs in {run_time:.1f}s: "
        f"validation accuracy {final:.4f}, error {stats[-1, keys['error(valid)']]:.4f}"
    )
    return float(final)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `mlp` command."""
    parser = argparse.ArgumentParser(prog="mlp", description="Multiple-layer models in NumPy.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more detail")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    data = commands.add_parser("data", help="fetch and verify data sets")
    data_commands = data.add_subparsers(dest="data_command", required=True, metavar="ACTION")
    fetch = data_commands.add_parser("fetch", help="fetch a data set into the data directory")
    fetch.add_argument("dataset", nargs="?", default="mnist", choices=["mnist", "fashion-mnist"])
    fetch.add_argument("--data-dir", help="where to put the files (default: $MLP_DATA_DIR)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if present")

    quick = commands.add_parser("quickstart", help="train softmax regression on MNIST")
    quick.add_argument("--epochs", type=_positive_int, default=5)
    quick.add_argument("--learning-rate", type=_positive_float, default=0.1)
    quick.add_argument("--batch-size", type=_positive_int, default=100)
    return parser


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
            from mlp import datasets

            fetch_args = ["fetch", args.dataset]
            if args.data_dir:
                fetch_args += ["--data-dir", args.data_dir]
            if args.force:
                fetch_args.append("--force")
            return datasets.main(fetch_args)
        if args.command == "quickstart":
            quickstart(args.epochs, args.learning_rate, args.batch_size)
            return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command!r}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
