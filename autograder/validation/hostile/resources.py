# Resource abuse: memory, CPU, time, output and disk. Every one is bounded.
import os as _nnag_os
import time as _nnag_time


def _nnag_memory_bomb(limit_bytes=3 << 30):
    """Try to lift the limits, then allocate and touch memory until refused."""
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass
    hog, total, chunk = [], 0, 64 << 20
    while total < limit_bytes:
        block = bytearray(chunk)
        block[::4096] = b"\x01" * len(range(0, chunk, 4096))
        hog.append(block)
        total += chunk
    return hog


def _nnag_numpy_memory_bomb():
    import numpy

    return numpy.ones((20000, 20000))  # 3.2 GB in one allocation


def _nnag_hang():
    while True:
        pass


def _nnag_unkillable_hang():
    """Ignore every signal that can be ignored and swallow every exception."""
    import signal

    for sig in signal.Signals:
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError, RuntimeError):
            pass
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass


def _nnag_sleep(seconds=3600.0):
    _nnag_time.sleep(seconds)


def _nnag_flood(total_bytes=1 << 30):
    """1 GB to stdout and stderr in 1 MB writes, ignoring write errors."""
    chunk = (b"flood " * 174763)[: 1 << 20]
    written = 0
    while written < total_bytes:
        for fd in (1, 2):
            try:
                _nnag_os.write(fd, chunk)
            except OSError:
                pass
        written += 2 * len(chunk)


def _nnag_fill_disk(limit_bytes=512 << 20):
    """Write a file of up to 512 MB in each writable place; stop at the first error."""
    import tempfile

    chunk = b"\0" * (1 << 20)
    places = [_nnag_os.getcwd(), tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm",
              _nnag_os.path.dirname(_nnag_os.path.abspath(__file__))]
    for place in places:
        path = _nnag_os.path.join(place, "nnag_disk_fill.bin")
        try:
            with open(path, "wb") as handle:
                written = 0
                while written < limit_bytes:
                    handle.write(chunk)
                    written += len(chunk)
        except OSError:
            pass
