"""autograder/checks/diagnose.py: the likely mistake from the numbers."""
import numpy as np

from autograder.checks import diagnose, exact
from autograder.checks.reference import reference


def setup():
    r = np.random.default_rng(0)
    return r, reference()


def test_scale_fit_names_missing_and_doubled_mean_and_sign():
    r, _ = setup()
    true = r.normal(size=(6, 3))
    assert "1/N of the MEAN loss is missing" in diagnose.likely_mistake(6 * true, true, n=6)
    assert "applied twice" in diagnose.likely_mistake(true / 6, true, n=6)
    assert "sign is flipped" in diagnose.likely_mistake(-true, true, n=6)
    assert diagnose.likely_mistake(true, true, n=6) is None
    assert diagnose.likely_mistake(true + r.normal(size=true.shape), true, n=6) is None


def test_transposed_and_zero():
    r, _ = setup()
    true = r.normal(size=(3, 5))
    assert "transpose" in diagnose.likely_mistake(true.T, true)
    assert "all zeros" in diagnose.likely_mistake(np.zeros_like(true), true)


def test_linear_backward_mistakes():
    r, ref = setup()
    dZ, X, W = r.normal(size=(4, 4)), r.normal(size=(4, 5)), r.normal(size=(4, 5))
    db = ref.linear_backward(dZ, X, W, np.zeros(4))[2]
    cands = diagnose.linear_backward_candidates("db", dZ, X, W)
    assert "wrong axis" in diagnose.likely_mistake(dZ.sum(axis=1), db, candidates=cands)
    assert "averaged" in diagnose.likely_mistake(dZ.mean(axis=0), db, candidates=cands)
    hint = diagnose.linear_backward_shape_hint("db", (6, 3), np.zeros((6, 3)), X[:, :2], W)
    assert "per-example" in hint


def test_sigmoid_backward_mistakes():
    r, ref = setup()
    dA = r.normal(size=(5, 3))
    A = ref.sigmoid_forward(r.normal(size=(5, 3)))
    true = ref.sigmoid_backward(dA, A)
    cands = diagnose.sigmoid_backward_candidates(dA, A)
    S = 1 / (1 + np.exp(-A))
    assert "taken of Z" in diagnose.likely_mistake(dA * S * (1 - S), true, candidates=cands)
    assert "dA is dropped" in diagnose.likely_mistake(A * (1 - A), true, candidates=cands)


def test_softmax_mistakes_and_rows_hint():
    r, ref = setup()
    Z = r.normal(size=(4, 4))
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    cands = diagnose.softmax_candidates(Z, ref.softmax(Z.T).T)
    no_keepdims = E / E.sum(axis=1)
    assert "keepdims" in diagnose.likely_mistake(no_keepdims, ref.softmax(Z), candidates=cands)
    assert "COLUMN" in diagnose.likely_mistake(ref.softmax(Z.T).T, ref.softmax(Z),
                                               candidates=cands)
    assert "do not sum to 1" in diagnose.softmax_rows_hint(no_keepdims)
    assert diagnose.softmax_rows_hint(ref.softmax(Z)) is None
    assert "COLUMNS" in diagnose.softmax_rows_hint(ref.softmax(Z.T).T)


def test_cross_entropy_scalar_mistakes():
    r, ref = setup()
    P = ref.softmax(r.normal(size=(6, 4)))
    Y = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    J = ref.cross_entropy(P, Y)
    cands = diagnose.cross_entropy_candidates(J, 6, 4)
    assert "SUMMED" in diagnose.likely_mistake(6 * J, J, candidates=cands, scalar=True)
    assert "N*K" in diagnose.likely_mistake(J / 4, J, candidates=cands, scalar=True)
    # two unrelated numbers are not explained by a "constant factor"
    assert diagnose.likely_mistake(J * 1.37, J, n=6, k=4, scalar=True) is None


def test_sce_mistakes():
    r, ref = setup()
    P = ref.softmax(r.normal(size=(6, 4)))
    Y = np.eye(4)[[0, 1, 2, 3, 0, 1]]
    true = ref.softmax_cross_entropy_backward(P, Y)
    cands = diagnose.sce_backward_candidates(P, Y)
    assert "1/N" in diagnose.likely_mistake(P - Y, true, n=6, candidates=cands)
    assert "instead of N" in diagnose.likely_mistake((P - Y) / 4, true, n=6, k=4,
                                                     candidates=cands)


def test_network_backward_variants_name_sigmoid_of_z():
    r, ref = setup()
    params = {"W1": r.normal(size=(4, 5)), "b1": r.normal(size=4),
              "W2": r.normal(size=(3, 4)), "b2": r.normal(size=3)}
    X = r.normal(size=(6, 5))
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    texts = [text for _, text in exact.network_backward_variants(params, X, Y)]
    assert any("taken of Z1" in t for t in texts)
    assert any("dropped" in t for t in texts)


def test_sigmoid_of_minus_z():
    r, ref = setup()
    Z = r.normal(0, 3, size=(4, 5))
    A = ref.sigmoid_forward(Z)
    cands = diagnose.sigmoid_forward_candidates(Z, A)
    assert "sigmoid of -Z" in diagnose.likely_mistake(ref.sigmoid_forward(-Z), A,
                                                      candidates=cands)


def test_exact_formulas_equal_the_reference():
    r, ref = setup()
    params = {"W1": r.normal(size=(4, 5)), "b1": r.normal(size=4),
              "W2": r.normal(size=(3, 4)), "b2": r.normal(size=3)}
    X = r.normal(size=(6, 5))
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    _, cache = ref.forward(params, X)
    got, want = exact.network_backward(params, cache, Y), ref.backward(params, cache, Y)
    for key in want:
        assert np.allclose(got[key], want[key], rtol=1e-12, atol=0)
    Z = r.normal(0, 50, size=(5, 4))
    assert np.array_equal(exact.sigmoid(Z), ref.sigmoid_forward(Z))
    assert np.allclose(exact.softmax(Z), ref.softmax(Z), rtol=1e-14, atol=0)


def test_numpy_trouble_finds_division_invalid_and_overflow_warnings_only():
    output = ("hello\n/w/neural_net.py:9: RuntimeWarning: divide by zero encountered in divide\n"
              "  return dA / (1.0 / A)\n")
    assert diagnose.numpy_trouble(output) == ("RuntimeWarning: divide by zero encountered in "
                                              "divide")
    assert "invalid value" in diagnose.numpy_trouble(
        "x.py:1: RuntimeWarning: invalid value encountered in multiply\n")
    assert "overflow" in diagnose.numpy_trouble("RuntimeWarning: overflow encountered in exp")
    assert diagnose.numpy_trouble("x.py:3: PendingDeprecationWarning: the matrix subclass\n") is None
    assert diagnose.numpy_trouble("divide by zero, said the student\n") is None
    assert diagnose.numpy_trouble("") is None and diagnose.numpy_trouble(None) is None


def test_one_hot_hint_fits_what_came_back():
    y = np.array([0, 2, 1, 3, 2])  # every class of 4 occurs: largest label + 1 == C
    right = np.eye(4)[y]
    assert diagnose.one_hot_hint(right, 5, 4, y) is None
    for dtype in (np.int64, np.int32, np.uint8, bool):
        hint = diagnose.one_hot_hint(right.astype(dtype), 5, 4, y)
        assert "dtype" in hint and np.dtype(dtype).name in hint
        assert "columns" not in hint and "largest label" not in hint
    assert "float64" in diagnose.one_hot_hint(right.astype(np.float32), 5, 4, y)
    assert "transposed" in diagnose.one_hot_hint(right.T, 5, 4, y)
    narrow = np.eye(4)[y][:, :4]
    assert "largest label" in diagnose.one_hot_hint(narrow, 5, 5, y)  # C = 5, label 4 absent
    assert diagnose.one_hot_hint("Y", 5, 4, y) is None


def test_cross_entropy_zero_hint_fits_the_case():
    only_true_class = "take only the log of the true class"
    assert only_true_class in diagnose.cross_entropy_zero_hint("perfect", float("nan"))
    assert diagnose.cross_entropy_zero_hint("perfect", 0.25) is None
    # code that already takes only the log of the true class, without a clip
    for j in (float("inf"), float("nan"), None, 0.0, -1.0):
        hint = diagnose.cross_entropy_zero_hint("true class zero", j)
        assert "clip" in hint and only_true_class not in hint
