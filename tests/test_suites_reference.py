"""The suites end to end through the real sandboxed Student.

- the reference scores 100 / 100 and every test passes;
- correct solutions written differently score 100 too (np.dot / einsum instead
  of @, ones @ dZ for db, a logaddexp sigmoid, a log-sum-exp softmax, a
  cross-entropy that takes the log of the true class only, another sane
  init, loops over the two layers and over the parameter dict, a while loop
  over minibatches, another random stream), and so does a solution whose
  linear layers compute in float32 (accurate enough, checked with a coarser
  numeric gradient);
- the blank template scores 0 without crashing, every test saying why;
- the config: points sum to exactly 100, one test per key, names start with
  the function's name.
"""
import os
import re

import pytest

from autograder.checks.reference import ROOT, reference_source
from autograder.config import load_config
from autograder.grading.runner import iter_tests
from autograder.suites import graded, harness, load_suites

Student = pytest.importorskip("autograder.sandbox.student").Student

ALTERNATIVE = '''
import numpy as np


def one_hot(y, num_classes):
    return np.eye(num_classes)[np.asarray(y)]


def linear_forward(X, W, b):
    return np.dot(X, W.T) + b[np.newaxis, :]


def linear_backward(dZ, X, W, b):
    dX = np.dot(dZ, W)
    dW = np.einsum("nk,nm->km", dZ, X)
    db = np.ones(dZ.shape[0]) @ dZ
    return dX, dW, db


def sigmoid_forward(Z):
    return np.exp(-np.logaddexp(0.0, -Z))


def sigmoid_backward(dA, A):
    return dA * (A - A ** 2)


def softmax(Z):
    m = np.max(Z, axis=-1, keepdims=True)
    log_norm = m + np.log(np.sum(np.exp(Z - m), axis=-1, keepdims=True))
    return np.exp(Z - log_norm)


def cross_entropy(P, Y):
    true_class = np.sum(P * Y, axis=1)
    return -np.mean(np.log(np.maximum(true_class, 1e-12))).item()


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) * (1.0 / len(P))


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.RandomState(seed)
    return {"W1": rng.randn(n_hidden, n_input) / np.sqrt(n_input),
            "b1": np.zeros(n_hidden),
            "W2": rng.randn(n_output, n_hidden) / np.sqrt(n_hidden),
            "b2": np.zeros(n_output)}


def forward(params, X):
    cache = {"X": X}
    A = X
    for layer in (1, 2):
        Z = linear_forward(A, params["W%d" % layer], params["b%d" % layer])
        cache["Z%d" % layer] = Z
        A = sigmoid_forward(Z) if layer == 1 else softmax(Z)
        if layer == 1:
            cache["A1"] = A
    cache["P"] = A
    return A, cache


def backward(params, cache, Y):
    grads = {}
    dZ = softmax_cross_entropy_backward(cache["P"], Y)
    inputs = {1: cache["X"], 2: cache["A1"]}
    for layer in (2, 1):
        dA, grads["W%d" % layer], grads["b%d" % layer] = linear_backward(
            dZ, inputs[layer], params["W%d" % layer], params["b%d" % layer])
        if layer == 2:
            dZ = sigmoid_backward(dA, cache["A1"])
    return grads


def sgd_step(params, grads, lr):
    new_params = {}
    for key in params:
        new_params[key] = params[key] - lr * grads[key]
    return new_params


def predict(params, X):
    _, cache = forward(params, X)
    return cache["Z2"].argmax(axis=1)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.RandomState(seed + 1)
    k = params["W2"].shape[0]
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    n = len(X_train)
    for epoch in range(epochs):
        perm = rng.permutation(n)
        X_s, y_s = X_train[perm], y_train[perm]
        start = 0
        while start < n:
            Xb, yb = X_s[start:start + batch_size], y_s[start:start + batch_size]
            _, cache = forward(params, Xb)
            params = sgd_step(params, backward(params, cache, one_hot(yb, k)), lr)
            start += batch_size
        for name, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
            P, _ = forward(params, X)
            history[name + "_loss"].append(cross_entropy(P, one_hot(y, k)))
            history[name + "_acc"].append(float((P.argmax(axis=1) == y).mean()))
    return params, history
'''

ALTERNATIVE_2 = '''
import numpy as np


def one_hot(y, num_classes):
    return (np.asarray(y)[:, None] == np.arange(num_classes)).astype(np.float64)


def linear_forward(X, W, b):
    return np.einsum("nm,km->nk", X, W) + b


def linear_backward(dZ, X, W, b):
    return np.matmul(dZ, W), np.tensordot(dZ, X, axes=(0, 0)), np.add.reduce(dZ, axis=0)


def sigmoid_forward(Z):
    return 0.5 * (1.0 + np.tanh(0.5 * Z))


def sigmoid_backward(dA, A):
    out = A.copy()
    out *= 1.0 - A
    out *= dA
    return out


def softmax(Z):
    E = np.exp(Z - np.amax(Z, axis=1)[:, None])
    return E / np.sum(E, axis=1)[:, None]


def cross_entropy(P, Y):
    return float(-np.sum(Y * np.log(P + 1e-12)) / P.shape[0])


def softmax_cross_entropy_backward(P, Y):
    return np.subtract(P, Y) / np.float64(len(Y))


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.default_rng(seed)
    return {"W1": rng.standard_normal((n_hidden, n_input)) * np.sqrt(2.0 / n_input),
            "b1": np.zeros(n_hidden),
            "W2": rng.standard_normal((n_output, n_hidden)) * np.sqrt(2.0 / n_hidden),
            "b2": np.zeros(n_output)}


def forward(params, X):
    Z1 = linear_forward(X, params["W1"], params["b1"])
    A1 = sigmoid_forward(Z1)
    Z2 = linear_forward(A1, params["W2"], params["b2"])
    P = softmax(Z2)
    return P, dict(X=X, Z1=Z1, A1=A1, Z2=Z2, P=P)


def backward(params, cache, Y):
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, dW2, db2 = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    S = sigmoid_forward(cache["Z1"])           # the derivative from Z1, correctly
    dZ1 = dA1 * S * (1.0 - S)
    _, dW1, db1 = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])
    return dict(W1=dW1, b1=db1, W2=dW2, b2=db2)


def sgd_step(params, grads, lr):
    return dict((k, params[k] - lr * grads[k]) for k in params)


def predict(params, X):
    return np.argmax(forward(params, X)[0], axis=-1)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    k = len(params["b2"])
    history = dict(train_loss=[], train_acc=[], val_loss=[], val_acc=[])
    n = X_train.shape[0]
    n_batches = -(-n // batch_size)
    index = np.arange(n)
    for epoch in range(epochs):
        rng.shuffle(index)
        for i in range(n_batches):
            rows = index[i * batch_size:(i + 1) * batch_size]
            _, cache = forward(params, X_train[rows])
            grads = backward(params, cache, one_hot(y_train[rows], k))
            params = sgd_step(params, grads, lr)
        for name, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
            P, _ = forward(params, X)
            history[name + "_loss"].append(float(cross_entropy(P, one_hot(y, k))))
            history[name + "_acc"].append(float(np.mean(predict(params, X) == y)))
    return params, history
'''

FLOAT32 = [
    ("    return X @ W.T + b\n",
     "    Z = X.astype(np.float32) @ W.T.astype(np.float32)\n"
     "    return Z.astype(np.float64) + b\n"),
    ("    dW = dZ.T @ X\n",
     "    dW = (dZ.T.astype(np.float32) @ X.astype(np.float32)).astype(np.float64)\n"),
]


@pytest.fixture(scope="module", autouse=True)
def reference_worker():
    proxy = Student(reference_source(), graded.CONFIG)
    graded.set_reference_student(proxy)
    yield proxy
    graded.set_reference_student(None)
    proxy.close()


def grade(source):
    proxy = Student(source, graded.CONFIG)
    try:
        return harness.run(proxy)
    finally:
        proxy.close()


def report(results):
    return "\n".join(f"{key}: {r['status']} {r['score']}/{r['max_score']}\n"
                     f"{r.get('output', '')}" for key, r in results.items()
                     if r["status"] != "passed")


@pytest.mark.parametrize("name", ["reference", "alternative", "alternative 2",
                                  "float32 linear layers"])
def test_correct_solutions_score_full_marks(name):
    source = {"reference": reference_source(), "alternative": ALTERNATIVE,
              "alternative 2": ALTERNATIVE_2,
              "float32 linear layers": harness.mutate(reference_source(), *FLOAT32)}[name]
    results = grade(source)
    assert set(results) == set(graded.TESTS)
    assert not [key for key, r in results.items() if "check_error" in r], report(results)
    assert sum(r["score"] for r in results.values()) == pytest.approx(100.0), report(results)
    assert all(r["status"] == "passed" for r in results.values()), report(results)


def test_numpy_scalar_returns_count_as_floats():
    """np.mean & co. return numpy scalars: the proxy contract brings them back as
    0-d arrays, which the suites accept as floats."""
    source = harness.mutate(reference_source(), (
        "    return float(-(Y * log_P).sum() / P.shape[0])",
        "    return np.float64(-(Y * log_P).sum() / P.shape[0])"))
    proxy = Student(source, graded.CONFIG)
    try:
        results = harness.run(proxy, functions=["cross_entropy"])
    finally:
        proxy.close()
    assert all(r["status"] == "passed" for r in results.values()), report(results)


def test_template_scores_zero_and_says_why():
    with open(os.path.join(ROOT, "student_template", "neural_net.py"), encoding="utf-8") as f:
        results = grade(f.read())
    assert set(results) == set(graded.TESTS)
    assert not [key for key, r in results.items() if "check_error" in r]
    assert sum(r["score"] for r in results.values()) == 0
    for key, r in results.items():
        assert r["status"] == "failed"
        assert "not implemented" in r["output"], (key, r["output"])


def test_config_points_and_names():
    config = load_config()
    tests = config["tests"]
    assert sum(t["weight"] for t in tests.values()) == 100
    assert len({t["number"] for t in tests.values()}) == len(tests)
    assert {t["visibility"] for t in tests.values()} <= {"visible", "after_published"}
    seen = {}
    for test in iter_tests(load_suites()):
        method = getattr(test, test._testMethodName)
        key = method.__graded_key__
        assert key not in seen, f"{key} used by two tests"
        seen[key] = test
        entry = tests[key]
        assert method.__weight__ == entry["weight"]
        assert method.__tags__ == (entry["function"],)
        name = test.shortDescription()
        assert re.match(re.escape(entry["function"]) + ": ", name), name
    assert set(seen) == set(tests)
    tiers = config["thresholds"]["train_accuracy"]["tiers"]
    calibration = config["thresholds"]["train_accuracy"]["calibration"]
    assert tiers[0][1] == 1.0 and tiers[0][0] < calibration["min"]
    assert [t[0] for t in tiers] == sorted((t[0] for t in tiers), reverse=True)


def test_gradient_tests_work_without_the_staff_only_exact_module(monkeypatch):
    """The handout ships without checks/exact.py (solution code): the gradient
    tests then judge by the numeric gradient of the student's forward alone."""
    from autograder.suites import graded, test_network, test_sigmoid, test_softmax

    for module in (test_network, test_sigmoid, test_softmax):
        monkeypatch.setattr(module, "EXACT", None)
    keys = {"sigmoid_backward.gradient", "softmax_cross_entropy_backward.gradient",
            "backward.gradient", "backward.values"}
    proxy = Student(reference_source(), graded.CONFIG)
    try:
        results = harness.run(proxy, keys=keys)
    finally:
        proxy.close()
    assert all(r["status"] == "passed" for r in results.values()), report(results)
    buggy = harness.mutate(reference_source(), ('    dZ1 = sigmoid_backward(dA1, cache["A1"])',
                                                '    dZ1 = sigmoid_backward(dA1, cache["Z1"])'))
    proxy = Student(buggy, graded.CONFIG)
    try:
        results = harness.run(proxy, keys=keys)
    finally:
        proxy.close()
    assert results["backward.gradient"]["status"] == "failed"
    assert "numeric gradient" in results["backward.gradient"]["output"]
