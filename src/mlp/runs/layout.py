"""The names of the files in a run record's folder (see `mlp.runs`)."""

from __future__ import annotations

CONFIG = "config.toml"
STATS = "stats.csv"
SUMMARY = "summary.json"
PARAMS = "params.npz"
CURVES = "curves.png"
CHECKPOINT = "checkpoint.npz"
