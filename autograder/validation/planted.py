"""Planted bugs: small variants of the reference, each named after the mistake.

Each declares the function(s) it breaks; it must lose points there, and
every failing test must belong to that function or be an end-to-end test of
train (`model.only`): a composite is judged on the student's own callees.
A bug that makes a function crash or return an unusable shape leaves its
callers "not judged" (`unusable=True`: they may lose too, and say so).
`also` lists what else may lose and why it still does. If one of these ever
scores 100, the grader needs a new check: never give the variant an exemption.
"""
from autograder.validation.model import Entry, broken, only


def planted(name, breaks, why, subs, also=None, msg=(), prelude="", vectorization=False,
            unusable=False):
    breaks = (breaks,) if isinstance(breaks, str) else tuple(breaks)
    if unusable:
        expected = broken(*breaks, also=also or (),
                          msg=msg or tuple(f"not judged: fix `{f}` first" for f in breaks))
    else:
        expected = only(*breaks, also=also, msg=msg)
    return Entry(name=name, kind="planted", breaks=breaks, why=why, subs=tuple(subs),
                 expected=expected, prelude=prelude, vectorization=vectorization)




# Exact lines of the reference that many variants replace.
LINEAR_FORWARD = "    return X @ W.T + b\n"
LINEAR_BACKWARD = "    dX = dZ @ W\n    dW = dZ.T @ X\n    db = dZ.sum(axis=0)\n    return dX, dW, db\n"
SIGMOID_FORWARD = ("    E = np.exp(-np.abs(Z))\n"
                   "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n")
SIGMOID_BACKWARD = "    return dA * A * (1.0 - A)\n"
SOFTMAX = ("    shifted = Z - Z.max(axis=1, keepdims=True)\n"
           "    E = np.exp(shifted)\n"
           "    return E / E.sum(axis=1, keepdims=True)\n")
CROSS_ENTROPY = ("    log_P = np.log(np.clip(P, np.finfo(np.float64).tiny, None))\n"
                 "    return float(-(Y * log_P).sum() / P.shape[0])\n")
SCE_BACKWARD = "    return (P - Y) / P.shape[0]\n"
ONE_HOT = ("    y = np.asarray(y, dtype=np.int64)\n"
           "    Y = np.zeros((y.shape[0], num_classes))\n"
           "    Y[np.arange(y.shape[0]), y] = 1.0\n"
           "    return Y\n")
XAVIER_DRAW = "        return rng.uniform(-limit, limit, size=(fan_out, fan_in))\n"
SGD_STEP = "    return {name: value - lr * grads[name] for name, value in params.items()}\n"
IMPORT = "import numpy as np\n"

PLANTED = [
    # -- linear layer ---------------------------------------------------------
    planted("dW_transposed", "linear_backward", "dW = X^T dZ, shape (M, K)", [
        ("    dW = dZ.T @ X\n", "    dW = X.T @ dZ\n")], unusable=True),
    planted("dW_transposed_then_reshaped", "linear_backward",
            "X^T dZ reshaped to (K, M): the right shape, scrambled values", [
                ("    dW = dZ.T @ X\n", "    dW = (X.T @ dZ).reshape(W.shape)\n")]),
    planted("db_not_summed", "linear_backward", "db = dZ, shape (N, K)", [
        ("    db = dZ.sum(axis=0)\n", "    db = dZ\n")], unusable=True),
    planted("db_summed_over_wrong_axis", "linear_backward", "db summed over units: (N,)", [
        ("    db = dZ.sum(axis=0)\n", "    db = dZ.sum(axis=1)\n")], unusable=True),
    planted("db_mean_not_sum", "linear_backward", "db averaged over the batch (1/N twice)", [
        ("    db = dZ.sum(axis=0)\n", "    db = dZ.mean(axis=0)\n")]),
    planted("db_keepdims_shape", "linear_backward", "db of shape (1, K)", [
        ("    db = dZ.sum(axis=0)\n", "    db = dZ.sum(axis=0, keepdims=True)\n")], unusable=True),
    planted("dW_divided_by_N", "linear_backward", "1/N applied again in dW", [
        ("    dW = dZ.T @ X\n", "    dW = dZ.T @ X / X.shape[0]\n")]),
    planted("dX_uses_W_transposed", "linear_backward", "dX = dZ W^T: an error unless K == M", [
        ("    dX = dZ @ W\n", "    dX = dZ @ W.T\n")], unusable=True),
    planted("bias_broadcast_over_rows", "linear_forward", "b added as a column (K, 1)", [
        (LINEAR_FORWARD, "    return X @ W.T + b[:, np.newaxis]\n")], unusable=True),
    planted("linear_forward_untransposed_W", "linear_forward", "Z = X W + b: an error unless K == M", [
        (LINEAR_FORWARD, "    return X @ W + b\n")], unusable=True),
    # -- sigmoid ----------------------------------------------------------------
    planted("sigmoid_backward_treats_A_as_Z", "sigmoid_backward",
            "derivative taken of Z instead of A: s(A)(1 - s(A))", [
                (SIGMOID_BACKWARD,
                 "    S = 1.0 / (1.0 + np.exp(-A))\n    return dA * S * (1.0 - S)\n")]),
    # (with some grading seeds train's seed test diverges to nan with this backward:
    # then it says "not judged: fix `backward` first", a test lost to the callee)
    planted("backward_passes_Z1_to_sigmoid_backward", "backward",
            "sigmoid derivative of Z1 instead of A1 inside backward", [
                ('    dZ1 = sigmoid_backward(dA1, cache["A1"])\n',
                 '    dZ1 = sigmoid_backward(dA1, cache["Z1"])\n')],
            also=("train.seeded", "train.accuracy", "train.lr10")),
    planted("sigmoid_applied_twice", "forward", "A1 = sigmoid(sigmoid(Z1))", [
        ("    A1 = sigmoid_forward(Z1)\n", "    A1 = sigmoid_forward(sigmoid_forward(Z1))\n")]),
    planted("sigmoid_backward_drops_upstream", "sigmoid_backward", "A (1 - A) without dA", [
        (SIGMOID_BACKWARD, "    return A * (1.0 - A)\n")]),
    planted("sigmoid_naive_overflows", "sigmoid_forward",
            "1 / (1 + exp(-Z)): right values, overflow warnings for large negative Z", [
                (SIGMOID_FORWARD, "    return 1.0 / (1.0 + np.exp(-Z))\n")]),
    planted("sigmoid_backward_modifies_dA", "sigmoid_backward", "dA *= ... in place", [
        (SIGMOID_BACKWARD, "    dA *= A * (1.0 - A)\n    return dA\n")]),
    # -- softmax and cross-entropy -------------------------------------------------
    planted("softmax_without_max_shift", "softmax", "exp of raw logits: nan for huge logits", [
        ("    shifted = Z - Z.max(axis=1, keepdims=True)\n", "    shifted = Z\n")]),
    planted("softmax_over_wrong_axis", "softmax", "columns sum to 1 instead of rows", [
        ("    shifted = Z - Z.max(axis=1, keepdims=True)\n",
         "    shifted = Z - Z.max(axis=0, keepdims=True)\n"),
        ("    return E / E.sum(axis=1, keepdims=True)\n",
         "    return E / E.sum(axis=0, keepdims=True)\n")]),
    planted("softmax_without_keepdims", "softmax",
            "E / E.sum(axis=1): an error when N != K, silently wrong when N == K", [
                ("    return E / E.sum(axis=1, keepdims=True)\n",
                 "    return E / E.sum(axis=1)\n")],
            unusable=True),
    planted("softmax_modifies_input", "softmax", "Z -= max in place", [
        ("    shifted = Z - Z.max(axis=1, keepdims=True)\n",
         "    Z -= Z.max(axis=1, keepdims=True)\n    shifted = Z\n")]),
    planted("cross_entropy_log_of_zero", "cross_entropy", "log(P) unclipped: nan/inf at P = 0", [
        ("np.log(np.clip(P, np.finfo(np.float64).tiny, None))", "np.log(P)")]),
    planted("cross_entropy_summed_over_N", "cross_entropy", "the sum over the batch, not the mean", [
        ("    return float(-(Y * log_P).sum() / P.shape[0])\n",
         "    return float(-(Y * log_P).sum())\n")]),
    planted("cross_entropy_mean_over_NK", "cross_entropy", "averaged over N*K entries", [
        ("    return float(-(Y * log_P).sum() / P.shape[0])\n",
         "    return float(-(Y * log_P).mean())\n")]),
    planted("cross_entropy_hardcoded_64", "cross_entropy", "divides by the batch size 64", [
        ("    return float(-(Y * log_P).sum() / P.shape[0])\n",
         "    return float(-(Y * log_P).sum() / 64)\n")]),
    planted("ce_grad_hardcoded_64", "softmax_cross_entropy_backward", "(P - Y) / 64", [
        (SCE_BACKWARD, "    return (P - Y) / 64\n")]),
    planted("ce_grad_never_divided_by_N", "softmax_cross_entropy_backward", "1/N never applied", [
        (SCE_BACKWARD, "    return P - Y\n")]),
    planted("ce_grad_divided_by_N_twice", "softmax_cross_entropy_backward", "1/N applied twice", [
        (SCE_BACKWARD, "    return (P - Y) / P.shape[0] ** 2\n")]),
    planted("ce_grad_sign_flipped", "softmax_cross_entropy_backward", "(Y - P) / N", [
        (SCE_BACKWARD, "    return (Y - P) / P.shape[0]\n")]),
    # -- labels ---------------------------------------------------------------------
    planted("one_hot_off_by_one", "one_hot", "the 1 in column y - 1", [
        ("    Y[np.arange(y.shape[0]), y] = 1.0\n", "    Y[np.arange(y.shape[0]), y - 1] = 1.0\n")]),
    # -- the network --------------------------------------------------------------------
    planted("init_all_zero", "init_params", "zero weights: hidden units stay identical", [
        (XAVIER_DRAW, "        return np.zeros((fan_out, fan_in))\n")]),
    planted("init_symmetric", "init_params", "every weight the same nonzero value", [
        (XAVIER_DRAW, "        return np.full((fan_out, fan_in), limit / 2)\n")]),
    planted("init_huge", "init_params", "weights 100x too large: saturated sigmoids", [
        (XAVIER_DRAW, "        return rng.uniform(-limit, limit, size=(fan_out, fan_in)) * 100.0\n")]),
    planted("init_ignores_seed", "init_params", "a module-level SEED instead of the argument", [
        ("    rng = np.random.default_rng(seed)\n\n    def xavier",
         "    rng = np.random.default_rng(SEED)\n\n    def xavier"),
    ], prelude="SEED = 0"),
    planted("forward_caches_A1_as_Z1", "forward", "cache['Z1'] holds A1", [
        ('    return P, {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": P}\n',
         '    return P, {"X": X, "Z1": A1, "A1": A1, "Z2": Z2, "P": P}\n')]),
    # (dW1 of shape (M, H): train cannot step with it, so train is not judged)
    planted("backward_dW1_transposed", "backward", "dW1 = X^T dZ1 inside backward", [
        ('    dW1 = dZ1.T @ cache["X"]\n', '    dW1 = cache["X"].T @ dZ1\n')], unusable=True),
    planted("sgd_step_sign_flipped", "sgd_step", "theta + lr * grad", [
        (SGD_STEP, "    return {name: value + lr * grads[name] for name, value in params.items()}\n")]),
    planted("sgd_step_modifies_params_in_place", "sgd_step", "params[k] -= lr * grads[k]", [
        (SGD_STEP, "    for name in params:\n"
                   "        params[name] -= lr * grads[name]\n"
                   "    return params\n")]),
    planted("bias_never_updated", "sgd_step", "only the weights take a step", [
        (SGD_STEP, "    return {name: value if name.startswith(\"b\") else value - lr * grads[name]\n"
                   "            for name, value in params.items()}\n")]),
    planted("sgd_step_ignores_lr", "sgd_step", "a module-level LEARNING_RATE instead of lr", [
        (SGD_STEP, "    return {name: value - LEARNING_RATE * grads[name]"
                   " for name, value in params.items()}\n")],
            prelude="LEARNING_RATE = 0.1"),
    planted("argmax_over_wrong_axis", "predict", "argmax over the batch: shape (K,)", [
        ("    return np.argmax(P, axis=1)\n", "    return np.argmax(P, axis=0)\n")]),
    planted("gradients_accumulated_across_calls", "linear_backward",
            "a module-level accumulator: right on the first call only", [
                ("    dW = dZ.T @ X\n",
                 "    _ACCUMULATED[W.shape] = _ACCUMULATED.get(W.shape, 0) + dZ.T @ X\n"
                 "    dW = _ACCUMULATED[W.shape]\n")],
            prelude="_ACCUMULATED = {}", unusable=True),
    # -- training ---------------------------------------------------------------------------
    planted("labels_not_shuffled_with_X", "train", "X shuffled, Y taken in the original order", [
        ("            grads = backward(params, cache, Y_train[batch])\n",
         "            grads = backward(params, cache, Y_train[start:start + batch_size])\n")]),
    planted("full_batch_instead_of_minibatches", "train", "one step per epoch on all examples", [
        ("        for start in range(0, n_train, batch_size):\n"
         "            batch = order[start:start + batch_size]\n",
         "        for start in range(0, n_train, n_train):\n"
         "            batch = order\n")]),
    planted("last_partial_batch_dropped", "train", "range stops before the short last batch", [
        ("        for start in range(0, n_train, batch_size):\n",
         "        for start in range(0, n_train - batch_size + 1, batch_size):\n")]),
    planted("train_bias_never_updated", "train", "train zeroes the bias gradients", [
        ("            params = sgd_step(params, grads, lr)\n",
         "            grads = {k: (v if k.startswith(\"W\") else 0.0 * v) for k, v in grads.items()}\n"
         "            params = sgd_step(params, grads, lr)\n")]),
    planted("accuracy_against_one_hot", "train",
            "accuracy compares one-hot predictions with Y entrywise (over N*K)", [
                ("        return cross_entropy(P, Y), float(np.mean(np.argmax(P, axis=1) == y))\n",
                 "        predicted = one_hot(np.argmax(P, axis=1), Y.shape[1])\n"
                 "        return cross_entropy(P, Y), float(np.mean(predicted == Y))\n")]),
    planted("history_on_last_batch", "train", "train metrics of the last minibatch, not the full set", [
        ('        for split, X, y, Y in (("train", X_train, y_train, Y_train),\n',
         '        for split, X, y, Y in (("train", X_train[batch], y_train[batch], Y_train[batch]),\n')]),
    planted("train_ignores_seed", "train", "an unseeded generator: not reproducible", [
        ("    rng = np.random.default_rng(seed)\n    n_classes",
         "    rng = np.random.default_rng()\n    n_classes")]),
    planted("train_hardcoded_batch_64", "train", "minibatches of 64 whatever batch_size says", [
        ("        for start in range(0, n_train, batch_size):\n"
         "            batch = order[start:start + batch_size]\n",
         "        for start in range(0, n_train, 64):\n"
         "            batch = order[start:start + 64]\n")]),
    # -- vectorization: right values, Python loops over examples or units ------------------------
    planted("loop_linear_forward", "linear_forward", "a for loop over the rows of X", [
        (LINEAR_FORWARD,
         "    Z = np.empty((X.shape[0], W.shape[0]))\n"
         "    for n in range(X.shape[0]):\n"
         "        Z[n] = W @ X[n] + b\n"
         "    return Z\n")], vectorization=True),
    planted("loop_linear_backward", "linear_backward", "dW and db accumulated example by example", [
        (LINEAR_BACKWARD,
         "    dX = dZ @ W\n"
         "    dW = np.zeros_like(W)\n"
         "    db = np.zeros_like(b)\n"
         "    for n in range(X.shape[0]):\n"
         "        dW += np.outer(dZ[n], X[n])\n"
         "        db += dZ[n]\n"
         "    return dX, dW, db\n")], vectorization=True),
    planted("loop_sigmoid_forward", "sigmoid_forward", "nested loops over every entry", [
        (SIGMOID_FORWARD,
         "    A = np.empty(np.shape(Z))\n"
         "    for index in np.ndindex(*np.shape(Z)):\n"
         "        z = Z[index]\n"
         "        A[index] = 1.0 / (1.0 + np.exp(-z)) if z >= 0 else np.exp(z) / (1.0 + np.exp(z))\n"
         "    return A\n")], vectorization=True),
    planted("loop_sigmoid_backward", "sigmoid_backward", "a while loop over rows", [
        (SIGMOID_BACKWARD,
         "    dZ = np.empty_like(A)\n"
         "    n = 0\n"
         "    while n < A.shape[0]:\n"
         "        dZ[n] = dA[n] * A[n] * (1.0 - A[n])\n"
         "        n += 1\n"
         "    return dZ\n")], vectorization=True),
    planted("loop_softmax_comprehension", "softmax", "a list comprehension over rows", [
        (SOFTMAX,
         "    rows = [np.exp(z - z.max()) / np.exp(z - z.max()).sum() for z in Z]\n"
         "    return np.array(rows).reshape(Z.shape)\n")], vectorization=True),
    planted("loop_cross_entropy", "cross_entropy", "a generator summed over examples", [
        (CROSS_ENTROPY,
         "    tiny = np.finfo(np.float64).tiny\n"
         "    total = sum(-(Y[n] * np.log(np.clip(P[n], tiny, None))).sum()"
         " for n in range(P.shape[0]))\n"
         "    return float(total / P.shape[0])\n")], vectorization=True),
    planted("loop_ce_backward", "softmax_cross_entropy_backward", "a loop over examples", [
        (SCE_BACKWARD,
         "    dZ = np.empty_like(P)\n"
         "    for n in range(P.shape[0]):\n"
         "        dZ[n] = (P[n] - Y[n]) / P.shape[0]\n"
         "    return dZ\n")], vectorization=True),
    planted("loop_one_hot", "one_hot", "a loop setting one entry per example", [
        ("    Y[np.arange(y.shape[0]), y] = 1.0\n",
         "    for n in range(y.shape[0]):\n"
         "        Y[n, y[n]] = 1.0\n")], vectorization=True),
    planted("loop_hidden_in_helper", "softmax", "the loop lives in a helper softmax calls", [
        (SOFTMAX,
         "    return _softmax_rows(Z)\n\n\n"
         "def _softmax_rows(Z):\n"
         "    P = np.empty(Z.shape)\n"
         "    for n in range(Z.shape[0]):\n"
         "        E = np.exp(Z[n] - Z[n].max())\n"
         "        P[n] = E / E.sum()\n"
         "    return P\n")], vectorization=True),
    planted("loop_np_vectorize", "sigmoid_forward", "np.vectorize of a scalar sigmoid", [
        (SIGMOID_FORWARD,
         "    return np.vectorize(_scalar_sigmoid, otypes=[np.float64])(Z)\n\n\n"
         "def _scalar_sigmoid(z):\n"
         "    if z >= 0:\n"
         "        return 1.0 / (1.0 + np.exp(-z))\n"
         "    return np.exp(z) / (1.0 + np.exp(z))\n")], vectorization=True),
    planted("loop_apply_along_axis", "softmax", "np.apply_along_axis over rows", [
        (SOFTMAX,
         "    return np.apply_along_axis(lambda z: np.exp(z - z.max()) / np.exp(z - z.max()).sum(),"
         " 1, Z)\n")], vectorization=True),
    planted("loop_map", "sigmoid_backward", "map over the rows", [
        (SIGMOID_BACKWARD,
         "    rows = list(map(lambda da, a: da * a * (1.0 - a), dA, A))\n"
         "    return np.array(rows).reshape(np.shape(A))\n")], vectorization=True),
    planted("loop_recursion", "linear_forward", "recursion halving the rows of X", [
        (LINEAR_FORWARD,
         "    if X.shape[0] <= 1:\n"
         "        return X @ W.T + b\n"
         "    half = X.shape[0] // 2\n"
         "    return np.vstack([linear_forward(X[:half], W, b), linear_forward(X[half:], W, b)])\n")],
            vectorization=True),
    # -- backward layers at the edges: right on ordinary inputs, nan or warnings at 0 and 1 --
    planted("sigmoid_backward_recovers_Z_by_log", "sigmoid_backward",
            "Z recovered as -log(1/A - 1), then exp(-Z) / (1 + exp(-Z))^2: nan and warnings "
            "for A exactly 0 or 1", [
                (SIGMOID_BACKWARD,
                 "    Z = -np.log(1.0 / A - 1.0)\n"
                 "    E = np.exp(-Z)\n"
                 "    return dA * E / (1.0 + E) ** 2\n")],
            msg=r"A exactly 0 or 1"),
    planted("sigmoid_backward_divides_by_A", "sigmoid_backward",
            "dA / (1/A + 1/(1 - A)): the right values, division-by-zero warnings at 0 and 1", [
                (SIGMOID_BACKWARD, "    return dA / (1.0 / A + 1.0 / (1.0 - A))\n")],
            msg=r"division by zero"),
    planted("ce_grad_through_dJ_dP", "softmax_cross_entropy_backward",
            "dJ/dP = -Y / (N P) through the softmax Jacobian: nan where P is exactly 0", [
                (SCE_BACKWARD,
                 "    dP = -Y / (P * P.shape[0])\n"
                 "    return P * (dP - (dP * P).sum(axis=1, keepdims=True))\n")],
            msg=r"where P is exactly 0"),
    planted("ce_grad_through_dJ_dP_nan_to_num", "softmax_cross_entropy_backward",
            "the dJ/dP route with np.nan_to_num: finite, but 0 instead of -1/N where the true "
            "class has P = 0", [
                (SCE_BACKWARD,
                 "    dP = -Y / (P * P.shape[0])\n"
                 "    return np.nan_to_num(P * (dP - (dP * P).sum(axis=1, keepdims=True)))\n")],
            msg=r"where P is exactly 0"),
    # -- hints that fit the mistake seen ---------------------------------------------------
    planted("one_hot_integer_dtype", "one_hot",
            "np.zeros(..., dtype=int): the right shape and values, integer dtype", [
                ("    Y = np.zeros((y.shape[0], num_classes))\n",
                 "    Y = np.zeros((y.shape[0], num_classes), dtype=int)\n")],
            msg=r"right shape but dtype int64"),
    planted("cross_entropy_true_class_unclipped", "cross_entropy",
            "only the log of the true class, without a clip: inf when it has probability 0", [
                (CROSS_ENTROPY,
                 "    picked = P[np.arange(P.shape[0]), np.argmax(Y, axis=1)]\n"
                 "    return float(-np.log(picked).mean())\n")],
            msg=r"zero probability on the true class is -inf: clip P away from 0"),
    # -- a wrong forward beside its right backward: the backward keeps every point (its
    # gradient matches the exact one on the forward's own output, so no gate withholds it)
    planted("sigmoid_forward_doubled_slope", "sigmoid_forward", "sigmoid(2 Z); the backward is right", [
        (SIGMOID_FORWARD, "    E = np.exp(-np.abs(2.0 * Z))\n"
                          "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n")]),
    planted("linear_forward_bias_added_twice", "linear_forward",
            "Z = X W^T + 2 b; the backward is right", [
                (LINEAR_FORWARD, "    return X @ W.T + 2.0 * b\n")]),
    # (a constant forward gives every row the same class: predict, which is judged
    # on the student's own forward, cannot be judged and says so)
    planted("softmax_returns_uniform", "softmax",
            "a constant 1/K in every entry; the backward is right", [
                (SOFTMAX, "    return np.full(Z.shape, 1.0 / Z.shape[1])\n")],
            unusable=True, msg=r"not judged: fix `forward` first"),
    planted("forward_returns_uniform_P", "forward",
            "P = 1/K everywhere (cache P too); backward is right", [
                ("    P = softmax(Z2)\n", "    P = np.full(Z2.shape, 1.0 / Z2.shape[1])\n")],
            unusable=True, msg=r"not judged: fix `forward` first"),
    planted("sigmoid_forward_step_function", "sigmoid_forward",
            "A = 1 where Z > 0, else 0 (a step, not a sigmoid); the backward is right and is "
            "judged on the true A", [
                (SIGMOID_FORWARD, "    return (Z > 0).astype(float)\n")]),
    # -- train and predict judged on the student's own functions -------------------------------
    planted("train_seed_zero_unseeded", "train", "`if seed:` leaves the default seed 0 unseeded", [
        ("    rng = np.random.default_rng(seed)\n    n_classes",
         "    rng = np.random.default_rng(seed) if seed else np.random.default_rng()\n"
         "    n_classes")], also=(), msg=("same seed",)),
    planted("forward_name_typo_crashes", "forward",
            "a misspelled call: forward raises NameError, so predict and train cannot be judged", [
                ("    A1 = sigmoid_forward(Z1)\n", "    A1 = sigmoid_forwrd(Z1)\n")],
            also=("predict", "train"), msg=("not judged: fix `forward` first",)),
    planted("forward_bias_added_to_weights", "forward",
            "the bias added to the weights of layer 1: predict and train use this forward "
            "correctly; only train's end-to-end tests (accuracy, lr = 10) may fail", [
                ('    Z1 = linear_forward(X, params["W1"], params["b1"])\n',
                 '    Z1 = linear_forward(X, params["W1"] + params["b1"][:, None], params["b1"])\n')],
            also=("train",), msg=("end to end: depends on every function above",)),
]
