"""The portable worker: where the POSIX sandbox cannot run (Windows, or a Python
without fcntl / pwd / resource, process groups or /proc).

Same contract as autograder/sandbox/workers.py (Isolation, Runtime, Worker),
with only what every platform offers:

- the worker is a child interpreter running worker.py in its "portable" mode:
  requests arrive on its stdin, replies leave on its stdout (the same wire
  format, validated by the parent as always), and the student's prints are
  moved to its stderr before the submission is imported, away from the
  protocol;
- two reader threads in the parent: one decodes replies, one keeps the
  output's head and tail (a flood is counted, never stored, and ends the
  worker past the limit);
- the parent enforces every deadline by killing the child; a crash or an
  exit is reported as with the sandbox.

There is no isolation: no other user, no resource limits, no file-system or
network confinement. The self-check runs the student's own file on the
student's own computer, so this protects nothing but the report (timeouts,
crashes, floods). Gradescope always has the POSIX sandbox.
"""
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from autograder.sandbox import wire
from autograder.sandbox.workers import SIGNAL_NAMES, WorkerDied

POSIX_ONLY_MODULES = ("fcntl", "pwd", "grp", "resource")
RUNTIME_FILES = ("worker.py", "wire.py")
MODE = "none on this platform; timeouts and crash containment only"
POLL_S = 0.05  # how often the parent looks at the clock and the output's size
READ_CHUNK = 1 << 16


def posix_sandbox_available():
    """True where workers.py can run: the POSIX-only modules, process groups, /proc."""
    import importlib

    for name in POSIX_ONLY_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
    return (all(hasattr(os, name) for name in ("killpg", "setsid", "geteuid"))
            and os.path.isdir("/proc/self"))


def backend():
    """The module whose Isolation, Runtime and Worker this machine can use."""
    if posix_sandbox_available():
        from autograder.sandbox import workers

        return workers
    return sys.modules[__name__]


def mode_line():
    """One line for the student's report: how their code is run here."""
    if not posix_sandbox_available():
        return f"isolation: {MODE}"
    if os.geteuid() == 0:
        return "isolation: full (a worker user of its own, resource limits, confinement)"
    return ("isolation: reduced (not root: the submission runs as you, with resource limits "
            "and timeouts)")


class Layers:
    """No layers: what grade.py records for staff."""

    def note_worker(self, report):
        pass

    def describe(self):
        return {"mode": MODE}


class Isolation:
    """Who workers run as: the student themself (there is no other choice here)."""

    def __init__(self, user_prefix=None):
        self.user = None
        self.is_root = False
        self.layers = Layers()

    dedicated_user = False
    description = MODE

    def release(self):
        pass


class Runtime:
    """A private folder with the worker's code and one working folder per worker."""

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="nnag-")
        self.code_dir = os.path.join(self.base, "runtime")
        os.mkdir(self.code_dir)
        here = os.path.dirname(os.path.abspath(__file__))
        for name in RUNTIME_FILES:
            shutil.copyfile(os.path.join(here, name), os.path.join(self.code_dir, name))
        self._count = 0

    def new_workdir(self, submission_text, encoding="utf-8"):
        """A fresh working folder holding only a copy of the submission."""
        self._count += 1
        workdir = os.path.join(self.base, f"work{self._count}")
        os.mkdir(workdir)
        with open(os.path.join(workdir, "neural_net.py"), "w", encoding=encoding,
                  newline="") as handle:
            handle.write(submission_text)
        return workdir

    def cleanup(self, deadline=None):
        shutil.rmtree(self.base, ignore_errors=True)


class BoundedOutput:
    """The child's output as head and tail; the rest is only counted.

    Fed by a reader thread; take_new() is called by the grading thread.
    """

    def __init__(self, head_bytes, tail_bytes):
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self.lock = threading.Lock()
        self.total = 0  # every byte ever written, for the flood limit
        self._reset()

    def _reset(self):
        self.head = bytearray()
        self.tail = bytearray()
        self.skipped = 0

    def feed(self, data):
        with self.lock:
            self.total += len(data)
            room = self.head_bytes - len(self.head)
            self.head += data[:room]
            rest = data[room:] if room > 0 else data
            if rest:
                self.tail += rest
                excess = len(self.tail) - self.tail_bytes
                if excess > 0:
                    self.skipped += excess
                    del self.tail[:excess]

    def take_new(self):
        """Text written since the last call, at most head + tail bytes of it."""
        with self.lock:
            head, tail, skipped = bytes(self.head), bytes(self.tail), self.skipped
            self._reset()
        text = head.decode("utf-8", "replace")
        if skipped:
            text += f"\n... [{skipped} bytes of output cut] ...\n"
        return text + tail.decode("utf-8", "replace")


# What an interpreter needs to start everywhere (Windows: SYSTEMROOT for its
# random numbers, TEMP for tempfile); nothing else of the user's environment,
# as with the sandbox: BLAS settings (OPENBLAS_CORETYPE, ...) would change the
# last bits of results the self-check's recorded answers are keyed on.
KEPT_VARIABLES = ("PATH", "SYSTEMROOT", "WINDIR", "TEMP", "TMP", "TMPDIR", "HOME",
                  "USERPROFILE", "LANG", "PATHEXT", "COMSPEC")


def worker_environment():
    """A minimal environment with one BLAS thread and a headless matplotlib."""
    environment = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                 "NUMEXPR_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
        environment[name] = "1"
    environment.update(MPLBACKEND="Agg", PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8")
    return environment


class Worker:
    """One child process: start, request/reply with deadlines, kill."""

    def __init__(self, runtime, isolation, submission_text, limits, python=None,
                 encoding="utf-8"):
        self.limits = limits
        self.isolation = isolation
        self.workdir = runtime.new_workdir(submission_text, encoding)
        self.output_limit = limits["file_size_mb"] << 20
        self.capture = BoundedOutput(limits["output_head_kb"] << 10,
                                     limits["output_tail_kb"] << 10)
        self.network_blocked = False
        self.flooded = False
        self.replies = queue.Queue()
        settings = {"portable": True, "limits": limits,  # the worker's output budget reads them
                    "submission": os.path.join(self.workdir, "neural_net.py")}
        self.process = subprocess.Popen(
            [python or sys.executable, "-I", "-B", os.path.join(runtime.code_dir, "worker.py"),
             json.dumps(settings)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.workdir, env=worker_environment(), close_fds=True)
        self.request_fd = self.process.stdin.fileno()
        self.reply_fd = self.process.stdout.fileno()
        self.sender = None
        max_header, max_reply = limits["max_header_kb"] << 10, limits["max_reply_mb"] << 20
        threading.Thread(target=self._read_replies, args=(max_header, max_reply),
                         daemon=True).start()
        threading.Thread(target=self._read_output, daemon=True).start()

    # -- reader threads ----------------------------------------------------
    # Each reader closes its own pipe when it ends: closing a descriptor that
    # another thread still reads could hand that thread a reused descriptor.
    def _read_replies(self, max_header, max_reply):
        """Decode replies until the pipe closes; an error ends the stream."""
        fd = self.reply_fd
        try:
            while True:
                try:
                    message = wire.receive(fd, None, max_header, max_reply)
                except (wire.PeerClosed, wire.WireError, OSError, ValueError) as error:
                    self.replies.put(error)
                    return
                self.replies.put(message)
        finally:
            self._kill_process()  # a child that broke the protocol is of no further use
            self.process.stdout.close()

    def _read_output(self):
        stream = self.process.stderr
        try:
            while True:
                try:
                    data = stream.read1(READ_CHUNK)
                except (OSError, ValueError):
                    return
                if not data:
                    return
                self.capture.feed(data)
                if self.capture.total > self.output_limit and not self.flooded:
                    self.flooded = True
                    self._kill_process()
        finally:
            stream.close()

    # -- the contract of workers.Worker -------------------------------------
    def wait_ready(self, deadline, cpu_limit_s=None):
        """Wait for the import of the submission: returns the ready/import_error header.

        deadline: float (time.monotonic). cpu_limit_s is accepted for the
        contract of workers.Worker, but the wall clock alone is used here
        (no portable way to read a child's CPU time without /proc).
        """
        header, _ = self.receive(deadline)
        return header

    def request(self, header, arrays, deadline, max_reply=None, cpu_limit_s=None):
        """Send one request and return the validated (header, arrays) reply.

        Deadlines are wall-clock here (see wait_ready); replies are capped by
        max_reply_mb in the reader thread, max_reply is accepted for the
        contract of workers.Worker.
        """
        # In a thread: a child that stops reading must not block the grader.
        self.sender = threading.Thread(target=self._send, args=(header, arrays), daemon=True)
        self.sender.start()
        return self.receive(deadline)

    def _send(self, header, arrays):
        try:
            wire.send(self.request_fd, header, arrays)
        except (wire.PeerClosed, OSError, ValueError):
            pass  # the reply side reports the child's end

    def receive(self, deadline):
        while True:
            if self.flooded:
                raise self.died()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise wire.Deadline()
            try:
                message = self.replies.get(timeout=min(POLL_S, remaining))
            except queue.Empty:
                continue
            if isinstance(message, wire.WireError):
                raise message
            if isinstance(message, Exception):
                raise self.died()
            return message

    def died(self):
        """Explain the end of a child whose reply pipe closed (or that flooded)."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            self.kill()
            return WorkerDied("closed its connection to the grader", None)
        self.kill()
        if self.flooded:
            return WorkerDied(f"was stopped after printing more than "
                              f"{self.output_limit >> 20} MB of output", None)
        if code < 0:
            name = SIGNAL_NAMES.get(-code, f"signal {-code}")
            return WorkerDied(f"was killed by signal {-code}: {name}", code)
        return WorkerDied(f"exited with code {code} (sys.exit, os._exit or a crash)", code)

    def output(self):
        return self.capture.take_new()

    def _kill_process(self):
        try:
            self.process.kill()
        except OSError:
            pass

    def kill(self):
        """Kill the child, close the request pipe, remove its working folder."""
        self._kill_process()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        if self.sender is not None:
            self.sender.join(timeout=5)  # the dead child's pipe fails its write at once
        if self.sender is None or not self.sender.is_alive():
            try:
                self.process.stdin.close()
            except (OSError, ValueError):
                pass
        self.request_fd = self.reply_fd = -1
        shutil.rmtree(self.workdir, ignore_errors=True)

    def left_something_running(self):
        """Unknown without /proc: the child is reused, and killed at the end."""
        return False

    def kill_strays(self):
        """No worker user of its own here: nothing to look for (see left_something_running)."""
        return 0

    @property
    def alive(self):
        return self.request_fd >= 0 and self.process.poll() is None
