"""The student's submission as an untrusted function oracle (trusted side).

    student = Student(source_text, config)
    dX, dW, db = student.linear_backward(dZ, X, W, b)

Every call is a request to a sandboxed worker (autograder/sandbox/workers.py); every
reply is validated before a check sees it; every way the submission can fail
becomes a SubmissionError whose text is the message a student reads. The
worker is reused while healthy and replaced after any crash or timeout.
"""
import time

import numpy as np

from autograder.sandbox import portable, workers, wire
from autograder.sandbox.wire import BadArray, Opaque  # noqa: F401  (re-exported for checks)

# A deadline in CPU seconds may take this many times as long on the wall clock
# (a loaded machine slows a correct submission; it does not make it use more CPU).
WALL_CAP_FACTOR = 3
# Worker starts per grading run (the first, and restarts after a crash, a
# timeout or leftover threads): each costs an import, so they are bounded.
MAX_WORKER_STARTS = 40
# The largest reply a call may send: the answer of a graded function is at
# most a few times the size of its inputs (a small floor for the ones whose
# inputs are a few integers, like init_params). Checked before anything of
# the reply is allocated; max_reply_mb caps it in any case.
REPLY_FLOOR_BYTES = 4 << 20
REPLY_FACTOR = 4
# Functions whose answer is sized by some of their arguments only: train's
# (params, history) is as large as the params it is given plus a few floats
# per epoch, however large the data it trains on.
REPLY_SIZED_BY = {"train": ("params", 0)}
# Functions whose answer is sized by integers among their arguments rather
# than by arrays: the number of float64 entries their documented answer has.
REPLY_ENTRIES_FROM_INTEGERS = {
    # one_hot(y, num_classes) -> (N, C)
    "one_hot": lambda args: _length(args[0]) * _integer(args[1]),
    # init_params(n_input, n_hidden, n_output) -> W1 (H, M), b1 (H,), W2 (K, H), b2 (K,)
    "init_params": lambda args: (_integer(args[1]) * (_integer(args[0]) + 1)
                                 + _integer(args[2]) * (_integer(args[1]) + 1)),
}
# After a call this long, processes the submission left running (detached
# daemons) are looked for and killed; quicker calls skip the /proc scan (a
# few ms): the CPU a daemon steals matters only to long calls.
STRAY_CHECK_AFTER_S = 1.0
# How long the clean-up after a run may take at most.
CLOSE_CLEANUP_S = 20.0
# The worker-path probe: a submission of the grader's own that needs numpy.
PROBE_SOURCE = ("import numpy as np\n\n\n"
                "def nnag_probe(x):\n"
                "    return np.asarray(x, dtype=np.float64) * 2.0 + 1.0\n")


class SubmissionError(AssertionError):
    """The submission failed in a way the student must be told about.

    An AssertionError, so that unittest records a FAILURE with this text.
    """

    def __init__(self, message, function=None, output=""):
        super().__init__(message)
        self.function = function
        self.output = output


class ImportFailed(SubmissionError):
    """neural_net.py could not be loaded at all: every test fails with this."""


class MissingFunction(SubmissionError):
    pass


class StudentException(SubmissionError):
    def __init__(self, message, function=None, output="", not_implemented=False):
        super().__init__(message, function, output)
        self.not_implemented = not_implemented


class CallTimeout(SubmissionError):
    pass


class WorkerCrashed(SubmissionError):
    pass


class MemoryLimit(SubmissionError):
    pass


class BadReturn(SubmissionError):
    pass


class ProtocolViolation(SubmissionError):
    pass


class GraderFault(Exception):
    """The grader itself cannot run submissions here (not the student's fault).

    The text is the cause, for staff (e.g. the interpreter is not executable
    by the worker user); students are told only that grading could not run.
    """


class CallResult:
    def __init__(self, value, args_after, steps, elapsed, output, record=None, cpu=None):
        self.value = value
        self.cpu = cpu  # CPU seconds the worker used on the call (None: not readable here)
        self.record = record  # what the call passed to recorded functions (untrusted)
        self.args_after = args_after
        self.steps = steps
        self.elapsed = elapsed
        self.output = output


class Student:
    """Proxy to the submission: attribute calls run in the sandboxed worker."""

    def __init__(self, source, config, *, python=None, filename="neural_net.py",
                 encoding="utf-8", run_deadline=None):
        self.source = source
        self.encoding = encoding  # the worker's copy keeps the file's own encoding
        self.filename = filename
        self.limits = config["limits"]
        # workers.py's sandbox, or portable.py's child process where it cannot run
        self.backend = portable.backend()
        self.isolation = self.backend.Isolation(config.get("worker_user_prefix", "nnworker"))
        self.runtime = self.backend.Runtime()
        self.python = python
        self.worker = None
        self.import_error = None
        self.network_blocked = None
        self.test_deadline = None  # time.monotonic(): the test's wall-clock cap
        self.test_cpu_limit = None  # CPU seconds of the worker the current test may use
        self.test_cpu_used = 0.0
        self.run_deadline = run_deadline  # time.monotonic(): nothing of the student's runs after it
        self.budget_exhausted = False
        self.worker_starts = 0
        self.path_proven = False  # a worker has answered: the interpreter and the wire work
        self.closed = False
        self.poisoned = {}
        self.cleanup_report = None  # {what: count} from close(), for the staff's log
        self.overhead_s = 0.0  # time spent starting workers, for the benchmark
        self.output_log = []

    # -- the proxy ---------------------------------------------------------
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)

        def proxy_call(*args, **kwargs):
            return self.call(name, *args, **kwargs).value

        proxy_call.__name__ = name
        return proxy_call

    def call(self, fn, *args, trace=False, return_args=False, timeout=None, echo=False,
             max_reply_bytes=None, record=None, fresh_worker=False, **kwargs):
        """Run fn(*args, **kwargs) in the worker; returns a CallResult.

        timeout: CPU seconds fn may use (default call_timeout_s), with a
        wall-clock cap WALL_CAP_FACTOR times as long; both also end at the
        test's and the run's deadlines, and a worker start-up counts against
        those too. max_reply_bytes: the largest reply accepted (default:
        reply_limit of the arguments).
        echo=True: the worker receives `args` and sends the last one back
        without running any code of the submission (the timing backstop's
        measure of the transfer alone).
        record: [[function, recorded argument index, linked argument index], ...]:
        the worker notes what fn passes to those functions (CallResult.record).
        fresh_worker: run in a newly started worker process (reproducibility).
        """
        self._check_budget(fn)
        if fn in self.poisoned:
            raise self.poisoned[fn]
        if fresh_worker:
            self._discard_worker()
        if self._test_cpu_left() <= 0:
            raise self._test_time_error(fn, "before it was called")
        worker = self._healthy_worker(fn)
        own_limit = self.limits["call_timeout_s"] if timeout is None else timeout
        cpu_limit = min(own_limit, self._test_cpu_left())
        now = time.monotonic()
        own_cap = now + cpu_limit * WALL_CAP_FACTOR
        deadline = min(own_cap, self._limit_deadline(grace=True))
        arrays = []
        request = {
            "op": "echo" if echo else "call",
            "fn": fn, "trace": bool(trace), "return_args": bool(return_args),
            "record": record,
            "args": [encode_argument(a, arrays) for a in args],
            "kwargs": {k: encode_argument(v, arrays) for k, v in kwargs.items()},
        }
        reply_cap = max_reply_bytes or reply_limit(
            answer_arrays(fn, args, kwargs), bool(return_args), arrays,
            answer_entries=answer_entries(fn, args))
        started = time.monotonic()
        cpu_before = _cpu_seconds(worker)
        cpu_used = None
        broken = True  # until a reply was read in full: then the worker is killed, always
        try:
            header, reply_arrays = worker.request(request, arrays, deadline, reply_cap, cpu_limit)
            broken = False
        except workers.CpuTimeout:
            if cpu_limit < own_limit:  # the test's budget ended it, not the call's own
                raise self._test_time_error(fn, "before it answered", worker) from None
            error = CallTimeout(f"timed out after {cpu_limit:g} s in {fn} (of CPU time): an "
                                "infinite loop, or code far slower than a vectorized solution",
                                fn, self._output(worker))
            self.poisoned[fn] = error
            raise error from None
        except wire.Deadline:
            raise self._deadline_error(fn, worker, deadline < own_cap, cpu_limit) from None
        except workers.WorkerDied as death:
            raise self._death_error(death, fn, self._output(worker)) from None
        except wire.WireError as problem:
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader ({problem})",
                                    fn, self._output(worker)) from None
        except Exception as problem:  # noqa: BLE001  (whatever breaks reading a reply is the worker's doing)
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader (unreadable: "
                                    f"{type(problem).__name__})", fn, self._output(worker)) from None
        finally:
            cpu_used = self._charge_test_cpu(worker, cpu_before)
            if broken:
                self._discard_worker()
        elapsed = time.monotonic() - started
        output = self._output(worker)
        if worker.left_something_running():
            self._discard_worker()
        elif elapsed > STRAY_CHECK_AFTER_S:
            worker.kill_strays()
        result = self._interpret(fn, header, reply_arrays, elapsed, output, bool(return_args),
                                 bool(record))
        result.cpu = cpu_used
        return result

    def begin_test(self, limit_s, run_deadline):
        """A test starts: it may use limit_s seconds of the worker's CPU time in
        all its calls and worker starts together, and limit_s x WALL_CAP_FACTOR
        on the wall clock (limit_s alone where CPU time cannot be read), never
        beyond run_deadline. CPU time, so that a loaded machine cannot make a
        correct submission fail; the wall-clock cap still ends waits that use
        no CPU.
        """
        now = time.monotonic()
        measured = self.backend is workers
        self.test_cpu_limit = limit_s if measured else None
        self.test_cpu_used = 0.0
        self.test_deadline = min(now + limit_s * (WALL_CAP_FACTOR if measured else 1),
                                 run_deadline)
        self.budget_exhausted = now >= run_deadline

    def _test_cpu_left(self):
        if self.test_cpu_limit is None:
            return float("inf")
        return self.test_cpu_limit - self.test_cpu_used

    def _charge_test_cpu(self, worker, cpu_before):
        """Add what the worker used since cpu_before to the current test's CPU
        time; returns it (None where it cannot be read)."""
        after = _cpu_seconds(worker) if cpu_before is not None else None
        if after is None:
            return None
        used = max(0.0, after - cpu_before)
        self.test_cpu_used += used
        return used

    def _test_time_error(self, fn, when, worker=None):
        output = self._output(worker) if worker is not None else ""
        return CallTimeout(f"timed out in {fn}: this test's time limit ({self.test_cpu_limit:g} s "
                           f"of CPU time for all its calls together) ran out {when}", fn, output)

    def _check_budget(self, fn):
        """The run's deadline, checked before every call."""
        if self.run_deadline is not None and time.monotonic() >= self.run_deadline:
            self.budget_exhausted = True
        if self.budget_exhausted:
            raise SubmissionError(f"{fn} was not run: the time limit for the whole grading "
                                  "run was used up by earlier tests", fn)

    def _limit_deadline(self, grace=False):
        """The earlier of the test's and the run's deadlines (inf if neither is set).

        With grace, a call made after its test's deadline still gets half a
        second (its test is over, but the failure message should be its own);
        the run's deadline gets no grace.
        """
        limit = float("inf")
        if self.test_deadline is not None:
            limit = self.test_deadline
            if grace:
                limit = max(limit, time.monotonic() + 0.5)
        if self.run_deadline is not None:
            limit = min(limit, self.run_deadline)
        return limit

    def _deadline_error(self, fn, worker, cut_short, cpu_limit):
        """The error for a call that hit a wall-clock deadline."""
        output = self._output(worker)
        if not cut_short:
            error = CallTimeout(f"timed out after {cpu_limit:g} s in {fn} (no answer after "
                                f"{cpu_limit * WALL_CAP_FACTOR:g} s of waiting): a sleep, a wait, "
                                "an infinite loop, or code far slower than a vectorized solution",
                                fn, output)
            self.poisoned[fn] = error
            return error
        if self.run_deadline is not None and time.monotonic() >= self.run_deadline:
            self.budget_exhausted = True
            return CallTimeout(f"timed out in {fn}: the time limit for the whole grading run "
                               "ran out", fn, output)
        return CallTimeout(f"timed out in {fn}: the time limit of this test ran out before it "
                           "answered", fn, output)

    # -- replies -----------------------------------------------------------
    def _interpret(self, fn, header, arrays, elapsed, output, want_args, want_record=False):
        op = header.get("op")
        if op == "missing":
            raise MissingFunction(f"{fn} is not defined in {self.filename} (check the "
                                  "spelling and that it is at the top level of the file)",
                                  fn, output)
        if op == "raise":
            raise self._exception_error(fn, header, output)
        if op != "return":
            self._discard_worker()
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader", fn, output)
        try:
            value = wire.decode_value(header.get("value"), arrays)
            args_after = None
            if want_args:
                trees = header.get("args_after")
                if type(trees) is not list:
                    raise wire.WireError("missing arguments")
                args_after = [wire.decode_value(t, arrays) for t in trees]
            record = None
            if want_record:
                tree = header.get("record")
                if type(tree) is not dict:
                    raise wire.WireError("missing record")
                record = wire.decode_value(tree, arrays)
        except Exception as problem:  # noqa: BLE001  (a forged tree is the worker's doing)
            self._discard_worker()
            reason = problem if isinstance(problem, wire.WireError) else type(problem).__name__
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader ({reason})",
                                    fn, output) from None
        reject_bad_arrays(fn, value, output)
        steps = header.get("steps")
        steps = steps if type(steps) is int and steps >= 0 else None
        return CallResult(value, args_after, steps, elapsed, output, record)

    def _exception_error(self, fn, header, output):
        kind = str(header.get("type", "Exception"))[:80]
        message = str(header.get("message", ""))[:1000]
        where = header.get("where")
        place = ""
        if type(where) is dict and type(where.get("line")) is int:
            place = f" (line {where['line']} of {self.filename}, in {str(where.get('function'))[:60]})"
        if kind == "MemoryError":
            self._discard_worker()  # its heap may be in any state after this
            error = MemoryLimit(f"exceeded the memory limit in {fn}{place}", fn, output)
            self.poisoned[fn] = error
            return error
        if header.get("not_implemented") is True:
            return StudentException(f"{fn} is not implemented yet (it raises "
                                    f"NotImplementedError{place})", fn, output, True)
        if kind in ("SystemExit", "KeyboardInterrupt"):
            return StudentException(f"{fn} raised {kind}{place}: remove sys.exit()/exit() and "
                                    "interrupts from graded functions", fn, output)
        detail = f": {message}" if message else ""
        return StudentException(f"{fn} raised {kind}{detail}{place}", fn, output)

    def _death_error(self, death, fn, output):
        if death.returncode == -9 or death.returncode == -6:
            # SIGKILL from the kernel or abort in an allocator: almost always memory.
            return MemoryLimit(f"the worker was killed in {fn} ({death.how}); this usually "
                               "means the memory limit was exceeded", fn, output)
        return WorkerCrashed(f"the worker running your code {death.how} in {fn}", fn, output)

    # -- workers -----------------------------------------------------------
    def _healthy_worker(self, fn):
        """The live worker, or a new one (its start-up counts against the test's
        and the run's deadlines; starts per run are bounded)."""
        if self.import_error is not None:
            raise self.import_error
        if self.worker is not None and self.worker.alive:
            return self.worker
        self._discard_worker()
        if self.worker_starts >= MAX_WORKER_STARTS:
            raise WorkerCrashed(f"{fn} was not run: the worker running your code had to be "
                                f"restarted {self.worker_starts} times in this grading run (it "
                                "crashed, timed out or left threads or processes running after "
                                "a call)", fn)
        self.worker_starts += 1
        started = time.monotonic()
        timeout = self.limits["startup_timeout_s"]
        own_cap = started + timeout * WALL_CAP_FACTOR
        deadline = min(own_cap, self._limit_deadline(grace=True))
        worker = self.backend.Worker(self.runtime, self.isolation, self.source, self.limits,
                                python=self.python, encoding=self.encoding)
        import_cpu = min(timeout, max(self._test_cpu_left(), 0.0))
        try:
            header = worker.wait_ready(deadline, import_cpu)
        except workers.CpuTimeout:
            if import_cpu < timeout:  # the test's budget ran out, not the import's own
                self._charge_test_cpu(worker, 0.0)
                error = self._test_time_error(fn, f"while {self.filename} was being imported",
                                              worker)
                worker.kill()
                raise error from None
            self.import_error = ImportFailed(
                f"importing {self.filename} did not finish within {timeout} s of CPU time: is "
                "there code at the top level (outside functions) that loops or trains?",
                None, self._output(worker))
        except wire.Deadline:
            if deadline < own_cap:  # the test's or the run's time ran out, not the import's
                output = self._output(worker)
                worker.kill()
                if self.run_deadline is not None and time.monotonic() >= self.run_deadline:
                    self.budget_exhausted = True
                raise CallTimeout(f"timed out in {fn}: the time limit of this test ran out "
                                  f"while {self.filename} was being imported", fn, output) from None
            self.import_error = ImportFailed(
                f"importing {self.filename} did not finish within {timeout} s (no answer after "
                f"{timeout * WALL_CAP_FACTOR:g} s of waiting): is there code at the top level "
                "(outside functions) that sleeps, waits, loops or trains?", None,
                self._output(worker))
        except workers.WorkerDied as death:
            self.import_error = ImportFailed(
                f"importing {self.filename} failed: the worker {death.how}", None,
                self._output(worker))
        except wire.WireError as problem:
            self.import_error = ImportFailed(
                f"importing {self.filename} failed: invalid message to the grader ({problem})",
                None, self._output(worker))
        except BaseException:
            worker.kill()
            raise
        else:
            self._charge_test_cpu(worker, 0.0)  # the start-up counts against the test
            self.path_proven = True
            if header.get("op") == "ready":
                worker.kill_strays()  # daemons started by the import
                self.worker = worker
                self.network_blocked = worker.network_blocked
                self.overhead_s += time.monotonic() - started
                return worker
            self.import_error = self._import_error(header, self._output(worker))
        worker.kill()
        raise self.import_error

    def start(self):
        """Start the first worker before anything is graded, proving the worker
        path on the way; raises GraderFault if the path does not work here.

        A worker that answers the import (ready, or the import's own error)
        has shown that the worker user can start the interpreter, import
        numpy (the wire needs it before the submission is loaded) and talk
        to the grader; an echo then shows it answers a request. Only when
        the first worker gets less far, which may be the submission's doing
        or the machine's, does the grader's own probe run: it costs a worker
        start, so a grading that starts normally does not pay for it.
        """
        try:
            self._healthy_worker("the import")
        except SubmissionError:
            if not self.path_proven:
                self.probe()
            return  # the submission's own failure: its tests will say so
        except Exception:  # noqa: BLE001  (the worker could not even be started)
            self.probe()
            return
        x = np.arange(6.0).reshape(2, 3)
        try:
            echoed = self.call("nnag_probe", x, echo=True).value
        except SubmissionError:
            echoed = None
        if not (isinstance(echoed, np.ndarray) and np.array_equal(echoed, x)):
            self._discard_worker()  # its import may have broken it; the tests start another
            self.probe()

    def probe(self, timeout_s=None):
        """Prove the worker path works before anything is graded: the worker user
        starts the interpreter, imports numpy and answers a call correctly.

        Raises GraderFault with the cause (for staff) if not: then nothing that
        fails afterwards could be the student's fault.
        """
        timeout_s = timeout_s or self.limits["startup_timeout_s"] * WALL_CAP_FACTOR
        deadline = min(time.monotonic() + timeout_s, self._limit_deadline())
        worker = None
        try:
            worker = self.backend.Worker(self.runtime, self.isolation, PROBE_SOURCE,
                                         self.limits, python=self.python)
            header = worker.wait_ready(deadline)
            if header.get("op") != "ready":
                raise GraderFault("the worker could not import the probe module: "
                                  f"{str(header.get('type'))[:80]}: {str(header.get('message'))[:300]}")
            x = np.arange(6.0).reshape(2, 3)
            arrays = []
            request = {"op": "call", "fn": "nnag_probe", "trace": False, "return_args": False,
                       "args": [encode_argument(x, arrays)], "kwargs": {}}
            header, reply = worker.request(request, arrays, deadline, 1 << 16)
            value = wire.decode_value(header.get("value"), reply) if header.get("op") == "return" \
                else None
            if not (isinstance(value, np.ndarray) and value.shape == x.shape
                    and np.array_equal(value, x * 2.0 + 1.0)):
                raise GraderFault(f"the probe call came back wrong: {str(header)[:300]}")
        except GraderFault as fault:
            raise GraderFault(f"{fault}{_output_note(worker)}") from None
        except wire.Deadline:
            raise GraderFault(f"the worker did not answer the probe within {timeout_s:g} s"
                              f"{_output_note(worker)}") from None
        except workers.WorkerDied as death:
            raise GraderFault(f"the worker {death.how} during the probe"
                              f"{_output_note(worker)}") from None
        except Exception as error:  # noqa: BLE001  (any failure here is the grader's)
            raise GraderFault(f"the worker could not be started or did not answer the probe "
                              f"({type(error).__name__}: {error}){_output_note(worker)}") from None
        finally:
            if worker is not None:
                worker.kill()

    def _import_error(self, header, output):
        if header.get("op") != "import_error":
            return ImportFailed(f"importing {self.filename} failed: unexpected message "
                                "to the grader", None, output)
        kind = str(header.get("type", "Exception"))[:80]
        message = str(header.get("message", ""))[:500]
        where = header.get("where")
        line = where.get("line") if type(where) is dict else None
        at = f" at line {line}" if type(line) is int else ""
        hint = ""
        if kind in ("SyntaxError", "IndentationError", "TabError"):
            hint = ": fix the syntax error before anything can be graded"
        elif kind in ("ModuleNotFoundError", "ImportError"):
            hint = (": only numpy and the standard library are available to the grader; "
                    "remove that import")
        elif kind in ("SystemExit", "KeyboardInterrupt"):
            hint = ": remove sys.exit()/exit() from the top level of the file"
        return ImportFailed(f"importing {self.filename} failed{at}: {kind}: {message}{hint}",
                            None, output)

    def _discard_worker(self):
        if self.worker is not None:
            self.worker.kill()
            self.worker = None

    def _output(self, worker):
        text = worker.output()
        if text:
            self.output_log.append(text)
        return text

    def take_output_log(self):
        """Student output captured since the last call of this method."""
        log, self.output_log = self.output_log, []
        return "".join(log)

    def close(self, time_budget_s=CLOSE_CLEANUP_S):
        """Kill every worker process and remove all they left (once; bounded in time).

        Call it after results.json is written: nothing here can stop a run
        from having its results.
        """
        if self.closed:
            return  # the worker user may belong to another run by now
        self.closed = True
        deadline = time.monotonic() + time_budget_s
        try:
            self._discard_worker()
            if self.isolation.dedicated_user:
                self.cleanup_report = workers.clean_up_user(self.isolation.user, deadline)
            self.runtime.cleanup(deadline)
        finally:
            self.isolation.release()


def _cpu_seconds(worker):
    """The worker's CPU seconds so far, or None where they cannot be read."""
    read = getattr(worker, "cpu_seconds", None)
    return read() if read is not None else None


def _output_note(worker):
    """What a failed probe worker printed (an interpreter's or a loader's error)."""
    if worker is None:
        return ""
    try:
        text = worker.output().strip()
    except Exception:  # noqa: BLE001
        return ""
    return f"; it printed: {text[-500:]}" if text else ""


def reply_limit(sizing_arrays, return_args, request_arrays=None, answer_entries=0):
    """The most bytes a reply to a request may carry.

    Inputs: sizing_arrays: ndarrays of the arguments that bound the answer;
    return_args: bool (the arguments come back too); request_arrays: every
    ndarray sent (default: sizing_arrays); answer_entries: int, float64
    entries of the documented answer where integer arguments size it
    (REPLY_ENTRIES_FROM_INTEGERS). The answer of every graded function is at
    most REPLY_FACTOR times the size of its sizing arguments (or of its
    documented size), or REPLY_FLOOR_BYTES; arguments sent back count once more.
    """
    request_arrays = sizing_arrays if request_arrays is None else request_arrays
    sizing = max(sum(int(a.nbytes) for a in sizing_arrays), 8 * answer_entries)
    sent = sum(int(a.nbytes) for a in request_arrays)
    return REPLY_FLOOR_BYTES + REPLY_FACTOR * sizing + (sent if return_args else 0)


def answer_entries(fn, args):
    """Entries of fn's documented answer when integer arguments size it, else 0."""
    size = REPLY_ENTRIES_FROM_INTEGERS.get(fn)
    if size is None:
        return 0
    try:
        return max(0, int(size(args)))
    except (IndexError, TypeError, ValueError):
        return 0  # arguments the function was not documented with: the floor applies


def _length(value):
    return len(value) if isinstance(value, (np.ndarray, list, tuple)) else 0


def _integer(value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(value)
    return int(value)


def answer_arrays(fn, args, kwargs):
    """The ndarrays among the arguments that bound fn's answer (REPLY_SIZED_BY):
    all of them unless fn is listed there."""
    sized_by = REPLY_SIZED_BY.get(fn)
    if sized_by is None:
        chosen = list(args) + list(kwargs.values())
    else:
        name, position = sized_by
        chosen = [kwargs[name]] if name in kwargs else list(args[position:position + 1])
    found = []
    stack = chosen
    while stack:  # arrays anywhere in nested tuples, lists and dicts
        value = stack.pop()
        if isinstance(value, np.ndarray):
            found.append(value)
        elif isinstance(value, (tuple, list)):
            stack.extend(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
    return found


def encode_argument(value, arrays):
    """Encode a trusted argument; fails loudly on anything the protocol can't carry."""
    if isinstance(value, np.ndarray) and value.dtype.kind not in "fiu":
        raise TypeError(f"cannot send an array of dtype {value.dtype} to the worker")
    tree = wire.encode_value(value, arrays)
    if _contains_opaque(tree):
        raise TypeError(f"cannot send {type(value).__name__} to the worker")
    return tree


def _contains_opaque(tree):
    if tree.get("t") in ("opaque", "bad_array"):
        return True
    items = tree.get("items", [])
    if tree.get("t") == "dict":
        items = [pair[1] for pair in items]
    return any(_contains_opaque(item) for item in items)


def reject_bad_arrays(fn, value, output):
    """Arrays of non-real dtypes fail the call with a message, wherever they are."""
    if isinstance(value, BadArray):
        hint = ""
        if value.dtype == "bool":
            hint = " (a comparison result? convert with .astype(float) or use the labels' dtype)"
        elif value.dtype.startswith("complex"):
            hint = " (a log or sqrt of a negative number?)"
        elif value.dtype == "object":
            hint = " (an array built from a list of arrays or of Python objects?)"
        raise BadReturn(f"{fn} returned an array of dtype {value.dtype}; expected real numbers "
                        f"(float64){hint}", fn, output)
    if isinstance(value, (tuple, list)):
        for item in value:
            reject_bad_arrays(fn, item, output)
    elif isinstance(value, dict):
        for item in value.values():
            reject_bad_arrays(fn, item, output)
