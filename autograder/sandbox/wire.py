"""Framing of the messages between the grader and the worker.

Imported on BOTH sides of the trust boundary, so it depends on nothing but
the standard library and numpy, and its decoder assumes nothing about the
sender: the parent decodes worker replies with it.

A message is
    4-byte big-endian header length | JSON header (UTF-8) | array payload
The header's "arrays" lists {"dtype": "<f8", "shape": [..]} for every array,
and the payload is their raw C-ordered bytes, concatenated in that order.
Values are JSON trees whose array leaves are {"t": "a", "i": index}.
Nothing is ever pickled.
"""
import json
import os
import select
import struct
import time

import numpy as np

LENGTH = struct.Struct(">I")
MAX_DEPTH = 8
MAX_ITEMS = 4096
MAX_NDIM = 8
# A value tree MAX_DEPTH deep nests JSON about three levels per value level
# ({"t": .., "items": [[key, {..}]]}); anything deeper is forged, and is
# refused before the JSON parser (which recurses) ever sees it.
MAX_JSON_DEPTH = 3 * MAX_DEPTH + 8

# Exactly the dtypes a reply may carry: float and integer kinds, native
# little-endian or byte-sized. Anything else is refused before any allocation.
ALLOWED_DTYPES = frozenset(
    ["<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8"]
)


class WireError(Exception):
    """The other side broke the protocol (malformed, oversized or forged)."""


class Deadline(Exception):
    """The deadline passed while waiting on the other side."""


class PeerClosed(Exception):
    """The other side closed its end (usually: the worker died)."""


# ---------------------------------------------------------------------------
# Value trees
# ---------------------------------------------------------------------------

def encode_value(value, arrays, depth=0):
    """Turn a Python value into a JSON tree; arrays are appended to `arrays`.

    Used by the worker on whatever the student returned, so it never raises
    on strange objects: they become {"t": "opaque"} with their type's name.
    """
    if depth > MAX_DEPTH:
        return {"t": "opaque", "type": "a structure nested too deeply"}
    if value is None:
        return {"t": "none"}
    if isinstance(value, bool):
        return {"t": "bool", "v": value}
    if type(value) is int:
        if abs(value) < 2 ** 63:
            return {"t": "int", "v": value}
        return {"t": "opaque", "type": "int too large"}
    if type(value) is float:
        return {"t": "float", "v": repr(value)}
    if isinstance(value, (np.ndarray, np.generic)):
        return _encode_array(value, arrays)
    if type(value) in (tuple, list):
        if len(value) > MAX_ITEMS:
            return {"t": "opaque", "type": f"{type(value).__name__} of {len(value)} items"}
        return {"t": type(value).__name__,
                "items": [encode_value(item, arrays, depth + 1) for item in value]}
    if type(value) is dict:
        if len(value) > MAX_ITEMS or not all(type(k) is str for k in value):
            return {"t": "opaque", "type": "dict with non-string keys"}
        return {"t": "dict",
                "items": [[k, encode_value(v, arrays, depth + 1)] for k, v in value.items()]}
    return {"t": "opaque", "type": _type_name(value)}


def _type_name(value):
    try:
        return type(value).__name__[:80]
    except Exception:  # a metaclass can make even this raise
        return "object"


def _encode_array(value, arrays):
    # np.asarray drops ndarray subclasses: only plain data crosses the boundary.
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind not in "fiu":
        return {"t": "bad_array", "dtype": str(array.dtype)[:40],
                "shape": [int(n) for n in array.shape[:MAX_NDIM]]}
    # ascontiguousarray makes 0-d arrays 1-d: keep the original shape.
    array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).reshape(array.shape)
    arrays.append(array)
    return {"t": "a", "i": len(arrays) - 1}


def decode_value(tree, arrays, depth=0):
    """Rebuild a value from a tree, checking every node (the tree may be forged).

    Returns plain Python / numpy objects only. Opaque and bad-array leaves
    come back as `Opaque` and `BadArray` markers for the caller to judge.
    """
    if depth > MAX_DEPTH or type(tree) is not dict:
        raise WireError("malformed value")
    tag = tree.get("t")
    if tag == "none":
        return None
    if tag == "bool" and type(tree.get("v")) is bool:
        return tree["v"]
    if tag == "int" and type(tree.get("v")) is int:
        return tree["v"]
    if tag == "float" and type(tree.get("v")) is str and len(tree["v"]) < 40:
        try:
            return float(tree["v"])
        except ValueError:
            raise WireError("malformed float") from None
    if tag == "a" and type(tree.get("i")) is int and 0 <= tree["i"] < len(arrays):
        return arrays[tree["i"]]
    if tag in ("tuple", "list") and type(tree.get("items")) is list:
        items = [decode_value(item, arrays, depth + 1) for item in tree["items"][:MAX_ITEMS + 1]]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and type(tree.get("items")) is list:
        result = {}
        for pair in tree["items"][:MAX_ITEMS + 1]:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                raise WireError("malformed dict")
            result[pair[0][:200]] = decode_value(pair[1], arrays, depth + 1)
        return result
    if tag == "opaque" and type(tree.get("type")) is str:
        return Opaque(tree["type"][:80])
    if tag == "bad_array" and type(tree.get("dtype")) is str:
        return BadArray(tree["dtype"][:40])
    raise WireError("malformed value")


class Opaque:
    """Stands for a returned object that is not data (a str, a set, a class...)."""

    def __init__(self, type_name):
        self.type_name = type_name

    def __repr__(self):
        return f"<a {self.type_name}>"


class BadArray:
    """Stands for a returned array of a dtype that is not a real number."""

    def __init__(self, dtype):
        self.dtype = dtype

    def __repr__(self):
        return f"<array of dtype {self.dtype}>"


# ---------------------------------------------------------------------------
# Messages on file descriptors
# ---------------------------------------------------------------------------

def row_digest(matrix):
    """(B, M) -> (B, 2): each row's projections on two fixed directions.

    The compact stand-in for a minibatch in a train record (see CallRecorder
    in worker.py): the parent finds which rows of X_train a minibatch holds
    from these, without the worker sending the minibatch itself. Both sides
    compute it with this one function. None unless matrix is 2-D and real.
    """
    a = np.asarray(matrix)
    if a.ndim != 2 or a.dtype.kind not in "fiub":
        return None
    width = a.shape[1]
    if width not in _DIGEST_DIRECTIONS:
        j = np.arange(width, dtype=np.float64)
        _DIGEST_DIRECTIONS.clear()  # one width per run in practice: never grows
        _DIGEST_DIRECTIONS[width] = np.stack([np.sin(j + 1.0), np.cos(0.5 * j + 2.0)], axis=1)
    return a.astype(np.float64, copy=False) @ _DIGEST_DIRECTIONS[width]


_DIGEST_DIRECTIONS = {}


def pack(header, arrays=()):
    """Serialize a header dict and its arrays into one bytes-like list."""
    header = dict(header)
    header["arrays"] = [{"dtype": a.dtype.str, "shape": list(a.shape)} for a in arrays]
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return [LENGTH.pack(len(text)), text] + [memoryview(a).cast("B") for a in arrays]


def send(fd, header, arrays=(), deadline=None):
    """Write one message to fd; with a deadline the fd must be non-blocking."""
    for chunk in pack(header, arrays):
        _write_all(fd, chunk, deadline)


def receive(fd, deadline=None, max_header=1 << 16, max_payload=1 << 26):
    """Read and validate one message from fd: returns (header, arrays).

    Sizes, nesting, shapes and dtypes are checked against the caps BEFORE
    the header is parsed or anything of the payload is allocated, so a forged
    message can make the reader neither recurse nor allocate beyond them.
    Whatever goes wrong while reading or decoding (a parser error, a
    RecursionError, a MemoryError...) comes out as WireError: only Deadline
    and PeerClosed mean anything else.

    Inputs:
    - max_header: int, bytes the JSON header may have
    - max_payload: int, bytes all arrays together may have
    """
    try:
        return _receive(fd, deadline, max_header, max_payload)
    except (WireError, Deadline, PeerClosed):
        raise
    except Exception as error:  # noqa: BLE001  (the sender is not trusted: any failure is theirs)
        raise WireError(f"unreadable message ({type(error).__name__})") from None


def _receive(fd, deadline, max_header, max_payload):
    (length,) = LENGTH.unpack(_read_exact(fd, LENGTH.size, deadline))
    if length > max_header:
        raise WireError(f"header of {length} bytes exceeds the cap of {max_header}")
    raw = _read_exact(fd, length, deadline)
    few_brackets = raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH  # the usual case: fast
    if not few_brackets and json_depth(raw) > MAX_JSON_DEPTH:
        raise WireError(f"header nested more than {MAX_JSON_DEPTH} levels deep")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WireError("header is not JSON") from None
    if type(header) is not dict:
        raise WireError("header is not an object")
    layout = payload_layout(header.get("arrays", []), max_payload)
    arrays = []
    for dtype, shape, count in layout:
        array = np.empty(count, dtype=dtype)
        _read_into(fd, memoryview(array).cast("B"), deadline)
        arrays.append(array.reshape(shape))
    return header, arrays


def payload_layout(specs, max_payload):
    """[(dtype, shape, element count)] of a header's array list, or WireError.

    Every spec is checked and the running total compared with max_payload
    before a single array is allocated.
    """
    if type(specs) is not list or len(specs) > MAX_ITEMS:
        raise WireError("malformed array list")
    layout, total = [], 0
    for spec in specs:
        dtype, shape = _check_spec(spec)
        count = 1
        for n in shape:
            count *= n
        total += count * dtype.itemsize
        if total > max_payload:
            raise WireError(f"payload exceeds the cap of {_size_words(max_payload)}")
        layout.append((dtype, shape, count))
    return layout


def json_depth(raw):
    """The deepest nesting of [ and { in JSON text (bytes), ignoring strings.

    A loop, not a parser: it cannot recurse however deep the text claims to be.
    """
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


def _size_words(size):
    if size >= 1 << 20:
        return f"{size / (1 << 20):.3g} MB"
    return f"{size / (1 << 10):.3g} KB"


def _check_spec(spec):
    if type(spec) is not dict or type(spec.get("dtype")) is not str:
        raise WireError("malformed array spec")
    if spec["dtype"] not in ALLOWED_DTYPES:
        raise WireError(f"array dtype {spec['dtype'][:20]!r} is not allowed")
    shape = spec.get("shape")
    if (type(shape) is not list or len(shape) > MAX_NDIM
            or not all(type(n) is int and 0 <= n < 1 << 40 for n in shape)):
        raise WireError("malformed array shape")
    return np.dtype(spec["dtype"]), tuple(shape)


def _wait(fd, for_write, deadline):
    if deadline is None:
        return
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise Deadline()
    poller = select.poll()
    poller.register(fd, select.POLLOUT if for_write else select.POLLIN)
    if not poller.poll(remaining * 1000):
        raise Deadline()


def _write_all(fd, data, deadline):
    view = memoryview(data).cast("B")
    while view:
        _wait(fd, True, deadline)
        try:
            written = os.write(fd, view[:1 << 20])
        except BlockingIOError:
            continue
        except BrokenPipeError:
            raise PeerClosed() from None
        view = view[written:]


def _read_into(fd, view, deadline):
    while view:
        _wait(fd, False, deadline)
        try:
            got = _read_some(fd, view)
        except BlockingIOError:
            continue
        if got == 0:
            raise PeerClosed()
        view = view[got:]


def _read_some(fd, view):
    """Read into view; returns the count (0 at end of file). os.readv is POSIX only."""
    if hasattr(os, "readv"):
        return os.readv(fd, [view])
    data = os.read(fd, len(view))
    view[:len(data)] = data
    return len(data)


def _read_exact(fd, size, deadline):
    buffer = bytearray(size)
    _read_into(fd, memoryview(buffer), deadline)
    return bytes(buffer)
