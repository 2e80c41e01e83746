"""Epoch-time benchmark of mlp against PyTorch on the CPU, with hardware bounds.

    make bench                      # everything (about 2 minutes on 2 cores)
    python -m benchmarks.run --workloads W2,W3 --no-scaling

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (`make bench` does): some
machines set them, which forces NumPy's OpenBLAS onto older, slower kernels. The BLAS in
use is printed first. All timings of one run are made in one process, alternating between
frameworks, one warm-up epoch then `--epochs` measured epochs each; the table gives
medians. Ratios, not absolute seconds, are what carry over between runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from benchmarks import hardware
from benchmarks.workloads import (
    WORKLOADS,
    build_mlp,
    build_torch_dataloader,
    build_torch_tensor_loop,
    bytes_per_epoch,
    flops_per_epoch,
)

RESULTS = Path(__file__).parent / "results"


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def measure_workload(name: str, inputs, labels, epochs: int, dataloader: bool) -> dict:
    """Median seconds per epoch in mlp and PyTorch, alternating, plus mlp's peak memory."""
    from mlp import kernels

    w = WORKLOADS[name]
    runners = {
        "mlp": build_mlp(w, inputs, labels).do_training_epoch,
        "torch": build_torch_tensor_loop(w, inputs, labels),
    }
    if w.rule == "adam" and _compiled_updates_on():
        # The same model with the rule's NumPy update instead of the compiled kernel, to
        # show what mlp.kernels contributes.
        numpy_epoch = build_mlp(w, inputs, labels).do_training_epoch

        def numpy_updates_epoch() -> None:
            with kernels.numpy_updates():
                numpy_epoch()

        runners["mlp_numpy_updates"] = numpy_updates_epoch
    if dataloader:
        runners["torch_dataloader"] = build_torch_dataloader(w, inputs, labels)
    times: dict[str, list[float]] = {k: [] for k in runners}
    peaks: list[int | None] = []
    for round_ in range(epochs + 1):  # round 0 is the warm-up
        for key, run in runners.items():
            if key == "mlp":
                hardware.reset_peak_memory()
            seconds = _time(run)
            if key == "mlp":
                peaks.append(hardware.peak_memory())
            if round_:
                times[key].append(seconds)
            print(
                f"  {name} {key:18s} {'warm-up' if not round_ else f'epoch {round_}':8s} {seconds:7.3f}s",
                flush=True,
            )
    return {
        "workload": w.describe(),
        "seconds": times,
        "median": {k: _median(v) for k, v in times.items()},
        "mlp_peak_memory": peaks,
    }


def measure_stats_pass(inputs, labels, valid_inputs, valid_labels, repeats: int = 3) -> float:
    """Seconds of Optimiser.get_epoch_stats for W2: forward passes over train and valid."""
    from mlp.data_providers import OneOfKDataProvider

    optimiser = build_mlp(WORKLOADS["W2"], inputs, labels)
    optimiser.valid_dataset = OneOfKDataProvider(valid_inputs, valid_labels, 100, num_classes=10)
    optimiser.get_epoch_stats()
    return _median([_time(optimiser.get_epoch_stats) for _ in range(repeats)])


def _epoch_seconds(w, inputs, labels, measured: int = 1) -> float:
    optimiser = build_mlp(w, inputs, labels)
    optimiser.train_dataset.max_num_batches = 20
    optimiser.do_training_epoch()  # warm-up on a few batches
    optimiser.train_dataset.max_num_batches = -1
    return _median([_time(optimiser.do_training_epoch) for _ in range(measured)])


def measure_scaling(inputs, labels) -> dict:
    """mlp epoch time against hidden width, batch size and number of examples."""
    base = WORKLOADS["W3"]
    scaling: dict[str, dict[str, float]] = {
        "hidden_width": {},
        "batch_size": {},
        "num_examples": {},
    }
    for width in (64, 128, 256, 512, 1024, 2048):
        seconds = _epoch_seconds(base.with_(hidden=(width, width)), inputs, labels)
        scaling["hidden_width"][str(width)] = seconds
        print(f"  width {width:5d}: {seconds:7.3f}s/epoch", flush=True)
    for batch in (16, 32, 64, 128, 256, 512, 1024):
        seconds = _epoch_seconds(base.with_(batch_size=batch), inputs, labels)
        scaling["batch_size"][str(batch)] = seconds
        print(f"  batch {batch:5d}: {seconds:7.3f}s/epoch", flush=True)
    for n in (10_000, 25_000, 50_000):
        seconds = _epoch_seconds(WORKLOADS["W2"], inputs[:n], labels[:n], measured=3)
        scaling["num_examples"][str(n)] = seconds
        print(
            f"  W2 on {n:6d} examples: {seconds:7.3f}s/epoch ({seconds / n * 1e6:.2f} us/example)",
            flush=True,
        )
    return scaling


def _compiled_updates_on() -> bool:
    """Whether the benchmarked rules (SGD, Adam) run compiled kernels (mlp.kernels)."""
    from mlp import kernels

    return all(kernels.compiled(name) is not None for name in ("gradient_descent", "adam"))


def _numba_version() -> str | None:
    try:
        import numba
    except ImportError:
        return None
    return numba.__version__


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None or not np.isfinite(value) else f"{value:.{digits}f}"


def table(results: dict) -> str:
    """The results as a Markdown table."""
    peak_flops, bandwidth = results["sgemm_flops"], results["memory_bandwidth"]
    n = results["num_examples"]
    lines = [
        "| workload | mlp s/epoch | torch s/epoch | torch DataLoader s/epoch | mlp/torch | mlp, NumPy updates s/epoch | FLOP bound s | mlp/FLOP bound | memory bound s | mlp/memory bound | mlp peak MB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in results["workloads"].items():
        w = WORKLOADS[name]
        flop_bound = flops_per_epoch(w, n) / peak_flops
        mem_bound = bytes_per_epoch(w, n) / bandwidth
        m = r["median"]
        peaks = [p for p in r["mlp_peak_memory"] if p]
        lines.append(
            f"| {name} {w.describe()} | {_fmt(m['mlp'])} | {_fmt(m['torch'])} | {_fmt(m.get('torch_dataloader'))} "
            f"| {_fmt(m['mlp'] / m['torch'], 2)} | {_fmt(m.get('mlp_numpy_updates'))} | {_fmt(flop_bound)} | {_fmt(m['mlp'] / flop_bound, 1)} "
            f"| {_fmt(mem_bound)} | {_fmt(m['mlp'] / mem_bound, 1)} | {_fmt(max(peaks) / 2**20 if peaks else None, 0)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads", default="W1,W2,W3,W4", help="comma-separated subset of W1..W4"
    )
    parser.add_argument(
        "--epochs", type=int, default=4, help="measured epochs per framework (after 1 warm-up)"
    )
    parser.add_argument("--no-dataloader", action="store_true", help="skip the DataLoader pipeline")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling study")
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file (default benchmarks/results/)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or args.epochs < 1:
        parser.error(
            f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}"
            if unknown
            else "--epochs must be >= 1"
        )

    import torch

    from mlp import datasets

    print("BLAS:", json.dumps(hardware.blas_info()))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            print(
                f"warning: {var}={os.environ[var]} is set; NumPy's BLAS may run slower kernels",
                file=sys.stderr,
            )

    numba_version = _numba_version()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}; "
        f"compiled updates (mlp.kernels): "
        + (f"on, numba {numba_version}" if _compiled_updates_on() else "off")
    )
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "blas": hardware.blas_info(),
        "versions": {
            "numpy": np.__version__,
            "torch": torch.__version__,
            "numba": numba_version,
            "python": platform.python_version(),
        },
        "compiled_updates": _compiled_updates_on(),
        "sgemm_flops": hardware.sgemm_peak(),
        "memory_bandwidth": hardware.memory_bandwidth(),
    }
    print(
        f"sgemm peak {results['sgemm_flops'] / 1e9:.0f} GFLOP/s, memory bandwidth {results['memory_bandwidth'] / 1e9:.1f} GB/s"
    )
    inputs, labels = datasets.load("mnist", "train")
    valid_inputs, valid_labels = datasets.load("mnist", "valid")
    results["num_examples"] = int(inputs.shape[0])
    results["workloads"] = {}
    for name in names:
        print(f"{name}: {WORKLOADS[name].describe()}", flush=True)
        results["workloads"][name] = measure_workload(
            name, inputs, labels, args.epochs, not args.no_dataloader
        )
    results["stats_pass_W2"] = measure_stats_pass(inputs, labels, valid_inputs, valid_labels)
    print(f"statistics pass, W2, 50k train + 10k valid: {results['stats_pass_W2']:.3f}s")
    if not args.no_scaling:
        print("scaling (W3 architecture unless named):", flush=True)
        results["scaling"] = measure_scaling(inputs, labels)
        per_example = {n: s / int(n) for n, s in results["scaling"]["num_examples"].items()}
        results["linearity"] = max(per_example.values()) / min(per_example.values())
        print(
            f"time per example, largest over smallest across data set sizes: {results['linearity']:.3f}"
        )
    for name, r in results["workloads"].items():
        peaks = [p for p in r["mlp_peak_memory"] if p]
        if peaks:
            print(
                f"{name} mlp peak memory per epoch (MB): {', '.join(f'{p / 2**20:.0f}' for p in peaks)}; max/first {max(peaks) / peaks[0]:.2f}"
            )
    text = table(results)
    results["table"] = text
    print()
    print(text)
    output = args.output or RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    tmp.replace(output)
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
