"""Exact structural checks and relative errors, with student-facing wording.

Every `*_problem` function returns None when the value is acceptable and a
short sentence otherwise; the suites turn the sentence into feedback.
`np.allclose` is never used: it broadcasts (1,) against (3, 3), accepts bool
and complex arrays, and passes 1e-9 against 0.
"""
import numpy as np

TINY = 1e-300


def shape_str(shape):
    shape = tuple(int(n) for n in shape)
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(str(n) for n in shape) + ")"


def describe(value):
    """A few words for what came back: 'a float64 array of shape (3, 4)'."""
    if value is None:
        return "None"
    if isinstance(value, bool):
        return f"a bool ({value})"
    if isinstance(value, int):
        return f"a Python int ({value})"
    if isinstance(value, float):
        return f"a Python float ({value:.6g})"
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"a 0-d {value.dtype} array ({value.item():.6g})"
        return f"a {value.dtype} array of shape {shape_str(value.shape)}"
    if isinstance(value, tuple):
        return f"a tuple of {len(value)} items"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        keys = ", ".join(repr(k) for k in list(value)[:8])
        return f"a dict with keys [{keys}]"
    type_name = getattr(value, "type_name", None)
    if type_name is not None:
        return f"a {type_name}"
    return f"a {type(value).__name__}"


def array_problem(value, shape, kind="float", name="the result"):
    """None if `value` is an ndarray of exactly `shape` and the wanted dtype.

    kind: "float" (float64 exactly), "anyfloat" (any float dtype), "int"
    (any integer dtype), "number" (float or integer).
    """
    wanted = {"float": "float64", "anyfloat": "float", "int": "integer",
              "number": "numeric"}[kind]
    expect = f"a {wanted} array of shape {shape_str(shape)}"
    if not isinstance(value, np.ndarray):
        return f"{name} should be {expect}; got {describe(value)}"
    if value.shape != tuple(shape):
        return f"{name} should be {expect}; got shape {shape_str(value.shape)}"
    ok = {"float": value.dtype == np.float64,
          "anyfloat": value.dtype.kind == "f",
          "int": value.dtype.kind in "iu",
          "number": value.dtype.kind in "fiu"}[kind]
    if not ok:
        return f"{name} should be {expect}; got dtype {value.dtype}"
    return None


def scalar_value(value):
    """The float in a Python float/int or 0-d array, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        return float(value)
    return None


def scalar_problem(value, name="the result"):
    if scalar_value(value) is None:
        hint = ""
        if isinstance(value, np.ndarray) and value.size == 1:
            hint = " (use float(...) or .item() to turn it into a number)"
        return f"{name} should be a float; got {describe(value)}{hint}"
    return None


def nonfinite_problem(value, name="the result"):
    """None if every entry is finite; otherwise says how many are nan / inf."""
    a = np.asarray(value, dtype=np.float64)
    bad = ~np.isfinite(a)
    if not bad.any():
        return None
    n_nan = int(np.isnan(a).sum())
    n_inf = int(bad.sum()) - n_nan
    parts = []
    if n_nan:
        parts.append(f"{n_nan} nan")
    if n_inf:
        parts.append(f"{n_inf} inf")
    return f"{name} contains {' and '.join(parts)} out of {a.size} entries"


def rel_error(got, expected):
    """||got - expected|| / ||expected|| in float64 (expected must not be ~0)."""
    g = np.asarray(got, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if g.shape != e.shape:
        return np.inf
    with np.errstate(all="ignore"):
        num = np.linalg.norm((g - e).ravel())
        den = max(np.linalg.norm(e.ravel()), TINY)
        r = num / den
    return float(r) if np.isfinite(r) else np.inf


def sym_rel_error(a, b):
    """||a - b|| / (||a|| + ||b||): in [0, 1], 0 only for equal arrays."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    with np.errstate(all="ignore"):
        num = np.linalg.norm((a - b).ravel())
        den = np.linalg.norm(a.ravel()) + np.linalg.norm(b.ravel())
        if den == 0:
            return 0.0
        r = num / den
    return float(r) if np.isfinite(r) else np.inf


def same_array(a, b):
    """Exactly equal: same shape, same dtype, same bits (nan equals nan)."""
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
        return False
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind == "f":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def changed_arguments(sent, after, names):
    """Names (with keys for dicts) of arguments that came back modified.

    sent: the parent's own copies of the arguments; after: CallResult.args_after.
    """
    changed = []
    if after is None:
        return changed
    for name, a, b in zip(names, sent, after):
        if isinstance(a, dict):
            if not isinstance(b, dict) or set(a) != set(b):
                changed.append(f"{name} (its keys)")
                continue
            for key in a:
                if isinstance(a[key], np.ndarray) and not same_array(a[key], b[key]):
                    changed.append(f"{name}['{key}']")
        elif isinstance(a, np.ndarray):
            if not same_array(a, b):
                changed.append(name)
    return changed
