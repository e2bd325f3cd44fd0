"""train judged on the student's own functions: the worker's record of what
train passes to forward, backward and sgd_step, and the parent's replay that
makes a forged record worthless."""
import numpy as np
import pytest

from autograder.checks.reference import reference_source
from autograder.sandbox import wire
from autograder.suites import graded, harness
from autograder.suites import test_train as T
from autograder.validation.cheats import CHEATS

Student = pytest.importorskip("autograder.sandbox.student").Student

STRUCTURE = {"train.small_set", "train.update_count", "train.each_example_once",
             "train.aligned"}


def record_of(batches, lr=0.5):
    """A record as the worker sends it: forward(X), backward(Y) linked to it, sgd_step(lr)."""
    record = []
    for X, Y in batches:
        record.append([T.FORWARD, -1, X])
        record.append([T.BACKWARD, len(record) - 1, Y])
        record.append([T.SGD_STEP, len(record) - 1, lr])
    return record


def test_updates_from_record_follows_links_and_latest_calls():
    X, Y = np.ones((4, 6)), np.eye(3)[[0, 1, 2, 0]]
    updates = T.updates_from_record(record_of([(X, Y), (2 * X, Y)], lr=0.25))
    assert [u.lr for u in updates] == [0.25, 0.25]
    assert np.array_equal(updates[1].X, 2 * X)
    # without links (-1), the latest forward / backward before the call is meant
    unlinked = [[T.FORWARD, -1, X], [T.FORWARD, -1, 3 * X], [T.BACKWARD, -1, Y],
                [T.SGD_STEP, -1, 0.5]]
    (update,) = T.updates_from_record(unlinked)
    assert np.array_equal(update.X, 3 * X)
    # train that updates without sgd_step: an update with no learning rate
    (inline,) = T.updates_from_record(unlinked[:3])
    assert inline.lr is None


@pytest.mark.parametrize("record", [
    None, "calls", [[0, -1]], [[7, -1, np.ones((2, 2))]], [[0, 5, np.ones((2, 2))]],
    [[0, -1, "X"]], [[1, -1, np.ones((2, 3))]], [[2, -1, 0.5]],
    [[0, -1, np.ones((2, 6))], [1, 0, np.ones((2, 3))], [2, 1, float("nan")]],
    [[0, -1, np.ones((2, 6))], [1, 0, np.ones((2, 3))], [2, 1, 0.5], [2, 1, 0.5]],
], ids=["none", "str", "short", "kind", "link_ahead", "x_str", "backward_first",
        "step_first", "nan_lr", "two_steps_one_backward"])
def test_a_malformed_record_is_refused(record):
    assert T.updates_from_record(record) is None


def test_rows_and_epochs():
    X = np.arange(24, dtype=float).reshape(4, 6)
    assert T.rows_of(X[[2, 0]], X).tolist() == [2, 0]
    assert T.rows_of(X[[2, 0]].astype(np.float32), X).tolist() == [2, 0]
    assert T.rows_of(X[[2]] + 0.5, X) is None
    updates = T.updates_from_record(record_of([(X[[1, 3]], np.eye(3)[[0, 0]]),
                                               (X[[0, 2]], np.eye(3)[[0, 0]])]))
    for update in updates:
        update.rows = T.rows_of(update.X, X)
    assert [e.tolist() for e in T.epochs_of(updates, 4)] == [[1, 3, 0, 2]]
    assert T.epochs_of(updates, 3) is None


@pytest.fixture(scope="module")
def reference_worker():
    proxy = Student(reference_source(), graded.CONFIG)
    graded.set_reference_student(proxy)
    yield proxy
    graded.set_reference_student(None)
    proxy.close()


def test_the_worker_records_train_and_restores_the_module(reference_worker):
    r = np.random.default_rng(0)
    params = T.small_params(r)
    X, y = r.normal(size=(10, T.M)), r.integers(0, T.K, size=10)
    args = (params, X, y, X[:3], y[:3], 0.5, 2, 4, 0)
    first = reference_worker.call("train", *args, record=T.RECORD_PLAN)
    updates = T.updates_from_record(first.record)
    assert [len(u.X) for u in updates] == [4, 4, 2] * 2
    # the wrappers are gone after the call: recording again does not double the calls
    again = reference_worker.call("train", *args, record=T.RECORD_PLAN)
    assert len(again.record) == len(first.record)
    assert reference_worker.call("train", *args).record is None
    previous = graded._student
    graded.set_student(reference_worker)
    try:
        replayed = T.replay(params, updates, 0.5)
    finally:
        graded.set_student(previous)
    assert np.array_equal(T.flat(replayed[-1]), T.flat(first.value[0]))


@pytest.mark.parametrize("name", ["rewritten_train_record", "forged_train_record"])
def test_a_forged_record_earns_no_structure_points(reference_worker, name):
    (entry,) = [c for c in CHEATS if c.name == name]
    proxy = Student(entry.source_bytes().decode("utf-8"), graded.CONFIG)
    try:
        results = harness.run(proxy, keys=STRUCTURE - {"train.small_set"})
    finally:
        proxy.close()
    for key, result in results.items():
        assert result["status"] == "failed", key
        assert "not what its own calls produce" in result["output"], result["output"]


# -- the end-to-end tests' second secret task ------------------------------------

def _hard_first_tasks(monkeypatch, hard_attempts):
    """Make the secret tasks of `hard_attempts` ones a correct program cannot do
    well on: the labels the parent judges with no longer match the pixels."""
    real = T.TestTrain.end_to_end_args

    def end_to_end_args(self, settings, attempt=0):
        args, split = real(self, settings, attempt)
        if attempt in hard_attempts:
            split = dict(split, y_test=(split["y_test"] + 1) % 10,
                         y_train=(split["y_train"] + 1) % 10)
        return args, split

    monkeypatch.setattr(T.TestTrain, "end_to_end_args", end_to_end_args)


@pytest.mark.parametrize("hard,passes", [((0,), True), ((0, 1), False)],
                         ids=["first-task-hard", "both-tasks-hard"])
def test_a_hard_secret_task_gets_a_second_one_before_the_end_to_end_tests_fail(
        reference_worker, monkeypatch, hard, passes):
    _hard_first_tasks(monkeypatch, hard)
    results = harness.run(reference_worker, keys={"train.accuracy", "train.lr10"},
                          reference_proxy=reference_worker, seed=7)
    for key in ("train.accuracy", "train.lr10"):
        assert (results[key]["score"] == results[key]["max_score"]) is passes, results[key]
    if not passes:
        assert "on 2 secret tasks" in results["train.accuracy"]["output"]
        assert "on 2 secret tasks" in results["train.lr10"]["output"]


# -- the end-to-end runs: a compact record, replayed with right layers -----------

def _compact_run(proxy, n=300, epochs=2, batch=32, lr=0.5):
    r = np.random.default_rng(3)
    params = T.small_params(r)
    X = r.uniform(size=(n, T.M))
    y = r.integers(0, T.K, size=n)
    args = (params, X, y, X[:20], y[:20], lr, epochs, batch, 0)
    res = proxy.call("train", *args, record=T.COMPACT_PLAN)
    return args, res


def test_a_whole_run_is_recorded_compactly_and_replays_to_what_train_returned(reference_worker):
    args, res = _compact_run(reference_worker)
    params, X, _, _, _, lr = args[:6]
    assert set(res.record) == {"kind", "link", "size", "values"}  # four arrays, whatever the run
    updates = T.updates_from_record(T.expand_compact_record(res.record), compact=True)
    assert [len(u.X) for u in updates] == [32] * 9 + [12] + [32] * 9 + [12]
    found = T.rows_of_digest([u.X for u in updates], wire.row_digest(X), X)
    for update, rows in zip(updates, found):
        update.rows = rows
    assert np.array_equal(np.sort(np.concatenate([u.rows for u in updates[:10]])), np.arange(300))
    assert T.replays_to(params, updates, X, lr, res.value[0])
    moved = {k: v + 1e-3 for k, v in res.value[0].items()}  # weights from elsewhere
    assert not T.replays_to(params, updates, X, lr, moved)


def test_rows_are_found_from_their_digests_through_float32_rounding():
    X = np.random.default_rng(5).uniform(size=(500, 784))
    digests = wire.row_digest(X)
    rows = np.array([7, 499, 0, 7])
    found = T.rows_of_digest([wire.row_digest(X[rows].astype(np.float32)),
                              wire.row_digest(X[[3]] + 0.01), wire.row_digest(X[[1, 2]])],
                             digests, X)
    assert found[0].tolist() == rows.tolist()
    assert found[1] is None  # a row that is not one of X's
    assert found[2].tolist() == [1, 2]
    twins = np.vstack([X, X[[5]]])  # the same image twice: either row is that image
    assert T.rows_of_digest([wire.row_digest(X[[5]])], wire.row_digest(twins), twins)[0] \
        .tolist() == [5]


@pytest.mark.parametrize("record", [
    None, [], {"kind": np.zeros(1, int)},
    {"kind": np.zeros(2, int), "link": np.zeros(1, int), "size": np.zeros(2, int),
     "values": np.zeros(0)},
    {"kind": np.zeros(1, int), "link": np.full(1, -1), "size": np.array([4]),
     "values": np.zeros(3)},
    {"kind": np.zeros(1, int), "link": np.full(1, -1), "size": np.array([2]),
     "values": np.zeros(2, dtype=np.int64)},
], ids=["none", "list", "missing", "lengths", "sizes", "int_values"])
def test_a_malformed_compact_record_is_refused(record):
    assert T.expand_compact_record(record) is None


def test_weights_made_where_no_call_is_seen_earn_no_accuracy(reference_worker):
    (entry,) = [c for c in CHEATS if c.name == "weights_made_where_no_call_is_seen"]
    proxy = Student(entry.source_bytes().decode("utf-8"), graded.CONFIG)
    try:
        results = harness.run(proxy, keys={"train.accuracy"}, reference_proxy=reference_worker,
                              seed=11)
    finally:
        proxy.close()
    assert results["train.accuracy"]["score"] == 0
    assert "accuracy not credited" in results["train.accuracy"]["output"]


def test_the_second_task_can_only_help(reference_worker, monkeypatch):
    """A second run that fails (a timeout, say) keeps the first run's credit."""
    real = T.TestTrain._accuracy_on_task

    def first_partial_second_broken(self, settings, attempt):
        if attempt:
            raise T.SubmissionError("timed out in train: this test's time limit ran out")
        _, args, split = real(self, settings, attempt)
        return settings["tiers"][1][0] + 1e-3, args, split  # the 75 % tier

    monkeypatch.setattr(T.TestTrain, "_accuracy_on_task", first_partial_second_broken)
    results = harness.run(reference_worker, keys={"train.accuracy"},
                          reference_proxy=reference_worker, seed=3)
    weight = graded.TESTS["train.accuracy"]["weight"]
    assert results["train.accuracy"]["score"] == pytest.approx(0.75 * weight)
    assert "on the secret task;" in results["train.accuracy"]["output"]
