"""The lab's experiments: `LabTask` and `lab_tasks`, with the full and `--quick` settings."""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from typing import Any

from mlp.config import ExperimentConfig

LAB_SEED = 6102016
"""The seed notebook's seed; every experiment of the lab uses it."""

DEPTHS = (2, 3, 4, 5)
ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_SCALES = (0.01, 0.1, 0.5, 1.0)

# Epochs of the full lab, chosen so that it finishes in about 6 minutes on 2 cores.
FULL_EPOCHS = {
    "ex1": 100,
    "ex2": 100,
    "ex3": 100,
    "init": 40,
    "pytorch": 50,
    "best": 30,
}
QUICK_EPOCHS = dict.fromkeys(FULL_EPOCHS, 2)
QUICK_TRAIN_EXAMPLES = 1000
"""The `--quick` lab trains every model on the first 1,000 training images for 2 epochs."""


@dataclass
class LabTask:
    """One experiment of the lab.

    Attributes:
        name: the run record's folder name.
        group: 'ex1', 'ex2', 'ex3', 'init', 'pytorch' or 'best'.
        label: a short description for tables and legends.
        config: the experiment, for runs of `mlp.runs.run_experiment`.
        kind: 'config', or 'pytorch' / 'twin' for the seed's PyTorch experiment and its
            NumPy twin (which have their own data pipeline).
        epochs, max_train_examples: for the 'pytorch' and 'twin' kinds.
        cost: an estimate of its run time, used to start the longest first.
    """

    name: str
    group: str
    label: str
    config: ExperimentConfig | None = None
    kind: str = "config"
    epochs: int = 0
    max_train_examples: int | None = None
    cost: float = 0.0
    notes: dict[str, Any] = field(default_factory=dict)


def _estimated_cost(config: ExperimentConfig) -> float:
    widths = (784, *config.hidden, 10)
    flops = sum(a * b for a, b in itertools.pairwise(widths))
    examples = config.max_train_examples or 50_000
    factor = 1.6 if config.rule == "adam" or config.dropout else 1.0
    return config.epochs * examples * (flops + 20_000) * factor * 6e-10 + 1.0


def lab_tasks(quick: bool = False) -> list[LabTask]:
    """Every experiment of the lab, with the seed's settings (`quick`: small and short)."""
    epochs = QUICK_EPOCHS if quick else FULL_EPOCHS
    subset = QUICK_TRAIN_EXAMPLES if quick else None
    interval = 1 if quick else 5

    def config(**values: Any) -> ExperimentConfig:
        values.setdefault("seed", LAB_SEED)
        values.setdefault("batch_size", 100)
        values.setdefault("rule", "sgd")
        values.setdefault("learning_rate", 0.1)
        values.setdefault("stats_interval", interval)
        values.setdefault("max_train_examples", subset)
        return ExperimentConfig(**values).resolved().validate()

    tasks: list[LabTask] = []

    def add(name: str, group: str, label: str, cfg: ExperimentConfig, **notes: Any) -> None:
        cfg = dataclasses.replace(cfg, name=name)
        tasks.append(LabTask(name, group, label, cfg, cost=_estimated_cost(cfg), notes=notes))

    # Exercise 1: two formulations from the same initial weights, and the seed's 2nd cell.
    softmax = {"hidden": (), "epochs": epochs["ex1"], "test": True}
    add(
        "ex1-softmax-layer",
        "ex1",
        "Affine + SoftmaxLayer, CrossEntropyError, init 0.01",
        config(**softmax, error="cross_entropy", init_scale=0.01, bias_init_scale=0.01),
    )
    add(
        "ex1-ce-softmax",
        "ex1",
        "Affine, CrossEntropySoftmaxError, init 0.01",
        config(**softmax, init_scale=0.01, bias_init_scale=0.01),
    )
    add(
        "ex1-ce-softmax-init0.1",
        "ex1",
        "Affine, CrossEntropySoftmaxError, init 0.1",
        config(**softmax, init_scale=0.1, bias_init_scale=0.1),
    )

    # Exercises 2 and 3: depth 2..5 affine layers of width 100, three non-linearities.
    for activation in ACTIVATIONS:
        group = "ex2" if activation == "sigmoid" else "ex3"
        for depth in DEPTHS:
            add(
                f"{group}-{activation}-{depth}",
                group,
                f"{activation}, {depth} affine layers",
                config(
                    hidden=(100,) * (depth - 1),
                    activation=activation,
                    init_scale=0.1,
                    bias_init_scale=0.1,
                    epochs=epochs[group],
                ),
                depth=depth,
                activation=activation,
            )

    # Initialisation study: the deepest sigmoid net, uniform scales against Glorot.
    init_interval = 1 if quick else 2
    for scale in INIT_SCALES:
        add(
            f"init-uniform-{scale:g}",
            "init",
            f"uniform +-{scale:g}",
            config(
                hidden=(100,) * 4,
                activation="sigmoid",
                init="uniform",
                init_scale=scale,
                epochs=epochs["init"],
                stats_interval=init_interval,
            ),
            init="uniform",
            scale=scale,
        )
    add(
        "init-glorot-uniform",
        "init",
        "Glorot uniform (per layer)",
        config(
            hidden=(100,) * 4,
            activation="sigmoid",
            init="glorot_uniform",
            epochs=epochs["init"],
            stats_interval=init_interval,
        ),
        init="glorot_uniform",
        scale=None,
    )

    # The seed's PyTorch experiment and its NumPy twin.
    pytorch_cost = 50.0 * epochs["pytorch"] / 50 * (0.05 if quick else 1.0) + 1
    for kind, label in (("pytorch", "PyTorch (seed's experiment)"), ("twin", "NumPy twin")):
        tasks.append(
            LabTask(
                f"pytorch-{kind}" if kind == "twin" else "pytorch-seed",
                "pytorch",
                label,
                kind=kind,
                epochs=epochs["pytorch"],
                max_train_examples=subset,
                cost=pytorch_cost if kind == "pytorch" else pytorch_cost * 1.2,
            )
        )

    # The best-effort MLP from the framework's own parts.
    add(
        "best-mlp",
        "best",
        "784-800-800-10 ReLU, dropout, Adam, cosine schedule",
        config(
            hidden=(800, 800),
            activation="relu",
            rule="adam",
            learning_rate=1e-3,
            schedule="cosine",
            init="glorot_uniform",
            input_dropout=0.2,
            dropout=0.5,
            batch_size=128,
            epochs=epochs["best"],
            test=True,
        ),
    )
    return tasks
