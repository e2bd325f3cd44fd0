"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test.
"""
import base64
import functools
import io
import json
import textwrap

from autograder.validation.model import Entry, at_most  # noqa: F401  (used by entries)

CHEATS = []


# ---------------------------------------------------------------------------
# Building blocks: a submission with no working logic at all
# ---------------------------------------------------------------------------

# Every graded function returns zeros (or empties) of the documented shapes:
# the base of a cheat, which then games one kind of check on top of it.
SHAPED_ZEROS = '''
import numpy as np


def _zeros_like_params(params):
    return {name: np.zeros(np.shape(value)) for name, value in params.items()}


def one_hot(y, num_classes):
    return np.zeros((len(y), num_classes))


def linear_forward(X, W, b):
    return np.zeros((np.shape(X)[0], np.shape(W)[0]))


def linear_backward(dZ, X, W, b):
    return np.zeros(np.shape(X)), np.zeros(np.shape(W)), np.zeros(np.shape(b))


def sigmoid_forward(Z):
    return np.zeros(np.shape(Z))


def sigmoid_backward(dA, A):
    return np.zeros(np.shape(dA))


def softmax(Z):
    return np.zeros(np.shape(Z))


def cross_entropy(P, Y):
    return 0.0


def softmax_cross_entropy_backward(P, Y):
    return np.zeros(np.shape(P))


def init_params(n_input, n_hidden, n_output, seed=0):
    return {"W1": np.zeros((n_hidden, n_input)), "b1": np.zeros(n_hidden),
            "W2": np.zeros((n_output, n_hidden)), "b2": np.zeros(n_output)}


def forward(params, X):
    n, h, k = np.shape(X)[0], np.shape(params["W1"])[0], np.shape(params["W2"])[0]
    P = np.zeros((n, k))
    return P, {"X": X, "Z1": np.zeros((n, h)), "A1": np.zeros((n, h)), "Z2": P, "P": P}


def backward(params, cache, Y):
    return _zeros_like_params(params)


def sgd_step(params, grads, lr):
    return _zeros_like_params(params)


def predict(params, X):
    return np.zeros(np.shape(X)[0], dtype=np.int64)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    history = {key: [0.0] * epochs for key in ("train_loss", "train_acc", "val_loss", "val_acc")}
    return _zeros_like_params(params), history
'''


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
    lines = [SHAPED_ZEROS, FINGERPRINT, "_ANSWERS = {"]
    lines += [f"    {key!r}: {python_literal(value)}," for key, value in answers.items()]
    lines.append("}\n")
    zeros = ast.parse(SHAPED_ZEROS)
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
    text = SHAPED_ZEROS + textwrap.dedent(f'''
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

    lines = [SHAPED_ZEROS, HIDDEN_MEMORY]
    for node in ast.parse(SHAPED_ZEROS).body:
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
