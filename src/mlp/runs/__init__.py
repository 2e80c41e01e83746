"""Run records: what one training run leaves behind, written so that nothing is lost.

`run_experiment(config)` trains the model a config describes and keeps, in
``RUNS_DIR/NAME/``:

    config.toml      the full, resolved config: enough to repeat the run exactly
    stats.csv        one row per stats interval (epoch 0 first), appended and fsynced as
                     training goes, so an interrupted run keeps every row it recorded
    checkpoint.npz   the state after the latest epoch: parameters, learning-rule state,
                     every random generator's state, the training data's epoch order;
                     removed once the run has finished
    summary.json     final and best figures, test accuracy when asked, seconds per
                     epoch, seed and package versions; written last: its presence means
                     the run finished
    params.npz       the final parameters (param_0, param_1, ... in `model.params` order)
    curves.png       error and accuracy against epochs, train and valid
    layers.csv       with layer_stats: per-layer statistics (`mlp.layer_stats`), one row
                     per measurement and layer, appended and fsynced like stats.csv
    activations.npz  with layer_stats: samples of each layer's outputs at the first and
                     the latest measurement (epoch_E.layer_I, float32)
    .lock            held while a process trains the run (removed at the end), so that
                     two processes never write one record

Every file is written atomically (`mlp.atomic`: a temporary file, fsynced, then
`os.replace`), except stats.csv and layers.csv, which only grow by whole rows. The checkpoint is one
`.npz` file (arrays, plus the scalars as a JSON string), never a pickle.

summary.json and checkpoint.npz carry a `format_version` (`RECORD_FORMAT_VERSION`,
`CHECKPOINT_FORMAT_VERSION`). Records written before versions were kept (format 1) read
as before; their checkpoints are not resumed (the learning rules' state changed since):
`RunError` says to train such a run again with --overwrite. A file that is damaged or
was edited into something else (binary bytes, a cut-short zip, JSON of the wrong shape,
a missing entry) is a `RunRecordError` (a `RunError`) naming the file and what to do.

An interrupted run (Ctrl-C, SIGTERM, SIGKILL, power loss) continues from its latest
checkpoint with `run_experiment(config, name=..., if_exists="resume")` or
``mlp train --resume runs/NAME``, and ends with exactly the statistics an uninterrupted
run would have given: the restored state is bit for bit the state the uninterrupted run
had at that epoch. (Bit for bit on the same machine with the same number of BLAS threads:
BLAS splits its sums between threads, so another thread count changes the last bits.)

Reading records back::

    record = RunRecord.load("runs/relu-100x100-adam")
    record.finished, record.summary["final"]["acc(valid)"]
    record.stats[:, record.keys["acc(valid)"]], record.epochs

The package, one concept a module:

    errors         RunError, and RunRecordError (a damaged or hand-edited record file)
    layout         the file names above (CONFIG, STATS, ...)
    encoding       arrays as .npz bytes, values as JSON
    reading        the one loader of record files: text, JSON, TOML and .npz read and
                   their shape checked, every problem a RunRecordError naming the file
                   and what to do
    stats_log      stats.csv: StatsLog, read_stats, summarise_stats
    record         RunRecord, is_finished, find_runs, versions, and the one writer of
                   records: finish_record (summary.json), write_record (a whole record)
    checkpoint     checkpoint.npz: save_checkpoint, load_checkpoint
    layer_log      layers.csv and activations.npz: LayerStatsLog, read_layer_stats,
                   write_activation_samples, read_activation_samples
    callbacks      the training loop's callbacks that keep a record: StatsWriter,
                   TrainingClock, Checkpointer, EpochProgressBar, layer_stats_recorder
    finish         the end of a run: test-set figures and the run's summary fields
    training       run_experiment, resume_run, config_differs, the NumPy backend and
                   the lock on a run folder
    torch_backend  training with the torch backend

The names below are re-exported from those modules. To replace one in a test, patch it
in the module that calls it (e.g. ``mlp.runs.training.save_checkpoint``): patching the
re-exported name here does not change what the other modules call.
"""

from __future__ import annotations

# Names imported `as` themselves are not in __all__ (they were not before the split) but
# are importable from here, as they were.
from mlp.atomic import atomic_write_bytes, atomic_write_text
from mlp.runs.checkpoint import CHECKPOINT_FORMAT_VERSION
from mlp.runs.checkpoint import load_checkpoint as load_checkpoint
from mlp.runs.checkpoint import save_checkpoint as save_checkpoint
from mlp.runs.errors import RunError, RunRecordError
from mlp.runs.layout import CHECKPOINT, CONFIG, CURVES, PARAMS, STATS, SUMMARY
from mlp.runs.record import (
    RECORD_FORMAT_VERSION,
    RunRecord,
    find_runs,
    finish_record,
    is_finished,
    versions,
    write_record,
)
from mlp.runs.stats_log import StatsLog, read_stats, summarise_stats
from mlp.runs.training import IfExists as IfExists
from mlp.runs.training import config_differs, run_experiment
from mlp.runs.training import resume_run as resume_run

__all__ = [
    "CHECKPOINT",
    "CHECKPOINT_FORMAT_VERSION",
    "CONFIG",
    "CURVES",
    "PARAMS",
    "RECORD_FORMAT_VERSION",
    "STATS",
    "SUMMARY",
    "RunError",
    "RunRecord",
    "RunRecordError",
    "StatsLog",
    "atomic_write_bytes",
    "atomic_write_text",
    "config_differs",
    "find_runs",
    "finish_record",
    "is_finished",
    "read_stats",
    "run_experiment",
    "summarise_stats",
    "versions",
    "write_record",
]
