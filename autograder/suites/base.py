"""What every suite builds on: config, the @graded decorator, the proxies,
and the assertions that turn a wrong value into feedback.

- `@graded("softmax.values")` reads weight, visibility, number and function
  from config.json tests[...] and applies gradescope-utils' decorators
  (metadata only); `partial=True` uses partial_credit (the test calls
  set_score). The docstring's first line is the name a student reads and
  starts with the function's name.
- `set_student(proxy)` / `student()`: the submission's proxy (autograder.sandbox.student.Student),
  set by the harness before the suites run.
- `reference_student()`: the reference run through the same kind of worker,
  for the timing backstop of the vectorization tests (created lazily; the
  harness may inject one with set_reference_student and must call
  close_reference_student at the end; an atexit hook is the safety net).
"""
import atexit
import contextlib
import copy
import functools
import json
import os
import re
import unittest

import numpy as np
from gradescope_utils.autograder_utils.decorators import (number, partial_credit, tags,
                                                          visibility, weight)

from autograder.checks import compare, diagnose, feedback, vectorization
from autograder.checks.reference import reference, reference_source
from autograder.grading.expected import NotCheckedLocally

try:
    from autograder.sandbox.student import StudentException, SubmissionError
except ImportError:  # only while autograder.sandbox.student does not exist (development)
    class SubmissionError(AssertionError):
        pass

    class StudentException(SubmissionError):
        pass

try:
    from autograder.checks import exact as EXACT
except ImportError:  # staff only: the students' self-check ships without it
    EXACT = None

CONFIG_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "config.json")


@functools.lru_cache(maxsize=1)
def load_config():
    with open(CONFIG_PATH, encoding="utf-8") as handle:
        return json.load(handle)


CONFIG = load_config()
TESTS = CONFIG["tests"]
THRESHOLDS = CONFIG["thresholds"]


def graded(key, partial=False):
    """Decorate a test method with the metadata of config.json tests[key]."""
    entry = TESTS[key]

    def decorate(func):
        doc = (func.__doc__ or "").strip()
        first = doc.splitlines()[0] if doc else ""
        if not first.startswith(entry["function"] + ":"):
            raise ValueError(f"{func.__name__}: the docstring must start with "
                             f"'{entry['function']}:' (it is the student-facing name)")
        if partial:
            func = partial_credit(entry["weight"])(func)
        else:
            func = weight(entry["weight"])(func)
        func = visibility(entry["visibility"])(func)
        func = number(entry["number"])(func)
        func = tags(entry["function"])(func)
        func.__graded_key__ = key
        return func

    return decorate


# ---------------------------------------------------------------------------
# The proxies
# ---------------------------------------------------------------------------

_student = None
_reference_student = None
_reference_owned = False


def set_student(proxy):
    global _student
    _student = proxy


def student():
    if _student is None:
        raise RuntimeError("no submission: the harness must call set_student(proxy) first")
    return _student


def set_reference_student(proxy):
    """Inject the reference's proxy (the caller keeps ownership)."""
    global _reference_student, _reference_owned
    close_reference_student()
    _reference_student, _reference_owned = proxy, False


def reference_student():
    """The reference through the same kind of worker as the submission, or
    None where the reference is not available (the students' self-check)."""
    global _reference_student, _reference_owned
    if _reference_student is None:
        from autograder.sandbox.student import Student

        from autograder.grading.expected import NotCheckedLocally

        try:
            source = reference_source()
        except (OSError, NotCheckedLocally):
            return None  # the self-check: static and step-count checks still run
        _reference_student = Student(source, CONFIG,
                                     python=CONFIG.get("worker_python"),
                                     filename="neural_net.py")
        _reference_owned = True
    return _reference_student


def close_reference_student():
    global _reference_student, _reference_owned
    if _reference_student is not None and _reference_owned:
        try:
            _reference_student.close()
        except Exception:
            pass
    _reference_student, _reference_owned = None, False


atexit.register(close_reference_student)


BACKSTOP_LOG = []  # (function, size, reference s, submission s, limit s), for calibration


def ref():
    """The reference module, imported in the parent (ground truth)."""
    return reference()


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def rng_for(*key):
    """A generator seeded by a test's own key (stable across runs and orders)."""
    seed = 0
    for part in key:
        for ch in str(part):
            seed = (seed * 131 + ord(ch)) % (2 ** 32)
    return np.random.default_rng(seed)


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
# Comparing structures quietly (for "is the function working at all?")
# ---------------------------------------------------------------------------

def matches(got, expected, tol=None):
    """True if got has expected's structure and values within tol (rel error)."""
    tol = THRESHOLDS["value_rel_tol"] if tol is None else tol
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(expected) <= set(got)
                and all(matches(got[k], v, tol) for k, v in expected.items()))
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(matches(g, e, tol) for g, e in zip(got, expected)))
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        if not (isinstance(got, np.ndarray) and got.dtype.kind in "fiu"
                and got.shape == expected.shape):
            return False
        if not np.all(np.isfinite(got.astype(np.float64))):
            return False
        if not np.any(expected):
            return not np.any(got)
        return compare.rel_error(got, expected) <= tol
    e = compare.scalar_value(expected)
    g = compare.scalar_value(got)
    if e is None or g is None or not np.isfinite(g):
        return False
    return abs(g - e) <= tol * max(abs(e), 1e-12)


def plausible(got, expected, finite=True):
    """True if got has expected's structure, shapes and a real dtype (and is
    finite if asked); the values may be wrong: what the checks that are not
    about values need."""
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(expected) <= set(got)
                and all(plausible(got[k], v, finite) for k, v in expected.items()))
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(plausible(g, e, finite) for g, e in zip(got, expected)))
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        return (isinstance(got, np.ndarray) and got.dtype.kind in "fiu"
                and got.shape == expected.shape
                and (not finite or bool(np.all(np.isfinite(got.astype(np.float64))))))
    g = compare.scalar_value(got)
    return g is not None and (not finite or bool(np.isfinite(g)))


def _scrub_numbers(text):
    """Hidden tests: 'N = 7', '1/N = 1/7', 'N/K = 7/3', '-N = -7' lose their sizes."""
    if not text:
        return text
    return re.sub(r"((?:-|1/)?\b[NK](?:/[NK])?) = -?\d+(?:/\d+)?", r"\1", text)


# ---------------------------------------------------------------------------
# The base class of every suite
# ---------------------------------------------------------------------------

class SuiteCase(unittest.TestCase):
    """Assertions that fail with the markdown feedback of checks/feedback.py."""

    longMessage = False
    maxDiff = None

    # -- about the running test --------------------------------------------
    @property
    def key(self):
        method = getattr(self, self._testMethodName)
        return getattr(method, "__graded_key__", None)

    @property
    def hidden(self):
        key = self.key
        return key is not None and TESTS[key]["visibility"] != "visible"

    def thresholds(self):
        return THRESHOLDS

    # -- failing -----------------------------------------------------------
    def fail_with(self, function, problem, **kwargs):
        hidden = kwargs.pop("hidden", self.hidden)
        if hidden and kwargs.get("mistake"):
            kwargs["mistake"] = _scrub_numbers(kwargs["mistake"])
        self.fail(feedback.message(function, problem, hidden=hidden, **kwargs))

    @contextlib.contextmanager
    def hinting(self, hints):
        """Add a likely mistake to an exception the student's code raised.

        hints: {substring of the exception's message: hint}.
        """
        try:
            yield
        except StudentException as error:
            text = str(error)
            for needle, hint in hints.items():
                if needle in text:
                    raise self.failureException(
                        f"{text}\n\n- **likely mistake**: {hint}\n") from None
            raise

    # -- presence and signature (static, from the source) ------------------
    def assert_signature(self, function, arg_names):
        problem = vectorization.signature_problem(student().source, function,
                                                  len(arg_names), arg_names)
        if problem:
            self.fail_with(function, problem)

    # -- structure ---------------------------------------------------------
    def assert_array(self, function, value, shape, *, kind="float", name="the result",
                     inputs=(), call=None, hint=None):
        problem = compare.array_problem(value, shape, kind, name)
        if problem is None:
            return value
        if self.hidden:
            problem = f"{name} has the wrong type, shape or dtype"
        self.fail_with(function, problem, inputs=inputs, call=call, mistake=hint)

    def assert_tuple(self, function, value, length, *, names, inputs=(), call=None):
        if isinstance(value, (tuple, list)) and len(value) == length:
            return value
        self.fail_with(function, f"should return a tuple ({', '.join(names)}); "
                                 f"got {compare.describe(value)}", inputs=inputs, call=call)

    def assert_dict(self, function, value, keys, *, name="the result", inputs=(), call=None):
        if isinstance(value, dict) and all(k in value for k in keys):
            return value
        wanted = ", ".join(f"'{k}'" for k in keys)
        if isinstance(value, dict):
            missing = ", ".join(f"'{k}'" for k in keys if k not in value)
            problem = f"{name} should be a dict with keys {wanted}; missing {missing}"
        else:
            problem = f"{name} should be a dict with keys {wanted}; got {compare.describe(value)}"
        self.fail_with(function, problem, inputs=inputs, call=call)

    def assert_finite(self, function, value, *, name="the result", inputs=(), call=None,
                      hint=None):
        problem = compare.nonfinite_problem(value, name)
        if problem:
            self.fail_with(function, problem, inputs=inputs, call=call, mistake=hint,
                           got=None if self.hidden else value)

    # -- values ------------------------------------------------------------
    def assert_close(self, function, got, expected, *, name="the result", inputs=(),
                     call=None, candidates=(), n=None, k=None, tol=None, shape_hint=None,
                     extra_hint=None, scalar=False, exact=False):
        """got must match expected (any real dtype) within the relative tolerance."""
        tol = THRESHOLDS["value_rel_tol"] if tol is None else tol
        if scalar:
            problem = compare.scalar_problem(got, name)
            if problem:
                self.fail_with(function, problem, inputs=inputs, call=call)
            g = compare.scalar_value(got)
            e = float(expected)
            if np.isfinite(g) and abs(g - e) <= tol * max(abs(e), 1e-12):
                return
            mistake = diagnose.likely_mistake(g, e, n=n, k=k, candidates=candidates,
                                              scalar=True) or extra_hint
            self.fail_with(function, f"{name} is wrong (relative error "
                                     f"{abs(g - e) / max(abs(e), 1e-300):.3g})",
                           inputs=inputs, call=call, expected=e, got=g, mistake=mistake)
        expected = np.asarray(expected)
        self.assert_array(function, got, expected.shape, kind="number", name=name,
                          inputs=inputs, call=call, hint=shape_hint)
        self.assert_finite(function, got, name=name, inputs=inputs, call=call)
        if exact:
            ok = bool(np.array_equal(got.astype(np.float64), expected.astype(np.float64)))
            err = 0.0 if ok else compare.rel_error(got, expected)
        else:
            err = compare.rel_error(got, expected)
            ok = err <= tol
        if ok:
            return
        mistake = diagnose.likely_mistake(got, expected, n=n, k=k, candidates=candidates)
        mistake = mistake or extra_hint
        problem = f"{name} is wrong (relative error {err:.3g})"
        self.fail_with(function, problem, inputs=inputs, call=call, expected=expected,
                       got=got, mistake=mistake)

    def assert_not_mistaken(self, function, got, expected, candidates, *, name="the result",
                            inputs=(), call=None):
        """Fail only if got is one of the known mistakes (e.g. a silent broadcast
        when N == K); any other wrong value is left to the values tests."""
        if matches(got, expected):
            return
        g = diagnose.as_float_array(got)
        if g is None:
            return
        for value, text in candidates:
            c = np.asarray(value, dtype=np.float64)
            if c.shape == g.shape and compare.sym_rel_error(g, c) < diagnose.MATCH:
                self.fail_with(function, f"{name} is wrong when N == K (a silent broadcast)",
                               inputs=inputs, call=call, expected=np.asarray(expected),
                               got=got, mistake=text)

    def assert_uses_arguments(self, function, args, names, alternatives, got):
        """When got is wrong: if replacing an argument by another value leaves the
        result unchanged, the function ignores it (reads a global, or a value
        remembered from an earlier call). alternatives: {index: other value}."""
        for index, other in alternatives.items():
            changed = list(args)
            changed[index] = other
            again = student().call(function, *changed).value
            if matches(again, got, tol=1e-12):
                self.fail_with(function, f"the result did not change when `{names[index]}` "
                                         "changed", inputs=list(zip(names, args)),
                               mistake=f"use the argument `{names[index]}`, not a global "
                                       "variable or a value kept from an earlier call")

    # -- inputs left unchanged -----------------------------------------------
    def assert_unchanged(self, function, args, names, expected, *, hint=None, kwargs=None,
                         timeout=None):
        """Call with return_args=True; the arguments must come back as sent.

        `expected` is the reference's result: the check is credited for a
        function that returns a result of the right structure and shapes (a
        stub that returns None does not earn it; wrong values are the values
        tests' business).
        """
        sent = copy_args(args)
        extra = {} if timeout is None else {"timeout": timeout}
        res = student().call(function, *args, return_args=True, **extra, **(kwargs or {}))
        changed = compare.changed_arguments(sent, res.args_after, names)
        if changed:
            what = ", ".join(f"`{c}`" for c in changed)
            self.fail_with(function, f"modified its input {what} in place",
                           inputs=list(zip(names, sent)),
                           mistake=hint or "an in-place operation (`-=`, `+=`, `*=`, "
                                           "`out=`, or assigning into a slice) on an argument: "
                                           "compute new arrays instead")
        if expected is not None and not plausible(res.value, expected, finite=False):
            self.fail_with(function, "this check is credited once the function returns a "
                                     "result of the right type and shape: see the shape test "
                                     "of " + function)
        return res

    # -- vectorization -------------------------------------------------------
    def assert_vectorized(self, function, make_args, sizes, big, *, expected=None,
                          check=None, kwargs=None):
        """Static analysis, step counts at several sizes, timing backstop.

        make_args(size) -> list of arguments; sizes: [(label, size)] with the
        base first; big: the size of the timing backstop; expected(args) ->
        the reference's result, or check(args, value) -> bool when results
        are not comparable (random init): the check needs a result of the
        right structure and shapes.
        """
        settings = THRESHOLDS["vectorization"]
        kwargs = kwargs or {}
        violations = vectorization.static_violations(student().source, function)
        if violations:
            lines = vectorization.format_violations(violations)
            self.fail_with(function, "is not vectorized: Python-level iteration found in "
                                     "the code it runs", details=lines,
                           mistake="replace the loop by whole-array numpy operations "
                                   "(broadcasting, @, sum/max/argmax with axis=...)")
        expect = expected or (lambda args: getattr(ref(), function)(*copy_args(args), **kwargs))
        measurements = []
        for label, size in sizes:
            args = make_args(size)
            res = student().call(function, *args, trace=True, **kwargs)
            works = check(args, res.value) if check else plausible(res.value, expect(args))
            if not works:
                self.fail_with(function, "vectorization is credited once the function returns "
                                         f"a result of the right type and shape; at {label} it "
                                         "does not (see the shape test)")
            measurements.append((label, res.steps))
        problem = vectorization.step_growth_problem(measurements, settings["step_slack"])
        if problem:
            self.fail_with(function, "is not vectorized: " + problem)
        self._timing_backstop(function, make_args, big, kwargs, settings)

    def _timing_backstop(self, function, make_args, big, kwargs, settings):
        """Parent-timed: the submission against the reference in the same kind of
        worker, on large inputs; catches loops hidden from the step count."""
        if reference_student() is None:
            return  # no reference here (self-check): Gradescope times it
        args = make_args(big)
        try:
            reference_time = reference_student().call(function, *args, **kwargs).elapsed
        except SubmissionError:
            return  # the grader's reference worker failed: not the student's problem
        except NotCheckedLocally:
            return  # the students' self-check has no reference to time against
        elapsed = student().call(function, *args, **kwargs).elapsed
        limit = settings["backstop_factor"] * reference_time + settings["backstop_slack_s"]
        if elapsed > limit:  # time once more before failing (noise on half a vCPU)
            try:
                reference_time = min(reference_time, reference_student().call(
                    function, *args, **kwargs).elapsed)
            except SubmissionError:
                return
            elapsed = min(elapsed, student().call(function, *args, **kwargs).elapsed)
            limit = settings["backstop_factor"] * reference_time + settings["backstop_slack_s"]
        BACKSTOP_LOG.append((function, big, reference_time, elapsed, limit))
        if elapsed > limit:
            self.fail_with(function, f"is far slower than a vectorized solution: {elapsed:.2f} s "
                                     f"on large inputs ({big}) where the reference takes "
                                     f"{reference_time:.3f} s (limit {limit:.2f} s)",
                           mistake="a Python loop over examples or elements")


# ---------------------------------------------------------------------------
# Gradient checks of a backward against the student's own forward
# ---------------------------------------------------------------------------

class Part:
    """One gradient a backward returns (e.g. dW), with what it is checked against.

    numeric: centered differences of the student's forward (or None when the
    forward could not be evaluated); true: the reference backward on the SAME
    inputs; renumeric(h): recomputes the numeric gradient with step h (for
    forwards that are only float32-accurate); candidates: known mistakes.
    """

    def __init__(self, name, got, shape, numeric, true, *, renumeric=None, candidates=(),
                 shape_hint=None, coords=None):
        self.name, self.got, self.shape = name, got, tuple(shape)
        self.numeric, self.true = numeric, true
        self.renumeric, self.candidates = renumeric, candidates
        self.shape_hint, self.coords = shape_hint, coords

    def select(self, value):
        a = np.asarray(value, dtype=np.float64)
        return a if self.coords is None else a.reshape(-1)[self.coords]


def gradient_verdict(part, tol, coarse_h, coarse_tol):
    """(ok, error against the numeric gradient or None)."""
    got = part.select(part.got)
    from autograder.checks.gradients import gradient_error

    if part.true is not None and gradient_error(got, part.select(part.true)) <= tol:
        return True, None
    if part.numeric is None:
        return False, None
    err = gradient_error(got, part.select(part.numeric))
    if err <= tol:
        return True, err
    if part.renumeric is not None and err < 0.1:
        # a forward computed in float32 is too coarse for h = 1e-5: retry with a larger h
        coarse = part.renumeric(coarse_h)
        if coarse is not None:
            err_coarse = gradient_error(got, part.select(coarse))
            if err_coarse <= coarse_tol:
                return True, err_coarse
    return False, err


class GradientCase(SuiteCase):
    def assert_gradients(self, function, forward_name, parts, *, n, k=None, inputs=(),
                         call=None, note=None, numeric_of=None):
        """Each part must be consistent with the student's forward (numeric
        gradient) or equal the exact gradient on the same inputs."""
        th = THRESHOLDS
        if any(part.numeric is None and part.true is None for part in parts):
            from autograder.grading.expected import NotCheckedLocally

            raise NotCheckedLocally(f"{function}: your `{forward_name}` could not be "
                                    "differentiated here; this check runs on Gradescope")
        for part in parts:
            self.assert_array(function, part.got, part.shape, kind="number", name=part.name,
                              inputs=inputs, call=call, hint=part.shape_hint)
            self.assert_finite(function, part.got, name=part.name, inputs=inputs, call=call)
        failures = []
        for part in parts:
            ok, err = gradient_verdict(part, th["grad_rel_tol"], th["grad_h_coarse"],
                                       th["grad_rel_tol_coarse"])
            if not ok:
                failures.append((part, err))
        if not failures:
            return
        details, mistakes = [], {}
        for part, err in failures:
            mistake = None
            if part.true is not None:
                mistake = diagnose.likely_mistake(part.got, part.true, n=n, k=k,
                                                  candidates=part.candidates)
            if mistake is None and part.numeric is not None:
                mistake = diagnose.likely_mistake(part.select(part.got),
                                                  part.select(part.numeric), n=n, k=k)
            if err is not None:
                line = (f"`{part.name}`: relative error {err:.3g} against the numeric gradient "
                        f"of your `{forward_name}`")
            else:
                line = f"`{part.name}`: does not match the exact gradient"
            if mistake:
                mistakes.setdefault(mistake, []).append(f"`{part.name}`")
            details.append(line)
        part = failures[0][0]
        expected = part.numeric if part.numeric is not None else part.true
        if part.coords is not None:
            expected, got = part.select(expected), part.select(part.got)
            details.append(f"values shown for `{part.name}` at {len(part.coords)} random "
                           "coordinates")
        else:
            got = part.got
        if note:
            details.append(note)
        details.append("numeric gradient: centered differences in float64 (h = 1e-5) of " +
                       (numeric_of or f"sum(G * {forward_name}(...)) with a random upstream "
                                      "gradient G"))
        names = ", ".join(f"`{p.name}`" for p, _ in failures)
        self.fail_with(function, f"{names} {'does' if len(failures) == 1 else 'do'} not "
                                 f"match the gradient of your `{forward_name}`",
                       inputs=inputs, call=call, expected=expected, got=got,
                       details=details,
                       mistake="; ".join(f"{', '.join(names)}: {text}"
                                         for text, names in mistakes.items()) or None)
