"""The batch verb: one CSV row per submission, whatever the submissions do.

The full run grades the reference, the blank template, a syntax error and an
empty folder through run_autograder (Gradescope's path), two at a time. The
rest checks Gradescope's export layout (submission_metadata.yml and
submission_<id>/ folders, zipped or not) and that a hanging or dead grader
only fills its own row.
"""
import csv
import os
import shutil
import sys
import textwrap
import time
import zipfile

import pytest

from autograder.commands import batch
from autograder.validation import scenarios

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
REFERENCE = os.path.join(ROOT, "reference", "neural_net.py")
TEMPLATE = os.path.join(ROOT, "student_template", "neural_net.py")

# The shape of Gradescope's export metadata (Ruby symbols as keys), with the
# extra keys real exports carry, which the reader must step over.
METADATA = textwrap.dedent("""\
    submission_1001:
      :submitters:
      - :name: Ada Lovelace
        :sid: '1815'
        :email: ada@example.edu
      :created_at: 2024-03-01 12:00:00.000000000 -05:00
      :score: 100.0
      :history: []
    submission_1002:
      :submitters:
      - :name: "Pair, One"
        :sid: '200'
        :email: one@example.edu
      - :name: O'Two
        :sid: '201'
        :email: two@example.edu
      :created_at: 2024-03-01 13:00:00.000000000 -05:00
      :score: 0.0
    submission_1003:
      :submitters:
        - :name: Indented List
          :email: list@example.edu
      :score:
""")


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def make_folder(base, name, files):
    folder = base / name
    folder.mkdir(parents=True)
    for filename, text in files.items():
        (folder / filename).write_text(text)
    return folder


# ---------------------------------------------------------------------------
# The full run
# ---------------------------------------------------------------------------

def test_batch_grades_good_blank_and_broken_submissions_into_one_row_each(tmp_path, capsys):
    subs = tmp_path / "subs"
    make_folder(subs, "alice", {"neural_net.py": open(REFERENCE).read()})
    make_folder(subs, "bob", {"neural_net.py": open(TEMPLATE).read()})
    make_folder(subs, "carol", {"neural_net.py": "import numpy as np\ndef one_hot(y, C:\n"})
    (subs / "dave").mkdir()
    out = tmp_path / "scores.csv"
    started = time.monotonic()
    rows, stats = batch.run_batch(str(subs), str(out), jobs=2, python=sys.executable)
    elapsed = time.monotonic() - started
    table = {row["submission"]: row for row in read_csv(out)}
    assert sorted(table) == ["alice", "bob", "carol", "dave"]
    header = list(read_csv(out)[0].keys())
    assert header[:4] == ["submission", "student", "email", "sid"]
    assert header[-4:] == ["total", "max", "error", "seconds"]
    tests = header[4:-4]
    assert tests, "one column per test"
    full = float(table["alice"]["max"])
    assert full == pytest.approx(100)
    assert float(table["alice"]["total"]) == pytest.approx(full), table["alice"]
    assert sum(float(table["alice"][name]) for name in tests) == pytest.approx(full)
    assert table["alice"]["error"] == ""
    assert float(table["bob"]["total"]) == 0 and table["bob"]["error"] == ""
    for broken, why in (("carol", "SyntaxError"), ("dave", "neural_net.py")):
        assert float(table[broken]["total"]) == 0
        assert float(table[broken]["max"]) == pytest.approx(full)
        assert why in table[broken]["error"], table[broken]["error"]
    for row in table.values():
        assert float(row["seconds"]) > 0
    printed = capsys.readouterr().out
    assert "[4/4]" in printed and "per core-minute" in printed
    assert stats["submissions"] == 4 and stats["per_core_minute"] > 0
    assert elapsed < 60, f"the batch took {elapsed:.0f} s"


# ---------------------------------------------------------------------------
# Gradescope's export layout
# ---------------------------------------------------------------------------

def expected_people():
    return {
        "submission_1001": [{"name": "Ada Lovelace", "sid": "1815", "email": "ada@example.edu"}],
        "submission_1002": [{"name": "Pair, One", "sid": "200", "email": "one@example.edu"},
                            {"name": "O'Two", "sid": "201", "email": "two@example.edu"}],
        "submission_1003": [{"name": "Indented List", "sid": "", "email": "list@example.edu"}],
    }


def test_metadata_small_reader_reads_gradescope_yaml():
    assert batch.parse_metadata_small(METADATA) == expected_people()


def test_metadata_reader_tolerates_garbage():
    assert batch.parse_metadata_small("::: [unclosed\n  - :name\n\tx: y\n") == {}
    assert batch.parse_metadata("") == {}


def test_metadata_with_pyyaml_agrees_when_installed():
    yaml = pytest.importorskip("yaml", reason="PyYAML not installed: the small reader is used")
    assert yaml is not None
    assert batch.parse_metadata(METADATA) == expected_people()


def export_tree(base):
    """An unpacked Gradescope export: assignment_<id>_export/ with the YAML and folders."""
    export = base / "assignment_42_export"
    export.mkdir(parents=True)
    (export / "submission_metadata.yml").write_text(METADATA)
    make_folder(export, "submission_1001", {"neural_net.py": "def one_hot(:\n"})
    (export / "submission_1002").mkdir()
    make_folder(export, "submission_1003/hw5", {"neural_net.py": "x = (\n"})
    make_folder(export, "submission_1004", {"notes.txt": "not listed in the metadata"})
    return export


def test_export_layout_maps_folders_to_students(tmp_path):
    export_tree(tmp_path / "download")
    for start in (tmp_path / "download", tmp_path / "download" / "assignment_42_export"):
        submissions, notes = batch.find_submissions(str(start))
        assert [s.ident for s in submissions] == ["submission_1001", "submission_1002",
                                                  "submission_1003", "submission_1004"]
        people = {s.ident: (s.field("name"), s.field("email")) for s in submissions}
        assert people["submission_1001"] == ("Ada Lovelace", "ada@example.edu")
        assert people["submission_1002"] == ("Pair, One; O'Two",
                                             "one@example.edu; two@example.edu")
        assert people["submission_1004"] == ("", "")
        assert any("Gradescope export" in note for note in notes)


def test_plain_folder_layout_has_no_names(tmp_path):
    make_folder(tmp_path, "zed", {"neural_net.py": ""})
    make_folder(tmp_path, "amy", {"neural_net.py": ""})
    (tmp_path / "README.txt").write_text("loose file")
    (tmp_path / "__MACOSX").mkdir()
    submissions, notes = batch.find_submissions(str(tmp_path))
    assert [s.ident for s in submissions] == ["amy", "zed"]
    assert all(s.field("name") == "" for s in submissions)
    assert any("README.txt" in note for note in notes)


def test_export_zip_is_graded_with_names_and_errors(tmp_path):
    """Broken submissions only (fast): the zip is read and every row says why."""
    export = export_tree(tmp_path / "download")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for folder, _, files in os.walk(export):
            for name in files:
                path = os.path.join(folder, name)
                handle.write(path, os.path.relpath(path, tmp_path / "download"))
    out = tmp_path / "scores.csv"
    batch.run_batch(str(archive), str(out), jobs=2, python=sys.executable)
    table = {row["submission"]: row for row in read_csv(out)}
    assert sorted(table) == ["submission_1001", "submission_1002", "submission_1003",
                             "submission_1004"]
    assert table["submission_1002"]["student"] == "Pair, One; O'Two"
    assert table["submission_1001"]["sid"] == "1815"
    for row in table.values():
        assert float(row["total"]) == 0
        assert row["error"], row
    assert "SyntaxError" in table["submission_1001"]["error"]
    assert "SyntaxError" in table["submission_1003"]["error"]  # found one level down


# ---------------------------------------------------------------------------
# A grader that hangs or dies only fills its own row
# ---------------------------------------------------------------------------

def fake_python(tmp_path, body):
    """An 'interpreter' for run_autograder that does something else entirely."""
    script = tmp_path / "fake-python"
    script.write_text("#!/usr/bin/env bash\n" + body + "\n")
    script.chmod(0o755)
    return str(script)


def test_a_hanging_grader_is_stopped_at_the_cap(tmp_path):
    subs = tmp_path / "subs"
    make_folder(subs, "slow", {"neural_net.py": "x = 1\n"})
    marker = tmp_path / "still-running"
    python = fake_python(tmp_path, f"sleep 30; touch {marker}")
    out = tmp_path / "scores.csv"
    started = time.monotonic()
    batch.run_batch(str(subs), str(out), jobs=1, python=python, cap_s=1.5)
    assert time.monotonic() - started < 15
    (row,) = read_csv(out)
    assert "longer than the batch cap" in row["error"] and float(row["total"]) == 0
    time.sleep(0.5)
    assert not marker.exists()


def test_a_grader_that_dies_without_results_gets_a_row(tmp_path):
    subs = tmp_path / "subs"
    make_folder(subs, "a", {"neural_net.py": "x = 1\n"})
    make_folder(subs, "b", {"neural_net.py": "x = 2\n"})
    python = fake_python(tmp_path, "echo 'RuntimeError: boom' >&2; exit 3")
    out = tmp_path / "scores.csv"
    keep = tmp_path / "kept"
    batch.run_batch(str(subs), str(out), jobs=2, python=python, keep=str(keep))
    rows = read_csv(out)
    assert [row["submission"] for row in rows] == ["a", "b"]
    for row in rows:
        assert "could not start" in row["error"] and "RuntimeError: boom" in row["error"]
    assert (keep / "a.json").is_file() and (keep / "a.log").is_file()


def test_cli_refuses_an_empty_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert batch.main([str(tmp_path / "empty"), "--csv", str(tmp_path / "s.csv")]) == 1
    assert "no submission folders" in capsys.readouterr().err


def test_test_columns_follow_gradescope_numbers_then_first_appearance():
    rows = [{"tests": {"b": (1, 1, "1.10"), "a": (1, 1, "1.2"), "z": (0, 1, None)}},
            {"tests": {"c": (0, 1, "2.1"), "y": (0, 1, None)}}]
    assert batch.test_columns(rows) == ["a", "b", "c", "z", "y"]


def test_staged_source_is_the_upload(tmp_path):
    source = batch.stage_source(str(tmp_path))
    assert os.access(os.path.join(source, "run_autograder"), os.X_OK)
    assert os.path.isfile(os.path.join(source, "reference", "neural_net.py"))
    assert not os.path.exists(os.path.join(source, "autograder", "validation"))
    shutil.rmtree(source)


# ---------------------------------------------------------------------------
# One student cannot spoil the batch
# ---------------------------------------------------------------------------

def test_student_text_is_made_safe_for_files_and_terminals():
    hostile = "Eve\x1b[2J\x1b]0;owned\x07 \ud800name\r\nnext\x9b"
    safe = batch.one_line(hostile)
    assert "\x1b" not in safe and "\x07" not in safe and "\x9b" not in safe
    assert "\ud800" not in safe and "\r" not in safe and "\n" not in safe
    safe.encode("utf-8")  # writable to a UTF-8 file
    assert safe.startswith("Eve") and "name next" in safe


def test_the_csv_never_follows_a_planted_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("root's file\n")
    out = tmp_path / "scores.csv"
    for planted in (str(out) + ".part", str(out) + ".tmp"):
        os.symlink(victim, planted)
    rows = [{"submission": "s\x1b[31m1", "student": "A", "email": "", "sid": "", "tests": {},
             "total": 0.0, "max": None, "error": "bad\x00text", "seconds": 1.0}]
    batch.write_csv(str(out), rows)
    assert victim.read_text() == "root's file\n"
    (row,) = read_csv(out)
    assert "\x1b" not in row["submission"] and "\x00" not in row["error"]
    assert [name for name in os.listdir(tmp_path) if name.endswith(".part")
            and not os.path.islink(tmp_path / name)] == []  # no temporary file left


def test_a_failed_write_leaves_the_old_csv(tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        with batch.replaced_atomically(str(out)) as handle:
            handle.write("half")
            raise RuntimeError("interrupted")
    assert out.read_text() == "old\n" and os.listdir(tmp_path) == ["scores.csv"]


def test_submissions_are_graded_from_a_private_copy(tmp_path):
    subs = tmp_path / "subs"
    make_folder(subs, "alice", {"neural_net.py": "x = 1\n"})
    os.symlink("/etc/passwd", subs / "alice" / "linked.py")
    scratch = tmp_path / "scratch"
    scratch.mkdir(mode=0o700)
    copy = batch.open_input(str(subs), str(scratch))
    assert copy.startswith(str(scratch))
    (subs / "alice" / "neural_net.py").write_text("changed later\n")
    assert open(os.path.join(copy, "alice", "neural_net.py")).read() == "x = 1\n"
    assert os.path.islink(os.path.join(copy, "alice", "linked.py"))  # copied, not followed


def test_the_batch_warns_when_the_input_is_readable_by_others(tmp_path, capsys):
    subs = tmp_path / "subs"
    make_folder(subs, "a", {"neural_net.py": "x = 1\n"})
    os.chmod(subs, 0o755)
    python = fake_python(tmp_path, "exit 3")
    batch.run_batch(str(subs), str(tmp_path / "s.csv"), jobs=1, python=python)
    assert "readable by other users" in capsys.readouterr().out
    os.chmod(subs, 0o700)
    batch.run_batch(str(subs), str(tmp_path / "s.csv"), jobs=1, python=python)
    assert "readable by other users" not in capsys.readouterr().out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs the worker users (root)")
def test_a_hostile_neighbour_cannot_change_a_correct_submissions_score(tmp_path):
    """The same proof as `validate --only hostile_neighbour_batch` (its checks, and
    the neighbour, live in autograder/validation/scenarios.py)."""
    outcome = scenarios.run_neighbour_batch(str(tmp_path), python=sys.executable)
    assert outcome.problems == [], outcome.problems
    assert outcome.score == pytest.approx(100)
