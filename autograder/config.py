"""autograder/config.json: the one place for limits, graded functions and thresholds.

`load_config()` is the only reader. It checks the file against SCHEMA below,
whose every key carries a one-line description (`python -m autograder
calibrate` and `build` write it back with `dump_config`). A misspelt or
missing key, a value of the wrong type, or test weights that do not total
100 fail loudly with the key's dotted name.

The `functions` section is the registry of graded functions: per function,
the graded functions it calls, its vectorization policy and its tests with
their weights. From it come the flat `tests` mapping the suites decorate
with (key "function.test", number "i.j" in registry order), the validation
model's FUNCTIONS and CALLS, and the vectorization policies.
"""
import functools
import json
import numbers

from autograder import CONFIG_PATH

VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
POLICIES = ("layer", "network", "none")
TOTAL_POINTS = 100


class ConfigError(ValueError):
    """config.json does not match the schema; the text names the key."""


class Leaf:
    """A value: its type (or allowed values), its description, required or not."""

    def __init__(self, kind, description, required=True, choices=None):
        self.kind, self.description = kind, description
        self.required, self.choices = required, choices

    def check(self, value, where):
        if self.choices is not None and value not in self.choices:
            raise ConfigError(f"config.json: {where} is {value!r}; it must be one of "
                              f"{', '.join(map(repr, self.choices))}")
        if self.kind is not None and not _is(value, self.kind):
            raise ConfigError(f"config.json: {where} should be {_kind_name(self.kind)}, "
                              f"got {type(value).__name__}")


class Section:
    """A dict with fixed keys, each with its own schema."""

    def __init__(self, description, keys, required=True):
        self.description, self.keys, self.required = description, keys, required

    def check(self, value, where):
        if not isinstance(value, dict):
            raise ConfigError(f"config.json: {where or 'the file'} should be an object")
        for key in value:
            if key not in self.keys:
                near = [k for k in self.keys if _close(k, key)]
                hint = f" (did you mean {near[0]!r}?)" if near else ""
                raise ConfigError(f"config.json: unknown key {_join(where, key)}{hint}")
        for key, schema in self.keys.items():
            if key in value:
                schema.check(value[key], _join(where, key))
            elif schema.required:
                raise ConfigError(f"config.json: {_join(where, key)} is missing "
                                  f"({schema.description})")


class MappingOf:
    """A dict whose keys are names chosen by staff, each value of one schema."""

    def __init__(self, description, value, required=True):
        self.description, self.value, self.required = description, value, required

    def check(self, value, where):
        if not isinstance(value, dict) or not value:
            raise ConfigError(f"config.json: {where} should be a non-empty object")
        for key, item in value.items():
            self.value.check(item, _join(where, key))


TEST = Section("one graded test", {
    "weight": Leaf("number", "points of the test (> 0)"),
    "visibility": Leaf(str, "who sees it on Gradescope (default visible; the handout's "
                            "self-check never contains the others)", required=False,
                       choices=VISIBILITIES),
    "number": Leaf(str, "its number on Gradescope; written only in the handout's copy, "
                        "elsewhere it is \"<function's place>.<test's place>\"", required=False),
    "requires": Leaf(list, "names of tests of the same function (visible, not gated "
                           "themselves) that must pass for this one to earn its points: a "
                           "structural property (loop-free, arguments unchanged, shapes) is "
                           "worth something only in a function that works", required=False),
    "consistent_with": Leaf(list, "\"function.test\" keys (visible, not gated themselves): "
                                  "when this test passes only by agreeing with the student's "
                                  "own other functions (not with the exact answer), it earns "
                                  "its points only if these pass", required=False),
})

FUNCTION = Section("one graded function of neural_net.py", {
    "calls": Leaf(list, "the graded functions it calls (checked against the reference's "
                        "code by tests/test_catalog.py)"),
    "vectorization": Leaf(str, "loop policy: layer = no loop of any kind; network = may loop "
                               "over the parameter dict or layers; none = may loop (train)",
                          choices=POLICIES),
    "tests": MappingOf("its tests: name -> weight and visibility; the suite method is "
                       "decorated @graded('<function>.<name>')", TEST),
})

LIMITS = Section("the sandbox's limits", {
    "call_timeout_s": Leaf("number", "limit of one call into the submission, in CPU "
                                     "seconds of the worker (wall-clock cap 3 times as long)"),
    "startup_timeout_s": Leaf("number", "limit for a worker to import the submission and "
                                        "answer, in CPU seconds (wall-clock cap 3 times as long)"),
    "train_timeout_s": Leaf("number", "limit of one call of train, in CPU seconds "
                                      "(wall-clock cap 3 times as long)"),
    "test_time_s": Leaf("number", "limit of one test, all its calls and worker starts "
                        "together: CPU seconds of the worker where they can be read (with "
                        "a wall-clock cap 3 times as long), else wall-clock seconds"),
    "memory_mb": Leaf("number", "address-space limit of a worker (RLIMIT_AS)"),
    "cpu_s": Leaf("number", "CPU-time limit of a worker (RLIMIT_CPU)"),
    "nproc": Leaf("number", "processes and threads of the worker user (RLIMIT_NPROC)"),
    "file_size_mb": Leaf("number", "largest file a worker may write (RLIMIT_FSIZE); bounds "
                                   "its captured output too"),
    "open_files": Leaf("number", "open file descriptors of a worker (RLIMIT_NOFILE)"),
    "output_head_kb": Leaf("number", "how much of the start of a call's output is kept"),
    "output_tail_kb": Leaf("number", "how much of the end of a call's output is kept"),
    "max_reply_mb": Leaf("number", "largest reply a worker may send"),
    "max_header_kb": Leaf("number", "largest JSON header of a reply"),
    "run_time_s": Leaf("number", "budget of a whole grading; results.json is written "
                                 "before it ends"),
})

VECTORIZATION = Section("the vectorization tests", {
    "step_slack": Leaf("number", "growth of the Python step count allowed between sizes"),
    "backstop_factor": Leaf("number", "timing backstop: limit = the transfer + factor x "
                                      "the reference's computation + slack, in CPU seconds "
                                      "of the worker"),
    "backstop_factors": MappingOf("timing backstop: a smaller factor for a function whose "
                                  "tightest Python loop is less than backstop_factor times "
                                  "slower than the reference (measured with "
                                  "bench/bench_backstop.py)",
                                  Leaf("number", "the factor for this function"),
                                  required=False),
    "backstop_slack_s": Leaf("number", "timing backstop: CPU seconds added to the limit "
                                       "(wall-clock seconds where CPU time cannot be read)"),
})

INIT = Section("init_params' saturation check", {
    "saturation_abs_z": Leaf("number", "|Z1| above which a hidden unit counts as saturated"),
    "max_saturated_fraction": Leaf("number", "largest share of saturated hidden units "
                                             "on real digits"),
})

TRAINING_RUN = {
    "n_train": Leaf(int, "training digits"),
    "n_val": Leaf(int, "validation digits"),
    "n_hidden": Leaf(int, "hidden units"),
    "lr": Leaf("number", "learning rate"),
    "epochs": Leaf(int, "epochs"),
    "batch_size": Leaf(int, "minibatch size"),
    "seed": Leaf(int, "seed of init_params and train"),
}

TRAIN_ACCURACY = Section("the held-out accuracy test (end to end)", dict(
    TRAINING_RUN,
    margin=Leaf("number", "full credit from the reference's worst calibrated accuracy "
                          "minus this"),
    tiers=Leaf(list, "[[accuracy at least, fraction of the points], ...], best first; "
                     "written by `python -m autograder calibrate --write`"),
    calibration=Leaf(dict, "what the last calibration measured (written by calibrate)",
                     required=False),
))

TRAIN_LR10 = Section("the lr = 10 test (end to end)", dict(
    TRAINING_RUN,
    max_loss_ratio=Leaf("number", "final training loss must be below this times the "
                                  "initial one"),
))

THRESHOLDS = Section("tolerances and test settings", {
    "value_rel_tol": Leaf("number", "relative error allowed on values"),
    "grad_h": Leaf("number", "step of the centered differences"),
    "grad_rel_tol": Leaf("number", "relative error allowed against a numeric gradient"),
    "grad_h_coarse": Leaf("number", "larger step, retried for float32 forwards"),
    "grad_rel_tol_coarse": Leaf("number", "relative error allowed with the larger step"),
    "grad_coords_per_param": Leaf(int, "coordinates checked per parameter in the network's "
                                       "gradient check"),
    "sgd_rel_tol": Leaf("number", "relative error allowed on sgd_step"),
    "vectorization": VECTORIZATION,
    "init": INIT,
    "train_accuracy": TRAIN_ACCURACY,
    "train_lr10": TRAIN_LR10,
})

SCHEMA = Section("the grader's settings", {
    "worker_user_prefix": Leaf(str, "name prefix of the unprivileged users that run "
                                    "submissions (prefix0, prefix1, ...)"),
    "worker_python": Leaf(str, "interpreter the workers run (default: the grader's own)",
                          required=False),
    "visible_only": Leaf(bool, "set in the handout's copy: hidden tests are left out, so "
                               "the weights total less than 100", required=False),
    "limits": LIMITS,
    "functions": MappingOf("the registry of graded functions, in the handout's order",
                           FUNCTION),
    "thresholds": THRESHOLDS,
})


def check_config(raw):
    """Raise ConfigError unless raw (config.json's content) is well-formed."""
    SCHEMA.check(raw, "")
    names = list(raw["functions"])
    for name, function in raw["functions"].items():
        for callee in function["calls"]:
            if callee not in names:
                raise ConfigError(f"config.json: functions.{name}.calls names {callee!r}, "
                                  "which is not a graded function")
        for test_name, test in function["tests"].items():
            if not test["weight"] > 0:
                raise ConfigError(f"config.json: functions.{name}.tests.{test_name}.weight "
                                  "must be positive")
    for name, factor in raw["thresholds"]["vectorization"].get("backstop_factors", {}).items():
        if name not in names:
            raise ConfigError(f"config.json: thresholds.vectorization.backstop_factors names "
                              f"{name!r}, which is not a graded function")
        if not factor >= 1:
            raise ConfigError(f"config.json: thresholds.vectorization.backstop_factors.{name} "
                              "must be at least 1 (the reference itself must pass)")
    check_gates(raw)
    total = sum(test["weight"] for function in raw["functions"].values()
                for test in function["tests"].values())
    if not raw.get("visible_only") and abs(total - TOTAL_POINTS) > 1e-9:
        raise ConfigError(f"config.json: the weights in functions.*.tests total {total:g}, "
                          f"not {TOTAL_POINTS}")


def check_gates(raw):
    """Raise ConfigError unless every `requires` and `consistent_with` names a
    test that exists, is visible (the handout's self-check can judge it) and
    is not gated itself (so gates never chain and their order cannot matter)."""
    tests = {f"{name}.{t}": test for name, function in raw["functions"].items()
             for t, test in function["tests"].items()}
    gated = {key for key, test in tests.items()
             if test.get("requires") or test.get("consistent_with")}
    for key, test in tests.items():
        function = key.split(".", 1)[0]
        named = [(f"{function}.{t}" if isinstance(t, str) else t, "requires", t)
                 for t in test.get("requires", [])]
        named += [(t, "consistent_with", t) for t in test.get("consistent_with", [])]
        for target, what, written in named:
            where = f"functions.{function}.tests.{key.split('.', 1)[1]}.{what}"
            if not isinstance(written, str) or target not in tests:
                raise ConfigError(f"config.json: {where} names {written!r}, which is not a "
                                  "test" + (" of the same function" if what == "requires"
                                            else " (\"function.test\")"))
            if target == key:
                raise ConfigError(f"config.json: {where} names the test itself")
            if target in gated:
                raise ConfigError(f"config.json: {where} names {written!r}, which is gated "
                                  "itself; require the test it requires instead")
            if tests[target].get("visibility", "visible") != "visible":
                raise ConfigError(f"config.json: {where} names {written!r}, which is not "
                                  "visible (the handout's self-check could never award it)")


def flat_tests(raw):
    """{"function.test": {function, weight, number, visibility, requires,
    consistent_with}}, in registry order; requires and consistent_with are
    tuples of "function.test" keys (empty when the test is not gated)."""
    tests = {}
    for i, (name, function) in enumerate(raw["functions"].items(), start=1):
        for j, (test_name, test) in enumerate(function["tests"].items(), start=1):
            tests[f"{name}.{test_name}"] = {
                "function": name, "weight": test["weight"],
                "number": test.get("number", f"{i}.{j}"),
                "visibility": test.get("visibility", "visible"),
                "requires": tuple(f"{name}.{t}" for t in test.get("requires", ())),
                "consistent_with": tuple(test.get("consistent_with", ()))}
    return tests


@functools.lru_cache(maxsize=4)
def _load(path):
    with open(path, encoding="utf-8") as handle:
        raw = json.load(handle)
    check_config(raw)
    return json.dumps(raw)


def load_config(path=CONFIG_PATH, derived=True):
    """The configuration as a fresh dict (callers may change their copy).

    With derived=True it also holds "tests", the flat mapping of flat_tests().
    """
    raw = json.loads(_load(path))
    if derived:
        raw["tests"] = flat_tests(raw)
    return raw


def functions(config=None):
    """The graded functions, in the registry's order."""
    return tuple((config or load_config(derived=False))["functions"])


def calls(config=None):
    """{function: (graded functions it calls)} for those that call any."""
    raw = config or load_config(derived=False)
    return {name: tuple(f["calls"]) for name, f in raw["functions"].items() if f["calls"]}


def policies(config=None):
    """{function: vectorization policy}."""
    raw = config or load_config(derived=False)
    return {name: f["vectorization"] for name, f in raw["functions"].items()}


def without_tests(raw, keys):
    """A copy of raw without the tests whose "function.test" key is in keys,
    marked visible_only (the handout's copy); the tests left keep their
    Gradescope numbers."""
    numbers = {key: test["number"] for key, test in flat_tests(raw).items()}
    copy = json.loads(json.dumps(raw))
    copy.pop("tests", None)
    for name, function in copy["functions"].items():
        function["tests"] = {t: dict(v, number=numbers[f"{name}.{t}"])
                             for t, v in function["tests"].items() if f"{name}.{t}" not in keys}
    copy["visible_only"] = True
    return copy


def dump_config(raw):
    """config.json's text: indented, with short objects and lists of numbers on
    one line (a test's weight, a tier), so that the registry reads as a table."""
    return _dump(raw, 0) + "\n"


def _dump(value, depth):
    inline = json.dumps(value)
    if not isinstance(value, (dict, list)) or (len(inline) <= 100 and _shallow(value)):
        return inline
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict):
        items = [f"{inner}{json.dumps(k)}: {_dump(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    return "[\n" + ",\n".join(inner + _dump(v, depth + 1) for v in value) + f"\n{pad}]"


def _shallow(value):
    items = value.values() if isinstance(value, dict) else value
    return all(not isinstance(v, dict) and not (isinstance(v, list) and
                                                any(isinstance(x, (dict, list)) for x in v))
               for v in items) or (isinstance(value, list) and
                                   all(isinstance(v, list) and _shallow(v) for v in value))


def _is(value, kind):
    if kind == "number":
        return isinstance(value, numbers.Real) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _kind_name(kind):
    return {"number": "a number", int: "an integer", str: "a string", list: "a list",
            dict: "an object", bool: "true or false"}.get(kind, str(kind))


def _join(where, key):
    return f"{where}.{key}" if where else key


def _close(a, b):
    """True for a likely misspelling (same letters but one or two)."""
    if abs(len(a) - len(b)) > 2:
        return False
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8
