"""Gradescope runs Python 3.10: every pinned requirement must install there.

(mlxtend 0.25 needs 3.11 and would have broken setup.sh on Gradescope.)
Asks the package index for 3.10 wheels without installing anything; skips
only when the index cannot be reached at all.
"""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("requirements", ["requirements.txt", "requirements-data.txt"])
def test_pins_have_python_310_wheels_for_gradescope(requirements, tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
         "--python-version", "3.10", "--platform", "manylinux2014_x86_64",
         "--dest", str(tmp_path), "-r", os.path.join(ROOT, requirements)],
        capture_output=True, text=True, timeout=600)
    if run.returncode != 0 and ("No matching distribution" not in run.stderr
                                and "Requires-Python" not in run.stderr
                                and "requires a different Python" not in run.stderr):
        pytest.skip(f"package index not reachable: {run.stderr.strip()[-200:]}")
    assert run.returncode == 0, run.stderr[-2000:]
