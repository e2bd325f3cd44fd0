"""The checks never crash on strange returns: None, strings, NaN, wrong containers.

Every function of a submission returns the same odd value; every test must
fail cleanly (an AssertionError with feedback), none may raise inside the
check (which the runner would report as "the grader could not check").
"""
import pytest

from autograder.checks.reference import reference_source
from autograder.suites import graded, harness

Student = pytest.importorskip("autograder.sandbox.student").Student

FUNCTIONS = ("one_hot", "linear_forward", "linear_backward", "sigmoid_forward",
             "sigmoid_backward", "softmax", "cross_entropy", "softmax_cross_entropy_backward",
             "init_params", "forward", "backward", "sgd_step", "predict", "train")

ODD = {
    "None": "None",
    "a string": "'oops'",
    "NaN everywhere": "np.full((2, 2), np.nan)",
    "a scalar": "np.float64(0.5)",
    "a dict": "{'W1': np.zeros((2, 2)), 'P': 1}",
    "a list": "[np.zeros(3), np.zeros(3), np.zeros(3)]",
    "a bool array": "np.zeros((2, 2), dtype=bool)",
}


def source_returning(expression):
    lines = ["import numpy as np", ""]
    for name in FUNCTIONS:
        lines += [f"def {name}(*args, **kwargs):", f"    return {expression}", ""]
    return "\n".join(lines)


@pytest.fixture(scope="module", autouse=True)
def reference_worker():
    proxy = Student(reference_source(), graded.CONFIG)
    graded.set_reference_student(proxy)
    yield proxy
    graded.set_reference_student(None)
    proxy.close()


@pytest.mark.parametrize("what", sorted(ODD))
def test_odd_returns_fail_cleanly(what):
    proxy = Student(source_returning(ODD[what]), graded.CONFIG)
    try:
        results = harness.run(proxy, keys=set(graded.TESTS) - {"train.accuracy", "train.lr10"})
    finally:
        proxy.close()
    crashed = {key: r["check_error"] for key, r in results.items() if "check_error" in r}
    assert not crashed, crashed
    # A float is the right type for cross_entropy: its shape, unchanged and
    # vectorized tests credit the structure, only its value tests must fail.
    structure_ok = {"cross_entropy.shape", "cross_entropy.unchanged", "cross_entropy.vectorized"}
    scored = {k: r["score"] for k, r in results.items() if r["score"]}
    if what == "a scalar":
        assert set(scored) <= structure_ok, scored
    else:
        assert scored == {}, scored
    for key, r in results.items():
        if key not in scored:  # every failing test names its function
            assert graded.TESTS[key]["function"] in r["output"], (key, r["output"])
