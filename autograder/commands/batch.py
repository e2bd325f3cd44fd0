"""The batch verb: grade a folder of submissions in parallel into one CSV.

    python -m autograder batch DIR [--jobs N] [--csv scores.csv] [--keep DIR]
    python -m autograder batch export.zip --jobs 4

DIR is either
- a folder with one sub-folder per student (the sub-folder holds neural_net.py,
  possibly nested), or
- Gradescope's "Export Submissions" download, as the zip or unpacked: a folder
  (usually assignment_<id>_export/) holding submission_metadata.yml and one
  folder per submission, submission_<id>/. The YAML maps each folder to its
  submitters (`:submitters:` with `:name:`, `:sid:`, `:email:`); names come
  from it when it can be read (PyYAML if installed, else a small reader).

Every submission is graded the way Gradescope grades it: in its own
/autograder-shaped tree (source/ = the upload zip's files, submission/,
results/, a copy of run_autograder), by run_autograder in a separate process
group, with a wall-clock cap of limits.run_time_s plus a margin. A submission
that hangs, crashes the grader or is refused only fills its own row.

One student cannot spoil the batch: the input is copied (or unpacked) into a
private scratch folder first and each grading gets its own copy, so no worker
reads an original in place; each grading has its own worker user, whose
processes and files are removed when it ends; every text that comes from a
student or the metadata is made safe for UTF-8 files and terminals; the CSV
and the kept results are written through fresh private temporary files
(mkstemp) and renamed, so a planted link at a predictable path is never
followed.

The CSV has one row per submission: submission, student, email, sid, one
column per test (stable order), total, max, error, seconds.
"""
import argparse
import concurrent.futures
import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

from autograder.commands import build
from autograder.config import load_config
from autograder.sandbox import workers

METADATA_NAME = "submission_metadata.yml"
IGNORED_NAMES = {"__MACOSX", "__pycache__", ".git", ".ipynb_checkpoints"}
# Beyond the grader's own run budget: interpreter start-up, lock-down, writing results.
MARGIN_S = 60
# After SIGINT (the grader then writes its results and kills its workers), before SIGKILL.
GRACE_S = 10
FIXED_COLUMNS = ("submission", "student", "email", "sid")
TRAILING_COLUMNS = ("total", "max", "error", "seconds")
# The children do their arithmetic on one core each: BLAS threads would oversubscribe.
SINGLE_THREAD_ENV = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                            "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS",
                                            "VECLIB_MAXIMUM_THREADS")}


class BatchError(RuntimeError):
    """The input cannot be graded as a batch; the text says why."""


# ---------------------------------------------------------------------------
# Gradescope's submission_metadata.yml
# ---------------------------------------------------------------------------

def parse_metadata(text):
    """Submitters per submission folder from Gradescope's submission_metadata.yml.

    Inputs:
    - text: str, the YAML (top-level keys are folder names; each has a
      `:submitters:` list of mappings with `:name:`, `:sid:`, `:email:`)

    Returns:
    - dict folder -> list of dicts with keys 'name', 'email', 'sid' (str, may be "")
    """
    try:
        import yaml
    except ImportError:
        return parse_metadata_small(text)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return parse_metadata_small(text)
    if not isinstance(data, dict):
        return parse_metadata_small(text)
    found = {}
    for folder, record in data.items():
        if not isinstance(record, dict):
            continue
        people = record.get(":submitters", record.get("submitters")) or []
        found[str(folder)] = [
            {field: str(person.get(":" + field, person.get(field)) or "")
             for field in ("name", "email", "sid")}
            for person in people if isinstance(person, dict)]
    return found


_TOP_KEY = re.compile(r"^(?P<key>[^\s#:'\"-][^:#]*|'[^']*'|\"[^\"]*\"):\s*$")
_FIELD = re.compile(r"^:?(?P<field>name|email|sid):(?:\s+(?P<value>.*))?$")


def parse_metadata_small(text):
    """The same as parse_metadata without PyYAML: reads only what it needs.

    Tolerant: anything it does not understand is skipped, never an error.
    """
    found = {}
    folder = None
    block_indent = None  # indentation of the `:submitters:` key being read
    for raw in text.splitlines():
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        if indent == 0:
            top = _TOP_KEY.match(raw.rstrip())
            folder = unquote(top.group("key").strip()) if top else None
            block_indent = None
            if folder is not None:
                found.setdefault(folder, [])
            continue
        if folder is None:
            continue
        if line in (":submitters:", "submitters:"):
            block_indent = indent
            continue
        if block_indent is None:
            continue
        in_block = indent > block_indent or (indent == block_indent and line.startswith("- "))
        if not in_block:
            block_indent = None
            continue
        starts_person = line.startswith("- ")
        if starts_person:
            line = line[2:].strip()
            found[folder].append({"name": "", "email": "", "sid": ""})
        field = _FIELD.match(line)
        if field and found[folder]:
            found[folder][-1][field.group("field")] = unquote((field.group("value") or "").strip())
    return found


def unquote(value):
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            return json.loads(value)
        except ValueError:
            return value[1:-1]
    return value


# ---------------------------------------------------------------------------
# Finding the submissions
# ---------------------------------------------------------------------------

class Submission:
    def __init__(self, ident, path, submitters=()):
        self.ident = ident
        self.path = path
        self.submitters = list(submitters)

    def field(self, name):
        return one_line("; ".join(person[name] for person in self.submitters
                                  if person.get(name)))


def export_root(directory, max_depth=2):
    """The folder holding submission_metadata.yml (DIR itself or a folder below), or None."""
    frontier = [directory]
    for _ in range(max_depth + 1):
        below = []
        for folder in frontier:
            if os.path.isfile(os.path.join(folder, METADATA_NAME)):
                return folder
            try:
                names = sorted(os.listdir(folder))
            except OSError:
                continue
            below.extend(os.path.join(folder, name) for name in names
                         if name not in IGNORED_NAMES and not name.startswith(".")
                         and os.path.isdir(os.path.join(folder, name))
                         and not os.path.islink(os.path.join(folder, name)))
        frontier = below
    return None


def find_submissions(directory):
    """The submissions in a batch folder, sorted by id.

    Inputs:
    - directory: str, a folder of per-student folders, or a Gradescope export

    Returns:
    - (submissions: list of Submission, notes: list of str)
    """
    notes = []
    root = export_root(directory)
    metadata = {}
    if root is not None:
        with open(os.path.join(root, METADATA_NAME), encoding="utf-8", errors="replace") as handle:
            metadata = parse_metadata(handle.read())
        notes.append(f"Gradescope export: {os.path.relpath(root, directory)}/{METADATA_NAME}, "
                     f"{len(metadata)} submissions listed")
    else:
        root = directory
    submissions, loose = [], []
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name)
        if name in IGNORED_NAMES or name.startswith(".") or os.path.islink(path):
            continue
        if os.path.isdir(path):
            submissions.append(Submission(name, path, metadata.get(name, ())))
        elif name != METADATA_NAME:
            loose.append(name)
    if loose:
        notes.append(f"ignored {len(loose)} file(s) beside the submission folders: "
                     + ", ".join(loose[:5]) + (" ..." if len(loose) > 5 else ""))
    listed_missing = sorted(set(metadata) - {s.ident for s in submissions})
    if listed_missing:
        # A zip keeps no empty folders: graded as empty, so every student gets a row.
        notes.append(f"{len(listed_missing)} submission(s) in the metadata have no files: "
                     + ", ".join(listed_missing[:5]) + (" ..." if len(listed_missing) > 5 else ""))
        submissions.extend(Submission(name, None, metadata[name]) for name in listed_missing)
        submissions.sort(key=lambda submission: submission.ident)
    return submissions, notes


def open_input(path, scratch):
    """A private copy of the input in scratch (0700): the folder copied, or the zip unpacked.

    Nothing is graded in place: a worker never learns where the classmates'
    originals are, and an original changed during the batch changes nothing.
    """
    target = os.path.join(scratch, "input")
    if os.path.isdir(path):
        shutil.copytree(path, target, symlinks=True)  # links are copied as links, never followed
        return target
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            archive.extractall(target)  # zipfile drops absolute paths and '..' parts
        return target
    raise BatchError(f"{path} is neither a folder nor a zip file")


def readable_by_others(path):
    """True if users other than the owner can read path (a folder or file)."""
    try:
        return bool(os.stat(path).st_mode & 0o004)
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Grading one submission the way Gradescope does
# ---------------------------------------------------------------------------

def stage_source(scratch):
    """The upload zip's files in scratch/source, as Gradescope unpacks them."""
    return build.stage_upload(os.path.join(scratch, "source"))


class Running:
    """Process groups of the gradings in flight, so an interrupt can stop them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.processes = set()
        self.stopping = False

    def add(self, process):
        with self.lock:
            self.processes.add(process)
            return not self.stopping

    def discard(self, process):
        with self.lock:
            self.processes.discard(process)

    def stop_all(self):
        with self.lock:
            self.stopping = True
            processes = list(self.processes)
        for process in processes:
            stop_group(process, grace=2)


def stop_group(process, grace=GRACE_S):
    """SIGINT the grading's process group (the grader still writes results and
    kills its workers), then SIGKILL whatever is left."""
    workers.stop_process_group(process, grace_s=grace)


def grade_one(submission, workdir, source, *, python, cap_s, running, keep=None):
    """Grade one submission through run_autograder; returns a row dict."""
    root = os.path.join(workdir, "autograder")
    os.makedirs(os.path.join(root, "results"))
    os.symlink(source, os.path.join(root, "source"))
    if submission.path is None:
        os.mkdir(os.path.join(root, "submission"))
    else:
        shutil.copytree(submission.path, os.path.join(root, "submission"), symlinks=True)
    shutil.copy(os.path.join(source, "run_autograder"), os.path.join(root, "run_autograder"))
    os.chmod(os.path.join(root, "run_autograder"), 0o755)
    write_submission_metadata(os.path.join(root, "submission_metadata.json"), submission)
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(SINGLE_THREAD_ENV, AUTOGRADER_ROOT=root, NNAG_PYTHON=python)
    log_path = os.path.join(workdir, "stdout")
    started = time.monotonic()
    timed_out = False
    with open(log_path, "wb") as log:
        process = subprocess.Popen([os.path.join(root, "run_autograder")], cwd=root, env=env,
                                   stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        if not running.add(process):
            stop_group(process, grace=2)
        try:
            process.wait(timeout=cap_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop_group(process)
        finally:
            running.discard(process)
    seconds = time.monotonic() - started
    results_path = os.path.join(root, "results", "results.json")
    data, problem = read_results(results_path)
    if keep:
        os.makedirs(keep, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", submission.ident)
        if os.path.isfile(results_path):
            copy_atomically(results_path, os.path.join(keep, safe + ".json"))
        copy_atomically(log_path, os.path.join(keep, safe + ".log"))
    row = {"submission": one_line(submission.ident), "student": submission.field("name"),
           "email": submission.field("email"), "sid": submission.field("sid"),
           "seconds": round(seconds, 1), "tests": {}, "total": 0.0, "max": None}
    if timed_out:
        row["error"] = f"grading took longer than the batch cap of {cap_s:g} s and was stopped"
    elif data is None:
        row["error"] = f"no usable results.json ({problem}); {last_line(log_path)}"
    else:
        row["error"] = error_message(data)
        if row["error"] and not data.get("tests"):
            cause = exception_line(log_path)  # the grader's own failure: tell staff why
            if cause:
                row["error"] += f" [{cause}]"
    if data is not None and not timed_out:
        for test in data.get("tests", []):
            row["tests"][test_column(test)] = (float(test.get("score", 0.0)),
                                               float(test.get("max_score", 0.0)),
                                               test.get("number"))
        row["total"] = float(data.get("score", 0.0))
        if row["tests"]:
            row["max"] = sum(worth for _, worth, _ in row["tests"].values())
    return row


def write_submission_metadata(path, submission):
    """The submitters as Gradescope puts them in /autograder/submission_metadata.json."""
    number = re.search(r"(\d+)$", submission.ident)
    metadata = {"id": int(number.group(1)) if number else None,
                "users": [dict(person) for person in submission.submitters],
                "previous_submissions": []}
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(metadata, handle)


def read_results(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return None, "the grader wrote none"
    except (OSError, ValueError) as error:
        return None, f"unreadable: {error}"
    if not isinstance(data, dict) or not isinstance(data.get("tests"), list):
        return None, "not a results object"
    return data, None


def last_line(path):
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - 2000))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return "no output"
    return f"last output: {lines[-1][:200]}" if lines else "no output"


def exception_line(path):
    """The last `SomethingError: message` line of a grader log, or ""."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(path) - 20000))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", line):
            return one_line(line, 200)
    return ""


def error_message(data):
    """The top-level reason a submission could not be graded, or "" if it was."""
    extra = data.get("extra_data")
    if isinstance(extra, dict) and extra.get("error"):
        return one_line(str(extra["error"]))
    output = str(data.get("output") or "").strip()
    if not data.get("tests"):
        return one_line(output) or "no tests ran"
    # grade.py opens the summary with the import/refusal message in bold.
    first = output.splitlines()[0].strip() if output else ""
    if first.startswith("**") and first.endswith("**") and len(first) > 4:
        return one_line(first[2:-2])
    return ""


# C0 and C1 control characters but whitespace (terminal escapes among them), DEL, and lone
# surrogates, which cannot be written to a UTF-8 file.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def safe_text(text):
    """Text from a submission or its metadata, safe for a UTF-8 file and a terminal.

    Control characters (escape sequences included) become U+FFFD; tabs,
    newlines and carriage returns are kept (one_line folds them).
    """
    return _UNSAFE.sub("\ufffd", str(text))


def one_line(text, limit=300):
    text = " ".join(safe_text(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def test_column(test):
    return one_line(str(test.get("name") or "unnamed test"), limit=200)


# ---------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------

def number_key(number):
    parts = re.findall(r"\d+", str(number or ""))
    return tuple(int(part) for part in parts) if parts else (float("inf"),)


def test_columns(rows):
    """Every test name seen, ordered by Gradescope number, then first appearance."""
    seen = {}
    for row in rows:
        for name, (_, _, number) in row["tests"].items():
            if name not in seen:
                seen[name] = (number_key(number), len(seen))
    return sorted(seen, key=lambda name: seen[name])


def format_number(value):
    return "" if value is None else f"{value:g}"


def write_csv(path, rows):
    """One line per submission; returns the column names."""
    columns = test_columns(rows)
    full = max((row["max"] for row in rows if row["max"] is not None), default=None)
    header = list(FIXED_COLUMNS) + columns + list(TRAILING_COLUMNS)
    with replaced_atomically(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in sorted(rows, key=lambda row: row["submission"]):
            scores = [format_number(row["tests"][name][0]) if name in row["tests"] else ""
                      for name in columns]
            maximum = row["max"] if row["max"] is not None else full
            writer.writerow([one_line(row["submission"]), row["student"], row["email"],
                             row["sid"]]
                            + scores + [format_number(row["total"]), format_number(maximum),
                                        one_line(row["error"]), format_number(row["seconds"])])
    return header


class replaced_atomically:
    """`with replaced_atomically(path) as handle:` writes a new file at path.

    The text goes to a fresh private file in the same folder (mkstemp: a
    random name opened with O_EXCL, so a planted symlink or file is never
    followed or overwritten), which then replaces path in one rename. On an
    error, path is left as it was.
    """

    def __init__(self, path, mode="w", newline=None):
        self.path = os.path.abspath(path)
        self.mode = mode
        self.newline = newline

    def __enter__(self):
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        descriptor, self.temporary = tempfile.mkstemp(
            prefix="." + os.path.basename(self.path) + ".", suffix=".part", dir=directory)
        if "b" in self.mode:
            self.handle = os.fdopen(descriptor, self.mode)
        else:
            self.handle = os.fdopen(descriptor, self.mode, encoding="utf-8", newline=self.newline)
        return self.handle

    def __exit__(self, kind, error, trace):
        self.handle.close()
        if kind is None:
            os.chmod(self.temporary, 0o644)
            os.replace(self.temporary, self.path)
        else:
            os.unlink(self.temporary)
        return False


def copy_atomically(source, destination):
    with open(source, "rb") as original, replaced_atomically(destination, "wb") as copy:
        shutil.copyfileobj(original, copy)


# ---------------------------------------------------------------------------
# The batch
# ---------------------------------------------------------------------------

def default_cap():
    return load_config()["limits"]["run_time_s"] + MARGIN_S


def run_batch(path, csv_path, *, jobs=1, python=None, cap_s=None, keep=None, stream=None):
    """Grade every submission under path into csv_path; returns (rows, stats)."""
    stream = stream or sys.stdout
    python = python or sys.executable
    cap_s = cap_s or default_cap()
    if os.geteuid() == 0:
        from autograder.sandbox.workers import Isolation

        if jobs > Isolation.MAX_USERS:  # each grading in flight holds its own worker user
            print(f"batch: --jobs {jobs} lowered to {Isolation.MAX_USERS}, the number of "
                  "worker users", file=stream)
            jobs = Isolation.MAX_USERS
    else:
        print("batch: not root: submissions run as this user (reduced isolation, as with "
              "`grade`); run as root for the per-run worker users", file=stream)
    scratch = tempfile.mkdtemp(prefix="nnag-batch-")
    os.chmod(scratch, 0o700)  # the staged source holds the reference
    running = Running()
    try:
        if os.path.isdir(path) and readable_by_others(path):
            print(f"batch: {path} is readable by other users: keep submissions in a private "
                  "folder (chmod 700); the batch grades a private copy", file=stream)
        directory = open_input(path, scratch)
        submissions, notes = find_submissions(directory)
        for note in notes:
            print(f"batch: {note}", file=stream)
        if not submissions:
            raise BatchError(f"no submission folders in {path}")
        source = stage_source(scratch)
        print(f"batch: {len(submissions)} submissions, {jobs} at a time, cap {cap_s:g} s each",
              file=stream, flush=True)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        rows = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {
                pool.submit(grade_one, submission, os.path.join(scratch, f"run{index}"), source,
                            python=python, cap_s=cap_s, running=running, keep=keep): submission
                for index, submission in enumerate(submissions)}
            try:
                for future in concurrent.futures.as_completed(futures):
                    submission = futures[future]
                    try:
                        row = future.result()
                    except Exception as error:  # the batch itself failed on this one
                        row = {"submission": one_line(submission.ident),
                               "student": submission.field("name"),
                               "email": submission.field("email"),
                               "sid": submission.field("sid"), "tests": {}, "total": 0.0,
                               "max": None, "seconds": 0.0,
                               "error": one_line(f"batch error: {type(error).__name__}: "
                                                 f"{error}")}
                    rows.append(row)
                    print(progress_line(len(rows), len(submissions), row), file=stream,
                          flush=True)
            except BaseException:
                for future in futures:
                    future.cancel()
                running.stop_all()
                raise
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        write_csv(csv_path, rows)
        stats = {"submissions": len(rows), "jobs": jobs, "wall_s": wall, "cpu_s": cpu,
                 "per_core_minute": len(rows) / (jobs * wall / 60.0) if wall > 0 else 0.0,
                 "per_cpu_minute": len(rows) / (cpu / 60.0) if cpu > 0 else 0.0}
        print(f"batch: wrote {csv_path}", file=stream)
        print(f"batch: {len(rows)} submissions in {wall:.1f} s wall on {jobs} core(s), "
              f"{cpu:.1f} s CPU: {stats['per_core_minute']:.2f} submissions per core-minute "
              f"({stats['per_cpu_minute']:.2f} per CPU-minute actually used)", file=stream)
        return rows, stats
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def progress_line(done, total, row):
    who = f" ({row['student']})" if row["student"] else ""
    maximum = "?" if row["max"] is None else f"{row['max']:g}"
    line = (f"[{done}/{total}] {row['submission']}{who}: {row['total']:g}/{maximum} "
            f"in {row['seconds']:.1f} s")
    if row["error"]:
        line += f"  ERROR: {row['error'][:120]}"
    return line


def main(argv=None):
    from autograder.grading.grade import protect_grader_files

    protect_grader_files()  # a world-readable checkout would show workers the reference
    parser = argparse.ArgumentParser(prog="python -m autograder batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("input", help="folder of submission folders, or a Gradescope export "
                                      "(zip or unpacked)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="gradings in parallel (default: every core)")
    parser.add_argument("--csv", default="scores.csv", help="where to write the table")
    parser.add_argument("--keep", help="also save every results.json and grader log here")
    parser.add_argument("--timeout", type=float,
                        help="wall-clock cap per submission in s (default: limits.run_time_s "
                             f"of config.json + {MARGIN_S})")
    parser.add_argument("--python", help="interpreter for the graders and workers "
                                         "(default: this one)")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if options.jobs < 1:
        parser.error("--jobs must be at least 1")
    try:
        run_batch(options.input, options.csv, jobs=options.jobs, python=options.python,
                  cap_s=options.timeout, keep=options.keep)
    except BatchError as error:
        print(f"batch: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
