# Replies that break the wire's reader if it trusts them: a header nested
# 65,000 levels deep (a recursive JSON parser overflows) and a well-formed
# reply far larger than the answer (a reader that converts before checking
# sizes grows by gigabytes). Both go out on the worker's reply pipe.
import json as _nnag_wjson
import os as _nnag_wos
import struct as _nnag_wstruct
import sys as _nnag_wsys
import time as _nnag_wtime


def _nnag_reply_fd():
    for argument in _nnag_wsys.argv[1:]:
        try:
            return int(_nnag_wjson.loads(argument)["out_fd"])
        except (ValueError, KeyError, TypeError):
            pass
    return None


def _nnag_send_raw(data):
    fd = _nnag_reply_fd()
    if fd is None:
        return
    view = memoryview(data)
    try:
        while view:
            view = view[_nnag_wos.write(fd, view[:1 << 20]):]
    except OSError:
        pass


def _nnag_deep_nesting_reply(levels=65000):
    """A header of `levels` '[' on the reply pipe, then a wait (the grader must not)."""
    header = b"[" * levels
    _nnag_send_raw(_nnag_wstruct.pack(">I", len(header)) + header)
    _nnag_wtime.sleep(20)


def _nnag_huge_reply(megabytes=64):
    """A well-formed 'return' of a `megabytes` uint8 array, sent by hand."""
    header = _nnag_wjson.dumps({"op": "return", "value": {"t": "a", "i": 0}, "steps": None,
                                "arrays": [{"dtype": "|u1", "shape": [megabytes << 20]}]}).encode()
    _nnag_send_raw(_nnag_wstruct.pack(">I", len(header)) + header + b"\1" * (megabytes << 20))
    _nnag_wtime.sleep(20)
