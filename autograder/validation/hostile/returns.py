# Return values built to fool a checker that trusts the objects it gets.
import os as _nnag_os

import numpy as _nnag_np


class _NnagAlwaysEqual(_nnag_np.ndarray):
    """An ndarray subclass that claims to equal anything and hijacks numpy functions."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return _nnag_np.zeros(_nnag_np.shape(inputs[0]), dtype=bool) | True


def _nnag_fake_array(shape):
    return _nnag_np.zeros(shape).view(_NnagAlwaysEqual)


class _NnagLiar:
    """Not an array at all, but claims to equal anything and to have any shape."""

    def __init__(self, shape):
        self.shape = shape
        self.dtype = _nnag_np.dtype("float64")
        self.ndim = len(shape)

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0

    def __array__(self, dtype=None, copy=None):
        return _nnag_np.zeros(self.shape)

    def __len__(self):
        return self.shape[0]

    def __float__(self):
        return 0.0

    def __getattr__(self, name):
        return lambda *args, **kwargs: True


REDUCE_MARKER = "/tmp/nnag-pwned-reduce"


class _NnagMaliciousReduce:
    """Unpickling this runs a shell command: only a grader that unpickles is hurt."""

    def __reduce__(self):
        return (_nnag_os.system, ("touch " + REDUCE_MARKER,))

    def __reduce_ex__(self, protocol):
        return self.__reduce__()
