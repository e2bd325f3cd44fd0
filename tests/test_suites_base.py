"""autograder/suites/graded.py and case.py: the decorator, the quiet comparisons, hidden-test hints."""
import numpy as np
import pytest

from autograder.suites import case, graded, inputs


def test_graded_applies_config_metadata_and_checks_the_name():
    @graded.graded("softmax.values")
    def test_something(self):
        """softmax: something"""

    entry = graded.TESTS["softmax.values"]
    assert test_something.__weight__ == entry["weight"]
    assert test_something.__number__ == entry["number"]
    assert test_something.__visibility__ == entry["visibility"]
    assert test_something.__tags__ == ("softmax",)
    with pytest.raises(ValueError):
        @graded.graded("softmax.values")
        def test_badly_named(self):
            """values of the softmax"""


def test_partial_credit_sets_a_score():
    @graded.graded("train.accuracy", partial=True)
    def test_accuracy(self, set_score=None):
        """train: accuracy"""
        set_score(4.5)

    test_accuracy(None)
    assert test_accuracy.__score__ == 4.5
    assert test_accuracy.__weight__ == graded.TESTS["train.accuracy"]["weight"]


def test_matches_and_plausible():
    a = np.arange(6.0).reshape(2, 3) + 1
    assert case.matches(a * (1 + 1e-7), a)
    assert not case.matches(a * 1.01, a)
    assert not case.matches(a.T, a)
    assert not case.matches(np.ones(1), a)                 # no broadcasting
    assert case.matches({"W": a, "extra": 1}, {"W": a})
    assert case.matches((a, 2.0), (a, 2.0)) and not case.matches([a], (a, 2.0))
    assert case.plausible(a * 7, a) and not case.plausible(a.T, a)
    assert not case.plausible(np.full((2, 3), np.nan), a)
    assert case.plausible(np.full((2, 3), np.nan), a, finite=False)
    assert not case.plausible(None, a) and not case.plausible("x", 1.0)


def test_rng_for_is_stable():
    assert inputs.rng_for("a", 1).integers(0, 10**9) == inputs.rng_for("a", 1).integers(0, 10**9)
    assert inputs.rng_for("a", 1).integers(0, 10**9) != inputs.rng_for("a", 2).integers(0, 10**9)


def test_hidden_hints_lose_sizes_but_not_code():
    scrub = case._scrub_numbers
    assert scrub("about N = 11 times the true one") == "about N times the true one"
    assert scrub("about 1/N = 1/11 of it; N/K = 6/4") == "about 1/N of it; N/K"
    assert scrub("use E.sum(axis=1, keepdims=True)") == "use E.sum(axis=1, keepdims=True)"
