"""The worker: runs INSIDE the sandbox, as the unprivileged user.

Started by autograder/sandbox/workers.py as `python -I worker.py SETTINGS_JSON`
with the submission's folder as its working directory, the request pipe on
one fd and the reply pipe on another, stdout/stderr going to a capture file.
It locks itself down (resource limits, then the Landlock filesystem allowlist
and the seccomp system-call allowlist of confine.py) BEFORE numpy or the
student's file is imported, then serves calls until its request pipe closes.

Nothing here is trusted by the parent: every reply is re-validated there.
"""
import json
import os
import resource
import sys
import traceback

MB = 1 << 20


def apply_limits(limits, dedicated_user):
    """Hard resource limits; an unprivileged process cannot raise them back."""
    def hard(which, value):
        resource.setrlimit(which, (value, value))

    hard(resource.RLIMIT_AS, limits["memory_mb"] * MB)
    hard(resource.RLIMIT_CPU, limits["cpu_s"])
    hard(resource.RLIMIT_FSIZE, limits["file_size_mb"] * MB)
    hard(resource.RLIMIT_NOFILE, limits["open_files"])
    hard(resource.RLIMIT_CORE, 0)
    if dedicated_user:
        # NPROC counts every process and thread of the uid: only meaningful
        # (and only safe) when that uid is ours alone.
        hard(resource.RLIMIT_NPROC, limits["nproc"])


def load_submission(path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("neural_net", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["neural_net"] = module
    spec.loader.exec_module(module)
    return module


def describe_exception(error, student_file):
    """Type, message and the student's line where it was raised."""
    where = None
    for frame, line in traceback.walk_tb(error.__traceback__):
        if frame.f_code.co_filename == student_file:
            where = {"line": line, "function": frame.f_code.co_name}
    if isinstance(error, SyntaxError) and error.filename == student_file:
        where = {"line": error.lineno or 0, "function": "<module>"}
    try:
        message = str(error)
    except BaseException:
        message = "(the exception's message could not be printed)"
    return {"type": type(error).__name__[:80], "message": message[:1000], "where": where,
            "not_implemented": isinstance(error, NotImplementedError)}


def make_step_counter(student_file):
    """A sys.settrace hook counting calls and executed lines in student frames."""
    steps = [0]

    def count_lines(frame, event, arg):
        if event == "line":
            steps[0] += 1
        return count_lines

    def on_call(frame, event, arg):
        if frame.f_code.co_filename != student_file:
            return None
        steps[0] += 1
        return count_lines

    return steps, on_call


def serve(module, student_file, in_fd, out_fd, wire):
    while True:
        try:
            request, arrays = wire.receive(in_fd, max_payload=1 << 40)
        except wire.PeerClosed:
            return
        reply, reply_arrays = handle(request, arrays, module, student_file, wire)
        sys.stdout.flush()
        sys.stderr.flush()
        wire.send(out_fd, reply, reply_arrays)


def handle(request, arrays, module, student_file, wire):
    if request.get("op") == "echo":  # the transfer alone, timed by the parent:
        out_arrays = []                # every argument in, the last one back
        echoed = [wire.decode_value(tree, arrays) for tree in request["args"]]
        return {"op": "return", "value": wire.encode_value(echoed[-1], out_arrays),
                "steps": None}, out_arrays
    name = request["fn"]
    function = getattr(module, name, None)
    if not callable(function):
        return {"op": "missing", "fn": name}, []
    args = [wire.decode_value(tree, arrays) for tree in request["args"]]
    kwargs = {k: wire.decode_value(v, arrays) for k, v in request["kwargs"].items()}
    steps, counter = make_step_counter(student_file)
    try:
        if request.get("trace"):
            sys.settrace(counter)
        try:
            value = function(*args, **kwargs)
        finally:
            sys.settrace(None)
        out_arrays = []
        reply = {"op": "return", "value": wire.encode_value(value, out_arrays),
                 "steps": steps[0] if request.get("trace") else None}
        if request.get("return_args"):
            reply["args_after"] = [wire.encode_value(a, out_arrays) for a in args]
        return reply, out_arrays
    except BaseException as error:  # the student's SystemExit/KeyboardInterrupt too
        return dict(op="raise", **describe_exception(error, student_file)), []


def main():
    settings = json.loads(sys.argv[1])
    try:  # a session of its own; under bwrap it starts in its init's (see layers.py)
        os.setsid()
    except OSError:
        pass  # already a session leader: started so by the parent
    # The parent already set these limits before this interpreter started;
    # setting them again costs nothing and holds where it could not.
    apply_limits(settings["limits"], settings["dedicated_user"])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine  # noqa: E402  (next to this file, copied with it)

    layers = confine.confine(settings.get("confine", {}))
    import wire  # noqa: E402  (after the limits, like everything else)

    in_fd, out_fd = settings["in_fd"], settings["out_fd"]
    student_file = os.path.abspath(settings["submission"])
    sys.path.insert(0, os.path.dirname(student_file))
    try:
        module = load_submission(student_file)
    except BaseException as error:
        sys.stdout.flush()
        sys.stderr.flush()
        wire.send(out_fd, dict(op="import_error", **describe_exception(error, student_file)))
        os._exit(0)
    sys.stdout.flush()
    sys.stderr.flush()
    # Every numpy warning is printed, not only the first one per line: the
    # stability checks read them from the output of each call.
    import warnings

    warnings.simplefilter("always")
    wire.send(out_fd, {"op": "ready", "network_blocked": layers.get("seccomp") is True,
                       "layers": layers})
    serve(module, student_file, in_fd, out_fd, wire)


if __name__ == "__main__":
    main()
