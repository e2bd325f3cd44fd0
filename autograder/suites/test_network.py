"""init_params, forward, backward, sgd_step, predict: the one-hidden-layer network."""
import contextlib

import numpy as np

from autograder.checks import compare, data, diagnose, gradients, vectorization
from autograder.grading.expected import NotCheckedLocally
from autograder.sandbox.student import SubmissionError
from autograder.suites import composition
from autograder.suites.case import SuiteCase, matches
from autograder.suites.gradient_case import GradientCase, Part
from autograder.suites.graded import EXACT, THRESHOLDS, graded, ref, student
from autograder.suites.inputs import (fixed_labels, fixed_params, fixed_rng, labels,
                                      network_params, one_hot, rng_for)

KEYS = ("W1", "b1", "W2", "b2")
CACHE_KEYS = ("X", "Z1", "A1", "Z2", "P")


def param_shapes(m, h, k):
    return {"W1": (h, m), "b1": (h,), "W2": (k, h), "b2": (k,)}


def cache_shapes(n, m, h, k):
    return {"X": (n, m), "Z1": (n, h), "A1": (n, h), "Z2": (n, k), "P": (n, k)}


def param_inputs(params):
    return [("params", params)]


def grad_shape_hint(key, got_shape, n, m, h, k):
    expected = param_shapes(m, h, k)[key]
    if got_shape is None:
        return None
    if key.startswith("b") and got_shape == (n, expected[0]):
        return (f"{key} has one row per example: sum the gradient over the batch (axis 0)")
    if key.startswith("W") and got_shape == expected[::-1]:
        return f"{key} is transposed: a weight's gradient has the weight's shape"
    return None


# ---------------------------------------------------------------------------
# init_params
# ---------------------------------------------------------------------------

class TestInitParams(SuiteCase):
    FN = "init_params"

    def get_params(self, m, h, k, seed):
        value = student().init_params(m, h, k, seed)
        call = f"init_params({m}, {h}, {k}, {seed})"
        self.assert_dict(self.FN, value, KEYS, name="params", call=call)
        for key, shape in param_shapes(m, h, k).items():
            self.assert_array(self.FN, value[key], shape, name=f"params['{key}']", call=call)
        return value

    @graded("init_params.shape")
    def test_1_shape(self):
        """init_params: defined with (n_input, n_hidden, n_output, seed); returns W1 (H, M), b1 (H,), W2 (K, H), b2 (K,) as float64"""
        self.assert_signature(self.FN, ["n_input", "n_hidden", "n_output", "seed"])
        self.get_params(7, 5, 3, 0)

    @graded("init_params.values")
    def test_2_values(self):
        """init_params: zero biases, hidden units not all equal, weights small enough not to saturate the sigmoid"""
        m, h, k, seed = 784, 64, 10, 1
        call = f"init_params({m}, {h}, {k}, {seed})"
        p = self.get_params(m, h, k, seed)
        for key in KEYS:
            self.assert_finite(self.FN, p[key], name=f"params['{key}']", call=call)
        for key in ("b1", "b2"):
            if np.any(p[key] != 0):
                self.fail_with(self.FN, f"the biases must start at zero; `{key}` has "
                                        f"{int(np.count_nonzero(p[key]))} nonzero entries",
                               call=call, got=p[key])
        W1 = p["W1"].astype(np.float64)
        sq = (W1 * W1).sum(axis=1)
        dist = sq[:, None] + sq[None, :] - 2.0 * (W1 @ W1.T)
        np.fill_diagonal(dist, np.inf)
        i, j = np.unravel_index(int(np.argmin(dist)), dist.shape)
        if not np.any(W1) or np.array_equal(W1[i], W1[j]):
            self.fail_with(self.FN, f"hidden units {i} and {j} have identical weights "
                                    "(rows of W1): they compute the same thing and receive the "
                                    "same gradient forever", call=call,
                           mistake="initialize the weights RANDOMLY (np.random.default_rng"
                                   "(seed)) to break the symmetry; only the biases are zero")
        if not np.any(p["W2"]):
            self.fail_with(self.FN, "W2 is all zeros: initialize the weights randomly",
                           call=call)
        settings = THRESHOLDS["init"]
        X = data.grader_split(500, 0)["X_train"]
        Z1 = X @ W1.T
        saturated = float(np.mean(np.abs(Z1) > settings["saturation_abs_z"]))
        if saturated > settings["max_saturated_fraction"]:
            self.fail_with(self.FN, f"the weights are too large: on MNIST digits "
                                    f"{saturated:.0%} of the hidden pre-activations Z1 = X W1^T "
                                    f"have |Z1| > {settings['saturation_abs_z']:g}, where the "
                                    "sigmoid is flat and gradients vanish",
                           call=call, details=[f"W1 entries: mean {W1.mean():.3g}, "
                                               f"standard deviation {W1.std():.3g}"],
                           mistake="scale the random weights down, e.g. uniform in "
                                   "±sqrt(6 / (fan_in + fan_out)) or normal with standard "
                                   "deviation 1 / sqrt(fan_in), and centered on 0")

    @graded("init_params.seeded")
    def test_3_seeded(self):
        """init_params: the same seed gives the same parameters, another seed other ones"""
        a = self.get_params(20, 8, 4, 3)
        b = self.get_params(20, 8, 4, 3)
        if not all(np.array_equal(a[key], b[key]) for key in KEYS):
            self.fail_with(self.FN, "two calls with the same seed returned different parameters",
                           call="init_params(20, 8, 4, 3), twice",
                           mistake="draw from a generator made from the seed, "
                                   "rng = np.random.default_rng(seed), not from the global one")
        c = self.get_params(20, 8, 4, 4)
        if np.array_equal(a["W1"], c["W1"]):
            self.fail_with(self.FN, "seeds 3 and 4 gave the same W1: the seed is ignored",
                           call="init_params(20, 8, 4, 3) and init_params(20, 8, 4, 4)",
                           mistake="rng = np.random.default_rng(seed)")

    @graded("init_params.vectorized")
    def test_4_vectorized(self):
        """init_params: vectorized (no Python loop over units)"""
        def make(size):
            return [*size, 0]

        self.assert_vectorized(
            self.FN, make, [("M=3, H=2, K=2", (3, 2, 2)), ("M=24", (24, 2, 2)),
                            ("H=16", (3, 16, 2)), ("K=16", (3, 2, 16))],
            big=(2000, 500, 10), check=lambda args, value: _init_ok(value, *args[:3]))


def _init_ok(value, m, h, k):
    if not isinstance(value, dict):
        return False
    for key, shape in param_shapes(m, h, k).items():
        a = value.get(key)
        if not (isinstance(a, np.ndarray) and a.shape == shape and a.dtype.kind == "f"
                and np.all(np.isfinite(a))):
            return False
    return True


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------

def forward_inputs(r, n, m, h, k):
    return network_params(r, m, h, k), r.normal(size=(n, m))


class ComposedCase:
    """For a composite FN judged on the student's own layer functions (CALLEES):
    a mistake inside a layer is charged to that layer's tests, not to FN's."""

    FN = None
    CALLEES = ()

    def own_layers(self):
        """own(callee, *args): the student's layer, or NOT_CALLED when FN never calls it."""
        called = composition.calls_of(vectorization.parse(student().source), self.FN,
                                      self.CALLEES)

        def own(callee, *args):
            if callee not in called:
                return composition.NOT_CALLED
            return student().call(callee, *args).value

        return own

    def own_args_after(self):
        """args_after(callee, *args): the arguments as the student's layer leaves them."""
        called = composition.calls_of(vectorization.parse(student().source), self.FN,
                                      self.CALLEES)

        def args_after(callee, *args):
            if callee not in called:
                return None
            return student().call(callee, *args, return_args=True).args_after

        return args_after

    def fail_not_judged(self, callee, reason):
        """Fail closed: FN cannot be judged while a layer it calls is broken."""
        self.fail_with(self.FN, f"not judged: fix `{callee}` first",
                       details=[f"your `{self.FN}` calls your `{callee}`, which "
                                f"{'fails' if 'returned' not in reason else 'is unusable'} "
                                f"here: {reason}"],
                       mistake=f"the mistake is in `{callee}` (its own tests say what is "
                               f"wrong); this test of `{self.FN}` is judged once `{callee}` "
                               "works")

    def fail_if_layer_unrepeatable(self, probes):
        """Before blaming FN for composing wrongly: a layer that gives another
        result each time it is called (it keeps state) cannot be composed with."""
        broken = composition.broken_callee(probes, self.own_layers(), twice=True)
        if broken is not None:
            self.fail_not_judged(*broken)

    @contextlib.contextmanager
    def unless_loops_only_in_layers(self):
        """The vectorized test of FN: a loop found only inside its graded layers
        (or what they call) is those layers' mistake, charged by their own
        vectorized tests; FN passes when its own code is loop-free."""
        try:
            yield
        except NotCheckedLocally:
            raise
        except AssertionError as failure:
            if not any(words in str(failure) for words in ("is not vectorized",
                                                           "far slower than a vectorized")):
                raise  # e.g. no usable result: not a question of loops
            violations = vectorization.static_violations(student().source, self.FN)
            if not violations or not all(set(v.chain[1:]) & set(self.CALLEES)
                                         for v in violations):
                raise

    @contextlib.contextmanager
    def unless_layer_broken(self, probes):
        """A failure of FN (a crash, a wrong structure) while one of its layers
        crashes or returns something unusable on ordinary inputs becomes
        "not judged: fix that layer first". probes: see composition.broken_callee."""
        try:
            yield
        except NotCheckedLocally:
            raise
        except AssertionError:
            broken = composition.broken_callee(probes, self.own_layers())
            if broken is None:
                raise
            self.fail_not_judged(*broken)


def forward_layer_probes(key, params, X):
    """Ordinary inputs of the layers forward calls, with the shapes they must return."""
    n = X.shape[0]
    h, k = params["W1"].shape[0], params["W2"].shape[0]
    r = rng_for(key, "layers")
    return [("linear_forward", (X, params["W1"], params["b1"]), [(n, h)]),
            ("sigmoid_forward", (r.normal(size=(n, h)),), [(n, h)]),
            ("linear_forward", (r.uniform(0.05, 0.95, size=(n, h)), params["W2"], params["b2"]),
             [(n, k)]),
            ("softmax", (r.normal(size=(n, k)),), [(n, k)])]


def forward_stage_right(params, X, cache_ref):
    """right(stage, args): the right value of a line of forward on the student's
    own previous values; None when it cannot be known here (the self-check
    knows only the reference's own intermediates)."""
    known = {"X": X, **params, **{key: cache_ref[key] for key in ("Z1", "A1", "Z2", "P")}}
    formulas = {"linear_forward": "linear_forward", "sigmoid_forward": "sigmoid",
                "softmax": "softmax"}

    def right(stage, args):
        if all(matches(arg, known[name]) for arg, name in zip(args, stage.args)):
            return cache_ref[stage.key]
        if EXACT is None:
            return None
        return getattr(EXACT, formulas[stage.callee])(*args)

    return right


class TestForward(ComposedCase, SuiteCase):
    FN = "forward"
    CALLEES = ("linear_forward", "sigmoid_forward", "softmax")

    def get_forward(self, params, X):
        call = "forward(params, X)"
        inputs = [("params", params), ("X", X)]
        with self.unless_layer_broken(forward_layer_probes(self.key, params, X)):
            value = student().forward(params, X)
            P, cache = self.assert_tuple(self.FN, value, 2, names=("P", "cache"),
                                         inputs=inputs, call=call)
            self.assert_dict(self.FN, cache, CACHE_KEYS, name="cache", inputs=inputs,
                             call=call)
        return P, cache

    def check_values(self, params, X):
        """forward must compose: every cached value equals the student's own
        layer applied to the student's own previous value (or the right value
        of that line), and P is cache['P']."""
        n, m = X.shape
        h, k = params["W1"].shape[0], params["W2"].shape[0]
        inputs = [("params", params), ("X", X)]
        call = "forward(params, X)"
        P, cache = self.get_forward(params, X)
        P_ref, cache_ref = ref().forward(params, X)
        if matches(P, P_ref) and all(matches(cache[key], cache_ref[key]) for key in CACHE_KEYS):
            return P_ref
        self.assert_close(self.FN, cache["X"], X, name="cache['X']", inputs=inputs, call=call,
                          candidates=[(cache_ref[key], f"cache['X'] holds {key}: store the "
                                                       "input X itself")
                                      for key in ("Z1", "A1", "Z2", "P")])
        shapes = {key: shape for key, shape in cache_shapes(n, m, h, k).items()}
        verdict = composition.judge_chain(composition.FORWARD_STAGES, {"X": X, **params},
                                          cache, shapes, self.own_layers(),
                                          forward_stage_right(params, X, cache_ref),
                                          args_after=self.own_args_after())
        if verdict.status == "not_judged":
            self.fail_not_judged(verdict.callee, verdict.reason)
        if verdict.status == "unknown":
            raise NotCheckedLocally(f"forward: your `{verdict.callee}` differs from the "
                                    "reference here; how forward uses it is checked on "
                                    "Gradescope")
        if verdict.status == "differs":
            self.fail_if_layer_unrepeatable(forward_layer_probes(self.key, params, X))
            if not matches(P, P_ref) and self.layers_right(params, X, cache_ref):
                r = rng_for(self.key, "other")
                self.assert_uses_arguments(self.FN, [params, X], ["params", "X"],
                                           {0: network_params(r, m, h, k),
                                            1: r.normal(size=X.shape)}, (P, cache))
            self.fail_stage(verdict, params, X, cache, inputs, call, n, k)
        if not matches(P, cache["P"]):
            self.assert_array(self.FN, P, (n, k), name="P", inputs=inputs, call=call)
            self.fail_with(self.FN, "the P returned is not the cache's P", inputs=inputs,
                           call=call, expected=cache["P"], got=P,
                           mistake="return the same P that you store in the cache")
        return P_ref

    def layers_right(self, params, X, cache_ref):
        """True if the student's layers give the reference's intermediates from
        the reference's own inputs (a wrong layer, e.g. one that reads a global,
        must not make forward look like it ignores its arguments)."""
        own = self.own_layers()
        known = {"X": X, **params, **cache_ref}
        for stage in composition.FORWARD_STAGES:
            try:
                value = own(stage.callee, *[known[name] for name in stage.args])
            except SubmissionError:
                return False
            if value is not composition.NOT_CALLED and not matches(value, cache_ref[stage.key]):
                return False
        return True

    def only_stored_wrong(self, stage, right_value, known, cache):
        """True if the line after `stage` gives the cached value from the value
        `stage` should have produced: forward computed it, then cached something else."""
        for later in composition.FORWARD_STAGES:
            if stage.key in later.args:
                args = [right_value if name == stage.key else known.get(name)
                        for name in later.args]
                try:
                    value = self.own_layers()(later.callee, *args)
                except SubmissionError:
                    return False
                return value is not composition.NOT_CALLED and matches(cache[later.key], value)
        return False

    def fail_stage(self, verdict, params, X, cache, inputs, call, n, k):
        """Point at the line of forward whose value differs from the student's own layer."""
        stage = verdict.stage
        known = {"X": X, **params, **{key: cache[key] for key in ("Z1", "A1", "Z2")}}
        args = [known[name] for name in stage.args]
        own = self.own_layers()

        def again(value):
            try:
                result = own(stage.callee, value)
            except SubmissionError:
                return None
            return None if result is composition.NOT_CALLED else result

        candidates = diagnose.forward_stage_candidates(
            stage.key, args, cache, again=again if stage.key == "A1" else None)
        if self.only_stored_wrong(stage, verdict.expected, known, cache):
            # the next line used the right value: only what the cache holds is wrong
            swaps = [c for c in candidates if c[1].startswith(f"cache['{stage.key}'] holds")]
            candidates = swaps if swaps else [
                (verdict.got, f"cache['{stage.key}'] does not hold the value the next line "
                              "uses: store the intermediate itself")]
        got = verdict.got
        self.assert_array(self.FN, got, np.shape(verdict.expected), kind="number",
                          name=f"cache['{stage.key}']", inputs=inputs, call=call)
        self.assert_finite(self.FN, got, name=f"cache['{stage.key}']", inputs=inputs, call=call)
        mistake = diagnose.likely_mistake(got, verdict.expected, n=n, k=k,
                                          candidates=candidates)
        own = ("your own" if stage.args == ("X", "W1", "b1")
               else "your own " + ", ".join(f"`{a}`" for a in stage.args if a in CACHE_KEYS))
        self.fail_with(self.FN, f"`{stage.key}` differs from `{stage.call}`",
                       inputs=inputs, call=call, expected=verdict.expected, got=got,
                       details=[f"each line of forward is compared with your `{stage.callee}` "
                                f"applied to {own} values (from your cache), so a mistake "
                                f"inside `{stage.callee}` costs only `{stage.callee}`'s tests"],
                       mistake=mistake)

    @graded("forward.shape")
    def test_1_shape(self):
        """forward: defined with (params, X); returns P (N, K) and a cache with X, Z1, A1, Z2, P"""
        self.assert_signature(self.FN, ["params", "X"])
        n, m, h, k = 6, 5, 4, 3
        params, X = forward_inputs(rng_for(self.key), n, m, h, k)
        P, cache = self.get_forward(params, X)
        inputs = [("params", params), ("X", X)]
        with self.unless_layer_broken(forward_layer_probes(self.key, params, X)):
            self.assert_array(self.FN, P, (n, k), name="P", inputs=inputs,
                              call="forward(params, X)")
            for key, shape in cache_shapes(n, m, h, k).items():
                self.assert_array(self.FN, cache[key], shape, name=f"cache['{key}']",
                                  inputs=inputs, call="forward(params, X)")

    @graded("forward.values")
    def test_2_values(self):
        """forward: P = softmax(sigmoid(X W1^T + b1) W2^T + b2), with every intermediate in the cache"""
        r = rng_for(self.key)
        for n, m, h, k in ((6, 5, 4, 3), (7, 3, 6, 4), (7, 3, 6, 4)):
            self.check_values(*forward_inputs(r, n, m, h, k))

    @graded("forward.hidden_values")
    def test_3_hidden_values(self):
        """forward: values on hidden inputs"""
        r = rng_for(self.key)
        for n, m, h, k in ((9, 8, 5, 10), (4, 6, 7, 2)):
            self.check_values(*forward_inputs(r, n, m, h, k))

    @graded("forward.unchanged")
    def test_4_unchanged(self):
        """forward: leaves params and X unchanged"""
        params, X = forward_inputs(rng_for(self.key), 6, 5, 4, 3)
        with self.unless_layer_broken(forward_layer_probes(self.key, params, X)):
            self.assert_unchanged(self.FN, [params, X], ["params", "X"],
                                  ref().forward(params, X))

    @graded("forward.vectorized")
    def test_5_vectorized(self):
        """forward: vectorized (no Python loop over examples or units)"""
        def make(size):
            return list(forward_inputs(rng_for(self.key, *size), *size))

        sizes = [("N=8", (8, 3, 2, 2)), ("N=64", (64, 3, 2, 2)), ("M=24", (8, 24, 2, 2)),
                 ("H=16", (8, 3, 16, 2)), ("K=16", (8, 3, 2, 16))]
        probes = [probe for _, size in sizes
                  for probe in forward_layer_probes(self.key, *make(size))]
        with self.unless_layer_broken(probes), self.unless_loops_only_in_layers():
            self.assert_vectorized(self.FN, make, sizes, big=(20_000, 64, 32, 10),
                                   own_answer=self.composes_own)

    def composes_own(self, args, value):
        """True if (P, cache) is what the student's own layers give on args."""
        params, X = args
        if not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], dict)
                and set(CACHE_KEYS) <= set(value[1])):
            return False
        P, cache = value
        n, m = X.shape
        h, k = params["W1"].shape[0], params["W2"].shape[0]
        try:
            verdict = composition.judge_chain(
                composition.FORWARD_STAGES, {"X": X, **params}, cache,
                cache_shapes(n, m, h, k), self.own_layers(),
                forward_stage_right(params, X, ref().forward(params, X)[1]),
                args_after=self.own_args_after())
        except SubmissionError:
            return False
        return verdict.status == "ok" and matches(P, cache["P"])


# ---------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------

def backward_inputs(r, n, m, h, k):
    params, X = forward_inputs(r, n, m, h, k)
    Y = one_hot(labels(r, n, k), k)
    _, cache = ref().forward(params, X)
    return params, cache, Y


def backward_layer_probes(key, params, cache, Y):
    """Ordinary inputs of the layers backward calls, with the shapes they must return."""
    n, m = cache["X"].shape
    h, k = params["W1"].shape[0], params["W2"].shape[0]
    r = rng_for(key, "layers")
    A = r.uniform(0.05, 0.95, size=(n, h))
    return [("softmax_cross_entropy_backward", (exact_free_probabilities(r, n, k), Y),
             [(n, k)]),
            ("linear_backward", (r.normal(size=(n, k)), A, params["W2"], params["b2"]),
             [(n, h), (k, h), (k,)]),
            ("sigmoid_backward", (r.normal(size=(n, h)), A), [(n, h)]),
            ("linear_backward", (r.normal(size=(n, h)), cache["X"], params["W1"], params["b1"]),
             [(n, m), (h, m), (h,)])]


def exact_free_probabilities(r, n, k):
    """Rows strictly inside (0, 1) that sum to 1, drawn without any solution code."""
    weights = r.uniform(0.5, 2.0, size=(n, k))
    return weights / weights.sum(axis=1, keepdims=True)


def backward_stage_text(differing):
    """Which lines of backward a set of differing gradients points at."""
    if "W2" in differing or "b2" in differing:
        return ("the second layer: `dZ2 = softmax_cross_entropy_backward(P, Y)`, then "
                "`dW2`, `db2` as `linear_backward(dZ2, A1, W2, b2)` returns them")
    return ("the first layer: `dA1` from `linear_backward(dZ2, A1, W2, b2)`, "
            "`dZ1 = sigmoid_backward(dA1, A1)`, then `dW1 = dZ1^T X` and `db1` summed over "
            "the batch")


class TestBackward(ComposedCase, GradientCase):
    FN = "backward"
    CALLEES = composition.BACKWARD_CALLEES

    def get_grads(self, params, cache, Y, inputs, call="backward(params, cache, Y)"):
        n, m = cache["X"].shape
        h, k = params["W1"].shape[0], params["W2"].shape[0]
        with self.unless_layer_broken(backward_layer_probes(self.key, params, cache, Y)):
            grads = student().backward(params, cache, Y)
            self.assert_dict(self.FN, grads, KEYS, name="grads", inputs=inputs, call=call)
            for key, shape in param_shapes(m, h, k).items():
                self.assert_array(self.FN, grads[key], shape, kind="number",
                                  name=f"grads['{key}']", inputs=inputs, call=call,
                                  hint=grad_shape_hint(key, getattr(grads[key], "shape", None),
                                                       n, m, h, k))
        return grads

    def composes(self, params, cache, Y, grads):
        """(verdict, options, broken): "ok" if grads are a composition of the
        student's own backward layers (or right lines), "not_judged" if a layer
        broke on the way and nothing matched, else "differs"."""
        options, broken = composition.backward_options(params, cache, Y, self.own_layers(),
                                                       EXACT)
        if any(matches(grads, option) for option, _ in options):
            return "ok", options, broken
        return ("not_judged" if broken else "differs"), options, broken

    def check_values(self, params, cache, Y):
        """backward must compose: its gradients equal those of the student's own
        backward layers chained (or the right formula of a line written inline)."""
        n, m = cache["X"].shape
        h, k = params["W1"].shape[0], Y.shape[1]
        inputs = [("params", params), ("cache (from the reference forward)", cache), ("Y", Y)]
        call = "backward(params, cache, Y)"
        grads = self.get_grads(params, cache, Y, inputs)
        expected = ref().backward(params, cache, Y)
        if matches(grads, expected):
            return expected
        verdict, options, broken = self.composes(params, cache, Y, grads)
        if verdict == "ok":
            return expected
        if verdict == "not_judged":
            self.fail_not_judged(*broken[0])
        self.fail_if_layer_unrepeatable(backward_layer_probes(self.key, params, cache, Y))
        if EXACT is None:
            # the self-check knows the right gradients on these inputs only, not
            # the mixed compositions: judge here only when the student's own
            # layers agree with them
            if options and not matches(options[0][0], expected):
                raise NotCheckedLocally("backward: your backward layers differ from the "
                                        "reference here; how backward uses them is checked "
                                        "on Gradescope")
            options = [(expected, ())]
        if all(not via for _, via in options):
            # only when the student's layers are right: a wrong layer (one that
            # drops dA, say) can make the gradients ignore an argument
            other_params, other_cache, other_Y = backward_inputs(rng_for(self.key, "other"),
                                                                 n, m, h, k)
            self.assert_uses_arguments(self.FN, [params, cache, Y], ["params", "cache", "Y"],
                                       {0: other_params, 1: other_cache, 2: other_Y}, grads)
        best, differing = composition.closest_option(grads, options,
                                                     keys=("W2", "b2", "W1", "b1"))
        variants = EXACT.network_backward_variants(params, cache["X"], Y) if EXACT else []
        key = differing[0]
        candidates = [(v[key], text) for v, text in variants
                      if not np.allclose(v[key], expected[key], rtol=0, atol=1e-12)]
        self.assert_finite(self.FN, grads[key], name=f"grads['{key}']", inputs=inputs,
                           call=call)
        mistake = diagnose.likely_mistake(grads[key], best[key], n=n, k=k,
                                          candidates=candidates)
        names = ", ".join(f"`grads['{d}']`" for d in differing)
        self.fail_with(self.FN, f"{names} {'differs' if len(differing) == 1 else 'differ'} "
                                f"from what your own backward layers give: look at "
                                f"{backward_stage_text(differing)}",
                       inputs=inputs, call=call, expected=best[key], got=grads[key],
                       details=[f"values shown: `grads['{key}']`",
                                "the gradients are compared with your own "
                                "`softmax_cross_entropy_backward`, `linear_backward` and "
                                "`sigmoid_backward` chained (or the right formula of a line "
                                "you wrote inline), so a mistake inside one of those costs "
                                "only its own tests"],
                       mistake=mistake)
        return expected

    @graded("backward.shape")
    def test_1_shape(self):
        """backward: defined with (params, cache, Y); returns grads with the keys and shapes of params"""
        self.assert_signature(self.FN, ["params", "cache", "Y"])
        params, cache, Y = backward_inputs(rng_for(self.key), 6, 5, 4, 3)
        inputs = [("params", params), ("cache", cache), ("Y", Y)]
        grads = self.get_grads(params, cache, Y, inputs)
        for key in KEYS:
            self.assert_array(self.FN, grads[key], grads[key].shape, kind="float",
                              name=f"grads['{key}']", inputs=inputs)

    @graded("backward.values")
    def test_2_values(self):
        """backward: gradients of the mean cross-entropy, chained from your own backward layers"""
        r = rng_for(self.key)
        for n, m, h, k in ((6, 5, 4, 3), (8, 3, 5, 4), (8, 3, 5, 4)):
            self.check_values(*backward_inputs(r, n, m, h, k))

    @graded("backward.gradient")
    def test_3_gradient(self):
        """backward: every parameter's gradient (biases included) matches numeric gradients of the mean loss of your forward"""
        r = rng_for(self.key)
        n, m, h, k = 6, 5, 4, 3
        params, X = forward_inputs(r, n, m, h, k)
        Y = one_hot(labels(r, n, k), k)
        try:
            value = student().forward(params, X)
        except SubmissionError:
            value = None
        cache = value[1] if isinstance(value, tuple) and len(value) == 2 else None
        note = None
        own = (isinstance(cache, dict) and all(
            isinstance(cache.get(key), np.ndarray) and cache[key].shape == shape
            and cache[key].dtype.kind == "f" and np.all(np.isfinite(cache[key]))
            for key, shape in cache_shapes(n, m, h, k).items()))
        if not own:
            _, cache = ref().forward(params, X)
            note = ("your `forward` did not return a usable cache: backward was called with "
                    "the reference's cache and compared with the exact gradients")
        inputs = [("params", params), ("X", X), ("Y", Y)]
        call = "backward(params, forward(params, X)[1], Y)"
        grads = self.get_grads(params, cache, Y, inputs, call=call)
        true = EXACT.network_backward(params, cache, Y) if EXACT else None

        def loss(p):
            value = student().forward(p, X)
            P = value[0] if isinstance(value, tuple) and len(value) == 2 else None
            if not (isinstance(P, np.ndarray) and P.shape == (n, k)):
                raise gradients.NotANumber("forward returned no (N, K) array P")
            # the parent's own mean cross-entropy of the student's probabilities
            with np.errstate(all="ignore"):
                return -float(np.sum(Y * np.log(P.astype(np.float64)))) / n

        per_param = THRESHOLDS["grad_coords_per_param"]
        parts = []
        for key in KEYS:
            coords = gradients.random_coords(params[key].shape, per_param, r)

            def numeric(hstep, key=key, coords=coords):
                return gradients.numeric_gradient_dict(loss, params, key, coords, h=hstep)

            def again(hstep, numeric=numeric):
                try:
                    return numeric(hstep)
                except (SubmissionError, gradients.NotANumber):
                    return None

            num = None
            if own:
                try:
                    num = numeric(THRESHOLDS["grad_h"])
                except (SubmissionError, gradients.NotANumber) as problem:
                    note = (f"the mean loss of your `forward` could not be differentiated "
                            f"({problem}); compared with the exact gradients instead")
                    own = False
            parts.append(Part(f"grads['{key}']", grads[key], params[key].shape, num,
                              None if true is None else true[key],
                              renumeric=again if own else None, coords=coords,
                              shape_hint=grad_shape_hint(key, grads[key].shape, n, m, h, k)))
        variants = EXACT.network_backward_variants(params, X, Y) if EXACT else []
        for part, key in zip(parts, KEYS):
            part.candidates = [(v[key], text) for v, text in variants
                               if not np.allclose(v[key], true[key], rtol=0, atol=1e-12)]
        try:
            self.assert_gradients(self.FN, "forward", parts, n=n, k=k, inputs=inputs,
                                  call=call, note=note,
                                  numeric_of="the mean cross-entropy of the P your `forward` "
                                             "returns, at random coordinates of every "
                                             "parameter")
        except NotCheckedLocally:
            raise
        except AssertionError:
            # gradients that chain the student's own backward layers correctly are
            # backward's due: a mistake inside a layer costs that layer's tests
            verdict, _, broken = self.composes(params, cache, Y, grads)
            if verdict == "ok":
                return
            if verdict == "not_judged":
                self.fail_not_judged(*broken[0])
            self.fail_if_layer_unrepeatable(backward_layer_probes(self.key, params, cache, Y))
            raise

    @graded("backward.hidden_values")
    def test_4_hidden_values(self):
        """backward: values on hidden inputs"""
        r = rng_for(self.key)
        for n, m, h, k in ((9, 7, 6, 10), (5, 4, 8, 2)):
            self.check_values(*backward_inputs(r, n, m, h, k))

    @graded("backward.twice")
    def test_5_twice(self):
        """backward: calling it twice gives the same gradients (nothing accumulates between calls)"""
        params, cache, Y = backward_inputs(rng_for(self.key), 6, 5, 4, 3)
        inputs = [("params", params), ("cache", cache), ("Y", Y)]
        first = self.get_grads(params, cache, Y, inputs)
        second = self.get_grads(params, cache, Y, inputs)
        for key in KEYS:
            if not matches(second[key], first[key], tol=1e-12):
                self.fail_if_layer_unrepeatable(backward_layer_probes(self.key, params,
                                                                      cache, Y))
                s, _ = diagnose.scale_fit(second[key], first[key])
                hint = ("the gradients accumulate across calls (a module-level or default "
                        "dict/array that is added to): build new arrays in every call")
                self.fail_with(self.FN, f"the second identical call returned a different "
                                        f"grads['{key}'] (about {s:.3g} times the first)"
                               if s is not None else
                               f"the second identical call returned a different grads['{key}']",
                               inputs=inputs, call="backward(params, cache, Y), twice",
                               expected=first[key], got=second[key], mistake=hint)

    @graded("backward.unchanged")
    def test_6_unchanged(self):
        """backward: leaves params, cache and Y unchanged"""
        params, cache, Y = backward_inputs(rng_for(self.key), 6, 5, 4, 3)
        with self.unless_layer_broken(backward_layer_probes(self.key, params, cache, Y)):
            self.assert_unchanged(self.FN, [params, cache, Y], ["params", "cache", "Y"],
                                  ref().backward(params, cache, Y))

    @graded("backward.vectorized")
    def test_7_vectorized(self):
        """backward: vectorized (no Python loop over examples or units)"""
        def make(size):
            return list(backward_inputs(rng_for(self.key, *size), *size))

        sizes = [("N=8", (8, 3, 2, 2)), ("N=64", (64, 3, 2, 2)), ("M=24", (8, 24, 2, 2)),
                 ("H=16", (8, 3, 16, 2)), ("K=16", (8, 3, 2, 16))]
        probes = [probe for _, size in sizes
                  for probe in backward_layer_probes(self.key, *make(size))]
        with self.unless_layer_broken(probes), self.unless_loops_only_in_layers():
            self.assert_vectorized(self.FN, make, sizes, big=(20_000, 64, 32, 10),
                                   own_answer=self.composes_own)

    def composes_own(self, args, value):
        """True if the gradients are a chain of the student's own backward layers on args."""
        params, cache, Y = args
        if not (isinstance(value, dict) and set(KEYS) <= set(value)):
            return False
        try:
            return self.composes(params, cache, Y, value)[0] == "ok"
        except SubmissionError:
            return False


# ---------------------------------------------------------------------------
# sgd_step
# ---------------------------------------------------------------------------

def sgd_inputs(r, m, h, k):
    params = network_params(r, m, h, k)
    grads = {key: r.normal(size=value.shape) for key, value in params.items()}
    return params, grads


class TestSgdStep(SuiteCase):
    FN = "sgd_step"

    @graded("sgd_step.values")
    def test_1_values(self):
        """sgd_step: every parameter, biases included, moves by exactly -lr * grad"""
        self.assert_signature(self.FN, ["params", "grads", "lr"])
        r = rng_for(self.key)
        for (m, h, k), lr in (((5, 4, 3), 0.37), ((3, 6, 2), 0.05)):
            params, grads = sgd_inputs(r, m, h, k)
            inputs = [("params", params), ("grads", grads), ("lr", lr)]
            call = f"sgd_step(params, grads, {lr})"
            new = student().sgd_step(params, grads, lr)
            self.assert_dict(self.FN, new, KEYS, name="the new params", inputs=inputs,
                             call=call)
            expected = ref().sgd_step(params, grads, lr)
            for key in KEYS:
                p, g = params[key], grads[key]
                kind = "biases" if key.startswith("b") else "weights"
                candidates = [(p, f"`{key}` is not updated: the {kind} never learn"),
                              (p + lr * g, f"`{key}` moves UP the gradient: theta - lr * grad"),
                              (p - g, f"`{key}` ignores the learning rate"),
                              (-lr * g, f"`{key}` is the step alone: add it to the parameter"),
                              (p - lr * g * lr, f"`{key}`: lr is applied twice")]
                self.assert_close(self.FN, new[key], expected[key], name=f"new params['{key}']",
                                  inputs=inputs, call=call, candidates=candidates,
                                  tol=THRESHOLDS["sgd_rel_tol"])

    @graded("sgd_step.unchanged")
    def test_2_unchanged(self):
        """sgd_step: returns new arrays and leaves params and grads unchanged"""
        params, grads = sgd_inputs(rng_for(self.key), 5, 4, 3)
        self.assert_unchanged(self.FN, [params, grads, 0.5], ["params", "grads", "lr"],
                              ref().sgd_step(params, grads, 0.5),
                              hint="`params[k] -= lr * grads[k]` updates the caller's arrays "
                                   "in place: return a new dict of new arrays, "
                                   "`params[k] - lr * grads[k]`")

    @graded("sgd_step.vectorized")
    def test_3_vectorized(self):
        """sgd_step: vectorized (no Python loop over the entries of a parameter)"""
        def make(size):
            return [*sgd_inputs(rng_for(self.key, *size), *size), 0.1]

        self.assert_vectorized(self.FN, make, [("M=3, H=2, K=2", (3, 2, 2)),
                                               ("M=24", (24, 2, 2)), ("H=16", (3, 16, 2)),
                                               ("K=16", (3, 2, 16))],
                               big=(2000, 500, 10))


# ---------------------------------------------------------------------------
# predict
# ---------------------------------------------------------------------------

def predict_inputs(r, n, m, h, k):
    """Parameters whose predictions are far from ties."""
    while True:
        params = network_params(r, m, h, k, scale=1.5)
        X = r.normal(size=(n, m))
        P = ref().forward(params, X)[0]
        top2 = np.sort(P, axis=1)[:, -2:]
        if np.all(top2[:, 1] - top2[:, 0] > 1e-3):
            return params, X


def own_forward_probabilities(params, X):
    """(the student's own forward's P, None) or (None, why not)."""
    try:
        out = student().call("forward", params, X).value
    except SubmissionError as error:
        return None, str(error).strip().splitlines()[0]
    P = out[0] if isinstance(out, (tuple, list)) and len(out) == 2 else None
    if not (isinstance(P, np.ndarray) and P.ndim == 2 and P.shape[0] == X.shape[0]
            and P.dtype.kind in "fiu" and np.all(np.isfinite(P.astype(np.float64)))):
        return None, f"forward(params, X) returned {compare.describe(out)}; expected (P, cache)"
    return P, None


class TestPredict(ComposedCase, SuiteCase):
    """predict is judged against the student's OWN forward (a mistake in forward
    is charged there), and credited for agreeing with it only when that
    forward tells the rows apart: a forward that gives every row the same class
    (a constant, or zeros) is no evidence that predict takes an argmax."""

    FN = "predict"
    CALLEES = ("forward",)  # a loop inside forward (or its layers) is charged there

    @contextlib.contextmanager
    def forward_first(self, params, X):
        """If predict fails and the student's forward fails on its own, say so."""
        try:
            yield
        except SubmissionError as error:
            _, problem = own_forward_probabilities(params, X)
            if problem:
                self.fail_with(self.FN, "not judged: fix `forward` first",
                               details=[f"predict failed: {str(error).strip().splitlines()[0]}",
                                        f"`forward` on its own: {problem}",
                                        "predict is judged with your own `forward`; once its "
                                        "tests pass, this test judges predict alone"])
            raise

    @graded("predict.shape")
    def test_1_shape(self):
        """predict: defined with (params, X); returns integer labels of shape (N,)"""
        self.assert_signature(self.FN, ["params", "X"])
        params, X = predict_inputs(rng_for(self.key), 7, 5, 4, 3)
        with self.forward_first(params, X):
            y = student().predict(params, X)
        hint = None
        shape = getattr(y, "shape", None)
        if shape == (7, 3):
            hint = "this looks like the probabilities: take the argmax of each row"
        elif shape == (3,):
            hint = "argmax over axis 0 (the examples): take the argmax of each ROW, axis=1"
        elif isinstance(y, np.ndarray) and y.dtype.kind == "f":
            hint = "labels are integers: np.argmax returns them as such"
        self.assert_array(self.FN, y, (7,), kind="int", name="y_pred",
                          inputs=[("params", params), ("X", X)], call="predict(params, X)",
                          hint=hint)

    @graded("predict.values")
    def test_2_values(self):
        """predict: the most probable class of every row, as your own forward computes it"""
        r = rng_for(self.key)
        for n, m, h, k in ((9, 5, 4, 3), (6, 3, 5, 4), (6, 3, 5, 4)):
            params, X = predict_inputs(r, n, m, h, k)
            inputs = [("params", params), ("X", X)]
            with self.forward_first(params, X):
                got = student().predict(params, X)
            if matches(got, ref().predict(params, X)):
                continue
            P, problem = own_forward_probabilities(params, X)
            if problem:
                self.fail_with(self.FN, "not judged: fix `forward` first", inputs=inputs,
                               call="predict(params, X)",
                               details=[f"`forward` on its own: {problem}"])
            own = np.argmax(P, axis=1)
            if len(set(own.tolist())) < 2:
                # A forward that squashes its values (a sigmoid applied twice) may
                # still tell rows apart with larger weights: judge predict there.
                params, X, P, got = self.rows_told_apart(params, X)
                own = np.argmax(P, axis=1) if P is not None else own
                inputs = [("params", params), ("X", X)]
            if len(set(own.tolist())) < 2:
                self.fail_with(self.FN, "not judged: fix `forward` first", inputs=inputs,
                               call="predict(params, X)",
                               details=["your `forward` gives every row the same most probable "
                                        "class here, so agreeing with it shows nothing; once "
                                        "forward's tests pass, this test judges predict alone"])
            if not matches(got, own):
                other = predict_inputs(rng_for(self.key, "other"), n, m, h, k)
                self.assert_uses_arguments(self.FN, [params, X], ["params", "X"],
                                           {0: other[0], 1: other[1]}, got)
            self.assert_close(self.FN, got, own, name="y_pred (the argmax of each row of "
                                                      "your forward's P)", inputs=inputs,
                              call="predict(params, X)", exact=True,
                              candidates=[(np.argmin(P, axis=1), "argmin instead of argmax")],
                              shape_hint="predict returns one label per row: "
                                         "np.argmax(P, axis=1)")

    def rows_told_apart(self, params, X):
        """(params, X, P, predicted) with the second-layer weights centred (each
        class's weights sum to 0, so a hidden layer squashed to nearly constant
        values adds the same to every class) and scaled up until the student's
        own forward gives at least two classes, first with the given hidden
        biases, then with none (a bias the layer adds twice can saturate every
        hidden unit), then on 64 rows; P is None if it never does (a constant
        forward: predict cannot be judged)."""
        centred = params["W2"] - params["W2"].mean(axis=1, keepdims=True)
        # More rows last: a few rows may all share one class even in a right forward.
        more_rows = rng_for(self.key, "more rows").normal(size=(64, X.shape[1]))
        for rows in (X, more_rows):
            for b1 in (params["b1"], np.zeros_like(params["b1"])):
                for scale in (1.0, 10.0, 100.0):
                    scaled = dict(params, b1=b1, W2=centred * scale,
                                  b2=np.zeros_like(params["b2"]))
                    P, problem = own_forward_probabilities(scaled, rows)
                    if problem or len(set(np.argmax(P, axis=1).tolist())) < 2:
                        continue
                    with self.forward_first(scaled, rows):
                        return scaled, rows, P, student().predict(scaled, rows)
        return params, X, None, None

    @graded("predict.unchanged")
    def test_3_unchanged(self):
        """predict: leaves params and X unchanged"""
        params, X = predict_inputs(rng_for(self.key), 7, 5, 4, 3)
        with self.forward_first(params, X):
            self.assert_unchanged(self.FN, [params, X], ["params", "X"],
                                  ref().predict(params, X))

    @graded("predict.vectorized")
    def test_4_vectorized(self):
        """predict: vectorized (no Python loop over examples)"""
        def make(size):
            r = rng_for(self.key, *size)
            if size[0] > 1000:  # timing only: ties do not matter
                return list(forward_inputs(r, *size))
            return list(predict_inputs(r, *size))

        with self.forward_first(*make((8, 3, 2, 2))), self.unless_loops_only_in_layers():
            self.assert_vectorized(self.FN, make, [("N=8", (8, 3, 2, 2)),
                                                   ("N=64", (64, 3, 2, 2)),
                                                   ("H=16", (8, 3, 16, 2)),
                                                   ("K=16", (8, 3, 2, 16))],
                                   big=(20_000, 64, 32, 10),
                                   own_answer=self.argmax_of_own_forward)

    def argmax_of_own_forward(self, args, value):
        """True if the labels are the argmax of the student's own forward on args
        (a wrong forward is charged to forward, not to predict's speed)."""
        params, X = args
        try:
            P = student().call("forward", params, X).value[0]
        except (SubmissionError, TypeError, IndexError, KeyError):
            return False
        if not (isinstance(P, np.ndarray) and P.shape[:1] == X.shape[:1] and P.ndim == 2
                and isinstance(value, np.ndarray) and value.shape == X.shape[:1]):
            return False
        return float(np.mean(value == np.argmax(P, axis=1))) >= 0.999


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_init_params():
    return [("784-64-10 seed 0", (784, 64, 10, 0)), ("6-5-3 seed 1", (6, 5, 3, 1)),
            ("6-5-3 seed 7", (6, 5, 3, 7))]


def _probes_forward():
    return [("N=10", (fixed_params(), fixed_rng(1).normal(size=(10, 6)))),
            ("N=3", (fixed_params(seed=1), fixed_rng(2).normal(size=(3, 6))))]


def _probes_backward():
    out = []
    for N, seed in ((10, 0), (3, 1), (64, 2)):
        params = fixed_params(seed=seed)
        X = fixed_rng(seed + 5).normal(size=(N, 6))
        _, cache = ref().forward(params, X)
        out.append((f"N={N}", (params, cache, np.eye(3)[fixed_labels(N, 3, seed)])))
    return out


def _probes_sgd_step():
    params = fixed_params()
    grads = {k: fixed_rng(3).normal(size=v.shape) for k, v in params.items()}
    return [("lr=0.37", (params, grads, 0.37)), ("lr=1", (params, grads, 1.0))]


def _probes_predict():
    return [("N=10", (fixed_params(), fixed_rng(1).normal(size=(10, 6)))),
            ("N=3", (fixed_params(seed=1), fixed_rng(2).normal(size=(3, 6))))]


PROBES = {
    "init_params": _probes_init_params,
    "forward": _probes_forward,
    "backward": _probes_backward,
    "sgd_step": _probes_sgd_step,
    "predict": _probes_predict,
}
