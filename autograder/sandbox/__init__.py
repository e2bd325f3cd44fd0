"""The trust boundary: student code runs in a worker process, never in the grader.

Inside the worker (untrusted side, stdlib + numpy only, imports nothing of
the grader): `worker.py`, which `workers.py` copies with `wire.py` into a
private folder and starts as a script.

Both sides: `wire.py`, the framing of messages and arrays (no pickle).

Trusted parent: `workers.py` (start, limit, stop and clean up worker
processes) and `student.py` (the `Student` proxy the suites call, which
validates and rebuilds every reply).
"""
