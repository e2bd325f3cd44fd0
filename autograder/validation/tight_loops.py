"""The tightest Python loops a student could hide in each function that has a
timing backstop, and heavier vectorized forms that are right.

The timing backstop (autograder/suites/case.py) must fail each loop on its
own, even with the static analysis and the step count fooled, and pass each
right form: tests/test_checks_vectorization.py proves both through the real
sandbox, and bench/bench_backstop.py prints the figures behind config.json's
backstop factors. Loops are written for speed (tolist() and math, no numpy
scalars): what a student who hides a loop on purpose would write.

CASES: function -> (arguments at the suite's backstop size, {variant: def}),
variants named "loop: ..." (the backstop alone must fail them) or
"correct: ..." (must pass).
"""
import numpy as np

RNG = np.random.default_rng(0)  # fixed: the same inputs in every run


def labels(n, k):
    return RNG.integers(0, k, size=n)


def probabilities(n, k):
    E = np.exp(RNG.normal(size=(n, k)))
    return E / E.sum(axis=1, keepdims=True)


def one_hot_of(y, k):
    Y = np.zeros((y.size, k))
    Y[np.arange(y.size), y] = 1.0
    return Y


# function -> (arguments at the suite's backstop size, {variant: its def})
CASES = {
    "sigmoid_forward": (lambda: [RNG.normal(size=(100_000, 10)) * 3], {
        "loop: tolist, math.exp": (
            "def sigmoid_forward(Z):\n"
            "    import math\n"
            "    e = math.exp\n"
            "    return np.array([1.0 / (1.0 + e(-z)) for z in Z.ravel().tolist()])"
            ".reshape(Z.shape)\n"),
        "loop: map, math.exp": (
            "def sigmoid_forward(Z):\n"
            "    import math\n"
            "    e = math.exp\n"
            "    return np.fromiter(map(lambda z: 1.0 / (1.0 + e(-z)), Z.ravel().tolist()),"
            " float, Z.size).reshape(Z.shape)\n"),
        "correct: boolean-mask branches": (
            "def sigmoid_forward(Z):\n"
            "    E = np.exp(-np.abs(Z))\n"
            "    out = 1.0 / (1.0 + E)\n"
            "    negative = Z < 0\n"
            "    out[negative] = E[negative] * out[negative]\n"
            "    return out\n"),
        "correct: two exps in np.where": (
            "def sigmoid_forward(Z):\n"
            "    with np.errstate(over='ignore'):\n"
            "        return np.where(Z >= 0, 1 / (1 + np.exp(-Z)), np.exp(Z) / (1 + np.exp(Z)))\n"),
    }),
    "sigmoid_backward": (lambda: [RNG.normal(size=(100_000, 10)),
                                  RNG.uniform(size=(100_000, 10))], {
        "loop: zip tolist": (
            "def sigmoid_backward(dA, A):\n"
            "    return np.array([d * a * (1.0 - a) for d, a in zip(dA.ravel().tolist(),"
            " A.ravel().tolist())]).reshape(A.shape)\n"),
        "correct: np.multiply chain with copies": (
            "def sigmoid_backward(dA, A):\n"
            "    A = np.array(A, dtype=np.float64, copy=True)\n"
            "    return np.multiply(np.multiply(dA, A), np.subtract(1.0, A))\n"),
    }),
    "softmax": (lambda: [RNG.normal(size=(100_000, 10)) * 3], {
        "loop: rows, math.exp": (
            "def softmax(Z):\n"
            "    import math\n"
            "    e = math.exp\n"
            "    out = []\n"
            "    for row in Z.tolist():\n"
            "        m = max(row)\n"
            "        ex = [e(v - m) for v in row]\n"
            "        s = sum(ex)\n"
            "        out.append([v / s for v in ex])\n"
            "    return np.array(out)\n"),
        "loop: rows, numpy per row": (
            "def softmax(Z):\n"
            "    out = np.empty_like(Z)\n"
            "    for i in range(Z.shape[0]):\n"
            "        e = np.exp(Z[i] - Z[i].max())\n"
            "        out[i] = e / e.sum()\n"
            "    return out\n"),
    }),
    "cross_entropy": (lambda: [probabilities(100_000, 10), one_hot_of(labels(100_000, 10), 10)], {
        "loop: rows, index of the 1": (
            "def cross_entropy(P, Y):\n"
            "    import math\n"
            "    total = 0.0\n"
            "    for p, y in zip(P.tolist(), Y.tolist()):\n"
            "        total -= math.log(max(p[y.index(1.0)], 1e-300))\n"
            "    return total / len(P)\n"),
        "loop: elements": (
            "def cross_entropy(P, Y):\n"
            "    import math\n"
            "    total = 0.0\n"
            "    for p, y in zip(P.ravel().tolist(), Y.ravel().tolist()):\n"
            "        if y:\n"
            "            total -= y * math.log(max(p, 1e-300))\n"
            "    return total / P.shape[0]\n"),
    }),
    "softmax_cross_entropy_backward": (
        lambda: [probabilities(100_000, 10), one_hot_of(labels(100_000, 10), 10)], {
            "loop: elements": (
                "def softmax_cross_entropy_backward(P, Y):\n"
                "    n = P.shape[0]\n"
                "    return np.array([(p - y) / n for p, y in zip(P.ravel().tolist(),"
                " Y.ravel().tolist())]).reshape(P.shape)\n"),
        }),
    "one_hot": (lambda: [labels(1_900_000, 2), 2], {
        "loop: rows": (
            "def one_hot(y, num_classes):\n"
            "    Y = np.zeros((len(y), num_classes))\n"
            "    for i, c in enumerate(np.asarray(y).tolist()):\n"
            "        Y[i, c] = 1.0\n"
            "    return Y\n"),
        "loop: flat indices from a generator (np.fromiter)": (
            "def one_hot(y, num_classes):\n"
            "    k = num_classes\n"
            "    y = np.asarray(y)\n"
            "    Y = np.zeros(y.shape[0] * k)\n"
            "    Y[np.fromiter((i + c for i, c in zip(range(0, len(y) * k, k), y.tolist())),"
            " np.intp, len(y))] = 1.0\n"
            "    return Y.reshape(-1, k)\n"),
        "loop: lists": (
            "def one_hot(y, num_classes):\n"
            "    rows = []\n"
            "    for c in np.asarray(y).tolist():\n"
            "        row = [0.0] * num_classes\n"
            "        row[c] = 1.0\n"
            "        rows.append(row)\n"
            "    return np.array(rows)\n"),
        "correct: comparison with arange": (
            "def one_hot(y, num_classes):\n"
            "    return (np.asarray(y)[:, None] == np.arange(num_classes)[None, :])"
            ".astype(np.float64)\n"),
        "correct: rows of the identity": (
            "def one_hot(y, num_classes):\n"
            "    return np.eye(num_classes)[np.asarray(y)]\n"),
    }),
    "linear_forward": (lambda: [RNG.normal(size=(50_000, 32)), RNG.normal(size=(16, 32)),
                                RNG.normal(size=16)], {
        "loop: rows, W @ x": (
            "def linear_forward(X, W, b):\n"
            "    return np.array([W @ x + b for x in X])\n"),
    }),
    "linear_backward": (lambda: [RNG.normal(size=(50_000, 16)), RNG.normal(size=(50_000, 32)),
                                 RNG.normal(size=(16, 32)), RNG.normal(size=16)], {
        "loop: rows, outer products": (
            "def linear_backward(dZ, X, W, b):\n"
            "    dW = np.zeros_like(W)\n"
            "    for dz, x in zip(dZ, X):\n"
            "        dW += np.outer(dz, x)\n"
            "    return dZ @ W, dW, dZ.sum(axis=0)\n"),
    }),
    "init_params": (lambda: [2000, 500, 10, 0], {
        "loop: one draw per weight": (
            "def init_params(n_input, n_hidden, n_output, seed=0):\n"
            "    import random\n"
            "    draw = random.Random(seed).uniform\n"
            "    def layer(fan_in, fan_out):\n"
            "        limit = (6.0 / (fan_in + fan_out)) ** 0.5\n"
            "        return np.array([[draw(-limit, limit) for _ in range(fan_in)]"
            " for _ in range(fan_out)])\n"
            "    return {'W1': layer(n_input, n_hidden), 'b1': np.zeros(n_hidden),\n"
            "            'W2': layer(n_hidden, n_output), 'b2': np.zeros(n_output)}\n"),
        "correct: normal draws of the legacy generator": (
            "def init_params(n_input, n_hidden, n_output, seed=0):\n"
            "    rng = np.random.RandomState(seed)\n"
            "    return {'W1': rng.randn(n_hidden, n_input) * np.sqrt(2.0 / n_input),\n"
            "            'b1': np.zeros(n_hidden),\n"
            "            'W2': rng.randn(n_output, n_hidden) * np.sqrt(2.0 / n_hidden),\n"
            "            'b2': np.zeros(n_output)}\n"),
    }),
}
