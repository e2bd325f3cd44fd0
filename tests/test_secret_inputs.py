"""Inputs and training data a submission cannot know in advance.

- every test's inputs come from the grading seed (secret: derived from the
  reference's text and the submission's id), recorded for staff; the
  self-check and the recording of its answers keep the fixed inputs, and
  answers recorded for those match no call of a seeded grading;
- hidden tests run after every visible one (no worker that saw a hidden
  test's inputs serves a visible test), results keep the handout's order;
- the end-to-end tests train on a secret task (permuted pixels and labels,
  noisy held-out digits) and check that the returned parameters were trained
  from the given ones: weights fitted offline earn nothing;
- validate's proof that no visible output shows a hidden test's inputs.
"""
import json

import numpy as np
import pytest

from autograder.checks import data
from autograder.checks import reference as reference_access
from autograder.grading import expected, grade
from autograder.grading import runner
from autograder.suites import harness, inputs, load_suites
from autograder.validation import Expected, at_most
from autograder.validation import validate

Student = pytest.importorskip("autograder.sandbox.student").Student


# ---------------------------------------------------------------------------
# The grading seed
# ---------------------------------------------------------------------------

def draws(seed, *key):
    previous = inputs.grading_seed()
    inputs.set_grading_seed(seed)
    try:
        return inputs.rng_for(*key).normal(size=5)
    finally:
        inputs.set_grading_seed(previous)


def test_without_a_grading_seed_the_inputs_are_the_fixed_ones():
    fixed = np.random.default_rng(inputs.key_seed("softmax.values")).normal(size=5)
    assert np.array_equal(draws(None, "softmax.values"), fixed)


def test_a_grading_seed_changes_every_input_and_reproduces_it():
    assert not np.allclose(draws(7, "softmax.values"), draws(None, "softmax.values"))
    assert not np.allclose(draws(7, "softmax.values"), draws(8, "softmax.values"))
    assert np.array_equal(draws(7, "softmax.values"), draws(7, "softmax.values"))
    assert not np.allclose(draws(7, "softmax.values"), draws(7, "softmax.shape"))


def test_a_grading_seed_is_a_non_negative_int():
    for bad in (-1, 1.5, "3"):
        with pytest.raises(ValueError):
            inputs.set_grading_seed(bad)
    assert inputs.grading_seed() is None


def test_the_seed_depends_on_the_secret_and_the_submission():
    seed = grade.derive_seed(b"reference", b"id:1")
    assert 0 <= seed < 2 ** grade.SEED_BITS
    assert seed == grade.derive_seed(b"reference", b"id:1")
    assert seed != grade.derive_seed(b"reference", b"id:2")
    assert seed != grade.derive_seed(b"another reference", b"id:1")


class Source:
    def __init__(self, source):
        self.source = source


def test_the_seed_comes_from_the_metadata_id_else_the_text(tmp_path):
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"id": 123}))
    secret = reference_access.reference_source().encode()
    by_id = grade.grading_seed(Source("x = 1"), str(tmp_path))
    assert by_id == grade.derive_seed(secret, b"id:123")
    assert by_id == grade.grading_seed(Source("x = 2"), str(tmp_path))
    (tmp_path / "submission_metadata.json").write_text(json.dumps({"id": 124}))
    assert grade.grading_seed(Source("x = 1"), str(tmp_path)) != by_id
    local = grade.grading_seed(Source("x = 1"), None)
    assert local not in (None, by_id)
    assert local != grade.grading_seed(Source("x = 2"), None)
    assert grade.grading_seed(Source("x = 1"), str(tmp_path), explicit=5) == 5


def test_recorded_answers_keep_the_fixed_inputs():
    previous = reference_access._module
    reference_access._module = expected.Recorder(reference_access.reference())
    try:
        assert grade.reference_is_recorded()
        assert grade.grading_seed(Source("x = 1"), None) is None
    finally:
        reference_access._module = previous
    assert not grade.reference_is_recorded()


@pytest.fixture(scope="module")
def reference_student():
    from autograder.config import load_config

    student = Student(reference_access.reference_source(), load_config())
    yield student
    student.close()


class CallRecorder(expected.Recorder):
    """A Recorder that also keeps each recorded call's name and arguments."""

    def __init__(self, module):
        super().__init__(module)
        self._calls = {}

    def __getattr__(self, name):
        recorded = super().__getattr__(name)
        if not callable(recorded):
            return recorded

        def keeping(*args, **kwargs):
            self._calls[expected.fingerprint(name, args, kwargs)] = (name, args)
            return recorded(*args, **kwargs)

        return keeping


def recorded_calls(student, seed, functions=None):
    """{fingerprint: (name, args)} of the reference answers the tests record."""
    previous = reference_access._module
    recorder = CallRecorder(reference_access.reference())
    reference_access._module = recorder
    try:
        results = harness.run(student, functions=functions, seed=seed)
    finally:
        reference_access._module = previous
    assert all(r["status"] == "passed" for r in results.values()), results
    return {key: recorder._calls[key] for key in recorder._answers}


SHOWN_LITERAL = np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0], [-1000.0, 1000.0, 0.0]])


def known_in_advance(name, args):
    """The only recorded answers a seeded grading also asks for: the literal
    logits of softmax's stability test (printed in its feedback, and the test
    goes on with seeded logits) and train's structural tests' own one-hot
    labels (the parent's, never a student's answer)."""
    if name == "softmax":
        return np.array_equal(args[0], SHOWN_LITERAL)
    return name == "one_hot" and args[1] == 3 and len(args[0]) in (5, 12)


def test_answers_recorded_for_the_handout_answer_no_graded_call_of_a_seeded_grading(
        reference_student):
    handout = recorded_calls(reference_student, None)
    assert len(handout) > 50, "nothing recorded"
    assert set(handout) == set(recorded_calls(reference_student, None, ["softmax"])) | set(
        handout)  # the fixed inputs: the same calls again
    seeded = recorded_calls(reference_student, 12345)
    common = set(handout) & set(seeded)
    assert all(known_in_advance(*handout[key]) for key in common), \
        [handout[key][0] for key in common if not known_in_advance(*handout[key])]
    assert len(common) < 0.05 * len(handout)


def test_the_grading_seed_is_recorded_for_staff_and_reproducible(tmp_path):
    path = tmp_path / "sub" / "neural_net.py"
    path.parent.mkdir()
    path.write_text("import numpy as np\n\ndef one_hot(y, num_classes):\n"
                    "    print(np.asarray(y).tolist())\n    raise ValueError\n")
    first = grade.grade_submission(str(path.parent), str(tmp_path / "a.json"), quiet=True)
    seed = first["extra_data"]["grading_seed"]
    again = grade.grade_submission(str(path.parent), str(tmp_path / "b.json"), quiet=True,
                                   seed=seed)
    other = grade.grade_submission(str(path.parent), str(tmp_path / "c.json"), quiet=True,
                                   seed=seed + 1)
    shown = [[t["output"] for t in run["tests"] if t["name"].startswith("one_hot:")]
             for run in (first, again, other)]
    assert shown[0] == shown[1] and shown[0] != shown[2]
    assert inputs.grading_seed() is None  # reset after the run


# ---------------------------------------------------------------------------
# Hidden tests last
# ---------------------------------------------------------------------------

def test_hidden_tests_run_after_every_visible_test_and_results_keep_the_order():
    suite = load_suites()
    before = list(runner.iter_tests(suite))
    ordered = list(runner.iter_tests(grade.hidden_last(suite)))
    hidden = [grade.is_hidden(t) for t in ordered]
    assert any(hidden) and not all(hidden)
    assert hidden == sorted(hidden), "a visible test runs after a hidden one"
    assert sorted(t.id() for t in ordered) == sorted(t.id() for t in before)
    # interleaved before: the property is not vacuous
    assert [grade.is_hidden(t) for t in before] != sorted(grade.is_hidden(t) for t in before)
    numbers = [{"number": runner.test_attribute(t, "__number__")} for t in ordered]
    assert [n["number"] for n in grade.in_suite_order(numbers, suite)] == \
        [runner.test_attribute(t, "__number__") for t in before]
    assert grade.in_suite_order([{"name": "x"}] + numbers, suite)[-1] == {"name": "x"}


# ---------------------------------------------------------------------------
# The secret training task
# ---------------------------------------------------------------------------

def test_the_secret_task_permutes_pixels_and_labels_and_perturbs_the_held_out_digits():
    X, y = data.digits()
    task = data.secret_task(np.random.default_rng(1), 300, 50, 200)
    other = data.secret_task(np.random.default_rng(2), 300, 50, 200)
    assert task["X_train"].shape == (300, 784) and task["y_train"].shape == (300,)
    assert task["X_val"].shape == (50, 784) and task["X_test"].shape == (200, 784)
    assert task["y_test"].dtype == np.int64 and task["X_test"].dtype == np.float64
    assert not np.array_equal(task["pixels"], other["pixels"])
    assert not np.array_equal(task["pixels"], np.arange(784))
    # every training image is a public digit with its pixels moved and its label renamed
    public = {row.tobytes(): label for row, label in zip(X, y)}
    unshuffled = np.empty_like(task["X_train"])
    unshuffled[:, task["pixels"]] = task["X_train"]
    assert all(task["classes"][public[row.tobytes()]] == label
               for row, label in zip(unshuffled, task["y_train"]))
    # no held-out image is a public one, shuffled or not
    held_out = np.empty_like(task["X_test"])
    held_out[:, task["pixels"]] = task["X_test"]
    assert not any(row.tobytes() in public for row in held_out)
    assert 0.0 <= task["X_test"].min() and task["X_test"].max() <= 1.0


def test_training_leaves_the_dead_pixels_weights_alone_and_a_new_init_does_not():
    ref = reference_access.reference()
    task = data.secret_task(np.random.default_rng(3), 500, 50, 50)
    params = ref.init_params(784, 16, 10, 3)
    trained, _ = ref.train(params, task["X_train"], task["y_train"], task["X_val"],
                           task["y_val"], 1.0, 2, 64, 3)
    dead = data.dead_pixels(task["X_train"])
    assert dead.sum() > 50
    assert data.moved_columns(params["W1"], trained["W1"], dead) == 0
    float32 = {k: v.astype(np.float32).astype(np.float64) for k, v in trained.items()}
    assert data.moved_columns(params["W1"], float32["W1"], dead) == 0
    assert data.relative_change(params["W1"], trained["W1"], ~dead) > 0.1
    fresh = ref.init_params(784, 16, 10, 4)
    assert data.moved_columns(params["W1"], fresh["W1"], dead) == dead.sum()
    assert data.relative_change(params["W1"], params["W1"], ~dead) == 0.0


PRETRAINED = '''
import numpy as np

def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    rng = np.random.default_rng(0)
    fitted = {k: rng.normal(0, 0.05, size=np.shape(v)) for k, v in params.items()}
    history = {k: [0.0] * epochs for k in ("train_loss", "train_acc", "val_loss", "val_acc")}
    return fitted, history
'''


@pytest.mark.parametrize("seed", [None, 99])
def test_weights_not_trained_from_the_given_ones_earn_nothing(seed):
    from autograder.config import load_config

    student = Student(PRETRAINED, load_config())
    try:
        results = harness.run(student, keys=["train.accuracy", "train.lr10"], seed=seed)
    finally:
        student.close()
    for key in ("train.accuracy", "train.lr10"):
        assert results[key]["score"] == 0, key
        assert "not trained from the given ones" in results[key]["output"], key


def test_the_reference_passes_the_end_to_end_tests_on_another_secret_task(reference_student):
    results = harness.run(reference_student, keys=["train.accuracy", "train.lr10"], seed=2026)
    assert [r["status"] for r in results.values()] == ["passed", "passed"], results


# ---------------------------------------------------------------------------
# validate: no visible output shows a hidden test's inputs
# ---------------------------------------------------------------------------

def memory_results(visible_output):
    tests = [{"name": "softmax: values", "score": 0, "max_score": 1, "status": "failed",
              "tags": ["softmax"], "output": "softmax raised ValueError: NOW-abcdabcdabcdabcd"},
             {"name": "softmax: values on hidden inputs", "score": 0, "max_score": 1,
              "status": "failed", "tags": ["softmax"], "visibility": "after_published",
              "output": "softmax raised ValueError: NOW-ponmponmponmponm"},
             {"name": "softmax: unchanged", "score": 0, "max_score": 1, "status": "failed",
              "tags": ["softmax"], "output": visible_output}]
    return {"score": 0, "output": "", "tests": tests}


LACKS = at_most(10, visible_output_lacks_hidden=r"NOW-([a-p]{16})")


def test_a_visible_output_that_shows_a_hidden_token_is_a_problem():
    leaked = memory_results("NOW-aaaabbbbccccdddd\nYour code printed: SEEN-ponmponmponmponm")
    problems, _, _, _ = validate.judge(LACKS, leaked)
    assert any("shows 1 token" in p for p in problems), problems
    clean = memory_results("NOW-aaaabbbbccccdddd\nYour code printed: SEEN-abcdabcdabcdabcd")
    assert validate.judge(LACKS, clean)[0] == []


def test_the_hidden_token_proof_needs_a_token_from_a_hidden_test():
    data = memory_results("nothing")
    data["tests"][1]["output"] = "softmax raised ValueError"
    problems, _, _, _ = validate.judge(LACKS, data)
    assert any("nothing to check" in p for p in problems), problems
    assert validate.judge(Expected(at_most=10.0), data)[0] == []
