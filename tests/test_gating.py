"""Gates: nothing earned by doing nothing.

A structural test (shape, unchanged, vectorized, twice, seeded) earns its
points only when its function's value test passes (config.json `requires`);
a gradient check that agrees only with the student's own forward earns them
only when that forward passes its value tests (`consistent_with`). The
runner judges the gates after every test has run, from the outcomes only,
and fails closed.
"""
import copy
import json
import os
import unittest

import numpy as np
import pytest
from gradescope_utils.autograder_utils.decorators import tags, weight

from autograder import config as registry
from autograder.grading import results as results_io
from autograder.grading.expected import NotCheckedLocally
from autograder.grading.grade import grade_submission
from autograder.grading.runner import GradedRunner
from autograder.suites.case import SuiteCase
from autograder.suites.gradient_case import Part, gradient_verdict

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference", "neural_net.py")


# ---------------------------------------------------------------------------
# The pure rule
# ---------------------------------------------------------------------------

def test_a_gate_is_met_only_when_every_needed_test_passed():
    needs = {"f.vectorized": ("f.values",), "f.twice": ("f.values", "f.other")}
    assert results_io.unmet_requirements({"f.values": True, "f.other": True}, needs) == {}
    assert results_io.unmet_requirements({"f.values": False, "f.other": True}, needs) == {
        "f.vectorized": ["f.values"], "f.twice": ["f.values"]}


def test_a_missing_needed_test_fails_closed():
    assert results_io.unmet_requirements({}, {"f.shape": ("f.values",)}) == {
        "f.shape": ["f.values"]}


def test_withhold_zeroes_the_score_and_says_why():
    test = {"score": 2.0, "max_score": 2.0, "status": "passed", "output": ""}
    results_io.withhold(test, "not awarded: because")
    assert (test["score"], test["status"], test["output"]) == (0.0, "failed",
                                                                "not awarded: because")


# ---------------------------------------------------------------------------
# The runner applies them, in any order
# ---------------------------------------------------------------------------

OUTCOME = {}  # key -> "pass" | "fail" | "error" | "skip" | "unchecked"


def graded_key(key):
    def decorate(func):
        func.__graded_key__ = key
        return func
    return decorate


def act(key):
    outcome = OUTCOME.get(key, "pass")
    if outcome == "fail":
        raise AssertionError(f"{key} is wrong")
    if outcome == "error":
        raise RuntimeError("the check itself broke")
    if outcome == "skip":
        raise unittest.SkipTest("skipped")
    if outcome == "unchecked":
        raise NotCheckedLocally("checked on Gradescope only")


class Gated(SuiteCase):
    __test__ = False

    @weight(2)
    @tags("f")
    @graded_key("f.values")
    def test_values(self):
        """f: values"""
        act("f.values")

    @weight(1)
    @tags("f")
    @graded_key("f.vectorized")
    def test_vectorized(self):
        """f: vectorized"""
        act("f.vectorized")

    @weight(3)
    @tags("g")
    @graded_key("g.gradient")
    def test_gradient(self):
        """g: gradient consistent with your own f"""
        act("g.gradient")
        self.credit_only_if(["f.values"], "your gradient agrees with your own `f` only")


REQUIRES = {"f.vectorized": ("f.values",)}


def run_gated(order, requirements=REQUIRES):
    """Results by key, running Gated's tests in the given order of method names."""
    suite = unittest.TestSuite([Gated(name) for name in order])
    runner = GradedRunner(stream=open(os.devnull, "w"), student=None, default_time_s=60,
                          run_deadline=float("inf"), requirements=requirements)
    data = runner.run_suite(suite)
    by_name = {"f: values": "f.values", "f: vectorized": "f.vectorized",
               "g: gradient consistent with your own f": "g.gradient"}
    return {by_name[t["name"]]: t for t in data["tests"]}


ORDERS = [["test_values", "test_vectorized", "test_gradient"],
          ["test_gradient", "test_vectorized", "test_values"]]


@pytest.fixture(autouse=True)
def clean_outcomes():
    OUTCOME.clear()
    yield
    OUTCOME.clear()


@pytest.mark.parametrize("order", ORDERS)
def test_a_working_function_keeps_every_point(order):
    tests = run_gated(order)
    assert {k: t["score"] for k, t in tests.items()} == {
        "f.values": 2, "f.vectorized": 1, "g.gradient": 3}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("outcome", ["fail", "error", "skip"])
def test_a_needed_test_that_fails_errs_or_is_skipped_withholds_the_points(order, outcome):
    OUTCOME["f.values"] = outcome
    tests = run_gated(order)
    assert tests["f.values"]["score"] == 0
    vectorized = tests["f.vectorized"]
    assert (vectorized["score"], vectorized["status"]) == (0, "failed")
    assert vectorized["output"].startswith("**not awarded** until `f` returns the right values")
    assert '"f: values"' in vectorized["output"] and "trivially loop-free" in vectorized["output"]
    gradient = tests["g.gradient"]
    assert gradient["score"] == 0
    assert "agrees with your own `f` only" in gradient["output"]


def test_a_needed_test_that_never_ran_withholds_the_points():
    tests = run_gated(["test_vectorized", "test_gradient"])
    assert tests["f.vectorized"]["score"] == 0 and "did not run" in tests["f.vectorized"]["output"]
    assert tests["g.gradient"]["score"] == 0


def test_a_gated_test_that_fails_on_its_own_keeps_its_own_message():
    OUTCOME.update({"f.values": "fail", "f.vectorized": "fail"})
    tests = run_gated(ORDERS[0])
    assert "f.vectorized is wrong" in tests["f.vectorized"]["output"]


def test_the_gates_come_from_the_requirements_given():
    OUTCOME["f.values"] = "fail"
    tests = run_gated(ORDERS[0], requirements={})
    assert tests["f.vectorized"]["score"] == 1  # no `requires`: structural test stands alone
    assert tests["g.gradient"]["score"] == 0    # the test's own condition still holds


def test_a_needed_test_checked_only_on_gradescope_leaves_the_gated_one_unchecked_too():
    OUTCOME["f.values"] = "unchecked"
    tests = run_gated(ORDERS[0])
    assert tests["f.vectorized"]["score"] == 0
    assert tests["f.vectorized"]["extra_data"]["not_checked_locally"] is True


def test_conditions_belong_to_one_run_of_a_test():
    first = Gated("test_gradient")
    first.run(unittest.TestResult())
    first.run(unittest.TestResult())
    assert len(first.credit_conditions) == 1


# ---------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------

STRUCTURAL = ("shape", "unchanged", "vectorized", "twice", "seeded")


def test_every_structural_test_of_a_function_with_values_requires_them():
    raw = registry.load_config(derived=False)
    for name, function in raw["functions"].items():
        if "values" not in function["tests"]:
            continue
        for test_name, test in function["tests"].items():
            if test_name in STRUCTURAL:
                assert test.get("requires") == ["values"], f"{name}.{test_name}"


def test_every_gradient_check_names_the_forward_it_trusts():
    tests = registry.load_config()["tests"]
    for key, entry in tests.items():
        if key.endswith(".gradient"):
            assert entry["consistent_with"], key
            assert all(k.endswith(".values") for k in entry["consistent_with"]), key


def test_flat_tests_spell_requirements_as_keys():
    tests = registry.load_config()["tests"]
    assert tests["softmax.vectorized"]["requires"] == ("softmax.values",)
    assert tests["softmax.values"]["requires"] == ()
    assert tests["sigmoid_backward.gradient"]["consistent_with"] == ("sigmoid_forward.values",)


def broken(edit):
    raw = copy.deepcopy(registry.load_config(derived=False))
    edit(raw["functions"])
    return raw


@pytest.mark.parametrize("edit,says", [
    (lambda f: f["softmax"]["tests"]["shape"].update(requires=["valeus"]), "not a test"),
    (lambda f: f["softmax"]["tests"]["shape"].update(requires=["shape"]), "the test itself"),
    (lambda f: f["softmax"]["tests"]["shape"].update(requires=["vectorized"]), "gated"),
    (lambda f: f["softmax"]["tests"]["shape"].update(requires=["hidden_values"]), "not visible"),
    (lambda f: f["backward"]["tests"]["gradient"].update(consistent_with=["forward"]),
     "not a test"),
    (lambda f: f["softmax"]["tests"]["shape"].update(requires="values"), "should be a list"),
])
def test_the_schema_refuses_a_gate_that_could_never_be_judged(edit, says):
    with pytest.raises(registry.ConfigError, match=says):
        registry.check_config(broken(edit))


def test_the_handouts_copy_keeps_its_gates_valid():
    raw = registry.load_config(derived=False)
    hidden = [k for k, t in registry.flat_tests(raw).items() if t["visibility"] != "visible"]
    registry.check_config(registry.without_tests(raw, hidden))


# ---------------------------------------------------------------------------
# The gradient verdict
# ---------------------------------------------------------------------------

def part(got, numeric, true):
    return Part("dZ", np.asarray(got, float), np.shape(got), numeric, true)


def test_an_exact_match_is_credited_outright():
    g = np.array([[1.0, -2.0]])
    assert gradient_verdict(part(g, None, g), 1e-6, 1e-3, 1e-2)[::2] == (True, "exact")


def test_an_all_zero_exact_gradient_proves_nothing():
    zero = np.zeros((1, 2))
    assert gradient_verdict(part(zero, None, zero), 1e-6, 1e-3, 1e-2)[0] is False
    # the numeric gradient of a constant forward is zero too: only "own" agreement
    assert gradient_verdict(part(zero, zero, zero), 1e-6, 1e-3, 1e-2)[::2] == (True, "own")


def test_agreement_with_the_students_forward_only_is_marked_own():
    true, mine = np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])
    assert gradient_verdict(part(mine, mine, true), 1e-6, 1e-3, 1e-2)[::2] == (True, "own")
    assert gradient_verdict(part(mine, true, true), 1e-6, 1e-3, 1e-2)[::2] == (False, None)


# ---------------------------------------------------------------------------
# End to end, through the sandboxed worker and the real sigmoid suite
# ---------------------------------------------------------------------------

SIGMOID_FORWARD = ("    E = np.exp(-np.abs(Z))\n"
                   "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n")
SIGMOID_BACKWARD = "    return dA * A * (1.0 - A)\n"
KEYS = ["sigmoid_forward.values", "sigmoid_forward.vectorized", "sigmoid_backward.values",
        "sigmoid_backward.gradient", "sigmoid_backward.vectorized"]


def grade_sigmoid(tmp_path, *replacements):
    from autograder.suites import graded, harness, load_suites

    source = harness.mutate(open(REFERENCE, encoding="utf-8").read(), *replacements)
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "neural_net.py").write_text(source)
    data = grade_submission(str(folder), str(tmp_path / "results.json"),
                            suite=harness.select(load_suites(), keys=KEYS),
                            bind=graded.set_student, quiet=True)
    by_number = {entry["number"]: key for key, entry in graded.TESTS.items()}
    results_io.validate_results(json.loads((tmp_path / "results.json").read_text()))
    return {by_number[t["number"]]: t for t in data["tests"]}


def test_constant_forward_and_zero_backward_earn_nothing(tmp_path):
    tests = grade_sigmoid(tmp_path, (SIGMOID_FORWARD, "    return np.full(np.shape(Z), 0.5)\n"),
                          (SIGMOID_BACKWARD, "    return np.zeros(np.shape(A))\n"))
    assert {k: t["score"] for k, t in tests.items()} == dict.fromkeys(KEYS, 0)
    gradient = tests["sigmoid_backward.gradient"]["output"]
    # A constant A cannot tell a right backward from zeros: judged on the true A instead.
    assert "a constant" in gradient and "exact gradient" in gradient and "all zeros" in gradient
    # Withheld by the gate, or failed on its own by the timing backstop's value check.
    vectorized = tests["sigmoid_backward.vectorized"]["output"]
    assert "trivially loop-free" in vectorized or "wrong result on the large timing" in vectorized


def test_the_right_backward_keeps_its_gradient_points_beside_a_wrong_forward(tmp_path):
    tests = grade_sigmoid(tmp_path, (SIGMOID_FORWARD, "    E = np.exp(-np.abs(2.0 * Z))\n"
                                     "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n"))
    assert tests["sigmoid_forward.values"]["score"] == 0
    assert tests["sigmoid_forward.vectorized"]["score"] == 0  # gated: its values fail
    for key in ("sigmoid_backward.values", "sigmoid_backward.gradient",
                "sigmoid_backward.vectorized"):
        assert tests[key]["status"] == "passed", (key, tests[key].get("output"))


def test_a_backward_consistent_only_with_a_wrong_forward_is_withheld(tmp_path):
    tests = grade_sigmoid(tmp_path, (SIGMOID_FORWARD, "    E = np.exp(-np.abs(2.0 * Z))\n"
                                     "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n"),
                          (SIGMOID_BACKWARD, "    return 2.0 * dA * A * (1.0 - A)\n"))
    gradient = tests["sigmoid_backward.gradient"]
    assert gradient["score"] == 0 and "not with the exact gradient" in gradient["output"]
