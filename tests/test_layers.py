"""The isolation layers on top of the worker user: each one blocks what it should.

Every attack runs twice where it can: with the layers this machine offers
(blocked) and with the layer under test turned off (it gets through), so that
a test that cannot see its layer's absence would fail here. Layers the
machine lacks are skipped, and the skip says which.
"""
import errno
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from autograder.config import load_config
from autograder.sandbox import confine, layers, student as oracle, workers

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = open(os.path.join(ROOT, "reference", "neural_net.py"), encoding="utf-8").read()
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="a worker user per run needs root")


needs_landlock = pytest.mark.skipif(confine.landlock_abi() == 0,
                                    reason="this kernel offers no Landlock")
needs_seccomp = pytest.mark.skipif(not layers.probe_seccomp(), reason="pyseccomp missing")


def with_override(code):
    return REFERENCE + "\n\n" + code + "\n"


def config():
    settings = load_config()
    settings["limits"] = dict(settings["limits"], call_timeout_s=5, startup_timeout_s=10)
    return settings


@pytest.fixture
def make_student(monkeypatch):
    """make(source, off=("landlock", ...)): a Student whose runs lack the named layers."""
    made = []

    def make(source, off=()):
        real_probe = layers.probe  # as the test may have set it

        def reduced(user=None):
            found = real_probe(user)
            fields = dict(vars(found))
            for name in off:
                fields[{"landlock": "landlock_abi"}.get(name, name)] = (
                    0 if name == "landlock" else None if name in ("bwrap", "cgroup", "prlimit")
                    else False)
            return layers.Probe(**fields)

        monkeypatch.setattr(layers, "probe", reduced)
        student = oracle.Student(source, config())
        monkeypatch.setattr(layers, "probe", real_probe)
        made.append(student)
        return student

    yield make
    for student in made:
        uid = student.isolation.user.pw_uid if student.isolation.dedicated_user else None
        student.close()
        if uid is not None:
            assert workers.live_processes_of(uid) == [], "worker user's processes left behind"


def ask(make_student, code, off=()):
    """Run `code` (a function body returning an array of ints) in a fresh worker."""
    body = "".join("    " + line + "\n" for line in code.strip("\n").splitlines())
    student = make_student(with_override("def one_hot(y, num_classes):\n" + body), off)
    return [int(v) for v in student.one_hot(np.zeros(1, dtype=int), 2)]


# -- seccomp -------------------------------------------------------------------

def test_the_allowlist_allows_nothing_it_names_as_denied():
    assert not set(confine.DENIED_SYSCALLS) & set(confine.ALLOWED_SYSCALLS)
    for name in ("io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace",
                 "process_vm_readv", "process_vm_writev", "bpf", "keyctl", "add_key",
                 "request_key", "mount", "umount2", "unshare", "setns", "perf_event_open",
                 "socket", "socketpair", "clone", "clone3"):
        assert name not in confine.ALLOWED_SYSCALLS, name  # socket/clone: only with checked args


SECCOMP_ATTEMPTS = ("io_uring_setup", "ptrace", "process_vm_readv", "bpf", "keyctl",
                    "perf_event_open", "mount", "unshare")


def seccomp_attack_code():
    """Body that tries each refused call and sockets; returns errnos (0 = it worked)."""
    import pyseccomp

    numbers = {name: pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name)
               for name in SECCOMP_ATTEMPTS}
    return f"""
import ctypes, os, socket, threading
libc = ctypes.CDLL(None, use_errno=True)
out = []
for name, number in {numbers!r}.items():
    args = {{"unshare": (0x10000000 | 0x40000000,),          # NEWUSER | NEWNET
             "ptrace": (16, os.getppid(), 0, 0)}}.get(name, (0, 0, 0, 0, 0))  # ATTACH
    out.append(0 if libc.syscall(number, *args) >= 0 else ctypes.get_errno())
for family in (socket.AF_INET, socket.AF_INET6, socket.AF_NETLINK, socket.AF_UNIX):
    try:
        socket.socket(family, socket.SOCK_DGRAM).close()
        out.append(0)
    except OSError as error:
        out.append(error.errno)
child = os.fork()
if child == 0:
    os._exit(7)
out.append(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
thread = threading.Thread(target=lambda: None)
thread.start()
thread.join()
out.append(1)
return np.array(out)
"""


@needs_root
@needs_seccomp
def test_seccomp_refuses_kernel_attack_surface_and_inet_sockets(make_student):
    code = seccomp_attack_code()
    confined = ask(make_student, code)
    n = len(SECCOMP_ATTEMPTS)
    assert confined[:n] == [errno.EPERM] * n, dict(zip(SECCOMP_ATTEMPTS, confined))
    assert confined[n:n + 3] == [errno.EACCES] * 3       # AF_INET, AF_INET6, AF_NETLINK
    assert confined[n + 3:] == [0, 7, 1]                   # AF_UNIX, fork, threads still work
    # Without seccomp (nor bwrap, whose user namespace refuses some on its own),
    # unshare(NEWUSER|NEWNET) and an AF_INET socket get through: the test sees it.
    open_ = ask(make_student, code, off=("seccomp", "bwrap"))
    outcomes = dict(zip(SECCOMP_ATTEMPTS, open_))
    assert outcomes["unshare"] == 0 and open_[n] == 0, outcomes


@needs_seccomp
@pytest.mark.skipif(os.uname().machine != "x86_64", reason="raw clone number of x86_64")
def test_seccomp_on_its_own_refuses_namespaces_in_clone_but_not_fork():
    """confine.apply_seccomp in a plain subprocess: clone's flags, clone3, threads, exec."""
    script = f"""
import ctypes, errno, os, subprocess, sys, threading
sys.path.insert(0, {os.path.join(ROOT, "autograder", "sandbox")!r})
import confine
if sys.argv[1] == "on":
    assert confine.apply_seccomp()
libc = ctypes.CDLL(None, use_errno=True)
child = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)  # clone(CLONE_NEWUSER | SIGCHLD)
if child == 0:
    os._exit(0)
if child > 0:
    os.waitpid(child, 0)
out = [0 if child > 0 else ctypes.get_errno()]
out.append(0 if libc.syscall(435, 0, 0) >= 0 else ctypes.get_errno())  # clone3
pid = os.fork()
if pid == 0:
    os._exit(3)
out.append(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
thread = threading.Thread(target=lambda: None)
thread.start()
thread.join()
out.append(subprocess.run(["/bin/sh", "-c", "exit 5"]).returncode)
print(*out)
"""

    def run(mode):
        result = subprocess.run([sys.executable, "-I", "-c", script, mode], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return [int(v) for v in result.stdout.split()]

    assert run("on") == [errno.EPERM, errno.ENOSYS, 3, 5]
    assert run("off")[0] == 0 or not IS_ROOT  # without the filter, root gets its namespace


@needs_root
@needs_seccomp
def test_io_uring_socket_cannot_reach_a_listener(make_student):
    """The attack that the socket() rule alone missed: IORING_OP_SOCKET + connect."""
    payload = open(os.path.join(ROOT, "autograder", "validation", "hostile", "confinement.py"),
                   encoding="utf-8").read()
    student = make_student(with_override(payload + """
def one_hot(y, num_classes):
    import socket
    return np.array([_nnag_uring_socket(socket.AF_INET, socket.SOCK_STREAM)])
"""))
    assert list(student.one_hot(np.zeros(1, dtype=int), 2)) == [-errno.EPERM]


# -- Landlock ------------------------------------------------------------------

@pytest.fixture
def planted_reference():
    """A world-readable copy of the reference outside every allowlisted place."""
    place = tempfile.mkdtemp(prefix="nnag-test-checkout-", dir="/opt" if IS_ROOT else None)
    os.chmod(place, 0o755)
    path = os.path.join(place, "neural_net.py")
    shutil.copyfile(os.path.join(ROOT, "reference", "neural_net.py"), path)
    os.chmod(path, 0o644)
    yield path
    shutil.rmtree(place, ignore_errors=True)


def read_attempt(path):
    return f"""
import os
out = []
for target in ({path!r}, "neural_net.py", os.path.join(os.__file__)):
    try:
        with open(target, "rb") as handle:
            handle.read(1)
        out.append(1)
    except OSError:
        out.append(0)
return np.array(out)
"""


@needs_root
@needs_landlock
def test_landlock_hides_a_world_readable_reference_elsewhere(make_student, planted_reference):
    code = read_attempt(planted_reference)
    assert ask(make_student, code) == [0, 1, 1]  # its own copy and the stdlib stay readable
    assert ask(make_student, code, off=("landlock",)) == [1, 1, 1]


WRITE_ATTEMPT = """
import os
out = []
for place in ("/tmp", "/var/tmp", "/dev/shm", os.environ["TMPDIR"]):
    target = os.path.join(place, "nnag-test-written-%d" % os.getpid())
    try:
        with open(target, "w") as handle:
            handle.write("x")
        os.unlink(target)
        out.append(1)
    except OSError:
        out.append(0)
return np.array(out)
"""


@needs_root
@needs_landlock
def test_landlock_allows_writing_only_in_scratch(make_student):
    assert ask(make_student, WRITE_ATTEMPT) == [0, 0, 0, 1]
    assert ask(make_student, WRITE_ATTEMPT, off=("landlock", "bwrap"))[0] == 1


@needs_landlock
def test_landlock_wrapper_on_its_own(tmp_path):
    """confine.apply_landlock in a plain subprocess: reads, writes and TCP connects."""
    allowed, outside, scratch = tmp_path / "allowed", tmp_path / "outside", tmp_path / "scratch"
    for folder in (allowed, outside, scratch):
        folder.mkdir()
    (allowed / "a.txt").write_text("a")
    (outside / "b.txt").write_text("b")
    script = f"""
import os, socket, sys
sys.path.insert(0, {os.path.join(ROOT, "autograder", "sandbox")!r})
import confine
if sys.argv[1] == "on":
    confine.apply_landlock(confine.landlock_rules([{str(allowed)!r}], [{str(scratch)!r}]))
def works(action):
    try:
        action()
        return 1
    except OSError:
        return 0
def connect():
    with socket.socket() as s:
        s.settimeout(0.5)
        try:
            s.connect(("127.0.0.1", 9))
        except ConnectionRefusedError:
            pass  # reached the kernel's TCP stack: Landlock let it through
print(works(lambda: open({str(allowed / "a.txt")!r}).read()),
      works(lambda: open({str(outside / "b.txt")!r}).read()),
      works(lambda: open({str(scratch / "c.txt")!r}, "w").write("c")),
      works(lambda: open({str(outside / "d.txt")!r}, "w").write("d")),
      works(connect))
"""
    def run(mode):
        result = subprocess.run([sys.executable, "-I", "-c", script, mode], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        return result.stdout.split()

    tcp = "0" if confine.landlock_abi() >= 4 else "1"
    assert run("on") == ["1", "0", "1", "0", tcp]
    assert run("off") == ["1", "1", "1", "1", "1"]


# -- bubblewrap namespaces ----------------------------------------------------------

NAMESPACE_PROBE = """
import os
return np.array([os.getpid(),
                 int(os.readlink("/proc/self/ns/net") != {net!r}),
                 int(os.readlink("/proc/self/ns/ipc") != {ipc!r}),
                 int(os.stat("/tmp").st_dev != {tmp_dev})])
"""


@needs_root
@pytest.mark.skipif(not IS_ROOT or layers.probe_bwrap(None) is None,
                    reason="bwrap cannot build namespaces on this machine")
def test_bwrap_gives_own_pid_network_ipc_and_tmp(make_student):
    code = NAMESPACE_PROBE.format(net=os.readlink("/proc/self/ns/net"),
                                  ipc=os.readlink("/proc/self/ns/ipc"),
                                  tmp_dev=os.stat("/tmp").st_dev)
    assert ask(make_student, code) == [2, 1, 1, 1]  # PID 2: only bwrap's init comes before it
    plain = ask(make_student, code, off=("bwrap",))
    assert plain[0] != 2 and plain[1:] == [0, 0, 0]


# -- cgroup v2 ---------------------------------------------------------------------------

@needs_root
def test_each_worker_runs_in_its_own_cgroup_removed_at_kill(make_student, monkeypatch):
    # Here even a cgroup without delegated controllers (kill only) will do.
    cgroup = layers.CgroupParent.probe(kill_only=True)
    if cgroup is None:
        pytest.skip("no writable cgroup v2 on this machine")
    real_probe = layers.probe
    monkeypatch.setattr(layers, "probe", lambda user=None: layers.Probe(
        **dict(vars(real_probe(user)), cgroup=cgroup)))
    student = make_student(REFERENCE)
    student.sigmoid_forward(np.zeros(2))
    worker = student.worker
    cgroup = worker.launched.cgroup
    assert cgroup and os.path.isdir(cgroup)
    with open(os.path.join(cgroup, "cgroup.procs")) as handle:
        members = {int(pid) for pid in handle.read().split()}
    assert worker.launched.worker_pid in members and worker.process.pid in members
    student._discard_worker()
    assert not os.path.exists(cgroup)


# -- limits before exec --------------------------------------------------------------------

@pytest.mark.skipif(layers.probe_prlimit() is None, reason="util-linux prlimit missing")
def test_limits_are_set_before_the_interpreter_starts():
    limits = load_config()["limits"]

    with_prlimit = layers.Layers(enabled=False)
    with_prlimit.probe = layers.Probe(prlimit=layers.probe_prlimit())
    without = layers.Layers(enabled=False)

    def limit_of(chosen):
        launched = layers.launch(chosen, ["/bin/cat", "/proc/self/limits"], limits=limits,
                                 dedicated_user=False, binds=(), chdir=None,
                                 popen_kwargs=dict(stdout=subprocess.PIPE,
                                                   stdin=subprocess.DEVNULL))
        text = launched.process.communicate(timeout=30)[0].decode()
        line = next(line for line in text.splitlines() if line.startswith("Max address space"))
        return line.split()[4]  # the hard limit

    assert limit_of(with_prlimit) == str(limits["memory_mb"] << 20)
    assert limit_of(without) != str(limits["memory_mb"] << 20)


# -- the whole grading ---------------------------------------------------------------------

@needs_root
def test_reference_scores_100_and_the_layers_are_recorded_for_staff(tmp_path):
    from autograder.grading.grade import grade_submission
    import io

    stream = io.StringIO()
    data = grade_submission(os.path.join(ROOT, "reference", "neural_net.py"),
                            str(tmp_path / "results.json"), stream=stream)
    assert data["score"] == 100
    recorded = data["extra_data"]["isolation_layers"]
    assert recorded["worker user"].startswith("yes")
    if confine.landlock_abi():
        assert recorded["landlock"].startswith("yes")
    if layers.probe_seccomp():
        assert recorded["seccomp allowlist"] == "yes"
    assert "isolation_layers" not in data["output"] and "landlock" not in data["output"]
    assert "isolation: worker user: yes" in stream.getvalue()


@needs_root
def test_a_machine_without_any_layer_still_grades(make_student):
    off = ("landlock", "seccomp", "bwrap", "cgroup", "prlimit")
    student = make_student(REFERENCE, off=off)
    np.testing.assert_allclose(student.sigmoid_forward(np.zeros(2)), 0.5)
    described = student.isolation.layers.describe()
    assert described["namespaces (bwrap)"].startswith("no")
    assert described["landlock"].startswith("no")
    assert described["seccomp allowlist"].startswith("no")


# -- probing: a layer the machine refuses is skipped, not required -----------------------------

def test_probes_skip_what_this_machine_refuses(monkeypatch):
    monkeypatch.setattr(layers.shutil, "which", lambda name, path=None: "/bin/false")
    assert layers.probe_bwrap(None) is None      # bwrap present but refused (no namespaces)
    assert layers.probe_prlimit() is None
    monkeypatch.setattr(layers.shutil, "which", lambda name, path=None: None)
    assert layers.probe_bwrap(None) is None and layers.probe_prlimit() is None
    assert confine.apply_landlock(confine.landlock_rules([], []), abi=0) == 0  # no Landlock
    monkeypatch.setattr(layers, "own_cgroup_v2_dir", lambda: None)
    assert layers.CgroupParent.probe(kill_only=True) is None
    assert "no writable cgroup v2" in layers.CgroupParent.why_not


def test_a_layer_that_fails_to_apply_is_recorded_not_fatal(monkeypatch):
    """A kernel that offers Landlock but refuses the ruleset: the worker goes on, staff see why."""
    def refuse(rules, abi=None):
        raise OSError(errno.EINVAL, "landlock_create_ruleset: Invalid argument")

    monkeypatch.setattr(confine, "apply_landlock", refuse)
    monkeypatch.setattr(confine, "apply_seccomp", lambda: True)
    report = confine.confine({"landlock": True, "seccomp": True})
    assert report["landlock"] == 0 and report["seccomp"] is True
    assert "Invalid argument" in report["landlock_error"]
    record = layers.Layers(enabled=False)
    record.probe = layers.Probe(landlock_abi=7, seccomp=True)
    record.note_worker(report)
    described = record.describe()
    assert described["landlock"].startswith("no (the worker could not apply it: OSError")
    assert described["seccomp allowlist"] == "yes"
