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

from autograder.sandbox import workers, wire
from autograder.sandbox.wire import BadArray, Opaque  # noqa: F401  (re-exported for checks)


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


class CallResult:
    def __init__(self, value, args_after, steps, elapsed, output, record=None):
        self.value = value
        self.record = record  # what the call passed to recorded functions (untrusted)
        self.args_after = args_after
        self.steps = steps
        self.elapsed = elapsed
        self.output = output


class Student:
    """Proxy to the submission: attribute calls run in the sandboxed worker."""

    def __init__(self, source, config, *, python=None, filename="neural_net.py",
                 encoding="utf-8"):
        self.source = source
        self.encoding = encoding  # the worker's copy keeps the file's own encoding
        self.filename = filename
        self.limits = config["limits"]
        self.isolation = workers.Isolation(config.get("worker_user_prefix", "nnworker"))
        self.runtime = workers.Runtime()
        self.python = python
        self.worker = None
        self.import_error = None
        self.network_blocked = None
        self.test_deadline = None
        self.budget_exhausted = False
        self.closed = False
        self.poisoned = {}
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

    def call(self, fn, *args, trace=False, return_args=False, timeout=None, record=None,
             fresh_worker=False, **kwargs):
        """Run fn(*args, **kwargs) in the worker; returns a CallResult.

        record: [[function, recorded argument index, linked argument index], ...]:
        the worker notes what fn passes to those functions (CallResult.record).
        fresh_worker: run in a newly started worker process (reproducibility).
        """
        if self.budget_exhausted:
            raise SubmissionError(f"{fn} was not run: the time limit for the whole grading "
                                  "run was used up by earlier tests", fn)
        if fn in self.poisoned:
            raise self.poisoned[fn]
        if fresh_worker:
            self._discard_worker()
        worker = self._healthy_worker()
        timeout = self.limits["call_timeout_s"] if timeout is None else timeout
        deadline = time.monotonic() + timeout
        if self.test_deadline is not None and self.test_deadline < deadline:
            deadline = max(self.test_deadline, time.monotonic() + 0.5)
            timeout = deadline - time.monotonic()
        arrays = []
        request = {
            "op": "call", "fn": fn, "trace": bool(trace), "return_args": bool(return_args),
            "record": record,
            "args": [encode_argument(a, arrays) for a in args],
            "kwargs": {k: encode_argument(v, arrays) for k, v in kwargs.items()},
        }
        started = time.monotonic()
        try:
            header, reply_arrays = worker.request(request, arrays, deadline)
        except wire.Deadline:
            self._discard_worker()
            error = CallTimeout(f"timed out after {timeout:.0f} s in {fn}: an infinite loop, "
                                "a sleep, or code far slower than a vectorized solution",
                                fn, self._output(worker))
            self.poisoned[fn] = error
            raise error from None
        except workers.WorkerDied as death:
            self._discard_worker()
            raise self._death_error(death, fn, self._output(worker)) from None
        except wire.WireError as problem:
            self._discard_worker()
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader ({problem})",
                                    fn, self._output(worker)) from None
        elapsed = time.monotonic() - started
        output = self._output(worker)
        if worker.left_something_running():
            self._discard_worker()
        return self._interpret(fn, header, reply_arrays, elapsed, output, bool(return_args),
                               bool(record))

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
        except wire.WireError as problem:
            self._discard_worker()
            raise ProtocolViolation(f"{fn} sent an invalid reply to the grader ({problem})",
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
    def _healthy_worker(self):
        if self.import_error is not None:
            raise self.import_error
        if self.worker is not None and self.worker.alive:
            return self.worker
        self._discard_worker()
        started = time.monotonic()
        worker = workers.Worker(self.runtime, self.isolation, self.source, self.limits,
                                python=self.python, encoding=self.encoding)
        timeout = self.limits["startup_timeout_s"]
        try:
            header = worker.wait_ready(timeout)
        except wire.Deadline:
            self.import_error = ImportFailed(
                f"importing {self.filename} did not finish within {timeout} s: is there code "
                "at the top level (outside functions) that loops, sleeps or trains?",
                None, self._output(worker))
        except workers.WorkerDied as death:
            self.import_error = ImportFailed(
                f"importing {self.filename} failed: the worker {death.how}", None,
                self._output(worker))
        except wire.WireError as problem:
            self.import_error = ImportFailed(
                f"importing {self.filename} failed: invalid message to the grader ({problem})",
                None, self._output(worker))
        else:
            if header.get("op") == "ready":
                self.worker = worker
                self.network_blocked = worker.network_blocked
                self.overhead_s += time.monotonic() - started
                return worker
            self.import_error = self._import_error(header, self._output(worker))
        worker.kill()
        raise self.import_error

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

    def close(self):
        """Kill every worker process and remove the scratch space (once)."""
        if self.closed:
            return  # the worker user may belong to another run by now
        self.closed = True
        self._discard_worker()
        if self.isolation.dedicated_user:
            workers.kill_all_processes_of(self.isolation.user.pw_uid)
            workers.remove_files_of(self.isolation.user.pw_uid)
        self.runtime.cleanup()
        self.isolation.release()


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
