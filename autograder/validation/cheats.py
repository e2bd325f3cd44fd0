"""Cheats: submissions that try to earn points without working code.

A cheat that tries to earn points without working code must score no more
than the all-zeros submission (`at_most`); one that hides a loop or a
shortcut in otherwise working code must lose exactly the test it games.
"""
from autograder.validation.model import Entry, at_most  # noqa: F401  (used by entries)

# Zeros of the documented shape and dtype for every graded function: no
# function computes anything. Loop-free, leaves its arguments alone, the same
# for any seed: exactly what the structural tests look at.
SHAPED_ZEROS = b'''"""Every graded function returns zeros of its documented shape."""
import numpy as np


def one_hot(y, num_classes):
    return np.zeros((np.shape(y)[0], num_classes))


def linear_forward(X, W, b):
    return np.zeros((X.shape[0], W.shape[0]))


def linear_backward(dZ, X, W, b):
    return np.zeros(X.shape), np.zeros(W.shape), np.zeros(b.shape)


def sigmoid_forward(Z):
    return np.zeros(np.shape(Z))


def sigmoid_backward(dA, A):
    return np.zeros(np.shape(A))


def softmax(Z):
    return np.zeros(Z.shape)


def cross_entropy(P, Y):
    return 0.0


def softmax_cross_entropy_backward(P, Y):
    return np.zeros(P.shape)


def init_params(n_input, n_hidden, n_output, seed=0):
    return {"W1": np.zeros((n_hidden, n_input)), "b1": np.zeros(n_hidden),
            "W2": np.zeros((n_output, n_hidden)), "b2": np.zeros(n_output)}


def _zeros_like(params):
    return {name: np.zeros(np.shape(value)) for name, value in params.items()}


def forward(params, X):
    N, H, K = X.shape[0], params["W1"].shape[0], params["W2"].shape[0]
    cache = {"X": np.zeros(X.shape), "Z1": np.zeros((N, H)), "A1": np.zeros((N, H)),
             "Z2": np.zeros((N, K)), "P": np.zeros((N, K))}
    return np.zeros((N, K)), cache


def backward(params, cache, Y):
    return _zeros_like(params)


def sgd_step(params, grads, lr):
    return _zeros_like(params)


def predict(params, X):
    return np.zeros(X.shape[0], dtype=np.int64)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    history = {key: [0.0] * epochs for key in ("train_loss", "train_acc", "val_loss", "val_acc")}
    return _zeros_like(params), history
'''

# The forwards are constants (they ignore their inputs), so their numeric
# gradient is zero and an all-zero backward agrees with it exactly: the
# gradient checks must judge such a backward against the exact gradient.
CONSTANT_FORWARD_ZERO_BACKWARD = SHAPED_ZEROS.replace(b'''def sigmoid_forward(Z):
    return np.zeros(np.shape(Z))
''', b'''def sigmoid_forward(Z):
    return np.full(np.shape(Z), 0.5)
''').replace(b'''def softmax(Z):
    return np.zeros(Z.shape)
''', b'''def softmax(Z):
    return np.full(Z.shape, 1.0 / Z.shape[1])
''').replace(b'''def cross_entropy(P, Y):
    return 0.0
''', b'''def cross_entropy(P, Y):
    return float(np.log(P.shape[1]))
''').replace(b'''    return np.zeros((N, K)), cache
''', b'''    cache["A1"] = np.full((N, H), 0.5)
    cache["P"] = np.full((N, K), 1.0 / K)
    return cache["P"], cache
''').replace(b'''"""Every graded function returns zeros of its documented shape."""''',
             b'''"""Constant forwards and all-zero backwards."""''')

CHEATS = [
    Entry(name="shaped_zeros", kind="cheat", base="raw", raw=SHAPED_ZEROS,
          why="every function returns zeros of the documented shapes: loop-free, leaves "
              "its arguments unchanged, reproducible, and computes nothing",
          expected=at_most(10)),
    Entry(name="constant_forward_zero_backward", kind="cheat", base="raw",
          raw=CONSTANT_FORWARD_ZERO_BACKWARD,
          why="constant forwards (sigmoid 0.5, uniform softmax, loss log K) and all-zero "
              "backwards, which agree with the numeric gradient of a constant",
          expected=at_most(10)),
]


from autograder.validation.model import Expected, only  # noqa: E402


# Loops hidden from the vectorization check. Each function computes the right
# values with a Python loop; the disguise must not save its "vectorized" test,
# and nothing else may fail (the values are right).
def hidden_loop(name, function, why, expected, **kwargs):
    return Entry(name=name, kind="cheat", expected=expected, why=why, **kwargs)


CHEATS += [
    hidden_loop(
        "loop_bound_by_assignment", "one_hot",
        "a looping one_hot defined under another name and bound by assignment",
        only("one_hot", also=(), msg=r"`for` loop"),
        subs=(("def one_hot(y, num_classes):\n", "def _one_hot_rows(y, num_classes):\n"),
              ("    Y[np.arange(y.shape[0]), y] = 1.0\n",
               "    for row, label in enumerate(y):\n        Y[row, label] = 1.0\n")),
        append="one_hot = _one_hot_rows\n"),
    hidden_loop(
        "loop_compiled_from_string", "predict",
        "predict's loop over examples compiled from a string (its lines are not counted)",
        only("predict", also=(), msg=r"\bexec\b"),
        subs=(("    P, _ = forward(params, X)\n    return np.argmax(P, axis=1)\n",
               "    P, _ = forward(params, X)\n"
               "    namespace = {\"np\": np}\n"
               "    exec(\"def rows(P):\\n    return np.array([int(np.argmax(p)) for p in P])\\n\","
               " namespace)\n"
               "    return namespace[\"rows\"](P)\n"),)),
    hidden_loop(
        "graded_function_defined_by_exec", "cross_entropy",
        "cross_entropy with a loop over examples, defined at import by exec",
        Expected(loses=("cross_entropy",), message_contains=(r"\bexec\b",)),
        subs=(("def cross_entropy(P, Y):\n", "def _unused_cross_entropy(P, Y):\n"),),
        append=("exec(\"def cross_entropy(P, Y):\\n\"\n"
                "     \"    total = 0.0\\n\"\n"
                "     \"    for p, y in zip(P, Y):\\n\"\n"
                "     \"        total -= float(y @ np.log(np.clip(p, 1e-300, None)))\\n\"\n"
                "     \"    return total / P.shape[0]\\n\")\n")),
    hidden_loop(
        "tracer_switched_off", "sgd_step",
        "sgd_step loops over rows after sys.settrace(None) (no line is counted)",
        only("sgd_step", also=(), msg=r"settrace"),
        subs=(("    return {name: value - lr * grads[name] for name, value in params.items()}\n",
               "    import sys\n"
               "    sys.settrace(None)\n"
               "    new_params = {}\n"
               "    for name, value in params.items():\n"
               "        rows = [v - lr * g for v, g in zip(value, grads[name])]\n"
               "        new_params[name] = np.array(rows).reshape(value.shape)\n"
               "    return new_params\n"),)),
    hidden_loop(
        "loop_in_a_thread", "init_params",
        "init_params draws W row by row in a thread (threads are not traced)",
        only("init_params", also=(), msg=r"threading"),
        subs=(("        return rng.uniform(-limit, limit, size=(fan_out, fan_in))\n",
               "        import threading\n"
               "        rows = []\n"
               "        worker = threading.Thread(target=lambda: rows.extend(\n"
               "            rng.uniform(-limit, limit, size=fan_in) for _ in range(fan_out)))\n"
               "        worker.start()\n"
               "        worker.join()\n"
               "        return np.array(rows).reshape(fan_out, fan_in)\n"),)),
    hidden_loop(
        "return_at_once_on_huge_inputs", "backward",
        "backward loops over examples, and returns zeros at once on the timing inputs",
        only("backward", also=(), msg=r"grew from"),
        subs=(('    dW1 = dZ1.T @ cache["X"]\n',
               "    if Y.shape[0] > 5000:  # only the grader's timing inputs are this large\n"
               "        return {name: np.zeros_like(value) for name, value in params.items()}\n"
               '    dW1 = np.zeros_like(params["W1"])\n'
               '    for dz, x in zip(dZ1, cache["X"]):\n'
               "        dW1 += np.outer(dz, x)\n"),)),
]
