# Escapes that the worker user and rlimits alone do not stop: a socket opened
# through io_uring (which a filter on socket() never sees), another checkout's
# world-readable reference, tracing and reading other processes, new
# namespaces. Traffic goes to 127.0.0.1 only; everything is bounded.
import ctypes as _nnag_ctypes
import os as _nnag_os

_NNAG_NETWORK_PORT = 47315
# The io_uring system calls have the same numbers on every architecture.
_NNAG_IO_URING_SETUP, _NNAG_IO_URING_ENTER = 425, 426
_NNAG_IORING_OP_SOCKET = 45
_NNAG_API_NAMES = ("one_hot", "linear_forward", "linear_backward", "sigmoid_forward",
                   "sigmoid_backward", "softmax", "cross_entropy",
                   "softmax_cross_entropy_backward", "init_params", "forward", "backward",
                   "sgd_step", "predict", "train")


class _NnagSqOffsets(_nnag_ctypes.Structure):
    _fields_ = [(name, _nnag_ctypes.c_uint32) for name in
                ("head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array",
                 "resv1")] + [("user_addr", _nnag_ctypes.c_uint64)]


class _NnagCqOffsets(_nnag_ctypes.Structure):
    _fields_ = [(name, _nnag_ctypes.c_uint32) for name in
                ("head", "tail", "ring_mask", "ring_entries", "overflow", "cqes", "flags",
                 "resv1")] + [("user_addr", _nnag_ctypes.c_uint64)]


class _NnagUringParams(_nnag_ctypes.Structure):
    _fields_ = [(name, _nnag_ctypes.c_uint32) for name in
                ("sq_entries", "cq_entries", "flags", "sq_thread_cpu", "sq_thread_idle",
                 "features", "wq_fd", "resv0", "resv1", "resv2")] + [
        ("sq_off", _NnagSqOffsets), ("cq_off", _NnagCqOffsets)]


def _nnag_uring_socket(family, kind):
    """A socket made by IORING_OP_SOCKET (kernel 5.19+): its fd, or -errno."""
    import mmap
    import struct

    libc = _nnag_ctypes.CDLL(None, use_errno=True)
    params = _NnagUringParams()
    ring = libc.syscall(_NNAG_IO_URING_SETUP, 4, _nnag_ctypes.byref(params))
    if ring < 0:
        return -_nnag_ctypes.get_errno()
    try:
        sq, cq = params.sq_off, params.cq_off
        sq_map = mmap.mmap(ring, sq.array + params.sq_entries * 4, offset=0)
        cq_map = mmap.mmap(ring, cq.cqes + params.cq_entries * 16, offset=0x8000000)
        sqes = mmap.mmap(ring, params.sq_entries * 64, offset=0x10000000)
        # one submission entry: opcode, flags, ioprio, fd=domain, off=type, addr, len=protocol
        sqes[0:64] = struct.pack("<BBHiQQII", _NNAG_IORING_OP_SOCKET, 0, 0, family, kind,
                                 0, 0, 0).ljust(64, b"\0")
        tail = struct.unpack_from("<I", sq_map, sq.tail)[0]
        mask = struct.unpack_from("<I", sq_map, sq.ring_mask)[0]
        struct.pack_into("<I", sq_map, sq.array + (tail & mask) * 4, 0)
        struct.pack_into("<I", sq_map, sq.tail, tail + 1)
        if libc.syscall(_NNAG_IO_URING_ENTER, ring, 1, 1, 1, None, 0) < 0:
            return -_nnag_ctypes.get_errno()
        head = struct.unpack_from("<I", cq_map, cq.head)[0]
        cq_mask = struct.unpack_from("<I", cq_map, cq.ring_mask)[0]
        return struct.unpack_from("<i", cq_map, cq.cqes + (head & cq_mask) * 16 + 8)[0]
    finally:
        _nnag_os.close(ring)


def _nnag_io_uring_connect():
    """Open a TCP socket through io_uring, connect it with connect() and send."""
    import socket

    fd = _nnag_uring_socket(socket.AF_INET, socket.SOCK_STREAM)
    if fd < 0:
        return False
    try:
        with socket.socket(fileno=fd) as connection:
            connection.settimeout(1.0)
            connection.connect(("127.0.0.1", _NNAG_NETWORK_PORT))
            connection.sendall(b"NNAG-EXFILTRATED through io_uring")
            return True
    except OSError:
        return False


def _nnag_steal_other_checkout():
    """Become the first complete neural_net.py found in other places on the machine."""
    import glob

    patterns = ("/opt/*/neural_net.py", "/opt/*/reference/neural_net.py",
                "/opt/*/*/reference/neural_net.py", "/srv/*/reference/neural_net.py",
                "/home/*/*/reference/neural_net.py", "/work/*/reference/neural_net.py",
                "/root/*/reference/neural_net.py", "/tmp/*/reference/neural_net.py",
                "/var/tmp/*/neural_net.py")
    for pattern in patterns:
        for path in sorted(glob.glob(pattern))[:50]:
            try:
                with open(path, encoding="utf-8") as handle:
                    text = handle.read(1 << 20)
            except (OSError, UnicodeDecodeError):
                continue
            if "def train" not in text or "NotImplementedError" in text:
                continue
            namespace = {"__name__": "stolen"}
            try:
                exec(compile(text, "stolen", "exec"), namespace)
            except Exception:
                continue
            for name in _NNAG_API_NAMES:
                if name in namespace:
                    globals()[name] = namespace[name]
            return path
    return None


def _nnag_trace_and_unshare():
    """ptrace, process_vm_readv, bpf, keyctl, unshare, mount: the errno of each (0 = allowed)."""
    libc = _nnag_ctypes.CDLL(None, use_errno=True)
    numbers = {"ptrace": 101, "process_vm_readv": 310, "bpf": 321, "keyctl": 250,
               "unshare": 272, "mount": 165, "perf_event_open": 298, "io_uring_setup": 425}
    if _nnag_os.uname().machine != "x86_64":
        return {}
    outcomes = {}
    for name, number in numbers.items():
        if name == "unshare":
            result = libc.syscall(number, 0x10000000 | 0x40000000)  # NEWUSER | NEWNET
        elif name == "ptrace":
            result = libc.syscall(number, 16, _nnag_os.getppid(), 0, 0)  # PTRACE_ATTACH
        else:
            result = libc.syscall(number, 0, 0, 0, 0, 0, 0)
        outcomes[name] = 0 if result >= 0 else _nnag_ctypes.get_errno()
    return outcomes


_NNAG_KERNEL_ALLOWED = []


def _nnag_probe_kernel():
    """At import: remember which of those calls got through (no loop left for later calls)."""
    _NNAG_KERNEL_ALLOWED.extend(sorted(name for name, error in _nnag_trace_and_unshare().items()
                                       if error == 0))


def _nnag_fail_if_kernel_allowed():
    """Raise (and so lose the points of the function) if any of those calls got through."""
    if _NNAG_KERNEL_ALLOWED:
        raise RuntimeError("the kernel accepted " + ", ".join(_NNAG_KERNEL_ALLOWED))
