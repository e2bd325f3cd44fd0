"""The trust boundary: student code runs in a worker process, never in the grader.

Inside the worker (untrusted side, stdlib + numpy only, imports nothing of
the grader): `worker.py`, which `workers.py` copies with `wire.py` and
`confine.py` (the Landlock and seccomp allowlists the worker applies to
itself) into a private folder and starts as a script.

Both sides: `wire.py`, the framing of messages and arrays (no pickle).

Trusted parent: `workers.py` (start, limit, stop and clean up worker
processes), `layers.py` (the isolation layers this machine allows, probed
once: rlimits before exec, bubblewrap namespaces, a cgroup v2 per worker)
and `student.py` (the `Student` proxy the suites call, which validates and
rebuilds every reply).
"""
