"""softmax(Z) -> P; cross_entropy(P, Y) -> float; softmax_cross_entropy_backward(P, Y) -> dZ."""
import math

import numpy as np

from autograder.checks import compare, diagnose, gradients
from autograder.sandbox.student import SubmissionError
from autograder.suites.case import SuiteCase
from autograder.suites.gradient_case import GradientCase, Part
from autograder.suites.graded import EXACT, graded, ref, student
from autograder.suites.inputs import (fixed_labels, fixed_probabilities, fixed_rng, labels,
                                      one_hot, probabilities, rng_for)

SM, CE, SCE = "softmax", "cross_entropy", "softmax_cross_entropy_backward"
SOFTMAX_HINTS = {"broadcast": "the row sums (or maxima) have shape (N,) and broadcast against "
                              "the columns: use keepdims=True, e.g. "
                              "E / E.sum(axis=1, keepdims=True)"}


class TestSoftmax(SuiteCase):

    def check_values(self, Z, extra=""):
        with self.hinting(SOFTMAX_HINTS):
            P = student().softmax(Z)
        self.assert_close(SM, P, ref().softmax(Z), name="P", inputs=[("Z", Z)],
                          call="softmax(Z)" + extra,
                          candidates=diagnose.softmax_candidates(Z, ref().softmax(Z.T).T),
                          extra_hint=diagnose.softmax_rows_hint(P)
                          if isinstance(P, np.ndarray) else None)

    @graded("softmax.shape")
    def test_1_shape(self):
        """softmax: defined with (Z); returns P of shape (N, K), correct also when N == K"""
        self.assert_signature(SM, ["Z"])
        r = rng_for(self.key)
        Z = r.normal(0, 2, size=(6, 4))
        with self.hinting(SOFTMAX_HINTS):
            P = student().softmax(Z)
        self.assert_array(SM, P, (6, 4), name="P", inputs=[("Z", Z)], call="softmax(Z)")
        # N == K: row sums broadcast along the wrong axis keep the shape
        Z = r.normal(0, 2, size=(4, 4))
        self.assert_not_mistaken(SM, student().softmax(Z), ref().softmax(Z),
                                 diagnose.softmax_candidates(Z, ref().softmax(Z.T).T)[2:],
                                 name="P",
                                 inputs=[("Z", Z)], call="softmax(Z)")

    @graded("softmax.values")
    def test_2_values(self):
        """softmax: each row of P is exp(Z) normalized over that row"""
        r = rng_for(self.key)
        for shape in ((5, 3), (3, 6)):
            self.check_values(r.normal(0, 2, size=shape))

    @graded("softmax.stability")
    def test_3_stability(self):
        """softmax: stable for huge logits ([1000, 0, -1000] and Z + 1000)"""
        r = rng_for(self.key)
        hint = ("exp overflows for large logits: subtract each row's maximum first, "
                "Z - Z.max(axis=1, keepdims=True) (softmax does not change)")
        Z = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [-1000.0, 1000.0, 0.0]])
        res = student().call(SM, Z)
        self.assert_array(SM, res.value, Z.shape, kind="number", name="P", inputs=[("Z", Z)])
        self.assert_finite(SM, res.value, name="P", inputs=[("Z", Z)], hint=hint,
                           call="softmax([[1000, 0, -1000], [0, 0, 0], [-1000, 1000, 0]])")
        self.assert_close(SM, res.value, ref().softmax(Z), name="P", inputs=[("Z", Z)],
                          call="softmax(Z)", extra_hint=hint)
        Z = r.normal(0, 2, size=(5, 4))
        shifted = Z + 1000.0
        P = student().softmax(shifted)
        self.assert_array(SM, P, Z.shape, kind="number", name="P",
                          inputs=[("Z + 1000", shifted)])
        self.assert_finite(SM, P, name="softmax(Z + 1000)", inputs=[("Z + 1000", shifted)],
                           hint=hint)
        self.assert_close(SM, P, ref().softmax(Z), name="softmax(Z + 1000)",
                          inputs=[("Z + 1000", shifted)], call="softmax(Z + 1000)",
                          extra_hint="softmax(Z + 1000) must equal softmax(Z)")

    @graded("softmax.hidden_values")
    def test_4_hidden_values(self):
        """softmax: values on hidden inputs"""
        r = rng_for(self.key)
        for shape in ((9, 7), (6, 6), (2, 10)):
            self.check_values(r.normal(0, 3, size=shape))

    @graded("softmax.unchanged")
    def test_5_unchanged(self):
        """softmax: leaves Z unchanged"""
        Z = rng_for(self.key).normal(0, 2, size=(5, 4))
        self.assert_unchanged(SM, [Z], ["Z"], ref().softmax(Z),
                              hint="an in-place shift (`Z -= Z.max(...)`) or exp "
                                   "(`np.exp(Z, out=Z)`) modifies the caller's array: "
                                   "write `Z = Z - Z.max(axis=1, keepdims=True)` instead")

    @graded("softmax.vectorized")
    def test_6_vectorized(self):
        """softmax: vectorized (no Python loop over examples or classes)"""
        def make(size):
            return [rng_for(self.key, *size).normal(0, 2, size=size)]

        self.assert_vectorized(SM, make, [("N=8, K=3", (8, 3)), ("N=64, K=3", (64, 3)),
                                          ("N=8, K=24", (8, 24))], big=(100_000, 10))


def ce_inputs(r, n, k):
    y = labels(r, n, k)
    return probabilities(r, n, k), one_hot(y, k)


class TestCrossEntropy(SuiteCase):

    def check_values(self, P, Y):
        n, k = P.shape
        J = ref().cross_entropy(P, Y)
        self.assert_close(CE, student().cross_entropy(P, Y), J,
                          name="J", inputs=[("P", P), ("Y", Y)], call="cross_entropy(P, Y)",
                          scalar=True, n=n, k=k,
                          candidates=diagnose.cross_entropy_candidates(J, n, k))

    @graded("cross_entropy.shape")
    def test_1_shape(self):
        """cross_entropy: defined with (P, Y); returns a float"""
        self.assert_signature(CE, ["P", "Y"])
        r = rng_for(self.key)
        P, Y = ce_inputs(r, 6, 4)
        J = student().cross_entropy(P, Y)
        problem = compare.scalar_problem(J, "J")
        if problem:
            self.fail_with(CE, problem, inputs=[("P", P), ("Y", Y)], call="cross_entropy(P, Y)")

    @graded("cross_entropy.values")
    def test_2_values(self):
        """cross_entropy: J = -(1/N) sum_n sum_k Y log P (the MEAN over examples)"""
        r = rng_for(self.key)
        for n, k in ((6, 4), (3, 5)):
            self.check_values(*ce_inputs(r, n, k))

    @graded("cross_entropy.stability")
    def test_3_stability(self):
        """cross_entropy: finite with exact zeros in P; uniform predictions give ln K"""
        r = rng_for(self.key)
        y = labels(r, 5, 4)
        Y = one_hot(y, 4)
        # perfect predictions: P == Y (zeros everywhere except the true class)
        J = student().cross_entropy(Y.copy(), Y)
        problem = compare.scalar_problem(J, "J")
        if problem:
            self.fail_with(CE, problem, inputs=[("P", Y), ("Y", Y)])
        j = compare.scalar_value(J)
        if not np.isfinite(j) or abs(j) > 1e-6:
            self.fail_with(CE, f"perfect predictions (P equal to Y, so P has exact zeros) "
                               f"should give J = 0; got {j}",
                           inputs=[("P", Y), ("Y", Y)], call="cross_entropy(Y, Y)",
                           mistake=diagnose.cross_entropy_zero_hint("perfect", j))
        # a zero probability on the TRUE class: a large but finite loss
        P = probabilities(r, 5, 4)
        P[0] = 0.0
        P[0, (y[0] + 1) % 4] = 1.0
        j = compare.scalar_value(student().cross_entropy(P, Y))
        if j is None or not np.isfinite(j) or j <= 0:
            self.fail_with(CE, f"a zero probability on a true class should give a large finite "
                               f"loss; got {j}", inputs=[("P", P), ("Y", Y)],
                           call="cross_entropy(P, Y)",
                           mistake=diagnose.cross_entropy_zero_hint("true class zero", j))
        # uniform predictions: J = ln K
        for k in (4, 10):
            Yk = one_hot(labels(r, 6, k), k)
            U = np.full((6, k), 1.0 / k)
            self.assert_close(CE, student().cross_entropy(U, Yk), math.log(k), name="J",
                              inputs=[("P (uniform)", U), ("Y", Yk)],
                              call="cross_entropy(P, Y)", scalar=True, n=6, k=k,
                              candidates=diagnose.cross_entropy_candidates(math.log(k), 6, k),
                              extra_hint=f"uniform predictions over K = {k} classes must "
                                         f"give ln K = {math.log(k):.6f}")

    @graded("cross_entropy.hidden_values")
    def test_4_hidden_values(self):
        """cross_entropy: values on hidden inputs"""
        r = rng_for(self.key)
        for n, k in ((11, 3), (5, 10)):
            self.check_values(*ce_inputs(r, n, k))

    @graded("cross_entropy.unchanged")
    def test_5_unchanged(self):
        """cross_entropy: leaves P and Y unchanged"""
        P, Y = ce_inputs(rng_for(self.key), 5, 4)
        P[0, 0] = 0.0  # a clip in place would change it
        P[0] /= P[0].sum()
        self.assert_unchanged(CE, [P, Y], ["P", "Y"], ref().cross_entropy(P, Y),
                              hint="an in-place clip (`np.clip(P, a, b, out=P)`, `P[P == 0] = "
                                   "...`) modifies the caller's array: clip into a new array")

    @graded("cross_entropy.vectorized")
    def test_6_vectorized(self):
        """cross_entropy: vectorized (no Python loop over examples or classes)"""
        def make(size):
            return list(ce_inputs(rng_for(self.key, *size), *size))

        self.assert_vectorized(CE, make, [("N=8, K=3", (8, 3)), ("N=64, K=3", (64, 3)),
                                          ("N=8, K=24", (8, 24))], big=(100_000, 10))


class TestSoftmaxCrossEntropyBackward(GradientCase):

    def check_values(self, P, Y):
        n, k = P.shape
        self.assert_close(SCE, student().softmax_cross_entropy_backward(P, Y),
                          ref().softmax_cross_entropy_backward(P, Y), name="dZ",
                          inputs=[("P", P), ("Y", Y)],
                          call="softmax_cross_entropy_backward(P, Y)", n=n, k=k,
                          candidates=diagnose.sce_backward_candidates(P, Y))

    @graded("softmax_cross_entropy_backward.shape")
    def test_1_shape(self):
        """softmax_cross_entropy_backward: defined with (P, Y); returns dZ of shape (N, K)"""
        self.assert_signature(SCE, ["P", "Y"])
        r = rng_for(self.key)
        P, Y = ce_inputs(r, 6, 4)
        self.assert_array(SCE, student().softmax_cross_entropy_backward(P, Y), (6, 4),
                          name="dZ", inputs=[("P", P), ("Y", Y)],
                          call="softmax_cross_entropy_backward(P, Y)")

    @graded("softmax_cross_entropy_backward.values")
    def test_2_values(self):
        """softmax_cross_entropy_backward: dZ = (P - Y) / N"""
        r = rng_for(self.key)
        for n, k in ((6, 4), (3, 5)):
            self.check_values(*ce_inputs(r, n, k))

    @graded("softmax_cross_entropy_backward.gradient")
    def test_3_gradient(self):
        """softmax_cross_entropy_backward: dZ matches the numeric gradient of your cross_entropy(softmax(Z), Y)"""
        r = rng_for(self.key)
        n, k = 5, 4
        Z = r.normal(0, 1.5, size=(n, k))
        Y = one_hot(labels(r, n, k), k)
        note = None
        try:
            P = student().softmax(Z)
        except SubmissionError:
            P = None
        own_softmax = (isinstance(P, np.ndarray) and P.shape == Z.shape and P.dtype.kind == "f"
                       and np.all(np.isfinite(P)))
        if not own_softmax:
            P = ref().softmax(Z)
            note = ("your `softmax` did not return a usable array: the true softmax was "
                    "used instead")

        def loss(Zp):
            Pp = student().softmax(Zp) if own_softmax else ref().softmax(Zp)
            return student().cross_entropy(Pp, Y)

        def numeric(h):
            return gradients.numeric_gradient(loss, [Z], 0, upstream=None, h=h)

        def again(h):
            try:
                return numeric(h)
            except (SubmissionError, gradients.NotANumber):
                return None

        try:
            num = numeric(self.thresholds()["grad_h"])
        except (SubmissionError, gradients.NotANumber) as problem:
            num = None
            note = (f"your `cross_entropy` could not be differentiated ({problem}); "
                    "compared with the exact gradient instead")
        got = student().softmax_cross_entropy_backward(P, Y)
        true = EXACT.softmax_cross_entropy_backward(P, Y) if EXACT else None
        part = Part("dZ", got, Z.shape, num, true,
                    renumeric=again, candidates=diagnose.sce_backward_candidates(P, Y))
        self.assert_gradients(SCE, "cross_entropy(softmax(Z), Y)", [part], n=n, k=k,
                              inputs=[("Z", Z), ("Y", Y), ("P = softmax(Z)", P)],
                              call="softmax_cross_entropy_backward(softmax(Z), Y)", note=note,
                              numeric_of="your cross_entropy(softmax(Z), Y) with respect to Z")

    @graded("softmax_cross_entropy_backward.hidden_values")
    def test_4_hidden_values(self):
        """softmax_cross_entropy_backward: values on hidden inputs"""
        r = rng_for(self.key)
        for n, k in ((9, 3), (4, 10)):
            self.check_values(*ce_inputs(r, n, k))

    @graded("softmax_cross_entropy_backward.unchanged")
    def test_5_unchanged(self):
        """softmax_cross_entropy_backward: leaves P and Y unchanged"""
        P, Y = ce_inputs(rng_for(self.key), 5, 4)
        self.assert_unchanged(SCE, [P, Y], ["P", "Y"],
                              ref().softmax_cross_entropy_backward(P, Y),
                              hint="`P -= Y` (or `/=`) modifies the caller's P: "
                                   "compute `(P - Y) / N` into a new array")

    @graded("softmax_cross_entropy_backward.vectorized")
    def test_6_vectorized(self):
        """softmax_cross_entropy_backward: vectorized (no Python loop over examples or classes)"""
        def make(size):
            return list(ce_inputs(rng_for(self.key, *size), *size))

        self.assert_vectorized(SCE, make, [("N=8, K=3", (8, 3)), ("N=64, K=3", (64, 3)),
                                           ("N=8, K=24", (8, 24))], big=(100_000, 10))


    @graded("softmax_cross_entropy_backward.stability")
    def test_7_stability(self):
        """softmax_cross_entropy_backward: exact 0 and 1 in P give dZ = (P - Y) / N (no nan, no inf, no warning)"""
        r = rng_for(self.key)
        n, k = 6, 4
        y = labels(r, n, k)
        Y = one_hot(y, k)
        P = probabilities(r, n, k)
        P[0] = Y[0]  # a perfect prediction: zeros beside a one
        P[1] = 0.0
        P[1, (y[1] + 1) % k] = 1.0  # certain of a wrong class: zero on the true one
        P[2, y[2]] = 0.0  # an exact zero on the true class, the rest spread
        P[2] /= P[2].sum()
        inputs = [("P (with exact 0 and 1)", P), ("Y", Y)]
        call = "softmax_cross_entropy_backward(P, Y)"
        hint = ("dZ = (P - Y) / N needs no division by P and no log: going through "
                "dJ/dP = -Y / (N P) and the softmax Jacobian breaks where P is exactly 0")
        res = student().call(SCE, P, Y)
        self.assert_array(SCE, res.value, P.shape, kind="number", name="dZ", inputs=inputs,
                          call=call)
        self.assert_finite(SCE, res.value, name="dZ", inputs=inputs, call=call, hint=hint)
        self.assert_close(SCE, res.value, ref().softmax_cross_entropy_backward(P, Y),
                          name="dZ", inputs=inputs, call=call, n=n, k=k,
                          candidates=diagnose.sce_backward_candidates(P, Y), extra_hint=hint)
        warning = diagnose.numpy_trouble(res.output)
        if warning:
            self.fail_with(SCE, "numpy reported a division by zero, an invalid value or an "
                                "overflow for P with exact 0 and 1", inputs=inputs, call=call,
                           details=[f"your output: `{warning}`"], mistake=hint)


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_softmax():
    return [("N=10,K=4", (fixed_rng(1).normal(0, 3, (10, 4)),)),
            ("N=K=4", (fixed_rng(2).normal(0, 3, (4, 4)),)),
            ("huge logits", (fixed_rng(3).normal(0, 1, (6, 3)) * 1000.0,)),
            ("N=64,K=10", (fixed_rng(4).normal(0, 3, (64, 10)),))]


def _probes_cross_entropy():
    out = []
    for N, K in ((10, 4), (64, 10), (5, 5)):
        P, Y = fixed_probabilities(N, K, N), np.eye(K)[fixed_labels(N, K, N + 1)]
        out.append((f"N={N},K={K}", (P, Y)))
    P = fixed_probabilities(6, 3, 9, zeros=True)
    Y = np.eye(3)[np.array([1, 0, 2, 1, 0, 2])]
    out.append(("zeros in P", (P, Y)))
    return out


def _probes_softmax_cross_entropy_backward():
    out = []
    for N, K in ((10, 4), (64, 10), (5, 5), (7, 3)):
        P, Y = fixed_probabilities(N, K, N), np.eye(K)[fixed_labels(N, K, N + 1)]
        out.append((f"N={N},K={K}", (P, Y)))
    Y = np.eye(3)[np.array([1, 0, 2, 1])]
    P = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.8, 0.0], [0.3, 0.3, 0.4]])
    out.append(("exact 0 and 1 in P", (P, Y)))
    return out


PROBES = {
    "softmax": _probes_softmax,
    "cross_entropy": _probes_cross_entropy,
    "softmax_cross_entropy_backward": _probes_softmax_cross_entropy_backward,
}
