"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test.
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
