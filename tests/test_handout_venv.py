"""The handout as a new student meets it: dist/handout.zip, unzipped, installed
in a truly fresh virtual environment with exactly the README's install lines
(from PyPI), then `python selfcheck.py` on a correct file, the blank template
and a planted bug.

Everything (the zip, the venv, pip's cache) stays in the test's tmp folder.
Run as root (CI), the student is played by the unprivileged user `nobody`
(students are not root; as root the self-check would be Gradescope's full
sandbox, whose worker users cannot reach an interpreter in a private folder):
the folder is then made by this test, owned by nobody, mode 0700, and removed.
"""
import os
import shutil
import subprocess
import sys
import time
import zipfile

import pytest

from autograder.commands import build

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(ROOT, "reference", "neural_net.py")
INSTALL_BUDGET_S = 90
STUDENT_UID = 65534  # nobody: plays the student when the tests run as root


def readme_install_commands(readme):
    """The README's install lines, as argument lists: every line that starts with `pip install`."""
    return [line.split("#", 1)[0].split() for line in readme.splitlines()
            if line.strip().startswith("pip install ")]


def venv_program(venv, name):
    folder = "Scripts" if os.name == "nt" else "bin"
    return os.path.join(venv, folder, name + (".exe" if os.name == "nt" else ""))


def clean_environment(tmp):
    """The environment without this test's virtual environment; pip's cache and
    matplotlib's config in tmp."""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PIP_USER")}
    environment.update(PIP_CACHE_DIR=os.path.join(tmp, "pip-cache"), HOME=tmp,
                       MPLCONFIGDIR=os.path.join(tmp, "mpl"), PIP_DISABLE_PIP_VERSION_CHECK="1")
    return environment


def as_student():
    """Popen arguments that run a command as the student (nobody, when we are root)."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return dict(user=STUDENT_UID, group=STUDENT_UID, extra_groups=[])
    return {}


@pytest.fixture(scope="module")
def student_folder(tmp_path_factory):
    """The test's private folder, owned by whoever plays the student."""
    if not as_student():
        yield str(tmp_path_factory.mktemp("handout-venv"))
        return
    import tempfile

    tmp = tempfile.mkdtemp(prefix="nnag-handout-venv-")  # mode 0700
    os.chown(tmp, STUDENT_UID, STUDENT_UID)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(student_folder):
    """(handout folder, the venv's python, environment, install wall time in s)."""
    tmp = student_folder
    zip_path = build.build_handout(os.path.join(tmp, "dist"))
    os.chown(zip_path, *(os.stat(tmp)[4:6]))
    environment = clean_environment(tmp)
    unzip = ("import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])")
    subprocess.run([sys.executable, "-c", unzip, zip_path, tmp], check=True, env=environment,
                   **as_student())
    folder = os.path.join(tmp, build.HANDOUT_FOLDER)
    with open(os.path.join(folder, "README.md"), encoding="utf-8") as handle:
        commands = readme_install_commands(handle.read())
    assert commands and commands[0] == ["pip", "install", "-r", "requirements.txt"], commands
    venv = os.path.join(tmp, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, env=environment,
                   capture_output=True, timeout=120, **as_student())
    started = time.monotonic()
    for command in commands:
        run = subprocess.run([venv_program(venv, "pip")] + command[1:], cwd=folder,
                             env=environment, capture_output=True, text=True, timeout=300,
                             **as_student())
        assert run.returncode == 0, f"{' '.join(command)} failed:\n{run.stdout}\n{run.stderr}"
    install_s = time.monotonic() - started
    print(f"\nREADME install lines in a fresh venv: {install_s:.1f} s")
    return folder, venv_program(venv, "python"), environment, install_s


def student_file(installed, text):
    """A neural_net.py of the student's, in a folder of its own."""
    import tempfile

    folder = tempfile.mkdtemp(prefix="mine-", dir=os.path.dirname(installed[0]))
    path = os.path.join(folder, "neural_net.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    if as_student():
        for target in (folder, path):
            os.chown(target, STUDENT_UID, STUDENT_UID)
    return path


def selfcheck(installed, *args):
    folder, python, environment, _ = installed
    return subprocess.run([python, "selfcheck.py", *args], cwd=folder, env=environment,
                          capture_output=True, text=True, timeout=300, **as_student())


def points(stdout):
    earned, possible = stdout.split("Visible points: ")[1].split()[0:3:2]
    return float(earned), float(possible)


def test_the_install_is_only_what_students_need_and_fits_the_budget(installed):
    folder, python, environment, install_s = installed
    listing = subprocess.run([python, "-m", "pip", "list", "--format=freeze"],
                             env=environment, capture_output=True, text=True, check=True)
    names = {line.split("==")[0].lower() for line in listing.stdout.split()}
    assert {"numpy", "matplotlib", "mlxtend"} <= names
    assert not names & {"gradescope-utils", "scikit-learn", "pandas", "scipy"}, names
    assert install_s < INSTALL_BUDGET_S


def test_a_correct_file_gets_every_visible_point(installed):
    mine = student_file(installed, open(REFERENCE, encoding="utf-8").read())
    run = selfcheck(installed, mine)
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    earned, possible = points(run.stdout)
    assert earned == possible > 50, run.stdout
    assert run.returncode == 0


def test_the_blank_template_gets_zero_one_line_per_function(installed):
    run = selfcheck(installed)
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert points(run.stdout)[0] == 0 and run.returncode != 0
    report = run.stdout.split("Visible points:")[0]
    function_lines = [line for line in report.splitlines() if line.startswith("== ")]
    assert len(function_lines) >= 10
    assert all("is not implemented yet" in line for line in function_lines), report
    assert "[FAIL]" not in report  # nothing but the one line per function


def test_a_planted_bug_is_named_with_its_hint(installed):
    buggy = student_file(installed, open(REFERENCE, encoding="utf-8").read().replace(
        "db = dZ.sum(axis=0)", "db = dZ.mean(axis=0)"))
    run = selfcheck(installed, buggy)
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.returncode == 1
    failing = run.stdout.split("== linear_backward")[1].split("\n== ")[0]
    assert "[FAIL]" in failing and "db" in failing, run.stdout
    assert "likely mistake" in failing and "averaged over the batch" in failing, failing
