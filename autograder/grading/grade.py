"""The grade verb: one submission in, results.json and a readable summary out.

    python -m autograder grade PATH [--results FILE] [--gradescope-root DIR]

PATH is neural_net.py or a folder holding it (possibly nested). This is the
path Gradescope takes too: run_autograder calls it with --gradescope-root.
Whatever happens, a valid results.json is written.
"""
import argparse
import hashlib
import io
import json
import os
import sys
import time
import tokenize

from autograder import PACKAGE_DIR
from autograder.config import load_config
from autograder.grading import results as results_io
from autograder.grading.results import function_of
SUBMISSION_NAME = "neural_net.py"
# Grading seeds stay below 2**53 so that results.json's readers (JavaScript
# numbers included) keep them exact for `grade --seed`.
SEED_BITS = 52
MAX_SUBMISSION_BYTES = 1 << 20
GRADER_FAULT_EXIT = 3
IGNORED_DIRS = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}


class Refused(Exception):
    """The submission cannot be graded at all; the text tells the student why."""


# ---------------------------------------------------------------------------
# Finding and reading the submission (the parent reads it as text only)
# ---------------------------------------------------------------------------

def find_submission(path):
    """The neural_net.py to grade: the file itself, or the shallowest one in a folder."""
    if os.path.isfile(path):
        if os.path.basename(path) != SUBMISSION_NAME:
            raise Refused(f"the file must be named `{SUBMISSION_NAME}`, "
                          f"not `{os.path.basename(path)}`")
        return path
    if not os.path.isdir(path):
        raise Refused(f"no submission found at {path}")
    found, python_files = [], []
    for directory, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if d not in IGNORED_DIRS and not d.startswith("."))
        depth = os.path.relpath(directory, path).count(os.sep)
        for name in sorted(filenames):
            full = os.path.join(directory, name)
            if name == SUBMISSION_NAME and os.path.isfile(full) and not os.path.islink(full):
                found.append((depth, full))
            elif name.endswith(".py"):
                python_files.append(os.path.relpath(full, path))
    if found:
        return min(found)[1]
    if python_files:
        listing = ", ".join(f"`{name}`" for name in python_files[:5])
        raise Refused(f"no file named `{SUBMISSION_NAME}` in your submission (found {listing}). "
                      f"Rename your file to `{SUBMISSION_NAME}` and submit again.")
    raise Refused(f"no file named `{SUBMISSION_NAME}` in your submission")


def read_submission(path):
    """(text, encoding) of the submission, or Refused with the reason it can't be graded."""
    size = os.path.getsize(path)
    if size > MAX_SUBMISSION_BYTES:
        raise Refused(f"`{SUBMISSION_NAME}` is {size >> 10} KB; the limit is "
                      f"{MAX_SUBMISSION_BYTES >> 10} KB. Remove embedded data or output.")
    with open(path, "rb") as handle:
        raw = handle.read()
    try:  # UTF-8, with or without BOM, unless a PEP 263 line declares otherwise
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError as error:
        if "unknown encoding" in str(error):
            raise Refused(f"`{SUBMISSION_NAME}`: {error}") from None
        encoding = "utf-8"  # undecodable first lines: say where, below
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise Refused(f"`{SUBMISSION_NAME}` is not valid {encoding.upper()} text (byte {error.start}, "
                      f"line {line}). Save it as UTF-8 in your editor and submit again.") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise Refused(f"`{SUBMISSION_NAME}` is empty")
    if "\x00" in text:
        raise Refused(f"`{SUBMISSION_NAME}` contains NUL bytes: is it really a Python file?")
    return text, encoding


class RefusedStudent:
    """Stands in for a submission that could not be loaded: every call fails."""

    def __init__(self, reason):
        from autograder.sandbox.student import ImportFailed

        self.import_error = ImportFailed(reason)
        self.source = ""
        self.filename = SUBMISSION_NAME
        self.test_deadline = None
        self.budget_exhausted = False
        self.isolation = None
        self.network_blocked = None
        self.overhead_s = 0.0

    def call(self, fn, *args, **kwargs):
        raise self.import_error

    def begin_test(self, limit_s, run_deadline):
        self.budget_exhausted = time.monotonic() >= run_deadline

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.call(name)

    def take_output_log(self):
        return ""

    def close(self):
        pass


# ---------------------------------------------------------------------------
# Gradescope's tree
# ---------------------------------------------------------------------------

def lock_down(root):
    """Make the grader's files unreadable for the worker user (root only).

    source/ holds the reference and the checks, results/ the verdict,
    submission_metadata.json other students' names and earlier scores.
    """
    if os.geteuid() != 0:
        return
    for name, mode in (("source", 0o700), ("results", 0o700), ("submission", 0o700),
                       ("submission_metadata.json", 0o600), ("run_autograder", 0o700)):
        path = os.path.join(root, name)
        if os.path.exists(path):
            os.chmod(path, mode)
    protect_grader_files()


def protect_grader_files():
    """As root: nothing of this package, nor the held-out digits, is readable
    by the worker users (root only; a no-op elsewhere).

    On Gradescope the package is /autograder/source, locked down above. A
    local checkout (a TA's clone, CI's) is usually world-readable, and with it
    the reference and its copies in .git: closing the package's own folder to
    others hides all of it from a worker that goes looking.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:  # Windows has no root to protect from
        return
    package_root = os.path.dirname(PACKAGE_DIR)
    os.chmod(package_root, os.stat(package_root).st_mode & 0o7770)
    try:  # the held-out digits come from this file (the students' handout has no util here)
        from reference import util

        os.chmod(util.mnist_5k_path(), 0o600)
    except (ImportError, OSError):
        pass


# ---------------------------------------------------------------------------
# The grading seed: every test's inputs are drawn from it
# ---------------------------------------------------------------------------

def submission_id(autograder_root):
    """The submission's id from Gradescope's submission_metadata.json, as text,
    or None (no tree, no file, no id)."""
    if not autograder_root:
        return None
    try:
        with open(os.path.join(autograder_root, "submission_metadata.json"),
                  encoding="utf-8") as handle:
            metadata = json.load(handle)
    except (OSError, ValueError):
        return None
    identifier = metadata.get("id") if isinstance(metadata, dict) else None
    return None if identifier is None else str(identifier)


def derive_seed(secret, identity):
    """A seed in [0, 2**SEED_BITS) from the grader's secret and the submission's
    identity (both bytes): unknowable without the secret."""
    digest = hashlib.sha256(b"grading seed\0" + hashlib.sha256(secret).digest() + b"\0"
                            + identity).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - SEED_BITS)


def reference_is_recorded():
    """True when the checks' reference answers are recorded ones (the students'
    self-check replaying them, or the build recording them): their inputs must
    stay the fixed ones the answers were recorded for."""
    from autograder.checks import reference as reference_access
    from autograder.grading import expected

    module = reference_access._module
    return (isinstance(module, (expected.Recorder, expected.Replayer))
            or not os.path.exists(reference_access.REFERENCE_PATH))


def grading_seed(student, autograder_root, explicit=None):
    """The seed of this grading run's inputs, or None for the fixed inputs.

    `explicit` (staff reproducing a run with `grade --seed`) wins. Otherwise
    the seed comes from the reference's text (secret to students) and the
    submission's id in submission_metadata.json (so each submission gets its
    own inputs), or the submission's text where there is no id (a local run).
    """
    if explicit is not None:
        return explicit
    if reference_is_recorded():
        return None
    from autograder.checks.reference import reference_source

    identity = submission_id(autograder_root)
    if identity is not None:
        identity = b"id:" + identity.encode()
    else:
        identity = b"text:" + hashlib.sha256((student.source or "").encode()).digest()
    return derive_seed(reference_source().encode(), identity)


# ---------------------------------------------------------------------------
# Grading
# ---------------------------------------------------------------------------

def is_hidden(test):
    from autograder.grading.runner import test_attribute

    return test_attribute(test, "__visibility__", "visible") != "visible"


def hidden_last(suite):
    """The suite's tests with every hidden test after every visible one (each
    group in its own order): a worker that has seen a hidden test's inputs
    never serves a visible test afterwards, so no visible feedback (printed
    output, an exception's message, a returned value) can carry them."""
    import unittest

    from autograder.grading.runner import iter_tests

    tests = list(iter_tests(suite))
    ordered = unittest.TestSuite()
    ordered.addTests([test for test in tests if not is_hidden(test)])
    ordered.addTests([test for test in tests if is_hidden(test)])
    return ordered


def in_suite_order(results, suite):
    """The results' tests (dicts with a "number") in the suite's own order, as
    if hidden_last had not moved any; those it cannot place keep their order
    at the end."""
    from autograder.grading.runner import iter_tests, test_attribute

    place = {}
    for position, test in enumerate(iter_tests(suite)):
        place.setdefault(test_attribute(test, "__number__"), position)
    last = len(place)
    return sorted(results, key=lambda result: place.get(result.get("number"), last))


def grade_submission(submission, results_path, *, autograder_root=None, config=None,
                     suite=None, bind=None, stream=None, quiet=False, progress=None,
                     seed=None):
    """Grade one submission and write results_path; returns the results dict.

    `suite` and `bind` (a function given the Student proxy) replace the
    homework's suites, for testing the machinery itself. `seed` reproduces
    an earlier run's inputs (its results' extra_data["grading_seed"]).

    Never raises for anything the submission does, and writes a valid
    results.json (score 0 with a message) even if the grader itself fails.
    """
    started = time.monotonic()
    stream = stream or sys.stdout
    student = None
    fault = None
    from autograder.suites import inputs

    try:
        config = config or load_config()
        if autograder_root:
            lock_down(autograder_root)
        limits = config["limits"]
        run_deadline = started + limits["run_time_s"]
        student = make_student(submission, config, run_deadline)
        if not isinstance(student, RefusedStudent):  # a refused one starts no worker
            student.start()  # GraderFault if the worker path does not work here
        if suite is None:
            from autograder.suites import graded, load_suites

            suite, bind = load_suites(), graded.set_student
        bind(student)
        seed = grading_seed(student, autograder_root, seed)
        inputs.set_grading_seed(seed)
        from autograder.grading.runner import GradedRunner

        runner = GradedRunner(stream=stream, student=student,
                              default_time_s=limits["test_time_s"],
                              run_deadline=run_deadline, progress=progress)
        data = runner.run_suite(hidden_last(suite))
        data["tests"] = in_suite_order(data["tests"], suite)
        data["output"] = summary_markdown(data, student)
        data["output_format"] = "md"
        data["execution_time"] = round(time.monotonic() - started, 2)
        # Isolation layers in force, for staff only: Gradescope never shows a
        # student the top-level extra_data (nor, by default, the printed summary).
        layers = getattr(getattr(student, "isolation", None), "layers", None)
        if layers is not None:
            data.setdefault("extra_data", {})["isolation_layers"] = layers.describe()
        if seed is not None:  # staff only, like the layers: `grade --seed` reproduces the run
            data.setdefault("extra_data", {})["grading_seed"] = seed
        results_io.finalize(data)
        results_io.validate_results(data)
    except BaseException as error:  # the grader's own failure must still give a file
        import traceback

        from autograder.sandbox.student import GraderFault

        if isinstance(error, GraderFault):
            fault = str(error)
            print(f"GRADER FAULT: the worker path does not work here: {fault}", file=sys.stdout)
            data = grader_fault_results(fault, time.monotonic() - started)
        else:
            traceback.print_exc(file=sys.stdout)
            data = results_io.error_results(
                "The autograder hit an internal error and could not grade this submission "
                f"({type(error).__name__}). Your course staff can see the details; please "
                "contact them.", time.monotonic() - started)
        if isinstance(error, KeyboardInterrupt):
            results_io.write_results(results_path, data)
            close_workers(student)
            raise
    finally:
        inputs.set_grading_seed(None)
    # Results first: nothing the clean-up meets can keep a run from its results.
    results_io.write_results(results_path, data)
    close_workers(student)
    if not quiet:
        print(summary_text(data), file=stream)
    return data


def close_workers(student):
    """Stop every worker and clean up after them (bounded; never raises)."""
    try:
        if student is not None:
            student.close()
        if "autograder.suites.graded" in sys.modules:  # its lazily started reference worker
            sys.modules["autograder.suites.graded"].close_reference_student()
    except Exception:  # noqa: BLE001  (the results are written; staff see the traceback)
        import traceback

        traceback.print_exc(file=sys.stdout)
    # (RefusedStudent answers any attribute with a function: only a real report counts)
    report = getattr(student, "cleanup_report", None)
    if isinstance(report, dict) and report:
        print("clean-up: " + "; ".join(f"{k}: {v}" for k, v in report.items()), file=sys.stdout)


def grader_fault_results(cause, execution_time):
    """results.json when the grader cannot run here: nothing is charged to the student.

    No test is listed (none was run, so none failed), the one sentence a
    student reads says so, and the cause is kept for staff in extra_data.
    """
    data = results_io.error_results(
        "The autograder could not run on this submission because of a problem with the "
        "grader itself (not with your code): nothing was graded, and your course staff have "
        "been alerted.", execution_time)
    data["extra_data"] = {"grader_fault": cause[:2000]}
    return data


def make_student(submission, config, run_deadline=None):
    """A Student proxy for the submission, or a RefusedStudent saying why not."""
    try:
        path = find_submission(submission)
        text, encoding = read_submission(path)
    except Refused as reason:
        return RefusedStudent(f"Your submission could not be graded: {reason}")
    except OSError as error:
        return RefusedStudent(f"Your submission could not be read: {error.strerror}")
    from autograder.sandbox.student import Student

    protect_grader_files()

    return Student(text, config, python=config.get("worker_python"), encoding=encoding,
                   run_deadline=run_deadline)


def summary_markdown(data, student):
    """Top-level feedback: points by function, and anything about the whole run."""
    rows = {}
    for test in data["tests"]:
        got, worth, failed = rows.get(function_of(test), (0.0, 0.0, 0))
        rows[function_of(test)] = (got + test.get("score", 0.0), worth + test.get("max_score", 0.0),
                                   failed + (test.get("status") == "failed"))
    lines = []
    import_error = student.import_error
    if import_error is not None:
        lines += [f"**{import_error}**", ""]
    lines += ["| function | points | tests failed |", "|---|---|---|"]
    for function, (got, worth, failed) in rows.items():
        lines.append(f"| `{function}` | {got:g} / {worth:g} | {failed or ''} |")
    isolation = getattr(student, "isolation", None)
    if isolation is not None and not isolation.dedicated_user:
        lines += ["", f"Note: isolation {isolation.description}."]
    hidden = sum(1 for t in data["tests"] if t.get("visibility") not in (None, "visible"))
    if hidden:
        lines += ["", f"{hidden} further tests are hidden until grades are published."]
    return "\n".join(lines)


def summary_text(data):
    """A plain table for a terminal."""
    lines = []
    for test in data["tests"]:
        mark = "PASS" if test["status"] == "passed" else "FAIL"
        lines.append(f"{mark}  {test['score']:>5g}/{test['max_score']:<4g} {test['name']}")
        if test["status"] == "failed" and test.get("output"):
            first = test["output"].strip().splitlines()[0][:160]
            lines.append(f"              {first}")
    if not data["tests"] and data.get("output"):
        lines.append(data["output"])
    layers = data.get("extra_data", {}).get("isolation_layers")
    if layers:
        lines.append("isolation: " + "; ".join(f"{name}: {state}" for name, state in layers.items()))
    total = sum(t["max_score"] for t in data["tests"])
    lines.append(f"TOTAL {data['score']:g} / {total:g}   ({data.get('execution_time', 0)} s)")
    return "\n".join(lines)


def main(argv):
    parser = argparse.ArgumentParser(prog="python -m autograder grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("submission", help="neural_net.py or a folder that holds it")
    parser.add_argument("--results", default="results.json", help="where to write results.json")
    parser.add_argument("--gradescope-root", help="the /autograder tree to lock down first")
    parser.add_argument("--json", action="store_true", help="print results.json instead of a table")
    parser.add_argument("--seed", type=int, help="reproduce a grading: the grading_seed of its "
                                                 "results.json (extra_data)")
    options = parser.parse_args(argv)
    if options.seed is not None and not 0 <= options.seed < 2 ** SEED_BITS:
        parser.error(f"--seed must be in [0, 2**{SEED_BITS})")
    data = grade_submission(options.submission, options.results,
                            autograder_root=options.gradescope_root, quiet=options.json,
                            seed=options.seed)
    if options.json:
        print(json.dumps(data, indent=2))
    # Non-zero when the grader could not run here, so that staff see it.
    return GRADER_FAULT_EXIT if data.get("extra_data", {}).get("grader_fault") else 0
