"""`python -m autograder VERB [args]`: one module per verb, each with main(argv)."""
import importlib
import sys

# verb -> (module with main(argv), what it does)
VERBS = {
    "grade": ("autograder.grading.grade",
              "grade one submission (file or folder): results.json and a summary"),
    "validate": ("autograder.validation.validate",
                 "TA proof: reference, template and every catalogue entry, as a table"),
    "build": ("autograder.commands.build",
              "write dist/autograder.zip (Gradescope upload) and dist/handout.zip"),
    "batch": ("autograder.commands.batch",
              "grade a folder of submissions in parallel into one CSV"),
    "template": ("autograder.commands.template",
                 "regenerate student_template/ from reference/"),
    "demo": ("autograder.commands.demo",
             "grade the reference, the template and a few bundled examples"),
    "selfcheck": ("autograder.commands.selfcheck",
                  "students: the visible tests on a neural_net.py, per function"),
    "calibrate": ("autograder.commands.calibrate",
                  "staff: measure the reference's held-out accuracy; --write sets the tiers"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in VERBS:
        print("usage: python -m autograder VERB [options]\n")
        for verb, (_, what) in VERBS.items():
            print(f"  {verb:<9} {what}")
        return 2
    module = importlib.import_module(VERBS[argv[0]][0])
    return module.main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
