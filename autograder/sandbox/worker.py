"""The worker: runs INSIDE the sandbox, as the unprivileged user.

Started by autograder/sandbox/workers.py as `python -I worker.py SETTINGS_JSON`
with the submission's folder as its working directory, the request pipe on
one fd and the reply pipe on another, stdout/stderr going to a capture file.
It locks itself down (resource limits, then the Landlock filesystem allowlist
and the seccomp system-call allowlist of confine.py) BEFORE numpy or the
student's file is imported, then serves calls until its request pipe closes.

Nothing here is trusted by the parent: every reply is re-validated there.
"""
import io
import json
import os
import sys
import traceback
import warnings

MB = 1 << 20
# Room kept in the capture file (bounded by RLIMIT_FSIZE) for what must reach
# the parent even after a flood: the first of each warning and the counts.
RESERVED_FOR_NOTICES = 1 * MB
MAX_WARNINGS_SHOWN_PER_CALL = 20
MAX_WARNING_CHARS = 1000


def apply_limits(limits, dedicated_user):
    """Hard resource limits; an unprivileged process cannot raise them back."""
    import resource  # POSIX only: the portable mode never gets here

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


class OutputBudget:
    """What the student's code prints during one call, bounded so the worker survives.

    Everything goes to one file descriptor (the capture file, whose size
    RLIMIT_FSIZE bounds: a write past it fails, and a failed flush used to end
    the worker with exit code 120). Per call, the first `per_call` bytes are
    written and the rest is dropped and counted; over the worker's life, at
    most `lifetime` bytes of ordinary output. Warnings are written once per
    call and place (as Python does by default) with their count at the end,
    from the room kept for notices, so a flood of prints never hides them.
    """

    def __init__(self, fd, per_call, lifetime):
        self.fd = fd
        self.per_call = per_call
        self.lifetime = lifetime
        self.written_ordinary = 0  # over the worker's life, notices not counted
        self.written_this_call = 0
        self.dropped_this_call = 0
        self.at_line_start = True
        self.warnings_seen = {}  # (category, message, file, line) -> count, this call

    def write(self, data, notice=False):
        """Write bytes within the budget (notices: within the file's room only)."""
        if not notice:
            room = min(self.per_call - self.written_this_call,
                       self.lifetime - self.written_ordinary)
            if len(data) > room:
                self.dropped_this_call += len(data) - max(room, 0)
                data = data[:max(room, 0)]
            self.written_this_call += len(data)
            self.written_ordinary += len(data)
        if notice and not self.at_line_start:
            data = b"\n" + data  # after output cut mid-line
        while data:
            try:
                count = os.write(self.fd, data)
            except InterruptedError:
                continue
            except OSError:  # EFBIG once the file is full; nothing else can be done
                self.dropped_this_call += len(data)
                return
            self.at_line_start = data[count - 1:count] == b"\n"
            data = data[count:]

    def show_warning(self, message, category, filename, lineno, file=None, line=None):
        """warnings.showwarning: the first of each (warning, place) now, the rest counted."""
        text = str(message)[:MAX_WARNING_CHARS]
        key = (getattr(category, "__name__", "Warning"), text, str(filename), lineno)
        seen = self.warnings_seen.get(key, 0)
        if seen == 0 and len(self.warnings_seen) >= MAX_WARNINGS_SHOWN_PER_CALL:
            key = ("other warnings", "", "", 0)
            seen = self.warnings_seen.get(key, 0)
        self.warnings_seen[key] = seen + 1
        if seen == 0 and key[0] != "other warnings":
            try:
                formatted = warnings.formatwarning(text, category, filename, lineno, line)
            except Exception:
                formatted = f"{filename}:{lineno}: {key[0]}: {text}\n"
            self.write(formatted[:2 * MAX_WARNING_CHARS].encode("utf-8", "replace"), notice=True)

    def end_call(self):
        """Write the counts of repeated warnings and of dropped bytes; start afresh."""
        notes = []
        for (kind, _, filename, lineno), count in self.warnings_seen.items():
            if kind == "other warnings":
                notes.append(f"... {count} more warnings of other kinds or places not shown\n")
            elif count > 1:
                notes.append(f"{filename}:{lineno}: the {kind} above was repeated "
                             f"{count - 1} more times\n")
        if self.dropped_this_call:
            notes.append(f"... {self.dropped_this_call} more bytes of output dropped\n")
        self.warnings_seen = {}
        self.dropped_this_call = 0
        self.written_this_call = 0
        if notes:
            self.write("".join(notes).encode("utf-8", "replace"), notice=True)


class CappedBinaryOutput(io.RawIOBase):
    """sys.stdout.buffer: bytes into the same budget."""

    def __init__(self, budget):
        super().__init__()
        self.budget = budget

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self.budget.write(data)
        return len(data)


class CappedTextOutput(io.TextIOBase):
    """sys.stdout and sys.stderr of the worker: text into the budget, never an error."""

    def __init__(self, budget, name):
        super().__init__()
        self.budget = budget
        self.name = name
        self.buffer = CappedBinaryOutput(budget)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "backslashreplace"

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        return self.budget.fd

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.budget.write(text.encode("utf-8", "backslashreplace"))
        return len(text)

    def flush(self):
        pass


def capture_output(limits, fd=1):
    """Route print, sys.stdout/err and warnings through one OutputBudget."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    per_call = (limits["output_head_kb"] + limits["output_tail_kb"]) << 10
    lifetime = max(0, limits["file_size_mb"] * MB - RESERVED_FOR_NOTICES)
    budget = OutputBudget(fd, per_call, lifetime)
    sys.stdout = sys.__stdout__ = CappedTextOutput(budget, "<stdout>")
    sys.stderr = sys.__stderr__ = CappedTextOutput(budget, "<stderr>")
    warnings.showwarning = budget.show_warning
    return budget


def flush_quietly():
    """Flush whatever the student left as sys.stdout/err; never fatal to the worker."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


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


def serve(module, student_file, in_fd, out_fd, wire, budget):
    while True:
        try:
            request, arrays = wire.receive(in_fd, max_payload=1 << 40)
        except wire.PeerClosed:
            return
        reply, reply_arrays = handle(request, arrays, module, student_file, wire)
        flush_quietly()
        budget.end_call()
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
    recorder = None
    try:
        if request.get("record"):
            recorder = CallRecorder(module, request["record"], wire)
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

    plan: [[name, recorded argument index, linked argument index(, how)], ...].
    While active, each named module attribute is replaced by a wrapper that
    notes, per call, the recorded argument and which earlier recorded call
    returned the linked argument (by identity: the cache forward returned,
    the grads backward returned), or -1. `how` the argument is noted: "copy"
    (the default), "rows" (wire.row_digest of a minibatch) or "labels" (the
    argmax of each row of one-hot labels); a plan without copies may note
    many more calls (a whole training run). The parent verifies the record
    (by replaying it), so nothing here needs to be trusted.
    """

    MAX_CALLS = 200
    # A compact plan: calls and noted numbers of a whole run, and how many of
    # the latest results are kept to find links (older ones are let go, so
    # that a run's parameters are not all kept alive).
    MAX_COMPACT_CALLS = 100_000
    MAX_COMPACT_NUMBERS = 400_000
    COMPACT_WINDOW = 16

    def __init__(self, module, plan, wire):
        self.module, self.calls, self.returned, self.truncated = module, [], [], False
        self.originals = {}
        self.wire = wire
        self.compact = all(len(entry) > 3 and entry[3] != "copy" for entry in plan)
        self.max_calls = self.MAX_COMPACT_CALLS if self.compact else self.MAX_CALLS
        self.numbers = 0
        for kind, entry in enumerate(plan):
            name, recorded, linked = entry[:3]
            how = entry[3] if len(entry) > 3 else "copy"
            original = getattr(module, name, None)
            if not callable(original):
                continue
            wrapper = self.wrap(kind, original, recorded, linked, how)
            # every module-level name bound to the function (an alias too)
            for alias, value in list(vars(module).items()):
                if value is original:
                    self.originals[alias] = original
                    setattr(module, alias, wrapper)

    def wrap(self, kind, original, recorded, linked, how):
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
                link = next((i for i, objects in self.returned
                             if any(values[linked] is o for o in objects)), -1)
            try:
                value = self.note(value, how, copy)
            except Exception:
                value = None
            result = original(*args, **kwargs)
            if self.compact and value is not None:
                self.numbers += int(getattr(value, "size", 1))
            if len(self.calls) < self.max_calls and self.numbers <= self.MAX_COMPACT_NUMBERS:
                parts = list(result) if type(result) in (tuple, list) else []
                self.returned.append((len(self.calls), [result] + parts))
                self.calls.append([kind, link, value])
                if self.compact:
                    del self.returned[:-self.COMPACT_WINDOW]
            else:
                self.truncated = True
            return result

        return recording

    def note(self, value, how, copy):
        if how == "rows":
            return self.wire.row_digest(value)
        if how == "labels":
            import numpy as np

            labels = np.asarray(value)
            return labels.argmax(axis=1) if labels.ndim == 2 and labels.shape[1] else None
        if how == "lr":
            return float(value)
        return copy.deepcopy(value)

    def restore(self):
        for name, original in self.originals.items():
            setattr(self.module, name, original)

    def report(self):
        """[[kind, link, value], ...], None when the calls outnumbered the cap;
        for a compact plan, the same as four flat arrays (a reply's header
        holds one entry per array): kind, link, size (of each value, -1 for
        none) and values (all of them, float64, one after the other)."""
        if self.truncated:
            return None
        if not self.compact:
            return self.calls
        import numpy as np

        kinds = np.array([c[0] for c in self.calls], dtype=np.int64)
        links = np.array([c[1] for c in self.calls], dtype=np.int64)
        parts = [np.asarray(c[2], dtype=np.float64).ravel() if c[2] is not None
                 else np.zeros(0) for c in self.calls]
        sizes = np.array([p.size if c[2] is not None else -1
                          for p, c in zip(parts, self.calls)], dtype=np.int64)
        values = np.concatenate(parts) if parts else np.zeros(0)
        return {"kind": kinds, "link": links, "size": sizes, "values": values}


def protocol_on_standard_streams():
    """The portable mode's channel: (in_fd, out_fd) duplicated from stdin and
    stdout, which then become /dev/null and the output capture (stderr), so
    that nothing the student prints, even from C code, reaches the protocol."""
    in_fd, out_fd = os.dup(0), os.dup(1)  # not inherited by the student's children
    sys.stdout.flush()
    os.dup2(2, 1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    return in_fd, out_fd


def main():
    settings = json.loads(sys.argv[1])
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if settings.get("portable"):
        # autograder/sandbox/portable.py: no limits or confinement on this platform
        in_fd, out_fd = protocol_on_standard_streams()
        layers = {}
    else:
        try:  # a session of its own; under bwrap it starts in its init's (see layers.py)
            os.setsid()
        except OSError:
            pass  # already a session leader: started so by the parent
        # The parent already set these limits before this interpreter started;
        # setting them again costs nothing and holds where it could not.
        apply_limits(settings["limits"], settings["dedicated_user"])
        import confine  # noqa: E402  (next to this file, copied with it)

        layers = confine.confine(settings.get("confine", {}))
        in_fd, out_fd = settings["in_fd"], settings["out_fd"]
    import wire  # noqa: E402  (after the limits, like everything else)

    student_file = os.path.abspath(settings["submission"])
    sys.path.insert(0, os.path.dirname(student_file))
    budget = capture_output(settings["limits"])
    try:
        module = load_submission(student_file)
    except BaseException as error:
        flush_quietly()
        budget.end_call()
        wire.send(out_fd, dict(op="import_error", **describe_exception(error, student_file)))
        os._exit(0)
    flush_quietly()
    budget.end_call()
    # Every warning reaches the budget, not only the first one per line: the
    # stability checks read them from the output of each call, and the budget
    # shows each (warning, place) once per call with its count.
    warnings.simplefilter("always")
    wire.send(out_fd, {"op": "ready", "network_blocked": layers.get("seccomp") is True,
                       "layers": layers})
    serve(module, student_file, in_fd, out_fd, wire, budget)


if __name__ == "__main__":
    main()
