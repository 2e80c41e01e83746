"""Epoch-time benchmark of mlp against PyTorch and JAX on the CPU, on an idle machine
and beside a competing process, with hardware bounds and a breakdown of mlp's epoch.

    make bench                      # everything (about 19 minutes on 2 cores)
    python -m benchmarks.run --workloads W2,W3 --no-scaling --no-load

Run it with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset (`make bench` does): some
machines set them, which forces NumPy's OpenBLAS onto older, slower kernels. The BLAS in
use is printed first. All timings of one run are made in one process: per workload, one
warm-up round then `--rounds` rounds, each timing one epoch of every framework in turn,
so that every ratio compares epochs measured moments apart; a ratio is printed as the
ratio of the medians with the min-max of the round-by-round ratios. Ratios, not absolute
seconds, are what carry over between runs.

The loaded rounds (`--no-load` skips them) repeat this while `benchmarks.contention`
runs a CPU-bound Python process beside it: one on a 2-core machine, cores - 1 on a bigger
one, so that the frameworks always share the machine with as many busy processes as
leave them one core's worth of fair share. The competitor counts its work, and the table
gives the share of its idle rate it kept beside each framework. JAX (the `bench` extra:
`pip install -e '.[bench]'`) is skipped with a note where it is not installed.

W5, the lab's CNN, is timed in mlp and PyTorch only (the JAX loops, the products-alone
floor, the NumPy-updates variant and the breakdown are written for MLPs), in at most 3
rounds (an mlp epoch takes about 25 s on one core).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from benchmarks import hardware, jax_loops
from benchmarks.breakdown import KINDS, breakdown
from benchmarks.contention import Competitor, competitors_for
from benchmarks.workloads import (
    WORKLOADS,
    build_mlp,
    build_products_alone,
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


def _runners(name: str, inputs, labels, dataloader: bool) -> dict[str, Callable[[], None]]:
    """One epoch of workload `name` in each framework and loop this run compares."""
    from mlp import kernels

    w = WORKLOADS[name]
    runners: dict[str, Callable[[], None]] = {
        "mlp": build_mlp(w, inputs, labels).do_training_epoch,
        "torch": build_torch_tensor_loop(w, inputs, labels),
    }
    if w.arch is not None:
        # The products-alone floor, the JAX loops and the NumPy-updates variant are built
        # for MLPs; a CNN is compared with PyTorch (and its DataLoader) only.
        print(f"  {name}: a CNN, timed in mlp and PyTorch only (no JAX CNN loop here)")
    else:
        runners["mlp_products"] = build_products_alone(w, inputs.shape[0])
    if jax_loops.available() and w.arch is None:
        runners["jax_scan"] = jax_loops.build_jax_scan(w, inputs, labels)
        runners["jax_step"] = jax_loops.build_jax_step(w, inputs, labels)
    if w.rule == "adam" and _compiled_updates_on() and w.arch is None:
        # The same model with the rule's NumPy update instead of the compiled kernel, to
        # show what mlp.kernels contributes.
        numpy_epoch = build_mlp(w, inputs, labels).do_training_epoch

        def numpy_updates_epoch() -> None:
            with kernels.numpy_updates():
                numpy_epoch()

        runners["mlp_numpy_updates"] = numpy_updates_epoch
    if dataloader:
        runners["torch_dataloader"] = build_torch_dataloader(w, inputs, labels)
    return runners


# Measured on the busy machine too (the DataLoader and NumPy-updates variants only on the
# idle one: they answer other questions).
LOADED = ("mlp", "mlp_products", "torch", "jax_scan", "jax_step")
PAUSE = 0.25  # seconds of idle before each timed epoch


def _rounds(
    name: str, runners: dict[str, Callable[[], None]], rounds: int, rival=None
) -> tuple[dict[str, list[float]], list[int | None], dict[str, list[float]]]:
    """Seconds per epoch of each runner over `rounds` interleaved rounds (after one warm-up
    round) and, with a rival, its iterations per second during each runner's epochs."""
    times: dict[str, list[float]] = {k: [] for k in runners}
    rival_rates: dict[str, list[float]] = {k: [] for k in runners}
    label = "loaded" if rival is not None else "quiet"
    for round_ in range(rounds + 1):  # round 0 is the warm-up
        for key, run in runners.items():
            # A pause first: JAX's and torch's threads spin for a while after their
            # epoch, which would slow whichever framework ran next.
            time.sleep(PAUSE)
            before = rival.count() if rival is not None else 0
            seconds = _time(run)
            if round_ and rival is not None:
                rival_rates[key].append((rival.count() - before) / seconds)
            if round_:
                times[key].append(seconds)
            print(
                f"  {name} {label} {key:18s} {'warm-up' if not round_ else f'round {round_}':8s} {seconds:7.3f}s",
                flush=True,
            )
    return times, rival_rates


def mlp_peak_memory(name: str, inputs, labels, epochs: int = 3) -> list[int]:
    """Peak bytes that mlp allocated (NumPy arrays and Python objects, as tracemalloc
    traces them) during each of `epochs` consecutive epochs of workload `name`, its own
    allocations only: the process's resident size would include the other frameworks'."""
    import tracemalloc

    optimiser = build_mlp(WORKLOADS[name], inputs, labels)
    peaks = []
    tracemalloc.start()
    try:
        for _ in range(epochs):
            tracemalloc.reset_peak()
            start = tracemalloc.get_traced_memory()[0]
            optimiser.do_training_epoch()
            peaks.append(tracemalloc.get_traced_memory()[1] - start)
    finally:
        tracemalloc.stop()
    return peaks


def measure_workload(name: str, inputs, labels, rounds: int, dataloader: bool, load: bool) -> dict:
    """Seconds per epoch of every runner over interleaved rounds, idle and (with `load`)
    beside a competing CPU-bound process, with mlp's peak memory per epoch and a
    breakdown of one mlp epoch by kind of work."""
    w = WORKLOADS[name]
    rounds = min(rounds, w.max_rounds or rounds)
    runners = _runners(name, inputs, labels, dataloader)
    times, _ = _rounds(name, runners, rounds)
    result: dict = {
        "workload": w.describe(),
        "seconds": times,
        "median": {k: _median(v) for k, v in times.items()},
        "mlp_peak_memory": mlp_peak_memory(name, inputs, labels, 3 if w.arch is None else 1),
    }
    if w.arch is None:  # a CNN's convolutions are outside the fast path the breakdown times
        result["breakdown"] = breakdown(build_mlp(w, inputs, labels))
    if load:
        loaded = {k: runners[k] for k in LOADED if k in runners}
        with Competitor() as rival:
            alone = rival.rate()
            loaded_times, rates = _rounds(name, loaded, rounds, rival)
        result["loaded_seconds"] = loaded_times
        result["loaded_median"] = {k: _median(v) for k, v in loaded_times.items()}
        result["rival_share"] = {k: _median(v) / alone for k, v in rates.items()}
        result["rival_processes"] = rival.processes
    return result


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


def ratio(numerators: list[float] | None, denominators: list[float] | None) -> str:
    """'median ratio [min-max]': the ratio of the medians, and the spread of the ratios of
    the epochs measured in the same round ('-' where either side was not measured)."""
    if not numerators or not denominators:
        return "-"
    per_round = [a / b for a, b in zip(numerators, denominators, strict=False)]
    middle = _median(numerators) / _median(denominators)
    return f"{middle:.2f} [{min(per_round):.2f}-{max(per_round):.2f}]"


def table(results: dict) -> str:
    """The idle-machine results as a Markdown table."""
    peak_flops, bandwidth = results["sgemm_flops"], results["memory_bandwidth"]
    n = results["num_examples"]
    lines = [
        "| workload | mlp s/epoch | torch | JAX scan | JAX step | mlp/JAX scan | mlp/JAX step "
        "| mlp/torch | products alone s | mlp/products | FLOP bound s | mlp/FLOP bound "
        "| memory bound s | torch DataLoader | mlp, NumPy updates | mlp peak MB |",
        "| --- " * 16 + "|",
    ]
    for name, r in results["workloads"].items():
        w, s, m = WORKLOADS[name], r["seconds"], r["median"]
        flop_bound = flops_per_epoch(w, n) / peak_flops
        mem_bound = bytes_per_epoch(w, n) / bandwidth
        peaks = [p for p in r["mlp_peak_memory"] if p]
        lines.append(
            f"| {name} {w.describe()} | {_fmt(m['mlp'])} | {_fmt(m.get('torch'))} "
            f"| {_fmt(m.get('jax_scan'))} | {_fmt(m.get('jax_step'))} "
            f"| {ratio(s['mlp'], s.get('jax_scan'))} | {ratio(s['mlp'], s.get('jax_step'))} "
            f"| {ratio(s['mlp'], s.get('torch'))} | {_fmt(m.get('mlp_products'))} "
            f"| {ratio(s['mlp'], s.get('mlp_products'))} | {_fmt(flop_bound)} "
            f"| {_fmt(m['mlp'] / flop_bound, 1)} | {_fmt(mem_bound)} "
            f"| {_fmt(m.get('torch_dataloader'))} | {_fmt(m.get('mlp_numpy_updates'))} "
            f"| {_fmt(max(peaks) / 2**20 if peaks else None, 0)} |"
        )
    return "\n".join(lines)


def loaded_table(results: dict) -> str:
    """The busy-machine results: loaded seconds, loaded/idle ratios (round by round), the
    loaded mlp/JAX ratio and the share of its idle rate the competing process kept."""
    lines = [
        "| workload | mlp loaded s | mlp loaded/quiet | torch loaded/quiet | JAX scan loaded/quiet "
        "| loaded mlp/JAX scan | loaded mlp/torch | competitor's rate beside mlp / torch / JAX scan |",
        "| --- " * 8 + "|",
    ]
    for name, r in results["workloads"].items():
        if "loaded_seconds" not in r:
            continue
        q, lo, share = r["seconds"], r["loaded_seconds"], r["rival_share"]
        shares = " / ".join(_fmt(share.get(k), 2) for k in ("mlp", "torch", "jax_scan"))
        lines.append(
            f"| {name} | {_fmt(r['loaded_median']['mlp'])} | {ratio(lo['mlp'], q['mlp'])} "
            f"| {ratio(lo.get('torch'), q.get('torch'))} "
            f"| {ratio(lo.get('jax_scan'), q.get('jax_scan'))} "
            f"| {ratio(lo['mlp'], lo.get('jax_scan'))} | {ratio(lo['mlp'], lo.get('torch'))} "
            f"| {shares} |"
        )
    return "\n".join(lines)


def breakdown_table(results: dict) -> str:
    """Where one mlp epoch's time went, per workload, in seconds and shares."""
    lines = [
        "| workload | " + " | ".join(KINDS) + " | total s |",
        "| --- " * (len(KINDS) + 2) + "|",
    ]
    for name, r in results["workloads"].items():
        if "breakdown" not in r:
            continue
        b = r["breakdown"]
        cells = [f"{b[k]:.3f} ({b[k] / b['total']:.0%})" for k in KINDS]
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {b['total']:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workloads", default="W1,W2,W3,W4,W5", help="comma-separated subset of W1..W5"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="measured rounds per workload (after 1 warm-up)"
    )
    parser.add_argument("--no-load", action="store_true", help="skip the busy-machine rounds")
    parser.add_argument("--no-dataloader", action="store_true", help="skip the DataLoader pipeline")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling study")
    parser.add_argument(
        "--output", type=Path, default=None, help="JSON file (default benchmarks/results/)"
    )
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    unknown = [n for n in names if n not in WORKLOADS]
    if unknown or args.rounds < 1:
        parser.error(
            f"unknown workloads {unknown}; choose from {sorted(WORKLOADS)}"
            if unknown
            else "--rounds must be >= 1"
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

    from mlp import threads

    numba_version = _numba_version()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}; "
        f"mlp {threads.num_threads()} threads; compiled updates (mlp.kernels): "
        + (f"on, numba {numba_version}" if _compiled_updates_on() else "off")
    )
    print(
        f"jax {jax_loops.version()}"
        if jax_loops.available()
        else "jax is not installed: no JAX columns (pip install -e '.[bench]' adds them)"
    )
    results: dict = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count()},
        "blas": hardware.blas_info(),
        "versions": {
            "numpy": np.__version__,
            "torch": torch.__version__,
            "numba": numba_version,
            "jax": jax_loops.version(),
            "python": platform.python_version(),
        },
        "compiled_updates": _compiled_updates_on(),
        "mlp_threads": threads.num_threads(),
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
            name, inputs, labels, args.rounds, not args.no_dataloader, not args.no_load
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
    if not args.no_load:
        results["loaded_table"] = loaded_table(results)
        print(f"\nbeside {competitors_for(os.cpu_count())} busy process(es):\n")
        print(results["loaded_table"])
    results["breakdown_table"] = breakdown_table(results)
    if any("breakdown" in r for r in results["workloads"].values()):
        print("\nwhere one mlp epoch's time goes (seconds):\n")
        print(results["breakdown_table"])
    output = args.output or RESULTS / f"bench-{time.strftime('%Y%m%d-%H%M%S')}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=2))
    tmp.replace(output)
    print(f"\nwrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
