"""Validate's scenarios: how they are listed, run, skipped and judged, and that
every check can fail.

The grader-fault scenario runs for real (it takes a second: the worker path
fails at once) and again with a real bug, a run_autograder that swallows the
grader's exit status; the checks it makes are also shown failing one by one
against fake run_autograder scripts. The hostile-neighbour batch is proved by
tests/test_batch.py (the same function) and by `validate`; here its judge
and its clean-up are shown on a fake batch that leaves things behind.
"""
import csv
import json
import os
import shutil
import tempfile

import pytest

from autograder.commands import batch
from autograder.validation import SCENARIOS, by_name, model, scenarios, validate
from autograder.validation.scenarios import Outcome, Scenario

IS_ROOT = os.geteuid() == 0
FAULT_MESSAGE = ("The autograder could not run on this submission because of a problem with "
                 "the grader itself (not with your code).")


def scenario_target(name):
    (target,) = validate.choose(validate.all_targets(), ["scenario"], [name])
    return target


def context(tmp_path, files=None):
    work = tmp_path / "work"
    work.mkdir(parents=True, exist_ok=True)
    return validate.Context(str(work), files or validate.upload_files(),
                            {"worker_user_prefix": "nnag-no-such-user-"}, timeout=60)


# ---------------------------------------------------------------------------
# The mechanism
# ---------------------------------------------------------------------------

def test_scenarios_are_listed_selected_and_run_by_default(capsys):
    assert "scenario" in validate.KIND_ORDER and "scenario" not in model.KINDS
    assert validate.main(["--list", "--kind", "scenario"]) == 0
    out = capsys.readouterr().out
    for scenario in SCENARIOS:
        assert scenario.name in out and scenario.expected in out
    assert f"{len(SCENARIOS)} entries" in out
    everything = [t.name for t in validate.choose(validate.all_targets())]
    assert {"unusable_worker_interpreter", "hostile_neighbour_batch"} <= set(everything)
    only = validate.choose(validate.all_targets(), None, ["hostile_neighbour_*"])
    assert [t.name for t in only] == ["hostile_neighbour_batch"]
    assert only[0].alone(True) and only[0].alone(False)  # 14 spinning daemons: alone
    with pytest.raises(KeyError):
        by_name("hostile_neighbour_batch")  # not a submission of the catalogue


def fake_scenario(run, needs_root=True):
    scenario = Scenario("fake_scenario", "a test", "all well", run, needs_root=needs_root)
    return validate.Target(scenario.name, scenario.kind, None, scenario=scenario)


def test_a_scenario_that_needs_root_is_skipped_but_expected_without_it(tmp_path):
    def must_not_run(workspace, context):
        raise AssertionError("ran without root")

    ctx = context(tmp_path)
    ctx.as_root = False
    row = validate.run_target(fake_scenario(must_not_run), ctx)
    assert row.verdict == "skipped" and row.ok and "needs root" in row.got
    assert validate.summary_line([row]) == "validation: 1/1 as expected, 1 skipped (need root)"
    assert "skipped" in validate.format_table([row]) and validate.format_problems([row]) == ""


def test_a_scenarios_problems_make_it_off_and_its_workspace_is_removed(tmp_path):
    seen = []

    def finds_a_problem(workspace, context):
        seen.append(workspace)
        assert os.stat(workspace).st_mode & 0o777 == 0o700
        return Outcome("wrong", ["the thing went wrong"], 50.0)

    row = validate.run_target(fake_scenario(finds_a_problem), context(tmp_path))
    assert row.verdict == "OFF" and not row.ok and row.problems == ["the thing went wrong"]
    assert row.got == "wrong" and row.score == 50.0 and not os.path.exists(seen[0])
    assert validate.summary_line([row]) == "validation: 0/1 as expected"


def test_a_scenario_that_crashes_is_a_validator_error(tmp_path):
    def crashes(workspace, context):
        raise OSError("disk full")

    row = validate.run_target(fake_scenario(crashes, needs_root=False), context(tmp_path))
    assert row.verdict == "ERROR" and row.problems == ["validator error: OSError: disk full"]
    row = validate.run_target(fake_scenario(lambda w, c: None, needs_root=False), context(tmp_path))
    assert row.verdict == "ERROR" and "not an Outcome" in row.problems[0]


# ---------------------------------------------------------------------------
# An interpreter the worker user cannot execute
# ---------------------------------------------------------------------------

def fault_results(**changes):
    data = {"score": 0.0, "output": FAULT_MESSAGE, "tests": [],
            "extra_data": {"grader_fault": "the worker could not start: Permission denied"}}
    data.update(changes)
    return data


def test_judge_grader_fault_each_check_can_fail():
    assert scenarios.judge_grader_fault(3, fault_results(), 3) == ([], "exit 3, no tests, fault kept")
    failing = [{"name": "one_hot: x", "score": 0, "max_score": 10, "status": "failed",
                "output": "could not run"}]
    cases = [
        (0, fault_results(), "exited with status 0, expected 3"),
        (3, fault_results(tests=failing), "the student is charged"),
        (3, fault_results(score=5.0), "score of 5"),
        (3, fault_results(output="Internal error."), "/could not run/"),
        (3, fault_results(output="The autograder could not run."), "/not with your code/"),
        (3, fault_results(extra_data={}), "grader_fault does not hold the cause"),
        (3, fault_results(extra_data={"grader_fault": " "}), "grader_fault does not hold"),
    ]
    assert scenarios.judge_grader_fault(3, None, 3) == ([], "exit 3, no results")  # reported
    for status, data, expected_problem in cases:                 # by read_results instead
        problems, got = scenarios.judge_grader_fault(status, data, 3)
        assert any(expected_problem in p for p in problems), (expected_problem, problems)


def fake_grader_files(tmp_path, script):
    """The real upload's files, but run_autograder replaced by `script` (bash)."""
    run = tmp_path / "run_autograder"
    run.write_text("#!/usr/bin/env bash\nroot=$AUTOGRADER_ROOT\n" + script + "\n")
    run.chmod(0o755)
    files = dict(validate.upload_files())
    files["run_autograder"] = (str(run), True)
    return files


# The fake grader proves that the scenario points the workers at the
# interpreter in a 0700 folder before it writes anything.
INJECTED = ('python=$(grep -o \'"worker_python": "[^"]*"\' $root/source/autograder/config.json '
            '| cut -d\'"\' -f4)\n[ -n "$python" ] && [ "$(stat -c %a "$(dirname "$python")")" = 700 ] '
            '|| exit 9\n')


@pytest.mark.parametrize("results, status, problem", [
    (fault_results(), 3, None),
    (fault_results(), 0, "exited with status 0, expected 3"),
    (fault_results(tests=[{"name": "one_hot: x", "score": 0, "max_score": 100,
                           "status": "failed", "output": "x"}]), 3, "the student is charged"),
    (fault_results(extra_data={}), 3, "grader_fault does not hold the cause"),
    (fault_results(output="Your code crashed."), 3, "the output does not say"),
    (None, 3, "no results.json"),
], ids=["honest", "exits_0", "charges_the_student", "no_cause", "blames_the_code", "no_results"])
def test_the_interpreter_scenario_catches_a_grader_that(tmp_path, results, status, problem):
    write = "" if results is None else f"echo '{json.dumps(results)}' > $root/results/results.json\n"
    ctx = context(tmp_path, fake_grader_files(tmp_path, INJECTED + write + f"exit {status}"))
    ctx.as_root = True  # the fake grader needs no worker user
    row = validate.run_target(scenario_target("unusable_worker_interpreter"), ctx)
    if problem is None:
        assert row.ok and row.verdict == "ok", row.problems
    else:
        assert row.verdict == "OFF" and any(problem in p for p in row.problems), row.problems
    assert os.listdir(ctx.work_dir) in ([], ["logs"])  # the workspace and its 0700 folder are gone


@pytest.mark.skipif(not IS_ROOT, reason="needs a worker user")
def test_the_interpreter_scenario_passes_the_real_grader_and_fails_a_real_bug(tmp_path):
    target = scenario_target("unusable_worker_interpreter")
    row = validate.run_target(target, context(tmp_path / "real"))
    assert row.ok and row.verdict == "ok" and row.score == 0, row.problems
    # A real bug: a run_autograder that swallows the grader's exit status.
    with open(os.path.join(validate.ROOT, "run_autograder"), encoding="utf-8") as handle:
        text = handle.read()
    assert text.count('  return "$status"\n') == 1
    swallowed = tmp_path / "run_autograder"
    swallowed.write_text(text.replace('  return "$status"\n', "  return 0\n"))
    swallowed.chmod(0o755)
    files = dict(validate.upload_files(), run_autograder=(str(swallowed), True))
    row = validate.run_target(target, context(tmp_path / "bug", files))
    assert row.verdict == "OFF"
    assert row.problems == ["run_autograder exited with status 0, expected 3 "
                            "(a grader fault staff must see)"]


# ---------------------------------------------------------------------------
# A batch with a hostile neighbour
# ---------------------------------------------------------------------------

def test_the_neighbour_is_the_reference_with_its_daemons():
    source = scenarios.neighbour_source()
    assert source.startswith(model.reference_source().split("import numpy as np\n")[0])
    assert "for _i in range(14):" in source and "_os.setsid()" in source
    compile(source, "neural_net.py", "exec")


def test_judge_neighbour_batch_each_check_can_fail():
    good = {"correct": {"total": "100", "error": ""}, "neighbour": {"total": "100", "error": ""}}
    users = {"nnworker0": 1.0, "nnworker1": 2.0}
    assert scenarios.judge_neighbour_batch(good, users, [], [], set()) == (
        [], "reference 100, clean")
    cases = [
        ((None, users, [], [], set()), "the batch wrote no CSV"),
        (({"correct": good["correct"]}, users, [], [], set()), "no row for neighbour"),
        ((dict(good, correct={"total": "99.5", "error": ""}), users, [], [], set()),
         "scored '99.5' beside the neighbour, not 100"),
        ((dict(good, correct={"total": "", "error": "timed out"}), users, [], [], set()),
         "not 100"),
        ((good, users, [], ["/dev/shm/nnag-neighbour-7"], set()), "files were left"),
        ((good, {}, [], [], set()), "no worker user found"),
        ((good, users, ["123 [R] python3"], [], set()), "1 process(es)"),
        ((good, users, [], [], {"/tmp/nnag-batch-x"}), "scratch was left"),
    ]
    for args, expected_problem in cases:
        problems, _ = scenarios.judge_neighbour_batch(*args)
        assert any(expected_problem in p for p in problems), (expected_problem, problems)


def test_the_batch_scenario_reports_and_removes_what_a_bad_batch_leaves(tmp_path, monkeypatch):
    planted = f"/dev/shm/{scenarios.NEIGHBOUR_FILE_PREFIX}test-{os.getpid()}"
    scratch = []

    def bad_batch(path, csv_path, *, jobs, python, keep, stream):
        assert jobs == 2 and sorted(os.listdir(path)) == ["correct", "neighbour"]
        assert os.stat(path).st_mode & 0o777 == 0o700
        scratch.append(tempfile.mkdtemp(prefix="nnag-batch-"))
        with open(planted, "wb") as handle:
            handle.write(b"x")
        os.makedirs(keep)
        for name in ("correct", "neighbour"):
            with open(os.path.join(keep, f"{name}.json"), "w") as handle:
                json.dump({"extra_data": {"isolation_layers": {
                    "worker user": "yes (nnworker990)"}}}, handle)  # no such user: no process
            open(os.path.join(keep, f"{name}.log"), "w").close()
        with open(csv_path, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["submission", "total", "error"])
            writer.writerow(["correct", "97", ""])
            writer.writerow(["neighbour", "100", ""])

    monkeypatch.setattr(batch, "run_batch", bad_batch)
    try:
        row = validate.run_target(scenario_target("hostile_neighbour_batch"), context(tmp_path))
        left = os.path.lexists(planted) or any(os.path.exists(f) for f in scratch)
    finally:
        if os.path.lexists(planted):
            os.unlink(planted)
        for folder in scratch:
            shutil.rmtree(folder, ignore_errors=True)
    assert row.verdict == "OFF" and row.score == 97.0
    assert any("scored '97'" in p for p in row.problems), row.problems
    assert any("files were left" in p and planted in p for p in row.problems)
    assert any("scratch was left" in p for p in row.problems)
    assert scratch and not left  # the scenario removed what the batch left
