"""autograder/checks/compare.py and feedback.py: structure checks, errors, markdown."""
import numpy as np

from autograder.checks import compare, feedback


class Opaque:
    def __init__(self, type_name):
        self.type_name = type_name


def test_array_problem_exact_shape_and_dtype():
    a = np.zeros((3, 4))
    assert compare.array_problem(a, (3, 4)) is None
    assert "shape (4, 3)" in compare.array_problem(a.T, (3, 4), name="dW")
    # no broadcasting: (1,) is not (3, 3)
    assert compare.array_problem(np.zeros(1), (3, 3)) is not None
    assert "float32" in compare.array_problem(a.astype(np.float32), (3, 4))
    assert compare.array_problem(a.astype(np.float32), (3, 4), kind="anyfloat") is None
    assert compare.array_problem(np.zeros(3, dtype=int), (3,), kind="int") is None
    assert "a str" in compare.array_problem(Opaque("str"), (3,))
    assert "None" in compare.array_problem(None, (3,))


def test_scalar_problem():
    assert compare.scalar_problem(1.5) is None
    assert compare.scalar_problem(np.array(1.5)) is None
    assert compare.scalar_problem(True) is not None
    assert ".item()" in compare.scalar_problem(np.array([1.5]))


def test_relative_errors_do_not_pass_zero_against_tiny():
    # np.allclose(1e-9, 0) is True; a relative error is not fooled
    assert compare.rel_error(np.zeros(3), np.full(3, 1e-9)) == 1.0
    assert compare.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert compare.sym_rel_error(np.ones(3), -np.ones(3)) == 1.0
    assert compare.rel_error(np.ones(3), np.ones(4)) == np.inf
    assert compare.rel_error(np.array([np.nan, 1.0]), np.ones(2)) == np.inf


def test_nonfinite_problem_counts():
    text = compare.nonfinite_problem(np.array([1.0, np.nan, np.inf, -np.inf]), "P")
    assert "1 nan" in text and "2 inf" in text
    assert compare.nonfinite_problem(np.ones(3)) is None


def test_changed_arguments_sees_dict_entries_and_keys():
    a = {"W1": np.ones(2), "b1": np.zeros(2)}
    after = {"W1": np.ones(2), "b1": np.array([0.0, 1.0])}
    assert compare.changed_arguments([a], [after], ["params"]) == ["params['b1']"]
    assert compare.changed_arguments([a], [dict(a, extra=1)], ["params"]) == ["params (its keys)"]
    X = np.ones((2, 2))
    assert compare.changed_arguments([X, 3], [X.copy(), 3], ["X", "k"]) == []
    assert compare.changed_arguments([X], [X.astype(np.float32)], ["X"]) == ["X"]


def test_feedback_visible_and_hidden():
    X = np.arange(12.0).reshape(3, 4)
    text = feedback.message("softmax", "rows do not sum to 1", inputs=[("Z", X)],
                            expected=X, got=X * 2, mistake="normalize each row",
                            call="softmax(Z)")
    assert text.startswith("**softmax**: rows do not sum to 1")
    assert "`Z` float64 (3, 4)" in text and "```" in text and "likely mistake" in text
    hidden = feedback.message("softmax", "rows do not sum to 1", inputs=[("Z", X)],
                              expected=X, got=X * 2, mistake="normalize each row",
                              hidden=True, call="softmax(Z)")
    assert "hidden test" in hidden and "likely mistake" in hidden
    for leak in ("- inputs", "- expected", "- got", "```", "(3, 4)", "softmax(Z)"):
        assert leak not in hidden


def test_format_array_excerpts_large_arrays():
    text = feedback.format_array(np.zeros((50, 50)))
    assert "corner of (50, 50)" in text and text.count("\n") < 8
