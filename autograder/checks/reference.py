"""The staff solution, loaded by file path: the parent's ground truth.

The parent imports the reference (never the submission). Loading it by path
keeps it a private module object: nothing the suites do can be seen through
`sys.modules['neural_net']`.
"""
import importlib.util
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE_PATH = os.path.join(ROOT, "reference", "neural_net.py")

_module = None


def reference():
    """The reference module (loaded once)."""
    global _module
    if _module is None and not os.path.exists(REFERENCE_PATH):
        # The students' handout has no reference: recorded answers stand in.
        from autograder.grading import expected

        _module = expected.Replayer(expected.store_path())
    if _module is None:
        spec = importlib.util.spec_from_file_location("_nnag_reference_neural_net",
                                                      REFERENCE_PATH)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _module = module
    return _module


def reference_source():
    if not os.path.exists(REFERENCE_PATH):
        from autograder.grading.expected import NotCheckedLocally

        raise NotCheckedLocally("timing against the reference runs on Gradescope only")
    with open(REFERENCE_PATH, encoding="utf-8") as handle:
        return handle.read()
