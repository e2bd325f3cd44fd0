"""The validate verb: the TA's proof that the grader is right before anyone is graded.

    python -m autograder validate                 # everything, on all cores
    python -m autograder validate --kind planted --only 'softmax*' --jobs 1
    python -m autograder validate --json out/validation.json
    python -m autograder validate --list          # the catalogue, nothing run

Runs the reference, the blank template and every entry of the catalogues
(autograder/validation/) through the path Gradescope takes: for each, a
temporary /autograder-shaped tree (source/ = the files of the upload zip,
run_autograder, submission/ = the entry as a student would upload it,
results/, submission_metadata.json), then `run_autograder` as a subprocess
with AUTOGRADER_ROOT pointing at that tree. Each run is judged against the
entry's expected outcome and, for every entry alike:

- results.json exists and is valid Gradescope JSON;
- grader files (source/, run_autograder) are unchanged;
- no process of a worker user is left;
- the run took a bounded time;
- every failing test says what happened (non-empty output);
- no secret of the tree (a token in submission_metadata.json, in the
  reference, in the environment) appears in results.json.

Some promises are not about one submission: what happens on a machine whose
worker interpreter the worker user cannot execute, or to a correct
submission graded by `batch` beside a hostile one. These are scenarios (kind
`scenario`, autograder/validation/scenarios.py): each sets up its own world
in a private workspace, runs, and is judged by its own checks; it shares the
table, --kind, --only, --list and the summary with the entries. A scenario
that needs the worker users is reported `skipped` when not run as root (it
would prove nothing there), and counts as expected, named in the summary.

Prints one table (submission, expected, got, score, time, verdict) and a
summary line `validation: K/T as expected`; exits 1 if anything is off.
"""
import argparse
import fcntl
import functools
import hashlib
import json
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Optional

from autograder.commands import build
from autograder.config import load_config
from autograder.grading.results import function_of
from autograder.sandbox import workers
from autograder.validation import (CATALOGUE, NETWORK_PORT, SCENARIOS, TEMPLATE_PATH, Expected,
                                   select)
from autograder.validation import model
from autograder.validation.scenarios import SCENARIO_KIND, Outcome, Scenario

ROOT = model.PACKAGE_ROOT
KIND_ORDER = ("reference", "template") + model.KINDS + (SCENARIO_KIND,)
LOCK_DIR = "/tmp/nnag-locks"  # where workers.claim_worker_user keeps its per-user locks
RUN_MARGIN_S = 60


# ---------------------------------------------------------------------------
# What gets run
# ---------------------------------------------------------------------------

@dataclass
class Target:
    name: str
    kind: str
    expected: Expected
    entry: Optional[model.Entry] = None
    source_path: Optional[str] = None  # reference / template: a file copied as is
    scenario: Optional[Scenario] = None  # kind scenario: runs and judges itself

    @property
    def expected_text(self):
        return self.scenario.expected if self.scenario else self.expected.describe()

    @property
    def why(self):
        return (self.entry.why if self.entry else self.scenario.why if self.scenario else "")

    @property
    def spawns(self):
        return bool(self.entry and (self.entry.spawns or self.entry.exclusive))

    def alone(self, dedicated_users):
        """Must run with nothing beside it: a CPU hog always; an entry that spawns or
        signals processes when runs share one uid (no worker user per run)."""
        if self.scenario is not None:
            return self.scenario.exclusive
        if self.entry is None:
            return False
        return self.entry.exclusive or (self.entry.spawns and not dedicated_users)

    @property
    def cost(self):
        """A rough guess of the run time, to start the slow runs first."""
        if self.scenario is not None:
            return self.scenario.cost
        if self.entry is None:
            return 2
        text = self.entry.name + " " + " ".join(code for _, code in self.entry.inject)
        slow = any(word in text for word in ("hang", "sleep", "thread", "flood", "fork"))
        return 1 + 10 * slow + 5 * self.entry.vectorization

    def materialize(self, dest):
        if self.entry is not None:
            return model.materialize(self.entry, dest)
        os.makedirs(dest, exist_ok=True)
        path = os.path.join(dest, "neural_net.py")
        shutil.copyfile(self.source_path, path)
        return path


def all_targets():
    targets = [
        Target("reference", "reference", model.full_marks(), source_path=model.REFERENCE_PATH),
        Target("template", "template", model.zero(r"not implemented"),
               source_path=TEMPLATE_PATH),
    ]
    targets += [Target(e.name, e.kind, e.expected, entry=e) for e in CATALOGUE]
    targets += [Target(s.name, s.kind, None, scenario=s) for s in SCENARIOS]
    return targets


def choose(targets, kinds=None, patterns=None):
    """Targets of the given kinds whose names match any of the patterns."""
    return select(kinds, patterns, entries=targets)


# ---------------------------------------------------------------------------
# The /autograder-shaped tree
# ---------------------------------------------------------------------------

def upload_files():
    """arcname -> (path, executable): what the Gradescope upload zip holds."""
    return build.upload_files(ROOT)


def make_tree(base, files, secret):
    """A fresh root as Gradescope lays it out; returns its path."""
    root = os.path.join(base, "autograder")
    source = build.stage_upload(os.path.join(root, "source"), files)
    # A canary in the reference: it must never reach a student's results.
    with open(os.path.join(source, "reference", "neural_net.py"), "a", encoding="utf-8") as ref:
        ref.write(f"\n# {secret}-REFERENCE\n")
    shutil.copyfile(os.path.join(source, "run_autograder"), os.path.join(root, "run_autograder"))
    os.chmod(os.path.join(root, "run_autograder"), 0o755)
    os.makedirs(os.path.join(root, "submission"))
    os.makedirs(os.path.join(root, "results"))
    metadata = {"id": 1, "created_at": "2025-01-01T00:00:00Z", "assignment": {
        "title": "Homework 5: backpropagation", "total_points": "100.0"},
        "users": [{"email": f"{secret}-METADATA@example.edu", "name": "Validation Student",
                   "sid": secret + "-SID"}],
        "previous_submissions": [{"score": 97.0, "results": {"score": 97.0, "tests": []}}]}
    with open(os.path.join(root, "submission_metadata.json"), "w", encoding="utf-8") as handle:
        json.dump(metadata, handle)
    return root


def tree_digest(paths):
    """A digest of the names and contents of every file under paths (modes excluded:
    the grader locks its tree down with chmod on purpose)."""
    digest = hashlib.sha256()
    for top in paths:
        if os.path.isfile(top):
            walk = [(os.path.dirname(top), [], [os.path.basename(top)])]
        else:
            walk = os.walk(top)
        for directory, dirnames, filenames in walk:
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(directory, name)
                digest.update(os.path.relpath(path, os.path.dirname(top)).encode() + b"\0")
                if os.path.islink(path):
                    digest.update(b"link:" + os.readlink(path).encode())
                    continue
                try:
                    with open(path, "rb") as handle:
                        for block in iter(lambda: handle.read(1 << 20), b""):
                            digest.update(block)
                except OSError as error:
                    digest.update(f"unreadable:{error.errno}".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------
# Worker users and their processes
# ---------------------------------------------------------------------------

def worker_users(prefix):
    pattern = re.compile(re.escape(prefix) + r"\d*$")
    return [p for p in pwd.getpwall() if pattern.match(p.pw_name)]


live_processes = workers.live_processes_of  # zombies are dead: not counted


def describe_process(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            command = handle.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        command = "?"
    return f"{pid} {command[:80]}"


def leftover_processes(prefix):
    """Live processes of worker users that no grading run holds right now.

    A user whose lock (workers.claim_worker_user) is held belongs to a run
    in progress (ours in parallel, or anyone's): its processes are not
    leftovers. We hold each free user's lock while we look.
    """
    found = []
    for user in worker_users(prefix):
        lock = None
        lock_path = os.path.join(LOCK_DIR, user.pw_name + ".lock")
        if os.path.exists(lock_path):
            try:
                lock = open(lock_path, "a")
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except (BlockingIOError, OSError):
                if lock is not None:
                    lock.close()
                continue
        try:
            pids = live_processes(user.pw_uid)
            found += [f"{user.pw_name}: {describe_process(pid)}" for pid in pids]
        finally:
            if lock is not None:
                lock.close()
    return found


# ---------------------------------------------------------------------------
# A loopback listener that must stay silent (network_connection)
# ---------------------------------------------------------------------------

class Listener:
    """Accepts connections on 127.0.0.1:NETWORK_PORT and counts them."""

    def __init__(self, port=NETWORK_PORT):
        self.connections = 0
        self.available = False
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.socket.bind(("127.0.0.1", port))
            self.socket.listen(8)
            self.socket.settimeout(0.2)
            self.available = True
        except OSError:
            self.socket.close()
            return
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stop.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.connections += 1
            connection.close()

    def close(self):
        if self.available:
            self._stop.set()
            self._thread.join(2)
            self.socket.close()


# ---------------------------------------------------------------------------
# Running one target
# ---------------------------------------------------------------------------

# The verdict of a scenario that needs the worker users (root) when not root: as
# expected (nothing is wrong), but named in the table and the summary.
SKIPPED = "skipped"


@dataclass
class Row:
    name: str
    kind: str
    expected: str
    got: str = ""
    score: Optional[float] = None
    max_score: Optional[float] = None
    seconds: float = 0.0
    verdict: str = "ok"  # ok, OFF, ERROR, or skipped (SKIPPED)
    problems: list = field(default_factory=list)
    failing: list = field(default_factory=list)

    @property
    def ok(self):
        return self.verdict in ("ok", SKIPPED)


def validate_structure(data):
    """Raise ValueError unless data is a valid Gradescope results.json."""
    try:
        from autograder.grading.results import validate_results
    except ImportError:
        validate_results = None
    if validate_results is not None:
        validate_results(data)
    if type(data) is not dict or type(data.get("tests")) is not list:
        raise ValueError("results must be an object with a tests list")
    if not isinstance(data.get("score"), (int, float)) or isinstance(data.get("score"), bool):
        raise ValueError("results must have a numeric score")
    for test in data["tests"]:
        if type(test) is not dict:
            raise ValueError("a test is not an object")
        score, worth = test.get("score"), test.get("max_score")
        if not isinstance(score, (int, float)) or not isinstance(worth, (int, float)):
            raise ValueError(f"test {test.get('name')!r} lacks a numeric score or max_score")
        if score > worth + 1e-9 or score < 0:
            raise ValueError(f"test {test.get('name')!r} scores {score} of {worth}")


def hidden_leaks(pattern, tests):
    """Problems (list of str) if a token (group 1 of `pattern`) that a hidden
    test's output shows also shows in a visible test's output, or if no hidden
    test shows any token (the check would prove nothing)."""
    def hidden(test):
        return test.get("visibility", "visible") != "visible"

    tokens = {match.group(1) for test in tests if hidden(test)
              for match in re.finditer(pattern, str(test.get("output", "")))}
    if not tokens:
        return [f"no hidden test's output shows a token /{pattern}/: nothing to check"]
    problems = []
    for test in tests:
        if hidden(test):
            continue
        leaked = sorted(token for token in tokens if token in str(test.get("output", "")))
        if leaked:
            problems.append(f"the visible test {test.get('name')!r} shows {len(leaked)} "
                            f"token(s) of hidden tests' inputs ({leaked[0]}...)")
    return problems


def test_key(test):
    """The registry key ("train.accuracy") of a results.json test, from its
    number; None for a test the registry does not know."""
    return _keys_by_number().get(str(test.get("number", "")))


@functools.lru_cache(maxsize=1)
def _keys_by_number():
    return {entry["number"]: key for key, entry in load_config()["tests"].items()}


def judge(expected, data, kind=None):
    """Problems (list of str) of results `data` against `expected`, plus the 'got' text."""
    problems = []
    tests = data["tests"]
    score = float(data["score"])
    total = sum(float(t["max_score"]) for t in tests)
    failing = [t for t in tests if t.get("status") == "failed"
               or float(t["score"]) < float(t["max_score"]) - 1e-9]
    lost = []
    for test in failing:
        function = function_of(test)
        if function not in lost:
            lost.append(function)
    full = bool(tests) and not failing and abs(score - total) < 1e-6
    mode = expected.mode
    if mode == "score":
        if expected.score == 100:
            if not full:
                problems.append(f"expected full marks, got {score:g} of {total:g}")
            if kind == "reference" and abs(total - 100) > 1e-6:
                problems.append(f"the tests are worth {total:g} points, not 100")
        elif abs(score - expected.score) > 1e-6:
            problems.append(f"expected a score of {expected.score:g}, got {score:g}")
    elif mode in ("lose_only", "loses"):
        named = expected.lose_only or expected.loses
        if full or not failing:
            problems.append("lost no points")
        for function in named:
            if function not in lost:
                problems.append(f"no failing test of {function}")
        if mode == "lose_only":
            allowed = named + expected.may_also_lose
            extra = []
            for test in failing:
                function, key = function_of(test), test_key(test)
                if function not in allowed and key not in allowed:
                    extra.append(key or function)
            if extra:
                problems.append("also lost points in " + ", ".join(dict.fromkeys(extra)))
    elif mode == "at_most":
        if score > expected.at_most + 1e-6:
            problems.append(f"expected at most {expected.at_most:g}, got {score:g}")
    elif mode == "fair":
        problems += judge_fair(expected, tests)
    elif mode == "may_lose_only":
        extra = [f for f in lost if f not in expected.may_lose_only]
        if extra:
            problems.append("lost points in " + ", ".join(extra))
    haystack = "\n".join([str(data.get("output", ""))]
                         + [str(t.get("output", "")) for t in failing])
    for pattern in expected.message_contains:
        if not re.search(pattern, haystack, re.IGNORECASE):
            problems.append(f"no message matches /{pattern}/")
    if expected.visible_output_lacks_hidden:
        problems.extend(hidden_leaks(expected.visible_output_lacks_hidden, tests))
    for test in failing:
        if not str(test.get("output", "")).strip():
            problems.append(f"failing test without a message: {test.get('name')}")
    if not tests and not str(data.get("output", "")).strip():
        problems.append("no tests and no message")
    if full:
        got = "100" if abs(score - 100) < 1e-6 else f"full ({total:g})"
    elif not tests:
        got = "no tests"
    else:
        got = "lost " + ",".join(model._short(f) for f in lost)
    return problems, got, failing, total


def judge_fair(expected, tests):
    """Problems of a realistic submission's grade against the fair one (Expected.fair)."""
    problems = []
    fair_lost = {f"{function}.{test}" for function, names in expected.fair for test in names}
    mistaken = {function for function, _ in expected.fair}
    graded, fair = 0.0, 0.0
    for test in tests:
        key = test_key(test)
        if key is None:
            problems.append(f"a test the registry does not know: {test.get('name')!r}")
            continue
        lost = float(test["max_score"]) - float(test["score"])
        if key in model.END_TO_END:
            if lost > 1e-9 and not expected.end_to_end_at_risk:
                problems.append(f"lost {lost:g} in the end-to-end test {key} "
                                "although no mistake is on the training path")
            continue
        graded += lost
        if key in fair_lost:
            fair += float(test["max_score"])
        function = key.split(".", 1)[0]
        if lost > 1e-9 and function not in mistaken:
            problems.append(f"failed {key}, but {function} holds no mistake")
    if abs(graded - fair) > model.FAIR_TOLERANCE:
        problems.append(f"deducted {graded:g} points outside the end-to-end tests; "
                        f"the fair deduction is {fair:g}")
    return problems


class Context:
    def __init__(self, work_dir, files, config, keep=False, timeout=None, verbose=False):
        self.work_dir = work_dir
        self.files = files
        self.config = config
        self.keep = keep
        self.verbose = verbose
        self.prefix = config.get("worker_user_prefix", config.get("worker_user", "nnworker"))
        run_time = float(config.get("limits", {}).get("run_time_s", 480))
        self.timeout = timeout or run_time + RUN_MARGIN_S
        self.listener_lock = threading.Lock()
        self.marker_lock = threading.Lock()
        self.as_root = os.geteuid() == 0  # the worker users exist only then


def new_secret():
    """A token planted in a tree (metadata, reference, environment) that results must not show."""
    return "NNAG-SECRET-" + secrets.token_hex(8)


def run_autograder(root, secret, log_path, timeout):
    """Run root's run_autograder as Gradescope does, its output to log_path.

    Returns (its exit status, or None if it was stopped at `timeout`; seconds).
    """
    env = dict(os.environ)
    env.update({"AUTOGRADER_ROOT": root, "NNAG_PYTHON": sys.executable,
                "NNAG_VALIDATE_SECRET": secret + "-ENV", "PYTHONDONTWRITEBYTECODE": "1"})
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen([os.path.join(root, "run_autograder")], cwd=root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            workers.stop_process_group(process)
            status = None
    return status, time.monotonic() - started


def run_target(target, context):
    """Run one target end to end and judge it: a Row."""
    if target.scenario is not None:
        return run_scenario(target, context)
    row = Row(target.name, target.kind, target.expected_text)
    if target.kind == "template" and not os.path.isfile(target.source_path or ""):
        row.verdict, row.got = "OFF", "missing"
        row.problems.append("student_template/neural_net.py does not exist "
                            "(python -m autograder template)")
        return row
    base = tempfile.mkdtemp(prefix=f"nnag-validate-{target.name[:40]}-", dir=context.work_dir)
    os.chmod(base, 0o700)
    listener = None
    try:
        secret = new_secret()
        root = make_tree(base, context.files, secret)
        target.materialize(os.path.join(root, "submission"))
        guarded = [os.path.join(root, "source"), os.path.join(root, "run_autograder")]
        before = tree_digest(guarded)
        forbidden = target.entry.forbidden_paths if target.entry else ()
        for path in forbidden:
            _remove(path)
        if target.entry is not None and target.entry.no_network:
            context.listener_lock.acquire()
            listener = Listener()
            if not listener.available:
                row.problems.append(f"could not listen on 127.0.0.1:{NETWORK_PORT} "
                                    "(network check skipped)")
        log_path = os.path.join(base, "stdout.txt")
        status, row.seconds = run_autograder(root, secret, log_path, context.timeout)
        if status is None:
            row.problems.append(f"run_autograder did not finish in {context.timeout:g} s")
        if row.seconds > target.expected.max_seconds:
            row.problems.append(f"took {row.seconds:.0f} s (bound {target.expected.max_seconds:g} s)")
        results_path = os.path.join(root, "results", "results.json")
        data = read_results(results_path, row)
        if data is not None:
            problems, row.got, failing, total = judge(target.expected, data, target.kind)
            row.problems += problems
            row.score, row.max_score = float(data["score"]), total
            row.failing = [{"name": t.get("name"), "function": function_of(t),
                            "output": str(t.get("output", ""))[:300]} for t in failing]
            text = json.dumps(data)
            if secret in text:
                row.problems.append("a secret of the grader's tree reached results.json")
        if tree_digest(guarded) != before:
            row.problems.append("grader files changed (source/ or run_autograder)")
        left = leftover_processes(context.prefix)
        if left:
            row.problems.append("processes left: " + "; ".join(left[:3]))
        for path in forbidden:
            if os.path.lexists(path):
                row.problems.append(f"{path} exists: the payload ran where it must not")
                _remove(path)
        if listener is not None and listener.connections:
            row.problems.append(f"{listener.connections} connection(s) reached 127.0.0.1:"
                                f"{NETWORK_PORT}: the network is not blocked")
        # A background forger may strike after the run: read the file again.
        if data is not None:
            time.sleep(0.5 if target.spawns else 0)
            again = read_results(results_path, Row("", "", ""))
            if again != data:
                row.problems.append("results.json changed after the run ended")
        if row.problems:
            row.verdict = "OFF"
        if context.verbose or row.problems:
            keep_log(log_path, context, target.name)
    except Exception as error:  # the validator's own failure: reported, never hidden
        row.verdict = "ERROR"
        row.problems.append(f"validator error: {type(error).__name__}: {error}")
    finally:
        if listener is not None:
            listener.close()
            context.listener_lock.release()
        if not context.keep:
            shutil.rmtree(base, ignore_errors=True)
    return row


def read_results(path, row):
    if not os.path.isfile(path):
        row.problems.append("no results.json")
        row.got = "no results"
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        validate_structure(data)
    except (OSError, ValueError) as error:
        row.problems.append(f"invalid results.json: {str(error)[:200]}")
        row.got = "invalid results"
        return None
    return data


def _remove(path):
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
    except OSError:
        pass


def keep_log(log_path, context, name):
    """Keep the run's stdout (Gradescope's staff-only log) for off rows."""
    logs = os.path.join(context.work_dir, "logs")
    os.makedirs(logs, exist_ok=True)
    try:
        shutil.copyfile(log_path, os.path.join(logs, f"{name}.txt"))
    except OSError:
        pass


def run_scenario(target, context):
    """Run a scenario in a private workspace (removed afterwards unless --keep): a Row."""
    scenario = target.scenario
    row = Row(target.name, target.kind, target.expected_text)
    if scenario.needs_root and not context.as_root:
        row.verdict, row.got = SKIPPED, "skipped: needs root (worker users)"
        return row
    workspace = tempfile.mkdtemp(prefix=f"nnag-validate-{target.name[:40]}-", dir=context.work_dir)
    os.chmod(workspace, 0o700)
    started = time.monotonic()
    try:
        outcome = scenario.run(workspace, context)
        if not isinstance(outcome, Outcome):
            raise TypeError(f"the scenario returned {type(outcome).__name__}, not an Outcome")
        row.got, row.score = outcome.got, outcome.score
        row.problems += outcome.problems
        if row.problems:
            row.verdict = "OFF"
    except Exception as error:  # the validator's own failure: reported, never hidden
        row.verdict = "ERROR"
        row.problems.append(f"validator error: {type(error).__name__}: {error}")
    finally:
        row.seconds = time.monotonic() - started
        if not context.keep:
            shutil.rmtree(workspace, ignore_errors=True)
    return row


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def format_table(rows):
    headers = ("submission", "expected", "got", "score", "time", "verdict")
    cells = []
    for row in rows:
        score = "-" if row.score is None else f"{row.score:g}"
        cells.append((f"{row.kind[:4]}/{row.name}", row.expected, row.got, score,
                       f"{row.seconds:.1f}s", row.verdict))
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(headers)]
    widths = [min(w, 60) for w in widths]

    def line(values):
        return "  ".join(str(v)[:w].ljust(w) for v, w in zip(values, widths)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(c) for c in cells]
    return "\n".join(out)


def format_problems(rows):
    out = []
    for row in rows:
        if row.problems:
            out.append(f"{row.name} ({row.kind}, expected {row.expected}):")
            out += [f"  - {p}" for p in row.problems]
            for test in row.failing[:6]:
                first = test["output"].strip().splitlines()[0][:120] if test["output"].strip() else ""
                out.append(f"    failed: {test['name']} | {first}")
    return "\n".join(out)


def summary_line(rows):
    good = sum(row.ok for row in rows)
    line = f"validation: {good}/{len(rows)} as expected"
    skipped = sum(row.verdict == SKIPPED for row in rows)
    if skipped:
        line += f", {skipped} skipped (need root)"
    return line


# ---------------------------------------------------------------------------
# The verb
# ---------------------------------------------------------------------------

def run_all(targets, context, jobs, progress=None, dedicated_users=None):
    """Run targets, the slow ones first; those that must be alone after the rest.

    Returns the rows in target order.
    """
    if dedicated_users is None:
        dedicated_users = os.geteuid() == 0  # the sandbox gives each run its own user
    shared = sorted((t for t in targets if not t.alone(dedicated_users)),
                    key=lambda t: -t.cost)
    alone = [t for t in targets if t.alone(dedicated_users)]
    rows = {}
    done = [0]

    def finished(row):
        rows[row.name] = row
        done[0] += 1
        if progress:
            progress(f"[{done[0]}/{len(targets)}] {row.kind}/{row.name}: {row.verdict} "
                     f"({row.got}, {row.seconds:.1f}s)")

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_target, t, context) for t in shared]
        for future in as_completed(futures):
            finished(future.result())
    for target in alone:
        finished(run_target(target, context))
    return [rows[t.name] for t in targets]


def main(argv=None):
    from autograder.grading.grade import protect_grader_files

    protect_grader_files()  # a world-readable checkout would show workers the reference
    parser = argparse.ArgumentParser(prog="python -m autograder validate",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="entries run at once (default: the number of cores)")
    parser.add_argument("--only", action="append", default=[], metavar="PATTERN",
                        help="only names matching this fnmatch pattern (repeatable, or comma-separated)")
    parser.add_argument("--kind", action="append", default=[], choices=KIND_ORDER,
                        help="only this kind (repeatable)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--keep", action="store_true", help="keep each run's tree (in --work-dir)")
    parser.add_argument("--work-dir", help="where the temporary trees go (default: a temp dir)")
    parser.add_argument("--timeout", type=float, help="hard limit per run in seconds")
    parser.add_argument("--list", action="store_true", help="list the entries and exit")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines")
    parser.add_argument("--verbose", "-v", action="store_true", help="keep every run's log")
    options = parser.parse_args(argv)

    patterns = [p for item in options.only for p in item.split(",") if p]
    targets = choose(all_targets(), options.kind or None, patterns or None)
    if options.list:
        for target in targets:
            print(f"{target.kind:<9} {target.name:<44} {target.expected_text:<40} {target.why}")
        print(f"{len(targets)} entries")
        return 0
    if not targets:
        print("validation: nothing matches", file=sys.stderr)
        return 1

    config = load_config()
    work_dir = options.work_dir or tempfile.mkdtemp(prefix="nnag-validation-")
    os.makedirs(work_dir, exist_ok=True)
    package_before = tree_digest([os.path.join(ROOT, "autograder"), os.path.join(ROOT, "reference"),
                                  os.path.join(ROOT, "run_autograder")])
    context = Context(work_dir, upload_files(), config, keep=options.keep,
                      timeout=options.timeout, verbose=options.verbose)
    progress = None if options.quiet else (lambda text: print(text, file=sys.stderr, flush=True))
    started = time.monotonic()
    rows = run_all(targets, context, options.jobs, progress)
    elapsed = time.monotonic() - started

    extra = []
    package_after = tree_digest([os.path.join(ROOT, "autograder"), os.path.join(ROOT, "reference"),
                                 os.path.join(ROOT, "run_autograder")])
    if package_after != package_before:
        extra.append("the package's own files changed during validation")
    time.sleep(0.5)
    left = leftover_processes(context.prefix)
    if left:
        extra.append("processes of worker users left after validation: " + "; ".join(left[:5]))

    print(format_table(rows))
    problems = format_problems(rows)
    if problems:
        print("\n" + problems)
    for text in extra:
        print(f"\nOFF: {text}")
    slowest = sorted(rows, key=lambda r: -r.seconds)[:5]
    print("\nslowest: " + ", ".join(f"{r.name} {r.seconds:.0f}s" for r in slowest))
    line = summary_line(rows) + f" ({elapsed:.0f} s, {options.jobs} jobs)"
    if extra:
        line += f"; {len(extra)} global problem(s)"
    print(line)
    if any(not r.ok for r in rows) and (context.verbose or any(r.problems for r in rows)):
        print(f"logs of the off runs: {os.path.join(work_dir, 'logs')}")
    if options.json:
        os.makedirs(os.path.dirname(os.path.abspath(options.json)), exist_ok=True)
        with open(options.json, "w", encoding="utf-8") as handle:
            json.dump({"summary": summary_line(rows), "seconds": round(elapsed, 1),
                       "global_problems": extra,
                       "rows": [row.__dict__ for row in rows]}, handle, indent=2)
    if not options.work_dir and not options.keep and not any(r.problems for r in rows):
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0 if all(r.ok for r in rows) and not extra else 1


if __name__ == "__main__":
    sys.exit(main())
