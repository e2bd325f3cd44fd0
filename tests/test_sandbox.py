"""The sandbox and the Student proxy against faulty and hostile submissions.

Each case is the reference with one function replaced (or a whole file); the
proxy must turn every failure into a SubmissionError with a clear message,
keep other functions working, and leave no process of the worker user.
"""
import json
import os
import re
import resource
import time

import numpy as np
import pytest

from autograder.sandbox import student as oracle, worker as worker_module, workers as sandbox
from autograder.config import load_config

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = open(os.path.join(HERE, "..", "reference", "neural_net.py"), encoding="utf-8").read()
IS_ROOT = os.geteuid() == 0


def config(call_timeout=2):
    settings = load_config()
    settings["limits"] = dict(settings["limits"], call_timeout_s=call_timeout,
                              startup_timeout_s=3)
    return settings


def with_override(code):
    """The reference with extra definitions appended (later defs win)."""
    return REFERENCE + "\n\n" + code + "\n"


def small_inputs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(5, 3)), rng.normal(size=(4, 3)), rng.normal(size=4)


@pytest.fixture
def make_student():
    made = []

    def make(source, **kwargs):
        student = oracle.Student(source, config(**kwargs))
        made.append(student)
        return student

    yield make
    for student in made:
        uid = student.isolation.user.pw_uid if student.isolation.dedicated_user else None
        if student.closed:
            continue  # closed by the test; its user may be another run's by now
        student.close()
        if uid is not None:
            assert sandbox.live_processes_of(uid) == [], "worker user's processes left behind"


def test_reference_values_cross_the_boundary_exactly(make_student):
    student = make_student(REFERENCE)
    X, W, b = small_inputs()
    Z = student.linear_forward(X, W, b)
    assert Z.dtype == np.float64 and Z.shape == (5, 4)
    np.testing.assert_array_equal(Z, X @ W.T + b)
    params = student.init_params(3, 4, 2, seed=1)
    assert sorted(params) == ["W1", "W2", "b1", "b2"]
    assert isinstance(student.cross_entropy(np.full((2, 3), 1 / 3), np.eye(3)[:2]), float)


def test_trace_counts_and_arguments_after_the_call(make_student):
    student = make_student(REFERENCE)
    X, W, b = small_inputs()
    small = student.call("linear_forward", X, W, b, trace=True, return_args=True)
    big = student.call("linear_forward", np.ones((500, 3)), W, b, trace=True)
    assert small.steps == big.steps > 0
    np.testing.assert_array_equal(small.args_after[0], X)


def test_a_loop_over_examples_shows_in_the_step_count(make_student):
    student = make_student(with_override(
        "def linear_forward(X, W, b):\n"
        "    return np.array([W @ x + b for x in X])\n"))
    W, b = np.ones((4, 3)), np.zeros(4)
    few = student.call("linear_forward", np.ones((8, 3)), W, b, trace=True).steps
    many = student.call("linear_forward", np.ones((64, 3)), W, b, trace=True).steps
    assert many > few * 4


HOSTILE_CALLS = [
    ("hang that swallows signals",
     "def linear_forward(X, W, b):\n"
     "    import signal\n"
     "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):\n"
     "        signal.signal(s, signal.SIG_IGN)\n"
     "    while True:\n        pass\n",
     oracle.CallTimeout, "timed out after 2 s in linear_forward"),
    ("sleep", "def linear_forward(X, W, b):\n    import time\n    time.sleep(60)\n",
     oracle.CallTimeout, "timed out"),
    ("segfault", "def linear_forward(X, W, b):\n    import ctypes\n    ctypes.string_at(0)\n",
     oracle.WorkerCrashed, "killed by signal 11"),
    ("os._exit", "def linear_forward(X, W, b):\n    import os\n    os._exit(3)\n",
     oracle.WorkerCrashed, "exited with code 3"),
    ("sys.exit", "def linear_forward(X, W, b):\n    import sys\n    sys.exit(0)\n",
     oracle.StudentException, "raised SystemExit"),
    ("KeyboardInterrupt", "def linear_forward(X, W, b):\n    raise KeyboardInterrupt\n",
     oracle.StudentException, "raised KeyboardInterrupt"),
    ("exception", "def linear_forward(X, W, b):\n    return X @ W\n",
     oracle.StudentException, "raised ValueError: matmul"),
    ("not implemented", "def linear_forward(X, W, b):\n    raise NotImplementedError\n",
     oracle.StudentException, "linear_forward is not implemented yet"),
    ("memory bomb",
     "def linear_forward(X, W, b):\n    hoard = [bytearray(10 ** 8) for _ in range(100)]\n",
     oracle.MemoryLimit, "exceeded the memory limit in linear_forward"),
    ("bool dtype", "def linear_forward(X, W, b):\n    return X @ W.T > 0\n",
     oracle.BadReturn, "dtype bool"),
    ("complex dtype", "def linear_forward(X, W, b):\n    return (X @ W.T + b) * 1j\n",
     oracle.BadReturn, "dtype complex128"),
    ("object dtype",
     "def linear_forward(X, W, b):\n    return np.array([None, 1.0], dtype=object)\n",
     oracle.BadReturn, "dtype object"),
    ("forged reply claiming 10^9 elements",
     "def linear_forward(X, W, b):\n"
     "    import json, os, struct, sys, time\n"
     "    fd = json.loads(sys.argv[1])['out_fd']\n"
     "    header = json.dumps({'op': 'return', 'value': {'t': 'a', 'i': 0},\n"
     "                         'arrays': [{'dtype': '<f8', 'shape': [10 ** 9]}]}).encode()\n"
     "    os.write(fd, struct.pack('>I', len(header)) + header)\n"
     "    time.sleep(30)\n",
     oracle.ProtocolViolation, "exceeds the cap"),
    ("forged reply with a pickled object",
     "def linear_forward(X, W, b):\n"
     "    import json, os, struct, sys, time\n"
     "    fd = json.loads(sys.argv[1])['out_fd']\n"
     "    header = json.dumps({'op': 'return', 'value': {'t': 'a', 'i': 0},\n"
     "                         'arrays': [{'dtype': '|O', 'shape': [1]}]}).encode()\n"
     "    os.write(fd, struct.pack('>I', len(header)) + header)\n"
     "    time.sleep(30)\n",
     oracle.ProtocolViolation, "not allowed"),
]


@pytest.mark.parametrize("name,code,error,message", HOSTILE_CALLS, ids=[c[0] for c in HOSTILE_CALLS])
def test_a_failing_function_fails_alone_with_a_clear_message(make_student, name, code, error,
                                                             message):
    student = make_student(with_override(code))
    X, W, b = small_inputs()
    started = time.monotonic()
    with pytest.raises(error) as caught:
        student.linear_forward(X, W, b)
    assert message in str(caught.value)
    assert time.monotonic() - started < 10
    # The other functions still work (in a fresh worker if the old one died).
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)


def test_a_hung_function_fails_fast_the_second_time(make_student):
    student = make_student(with_override(
        "def softmax(Z):\n    while True:\n        pass\n"))
    with pytest.raises(oracle.CallTimeout):
        student.softmax(np.zeros((2, 3)))
    started = time.monotonic()
    with pytest.raises(oracle.CallTimeout):
        student.softmax(np.zeros((2, 3)))
    assert time.monotonic() - started < 0.5


def test_strange_return_values_are_rebuilt_as_plain_data(make_student):
    student = make_student(with_override(
        "class Liar(np.ndarray):\n"
        "    def __eq__(self, other):\n        return True\n"
        "    def __array_function__(self, *args, **kwargs):\n        return True\n"
        "class Evil:\n"
        "    def __reduce__(self):\n        return (print, ('pwned',))\n"
        "def linear_forward(X, W, b):\n    return np.zeros((5, 4)).view(Liar)\n"
        "def softmax(Z):\n    return Evil()\n"
        "def cross_entropy(P, Y):\n    return 'low'\n"
        "def one_hot(y, num_classes):\n    return None\n"))
    X, W, b = small_inputs()
    value = student.linear_forward(X, W, b)
    assert type(value) is np.ndarray and not np.array_equal(value, X @ W.T + b)
    assert isinstance(student.softmax(np.zeros((2, 2))), oracle.Opaque)
    assert student.cross_entropy(np.ones((1, 1)), np.ones((1, 1))).type_name == "str"
    assert student.one_hot(np.zeros(2, dtype=int), 2) is None


def test_a_missing_function_is_named(make_student):
    student = make_student("import numpy as np\n")
    with pytest.raises(oracle.MissingFunction, match="softmax is not defined"):
        student.softmax(np.zeros((2, 2)))


IMPORT_FAILURES = [
    ("syntax error", "def f(:\n    pass\n", "at line 1: SyntaxError"),
    ("missing module", "import torch\n", "No module named 'torch'"),
    ("exit at import", "import sys\nsys.exit(1)\n", "SystemExit"),
    ("os._exit at import", "import os\nos._exit(0)\n", "exited with code 0"),
    ("hang at import", "while True:\n    pass\n", "did not finish within 3 s"),
]


@pytest.mark.parametrize("name,source,message", IMPORT_FAILURES, ids=[c[0] for c in IMPORT_FAILURES])
def test_import_failures_fail_every_call_with_one_message(make_student, name, source, message):
    student = make_student(source)
    for _ in range(2):
        with pytest.raises(oracle.ImportFailed) as caught:
            student.softmax(np.zeros((2, 2)))
        assert message in str(caught.value)


def test_output_flood_is_capped_in_the_parent(make_student):
    """Writes to the file descriptor itself bypass the worker's budget: the parent cuts them."""
    student = make_student(with_override(
        "def linear_forward(X, W, b):\n"
        "    import os\n"
        "    line = b'x' * 1023 + b'\\n'\n"
        "    try:\n"
        "        for _ in range(2 ** 14):\n"  # 16 MB: the whole capture file
        "            os.write(1, line * 64)\n"
        "    except OSError:\n"
        "        pass\n"
        "    return X @ W.T + b\n"))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    X, W, b = small_inputs()
    result = student.call("linear_forward", X, W, b)
    limits = student.limits
    assert len(result.output) <= ((limits["output_head_kb"] + limits["output_tail_kb"]) << 10) + 200
    assert "bytes of output cut" in result.output
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 64 << 10  # KB


def test_print_and_warning_floods_never_end_the_worker(make_student):
    """A warning per example used to fill the capture file; the failed flush then
    ended the worker ("exited with code 120") although the student never exits."""
    student = make_student(with_override(
        "def linear_forward(X, W, b):\n"
        "    import sys, warnings\n"
        "    line = 'x' * 1023 + '\\n'\n"
        "    for _ in range(2 ** 12):\n"
        "        print(line * 64, end='')\n"  # 256 MB through print
        "        sys.stderr.write(line * 64)\n"  # and as much through stderr
        "    for _ in range(50_000):\n"
        "        np.matrix([[1.0]])\n"  # a PendingDeprecationWarning each time
        "    return X @ W.T + b\n"), call_timeout=20)
    X, W, b = small_inputs()
    limits = student.limits
    per_call = (limits["output_head_kb"] + limits["output_tail_kb"]) << 10
    for _ in range(3):  # more than the capture file holds without the budget
        result = student.call("linear_forward", X, W, b)
        np.testing.assert_array_equal(result.value, X @ W.T + b)
        assert len(result.output) <= per_call + 4096
        assert result.output.count("PendingDeprecationWarning") == 2  # once, then its count
        assert "repeated 49999 more times" in result.output
        assert re.search(r"\.\.\. \d{9} more bytes of output dropped", result.output)
    assert student.softmax(np.zeros((2, 3))).shape == (2, 3)  # the same worker goes on


def test_output_budget_keeps_warnings_and_counts_when_the_file_is_full(tmp_path):
    """Per call and over the worker's life the budget drops and counts; warnings
    and notices still get written from the room kept for them."""
    budget_path = tmp_path / "capture.txt"
    fd = os.open(budget_path, os.O_WRONLY | os.O_CREAT)
    try:
        budget = worker_module.OutputBudget(fd, per_call=100, lifetime=150)
        out = worker_module.CappedTextOutput(budget, "<stdout>")
        out.write("a" * 150)
        for _ in range(3):
            budget.show_warning(RuntimeWarning("overflow encountered in exp"), RuntimeWarning,
                                "neural_net.py", 7)
        budget.end_call()
        out.write("b" * 100)
        out.write("z" * 100)  # past the worker's lifetime budget
        budget.show_warning(RuntimeWarning("overflow encountered in exp"), RuntimeWarning,
                            "neural_net.py", 7)
        budget.end_call()
    finally:
        os.close(fd)
    text = budget_path.read_text()
    first, second = text.split("bytes of output dropped\n")[:2]
    assert first.startswith("a" * 100 + "\n") and "a" * 101 not in first
    assert first.count("RuntimeWarning: overflow encountered in exp") == 1
    assert "the RuntimeWarning above was repeated 2 more times" in first
    assert first.endswith("... 50 more ")
    assert second.startswith("b" * 50 + "\n") and "b" * 51 not in second and "z" not in second
    assert "overflow encountered in exp" in second and second.endswith("... 150 more ")


@pytest.mark.skipif(not IS_ROOT, reason="isolation by user needs root")
class TestIsolation:
    def test_worker_runs_unprivileged_without_groups_or_secrets(self, make_student, monkeypatch):
        monkeypatch.setenv("GRADER_SECRET", "s3cret")
        student = make_student(with_override(
            "def one_hot(y, num_classes):\n"
            "    import os\n"
            "    return np.array([os.getuid(), os.getgid(), len(os.getgroups()),\n"
            "                     int('s3cret' in str(os.environ))])\n"))
        uid, gid, groups, secret_seen = student.one_hot(np.zeros(1, dtype=int), 2)
        assert uid == student.isolation.user.pw_uid != 0
        assert gid == student.isolation.user.pw_gid
        assert groups <= 1 and secret_seen == 0

    def test_grader_files_and_parent_are_out_of_reach(self, make_student, tmp_path):
        private = tmp_path / "source"
        private.mkdir(mode=0o700)
        (private / "answers.txt").write_text("expected values")
        student = make_student(with_override(
            "def one_hot(y, num_classes):\n"
            "    import os, signal\n"
            "    outcomes = []\n"
            f"    for attempt in (lambda: open({str(private / 'answers.txt')!r}).read(),\n"
            "                    lambda: os.kill(os.getppid(), signal.SIGKILL),\n"
            "                    lambda: os.kill(1, signal.SIGKILL),\n"
            "                    lambda: open('/etc/shadow').read(),\n"
            "                    lambda: open('neural_net.py', 'a').write('#'),\n"
            "                    lambda: __import__('socket').create_connection(('127.0.0.1', 22), 1)):\n"
            "        try:\n"
            "            attempt()\n"
            "            outcomes.append(1)\n"
            "        except OSError:\n"
            "            outcomes.append(0)\n"
            "    return np.array(outcomes)\n"))
        outcomes = student.one_hot(np.zeros(1, dtype=int), 2)
        expected_blocked = [0, 0, 0, 0, 0] + ([0] if student.network_blocked else [outcomes[-1]])
        assert list(outcomes) == expected_blocked
        assert os.getpid()  # still alive

    def test_a_double_forked_daemon_does_not_survive(self, make_student):
        student = make_student(with_override(
            "def linear_forward(X, W, b):\n"
            "    import os, time\n"
            "    child = os.fork()\n"
            "    if child == 0:\n"
            "        os.setsid()\n"
            "        if os.fork() == 0:\n"
            "            time.sleep(600)\n"
            "        os._exit(0)\n"
            "    os.waitpid(child, 0)  # the grandchild exists once its parent is gone\n"
            "    return X @ W.T + b\n"))
        X, W, b = small_inputs()
        student.linear_forward(X, W, b)
        uid = student.isolation.user.pw_uid
        assert len(sandbox.live_processes_of(uid)) >= 2  # the worker and the daemon
        student.close()
        assert sandbox.live_processes_of(uid) == []

    def test_fork_and_thread_bombs_are_contained(self, make_student):
        student = make_student(with_override(
            "def linear_forward(X, W, b):\n"
            "    import os\n"
            "    while True:\n"
            "        try:\n"
            "            os.fork()\n"
            "        except OSError:\n"
            "            pass\n"
            "def softmax(Z):\n"
            "    import threading, time\n"
            "    while True:\n"
            "        try:\n"
            "            threading.Thread(target=time.sleep, args=(60,)).start()\n"
            "        except RuntimeError:\n"
            "            pass\n"))
        X, W, b = small_inputs()
        for call in (lambda: student.linear_forward(X, W, b),
                     lambda: student.softmax(np.zeros((2, 2)))):
            with pytest.raises(oracle.SubmissionError):
                call()
            uid = student.isolation.user.pw_uid
            assert len(sandbox.live_processes_of(uid)) <= 1  # at most a fresh worker
        np.testing.assert_allclose(student.sigmoid_forward(np.zeros(2)), 0.5)

    def test_parallel_runs_get_different_worker_users(self, make_student):
        first, second = make_student(REFERENCE), make_student(REFERENCE)
        assert first.isolation.user.pw_uid != second.isolation.user.pw_uid


def test_settings_reach_the_worker_as_hard_limits(make_student):
    student = make_student(with_override(
        "def one_hot(y, num_classes):\n"
        "    import resource\n"
        "    return np.array([resource.getrlimit(resource.RLIMIT_AS)[1],\n"
        "                     resource.getrlimit(resource.RLIMIT_FSIZE)[1]])\n"))
    memory, file_size = student.one_hot(np.zeros(1, dtype=int), 2)
    assert memory == student.limits["memory_mb"] << 20
    assert file_size == student.limits["file_size_mb"] << 20


def test_config_is_json_readable_by_the_standard_library():
    with open(os.path.join(HERE, "..", "autograder", "config.json"), encoding="utf-8") as handle:
        settings = json.load(handle)
    assert settings["limits"]["call_timeout_s"] > 0


@pytest.mark.skipif(not IS_ROOT, reason="isolation by user needs root")
def test_one_worker_cannot_read_another_workers_file(make_student):
    secret_holder = make_student(REFERENCE + "\n# the reference's private copy\n")
    secret_holder.sigmoid_forward(np.zeros(1))
    path = os.path.join(secret_holder.worker.workdir, "neural_net.py")
    reader = make_student(with_override(
        "def one_hot(y, num_classes):\n"
        "    try:\n"
        f"        open({path!r}).read()\n"
        "        return np.array([1])\n"
        "    except OSError:\n"
        "        return np.array([0])\n"))
    assert list(reader.one_hot(np.zeros(1, dtype=int), 2)) == [0]


def test_threads_left_running_do_not_follow_into_the_next_call(make_student):
    student = make_student(with_override(
        "def sigmoid_backward(dA, A):\n"
        "    import threading, time\n"
        "    for _ in range(3):  # each thread reserves a 64 MB arena under RLIMIT_AS\n"
        "        threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        "    return dA * A * (1 - A)\n"
        "def one_hot(y, num_classes):\n"
        "    import threading\n"
        "    return np.array([threading.active_count()])\n"))
    student.sigmoid_backward(np.ones(2), np.full(2, 0.5))
    assert list(student.one_hot(np.zeros(1, dtype=int), 2)) == [1]


# -- a wire that cannot be broken -------------------------------------------------

FORGE_REPLY = (
    "def linear_forward(X, W, b):\n"
    "    import json, os, struct, sys, time\n"
    "    fd = json.loads(sys.argv[1])['out_fd']\n"
    "    header = {header}\n"
    "    os.write(fd, struct.pack('>I', len(header)) + header)\n"
    "    time.sleep(30)\n")


def assert_worker_gone(student):
    assert student.worker is None
    if student.isolation.dedicated_user:
        assert sandbox.live_processes_of(student.isolation.user.pw_uid) == []


def test_a_deeply_nested_reply_header_kills_the_worker_and_fails_cleanly(make_student):
    student = make_student(with_override(FORGE_REPLY.format(header="b'[' * 65000")))
    started = time.monotonic()
    with pytest.raises(oracle.ProtocolViolation, match="invalid reply.*nested"):
        student.linear_forward(*small_inputs())
    assert time.monotonic() - started < 5  # not after the sleep: refused at once
    assert_worker_gone(student)
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)


def test_a_reply_larger_than_the_answer_can_be_is_refused(make_student):
    student = make_student(with_override(
        "def linear_forward(X, W, b):\n    return np.zeros(64 << 20, dtype=np.uint8)\n"))
    with pytest.raises(oracle.ProtocolViolation, match="exceeds the cap of 4"):
        student.linear_forward(*small_inputs())
    assert_worker_gone(student)
    # A call may say how large its answer can be.
    student = make_student(with_override(
        "def linear_forward(X, W, b):\n    return np.zeros(1000)\n"))
    with pytest.raises(oracle.ProtocolViolation, match="exceeds the cap"):
        student.call("linear_forward", *small_inputs(), max_reply_bytes=4000)


def test_any_exception_while_reading_a_reply_kills_the_worker(make_student, monkeypatch):
    student = make_student(REFERENCE)
    student.sigmoid_forward(np.zeros(3))
    first = student.worker

    def broken_receive(*args, **kwargs):
        raise RuntimeError("a decoder bug")

    monkeypatch.setattr(sandbox.wire, "receive", broken_receive)
    with pytest.raises(oracle.ProtocolViolation, match="RuntimeError"):
        student.sigmoid_forward(np.zeros(3))
    assert student.worker is None and not first.alive
    monkeypatch.undo()
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)


# -- deadlines that hold ----------------------------------------------------------

def test_the_run_deadline_is_checked_on_every_call(make_student):
    student = make_student(REFERENCE)
    student.sigmoid_forward(np.zeros(3))
    student.run_deadline = time.monotonic() - 0.01  # test_deadline and budget flag untouched
    with pytest.raises(oracle.SubmissionError, match="whole grading run"):
        student.sigmoid_forward(np.zeros(3))


def test_worker_start_up_counts_against_the_test_deadline(make_student):
    student = make_student(with_override("import time\ntime.sleep(4)\n"))
    student.test_deadline = time.monotonic() + 1.0
    started = time.monotonic()
    with pytest.raises(oracle.CallTimeout, match="while neural_net.py was being imported"):
        student.sigmoid_forward(np.zeros(3))
    assert time.monotonic() - started < 2.5
    assert student.import_error is None  # the import itself did nothing wrong
    student.test_deadline = None
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)


SPIN_OR_SLEEP = (
    "def sigmoid_forward(Z):\n"
    "    import time\n"
    "    end = time.process_time() + 0.6\n"
    "    while time.process_time() < end:\n"
    "        pass\n"
    "    return 1.0 / (1.0 + np.exp(-Z))\n"
    "def softmax(Z):\n"
    "    import time\n"
    "    time.sleep(0.6)\n"
    "    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
    "    return E / E.sum(axis=1, keepdims=True)\n")


def test_a_test_ends_when_its_calls_together_use_up_its_cpu_time(make_student):
    student = make_student(with_override(SPIN_OR_SLEEP))
    student.begin_test(1.0, time.monotonic() + 100)
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)  # start-up + 0.6 s
    with pytest.raises(oracle.CallTimeout, match="this test's time limit"):
        student.sigmoid_forward(np.zeros(3))
    assert student.test_cpu_used >= 1.0
    # The function is not poisoned: the next test has a budget of its own.
    student.begin_test(1.0, time.monotonic() + 100)
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)


def test_a_test_that_waits_without_using_cpu_outlasts_its_limit_on_the_wall_clock(make_student):
    # What a loaded machine does to a correct submission: 1.8 s of wall-clock
    # time against a 1 s limit, but little CPU time.
    student = make_student(with_override(SPIN_OR_SLEEP))
    student.begin_test(1.0, time.monotonic() + 100)
    started = time.monotonic()
    for _ in range(3):
        np.testing.assert_allclose(student.softmax(np.zeros((2, 2))), 0.5)
    assert time.monotonic() - started > 1.0
    assert student.test_cpu_used < 1.0


def test_worker_restarts_are_bounded(make_student, monkeypatch):
    monkeypatch.setattr(oracle, "MAX_WORKER_STARTS", 3)
    student = make_student(with_override(
        "def sigmoid_forward(Z):\n    import os\n    os._exit(3)\n"))
    for _ in range(3):
        with pytest.raises(oracle.WorkerCrashed, match="exited with code 3"):
            student.sigmoid_forward(np.zeros(3))
    with pytest.raises(oracle.WorkerCrashed, match="restarted 3 times"):
        student.softmax(np.zeros((2, 3)))
    assert student.worker_starts == 3


def test_a_call_that_waits_without_using_cpu_is_judged_by_cpu_time(make_student):
    # 3 s of wall-clock time but no CPU: what a loaded machine does to a correct
    # call. The 2 s deadline is CPU time (wall cap 6 s), so it still answers.
    student = make_student(with_override(
        "def softmax(Z):\n    import time\n    time.sleep(3)\n"
        "    E = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
        "    return E / E.sum(axis=1, keepdims=True)\n"))
    np.testing.assert_allclose(student.softmax(np.zeros((2, 2))), 0.5)


# -- grader faults are never the student's -----------------------------------------

@pytest.fixture
def unexecutable_python():
    """An interpreter path the worker user cannot execute (root's private folder),
    as with a pyenv or conda install under /root."""
    from autograder.validation.scenarios import unexecutable_interpreter

    return unexecutable_interpreter("/tmp/private-harden")


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_the_probe_fails_when_the_worker_cannot_run_the_interpreter(make_student,
                                                                   unexecutable_python):
    student = make_student(REFERENCE)
    student.probe()  # the normal path works
    student.python = unexecutable_python
    with pytest.raises(oracle.GraderFault, match="worker"):
        student.probe()


def test_a_normal_start_proves_the_worker_path_without_the_probe(make_student, monkeypatch):
    probes = []
    monkeypatch.setattr(oracle.Student, "probe", lambda self, *a, **k: probes.append(1))
    student = make_student(REFERENCE)
    student.start()
    assert probes == [] and student.path_proven and student.worker is not None
    first = student.worker
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)
    assert student.worker is first and student.worker_starts == 1  # the first test reuses it
    # An import that raises is the submission's own failure: the worker answered.
    broken = make_student("def sigmoid_forward(Z)\n    return Z\n")
    broken.start()
    assert probes == [] and broken.path_proven
    with pytest.raises(oracle.ImportFailed, match="SyntaxError"):
        broken.sigmoid_forward(np.zeros(3))


def test_a_first_worker_that_never_answers_runs_the_probe(make_student, monkeypatch):
    probes = []
    monkeypatch.setattr(oracle.Student, "probe", lambda self, *a, **k: probes.append(1))
    student = make_student("import os\nos._exit(7)\n")  # dies before it can answer
    student.start()
    assert probes == [1] and not student.path_proven
    with pytest.raises(oracle.ImportFailed, match="exited with code 7"):
        student.sigmoid_forward(np.zeros(3))


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_start_raises_a_grader_fault_when_the_interpreter_cannot_run(make_student,
                                                                    unexecutable_python):
    student = make_student(REFERENCE)
    student.python = unexecutable_python
    with pytest.raises(oracle.GraderFault, match="worker"):
        student.start()


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_grading_with_an_unusable_worker_path_charges_nothing(tmp_path, unexecutable_python):
    from autograder.grading import grade

    submission = tmp_path / "neural_net.py"
    submission.write_text(REFERENCE)
    settings = config()
    settings["worker_python"] = unexecutable_python
    data = grade.grade_submission(str(submission), str(tmp_path / "results.json"),
                                  config=settings, quiet=True)
    assert data["tests"] == []  # no test failed: none could be run
    assert "not with your code" in data["output"]
    assert "grader_fault" in data["extra_data"]
    written = json.loads((tmp_path / "results.json").read_text())
    assert written["extra_data"]["grader_fault"] == data["extra_data"]["grader_fault"]
    # With a working interpreter the same call grades normally (no fault recorded).
    del settings["worker_python"]
    data = grade.grade_submission(str(submission), str(tmp_path / "results.json"),
                                  config=settings, quiet=True,
                                  suite=__import__("unittest").TestSuite(), bind=lambda s: None)
    assert "grader_fault" not in data.get("extra_data", {})


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_detached_daemons_are_killed_and_the_worker_kept(make_student):
    student = make_student(with_override(
        "import os as _os, time as _time\n"
        "for _ in range(3):\n"
        "    if _os.fork() == 0:\n"
        "        _os.setsid()\n"
        "        if _os.fork() == 0:\n"
        "            _end = _time.time() + 60\n"
        "            while _time.time() < _end:\n"
        "                pass\n"
        "        _os._exit(0)\n"
        "_time.sleep(0.3)\n"))
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)
    worker = student.worker
    uid = student.isolation.user.pw_uid
    time.sleep(0.2)
    alive = sandbox.live_processes_of(uid)
    chain = {worker.process.pid, worker.launched.worker_pid}
    assert len([pid for pid in alive if pid not in chain]) <= 1  # at most bwrap's init left
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)
    assert student.worker is worker  # the same worker, still serving


def test_results_are_written_before_clean_up_and_survive_its_failure(tmp_path, monkeypatch):
    import unittest

    from autograder.grading import grade

    submission = tmp_path / "neural_net.py"
    submission.write_text(REFERENCE)
    results = tmp_path / "results.json"
    seen = []
    real_close = oracle.Student.close

    def failing_close(self, *args, **kwargs):
        seen.append(results.exists())
        real_close(self)  # still clean up for real
        raise RecursionError("a clean-up that breaks")

    monkeypatch.setattr(oracle.Student, "close", failing_close)
    data = grade.grade_submission(str(submission), str(results), config=config(), quiet=True,
                                  suite=unittest.TestSuite(), bind=lambda s: None)
    assert seen == [True]
    assert json.loads(results.read_text())["score"] == data["score"]
    assert "internal error" not in data.get("output", "")


def gradescope_tree(tmp_path, worker_python=None):
    """A Gradescope-shaped root (source/, submission/ with the reference, run_autograder)."""
    import shutil

    repo = os.path.dirname(HERE)
    root = tmp_path / "autograder"
    source = root / "source"
    skip = shutil.ignore_patterns("__pycache__")
    for name in ("autograder", "reference"):
        shutil.copytree(os.path.join(repo, name), source / name, ignore=skip)
    if worker_python:
        config_path = source / "autograder" / "config.json"
        settings = json.loads(config_path.read_text())
        settings["worker_python"] = worker_python
        config_path.write_text(json.dumps(settings))
    shutil.copy(os.path.join(repo, "run_autograder"), root / "run_autograder")
    (root / "submission").mkdir()
    (root / "submission" / "neural_net.py").write_text(REFERENCE)
    return root


def run_autograder(root, **env_overrides):
    import subprocess
    import sys

    env = dict(os.environ, AUTOGRADER_ROOT=str(root), NNAG_PYTHON=sys.executable, **env_overrides)
    env.pop("PYTHONPATH", None)
    return subprocess.run([str(root / "run_autograder")], cwd=str(root), env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_run_autograder_exits_non_zero_on_a_grader_fault(tmp_path, unexecutable_python):
    root = gradescope_tree(tmp_path, worker_python=unexecutable_python)
    run = run_autograder(root)
    assert run.returncode == 3, run.stdout[-2000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["tests"] == [] and "not with your code" in data["output"]
    assert "GRADER FAULT" in run.stdout  # the cause, in the staff-only log


def test_run_autograders_backstop_stops_a_grader_with_its_results_written(tmp_path):
    root = gradescope_tree(tmp_path)
    started = time.monotonic()
    run = run_autograder(root, NNAG_HARD_LIMIT_S="3")
    assert time.monotonic() - started < 15
    assert run.returncode == 124, run.stdout[-2000:]  # timeout's status: staff see it
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["tests"] == [] and "internal error" in data["output"]


# -- clean-up that cannot be defeated ---------------------------------------------

def test_a_deep_chain_in_the_scratch_space_is_removed_with_the_run(make_student):
    student = make_student(with_override(
        "def sigmoid_forward(Z):\n"
        "    import os\n"
        "    fd = os.open(os.environ['TMPDIR'], os.O_RDONLY)\n"
        "    for _ in range(1100):\n"
        "        os.mkdir('d' * 100, dir_fd=fd)\n"
        "        child = os.open('d' * 100, os.O_RDONLY, dir_fd=fd)\n"
        "        os.close(fd)\n"
        "        fd = child\n"
        "    return 1.0 / (1.0 + np.exp(-Z))\n"))
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(3)), 0.5)
    base = student.runtime.base
    started = time.monotonic()
    student.close()
    assert not os.path.lexists(base)
    assert time.monotonic() - started < 15


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_a_run_first_cleans_up_what_an_earlier_run_of_its_user_left(monkeypatch):
    cleaned = []
    monkeypatch.setattr(sandbox, "clean_up_user",
                        lambda user, deadline: cleaned.append(user.pw_name) or {})
    isolation = sandbox.Isolation("nnworker")
    try:
        assert cleaned == [isolation.user.pw_name]
    finally:
        isolation.release()


def test_a_whole_run_ends_within_its_budget_with_results_written(tmp_path):
    from autograder.grading import grade

    submission = tmp_path / "neural_net.py"
    submission.write_text(with_override(  # every call into the network sleeps
        "import time as _time\n"
        "_slow_linear_forward = linear_forward\n"
        "def linear_forward(X, W, b):\n    _time.sleep(1.5)\n"
        "    return _slow_linear_forward(X, W, b)\n"
        "def one_hot(y, num_classes):\n    _time.sleep(100)\n"))
    settings = config()
    budget = 12
    settings["limits"] = dict(settings["limits"], run_time_s=budget)
    started = time.monotonic()
    data = grade.grade_submission(str(submission), str(tmp_path / "results.json"),
                                  config=settings, quiet=True)
    elapsed = time.monotonic() - started
    assert elapsed < budget + 5, elapsed
    assert json.loads((tmp_path / "results.json").read_text())["score"] == data["score"]
    messages = " ".join(t.get("output", "") for t in data["tests"])
    assert "whole grading run" in messages


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_the_image_build_probe_passes_here_and_fails_loudly_when_it_should(tmp_path,
                                                                           unexecutable_python):
    import shutil
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(HERE), "scripts", "probe_worker.py")
    ok = subprocess.run([sys.executable, script], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "probe:" in ok.stdout, ok.stderr
    root = gradescope_tree(tmp_path, worker_python=unexecutable_python)
    (root / "source" / "scripts").mkdir()
    shutil.copy(script, root / "source" / "scripts" / "probe_worker.py")
    bad = subprocess.run([sys.executable, "scripts/probe_worker.py"], cwd=str(root / "source"),
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "PROBE FAILED" in bad.stderr, bad.stderr
