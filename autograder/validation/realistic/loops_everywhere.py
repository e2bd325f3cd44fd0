import numpy as np


def one_hot(y, num_classes):
    N = len(y)
    Y = np.zeros((N, num_classes))
    for i in range(N):
        Y[i, int(y[i])] = 1
    return Y


def linear_forward(X, W, b):
    return np.dot(X, W.T) + b


def linear_backward(dZ, X, W, b):
    dX = np.dot(dZ, W)
    dW = np.dot(dZ.T, X)
    db = np.sum(dZ, axis=0)
    return dX, dW, db


def sigmoid_forward(Z):
    out = np.empty_like(Z, dtype=float)
    pos = Z >= 0
    out[pos] = 1 / (1 + np.exp(-Z[pos]))
    e = np.exp(Z[~pos])
    out[~pos] = e / (1 + e)
    return out


def sigmoid_backward(dA, A):
    return dA * A * (1 - A)


def softmax(Z):
    P = np.zeros(Z.shape)
    for i in range(Z.shape[0]):
        row = Z[i] - np.max(Z[i])
        e = np.exp(row)
        P[i] = e / np.sum(e)
    return P


def cross_entropy(P, Y):
    N = P.shape[0]
    return -np.sum(Y * np.log(P)) / N


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) / P.shape[0]


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.default_rng(seed)
    s1 = np.sqrt(1.0 / n_input)
    s2 = np.sqrt(1.0 / n_hidden)
    return {"W1": rng.normal(0, s1, (n_hidden, n_input)), "b1": np.zeros(n_hidden),
            "W2": rng.normal(0, s2, (n_output, n_hidden)), "b2": np.zeros(n_output)}


def forward(params, X):
    Z1 = linear_forward(X, params["W1"], params["b1"])
    A1 = sigmoid_forward(Z1)
    Z2 = linear_forward(A1, params["W2"], params["b2"])
    P = softmax(Z2)
    cache = {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": P}
    return P, cache


def backward(params, cache, Y):
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, dW2, db2 = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    dZ1 = sigmoid_backward(dA1, cache["A1"])
    _, dW1, db1 = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_step(params, grads, lr):
    new = {}
    for k in params:
        new[k] = params[k] - lr * grads[k]
    return new


def predict(params, X):
    P, _ = forward(params, X)
    return np.argmax(P, axis=1)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    C = params["b2"].shape[0]
    Ytr = one_hot(y_train, C)
    Yva = one_hot(y_val, C)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    N = X_train.shape[0]
    for epoch in range(epochs):
        idx = rng.permutation(N)
        Xs, Ys = X_train[idx], Ytr[idx]
        for start in range(0, N, batch_size):
            xb = Xs[start:start + batch_size]
            yb = Ys[start:start + batch_size]
            _, cache = forward(params, xb)
            grads = backward(params, cache, yb)
            params = sgd_step(params, grads, lr)
        P, _ = forward(params, X_train)
        history["train_loss"].append(cross_entropy(P, Ytr))
        history["train_acc"].append(np.mean(np.argmax(P, axis=1) == y_train))
        P, _ = forward(params, X_val)
        history["val_loss"].append(cross_entropy(P, Yva))
        history["val_acc"].append(np.mean(np.argmax(P, axis=1) == y_val))
    return params, history
