"""`mlp lab`: the seed lab's experiments end to end, and a report of them.

    from mlp.lab import run_lab
    run_lab("runs/lab")                 # the full lab, about 6 minutes on 2 cores
    run_lab("runs/lab-quick", quick=True)

What runs (every experiment seeded with the seed notebook's seed, 6102016):

1. Exercise 1: softmax regression in both formulations, an affine layer plus a
   `SoftmaxLayer` trained on `CrossEntropyError`, and an affine layer trained on
   `CrossEntropySoftmaxError`, from the same initial weights (uniform +-0.01), which must
   give the same curves; and the seed's second cell (initial scale 0.1). Gradient
   descent, learning rate 0.1, batches of 100, 100 epochs, statistics every 5.
2. Exercise 2: sigmoid networks of 2 to 5 affine layers, hidden width 100, initial
   weights and biases uniform +-0.1, gradient descent with learning rate 0.1, batch 100.
3. Exercise 3: the same networks with tanh and with ReLU. Every network of exercises 2
   and 3 records per-layer statistics (`mlp.diagnostics`): every epoch for the sigmoid
   networks, with the statistics rows for the others.
4. An initialisation study: the 5-affine-layer sigmoid network from uniform scales
   0.01 to 1 against Glorot's per-layer scale.
5. The seed's PyTorch experiment (`mlp.pytorch.run_seed_experiment`) and its NumPy twin
   (`mlp.twin.run_numpy_twin`), 50 epochs each.
6. A best-effort MLP from the framework's own parts: 784-800-800-10 ReLU with dropout,
   Adam and a cosine learning-rate schedule.
7. A small CNN (`mlp.lab.tasks.CNN_ARCH`, conv-pool-conv-pool-fc with ReLU, Adam) in
   NumPy over three seeds and in PyTorch (the torch backend, same config), 2 epochs,
   against the best MLP, with a figure of its first layer's kernels.

Each experiment leaves a run record in ``OUT/runs/NAME`` (see `mlp.runs`); a finished
record is kept when the lab runs again, so an interrupted lab continues where it stopped.
Experiments run longest first through `mlp.parallel`, as a sweep's points do: in worker
processes (`jobs`, default 2), each limited to cores // jobs BLAS threads (one on a
2-core machine, which is faster overall than one process with two threads, and does not
slow down when something else is running), or in this process with `jobs=1`. Ctrl-C
stops every experiment; finished ones are kept. ``OUT/report.md`` then gathers the
tables and the figures (PNG files beside it).

The package: `tasks` (what runs), `workers` (running it), `pytorch_task` (the seed's
PyTorch experiment and its twin as tasks), `readings` (what the report reads off the
records), `layer_readings` (the sentences read off layer statistics and confusion
matrices), `inside` (the report's look inside the networks: those sentences with their
figures, the weights as images, the best model's mistakes), `tables` and `figures`
(their helpers), `report` (one function per section).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mlp import _checks
from mlp.lab.report import write_report
from mlp.lab.tables import COMPARISON_HEADERS as COMPARISON_HEADERS
from mlp.lab.tables import comparison_rows, comparison_table, format_table
from mlp.lab.tasks import ACTIVATIONS as ACTIVATIONS
from mlp.lab.tasks import DEPTHS as DEPTHS
from mlp.lab.tasks import FULL_EPOCHS as FULL_EPOCHS
from mlp.lab.tasks import INIT_SCALES as INIT_SCALES
from mlp.lab.tasks import LAB_SEED, LabTask, lab_tasks
from mlp.lab.tasks import QUICK_EPOCHS as QUICK_EPOCHS
from mlp.lab.tasks import QUICK_TRAIN_EXAMPLES as QUICK_TRAIN_EXAMPLES
from mlp.lab.workers import run_task as run_task
from mlp.lab.workers import run_tasks
from mlp.parallel import worker_count
from mlp.runs import is_finished

__all__ = [
    "LAB_SEED",
    "LabTask",
    "comparison_rows",
    "comparison_table",
    "format_table",
    "lab_tasks",
    "run_lab",
    "run_tasks",
    "write_report",
]


def run_lab(
    out: str | os.PathLike[str] = "runs/lab",
    *,
    quick: bool = False,
    jobs: int = 2,
    fresh: bool = False,
) -> int:
    """Run every lab experiment and write OUT/report.md; returns an exit status.

    Args:
        out: output folder: the report and its figures, and the run records in OUT/runs.
        quick: the same pipeline on 1,000 training images for 2 epochs each.
        jobs: worker processes (each limited to cores // jobs BLAS threads); 1 runs
            everything in this process with the default threads.
        fresh: delete the run records of an earlier lab in OUT first.
    Returns:
        0 when every experiment finished, 1 when some failed (the report says which),
        130 when interrupted (finished experiments are kept for the next run).
    """
    import shutil

    _checks.os_path(out, "out", "run_lab")
    worker_count(jobs)  # a bad jobs is refused before any folder is made
    out = Path(out)
    runs_dir = out / "runs"
    if fresh and runs_dir.exists():
        shutil.rmtree(runs_dir)
    runs_dir.mkdir(parents=True, exist_ok=True)
    tasks = lab_tasks(quick)
    already = sum(is_finished(runs_dir / t.name) for t in tasks)
    print(
        f"mlp lab{' --quick' if quick else ''}: {len(tasks)} experiments "
        f"({already} already finished) in {jobs} worker process(es); records in {runs_dir}",
        file=sys.stderr,
        flush=True,
    )
    start = time.perf_counter()
    try:
        results = run_tasks(tasks, runs_dir, jobs)
    except KeyboardInterrupt:
        print(
            f"interrupted: finished experiments are kept in {runs_dir}; "
            "run the same command again to continue",
            file=sys.stderr,
        )
        return 130
    wall = time.perf_counter() - start
    report = write_report(
        out, tasks, wall_time=wall, quick=quick, jobs=jobs, results=results, kept=already
    )
    failed = [name for name, result in results.items() if not result.get("finished")]
    print(f"report: {report} ({wall:.0f}s)", file=sys.stderr)
    if failed:
        print(f"unfinished or failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0
