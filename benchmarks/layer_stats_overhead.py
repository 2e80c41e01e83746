"""What `mlp.diagnostics.LayerStats` costs per epoch: W2 (784-100-100-10 sigmoid, SGD
0.1, batch 100, MNIST's 50,000 training examples) trained with and without it.

    python -m benchmarks.layer_stats_overhead [--rounds 5]

Each round trains one epoch of each, in alternating order (so that a machine getting
busier or quieter weighs on both alike), as `mlp train` does at its default
`--stats-interval 1`: the training pass, then the statistics row over the training set,
and, with LayerStats at its default interval (every statistics row) and batch (1,000
examples), one measurement. Printed: the ratio of the whole epochs (with / without) and
of the training passes alone (the per-batch hook), each the ratio of the medians with
the spread of the round-by-round ratios, [min-max]; and one measurement timed on its
own, as a share of the epoch (steadier than the ratios on a busy machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.workloads import WORKLOADS, build_mlp


def _epoch(optimiser, epoch: int) -> tuple[float, float]:
    """Seconds of epoch `epoch` with its statistics row, and of its training pass."""
    start = time.perf_counter()
    optimiser.train(epoch, 1, start_epoch=epoch - 1)
    return time.perf_counter() - start, optimiser.epoch_times[-1]


def measure(inputs: np.ndarray, labels: np.ndarray, rounds: int) -> dict[str, list[float]]:
    """Interleaved epochs of W2 without and with LayerStats.

    Args:
        inputs: (num_examples, 784) training images; labels: (num_examples,) classes.
        rounds: measured epochs of each (after one warm-up epoch of each).
    Returns:
        {'plain', 'watched'}: seconds of each whole epoch; {'plain_pass',
        'watched_pass'}: of each training pass; 'measurement': of one measurement
        alone; one entry per round.
    """
    from mlp.diagnostics import LayerStats

    plain = build_mlp(WORKLOADS["W2"], inputs, labels)
    watched = build_mlp(WORKLOADS["W2"], inputs, labels)
    watched.callbacks.append(LayerStats())
    times: dict[str, list[float]] = {"plain": [], "watched": [], "plain_pass": []}
    times["watched_pass"], times["measurement"] = [], []
    probe = LayerStats()  # one measurement timed on its own, beside the epochs
    probe.on_train_begin(watched)
    for epoch in range(1, rounds + 2):
        order = [("plain", plain), ("watched", watched)]
        for name, optimiser in order if epoch % 2 else order[::-1]:
            whole, training = _epoch(optimiser, epoch)
            if epoch > 1:  # the first is a warm-up
                times[name].append(whole)
                times[f"{name}_pass"].append(training)
        start = time.perf_counter()
        probe.measure(watched, epoch)
        if epoch > 1:
            times["measurement"].append(time.perf_counter() - start)
    return times


def ratio(numerators: list[float], denominators: list[float]) -> str:
    """'median ratio [min-max]' of the rounds' ratios."""
    per_round = [a / b for a, b in zip(numerators, denominators, strict=True)]
    middle = statistics.median(numerators) / statistics.median(denominators)
    return f"{middle:.3f} [{min(per_round):.3f}-{max(per_round):.3f}]"


def report(times: dict[str, list[float]]) -> str:
    """The two ratios and the median seconds, as printed."""
    return (
        f"W2 epoch + statistics row, with / without LayerStats: "
        f"{ratio(times['watched'], times['plain'])} "
        f"(median {statistics.median(times['watched']):.3f} s vs "
        f"{statistics.median(times['plain']):.3f} s)\n"
        f"W2 training pass alone (the per-batch hook): "
        f"{ratio(times['watched_pass'], times['plain_pass'])}\n"
        f"one measurement alone: {statistics.median(times['measurement']) * 1e3:.1f} ms, "
        f"{statistics.median(times['measurement']) / statistics.median(times['plain']):.2%} "
        "of the median epoch without LayerStats"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="measured epochs of each")
    parser.add_argument(
        "--examples", type=int, default=None, help="train on the first N examples (quick runs)"
    )
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be >= 1")
    from mlp import datasets

    inputs, labels = datasets.load("mnist", "train")
    if args.examples is not None:
        inputs, labels = inputs[: args.examples], labels[: args.examples]
    print(report(measure(inputs, labels, args.rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
