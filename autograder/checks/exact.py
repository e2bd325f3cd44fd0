"""Right values computed in the parent from the formulas (STAFF ONLY: never
shipped in the students' handout, since this is solution code).

- the gradient tests accept a backward that is consistent with the student's
  own forward OR exact on the same inputs; those inputs come from the
  student's forward (A = sigmoid_forward(Z), P = softmax(Z), the cache), so
  the exact values are computed here from the formulas, not asked of the
  reference module (whose recorded answers, in the handout's self-check,
  only cover inputs the grader generated itself);
- the gradients that known mistakes in `backward` produce, for diagnosis.
The suites work without this module (the self-check): the gradient tests then
rely on the numeric gradient alone and the diagnosis on the scale fit.
"""
import numpy as np


def linear_forward(X, W, b):
    """Z (N, K) = X (N, M) W^T (K, M) + b (K,)."""
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    return X @ W.T + b


def linear_backward(dZ, X, W):
    """(dX (N, M), dW (K, M), db (K,)) of Z = X W^T + b, given dZ (N, K)."""
    dZ, X, W = (np.asarray(a, dtype=np.float64) for a in (dZ, X, W))
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def sigmoid(Z):
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))


def softmax(Z):
    Z = np.asarray(Z, dtype=np.float64)
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sigmoid_backward(dA, A):
    dA, A = np.asarray(dA, dtype=np.float64), np.asarray(A, dtype=np.float64)
    return dA * A * (1.0 - A)


def softmax_cross_entropy_backward(P, Y):
    P, Y = np.asarray(P, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    return (P - Y) / P.shape[0]


def network_backward(params, cache, Y):
    """dJ/dparams of the mean cross-entropy, from the cache's X, A1 and P."""
    X, A1, P = (np.asarray(cache[k], dtype=np.float64) for k in ("X", "A1", "P"))
    W2 = np.asarray(params["W2"], dtype=np.float64)
    dZ2 = softmax_cross_entropy_backward(P, Y)
    dZ1 = sigmoid_backward(dZ2 @ W2, A1)
    return {"W1": dZ1.T @ X, "b1": dZ1.sum(axis=0), "W2": dZ2.T @ A1, "b2": dZ2.sum(axis=0)}


def network_backward_variants(params, X, Y):
    """Gradients that known mistakes in backward produce: [(grads, text)]."""
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ("W1", "b1", "W2", "b2"))
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    n = X.shape[0]
    Z1 = X @ W1.T + b1
    A1 = sigmoid(Z1)
    P = softmax(A1 @ W2.T + b2)
    dZ2 = (P - Y) / n
    dW2, db2 = dZ2.T @ A1, dZ2.sum(axis=0)
    dA1 = dZ2 @ W2

    def first_layer(dZ1):
        return {"W1": dZ1.T @ X, "b1": dZ1.sum(axis=0), "W2": dW2, "b2": db2}

    right_dZ1 = dA1 * A1 * (1 - A1)
    return [
        (first_layer(dA1 * Z1 * (1 - Z1)),
         "the sigmoid derivative is taken of Z1: use the sigmoid's OUTPUT, "
         "dZ1 = dA1 * A1 * (1 - A1)"),
        (first_layer(dA1 * sigmoid(A1) * (1 - sigmoid(A1))),
         "the sigmoid is applied to A1 again in the derivative: A1 is already the "
         "sigmoid's output, dZ1 = dA1 * A1 * (1 - A1)"),
        (first_layer(A1 * (1 - A1)),
         "the upstream gradient is dropped in the sigmoid's backward: "
         "dZ1 = dA1 * A1 * (1 - A1)"),
        (first_layer(dA1),
         "the sigmoid's backward is skipped: dZ1 = dA1 * A1 * (1 - A1)"),
        (first_layer(right_dZ1 / n),
         "the first layer's gradient is divided by N again: dZ2 already contains the 1/N"),
        ({"W1": right_dZ1.T @ X, "b1": right_dZ1.sum(axis=0), "W2": dW2 / n, "b2": db2 / n},
         "the second layer's gradient is divided by N again: dZ2 already contains the 1/N"),
    ]
