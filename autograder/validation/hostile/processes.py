# Process and thread abuse: fork bomb, thread bomb, a lingering daemon, and
# signals to the grader. Every loop ends on its own after `seconds`.
import os as _nnag_os
import time as _nnag_time


def _nnag_fork_bomb(seconds=120.0, generations=7):
    """Every process forks `generations` times (at most 2**7 = 128 processes even
    without a process limit), then all of them spin until the deadline."""
    deadline = _nnag_time.time() + seconds
    for _ in range(generations):
        try:
            _nnag_os.fork()
        except OSError:
            pass
    while _nnag_time.time() < deadline:
        pass
    _nnag_os._exit(0)


def _nnag_thread_bomb(seconds=120.0):
    import threading

    started = 0
    while started < 2000:
        thread = threading.Thread(target=_nnag_time.sleep, args=(seconds,))
        thread.start()  # RuntimeError: can't start new thread, when the limit is hit
        started += 1
    raise RuntimeError(f"started {started} threads without hitting a limit")


def _nnag_daemonize(seconds=300.0):
    """Leave a detached grandchild behind (double fork + setsid), ignoring signals it can."""
    import signal

    try:
        if _nnag_os.fork() != 0:
            _nnag_time.sleep(0.2)
            return
    except OSError:
        return
    try:
        _nnag_os.setsid()
        if _nnag_os.fork() != 0:
            _nnag_os._exit(0)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_IGN)
        deadline = _nnag_time.time() + seconds
        while _nnag_time.time() < deadline:
            _nnag_time.sleep(0.5)
    finally:
        _nnag_os._exit(0)


def _nnag_signal_grader():
    """Stop, terminate and kill the parent, its group and init; then every other
    process of our uid. All of it must be refused or harmless: the function then
    returns the right answer, so the honest score is full marks.

    Only as a dedicated worker user: run as anyone else this would kill the
    harness itself (or, as root, the machine), which is not the point.
    """
    import pwd
    import signal

    try:
        me = pwd.getpwuid(_nnag_os.getuid()).pw_name
    except KeyError:
        me = ""
    if _nnag_os.getuid() == 0 or not me.startswith("nnworker"):
        return  # not a worker user: signal nothing
    parent = _nnag_os.getppid()
    for sig in (signal.SIGSTOP, signal.SIGTERM, signal.SIGINT, signal.SIGKILL):
        for target in (lambda s: _nnag_os.kill(parent, s),
                       lambda s: _nnag_os.killpg(_nnag_os.getpgid(parent), s),
                       lambda s: _nnag_os.kill(1, s)):
            try:
                target(sig)
            except (OSError, ProcessLookupError):
                pass
    try:  # every process of this uid (on Linux, but this one); none in a sandbox of its own
        _nnag_os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass
