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
