import numpy as np


def one_hot(y, num_classes):
    Y = np.zeros((len(y), num_classes))
    Y[np.arange(len(y)), y] = 1
    return Y


def linear_forward(X, W, b):
    return X @ W.T + b


def linear_backward(dZ, X, W, b):
    return dZ @ W, dZ.T @ X, dZ.sum(0)


def sigmoid_forward(Z):
    return 1 / (1 + np.exp(-Z))


def sigmoid_backward(dA, A):
    return dA * A * (1 - A)


def softmax(Z):
    expZ = np.exp(Z)
    return expZ / expZ.sum(axis=1, keepdims=True)


def cross_entropy(P, Y):
    P[P < 1e-12] = 1e-12
    return -np.mean(np.sum(Y * np.log(P), axis=1))


def softmax_cross_entropy_backward(P, Y):
    return (P - Y) / len(P)


def init_params(n_input, n_hidden, n_output, seed=0):
    rng = np.random.default_rng(seed)
    lim1 = np.sqrt(6 / (n_input + n_hidden))
    lim2 = np.sqrt(6 / (n_hidden + n_output))
    return {
        "W1": rng.uniform(-lim1, lim1, (n_hidden, n_input)),
        "b1": np.zeros(n_hidden),
        "W2": rng.uniform(-lim2, lim2, (n_output, n_hidden)),
        "b2": np.zeros(n_output),
    }


def forward(params, X):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    Z1 = linear_forward(X, W1, b1)
    A1 = sigmoid_forward(Z1)
    Z2 = linear_forward(A1, W2, b2)
    P = softmax(Z2)
    return P, {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": P}


def backward(params, cache, Y):
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, dW2, db2 = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    dZ1 = sigmoid_backward(dA1, cache["A1"])
    _, dW1, db1 = linear_backward(dZ1, cache["X"], params["W1"], params["b1"])
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}


def sgd_step(params, grads, lr):
    return {name: params[name] - lr * grads[name] for name in params}


def predict(params, X):
    return forward(params, X)[0].argmax(axis=1)


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
        print(f"epoch {epoch + 1}: val acc {history['val_acc'][-1]:.3f}")
    return params, history
