"""The weighted unittest suites, run in the trusted parent against the proxy.

Every `test_*.py` module of this folder is a suite. `load_suites()` returns
them in the registry's order (config.json `functions`): a module comes where
its first-numbered test does, so results.json lists the tests as the
handout lists the functions.
"""
import importlib
import os
import unittest

from autograder.grading.runner import iter_tests, test_attribute

FOLDER = os.path.dirname(os.path.abspath(__file__))


def suite_modules():
    """Names of the suite modules (test_*.py) of this folder."""
    return sorted(name[:-3] for name in os.listdir(FOLDER)
                  if name.startswith("test_") and name.endswith(".py"))


def all_probes():
    """{function: probes()} from the PROBES of every suite module: fixed inputs
    with the awkward cases for each graded function (see tests/test_catalog.py)."""
    found = {}
    for name in suite_modules():
        module = importlib.import_module(f"autograder.suites.{name}")
        found.update(getattr(module, "PROBES", {}))
    return found


def load_suites(modules=None):
    loader = unittest.TestLoader()
    loaded = []
    for name in modules or suite_modules():
        module = importlib.import_module(f"autograder.suites.{name}")
        suite = loader.loadTestsFromModule(module)
        numbers = [_number(test) for test in iter_tests(suite)]
        loaded.append((min(numbers, default=(float("inf"),)), suite))
    everything = unittest.TestSuite()
    for _, suite in sorted(loaded, key=lambda item: item[0]):
        everything.addTests(suite)
    return everything


def _number(test):
    """(function index, test index) of a @graded test method."""
    number = test_attribute(test, "__number__")
    if not number:
        return (float("inf"),)
    return tuple(int(part) for part in str(number).split("."))
