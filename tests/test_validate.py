"""The validate verb: its judgement, its table, and a fast end-to-end subset.

The subset runs through run_autograder exactly as the full validation does
(`python -m autograder validate`, run in full by .ci/run), one entry per
distinct mechanism: full marks, the blank template, a wrong gradient, a
loop, a hang (timeout), a segfault (crash), a forged results.json with
os._exit, a bool dtype and a forged protocol header.
"""
import json
import os

import pytest

from autograder.config import load_config
from autograder.grading.results import function_of
from autograder.validation import model, validate
from autograder.validation.model import broken
from autograder.validation import Expected, at_most, by_name, only, zero

# Distinct mechanisms, and every case the sandbox must survive: a hang costs only its
# function, a syntax error, forged results then os._exit, monkeypatched
# numpy/unittest/json, a lying ndarray subclass, an object-dtype return, a
# malicious array header, reading the grader's source, signalling the grader.
FAST_SUBSET = ["reference", "template", "dW_transposed", "loop_sigmoid_forward",
               "hang_in_function", "segfault_in_function", "forged_results_then_os_exit",
               "returns_bool_dtype", "malicious_array_header", "syntax_error",
               "monkeypatches_unittest_numpy_json", "returns_ndarray_subclass_faking_eq",
               "returns_object_dtype", "reads_grader_source", "signals_the_grader"]


def results(*tests, output="", score=None):
    tests = [dict(name=f"{f}: check {i}", score=s, max_score=m, tags=[f], output=o,
                  status="passed" if s >= m else "failed")
             for i, (f, s, m, o) in enumerate(tests)]
    total = sum(t["score"] for t in tests) if score is None else score
    return {"score": total, "output": output, "tests": tests}


FULL = results(("softmax", 50, 50, ""), ("forward", 50, 50, ""))


# ---------------------------------------------------------------------------
# judge
# ---------------------------------------------------------------------------

def test_full_marks_needs_every_test_passed():
    problems, got, _, _ = validate.judge(Expected(score=100.0), FULL, "reference")
    assert problems == [] and got == "100"
    data = results(("softmax", 49, 50, "close"), ("forward", 50, 50, ""))
    problems, got, _, _ = validate.judge(Expected(score=100.0), data)
    assert problems and got == "lost softmax"


def test_reference_row_insists_on_100_points_in_all():
    data = results(("softmax", 10, 10, ""))
    problems, _, _, _ = validate.judge(Expected(score=100.0), data, "reference")
    assert any("worth 10 points" in p for p in problems)
    assert validate.judge(Expected(score=100.0), data, "correct")[0] == []


def test_exact_score_and_message():
    data = results(("softmax", 0, 50, "softmax is not implemented yet"),
                   ("forward", 0, 50, "forward is not implemented yet"))
    assert validate.judge(zero(r"not implemented"), data)[0] == []
    assert validate.judge(zero(r"timed out"), data)[0] == ["no message matches /timed out/"]
    forged = dict(data, score=100.0)
    assert "expected a score of 0, got 100" in validate.judge(zero(), forged)[0]


def test_at_most_caps_the_score():
    data = results(("softmax", 5, 50, "wrong"), ("forward", 0, 50, "wrong"))
    assert validate.judge(at_most(10), data)[0] == []
    assert validate.judge(at_most(4), data)[0] == ["expected at most 4, got 5"]


def test_lose_only_attributes_failures_by_tag():
    data = results(("softmax", 0, 10, "wrong axis"), ("forward", 0, 10, "rows"),
                   ("linear_forward", 10, 10, ""))
    # forward is judged on the student's own softmax: a wrong softmax costs softmax only
    assert validate.judge(only("softmax"), data)[0] == ["also lost points in forward"]
    # a softmax that crashes leaves forward "not judged"
    assert validate.judge(broken("softmax"), data)[0] == []
    problems = validate.judge(only("softmax", also=()), data)[0]
    assert problems == ["also lost points in forward"]
    problems = validate.judge(only("linear_forward"), data)[0]
    assert "no failing test of linear_forward" in problems
    assert validate.judge(only("softmax"), FULL)[0][0] == "lost no points"


def test_only_allows_the_end_to_end_tests_by_name():
    numbers = {key: entry["number"] for key, entry in load_config()["tests"].items()}
    data = results(("softmax", 0, 10, "wrong axis"), ("train", 0, 9, "accuracy"),
                   ("train", 0, 2, "lr 10"))
    data["tests"][1]["number"] = numbers["train.accuracy"]
    data["tests"][2]["number"] = numbers["train.lr10"]
    assert validate.judge(only("softmax"), data)[0] == []
    data["tests"][2]["number"] = numbers["train.history"]
    assert validate.judge(only("softmax"), data)[0] == ["also lost points in train.history"]
    assert set(model.END_TO_END) <= set(numbers)


def test_failing_test_without_a_message_is_a_problem():
    data = results(("softmax", 0, 10, ""))
    assert "failing test without a message: softmax: check 0" in validate.judge(
        only("softmax"), data)[0]


def test_may_lose_only_accepts_full_marks():
    expected = Expected(may_lose_only=("predict",))
    assert validate.judge(expected, FULL)[0] == []
    data = results(("predict", 0, 10, "flood"), ("train", 0, 10, "x"))
    assert validate.judge(expected, data)[0] == ["lost points in train"]


def test_function_of_falls_back_to_the_name():
    assert function_of({"name": "softmax: rows sum to 1"}) == "softmax"
    assert function_of({"name": "x", "tags": ["train"]}) == "train"


def test_validate_structure_rejects_what_gradescope_rejects():
    validate.validate_structure(FULL)
    for bad in ({"tests": []}, {"score": "100", "tests": []}, {"score": 1, "tests": {}},
                {"score": 1, "tests": [{"name": "a", "score": 2, "max_score": 1}]}):
        with pytest.raises(ValueError):
            validate.validate_structure(bad)


def test_table_and_summary():
    rows = [validate.Row("reference", "reference", "100", got="100", score=100.0, seconds=3.2),
            validate.Row("dW_transposed", "planted", "lose linear_backward", got="100",
                         score=100.0, seconds=4.0, verdict="OFF",
                         problems=["lost no points"])]
    table = validate.format_table(rows)
    assert table.splitlines()[0].split() == ["submission", "expected", "got", "score", "time",
                                             "verdict"]
    assert "plan/dW_transposed" in table and "OFF" in table
    assert validate.summary_line(rows) == "validation: 1/2 as expected"
    assert "lost no points" in validate.format_problems(rows)


def test_tree_digest_sees_content_not_modes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.py").write_text("x = 1\n")
    before = validate.tree_digest([str(tmp_path / "a")])
    os.chmod(tmp_path / "a" / "f.py", 0o600)
    assert validate.tree_digest([str(tmp_path / "a")]) == before
    with open(tmp_path / "a" / "f.py", "a") as handle:
        handle.write("# appended\n")
    assert validate.tree_digest([str(tmp_path / "a")]) != before


def test_list_and_selection(capsys):
    assert validate.main(["--list", "--kind", "correct"]) == 0
    out = capsys.readouterr().out
    assert "np_dot_instead_of_matmul" in out and "dW_transposed" not in out
    names = [t.name for t in validate.choose(validate.all_targets(), None, ["reference", "dW_*"])]
    assert names[0] == "reference" and all(n == "reference" or n.startswith("dW_") for n in names)
    assert by_name("fork_bomb").exclusive


def test_who_runs_alone():
    targets = {t.name: t for t in validate.all_targets()}
    assert targets["fork_bomb"].alone(True) and targets["fork_bomb"].alone(False)
    assert not targets["thread_bomb"].alone(True) and targets["thread_bomb"].alone(False)
    assert not targets["reference"].alone(False)
    assert targets["hang_in_function"].cost > targets["dW_transposed"].cost


# ---------------------------------------------------------------------------
# End to end: the fast subset through run_autograder
# ---------------------------------------------------------------------------

def _grader_ready():
    root = validate.ROOT
    if not os.path.exists(os.path.join(root, "run_autograder")):
        return "run_autograder does not exist yet"
    try:
        from autograder.suites import load_suites

        load_suites()
    except Exception as error:  # noqa: BLE001
        return f"the suites do not load yet ({type(error).__name__}: {error})"
    return None


@pytest.mark.skipif(_grader_ready() is not None, reason=str(_grader_ready()))
def test_fast_subset_end_to_end(tmp_path):
    report = tmp_path / "validation.json"
    code = validate.main(["--only", ",".join(FAST_SUBSET), "--jobs", str(os.cpu_count() or 1),
                          "--json", str(report), "--work-dir", str(tmp_path / "work"), "-q"])
    data = json.loads(report.read_text())
    off = {row["name"]: row["problems"] for row in data["rows"] if row["verdict"] != "ok"}
    assert not off and not data["global_problems"], json.dumps(off, indent=1)
    assert code == 0
    assert sorted(row["name"] for row in data["rows"]) == sorted(FAST_SUBSET)


# ---------------------------------------------------------------------------
# The validator catches a broken grader (fake run_autograder scripts)
# ---------------------------------------------------------------------------

GOOD_RESULTS = ('{"score": 0, "output": "not implemented", "tests": [{"name": "one_hot: x", '
                '"score": 0, "max_score": 100, "status": "failed", "tags": ["one_hot"], '
                '"output": "one_hot is not implemented yet"}]}')


def fake_context(tmp_path, script, timeout=None):
    """A Context whose 'package' is a reference plus the given run_autograder body."""
    package = tmp_path / "package"
    (package / "reference").mkdir(parents=True)
    (package / "reference" / "neural_net.py").write_text("def one_hot(y, c):\n    pass\n")
    run = package / "run_autograder"
    run.write_text("#!/usr/bin/env bash\nroot=$AUTOGRADER_ROOT\n" + script + "\n")
    run.chmod(0o755)
    files = {"reference/neural_net.py": (str(package / "reference" / "neural_net.py"), False),
             "run_autograder": (str(run), True)}
    work = tmp_path / "work"
    work.mkdir()
    return validate.Context(str(work), files, {"worker_user_prefix": "nnag-no-such-user-"},
                            timeout=timeout)


def stub_target():
    return validate.Target("stub", "hostile", zero(r"not implemented"), entry=by_name("gc_scan"))


def run_fake(tmp_path, script, timeout=None):
    return validate.run_target(stub_target(), fake_context(tmp_path, script, timeout))


def test_an_honest_fake_grader_passes(tmp_path):
    row = run_fake(tmp_path, f"echo '{GOOD_RESULTS}' > $root/results/results.json")
    assert row.ok, row.problems


def test_catches_a_grader_that_gives_full_marks(tmp_path):
    forged = GOOD_RESULTS.replace('"score": 0, "output"', '"score": 100, "output"')
    row = run_fake(tmp_path, f"echo '{forged}' > $root/results/results.json")
    assert not row.ok and "expected a score of 0, got 100" in row.problems


def test_catches_missing_and_invalid_results(tmp_path):
    row = run_fake(tmp_path / "a", "true")
    assert row.problems == ["no results.json"]
    row = run_fake(tmp_path / "b", "echo '{\"score\": 0}' > $root/results/results.json")
    assert any(p.startswith("invalid results.json") for p in row.problems)


def test_catches_changed_grader_files(tmp_path):
    script = (f"echo '{GOOD_RESULTS}' > $root/results/results.json\n"
              "echo '# tampered' >> $root/source/reference/neural_net.py")
    row = run_fake(tmp_path, script)
    assert "grader files changed (source/ or run_autograder)" in row.problems


def test_catches_a_leaked_secret(tmp_path):
    script = ("secret=$(grep -o 'NNAG-SECRET-[0-9a-f]*' $root/submission_metadata.json | head -1)\n"
              f"echo '{GOOD_RESULTS}' | sed \"s/not implemented yet/$secret/\" "
              "> $root/results/results.json")
    row = run_fake(tmp_path, script)
    assert "a secret of the grader's tree reached results.json" in row.problems


def test_catches_a_run_that_never_ends(tmp_path):
    row = run_fake(tmp_path, "sleep 60", timeout=1.5)
    assert any("did not finish in 1.5 s" in p for p in row.problems)
    assert row.seconds < 15


def test_catches_a_late_rewrite_of_results(tmp_path):
    script = (f"echo '{GOOD_RESULTS}' > $root/results/results.json\n"
              "(sleep 0.2; echo '{\"score\": 100, \"tests\": []}' > $root/results/results.json) "
              "> /dev/null 2>&1 &")
    target = validate.Target("late", "hostile", zero(r"not implemented"),
                             entry=by_name("forged_results_in_background"))
    row = validate.run_target(target, fake_context(tmp_path, script))
    assert "results.json changed after the run ended" in row.problems


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to start a process as another user")
def test_catches_a_process_left_behind(tmp_path):
    import pwd
    import signal
    import sys

    nobody = pwd.getpwnam("nobody")
    if validate.live_processes(nobody.pw_uid):
        pytest.skip("the machine already runs processes as nobody")
    leave = (f"{sys.executable} -c 'import os, time\n"
             f"os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid}); time.sleep(30)' "
             "> /dev/null 2>&1 &\n"
             f"echo '{GOOD_RESULTS}' > $root/results/results.json\nsleep 0.5")
    context = fake_context(tmp_path, leave)
    context.prefix = "nobody"
    try:
        row = validate.run_target(stub_target(), context)
        assert any(p.startswith("processes left: nobody:") for p in row.problems), row.problems
    finally:
        for pid in validate.live_processes(nobody.pw_uid):
            os.kill(pid, signal.SIGKILL)


def registry_results(lost):
    """Results for every registry test, full marks but `lost`: {"function.test": points lost}."""
    from autograder.config import load_config

    tests = []
    for key, spec in load_config()["tests"].items():
        score = spec["weight"] - lost.get(key, 0.0)
        tests.append(dict(name=f"{spec['function']}: {key}", score=score,
                          max_score=spec["weight"], tags=[spec["function"]], output="wrong",
                          number=spec["number"], status="passed" if score >= spec["weight"]
                          else "failed"))
    return {"score": sum(t["score"] for t in tests), "output": "", "tests": tests}


def test_fair_grade_is_judged_test_by_test():
    from autograder.config import load_config
    from autograder.validation.realistic import loops, wrong

    weights = {key: spec["weight"] for key, spec in load_config()["tests"].items()}
    softmax_wrong = wrong("softmax")
    fair = Expected(fair=(loops("one_hot"), softmax_wrong))
    lost = {"one_hot.vectorized": weights["one_hot.vectorized"]}
    lost.update({f"softmax.{t}": weights[f"softmax.{t}"] for t in softmax_wrong[1]})
    assert validate.judge(fair, registry_results(lost))[0] == []
    # a mistake charged to a function that holds none
    harsher = dict(lost, **{"forward.values": weights["forward.values"]})
    problems = validate.judge(fair, registry_results(harsher))[0]
    assert any("forward holds no mistake" in p for p in problems)
    assert any("the fair deduction is" in p for p in problems)
    # too lenient: the loop went unnoticed
    lenient = {k: v for k, v in lost.items() if k != "one_hot.vectorized"}
    assert any("the fair deduction is" in p
               for p in validate.judge(fair, registry_results(lenient))[0])
    # the end-to-end tests may lose points only when a mistake is on the training path
    e2e = dict(lost, **{"train.accuracy": 3.0})
    assert any("end-to-end" in p for p in validate.judge(fair, registry_results(e2e))[0])
    at_risk = Expected(fair=fair.fair, end_to_end_at_risk=True)
    assert validate.judge(at_risk, registry_results(e2e))[0] == []
