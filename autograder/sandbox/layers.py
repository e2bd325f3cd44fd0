"""Isolation layers on top of the worker user (trusted parent side).

The baseline holds everywhere: a worker user per run, hard resource limits,
a minimal environment. On top of it, each layer is used where this machine
allows it, probed once per process (cheaply) and never required:

- rlimits set before the worker's interpreter starts, by util-linux
  `prlimit` exec'ing it (no preexec_fn: the parent has threads);
- Landlock and a seccomp allowlist, which the worker applies to itself
  (confine.py) before it imports numpy or the submission: the parent only
  checks that the kernel offers Landlock and says what the worker may touch;
- bubblewrap: new user, network, IPC, PID and UTS namespaces, private /tmp,
  /var/tmp, /run and /dev, a /proc that shows only the worker's processes;
- a cgroup v2 per worker with whatever of the memory, pids and cpu
  controllers are delegated to us, ended with cgroup.kill.

Gradescope's container usually lacks namespaces and cgroup delegation; the
layers that work there are recorded with the results like the others.
"""
import atexit
import os
import shutil
import subprocess
import threading

from autograder.sandbox import confine

MB = 1 << 20
BWRAP_TMPFS_BYTES = 16 * MB
CGROUP_EXTRA_MEMORY = 64 * MB  # page cache and kernel memory on top of RLIMIT_AS
GATE_SCRIPT = 'read -r _ || exit 111; exec "$@" </dev/null'
PRIVATE_PLACES = ("/tmp", "/var/tmp", "/run")  # empty tmpfs under bwrap

_probe_lock = threading.Lock()
_probed = {}


class Probe:
    """What this machine offers, found once per process."""

    def __init__(self, prlimit=None, bwrap=None, cgroup=None, landlock_abi=0, seccomp=False):
        self.prlimit = prlimit          # path of util-linux prlimit, or None
        self.bwrap = bwrap              # path of a bwrap that works here, or None
        self.cgroup = cgroup            # CgroupParent, or None
        self.landlock_abi = landlock_abi
        self.seccomp = seccomp          # libseccomp's Python binding importable


def probe(user=None):
    """The Probe for workers running as `user` (a passwd entry or None).

    Cached for the process: every worker user is alike, so the answer found
    with the first one holds for the others (a grading run has two: the
    student's and the reference's).
    """
    key = user is not None
    with _probe_lock:
        if key not in _probed:
            _probed[key] = Probe(prlimit=probe_prlimit(), bwrap=probe_bwrap(user),
                                 cgroup=CgroupParent.probe() if user is not None else None,
                                 landlock_abi=confine.landlock_abi(), seccomp=probe_seccomp())
        return _probed[key]


def probe_prlimit():
    """util-linux prlimit, if it can set a limit and exec a program here."""
    path = shutil.which("prlimit", path="/usr/bin:/bin")
    if path is None:
        return None
    try:
        run = subprocess.run([path, "--core=0", "--", "/bin/true"], capture_output=True,
                             timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if run.returncode == 0 else None


def probe_seccomp():
    """True if the worker will find libseccomp through pyseccomp."""
    import importlib.util

    return importlib.util.find_spec("pyseccomp") is not None


def probe_bwrap(user):
    """bwrap, if it can build the worker's namespaces as the worker user here.

    Fails in most unprivileged containers (no user namespaces): then None.
    """
    path = shutil.which("bwrap", path="/usr/bin:/bin")
    if path is None:
        return None
    user_args = {}
    if user is not None:
        user_args = dict(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
    try:
        run = subprocess.run([path] + bwrap_args(binds=()) + ["/bin/true"],
                             capture_output=True, timeout=5, cwd="/", **user_args)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if run.returncode == 0 else None


def bwrap_args(binds, chdir=None):
    """bwrap options: fresh namespaces, the root read-only, private scratch places.

    `binds` is [(option, path)] with option --ro-bind or --bind, mounted at
    the same path inside (after the private /tmp, which would hide them).
    """
    size = str(BWRAP_TMPFS_BYTES)
    # --die-with-parent follows the parent *thread*: workers are started by the
    # grading thread itself, which outlives them.
    # --new-session: bwrap's init leads its own session inside; the worker then
    # leaves it for one of its own (worker.py), so that "my parent's process
    # group" is never the worker's own group.
    args = ["--die-with-parent", "--new-session", "--unshare-user", "--unshare-net",
            "--unshare-ipc", "--unshare-pid", "--unshare-uts", "--unshare-cgroup-try",
            "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
    for place in PRIVATE_PLACES:
        args += ["--size", size, "--tmpfs", place]
    for option, path in binds:
        args += [option, path, path]
    if chdir:
        args += ["--chdir", chdir]
    return args


def interpreter_binds(interpreter):
    """Read-only binds that keep the interpreter's own tree visible under bwrap.

    bwrap's /tmp, /var/tmp and /run are private and empty: an interpreter
    installed there (a virtual environment in /tmp) would vanish for the
    worker. Its prefix (PREFIX/bin/python -> PREFIX) is bound back, read-only;
    never a whole private place.
    """
    binds = set()
    for path in (os.path.abspath(interpreter), os.path.realpath(interpreter)):
        prefix = os.path.dirname(os.path.dirname(path))
        inside = [place for place in PRIVATE_PLACES if prefix.startswith(place + "/")]
        if inside:
            binds.add(("--ro-bind", prefix))
    return tuple(sorted(binds))


def prlimit_args(limits, dedicated_user):
    """util-linux prlimit options for the worker's hard limits (soft = hard)."""
    args = [f"--as={limits['memory_mb'] * MB}", f"--cpu={limits['cpu_s']}",
            f"--fsize={limits['file_size_mb'] * MB}", f"--nofile={limits['open_files']}",
            "--core=0"]
    if dedicated_user:  # per-uid count: only ours to cap when the uid is ours alone
        args.append(f"--nproc={limits['nproc']}")
    return args


class CgroupParent:
    """A cgroup v2 directory of this process in which we may make worker cgroups."""

    why_not = "no writable cgroup v2 here"  # set by probe() when it finds none

    def __init__(self, path, controllers):
        self.path = path
        self.controllers = controllers  # subset of memory, pids, cpu enabled for children
        self._count = 0

    @classmethod
    def probe(cls, kill_only=False):
        """Our own cgroup v2 if we may create children there, else None.

        Without any of memory, pids or cpu delegated, a cgroup would only add
        cgroup.kill to the kill of every process of the worker user, at some
        30 ms per worker: it is used then only if `kill_only` asks for it.
        """
        base = own_cgroup_v2_dir()
        if base is None:
            cls.why_not = "no writable cgroup v2 here"
            return None
        remove_stale_run_cgroups(base)
        run_dir = os.path.join(base, f"nnag-{os.getpid()}")
        try:
            os.mkdir(run_dir)
        except FileExistsError:
            pass
        except OSError:
            cls.why_not = "no writable cgroup v2 here"
            return None
        if not os.path.exists(os.path.join(run_dir, "cgroup.kill")):
            os.rmdir(run_dir)
            cls.why_not = "no cgroup.kill (kernel before 5.14)"
            return None
        enable_controllers(base)
        parent = cls(run_dir, enable_controllers(run_dir))
        if not parent.controllers and not kill_only:
            parent.remove()
            cls.why_not = "cgroup v2 writable, but no memory, pids or cpu controller delegated"
            return None
        atexit.register(parent.remove)
        return parent

    def new_worker_cgroup(self, limits):
        """A fresh child cgroup with the worker's limits; its path, or None."""
        self._count += 1
        path = os.path.join(self.path, f"w{self._count}")
        try:
            os.mkdir(path)
            settings = {"memory": (("memory.max", limits["memory_mb"] * MB + CGROUP_EXTRA_MEMORY),
                                   ("memory.swap.max", 0)),
                        "pids": (("pids.max", limits["nproc"] + 8),),  # + bwrap's helpers
                        "cpu": (("cpu.max", "100000 100000"),)}  # at most one CPU
            for controller in self.controllers:
                for name, value in settings[controller]:
                    write_file(os.path.join(path, name), value)
        except OSError:
            remove_cgroup(path)
            return None
        return path

    def remove(self):
        """Remove the worker cgroups left (a worker never ended), then this one."""
        try:
            children = [entry.path for entry in os.scandir(self.path) if entry.is_dir()]
        except OSError:
            children = []
        for child in children:
            remove_cgroup(child)
        remove_cgroup(self.path)


def own_cgroup_v2_dir():
    """Where this process's cgroup v2 lives in the file system, or None."""
    try:
        with open("/proc/self/cgroup") as handle:
            entries = [line.rstrip("\n").split(":", 2) for line in handle]
        with open("/proc/self/mountinfo") as handle:
            mounts = [line.split() for line in handle]
    except OSError:
        return None
    relative = next((path for hierarchy, _, path in entries if hierarchy == "0"), None)
    mount = next((fields[4] for fields in mounts
                  if "-" in fields and fields[fields.index("-") + 1] == "cgroup2"), None)
    if relative is None or mount is None:
        return None
    path = os.path.join(mount, relative.lstrip("/"))
    return path if os.access(path, os.W_OK) else None


def remove_stale_run_cgroups(base):
    """Remove the cgroups of earlier graders that were killed before their clean-up."""
    try:
        names = [name for name in os.listdir(base) if name.startswith("nnag-")]
    except OSError:
        return
    for name in names:
        pid = name[len("nnag-"):]
        if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
            CgroupParent(os.path.join(base, name), ()).remove()


def enable_controllers(path):
    """Enable memory/pids/cpu for path's children where allowed; returns those enabled.

    The kernel refuses for a cgroup that holds processes itself (other than
    the root): then the workers still get a cgroup, for cgroup.kill alone.
    """
    try:
        with open(os.path.join(path, "cgroup.controllers")) as handle:
            available = handle.read().split()
    except OSError:
        return ()
    enabled = []
    for controller in ("memory", "pids", "cpu"):
        if controller in available:
            try:
                write_file(os.path.join(path, "cgroup.subtree_control"), "+" + controller)
                enabled.append(controller)
            except OSError:
                pass
    return tuple(enabled)


def write_file(path, value):
    with open(path, "w") as handle:
        handle.write(str(value))


def remove_cgroup(path):
    """Kill whatever is in the cgroup, then remove it (best effort, bounded)."""
    if path is None or not os.path.isdir(path):
        return
    try:
        write_file(os.path.join(path, "cgroup.kill"), 1)
    except OSError:
        pass
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError:
            threading.Event().wait(0.01)  # the killed processes are still exiting


class Layers:
    """The layers of one grading run: what was probed and what the workers applied."""

    def __init__(self, user=None, enabled=True):
        self.user = user
        self.probe = probe(user) if enabled else Probe()
        self.reported = {}  # from the workers' ready messages: {layer: state}

    def note_worker(self, report):
        """Remember what a worker says it applied (an untrusted claim, for the record)."""
        if isinstance(report, dict):
            for name in ("landlock", "seccomp"):
                if name in report:
                    self.reported[name] = report[name]
                if name + "_error" in report:
                    self.reported[name + "_error"] = str(report[name + "_error"])[:200]

    def worker_settings(self, read_paths, write_paths):
        """The `confine` settings for worker.py (see confine.confine)."""
        return {"landlock": self.probe.landlock_abi > 0, "seccomp": self.probe.seccomp,
                "read_paths": list(read_paths), "write_paths": list(write_paths)}

    def describe(self):
        """{layer: short state} for the staff-only record of the run."""
        probe_ = self.probe
        landlock = self.reported.get("landlock")
        def not_applied(name):
            error = self.reported.get(name + "_error")
            return f"no (the worker could not apply it: {error})" if error else \
                "no (not applied by the worker)"

        landlock_state = f"yes (ABI {landlock})" if landlock else not_applied("landlock")
        if not probe_.landlock_abi:
            landlock_state = "no (not offered by this kernel)"
        seccomp_state = "yes" if self.reported.get("seccomp") else not_applied("seccomp")
        if not probe_.seccomp:
            seccomp_state = "no (pyseccomp missing)"
        cgroup = f"no ({CgroupParent.why_not})"
        if probe_.cgroup is not None:
            controllers = ", ".join(probe_.cgroup.controllers) or "none delegated: kill only"
            cgroup = f"yes ({controllers})"
        return {
            "worker user": f"yes ({self.user.pw_name})" if self.user else "no (not root)",
            "rlimits before exec": "yes (prlimit)" if probe_.prlimit else "no (set by the worker)",
            "landlock": landlock_state,
            "seccomp allowlist": seccomp_state,
            "namespaces (bwrap)": "yes" if probe_.bwrap else "no (bwrap missing or refused here)",
            "cgroup v2": cgroup,
        }



def make_scratch(workdir, user):
    """The worker's private writable directory, inside its working directory."""
    scratch = os.path.join(workdir, "scratch")
    os.mkdir(scratch, 0o700)
    if user is not None:
        os.chown(scratch, user.pw_uid, user.pw_gid)
    return scratch


class Launched:
    """A started worker and the layers around it."""

    def __init__(self, process, cgroup, bwrapped):
        self.process = process
        self.cgroup = cgroup
        self.bwrapped = bwrapped
        self._worker_pid = None if bwrapped else process.pid

    @property
    def worker_pid(self):
        """The pid of the worker's interpreter (under bwrap: its grandchild).

        bwrap runs as the new PID namespace's init, which starts the command as
        PID 2 there; processes the submission starts later get other numbers.
        """
        if self._worker_pid is None:
            init = only_child(self.process.pid)
            children = children_of(init) if init is not None else []
            found = [pid for pid in children if namespace_pid(pid) == 2]
            if len(found) != 1:
                return self.process.pid  # not started yet: ask again later
            self._worker_pid = found[0]
        return self._worker_pid

    def returncode(self, code):
        """The worker's own exit status (bwrap reports a signal as 128 + signal)."""
        if self.bwrapped and code is not None and 128 < code < 128 + 65:
            return -(code - 128)
        return code

    def end(self):
        """Kill everything in the worker's cgroup and remove it."""
        remove_cgroup(self.cgroup)
        self.cgroup = None


def children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(child) for child in handle.read().split()]
    except (OSError, ValueError):
        return []


def only_child(pid):
    children = children_of(pid)
    return children[0] if len(children) == 1 else None


def namespace_pid(pid):
    """pid's number in its own (innermost) PID namespace, from /proc's NSpid."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError):
        pass
    return None


def launch(layers, argv, *, limits, dedicated_user, binds, chdir, popen_kwargs):
    """Start `argv` (the worker's interpreter) inside every layer in use.

    The chain is [sh gate] -> prlimit -> bwrap -> python, each exec'ing the
    next; the gate (only with a cgroup) waits until the parent has moved it
    into the worker's cgroup, so that nothing of the worker runs outside it.
    """
    probe_ = layers.probe
    command = list(argv)
    if probe_.bwrap:
        binds = tuple(binds) + interpreter_binds(argv[0])
        command = [probe_.bwrap] + bwrap_args(binds, chdir) + command
    if probe_.prlimit:
        command = [probe_.prlimit] + prlimit_args(limits, dedicated_user) + ["--"] + command
    cgroup = probe_.cgroup.new_worker_cgroup(limits) if probe_.cgroup else None
    if cgroup is None:
        return Launched(subprocess.Popen(command, **popen_kwargs), None, bool(probe_.bwrap))
    gate_read, gate_write = os.pipe()
    try:
        process = subprocess.Popen(["/bin/sh", "-c", GATE_SCRIPT, "nnag-gate"] + command,
                                   **dict(popen_kwargs, stdin=gate_read))
    except BaseException:
        os.close(gate_write)
        remove_cgroup(cgroup)
        raise
    finally:
        os.close(gate_read)
    try:
        write_file(os.path.join(cgroup, "cgroup.procs"), process.pid)
    except OSError:
        remove_cgroup(cgroup)
        cgroup = None
    try:
        os.write(gate_write, b"go\n")
    except OSError:
        pass  # the gate died already: the worker's death is noticed as usual
    finally:
        os.close(gate_write)
    return Launched(process, cgroup, bool(probe_.bwrap))
