"""The names of the files in a run record's folder (see `mlp.runs`)."""

from __future__ import annotations

CONFIG = "config.toml"
STATS = "stats.csv"
SUMMARY = "summary.json"
PARAMS = "params.npz"
CURVES = "curves.png"
CHECKPOINT = "checkpoint.npz"

# In params.npz and checkpoint.npz, the model's state (`model.state()`, e.g. running
# statistics) is stored under this prefix: state_1.running_mean, ...
STATE_PREFIX = "state_"
LAYERS = "layers.csv"  # per-layer statistics (mlp.layer_stats), when recorded
ACTIVATIONS = "activations.npz"  # samples of each layer's outputs, first and latest
