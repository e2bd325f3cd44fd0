"""The likely mistake behind a wrong value, when the numbers show one.

`likely_mistake(got, true, n=..., candidates=...)` tries, in order:
1. candidates: values that a known mistake produces on the same inputs
   (built by the `*_candidates` functions below from the inputs alone);
2. a transposed result;
3. the scale fit s = <got, true> / <true, true> when got is (almost exactly)
   s * true: s ~ N means the 1/N of the mean is missing, s ~ 1/N that it is
   applied twice, s ~ -1 a flipped sign (docs/GRADING.md);
4. an all-zero result.
It returns a sentence for the student, or None when nothing is recognised.
"""
import re

import numpy as np

from autograder.checks.compare import shape_str, sym_rel_error

MATCH = 1e-6      # a candidate "is" the student's value below this relative error
SCALE_FIT = 1e-6  # residual below which got is a multiple of true


def as_float_array(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        return value.astype(np.float64)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return np.asarray(float(value))
    return None


def scale_fit(got, true):
    """(s, residual): got ~ s * true, residual = ||got - s true|| / ||got||."""
    g = np.asarray(got, dtype=np.float64).reshape(-1)
    t = np.asarray(true, dtype=np.float64).reshape(-1)
    tt = float(t @ t)
    if tt == 0 or g.shape != t.shape or not np.all(np.isfinite(g)):
        return None, np.inf
    s = float(g @ t) / tt
    gn = float(np.linalg.norm(g))
    if gn == 0:
        return 0.0, 0.0
    return s, float(np.linalg.norm(g - s * t)) / gn


def _close(x, target, rel=0.02):
    return abs(x - target) <= rel * abs(target)


def explain_scale(s, n=None, k=None, exact_only=False):
    """A sentence for a result that is s times the true one."""
    if n is not None and n > 1:
        if _close(s, n):
            return (f"your result is about N = {n} times the true one: the 1/N of the MEAN "
                    "loss is missing (summed over the batch instead of averaged)")
        if _close(s, 1.0 / n):
            return (f"your result is about 1/N = 1/{n} of the true one: the 1/N is applied "
                    "twice (the upstream gradient already contains the mean's 1/N)")
        if _close(s, -float(n)):
            return (f"your result is about -N = -{n} times the true one: the sign is flipped "
                    "and the 1/N of the mean is missing")
        if _close(s, -1.0 / n):
            return (f"your result is about -1/N times the true one: the sign is flipped and "
                    "the 1/N is applied twice")
    if k is not None and k > 1 and n is not None:
        if _close(s, float(n) / k) and n != k:
            return (f"your result is about N/K = {n}/{k} times the true one: you divided by "
                    "K (the number of classes) instead of N (the number of examples)")
        if _close(s, 1.0 / k):
            return (f"your result is about 1/K = 1/{k} of the true one: you averaged over all "
                    "N*K entries instead of over the N rows")
    if _close(s, -1.0):
        return "your result is about -1 times the true one: the sign is flipped"
    if _close(s, 2.0):
        return "your result is about twice the true one: a term is counted twice"
    if _close(s, 0.5):
        return "your result is about half the true one: a factor 1/2 too many"
    if exact_only:
        return None
    if abs(s) < 1e-8:
        return None
    return f"your result is {s:.4g} times the true one: a constant factor is wrong"


def likely_mistake(got, true, *, n=None, k=None, candidates=(), scalar=False):
    """A sentence naming the likely mistake, or None.

    got: what the student returned; true: the expected value; n / k: the
    batch size / number of classes of the inputs; candidates: [(value, text)]
    of known mistakes on the same inputs; scalar: only exact-looking factors
    are explained (any two nonzero numbers are multiples of each other).
    """
    g = as_float_array(got)
    if g is None:
        return None
    t = np.asarray(true, dtype=np.float64)
    for value, text in candidates:
        if value is None:
            continue
        c = np.asarray(value, dtype=np.float64)
        if c.shape == g.shape and np.all(np.isfinite(g)) and sym_rel_error(g, c) < MATCH:
            return text
    if not np.all(np.isfinite(g)):
        return None
    if g.ndim == 2 and g.shape == t.T.shape and sym_rel_error(g, t.T) < 1e-6:
        return (f"your result is the transpose of the right one (shape {shape_str(g.shape)}, "
                f"expected {shape_str(t.shape)})")
    if g.ndim == 2 and g.shape == t.T.shape and g.shape != t.shape:
        return (f"the shape {shape_str(g.shape)} is the transpose of {shape_str(t.shape)}: "
                "check the order of the factors of your product (and any .T)")
    if g.shape != t.shape:
        return None
    if g.size and not g.any() and t.any():
        return "your result is all zeros"
    s, residual = scale_fit(g, t)
    if s is not None and residual < SCALE_FIT and not _close(s, 1.0, 1e-6):
        return explain_scale(s, n, k, exact_only=scalar)
    return None


# ---------------------------------------------------------------------------
# Known mistakes, function by function (values they produce on the inputs)
# ---------------------------------------------------------------------------

def one_hot_hint(value, n, c, y):
    """The likely mistake behind a one_hot result of the wrong shape or dtype, or None.

    value: what one_hot(y, c) returned; n: len(y); c: num_classes; y: (n,) int labels.
    Only a hint that fits what came back: a right-shaped array with the wrong dtype
    never hears about its number of columns.
    """
    shape = getattr(value, "shape", None)
    if not isinstance(shape, tuple):
        return None
    if shape == (n, c):
        dtype = getattr(value, "dtype", None)
        if dtype is None or dtype == np.float64:
            return None
        if dtype.kind in "iub":
            return (f"Y has the right shape but dtype {dtype}: build it as floats, e.g. "
                    "np.zeros((N, num_classes)) (float64 by default) and not "
                    "np.zeros(..., dtype=int), or convert with .astype(np.float64)")
        return (f"Y has the right shape but dtype {dtype}: the homework asks for float64, "
                "e.g. np.zeros((N, num_classes)) or .astype(np.float64)")
    if shape == (c, n) and c != n:
        return "your one-hot matrix is transposed: rows are examples, columns are classes"
    if len(shape) == 2 and shape[0] == n and shape[1] == int(np.max(y)) + 1:
        return ("the number of columns follows the largest label, not num_classes: "
                "use num_classes columns even when some class does not occur")
    return None


def linear_forward_candidates(X, W, b):
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    out = [(X @ W.T, "the bias b is not added"),
           (X @ W.T - b, "the bias is subtracted instead of added")]
    if X.shape[0] == W.shape[0]:
        out.append((X @ W.T + b[:, None],
                    "b is added to each column instead of each row (b[:, None] or a "
                    "transpose): Z = X W^T + b adds b[k] to column k"))
    return out


def linear_backward_candidates(part, dZ, X, W):
    dZ, X, W = (np.asarray(a, dtype=np.float64) for a in (dZ, X, W))
    n = dZ.shape[0]
    if part == "dX":
        return [(dZ @ W / n, "dX is divided by N: dZ already includes the mean's 1/N")]
    if part == "dW":
        return [(dZ.T @ X / n, "dW is divided by N: dZ already includes the mean's 1/N")]
    if part == "db":
        out = [(dZ.mean(axis=0), "db is averaged over the batch: SUM dZ over axis 0 "
                                 "(dZ already includes the mean's 1/N)")]
        if dZ.shape[0] == dZ.shape[1]:
            out.append((dZ.sum(axis=1), "db is summed over the wrong axis (axis 1, the "
                                        "classes): sum dZ over the batch, axis 0"))
        return out
    raise ValueError(part)


def linear_backward_shape_hint(part, got_shape, dZ, X, W):
    if not isinstance(got_shape, tuple):
        return None
    n, k = dZ.shape
    m = X.shape[1]
    if part == "db":
        if got_shape == (n, k):
            return ("db has one row per example (per-example gradients): sum dZ over the "
                    "batch, axis 0")
        if got_shape == (n,):
            return "db is summed over the wrong axis (axis 1): sum over the batch, axis 0"
        if got_shape == ():
            return "db is summed over every entry: sum over the batch only (axis 0)"
        if got_shape in ((1, k), (k, 1)):
            return "db keeps an extra dimension: its shape must be (K,) like b"
    if part == "dW" and got_shape == (m, k):
        return "dW is transposed: dW = dZ^T X has the shape of W, (K, M)"
    if part == "dX" and got_shape == (m, n):
        return "dX is transposed: dX = dZ W has the shape of X, (N, M)"
    return None


def sigmoid_forward_candidates(Z, A_true):
    """A_true: the right sigmoid of Z (sigmoid(-Z) = 1 - sigmoid(Z))."""
    Z, A_true = np.asarray(Z, dtype=np.float64), np.asarray(A_true, dtype=np.float64)
    return [(1.0 - A_true, "this is the sigmoid of -Z: the sign inside exp is flipped "
                           "(A = 1 / (1 + exp(-Z)))"),
            (np.tanh(Z), "this is tanh, not the logistic sigmoid")]


def sigmoid_backward_candidates(dA, A):
    dA, A = (np.asarray(a, dtype=np.float64) for a in (dA, A))
    S = 1.0 / (1.0 + np.exp(-A))  # A is in [0, 1]: no overflow
    return [
        (dA * S * (1 - S),
         "the sigmoid derivative is taken of Z: the argument A is already the sigmoid's "
         "OUTPUT, so dZ = dA * A * (1 - A) without applying the sigmoid again"),
        (A * (1 - A), "the upstream gradient dA is dropped: multiply by dA"),
        (dA * A, "the factor (1 - A) is missing"),
        (dA * (1 - A), "the factor A is missing"),
        (dA, "the sigmoid's derivative A * (1 - A) is missing"),
        (dA * A * (1 - A) * A, "a factor A too many"),
    ]


def softmax_candidates(Z, P_columns):
    """P_columns: the softmax of each COLUMN of Z (the right softmax of Z.T, transposed)."""
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max())
    out = [(P_columns, "each COLUMN is normalized (axis=0): softmax normalizes "
                       "each row, over axis=1"),
           (E / E.sum(), "the whole array is normalized at once: normalize each row")]
    if Z.shape[0] == Z.shape[1]:
        Er = np.exp(Z - Z.max(axis=1, keepdims=True))
        out.append((Er / Er.sum(axis=1), "the row sums are broadcast along the wrong axis "
                                         "(E / E.sum(axis=1) without keepdims=True): use "
                                         "keepdims=True"))
        out.append((Er / Er.sum(axis=0), "E / E.sum(axis=0) normalizes columns: normalize "
                                         "each row with E.sum(axis=1, keepdims=True)"))
    return out


def softmax_rows_hint(P):
    """A sentence if the rows of P are not distributions."""
    P = np.asarray(P, dtype=np.float64)
    if P.ndim != 2 or not np.all(np.isfinite(P)):
        return None
    rows = P.sum(axis=1)
    if np.allclose(rows, 1.0, rtol=0, atol=1e-9) and (P >= 0).all():
        return None
    if (P < 0).any():
        return "some probabilities are negative"
    cols = P.sum(axis=0)
    if np.allclose(cols, 1.0, rtol=0, atol=1e-9):
        return "the COLUMNS of P sum to 1, not the rows: normalize over axis=1"
    return (f"the rows of P do not sum to 1 (row sums from {rows.min():.4g} to "
            f"{rows.max():.4g}): divide each row by its own sum")


def cross_entropy_zero_hint(case, J):
    """The likely mistake behind a cross-entropy that fails on exact zeros in P, or None.

    case: "perfect" (P equal to Y: zeros on the classes that are not the label) or
    "true class zero" (probability 0 on the label); J: the float the student
    returned (nan, inf or a wrong finite number). Code that already takes only
    the log of the true class gets J = 0 for "perfect" and -log(0) = inf for
    "true class zero": telling it to take only that log would be wrong advice.
    """
    if case == "perfect":
        if J is not None and np.isnan(J):
            return ("log(0) = -inf, and 0 * -inf = nan on the classes that are not the "
                    "label: keep log away from exact zeros, e.g. np.log(np.clip(P, tiny, "
                    "None)), or take only the log of the true class")
        return None
    if case == "true class zero":
        if J is None or not np.isfinite(J):
            return ("the log of a zero probability on the true class is -inf: clip P away "
                    "from 0 before the log, e.g. np.log(np.clip(P, 1e-12, None))")
        return ("a zero probability on the true class must cost a large positive loss: clip "
                "P away from 0 before the log (e.g. np.clip(P, 1e-12, None)) rather than "
                "dropping those entries or replacing their log by 0")
    raise ValueError(case)


def cross_entropy_candidates(J_true, n, k):
    """J_true: the right mean cross-entropy of an (n, k) batch."""
    J = float(J_true)
    return [(n * J, "the loss is SUMMED over the batch: average it over the N rows"),
            (J / k, "the loss is averaged over all N*K entries: divide by N "
                    "only (sum over classes, mean over examples)"),
            (-J, "the minus sign is missing"),
            (J / np.log(10.0), "log10 is used: cross-entropy uses the natural log, np.log")]


NUMPY_TROUBLE = re.compile(r"RuntimeWarning: [^\n]*(divide by zero|invalid value|overflow)")


def numpy_trouble(output):
    """The first numpy warning of division by zero, invalid value or overflow in
    a call's captured output (str), shortened for a message; None if there is none."""
    match = NUMPY_TROUBLE.search(output or "")
    if match is None:
        return None
    line = output[match.start():].split("\n", 1)[0]
    return " ".join(line.split())[:200]


def sce_backward_candidates(P, Y):
    P, Y = (np.asarray(a, dtype=np.float64) for a in (P, Y))
    n, k = P.shape
    out = [(P - Y, "the 1/N of the MEAN loss is missing: dZ = (P - Y) / N"),
           ((Y - P) / n, "the sign is flipped: dZ = (P - Y) / N"),
           (P / n, "Y is not subtracted: dZ = (P - Y) / N")]
    if n != k:
        out.append(((P - Y) / k, "you divided by K (the number of classes) instead of N "
                                 "(the number of examples, P.shape[0])"))
    return out


def forward_stage_candidates(key, args, cache, again=None):
    """Known mistakes of the line of `forward` that computes `key` ("Z1", "A1",
    "Z2" or "P") from args (the student's own previous values): [(value, text)].

    cache: the student's cache (an entry stored under the wrong key shows);
    again(value): the student's own layer of that line applied to another
    input, or None (the sigmoid's mistakes are built with it, so that no
    solution code is needed here).
    """
    out = []
    if key in ("Z1", "Z2"):
        X, W, b = (np.asarray(a, dtype=np.float64) for a in args)
        out += linear_forward_candidates(X, W, b)
        added = "the bias is added to the weights: add it after the product, X W^T + b"
        for folded in ([W + b[:, None]] + ([W + b] if W.shape[1] == b.shape[0] else [])):
            out += [(X @ folded.T, added), (X @ folded.T + b, added)]
        if key == "Z2":
            out.append((X @ W.T, "b2 is not added to Z2"))
        else:
            out.append((X @ W.T, "b1 is not added to Z1"))
    elif key == "A1":
        Z = np.asarray(args[0], dtype=np.float64)
        out.append((Z, "the sigmoid is skipped: A1 = sigmoid(Z1) feeds the second layer"))
        if again is not None:
            once = again(Z)
            out += [(None if once is None else again(once), "the sigmoid is applied twice"),
                    (again(-Z), "this is the sigmoid of -Z1: A1 = 1 / (1 + exp(-Z1))")]
    elif key == "P":
        out.append((np.asarray(args[0], dtype=np.float64),
                    "P is the logits Z2: apply softmax"))
    for other in ("X", "Z1", "A1", "Z2", "P"):
        value = cache.get(other) if isinstance(cache, dict) else None
        if other != key and isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
            out.append((value, f"cache['{key}'] holds {other}: store each intermediate "
                               "under its own key"))
    return out
