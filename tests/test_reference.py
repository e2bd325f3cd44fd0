"""The staff solution reference/neural_net.py against an independent float64 oracle.

The oracle below (plain numpy formulas and a centered-difference gradient,
one entry at a time) shares no code with the reference or the grader.
"""
import importlib.util
import math
import pathlib
import warnings

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
GRADIENT_TOLERANCE = 1e-7


def load_module(name, path):
    """Import a file under a private module name (no sys.path or sys.modules side effects)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nn = load_module("reference_neural_net_under_test", ROOT / "reference" / "neural_net.py")
util = load_module("reference_util_for_reference_tests", ROOT / "reference" / "util.py")


# ---------------------------------------------------------------------------
# The oracle
# ---------------------------------------------------------------------------

def numeric_gradient(f, x, h=1e-5):
    """dF/dx of a scalar function f by centered differences, entry by entry, in float64."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + h
        plus = f(x)
        x[index] = saved - h
        minus = f(x)
        x[index] = saved
        grad[index] = (plus - minus) / (2.0 * h)
    return grad


def relative_error(actual, expected):
    """||actual - expected|| / max(||actual||, ||expected||), 0 when both are 0."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    scale = max(np.linalg.norm(actual), np.linalg.norm(expected))
    return 0.0 if scale == 0 else float(np.linalg.norm(actual - expected) / scale)


def oracle_linear(X, W, b):
    return X @ W.T + b


def oracle_sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z))


def oracle_log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def oracle_mean_cross_entropy(Z, Y):
    """Mean over rows of -sum_k Y log softmax(Z), from the logits."""
    return float(-(Y * oracle_log_softmax(Z)).sum() / Z.shape[0])


def oracle_network_loss(params, X, Y):
    A1 = oracle_sigmoid(oracle_linear(X, params["W1"], params["b1"]))
    return oracle_mean_cross_entropy(oracle_linear(A1, params["W2"], params["b2"]), Y)


def random_one_hot(rng, n, k):
    Y = np.zeros((n, k))
    Y[np.arange(n), rng.integers(0, k, size=n)] = 1.0
    return Y


def random_params(rng, m, h, k):
    """Non-zero biases too: zero biases would hide a db that is never computed."""
    return {"W1": rng.normal(0, 0.5, (h, m)), "b1": rng.normal(0, 0.5, h),
            "W2": rng.normal(0, 0.5, (k, h)), "b2": rng.normal(0, 0.5, k)}


# (N, M, K): two shapes with N != K and one with N == K, which hides softmax
# without keepdims and sums over the wrong axis.
LAYER_SHAPES = [(5, 7, 3), (2, 3, 6), (4, 6, 4)]
# (N, M, H, K) of the whole network.
NETWORK_SHAPES = [(7, 5, 4, 3), (3, 4, 5, 3)]


# ---------------------------------------------------------------------------
# Forward values against the oracle
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, k", LAYER_SHAPES)
def test_forward_functions_match_the_oracle(n, m, k):
    rng = np.random.default_rng(n * 100 + m * 10 + k)
    X, W, b = rng.normal(size=(n, m)), rng.normal(size=(k, m)), rng.normal(size=k)
    Z = rng.normal(0, 3, size=(n, k))
    Y = random_one_hot(rng, n, k)
    assert relative_error(nn.linear_forward(X, W, b), oracle_linear(X, W, b)) < 1e-14
    assert relative_error(nn.sigmoid_forward(Z), oracle_sigmoid(Z)) < 1e-14
    assert relative_error(nn.softmax(Z), np.exp(oracle_log_softmax(Z))) < 1e-14
    assert nn.cross_entropy(nn.softmax(Z), Y) == pytest.approx(
        oracle_mean_cross_entropy(Z, Y), rel=1e-13)
    assert isinstance(nn.cross_entropy(nn.softmax(Z), Y), float)


def test_one_hot_puts_a_single_one_in_column_y():
    y = np.array([2, 0, 3, 3, 1])
    Y = nn.one_hot(y, 5)
    assert Y.shape == (5, 5) and Y.dtype == np.float64
    expected = np.zeros((5, 5))
    for row, label in enumerate(y):
        expected[row, label] = 1.0
    np.testing.assert_array_equal(Y, expected)


@pytest.mark.parametrize("n, m, h, k", NETWORK_SHAPES)
def test_forward_returns_the_probabilities_and_every_intermediate(n, m, h, k):
    rng = np.random.default_rng(7)
    params = random_params(rng, m, h, k)
    X = rng.normal(size=(n, m))
    P, cache = nn.forward(params, X)
    Z1 = oracle_linear(X, params["W1"], params["b1"])
    A1 = oracle_sigmoid(Z1)
    Z2 = oracle_linear(A1, params["W2"], params["b2"])
    expected = {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": np.exp(oracle_log_softmax(Z2))}
    assert set(cache) >= set(expected)
    for key, value in expected.items():
        assert cache[key].shape == value.shape, key
        assert relative_error(cache[key], value) < 1e-13, key
    np.testing.assert_array_equal(P, cache["P"])


def test_predict_is_the_argmax_of_the_network():
    rng = np.random.default_rng(3)
    params = random_params(rng, 6, 5, 4)
    X = rng.normal(size=(20, 6))
    Z2 = oracle_linear(oracle_sigmoid(oracle_linear(X, params["W1"], params["b1"])),
                       params["W2"], params["b2"])
    y_pred = nn.predict(params, X)
    assert y_pred.shape == (20,) and y_pred.dtype.kind == "i"
    np.testing.assert_array_equal(y_pred, np.argmax(Z2, axis=1))


# ---------------------------------------------------------------------------
# Backward functions against numeric gradients, random upstream gradients
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("n, m, k", LAYER_SHAPES)
def test_linear_backward_matches_numeric_gradients(n, m, k):
    rng = np.random.default_rng(n * 100 + m * 10 + k)
    X, W, b = rng.normal(size=(n, m)), rng.normal(size=(k, m)), rng.normal(size=k)
    upstream = rng.normal(size=(n, k))
    dX, dW, db = nn.linear_backward(upstream, X, W, b)
    assert (dX.shape, dW.shape, db.shape) == ((n, m), (k, m), (k,))
    numeric_dX = numeric_gradient(lambda X_: np.sum(upstream * oracle_linear(X_, W, b)), X)
    numeric_dW = numeric_gradient(lambda W_: np.sum(upstream * oracle_linear(X, W_, b)), W)
    numeric_db = numeric_gradient(lambda b_: np.sum(upstream * oracle_linear(X, W, b_)), b)
    assert relative_error(dX, numeric_dX) < GRADIENT_TOLERANCE
    assert relative_error(dW, numeric_dW) < GRADIENT_TOLERANCE
    assert relative_error(db, numeric_db) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("n, m, k", LAYER_SHAPES)
def test_sigmoid_backward_matches_numeric_gradients(n, m, k):
    rng = np.random.default_rng(n + m + k)
    Z = rng.normal(0, 2, size=(n, k))
    upstream = rng.normal(size=(n, k))
    dZ = nn.sigmoid_backward(upstream, oracle_sigmoid(Z))
    numeric = numeric_gradient(lambda Z_: np.sum(upstream * oracle_sigmoid(Z_)), Z)
    assert dZ.shape == (n, k)
    assert relative_error(dZ, numeric) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("n, m, k", LAYER_SHAPES)
def test_softmax_cross_entropy_backward_matches_numeric_gradients_of_the_mean_loss(n, m, k):
    rng = np.random.default_rng(10 * n + k)
    Z = rng.normal(0, 2, size=(n, k))
    Y = random_one_hot(rng, n, k)
    dZ = nn.softmax_cross_entropy_backward(np.exp(oracle_log_softmax(Z)), Y)
    numeric = numeric_gradient(lambda Z_: oracle_mean_cross_entropy(Z_, Y), Z)
    assert dZ.shape == (n, k)
    assert relative_error(dZ, numeric) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("n, m, h, k", NETWORK_SHAPES)
def test_network_backward_matches_numeric_gradients_of_the_mean_loss(n, m, h, k):
    rng = np.random.default_rng(n * m * h * k)
    params = random_params(rng, m, h, k)
    X = rng.normal(size=(n, m))
    Y = random_one_hot(rng, n, k)
    _, cache = nn.forward(params, X)
    grads = nn.backward(params, cache, Y)
    assert set(grads) == set(params)
    for key in params:

        def loss_of(value, key=key):
            return oracle_network_loss(dict(params, **{key: value}), X, Y)

        assert grads[key].shape == params[key].shape, key
        error = relative_error(grads[key], numeric_gradient(loss_of, params[key]))
        assert error < GRADIENT_TOLERANCE, f"{key}: relative error {error:.2e}"


# ---------------------------------------------------------------------------
# Numerical stability
# ---------------------------------------------------------------------------

# Underflow is not an error: exp(-1e4) = 0 is the correctly rounded value, and
# numpy ignores underflow by default. Every exp-based sigmoid or softmax
# underflows on these inputs, so the checks raise on overflow, invalid and
# divide-by-zero only, and separately turn every warning into an error.
STRICT = dict(all="raise", under="ignore")


def test_sigmoid_of_huge_inputs_is_exact_without_warnings():
    Z = np.array([[-1e4, 1e4], [-800.0, 800.0], [0.0, -50.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(**STRICT):
            A = nn.sigmoid_forward(Z)
        A_default = nn.sigmoid_forward(Z)
    np.testing.assert_array_equal(A[:2], [[0.0, 1.0], [0.0, 1.0]])
    assert A[2, 0] == 0.5
    assert A[2, 1] == pytest.approx(math.exp(-50.0), rel=1e-12)
    np.testing.assert_array_equal(A, A_default)


def test_softmax_of_huge_logits_is_exact():
    Z = np.array([[1000.0, 0.0, -1000.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(**STRICT):
            P = nn.softmax(Z)
    np.testing.assert_array_equal(P[0], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(P[1], [0.5, 0.5, 0.0])
    np.testing.assert_allclose(P[2], [1 / 3] * 3, rtol=1e-15)


def test_cross_entropy_is_finite_with_exact_zeros_in_P():
    P = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    wrong = np.array([[0.0, 1.0, 0.0], [0.0, 1.0, 0.0]])
    right = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(**STRICT):
            loss_wrong = nn.cross_entropy(P, wrong)
            loss_right = nn.cross_entropy(P, right)
    assert math.isfinite(loss_wrong) and loss_wrong > 100
    assert loss_right == 0.0


@pytest.mark.parametrize("k", [2, 10])
def test_uniform_predictions_cost_ln_k(k):
    rng = np.random.default_rng(k)
    P = np.full((6, k), 1.0 / k)
    assert nn.cross_entropy(P, random_one_hot(rng, 6, k)) == pytest.approx(math.log(k), rel=1e-12)


# ---------------------------------------------------------------------------
# Inputs are never modified
# ---------------------------------------------------------------------------

def assert_unchanged(before, after, what):
    if isinstance(before, dict):
        assert set(before) == set(after), what
        for key in before:
            assert_unchanged(before[key], after[key], f"{what}[{key!r}]")
    else:
        np.testing.assert_array_equal(after, before, err_msg=f"{what} was modified")


def test_no_function_modifies_its_arguments():
    rng = np.random.default_rng(11)
    n, m, h, k = 6, 5, 4, 3
    params = random_params(rng, m, h, k)
    X = rng.normal(size=(n, m))
    y = rng.integers(0, k, size=n)
    Y = nn.one_hot(y, k)
    Z = rng.normal(size=(n, k))
    _, cache = nn.forward(params, X)
    grads = nn.backward(params, cache, Y)
    calls = {
        "one_hot": (nn.one_hot, (y, k)),
        "linear_forward": (nn.linear_forward, (X, params["W1"], params["b1"])),
        "linear_backward": (nn.linear_backward, (Z, rng.normal(size=(n, h)), params["W2"],
                                                 params["b2"])),
        "sigmoid_forward": (nn.sigmoid_forward, (Z,)),
        "sigmoid_backward": (nn.sigmoid_backward, (Z, oracle_sigmoid(Z))),
        "softmax": (nn.softmax, (Z,)),
        "cross_entropy": (nn.cross_entropy, (nn.softmax(Z), Y)),
        "softmax_cross_entropy_backward": (nn.softmax_cross_entropy_backward,
                                           (nn.softmax(Z), Y)),
        "forward": (nn.forward, (params, X)),
        "backward": (nn.backward, (params, cache, Y)),
        "sgd_step": (nn.sgd_step, (params, grads, 0.5)),
        "predict": (nn.predict, (params, X)),
        "train": (nn.train, (params, X, y, X[:3], y[:3], 0.5, 2, 4, 0)),
    }
    for name, (function, args) in calls.items():
        copies = [{key: np.copy(v) for key, v in a.items()} if isinstance(a, dict)
                  else np.copy(a) for a in args]
        function(*args)
        for position, (before, after) in enumerate(zip(copies, args)):
            assert_unchanged(before, after, f"{name} argument {position}")


def test_sgd_step_returns_new_arrays_theta_minus_lr_grad():
    rng = np.random.default_rng(5)
    params = random_params(rng, 4, 3, 2)
    grads = {key: rng.normal(size=value.shape) for key, value in params.items()}
    new = nn.sgd_step(params, grads, 0.3)
    for key in params:
        np.testing.assert_allclose(new[key], params[key] - 0.3 * grads[key], rtol=1e-15)
        assert new[key] is not params[key]


# ---------------------------------------------------------------------------
# Initialisation and training semantics
# ---------------------------------------------------------------------------

def test_init_params_shapes_zero_biases_broken_symmetry_and_seed():
    params = nn.init_params(784, 64, 10, seed=0)
    shapes = {key: value.shape for key, value in params.items()}
    assert shapes == {"W1": (64, 784), "b1": (64,), "W2": (10, 64), "b2": (10,)}
    assert all(value.dtype == np.float64 for value in params.values())
    assert not params["b1"].any() and not params["b2"].any()
    # No two hidden units (rows of W1) or output units (rows of W2) start equal.
    assert len(np.unique(params["W1"], axis=0)) == 64
    assert len(np.unique(params["W2"], axis=0)) == 10
    again = nn.init_params(784, 64, 10, seed=0)
    other = nn.init_params(784, 64, 10, seed=1)
    np.testing.assert_array_equal(params["W1"], again["W1"])
    assert not np.array_equal(params["W1"], other["W1"])


def small_problem(n, seed=0, m=6, k=3):
    """A training set whose first feature is the row number, to identify rows in batches."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m))
    X[:, 0] = np.arange(n)
    y = rng.integers(0, k, size=n)
    return X, y, nn.init_params(m, 5, k, seed=seed)


def test_train_history_has_one_entry_per_epoch_measured_on_the_full_sets():
    # Sets larger than a batch: metrics of the last batch only would differ.
    X, y, params = small_problem(150)
    X_val, y_val = X[:70] * 0.5, y[:70]
    trained, history = nn.train(params, X, y, X_val, y_val, lr=0.5, epochs=3, batch_size=16,
                                seed=0)
    assert set(history) == {"train_loss", "train_acc", "val_loss", "val_acc"}
    assert all(len(values) == 3 for values in history.values())
    assert all(isinstance(v, float) for values in history.values() for v in values)
    # The last entries are the metrics of the returned parameters on the FULL sets.
    for X_set, y_set, split in ((X, y, "train"), (X_val, y_val, "val")):
        P, _ = nn.forward(trained, X_set)
        Y_set = nn.one_hot(y_set, 3)
        assert history[split + "_loss"][-1] == pytest.approx(
            oracle_network_loss(trained, X_set, Y_set), rel=1e-12)
        assert history[split + "_acc"][-1] == pytest.approx(
            float(np.mean(nn.predict(trained, X_set) == y_set)))


def test_train_uses_the_last_partial_batch_even_when_it_is_the_only_one(monkeypatch):
    X, y, params = small_problem(5)
    updates = []
    real_sgd_step = nn.sgd_step

    def counting_sgd_step(params_, grads, lr):
        updates.append(lr)
        return real_sgd_step(params_, grads, lr)

    monkeypatch.setattr(nn, "sgd_step", counting_sgd_step)
    trained, _ = nn.train(params, X, y, X, y, lr=0.5, epochs=1, batch_size=64, seed=0)
    assert len(updates) == 1
    assert any(not np.array_equal(trained[key], params[key]) for key in params)


@pytest.mark.parametrize("n, batch_size", [(130, 64), (128, 64), (7, 3)])
def test_train_takes_ceil_n_over_batch_updates_visiting_every_example_once(monkeypatch, n,
                                                                             batch_size):
    X, y, params = small_problem(n)
    epochs = 2
    batches = []
    real_backward = nn.backward

    def recording_backward(params_, cache, Y):
        batches.append(cache["X"][:, 0].astype(int))
        return real_backward(params_, cache, Y)

    monkeypatch.setattr(nn, "backward", recording_backward)
    nn.train(params, X, y, X[:4], y[:4], lr=0.1, epochs=epochs, batch_size=batch_size, seed=0)
    per_epoch = math.ceil(n / batch_size)
    assert len(batches) == epochs * per_epoch
    sizes = [len(batch) for batch in batches[:per_epoch]]
    assert sizes == [batch_size] * (n // batch_size) + ([n % batch_size] if n % batch_size else [])
    orders = []
    for epoch in range(epochs):
        rows = np.concatenate(batches[epoch * per_epoch:(epoch + 1) * per_epoch])
        np.testing.assert_array_equal(np.sort(rows), np.arange(n))
        orders.append(rows)
    assert not np.array_equal(orders[0], orders[1]), "the shuffle must change every epoch"


def test_train_is_reproducible_with_its_seed():
    X, y, params = small_problem(50)
    first, _ = nn.train(params, X, y, X, y, lr=0.5, epochs=2, batch_size=8, seed=4)
    second, _ = nn.train(params, X, y, X, y, lr=0.5, epochs=2, batch_size=8, seed=4)
    other, _ = nn.train(params, X, y, X, y, lr=0.5, epochs=2, batch_size=8, seed=5)
    for key in params:
        np.testing.assert_array_equal(first[key], second[key])
    assert any(not np.array_equal(first[key], other[key]) for key in params)


def test_train_on_mnist_5k_reaches_90_percent_validation_accuracy():
    try:
        X_train, y_train, X_val, y_val = util.load_dataset("mnist-5k", n_train=4000, n_val=1000, seed=0)
    except FileNotFoundError as missing:
        pytest.skip(f"offline MNIST digits not installed ({missing})")
    params = nn.init_params(784, 64, 10, seed=0)
    _, history = nn.train(params, X_train, y_train, X_val, y_val, lr=1.0, epochs=20,
                          batch_size=64, seed=0)
    assert history["val_acc"][-1] >= 0.90, history["val_acc"]
    assert history["train_loss"][-1] < history["train_loss"][0]
