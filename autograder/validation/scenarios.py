"""Scenarios: proofs that need more than one submission graded on an ordinary machine.

A catalogue entry is one submission through run_autograder, and what it
proves depends on the submission alone. Two promises depend on the machine
or on the other gradings instead, and a TA must see them proved by
`python -m autograder validate` like the rest:

- an interpreter the worker user cannot execute (pyenv or conda under root's
  0700 home) is the grader's fault: run_autograder exits with status 3 and
  results.json charges the student nothing (no test, "not with your code"),
  with the cause kept for staff in extra_data.grader_fault;
- a hostile submission graded beside a correct one by `batch --jobs 2`
  (detached CPU-spinning daemons, 32 MB files in /dev/shm, /tmp and
  /var/tmp) cannot change the correct one's 100, leaves no file in those
  folders and no process of the batch's worker users behind.

A scenario sets up its world in a private workspace (which validate removes
afterwards), runs, and returns an Outcome: what it got in a few words and
every problem found. Each check is a separate line of `problems`, so that a
regression names itself (tests/test_validate_scenarios.py makes each fail).
Both need root: without it there is no worker user, so the interpreter is
the caller's own and no batch grading has a user to clean up; validate then
reports them as skipped, not as passed on a machine that proves nothing.
"""
import csv
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Callable, List, Optional

from autograder.validation import model

SCENARIO_KIND = "scenario"


@dataclass(frozen=True)
class Scenario:
    name: str
    why: str
    expected: str  # what must happen, in the few words of validate's table
    run: Callable  # run(workspace, context) -> Outcome; context is validate's Context
    needs_root: bool = True
    # runs with nothing beside it (it starves the CPU or counts every process)
    exclusive: bool = False
    cost: int = 2  # a rough guess of its run time, to start the slow runs first
    kind: str = SCENARIO_KIND


@dataclass
class Outcome:
    got: str
    problems: List[str] = field(default_factory=list)
    score: Optional[float] = None


# ---------------------------------------------------------------------------
# An interpreter the worker user cannot execute
# ---------------------------------------------------------------------------

GRADER_FAULT_MESSAGES = (r"could not run", r"not with your code")


def unexecutable_interpreter(folder):
    """The grader's interpreter, seen through a link in `folder`, made 0700 here.

    Root runs it; a worker user cannot even reach it, as with an interpreter
    installed under root's home. Returns the link's path.
    """
    os.makedirs(folder, mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    path = os.path.join(folder, "python3")
    if not os.path.lexists(path):
        os.symlink(os.path.realpath(sys.executable), path)
    return path


def point_workers_at(source, python):
    """Set worker_python in the staged source's config.json (the grader reads it there)."""
    path = os.path.join(source, "autograder", "config.json")
    with open(path, encoding="utf-8") as handle:
        settings = json.load(handle)
    settings["worker_python"] = python
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, indent=2)


def judge_grader_fault(status, data, expected_status):
    """Problems of a run whose worker interpreter could not run, and the 'got' text.

    `data` is the parsed results.json, or None when it was missing or invalid.
    """
    problems = []
    if status != expected_status:
        problems.append(f"run_autograder exited with status {status}, expected {expected_status} "
                        "(a grader fault staff must see)")
    if data is None:
        return problems, f"exit {status}, no results"
    tests = data.get("tests")
    if tests:
        failing = [t for t in tests if t.get("status") == "failed"
                   or float(t.get("score", 0)) < float(t.get("max_score", 0))]
        problems.append(f"results.json lists {len(tests)} test(s), {len(failing)} failing: "
                        "the student is charged for the grader's fault")
    if float(data.get("score", 0)) != 0:
        problems.append(f"results.json gives a score of {data['score']:g}, expected 0 "
                        "(nothing was graded)")
    output = str(data.get("output", ""))
    for pattern in GRADER_FAULT_MESSAGES:
        if not re.search(pattern, output, re.IGNORECASE):
            problems.append(f"the output does not say /{pattern}/: {output[:120]!r}")
    cause = data.get("extra_data", {}).get("grader_fault") if isinstance(
        data.get("extra_data"), dict) else None
    if not isinstance(cause, str) or not cause.strip():
        problems.append("extra_data.grader_fault does not hold the cause for staff")
    got = f"exit {status}, " + (f"{len(tests)} tests" if tests else "no tests")
    got += ", fault kept" if isinstance(cause, str) and cause.strip() else ", no cause"
    return problems, got


def unusable_worker_interpreter(workspace, context):
    from autograder.grading.grade import GRADER_FAULT_EXIT
    from autograder.validation import validate

    python = unexecutable_interpreter(os.path.join(workspace, "root-only"))
    secret = validate.new_secret()
    root = validate.make_tree(workspace, context.files, secret)
    point_workers_at(os.path.join(root, "source"), python)
    with open(model.REFERENCE_PATH, "rb") as reference:
        os.makedirs(os.path.join(root, "submission"), exist_ok=True)
        with open(os.path.join(root, "submission", "neural_net.py"), "wb") as copy:
            shutil.copyfileobj(reference, copy)
    guarded = [os.path.join(root, "source"), os.path.join(root, "run_autograder")]
    before = validate.tree_digest(guarded)
    log_path = os.path.join(workspace, "stdout.txt")
    status, _ = validate.run_autograder(root, secret, log_path, context.timeout)
    problems = []
    if status is None:
        problems.append(f"run_autograder did not finish in {context.timeout:g} s")
    read = validate.Row("", "", "")
    data = validate.read_results(os.path.join(root, "results", "results.json"), read)
    found, got = judge_grader_fault(status, data, GRADER_FAULT_EXIT)
    problems += read.problems + found
    if data is not None and secret in json.dumps(data):
        problems.append("a secret of the grader's tree reached results.json")
    if validate.tree_digest(guarded) != before:
        problems.append("grader files changed (source/ or run_autograder)")
    left = validate.leftover_processes(context.prefix)
    if left:
        problems.append("processes left: " + "; ".join(left[:3]))
    if problems:
        validate.keep_log(log_path, context, "unusable_worker_interpreter")
    return Outcome(got, problems, None if data is None else float(data.get("score", 0)))


# ---------------------------------------------------------------------------
# A batch with a hostile neighbour
# ---------------------------------------------------------------------------

# Spins on every core it can get from detached daemons, and leaves files in the
# shared memory and temporary folders, then is otherwise correct.
NEIGHBOUR_PRELUDE = '''
import os as _os, time as _time
def _spin(seconds=240.0):
    deadline = _time.time() + seconds
    while _time.time() < deadline:
        pass
for _i in range(14):
    try:
        if _os.fork() == 0:
            try:
                _os.setsid()
                if _os.fork() == 0:
                    _spin()
            finally:
                _os._exit(0)
    except OSError:
        break
for _folder in ("/dev/shm", "/tmp", "/var/tmp"):
    try:
        with open(_os.path.join(_folder, "nnag-neighbour-%d" % _os.getpid()), "wb") as _f:
            _f.write(b"x" * (32 << 20))
    except OSError:
        pass
'''
NEIGHBOUR_FILE_PREFIX = "nnag-neighbour-"
SHARED_FOLDERS = ("/dev/shm", "/tmp", "/var/tmp")
BATCH_JOBS = 2


def neighbour_source():
    """The reference with NEIGHBOUR_PRELUDE after its numpy import."""
    entry = model.Entry("hostile_neighbour", SCENARIO_KIND, model.full_marks(),
                        prelude=NEIGHBOUR_PRELUDE)
    return model.build_source(entry).decode("utf-8")


def write_neighbour_batch(folder):
    """folder (made 0700) with correct/ (the reference) and neighbour/ (the hostile one)."""
    os.makedirs(folder, mode=0o700)
    os.chmod(folder, 0o700)
    for name, text in (("correct", model.reference_source()), ("neighbour", neighbour_source())):
        os.makedirs(os.path.join(folder, name))
        with open(os.path.join(folder, name, "neural_net.py"), "w", encoding="utf-8") as handle:
            handle.write(text)
    return folder


def neighbour_files():
    """Paths of the neighbour's files in the shared folders."""
    found = []
    for folder in SHARED_FOLDERS:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        found += [os.path.join(folder, n) for n in names if n.startswith(NEIGHBOUR_FILE_PREFIX)]
    return sorted(found)


def batch_scratches():
    """The scratch folders run_batch makes (and must remove)."""
    top = tempfile.gettempdir()
    return {os.path.join(top, n) for n in os.listdir(top) if n.startswith("nnag-batch-")}


def batch_worker_users(keep, names):
    """{worker user: when its grading ended, in boot_clock() seconds}, from what the
    batch kept: the user from results.json, the end from the log's time (the batch
    copies the log once run_autograder has exited)."""
    users = {}
    now_wall, now_boot = time.time(), boot_clock()
    for name in names:
        try:
            with open(os.path.join(keep, f"{name}.json"), encoding="utf-8") as handle:
                layers = json.load(handle)["extra_data"]["isolation_layers"]
            ended = now_boot - (now_wall - os.stat(os.path.join(keep, f"{name}.log")).st_mtime)
        except (OSError, ValueError, KeyError, TypeError):
            continue
        for user in re.findall(r"\((nnworker\d+)\)", str(layers.get("worker user", ""))):
            users[user] = ended
    return users


def boot_clock():
    """Seconds since boot, the clock of /proc/<pid>/stat's start times."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def started_since_boot(pid, ticks):
    """Seconds after boot at which process pid started (inf if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except OSError:
        return float("inf")
    return int(fields[19]) / ticks


def survivors(users):
    """Live processes of each worker user that started before its grading ended.

    A worker user is claimed again at once by the next grading on this
    machine (ours, or another session's): what it starts then is not ours.
    """
    import pwd

    from autograder.sandbox import workers

    ticks = os.sysconf("SC_CLK_TCK")
    found = []
    for user, ended in sorted(users.items()):
        try:
            uid = pwd.getpwnam(user).pw_uid
        except KeyError:
            continue
        found += [pid for pid in workers.live_processes_of(uid)
                  if started_since_boot(pid, ticks) < ended]
    return found


def describe(pid):
    """pid, state and command line of a process, for a report."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            state = stat.read().rsplit(b")", 1)[1].split()[0].decode()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except (OSError, IndexError):
        return f"{pid} (gone)"
    return f"{pid} [{state}] {command[:80]}"


def read_scores(csv_path):
    """{submission: row} of the batch's CSV, or None if it was not written."""
    try:
        with open(csv_path, newline="", encoding="utf-8") as handle:
            return {row["submission"]: row for row in csv.DictReader(handle)}
    except (OSError, KeyError, csv.Error):
        return None


def judge_neighbour_batch(table, users, alive, files_left, scratch_left):
    """Problems of a batch that graded the reference beside the hostile neighbour,
    and the 'got' text."""
    problems = []
    if table is None:
        return ["the batch wrote no CSV"], "no CSV"
    missing = [name for name in ("correct", "neighbour") if name not in table]
    if missing:
        problems.append("the CSV has no row for " + ", ".join(missing))
    correct = table.get("correct", {})
    try:
        total = float(correct.get("total", ""))
    except ValueError:
        total = None
    if total is None or abs(total - 100) > 1e-6:
        problems.append(f"the reference scored {correct.get('total')!r} beside the neighbour, "
                        f"not 100 (error: {correct.get('error', '')[:120]!r})")
    if files_left:
        problems.append("the neighbour's files were left: " + ", ".join(files_left[:3]))
    if not users:
        problems.append("no worker user found in the kept results: the process check "
                        "proves nothing")
    if alive:
        problems.append(f"{len(alive)} process(es) of the batch's worker users outlived it: "
                        + "; ".join(str(process) for process in alive[:3]))
    if scratch_left:
        problems.append("the batch's scratch was left: " + ", ".join(sorted(scratch_left)[:2]))
    got = "reference " + ("?" if total is None else f"{total:g}")
    got += ", clean" if not (files_left or alive or scratch_left) else ", left things"
    return problems, got


def run_neighbour_batch(workspace, python=None, jobs=BATCH_JOBS):
    """Grade the reference beside the hostile neighbour with `batch`, judge, clean up.

    Whatever the batch left (files, processes) is reported, then removed or
    killed, so that a failed proof does not spoil the machine for what follows.
    """
    from autograder.commands import batch

    subs = write_neighbour_batch(os.path.join(workspace, "subs"))
    csv_path = os.path.join(workspace, "scores.csv")
    keep = os.path.join(workspace, "kept")
    files_before, scratch_before = set(neighbour_files()), batch_scratches()
    with open(os.path.join(workspace, "batch.txt"), "w", encoding="utf-8") as log:
        batch.run_batch(subs, csv_path, jobs=jobs, python=python or sys.executable, keep=keep,
                        stream=log)
    users = batch_worker_users(keep, ("correct", "neighbour"))
    alive = survivors(users)
    files_left = [path for path in neighbour_files() if path not in files_before]
    scratch_left = batch_scratches() - scratch_before
    table = read_scores(csv_path)
    problems, got = judge_neighbour_batch(table, users, [describe(pid) for pid in alive],
                                          files_left, scratch_left)
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    for path in files_left:
        try:
            os.unlink(path)
        except OSError:
            pass
    for path in scratch_left:
        shutil.rmtree(path, ignore_errors=True)
    score = None
    if table and "correct" in table:
        try:
            score = float(table["correct"]["total"])
        except ValueError:
            pass
    return Outcome(got, problems, score)


def hostile_neighbour_batch(workspace, context):
    outcome = run_neighbour_batch(workspace)
    if outcome.problems:
        from autograder.validation import validate

        for name in ("correct", "neighbour"):
            validate.keep_log(os.path.join(workspace, "kept", f"{name}.log"), context,
                              f"hostile_neighbour_batch-{name}")
    return outcome


SCENARIOS = [
    Scenario("unusable_worker_interpreter",
             "worker_python lies in a root-only 0700 folder (pyenv/conda under /root): "
             "a grader fault, charged to nobody",
             "exit 3, no tests, fault kept", unusable_worker_interpreter),
    Scenario("hostile_neighbour_batch",
             f"batch --jobs {BATCH_JOBS}: the reference beside 14 spinning daemons and 32 MB "
             "files in /dev/shm, /tmp, /var/tmp",
             "reference 100, nothing left", hostile_neighbour_batch, exclusive=True, cost=30),
]
