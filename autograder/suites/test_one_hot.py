"""one_hot(y, num_classes) -> Y (N, C) float64."""
import numpy as np

from autograder.checks import diagnose
from autograder.suites.case import SuiteCase
from autograder.suites.graded import graded, ref, student
from autograder.suites.inputs import fixed_labels, labels, rng_for

FN = "one_hot"


class TestOneHot(SuiteCase):

    @graded("one_hot.shape")
    def test_1_shape(self):
        """one_hot: defined with (y, num_classes); returns a float64 array of shape (N, C)"""
        self.assert_signature(FN, ["y", "num_classes"])
        r = rng_for(self.key)
        for n, c in ((7, 4), (3, 5)):
            y = labels(r, n, min(c, n))
            Y = student().one_hot(y, c)
            self.assert_array(FN, Y, (n, c), inputs=[("y", y), ("num_classes", c)],
                              call=f"one_hot(y, {c})",
                              hint=diagnose.one_hot_hint(Y, n, c, y))

    @graded("one_hot.values")
    def test_2_values(self):
        """one_hot: a single 1 per row, in the column of the label"""
        r = rng_for(self.key)
        # the last class never occurs: the width must come from num_classes
        cases = [(labels(r, 9, 5), 6), (labels(r, 4, 3).astype(np.int32), 3)]
        for y, c in cases:
            Y = student().one_hot(y, c)
            expected = ref().one_hot(y, c)
            self.assert_close(FN, Y, expected, name="Y", exact=True,
                              inputs=[("y", y), ("num_classes", c)], call=f"one_hot(y, {c})",
                              shape_hint=diagnose.one_hot_hint(Y, len(y), c, y))

    @graded("one_hot.unchanged")
    def test_3_unchanged(self):
        """one_hot: leaves its argument y unchanged"""
        r = rng_for(self.key)
        y = labels(r, 8, 4)
        self.assert_unchanged(FN, [y, 4], ["y", "num_classes"], ref().one_hot(y, 4))

    @graded("one_hot.vectorized")
    def test_4_vectorized(self):
        """one_hot: vectorized (no Python loop over examples or classes)"""
        def make(size):
            n, c = size
            return [labels(rng_for(self.key, n, c), n, c), c]

        self.assert_vectorized(FN, make, [("N=8, C=3", (8, 3)), ("N=64, C=3", (64, 3)),
                                          ("N=8, C=24", (8, 24))],
                               big=ONE_HOT_BACKSTOP_SIZE)


# The backstop's size: many examples and two classes, so that a loop over the
# examples costs 5 to 10 x the reference where right forms cost at most 2.4 x
# (bench/bench_backstop.py), and every array stays under the 32 MB the
# workers keep on their heap (1.9 M x 2 floats: 30.4 MB).
ONE_HOT_BACKSTOP_SIZE = (1_900_000, 2)


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_one_hot():
    return [("N=10,C=4", (fixed_labels(10, 4, 1), 4)), ("N=C=3", (np.array([2, 0, 1]), 3)),
            ("C=7", (fixed_labels(64, 7, 2), 7))]


PROBES = {"one_hot": _probes_one_hot}
