"""autograder/checks/gradients.py: centered differences in float64."""
import numpy as np
import pytest

from autograder.checks import gradients
from autograder.checks.reference import reference


def test_numeric_gradient_of_linear_layer_matches_reference_backward():
    ref = reference()
    r = np.random.default_rng(0)
    X, W, b = r.normal(size=(5, 4)), r.normal(size=(3, 4)), r.normal(size=3)
    G = r.normal(size=(5, 3))
    dX, dW, db = ref.linear_backward(G, X, W, b)
    for which, true in enumerate((dX, dW, db)):
        num = gradients.numeric_gradient(ref.linear_forward, [X, W, b], which, upstream=G)
        assert gradients.gradient_error(true, num) < 1e-8


def test_numeric_gradient_of_scalar_and_subset():
    ref = reference()
    r = np.random.default_rng(1)
    Z = r.normal(size=(4, 3))
    Y = np.eye(3)[[0, 1, 2, 0]]
    loss = lambda z: ref.cross_entropy(ref.softmax(z), Y)  # noqa: E731
    coords = gradients.random_coords(Z.shape, 5, r)
    num = gradients.numeric_gradient(loss, [Z], 0, coords=coords)
    true = ref.softmax_cross_entropy_backward(ref.softmax(Z), Y)
    assert np.isnan(num).sum() == Z.size - 5
    assert gradients.gradient_error(gradients.taken(true, coords),
                                    gradients.taken(num, coords)) < 1e-8


def test_dropped_upstream_gradient_shows_with_random_upstream():
    # an all-ones upstream gradient hides a dropped dA; a random one does not
    ref = reference()
    r = np.random.default_rng(2)
    Z = r.normal(size=(5, 3))
    A = ref.sigmoid_forward(Z)
    G = r.normal(size=Z.shape)
    num = gradients.numeric_gradient(ref.sigmoid_forward, [Z], 0, upstream=G)
    assert gradients.gradient_error(G * A * (1 - A), num) < 1e-8
    assert gradients.gradient_error(A * (1 - A), num) > 0.28


def test_numeric_gradient_refuses_non_numbers():
    with pytest.raises(gradients.NotANumber):
        gradients.numeric_gradient(lambda x: None, [np.ones(2)], 0, upstream=np.ones(2))
    with pytest.raises(gradients.NotANumber):
        gradients.numeric_gradient(lambda x: np.full(2, np.nan), [np.ones(2)], 0,
                                   upstream=np.ones(2))


def test_numeric_gradient_dict_with_biases():
    ref = reference()
    r = np.random.default_rng(3)
    params = {"W1": r.normal(size=(4, 5)), "b1": r.normal(size=4),
              "W2": r.normal(size=(3, 4)), "b2": r.normal(size=3)}
    X = r.normal(size=(6, 5))
    Y = np.eye(3)[[0, 1, 2, 0, 1, 2]]
    _, cache = ref.forward(params, X)
    grads = ref.backward(params, cache, Y)
    loss = lambda p: ref.cross_entropy(ref.forward(p, X)[0], Y)  # noqa: E731
    for key in params:
        coords = gradients.random_coords(params[key].shape, 6, r)
        num = gradients.numeric_gradient_dict(loss, params, key, coords)
        assert gradients.gradient_error(gradients.taken(grads[key], coords),
                                        gradients.taken(num, coords)) < 1e-7
