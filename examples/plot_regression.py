"""Predictions against targets on the validation set of a trained regression run.

    python examples/plot_regression.py RUN [-o FILE]

RUN is the folder `mlp train --config examples/ccpp_rbf.toml` wrote (runs/ccpp-rbf);
the figure (default RUN/predictions.png) shows one point per validation example, its
prediction against its target, with the line where they agree.
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
    parser.add_argument("run", help="folder of a finished regression run")
    parser.add_argument("-o", "--output", help="figure file (default RUN/predictions.png)")
    args = parser.parse_args(argv)
    experiment = trained_experiment(args.run)
    valid = experiment.valid_data
    targets = valid.targets.ravel()
    predictions = np.asarray(predict(experiment, valid.inputs)).ravel()
    rmse = float(np.sqrt(np.mean((predictions - targets) ** 2)))
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(targets, predictions, s=4, alpha=0.5)
    low, high = float(targets.min()), float(targets.max())
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="prediction = target")
    ax.set_xlabel("target (validation set)")
    ax.set_ylabel("prediction")
    ax.set_title(f"{experiment.config.architecture()}: RMSE {rmse:.3f}")
    ax.legend(loc="upper left")
    output = Path(args.output) if args.output else Path(args.run) / "predictions.png"
    save_figure(fig, output)
    print(f"validation RMSE {rmse:.4f} on {len(targets)} examples; figure: {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
