"""gradescope-utils' JSON runner with its known gaps closed.

The stock JSONTestResult drops a test (and its points) when a subTest fails
or the test is skipped, crashes when setUpClass raises, and has no time
limits. Here every test of the suite ends up in results.json exactly once,
with its points, and the per-test deadline is handed to the student proxy.
"""
import time
import traceback
import unittest

from gradescope_utils.autograder_utils.json_test_runner import JSONTestResult, JSONTestRunner

from autograder.grading import results as results_io
from autograder.grading.expected import NotCheckedLocally
from autograder.sandbox.student import SubmissionError

STUDENT_OUTPUT_CAP = 2000


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def test_attribute(test, name, default=None):
    method = getattr(test, getattr(test, "_testMethodName", ""), None)
    return getattr(method, name, default)


def registry_requirements():
    """{test key: keys it requires} from config.json's registry (`requires`)."""
    from autograder.config import load_config

    return {key: entry["requires"] for key, entry in load_config()["tests"].items()
            if entry["requires"]}


STRUCTURAL_REASON = ("a function that returns zeros of the right shape passes this check "
                     "too (it is trivially loop-free, leaves its arguments unchanged and "
                     "gives the same result every time), so its points go only to a "
                     "working `{function}`")


class GradedResult(JSONTestResult):
    def __init__(self, stream, descriptions, verbosity, results, leaderboard, failure_prefix,
                 student, default_time_s, run_deadline, progress=None):
        super().__init__(stream, descriptions, verbosity, results, leaderboard, failure_prefix)
        self.progress = progress
        self.not_checked_locally = False
        self.student = student
        self.default_time_s = default_time_s
        self.run_deadline = run_deadline
        self.recorded = set()
        self.subtest_failures = {}
        self.setup_errors = []
        self.by_key = {}      # test key -> its result dict
        self.conditions = {}  # test key -> [(keys needed, reason)] recorded by the test

    # -- lifecycle ---------------------------------------------------------
    def startTest(self, test):
        super().startTest(test)
        # partial_credit keeps the score on the function object: a score left by
        # an earlier run in this process must never count for this one.
        function = getattr(type(test), test._testMethodName, None)
        if hasattr(function, "__score__"):
            function.__score__ = None
        self.subtest_failures[test.id()] = []
        if self.progress is not None:
            print(f"  running: {self.getDescription(test)}", file=self.progress, flush=True)
        if self.student is not None:
            self.student.take_output_log()
            limit = test_attribute(test, "__time_limit__", self.default_time_s)
            self.student.begin_test(limit, self.run_deadline)

    def stopTest(self, test):
        failures = self.subtest_failures.pop(test.id(), [])
        if failures and test.id() not in self.recorded:
            self.processResult(test, (AssertionError, AssertionError("\n\n".join(failures)), None))
        super().stopTest(test)

    # -- outcomes ----------------------------------------------------------
    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.subtest_failures.setdefault(test.id(), []).append(self._message(err))

    def addError(self, test, err):
        if not isinstance(test, unittest.TestCase):
            # setUpClass / module fixture failed: its tests will not run at all;
            # run() records each of them as failed with this reason.
            self.errors.append((test, self._exc_info_to_string(err, test)))
            self.setup_errors.append(self._message(err))
            return
        super().addError(test, err)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.processResult(test, (AssertionError, AssertionError(f"not run: {reason}"), None))

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.processResult(test, (AssertionError, AssertionError("unexpected success"), None))

    def processResult(self, test, err=None):
        if test.id() in self.recorded:
            return
        self.recorded.add(test.id())
        self.not_checked_locally = err is not None and isinstance(err[1], NotCheckedLocally)
        if err is not None:
            err = (err[0], _Message(self._message(err)), err[2])
        super().processResult(test, err)

    def buildResult(self, test, err=None):
        result = super().buildResult(test, err)
        key = test_attribute(test, "__graded_key__")
        if key is not None:
            self.by_key[key] = result
            conditions = list(getattr(test, "credit_conditions", ()))
            if conditions:
                self.conditions[key] = conditions
        result["output_format"] = "md"
        if self.not_checked_locally:
            result["extra_data"] = {"not_checked_locally": True}
        if self.student is not None:
            printed = self.student.take_output_log()
            if err is not None and printed and result.get("visibility", "visible") == "visible":
                result["output"] = result.get("output", "") + student_output_block(printed)
        return result

    # -- gates -------------------------------------------------------------
    def apply_gates(self, requirements):
        """Withhold the points of every gated test whose needed tests did not
        all pass. requirements: {key: keys required} from the registry; the
        conditions tests recorded are added. Fails closed."""
        passed = {key: result.get("score", 0.0) >= result.get("max_score", 0.0)
                  and not result.get("extra_data", {}).get("not_checked_locally")
                  for key, result in self.by_key.items()}
        unchecked = {key for key, result in self.by_key.items()
                     if result.get("extra_data", {}).get("not_checked_locally")}
        gates = [(key, tuple(needed), None) for key, needed in requirements.items()]
        gates += [(key, tuple(needed), reason) for key, conditions in self.conditions.items()
                  for needed, reason in conditions]
        for key, needed, reason in gates:
            result = self.by_key.get(key)
            if result is None or not result.get("score", 0.0) > 0:
                continue  # not run here, or already failed on its own
            missing = results_io.unmet_requirements(passed, {key: needed}).get(key)
            if missing:
                results_io.withhold(result, self.gate_message(key, missing, reason),
                                    not_checked_locally=all(m in unchecked for m in missing))

    def gate_message(self, key, missing, reason):
        function = key.split(".", 1)[0]
        names = ", ".join(self.describe_test(other) for other in missing)
        if reason is None:
            return (f"**not awarded** until `{function}` returns the right values "
                    f"({names} must pass first): "
                    + STRUCTURAL_REASON.format(function=function) + ".")
        return f"**not awarded**: {reason} (needs {names} to pass)."

    def describe_test(self, key):
        result = self.by_key.get(key)
        if result is None:
            return f"the test `{key}`, which did not run"
        number = f"test {result['number']} " if result.get("number") else ""
        return f"{number}\"{result.get('name', key)}\""

    def getOutput(self):
        if self.buffer and getattr(self, "_stdout_buffer", None) is None:
            return ""  # a test that never started (its class set-up failed)
        return super().getOutput()

    def _message(self, err):
        error = err[1]
        if isinstance(error, (SubmissionError, AssertionError)) or error is None:
            return str(error) if error is not None else "failed"
        # An exception in the check itself: usually a returned value of a shape the
        # check did not foresee. Staff see the traceback in the log.
        print("".join(traceback.format_exception(*err)))
        return (f"the grader could not check this result ({type(error).__name__}: "
                f"{str(error)[:200]}); compare your return values with the documented "
                "shapes and types")


class _Message(Exception):
    """Carries the final text into gradescope-utils' formatting unchanged."""

    def __str__(self):
        return self.args[0]


def student_output_block(printed):
    text = printed if len(printed) <= STUDENT_OUTPUT_CAP else printed[-STUDENT_OUTPUT_CAP:]
    text = text.replace("```", "'''")
    return f"\n\nYour code printed:\n```\n{text}\n```\n"


class GradedRunner(JSONTestRunner):
    """Runs the suites; every test appears in the results exactly once."""

    def __init__(self, stream, student, default_time_s, run_deadline, progress=None,
                 requirements=None, **kwargs):
        """requirements: {test key: keys it requires}; None reads config.json."""
        super().__init__(stream=stream, failure_prefix="", **kwargs)
        self.requirements = requirements
        self.progress = progress
        self.student = student
        self.default_time_s = default_time_s
        self.run_deadline = run_deadline

    def _makeResult(self):
        return GradedResult(self.stream, self.descriptions, self.verbosity,
                            self.json_data["tests"], self.json_data["leaderboard"],
                            self.failure_prefix, self.student, self.default_time_s,
                            self.run_deadline, self.progress)

    def run_suite(self, suite):
        """Run and return the results dict (not written anywhere yet)."""
        tests = list(iter_tests(suite))
        result = self._makeResult()
        started = time.monotonic()
        result.startTestRun()
        try:
            suite(result)
        finally:
            result.stopTestRun()
        reason = "; ".join(result.setup_errors) or "the test did not run"
        for test in tests:
            if test.id() not in result.recorded:
                result.processResult(test, (AssertionError, AssertionError(reason), None))
        requirements = (registry_requirements() if self.requirements is None
                        else self.requirements)
        result.apply_gates(requirements)
        self.json_data["execution_time"] = round(time.monotonic() - started, 2)
        if not self.json_data["leaderboard"]:
            del self.json_data["leaderboard"]
        return self.json_data
