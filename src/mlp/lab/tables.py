"""Tables of runs: `format_table` (and its cells, `format_value`) and `mlp compare`'s
`comparison_table`."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlp import _checks
from mlp.runs import RunError, RunRecord

# The table formats of `format_table` and `comparison_table`.
_FORMATS = ("markdown", "text", "csv")


def format_value(value: Any, digits: int = 4) -> str:
    """A table cell: floats with `digits` decimals ('nan' when not finite), None as '-'."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "nan"
        return f"{value:.{digits}f}"
    return str(value)


def format_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str = "markdown"
) -> str:
    """Rows as a 'markdown', aligned 'text' or 'csv' table (ending in a newline).

    Args:
        headers: the column names; rows: one sequence of cells per row, each as long as
            `headers`.
    """
    _check_table(headers, rows, fmt)
    cells = [[format_value(v) for v in row] for row in rows]
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(headers)
        writer.writerows(cells)
        return buffer.getvalue()
    if fmt == "markdown":
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        lines += ["| " + " | ".join(row) + " |" for row in cells]
        return "\n".join(lines) + "\n"
    widths = [max([len(str(h)), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines) + "\n"


def _check_table(headers: Any, rows: Any, fmt: Any) -> None:
    _checks.choice(fmt, "fmt", "format_table", _FORMATS)
    for name, value in (("headers", headers), ("rows", rows)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise TypeError(f"format_table: {name} must be a list, got {type(value).__name__}")
    for index, row in enumerate(rows):
        if isinstance(row, (str, bytes)) or not isinstance(row, Sequence):
            raise TypeError(
                f"format_table: rows[{index}] must be a list of cells, got {type(row).__name__}"
            )
        if len(row) != len(headers):
            raise ValueError(
                f"format_table: rows[{index}] has {len(row)} cells for {len(headers)} headers"
            )


COMPARISON_HEADERS = (
    "run",
    "model",
    "rule",
    "epochs",
    "final error(train)",
    "final error(valid)",
    "final acc(valid)",
    "best acc(valid) (epoch)",
    "best error(valid) (epoch)",
    "acc(test)",
    "s/epoch",
)


def comparison_rows(records: Sequence[RunRecord]) -> list[list[Any]]:
    """One row of final and best figures per run, in `COMPARISON_HEADERS` order."""
    _checks.items(records, "records", "comparison_rows", RunRecord)
    rows = []
    for record in records:
        figures = record.figures()
        final, best = figures.get("final", {}), figures.get("best", {})
        summary = record.summary or {}
        config = record.config
        model = summary.get("architecture") or config.get("architecture")
        if model is None and config:
            with contextlib.suppress(RunError):
                model = record.experiment_config().architecture()
        rule = summary.get("rule") or config.get("rule")
        rate = summary.get("learning_rate") or config.get("learning_rate")
        if rule and rate:
            rule = f"{rule} {rate:g}"
        test = (summary.get("test") or {}).get("acc")

        def best_of(key: str, best: Mapping[str, Any] = best) -> str:
            entry = best.get(key)
            if not entry or entry.get("value") is None:
                return "-"
            return f"{entry['value']:.4f} ({entry['epoch']})"

        epochs = figures.get("epochs")
        status = "" if record.finished else " (unfinished)"
        rows.append(
            [
                (record.display_name or record.name) + status,
                model or "-",
                rule or "-",
                epochs,
                final.get("error(train)"),
                final.get("error(valid)"),
                final.get("acc(valid)"),
                best_of("acc(valid)"),
                best_of("error(valid)"),
                test,
                summary.get("seconds_per_epoch"),
            ]
        )
    return rows


def comparison_table(records: Sequence[RunRecord], fmt: str = "text", sort: str = "name") -> str:
    """`mlp compare`'s table of runs: final and best figures, test accuracy, s/epoch.

    Args:
        records: the runs; fmt: 'text', 'markdown' or 'csv'; sort: 'name', 'acc'
            (highest final validation accuracy first) or 'error' (lowest final
            validation error first).
    """
    _checks.choice(fmt, "fmt", "comparison_table", _FORMATS)
    _checks.choice(sort, "sort", "comparison_table", ("name", "acc", "error"))
    rows = comparison_rows(records)
    if sort == "acc":
        rows.sort(key=lambda r: -(r[6] if isinstance(r[6], float) else -1.0))
    elif sort == "error":
        rows.sort(key=lambda r: r[5] if isinstance(r[5], float) else math.inf)
    else:
        rows.sort(key=lambda r: r[0])
    return format_table(COMPARISON_HEADERS, rows, fmt)
