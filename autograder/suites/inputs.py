"""Inputs of the tests: seeded generators and well-conditioned arrays."""
import copy

import numpy as np

from autograder.suites.graded import ref

# The grading run's secret seed (None: fixed inputs). On Gradescope every
# grading draws its own, so that answers recorded for one set of inputs (the
# handout's self-check store, an earlier run) match nothing; the self-check and
# the recording of its answers keep None, so their inputs stay fixed.
_grading_seed = None


def set_grading_seed(seed):
    """Mix `seed` (an int >= 0, or None for the fixed inputs) into every rng_for."""
    global _grading_seed
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"a grading seed is a non-negative int, not {seed!r}")
    _grading_seed = seed


def grading_seed():
    """The seed set by set_grading_seed (None: fixed inputs)."""
    return _grading_seed


def key_seed(*key):
    """A 32-bit number from a test's own key (stable across runs and orders)."""
    seed = 0
    for part in key:
        for ch in str(part):
            seed = (seed * 131 + ord(ch)) % (2 ** 32)
    return seed


def rng_for(*key):
    """A generator seeded by a test's own key and the grading seed: the same
    inputs for the same key within one grading (whatever the test order), other
    inputs in every grading that has another seed."""
    if _grading_seed is None:
        return np.random.default_rng(key_seed(*key))
    return np.random.default_rng([key_seed(*key), _grading_seed])


def labels(rng, n, k):
    """n int64 labels in range(k), every class present when n >= k."""
    y = rng.integers(0, k, size=n)
    if n >= k:
        y[rng.permutation(n)[:k]] = np.arange(k)
    return y.astype(np.int64)


def one_hot(y, k):
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1.0
    return Y


def probabilities(rng, n, k, spread=2.0):
    """Rows of a softmax of O(1) logits: strictly inside (0, 1), rows sum to 1."""
    return ref().softmax(rng.normal(0.0, spread, size=(n, k)))


def network_params(rng, m, h, k, scale=0.7):
    """O(1) parameters with nonzero biases (so a dropped bias shows)."""
    return {"W1": rng.normal(0, scale, size=(h, m)), "b1": rng.normal(0, 0.5, size=h),
            "W2": rng.normal(0, scale, size=(k, h)), "b2": rng.normal(0, 0.5, size=k)}


def copy_args(args):
    return [copy.deepcopy(a) for a in args]


# ---------------------------------------------------------------------------
# Fixed inputs of the probes (see probes() in each suite module)
# ---------------------------------------------------------------------------

def fixed_rng(seed):
    """A generator with a plain integer seed."""
    return np.random.default_rng(seed)


def fixed_params(M=6, H=5, K=3, seed=0):
    rng = fixed_rng(100 + seed)
    return {"W1": rng.normal(0, 0.5, (H, M)), "b1": rng.normal(0, 0.1, H),
            "W2": rng.normal(0, 0.5, (K, H)), "b2": rng.normal(0, 0.1, K)}


def fixed_probabilities(N, K, seed, zeros=False):
    Z = fixed_rng(seed).normal(0, 2, (N, K))
    P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    if zeros:
        P[0] = 0.0
        P[0, 0] = 1.0
        P[1, :] = 1.0 / K
    return P


def fixed_labels(N, K, seed):
    return fixed_rng(seed).integers(0, K, N)


def fixed_dataset(N, M=6, K=3, seed=0):
    rng = fixed_rng(200 + seed)
    centers = rng.normal(0, 2.0, (K, M))
    y = rng.integers(0, K, N)
    X = centers[y] + rng.normal(0, 1.0, (N, M))
    return X, y
