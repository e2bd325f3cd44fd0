# Forged messages on the worker's reply pipe, in the grader's own framing
# (4-byte big-endian header length, JSON header, raw array bytes).
import json as _nnag_json
import os as _nnag_os
import struct as _nnag_struct
import sys as _nnag_sys


def _nnag_reply_fds():
    """The worker's reply pipe: from its settings argument, else every write-only pipe."""
    fds = []
    for argument in _nnag_sys.argv[1:]:
        try:
            settings = _nnag_json.loads(argument)
            fds.append(int(settings["out_fd"]))
        except (ValueError, KeyError, TypeError):
            pass
    if not fds:
        for name in _nnag_os.listdir("/proc/self/fd"):
            fd = int(name)
            try:
                with open(f"/proc/self/fdinfo/{fd}") as info:
                    text = info.read()
                write_only = any(line.startswith("flags:") and int(line.split()[1], 8) & 3 == 1
                                 for line in text.splitlines())
                if fd > 2 and write_only and "pipe" in _nnag_os.readlink(f"/proc/self/fd/{fd}"):
                    fds.append(fd)
            except (OSError, ValueError, IndexError):
                pass
    return fds


def _nnag_frame(header, payload=b""):
    text = _nnag_json.dumps(header).encode()
    return _nnag_struct.pack(">I", len(text)) + text + payload


def _nnag_write(data):
    for fd in _nnag_reply_fds():
        try:
            _nnag_os.write(fd, data)
        except OSError:
            pass


def _nnag_forge_reply():
    """A well-formed 'return' with a wrong value and extra keys, then garbage."""
    forged = _nnag_frame({"op": "return", "value": {"t": "a", "i": 0}, "steps": 1,
                          "score": 100, "passed": True,
                          "arrays": [{"dtype": "<f8", "shape": [3]}]},
                         b"\0" * 24)
    garbage = b"\x7f\xff\xff\xff" + b"\xff" * 64
    _nnag_write(forged + garbage)


def _nnag_forge_huge_header():
    """A header that claims 10^9 float64 (8 GB) follow: the reader must not allocate."""
    _nnag_write(_nnag_frame({"op": "return", "value": {"t": "a", "i": 0},
                             "arrays": [{"dtype": "<f8", "shape": [10 ** 9]}]}))


def _nnag_close_grader_pipes():
    """Close every descriptor but stdin/stdout/stderr at import time."""
    for fd in range(3, 1024):
        try:
            _nnag_os.close(fd)
        except OSError:
            pass
