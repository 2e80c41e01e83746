"""Data providers: iterators over a data set in mini-batches.

A provider is iterated once per epoch and yields `(inputs_batch, targets_batch)`:

    for inputs_batch, targets_batch in train_data:   # one epoch
        ...

Shape:
    inputs_batch: (batch_size, input_dim), in the default dtype (float32)
    targets_batch: (batch_size,) or (batch_size, output_dim) as given; one-of-K
        providers serve (batch_size, num_classes) rows with a single 1

When an epoch ends the provider starts the next one by itself (reshuffling when
`shuffle_order` is set), so the same object serves epoch after epoch. A partial last batch
is dropped by default, as the course does; `drop_last=False` keeps it, so that every
example is seen. `batch_size` and `max_num_batches` can be changed at any time and take
effect from the next batch.

`state()` gives everything that decides the next batches (the epoch's order, the
position in it, the batches served, the generator's state) and `load_state(state)`
restores it, so a checkpointed run continues with exactly the batches it would have had.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from mlp import _checks, dtypes
from mlp.rngs import RandomState, make_rng

__all__ = [
    "AugmentedMNISTDataProvider",
    "CCPPDataProvider",
    "DataProvider",
    "EMNISTDataProvider",
    "FashionMNISTDataProvider",
    "MNISTAutoencoderDataProvider",
    "MNISTDataProvider",
    "MetOfficeDataProvider",
    "OneOfKDataProvider",
]

Batch = tuple[np.ndarray, np.ndarray]


def _check_batch_size(value: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"batch_size must be a positive integer, got {value!r}")
    return int(value)


def _check_max_num_batches(value: int) -> int:
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not (value == -1 or value > 0)
    ):
        raise ValueError(
            f"max_num_batches must be -1 (no limit) or a positive integer, got {value!r}"
        )
    return int(value)


class DataProvider:
    """Mini-batches of `(inputs, targets)` from arrays held in memory.

    Args:
        inputs: array of shape (num_examples, ...), served in the default dtype.
        targets: array of shape (num_examples, ...).
        batch_size: examples per batch.
        max_num_batches: at most this many batches per epoch; -1 for no limit.
        shuffle_order: shuffle the examples at the start of every epoch.
        rng: random generator for the shuffles (RandomState or Generator); one seeded
            with `mlp.DEFAULT_SEED` when None.
        drop_last: drop a final batch smaller than `batch_size` (the course's behaviour).
    """

    def __init__(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        drop_last: bool = True,
    ) -> None:
        inputs = _checks.number_array(inputs, "inputs", type(self).__name__)
        targets = _checks.number_array(targets, "targets", type(self).__name__)
        if inputs.ndim < 1 or targets.ndim < 1 or inputs.shape[0] != targets.shape[0]:
            raise ValueError(
                f"inputs and targets need one row per example, got {inputs.shape[:1]} "
                f"and {targets.shape[:1]} rows"
            )
        if inputs.shape[0] == 0:
            raise ValueError("cannot serve batches from an empty data set")
        if inputs.dtype.kind == "f" or inputs.dtype.kind in "iub":
            inputs = np.ascontiguousarray(inputs, dtype=dtypes.get_default_dtype())
        self.inputs = inputs
        self.targets = targets
        self._batch_size = _check_batch_size(batch_size)
        self._max_num_batches = _check_max_num_batches(max_num_batches)
        self.shuffle_order = _checks.truth(shuffle_order, "shuffle_order", type(self).__name__)
        self.drop_last = _checks.truth(drop_last, "drop_last", type(self).__name__)
        self._check_serves_a_batch()
        self.rng = make_rng(rng)
        self._order = np.arange(self.num_examples)
        self._position = 0  # index of the next example in the current order
        self._batches_served = 0
        self.new_epoch()

    # --- sizes -----------------------------------------------------------------------

    @property
    def num_examples(self) -> int:
        """Number of examples in the data set."""
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        """Examples per batch."""
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value: int) -> None:
        value = _check_batch_size(value)
        self._check_serves_a_batch(value)
        self._batch_size = value

    def _check_serves_a_batch(self, batch_size: int | None = None) -> None:
        # Else every epoch would be empty and training would silently do nothing.
        batch_size = self._batch_size if batch_size is None else batch_size
        if self.drop_last and batch_size > self.num_examples:
            raise ValueError(
                f"batch_size {batch_size} is larger than the {self.num_examples} "
                "examples, so with drop_last=True no batch would ever be served: use a "
                "smaller batch_size, or drop_last=False for one smaller batch"
            )

    @property
    def max_num_batches(self) -> int:
        """At most this many batches per epoch; -1 for no limit."""
        return self._max_num_batches

    @max_num_batches.setter
    def max_num_batches(self, value: int) -> None:
        self._max_num_batches = _check_max_num_batches(value)

    @property
    def num_batches(self) -> int:
        """Batches per epoch with the current batch size and limit."""
        full, rest = divmod(self.num_examples, self.batch_size)
        count = full + (1 if rest and not self.drop_last else 0)
        return count if self.max_num_batches == -1 else min(count, self.max_num_batches)

    @property
    def num_examples_per_epoch(self) -> int:
        """Number of examples served in one epoch."""
        return min(self.num_batches * self.batch_size, self.num_examples)

    # --- epochs ----------------------------------------------------------------------

    def new_epoch(self) -> None:
        """Start a new epoch: back to the first batch, reshuffled when `shuffle_order`."""
        self._position = 0
        self._batches_served = 0
        if self.shuffle_order:
            self._order = self.rng.permutation(self.num_examples)

    def reset(self) -> None:
        """Return to the original example order and start a new epoch.

        With a shared rng, re-seed it first (`rng.seed(seed)`) to repeat a run exactly.
        """
        self._order = np.arange(self.num_examples)
        self.new_epoch()

    def __iter__(self) -> Iterator[Batch]:
        self._check_serves_a_batch()  # drop_last may have been set since
        return self

    def __next__(self) -> Batch:
        size = self.batch_size
        remaining = self.num_examples - self._position
        out_of_batches = self.max_num_batches != -1 and self._batches_served >= self.max_num_batches
        if out_of_batches or remaining <= 0 or (remaining < size and self.drop_last):
            self.new_epoch()
            raise StopIteration
        indices = self._order[self._position : self._position + size]
        self._position += len(indices)
        self._batches_served += 1
        return self._batch(indices)

    def next(self) -> Batch:
        """The next batch (the course's Python 2 spelling of `next(provider)`)."""
        return self.__next__()

    def _batch(self, indices: np.ndarray) -> Batch:
        # Gathering rows copies each example once per epoch; the data set itself is
        # never permuted in place.
        return self.inputs[indices], self.targets[indices]

    # --- whole-set access for evaluation ---------------------------------------------

    def evaluation_batches(self, batch_size: int = 10_000) -> Iterator[Batch]:
        """Every example once, in the original order, in large batches.

        Used for statistics: it leaves the epoch in progress untouched, serves a partial
        last batch, and respects `max_num_batches` by covering only as many examples as
        an epoch serves.

        Args:
            batch_size: rows per batch, >= 1.
        Yields:
            (inputs, targets) of up to batch_size rows each.
        """
        batch_size = _checks.count(batch_size, "batch_size", "evaluation_batches", 1)
        return self._evaluation_batches(batch_size)

    def _evaluation_batches(self, batch_size: int) -> Iterator[Batch]:
        stop = self.num_examples_per_epoch if self.max_num_batches != -1 else self.num_examples
        for start in range(0, stop, batch_size):
            end = min(start + batch_size, stop)
            yield self.inputs[start:end], self.targets[start:end]

    # --- state, for checkpoints ------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything that decides the batches to come, as a copy.

        Returns:
            {'order': int64 array of shape (num_examples,), the current epoch's order;
             'position': index in `order` of the next example; 'batches_served': batches
             served this epoch; 'rng': the generator's state (`rng.get_state()` of a
             RandomState, `rng.bit_generator.state` of a Generator)}.
        The data, batch size and limits are not part of it: they come from the code.
        """
        rng_state: Any
        if isinstance(self.rng, np.random.RandomState):
            rng_state = self.rng.get_state()
        else:
            rng_state = self.rng.bit_generator.state
        return {
            "order": np.array(self._order, dtype=np.int64),
            "position": self._position,
            "batches_served": self._batches_served,
            "rng": copy.deepcopy(rng_state),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Continue from a `state()`: the next batches are those the provider that gave
        it served next. Nothing changes unless the whole state is valid.

        Raises:
            ValueError: naming the key that is missing or wrong (an order that is not a
                permutation of this data set's examples, a position out of range, a
                generator state of another kind).
        """
        if not isinstance(state, Mapping):
            raise TypeError(f"load_state: state must be a dict, got {type(state).__name__}")
        missing = [
            key for key in ("order", "position", "batches_served", "rng") if key not in state
        ]
        if missing:
            raise ValueError(f"load_state: the state has no {', '.join(map(repr, missing))}")
        order = self._checked_order(state["order"])
        position = _checked_index("position", state["position"], self.num_examples)
        served = _checked_index("batches_served", state["batches_served"], self.num_examples)
        _set_generator_state(copy.deepcopy(self.rng), state["rng"])  # a check: raises if bad
        _set_generator_state(self.rng, state["rng"])
        self._order, self._position, self._batches_served = order, position, served

    def _checked_order(self, value: Any) -> np.ndarray:
        order = np.asarray(value)
        if order.shape != (self.num_examples,) or order.dtype.kind not in "iu":
            raise ValueError(
                f"load_state: 'order' must be integers of shape ({self.num_examples},), "
                f"got {order.dtype} {order.shape}"
            )
        if not np.array_equal(np.sort(order), np.arange(self.num_examples)):
            raise ValueError(
                f"load_state: 'order' is not a permutation of the {self.num_examples} examples"
            )
        return order.astype(np.int64, copy=True)

    def __len__(self) -> int:
        return self.num_batches

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(num_examples={self.num_examples}, "
            f"batch_size={self.batch_size}, num_batches={self.num_batches})"
        )


def _checked_index(name: str, value: Any, maximum: int) -> int:
    if (
        not isinstance(value, (int, np.integer))
        or isinstance(value, bool)
        or not 0 <= value <= maximum
    ):
        raise ValueError(
            f"load_state: {name!r} must be an integer in 0 .. {maximum}, got {value!r}"
        )
    return int(value)


def _set_generator_state(rng: RandomState, rng_state: Any) -> None:
    """Set a generator's state in place (the generator may be shared with layers)."""
    try:
        if isinstance(rng, np.random.RandomState):
            rng.set_state(rng_state)
        else:
            rng.bit_generator.state = rng_state
    except (TypeError, ValueError, KeyError) as error:
        raise ValueError(
            f"load_state: 'rng' is not a state of this provider's {type(rng).__name__}: {error}"
        ) from None


class OneOfKDataProvider(DataProvider):
    """A provider whose integer class labels are served as one-of-K rows.

    Args:
        inputs: array of shape (num_examples, input_dim).
        targets: integer labels of shape (num_examples,), in 0..num_classes-1.
        num_classes: K; default one more than the largest label.
        (the rest as `DataProvider`)
    Serves targets of shape (batch_size, num_classes) in the default dtype.
    """

    def __init__(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        batch_size: int,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        drop_last: bool = True,
        num_classes: int | None = None,
    ) -> None:
        labels = _checks.number_array(targets, "targets", type(self).__name__)
        if labels.size == 0:
            raise ValueError("cannot serve batches from an empty data set")
        if labels.ndim != 1 or labels.dtype.kind not in "iu":
            raise ValueError(
                f"OneOfKDataProvider needs 1-D integer labels, got {labels.dtype} {labels.shape}"
            )
        if labels.size and labels.min() < 0:
            raise ValueError("class labels must be >= 0")
        if num_classes is None:
            num_classes = int(labels.max()) + 1
        num_classes = _checks.count(num_classes, "num_classes", type(self).__name__, 1)
        if labels.size and labels.max() >= num_classes:
            raise ValueError(f"label {labels.max()} is out of range for num_classes={num_classes}")
        self.num_classes = num_classes
        self.labels = labels
        # Encoded once here, not per batch: 50,000 x 10 float32 is 2 MB.
        one_of_k = np.zeros((labels.shape[0], num_classes), dtype=dtypes.get_default_dtype())
        one_of_k[np.arange(labels.shape[0]), labels] = 1
        super().__init__(
            inputs, one_of_k, batch_size, max_num_batches, shuffle_order, rng, drop_last
        )

    def to_one_of_k(self, int_targets: np.ndarray) -> np.ndarray:
        """Integer labels of shape (n,) (a list is converted), each in 0..num_classes-1, as
        one-of-K rows of shape (n, num_classes)."""
        int_targets = _checks.number_array(int_targets, "int_targets", "to_one_of_k")
        if int_targets.ndim != 1 or int_targets.dtype.kind not in "iu":
            raise ValueError(
                f"to_one_of_k needs 1-D integer labels, got {int_targets.dtype} {int_targets.shape}"
            )
        if int_targets.size and not 0 <= int_targets.min() <= int_targets.max() < self.num_classes:
            bad = int_targets[(int_targets < 0) | (int_targets >= self.num_classes)][0]
            raise ValueError(
                f"to_one_of_k: label {bad} is out of range 0..{self.num_classes - 1} "
                f"(num_classes={self.num_classes})"
            )
        one_of_k = np.zeros((int_targets.shape[0], self.num_classes), dtype=self.targets.dtype)
        one_of_k[np.arange(int_targets.shape[0]), int_targets] = 1
        return one_of_k


class MNISTDataProvider(OneOfKDataProvider):
    """MNIST handwritten digits: 28x28 images flattened to 784 values k/256, ten classes.

    Args:
        which_set: 'train' (50,000 examples), 'valid' (10,000) or 'test' (10,000);
            'eval' is accepted for 'test'.
        batch_size, max_num_batches, shuffle_order, rng, drop_last: as `DataProvider`.
        data_dir: where the npz files live; default `$MLP_DATA_DIR` or a per-user folder.
            Missing files are fetched and verified on first use.

    Serves inputs (batch_size, 784) and one-of-K targets (batch_size, 10).
    """

    dataset_name = "mnist"

    def __init__(
        self,
        which_set: str = "train",
        batch_size: int = 100,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        drop_last: bool = True,
        data_dir: str | None = None,
    ) -> None:
        from mlp import datasets

        self.which_set = datasets.check_split(which_set)
        # Checked before the data are loaded (and perhaps fetched) for nothing.
        _check_batch_size(batch_size)
        rng = make_rng(rng)  # the same generator the base class would make
        inputs, labels = datasets.load(self.dataset_name, self.which_set, data_dir=data_dir)
        super().__init__(
            inputs,
            labels,
            batch_size,
            max_num_batches,
            shuffle_order,
            rng,
            drop_last,
            num_classes=10,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.which_set!r}, num_examples={self.num_examples}, "
            f"batch_size={self.batch_size})"
        )


class FashionMNISTDataProvider(MNISTDataProvider):
    """Fashion-MNIST: 28x28 images of ten kinds of clothing, split 50k/10k/10k like MNIST."""

    dataset_name = "fashion-mnist"


# --- the course's other labs and coursework ------------------------------------------

Transformer = Callable[[np.ndarray, RandomState], np.ndarray]


class AugmentedMNISTDataProvider(MNISTDataProvider):
    """MNIST whose training batches pass through a random transformation (augmentation).

    Args:
        which_set, batch_size, max_num_batches, shuffle_order, rng: as `MNISTDataProvider`.
        transformer: a function ``transformer(inputs_batch, rng) -> inputs_batch`` taking
            an array of shape (batch_size, 784) and the provider's generator, returning
            an array of the same shape; None serves the batches unchanged.
        drop_last, data_dir: as `MNISTDataProvider` (keyword arguments).

    Each batch's inputs are transformed as it is served; the targets are unchanged and
    the stored data are never modified. `evaluation_batches` serves the data untouched.
    The transformer draws from `rng`, so `state()` covers its draws too.
    """

    def __init__(
        self,
        which_set: str = "train",
        batch_size: int = 100,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        transformer: Transformer | None = None,
        *,
        drop_last: bool = True,
        data_dir: str | None = None,
    ) -> None:
        if transformer is not None and not callable(transformer):
            raise TypeError(
                "transformer must be a function transformer(inputs_batch, rng) or None, "
                f"got {type(transformer).__name__} {transformer!r:.60}"
            )
        self.transformer = transformer
        super().__init__(
            which_set, batch_size, max_num_batches, shuffle_order, rng, drop_last, data_dir
        )

    def _batch(self, indices: np.ndarray) -> Batch:
        inputs, targets = super()._batch(indices)
        if self.transformer is None:
            return inputs, targets
        # A copy: a transformer that works in place must not reach the stored data.
        transformed = np.asarray(self.transformer(inputs.copy(), self.rng))
        if transformed.shape != inputs.shape:
            raise ValueError(
                f"transformer must return an array of the batch's shape {inputs.shape}, "
                f"got {transformed.shape}"
            )
        return transformed, targets


class MNISTAutoencoderDataProvider(MNISTDataProvider):
    """MNIST for autoencoders: batches of (inputs, inputs), each of shape (batch_size, 784).

    Arguments as `MNISTDataProvider`; the labels are not served (nor by
    `evaluation_batches`, whose targets are the inputs too).
    """

    def _batch(self, indices: np.ndarray) -> Batch:
        inputs = self.inputs[indices]
        return inputs, inputs

    def _evaluation_batches(self, batch_size: int) -> Iterator[Batch]:
        for inputs, _ in super()._evaluation_batches(batch_size):
            yield inputs, inputs


class EMNISTDataProvider(OneOfKDataProvider):
    """EMNIST Balanced: 28x28 images of handwritten digits and letters, 47 classes.

    Args:
        which_set: 'train', 'valid' or 'test' ('eval' is accepted for 'test'): the file
            ``emnist-{which_set}.npz`` of the data directory (the course's own files, or
            those `mlp.datasets.fetch('emnist')` builds from NIST's distribution).
        batch_size, max_num_batches, shuffle_order, rng: as `DataProvider`.
        flatten: serve inputs of shape (batch_size, 784), as the first coursework's code
            expects (default); False serves (batch_size, 1, 28, 28), channels first, for
            convolutional layers. (The course's second coursework's provider gave
            (batch_size, 28, 28, 1), channels last.)
        drop_last, data_dir: as `MNISTDataProvider` (keyword arguments).

    Inputs are the files' uint8 pixels divided by 255; targets one-of-K rows
    (batch_size, 47).
    """

    def __init__(
        self,
        which_set: str = "train",
        batch_size: int = 100,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        flatten: bool = True,
        *,
        drop_last: bool = True,
        data_dir: str | None = None,
    ) -> None:
        from mlp import datasets
        from mlp.datasets.emnist import EMNIST_CLASSES, emnist_filename, read_emnist

        self.which_set = datasets.check_split(which_set)
        self.flatten = _checks.truth(flatten, "flatten", type(self).__name__)
        _check_batch_size(batch_size)
        rng = make_rng(rng)
        path = datasets.file_path("emnist", emnist_filename(self.which_set), data_dir)
        images, labels = read_emnist(path)
        shape = (len(images), 784) if self.flatten else (len(images), 1, 28, 28)
        dtype = dtypes.get_default_dtype()
        inputs = np.divide(images.reshape(shape), 255, dtype=dtype)
        super().__init__(
            inputs,
            labels,
            batch_size,
            max_num_batches,
            shuffle_order,
            rng,
            drop_last,
            num_classes=EMNIST_CLASSES,
        )


class MetOfficeDataProvider(DataProvider):
    """Windows of the Met Office's daily Southern Scotland precipitation series.

    The series (``HadSSP_daily_qc.txt`` in the data directory, fetched when missing) is
    read month after month, the missing readings (-99.99) and any negative value
    dropped, and normalised to zero mean and unit standard deviation. Like the course's
    loader, it reads the columns of days 1 to 30 only (the loader's column range stops
    one short, leaving out every 31st day), so that course numbers reproduce;
    ``all_days=True`` reads day 31 too.

    Args:
        window_size: length of each window, >= 2; windows overlap, one per start day.
        batch_size, max_num_batches, shuffle_order, rng: as `DataProvider`.
        drop_last, data_dir: as `MNISTDataProvider`; all_days: see above (keywords).

    Serves inputs (batch_size, window_size - 1), the first values of each window, and
    targets (batch_size,), its last value.
    """

    def __init__(
        self,
        window_size: int,
        batch_size: int = 10,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        *,
        drop_last: bool = True,
        data_dir: str | None = None,
        all_days: bool = False,
    ) -> None:
        from mlp import datasets
        from mlp.datasets.metoffice import METOFFICE_FILENAME, read_metoffice

        self.window_size = _checks.count(window_size, "window_size", type(self).__name__, 2)
        all_days = _checks.truth(all_days, "all_days", type(self).__name__)
        _check_batch_size(batch_size)
        path = datasets.file_path("metoffice", METOFFICE_FILENAME, data_dir)
        series = read_metoffice(path, last_day=31 if all_days else 30)
        if len(series) < self.window_size:
            raise ValueError(
                f"window_size {self.window_size} is longer than the {len(series)} readings"
            )
        normalised = (series - series.mean()) / series.std()
        windows = np.lib.stride_tricks.sliding_window_view(normalised, self.window_size)
        super().__init__(
            windows[:, :-1],
            windows[:, -1].astype(dtypes.get_default_dtype()),
            batch_size,
            max_num_batches,
            shuffle_order,
            rng,
            drop_last,
        )


class CCPPDataProvider(DataProvider):
    """The UCI Combined Cycle Power Plant data: hourly readings and the plant's output.

    Args:
        which_set: 'train' (8,568 rows) or 'valid' (1,000) of ``ccpp_data.npz`` in the
            data directory (the course's file, or the one `mlp.datasets.fetch('ccpp')`
            builds from UCI's ``CCPP.zip``; see `mlp.datasets.ccpp` for how).
        input_dims: the input columns to serve, a subset of {0, 1, 2, 3}, in the order
            given; None serves all four.
        batch_size, max_num_batches, shuffle_order, rng: as `DataProvider`.
        drop_last, data_dir: as `MNISTDataProvider` (keyword arguments).

    Serves inputs (batch_size, len(input_dims)) and targets (batch_size, 1), the net
    electrical output, standardised.
    """

    def __init__(
        self,
        which_set: str = "train",
        input_dims: Iterable[int] | None = None,
        batch_size: int = 10,
        max_num_batches: int = -1,
        shuffle_order: bool = True,
        rng: RandomState | None = None,
        *,
        drop_last: bool = True,
        data_dir: str | None = None,
    ) -> None:
        from mlp import datasets
        from mlp.datasets.ccpp import CCPP_FILENAME, read_ccpp

        if which_set not in ("train", "valid"):
            raise ValueError(f"unknown which_set {which_set!r}; choose 'train' or 'valid'")
        self.which_set = which_set
        self.input_dims = _checked_input_dims(input_dims)
        _check_batch_size(batch_size)
        path = datasets.file_path("ccpp", CCPP_FILENAME, data_dir)
        inputs, targets = read_ccpp(path, which_set)
        if self.input_dims is not None:
            inputs = inputs[:, list(self.input_dims)]
        targets = targets.astype(dtypes.get_default_dtype())
        super().__init__(
            inputs, targets, batch_size, max_num_batches, shuffle_order, rng, drop_last
        )


def _checked_input_dims(input_dims: Iterable[int] | None) -> tuple[int, ...] | None:
    if input_dims is None:
        return None
    try:
        dims = tuple(input_dims)
    except TypeError:
        dims = ("not a collection",)  # type: ignore[assignment]
    if (
        not dims
        or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in dims)
        or not set(dims) <= {0, 1, 2, 3}
        or len(set(dims)) != len(dims)
    ):
        raise ValueError(
            "input_dims must be distinct input columns from {0, 1, 2, 3} (or None for all), "
            f"got {input_dims!r}"
        )
    return tuple(int(d) for d in dims)
