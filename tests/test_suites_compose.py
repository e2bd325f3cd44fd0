"""forward and backward are judged on the student's OWN layer functions.

- a mistake inside a layer (linear_forward, sigmoid_backward, ...) costs the
  layer's tests, not forward's or backward's (their composition is right);
- a mistake in the composite's own lines fails it, and the message names the
  stage that differs ("`Z1` differs from `linear_forward(X, W1, b1)`");
- a layer that crashes or returns an unusable shape leaves the composite
  "not judged: fix `layer` first" (fail closed: not awarded), and fixing the
  layer alone gives the composite its points back (the reference);
- hidden tests print no inputs or values.
The pure parts (composition.py) are tested without a worker.
"""
import ast

import numpy as np
import pytest

from autograder.checks import exact
from autograder.checks.reference import reference_source
from autograder.suites import composition, graded, harness
from autograder.suites.composition import FORWARD_STAGES, NOT_CALLED

Student = pytest.importorskip("autograder.sandbox.student").Student
SubmissionError = pytest.importorskip("autograder.sandbox.student").SubmissionError

REF = reference_source()
FORWARD_KEYS = {"forward.shape", "forward.values", "forward.hidden_values", "forward.unchanged",
                "forward.vectorized"}
BACKWARD_KEYS = {"backward.shape", "backward.values", "backward.gradient",
                 "backward.hidden_values", "backward.twice", "backward.unchanged",
                 "backward.vectorized"}


# ---------------------------------------------------------------------------
# composition.py, pure
# ---------------------------------------------------------------------------

def _forward_case(seed=0):
    r = np.random.default_rng(seed)
    params = {"W1": r.normal(size=(4, 5)), "b1": r.normal(size=4),
              "W2": r.normal(size=(3, 4)), "b2": r.normal(size=3)}
    X = r.normal(size=(6, 5))
    Z1 = exact.linear_forward(X, params["W1"], params["b1"])
    A1 = exact.sigmoid(Z1)
    Z2 = exact.linear_forward(A1, params["W2"], params["b2"])
    cache = {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": exact.softmax(Z2)}
    shapes = {"X": (6, 5), "Z1": (6, 4), "A1": (6, 4), "Z2": (6, 3), "P": (6, 3)}
    return params, X, cache, shapes


FORMULAS = {"linear_forward": exact.linear_forward, "sigmoid_forward": exact.sigmoid,
            "softmax": exact.softmax}


def _right(stage, args):
    return FORMULAS[stage.callee](*args)


def _own(overrides=None):
    """The student's layers: the right formulas unless overridden."""
    layers = dict(FORMULAS, **(overrides or {}))

    def own(callee, *args):
        value = layers[callee]
        return value(*args) if callable(value) else value

    return own


def test_chain_accepts_a_composition_of_wrong_layers():
    params, X, _, shapes = _forward_case()
    no_bias = lambda X, W, b: X @ W.T  # noqa: E731  (a wrong linear_forward)
    Z1 = no_bias(X, params["W1"], params["b1"])
    A1 = exact.sigmoid(Z1)
    Z2 = no_bias(A1, params["W2"], params["b2"])
    cache = {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": exact.softmax(Z2)}
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cache, shapes,
                                      _own({"linear_forward": no_bias}), _right)
    assert verdict.status == "ok"
    # the same cache is wrong for a student whose linear_forward is right
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cache, shapes,
                                      _own(), _right)
    assert (verdict.status, verdict.stage.key) == ("differs", "Z1")


def test_chain_names_the_first_stage_that_differs():
    params, X, cache, shapes = _forward_case()
    cache = dict(cache, A1=exact.sigmoid(exact.sigmoid(cache["Z1"])))
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cache, shapes,
                                      _own(), _right)
    assert verdict.status == "differs" and verdict.stage.call == "sigmoid_forward(Z1)"


def test_chain_fails_closed_when_a_layer_crashes_or_is_unusable():
    params, X, cache, shapes = _forward_case()
    wrong = dict(cache, Z1=cache["Z1"] + 1.0)

    def crash(*args):
        raise SubmissionError("linear_forward raised ValueError", "linear_forward")

    for layer in (crash, np.zeros((4, 6)), np.full((6, 4), np.nan)):
        verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, wrong, shapes,
                                          _own({"linear_forward": layer}), _right)
        assert (verdict.status, verdict.callee) == ("not_judged", "linear_forward")
    # a right cache needs no layer at all
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cache, shapes,
                                      _own({"linear_forward": crash}), _right)
    assert verdict.status == "ok"


def test_chain_without_the_right_formulas_says_unknown_not_wrong():
    params, X, cache, shapes = _forward_case()
    wrong = dict(cache, Z1=cache["Z1"] + 1.0)
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, wrong, shapes,
                                      _own({"linear_forward": lambda X, W, b: X @ W.T}),
                                      lambda stage, args: None)
    assert verdict.status == "unknown"


def test_a_layer_the_composite_never_calls_is_an_inline_line():
    params, X, cache, shapes = _forward_case()
    wrong = dict(cache, Z1=cache["Z1"] + 1.0)
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, wrong, shapes,
                                      _own({"linear_forward": NOT_CALLED}), _right)
    assert verdict.status == "differs"


def test_chain_forgives_a_later_layer_that_modifies_its_input():
    params, X, cache, shapes = _forward_case()
    shifted = cache["Z2"] - cache["Z2"].max(axis=1, keepdims=True)
    cached = dict(cache, Z2=shifted)  # what the cache holds after softmax ran in place

    def args_after(callee, *args):
        if callee == "softmax":
            return [args[0] - args[0].max(axis=1, keepdims=True)]
        return list(args)

    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cached, shapes,
                                      _own(), _right, args_after=args_after)
    assert verdict.status == "ok"
    verdict = composition.judge_chain(FORWARD_STAGES, {"X": X, **params}, cached, shapes,
                                      _own(), _right, args_after=lambda c, *a: list(a))
    assert (verdict.status, verdict.stage.key) == ("differs", "Z2")


def test_calls_of_follows_helpers():
    tree = ast.parse("def forward(p, X):\n    return _layer(X)\n\n"
                     "def _layer(X):\n    return sigmoid_forward(X)\n")
    assert composition.calls_of(tree, "forward", ("sigmoid_forward", "softmax")) == {
        "sigmoid_forward"}


def _backward_case():
    params, X, cache, _ = _forward_case(1)
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    return params, cache, Y


def _backward_own(overrides=None):
    def lb(dZ, X, W, b):
        return exact.linear_backward(dZ, X, W)

    layers = {"softmax_cross_entropy_backward": exact.softmax_cross_entropy_backward,
              "linear_backward": lb, "sigmoid_backward": exact.sigmoid_backward}
    layers.update(overrides or {})
    return lambda callee, *args: layers[callee](*args)


def test_backward_options_include_the_student_layers_and_the_right_lines():
    params, cache, Y = _backward_case()
    summed = lambda P, Y: P - Y  # noqa: E731  (a wrong softmax_cross_entropy_backward)
    options, broken = composition.backward_options(
        params, cache, Y, _backward_own({"softmax_cross_entropy_backward": summed}), exact)
    assert not broken and len(options) == 2
    right = exact.network_backward(params, cache, Y)
    vias = {via for _, via in options}
    assert vias == {(), ("softmax_cross_entropy_backward",)}
    assert any(all(np.allclose(g[k], right[k]) for k in right) for g, _ in options)
    assert any(np.allclose(g["b2"], right["b2"] * 6) for g, _ in options)


def test_backward_options_report_a_broken_layer():
    params, cache, Y = _backward_case()

    def crash(*args):
        raise SubmissionError("sigmoid_backward raised", "sigmoid_backward")

    options, broken = composition.backward_options(
        params, cache, Y, _backward_own({"sigmoid_backward": crash}), exact)
    assert [name for name, _ in broken] == ["sigmoid_backward"]
    assert len(options) == 1  # the right formula of that line still composes
    options, broken = composition.backward_options(
        params, cache, Y, _backward_own({"sigmoid_backward": crash}), None)
    assert options == [] and broken


# ---------------------------------------------------------------------------
# Through the real sandboxed Student
# ---------------------------------------------------------------------------

@pytest.fixture(scope="module", autouse=True)
def reference_worker():
    proxy = Student(REF, graded.CONFIG)
    graded.set_reference_student(proxy)
    yield proxy
    graded.set_reference_student(None)
    proxy.close()


def grade(replacements, keys):
    proxy = Student(harness.mutate(REF, *replacements), graded.CONFIG)
    try:
        results = harness.run(proxy, keys=keys)
    finally:
        proxy.close()
    crashed = {key: r["check_error"] for key, r in results.items() if "check_error" in r}
    assert not crashed, crashed
    return results


def failed(results):
    return {key for key, r in results.items() if r["status"] == "failed"}


LAYER_BUGS = {
    "linear_forward drops the bias": ("    return X @ W.T + b\n", "    return X @ W.T\n"),
    "sigmoid_forward of -Z": ("    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
                              "    return np.where(Z >= 0, E / (1.0 + E), 1.0 / (1.0 + E))\n"),
    "softmax over the whole array": ("    return E / E.sum(axis=1, keepdims=True)\n",
                                     "    return E / E.sum()\n"),
    "linear_forward loops over rows": ("    return X @ W.T + b\n",
                                       "    Z = np.empty((X.shape[0], W.shape[0]))\n"
                                       "    for n in range(X.shape[0]):\n"
                                       "        Z[n] = W @ X[n] + b\n"
                                       "    return Z\n"),
    # softmax shifts forward's cached Z2 in place: softmax's mistake, not forward's
    "softmax shifts Z in place": ("    shifted = Z - Z.max(axis=1, keepdims=True)\n",
                                  "    Z -= Z.max(axis=1, keepdims=True)\n    shifted = Z\n"),
}
BACKWARD_LAYER_BUGS = {
    "linear_backward db averaged": ("    db = dZ.sum(axis=0)\n", "    db = dZ.mean(axis=0)\n"),
    "sigmoid_backward drops dA": ("    return dA * A * (1.0 - A)\n",
                                  "    return A * (1.0 - A)\n"),
    "softmax-CE gradient without 1/N": ("    return (P - Y) / P.shape[0]\n",
                                        "    return P - Y\n"),
    "sigmoid_backward loops over rows": ("    return dA * A * (1.0 - A)\n",
                                         "    dZ = np.empty_like(A)\n"
                                         "    for n in range(A.shape[0]):\n"
                                         "        dZ[n] = dA[n] * A[n] * (1.0 - A[n])\n"
                                         "    return dZ\n"),
}


@pytest.mark.parametrize("name", sorted(LAYER_BUGS))
def test_a_wrong_forward_layer_costs_forward_nothing(name):
    assert not failed(grade([LAYER_BUGS[name]], FORWARD_KEYS))


@pytest.mark.parametrize("name", sorted(BACKWARD_LAYER_BUGS))
def test_a_wrong_backward_layer_costs_backward_nothing(name):
    assert not failed(grade([BACKWARD_LAYER_BUGS[name]], BACKWARD_KEYS))


def test_forward_own_mistake_names_the_stage():
    results = grade([('    Z1 = linear_forward(X, params["W1"], params["b1"])\n',
                      '    Z1 = linear_forward(X, params["W1"] + params["b1"][:, None], '
                      'params["b1"])\n')], FORWARD_KEYS)
    # forward's own mistake: its values, and the timing backstop's value check
    assert failed(results) == {"forward.values", "forward.hidden_values", "forward.vectorized"}
    text = results["forward.values"]["output"]
    assert "`Z1` differs from `linear_forward(X, W1, b1)`" in text
    assert "bias is added to the weights" in text
    hidden = results["forward.hidden_values"]["output"]
    assert "- expected" not in hidden and "- inputs" not in hidden and "- got" not in hidden


def test_forward_own_mistake_on_top_of_a_wrong_layer_is_still_caught():
    results = grade([LAYER_BUGS["linear_forward drops the bias"],
                     ("    A1 = sigmoid_forward(Z1)\n",
                      "    A1 = sigmoid_forward(sigmoid_forward(Z1))\n")], FORWARD_KEYS)
    assert failed(results) == {"forward.values", "forward.hidden_values", "forward.vectorized"}
    text = results["forward.values"]["output"]
    assert "`A1` differs from `sigmoid_forward(Z1)`" in text
    assert "applied twice" in text


def test_backward_own_mistake_names_the_layer_lines():
    results = grade([('    dZ1 = sigmoid_backward(dA1, cache["A1"])\n',
                      '    dZ1 = sigmoid_backward(dA1, cache["Z1"])\n')], BACKWARD_KEYS)
    assert {"backward.values", "backward.gradient"} <= failed(results)
    text = results["backward.values"]["output"]
    assert "the first layer" in text and "taken of Z1" in text


def test_backward_own_mistake_with_a_wrong_layer_is_still_caught():
    results = grade([BACKWARD_LAYER_BUGS["sigmoid_backward drops dA"],
                     ('    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)\n',
                      '    dZ2 = 2.0 * softmax_cross_entropy_backward(cache["P"], Y)\n')],
                    BACKWARD_KEYS)
    assert {"backward.values", "backward.gradient", "backward.hidden_values"} <= failed(results)
    assert "the second layer" in results["backward.values"]["output"]


@pytest.mark.parametrize("replacement, callee, keys", [
    (("    return X @ W.T + b\n", "    return X @ W + b\n"), "linear_forward", FORWARD_KEYS),
    (("    dX = dZ @ W\n", "    dX = dZ @ W.T\n"), "linear_backward", BACKWARD_KEYS),
    (("    db = dZ.sum(axis=0)\n", "    db = dZ\n"), "linear_backward", BACKWARD_KEYS),
], ids=["linear_forward crashes", "linear_backward crashes", "linear_backward bad shape"])
def test_a_broken_layer_leaves_the_composite_not_judged(replacement, callee, keys):
    results = grade([replacement], keys)
    assert failed(results) == keys  # fail closed: nothing awarded
    for key in keys:
        assert f"not judged: fix `{callee}` first" in results[key]["output"], key


def test_a_layer_that_keeps_state_leaves_backward_not_judged():
    results = grade([("import numpy as np\n", "import numpy as np\n_ACCUMULATED = {}\n"),
                     ("    dW = dZ.T @ X\n",
                      "    _ACCUMULATED[W.shape] = _ACCUMULATED.get(W.shape, 0) + dZ.T @ X\n"
                      "    dW = _ACCUMULATED[W.shape]\n")], BACKWARD_KEYS)
    assert failed(results)
    for key in failed(results):
        assert "not judged: fix `linear_backward` first" in results[key]["output"], key


def test_a_loop_in_the_composite_itself_still_fails_its_vectorized_test():
    results = grade([('    A1 = sigmoid_forward(Z1)\n',
                      '    A1 = np.array([sigmoid_forward(z) for z in Z1])\n')], FORWARD_KEYS)
    assert failed(results) == {"forward.vectorized"}


def test_without_the_staff_only_exact_module(monkeypatch):
    """The handout has no checks/exact.py: a wrong layer still costs the composite
    nothing, and the composite's own mistake on right layers still fails it."""
    from autograder.suites import test_network

    monkeypatch.setattr(test_network, "EXACT", None)
    keys = {"forward.values", "backward.values"}
    layers = [LAYER_BUGS["linear_forward drops the bias"],
              BACKWARD_LAYER_BUGS["sigmoid_backward drops dA"]]
    assert not failed(grade(layers, keys))
    results = grade([('    A1 = sigmoid_forward(Z1)\n',
                      '    A1 = sigmoid_forward(sigmoid_forward(Z1))\n'),
                     ('    dZ1 = sigmoid_backward(dA1, cache["A1"])\n',
                      '    dZ1 = sigmoid_backward(dA1, cache["Z1"])\n')], keys)
    assert failed(results) == keys
    assert "`A1` differs from `sigmoid_forward(Z1)`" in results["forward.values"]["output"]
    assert "the first layer" in results["backward.values"]["output"]


@pytest.mark.parametrize("name,seed", [("linear_forward_bias_added_twice", 76),
                                       ("linear_forward_bias_added_twice", 411),
                                       ("sigmoid_applied_twice", 411)])
def test_predict_is_judged_where_a_wrong_forward_gives_few_rows_one_class(name, seed):
    """Grading seeds where that forward gave the 6 rows of predict's values test
    one class, even with centred, scaled W2 (seen in CI): with no hidden biases,
    then on 64 rows, predict is judged (and right) instead of "not judged"."""
    from autograder.validation import CATALOGUE

    (entry,) = [c for c in CATALOGUE if c.name == name]
    proxy = Student(entry.source_bytes().decode("utf-8"), graded.CONFIG)
    reference = Student(reference_source(), graded.CONFIG)
    try:
        results = harness.run(proxy, keys={"predict.values"}, reference_proxy=reference,
                              seed=seed)
    finally:
        proxy.close()
        reference.close()
    assert results["predict.values"]["status"] == "passed", results["predict.values"]["output"]
