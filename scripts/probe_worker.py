"""Prove that the worker path works on this machine, as grading will use it.

    python3 scripts/probe_worker.py        (from the autograder's root; as root)

The worker user must be able to start the interpreter, import numpy and
answer a call through the sandbox (the probe `grade` runs when the first
worker of a grading gives no answer). Exit status 0 if it works; otherwise 1, with the cause on stderr.
setup.sh runs it so that a broken image fails at build time, not on a
student's submission.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from autograder.config import load_config  # noqa: E402
from autograder.sandbox.student import PROBE_SOURCE, GraderFault, Student  # noqa: E402


def main():
    config = load_config()
    student = Student(PROBE_SOURCE, config, python=config.get("worker_python"))
    try:
        student.probe()
    except GraderFault as fault:
        print(f"PROBE FAILED: the worker path does not work on this machine: {fault}",
              file=sys.stderr)
        return 1
    finally:
        student.close()
    layers = student.isolation.layers.describe()
    print("probe: the worker user ran the interpreter, imported numpy and answered a call")
    print("isolation: " + "; ".join(f"{name}: {state}" for name, state in layers.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
