"""What the vectorization timing backstop sees: CPU time of the worker for the
reference, for correct alternatives and for the tightest Python loops.

    python bench/bench_backstop.py            (as root, like Gradescope)
    python bench/bench_backstop.py --repeats 5 --only sigmoid_forward

For each function with a timing backstop, at the size the suite uses: the
reference's CPU seconds, the transfer's (an echo of the same arguments and
answer, no submission code running), then every variant's, each the best of
`--repeats` calls in its own worker. `ratio` is the variant's computation
(its CPU time less the transfer) over the reference's; `limit` is what the
backstop allows with config.json's thresholds (before the retry), and
`verdict` says whether that time would pass.

Loops are the tightest per-element or per-example Python loops written for
speed (tolist() and math, no numpy scalars); the correct alternatives are
the ones of the correct catalogue that touch the function, plus heavier
vectorized forms. Prints figures; asserts nothing (not a test).
"""
import argparse
import os
import sys


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from autograder.config import load_config  # noqa: E402
from autograder.sandbox.student import Student, SubmissionError  # noqa: E402
from autograder.suites import case  # noqa: E402
from autograder.validation import correct  # noqa: E402
from autograder.validation.tight_loops import CASES  # noqa: E402

REFERENCE = open(os.path.join(ROOT, "reference", "neural_net.py")).read()
def correct_variants(function):
    """The correct catalogue's alternatives that change `function`, built."""
    found = {}
    for entry in correct.CORRECT:
        source = REFERENCE
        touched = False
        for old, new in entry.subs:
            start = source.find(old)
            if start < 0:
                break
            owner = source.rfind("\ndef ", 0, start)
            name = source[owner + 5:source.find("(", owner)]
            touched = touched or name == function
            source = source.replace(old, new, 1)
        else:
            if touched:
                found[f"correct: {entry.name}"] = source
    return found


def best(student, function, args, repeats, echo_answer=None):
    """(cpu, wall) of the best of `repeats` calls (an echo when echo_answer is given)."""
    runs = []
    for _ in range(repeats):
        if echo_answer is not None:
            res = student.call(function, *args, echo_answer, echo=True)
        else:
            res = student.call(function, *args, timeout=120)
        runs.append((res.cpu if res.cpu is not None else float("nan"), res.elapsed))
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--only", action="append")
    options = parser.parse_args()
    config = load_config()
    settings = config["thresholds"]["vectorization"]
    import importlib.util

    spec = importlib.util.spec_from_file_location("reference_nn", os.path.join(
        ROOT, "reference", "neural_net.py"))
    reference_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference_module)
    reference = Student(REFERENCE, config)
    print(f"thresholds: {settings}")
    print(f"{'function':32} {'variant':40} {'cpu s':>8} {'wall s':>8} {'ratio':>7} "
          f"{'limit':>7} verdict")
    try:
        for function, (make, loops) in CASES.items():
            if options.only and function not in options.only:
                continue
            args = make()
            answer = getattr(reference_module, function)(*args)
            ref_cpu, ref_wall = best(reference, function, args, options.repeats)
            echo_cpu, echo_wall = best(reference, function, args, options.repeats, answer)
            transfer = min(echo_cpu / 2, ref_cpu)
            ref_comp = max(ref_cpu - transfer, ref_cpu * case.MIN_COMPUTATION_SHARE)
            factor = settings.get("backstop_factors", {}).get(function,
                                                              settings["backstop_factor"])
            limit = case.backstop_limit(ref_cpu, echo_cpu / 2, factor,
                                        settings["backstop_slack_s"])
            print(f"{function:32} {'reference':40} {ref_cpu:8.4f} {ref_wall:8.4f} "
                  f"{1:7.1f} {limit:7.3f} (transfer {echo_cpu / 2:.4f} cpu)")
            variants = dict(correct_variants(function))
            variants.update({name: REFERENCE + "\n\n" + code for name, code in loops.items()})
            for name, source in variants.items():
                student = Student(source, config)
                try:
                    cpu, wall = best(student, function, args, options.repeats)
                except SubmissionError as error:
                    print(f"{'':32} {name[:40]:40} not timed: {str(error)[:60]}")
                    continue
                finally:
                    student.close()
                ratio = max(cpu - transfer, 0.0) / ref_comp if ref_comp > 0 else float("inf")
                verdict = "fails" if cpu > limit else "passes"
                print(f"{'':32} {name[:40]:40} {cpu:8.4f} {wall:8.4f} {ratio:7.1f} "
                      f"{limit:7.3f} {verdict}")
    finally:
        reference.close()


if __name__ == "__main__":
    main()
