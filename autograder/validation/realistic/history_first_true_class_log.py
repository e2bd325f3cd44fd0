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
    dZ = np.zeros_like(dA)
    for i in range(dA.shape[0]):
        for j in range(dA.shape[1]):
            dZ[i, j] = dA[i, j] * A[i, j] * (1.0 - A[i, j])
    return dZ


def softmax(Z):
    Z = Z - np.max(Z, axis=1, keepdims=True)
    expZ = np.exp(Z)
    return expZ / np.sum(expZ, axis=1, keepdims=True)


def cross_entropy(P, Y):
    N = P.shape[0]
    true_class = np.argmax(Y, axis=1)
    return float(-np.mean(np.log(P[np.arange(N), true_class])))


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) / P.shape[0]


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.standard_normal((n_hidden, n_input)) * np.sqrt(2.0 / (n_input + n_hidden)),
        "b1": np.zeros(n_hidden),
        "W2": rng.standard_normal((n_output, n_hidden)) * np.sqrt(2.0 / (n_hidden + n_output)),
        "b2": np.zeros(n_output),
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
    n_classes = params["W2"].shape[0]
    Y_train = one_hot(y_train, n_classes)
    Y_val = one_hot(y_val, n_classes)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    N = X_train.shape[0]
    for _ in range(epochs):
        # record where we are, then do the epoch
        for split, X, y, Y in (("train", X_train, y_train, Y_train), ("val", X_val, y_val, Y_val)):
            P, _ = forward(params, X)
            history[split + "_loss"].append(cross_entropy(P, Y))
            history[split + "_acc"].append(float(np.mean(np.argmax(P, axis=1) == y)))
        perm = rng.permutation(N)
        for i in range(0, N, batch_size):
            idx = perm[i:i + batch_size]
            _, cache = forward(params, X_train[idx])
            params = sgd_step(params, backward(params, cache, Y_train[idx]), lr)
    return params, history
