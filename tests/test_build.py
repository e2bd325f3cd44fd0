"""The build verb: the upload zip grades like Gradescope, the handout leaks nothing.

The upload zip is unpacked into a fresh /autograder-shaped tree exactly as
Gradescope does (source/, submission/, results/, run_autograder copied to the
root) and run_autograder grades the reference there: it must score full marks.
The handout is searched, independently of build.py's own check, for every
line of the reference's solutions.
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile

import pytest

from autograder.commands import build

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(ROOT, "reference", "neural_net.py")


@pytest.fixture(scope="module")
def zips(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    return {"upload": build.build_upload(str(out)), "handout": build.build_handout(str(out))}


def names_in(path):
    with zipfile.ZipFile(path) as archive:
        return [info.filename for info in archive.infolist()]


def unpack(zip_path, destination):
    """Unpack like Gradescope (`unzip`, which restores the Unix modes)."""
    os.makedirs(destination, exist_ok=True)
    if shutil.which("unzip"):
        subprocess.run(["unzip", "-q", zip_path, "-d", destination], check=True)
        return
    with zipfile.ZipFile(zip_path) as archive:  # same result, by hand
        for info in archive.infolist():
            target = archive.extract(info, destination)
            os.chmod(target, (info.external_attr >> 16) & 0o7777)


# ---------------------------------------------------------------------------
# The upload zip
# ---------------------------------------------------------------------------

def test_upload_has_the_entry_points_at_its_root_and_executable(zips):
    with zipfile.ZipFile(zips["upload"]) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    for name in ("setup.sh", "run_autograder"):
        assert name in infos, f"{name} must be at the root of the zip"
        mode = infos[name].external_attr >> 16
        assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, f"{name}: mode {mode:o}"
        assert infos[name].create_system == 3
    for name in ("requirements.txt", "requirements-data.txt", "scripts/make_worker_user.sh",
                 "scripts/probe_worker.py",
                 "autograder/config.json", "autograder/grading/grade.py", "autograder/sandbox/worker.py",
                 "reference/neural_net.py", "reference/util.py"):
        assert name in infos, f"{name} missing from the upload"
    assert (infos["reference/neural_net.py"].external_attr >> 16) & 0o111 == 0


def test_upload_holds_nothing_else(zips):
    names = names_in(zips["upload"])
    allowed_top = {"setup.sh", "run_autograder", "requirements.txt", "requirements-data.txt",
                   "scripts", "autograder", "reference"}
    for name in names:
        parts = name.split("/")
        assert parts[0] in allowed_top, name
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert not any(part.startswith(".") for part in parts), name
        assert not name.startswith(("autograder/validation/", "autograder/handout/")), name
        assert not name.startswith("autograder/commands/"), name
    assert names == sorted(names) and len(names) == len(set(names))


def test_upload_is_reproducible(tmp_path):
    first = build.build_upload(str(tmp_path / "one"))
    second = build.build_upload(str(tmp_path / "two"))
    with open(first, "rb") as one, open(second, "rb") as two:
        assert one.read() == two.read()


def test_upload_refuses_a_grading_module_that_needs_a_left_out_one(tmp_path):
    files = build.upload_files()
    sneaky = tmp_path / "grade_extra.py"
    sneaky.write_text("from autograder.validation import model\n")
    files["autograder/grade_extra.py"] = (str(sneaky), False)
    with pytest.raises(build.BuildError, match="validation"):
        build.check_upload(files)


def test_upload_refuses_crlf_entry_points(tmp_path):
    files = build.upload_files()
    crlf = tmp_path / "run_autograder"
    crlf.write_bytes(b"#!/usr/bin/env bash\r\necho hi\r\n")
    files["run_autograder"] = (str(crlf), True)
    with pytest.raises(build.BuildError, match="CRLF"):
        build.check_upload(files)


def test_upload_grades_the_reference_to_full_marks_like_gradescope(zips, tmp_path):
    root = tmp_path / "autograder"
    unpack(zips["upload"], str(root / "source"))
    (root / "submission").mkdir()
    shutil.copy(REFERENCE, root / "submission" / "neural_net.py")
    (root / "results").mkdir()
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    assert os.access(root / "run_autograder", os.X_OK), "run_autograder lost its exec bit"
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env.update(AUTOGRADER_ROOT=str(root), NNAG_PYTHON=sys.executable)
    run = subprocess.run([str(root / "run_autograder")], cwd=str(root), env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                         timeout=900)
    results_path = root / "results" / "results.json"
    assert results_path.is_file(), run.stdout[-3000:]
    data = json.loads(results_path.read_text())
    assert data["tests"], f"no tests ran: {data.get('output')}\n{run.stdout[-3000:]}"
    failed = [f"{t['name']}: {t.get('output', '')[:300]}" for t in data["tests"]
              if t["score"] < t["max_score"]]
    total = sum(t["max_score"] for t in data["tests"])
    assert data["score"] == pytest.approx(total), "\n".join(failed)
    assert total == pytest.approx(100)


# ---------------------------------------------------------------------------
# The handout zip
# ---------------------------------------------------------------------------

def reference_solution_lines(min_chars=12):
    """Independently of build.py: solution lines students are not given anyway."""
    with open(REFERENCE, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    inside, in_region = set(), False
    for number, line in enumerate(lines):
        if re.match(r"\s*# BEGIN SOLUTION", line):
            in_region = True
        elif re.match(r"\s*# END SOLUTION", line):
            in_region = False
        elif in_region:
            inside.add(number)
    squash = lambda text: re.sub(r"\s+", "", text).replace("'", '"')  # noqa: E731
    given = {squash(line) for number, line in enumerate(lines) if number not in inside}
    for name in ("util.py", "experiments.py"):
        with open(os.path.join(ROOT, "reference", name), encoding="utf-8") as handle:
            given.update(squash(line) for line in handle.read().splitlines())
    given.update(squash(line) for line in build.NOT_SECRET)
    assert len(build.NOT_SECRET) <= 3, "the idiom allowlist must stay a short, reviewed list"
    secret = set()
    for number in inside:
        line = lines[number]
        if line.strip().startswith("#") or len(squash(line)) < min_chars:
            continue
        if squash(line) not in given:
            secret.add(squash(line))
    return secret


def handout_texts(path):
    """{arcname: text} of every text file of the handout (binary stores left out)."""
    texts = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if not name.endswith(".npz"):
                texts[name] = data.decode("utf-8")
    return texts


def test_handout_contains_no_solution_line(zips):
    secret = reference_solution_lines()
    assert len(secret) >= 30, "the reference should have many non-trivial solution lines"
    for name, text in handout_texts(zips["handout"]).items():
        squashed = [re.sub(r"\s+", "", line).replace("'", '"') for line in text.splitlines()]
        for line in secret:
            assert not any(line in candidate for candidate in squashed), \
                f"{name} contains the solution line {line!r}"


def hidden_test_names():
    """Independently of build.py: docstring names of the tests hidden from students."""
    import unittest

    from autograder.suites import load_suites

    names, pending = [], [load_suites()]
    while pending:
        item = pending.pop()
        if isinstance(item, unittest.TestSuite):
            pending.extend(item)
            continue
        method = getattr(item, item._testMethodName)
        if getattr(method, "__visibility__", "visible") != "visible":
            names.append(item.shortDescription())
    return names


def test_handout_contains_no_hidden_test(zips):
    hidden = hidden_test_names()
    texts = handout_texts(zips["handout"])
    for name in hidden:
        # Function names alone are everywhere; the test's own docstring is not.
        for arcname, text in texts.items():
            assert name not in text, f"{arcname} holds the hidden test {name!r}"


def test_handout_holds_the_student_files_and_no_grader_only_or_data_file(zips):
    names = names_in(zips["handout"])
    folder = build.HANDOUT_FOLDER
    for name in ("neural_net.py", "util.py", "experiments.py", "README.md"):
        assert f"{folder}/{name}" in names
    for name in names:
        parts = name.split("/")
        assert parts[0] == folder, name
        assert not {"tests", "reference", "validation"} & set(parts), name
        assert "__pycache__" not in parts and not name.endswith(".pyc"), name
        assert name.endswith((".py", ".md", ".txt", ".json")) or \
            parts[-1] == "expected.npz", f"{name}: not a source or text file"
        assert "calibrate" not in parts[-1] and "harness" not in parts[-1], name
    with zipfile.ZipFile(zips["handout"]) as archive:
        template = archive.read(f"{folder}/neural_net.py").decode("utf-8")
        readme = archive.read(f"{folder}/README.md").decode("utf-8")
        sizes = {info.filename: info.file_size for info in archive.infolist()}
    with open(os.path.join(ROOT, "student_template", "neural_net.py"), encoding="utf-8") as handle:
        assert template == handle.read()
    assert "raise NotImplementedError" in template and "BEGIN SOLUTION" not in template
    assert "$files" not in readme and "`neural_net.py`" in readme
    assert max(sizes.values()) < 1 << 20, "no file of the handout is big enough to be a data set"


def test_handout_holds_no_held_out_digit(zips):
    """The recorded answers of the visible tests never contain the grader's test split."""
    import io

    import numpy as np

    from autograder.checks import data

    stores = [name for name in names_in(zips["handout"]) if name.endswith(".npz")]
    if not stores:
        pytest.skip("the handout has no recorded answers")
    held_out = data.grader_split(0, 0)
    rows = {row.tobytes() for row in held_out["X_test"]}
    pixels_255 = {np.round(row * 255).astype(np.int64).tobytes() for row in held_out["X_test"]}
    with zipfile.ZipFile(zips["handout"]) as archive:
        for store in stores:
            arrays = np.load(io.BytesIO(archive.read(store)), allow_pickle=False)
            for key in arrays.files:
                array = arrays[key]
                assert not np.array_equal(array, held_out["y_test"]), f"{store}:{key} = y_test"
                if array.ndim >= 1 and array.shape[-1] == 784:
                    flat = array.reshape(-1, 784)
                    for row in flat:
                        assert row.astype(np.float64).tobytes() not in rows, \
                            f"{store}:{key} holds a held-out digit"
                        assert row.astype(np.int64).tobytes() not in pixels_255, \
                            f"{store}:{key} holds a held-out digit"


def test_handout_build_refuses_a_leaking_extra_file(monkeypatch, tmp_path):
    leak = b"# hint\nZ1 = linear_forward(X, params['W1'], params['b1'])\n"
    monkeypatch.setattr(build, "handout_extra_files", lambda: {"hint.py": leak})
    with pytest.raises(build.BuildError, match="solution line"):
        build.build_handout(str(tmp_path))
    monkeypatch.setattr(build, "handout_extra_files", lambda: {"digits.npz": b"PK\x03\x04"})
    with pytest.raises(build.BuildError, match="data stays with the grader"):
        build.build_handout(str(tmp_path))
    assert not (tmp_path / build.HANDOUT_NAME).exists()


def test_handout_build_refuses_hidden_tests_and_held_out_digits(monkeypatch, tmp_path):
    import io

    import numpy as np

    from autograder.checks import data

    hidden = hidden_test_names()
    if hidden:
        text = f'"""{hidden[0]}"""\n'.encode()
        monkeypatch.setattr(build, "handout_extra_files", lambda: {"grader/more.py": text})
        with pytest.raises(build.BuildError, match="hidden test"):
            build.build_handout(str(tmp_path))
    store = io.BytesIO()
    np.savez(store, inputs=data.grader_split(0, 0)["X_test"][5:7])
    monkeypatch.setattr(build, "handout_extra_files",
                        lambda: {f"grader/{build.EXPECTED_STORE}": store.getvalue()})
    with pytest.raises(build.BuildError, match="held-out digits"):
        build.build_handout(str(tmp_path))
    assert not (tmp_path / build.HANDOUT_NAME).exists()


def test_handout_build_refuses_a_stale_template(tmp_path):
    stale = tmp_path / "student_template"
    shutil.copytree(os.path.join(ROOT, "student_template"), stale)
    with open(stale / "neural_net.py", "a", encoding="utf-8") as handle:
        handle.write("\n# edited by hand\n")
    with pytest.raises(build.BuildError, match="out of date"):
        build.build_handout(str(tmp_path), template_dir=str(stale))


def test_handout_extra_files_are_bytes_by_relative_name():
    extra = build.handout_extra_files()
    for name, data in extra.items():
        assert isinstance(data, bytes) and not name.startswith("/") and ".." not in name


def test_cli_builds_both_zips(tmp_path, capsys):
    assert build.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "autograder.zip").is_file() and (tmp_path / "handout.zip").is_file()
    assert "files" in capsys.readouterr().out
