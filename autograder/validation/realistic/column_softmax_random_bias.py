import numpy as np


def one_hot(y, num_classes):
    y = np.asarray(y, dtype=int)
    return (y[:, None] == np.arange(num_classes)[None, :]).astype(float)


def linear_forward(X, W, b):
    return np.matmul(X, W.T) + b[np.newaxis, :]


def linear_backward(dZ, X, W, b):
    dX = np.matmul(dZ, W)
    dW = np.matmul(dZ.T, X)
    db = np.sum(dZ, axis=0)
    return dX, dW, db


def sigmoid_forward(Z):
    Z = np.clip(Z, -500, 500)
    return 1.0 / (1.0 + np.exp(-Z))


def sigmoid_backward(dA, A):
    return dA * A * (1.0 - A)


def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=0, keepdims=True)


def cross_entropy(P, Y):
    eps = 1e-15
    return float(-np.sum(Y * np.log(np.clip(P, eps, 1.0))) / P.shape[0])


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) / P.shape[0]


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.default_rng(seed)
    s1 = np.sqrt(2.0 / (n_input + n_hidden))
    s2 = np.sqrt(2.0 / (n_hidden + n_output))
    return {
        "W1": rng.normal(0, s1, (n_hidden, n_input)),
        "b1": rng.normal(0, s1, n_hidden),
        "W2": rng.normal(0, s2, (n_output, n_hidden)),
        "b2": rng.normal(0, s2, n_output),
    }


def forward(params, X):
    cache = {"X": X}
    cache["Z1"] = linear_forward(X, params["W1"], params["b1"])
    cache["A1"] = sigmoid_forward(cache["Z1"])
    cache["Z2"] = linear_forward(cache["A1"], params["W2"], params["b2"])
    cache["P"] = softmax(cache["Z2"])
    return cache["P"], cache


def backward(params, cache, Y):
    grads = {}
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, grads["W2"], grads["b2"] = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    dZ1 = sigmoid_backward(dA1, cache["A1"])
    _, grads["W1"], grads["b1"] = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])
    return grads


def sgd_step(params, grads, lr):
    return {key: params[key] - lr * grads[key] for key in params}


def predict(params, X):
    P, _ = forward(params, X)
    return np.argmax(P, axis=1)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    k = params["b2"].size
    Ytr, Yva = one_hot(y_train, k), one_hot(y_val, k)
    history = {key: [] for key in ("train_loss", "train_acc", "val_loss", "val_acc")}
    for epoch in range(epochs):
        order = rng.permutation(len(X_train))
        for s in range(0, len(order), batch_size):
            b = order[s:s + batch_size]
            _, cache = forward(params, X_train[b])
            params = sgd_step(params, backward(params, cache, Ytr[b]), lr)
        Ptr, _ = forward(params, X_train)
        Pva, _ = forward(params, X_val)
        history["train_loss"].append(cross_entropy(Ptr, Ytr))
        history["train_acc"].append(np.mean(Ptr.argmax(1) == y_train))
        history["val_loss"].append(cross_entropy(Pva, Yva))
        history["val_acc"].append(np.mean(Pva.argmax(1) == y_val))
    return params, history
