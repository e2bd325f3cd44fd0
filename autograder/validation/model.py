"""What a catalogue entry is, and how its submission is built from the reference.

An entry is a small, declarative variant of the staff solution:

- `subs`: exact text substitutions (old -> new) applied to the base source;
  every `old` must occur EXACTLY once, so an edit of reference/neural_net.py
  that breaks a variant is caught (tests/test_catalog.py builds them all);
- `inject`: code inserted at the top of a function's body (after its
  docstring), for faults that happen "inside softmax" and the like;
- `prelude` / `payloads` / `append`: module-level code, placed right after
  `import numpy as np`, or appended (payloads are files of ./hostile/);
- `base`: "reference", "stub" (every function raises NotImplementedError) or
  "raw" (the whole file is `raw`, bytes, or a function that returns them when
  the submission is built: for sources that are costly to make);
- a layout: `filename`, `folder` (nested), `extra_files`.

The expected outcome is an `Expected`; validate.py judges a run against it.
Nothing here imports or runs a submission.
"""
import ast
import os
import re
import textwrap
from dataclasses import dataclass
from typing import Optional, Tuple

from autograder import config as registry

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE_PATH = os.path.join(PACKAGE_ROOT, "reference", "neural_net.py")
TEMPLATE_PATH = os.path.join(PACKAGE_ROOT, "student_template", "neural_net.py")
HOSTILE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hostile")

KINDS = ("correct", "planted", "hostile", "cheat", "realistic")

# The graded functions in the order of the handout, and who calls whom in the
# reference, from config.json's registry (tests/test_catalog.py checks the
# calls against the reference's code). A composite is judged on the
# student's own callees, so a wrong softmax costs softmax's tests only; but
# a callee that crashes leaves its callers "not judged" (they fail closed).
FUNCTIONS = registry.functions()
CALLS = registry.calls()

# The tests that judge the whole program at once (held-out accuracy, the
# lr = 10 run): any mistake anywhere may cost them. Test keys, not functions.
END_TO_END = ("train.accuracy", "train.lr10")


def dependants(*functions):
    """Functions whose reference implementation calls any of `functions`, transitively."""
    found = set()
    frontier = set(functions)
    while frontier:
        callers = {caller for caller, callees in CALLS.items()
                   if frontier & set(callees)} - found - set(functions)
        found |= callers
        frontier = callers
    return tuple(f for f in FUNCTIONS if f in found)


@dataclass(frozen=True)
class Expected:
    """The outcome a run must have. Exactly one of the five modes is set.

    - score: the total, exactly (100 for a correct solution, 0 for a stub);
    - lose_only: score < 100, each listed function has a failing test, and
      every failing test belongs to lose_only + may_also_lose (functions, or
      test keys such as "train.accuracy"): a fault in one function costs only
      that function's tests, and the end-to-end ones;
    - loses: score < 100 and each listed function has a failing test;
    - may_lose_only: every failing test (if any) belongs to these functions;
      losing nothing is also fine (e.g. a 1 GB print that the grader survives);
    - at_most: the total is no more than this (a submission that does no
      work, or games the checks, earns no more than the all-zeros one);
    - fair: the tests a careful TA would fail, as (function, test names)
      pairs (see realistic.py); the grader's deductions outside the
      end-to-end tests must equal theirs within FAIR_TOLERANCE points, every
      failed test must belong to one of these functions, and the end-to-end
      tests may lose points only if end_to_end_at_risk.
    message_contains: regular expressions (case-insensitive), each of which
    must match the top-level output or a failing test's output.
    visible_output_lacks_hidden: a regular expression with one group, for a
    submission that shows, in each call's feedback, a token derived from
    that call's inputs: every token (group 1) found in a hidden test's output
    must be absent from every visible test's output, and at least one must be
    found (else the proof proves nothing).
    """

    score: Optional[float] = None
    lose_only: Tuple[str, ...] = ()
    may_also_lose: Tuple[str, ...] = ()
    loses: Tuple[str, ...] = ()
    may_lose_only: Tuple[str, ...] = ()
    at_most: Optional[float] = None
    fair: Tuple[Tuple[str, Tuple[str, ...]], ...] = ()
    end_to_end_at_risk: bool = False
    message_contains: Tuple[str, ...] = ()
    visible_output_lacks_hidden: str = ""
    max_seconds: float = 300.0

    @property
    def mode(self):
        modes = [name for name, set_ in (("score", self.score is not None),
                                         ("lose_only", bool(self.lose_only)),
                                         ("loses", bool(self.loses)),
                                         ("may_lose_only", bool(self.may_lose_only)),
                                         ("at_most", self.at_most is not None),
                                         ("fair", bool(self.fair))) if set_]
        if len(modes) != 1:
            raise ValueError(f"an Expected needs exactly one mode, got {modes or 'none'}")
        return modes[0]

    def describe(self):
        mode = self.mode
        if mode == "score":
            text = f"{self.score:g}"
        elif mode == "lose_only":
            text = "lose " + ",".join(self.lose_only)
            if self.may_also_lose:
                text += " (+" + ",".join(_short(f) for f in self.may_also_lose) + ")"
        elif mode == "loses":
            text = "lose " + ",".join(self.loses) + " (+any)"
        elif mode == "at_most":
            text = f"at most {self.at_most:g}"
        elif mode == "fair":
            text = "fair: lose " + ",".join(_short(f) for f, _ in self.fair)
            if self.end_to_end_at_risk:
                text += " (+e2e)"
        else:
            text = "100 or lose " + ",".join(self.may_lose_only)
        return text


FAIR_TOLERANCE = 0.5


def _short(function):
    return {"softmax_cross_entropy_backward": "sce_backward"}.get(function, function)


def full_marks(**kwargs):
    return Expected(score=100.0, **kwargs)


def zero(*messages, **kwargs):
    return Expected(score=0.0, message_contains=tuple(messages), **kwargs)


def at_most(score, *messages, **kwargs):
    return Expected(at_most=float(score), message_contains=tuple(messages), **kwargs)


def only(*functions, also=None, msg=(), **kwargs):
    """lose_only(functions): a mistake costs its own function's tests only.

    `also` (functions or test keys) defaults to the end-to-end tests
    (END_TO_END), the only ones that may depend on every function."""
    if also is None:
        also = END_TO_END
    if isinstance(msg, str):
        msg = (msg,)
    return Expected(lose_only=tuple(functions), may_also_lose=tuple(also),
                    message_contains=tuple(msg), **kwargs)


def broken(*functions, also=(), msg=(), **kwargs):
    """lose_only(functions) for a function that crashes, hangs or returns
    something unusable: the functions that call it cannot be judged and fail
    closed ("not judged: fix it first"), so they may lose too, as may the
    end-to-end tests and `also`."""
    return only(*functions, also=dependants(*functions) + END_TO_END + tuple(also), msg=msg,
                **kwargs)


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str
    expected: Expected
    why: str = ""
    breaks: Tuple[str, ...] = ()
    base: str = "reference"
    raw: Optional[bytes] = None
    subs: Tuple[Tuple[str, str], ...] = ()
    inject: Tuple[Tuple[str, str], ...] = ()
    prelude: str = ""
    payloads: Tuple[str, ...] = ()
    append: str = ""
    encoding: str = "utf-8"
    filename: str = "neural_net.py"
    folder: str = ""
    extra_files: Tuple[Tuple[str, bytes], ...] = ()
    compiles: bool = True
    # planted: the mistake is a loop (outputs unchanged), see tests/test_catalog.py
    vectorization: bool = False
    # correct: functions whose outputs may legitimately differ from the
    # reference's (another init or shuffle): judged by properties instead
    differs: Tuple[str, ...] = ()
    # run alone, never beside another entry (it starves the CPU)
    exclusive: bool = False
    # spawns or signals processes of its worker user: alone too, unless every
    # grading run has a worker user of its own (the sandbox, as root)
    spawns: bool = False
    # paths that must not exist after the run (a payload creates them only if
    # the grader was fooled, e.g. the parent unpickled a malicious object)
    forbidden_paths: Tuple[str, ...] = ()
    # a TCP listener on 127.0.0.1:NETWORK_PORT must see no connection
    no_network: bool = False

    def source_bytes(self):
        return build_source(self)


NETWORK_PORT = 47315


# ---------------------------------------------------------------------------
# Building the source text
# ---------------------------------------------------------------------------

def reference_source():
    with open(REFERENCE_PATH, encoding="utf-8") as handle:
        return handle.read()


def stub_source(text=None):
    """The reference with every function body replaced by NotImplementedError."""
    text = reference_source() if text is None else text
    lines = text.splitlines(keepends=True)
    tree = ast.parse(text)
    # Replace from the bottom up so earlier line numbers stay valid.
    for node in sorted((n for n in tree.body if isinstance(n, ast.FunctionDef)),
                       key=lambda n: n.lineno, reverse=True):
        body = node.body
        if _has_docstring(node):
            if len(body) == 1:
                continue  # a docstring-only function: nothing to replace
            start = body[0].end_lineno + 1
        else:
            start = body[0].lineno
        end = node.end_lineno
        indent = " " * body[0].col_offset
        lines[start - 1:end] = [f'{indent}raise NotImplementedError("{node.name}")\n']
    return "".join(lines)


def _has_docstring(node):
    first = node.body[0]
    return (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str))


def apply_subs(text, subs, what="the reference"):
    for old, new in subs:
        count = text.count(old)
        if count != 1:
            raise ValueError(f"substitution must match exactly once in {what}, "
                             f"matched {count} times: {old!r}")
        text = text.replace(old, new)
    return text


def inject_into(text, function, code):
    """Insert `code` at the top of `function`'s body, after its docstring."""
    tree = ast.parse(text)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            break
    else:
        raise ValueError(f"no function {function} to inject into")
    first = node.body[0]
    if _has_docstring(node):
        line = first.end_lineno  # insert after this (1-based) line
        indent = " " * first.col_offset
    else:
        line = first.lineno - 1
        indent = " " * first.col_offset
    block = textwrap.indent(textwrap.dedent(code).strip("\n") + "\n", indent)
    lines = text.splitlines(keepends=True)
    lines[line:line] = [block]
    return "".join(lines)


IMPORT_LINE = "import numpy as np\n"


def payload_source(name):
    with open(os.path.join(HOSTILE_DIR, name), encoding="utf-8") as handle:
        return handle.read()


def build_source(entry):
    """The bytes of the submitted neural_net.py for `entry`."""
    if entry.base == "raw":
        if callable(entry.raw):
            return entry.raw()
        return entry.raw if entry.raw is not None else b""
    if entry.base == "reference":
        text = reference_source()
        what = "the reference"
    elif entry.base == "stub":
        text = stub_source()
        what = "the stub"
    else:
        raise ValueError(f"unknown base {entry.base!r}")
    text = apply_subs(text, entry.subs, what)
    for function, code in entry.inject:
        text = inject_into(text, function, code)
    if entry.prelude:
        if text.count(IMPORT_LINE) != 1:
            raise ValueError("the prelude goes after the one `import numpy as np`")
        text = text.replace(IMPORT_LINE, IMPORT_LINE + "\n" + textwrap.dedent(entry.prelude)
                            .strip("\n") + "\n", 1)
    for name in entry.payloads:
        text += f"\n\n# ---- hostile payload: {name} ----\n" + payload_source(name)
    if entry.append:
        text += "\n\n" + textwrap.dedent(entry.append).strip("\n") + "\n"
    return text.encode(entry.encoding)


def materialize(entry, dest_dir):
    """Write the submission folder as the student would upload it; returns the main file."""
    os.makedirs(dest_dir, exist_ok=True)
    folder = os.path.join(dest_dir, entry.folder) if entry.folder else dest_dir
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, entry.filename)
    with open(path, "wb") as handle:
        handle.write(build_source(entry))
    for relative, content in entry.extra_files:
        extra = os.path.join(dest_dir, relative)
        os.makedirs(os.path.dirname(extra), exist_ok=True)
        with open(extra, "wb") as handle:
            handle.write(content)
    return path


NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
