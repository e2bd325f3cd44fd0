"""linear_forward(X, W, b) -> Z; linear_backward(dZ, X, W, b) -> (dX, dW, db)."""
from autograder.checks import diagnose, gradients
from autograder.sandbox.student import SubmissionError
from autograder.suites.case import SuiteCase
from autograder.suites.gradient_case import GradientCase, Part
from autograder.suites.graded import graded, ref, student
from autograder.suites.inputs import fixed_rng, rng_for

FWD, BWD = "linear_forward", "linear_backward"
FORWARD_HINTS = {"broadcast": "b is added along the wrong axis: in Z = X W^T + b, b of shape "
                              "(K,) is added to every ROW of the (N, K) product",
                 "matmul": "the factors of the product are in the wrong order or not "
                           "transposed: Z = X @ W.T, (N, M) x (M, K)"}
BACKWARD_HINTS = {"matmul": "the factors of a product are in the wrong order or transposed: "
                            "dX = dZ @ W is (N, K) x (K, M), dW = dZ.T @ X is (K, N) x (N, M)",
                  "broadcast": "check the shapes: dX is (N, M), dW (K, M), db (K,)"}


def layer_inputs(r, n, m, k):
    return r.normal(size=(n, m)), r.normal(size=(k, m)), r.normal(size=k)


class TestLinearForward(SuiteCase):

    @graded("linear_forward.shape")
    def test_1_shape(self):
        """linear_forward: defined with (X, W, b); returns Z of shape (N, K), also when N == K"""
        self.assert_signature(FWD, ["X", "W", "b"])
        r = rng_for(self.key)
        X, W, b = layer_inputs(r, 6, 4, 3)
        inputs = [("X", X), ("W", W), ("b", b)]
        with self.hinting(FORWARD_HINTS):
            Z = student().linear_forward(X, W, b)
        self.assert_array(FWD, Z, (6, 3), name="Z", inputs=inputs, call="linear_forward(X, W, b)",
                          hint=diagnose.likely_mistake(Z, ref().linear_forward(X, W, b))
                          if getattr(Z, "shape", None) == (3, 6) else None)
        # N == K: a bias broadcast along the wrong axis keeps the shape
        X, W, b = layer_inputs(r, 3, 4, 3)
        Z = student().linear_forward(X, W, b)
        self.assert_not_mistaken(FWD, Z, ref().linear_forward(X, W, b),
                                 diagnose.linear_forward_candidates(X, W, b)[2:], name="Z",
                                 inputs=[("X", X), ("W", W), ("b", b)],
                                 call="linear_forward(X, W, b)")

    @graded("linear_forward.values")
    def test_2_values(self):
        """linear_forward: Z = X W^T + b"""
        r = rng_for(self.key)
        for n, m, k in ((5, 4, 3), (8, 2, 6)):
            X, W, b = layer_inputs(r, n, m, k)
            with self.hinting(FORWARD_HINTS):
                Z = student().linear_forward(X, W, b)
            self.assert_close(FWD, Z, ref().linear_forward(X, W, b), name="Z",
                              inputs=[("X", X), ("W", W), ("b", b)],
                              call="linear_forward(X, W, b)",
                              candidates=diagnose.linear_forward_candidates(X, W, b))

    @graded("linear_forward.unchanged")
    def test_3_unchanged(self):
        """linear_forward: leaves X, W and b unchanged"""
        X, W, b = layer_inputs(rng_for(self.key), 5, 4, 3)
        self.assert_unchanged(FWD, [X, W, b], ["X", "W", "b"], ref().linear_forward(X, W, b))

    @graded("linear_forward.vectorized")
    def test_4_vectorized(self):
        """linear_forward: vectorized (no Python loop over examples or units)"""
        def make(size):
            return list(layer_inputs(rng_for(self.key, *size), *size))

        self.assert_vectorized(FWD, make, [("N=8", (8, 3, 2)), ("N=64", (64, 3, 2)),
                                           ("M=24", (8, 24, 2)), ("K=16", (8, 3, 16))],
                               big=(50_000, 32, 16))


def backward_inputs(r, n, m, k):
    X, W, b = layer_inputs(r, n, m, k)
    return r.normal(size=(n, k)), X, W, b


PARTS = ("dX", "dW", "db")


class TestLinearBackward(GradientCase):

    def check_values(self, dZ, X, W, b):
        inputs = [("dZ", dZ), ("X", X), ("W", W), ("b", b)]
        call = "linear_backward(dZ, X, W, b)"
        with self.hinting(BACKWARD_HINTS):
            value = student().linear_backward(dZ, X, W, b)
        got = self.assert_tuple(BWD, value, 3, names=PARTS, inputs=inputs, call=call)
        expected = ref().linear_backward(dZ, X, W, b)
        for name, g, e in zip(PARTS, got, expected):
            self.assert_close(BWD, g, e, name=name, inputs=inputs, call=call, n=dZ.shape[0],
                              candidates=diagnose.linear_backward_candidates(name, dZ, X, W),
                              shape_hint=diagnose.linear_backward_shape_hint(
                                  name, getattr(g, "shape", None), dZ, X, W))

    @graded("linear_backward.shape")
    def test_1_shape(self):
        """linear_backward: defined with (dZ, X, W, b); returns (dX, dW, db) shaped like (X, W, b), also when N == K"""
        self.assert_signature(BWD, ["dZ", "X", "W", "b"])
        r = rng_for(self.key)
        dZ, X, W, b = backward_inputs(r, 6, 4, 3)
        inputs = [("dZ", dZ), ("X", X), ("W", W), ("b", b)]
        call = "linear_backward(dZ, X, W, b)"
        with self.hinting(BACKWARD_HINTS):
            value = student().linear_backward(dZ, X, W, b)
        got = self.assert_tuple(BWD, value, 3, names=PARTS, inputs=inputs, call=call)
        for name, g, shape in zip(PARTS, got, ((6, 4), (3, 4), (3,))):
            self.assert_array(BWD, g, shape, name=name, inputs=inputs, call=call,
                              hint=diagnose.linear_backward_shape_hint(
                                  name, getattr(g, "shape", None), dZ, X, W))
        # N == K: db summed over the wrong axis keeps the shape (K,)
        dZ, X, W, b = backward_inputs(r, 3, 4, 3)
        got = self.assert_tuple(BWD, student().linear_backward(dZ, X, W, b), 3, names=PARTS,
                                inputs=inputs, call=call)
        self.assert_not_mistaken(BWD, got[2], ref().linear_backward(dZ, X, W, b)[2],
                                 diagnose.linear_backward_candidates("db", dZ, X, W)[1:],
                                 name="db", inputs=[("dZ", dZ), ("X", X), ("W", W), ("b", b)],
                                 call=call)

    @graded("linear_backward.values")
    def test_2_values(self):
        """linear_backward: dX = dZ W, dW = dZ^T X, db = column sums of dZ"""
        r = rng_for(self.key)
        for n, m, k in ((5, 4, 3), (7, 2, 5)):
            self.check_values(*backward_inputs(r, n, m, k))

    @graded("linear_backward.gradient")
    def test_3_gradient(self):
        """linear_backward: dX, dW, db match numeric gradients of your linear_forward"""
        r = rng_for(self.key)
        n, m, k = 5, 4, 3
        G, X, W, b = backward_inputs(r, n, m, k)
        inputs = [("dZ (random upstream gradient)", G), ("X", X), ("W", W), ("b", b)]
        call = "linear_backward(dZ, X, W, b)"
        got = self.assert_tuple(BWD, student().linear_backward(G, X, W, b), 3, names=PARTS,
                                inputs=inputs, call=call)
        forward = student().linear_forward
        true = ref().linear_backward(G, X, W, b)
        note = None

        def numeric(which, h):
            return gradients.numeric_gradient(forward, [X, W, b], which, upstream=G, h=h)

        def renumeric(which):
            def again(h):
                try:
                    return numeric(which, h)
                except (SubmissionError, gradients.NotANumber):
                    return None
            return again

        try:
            numerics = [numeric(i, self.thresholds()["grad_h"]) for i in range(3)]
        except (SubmissionError, gradients.NotANumber) as problem:
            numerics = [None] * 3
            note = (f"your `linear_forward` could not be differentiated ({problem}); "
                    "compared with the exact gradient instead")
        parts = [Part(name, g, shape, num, t, renumeric=renumeric(i),
                      candidates=diagnose.linear_backward_candidates(name, G, X, W),
                      shape_hint=diagnose.linear_backward_shape_hint(
                          name, getattr(g, "shape", None), G, X, W))
                 for i, (name, g, shape, num, t) in enumerate(zip(
                     PARTS, got, ((n, m), (k, m), (k,)), numerics, true))]
        self.assert_gradients(BWD, FWD, parts, n=n, inputs=inputs, call=call, note=note)

    @graded("linear_backward.hidden_values")
    def test_4_hidden_values(self):
        """linear_backward: values on hidden inputs"""
        r = rng_for(self.key)
        for n, m, k in ((11, 6, 4), (4, 9, 7)):
            self.check_values(*backward_inputs(r, n, m, k))

    @graded("linear_backward.unchanged")
    def test_5_unchanged(self):
        """linear_backward: leaves dZ, X, W and b unchanged"""
        args = list(backward_inputs(rng_for(self.key), 5, 4, 3))
        self.assert_unchanged(BWD, args, ["dZ", "X", "W", "b"], ref().linear_backward(*args))

    @graded("linear_backward.vectorized")
    def test_6_vectorized(self):
        """linear_backward: vectorized (no Python loop over examples or units)"""
        def make(size):
            return list(backward_inputs(rng_for(self.key, *size), *size))

        self.assert_vectorized(BWD, make, [("N=8", (8, 3, 2)), ("N=64", (64, 3, 2)),
                                           ("M=24", (8, 24, 2)), ("K=16", (8, 3, 16))],
                               big=(50_000, 32, 16))


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_linear_forward():
    out = []
    for N, M, K in ((10, 4, 3), (5, 5, 5), (64, 7, 2), (1, 3, 4)):
        X, W, b = (fixed_rng(N).normal(size=(N, M)), fixed_rng(M).normal(size=(K, M)),
                   fixed_rng(K).normal(size=K))
        out.append((f"N={N},M={M},K={K}", (X, W, b)))
    return out


def _probes_linear_backward():
    out = []
    for N, M, K in ((10, 4, 3), (5, 5, 5), (64, 7, 2), (3, 3, 3)):
        dZ, X = fixed_rng(N + 1).normal(size=(N, K)), fixed_rng(N).normal(size=(N, M))
        W, b = fixed_rng(M).normal(size=(K, M)), fixed_rng(K).normal(size=K)
        out.append((f"N={N},M={M},K={K}", (dZ, X, W, b)))
    return out


PROBES = {"linear_forward": _probes_linear_forward, "linear_backward": _probes_linear_backward}
