"""Correct alternatives: right answers written differently from the reference.

Each must score exactly 100: a false failure is as bad as a false pass.
"""
from autograder.validation.model import Entry, full_marks


def correct(name, why, subs, differs=()):
    return Entry(name=name, kind="correct", expected=full_marks(), why=why,
                 subs=tuple(subs), differs=tuple(differs))


CORRECT = [
    correct("np_dot_instead_of_matmul", "np.dot everywhere the reference uses @", [
        ("    return X @ W.T + b\n", "    return np.dot(X, W.T) + b\n"),
        ("    dX = dZ @ W\n    dW = dZ.T @ X\n",
         "    dX = np.dot(dZ, W)\n    dW = np.dot(dZ.T, X)\n"),
    ]),
    correct("einsum_linear_layer", "np.einsum for the linear layer, forward and backward", [
        ("    return X @ W.T + b\n", '    return np.einsum("nm,km->nk", X, W) + b\n'),
        ("    dX = dZ @ W\n    dW = dZ.T @ X\n",
         '    dX = np.einsum("nk,km->nm", dZ, W)\n    dW = np.einsum("nk,nm->km", dZ, X)\n'),
    ]),
    correct("ones_matmul_for_db", "db as a ones vector times dZ", [
        ("    db = dZ.sum(axis=0)\n", "    db = np.ones(dZ.shape[0]) @ dZ\n"),
        ("    db1 = dZ1.sum(axis=0)\n", "    db1 = np.ones(dZ1.shape[0]) @ dZ1\n"),
    ]),
    correct("sigmoid_via_logaddexp", "sigmoid as exp(-logaddexp(0, -Z))", [
        ("    E = np.exp(-np.abs(Z))\n"
         "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
         "    return np.exp(-np.logaddexp(0.0, -Z))\n"),
    ]),
    correct("sigmoid_via_tanh", "sigmoid as (1 + tanh(Z / 2)) / 2", [
        ("    E = np.exp(-np.abs(Z))\n"
         "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n",
         "    return 0.5 * (1.0 + np.tanh(0.5 * Z))\n"),
    ]),
    correct("softmax_via_log_softmax", "softmax as exp of a log-softmax (logsumexp)", [
        ("    E = np.exp(shifted)\n    return E / E.sum(axis=1, keepdims=True)\n",
         "    log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))\n"
         "    return np.exp(log_P)\n"),
    ]),
    correct("cross_entropy_picks_label_column",
            "cross-entropy as the mean -log of each row's labelled probability", [
        ("    log_P = np.log(np.clip(P, np.finfo(np.float64).tiny, None))\n"
         "    return float(-(Y * log_P).sum() / P.shape[0])\n",
         "    rows = np.arange(P.shape[0])\n"
         "    picked = P[rows, np.argmax(Y, axis=1)]\n"
         "    return float(-np.mean(np.log(np.maximum(picked, 1e-300))))\n"),
    ]),
    correct("cross_entropy_clip_1e-12", "the common epsilon clip (1e-12) instead of tiny", [
        ("np.log(np.clip(P, np.finfo(np.float64).tiny, None))",
         "np.log(np.clip(P, 1e-12, 1.0))"),
    ]),
    correct("float32_linear_layer", "linear layer computed in float32, cast back to float64", [
        ("    return X @ W.T + b\n",
         "    Z = X.astype(np.float32) @ W.T.astype(np.float32) + b.astype(np.float32)\n"
         "    return Z.astype(np.float64)\n"),
        ("    dX = dZ @ W\n    dW = dZ.T @ X\n    db = dZ.sum(axis=0)\n",
         "    dZ32, X32, W32 = (a.astype(np.float32) for a in (dZ, X, W))\n"
         "    dX = (dZ32 @ W32).astype(np.float64)\n"
         "    dW = (dZ32.T @ X32).astype(np.float64)\n"
         "    db = dZ32.sum(axis=0).astype(np.float64)\n"),
    ]),
    correct("float32_activations", "sigmoid backward and softmax in float32, cast back", [
        ("    return dA * A * (1.0 - A)\n",
         "    A32 = A.astype(np.float32)\n"
         "    return (dA.astype(np.float32) * A32 * (1 - A32)).astype(np.float64)\n"),
        ("    E = np.exp(shifted)\n    return E / E.sum(axis=1, keepdims=True)\n",
         "    E = np.exp(shifted.astype(np.float32))\n"
         "    return (E / E.sum(axis=1, keepdims=True)).astype(np.float64)\n"),
    ]),
    correct("one_hot_via_eye", "one_hot by indexing an identity matrix", [
        ("    y = np.asarray(y, dtype=np.int64)\n"
         "    Y = np.zeros((y.shape[0], num_classes))\n"
         "    Y[np.arange(y.shape[0]), y] = 1.0\n"
         "    return Y\n",
         "    return np.eye(num_classes)[np.asarray(y)]\n"),
    ]),
    correct("sgd_step_loop_over_keys", "a for loop over the four parameter names (not examples)", [
        ("    return {name: value - lr * grads[name] for name, value in params.items()}\n",
         "    new_params = {}\n"
         "    for name in params:\n"
         "        new_params[name] = params[name] - lr * grads[name]\n"
         "    return new_params\n"),
    ]),
    correct("backward_reuses_linear_backward", "layer 1 through linear_backward too", [
        ('    dW1 = dZ1.T @ cache["X"]\n    db1 = dZ1.sum(axis=0)\n',
         '    _, dW1, db1 = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])\n'),
    ]),
    correct("predict_from_logits", "argmax of the logits Z2 (softmax is monotone)", [
        ("    P, _ = forward(params, X)\n    return np.argmax(P, axis=1)\n",
         '    _, cache = forward(params, X)\n    return cache["Z2"].argmax(axis=1)\n'),
    ]),
    correct("init_lecun_normal_legacy_rng", "LeCun-normal weights from the legacy seeded RNG", [
        ("    rng = np.random.default_rng(seed)\n\n    def xavier",
         "    rng = np.random.RandomState(seed)\n\n    def xavier"),
        ("        limit = np.sqrt(6.0 / (fan_in + fan_out))\n"
         "        return rng.uniform(-limit, limit, size=(fan_out, fan_in))\n",
         "        return rng.randn(fan_out, fan_in) * np.sqrt(1.0 / fan_in)\n"),
    ], differs=("init_params",)),
    correct("train_other_shuffle_scheme",
            "a fresh legacy RandomState per epoch; the arrays are permuted, then sliced", [
        ("    for _ in range(epochs):\n"
         "        order = rng.permutation(n_train)\n"
         "        for start in range(0, n_train, batch_size):\n"
         "            batch = order[start:start + batch_size]\n"
         "            _, cache = forward(params, X_train[batch])\n"
         "            grads = backward(params, cache, Y_train[batch])\n",
         "    for epoch in range(epochs):\n"
         "        order = np.random.RandomState(seed * 1000 + epoch).permutation(n_train)\n"
         "        X_shuffled, Y_shuffled = X_train[order], Y_train[order]\n"
         "        for start in range(0, n_train, batch_size):\n"
         "            stop = min(start + batch_size, n_train)\n"
         "            _, cache = forward(params, X_shuffled[start:stop])\n"
         "            grads = backward(params, cache, Y_shuffled[start:stop])\n"),
    ], differs=("train",)),
    correct("train_accuracy_per_example_np_matrix",
            "train counts hits example by example through np.matrix: one "
            "PendingDeprecationWarning per example, about 14 MB of warnings per call", [
        ("        P, _ = forward(params, X)\n"
         "        return cross_entropy(P, Y), float(np.mean(np.argmax(P, axis=1) == y))\n",
         "        P, _ = forward(params, X)\n"
         "        hits = 0\n"
         "        for i in range(X.shape[0]):\n"
         "            hits += int(np.matrix(P[i]).argmax() == y[i])\n"
         "        return cross_entropy(P, Y), hits / X.shape[0]\n"),
    ], differs=("train",)),  # same values; the warnings differ
]

CORRECT += [
    correct("predict_local_named_predict",
            "a local variable named like the function (not a recursive call)", [
        ("    P, _ = forward(params, X)\n    return np.argmax(P, axis=1)\n",
         "    P, _ = forward(params, X)\n    predict = np.argmax(P, axis=1)\n    return predict\n"),
    ]),
    correct("linear_backward_3d_broadcast",
            "dX and dW through N x K x M broadcasts: vectorized, but above the memory limit "
            "on the large timing inputs (fits on a quarter of them)", [
        ("    dX = dZ @ W\n    dW = dZ.T @ X\n",
         "    outer = dZ[:, :, None] * X[:, None, :]\n"
         "    dX = (dZ[:, :, None] * W[None, :, :]).sum(axis=1)\n"
         "    dW = outer.sum(axis=0)\n"),
    ]),
]
