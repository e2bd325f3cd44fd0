"""The runner and results.json machinery, with a small suite of its own.

gradescope-utils' stock runner loses a test's points on a failing subTest or
a skip and writes no JSON when setUpClass raises; these tests pin down that
ours records every test once, caps scores and always writes a valid file.
"""
import json
import os
import unittest

import numpy as np
import pytest
from gradescope_utils.autograder_utils.decorators import partial_credit, tags, weight

from autograder.grading import results as results_io
from autograder.grading.grade import grade_submission, summary_text

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "..", "reference", "neural_net.py")
CURRENT = {}


class Machinery(unittest.TestCase):
    __test__ = False  # run by the grader's runner below, not collected by pytest
    @weight(2)
    @tags("linear_forward")
    def test_value(self):
        """linear_forward: values"""
        X, W, b = np.ones((3, 2)), np.ones((4, 2)), np.zeros(4)
        np.testing.assert_allclose(CURRENT["student"].linear_forward(X, W, b), 2 * np.ones((3, 4)))

    @weight(3)
    @tags("softmax")
    def test_subtests(self):
        """softmax: rows sum to one"""
        for n in (2, 3):
            with self.subTest(n=n):
                P = CURRENT["student"].softmax(np.zeros((n, n)))
                self.assertTrue(np.allclose(P.sum(axis=1), 1), f"rows do not sum to 1 for N={n}")

    @weight(1)
    @tags("sigmoid_forward")
    def test_skipped(self):
        """sigmoid_forward: skipped test"""
        self.skipTest("skipped on purpose")

    @partial_credit(4)
    @tags("train")
    def test_partial(self, set_score):
        """train: partial credit above the maximum"""
        CURRENT["student"].sigmoid_forward(np.zeros(1))
        set_score(99)


class BrokenSetUp(unittest.TestCase):
    __test__ = False
    @classmethod
    def setUpClass(cls):
        raise RuntimeError("fixture exploded")

    @weight(5)
    @tags("predict")
    def test_never_runs(self):
        """predict: needs the fixture"""


def machinery_suite():
    loader = unittest.TestLoader()
    return unittest.TestSuite([loader.loadTestsFromTestCase(Machinery),
                               loader.loadTestsFromTestCase(BrokenSetUp)])


def grade(path, tmp_path):
    results = tmp_path / "results.json"
    data = grade_submission(str(path), str(results), suite=machinery_suite(),
                            bind=lambda student: CURRENT.update(student=student), quiet=True)
    on_disk = json.loads(results.read_text())
    assert on_disk == data
    results_io.validate_results(on_disk)
    return {t["name"]: t for t in on_disk["tests"]}, on_disk


def test_every_test_is_recorded_once_with_capped_scores(tmp_path):
    tests, data = grade(REFERENCE, tmp_path)
    assert len(tests) == 5
    assert tests["linear_forward: values"]["score"] == 2
    assert tests["softmax: rows sum to one"]["status"] == "passed"
    skipped = tests["sigmoid_forward: skipped test"]
    assert (skipped["score"], skipped["status"]) == (0, "failed")
    assert "skipped on purpose" in skipped["output"]
    assert tests["train: partial credit above the maximum"]["score"] == 4  # capped from 99
    never = tests["predict: needs the fixture"]
    assert never["status"] == "failed" and "fixture exploded" in never["output"]
    assert data["score"] == 2 + 3 + 4


def test_a_failing_subtest_keeps_its_test_and_loses_its_points(tmp_path):
    broken = tmp_path / "sub" / "neural_net.py"
    broken.parent.mkdir()
    broken.write_text(open(REFERENCE).read() + "\ndef softmax(Z):\n    return np.exp(Z) / np.exp(Z).sum()\n")
    tests, data = grade(broken.parent, tmp_path)
    failed = tests["softmax: rows sum to one"]
    assert failed["score"] == 0 and "rows do not sum to 1" in failed["output"]
    assert tests["linear_forward: values"]["score"] == 2  # others keep their points


def test_student_output_is_shown_only_on_failure(tmp_path):
    noisy = tmp_path / "neural_net.py"
    noisy.write_text(open(REFERENCE).read() + "\ndef linear_forward(X, W, b):\n"
                     "    print('debugging shapes', X.shape)\n    return X\n")
    tests, _ = grade(noisy, tmp_path)
    assert "debugging shapes (3, 2)" in tests["linear_forward: values"]["output"]


@pytest.mark.parametrize("content,message", [
    (b"", "is empty"),
    (b"\xff\xfe\x00bad", "not valid UTF-8"),
    (b"def f(:\n", "SyntaxError"),
])
def test_unloadable_submissions_score_zero_with_a_reason(tmp_path, content, message):
    (tmp_path / "neural_net.py").write_bytes(content)
    tests, data = grade(tmp_path, tmp_path)
    assert data["score"] == 0 and len(tests) == 5
    assert message in data["output"]
    calling = ("linear_forward: values", "softmax: rows sum to one",
               "train: partial credit above the maximum")
    assert all(message in tests[name]["output"] for name in calling)


def test_a_wrongly_named_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "NeuralNet.py").write_text(open(REFERENCE).read())
    _, data = grade(tmp_path, tmp_path)
    assert data["score"] == 0 and "`NeuralNet.py`" in data["output"]


def test_a_grader_crash_still_writes_a_valid_results_file(tmp_path):
    results = tmp_path / "results.json"

    def explode(student):
        raise RuntimeError("bug in the grader")

    data = grade_submission(REFERENCE, str(results), suite=machinery_suite(), bind=explode,
                            quiet=True)
    results_io.validate_results(json.loads(results.read_text()))
    assert data["score"] == 0 and "internal error" in data["output"]


def test_schema_rejects_what_gradescope_would_reject():
    good = results_io.finalize({"tests": [{"name": "a", "score": 1, "max_score": 1}]})
    results_io.validate_results(good)
    for bad in ({"tests": []}, {"score": "1", "tests": []},
                {"score": 1, "tests": [{"name": "a", "status": "ok"}]},
                {"score": 1, "tests": [], "visibility": "public"}):
        with pytest.raises(ValueError):
            results_io.validate_results(bad)


def test_summary_text_lists_every_test_and_the_total(tmp_path):
    _, data = grade(REFERENCE, tmp_path)
    text = summary_text(data)
    assert "TOTAL 9 / 15" in text and "FAIL" in text and "PASS" in text
