"""Config, the @graded decorator and the proxies every suite calls.

- `@graded("softmax.values")` reads weight, visibility, number and function
  from config.json tests[...] and applies gradescope-utils' decorators
  (metadata only); `partial=True` uses partial_credit (the test calls
  set_score). The docstring's first line is the name a student reads and
  starts with the function's name.
- `set_student(proxy)` / `student()`: the submission's proxy
  (autograder.sandbox.student.Student), set by the harness before the suites run.
- `reference_student()`: the reference run through the same kind of worker,
  for the timing backstop of the vectorization tests (created lazily; the
  harness may inject one with set_reference_student and must call
  close_reference_student at the end; an atexit hook is the safety net).
- `ref()`: the reference module, imported in the parent (ground truth).
"""
import atexit

from gradescope_utils.autograder_utils.decorators import (number, partial_credit, tags,
                                                          visibility, weight)

from autograder.checks.reference import reference, reference_source
from autograder.config import load_config
from autograder.grading.expected import NotCheckedLocally
from autograder.sandbox.student import Student

try:
    from autograder.checks import exact as EXACT
except ImportError:  # staff only: the students' self-check ships without it
    EXACT = None

CONFIG = load_config()
TESTS = CONFIG["tests"]
THRESHOLDS = CONFIG["thresholds"]


def graded(key, partial=False):
    """Decorate a test method with the metadata of config.json tests[key]."""
    entry = TESTS[key]

    def decorate(func):
        doc = (func.__doc__ or "").strip()
        first = doc.splitlines()[0] if doc else ""
        if not first.startswith(entry["function"] + ":"):
            raise ValueError(f"{func.__name__}: the docstring must start with "
                             f"'{entry['function']}:' (it is the student-facing name)")
        if partial:
            func = partial_credit(entry["weight"])(func)
        else:
            func = weight(entry["weight"])(func)
        func = visibility(entry["visibility"])(func)
        func = number(entry["number"])(func)
        func = tags(entry["function"])(func)
        func.__graded_key__ = key
        return func

    return decorate


# ---------------------------------------------------------------------------
# The proxies
# ---------------------------------------------------------------------------

_student = None
_reference_student = None
_reference_owned = False


def set_student(proxy):
    global _student
    _student = proxy


def student():
    if _student is None:
        raise RuntimeError("no submission: the harness must call set_student(proxy) first")
    return _student


def set_reference_student(proxy):
    """Inject the reference's proxy (the caller keeps ownership)."""
    global _reference_student, _reference_owned
    close_reference_student()
    _reference_student, _reference_owned = proxy, False


def reference_student():
    """The reference through the same kind of worker as the submission, or
    None where the reference is not available (the students' self-check)."""
    global _reference_student, _reference_owned
    if _reference_student is None:
        try:
            source = reference_source()
        except (OSError, NotCheckedLocally):
            return None  # the self-check: static and step-count checks still run
        _reference_student = Student(source, CONFIG,
                                     python=CONFIG.get("worker_python"),
                                     filename="neural_net.py")
        _reference_owned = True
    return _reference_student


def close_reference_student():
    global _reference_student, _reference_owned
    if _reference_student is not None and _reference_owned:
        try:
            _reference_student.close()
        except Exception:
            pass
    _reference_student, _reference_owned = None, False


atexit.register(close_reference_student)


def ref():
    """The reference module, imported in the parent (ground truth)."""
    return reference()
