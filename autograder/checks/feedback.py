"""The markdown a student reads when a test fails (Gradescope renders it).

A message names the function, says what is wrong in one sentence, lists the
inputs (names, shapes, dtypes), what was expected and what came back, and the
likely mistake when the numbers show one. `hidden=True` keeps the sentence and
the likely mistake but never shows inputs, expected or returned values.
"""
import numpy as np

from autograder.checks.compare import describe, shape_str

HIDDEN_NOTE = ("_This is a hidden test: its inputs and expected values are not shown. "
               "The visible tests of this function check the same thing on other inputs._")


def input_summary(value):
    """'float64 (6, 4)' for arrays; the value itself for small scalars."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return f"{value.dtype} scalar {value.item():.6g}"
        return f"{value.dtype} {shape_str(value.shape)}"
    if isinstance(value, dict):
        inner = ", ".join(f"'{k}': {input_summary(v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def format_inputs(inputs):
    """inputs: list of (name, value) pairs -> '`X` float64 (6, 4), `lr` 0.5'."""
    return ", ".join(f"`{name}` {input_summary(value)}" for name, value in inputs)


def format_array(value, max_rows=4, max_cols=6, precision=4):
    """A small excerpt of an array (top-left corner) as text."""
    a = np.asarray(value)
    if a.ndim == 0:
        return np.array2string(a, precision=precision)
    note = ""
    if a.ndim == 1 and a.shape[0] > max_cols * 2:
        a = a[:max_cols * 2]
        note = f"   (first {a.shape[0]} of {value.shape[0]} entries)"
    elif a.ndim == 2 and (a.shape[0] > max_rows or a.shape[1] > max_cols):
        a = a[:max_rows, :max_cols]
        note = f"   (top-left {a.shape[0]}x{a.shape[1]} corner of {shape_str(value.shape)})"
    elif a.ndim > 2:
        a = a.reshape(-1)[:max_cols * 2]
        note = f"   (first {a.size} entries of {shape_str(value.shape)})"
    text = np.array2string(a, precision=precision, suppress_small=False,
                           max_line_width=100, threshold=10000)
    return text + note


def format_value(value):
    """Arrays as excerpts, everything else described in words."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu" and value.ndim >= 1:
        return format_array(value)
    if isinstance(value, (float, int)) and not isinstance(value, bool):
        return f"{value:.10g}"
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "fiu":
        return f"{value.item():.10g}"
    return describe(value)


def _block(label, value):
    text = format_value(value)
    if "\n" in text or isinstance(value, np.ndarray):
        return f"- {label}:\n\n```\n{text}\n```"
    return f"- {label}: {text}"


def message(function, problem, *, inputs=None, expected=None, got=None,
            mistake=None, details=(), hidden=False, call=None):
    """The markdown of one failure.

    function: the graded function's name; problem: one sentence;
    inputs: [(name, value)]; expected / got: values (arrays are excerpted);
    mistake: the likely mistake (a sentence) or None; details: extra lines;
    call: how the function was called, e.g. "linear_backward(dZ, X, W, b)".
    """
    head = f"**{function}**: {problem}"
    lines = [head, ""]
    if not hidden:
        if call:
            lines.append(f"- call: `{call}`")
        if inputs:
            lines.append(f"- inputs: {format_inputs(inputs)}")
        if expected is not None:
            lines.append(_block("expected", expected))
        if got is not None:
            lines.append(_block("got", got))
        for line in details:
            lines.append(f"- {line}")
    if mistake:
        lines.append(f"- **likely mistake**: {mistake}")
    if hidden:
        lines.append("")
        lines.append(HIDDEN_NOTE)
    return "\n".join(lines).rstrip() + "\n"
