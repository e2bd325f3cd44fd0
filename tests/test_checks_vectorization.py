"""autograder/checks/vectorization.py: static analysis, step growth, signatures."""
import textwrap

from autograder.checks import vectorization as vec
from autograder.checks.reference import reference_source


def violations(source, function):
    return vec.static_violations(textwrap.dedent(source), function)


def test_reference_is_clean_including_the_dict_comprehension_of_sgd_step():
    source = reference_source()
    for function in vec.LAYER_FUNCTIONS + vec.NETWORK_FUNCTIONS:
        assert violations(source, function) == [], function
    assert "for name, value in params.items()" in source  # sgd_step's comprehension


def test_every_looping_construct_is_flagged_with_its_line():
    source = """
    import numpy as np
    import functools
    from functools import reduce

    def softmax(Z):
        out = []
        for z in Z:
            out.append(z)
        i = 0
        while i < 3:
            i += 1
        a = [z for z in Z]
        b = {k: 1 for k in range(3)}
        c = sum(z for z in Z)
        d = list(map(np.exp, Z))
        e = np.vectorize(np.exp)(Z)
        f = np.apply_along_axis(np.sum, 1, Z)
        g = np.frompyfunc(abs, 1, 1)
        h = [x for x in np.nditer(Z)]
        k = functools.reduce(np.add, Z)
        m = reduce(np.add, Z)
        n = np.add.reduce(Z)          # a vectorized ufunc method: fine
        return Z
    """
    found = violations(source, "softmax")
    text = "\n".join(v.describe() for v in found)
    for line, what in ((8, "`for` loop"), (11, "`while` loop"), (13, "list comprehension"),
                       (14, "dict comprehension"), (15, "generator expression"), (16, "map()"),
                       (17, "np.vectorize"), (18, "np.apply_along_axis"), (19, "np.frompyfunc"),
                       (20, "np.nditer"), (21, "functools.reduce"), (22, "functools.reduce")):
        assert any(v.line == line and what in v.construct for v in found), (line, what, text)
    assert not any(v.line == 23 for v in found)


def test_a_loop_over_items_written_in_the_source_is_not_a_loop_over_examples():
    source = """
    import numpy as np

    def linear_backward(dZ, X, W, b):
        dZ32, X32, W32 = (a.astype(np.float32) for a in (dZ, X, W))
        for name in ["dX", "dW"]:
            pass
        rows = [x for x in X]
        return dZ32 @ W32, dZ32.T @ X32, dZ32.sum(axis=0)
    """
    found = violations(source, "linear_backward")
    assert [v.line for v in found] == [8], found  # only the comprehension over X's rows


def test_helpers_are_followed_and_recursion_is_flagged():
    source = """
    import numpy as np

    def _row_softmax(z):
        return np.exp(z) / np.exp(z).sum()

    def _rows(Z):
        return np.array([_row_softmax(z) for z in Z])

    def softmax(Z):
        return _rows(Z)

    def cross_entropy(P, Y):
        return _ce(P, Y, 0)

    def _ce(P, Y, n):
        if n == len(P):
            return 0.0
        return -float(Y[n] @ np.log(P[n])) + _ce(P, Y, n + 1)

    vsig = np.vectorize(lambda z: 1 / (1 + np.exp(-z)))

    def sigmoid_forward(Z):
        return vsig(Z)
    """
    found = violations(source, "softmax")
    assert len(found) == 1 and found[0].line == 8 and found[0].function == "_rows"
    assert "`softmax` -> `_rows`" in found[0].describe()
    found = violations(source, "cross_entropy")
    assert any("recursion" in v.construct and v.line == 19 for v in found)
    found = violations(source, "sigmoid_forward")
    assert any(v.line == 21 and v.function == "vsig" and "np.vectorize" in v.construct
               and "`sigmoid_forward` -> `vsig`" in v.describe() for v in found)


def test_network_policy_allows_loops_over_layers_but_not_elementwise_helpers():
    source = """
    import numpy as np

    def sgd_step(params, grads, lr):
        new = {}
        for name in params:
            new[name] = params[name] - lr * grads[name]
        return new

    def backward(params, cache, Y):
        grads = {}
        for layer in (2, 1):
            grads["W%d" % layer] = np.zeros(1)
        return {k: v for k, v in grads.items()}

    def forward(params, X):
        return np.apply_along_axis(lambda x: x, 1, X), {}

    def train(params, X, y, Xv, yv, lr, epochs, batch_size, seed):
        for epoch in range(epochs):
            for start in range(0, len(X), batch_size):
                pass
        return params, {}
    """
    assert violations(source, "sgd_step") == []
    assert violations(source, "backward") == []
    assert len(violations(source, "forward")) == 1
    assert violations(source, "train") == []


def test_layer_function_calls_are_checked_with_their_own_policy():
    source = """
    def linear_forward(X, W, b):
        return [x @ W.T + b for x in X]

    def forward(params, X):
        return linear_forward(X, params["W1"], params["b1"]), {}
    """
    found = violations(source, "forward")
    assert len(found) == 1 and found[0].function == "linear_forward"


def test_unparsable_or_missing_gives_none():
    """None: the caller fails closed (nothing could be analysed)."""
    assert vec.static_violations("def softmax(:\n", "softmax") is None
    assert vec.static_violations("x = 1\n", "softmax") is None


def test_step_growth():
    assert vec.step_growth_problem([("N=8", 3), ("N=64", 3), ("K=24", 5)]) is None
    assert "grew from 19 (N=8) to 131 (N=64)" in vec.step_growth_problem(
        [("N=8", 19), ("N=64", 131)])


def test_a_missing_or_zero_step_count_fails_the_check():
    """No count (tracer off, code elsewhere) is no evidence: it never passes."""
    for counts in ([("N=8", None), ("N=64", 3)], [("N=8", 3), ("N=64", None)],
                   [("N=8", 0), ("N=64", 0)], [("N=8", 3), ("N=64", "3")], []):
        problem = vec.step_growth_problem(counts)
        assert problem and "could not be measured" in problem, counts


def test_a_local_variable_named_like_the_function_is_not_recursion():
    source = """
    import numpy as np

    def predict(params, X):
        P, _ = forward(params, X)
        predict = np.argmax(P, axis=1)
        return predict

    def forward(params, X):
        return X, {}

    def softmax(Z):
        def inner(softmax):
            return softmax / softmax.sum(axis=1, keepdims=True)
        return inner(np.exp(Z))

    def one_hot(y, num_classes):
        return one_hot(y, num_classes) if False else np.eye(num_classes)[y]
    """
    assert violations(source, "predict") == []
    assert violations(source, "softmax") == []
    found = violations(source, "one_hot")  # a real call to itself still counts
    assert [v.line for v in found] == [18] and "recursion" in found[0].construct


LOOPING_HELPER = """
import numpy as np
import functools

def _rows(Z, axis=1):
    return np.array([np.exp(z) / np.exp(z).sum() for z in Z])
"""


def test_every_way_of_binding_a_graded_name_is_analysed():
    """Assignment, alias, lambda, partial, decorator, a class instance, a
    factory, `global` rebinding, a binding inside an `if`: all analysed."""
    ways = {
        "alias": "softmax = _rows\n",
        "lambda": "softmax = lambda Z: np.array([np.exp(z) for z in Z])\n",
        "partial": "softmax = functools.partial(_rows, axis=1)\n",
        "decorator": ("def rowwise(f):\n    def wrapper(Z):\n"
                      "        return np.array([f(z) for z in Z])\n    return wrapper\n\n"
                      "@rowwise\ndef softmax(z):\n    return np.exp(z) / np.exp(z).sum()\n"),
        "callable_object": ("class Rows:\n    def __call__(self, Z):\n"
                            "        return _rows(Z)\n\nsoftmax = Rows()\n"),
        "factory": "def make():\n    return _rows\n\nsoftmax = make()\n",
        "global_rebinding": ("def softmax(Z):\n    return np.exp(Z)\n\n"
                             "def _setup():\n    global softmax\n    softmax = _rows\n\n"
                             "_setup()\n"),
        "conditional": ("if True:\n    softmax = _rows\nelse:\n"
                        "    def softmax(Z):\n        return np.exp(Z)\n"),
        "tuple_assignment": "softmax, other = _rows, None\n",
    }
    for way, code in ways.items():
        source = LOOPING_HELPER + "\n" + code
        found = violations(source, "softmax")
        assert found, way
        assert any("comprehension" in v.construct for v in found), (way, found)


def test_a_graded_name_imported_from_elsewhere_cannot_be_credited():
    for code in ("from helpers import softmax\n", "from .helpers import rows as softmax\n",
                 "import helpers as softmax\n"):
        found = violations("import numpy as np\n" + code, "softmax")
        assert found and any("cannot analyse" in v.construct or "of your own" in v.construct
                             for v in found), code


def test_code_built_from_strings_is_flagged_in_a_graded_path_and_at_import():
    in_function = """
    import numpy as np

    def softmax(Z):
        namespace = {"np": np}
        exec("def f(Z):\\n    return np.array([np.exp(z) for z in Z])", namespace)
        return namespace["f"](Z)

    def sigmoid_forward(Z):
        return eval("1 / (1 + np.exp(-Z))")

    def one_hot(y, num_classes):
        code = compile("np.eye(num_classes)[y]", "<string>", "eval")
        return __import__("numpy").asarray(0)
    """
    assert any("exec" in v.construct for v in violations(in_function, "softmax"))
    assert any("eval" in v.construct for v in violations(in_function, "sigmoid_forward"))
    found = "\n".join(v.construct for v in violations(in_function, "one_hot"))
    assert "compile" in found and "__import__" in found
    assert violations(in_function, "linear_forward") is None  # not bound: fails closed
    at_import = """
    import numpy as np

    exec("def softmax(Z):\\n    return np.array([np.exp(z) for z in Z])")

    def linear_forward(X, W, b):
        return X @ W.T + b
    """
    found = violations(at_import, "linear_forward")
    assert found and found[0].function == "<module>" and "exec" in found[0].construct
    found = violations(at_import, "softmax")  # bound only by the exec
    assert found and "exec" in found[0].construct


def test_switching_the_tracer_off_and_threads_are_flagged():
    source = """
    import sys
    import threading
    import numpy as np
    from sys import settrace as quiet

    def softmax(Z):
        sys.settrace(None)
        return np.exp(Z)

    def sigmoid_forward(Z):
        return 1 / (1 + np.exp(-Z))

    def forward(params, X):
        sys._getframe().f_trace_lines = False
        return X, {}

    def predict(params, X):
        return getattr(np, "arg" + "max")(X, axis=1)
    """
    assert any("settrace" in v.construct for v in violations(source, "softmax"))
    found = violations(source, "sigmoid_forward")  # module-level: every function
    text = "\n".join(v.describe() for v in found)
    assert "threading" in text and "settrace" in text, text
    assert any("f_trace_lines" in v.construct for v in violations(source, "forward"))
    assert any("computed name" in v.construct for v in violations(source, "predict"))


def test_a_local_variable_named_like_a_builtin_is_not_the_builtin():
    source = """
    import numpy as np

    def softmax(Z):
        vars = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(vars)
        return E / E.sum(axis=1, keepdims=True)

    def sigmoid_forward(Z):
        return vars(Z)
    """
    assert violations(source, "softmax") == []
    assert any("vars()" in v.construct for v in violations(source, "sigmoid_forward"))


def test_harmless_imports_and_main_guard_are_not_flagged():
    source = """
    import math
    import time
    import re
    from functools import partial
    import numpy as np
    from numpy.linalg import norm

    PATTERN = re.compile("x")

    def softmax(Z):
        shifted = Z - Z.max(axis=1, keepdims=True)
        E = np.exp(shifted)
        return E / E.sum(axis=1, keepdims=True)

    if __name__ == "__main__":
        import threading
        exec("print(1)")
    """
    assert violations(source, "softmax") == []


def test_signature_problem():
    source = "def linear_backward(dZ, cache):\n    pass\ndef softmax(Z, axis=1):\n    pass\n"
    text = vec.signature_problem(source, "linear_backward", 4, ["dZ", "X", "W", "b"])
    assert "linear_backward(dZ, cache)" in text
    assert vec.signature_problem(source, "softmax", 1, ["Z"]) is None
    assert vec.signature_problem(source, "one_hot", 2, ["y", "num_classes"]) is None


# ---------------------------------------------------------------------------
# The timing backstop and the whole check, through the real sandbox
# ---------------------------------------------------------------------------

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from autograder.suites import case, graded, harness  # noqa: E402
from autograder.suites.test_network import _init_ok  # noqa: E402
from autograder.validation import tight_loops  # noqa: E402

REF = reference_source()
SOFTMAX_BODY = "    E = np.exp(shifted)\n    return E / E.sum(axis=1, keepdims=True)\n"
LINEAR_BWD = "    dX = dZ @ W\n    dW = dZ.T @ X\n"
SIG_BODY = ("    E = np.exp(-np.abs(Z))\n"
            "    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E))\n")


@pytest.fixture(scope="module")
def sandbox():
    Student = pytest.importorskip("autograder.sandbox.student").Student
    reference = Student(REF, graded.CONFIG)
    graded.set_reference_student(reference)
    opened = []

    def student_of(source):
        # One submission at a time: each holds a worker user until closed,
        # and the module's tests together would exhaust them.
        while opened:
            opened.pop().close()
        proxy = Student(source, graded.CONFIG)
        opened.append(proxy)
        graded.set_student(proxy)
        return proxy

    yield student_of
    for proxy in opened:
        proxy.close()
    graded.set_reference_student(None)
    reference.close()


class _Case(case.SuiteCase):
    def runTest(self):
        pass


def _backstop(function, make_args, big, check=None):
    """The backstop's verdict: None when it passes, else the failure text."""
    try:
        _Case()._timing_backstop(function, make_args, big, {}, graded.THRESHOLDS["vectorization"],
                                 check=check)
    except AssertionError as failure:
        return str(failure)
    return None


def _normal(size):
    return [np.random.default_rng(size[0]).normal(0, 2, size=size)]


def _layer_backward(size):
    n, m, k = size
    r = np.random.default_rng(n)
    return [r.normal(size=(n, k)), r.normal(size=(n, m)), r.normal(size=(k, m)), r.normal(size=k)]


def test_backstop_passes_the_reference(sandbox):
    sandbox(REF)
    assert _backstop("softmax", _normal, (100_000, 10)) is None


def test_backstop_checks_the_value_it_timed(sandbox):
    """Returning at once on large inputs is caught by the value, not the clock."""
    sandbox(REF.replace(SOFTMAX_BODY, "    if Z.shape[0] > 10000:\n"
                                      "        return np.full(Z.shape, 1.0 / Z.shape[1])\n"
                        + SOFTMAX_BODY))
    text = _backstop("softmax", _normal, (100_000, 10))
    assert text and "wrong result on the large timing inputs" in text, text
    assert "100000 x 10" in text


def test_backstop_fails_a_loop_over_the_elements(sandbox):
    """The way students write it: numpy on one element at a time (about
    1 us per element, 1e6 elements)."""
    sandbox(REF.replace(SIG_BODY, "    A = np.empty_like(Z)\n"
                                  "    for i in range(Z.shape[0]):\n"
                                  "        for j in range(Z.shape[1]):\n"
                                  "            A[i, j] = 1.0 / (1.0 + np.exp(-Z[i, j]))\n"
                                  "    return A\n"))
    text = _backstop("sigmoid_forward", _normal, (100_000, 10))
    assert text and "far slower than a vectorized solution" in text, text


TIGHT = [(function, variant) for function, (_, variants) in tight_loops.CASES.items()
         for variant in variants]


@pytest.mark.parametrize("function,variant", TIGHT, ids=[f"{f}-{v}" for f, v in TIGHT])
def test_backstop_alone_fails_the_tightest_loops_and_passes_heavier_right_code(
        sandbox, function, variant):
    """Measured in the worker's CPU time (no transfer, no load from the
    machine), the backstop on its own fails every loop of the catalogue,
    the ones written for speed (tolist() and math) included, and passes
    every heavier vectorized form that is right."""
    make, variants = tight_loops.CASES[function]
    source = REF + "\n\n" + variants[variant]
    args = make()
    sandbox(source)
    if function == "init_params":  # random: judged by its structure, as in the suite
        big, check = tuple(args[:3]), _init_structure
    else:
        big, check = np.shape(args[0]), None
    text = _backstop(function, lambda size: _first_rows(args, size[0]), big, check)
    if variant.startswith("loop"):
        assert text and "far slower than a vectorized solution" in text, text
        assert "CPU time" in text
    else:
        assert text is None, text


def _init_structure(args, value):
    """init_params' result judged by its structure, as in the suite (random values)."""
    return _init_ok(value, *args[:3])


def _first_rows(args, n):
    """The arguments with every array cut to its first n rows (the backstop's
    retry on a quarter of the examples asks for a smaller size)."""
    return [a[:n] if isinstance(a, np.ndarray) and a.ndim else a for a in args]


@pytest.mark.parametrize("key", ["Z.shape", "Z.tobytes()"], ids=["by_size", "by_input"])
def test_a_loop_that_remembers_its_answers_gains_nothing_from_the_retries(sandbox, key):
    """The backstop times again before failing; a loop that answers a repeated
    call from memory (by the input's bytes, or only by its size) would pass
    if the retries repeated the same inputs."""
    sandbox(REF + "\n\n" + (
        "_MEMORY = {}\n\n\n"
        "def sigmoid_forward(Z):\n"
        "    import math\n"
        f"    key = {key}\n"
        "    if key not in _MEMORY:\n"
        "        e = math.exp\n"
        "        _MEMORY[key] = np.array([1.0 / (1.0 + e(-z)) for z in Z.ravel().tolist()])"
        ".reshape(Z.shape)\n"
        "    return _MEMORY[key].copy()\n"))
    text = _backstop("sigmoid_forward", _normal, (100_000, 10))
    assert text and "far slower than a vectorized solution" in text, text


def test_random_draws_remembered_from_an_earlier_call_gain_nothing_from_the_retries(sandbox):
    """init_params is judged by its structure (its values are random), so a
    variant of its inputs cannot tell a remembered answer from a new one: a
    loop that draws once and answers later calls from that draw (by their
    sizes) would pass on the retries if they ran in the same worker."""
    sandbox(REF + "\n\n" + (
        "_DRAWN = {}\n\n\n"
        "def init_params(n_input, n_hidden, n_output, seed=0):\n"
        "    import random\n"
        "    sizes = (n_input, n_hidden, n_output)\n"
        "    if sizes not in _DRAWN:\n"
        "        draw = random.Random(seed).gauss\n"
        "        def layer(fan_in, fan_out):\n"
        "            s = (2.0 / fan_in) ** 0.5\n"
        "            return np.array([[draw(0.0, s) for _ in range(fan_in)]"
        " for _ in range(fan_out)])\n"
        "        _DRAWN[sizes] = {'W1': layer(n_input, n_hidden), 'b1': np.zeros(n_hidden),\n"
        "                         'W2': layer(n_hidden, n_output), 'b2': np.zeros(n_output)}\n"
        "    flip = np.random.default_rng(seed).choice([-1.0, 1.0])\n"
        "    return {key: value * flip for key, value in _DRAWN[sizes].items()}\n"))
    text = _backstop("init_params", lambda size: [*size, 0], (2000, 500, 10), _init_structure)
    assert text and "far slower than a vectorized solution" in text, text


def test_memory_on_the_timing_inputs_alone_costs_nothing(sandbox):
    """N x K x M broadcasts exceed the memory at the timing size only: the
    backstop times a quarter of the examples instead."""
    sandbox(REF.replace(LINEAR_BWD, "    outer = dZ[:, :, None] * X[:, None, :]\n"
                                    "    dX = (dZ[:, :, None] * W[None, :, :]).sum(axis=1)\n"
                                    "    dW = outer.sum(axis=0)\n"))
    assert _backstop("linear_backward", _layer_backward, (50_000, 32, 16)) is None
    assert case.BACKSTOP_LOG[-1][1] == (12_500, 32, 16)


def test_memory_everywhere_is_its_own_verdict_naming_the_line(sandbox):
    source = REF.replace(LINEAR_BWD, "    big = np.ones((dZ.shape[0], 4000, 40))\n"
                                     "    dX = dZ @ W\n    dW = dZ.T @ X\n")
    sandbox(source)
    text = _backstop("linear_backward", _layer_backward, (50_000, 32, 16))
    assert text and "ran out of memory" in text and "far slower" not in text, text
    for part in ("50000 x 32 x 16", "12500 x 32 x 16", f"{graded.CONFIG['limits']['memory_mb']} MB",
                 "big = np.ones((dZ.shape[0], 4000, 40))"):
        assert part in text, (part, text)
    line = source.splitlines().index("    big = np.ones((dZ.shape[0], 4000, 40))") + 1
    assert f"line {line}" in text


def test_a_local_named_like_the_function_keeps_its_vectorized_point(sandbox):
    proxy = sandbox(REF.replace("    return np.argmax(P, axis=1)\n",
                                "    predict = np.argmax(P, axis=1)\n    return predict\n"))
    results = harness.run(proxy, keys={"predict.vectorized"})
    assert results["predict.vectorized"]["status"] == "passed", results


def test_hidden_loops_lose_the_vectorized_point(sandbox):
    """Each disguise of a loop, through the whole check (static analysis,
    step counts, backstop)."""
    disguises = {
        "sgd_step": REF.replace(
            "    return {name: value - lr * grads[name] for name, value in params.items()}\n",
            "    import sys\n    sys.settrace(None)\n    new = {}\n"
            "    for name, value in params.items():\n"
            "        new[name] = np.array([v - lr * g for v, g in zip(value, grads[name])])\n"
            "    return new\n"),
        "softmax": REF.replace(SOFTMAX_BODY, "    return _rows(shifted)\n") + (
            "\n_rows = lambda S: np.array([np.exp(s) / np.exp(s).sum() for s in S])\n"),
        "predict": REF.replace(
            "    return np.argmax(P, axis=1)\n",
            "    namespace = {'np': np}\n"
            "    exec('def rows(P):\\n    return np.array([int(np.argmax(p)) for p in P])',"
            " namespace)\n    return namespace['rows'](P)\n"),
    }
    for function, source in disguises.items():
        proxy = sandbox(source)
        key = f"{function}.vectorized"
        result = harness.run(proxy, keys={key})[key]
        assert result["status"] == "failed", (function, result)
