"""A row of validation images and, below it, the autoencoder's reconstructions.

    python examples/plot_autoencoder.py RUN [-o FILE] [--count N]

RUN is the folder `mlp train --config examples/mnist_autoencoder.toml` wrote
(runs/mnist-autoencoder); the figure defaults to RUN/reconstructions.png.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _trained import predict, trained_experiment

from mlp.plotting import save_figure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="folder of a finished mnist-autoencoder run")
    parser.add_argument("-o", "--output", help="figure file (default RUN/reconstructions.png)")
    parser.add_argument("--count", type=int, default=10, help="images to show (default 10)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error(f"--count must be a positive integer, got {args.count}")
    experiment = trained_experiment(args.run)
    if experiment.config.dataset != "mnist-autoencoder":
        parser.error(f"{args.run} was trained on {experiment.config.dataset!r}, not images")
    inputs = experiment.valid_data.inputs[: args.count]  # the first validation images
    outputs = np.clip(predict(experiment, inputs), 0.0, 1.0)
    fig = Figure(figsize=(1.1 * len(inputs), 2.6), layout="constrained")
    axes = fig.subplots(2, len(inputs), squeeze=False)
    for column, (image, reconstruction) in enumerate(zip(inputs, outputs, strict=True)):
        for row, pixels in enumerate((image, reconstruction)):
            ax = axes[row, column]
            ax.imshow(pixels.reshape(28, 28), cmap="gray_r", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("input")
    axes[1, 0].set_ylabel("output")
    fig.suptitle(experiment.config.architecture())
    output = Path(args.output) if args.output else Path(args.run) / "reconstructions.png"
    save_figure(fig, output)
    print(f"{len(inputs)} images and their reconstructions: {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
