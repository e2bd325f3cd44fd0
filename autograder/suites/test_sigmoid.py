"""sigmoid_forward(Z) -> A; sigmoid_backward(dA, A) -> dZ."""
import re

import numpy as np

from autograder.checks import diagnose, gradients
from autograder.sandbox.student import SubmissionError
from autograder.suites.case import SuiteCase
from autograder.suites.gradient_case import GradientCase, Part
from autograder.suites.graded import EXACT, graded, ref, student
from autograder.suites.inputs import fixed_rng, rng_for

FWD, BWD = "sigmoid_forward", "sigmoid_backward"


class TestSigmoidForward(SuiteCase):

    @graded("sigmoid_forward.shape")
    def test_1_shape(self):
        """sigmoid_forward: defined with (Z); returns an array of the shape of Z"""
        self.assert_signature(FWD, ["Z"])
        r = rng_for(self.key)
        for shape in ((6, 3), (5,)):
            Z = r.normal(size=shape)
            self.assert_array(FWD, student().sigmoid_forward(Z), shape, name="A",
                              inputs=[("Z", Z)], call="sigmoid_forward(Z)")

    @graded("sigmoid_forward.values")
    def test_2_values(self):
        """sigmoid_forward: A = 1 / (1 + exp(-Z))"""
        r = rng_for(self.key)
        for shape in ((6, 4), (3, 7)):
            Z = r.normal(0, 3, size=shape)
            A = ref().sigmoid_forward(Z)
            self.assert_close(FWD, student().sigmoid_forward(Z), A,
                              name="A", inputs=[("Z", Z)], call="sigmoid_forward(Z)",
                              candidates=diagnose.sigmoid_forward_candidates(Z, A))

    @graded("sigmoid_forward.stability")
    def test_3_stability(self):
        """sigmoid_forward: stable for |Z| up to 1e4 (no overflow, no nan)"""
        r = rng_for(self.key)
        Z = np.concatenate([np.array([[-1e4, -1000.0, -710.0, -50.0, 0.0, 50.0, 710.0, 1000.0,
                                       1e4]]), r.uniform(-1e4, 1e4, size=(3, 9))])
        inputs = [("Z", Z)]
        res = student().call(FWD, Z)
        hint = ("exp of a large argument overflows: use exp(-|Z|), which is at most 1, "
                "e.g. np.where(Z >= 0, 1 / (1 + exp(-|Z|)), exp(-|Z|) / (1 + exp(-|Z|)))")
        self.assert_array(FWD, res.value, Z.shape, kind="number", name="A", inputs=inputs)
        self.assert_finite(FWD, res.value, name="A", inputs=inputs, hint=hint)
        self.assert_close(FWD, res.value, ref().sigmoid_forward(Z), name="A", inputs=inputs,
                          call="sigmoid_forward(Z)", extra_hint=hint)
        if "overflow" in (res.output or ""):
            output = re.sub(r"\S*neural_net\.py", "neural_net.py", res.output).strip()
            output = " ".join(output.split())[:300]
            self.fail_with(FWD, "numpy reported an overflow (RuntimeWarning) for large |Z|",
                           inputs=inputs, details=[f"your output: `{output}`"], mistake=hint)

    @graded("sigmoid_forward.unchanged")
    def test_4_unchanged(self):
        """sigmoid_forward: leaves Z unchanged"""
        Z = rng_for(self.key).normal(0, 3, size=(5, 4))
        self.assert_unchanged(FWD, [Z], ["Z"], ref().sigmoid_forward(Z))

    @graded("sigmoid_forward.vectorized")
    def test_5_vectorized(self):
        """sigmoid_forward: vectorized (no Python loop over elements)"""
        def make(size):
            return [rng_for(self.key, *size).normal(0, 3, size=size)]

        self.assert_vectorized(FWD, make, [("8x3", (8, 3)), ("64x3", (64, 3)),
                                           ("8x24", (8, 24))], big=(100_000, 10))


def backward_inputs(r, shape):
    return r.normal(size=shape), ref().sigmoid_forward(r.normal(0, 2, size=shape))


class TestSigmoidBackward(GradientCase):

    def check_values(self, dA, A):
        self.assert_close(BWD, student().sigmoid_backward(dA, A), ref().sigmoid_backward(dA, A),
                          name="dZ", inputs=[("dA", dA), ("A", A)],
                          call="sigmoid_backward(dA, A)",
                          candidates=diagnose.sigmoid_backward_candidates(dA, A))

    @graded("sigmoid_backward.shape")
    def test_1_shape(self):
        """sigmoid_backward: defined with (dA, A); returns dZ of the shape of A"""
        self.assert_signature(BWD, ["dA", "A"])
        dA, A = backward_inputs(rng_for(self.key), (6, 3))
        self.assert_array(BWD, student().sigmoid_backward(dA, A), (6, 3), name="dZ",
                          inputs=[("dA", dA), ("A", A)], call="sigmoid_backward(dA, A)")

    @graded("sigmoid_backward.values")
    def test_2_values(self):
        """sigmoid_backward: dZ = dA * A * (1 - A)"""
        r = rng_for(self.key)
        for shape in ((6, 4), (4, 7)):
            self.check_values(*backward_inputs(r, shape))

    @graded("sigmoid_backward.gradient")
    def test_3_gradient(self):
        """sigmoid_backward: dZ matches the numeric gradient of your sigmoid_forward"""
        r = rng_for(self.key)
        Z = r.normal(0, 1.5, size=(5, 3))
        G = r.normal(size=(5, 3))
        note = None
        try:
            A = student().sigmoid_forward(Z)
        except SubmissionError:
            A = None
        if not (isinstance(A, np.ndarray) and A.shape == Z.shape and A.dtype.kind == "f"
                and np.all(np.isfinite(A))):
            A = ref().sigmoid_forward(Z)
            note = ("your `sigmoid_forward` did not return a usable array: checked with the "
                    "true A = sigmoid(Z) and the exact gradient instead")
        elif not np.all((A > 0) & (A < 1)) or np.ptp(A) == 0:
            # On A of only 0s and 1s (or a constant) the exact gradient A (1 - A) dA
            # is zero or uninformative: nothing could tell a right backward from
            # one returning zeros, so judge it where the sigmoid is not degenerate.
            A = ref().sigmoid_forward(Z)
            note = ("your `sigmoid_forward` returned values outside (0, 1) or a constant on "
                    "ordinary Z: checked with the true A = sigmoid(Z) and the exact gradient "
                    "instead")
        inputs = [("Z", Z), ("dA (random upstream gradient)", G), ("A = sigmoid_forward(Z)", A)]
        call = "sigmoid_backward(dA, sigmoid_forward(Z))"
        got = student().sigmoid_backward(G, A)

        def numeric(h):
            return gradients.numeric_gradient(student().sigmoid_forward, [Z], 0, upstream=G, h=h)

        def again(h):
            try:
                return numeric(h)
            except (SubmissionError, gradients.NotANumber):
                return None

        num = None
        if note is None:
            try:
                num = numeric(self.thresholds()["grad_h"])
            except (SubmissionError, gradients.NotANumber) as problem:
                note = (f"your `sigmoid_forward` could not be differentiated ({problem}); "
                        "compared with the exact gradient instead")
        true = EXACT.sigmoid_backward(G, A) if EXACT else None
        part = Part("dZ", got, Z.shape, num, true, renumeric=again,
                    candidates=diagnose.sigmoid_backward_candidates(G, A))
        self.assert_gradients(BWD, FWD, [part], n=Z.shape[0], inputs=inputs, call=call,
                              note=note)

    @graded("sigmoid_backward.hidden_values")
    def test_4_hidden_values(self):
        """sigmoid_backward: values on hidden inputs"""
        r = rng_for(self.key)
        for shape in ((9, 5), (3, 11)):
            self.check_values(*backward_inputs(r, shape))

    @graded("sigmoid_backward.unchanged")
    def test_5_unchanged(self):
        """sigmoid_backward: leaves dA and A unchanged"""
        dA, A = backward_inputs(rng_for(self.key), (5, 4))
        self.assert_unchanged(BWD, [dA, A], ["dA", "A"], ref().sigmoid_backward(dA, A))

    @graded("sigmoid_backward.vectorized")
    def test_6_vectorized(self):
        """sigmoid_backward: vectorized (no Python loop over elements)"""
        def make(size):
            return list(backward_inputs(rng_for(self.key, *size), size))

        self.assert_vectorized(BWD, make, [("8x3", (8, 3)), ("64x3", (64, 3)),
                                           ("8x24", (8, 24))], big=(100_000, 10))


    @graded("sigmoid_backward.stability")
    def test_7_stability(self):
        """sigmoid_backward: exact 0 and 1 in A give dZ = 0 (no nan, no inf, no warning)"""
        r = rng_for(self.key)
        # exact edges beside ordinary values (a float32 sigmoid_backward rounds values
        # that are merely close to 0 or 1, so those would measure precision, not stability)
        A = ref().sigmoid_forward(r.normal(0, 2, size=(5, 6)))
        A[0, :4] = [0.0, 1.0, 0.0, 1.0]
        A[1:, 0] = [1.0, 0.0, 1.0, 0.0]
        dA = r.normal(size=A.shape)
        inputs = [("dA", dA), ("A (saturated: exact 0 and 1)", A)]
        call = "sigmoid_backward(dA, A)"
        hint = ("dZ = dA * A * (1 - A) needs no division and no log: a saturated unit "
                "(A exactly 0 or 1) has dZ = 0. Dividing by A or (1 - A), or recovering Z "
                "from A with a log, breaks there")
        res = student().call(BWD, dA, A)
        self.assert_array(BWD, res.value, A.shape, kind="number", name="dZ", inputs=inputs,
                          call=call)
        self.assert_finite(BWD, res.value, name="dZ", inputs=inputs, call=call, hint=hint)
        self.assert_close(BWD, res.value, ref().sigmoid_backward(dA, A), name="dZ",
                          inputs=inputs, call=call, extra_hint=hint)
        warning = diagnose.numpy_trouble(res.output)
        if warning:
            self.fail_with(BWD, "numpy reported a division by zero, an invalid value or an "
                                "overflow for A exactly 0 or 1", inputs=inputs, call=call,
                           details=[f"your output: `{warning}`"], mistake=hint)


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_sigmoid_forward():
    return [("normal", (fixed_rng(1).normal(0, 3, (10, 4)),)),
            ("huge", (np.array([[-1000.0, -50.0, 0.0, 50.0, 1000.0]]),)),
            ("1-d", (fixed_rng(2).normal(size=7),))]


def _probes_sigmoid_backward():
    out = []
    for N, H in ((10, 4), (4, 4), (64, 5)):
        A = 1 / (1 + np.exp(-fixed_rng(N).normal(size=(N, H))))
        out.append((f"N={N},H={H}", (fixed_rng(N + 7).normal(size=(N, H)), A)))
    saturated = np.array([[0.0, 1.0, 0.5, 1e-300], [1.0, 0.0, 1.0 - 2.0 ** -53, 0.25]])
    out.append(("exact 0 and 1", (fixed_rng(3).normal(size=(2, 4)), saturated)))
    return out


PROBES = {"sigmoid_forward": _probes_sigmoid_forward, "sigmoid_backward": _probes_sigmoid_backward}
