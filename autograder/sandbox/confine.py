"""Confinement the worker applies to itself (runs INSIDE the untrusted worker).

Copied next to worker.py and imported by it before numpy or the submission.
Stdlib only (plus pyseccomp, imported lazily); imports nothing of the grader.

Two layers, each applied only where the kernel allows it, each reported back:

- Landlock, a filesystem allowlist: the process and everything it starts may
  read (and execute) the interpreter, its libraries and its own working copy,
  and write only its private scratch directory. Where the kernel's Landlock
  ABI is new enough it also refuses TCP bind/connect (ABI 4) and signals or
  abstract UNIX sockets that leave the sandbox (ABI 6).
- seccomp, a default-deny system-call allowlist: what CPython, numpy and a
  homework's plain Python use, with a wide margin; everything else fails with
  EPERM (io_uring, ptrace, process_vm_*, bpf, keyrings, mounts, new
  namespaces, perf events, sockets other than AF_UNIX, ...).
"""
import ctypes
import errno
import os
import sys

# -- Landlock ----------------------------------------------------------------

# The three Landlock system calls have the same numbers on every architecture.
SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13      # ABI 2
FS_TRUNCATE = 1 << 14   # ABI 3
NET_BIND_TCP = 1 << 0   # ABI 4
NET_CONNECT_TCP = 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0  # ABI 6
SCOPE_SIGNAL = 1 << 1

# Rights that make sense on a single file (the kernel refuses the others there).
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE
READ_RIGHTS = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
DEVICE_RIGHTS = FS_READ_FILE | FS_WRITE_FILE | FS_TRUNCATE

# System places every Python needs to read (shared libraries, locale and time
# zone data, certificates). /tmp, /home, /root, /opt, /srv, /var, /autograder,
# /proc (other processes) are deliberately absent.
SYSTEM_READ_PATHS = ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc",
                     "/sys/devices/system/cpu", "/proc/self")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64),
                ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed: 8 + 4 bytes
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi():
    """The kernel's Landlock ABI version, 0 when Landlock is unavailable."""
    try:
        version = _libc().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                                  ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return version if version > 0 else 0


def handled_fs_rights(abi):
    """Every filesystem right this ABI knows (so each is denied unless granted)."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    return rights


def interpreter_paths():
    """Where this interpreter and its packages live (read and execute)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable))}
    # Installed packages only: not arbitrary sys.path entries, which may name a
    # source checkout (an editable install) holding a reference solution.
    return sorted(p for p in paths if p and os.path.abspath(p) != "/")


def landlock_rules(read_paths, write_paths):
    """[(path, rights)] for a worker: system + interpreter + given paths."""
    rules = [(path, READ_RIGHTS) for path in SYSTEM_READ_PATHS]
    rules += [(path, READ_RIGHTS) for path in interpreter_paths()]
    rules += [(path, READ_RIGHTS) for path in read_paths]
    rules += [(path, DEVICE_RIGHTS) for path in DEVICES]
    rules += [(path, -1) for path in write_paths]  # -1: every handled right
    return rules


def apply_landlock(rules, abi=None):
    """Restrict this process (and its future children) to `rules`.

    Returns the ABI version used (0: not applied, Landlock is unavailable).
    Paths that do not exist are skipped. Raises OSError if the kernel
    refuses a step after Landlock was found available.
    """
    abi = landlock_abi() if abi is None else abi
    if abi <= 0:
        return 0
    libc = _libc()
    handled = handled_fs_rights(abi)
    attr = _RulesetAttr(handled_access_fs=handled)
    size = 8
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        size = 16
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        size = 24
    ruleset = libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        raise _os_error("landlock_create_ruleset")
    try:
        for path, rights in rules:
            _add_path_rule(libc, ruleset, path, handled if rights == -1 else rights & handled)
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise _os_error("prctl(NO_NEW_PRIVS)")
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise _os_error("landlock_restrict_self")
    finally:
        os.close(ruleset)
    return abi


def _add_path_rule(libc, ruleset, path, rights):
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # absent on this system: nothing to allow
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneathAttr(allowed_access=rights, parent_fd=fd)
        if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                        ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
            raise _os_error(f"landlock_add_rule({path})")
    finally:
        os.close(fd)


def _os_error(what):
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}")


# -- seccomp -----------------------------------------------------------------

# Observed (strace of grading runs) plus a wide margin: file and directory
# work, memory, threads, signals, time, pipes and polling, fork/exec/wait (a
# submission may start a subprocess; the limits and Landlock still hold),
# NUMA hints numpy's allocator gives, and harmless queries.
ALLOWED_SYSCALLS = (
    # files and directories
    "read", "write", "open", "openat", "openat2", "close", "close_range", "creat",
    "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs",
    "lseek", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2",
    "pwritev2", "access", "faccessat", "faccessat2", "dup", "dup2", "dup3", "fcntl",
    "flock", "fsync", "fdatasync", "sync_file_range", "truncate", "ftruncate",
    "fallocate", "fadvise64", "readahead", "getdents", "getdents64", "getcwd",
    "chdir", "fchdir", "rename", "renameat", "renameat2", "mkdir", "mkdirat", "rmdir",
    "link", "linkat", "unlink", "unlinkat", "symlink", "symlinkat", "readlink",
    "readlinkat", "chmod", "fchmod", "fchmodat", "fchmodat2", "umask", "utime",
    "utimes", "utimensat", "futimesat", "getxattr", "lgetxattr", "fgetxattr",
    "listxattr", "llistxattr", "flistxattr", "sendfile", "copy_file_range",
    "splice", "tee", "ioctl", "pipe", "pipe2", "memfd_create",
    # memory
    "brk", "mmap", "munmap", "mremap", "mprotect", "madvise", "msync", "mincore",
    "mlock", "mlock2", "munlock", "mbind", "get_mempolicy", "set_mempolicy",
    "membarrier", "pkey_alloc", "pkey_free", "pkey_mprotect", "map_shadow_stack",
    # threads, processes, signals
    "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
    "kill", "tgkill", "tkill", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
    "rt_sigpending", "rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
    "rt_sigsuspend", "sigaltstack", "pause", "restart_syscall", "futex",
    "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq",
    "arch_prctl", "prctl", "sched_yield", "sched_getaffinity", "sched_setaffinity",
    "sched_getparam", "sched_getscheduler", "sched_get_priority_max",
    "sched_get_priority_min", "sched_rr_get_interval", "sched_getattr", "getpriority",
    "setpriority", "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid",
    "getegid", "getresuid", "getresgid", "getgroups", "getpgrp", "getpgid", "getsid",
    "setsid", "setpgid", "capget", "pidfd_open", "pidfd_send_signal",
    # time, limits, polling, events
    "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday",
    "time", "times", "getitimer", "setitimer", "alarm", "timer_create",
    "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "getrlimit", "setrlimit",
    "prlimit64", "getrusage", "sysinfo", "uname", "getcpu", "getrandom", "poll",
    "ppoll", "select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl",
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "signalfd",
    "signalfd4", "inotify_init", "inotify_init1", "inotify_add_watch",
    "inotify_rm_watch",
    # operations on sockets that already exist (only AF_UNIX ones can be made)
    "connect", "bind", "listen", "accept", "accept4", "sendto", "recvfrom", "sendmsg",
    "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername",
    "setsockopt", "getsockopt",
    # tightening only: a submission may restrict itself further, never loosen
    "seccomp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
)

# Refused with EPERM, as the kernel refuses what is not permitted; anything
# else outside ALLOWED_SYSCALLS gets ENOSYS, as from a kernel that lacks it,
# so that C libraries fall back to older calls where they have any.
DENIED_SYSCALLS = (
    "io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace",
    "process_vm_readv", "process_vm_writev", "bpf", "keyctl", "add_key", "request_key",
    "mount", "umount2", "pivot_root", "chroot", "fsopen", "fsmount", "move_mount",
    "open_tree", "unshare", "setns", "perf_event_open", "userfaultfd", "kcmp",
    "pidfd_getfd", "process_madvise", "open_by_handle_at", "name_to_handle_at",
    "init_module", "finit_module", "delete_module", "kexec_load", "reboot", "swapon",
    "io_setup", "io_submit", "shmget", "semget", "msgget", "personality",
    "setuid", "setgid", "setreuid", "setresuid", "setgroups", "modify_ldt", "iopl",
    "ioperm", "fanotify_init", "quotactl", "acct", "settimeofday", "clock_settime",
)

# CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET
CLONE_NAMESPACE_BITS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                        0x20000000, 0x40000000)
CLONE_NAMESPACE_FLAGS = sum(CLONE_NAMESPACE_BITS)
AF_UNIX = 1


def apply_seccomp():
    """Load the default-deny allowlist; returns True if it is in force.

    Calls named in DENIED_SYSCALLS fail with EPERM, sockets other than AF_UNIX
    with EACCES (like the kernel's own refusals), everything else not allowed
    with ENOSYS. That includes clone3: its flags sit in memory a filter cannot
    read, and glibc then falls back to clone, whose flags it can.
    """
    try:
        seccomp = import_pyseccomp()
    except Exception:  # the library or libseccomp itself missing
        return False
    rules = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.ENOSYS))
    for name in ALLOWED_SYSCALLS:
        _allow(seccomp, rules, name)
    for name in DENIED_SYSCALLS:
        _rule(seccomp, rules, seccomp.ERRNO(errno.EPERM), name)
    for name in ("socket", "socketpair"):
        _allow(seccomp, rules, name, seccomp.Arg(0, seccomp.EQ, AF_UNIX))
        _rule(seccomp, rules, seccomp.ERRNO(errno.EACCES), name,
              seccomp.Arg(0, seccomp.NE, AF_UNIX))
    _allow(seccomp, rules, "clone",
           seccomp.Arg(0, seccomp.MASKED_EQ, CLONE_NAMESPACE_FLAGS, 0))
    for bit in CLONE_NAMESPACE_BITS:
        _rule(seccomp, rules, seccomp.ERRNO(errno.EPERM), "clone",
              seccomp.Arg(0, seccomp.MASKED_EQ, bit, bit))
    rules.load()
    return True


def import_pyseccomp():
    """pyseccomp, without the two `ldconfig -p` runs its import costs.

    It looks its libraries up with ctypes.util.find_library, which starts
    ldconfig (tens of milliseconds per worker). The dynamic loader finds
    them by their sonames directly; a name it lacks still fails the import.
    """
    import ctypes.util

    original = ctypes.util.find_library
    sonames = {"c": "libc.so.6", "seccomp": "libseccomp.so.2"}
    ctypes.util.find_library = lambda name: sonames.get(name) or original(name)
    try:
        import pyseccomp
    except OSError:  # another C library than glibc's: look them up the slow way
        sys.modules.pop("pyseccomp", None)
        ctypes.util.find_library = original
        import pyseccomp
    finally:
        ctypes.util.find_library = original
    return pyseccomp


def _allow(seccomp, rules, name, *args):
    _rule(seccomp, rules, seccomp.ALLOW, name, *args)


def _rule(seccomp, rules, action, name, *args):
    """Add a rule; names this architecture or libseccomp lacks are skipped."""
    if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) < 0:
        return
    rules.add_rule(action, name, *args)


def confine(settings):
    """Apply the layers the parent asked for; returns {layer: state} for the record.

    Landlock first (its own calls stay allowed under seccomp anyway), then
    seccomp. A layer the kernel lacks is reported as absent. A layer that
    fails to apply is reported as not applied, with the reason, and the
    worker goes on with the others: a fault of the grader's machine must not
    become a submission that cannot be imported (the baseline still holds).
    """
    report = {}
    if settings.get("landlock"):
        rules = landlock_rules(settings.get("read_paths", ()), settings.get("write_paths", ()))
        report["landlock"] = _attempt(report, "landlock", lambda: apply_landlock(rules), 0)
    if settings.get("seccomp"):
        report["seccomp"] = _attempt(report, "seccomp", apply_seccomp, False)
    return report


def _attempt(report, name, apply, failed):
    try:
        return apply()
    except Exception as error:  # a refusal by this kernel or libseccomp, for the record
        report[name + "_error"] = f"{type(error).__name__}: {error}"[:200]
        return failed
