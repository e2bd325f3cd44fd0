"""Every check fails on the mistake it targets, with feedback that names it.

Each variant is the reference with ONE snippet replaced (the snippet must
occur exactly once). It runs through the real sandboxed Student, and only
the tests of the functions it concerns run. For each variant:
- every key of `fails` fails, and the output of the first one matches `says`;
- with `only=True`, no other test of those functions fails (the check is
  specific: e.g. an in-place update costs the "unchanged" test only);
- keys of `passes` pass (e.g. a consistent backward of a wrong forward keeps
  its gradient points);
- every failing test names its function; hidden tests leak no inputs.
"""
import re

import pytest

from autograder.checks.reference import reference_source
from autograder.suites import graded, harness

Student = pytest.importorskip("autograder.sandbox.student").Student

REF = reference_source()

SIG_BODY = ("    E = np.exp(-np.abs(Z))\n"
            "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))")
SIG_BWD = "    return dA * A * (1.0 - A)"
SM_SHIFT = "    shifted = Z - Z.max(axis=1, keepdims=True)"
SM_RET = "    return E / E.sum(axis=1, keepdims=True)"
CE_LOG = "    log_P = np.log(np.clip(P, np.finfo(np.float64).tiny, None))"
CE_RET = "    return float(-(Y * log_P).sum() / P.shape[0])"
SCE_RET = "    return (P - Y) / P.shape[0]"
XAVIER = "        return rng.uniform(-limit, limit, size=(fan_out, fan_in))"
FWD_RET = '    return P, {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": P}'
FWD_Z1 = '    Z1 = linear_forward(X, params["W1"], params["b1"])'
BWD_DZ2 = '    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)'
BWD_DZ1 = '    dZ1 = sigmoid_backward(dA1, cache["A1"])'
BWD_RET = '    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}'
SGD_RET = "    return {name: value - lr * grads[name] for name, value in params.items()}"
PRED_RET = "    return np.argmax(P, axis=1)"
TRAIN_LOOP = "        for start in range(0, n_train, batch_size):"
TRAIN_ORDER = "        order = rng.permutation(n_train)"
TRAIN_STEP = "            params = sgd_step(params, grads, lr)"


class Bug:
    def __init__(self, name, functions, replacements, fails, says=None, only=False,
                 passes=()):
        self.name, self.functions = name, functions
        self.replacements, self.fails = replacements, fails
        self.says, self.only, self.passes = says, only, passes

    def __repr__(self):
        return self.name


BUGS = [
    # one_hot
    Bug("one_hot width from the labels", ["one_hot"],
        [("    Y = np.zeros((y.shape[0], num_classes))",
          "    Y = np.zeros((y.shape[0], y.max() + 1))")],
        ["one_hot.values", "one_hot.shape"], "num_classes"),
    Bug("one_hot of integer dtype", ["one_hot"],
        [("    Y = np.zeros((y.shape[0], num_classes))",
          "    Y = np.zeros((y.shape[0], num_classes), dtype=int)")],
        # the dtype hint, and not the one about the number of columns
        ["one_hot.shape"], r"^(?!.*largest label).*right shape but dtype int64", only=True),
    Bug("one_hot loop", ["one_hot"],
        [("    Y[np.arange(y.shape[0]), y] = 1.0",
          "    for n in range(y.shape[0]):\n        Y[n, y[n]] = 1.0")],
        ["one_hot.vectorized"], r"line \d+, in `one_hot`: a `for` loop", only=True),
    # linear_forward
    Bug("linear_forward bias missing", ["linear_forward"],
        [("    return X @ W.T + b\n", "    return X @ W.T\n")],
        ["linear_forward.values"], "bias b is not added", only=True),
    Bug("linear_forward bias on the wrong axis", ["linear_forward"],
        [("    return X @ W.T + b\n", "    return X @ W.T + b[:, None]\n")],
        ["linear_forward.shape", "linear_forward.values"], "wrong axis"),
    Bug("linear_forward bias on the wrong axis, silent when N == K", ["linear_forward"],
        [("    return X @ W.T + b\n", "    try:\n        return X @ W.T + b[:, None]\n"
                                     "    except ValueError:\n        return X @ W.T + b\n")],
        ["linear_forward.shape"], "silent broadcast.*each column instead of each row",
        only=True),
    Bug("linear_forward comprehension over rows", ["linear_forward"],
        [("    return X @ W.T + b\n", "    return np.array([W @ x + b for x in X])\n")],
        ["linear_forward.vectorized"], "list comprehension", only=True),
    # linear_backward
    Bug("dW transposed", ["linear_backward"], [("    dW = dZ.T @ X", "    dW = X.T @ dZ")],
        ["linear_backward.shape", "linear_backward.values", "linear_backward.gradient"],
        "dW is transposed"),
    Bug("db per example", ["linear_backward"], [("    db = dZ.sum(axis=0)", "    db = dZ")],
        ["linear_backward.shape", "linear_backward.gradient"], "one row per example"),
    Bug("db over the wrong axis", ["linear_backward"],
        [("    db = dZ.sum(axis=0)", "    db = dZ.sum(axis=1)")],
        ["linear_backward.shape", "linear_backward.values"], "wrong axis"),
    Bug("db over the wrong axis, silent when N == K", ["linear_backward"],
        [("    db = dZ.sum(axis=0)", "    db = dZ.sum(axis=1) if dZ.shape[0] == dZ.shape[1] "
                                  "else dZ.sum(axis=0)")],
        ["linear_backward.shape"], "wrong axis", only=True),
    Bug("db averaged", ["linear_backward"], [("    db = dZ.sum(axis=0)", "    db = dZ.mean(axis=0)")],
        ["linear_backward.gradient", "linear_backward.values", "linear_backward.hidden_values"],
        "averaged over the batch", only=True),
    Bug("dX divided by N", ["linear_backward"],
        [("    dX = dZ @ W\n", "    dX = dZ @ W / dZ.shape[0]\n")],
        ["linear_backward.gradient", "linear_backward.values", "linear_backward.hidden_values"],
        "divided by N", only=True),
    Bug("linear_backward writes into b", ["linear_backward"],
        [("    db = dZ.sum(axis=0)\n", "    db = dZ.sum(axis=0)\n    b[...] = 0.0\n")],
        ["linear_backward.unchanged"], "`b`", only=True),
    Bug("linear_backward loop for db", ["linear_backward"],
        [("    db = dZ.sum(axis=0)\n",
          "    db = np.zeros(dZ.shape[1])\n    for row in dZ:\n        db = db + row\n")],
        ["linear_backward.vectorized"], "`for` loop", only=True),
    # sigmoid_forward
    Bug("sigmoid overflows", ["sigmoid_forward"],
        [(SIG_BODY, "    return 1.0 / (1.0 + np.exp(-Z))")],
        ["sigmoid_forward.stability"], "overflow", only=True),
    Bug("sigmoid nan for large Z", ["sigmoid_forward"],
        [(SIG_BODY, "    return np.exp(Z) / (1.0 + np.exp(Z))")],
        ["sigmoid_forward.stability"], "nan", only=True),
    Bug("sigmoid of -Z", ["sigmoid_forward"],
        [(SIG_BODY, "    E = np.exp(-np.abs(Z))\n"
                    "    return np.where(Z < 0, 1.0 / (1.0 + E), E / (1.0 + E))")],
        ["sigmoid_forward.values", "sigmoid_forward.stability"], "sigmoid of -Z"),
    Bug("sigmoid negates Z in place", ["sigmoid_forward"],
        [(SIG_BODY, "    np.negative(Z, out=Z)\n    Z = -Z\n" + SIG_BODY)],
        ["sigmoid_forward.unchanged"], "`Z`", only=True),
    Bug("sigmoid with np.vectorize", ["sigmoid_forward"],
        [(SIG_BODY, "    return np.vectorize(lambda z: 1.0 / (1.0 + np.exp(-z)) if z >= 0 "
                    "else np.exp(z) / (1.0 + np.exp(z)))(Z)")],
        ["sigmoid_forward.vectorized"], "np.vectorize", only=True),
    Bug("sigmoid loop hidden from the step counter in exec", ["sigmoid_forward"],
        [(SIG_BODY, "    A = np.empty(np.shape(Z))\n    Zf = np.asarray(Z, dtype=float)\n"
                    "    exec('for i in range(A.size):\\n    z = Zf.flat[i]\\n"
                    "    A.flat[i] = 1 / (1 + np.exp(-z)) if z >= 0 else np.exp(z) / (1 + np.exp(z))',"
                    " {'A': A, 'Zf': Zf, 'np': np})\n    return A")],
        ["sigmoid_forward.vectorized"], r"\bexec\b", only=True),
    # sigmoid_backward
    Bug("sigmoid derivative of Z", ["sigmoid_backward"],
        [(SIG_BWD, "    S = 1.0 / (1.0 + np.exp(-A))\n    return dA * S * (1.0 - S)")],
        ["sigmoid_backward.gradient", "sigmoid_backward.values",
         "sigmoid_backward.hidden_values", "sigmoid_backward.stability"], "taken of Z",
        only=True),
    Bug("sigmoid upstream gradient dropped", ["sigmoid_backward"],
        [(SIG_BWD, "    return A * (1.0 - A)")],
        ["sigmoid_backward.gradient", "sigmoid_backward.values",
         "sigmoid_backward.hidden_values", "sigmoid_backward.stability"], "dA is dropped",
        only=True),
    Bug("sigmoid_backward recovers Z with a log", ["sigmoid_backward"],
        [(SIG_BWD, "    Z = -np.log(1.0 / A - 1.0)\n    E = np.exp(-Z)\n"
                   "    return dA * E / (1.0 + E) ** 2")],
        ["sigmoid_backward.stability"], r"nan.*A exactly 0 or 1", only=True),
    Bug("sigmoid_backward divides by A and 1 - A", ["sigmoid_backward"],
        [(SIG_BWD, "    return dA / (1.0 / A + 1.0 / (1.0 - A))")],
        ["sigmoid_backward.stability"], r"division by zero.*divide by zero encountered",
        only=True),
    Bug("sigmoid_backward in place", ["sigmoid_backward"],
        [(SIG_BWD, "    dA *= A * (1.0 - A)\n    return dA")],
        ["sigmoid_backward.unchanged"], "`dA`", only=True),
    Bug("wrong sigmoid with a consistent backward", ["sigmoid_forward", "sigmoid_backward"],
        [(SIG_BODY, "    Z = 2.0 * Z\n" + SIG_BODY), (SIG_BWD, "    return 2.0 * dA * A * (1.0 - A)")],
        ["sigmoid_forward.values", "sigmoid_backward.values"],
        passes=["sigmoid_backward.gradient"]),
    Bug("wrong sigmoid with the right backward", ["sigmoid_forward", "sigmoid_backward"],
        [(SIG_BODY, "    Z = 2.0 * Z\n" + SIG_BODY)],
        ["sigmoid_forward.values"], passes=["sigmoid_backward.gradient",
                                            "sigmoid_backward.values"]),
    # softmax
    Bug("softmax without keepdims", ["softmax"],
        [(SM_RET, "    return E / E.sum(axis=1)")],
        ["softmax.shape", "softmax.values", "softmax.stability"], "keepdims"),
    Bug("softmax without keepdims, silent when N == K", ["softmax"],
        [(SM_RET, "    S = E.sum(axis=1)\n    try:\n        return E / S\n"
                  "    except ValueError:\n        return E / S[:, None]")],
        ["softmax.shape", "softmax.hidden_values", "softmax.stability"], "keepdims",
        only=True),
    Bug("softmax rows not normalized", ["softmax"],
        [(SM_RET, "    return E / (E.sum(axis=1, keepdims=True) + 1.0)")],
        ["softmax.values"], "do not sum to 1"),
    Bug("softmax over columns", ["softmax"],
        [(SM_SHIFT, "    shifted = Z - Z.max(axis=0, keepdims=True)"),
         (SM_RET, "    return E / E.sum(axis=0, keepdims=True)")],
        ["softmax.values", "softmax.hidden_values"], "COLUMN"),
    Bug("softmax without the max shift", ["softmax"], [(SM_SHIFT, "    shifted = Z")],
        ["softmax.stability"], "subtract each row's maximum", only=True),
    Bug("softmax shifted by the global max", ["softmax"],
        [(SM_SHIFT, "    shifted = Z - Z.max()")],
        ["softmax.stability"], "nan", only=True),
    Bug("softmax shifts Z in place", ["softmax"],
        [(SM_SHIFT, "    Z -= Z.max(axis=1, keepdims=True)\n    shifted = Z")],
        ["softmax.unchanged"], r"Z -= Z\.max", only=True),
    Bug("softmax loop over rows", ["softmax"],
        [(SM_RET, "    return np.array([e / e.sum() for e in E])")],
        ["softmax.vectorized"], "list comprehension", only=True),
    # cross_entropy
    Bug("cross-entropy summed", ["cross_entropy"], [(CE_RET, "    return float(-(Y * log_P).sum())")],
        ["cross_entropy.values", "cross_entropy.hidden_values", "cross_entropy.stability"],
        "SUMMED"),
    Bug("cross-entropy averaged over N*K", ["cross_entropy"],
        [(CE_RET, "    return float(-(Y * log_P).mean())")],
        ["cross_entropy.values"], r"N\*K"),
    Bug("cross-entropy log of zero", ["cross_entropy"], [(CE_LOG, "    log_P = np.log(P)")],
        ["cross_entropy.stability"], r"log\(0\)", only=True),
    Bug("cross-entropy of the true class without a clip", ["cross_entropy"],
        [(CE_LOG + "\n" + CE_RET,
          "    picked = P[np.arange(P.shape[0]), np.argmax(Y, axis=1)]\n"
          "    return float(-np.log(picked).mean())")],
        # it already takes only the true class's log: the advice is the clip alone
        ["cross_entropy.stability"], r"^(?!.*only the log of the true class).*clip P away from 0",
        only=True),
    Bug("cross-entropy clips in place", ["cross_entropy"],
        [(CE_LOG, "    log_P = np.log(np.clip(P, 1e-12, None, out=P))")],
        ["cross_entropy.unchanged"], "`P`", only=True),
    Bug("cross-entropy loop over rows", ["cross_entropy"],
        [(CE_RET, "    total = 0.0\n    for n in range(P.shape[0]):\n"
                  "        total -= (Y[n] * log_P[n]).sum()\n    return float(total / P.shape[0])")],
        ["cross_entropy.vectorized"], "`for` loop", only=True),
    # softmax_cross_entropy_backward
    Bug("softmax-CE gradient without 1/N", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    return P - Y")],
        ["softmax_cross_entropy_backward.gradient", "softmax_cross_entropy_backward.values",
         "softmax_cross_entropy_backward.hidden_values",
         "softmax_cross_entropy_backward.stability"], "1/N", only=True),
    Bug("softmax-CE gradient through dJ/dP", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    dP = -Y / (P * P.shape[0])\n"
                   "    return P * (dP - (dP * P).sum(axis=1, keepdims=True))")],
        ["softmax_cross_entropy_backward.stability"], r"nan.*where P is exactly 0", only=True),
    Bug("softmax-CE gradient through dJ/dP, nan_to_num", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    dP = -Y / (P * P.shape[0])\n"
                   "    return np.nan_to_num(P * (dP - (dP * P).sum(axis=1, keepdims=True)))")],
        ["softmax_cross_entropy_backward.stability"], r"is wrong.*where P is exactly 0",
        only=True),
    Bug("softmax-CE gradient over K", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    return (P - Y) / P.shape[1]")],
        ["softmax_cross_entropy_backward.values", "softmax_cross_entropy_backward.gradient"],
        r"K \(the number of classes\)"),
    Bug("softmax-CE gradient divided by N twice", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    return (P - Y) / P.shape[0] ** 2")],
        ["softmax_cross_entropy_backward.gradient", "softmax_cross_entropy_backward.values"],
        "applied twice"),
    Bug("softmax-CE gradient with the sign flipped", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    return (Y - P) / P.shape[0]")],
        ["softmax_cross_entropy_backward.gradient", "softmax_cross_entropy_backward.values"],
        "sign is flipped"),
    Bug("softmax-CE gradient in place", ["softmax_cross_entropy_backward"],
        [(SCE_RET, "    P -= Y\n    return P / P.shape[0]")],
        ["softmax_cross_entropy_backward.unchanged"], "`P`", only=True),
    Bug("summed loss with a consistent gradient",
        ["cross_entropy", "softmax_cross_entropy_backward"],
        [(CE_RET, "    return float(-(Y * log_P).sum())"), (SCE_RET, "    return P - Y")],
        ["cross_entropy.values", "softmax_cross_entropy_backward.values"],
        passes=["softmax_cross_entropy_backward.gradient"]),
    # init_params
    Bug("init with zeros", ["init_params"], [(XAVIER, "        return np.zeros((fan_out, fan_in))")],
        ["init_params.values"], "identical weights"),
    Bug("init too large", ["init_params"],
        [(XAVIER, "        return rng.normal(0.0, 1.0, size=(fan_out, fan_in))")],
        ["init_params.values"], "too large", only=True),
    Bug("init with nonzero biases", ["init_params"],
        [('        "b1": np.zeros(n_hidden),', '        "b1": np.full(n_hidden, 0.1),')],
        ["init_params.values"], "biases must start at zero", only=True),
    Bug("init ignores the seed", ["init_params"],
        [("    rng = np.random.default_rng(seed)\n\n    def xavier",
          "    rng = np.random.default_rng()\n\n    def xavier")],
        ["init_params.seeded"], "same seed", only=True),
    Bug("init loops over units", ["init_params"],
        [(XAVIER, "        rows = []\n        for _ in range(fan_out):\n"
                  "            rows.append(rng.uniform(-limit, limit, size=fan_in))\n"
                  "        return np.array(rows)")],
        ["init_params.vectorized"], "grew", only=True),
    # forward
    Bug("forward caches Z1 as A1", ["forward"],
        [(FWD_RET, '    return P, {"X": X, "Z1": Z1, "A1": Z1, "Z2": Z2, "P": P}')],
        ["forward.values", "forward.hidden_values"], "holds Z1", only=True),
    Bug("forward reads remembered parameters", ["forward"],
        [("import numpy as np\n", "import numpy as np\n_SEEN = {}\n"),
         (FWD_Z1, '    params = _SEEN.setdefault(params["W1"].shape, params)\n' + FWD_Z1)],
        ["forward.values"], "did not change when `params` changed"),
    Bug("forward adds a key to params", ["forward"],
        [(FWD_Z1, '    params["n_layers"] = 2\n' + FWD_Z1)],
        ["forward.unchanged"], "params", only=True),
    Bug("forward loops over examples", ["forward"],
        [(FWD_Z1, '    Z1 = np.array([linear_forward(x[None, :], params["W1"], params["b1"])[0] '
                  'for x in X])')],
        ["forward.vectorized"], "grew", only=True),
    # backward
    Bug("backward with a summed loss", ["backward"], [(BWD_DZ2, '    dZ2 = cache["P"] - Y')],
        ["backward.gradient", "backward.values", "backward.hidden_values"],
        "1/N of the MEAN loss is missing", only=True),
    Bug("backward sigmoid derivative of Z1", ["backward"],
        [(BWD_DZ1, '    dZ1 = sigmoid_backward(dA1, cache["Z1"])')],
        ["backward.gradient", "backward.values"], "taken of Z1"),
    Bug("backward drops the upstream gradient", ["backward"],
        [(BWD_DZ1, '    dZ1 = cache["A1"] * (1.0 - cache["A1"])')],
        ["backward.gradient", "backward.values"], "upstream gradient is dropped"),
    Bug("backward db1 per example", ["backward"], [("    db1 = dZ1.sum(axis=0)", "    db1 = dZ1")],
        ["backward.shape", "backward.gradient"], "one row per example"),
    Bug("backward dW1 transposed", ["backward"],
        [('    dW1 = dZ1.T @ cache["X"]', '    dW1 = cache["X"].T @ dZ1')],
        ["backward.shape", "backward.gradient"], "transposed"),
    Bug("backward accumulates across calls", ["backward"],
        [("import numpy as np\n", "import numpy as np\n_ACC = {}\n"),
         (BWD_RET, '    grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}\n'
                   '    for k in grads:\n'
                   '        if k in _ACC and _ACC[k].shape == grads[k].shape:\n'
                   '            grads[k] = grads[k] + _ACC[k]\n'
                   '        _ACC[k] = grads[k]\n'
                   '    return grads')],
        ["backward.twice"], "accumulate"),
    Bug("backward writes into the cache", ["backward"],
        [(BWD_DZ2, BWD_DZ2 + '\n    cache["P"] -= Y')],
        ["backward.unchanged"], r"cache\['P'\]", only=True),
    Bug("backward loops over examples", ["backward"],
        [("    db1 = dZ1.sum(axis=0)",
          "    db1 = np.zeros(dZ1.shape[1])\n    for row in dZ1:\n        db1 = db1 + row")],
        ["backward.vectorized"], "grew", only=True),
    Bug("forward without b2 and the right backward", ["forward", "backward"],
        [('    Z2 = linear_forward(A1, params["W2"], params["b2"])',
          '    Z2 = linear_forward(A1, params["W2"], 0.0 * params["b2"])')],
        ["forward.values"], passes=["backward.gradient", "backward.values"]),
    # sgd_step
    Bug("biases never updated", ["sgd_step"],
        [(SGD_RET, '    return {name: (value - lr * grads[name]) if name.startswith("W") else value\n'
                   '            for name, value in params.items()}')],
        ["sgd_step.values"], "biases never learn", only=True),
    Bug("sgd_step climbs", ["sgd_step"],
        [(SGD_RET, "    return {name: value + lr * grads[name] for name, value in params.items()}")],
        ["sgd_step.values"], "UP the gradient", only=True),
    Bug("sgd_step in place", ["sgd_step"],
        [(SGD_RET, "    for name in params:\n        params[name] -= lr * grads[name]\n"
                   "    return params")],
        ["sgd_step.unchanged"], "in place", only=True),
    Bug("sgd_step in place: train's inputs change, charged to sgd_step", ["sgd_step", "train"],
        [(SGD_RET, "    for name in params:\n        params[name] -= lr * grads[name]\n"
                   "    return params")],
        ["sgd_step.unchanged"], "in place", only=True),
    Bug("sgd_step returns None after updating in place: train relying on it keeps its points",
        ["sgd_step", "train"],
        [(SGD_RET, "    for name in params:\n        params[name] -= lr * grads[name]"),
         (TRAIN_STEP, "            sgd_step(params, grads, lr)"),
         ("    rng = np.random.default_rng(seed)\n    n_classes",
          "    params = {k: v.copy() for k, v in params.items()}\n"
          "    rng = np.random.default_rng(seed)\n    n_classes")],
        ["sgd_step.values"], passes=["train.history", "train.small_set", "train.update_count",
                                     "train.each_example_once", "train.aligned",
                                     "train.seeded", "train.unchanged"]),
    Bug("sgd_step with np.vectorize", ["sgd_step"],
        [(SGD_RET, "    step = np.vectorize(lambda v, g: v - lr * g)\n"
                   "    return {name: step(value, grads[name]) for name, value in params.items()}")],
        ["sgd_step.vectorized"], "np.vectorize", only=True),
    # predict
    Bug("predict over axis 0", ["predict"], [(PRED_RET, "    return np.argmax(P, axis=0)")],
        ["predict.shape", "predict.values"], "axis 0"),
    Bug("predict returns probabilities", ["predict"], [(PRED_RET, "    return P")],
        ["predict.shape"], "probabilities"),
    Bug("predict returns floats", ["predict"],
        [(PRED_RET, "    return np.argmax(P, axis=1).astype(float)")],
        ["predict.shape"], "integer", only=True),
    Bug("predict loops over rows", ["predict"],
        [(PRED_RET, "    return np.array([int(np.argmax(p)) for p in P])")],
        ["predict.vectorized"], "list comprehension", only=True),
    Bug("predict takes the argmin, forward is wrong too: predict judged on its own",
        ["forward", "predict"],
        [(FWD_Z1, '    Z1 = linear_forward(X, params["W1"] + params["b1"][:, None], '
                  'params["b1"])'), (PRED_RET, "    return np.argmin(P, axis=1)")],
        ["predict.values", "forward.values"], "argmin"),
    # train
    Bug("train drops the last partial batch", ["train"],
        [(TRAIN_LOOP, "        for start in range(0, n_train - batch_size + 1, batch_size):")],
        ["train.small_set", "train.update_count"], "dropped", only=True),
    Bug("train shuffles labels apart from inputs", ["train"],
        [("            grads = backward(params, cache, Y_train[batch])",
          "            grads = backward(params, cache, "
          "Y_train[rng.permutation(n_train)[start:start + batch_size]])")],
        ["train.aligned", "train.accuracy"], "not shuffled together"),
    Bug("train never shuffles", ["train"], [(TRAIN_ORDER, "        order = np.arange(n_train)")],
        ["train.seeded"], "not shuffled", only=True),
    Bug("train ignores the seed", ["train"],
        [("    rng = np.random.default_rng(seed)\n    n_classes",
          "    rng = np.random.default_rng()\n    n_classes")],
        ["train.seeded"], "same seed", only=True),
    Bug("train history on part of the set", ["train"],
        [("            loss, acc = evaluate(X, y, Y)",
          "            loss, acc = evaluate(X[:batch_size], y[:batch_size], Y[:batch_size])")],
        ["train.history"], "FULL", only=True),
    Bug("train sums the minibatch loss", ["train"],
        [(TRAIN_STEP, "            params = sgd_step(params, {k: g * len(batch) for k, g in "
                      "grads.items()}, lr)")],
        ["train.small_set", "train.each_example_once"], "not what its own calls produce"),
    Bug("train samples with replacement", ["train"],
        [(TRAIN_ORDER, "        order = rng.integers(0, n_train, size=n_train)")],
        ["train.each_example_once"], "permutation"),
    Bug("train treats seed 0 as no seed", ["train"],
        [("    rng = np.random.default_rng(seed)\n    n_classes",
          "    rng = np.random.default_rng(seed) if seed else np.random.default_rng()\n"
          "    n_classes")],
        ["train.seeded"], "same seed", only=True),
    Bug("train updates without sgd_step", ["train"],
        [(TRAIN_STEP, "            params = {k: params[k] - lr * grads[k] for k in params}")],
        [], passes=["train.history", "train.small_set", "train.update_count",
                    "train.each_example_once", "train.aligned", "train.seeded"]),
    # a mistake in a function train and predict call is charged there only
    Bug("forward crashes: predict and train not judged", ["forward", "predict", "train"],
        [("    A1 = sigmoid_forward(Z1)", "    A1 = sigmoid_forwrd(Z1)")],
        ["predict.values", "train.history", "train.small_set", "train.seeded"],
        r"not judged: fix `forward` first"),
    Bug("forward adds the bias to the weights: predict and train still pass",
        ["forward", "predict", "train"],
        [(FWD_Z1, '    Z1 = linear_forward(X, params["W1"] + params["b1"][:, None], '
                  'params["b1"])')],
        ["forward.values"], passes=["predict.shape", "predict.values", "train.history",
                                    "train.small_set", "train.update_count",
                                    "train.each_example_once", "train.aligned",
                                    "train.seeded", "train.unchanged"]),
    Bug("sgd_step climbs: train still passes", ["sgd_step", "train"],
        [(SGD_RET, "    return {name: value + lr * grads[name] for name, value in params.items()}")],
        ["sgd_step.values"], passes=["train.history", "train.small_set", "train.update_count",
                                     "train.each_example_once", "train.aligned",
                                     "train.seeded"]),
    Bug("train returns its initial parameters (nudged) with their true history", ["train"],
        [("    rng = np.random.default_rng(seed)\n    n_classes",
          "    initial = params\n    rng = np.random.default_rng(seed)\n    n_classes"),
         ("    return params, history",
          "    params = {k: v + 1e-12 for k, v in initial.items()}\n"
          '    for split, X, y, Y in (("train", X_train, y_train, Y_train),\n'
          '                           ("val", X_val, y_val, Y_val)):\n'
          "        loss, acc = evaluate(X, y, Y)\n"
          '        history[split + "_loss"] = [loss] * epochs\n'
          '        history[split + "_acc"] = [acc] * epochs\n'
          "    return params, history")],
        ["train.history", "train.update_count"], "hardly differ"),
    Bug("train ignores the learning rate", ["train"],
        [(TRAIN_STEP, "            params = sgd_step(params, grads, 0.02)")],
        ["train.each_example_once", "train.accuracy"], "learning rate `lr` as given",
        passes=["train.lr10"]),
]


# Functions whose tests call only functions of the same group: bugs in different
# groups can share one submission (one worker start instead of several).
GROUPS = [{"one_hot"}, {"linear_forward", "linear_backward"},
          {"sigmoid_forward", "sigmoid_backward"},
          {"softmax", "cross_entropy", "softmax_cross_entropy_backward"},
          {"init_params"}, {"sgd_step"}]
SLOW = {"train.accuracy", "train.lr10"}


def group_of(bug):
    for index, group in enumerate(GROUPS):
        if set(bug.functions) <= group:
            return index
    return None


def bundles(bugs):
    """Lists of bugs that can be graded in one submission."""
    out, open_bundles = [], []
    for bug in bugs:
        g = group_of(bug)
        if g is None:
            out.append([bug])
            continue
        for bundle in open_bundles:
            if g not in {group_of(b) for b in bundle}:
                bundle.append(bug)
                break
        else:
            open_bundles.append([bug])
    return out + open_bundles


BUNDLE_OF = {}
for _bundle in bundles(BUGS):
    for _bug in _bundle:
        BUNDLE_OF[_bug.name] = _bundle
_RESULTS = {}


@pytest.fixture(scope="module", autouse=True)
def reference_worker():
    proxy = Student(REF, graded.CONFIG)
    graded.set_reference_student(proxy)
    yield proxy
    graded.set_reference_student(None)
    proxy.close()


def keys_for(bug):
    """The tests a bug is judged on: its functions' tests, minus the slow
    end-to-end ones unless the bug names them."""
    named = set(bug.fails) | set(bug.passes)
    return {key for key, entry in graded.TESTS.items()
            if entry["function"] in bug.functions and (key not in SLOW or key in named)}


def results_of(bug):
    bundle = BUNDLE_OF[bug.name]
    key = id(bundle)
    if key not in _RESULTS:
        source = harness.mutate(REF, *[r for b in bundle for r in b.replacements])
        proxy = Student(source, graded.CONFIG)
        try:
            _RESULTS[key] = harness.run(proxy, keys=set().union(*map(keys_for, bundle)))
        finally:
            proxy.close()
    return {k: v for k, v in _RESULTS[key].items() if k in keys_for(bug)}


def test_bundles_do_not_mix_groups():
    for bundle in bundles(BUGS):
        groups = [group_of(b) for b in bundle]
        assert len(bundle) == 1 or len(set(groups)) == len(groups)


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_each_check_fails_on_its_mistake(bug):
    results = results_of(bug)
    crashed = {key: r["check_error"] for key, r in results.items() if "check_error" in r}
    assert not crashed, crashed
    failed = {key for key, r in results.items() if r["status"] == "failed"}
    report = "\n\n".join(f"{key}:\n{results[key].get('output', '')}" for key in sorted(failed))
    for key in bug.fails:
        assert key in failed, f"{key} passed\n{report}"
    if bug.says:
        assert re.search(bug.says, results[bug.fails[0]]["output"], re.S), report
    if bug.only:
        # A test that requires a failed one (config.json `requires`) is withheld
        # by the gates anyway (the vectorized test of a function with wrong
        # values also fails the timing backstop's value check): same function.
        gated = {key for key in failed if set(graded.TESTS[key].get("requires", ())) & failed}
        assert failed - gated == set(bug.fails), report
    for key in bug.passes:
        assert results[key]["status"] == "passed", report
    for key in failed:
        entry, output = graded.TESTS[key], results[key]["output"]
        assert entry["function"] in output, (key, output)
        if entry["visibility"] != "visible":
            for leak in ("- inputs:", "- expected", "- got", "- call:", "```"):
                assert leak not in output, (key, output)
        elif "is wrong (relative error" in output:
            for part in ("- inputs:", "- expected", "- got"):
                assert part in output, (key, output)
