"""The validation catalogues are well-formed and mean what they say.

- every substitution applies exactly once to the current reference (a
  reference edit that breaks a variant fails here, not in a TA's hands);
- correct alternatives compile and give the reference's outputs on random
  inputs (or, for another init or shuffle, the reference's properties);
- every planted variant compiles, differs from the reference, and changes the
  behaviour of the function it claims to break (or, for the vectorization
  bugs, keeps the values and contains the loop construct);
- hostile entries are only compiled, never imported or run here.

Correct and planted variants are imported in-process in this test (they are
our own code); the grader itself never imports a submission.
"""
import ast
import copy
import os
import types
import warnings

import numpy as np
import pytest

from autograder.validation import (CALLS, CATALOGUE, FUNCTIONS, KINDS, build_source, dependants,
                                   materialize, reference_source, select, stub_source)
from autograder.config import load_config
from autograder.grading import runner
from autograder.suites import all_probes, load_suites
from autograder.suites.inputs import fixed_dataset, fixed_params
from autograder.validation.model import HOSTILE_DIR, NAME_RE, TEMPLATE_PATH

CORRECT = select(kinds=["correct"])
PLANTED = select(kinds=["planted"])
HOSTILE = select(kinds=["hostile"])
TESTS = load_config()["tests"]


def load(source, name):
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    exec(compile(source, f"{name}.py", "exec"), module.__dict__)
    return module


REFERENCE = load(reference_source(), "reference_under_test")


# ---------------------------------------------------------------------------
# Probes: fixed inputs for every function, from the suite modules
# ---------------------------------------------------------------------------

def probes(function):
    """A list of (label, args) for `function`; each call gets fresh copies."""
    return all_probes()[function]()


def canonical(value):
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.astype(np.float64, copy=True)
                if value.dtype.kind in "fiub" else value.copy())
    if isinstance(value, (np.floating, np.integer)):
        return ("scalar", float(value))
    if isinstance(value, (bool, int, float)):
        return ("scalar", float(value))
    if isinstance(value, (list, tuple)):
        return ("seq", type(value).__name__, [canonical(v) for v in value])
    if isinstance(value, dict):
        return ("dict", sorted((k, canonical(v)) for k, v in value.items()))
    return ("other", type(value).__name__)


def run_probe(module, function, args, calls=1):
    """Everything observable about calls of module.function(*args)."""
    args = copy.deepcopy(args)
    before = canonical(list(args))
    results = []
    # Underflow to 0 is fine (exp(-1000)); overflow, division by zero and nan are not.
    with warnings.catch_warnings(record=True) as caught, \
            np.errstate(over="warn", divide="warn", invalid="warn", under="ignore"):
        warnings.simplefilter("always")
        for _ in range(calls):
            try:
                results.append(canonical(getattr(module, function)(*copy.deepcopy(args))))
            except Exception as error:  # noqa: BLE001  (a raise is a behaviour too)
                results.append(("raised", type(error).__name__))
        # the inputs as the function left them (a separate call on `args` itself)
        try:
            getattr(module, function)(*args)
        except Exception:  # noqa: BLE001
            pass
    after = canonical(list(args))
    return {"results": results, "mutated": not same(before, after, 0, 0),
            "warnings": sorted({str(w.category.__name__) for w in caught})}


def same(a, b, rtol, atol):
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple) and a and a[0] == "array":
        if b[0] != "array" or a[1] != b[1] or a[2] != b[2]:
            return False
        if a[3].dtype.kind == "f" or b[3].dtype.kind == "f":
            return bool(np.allclose(a[3], b[3], rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a[3], b[3]))
    if isinstance(a, tuple) and a and a[0] == "scalar":
        return b[0] == "scalar" and bool(np.isclose(a[1], b[1], rtol=rtol, atol=atol,
                                                     equal_nan=True))
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(same(x, y, rtol, atol) for x, y in zip(a, b))
    return a == b


def behaviour(module, function, calls=2):
    return [(label, run_probe(module, function, args, calls)) for label, args in probes(function)]


# Probes where a correct answer is any finite value (the clip constant is a choice).
FINITE_ONLY = {"zeros in P"}


def same_behaviour(ref, var, rtol, atol, finite_only=()):
    for (label, r), (_, v) in zip(ref, var):
        if label in finite_only:
            values = [x for x in v["results"] if x[0] == "scalar"]
            if len(values) != len(v["results"]) or not np.all(np.isfinite([x[1] for x in values])):
                return False, label
            continue
        if r["mutated"] != v["mutated"] or r["warnings"] != v["warnings"]:
            return False, label
        if not same(r["results"], v["results"], rtol, atol):
            return False, label
    return True, None


REFERENCE_BEHAVIOUR = {f: behaviour(REFERENCE, f) for f in FUNCTIONS}


# ---------------------------------------------------------------------------
# The catalogue's shape
# ---------------------------------------------------------------------------

def test_counts():
    assert len(CORRECT) >= 5
    assert len(PLANTED) >= 30
    assert len(HOSTILE) >= 35


def test_entries_are_well_formed():
    for entry in CATALOGUE:
        assert NAME_RE.match(entry.name), entry.name
        assert entry.kind in KINDS
        assert entry.why, f"{entry.name} says nothing about what it is"
        assert set(entry.breaks) <= set(FUNCTIONS), entry.name
        expected = entry.expected
        mode = expected.mode
        named = (expected.lose_only + expected.loses + expected.may_lose_only)
        assert set(named) <= set(FUNCTIONS), entry.name
        # may_also_lose: functions, or test keys such as the end-to-end "train.accuracy"
        assert set(expected.may_also_lose) <= set(FUNCTIONS) | set(TESTS), entry.name
        if entry.kind == "correct":
            assert mode == "score" and expected.score == 100, entry.name
            assert not entry.breaks
        if entry.kind == "planted":
            assert entry.breaks, f"{entry.name} must say which function it breaks"
            assert mode == "lose_only" and set(entry.breaks) == set(expected.lose_only)
        for payload in entry.payloads:
            assert os.path.isfile(os.path.join(HOSTILE_DIR, payload)), payload


def test_call_graph_matches_the_reference():
    tree = ast.parse(reference_source())
    graph = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in FUNCTIONS:
            called = {n.func.id for n in ast.walk(node)
                      if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
                      and n.func.id in FUNCTIONS and n.func.id != node.name}
            if called:
                graph[node.name] = called
    assert graph == {k: set(v) for k, v in CALLS.items()}
    assert dependants("softmax") == ("forward", "predict", "train")
    assert dependants("predict") == ()


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e.name)
def test_every_entry_builds_and_compiles_as_declared(entry):
    source = build_source(entry)  # raises if a substitution does not match exactly once
    layout_only = entry.filename != "neural_net.py" or entry.folder or entry.extra_files
    if entry.kind != "correct" and entry.base == "reference" and not layout_only:
        assert source != reference_source().encode(), f"{entry.name} is the reference"
    try:
        compile(source, "neural_net.py", "exec")
        compiled = True
    except SyntaxError:
        compiled = False
    assert compiled == entry.compiles, entry.name


def test_every_graded_function_has_probes_and_a_suite():
    assert set(all_probes()) == set(FUNCTIONS)
    decorated = {runner.test_attribute(t, "__graded_key__") for t in runner.iter_tests(load_suites())}
    assert decorated == set(load_config()["tests"])


def test_stub_is_the_api_raising_not_implemented():
    stub = load(stub_source(), "stub_under_test")
    for function in FUNCTIONS:
        with pytest.raises(NotImplementedError):
            getattr(stub, function)(*probes(function)[0][1])


def test_payload_files_compile_on_their_own():
    for name in sorted(os.listdir(HOSTILE_DIR)):
        if name.endswith(".py"):
            with open(os.path.join(HOSTILE_DIR, name), encoding="utf-8") as handle:
                compile(handle.read(), name, "exec")


def test_materialize_writes_the_declared_layout(tmp_path):
    by_name = {e.name: e for e in CATALOGUE}
    path = materialize(by_name["nested_with_macos_junk"], str(tmp_path / "a"))
    assert path == str(tmp_path / "a" / "hw5" / "neural_net.py")
    assert (tmp_path / "a" / "__MACOSX" / "hw5" / "._neural_net.py").is_file()
    path = materialize(by_name["wrong_file_name"], str(tmp_path / "b"))
    assert os.listdir(tmp_path / "b") == ["neuralnet.py"]
    path = materialize(by_name["non_utf8_bytes"], str(tmp_path / "c"))
    with open(path, "rb") as handle:
        data = handle.read()
    assert b"r\xe9sum\xe9" in data
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = materialize(by_name["empty_file"], str(tmp_path / "d"))
    assert os.path.getsize(path) == 0


def test_template_when_present_compiles():
    if not os.path.exists(TEMPLATE_PATH):
        pytest.skip("student_template/neural_net.py not generated yet")
    with open(TEMPLATE_PATH, "rb") as handle:
        compile(handle.read(), "neural_net.py", "exec")


# ---------------------------------------------------------------------------
# Correct alternatives: the reference's outputs (or properties)
# ---------------------------------------------------------------------------

def _init_properties(module, reference):
    for M, H, K in ((784, 64, 10), (6, 5, 3)):
        params = module.init_params(M, H, K, 0)
        again = module.init_params(M, H, K, 0)
        other = module.init_params(M, H, K, 1)
        ref = reference.init_params(M, H, K, 0)
        assert sorted(params) == ["W1", "W2", "b1", "b2"]
        for key in params:
            assert params[key].shape == ref[key].shape and params[key].dtype == np.float64
            assert np.array_equal(params[key], again[key]), "not deterministic for a seed"
        assert not np.array_equal(params["W1"], other["W1"]), "the seed is ignored"
        assert not params["b1"].any() and not params["b2"].any()
        for key in ("W1", "W2"):
            ratio = params[key].std() / ref[key].std()
            assert 0.3 < ratio < 3.0, f"{key} scale {ratio:.2f}x the reference's"
            assert len(np.unique(params[key].round(12), axis=0)) == params[key].shape[0]


def _train_properties(module, reference):
    X, y = fixed_dataset(120)
    Xv, yv = fixed_dataset(40, seed=1)
    for seed in (0, 1):
        args = (fixed_params(), X, y, Xv, yv, 0.5, 10, 8, seed)
        params, history = module.train(*copy.deepcopy(args))
        ref_params, ref_history = reference.train(*copy.deepcopy(args))
        assert sorted(params) == sorted(ref_params)
        for key in params:
            assert params[key].shape == ref_params[key].shape
        assert sorted(history) == sorted(ref_history)
        for key in history:
            assert len(history[key]) == 10 and np.all(np.isfinite(history[key]))
        assert history["train_loss"][-1] < history["train_loss"][0]
        assert abs(history["train_loss"][-1] - ref_history["train_loss"][-1]) < 0.15
        assert abs(history["val_acc"][-1] - ref_history["val_acc"][-1]) <= 0.15
        again = module.train(*copy.deepcopy(args))[1]
        assert again == history, "train is not reproducible for a seed"


@pytest.mark.parametrize("entry", CORRECT, ids=lambda e: e.name)
def test_correct_alternative_matches_the_reference(entry):
    module = load(build_source(entry), entry.name)
    for function in FUNCTIONS:
        if function in entry.differs:
            continue
        ok, label = same_behaviour(REFERENCE_BEHAVIOUR[function], behaviour(module, function),
                                   rtol=1e-4, atol=1e-5, finite_only=FINITE_ONLY)
        assert ok, f"{entry.name}: {function} differs from the reference on probe {label}"
    if "init_params" in entry.differs:
        _init_properties(module, REFERENCE)
    if "train" in entry.differs:
        _train_properties(module, REFERENCE)


# ---------------------------------------------------------------------------
# Planted bugs: the claimed function really behaves differently
# ---------------------------------------------------------------------------

LOOP_CALLS = {"vectorize", "apply_along_axis", "map", "frompyfunc"}


def _loop_constructs(tree, function, seen=None):
    """Loop constructs in `function` and in the module-level helpers it calls."""
    seen = set() if seen is None else seen
    seen.add(function)
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    found = []
    for node in ast.walk(defs[function]):
        if isinstance(node, (ast.For, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
                             ast.GeneratorExp)):
            found.append(type(node).__name__)
        if isinstance(node, ast.Call):
            callee = node.func.attr if isinstance(node.func, ast.Attribute) else \
                getattr(node.func, "id", None)
            if callee in LOOP_CALLS:
                found.append(callee)
            if callee == function:
                found.append("recursion")
            elif callee in defs and callee not in seen and callee not in FUNCTIONS:
                found += _loop_constructs(tree, callee, seen)
    return found


@pytest.mark.parametrize("entry", PLANTED, ids=lambda e: e.name)
def test_planted_bug_changes_the_function_it_claims_to_break(entry):
    module = load(build_source(entry), entry.name)
    if entry.vectorization:
        tree = ast.parse(build_source(entry))
        for function in entry.breaks:
            assert _loop_constructs(tree, function), f"{entry.name}: no loop in {function}"
            assert not _loop_constructs(ast.parse(reference_source()), function)
            ok, label = same_behaviour(REFERENCE_BEHAVIOUR[function],
                                       behaviour(module, function), rtol=1e-9, atol=1e-12)
            assert ok, f"{entry.name}: the loop should keep {function}'s values ({label})"
        return
    for function in entry.breaks:
        ok, _ = same_behaviour(REFERENCE_BEHAVIOUR[function], behaviour(module, function),
                               rtol=1e-6, atol=1e-9)
        assert not ok, f"{entry.name}: {function} behaves exactly like the reference's"


@pytest.mark.parametrize("entry", PLANTED, ids=lambda e: e.name)
def test_planted_bug_leaves_unrelated_functions_alone(entry):
    """Functions that neither are broken nor call a broken one keep their behaviour."""
    module = load(build_source(entry), entry.name)
    touched = (set(entry.breaks) | set(dependants(*entry.breaks))
               | {name.split(".")[0] for name in entry.expected.may_also_lose})
    for function in FUNCTIONS:
        if function in touched:
            continue
        ok, label = same_behaviour(REFERENCE_BEHAVIOUR[function], behaviour(module, function),
                                   rtol=1e-9, atol=1e-12)
        assert ok, f"{entry.name}: {function} changed too (probe {label})"
