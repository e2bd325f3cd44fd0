"""`python -m autograder VERB [args]`: one module per verb, each with main(argv)."""
import importlib
import sys

VERBS = {
    "grade": "grade one submission (file or folder): results.json and a summary",
    "validate": "TA proof: reference, template and every catalogue entry, as a table",
    "build": "write dist/autograder.zip (Gradescope upload) and dist/handout.zip",
    "batch": "grade a folder of submissions in parallel into one CSV",
    "template": "regenerate student_template/ from reference/",
    "demo": "grade the reference, the template and a few bundled examples",
    "selfcheck": "students: the visible tests on a neural_net.py, per function",
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in VERBS:
        print("usage: python -m autograder VERB [options]\n")
        for verb, what in VERBS.items():
            print(f"  {verb:<9} {what}")
        return 2
    module = importlib.import_module(f"autograder.{argv[0]}")
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
