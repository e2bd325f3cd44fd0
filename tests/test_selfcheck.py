"""The students' self-check, as unpacked from the handout (no reference in it).

Built once per module: the handout's files in a temporary folder, run with
`python selfcheck.py` as a student would, on the template, on a correct file
(the reference under another name) and on a planted bug.
"""
import os
import subprocess
import sys

import pytest

from autograder.commands import build

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(ROOT, "reference", "neural_net.py")


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    folder = tmp_path_factory.mktemp("handout")
    os.chmod(folder, 0o755)
    files = dict(build.template_files())
    files.update(build.handout_extra_files())
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return folder


def selfcheck(handout, *args):
    return subprocess.run([sys.executable, "selfcheck.py", *args], cwd=handout,
                          capture_output=True, text=True, timeout=300)


def test_the_handout_has_no_reference_and_no_hidden_test(handout):
    names = {str(p.relative_to(handout)) for p in handout.rglob("*") if p.is_file()}
    assert not any("reference" in n.split(os.sep) for n in names)
    assert not any(n.endswith(("calibrate.py", "harness.py")) for n in names)
    suites = "".join((handout / "grader" / "autograder" / "suites").joinpath(n).read_text()
                     for n in os.listdir(handout / "grader" / "autograder" / "suites"))
    assert "hidden_values" not in suites


def test_the_blank_template_gets_zero_and_says_not_implemented(handout):
    run = selfcheck(handout)
    assert run.returncode == 1
    assert "Visible points: 0 /" in run.stdout
    assert "one_hot is not implemented yet" in run.stdout


def test_a_correct_file_passes_every_visible_test(handout, tmp_path):
    mine = tmp_path / "my_network_v2.py"
    mine.write_text(open(REFERENCE, encoding="utf-8").read())
    run = selfcheck(handout, str(mine))
    assert "[FAIL]" not in run.stdout, run.stdout
    earned, possible = run.stdout.split("Visible points: ")[1].split()[0:3:2]
    assert float(earned) == float(possible) > 50
    assert run.returncode == 0
    estimates = [line for line in run.stdout.splitlines() if line.startswith("  [ ~~ ] train:")]
    assert len(estimates) == 2, run.stdout
    assert "accuracy" in estimates[0] and ": 9/9: accuracy" in estimates[0], estimates
    assert "lr = 10" in estimates[1] and ": 2/2: training loss" in estimates[1], estimates
    assert all("estimated on public digits; Gradescope uses held-out digits" in line
               for line in estimates)


def test_the_train_estimate_catches_labels_shuffled_apart_from_their_digits(handout, tmp_path):
    from autograder.validation.planted import PLANTED

    entry = next(entry for entry in PLANTED if entry.name == "labels_not_shuffled_with_X")
    path = tmp_path / "neural_net.py"
    path.write_bytes(entry.source_bytes())
    run = selfcheck(handout, str(path))
    estimate = next(line for line in run.stdout.splitlines()
                    if line.startswith("  [ ~~ ] train:") and "accuracy on held-out" in line)
    assert ": 0/9: accuracy" in estimate, estimate


def test_a_planted_bug_is_named_with_feedback_and_the_html_has_plots(handout, tmp_path):
    buggy = tmp_path / "neural_net.py"
    buggy.write_text(open(REFERENCE, encoding="utf-8").read().replace(
        "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)"))
    report = tmp_path / "report.html"
    run = selfcheck(handout, str(buggy), "--html", str(report))
    assert run.returncode == 1
    assert "[FAIL]" in run.stdout and "linear_backward" in run.stdout
    assert "db" in run.stdout.split("[FAIL]")[1]
    assert "running: train" in run.stdout  # progress while it works
    assert report.read_text().count("data:image/png;base64,") == 2


# ---------------------------------------------------------------------------
# The portable path: what a platform without the POSIX sandbox gets (Windows),
# forced here by making the POSIX-only modules unavailable to the self-check.
# ---------------------------------------------------------------------------

POSIX_ONLY = ("fcntl", "pwd", "grp", "resource")
# ... and the os functions Windows lacks, so that the grader's side must do
# without them too (subprocess itself does not need them).
POSIX_ONLY_OS = ("geteuid", "getuid", "killpg", "setsid", "readv", "getpgid", "setpgid")
WITHOUT_POSIX = ("import os, runpy, sys; sys.modules.update(dict.fromkeys(%r)); "
                 "[delattr(os, name) for name in %r if hasattr(os, name)]; "
                 "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
                 % (POSIX_ONLY, POSIX_ONLY_OS))
PORTABLE_MODE = "isolation: none on this platform; timeouts and crash containment only"


def portable_selfcheck(handout, *args, timeout=300):
    return subprocess.run([sys.executable, "-c", WITHOUT_POSIX, "selfcheck.py", *args],
                          cwd=handout, capture_output=True, text=True, timeout=timeout)


def failing_functions(stdout):
    """Functions with a failing test in a self-check report (a one-line block counts)."""
    failing, current = set(), None
    for line in stdout.split("Visible points:")[0].splitlines():
        if line.startswith("== "):
            current = line[3:].split()[0]
            if len(line[3:].split()) > 1:  # "== fn  0/4  fn is not implemented yet"
                failing.add(current)
        elif "[FAIL]" in line:
            failing.add(current)
    return failing


def test_the_sandbox_modules_import_without_the_posix_only_ones():
    code = (f"import sys; sys.modules.update(dict.fromkeys({POSIX_ONLY!r}))\n"
            "from autograder.sandbox import portable, student, workers, layers, wire\n"
            "from autograder.commands import selfcheck\n"
            "assert portable.backend() is portable, portable.backend()\n"
            "print(portable.mode_line())\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == PORTABLE_MODE


def test_the_worker_imports_posix_only_modules_only_where_it_uses_them():
    import ast

    from autograder.sandbox import portable

    for name in ("worker.py", "wire.py", "workers.py", "layers.py", "confine.py", "student.py",
                 "portable.py"):
        with open(os.path.join(ROOT, "autograder", "sandbox", name), encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in tree.body:  # module level only
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not set(names) & set(portable.POSIX_ONLY_MODULES), (name, names)


def test_the_wire_reads_without_readv(monkeypatch):
    """Windows has no os.readv: a message still round-trips through a pipe."""
    import numpy as np

    from autograder.sandbox import wire

    monkeypatch.delattr(os, "readv")
    read_fd, write_fd = os.pipe()
    try:
        wire.send(write_fd, {"op": "x"}, [np.arange(6.0).reshape(2, 3)])
        header, arrays = wire.receive(read_fd)
    finally:
        os.close(read_fd)
        os.close(write_fd)
    assert header["op"] == "x" and arrays[0].tolist() == [[0, 1, 2], [3, 4, 5]]


def test_portable_a_correct_file_passes_every_visible_test(handout, tmp_path):
    mine = tmp_path / "neural_net.py"
    mine.write_text(open(REFERENCE, encoding="utf-8").read())
    run = portable_selfcheck(handout, str(mine))
    assert "[FAIL]" not in run.stdout and "Traceback" not in run.stderr, run.stdout + run.stderr
    earned, possible = run.stdout.split("Visible points: ")[1].split()[0:3:2]
    assert float(earned) == float(possible) > 50
    assert PORTABLE_MODE in run.stdout and run.returncode == 0


def test_portable_the_blank_template_is_one_line_per_function(handout):
    run = portable_selfcheck(handout)
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert "Visible points: 0 /" in run.stdout and PORTABLE_MODE in run.stdout
    report = run.stdout.split("Visible points:")[0]
    blocks = [line for line in report.splitlines() if line.startswith("== ")]
    assert len(blocks) >= 10 and all("is not implemented yet" in b for b in blocks), report


def test_portable_a_planted_bug_is_named_with_its_hint(handout, tmp_path):
    buggy = tmp_path / "neural_net.py"
    buggy.write_text(open(REFERENCE, encoding="utf-8").read().replace(
        "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)"))
    run = portable_selfcheck(handout, str(buggy))
    assert run.returncode == 1 and "Traceback" not in run.stderr
    from autograder.validation.model import dependants

    failing = failing_functions(run.stdout)
    assert "linear_backward" in failing, run.stdout
    assert failing <= {"linear_backward", *dependants("linear_backward")}, run.stdout
    assert "averaged over the batch" in run.stdout.split("== linear_backward")[1]


# The validation catalogue's faults that make sense without isolation. (Its
# sleep and signal-swallowing hangs end the same way here: the child is killed.)
PORTABLE_FAULTS = ("hang_in_function", "hang_at_import", "segfault_in_function",
                   "stdout_flood_1GB", "os_exit_in_function", "sys_exit_at_import",
                   "exception_in_function")


@pytest.mark.parametrize("name", PORTABLE_FAULTS)
def test_portable_contains_the_catalogue_fault(handout, tmp_path, name):
    import re
    import time

    from autograder.validation.hostile import HOSTILE

    entry = next(entry for entry in HOSTILE if entry.name == name)
    expected = entry.expected
    path = tmp_path / "neural_net.py"
    path.write_bytes(entry.source_bytes())
    started = time.monotonic()
    run = portable_selfcheck(handout, str(path), timeout=240)
    elapsed = time.monotonic() - started
    assert "Traceback" not in run.stderr, run.stderr
    assert PORTABLE_MODE in run.stdout and "Visible points:" in run.stdout, run.stdout
    failing = failing_functions(run.stdout)
    if expected.score == 0:
        assert "Visible points: 0 /" in run.stdout, run.stdout
    elif expected.lose_only:
        assert set(expected.lose_only) <= failing, run.stdout
        assert failing <= set(expected.lose_only) | set(expected.may_also_lose), run.stdout
    elif expected.may_lose_only:
        assert failing <= set(expected.may_lose_only), run.stdout
    for pattern in expected.message_contains:
        assert re.search(pattern, run.stdout, re.IGNORECASE), (pattern, run.stdout)
    assert run.returncode == (1 if failing else 0)
    assert elapsed < expected.max_seconds
