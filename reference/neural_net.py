"""Homework 5: backpropagation through a one-hidden-layer network, in numpy.

Conventions used by every function below:
- examples are ROWS: X has shape (N, M) for N examples with M features;
- a linear layer maps M inputs to K outputs with W of shape (K, M) and b of
  shape (K,), so Z = X W^T + b has shape (N, K);
- labels y are integers of shape (N,); one-hot labels Y have shape (N, C);
- the loss J of a batch is the MEAN cross-entropy over its N rows;
- all arrays are float64 unless stated otherwise.

Graded functions must be vectorized: no Python loops, comprehensions,
np.vectorize, np.apply_along_axis or map over examples or units. The only
loops allowed are the ones over epochs and minibatches in `train`.
No function may modify its arguments.
"""
import numpy as np


# ---------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------

def one_hot(y, num_classes):
    """Encode integer labels as one-hot rows.

    Inputs:
    - y: int array of shape (N,), values in {0, ..., num_classes - 1}
    - num_classes: int C

    Returns:
    - Y: float64 array of shape (N, C) with Y[n, y[n]] = 1 and zeros elsewhere
    """
    # BEGIN SOLUTION: build Y (N, C) of zeros with a single 1 per row, in column y[n]
    y = np.asarray(y, dtype=np.int64)
    Y = np.zeros((y.shape[0], num_classes))
    Y[np.arange(y.shape[0]), y] = 1.0
    return Y
    # END SOLUTION


# ---------------------------------------------------------------------------
# Linear layer
# ---------------------------------------------------------------------------

def linear_forward(X, W, b):
    """Forward pass of a linear (fully connected) layer.

    Inputs:
    - X: inputs, shape (N, M)
    - W: weights, shape (K, M)
    - b: biases, shape (K,)

    Returns:
    - Z: outputs, shape (N, K), Z = X W^T + b
    """
    # BEGIN SOLUTION: Z (N, K) from X (N, M), W (K, M) and b (K,)
    return X @ W.T + b
    # END SOLUTION


def linear_backward(dZ, X, W, b):
    """Backward pass of a linear layer.

    Inputs:
    - dZ: upstream gradient dJ/dZ, shape (N, K)
    - X: the layer's inputs from the forward pass, shape (N, M)
    - W: weights, shape (K, M)
    - b: biases, shape (K,)

    Returns a tuple (dX, dW, db):
    - dX: gradient with respect to X, shape (N, M)
    - dW: gradient with respect to W, shape (K, M)
    - db: gradient with respect to b, shape (K,)
    """
    # BEGIN SOLUTION: dX (N, M), dW (K, M) and db (K,) from dZ (N, K); db sums over the batch
    dX = dZ @ W
    dW = dZ.T @ X
    db = dZ.sum(axis=0)
    return dX, dW, db
    # END SOLUTION


# ---------------------------------------------------------------------------
# Sigmoid
# ---------------------------------------------------------------------------

def sigmoid_forward(Z):
    """Elementwise logistic sigmoid, without overflow for large |Z|.

    Inputs:
    - Z: array of any shape, e.g. (N, H)

    Returns:
    - A: array of the same shape, A = 1 / (1 + exp(-Z)), values in [0, 1]
    """
    # BEGIN SOLUTION: A (same shape as Z); exp must never see a large positive argument
    # exp(-|Z|) is in (0, 1], so neither branch can overflow.
    E = np.exp(-np.abs(Z))
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))
    # END SOLUTION


def sigmoid_backward(dA, A):
    """Backward pass of the sigmoid, written in terms of its OUTPUT.

    Inputs:
    - dA: upstream gradient dJ/dA, shape (N, H)
    - A: the sigmoid's output from the forward pass, shape (N, H)

    Returns:
    - dZ: gradient with respect to the sigmoid's input, shape (N, H)
    """
    # BEGIN SOLUTION: dZ (N, H) from dA and the forward OUTPUT A
    return dA * A * (1.0 - A)
    # END SOLUTION


# ---------------------------------------------------------------------------
# Softmax and cross-entropy
# ---------------------------------------------------------------------------

def softmax(Z):
    """Row-wise softmax, numerically stable for huge logits.

    Inputs:
    - Z: logits, shape (N, K)

    Returns:
    - P: probabilities, shape (N, K); every row is non-negative and sums to 1
    """
    # BEGIN SOLUTION: P (N, K), each ROW a distribution; shift each row by its max first
    shifted = Z - Z.max(axis=1, keepdims=True)
    E = np.exp(shifted)
    return E / E.sum(axis=1, keepdims=True)
    # END SOLUTION


def cross_entropy(P, Y):
    """Mean cross-entropy of predicted probabilities against one-hot labels.

    Inputs:
    - P: predicted probabilities, shape (N, K), rows sum to 1 (entries may be 0)
    - Y: one-hot labels, shape (N, K)

    Returns:
    - J: float, -(1/N) sum_n sum_k Y[n, k] log P[n, k]; finite even where P is 0
    """
    # BEGIN SOLUTION: a float; average over the N rows, and keep log away from exact zeros
    # Clipping at the smallest positive normal bounds the loss (about 708 per row).
    log_P = np.log(np.clip(P, np.finfo(np.float64).tiny, None))
    return float(-(Y * log_P).sum() / P.shape[0])
    # END SOLUTION


def softmax_cross_entropy_backward(P, Y):
    """Gradient of the mean cross-entropy with respect to the softmax LOGITS.

    Inputs:
    - P: softmax output, shape (N, K)
    - Y: one-hot labels, shape (N, K)

    Returns:
    - dZ: dJ/dZ, shape (N, K), equal to (P - Y) / N
    """
    # BEGIN SOLUTION: dZ (N, K); remember the loss is a MEAN over the N rows
    return (P - Y) / P.shape[0]
    # END SOLUTION


# ---------------------------------------------------------------------------
# The network: input (M) -> linear -> sigmoid (H) -> linear -> softmax (K)
# ---------------------------------------------------------------------------

def init_params(n_input, n_hidden, n_output, seed=0):
    """Random weights that break the symmetry between hidden units, zero biases.

    Inputs:
    - n_input: M, n_hidden: H, n_output: K (ints)
    - seed: int, seeds the random generator (same seed, same parameters)

    Returns a dict of float64 arrays:
    - 'W1': (H, M), 'b1': (H,), 'W2': (K, H), 'b2': (K,)
    """
    # BEGIN SOLUTION: W1 (H, M) and W2 (K, H) random at a scale that keeps the sigmoid unsaturated; b1 (H,) and b2 (K,) zero
    rng = np.random.default_rng(seed)

    def xavier(fan_out, fan_in):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit, size=(fan_out, fan_in))

    return {
        "W1": xavier(n_hidden, n_input),
        "b1": np.zeros(n_hidden),
        "W2": xavier(n_output, n_hidden),
        "b2": np.zeros(n_output),
    }
    # END SOLUTION


def forward(params, X):
    """Forward pass of the whole network.

    Inputs:
    - params: dict with 'W1' (H, M), 'b1' (H,), 'W2' (K, H), 'b2' (K,)
    - X: inputs, shape (N, M)

    Returns a tuple (P, cache):
    - P: class probabilities, shape (N, K)
    - cache: dict of the arrays backward needs: 'X' (N, M), 'Z1' (N, H),
      'A1' (N, H), 'Z2' (N, K), 'P' (N, K)
    """
    # BEGIN SOLUTION: chain linear -> sigmoid -> linear -> softmax and keep every intermediate in the cache
    Z1 = linear_forward(X, params["W1"], params["b1"])
    A1 = sigmoid_forward(Z1)
    Z2 = linear_forward(A1, params["W2"], params["b2"])
    P = softmax(Z2)
    return P, {"X": X, "Z1": Z1, "A1": A1, "Z2": Z2, "P": P}
    # END SOLUTION


def backward(params, cache, Y):
    """Gradients of the mean cross-entropy with respect to every parameter.

    Inputs:
    - params: dict with 'W1' (H, M), 'b1' (H,), 'W2' (K, H), 'b2' (K,)
    - cache: the dict returned by forward
    - Y: one-hot labels, shape (N, K)

    Returns:
    - grads: dict with the same keys and shapes as params
    """
    # BEGIN SOLUTION: run the layers backward from dZ2 = (P - Y) / N to dW1 and db1
    dZ2 = softmax_cross_entropy_backward(cache["P"], Y)
    dA1, dW2, db2 = linear_backward(dZ2, cache["A1"], params["W2"], params["b2"])
    dZ1 = sigmoid_backward(dA1, cache["A1"])
    # dX of the input layer is never used, so it is not computed.
    dW1 = dZ1.T @ cache["X"]
    db1 = dZ1.sum(axis=0)
    return {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}
    # END SOLUTION


def sgd_step(params, grads, lr):
    """One step of gradient descent, returning NEW arrays.

    Inputs:
    - params: dict name -> array
    - grads: dict with the same keys and shapes as params
    - lr: float, the learning rate

    Returns:
    - new_params: dict with the same keys, new_params[k] = params[k] - lr * grads[k];
      the input dicts and arrays are left unchanged
    """
    # BEGIN SOLUTION: a new dict of new arrays, theta - lr * grad for every key
    return {name: value - lr * grads[name] for name, value in params.items()}
    # END SOLUTION


def predict(params, X):
    """Predicted class of every example.

    Inputs:
    - params: dict as returned by init_params
    - X: inputs, shape (N, M)

    Returns:
    - y_pred: int array of shape (N,), the most probable class of each row
    """
    # BEGIN SOLUTION: y_pred (N,) ints: the most probable class of each ROW
    P, _ = forward(params, X)
    return np.argmax(P, axis=1)
    # END SOLUTION


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """Minibatch SGD on the mean cross-entropy.

    Every epoch shuffles the training set (X and y together) with a generator
    seeded by `seed`, then visits every example exactly once in minibatches of
    `batch_size`; the last minibatch may be smaller. Each update is
    params = sgd_step(params, backward(params, cache, Y_batch), lr) with cache
    from forward(params, X_batch): the grader watches these calls, and credits
    only parameters it sees them produce.

    Inputs:
    - params: dict as returned by init_params (not modified)
    - X_train: (N_train, M) floats; y_train: (N_train,) int labels
    - X_val: (N_val, M) floats; y_val: (N_val,) int labels
    - lr: float learning rate; epochs: int; batch_size: int; seed: int

    Returns a tuple (params, history):
    - params: the trained parameters, same keys and shapes as the input
    - history: dict of lists with one float per epoch: 'train_loss',
      'train_acc', 'val_loss', 'val_acc', each measured on the FULL training /
      validation set with the parameters at the end of that epoch
    """
    # BEGIN SOLUTION: per epoch, shuffle X and y with one permutation, take every minibatch (the last may be short), step; then record the four metrics on the full sets
    rng = np.random.default_rng(seed)
    n_classes = params["b2"].shape[0]
    Y_train = one_hot(y_train, n_classes)
    Y_val = one_hot(y_val, n_classes)
    n_train = X_train.shape[0]
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}

    def evaluate(X, y, Y):
        P, _ = forward(params, X)
        return cross_entropy(P, Y), float(np.mean(np.argmax(P, axis=1) == y))

    for _ in range(epochs):
        order = rng.permutation(n_train)
        for start in range(0, n_train, batch_size):
            batch = order[start:start + batch_size]
            _, cache = forward(params, X_train[batch])
            grads = backward(params, cache, Y_train[batch])
            params = sgd_step(params, grads, lr)
        for split, X, y, Y in (("train", X_train, y_train, Y_train),
                               ("val", X_val, y_val, Y_val)):
            loss, acc = evaluate(X, y, Y)
            history[split + "_loss"].append(loss)
            history[split + "_acc"].append(acc)
    return params, history
    # END SOLUTION
