"""Peak memory of the grading parent under the largest hostile replies.

    python bench/bench_hostile_reply.py            (as root, like Gradescope)

Each scenario runs in a fresh interpreter (ru_maxrss is a high-water mark
for the life of a process): it starts a Student, makes one warm-up call of a
correct function, records the parent's peak RSS, makes the hostile call,
and records the peak again. The parent's growth must stay within a fixed
bound whatever the worker sends: the JSON header cap (max_header_kb) plus
the call's reply cap (at most max_reply_mb), and nothing else.

Then two whole gradings in fresh interpreters: the reference, and a
submission whose array-returning functions all answer with the largest
reply their calls accept (what the checks may then convert).

Prints one line per scenario; asserts nothing (not a test).
"""
import json
import os
import resource
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

FORGE = (
    "def {fn}(*args):\n"
    "    import json, os, struct, sys, time\n"
    "    fd = json.loads(sys.argv[1])['out_fd']\n"
    "    header = {header}\n"
    "    data = struct.pack('>I', len(header)) + header + {payload}\n"
    "    view = memoryview(data)\n"
    "    while view:\n"
    "        view = view[os.write(fd, view[:1 << 20]):]\n"
    "    time.sleep(30)\n")

SCENARIOS = {
    # 65,000 '[': a recursive parser overflows its stack
    "deep-nesting header (65,000 '[')": ("softmax", "b'[' * 65000", "b''", None),
    # the whole 64 KB header cap, as one valid JSON string
    "64 KB header": ("softmax", "b'{\"op\": \"return\", \"x\": \"' + b'a' * 65000 + b'\"}'",
                     "b''", None),
    # a header claiming 10^9 float64 (8 GB)
    "header claiming 8 GB": ("softmax", "json.dumps({'op': 'return', 'value': {'t': 'a', 'i': 0}, "
                             "'arrays': [{'dtype': '<f8', 'shape': [10 ** 9]}]}).encode()",
                             "b''", None),
    # a well-formed 64 MB reply to a call whose answer is a few hundred bytes
    "64 MB reply, per-call cap": ("softmax", "json.dumps({'op': 'return', 'value': {'t': 'a', "
                                  "'i': 0}, 'arrays': [{'dtype': '|u1', 'shape': [64 << 20]}]})"
                                  ".encode()", "b'\\1' * (64 << 20)", None),
    # the same reply to a call that allows the global cap (max_reply_mb): the worst accepted case
    "64 MB reply, global cap": ("softmax", "json.dumps({'op': 'return', 'value': {'t': 'a', "
                                "'i': 0}, 'arrays': [{'dtype': '|u1', 'shape': [(64 << 20) - 64]}]})"
                                ".encode()", "b'\\1' * ((64 << 20) - 64)", 64 << 20),
}


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(name):
    import numpy as np

    from autograder.config import load_config
    from autograder.sandbox import student as oracle

    fn, header, payload, cap = SCENARIOS[name]
    with open(os.path.join(ROOT, "reference", "neural_net.py"), encoding="utf-8") as handle:
        source = handle.read()
    source += "\n\n" + FORGE.format(fn=fn, header=header, payload=payload)
    student = oracle.Student(source, load_config())
    try:
        student.sigmoid_forward(np.zeros(3))  # warm-up: the worker runs, numpy is loaded
        before = peak_mb()
        try:
            student.call(fn, np.zeros((2, 3)), max_reply_bytes=cap)
            outcome = "accepted"
        except oracle.SubmissionError as error:
            outcome = f"{type(error).__name__}: {str(error)[:90]}"
        after = peak_mb()
    finally:
        student.close()
    print(json.dumps({"name": name, "before_mb": round(before, 1), "after_mb": round(after, 1),
                      "outcome": outcome}))


# Whole gradings: the reference, and one whose every array-returning function
# answers with the largest uint8 array its call accepts (the checks then see,
# and may convert, the biggest reply that gets through).
BIG_ANSWER = ("\n\nimport numpy as _np\n"
              "_BIG = _np.ones((4 << 20) - 4096, dtype=_np.uint8)\n"
              + "".join(f"def {fn}(*args, **kwargs):\n    return _BIG\n"
                        for fn in ("one_hot", "linear_forward", "sigmoid_forward", "softmax",
                                   "sigmoid_backward", "softmax_cross_entropy_backward",
                                   "linear_backward", "predict")))


def grade_one(which):
    import tempfile

    from autograder.grading.grade import grade_submission

    with open(os.path.join(ROOT, "reference", "neural_net.py"), encoding="utf-8") as handle:
        source = handle.read()
    if which == "largest accepted replies":
        source += BIG_ANSWER
    folder = tempfile.mkdtemp(prefix="nnag-bench-")  # 0700: nobody else reads it
    path = os.path.join(folder, "neural_net.py")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(source)
    data = grade_submission(path, os.path.join(folder, "results.json"), quiet=True)
    print(json.dumps({"name": which, "after_mb": round(peak_mb(), 1), "score": data["score"]}))


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        run_one(sys.argv[2])
        return 0
    if len(sys.argv) > 2 and sys.argv[1] == "--grade":
        grade_one(sys.argv[2])
        return 0
    print(f"{'scenario':36} {'peak before':>11} {'peak after':>10} {'growth':>7}  outcome")
    for name in SCENARIOS:
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--one", name],
                              capture_output=True, text=True, cwd=ROOT)
        try:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{name:36} failed: {done.stderr.strip()[-300:]}")
            continue
        growth = row["after_mb"] - row["before_mb"]
        print(f"{name:36} {row['before_mb']:>9.1f}MB {row['after_mb']:>8.1f}MB {growth:>5.1f}MB"
              f"  {row['outcome']}")
    print(f"\n{'whole grading':36} {'parent peak':>11}  score")
    for which in ("reference", "largest accepted replies"):
        done = subprocess.run([sys.executable, os.path.abspath(__file__), "--grade", which],
                              capture_output=True, text=True, cwd=ROOT)
        try:
            row = json.loads(done.stdout.strip().splitlines()[-1])
        except (IndexError, ValueError):
            print(f"{which:36} failed: {done.stderr.strip()[-300:]}")
            continue
        print(f"{which:36} {row['after_mb']:>9.1f}MB  {row['score']:g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
