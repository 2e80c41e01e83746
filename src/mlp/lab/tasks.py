"""The lab's experiments: `LabTask` and `lab_tasks`, with the full and `--quick` settings."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlp.config import ExperimentConfig

LAB_SEED = 6102016
"""The seed notebook's seed; every experiment of the lab uses it."""

DEPTHS = (2, 3, 4, 5)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_SCALES = (0.01, 0.1, 0.5, 1.0)

# Epochs of the full lab, chosen so that it finishes in under 12 minutes on 2 cores
# (about 9 before the CNN; its four runs add about 2 with two workers).
FULL_EPOCHS = {
    "ex1": 100,
    "ex2": 100,
    "ex3": 100,
    "init": 40,
    "pytorch": 50,
    "best": 30,
    "cnn": 3,
}
QUICK_EPOCHS = dict.fromkeys(FULL_EPOCHS, 2)
CNN_ARCH = "conv:16x5,pool:2,conv:32x5,pool:2,fc:128"
"""The lab's small CNN (`mlp.arch`): about 1.1 million multiply-adds per image."""
CNN_SEEDS = (LAB_SEED, LAB_SEED + 1, LAB_SEED + 2)
"""The NumPy CNN's seeds; its PyTorch twin runs with the first."""
CNN_LEARNING_RATE = 1.5e-3
"""Adam's initial rate, decayed to 0 by a cosine schedule over the CNN's epochs: few
epochs fit the lab's time budget (about 17 s each on one core), so each counts."""
CNN_BATCH_SIZE = 50
"""Twice the updates of batches of 100 for about 1.2x the time per epoch: over 2 epochs,
test accuracy 0.9901 against 0.9886 (seed 6102016, Adam 1.5e-3 against 2e-3). The lab
runs 3 epochs since the convolution got 1.5x faster, in about the time 2 took before."""
QUICK_TRAIN_EXAMPLES = 1000
"""The `--quick` lab trains every model on 1,000 training images for 2 epochs: the first
1,000 (`max_train_examples`) for the configs, a random 1,000 of the seed experiment's
training split (`train_subset_size`) for the PyTorch experiment and its twin."""


@dataclass
class LabTask:
    """One experiment of the lab.

    Attributes:
        name: the run record's folder name.
        group: 'ex1', 'ex2', 'ex3', 'init', 'pytorch', 'best' or 'cnn'.
        label: a short description for tables and legends.
        config: the experiment, for runs of `mlp.runs.run_experiment`.
        kind: 'config', or 'pytorch' / 'twin' for the seed's PyTorch experiment and its
            NumPy twin (which have their own data pipeline).
        epochs: for the 'pytorch' and 'twin' kinds (a config has its own).
        train_subset_size: for the 'pytorch' and 'twin' kinds: train on a random subset
            of this many examples (see `mlp.seed_experiment`); a config's
            `max_train_examples` keeps the first N instead.
        cost: an estimate of its run time, used to start the longest first.
    """

    name: str
    group: str
    label: str
    config: ExperimentConfig | None = None
    kind: str = "config"
    epochs: int = 0
    train_subset_size: int | None = None
    cost: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


def _estimated_cost(config: ExperimentConfig) -> float:
    if config.arch is not None:
        return _estimated_conv_cost(config)
    widths = (784, *config.hidden, 10)
    flops = sum(a * b for a, b in itertools.pairwise(widths))
    examples = config.max_train_examples or 50_000
    factor = 1.6 if config.rule == "adam" or config.dropout else 1.0
    return config.epochs * examples * (flops + 20_000) * factor * 6e-10 + 1.0


def _conv_multiply_adds(spec: str) -> int:
    """Multiply-adds of one image's forward pass through an arch spec's layers."""
    from mlp import arch

    layers = arch.parse_arch(spec)
    shapes = [arch.IMAGE_SHAPE, *arch.arch_shapes(layers)]
    total = 0
    for layer, before, after in zip(layers, shapes[:-1], shapes[1:], strict=True):
        if layer.kind == "conv":
            total += int(np.prod(after)) * before[0] * layer.kernel**2
        elif layer.kind == "fc":
            total += int(np.prod(before)) * layer.size
    return total + int(np.prod(shapes[-1])) * 10  # and the affine layer to the classes


MLP_COST_PER_SECOND = 7.0
"""`_estimated_cost`'s MLP formula gives about 7 units per measured second (the full lab
of 2026-12-02 on 2 cores: best-mlp 1,866 for 220 s, the depth tasks 300-390 for 37-61 s);
CNN costs are put on the same scale, so that the longest tasks still start first."""


def _estimated_conv_cost(config: ExperimentConfig) -> float:
    """A CNN run's cost: training passes at about 4.7e-10 s per multiply-add and image
    on one core (measured: 23-27 s per epoch of the lab's CNN on 50,000 images in
    batches of 100-50), statistics
    rows (epoch 0 and every interval) a third of that per image over the training and
    validation sets; PyTorch a third of it all; in `MLP_COST_PER_SECOND` units."""
    macs = _conv_multiply_adds(config.arch or "")
    examples = config.max_train_examples or 50_000
    rows = 1 + config.epochs // config.stats_interval
    seconds = (config.epochs * examples + rows * (examples + 10_000) / 3) * macs * 4.7e-10
    seconds = seconds * (0.33 if config.backend == "torch" else 1.0) + 2.0
    return seconds * MLP_COST_PER_SECOND


def lab_tasks(quick: bool = False) -> list[LabTask]:
    """Every experiment of the lab, with the seed's settings (`quick`: small and short)."""
    plan = _Plan(quick)
    return [
        *_exercise1_tasks(plan),
        *_depth_tasks(plan),
        *_init_tasks(plan),
        *_pytorch_tasks(plan),
        _best_task(plan),
        *_cnn_tasks(plan),
    ]


class _Plan:
    """The settings shared by every task of one lab: full or quick."""

    def __init__(self, quick: bool) -> None:
        self.quick = quick
        self.epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
        self.subset = QUICK_TRAIN_EXAMPLES if quick else None
        self.interval = 1 if quick else 5

    def config(self, **values: Any) -> ExperimentConfig:
        """A validated config: the lab's seed, gradient descent 0.1, batches of 100."""
        values.setdefault("seed", LAB_SEED)
        values.setdefault("batch_size", 100)
        values.setdefault("rule", "sgd")
        values.setdefault("learning_rate", 0.1)
        values.setdefault("stats_interval", self.interval)
        values.setdefault("max_train_examples", self.subset)
        return ExperimentConfig(**values).resolved().validate()

    def task(
        self, name: str, group: str, label: str, config: ExperimentConfig, **notes: Any
    ) -> LabTask:
        """A 'config' task: `config` renamed after the task, with its estimated cost."""
        config = dataclasses.replace(config, name=name)
        return LabTask(name, group, label, config, cost=_estimated_cost(config), notes=notes)


def _exercise1_tasks(plan: _Plan) -> list[LabTask]:
    """Two formulations from the same initial weights, and the seed's second cell."""
    softmax = {"hidden": (), "epochs": plan.epochs["ex1"], "test": True}
    small = {"init_scale": 0.01, "bias_init_scale": 0.01}
    return [
        plan.task(
            "ex1-softmax-layer",
            "ex1",
            "Affine + SoftmaxLayer, CrossEntropyError, init 0.01",
            plan.config(**softmax, **small, error="cross_entropy"),
        ),
        plan.task(
            "ex1-ce-softmax",
            "ex1",
            "Affine, CrossEntropySoftmaxError, init 0.01",
            plan.config(**softmax, **small),
        ),
        plan.task(
            "ex1-ce-softmax-init0.1",
            "ex1",
            "Affine, CrossEntropySoftmaxError, init 0.1",
            plan.config(**softmax, init_scale=0.1, bias_init_scale=0.1),
        ),
    ]


def _depth_tasks(plan: _Plan) -> list[LabTask]:
    """Exercises 2 and 3: 2..5 affine layers of width 100, three non-linearities."""
    tasks = []
    for activation in ACTIVATIONS:
        group = "ex2" if activation == "sigmoid" else "ex3"
        for depth in DEPTHS:
            config = plan.config(
                hidden=(100,) * (depth - 1),
                activation=activation,
                init_scale=0.1,
                bias_init_scale=0.1,
                epochs=plan.epochs[group],
                # Per-layer statistics (layers.csv), for the report's look inside: every
                # epoch for the sigmoid networks, whose gradients show when they get
                # stuck and when they move; with the statistics rows for the others.
                layer_stats=True,
                layer_stats_interval=1 if group == "ex2" else 0,
            )
            label = f"{activation}, {depth} affine layers"
            tasks.append(
                plan.task(
                    f"{group}-{activation}-{depth}",
                    group,
                    label,
                    config,
                    depth=depth,
                    activation=activation,
                )
            )
    return tasks


def _init_tasks(plan: _Plan) -> list[LabTask]:
    """The deepest sigmoid network from uniform scales, against Glorot's."""
    deepest = {
        "hidden": (100,) * 4,
        "activation": "sigmoid",
        "epochs": plan.epochs["init"],
        "stats_interval": 1 if plan.quick else 2,
    }
    tasks = [
        plan.task(
            f"init-uniform-{scale:g}",
            "init",
            f"uniform +-{scale:g}",
            plan.config(**deepest, init="uniform", init_scale=scale),
            init="uniform",
            scale=scale,
        )
        for scale in INIT_SCALES
    ]
    glorot = plan.config(**deepest, init="glorot_uniform")
    tasks.append(
        plan.task(
            "init-glorot-uniform",
            "init",
            "Glorot uniform (per layer)",
            glorot,
            init="glorot_uniform",
            scale=None,
        )
    )
    return tasks


def _pytorch_tasks(plan: _Plan) -> list[LabTask]:
    """The seed's PyTorch experiment and its NumPy twin."""
    cost = 50.0 * plan.epochs["pytorch"] / 50 * (0.05 if plan.quick else 1.0) + 1
    epochs, subset = plan.epochs["pytorch"], plan.subset
    return [
        LabTask(
            "pytorch-seed",
            "pytorch",
            "PyTorch (seed's experiment)",
            kind="pytorch",
            epochs=epochs,
            train_subset_size=subset,
            cost=cost,
        ),
        LabTask(
            "pytorch-twin",
            "pytorch",
            "NumPy twin",
            kind="twin",
            epochs=epochs,
            train_subset_size=subset,
            cost=cost * 1.2,
        ),
    ]


def _best_task(plan: _Plan) -> LabTask:
    """The best-effort MLP from the framework's own parts."""
    config = plan.config(
        hidden=(800, 800),
        activation="relu",
        rule="adam",
        learning_rate=1e-3,
        schedule="cosine",
        init="glorot_uniform",
        input_dropout=0.2,
        dropout=0.5,
        batch_size=128,
        epochs=plan.epochs["best"],
        test=True,
    )
    return plan.task(
        "best-mlp", "best", "784-800-800-10 ReLU, dropout, Adam, cosine schedule", config
    )


def _cnn_tasks(plan: _Plan) -> list[LabTask]:
    """The small CNN in NumPy over `CNN_SEEDS`, and the same CNN in PyTorch."""
    epochs = plan.epochs["cnn"]
    values: dict[str, Any] = {
        "arch": CNN_ARCH,
        "activation": "relu",
        "rule": "adam",
        "learning_rate": CNN_LEARNING_RATE,
        "batch_size": CNN_BATCH_SIZE,
        "schedule": "cosine",
        "init": "he_uniform",
        "epochs": epochs,
        "stats_interval": epochs,  # a statistics pass costs a third of an epoch
        "test": True,
    }
    tasks = [
        plan.task(
            f"cnn-seed{i}",
            "cnn",
            f"CNN {CNN_ARCH}, NumPy, seed {seed}",
            # The first seed's layers are measured every epoch (layers.csv), for the
            # report's look inside the convolutions: about 0.3 s a measurement.
            plan.config(**values, seed=seed, layer_stats=i == 1, layer_stats_interval=1),
            seed=seed,
            backend="numpy",
        )
        for i, seed in enumerate(CNN_SEEDS, start=1)
    ]
    torch_config = plan.config(**values, backend="torch")
    tasks.append(
        plan.task(
            "cnn-torch",
            "cnn",
            f"CNN {CNN_ARCH}, PyTorch, seed {LAB_SEED}",
            torch_config,
            seed=LAB_SEED,
            backend="torch",
        )
    )
    return tasks
