"""Judging a composite (`forward`, `backward`) on the student's OWN layer functions.

A mistake written in `linear_forward` must cost `linear_forward`'s tests, not
`forward`'s too. So a composite is judged on how it composes, not on the
values its layers happen to produce:

- `forward` stage by stage: every value it caches must equal what the
  student's own layer function gives on the student's own previous value
  (`Z1` = linear_forward(X, W1, b1), `A1` = sigmoid_forward(Z1), ...), or
  the right value of that stage (a stage written inline, correctly);
- `backward` returns no intermediates: its gradients must equal one of the
  compositions that take, at every stage, either the student's own backward
  layer or the right formula (`backward_options`).

Fail closed: when a layer the composite relies on crashes or returns
something unusable, the composite is "not judged" and earns nothing until
that layer is fixed. Nothing here shows a value to the student; the suites
decide what a (hidden) test may print.

Shapes: N examples, M inputs, H hidden units, K classes.
"""
import ast
from dataclasses import dataclass, field
from typing import Any, Optional, Tuple

import numpy as np

from autograder.sandbox.student import SubmissionError
from autograder.suites.case import matches
from autograder.checks import compare


NOT_CALLED = object()  # own(...) for a layer the composite never calls: its stage is inline


def calls_of(source_tree, function, callees):
    """The names among `callees` that `function` mentions, directly or through
    the module's other functions it mentions (source_tree: a parsed module)."""
    defs = {node.name: node for node in getattr(source_tree, "body", ())
            if isinstance(node, ast.FunctionDef)}
    found, seen, pending = set(), set(), [function]
    while pending:
        name = pending.pop()
        if name in seen or name not in defs:
            continue
        seen.add(name)
        names = {n.id for n in ast.walk(defs[name]) if isinstance(n, ast.Name)}
        found |= names & set(callees)
        pending.extend((names & set(defs)) - set(callees))
    return found


@dataclass(frozen=True)
class Stage:
    """One line of a composite: `key = callee(*args)` (names of values)."""

    key: str
    callee: str
    args: Tuple[str, ...]

    @property
    def call(self):
        return f"{self.callee}({', '.join(self.args)})"


# forward's lines, in order: each cache entry is a layer of the previous ones
FORWARD_STAGES = (Stage("Z1", "linear_forward", ("X", "W1", "b1")),
                  Stage("A1", "sigmoid_forward", ("Z1",)),
                  Stage("Z2", "linear_forward", ("A1", "W2", "b2")),
                  Stage("P", "softmax", ("Z2",)))


@dataclass
class Verdict:
    """How a composite composes.

    status: "ok"; "differs" (the composite's own mistake, at `stage`);
    "not_judged" (the layer `callee` crashed or returned something unusable:
    `reason`); "unknown" (no way to tell here: the students' self-check
    without the right formulas).
    For "differs": `expected` is what the student's own layer gives, `got`
    what the composite produced, `right` the right value (None if unknown).
    """

    status: str
    stage: Optional[Stage] = None
    callee: Optional[str] = None
    reason: str = ""
    expected: Any = None
    got: Any = None
    right: Any = None
    extra: dict = field(default_factory=dict)


def usable(value, shape):
    """A real-valued, finite ndarray of exactly this shape."""
    return (isinstance(value, np.ndarray) and value.dtype.kind in "fiu"
            and value.shape == tuple(shape)
            and bool(np.all(np.isfinite(value.astype(np.float64)))))


def unusable_reason(value, shape):
    """Why a layer's result cannot be composed with (str), for a message."""
    if (isinstance(value, np.ndarray) and value.dtype.kind in "fiu"
            and value.shape == tuple(shape)):
        return "it returned nan or inf"
    return (f"it returned {compare.describe(value)} where an array of shape "
            f"{compare.shape_str(tuple(shape))} was needed")


def judge_chain(stages, inputs, produced, shapes, own, right, args_after=None):
    """Verdict of a composite that exposes every intermediate (forward).

    stages: Stage list in order; inputs: {name: array} of the composite's
    arguments (X, W1, ...); produced: {key: value} the composite returned for
    each stage (its cache); shapes: {key: shape}; own(callee, *args): the
    student's layer function (may raise SubmissionError; NOT_CALLED when the
    composite never calls that function: the stage is inline); right(stage, args):
    the right value of the stage on these args, or None when unknown here.
    args_after(callee, *args): the arguments as the student's layer leaves
    them (or None): a later layer that modifies its input in place changes
    what the cache holds, which is that layer's mistake, not the composite's.
    Stops at the first stage that is not consistent.
    """
    known = dict(inputs)
    for stage in stages:
        args = [known[name] for name in stage.args]
        got = produced.get(stage.key)
        true = right(stage, args)
        if true is not None and matches(got, true):
            known[stage.key] = got
            continue
        try:
            theirs = own(stage.callee, *args)
        except SubmissionError as error:
            return Verdict("not_judged", stage, stage.callee, reason=str(error).strip())
        if theirs is NOT_CALLED:
            if true is None:
                return Verdict("unknown", stage, stage.callee)
            return Verdict("differs", stage, stage.callee, expected=true, got=got, right=true)
        if not usable(theirs, shapes[stage.key]):
            return Verdict("not_judged", stage, stage.callee,
                           reason=unusable_reason(theirs, shapes[stage.key]))
        if matches(got, theirs):
            known[stage.key] = got
            continue
        if args_after is not None and _modified_later(stages, stage, known, theirs, got,
                                                      args_after):
            known[stage.key] = theirs  # what the composite computed, before the change
            continue
        if true is None:
            return Verdict("unknown", stage, stage.callee)
        return Verdict("differs", stage, stage.callee, expected=theirs, got=got, right=true)
    return Verdict("ok")


def _modified_later(stages, stage, known, theirs, got, args_after):
    """True if a later layer, given `theirs` as its input, leaves that input
    equal to `got` (the cached value): it modified it in place."""
    later_known = dict(known, **{stage.key: theirs})
    for later in stages[stages.index(stage) + 1:]:
        if stage.key not in later.args or not all(a in later_known for a in later.args):
            continue
        try:
            after = args_after(later.callee, *[later_known[a] for a in later.args])
        except SubmissionError:
            continue
        if after is not None and matches(got, after[later.args.index(stage.key)]):
            return True
    return False


# ---------------------------------------------------------------------------
# backward: every composition of the student's own layers and right formulas
# ---------------------------------------------------------------------------

BACKWARD_CALLEES = ("softmax_cross_entropy_backward", "linear_backward", "sigmoid_backward")


def _add(options, value, via):
    """Keep (value, via) unless an equal value is already there."""
    for kept, _ in options:
        if matches(value, kept, tol=1e-12):
            return
    options.append((value, via))


def backward_options(params, cache, Y, own, formulas):
    """What a `backward` that composes correctly may return, and which layers broke.

    params: W1 (H, M), b1 (H,), W2 (K, H), b2 (K,); cache: X (N, M), A1 (N, H),
    P (N, K); Y (N, K); own(callee, *args): the student's layer (may raise
    SubmissionError); formulas: an object with softmax_cross_entropy_backward,
    linear_backward (dZ, X, W) -> (dX, dW, db) and sigmoid_backward, or None
    (then only the student's own layers are composed).

    Returns (options, broken): options = [(grads dict, via)] where via names
    the student's layers whose result differs from the right formula and
    was used; broken = [(callee, reason)] of layers that crashed or returned
    an unusable value on the way.
    """
    X, A1, P = cache["X"], cache["A1"], cache["P"]
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    n, h = A1.shape
    k, m = W2.shape[0], X.shape[1]
    broken = []

    def student(callee, shapes, *args, pick=None):
        try:
            value = own(callee, *args)
        except SubmissionError as error:
            broken.append((callee, str(error).strip()))
            return None
        if value is NOT_CALLED:
            return None
        parts = value if isinstance(value, (tuple, list)) else (value,)
        if len(shapes) > 1 and not (isinstance(value, (tuple, list))
                                    and len(value) == len(shapes)):
            broken.append((callee, f"it returned {compare.describe(value)} where a tuple "
                                   f"of {len(shapes)} arrays was needed"))
            return None
        for part, shape in zip(parts, shapes):
            if not usable(part, shape):
                broken.append((callee, unusable_reason(part, shape)))
                return None
        return tuple(parts) if len(shapes) > 1 else parts[0]

    def stage(right_value, theirs, via, callee):
        out = []
        if right_value is not None:
            _add(out, right_value, via)
        if theirs is not None:
            _add(out, theirs, via + (callee,) if (right_value is None or not matches(
                theirs, right_value, tol=1e-12)) else via)
        return out

    sce = "softmax_cross_entropy_backward"
    options = []
    for dZ2, via2 in stage(formulas.softmax_cross_entropy_backward(P, Y) if formulas else None,
                           student(sce, [(n, k)], P, Y), (), sce):
        second = stage(formulas.linear_backward(dZ2, A1, W2) if formulas else None,
                       student("linear_backward", [(n, h), (k, h), (k,)], dZ2, A1, W2, b2),
                       via2, "linear_backward")
        for (dA1, dW2, db2), via3 in second:
            for dZ1, via4 in stage(formulas.sigmoid_backward(dA1, A1) if formulas else None,
                                   student("sigmoid_backward", [(n, h)], dA1, A1),
                                   via3, "sigmoid_backward"):
                first = stage(formulas.linear_backward(dZ1, X, W1) if formulas else None,
                              student("linear_backward", [(n, m), (h, m), (h,)],
                                      dZ1, X, W1, b1),
                              via4, "linear_backward")
                for (_, dW1, db1), via5 in first:
                    options.append(({"W1": dW1, "b1": db1, "W2": dW2, "b2": db2}, via5))
    return options, broken


def closest_option(grads, options, keys=("W1", "b1", "W2", "b2")):
    """(option grads, keys that differ) of the option `grads` agrees with most;
    among equals, the one that uses the most of the student's own layers."""
    best = None
    for value, via in options:
        differing = [key for key in keys if not matches(grads.get(key), value[key])]
        rank = (len(differing), -len(via))
        if best is None or rank < best[0]:
            best = (rank, value, differing)
    return (None, list(keys)) if best is None else (best[1], best[2])


def broken_callee(probes, own, twice=False):
    """(callee, reason) of the first layer that crashes or returns an unusable
    value on ordinary inputs (or, with twice=True, another value when called
    again with the same inputs: it keeps something between calls), else None.

    probes: [(callee, args, shapes)] with shapes a list (one per returned array).
    """
    for callee, args, shapes in probes:
        try:
            value = own(callee, *args)
            again = own(callee, *args) if twice else value
        except SubmissionError as error:
            return callee, str(error).strip()
        if value is NOT_CALLED:
            continue
        parts = value if len(shapes) > 1 else (value,)
        if len(shapes) > 1 and not (isinstance(value, (tuple, list))
                                    and len(value) == len(shapes)):
            return callee, (f"it returned {compare.describe(value)} where a tuple of "
                            f"{len(shapes)} arrays was needed")
        for part, shape in zip(parts, shapes):
            if not usable(part, shape):
                return callee, unusable_reason(part, shape)
        if not matches(again, value, tol=1e-12):
            return callee, ("it returned another result when called again with the same "
                            "inputs (something is kept between calls)")
    return None
