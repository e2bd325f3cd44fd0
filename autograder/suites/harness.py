"""Run the suites against a proxy and get results by config key.

    results = run(proxy, functions=["softmax"])   # {key: {"score", "max_score",
                                                  #        "status", "output", "name"}}

For the package's own tests and for tools (validation, calibration); the
Gradescope run goes through autograder/grading/grade.py and its runner instead.
Uses gradescope-utils' JSONTestRunner, so what is measured here is what the
stock runner records (weights, partial credit, visibility, numbers).
"""
import io
import json
import unittest

from autograder.grading.runner import iter_tests
from autograder.suites import graded, inputs, load_suites


def select(suite, functions=None, keys=None):
    """The tests of the given functions (tags) or config keys, in suite order."""
    chosen = unittest.TestSuite()
    for test in iter_tests(suite):
        method = getattr(test, test._testMethodName)
        key = getattr(method, "__graded_key__", None)
        if key is None:
            continue
        if functions is not None and graded.TESTS[key]["function"] not in functions:
            continue
        if keys is not None and key not in keys:
            continue
        chosen.addTest(test)
    return chosen


def run(proxy, functions=None, keys=None, reference_proxy=None, modules=None, seed=None):
    """Run the selected tests against proxy; results keyed by config key.

    `seed` is the grading seed the inputs are drawn from (None: the fixed
    inputs, the same in every run; an int: the inputs of a Gradescope run
    with that seed).

    A result has "check_error" (the traceback) when the check itself raised
    something other than an AssertionError: a bug of the grader, not a failure.
    """
    from gradescope_utils.autograder_utils.json_test_runner import JSONTestRunner

    suite = select(load_suites() if modules is None else load_suites(modules), functions, keys)
    by_number = {entry["number"]: key for key, entry in graded.TESTS.items()}
    previous, previous_seed = graded._student, inputs.grading_seed()
    graded.set_student(proxy)
    inputs.set_grading_seed(seed)
    if reference_proxy is not None:
        graded.set_reference_student(reference_proxy)
    try:
        stream = io.StringIO()
        outcome = JSONTestRunner(stream=stream, buffer=True).run(suite)
    finally:
        graded.set_student(previous)
        inputs.set_grading_seed(previous_seed)
    data = json.loads(stream.getvalue())
    results = {}
    for test in data["tests"]:
        results[by_number[test["number"]]] = test
    # an exception that is not an AssertionError is a bug of the check itself
    for test, trace in outcome.errors:
        method = getattr(test, getattr(test, "_testMethodName", ""), None)
        key = getattr(method, "__graded_key__", None)
        if key in results:
            results[key]["check_error"] = trace
    return results


def mutate(source, *replacements):
    """The source with each (old, new) replaced; old must occur exactly once."""
    for old, new in replacements:
        count = source.count(old)
        if count != 1:
            raise ValueError(f"{old!r} occurs {count} times in the source (expected once)")
        source = source.replace(old, new)
    return source
