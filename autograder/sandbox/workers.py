"""Starting, talking to and killing worker processes (trusted parent side).

A worker is a fresh Python process, running autograder/sandbox/worker.py as an
unprivileged user with no supplementary groups, in its own session, with a
minimal environment, a root-owned read-only working directory that holds only
a copy of the submission, and its stdout/stderr in a capture file whose
growth the worker's RLIMIT_FSIZE bounds. The parent enforces every deadline
itself: the worker's cooperation is never needed to stop it.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from autograder.sandbox import cleanup, layers, wire

RUNTIME_FILES = ("worker.py", "wire.py", "confine.py")
START_CLEANUP_S = 10.0  # clean-up of a previous run's leftovers, at most
CPU_POLL_S = 0.1  # how often the worker's CPU time is read while waiting
# getattr: several are POSIX only, and this module must import everywhere
# (autograder/sandbox/portable.py uses WorkerDied).
SIGNAL_NAMES = {getattr(signal, name): text for name, text in (
    ("SIGSEGV", "SIGSEGV (segmentation fault)"), ("SIGKILL", "SIGKILL"),
    ("SIGXCPU", "SIGXCPU (CPU time limit)"), ("SIGABRT", "SIGABRT (abort)"),
    ("SIGBUS", "SIGBUS"), ("SIGFPE", "SIGFPE"), ("SIGILL", "SIGILL"), ("SIGTERM", "SIGTERM"),
    ("SIGXFSZ", "SIGXFSZ (file size limit)")) if hasattr(signal, name)}


class CpuTimeout(wire.Deadline):
    """The worker used up the CPU time it was given for the request."""


class WorkerDied(Exception):
    """The worker process ended; `how` says how, in words for a student."""

    def __init__(self, how, returncode):
        super().__init__(how)
        self.how = how
        self.returncode = returncode


class Isolation:
    """Who workers run as, decided once per grading run.

    As root, each grading run claims its own worker user (prefix0, prefix1,
    ...) under an exclusive lock, so that killing "every process of the worker
    user" can never touch another run's workers when runs go in parallel.
    """

    MAX_USERS = 32

    def __init__(self, user_prefix):
        self.is_root = os.geteuid() == 0
        self.user = None
        self._lock = None
        if self.is_root:
            self.user, self._lock = claim_worker_user(user_prefix, self.MAX_USERS)
            become_subreaper()
            # A crashed or killed earlier run may have left processes, files
            # or IPC objects of this user: none of it may affect this run.
            clean_up_user(self.user, time.monotonic() + START_CLEANUP_S)
        # -- isolation layers beyond the user (probed once: autograder/sandbox/layers.py)
        self.layers = layers.Layers(self.user)

    @property
    def dedicated_user(self):
        return self.user is not None

    @property
    def description(self):
        if self.dedicated_user:
            return f"full (worker user {self.user.pw_name})"
        return "reduced (not root: the submission runs as the same user as the grader)"

    def release(self):
        if self._lock is not None:
            self._lock.close()
            self._lock = None


def claim_worker_user(prefix, max_users):
    """The first worker user nobody else holds: (passwd entry, open lock file)."""
    import fcntl  # POSIX only, like everything of the worker user

    lock_dir = "/tmp/nnag-locks"
    os.makedirs(lock_dir, mode=0o700, exist_ok=True)
    for index in range(max_users):
        name = f"{prefix}{index}"
        lock = open(os.path.join(lock_dir, name + ".lock"), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.close()
            continue
        return ensure_worker_user(name), lock
    raise RuntimeError(f"all {max_users} worker users are busy")


def ensure_worker_user(name, attempts=20):
    """The worker's passwd entry; created (system user, no groups) if missing."""
    import pwd  # POSIX only

    for _ in range(attempts):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        # useradd fails while another useradd holds /etc/passwd: try again.
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", "--user-group", name],
                       capture_output=True)
        time.sleep(0.05)
    return pwd.getpwnam(name)


class Runtime:
    """Root-owned, world-readable copies of the worker's code, plus scratch space.

    Workers cannot read the grader's own tree (it is 0700 on Gradescope), so
    the two files they run are copied where they can read but not write them.
    """

    def __init__(self):
        self.base = tempfile.mkdtemp(prefix="nnag-")
        os.chmod(self.base, 0o711)
        self.code_dir = os.path.join(self.base, "runtime")
        os.mkdir(self.code_dir)
        here = os.path.dirname(os.path.abspath(__file__))
        for name in RUNTIME_FILES:
            shutil.copyfile(os.path.join(here, name), os.path.join(self.code_dir, name))
            os.chmod(os.path.join(self.code_dir, name), 0o644)
        os.chmod(self.code_dir, 0o755)
        self.private = os.path.join(self.base, "private")  # capture files: parent only
        os.mkdir(self.private, 0o700)
        self._count = 0

    def new_workdir(self, submission_text, group=None, encoding="utf-8"):
        """A fresh working directory holding only a read-only copy of the submission.

        With a worker group, only that group can read it: the reference also
        runs in a worker (for timing), and no other worker user may read it.
        """
        self._count += 1
        workdir = os.path.join(self.base, f"work{self._count}")
        os.mkdir(workdir, 0o700)
        path = os.path.join(workdir, "neural_net.py")
        with open(path, "w", encoding=encoding) as handle:
            handle.write(submission_text)
        if group is None:
            os.chmod(path, 0o644)
            os.chmod(workdir, 0o755)
        else:
            for target, mode in ((path, 0o640), (workdir, 0o750)):
                os.chown(target, 0, group)
                os.chmod(target, mode)
        return workdir

    def new_capture_file(self):
        return os.path.join(self.private, f"output{self._count}.txt")

    def cleanup(self, deadline=None):
        cleanup.remove_tree(self.base, deadline)


class OutputCapture:
    """The worker's stdout+stderr file, read back as bounded head and tail."""

    def __init__(self, path, head_bytes, tail_bytes):
        self.path = path
        self.head_bytes = head_bytes
        self.tail_bytes = tail_bytes
        self.handle = open(path, "wb")
        self.offset = 0

    def take_new(self):
        """Text written since the last call, at most head + tail bytes of it."""
        end = os.stat(self.path).st_size
        start, self.offset = self.offset, end
        if end <= start:
            return ""
        with open(self.path, "rb") as reader:
            if end - start <= self.head_bytes + self.tail_bytes:
                reader.seek(start)
                return reader.read(end - start).decode("utf-8", "replace")
            reader.seek(start)
            head = reader.read(self.head_bytes).decode("utf-8", "replace")
            reader.seek(end - self.tail_bytes)
            tail = reader.read(self.tail_bytes).decode("utf-8", "replace")
        skipped = end - start - self.head_bytes - self.tail_bytes
        return f"{head}\n... [{skipped} bytes of output cut] ...\n{tail}"

    def close(self):
        self.handle.close()


class Worker:
    """One worker process: start, request/reply with deadlines, kill."""

    def __init__(self, runtime, isolation, submission_text, limits, python=None,
                 encoding="utf-8"):
        self.limits = limits
        self.isolation = isolation
        group = isolation.user.pw_gid if isolation.dedicated_user else None
        self.workdir = runtime.new_workdir(submission_text, group, encoding)
        self.capture = OutputCapture(runtime.new_capture_file(),
                                     limits["output_head_kb"] << 10,
                                     limits["output_tail_kb"] << 10)
        self.max_reply = limits["max_reply_mb"] << 20
        self.max_header = limits["max_header_kb"] << 10
        self.network_blocked = False
        request_read, self.request_fd = os.pipe()
        self.reply_fd, reply_write = os.pipe()
        os.set_blocking(self.request_fd, False)
        # -- isolation layers (autograder/sandbox/layers.py): scratch, confinement
        scratch = layers.make_scratch(self.workdir, isolation.user)
        settings = {
            "limits": limits, "dedicated_user": isolation.dedicated_user,
            "in_fd": request_read, "out_fd": reply_write,
            "submission": os.path.join(self.workdir, "neural_net.py"),
            "confine": isolation.layers.worker_settings(
                read_paths=(runtime.code_dir, self.workdir), write_paths=(scratch,)),
        }
        user_args = {}
        if isolation.dedicated_user:
            user_args = dict(user=isolation.user.pw_uid, group=isolation.user.pw_gid,
                             extra_groups=[])
        import json
        environment = dict(worker_environment(self.workdir), TMPDIR=scratch, MPLCONFIGDIR=scratch,
                           XDG_CACHE_HOME=scratch)  # the only writable place (Landlock)
        try:
            # -- isolation layers: prlimit, bwrap and the cgroup wrap the interpreter
            self.launched = layers.launch(
                isolation.layers,
                [python or sys.executable, "-I", "-B",
                 os.path.join(runtime.code_dir, "worker.py"), json.dumps(settings)],
                limits=limits, dedicated_user=isolation.dedicated_user,
                binds=(("--ro-bind", runtime.code_dir), ("--ro-bind", self.workdir),
                       ("--bind", scratch)),
                chdir=self.workdir,
                popen_kwargs=dict(
                    stdin=subprocess.DEVNULL, stdout=self.capture.handle, stderr=subprocess.STDOUT,
                    pass_fds=(request_read, reply_write), cwd=self.workdir, env=environment,
                    start_new_session=True, close_fds=True, **user_args))
            self.process = self.launched.process
        finally:
            os.close(request_read)
            os.close(reply_write)

    def wait_ready(self, deadline, cpu_limit_s=None):
        """Wait for the import of the submission: returns the ready/import_error header.

        deadline: float (time.monotonic), the wall-clock cap; cpu_limit_s: the
        CPU seconds the import may use (None: the wall clock alone).
        """
        self.wait_for_reply(deadline, cpu_limit_s)
        header, _ = self.receive(deadline, self.max_header)  # no arrays expected: a small cap
        if header.get("op") == "ready":
            self.network_blocked = header.get("network_blocked") is True
            self.isolation.layers.note_worker(header.get("layers"))  # isolation layers
        return header

    def request(self, header, arrays, deadline, max_reply=None, cpu_limit_s=None):
        """Send one request and return the validated (header, arrays) reply.

        deadline: float (time.monotonic), the wall-clock cap; cpu_limit_s: CPU
        seconds the worker may use on it (CpuTimeout when passed); max_reply:
        bytes the reply's arrays may have together (capped by max_reply_mb).
        """
        try:
            wire.send(self.request_fd, header, arrays, deadline)
        except wire.PeerClosed:
            raise self.died() from None
        self.wait_for_reply(deadline, cpu_limit_s)
        return self.receive(deadline, min(self.max_reply, max_reply or self.max_reply))

    def wait_for_reply(self, deadline, cpu_limit_s=None):
        """Block until the reply starts to arrive (or the worker closes its end).

        The worker's CPU time is what stops runaway code: a loaded machine
        slows a correct submission in wall-clock time, not in CPU time. The
        wall-clock deadline still caps waits that use no CPU (sleep, a lock).
        """
        poller = select.poll()
        poller.register(self.reply_fd, select.POLLIN)
        cpu_start = self.cpu_seconds() if cpu_limit_s is not None else None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise wire.Deadline()
            slice_s = remaining if cpu_start is None else min(remaining, CPU_POLL_S)
            if poller.poll(slice_s * 1000):
                return
            if cpu_start is not None and self.cpu_seconds() - cpu_start > cpu_limit_s:
                raise CpuTimeout()

    def cpu_seconds(self):
        """CPU seconds used so far by the worker: its whole cgroup where there is
        one, else the interpreter's own threads and its reaped children."""
        cgroup = getattr(self.launched, "cgroup", None)
        if cgroup:
            try:
                with open(os.path.join(cgroup, "cpu.stat")) as handle:
                    for line in handle:
                        if line.startswith("usage_usec "):
                            return int(line.split()[1]) / 1e6
            except (OSError, ValueError):
                pass
        return process_cpu_seconds(self.launched.worker_pid)

    def receive(self, deadline, max_reply=None):
        try:
            return wire.receive(self.reply_fd, deadline, self.max_header,
                                max_reply or self.max_reply)
        except wire.PeerClosed:
            raise self.died() from None

    def died(self):
        """Explain the end of a worker whose reply pipe closed."""
        try:
            code = self.launched.returncode(self.process.wait(timeout=2))  # isolation layers
        except subprocess.TimeoutExpired:
            self.kill()
            return WorkerDied("closed its connection to the grader", None)
        self.kill()
        if code < 0:
            name = SIGNAL_NAMES.get(-code, f"signal {-code}")
            return WorkerDied(f"was killed by signal {-code}: {name}", code)
        return WorkerDied(f"exited with code {code} (sys.exit or os._exit)", code)

    def output(self):
        return self.capture.take_new()

    def kill(self):
        """SIGKILL the process group, then every process of the worker user."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.launched.end()  # isolation layers: cgroup.kill
        if self.isolation.dedicated_user:
            kill_all_processes_of(self.isolation.user.pw_uid)
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for fd in (self.request_fd, self.reply_fd):
            try:
                os.close(fd)
            except OSError:
                pass
        self.request_fd = self.reply_fd = -1
        self.capture.close()
        cleanup.remove_tree(self.workdir, time.monotonic() + 10)

    def left_something_running(self):
        """True if the student's code left threads or child processes behind.

        They would keep running (and using the limits) during the next calls,
        so such a worker is not reused: the next call gets a fresh one.
        """
        pid = self.launched.worker_pid  # isolation layers: under bwrap, not process.pid
        try:
            with open(f"/proc/{pid}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"Threads:") and int(line.split()[1]) > 1:
                        return True
            with open(f"/proc/{pid}/task/{pid}/children", "rb") as children:
                return any(not _is_zombie(int(child)) for child in children.read().split())
        except (OSError, ValueError):
            return False

    def kill_strays(self):
        """Kill every process of the worker user except this worker itself.

        Between calls the worker is the only process its user may have: any
        other (a detached daemon started at import or in an earlier call) only
        competes with the submission for the CPU, or waits to tamper. Returns
        how many were killed.
        """
        if not self.isolation.dedicated_user:
            return 0
        worker_pid = self.launched.worker_pid
        if self.launched.bwrapped and worker_pid == self.process.pid:
            return 0  # the interpreter under bwrap is not found yet: never guess
        keep = {self.process.pid}
        pid = worker_pid
        for _ in range(8):  # the launch chain: worker <- bwrap's init <- bwrap
            if pid is None or pid in keep:
                break
            keep.add(pid)
            pid = parent_pid(pid)
        strays = [pid for pid in live_processes_of(self.isolation.user.pw_uid) if pid not in keep]
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        return len(strays)

    @property
    def alive(self):
        return self.request_fd >= 0 and self.process.poll() is None


def stop_process_group(process, grace_s=0.0, kill_wait_s=10.0):
    """Stop a process started in its own session, with its whole process group.

    With grace_s > 0 the group first gets SIGINT and that long to finish (a
    grader still writes its results and stops its own workers); then SIGKILL.
    The process is reaped either way.

    Inputs:
    - process: subprocess.Popen started with start_new_session=True
    - grace_s: float, seconds between SIGINT and SIGKILL (0: SIGKILL at once)
    - kill_wait_s: float, how long to wait for the reaping after SIGKILL
    """
    steps = ((signal.SIGINT, grace_s),) if grace_s > 0 else ()
    for sig, wait in steps + ((signal.SIGKILL, kill_wait_s),):
        try:
            os.killpg(process.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def worker_environment(workdir):
    single_thread = "1"
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": workdir, "LANG": "C.UTF-8",
        "OPENBLAS_NUM_THREADS": single_thread, "OMP_NUM_THREADS": single_thread,
        "MKL_NUM_THREADS": single_thread, "NUMEXPR_NUM_THREADS": single_thread,
        "VECLIB_MAXIMUM_THREADS": single_thread, "MPLBACKEND": "Agg", "PYTHONHASHSEED": "0",
        # glibc's malloc: blocks up to 32 MB from the heap, which is never
        # trimmed, so that the same call costs the same CPU time the second
        # time (the timing backstop compares such calls; otherwise every call
        # pays page faults again for its large arrays, up to 4 x its time).
        "MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 40),
    }


def processes_of(uid):
    """PIDs of every live process whose real uid is `uid` (from /proc)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as status:
                for line in status:
                    if line.startswith(b"Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry))
                        break
        except (OSError, ValueError):
            continue
    return pids


def become_subreaper():
    """Adopt orphaned descendants (a double-forked daemon) so they can be reaped."""
    try:
        import ctypes

        PR_SET_CHILD_SUBREAPER = 36
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def kill_all_processes_of(uid, attempts=50):
    """Kill until none is left: a fork bomb may spawn while we sweep."""
    for _ in range(attempts):
        pids = processes_of(uid)
        for pid in pids:
            if _is_zombie(pid):
                try:  # ours to reap when we are its subreaper; harmless otherwise
                    os.waitpid(pid, os.WNOHANG)
                except ChildProcessError:
                    pass
        pids = [pid for pid in pids if not _is_zombie(pid)]
        if not pids:
            return True
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)
    return False


def parent_pid(pid):
    """pid's parent (from /proc), or None if pid is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return int(stat.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def live_processes_of(uid):
    """Processes of uid that still run (zombies are dead, waiting to be reaped)."""
    return [pid for pid in processes_of(uid) if not _is_zombie(pid)]


def _is_zombie(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def process_cpu_seconds(pid):
    """User + system CPU seconds of pid, its threads (ended ones too) and its
    reaped children (0 if gone).

    The process's own time comes from the kernel's per-process CPU clock
    (nanoseconds, like clock_getcpuclockid; readable for any process), so
    that a timing of a few milliseconds means something; /proc's clock
    ticks (10 ms) are the fallback, and the only source for children.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        own = (int(fields[11]) + int(fields[12])) / tick  # utime stime
        children = (int(fields[13]) + int(fields[14])) / tick  # cutime cstime
    except (OSError, ValueError, IndexError):
        return 0.0
    try:
        own = time.clock_gettime(_process_cpu_clock(pid))
    except (OSError, OverflowError, ValueError):
        pass
    return own + children


def _process_cpu_clock(pid):
    """The clock id of pid's whole-process CPU clock (Linux: CPUCLOCK_SCHED of
    a process, as clock_getcpuclockid(3) makes it)."""
    return ((~pid) << 3) | 2


def clean_up_user(user, deadline):
    """Everything a worker user can leave behind, removed: processes first (so
    that nothing recreates what follows), then SysV IPC, then files in every
    world-writable place. Bounded by deadline; never raises.

    Returns {what: count} for the staff's log.
    """
    report = {}
    steps = (("processes left", lambda: not kill_all_processes_of(user.pw_uid)),
             ("ipc objects removed", lambda: cleanup.remove_ipc_of(user.pw_uid)),
             ("files removed", lambda: cleanup.remove_files_of(user.pw_uid, user.pw_gid,
                                                               deadline=deadline)))
    for name, step in steps:
        if time.monotonic() > deadline:
            report[name] = "not done: out of time"
            continue
        try:
            report[name] = int(step())
        except Exception as error:  # noqa: BLE001  (clean-up must never stop a run)
            report[name] = f"failed: {type(error).__name__}: {error}"[:200]
    return report
