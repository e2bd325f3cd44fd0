"""student_template/ is generated from reference/, leaks no solution, and fails loudly.

The solution regions are parsed here on their own (not with the generator's
parser), so a bug in the generator cannot hide itself.
"""
import ast
import importlib.util
import inspect
import pathlib
import re
import shutil

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "reference" / "neural_net.py"
TEMPLATE = ROOT / "student_template" / "neural_net.py"


def load_module(name, path):
    """Import a file under a private module name (no sys.path or sys.modules side effects)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# By path, so the tests run from any directory.
template = load_module("autograder_template_under_test", ROOT / "autograder" / "commands" / "template.py")


def solution_lines_by_function(path):
    """function name -> the code lines (stripped, no blanks, no comments) of its solution region."""
    source = path.read_text()
    owners = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.col_offset == 0:
            for line in range(node.lineno, node.end_lineno + 1):
                owners[line] = node.name
    regions, current = {}, None
    for number, line in enumerate(source.splitlines(), start=1):
        if re.match(r"\s*# BEGIN SOLUTION:", line):
            current = regions.setdefault(owners[number + 1], [])
        elif re.match(r"\s*# END SOLUTION", line):
            current = None
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return regions


def function_bodies(path):
    """function name -> the source lines of its body after the docstring (stripped)."""
    source = path.read_text()
    lines = source.splitlines()
    bodies = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            statements = node.body
            if (statements and isinstance(statements[0], ast.Expr)
                    and isinstance(statements[0].value, ast.Constant)
                    and isinstance(statements[0].value.value, str)):
                first = statements[0].end_lineno  # the docstring's last line
            else:
                first = node.lineno
            bodies[node.name] = [line.strip() for line in lines[first:node.end_lineno]
                                 if line.strip()]
    return bodies


SOLUTIONS = solution_lines_by_function(REFERENCE)


def test_the_reference_marks_a_solution_in_every_function_students_write():
    assert set(SOLUTIONS) == {
        "one_hot", "linear_forward", "linear_backward", "sigmoid_forward", "sigmoid_backward",
        "softmax", "cross_entropy", "softmax_cross_entropy_backward", "init_params", "forward",
        "backward", "sgd_step", "predict", "train"}
    assert all(SOLUTIONS.values())


def test_committed_template_is_what_the_generator_produces():
    problems = template.differences(template.generate(str(ROOT / "reference")),
                                    str(ROOT / "student_template"))
    assert problems == [], ("student_template/ is out of date; run `python -m autograder "
                            "template`:\n" + "\n".join(problems))


def test_check_flag_exits_1_when_the_template_differs(tmp_path, capsys):
    copy = tmp_path / "student_template"
    shutil.copytree(ROOT / "student_template", copy,
                    ignore=shutil.ignore_patterns("__pycache__"))
    assert template.main(["--out", str(copy), "--check"]) == 0
    (copy / "neural_net.py").write_text(TEMPLATE.read_text().replace("TODO", "TO DO", 1))
    assert template.main(["--out", str(copy), "--check"]) == 1
    assert "neural_net.py: differs" in capsys.readouterr().err
    assert template.main(["--out", str(copy)]) == 0
    assert template.main(["--out", str(copy), "--check"]) == 0


def test_template_function_bodies_hold_only_the_todo_and_the_raise():
    bodies = function_bodies(TEMPLATE)
    for name, region_lines in SOLUTIONS.items():
        body = bodies[name]
        assert len(body) == 2, f"{name}: {body}"
        assert body[0].startswith("# TODO: ") and len(body[0]) > len("# TODO: ")
        assert body[1] == f'raise NotImplementedError("{name}: not implemented yet (see the TODO)")'
        leaked = [line for line in region_lines if line in body]
        assert not leaked, f"{name}: solution lines in the template: {leaked}"


def test_no_solution_line_appears_anywhere_in_the_template():
    text = TEMPLATE.read_text()
    # Lines without a letter or digit (a lone closing brace) also occur in docstrings.
    meaningful = {line for lines in SOLUTIONS.values() for line in lines
                  if re.search(r"[A-Za-z0-9]", line)}
    assert len(meaningful) > 40
    assert sorted(line for line in meaningful if line in text) == []


def test_template_keeps_every_signature_and_docstring_of_the_reference():
    reference = load_module("reference_nn_for_template_test", REFERENCE)
    handout = load_module("template_nn_under_test", TEMPLATE)
    for name in SOLUTIONS:
        assert inspect.signature(getattr(handout, name)) == inspect.signature(
            getattr(reference, name)), name
        assert getattr(handout, name).__doc__ == getattr(reference, name).__doc__, name


def test_every_template_function_raises_not_implemented():
    handout = load_module("template_nn_raising", TEMPLATE)
    X, W, b = np.ones((2, 3)), np.ones((4, 3)), np.zeros(4)
    Z = np.zeros((2, 4))
    Y = np.eye(4)[[0, 1]]
    params = {"W1": np.ones((5, 3)), "b1": np.zeros(5), "W2": np.ones((4, 5)), "b2": np.zeros(4)}
    cache = {"X": X, "Z1": np.zeros((2, 5)), "A1": np.zeros((2, 5)), "Z2": Z, "P": Z + 0.25}
    calls = {
        "one_hot": (np.array([0, 1]), 4),
        "linear_forward": (X, W, b),
        "linear_backward": (Z, X, W, b),
        "sigmoid_forward": (Z,),
        "sigmoid_backward": (Z, Z),
        "softmax": (Z,),
        "cross_entropy": (Z + 0.25, Y),
        "softmax_cross_entropy_backward": (Z + 0.25, Y),
        "init_params": (3, 5, 4, 0),
        "forward": (params, X),
        "backward": (params, cache, Y),
        "sgd_step": (params, params, 0.1),
        "predict": (params, X),
        "train": (params, X, np.array([0, 1]), X, np.array([0, 1]), 0.1, 1, 2, 0),
    }
    assert set(calls) == set(SOLUTIONS)
    for name, args in calls.items():
        with pytest.raises(NotImplementedError, match=f"^{name}: not implemented yet"):
            getattr(handout, name)(*args)


def test_the_other_handout_files_are_copied_unchanged():
    for name in template.COPIED_FILES:
        assert (ROOT / "student_template" / name).read_bytes() == (
            ROOT / "reference" / name).read_bytes(), name


# ---------------------------------------------------------------------------
# The generator on sources written here
# ---------------------------------------------------------------------------

SOURCE = '''\
def outer(x):
    """Doc."""
    # BEGIN SOLUTION: use x
    def helper(v):
        return v + 1
    return helper(x)
    # END SOLUTION


class Layer:
    def method(self, y):
        """Doc."""
        if y:
            # BEGIN SOLUTION: deeper
            return y
            # END SOLUTION
        return 0
'''

EXPECTED = '''\
def outer(x):
    """Doc."""
    # TODO: use x
    raise NotImplementedError("outer: not implemented yet (see the TODO)")


class Layer:
    def method(self, y):
        """Doc."""
        if y:
            # TODO: deeper
            raise NotImplementedError("method: not implemented yet (see the TODO)")
        return 0
'''


def test_strip_solutions_keeps_the_indentation_and_names_the_function():
    assert template.strip_solutions(SOURCE) == EXPECTED


@pytest.mark.parametrize("source, message", [
    ("def f():\n    # BEGIN SOLUTION: a\n    return 1\n", "never closed"),
    ("def f():\n    return 1\n    # END SOLUTION\n", "without BEGIN"),
    ("def f():\n    # BEGIN SOLUTION: a\n    # BEGIN SOLUTION: b\n    return 1\n"
     "    # END SOLUTION\n", "inside the region"),
    ("# BEGIN SOLUTION: a\nx = 1\n# END SOLUTION\n", "inside a function"),
    ("def f():\n    # BEGIN SOLUTION a\n    return 1\n    # END SOLUTION\n", "malformed"),
    ("def f():\n    # BEGIN SOLUTION:\n    return 1\n    # END SOLUTION\n", "malformed"),
])
def test_malformed_markers_are_refused(source, message):
    with pytest.raises(template.TemplateError, match=message):
        template.strip_solutions(source, "f.py")
