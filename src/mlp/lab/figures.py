"""The report's figures: PNG files beside report.md, and the markdown that shows them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlp.lab.tasks import DEPTHS
from mlp.runs import RunRecord


def _figure(out: Path, name: str, fig: Any) -> str:
    from mlp.plotting import save_figure

    save_figure(fig, out / name)
    return name


def learning_curves(
    out: Path, chosen: Sequence[RunRecord], labels: Mapping[str, str], title: str, filename: str
) -> str:
    """The learning curves of `chosen` runs in OUT/`filename`, as a markdown image."""
    from mlp.plotting import plot_runs

    if not chosen:
        return ""
    fig = plot_runs(chosen, title=title, labels=[labels[r.name] for r in chosen])
    return f"![{title}]({_figure(out, filename, fig)})\n"


def depth_figures(
    out: Path,
    series_acc: Mapping[str, Sequence[float]],
    series_err: Mapping[str, Sequence[float]],
) -> list[str]:
    """Final validation accuracy and training error against depth, as markdown images."""
    from mlp.plotting import plot_metric_against

    fig = plot_metric_against(
        list(DEPTHS),
        series_acc,
        xlabel="Affine layers",
        ylabel="Final accuracy (valid)",
        title="Final validation accuracy against depth",
    )
    lines = [f"![accuracy against depth]({_figure(out, 'depth_accuracy.png', fig)})\n"]
    fig = plot_metric_against(
        list(DEPTHS),
        series_err,
        xlabel="Affine layers",
        ylabel="Final error (train)",
        title="Final training error against depth",
    )
    lines.append(f"![training error against depth]({_figure(out, 'depth_train_error.png', fig)})\n")
    return lines


def kernel_grid(out: Path, kernels: Any, title: str, filename: str) -> str:
    """The first layer's kernels (num_kernels, 1, height, width) as a grid of images in
    OUT/`filename`, on one colour scale symmetric about 0 (blue negative, red positive,
    white 0), so that their signs and sizes compare across kernels; a markdown image."""
    import numpy as np

    from mlp.diagnostic_plots import plot_weight_images

    kernels = np.asarray(kernels, dtype=float)
    count = int(np.prod(kernels.shape[:-2]))  # one image per (output, input) pair
    fig = plot_weight_images(
        kernels, max_images=count, columns=min(8, count), label="kernel weight", title=title
    )
    return f"![{title}]({_figure(out, filename, fig)})\n"
