# Things left behind for the grader's clean-up, and for later gradings on the
# same machine: a directory chain deeper than Python's recursion limit, files
# in every world-writable place, SysV IPC objects, CPU-spinning daemons, and a
# slow import. Every payload is bounded: fixed depths, sizes, counts, seconds.
import os as _nnag_os
import time as _nnag_time

_NNAG_SHARED_PLACES = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def _nnag_writable_places():
    """The world-writable places plus the worker's own scratch (TMPDIR)."""
    places = list(_NNAG_SHARED_PLACES)
    scratch = _nnag_os.environ.get("TMPDIR")
    if scratch:
        places.append(scratch)
    return places


def _nnag_deep_chain(depth=1100, name="nnag-deep-chain"):
    """A `depth`-deep directory chain (with a file at the bottom) in every
    writable place; built with relative paths, so its full path may exceed PATH_MAX."""
    for place in _nnag_writable_places():
        try:
            top = _nnag_os.open(place, _nnag_os.O_RDONLY | _nnag_os.O_DIRECTORY)
        except OSError:
            continue
        fd = top
        try:
            for level in range(depth):
                part = name if level == 0 else "d" * 100
                try:
                    _nnag_os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                child = _nnag_os.open(part, _nnag_os.O_RDONLY | _nnag_os.O_DIRECTORY, dir_fd=fd)
                if fd != top:
                    _nnag_os.close(fd)
                fd = child
            _nnag_os.close(_nnag_os.open("bottom", _nnag_os.O_CREAT | _nnag_os.O_WRONLY, 0o644,
                                         dir_fd=fd))
        except OSError:
            pass
        finally:
            if fd != top:
                _nnag_os.close(fd)
            _nnag_os.close(top)


def _nnag_fill_shared_places(megabytes=32):
    """A file of `megabytes` in /dev/shm, /var/tmp, /tmp and /run/lock (where writable)."""
    block = b"\0" * (1 << 20)
    for place in _NNAG_SHARED_PLACES:
        try:
            with open(_nnag_os.path.join(place, "nnag-left-behind"), "wb") as handle:
                for _ in range(megabytes):
                    handle.write(block)
        except OSError:
            pass


def _nnag_sysv_ipc(shm_bytes=16 << 20):
    """A shared-memory segment, a semaphore set and a message queue, never removed
    (SysV objects outlive every process)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        key = 0x6E6E6167  # "nnag"
        libc.shmget(key, shm_bytes, 0o1666)
        libc.semget(key, 4, 0o1666)
        libc.msgget(key, 0o1666)
    except (OSError, AttributeError):
        pass


def _nnag_spinning_daemons(count=14, seconds=120.0):
    """`count` detached (double-forked, setsid) daemons spinning on the CPU."""
    import signal

    for _ in range(count):
        try:
            if _nnag_os.fork() != 0:
                continue
        except OSError:
            return
        try:
            _nnag_os.setsid()
            if _nnag_os.fork() != 0:
                _nnag_os._exit(0)
            for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
                signal.signal(sig, signal.SIG_IGN)
            deadline = _nnag_time.time() + seconds
            while _nnag_time.time() < deadline:
                pass
        finally:
            _nnag_os._exit(0)
    _nnag_time.sleep(0.2)


def _nnag_slow_start(seconds=6.0):
    """An import that takes `seconds` of wall-clock time (sleeping: no CPU)."""
    _nnag_time.sleep(seconds)


def _nnag_leave_a_thread(seconds=30.0):
    """A sleeping thread left running after the call: the worker is restarted."""
    import threading

    threading.Thread(target=_nnag_time.sleep, args=(seconds,), daemon=True).start()
