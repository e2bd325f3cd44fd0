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
    name = request["fn"]
    function = getattr(module, name, None)
    if not callable(function):
        return {"op": "missing", "fn": name}, []
    args = [wire.decode_value(tree, arrays) for tree in request["args"]]
    kwargs = {k: wire.decode_value(v, arrays) for k, v in request["kwargs"].items()}
    steps, counter = make_step_counter(student_file)
    recorder = None
    try:
        if request.get("record"):
            recorder = CallRecorder(module, request["record"])
        if request.get("trace"):
            sys.settrace(counter)
        try:
            value = function(*args, **kwargs)
        finally:
            sys.settrace(None)
            if recorder is not None:
                recorder.restore()
        out_arrays = []
        reply = {"op": "return", "value": wire.encode_value(value, out_arrays),
                 "steps": steps[0] if request.get("trace") else None}
        if recorder is not None:
            reply["record"] = wire.encode_value(recorder.report(), out_arrays)
        if request.get("return_args"):
            reply["args_after"] = [wire.encode_value(a, out_arrays) for a in args]
        return reply, out_arrays
    except BaseException as error:  # the student's SystemExit/KeyboardInterrupt too
        return dict(op="raise", **describe_exception(error, student_file)), []


class CallRecorder:
    """Records what a function passes to the module's other functions.

    plan: [[name, recorded argument index, linked argument index], ...]. While
    active, each named module attribute is replaced by a wrapper that notes,
    per call, a copy of the recorded argument and which earlier recorded call
    returned the linked argument (by identity: the cache forward returned,
    the grads backward returned), or -1. The parent replays the record to
    verify it, so nothing here needs to be trusted.
    """

    MAX_CALLS = 200

    def __init__(self, module, plan):
        self.module, self.calls, self.returned, self.truncated = module, [], [], False
        self.originals = {}
        for kind, entry in enumerate(plan):
            name, recorded, linked = entry
            original = getattr(module, name, None)
            if not callable(original):
                continue
            wrapper = self.wrap(kind, original, recorded, linked)
            # every module-level name bound to the function (an alias too)
            for alias, value in list(vars(module).items()):
                if value is original:
                    self.originals[alias] = original
                    setattr(module, alias, wrapper)

    def wrap(self, kind, original, recorded, linked):
        import copy
        import inspect

        try:
            signature = inspect.signature(original)
        except (TypeError, ValueError):
            signature = None

        def recording(*args, **kwargs):
            values = list(args)
            if signature is not None:
                try:
                    values = list(signature.bind(*args, **kwargs).arguments.values())
                except TypeError:
                    pass
            value = values[recorded] if recorded < len(values) else None
            link = -1
            if linked < len(values):
                link = next((i for i, objects in enumerate(self.returned)
                             if any(values[linked] is o for o in objects)), -1)
            try:
                value = copy.deepcopy(value)
            except Exception:
                value = None
            result = original(*args, **kwargs)
            if len(self.calls) < self.MAX_CALLS:
                self.calls.append([kind, link, value])
                parts = list(result) if type(result) in (tuple, list) else []
                self.returned.append([result] + parts)
            else:
                self.truncated = True
            return result

        return recording

    def restore(self):
        for name, original in self.originals.items():
            setattr(self.module, name, original)

    def report(self):
        """[[kind, link, value], ...] or None when the calls outnumbered MAX_CALLS."""
        return None if self.truncated else self.calls


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
