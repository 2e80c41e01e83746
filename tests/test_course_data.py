"""The course's other data sets (EMNIST, the Met Office series, CCPP) and their providers,
plus the augmented and autoencoder MNIST providers.

The fetchers are tested against an HTTP server on 127.0.0.1 serving small files made
here (the real hosts are not reachable); the parsers against the course's own files in
shared/reference when that folder is there.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import io
import os
import struct
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from mlp import datasets
from mlp.data_providers import (
    AugmentedMNISTDataProvider,
    CCPPDataProvider,
    EMNISTDataProvider,
    MetOfficeDataProvider,
    MNISTAutoencoderDataProvider,
    MNISTDataProvider,
)
from mlp.datasets import DataError, course_sets
from mlp.datasets.ccpp import build_ccpp, read_ccpp, xlsx_rows
from mlp.datasets.emnist import EMNIST_SPLIT_SEED, build_emnist, read_emnist
from mlp.datasets.file_sets import fetch_file_set
from mlp.datasets.metoffice import read_metoffice


def _reference_dir() -> Path | None:
    env = os.environ.get("MLP_REFERENCE_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "shared" / "reference")
    candidates.append(Path("/work/shared/reference"))
    for folder in candidates:
        if (folder / "HadSSP_daily_qc.txt").exists() and (folder / "ccpp_data.npz").exists():
            return folder
    return None


REFERENCE_DIR = _reference_dir()
needs_reference = pytest.mark.skipif(
    REFERENCE_DIR is None, reason="no shared/reference folder with the course's files"
)
MNIST_DIR = Path.home() / ".local" / "share" / "mlp"
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "mnist-valid.npz").exists(), reason="MNIST is not in ~/.local/share/mlp"
)


@pytest.fixture(autouse=True)
def _no_real_network(monkeypatch):
    """No test may reach the real publishers by accident."""
    for variable in ("MLP_EMNIST_MIRRORS", "MLP_METOFFICE_MIRRORS", "MLP_CCPP_MIRRORS"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9/")


# ------------------------------------------------------------------------------------------
# A server on 127.0.0.1; /cut/NAME announces more bytes than it sends, then hangs up
# ------------------------------------------------------------------------------------------


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass

    def do_GET(self):
        if not self.path.startswith("/cut/"):
            return super().do_GET()
        body = (Path(self.directory) / self.path[len("/cut/") :]).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body) + 1000))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def server(tmp_path):
    """Serve ``tmp_path / 'www'``; yields (folder, base URL)."""
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def _left_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# ------------------------------------------------------------------------------------------
# EMNIST
# ------------------------------------------------------------------------------------------

TINY_NIST = {"train": 60, "test": 20}


def _idx(array: np.ndarray) -> bytes:
    header = struct.pack(">I", 0x800 + array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0)


def _nist_zip(rng: np.random.RandomState) -> tuple[bytes, dict[str, tuple]]:
    """A small gzip.zip in NIST's layout (images stored transposed), and its parts."""
    parts, buffer = {}, io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        for part, size in TINY_NIST.items():
            images = rng.randint(0, 256, size=(size, 28, 28)).astype(np.uint8)
            labels = np.arange(size) % 47
            prefix = f"gzip/emnist-balanced-{part}"
            zipped.writestr(f"{prefix}-images-idx3-ubyte.gz", _idx(images.transpose(0, 2, 1)))
            zipped.writestr(f"{prefix}-labels-idx1-ubyte.gz", _idx(labels))
            zipped.writestr(f"gzip/emnist-letters-{part}-labels-idx1-ubyte.gz", b"other")
            parts[part] = (images, labels)
    return buffer.getvalue(), parts


@pytest.fixture
def tiny_emnist(server, monkeypatch):
    """The EMNIST set with a tiny NIST archive served at the fixture's URL."""
    root, url = server
    content, parts = _nist_zip(np.random.RandomState(0))
    (root / "gzip.zip").write_bytes(content)
    files = replace(
        course_sets.FILE_SETS["emnist"],
        mirrors=("http://127.0.0.1:9/", url),
        mirrors_env="",
        build=functools.partial(build_emnist, sizes=TINY_NIST, valid_size=10),
    )
    monkeypatch.setitem(course_sets.FILE_SETS, "emnist", files)
    return files, parts, root.parent / "data", url


def test_emnist_fetch_splits_nist_training_images_as_documented(tiny_emnist):
    files, parts, data, _ = tiny_emnist
    data.mkdir()
    paths, written = fetch_file_set(files, data, force=False, progress=False)
    assert written == ["emnist-train.npz", "emnist-valid.npz", "emnist-test.npz"]
    order = np.random.RandomState(EMNIST_SPLIT_SEED).permutation(60)
    images, labels = parts["train"]
    for split, rows in (("valid", np.sort(order[:10])), ("train", np.sort(order[10:]))):
        got_images, got_labels = read_emnist(paths[f"emnist-{split}.npz"])
        np.testing.assert_array_equal(got_images, images[rows])  # upright, NIST's order
        np.testing.assert_array_equal(got_labels, labels[rows])
    test_images, _ = read_emnist(paths["emnist-test.npz"])
    np.testing.assert_array_equal(test_images, parts["test"][0])
    assert _left_in(data) == sorted(files.filenames)
    # Present and valid: kept, nothing fetched.
    assert fetch_file_set(files, data, force=False, progress=False)[1] == []


def test_emnist_provider_scales_flattens_and_encodes(tiny_emnist):
    _, parts, data, _ = tiny_emnist
    provider = EMNISTDataProvider("test", batch_size=5, shuffle_order=False, data_dir=str(data))
    inputs, targets = next(provider)
    images, labels = parts["test"]
    assert inputs.shape == (5, 784) and inputs.dtype == np.float32
    np.testing.assert_allclose(inputs, images[:5].reshape(5, 784) / 255.0, rtol=1e-6)
    assert targets.shape == (5, 47)
    np.testing.assert_array_equal(targets.argmax(axis=1), labels[:5])
    images4 = EMNISTDataProvider("eval", 5, flatten=False, data_dir=str(data))
    assert next(images4)[0].shape == (5, 1, 28, 28)


def test_emnist_corrupt_download_is_refused_and_leaves_nothing(tiny_emnist):
    files, _, data, _ = tiny_emnist
    (Path(data.parent) / "www" / "gzip.zip").write_bytes(b"PK not really a zip")
    data.mkdir()
    with pytest.raises(DataError, match=r"gzip\.zip"):
        fetch_file_set(files, data, force=False, progress=False)
    assert _left_in(data) == []


def test_emnist_interrupted_download_is_refused_and_leaves_nothing(tiny_emnist):
    files, _, data, url = tiny_emnist
    data.mkdir()
    cut = replace(files, mirrors=(url + "cut/",))
    with pytest.raises(DataError, match="ended after"):
        fetch_file_set(cut, data, force=False, progress=False)
    assert _left_in(data) == []


def test_emnist_wrong_sizes_are_refused(tiny_emnist):
    files, _, data, _ = tiny_emnist
    data.mkdir()
    wrong = replace(files, build=build_emnist)  # expects NIST's 112,800 / 18,800
    with pytest.raises(DataError, match="112800"):
        fetch_file_set(wrong, data, force=False, progress=False)
    assert _left_in(data) == []


def test_emnist_course_files_in_the_data_directory_are_used(tmp_path):
    images = np.zeros((7, 28, 28), np.uint8)
    images[:, 0, 0] = 255
    np.savez(tmp_path / "emnist-valid.npz", inputs=images, targets=np.arange(7, dtype=np.int8))
    provider = EMNISTDataProvider("valid", 7, shuffle_order=False, data_dir=str(tmp_path))
    inputs, targets = next(provider)
    assert inputs[0, 0] == 1.0 and targets.shape == (7, 47)


def test_emnist_damaged_file_without_fetch_names_the_file(tmp_path):
    (tmp_path / "emnist-test.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"emnist-test\.npz"):
        datasets.file_path("emnist", "emnist-test.npz", tmp_path, fetch=False)
    with pytest.raises(DataError, match="does not exist"):
        datasets.file_path("emnist", "emnist-train.npz", tmp_path, fetch=False)
    with pytest.raises(ValueError, match="filename"):
        datasets.file_path("emnist", "mnist-test.npz", tmp_path)
    with pytest.raises(ValueError, match="name must be one of"):
        datasets.file_path("bogus", "x", tmp_path)


# ------------------------------------------------------------------------------------------
# The Met Office series
# ------------------------------------------------------------------------------------------

HEADER = "Daily rain.\nA reference.\nFormat=Year, Month, 1-31 daily precipitation values.\n"


def _metoffice_text(rows: list[list[float]]) -> str:
    lines = [f"{int(r[0]):5d}{int(r[1]):5d}" + "".join(f"{v:7.2f}" for v in r[2:]) for r in rows]
    return HEADER + "\n".join(lines) + "\n"


def _months() -> list[list[float]]:
    january = [1931, 1] + [float(d) for d in range(1, 32)]
    february = [1931, 2] + [float(d) / 10 for d in range(1, 29)] + [-99.99] * 3
    return [january, february]


def test_metoffice_reads_days_one_to_thirty_by_default(tmp_path):
    path = tmp_path / "HadSSP_daily_qc.txt"
    path.write_text(_metoffice_text(_months()))
    series = read_metoffice(path)
    expected = [float(d) for d in range(1, 31)] + [d / 10 for d in range(1, 29)]
    np.testing.assert_allclose(series, expected)
    assert len(read_metoffice(path, last_day=31)) == 31 + 28


def test_metoffice_provider_windows_the_normalised_series(tmp_path):
    (tmp_path / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    provider = MetOfficeDataProvider(4, batch_size=5, shuffle_order=False, data_dir=str(tmp_path))
    series = read_metoffice(tmp_path / "HadSSP_daily_qc.txt")
    normal = (series - series.mean()) / series.std()
    inputs, targets = next(provider)
    assert inputs.shape == (5, 3) and targets.shape == (5,)
    np.testing.assert_allclose(inputs[1], normal[1:4], rtol=1e-6)
    np.testing.assert_allclose(targets[1], normal[4], rtol=1e-6)
    assert provider.num_examples == len(series) - 3


def test_metoffice_state_resumes_the_same_batches(tmp_path):
    (tmp_path / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    provider = MetOfficeDataProvider(3, rng=np.random.RandomState(3), data_dir=str(tmp_path))
    next(provider)
    state = provider.state()
    first = next(provider)
    other = MetOfficeDataProvider(3, rng=np.random.RandomState(9), data_dir=str(tmp_path))
    other.load_state(state)
    np.testing.assert_array_equal(next(other)[0], first[0])


@pytest.mark.parametrize("window_size", [1, 0, 2.5, "3", None])
def test_metoffice_bad_window_size_is_named(tmp_path, window_size):
    (tmp_path / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    with pytest.raises((TypeError, ValueError), match="window_size"):
        MetOfficeDataProvider(window_size, data_dir=str(tmp_path))


def test_metoffice_window_longer_than_the_series_is_named(tmp_path):
    (tmp_path / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    with pytest.raises(ValueError, match="window_size"):
        MetOfficeDataProvider(100, data_dir=str(tmp_path))


@pytest.mark.parametrize(
    "text",
    [
        HEADER + "1931 1 2 3\n",
        HEADER + "x" * 40 + "\n",
        HEADER,
        "\xff\xfe",
        HEADER + "1931 1" + " -5" * 31,
    ],
)
def test_metoffice_malformed_files_are_refused(tmp_path, text):
    path = tmp_path / "HadSSP_daily_qc.txt"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(DataError, match=r"HadSSP_daily_qc\.txt"):
        read_metoffice(path)


def test_metoffice_fetch_and_cli_from_a_local_server(server, tmp_path, monkeypatch, capsys):
    root, url = server
    (root / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    data = tmp_path / "data"
    paths = datasets.fetch("metoffice", data, progress=False, mirrors=[url])
    assert read_metoffice(paths["HadSSP_daily_qc.txt"]).size == 58
    other = tmp_path / "other"
    monkeypatch.setenv("MLP_METOFFICE_MIRRORS", f"http://127.0.0.1:9/ {url}")
    assert datasets.main(["fetch", "metoffice", "--data-dir", str(other), "--no-progress"]) == 0
    assert "metoffice: fetched" in capsys.readouterr().out
    assert (other / "HadSSP_daily_qc.txt").exists()


def test_metoffice_corrupt_download_is_refused(server, tmp_path):
    root, url = server
    (root / "HadSSP_daily_qc.txt").write_text("<html>not found</html>\n" * 4)
    data = tmp_path / "data"
    with pytest.raises(DataError, match="could not fetch metoffice"):
        datasets.fetch("metoffice", data, progress=False, mirrors=[url])
    assert _left_in(data) == []


@needs_reference
def test_metoffice_reference_file_matches_the_course_loader():
    path = REFERENCE_DIR / "HadSSP_daily_qc.txt"
    raw = np.loadtxt(path, skiprows=3, usecols=range(2, 32))  # the course's reading
    np.testing.assert_array_equal(read_metoffice(path), raw[raw >= 0].flatten())
    provider = MetOfficeDataProvider(6, data_dir=str(REFERENCE_DIR), shuffle_order=False)
    assert provider.num_examples == (raw >= 0).sum() - 5
    assert abs(float(provider.targets.mean())) < 1e-3


# ------------------------------------------------------------------------------------------
# CCPP
# ------------------------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _xlsx(table: np.ndarray, header: tuple[str, ...] = ("AT", "V", "AP", "RH", "PE")) -> bytes:
    """A minimal .xlsx: the header as shared strings, then numeric rows."""
    strings = "".join(f"<si><t>{h}</t></si>" for h in header)
    cells = "".join(f'<c r="{chr(65 + i)}1" t="s"><v>{i}</v></c>' for i in range(5))
    rows = [f'<row r="1">{cells}</row>']
    for r, values in enumerate(table, start=2):
        row = "".join(
            f'<c r="{chr(65 + i)}{r}"><v>{float(v)!r}</v></c>' for i, v in enumerate(values)
        )
        rows.append(f'<row r="{r}">{row}</row>')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as book:
        book.writestr("xl/sharedStrings.xml", f'<sst xmlns="{_MAIN}">{strings}</sst>')
        sheet = f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'
        book.writestr("xl/worksheets/sheet1.xml", sheet)
    return buffer.getvalue()


def _ccpp_table(rows: int = 1200) -> np.ndarray:
    rng = np.random.RandomState(5)
    inputs = rng.normal(size=(rows, 4)) @ rng.normal(size=(4, 4)) + [20, 50, 1010, 70]
    output = 450 - 2 * inputs[:, 0] + rng.normal(size=rows)
    return np.round(np.column_stack([inputs, output]), 2)


def _ccpp_zip(table: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("CCPP/Readme.txt", "readme")
        zipped.writestr("CCPP/Folds5x2_pp.xlsx", _xlsx(table))
    return buffer.getvalue()


def test_xlsx_rows_reads_shared_strings_and_numbers():
    table = _ccpp_table(3)
    rows = xlsx_rows(_xlsx(table))
    assert rows[0] == ["AT", "V", "AP", "RH", "PE"]
    np.testing.assert_array_equal(np.array(rows[1:], dtype=float), table)
    with pytest.raises(DataError, match="xlsx"):
        xlsx_rows(b"not a zip")


def test_ccpp_fetch_whitens_standardises_and_splits(server, tmp_path, monkeypatch):
    root, url = server
    table = _ccpp_table()
    (root / "CCPP.zip").write_bytes(_ccpp_zip(table))
    files = replace(
        course_sets.FILE_SETS["ccpp"], build=functools.partial(build_ccpp, num_rows=1200)
    )
    monkeypatch.setitem(course_sets.FILE_SETS, "ccpp", files)
    paths = datasets.fetch("ccpp", tmp_path / "data", progress=False, mirrors=[url])
    train, valid = (read_ccpp(paths["ccpp_data.npz"], s) for s in ("train", "valid"))
    assert train[0].shape == (200, 4) and valid[0].shape == (1000, 4)
    inputs = np.vstack([train[0], valid[0]])
    np.testing.assert_allclose(inputs.mean(axis=0), 0, atol=1e-9)
    np.testing.assert_allclose(inputs.T @ inputs / len(inputs), np.eye(4), atol=1e-9)
    targets = np.vstack([train[1], valid[1]])
    assert abs(targets.mean()) < 1e-9 and abs(targets.std() - 1) < 1e-9
    expected = (table[:, 4] - table[:, 4].mean()) / table[:, 4].std()
    np.testing.assert_allclose(np.sort(targets[:, 0]), np.sort(expected), atol=1e-9)
    provider = CCPPDataProvider("valid", [3, 1], batch_size=4, data_dir=str(tmp_path / "data"))
    assert [a.shape for a in next(provider)] == [(4, 2), (4, 1)]


@pytest.mark.parametrize(
    "content, message",
    [(b"garbage", r"CCPP\.zip"), (b"", r"CCPP\.zip"), ("wrong-header", "header")],
)
def test_ccpp_corrupt_download_is_refused_and_leaves_nothing(server, tmp_path, content, message):
    root, url = server
    if content == "wrong-header":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as zipped:
            zipped.writestr("CCPP/x.xlsx", _xlsx(_ccpp_table(3), ("XX", "V", "AP", "RH", "PE")))
        content = buffer.getvalue()
    (root / "CCPP.zip").write_bytes(content)
    data = tmp_path / "data"
    with pytest.raises(DataError, match=message):
        datasets.fetch("ccpp", data, progress=False, mirrors=[url])
    assert _left_in(data) == []


@needs_reference
def test_ccpp_reference_file_reads_as_the_course_splits_it():
    path = REFERENCE_DIR / "ccpp_data.npz"
    train, valid = read_ccpp(path, "train"), read_ccpp(path, "valid")
    assert train[0].shape == (8568, 4) and valid[0].shape == (1000, 4)
    assert train[1].shape == (8568, 1) and valid[1].shape == (1000, 1)
    # The course's inputs are whitened over all rows, as ours are.
    inputs = np.vstack([train[0], valid[0]])
    np.testing.assert_allclose(inputs.T @ inputs / len(inputs), np.eye(4), atol=1e-6)
    provider = CCPPDataProvider("train", input_dims=[0], data_dir=str(REFERENCE_DIR))
    assert provider.inputs.shape == (8568, 1)
    np.testing.assert_allclose(provider.inputs[:, 0], train[0][:, 0], rtol=1e-6)


@pytest.mark.parametrize("input_dims", [[4], [0, 0], [], "ab", 3, [1.0], [True]])
def test_ccpp_bad_input_dims_are_named(input_dims):
    with pytest.raises(ValueError, match="input_dims"):
        CCPPDataProvider(input_dims=input_dims, data_dir="/nonexistent")


@pytest.mark.parametrize("which_set", ["test", "bogus", None])
def test_ccpp_bad_which_set_is_named(which_set):
    with pytest.raises(ValueError, match="which_set"):
        CCPPDataProvider(which_set, data_dir="/nonexistent")


def test_bad_which_set_is_named_for_emnist():
    with pytest.raises(ValueError, match="which_set"):
        EMNISTDataProvider("bogus")
    with pytest.raises(TypeError, match="flatten"):
        EMNISTDataProvider("train", flatten="yes")


def test_cli_lists_the_new_data_sets(capsys):
    assert datasets.main(["fetch", "--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("emnist", "metoffice", "ccpp"))


# ------------------------------------------------------------------------------------------
# Augmented and autoencoder MNIST
# ------------------------------------------------------------------------------------------


def _noise(inputs, rng):
    return inputs + rng.uniform(0, 1, size=inputs.shape).astype(inputs.dtype)


@needs_mnist
def test_augmented_mnist_transforms_batches_but_not_the_data():
    kwargs = dict(batch_size=50, rng=np.random.RandomState(2), data_dir=str(MNIST_DIR))
    plain = MNISTDataProvider("valid", **kwargs)
    kept = plain.inputs.copy()
    kwargs["rng"] = np.random.RandomState(2)
    augmented = AugmentedMNISTDataProvider("valid", transformer=_noise, **kwargs)
    inputs, targets = next(augmented)
    plain_inputs, plain_targets = next(plain)
    np.testing.assert_array_equal(targets, plain_targets)
    assert inputs.shape == plain_inputs.shape and not np.array_equal(inputs, plain_inputs)
    np.testing.assert_array_equal(augmented.inputs, kept)
    # The state covers the transformer's draws.
    state = augmented.state()
    again = next(augmented)[0]
    augmented.load_state(state)
    np.testing.assert_array_equal(next(augmented)[0], again)
    identity = AugmentedMNISTDataProvider("valid", 50, shuffle_order=False, data_dir=str(MNIST_DIR))
    np.testing.assert_array_equal(next(identity)[0], identity.inputs[:50])


@needs_mnist
def test_augmented_mnist_refuses_bad_transformers():
    with pytest.raises(TypeError, match="transformer"):
        AugmentedMNISTDataProvider("valid", transformer="flip", data_dir=str(MNIST_DIR))
    wrong = AugmentedMNISTDataProvider(
        "valid", transformer=lambda x, rng: x[:, :10], data_dir=str(MNIST_DIR)
    )
    with pytest.raises(ValueError, match="transformer"):
        next(wrong)


@needs_mnist
def test_autoencoder_mnist_serves_inputs_as_targets():
    provider = MNISTAutoencoderDataProvider("valid", 20, data_dir=str(MNIST_DIR))
    inputs, targets = next(provider)
    assert inputs.shape == (20, 784)
    np.testing.assert_array_equal(inputs, targets)
    batch_inputs, batch_targets = next(provider.evaluation_batches(100))
    np.testing.assert_array_equal(batch_inputs, batch_targets)


def test_mlp_data_fetch_offers_the_new_data_sets(server, tmp_path, monkeypatch, capsys):
    from mlp import cli

    root, url = server
    (root / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    monkeypatch.setenv("MLP_METOFFICE_MIRRORS", url)
    argv = ["data", "fetch", "metoffice", "--data-dir", str(tmp_path / "d"), "--no-progress"]
    assert cli.main(argv) == 0
    assert (tmp_path / "d" / "HadSSP_daily_qc.txt").exists()


# ------------------------------------------------------------------------------------------
# What users meet at the command line: an unreachable host, a fetch killed midway
# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["emnist", "metoffice", "ccpp"])
def test_an_unreachable_host_gives_a_clear_message(name, tmp_path, monkeypatch, capsys):
    from mlp import cli

    monkeypatch.setenv(f"MLP_{name.upper()}_MIRRORS", "http://127.0.0.1:9/")
    argv = ["data", "fetch", name, "--data-dir", str(tmp_path / "d"), "--no-progress"]
    assert cli.main(argv) != 0
    err = capsys.readouterr().err
    assert name in err and "Traceback" not in err
    assert "127.0.0.1:9" in err or "could not" in err
    assert _left_in(tmp_path / "d") == []


class _SlowHandler(_Handler):
    """Sends half of the file, says so, then stalls (the fetch is killed meanwhile)."""

    half_sent: threading.Event

    def do_GET(self):
        body = (Path(self.directory) / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.half_sent.set()
        threading.Event().wait(20)


def test_a_fetch_killed_midway_leaves_nothing_that_loads_wrong_and_a_rerun_ends_valid(
    server, tmp_path
):
    import subprocess
    import sys

    root, url = server
    (root / "HadSSP_daily_qc.txt").write_text(_metoffice_text(_months()))
    handler = type("Slow", (_SlowHandler,), {"half_sent": threading.Event()})
    slow = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(root))
    )
    threading.Thread(target=slow.serve_forever, args=(0.05,), daemon=True).start()
    data = tmp_path / "data"
    env = {**os.environ, "MLP_METOFFICE_MIRRORS": f"http://127.0.0.1:{slow.server_address[1]}/"}
    argv = [sys.executable, "-m", "mlp", "data", "fetch", "metoffice", "--data-dir", str(data)]
    fetch = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert handler.half_sent.wait(60), "the fetch never started downloading"
    finally:
        fetch.kill()  # SIGKILL: no cleanup handler runs
        fetch.wait()
        slow.shutdown()
        slow.server_close()
    assert "HadSSP_daily_qc.txt" not in _left_in(data)
    paths = datasets.fetch("metoffice", data, progress=False, mirrors=[url])
    assert read_metoffice(paths["HadSSP_daily_qc.txt"]).size == 58
