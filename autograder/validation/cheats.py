"""Cheats: submissions that try to earn points without working code.

A cheat that tries to earn points without working code must score no more
than the all-zeros submission (`at_most`); one that hides a loop or a
shortcut in otherwise working code (a loop, a forged record of train's
calls, a seed that only nudges the result) must lose exactly the checks it
games (`only`).
"""
import base64
import functools
import io
import json
import textwrap

from autograder import config as registry
from autograder.validation.model import Entry, Expected, at_most, only  # noqa: F401  (used by entries)

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


# ---------------------------------------------------------------------------
# Building blocks: a submission with no working logic at all
# ---------------------------------------------------------------------------

# Every graded function returns zeros (or empties) of the documented shapes, as
# text: the base of the cheats below, which each game one kind of check on top of it.
ZEROS_BASE = SHAPED_ZEROS.decode()


def python_literal(value):
    """Source text that rebuilds value (ndarray, tuple, list, dict, number, None)."""
    import numpy as np

    if isinstance(value, np.ndarray):
        return (f"np.array({value.ravel().tolist()!r}, dtype={value.dtype.str!r})"
                f".reshape({value.shape!r})")
    if isinstance(value, tuple):
        return "(" + "".join(python_literal(item) + ", " for item in value) + ")"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key!r}: {python_literal(item)}"
                               for key, item in value.items()) + "}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    raise TypeError(f"no literal for a {type(value).__name__}")


def handout_store():
    """The recorded answers {fingerprint: value} that the students' handout ships,
    read from the handout exactly as `python -m autograder build` makes it."""
    import numpy as np

    from autograder.commands import build
    from autograder.sandbox import wire

    files = build.handout_entries()
    store = files["grader/autograder/" + build.EXPECTED_STORE]
    with np.load(io.BytesIO(store), allow_pickle=False) as archive:
        index = json.loads(archive["index"].tobytes().decode())
        # the layout autograder/grading/expected.py Replayer reads
        arrays = [archive[f"a{i}"] for i in range(len(archive.files) - 1)]
    return {key: wire.decode_value(tree, arrays) for key, tree in index.items()}


# The fingerprint of a call, as the handout's store keys it (a copy of
# autograder/grading/expected.py fingerprint: a submission cannot import it).
FINGERPRINT = '''
import copy as _copy
import hashlib as _hashlib


def _fingerprint(name, args, kwargs):
    digest = _hashlib.sha256(name.encode())

    def feed(value):
        if isinstance(value, (np.ndarray, np.generic)):
            array = np.ascontiguousarray(value)
            digest.update(f"a{array.dtype.str}{array.shape}".encode())
            digest.update(array.tobytes())
        elif isinstance(value, dict):
            digest.update(b"d")
            for key in sorted(value):
                digest.update(repr(key).encode())
                feed(value[key])
        elif isinstance(value, (list, tuple)):
            digest.update(f"l{len(value)}".encode())
            for item in value:
                feed(item)
        else:
            digest.update(f"{type(value).__name__}:{value!r}".encode())

    feed(list(args))
    feed(dict(kwargs))
    return digest.hexdigest()
'''


@functools.lru_cache(maxsize=1)
def replay_source():
    """Shaped zeros, except that every call whose fingerprint is in the
    handout's store returns the recorded answer."""
    import ast

    answers = handout_store()
    lines = [ZEROS_BASE, FINGERPRINT, "_ANSWERS = {"]
    lines += [f"    {key!r}: {python_literal(value)}," for key, value in answers.items()]
    lines.append("}\n")
    zeros = ast.parse(ZEROS_BASE)
    for node in zeros.body:
        if not isinstance(node, ast.FunctionDef) or node.name.startswith("_"):
            continue
        params = [arg.arg for arg in node.args.args]
        signature = ast.unparse(node.args)
        lines.append(textwrap.dedent(f'''
            _zero_{node.name} = {node.name}


            def {node.name}({signature}):
                key = _fingerprint({node.name!r}, ({"".join(p + ", " for p in params)}), {{}})
                if key in _ANSWERS:
                    return _copy.deepcopy(_ANSWERS[key])
                return _zero_{node.name}({", ".join(params)})
            '''))
    return "\n".join(lines).encode()


# Weights fitted offline on all 5,000 public digits (the reference's train,
# the end-to-end test's hyper-parameters, 784-64-10).
PRETRAINED_EPOCHS = 10


@functools.lru_cache(maxsize=1)
def pretrained_source():
    """Shaped zeros, except that train returns weights fitted offline on every
    public digit, whatever it is given (embedded as float32 bytes)."""
    import numpy as np

    from autograder.checks import data
    from autograder.checks.reference import reference

    ref = reference()
    X, y = data.digits()
    params, _ = ref.train(ref.init_params(784, 64, 10, 0), X, y, X[:100], y[:100], 1.0,
                          PRETRAINED_EPOCHS, 64, 0)
    blobs = {name: base64.b64encode(np.asarray(value, dtype="<f4").tobytes()).decode()
             for name, value in params.items()}
    shapes = {name: np.shape(value) for name, value in params.items()}
    text = ZEROS_BASE + textwrap.dedent(f'''
        import base64 as _base64

        _BLOBS = {blobs!r}
        _SHAPES = {shapes!r}


        def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
            fitted = {{name: np.frombuffer(_base64.b64decode(blob), dtype="<f4")
                      .astype(np.float64).reshape(_SHAPES[name])
                      for name, blob in _BLOBS.items()}}
            history = {{key: [0.0] * epochs
                       for key in ("train_loss", "train_acc", "val_loss", "val_acc")}}
            return fitted, history
        ''')
    return text.encode()


# Every call prints the tokens of all the calls it has seen (hidden tests'
# included) and fails with its own token: a visible test that runs after a
# hidden one, in the same worker, would show the hidden test's inputs.
HIDDEN_MEMORY = '''
import hashlib as _hashlib

_SEEN = []


def _token(name, args):
    digest = _hashlib.sha256(name.encode())
    for value in args:
        digest.update(repr(type(value)).encode())
        if isinstance(value, dict):
            for key in sorted(value):
                digest.update(np.ascontiguousarray(value[key]).tobytes())
        else:
            digest.update(np.ascontiguousarray(value).tobytes())
    # letters only: feedback that hides numbers must still show it
    return "".join(chr(ord("a") + int(c, 16)) for c in digest.hexdigest()[:16])


def _remember(name, args):
    token = _token(name, args)
    if _SEEN:
        print("SEEN-" + " SEEN-".join(_SEEN[-60:]))
    _SEEN.append(token)
    raise ValueError("NOW-" + token)
'''


def hidden_memory_source():
    """Every graded function remembers its inputs' token and shows all of them."""
    import ast

    lines = [ZEROS_BASE, HIDDEN_MEMORY]
    for node in ast.parse(ZEROS_BASE).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            params = [arg.arg for arg in node.args.args]
            lines.append(f"\n\ndef {node.name}({ast.unparse(node.args)}):\n"
                         f"    _remember({node.name!r}, ({''.join(p + ', ' for p in params)}))\n")
    return "\n".join(lines).encode()


CHEATS += [
    Entry("replays_handout_answers", "cheat", at_most(10),
          why="returns the answers the handout records for its self-check whenever a call's "
              "inputs match a recorded one, zeros of the right shapes otherwise",
          base="raw", raw=replay_source),
    Entry("pretrained_weights", "cheat", at_most(10),
          why="train ignores its data and returns weights fitted offline on all the public "
              "digits; every other function returns zeros of the right shapes",
          base="raw", raw=pretrained_source),
    Entry("hidden_test_memory", "cheat",
          at_most(10, visible_output_lacks_hidden=r"NOW-([a-p]{16})"),
          why="remembers the inputs of every call (a hidden test's too) and prints them in "
              "later calls: a visible test that fails after a hidden one would show them",
          base="raw", raw=hidden_memory_source()),
]


# train's structure is read from what it passes to the student's own functions
# and verified by replaying it; these try to earn train's points without the
# work the record shows, or with a seed that changes nothing that matters.
FORGED_TRAIN = '''
_REAL = (forward, backward, sgd_step, one_hot)
_train_for_show = train


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """Makes every minibatch call the grader watches, then returns other parameters:
    one full-batch step per epoch, through references taken at import."""
    _, history = _train_for_show(params, X_train, y_train, X_val, y_val, lr, epochs,
                                 batch_size, seed)
    real_forward, real_backward, real_sgd_step, real_one_hot = _REAL
    Y = real_one_hot(y_train, params["b2"].shape[0])
    for _ in range(epochs):
        _, cache = real_forward(params, X_train)
        params = real_sgd_step(params, real_backward(params, cache, Y), lr)
    return params, history
'''

REWRITTEN_RECORD = '''
_train_for_show = train


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """One full-batch step per epoch, then the grader's record (found through the
    closure of the forward it was given) rewritten to show proper minibatches."""
    Y = one_hot(y_train, params["b2"].shape[0])
    for _ in range(epochs):
        _, cache = forward(params, X_train)
        params = sgd_step(params, backward(params, cache, Y), lr)
    for cell in getattr(forward, "__closure__", None) or ():
        calls = getattr(cell.cell_contents, "calls", None)
        if isinstance(calls, list):
            fake = []
            for _ in range(epochs):
                order = np.random.default_rng(seed).permutation(len(X_train))
                for start in range(0, len(X_train), batch_size):
                    rows = order[start:start + batch_size]
                    fake.append([0, -1, X_train[rows].copy()])
                    fake.append([1, len(fake) - 1, Y[rows].copy()])
                    fake.append([2, len(fake) - 1, lr])
            calls[:] = fake
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
            P, _ = forward(params, X)
            history[split + "_loss"].append(cross_entropy(P, one_hot(y, Y.shape[1])))
            history[split + "_acc"].append(float(np.mean(np.argmax(P, axis=1) == y)))
    return params, history
'''

# Weights that did not come from the updates the grader watched: the shape of
# a cheat that undoes the secret task's permutations by matching the public
# digits and returns weights fitted offline. Here train works honestly, then,
# on the end-to-end runs only (large training sets), keeps improving the
# weights with full-batch steps it computes inline, where no call is seen.
POLISHED_UNSEEN = '''
_observed_train = train


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """The watched training, then weights made where the grader cannot see."""
    params, history = _observed_train(params, X_train, y_train, X_val, y_val, lr, epochs,
                                      batch_size, seed)
    if len(X_train) >= 1000:
        Y = np.eye(params["b2"].shape[0])[y_train]
        W1, b1, W2, b2 = (params[k].copy() for k in ("W1", "b1", "W2", "b2"))
        for _ in range(30):
            A1 = 1.0 / (1.0 + np.exp(-np.clip(X_train @ W1.T + b1, -30, 30)))
            Z2 = A1 @ W2.T + b2
            P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
            P /= P.sum(axis=1, keepdims=True)
            dZ2 = (P - Y) / len(X_train)
            dZ1 = (dZ2 @ W2) * A1 * (1.0 - A1)
            W2 -= 0.5 * dZ2.T @ A1
            b2 -= 0.5 * dZ2.sum(axis=0)
            W1 -= 0.5 * dZ1.T @ X_train
            b1 -= 0.5 * dZ1.sum(axis=0)
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    return params, history
'''

CHEATS += [
    Entry(name="weights_made_where_no_call_is_seen", kind="cheat",
          why="train makes every call a correct train makes, then, on the end-to-end runs, "
              "returns weights improved by steps it computes inline (the shape of a cheat "
              "that returns weights fitted offline): the accuracy is not credited",
          breaks=("train",), append=POLISHED_UNSEEN,
          expected=Expected(score=100 - registry.flat_tests(registry.load_config(
              derived=False))["train.accuracy"]["weight"],
              message_contains=("accuracy not credited", "not what its own updates give"))),
    Entry(name="rewritten_train_record", kind="cheat",
          why="train does one full-batch step per epoch, then rewrites the grader's record of "
              "its calls into proper shuffled minibatches",
          breaks=("train",), append=REWRITTEN_RECORD,
          expected=only("train", also=(), msg=("not what its own calls produce",))),
    Entry(name="forged_train_record", kind="cheat",
          why="train makes the minibatch calls a correct train makes, but returns parameters "
              "they did not produce",
          breaks=("train",), append=FORGED_TRAIN,
          expected=only("train", also=(), msg=("not what its own calls produce",))),
    Entry(name="tiny_seed_nudge", kind="cheat",
          why="the shuffle ignores the seed; the seed only nudges the result by 1e-9",
          breaks=("train",),
          subs=(("    rng = np.random.default_rng(seed)\n    n_classes",
                 "    rng = np.random.default_rng(0)\n    n_classes"),
                ("    return params, history\n",
                 "    params = {k: v + 1e-9 * seed for k, v in params.items()}\n"
                 "    return params, history\n")),
          expected=only("train", also=(), msg=("not shuffled, or the seed is ignored",))),
]
