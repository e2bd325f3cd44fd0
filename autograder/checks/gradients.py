"""Numeric gradients by centered differences, in float64.

    J(x) = sum(G * f(x))  with a RANDOM upstream gradient G (never all ones:
    an all-ones G hides a dropped upstream gradient), or J(x) = f(x) for a
    scalar f. dJ/dx[i] ~ (J(x + h e_i) - J(x - h e_i)) / (2h), h ~ 1e-5.

The function f may be the student's (through the proxy): it is called with
fresh float64 copies and its result is converted to float64 before the sum.
Measured: correct layers give relative errors 1e-11 .. 5e-10, every injected
bug >= 0.28 (docs/GRADING.md).
"""
import numpy as np


class NotANumber(Exception):
    """f returned something that is not a finite array/number of the right shape."""

    def __init__(self, what):
        super().__init__(what)
        self.what = what


def random_coords(shape, k, rng):
    """Up to k distinct flat indices into an array of `shape` (all if size <= k)."""
    size = int(np.prod(shape, dtype=np.int64))
    if size <= k:
        return np.arange(size)
    return np.sort(rng.choice(size, size=k, replace=False))


def objective(value, upstream):
    """sum(G * value) in float64, or the scalar itself when upstream is None."""
    if upstream is None:
        if isinstance(value, bool) or not isinstance(value, (int, float, np.ndarray)):
            raise NotANumber(f"returned {type(value).__name__}")
        a = np.asarray(value, dtype=np.float64)
        if a.size != 1:
            raise NotANumber(f"returned an array of shape {a.shape}, not a number")
        j = float(a.reshape(-1)[0])
    else:
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "fiu":
            raise NotANumber(f"returned {type(value).__name__}, not an array")
        if value.shape != upstream.shape:
            raise NotANumber(f"returned shape {value.shape}, expected {upstream.shape}")
        j = float(np.sum(upstream * value.astype(np.float64)))
    if not np.isfinite(j):
        raise NotANumber("returned non-finite values")
    return j


def numeric_gradient(f, args, which, upstream=None, coords=None, h=1e-5):
    """Centered differences of J = sum(G * f(*args)) with respect to args[which].

    args: list of arguments (arrays are copied, the perturbed one in float64);
    coords: flat indices to differentiate (None: all). Returns an array of the
    shape of args[which] with nan where no coordinate was taken.
    """
    base = [np.array(a, dtype=np.float64, copy=True) if isinstance(a, np.ndarray) else a
            for a in args]
    x = base[which]
    grad = np.full(x.shape, np.nan)
    flat_idx = np.arange(x.size) if coords is None else np.asarray(coords)
    for i in flat_idx:
        idx = np.unravel_index(int(i), x.shape)
        values = []
        for step in (h, -h):
            xp = x.copy()
            xp[idx] += step
            call_args = list(base)
            call_args[which] = xp
            values.append(objective(f(*call_args), upstream))
        grad[idx] = (values[0] - values[1]) / (2.0 * h)
    return grad


def numeric_gradient_dict(f, params, key, coords, h=1e-5):
    """Centered differences of the scalar f(params) with respect to params[key]."""
    x = np.array(params[key], dtype=np.float64, copy=True)
    grad = np.full(x.shape, np.nan)
    for i in coords:
        idx = np.unravel_index(int(i), x.shape)
        values = []
        for step in (h, -h):
            p = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
            xp = x.copy()
            xp[idx] += step
            p[key] = xp
            values.append(objective(f(p), None))
        grad[idx] = (values[0] - values[1]) / (2.0 * h)
    return grad


def taken(grad, coords):
    """The entries of `grad` at flat indices `coords` (a 1-d float64 array)."""
    return np.asarray(grad, dtype=np.float64).reshape(-1)[np.asarray(coords)]


def gradient_error(analytic, numeric):
    """Symmetric relative error ||a - n|| / (||a|| + ||n||), in [0, 1]."""
    a = np.asarray(analytic, dtype=np.float64).reshape(-1)
    n = np.asarray(numeric, dtype=np.float64).reshape(-1)
    if a.shape != n.shape:
        return np.inf
    with np.errstate(all="ignore"):
        den = np.linalg.norm(a) + np.linalg.norm(n)
        if den == 0:
            return 0.0
        r = np.linalg.norm(a - n) / den
    return float(r) if np.isfinite(r) else np.inf
