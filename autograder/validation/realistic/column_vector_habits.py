# I learned this with column vectors (x is (M, 1)), so I transpose at the edges.
import numpy as np


def one_hot(y, num_classes):
    return np.eye(num_classes)[np.asarray(y).astype(int)]


def linear_forward(X, W, b):
    # column form: Z^T = W X^T + b
    return (W @ X.T + b.reshape(-1, 1)).T


def linear_backward(dZ, X, W, b):
    dZt = dZ.T                     # (K, N)
    dW = dZt @ X                   # (K, M)
    db = dZt.sum(axis=1)           # (K,)
    dX = (W.T @ dZt).T             # (N, M)
    return dX, dW, db


def sigmoid_forward(Z):
    return 0.5 * (1 + np.tanh(0.5 * Z))


def sigmoid_backward(dA, A):
    return dA * A * (1 - A)


def softmax(Z):
    Zt = Z.T
    Zt = Zt - Zt.max(axis=0)
    E = np.exp(Zt)
    return (E / E.sum(axis=0)).T


def cross_entropy(P, Y):
    # sum over the classes and the examples
    return float(-np.sum(Y * np.log(np.maximum(P, 1e-300))))


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) / Y.shape[0]


def init_params(n_input, n_hidden, n_output, seed=0):
    W1 = np.random.randn(n_hidden, n_input)
    W2 = np.random.randn(n_output, n_hidden)
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(n_output)}


def forward(params, X):
    Z1 = linear_forward(X, params["W1"], params["b1"])
    A1 = sigmoid_forward(Z1)
    Z2 = linear_forward(A1, params["W2"], params["b2"])
    P = softmax(Z2)
    return P, dict(X=X, Z1=Z1, A1=A1, Z2=Z2, P=P)


def backward(params, cache, Y):
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, dW2, db2 = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    dZ1 = sigmoid_backward(dA1, cache["A1"])
    dX, dW1, db1 = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])
    return dict(W1=dW1, b1=db1, W2=dW2, b2=db2)


def sgd_step(params, grads, lr):
    return {k: params[k] - lr * grads[k] for k in params}


def predict(params, X):
    P, _ = forward(params, X)
    return np.argmax(P.T, axis=0)


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(seed)
    K = params["W2"].shape[0]
    Y_train, Y_val = one_hot(y_train, K), one_hot(y_val, K)
    hist = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    n = len(X_train)
    for _ in range(epochs):
        perm = rng.permutation(n)
        for i in range(0, n, batch_size):
            sel = perm[i:i + batch_size]
            P, cache = forward(params, X_train[sel])
            params = sgd_step(params, backward(params, cache, Y_train[sel]), lr)
        for X, y, Y, name in ((X_train, y_train, Y_train, "train"), (X_val, y_val, Y_val, "val")):
            P, _ = forward(params, X)
            hist[name + "_loss"].append(cross_entropy(P, Y))
            hist[name + "_acc"].append(float((np.argmax(P, axis=1) == y).mean()))
    return params, hist
