"""The wire against forged messages: nothing the sender writes makes the
reader recurse, allocate beyond its caps, or fail with anything but WireError."""
import json
import os
import struct
import threading

import numpy as np
import pytest

from autograder.sandbox import student as oracle, wire


def deliver(data, **caps):
    """Write data into a pipe (from a thread: it may exceed the pipe buffer) and
    receive one message from it with the given caps."""
    read_fd, write_fd = os.pipe()

    def writer():
        try:
            os.write(write_fd, data)
        except OSError:
            pass
        finally:
            os.close(write_fd)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        return wire.receive(read_fd, **caps)
    finally:
        os.close(read_fd)
        thread.join()


def frame(header_bytes, payload=b""):
    return struct.pack(">I", len(header_bytes)) + header_bytes + payload


def test_a_deeply_nested_header_is_a_wire_error_not_a_recursion_error():
    nested = b"[" * 65000
    with pytest.raises(RecursionError):
        json.loads(nested)  # what a parser-first reader meets
    with pytest.raises(wire.WireError, match="nested"):
        deliver(frame(nested))


def test_nesting_is_measured_outside_strings_only():
    assert wire.json_depth(b'{"a": [[1], {"b": "[[[[{{{{\\"]]"}]}') == 3
    assert wire.json_depth(b"[]") == 1
    assert wire.json_depth(b'"[[["') == 0


def test_a_legitimate_deep_value_still_crosses():
    value = [[[[[[[[np.zeros(2)]]]]]]]]  # MAX_DEPTH levels of lists
    arrays = []
    tree = wire.encode_value(value, arrays)
    chunks = wire.pack({"op": "return", "value": tree}, arrays)
    header, received = deliver(b"".join(bytes(c) for c in chunks))
    decoded = wire.decode_value(header["value"], received)
    assert decoded[0][0][0][0][0][0][0][0].shape == (2,)


@pytest.mark.parametrize("header,match", [
    (b"\xff\xfe not utf-8", "not JSON"),
    (b"[1, 2]", "not an object"),
    (b'{"arrays": [{"dtype": "<f8", "shape": [-1]}]}', "shape"),
    (b'{"arrays": [{"dtype": "|O", "shape": [1]}]}', "not allowed"),
    (b'{"arrays": [{"dtype": "<f8", "shape": [1, 1, 1, 1, 1, 1, 1, 1, 1]}]}', "shape"),
    (b'{"arrays": "none"}', "array list"),
    (b'{"n": ' + b"9" * 5000 + b"}", "JSON|unreadable"),  # int too long to convert
])
def test_malformed_headers_are_wire_errors(header, match):
    with pytest.raises(wire.WireError, match=match):
        deliver(frame(header))


def test_a_payload_over_the_cap_is_refused_before_allocation():
    header = json.dumps({"arrays": [{"dtype": "<f8", "shape": [10 ** 12]}]}).encode()
    with pytest.raises(wire.WireError, match="exceeds the cap"):
        deliver(frame(header), max_payload=1 << 20)
    # Many arrays that are each small but together too large: the running total counts.
    header = json.dumps({"arrays": [{"dtype": "|u1", "shape": [1 << 19]}] * 3}).encode()
    with pytest.raises(wire.WireError, match="exceeds the cap"):
        deliver(frame(header, b"\0" * (3 << 19)), max_payload=1 << 20)


def test_a_header_over_its_cap_is_refused_unread():
    with pytest.raises(wire.WireError, match="exceeds the cap"):
        deliver(struct.pack(">I", 1 << 31), max_header=1 << 16)


def test_a_truncated_message_is_peer_closed():
    header = json.dumps({"arrays": [{"dtype": "<f8", "shape": [4]}]}).encode()
    with pytest.raises(wire.PeerClosed):
        deliver(frame(header, b"\0" * 8))


def test_any_failure_while_decoding_is_a_wire_error(monkeypatch):
    def explode(*args):
        raise MemoryError()

    monkeypatch.setattr(wire, "payload_layout", explode)
    with pytest.raises(wire.WireError, match="MemoryError"):
        deliver(frame(b'{"op": "return"}'))


def test_the_reply_cap_follows_the_request():
    small = [np.zeros((5, 3))]
    assert oracle.reply_limit(small, False) == oracle.REPLY_FLOOR_BYTES + 4 * 120
    assert oracle.reply_limit(small, True) == oracle.REPLY_FLOOR_BYTES + 5 * 120
    assert oracle.reply_limit([], False) == oracle.REPLY_FLOOR_BYTES


def test_trains_answer_is_sized_by_its_params_not_its_data():
    params = {"W1": np.zeros((4, 3)), "b1": np.zeros(4)}
    X = np.zeros((30000, 784))
    sized = oracle.answer_arrays("train", (params, X, np.zeros(30000, dtype=int)), {})
    assert sorted(a.size for a in sized) == [4, 12]
    assert oracle.reply_limit(sized, False) == oracle.REPLY_FLOOR_BYTES + 4 * 128
    assert len(oracle.answer_arrays("linear_forward", (X, np.zeros((2, 784)), np.zeros(2)),
                                    {})) == 3


def test_answers_sized_by_integers_fit_their_documented_size():
    """one_hot's (N, C) and init_params' four arrays are sized by integers, not arrays:
    the timing inputs' answers (8 MB and more) must fit, garbage must not widen the cap."""
    y = np.zeros(100000, dtype=np.int64)
    one_hot_answer = 100000 * 10 * 8
    cap = oracle.reply_limit(oracle.answer_arrays("one_hot", (y, 10), {}), False,
                             answer_entries=oracle.answer_entries("one_hot", (y, 10)))
    assert one_hot_answer < cap <= oracle.REPLY_FLOOR_BYTES + 4 * one_hot_answer
    init_answer = (300 * 785 + 10 * 301) * 8
    entries = oracle.answer_entries("init_params", (784, 300, 10, 0))
    assert entries * 8 == init_answer
    assert oracle.reply_limit([], False, answer_entries=entries) > init_answer
    for odd in ((784, "300", 10), (784,), (784.0, 300, 10), (True, 300, 10)):
        assert oracle.answer_entries("init_params", odd) == 0
    assert oracle.answer_entries("softmax", (np.zeros((3, 4)),)) == 0
