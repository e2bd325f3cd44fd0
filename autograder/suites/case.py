"""SuiteCase: the base class of every suite, whose assertions turn a wrong
value into the markdown feedback of checks/feedback.py; and the quiet
comparisons (`matches`, `plausible`) for "is the function working at all?"."""
import contextlib
import re
import unittest

import numpy as np

from autograder.checks import compare, diagnose, feedback, vectorization
from autograder.grading.expected import NotCheckedLocally
from autograder.sandbox.student import MemoryLimit, StudentException, SubmissionError
from autograder.suites.graded import TESTS, THRESHOLDS, ref, reference_student, student
from autograder.suites.inputs import copy_args

BACKSTOP_LOG = []  # (function, size, reference s, submission s, limit s), for calibration

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


class SuiteCase(unittest.TestCase):
    """Assertions that fail with the markdown feedback of checks/feedback.py."""

    longMessage = False
    maxDiff = None

    # -- gating ------------------------------------------------------------
    def run(self, result=None):
        # conditions belong to one run of the test, never to an earlier one
        self.credit_conditions = []
        return super().run(result)

    def credit_only_if(self, keys, reason):
        """Award this test's points only if every test in `keys` ("function.test")
        passes: for a pass that rests on agreement with the student's own
        other functions (a constant forward agrees with a zero backward).
        The runner judges it once every test has run (order-independent, and
        a missing or failed test withholds the points); `reason` tells the
        student why, in a sentence."""
        self.__dict__.setdefault("credit_conditions", []).append((tuple(keys), reason))

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
                          check=None, kwargs=None, own_answer=None):
        """Static analysis, step counts at several sizes, timing backstop.

        make_args(size) -> list of arguments; sizes: [(label, size)] with the
        base first; big: the size of the timing backstop; expected(args) ->
        the reference's result, or check(args, value) -> bool when results
        are not comparable (random init): the check needs a result of the
        right structure and shapes. own_answer(args, value) -> bool: for a
        function that calls graded layers, whether a value that is not the
        reference's is what the student's own layers give (their mistakes are
        charged to them, not to this function's speed).

        Every stage fails closed: a source that cannot be analysed, a step
        count that is missing, or a timing that cannot be verified earns
        nothing.
        """
        settings = THRESHOLDS["vectorization"]
        kwargs = kwargs or {}
        violations = vectorization.static_violations(student().source, function)
        if violations is None:
            self.fail_with(function, "could not be checked for loops: the grader found no "
                                     f"definition of `{function}` it can read in the file",
                           mistake=f"define it at the top level with `def {function}(...)`")
        if violations:
            lines = vectorization.format_violations(violations)
            self.fail_with(function, "is not vectorized: Python-level iteration found in "
                                     "the code it runs, or code the grader cannot check",
                           details=lines,
                           mistake="replace the loop by whole-array numpy operations "
                                   "(broadcasting, @, sum/max/argmax with axis=...), and "
                                   "write everything as ordinary code in this file")
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
        self._timing_backstop(function, make_args, big, kwargs, settings,
                              expect=expect, check=check, own_answer=own_answer)

    def _timing_backstop(self, function, make_args, big, kwargs, settings, *, expect=None,
                         check=None, own_answer=None):
        """Parent-timed: the submission against the reference in the same kind of
        worker, on large inputs; catches loops hidden from the step count.

        - The value timed must be the right answer (a function that returns
          at once on large inputs earns nothing).
        - Costs are the worker's CPU seconds (_cost), so neither the load of
          the machine nor the transfer's wall-clock time gives a loop room.
        - The limit is on the computation, not the transfer: the cost of
          receiving these arguments and sending this result is measured on
          the reference's worker with no code running (an echo), and only
          the reference's computation is multiplied by the factor
          (`backstop_factor`, or the function's own in `backstop_factors`).
        - Memory: inputs of this size are far beyond the homework's, so
          running out of memory here costs nothing by itself; the function is
          timed again on a quarter of the examples, with RETRY_FACTOR_SCALE
          times the factor: what exhausts the memory is almost always a
          broadcast (N x K x M), right but as slow per example as a tight
          loop, and the static analysis and the step count still look for
          loops. Running out of memory there too fails, with its own message
          (the sizes, the limit, the line).
        """
        if reference_student() is None:
            return  # no reference here (self-check): Gradescope times it
        expect = expect or (lambda args: getattr(ref(), function)(*copy_args(args), **kwargs))
        memory_error = None
        for share in BACKSTOP_SHARES:
            size = _shrunk(big, share)
            try:
                self._time_at(function, make_args, size, kwargs, settings, expect, check,
                              share, own_answer)
                return
            except MemoryLimit as error:
                memory_error = error
                student().poisoned.pop(function, None)  # a smaller size may well fit
        self.fail_with(function, _memory_problem(memory_error, big, _shrunk(big, share),
                                                 student().source, student().limits),
                       mistake="an intermediate array much larger than the inputs (a 3-d "
                               "broadcast, an N x N matrix, np.eye(N)): compute the result "
                               "without it")

    def _time_at(self, function, make_args, size, kwargs, settings, expect, check, share,
                 own_answer=None):
        """Time the submission and the reference at `size`; fail if too slow or wrong.

        The reference's time is the best of two (a pause of the machine only
        ever adds time, and a paused reference would inflate the limit ten
        times). Over the limit, both are timed again, up to BACKSTOP_RETRIES
        times, each time on a variant of the inputs (_variant) so that a
        submission that remembers its answers gains nothing from a retry;
        where values are judged by their structure (`check`: random draws,
        which no variant tells from remembered ones), in a new worker.
        """
        args = make_args(size)
        answer = expect(args)
        try:
            reference_time = _best_time(reference_student(), function, args, kwargs, 2)
            transfer_time = _transfer_time(reference_student(), function, args, answer, 1)
        except NotCheckedLocally:
            return  # the students' self-check has no reference to time against
        except SubmissionError:
            self.fail_with(function, GRADER_COULD_NOT_TIME)
        factor = settings.get("backstop_factors", {}).get(function, settings["backstop_factor"])
        if share != 1:
            factor *= RETRY_FACTOR_SCALE
        def right(args, answer, value):
            if check(args, value) if check else _same_answer(value, answer):
                return True
            return own_answer is not None and own_answer(args, value)

        res = student().call(function, *args, **kwargs)
        if not right(args, answer, res.value):
            self.fail_with(function, f"returned a wrong result on the large timing inputs "
                                     f"(size {_size_text(size)}), so its speed cannot be "
                                     "credited",
                           mistake="the same computation must work at every size; no "
                                   "special case for large inputs")
        elapsed = _cost(res)
        limit = backstop_limit(reference_time, transfer_time, factor,
                               settings["backstop_slack_s"])
        for attempt in range(1, BACKSTOP_RETRIES + 1):
            if elapsed <= limit:
                break
            # Time both again before failing: the CPU time of the same call
            # varies up to 4 x (a worker's first calls at a size pay page
            # faults; a busy host adds time), and each least time only comes
            # down towards the true cost.
            variant = _variant(args, attempt)
            try:
                reference_time = min(reference_time, _best_time(
                    reference_student(), function, variant, kwargs, 1))
            except SubmissionError:
                self.fail_with(function, GRADER_COULD_NOT_TIME)
            # A value judged by its structure (random draws) cannot tell a
            # remembered answer from a new one, so those retries run in a new
            # worker, which remembers nothing of the earlier calls.
            again = student().call(function, *variant, fresh_worker=check is not None,
                                   **kwargs)
            if right(variant, None if check else expect(variant), again.value):
                elapsed = min(elapsed, _cost(again))
            limit = backstop_limit(reference_time, transfer_time, factor,
                                   settings["backstop_slack_s"])
        BACKSTOP_LOG.append((function, size, reference_time, elapsed, limit))
        if elapsed > limit:
            unit = "s of CPU time" if res.cpu is not None else "s"
            self.fail_with(function, f"is far slower than a vectorized solution: {elapsed:.3f} "
                                     f"{unit} on large inputs (size {_size_text(size)}) where "
                                     f"the reference takes {reference_time:.3f} {unit}, "
                                     f"{min(transfer_time, reference_time):.3f} of it to "
                                     "receive and send the data "
                                     f"(limit {limit:.3f} {unit})",
                           mistake="a Python loop over examples or elements")


# Fail closed when the reference cannot be timed, and say whose problem it is.
GRADER_COULD_NOT_TIME = ("could not be timed: the grader's reference failed on the large "
                         "inputs (a problem of the grader, not of your code; ask the course "
                         "staff to run the grading again)")

# The timing backstop's sizes, as shares of the suite's large size: the full
# size, then a quarter of the examples when the full size exceeds the memory.
BACKSTOP_SHARES = (1, 0.25)
# The factor at the smaller size is this many times the function's own.
RETRY_FACTOR_SCALE = 2
# Over the limit, the submission and the reference are timed again up to this
# many times (the least time of each counts) before the test fails.
BACKSTOP_RETRIES = 4


def _variant(args, k):
    """Arguments of the same sizes whose answer differs from the original's:
    each array rolled along its first axis by its own amount (k times its
    place among the arrays: pairs such as P and Y no longer line up) and
    each float scaled by 1 + k / 10, following dicts, lists and tuples;
    integers are kept (sizes, seeds). A submission that remembers the
    answers of earlier calls, by their inputs or only by their sizes, has
    none that fits; the answer is computed again for the variant."""
    place = [0]

    def vary(value):
        if isinstance(value, np.ndarray):
            if not value.ndim:
                return value.copy()
            place[0] += 1
            return np.roll(value, k * place[0], axis=0)
        if isinstance(value, dict):
            return {key: vary(v) for key, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(vary(v) for v in value)
        if isinstance(value, float):
            return value * (1.0 + k / 10)
        return value

    return vary(list(args))


def _shrunk(size, share):
    """`size` with its first dimension (the examples) scaled by `share`."""
    if share == 1:
        return size
    if isinstance(size, tuple):
        return (max(1, int(size[0] * share)),) + tuple(size[1:])
    return max(1, int(size * share))


def _size_text(size):
    return " x ".join(str(n) for n in size) if isinstance(size, tuple) else str(size)


def _cost(result):
    """What a call cost: the worker's CPU seconds, read by the parent from the
    kernel (a loaded machine does not inflate them, the transfer's share is
    small, and nothing in the worker can forge them); the wall-clock seconds
    where CPU time cannot be read."""
    return result.cpu if result.cpu is not None else result.elapsed


def _best_time(proxy, function, args, kwargs, repeats):
    """The smallest cost (_cost) of `repeats` calls."""
    return min(_cost(proxy.call(function, *args, **kwargs)) for _ in range(repeats))


def _transfer_time(proxy, function, args, answer, repeats):
    """The cost of receiving `args` in a worker and sending `answer` back, with
    no code of the submission running: half the best round trip of both, echoed."""
    return min(_cost(proxy.call(function, *args, answer, echo=True))
               for _ in range(repeats)) / 2


def backstop_limit(reference_time, transfer_time, factor, slack):
    """The cost allowed: the transfer, `factor` times the reference's
    computation, and the slack (CPU time is precise: a small slack that
    covers the jitter of a few milliseconds, never a loop).

    The echo overstates the transfer a little (it also sends the answer in),
    so the reference's computation is never taken below half its time: an
    overstated transfer must not shrink the limit below what a correct but
    heavier vectorized solution needs.
    """
    transfer = min(max(transfer_time, 0.0), reference_time)
    computation = max(reference_time - transfer, reference_time * MIN_COMPUTATION_SHARE)
    return transfer + factor * computation + slack


MIN_COMPUTATION_SHARE = 0.5


def _same_answer(got, expected):
    """The timed value is the reference's answer: floats within a loose
    tolerance (precision is the values tests' business), labels equal but
    for near-ties (at most 0.1 % of them)."""
    if isinstance(expected, dict):
        return (isinstance(got, dict) and set(expected) <= set(got)
                and all(_same_answer(got[k], v) for k, v in expected.items()))
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(_same_answer(g, e) for g, e in zip(got, expected)))
    if isinstance(expected, np.ndarray) and expected.ndim > 0 and expected.dtype.kind in "iu":
        return (isinstance(got, np.ndarray) and got.dtype.kind in "fiu"
                and got.shape == expected.shape
                and bool(np.all(np.isfinite(got.astype(np.float64))))
                and float(np.mean(got == expected)) >= 0.999)
    return matches(got, expected, tol=BACKSTOP_VALUE_TOL)


BACKSTOP_VALUE_TOL = 1e-4


def _memory_problem(error, big, smaller, source, limits):
    """The memory verdict: the sizes tried, the limit, and the student's line
    that allocated when the worker could tell it."""
    text = (f"ran out of memory on the large timing inputs (size {_size_text(big)}, and "
            f"again at {_size_text(smaller)}); the limit is {limits['memory_mb']} MB")
    line = _memory_line(str(error), source)
    if line:
        number, code = line
        text += f"; the large array is made at line {number}: `{code}`"
    return text


def _memory_line(message, source):
    """(line number, stripped code) named in a MemoryLimit message, or None."""
    found = re.search(r"\(line (\d+) of [^,]+, in ", message or "")
    if not found:
        return None
    number = int(found.group(1))
    lines = (source or "").splitlines()
    if not 1 <= number <= len(lines):
        return None
    code = lines[number - 1].strip()
    return (number, code[:117] + "..." if len(code) > 120 else code) if code else None
