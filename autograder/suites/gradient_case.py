"""GradientCase: gradient checks of a backward against the student's own forward."""
import numpy as np

from autograder.checks import diagnose
from autograder.checks.gradients import gradient_error
from autograder.grading.expected import NotCheckedLocally
from autograder.suites.case import SuiteCase
from autograder.suites.graded import TESTS, THRESHOLDS

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
    """(ok, error against the numeric gradient or None, how).

    how is "exact" when the part equals the exact gradient on the same
    inputs, "own" when it agrees only with the numeric gradient of the
    student's forward (worth points only if that forward is right: the
    caller gates it), None when it fails. An exact gradient that is zero
    everywhere proves nothing (a constant forward's intermediates give one,
    and so does any backward that returns zeros): it never passes as exact.
    """
    got = part.select(part.got)
    if part.true is not None:
        true = part.select(part.true)
        if np.any(true != 0) and gradient_error(got, true) <= tol:
            return True, None, "exact"
    if part.numeric is None:
        return False, None, None
    err = gradient_error(got, part.select(part.numeric))
    if err <= tol:
        return True, err, "own"
    if part.renumeric is not None and err < 0.1:
        # a forward computed in float32 is too coarse for h = 1e-5: retry with a larger h
        coarse = part.renumeric(coarse_h)
        if coarse is not None:
            err_coarse = gradient_error(got, part.select(coarse))
            if err_coarse <= coarse_tol:
                return True, err_coarse, "own"
    return False, err, None


def own_forward_reason(names, forward_name, exact_known):
    """Why a gradient that agrees only with the student's own forward waits
    for that forward's value tests (one sentence, no values)."""
    subject = ", ".join(f"`{name}`" for name in names)
    if not exact_known:
        return (f"{subject} agree{'s' if len(names) == 1 else ''} with the numeric gradient "
                f"of your own `{forward_name}`, which counts once `{forward_name}` computes "
                "the right values")
    return (f"{subject} agree{'s' if len(names) == 1 else ''} with the numeric gradient of "
            f"your own `{forward_name}` but not with the exact gradient; that agreement "
            f"counts only once `{forward_name}` computes the right values (a constant forward "
            "has a zero gradient, which a backward returning zeros matches): fix "
            f"`{forward_name}`, or check your backward against the derivative of the correct "
            "formula")


class GradientCase(SuiteCase):
    def own_forward_tests(self):
        """The tests that must pass before agreement with the student's own
        forward earns points (config.json `consistent_with`). A gradient test
        without them fails closed: a key that no test has withholds the points."""
        key = self.key
        needed = TESTS[key]["consistent_with"] if key in TESTS else ()
        return needed or (f"{key}.consistent_with (not configured)",)

    def assert_gradients(self, function, forward_name, parts, *, n, k=None, inputs=(),
                         call=None, note=None, numeric_of=None):
        """Each part must equal the exact gradient on the same inputs, or be
        consistent with the student's forward (numeric gradient); a pass of
        the second kind is credited only if the tests in config.json's
        `consistent_with` of this test pass (the student's forward is right)."""
        th = THRESHOLDS
        if any(part.numeric is None and part.true is None for part in parts):
            raise NotCheckedLocally(f"{function}: your `{forward_name}` could not be "
                                    "differentiated here; this check runs on Gradescope")
        for part in parts:
            self.assert_array(function, part.got, part.shape, kind="number", name=part.name,
                              inputs=inputs, call=call, hint=part.shape_hint)
            self.assert_finite(function, part.got, name=part.name, inputs=inputs, call=call)
        failures, own = [], []
        for part in parts:
            ok, err, how = gradient_verdict(part, th["grad_rel_tol"], th["grad_h_coarse"],
                                            th["grad_rel_tol_coarse"])
            if not ok:
                failures.append((part, err))
            elif how == "own":
                own.append(part)
        if not failures:
            if own:
                self.credit_only_if(self.own_forward_tests(), own_forward_reason(
                    [part.name for part in own], forward_name,
                    any(part.true is not None for part in own)))
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
