"""Vectorization: static analysis of the submitted source, and step counts.

Static: the parent parses the submission (never imports or executes it) and
looks, inside a graded function AND inside every function of the file that
it uses (helpers, nested functions, lambdas, other graded functions), for the
constructs that loop in Python over examples, units or elements.

Policies (config.json functions.*.vectorization):
- "layer" functions (one_hot, linear_*, sigmoid_*, softmax, cross_entropy,
  softmax_cross_entropy_backward, predict): no loop of any kind: for / while,
  comprehensions and generator expressions, map / filter, functools.reduce,
  np.vectorize / frompyfunc / apply_along_axis / apply_over_axes,
  np.nditer / ndindex / ndenumerate, recursion.
- "network" functions (init_params, forward, backward, sgd_step) may loop
  over the parameter dict or the two layers (the reference's sgd_step is a
  dict comprehension): only the element-wise constructs (np.vectorize, ...)
  are flagged; loops over examples are caught by the step count.
- "train" may loop (epochs, minibatches).

Dynamic: the worker counts Python line events and calls in student frames;
for vectorized code the count does not depend on N (measured 1 -> 1 from
N = 8 to 64; loops grow 19 -> 131). `step_growth_problem` compares counts.
"""
import ast

from autograder.config import policies

# Each graded function's policy, from config.json's registry.
POLICY = policies()
LAYER_FUNCTIONS = tuple(f for f, policy in POLICY.items() if policy == "layer")
NETWORK_FUNCTIONS = tuple(f for f, policy in POLICY.items() if policy == "network")

ELEMENTWISE = {
    "vectorize": "np.vectorize (a Python loop over the elements in disguise)",
    "frompyfunc": "np.frompyfunc (a Python loop over the elements in disguise)",
    "apply_along_axis": "np.apply_along_axis (a Python loop over rows or columns)",
    "apply_over_axes": "np.apply_over_axes (a Python loop over axes)",
    "nditer": "np.nditer (iterates over elements in Python)",
    "ndindex": "np.ndindex (iterates over indices in Python)",
    "ndenumerate": "np.ndenumerate (iterates over elements in Python)",
}
LOOP_NODES = {
    ast.For: "a `for` loop",
    ast.AsyncFor: "an `async for` loop",
    ast.While: "a `while` loop",
    ast.ListComp: "a list comprehension",
    ast.SetComp: "a set comprehension",
    ast.DictComp: "a dict comprehension",
    ast.GeneratorExp: "a generator expression",
}
LOOP_CALLS = {
    "map": "map() (a Python loop)",
    "filter": "filter() (a Python loop)",
    "reduce": "functools.reduce (a Python loop)",
    "starmap": "itertools.starmap (a Python loop)",
    "accumulate": "itertools.accumulate (a Python loop)",
}


class Violation:
    def __init__(self, line, construct, function, chain):
        self.line = line
        self.construct = construct
        self.function = function      # where the construct is
        self.chain = tuple(chain)     # graded function -> ... -> function

    def __repr__(self):
        return f"Violation(line={self.line}, {self.construct!r}, in {self.function})"

    def describe(self):
        where = f"line {self.line}, in `{self.function}`"
        if len(self.chain) > 1:
            called = " -> ".join(f"`{c}`" for c in self.chain)
            where += f" (reached through {called})"
        return f"{where}: {self.construct}"


def _functions(tree):
    """Top-level functions of the module: name -> node (def or lambda)."""
    found = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = node
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node.value
    return found


def _flagged_constants(tree, policy):
    """Top-level names bound to an expression that loops (e.g. np.vectorize(f))."""
    tainted = {}
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        if isinstance(node.value, ast.Lambda):
            continue
        hits = _constructs(node.value, policy)
        if hits:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    tainted[target.id] = hits[0]
    return tainted


def _name_of_callable(node):
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _over_written_out_items(node):
    """True for a loop over items listed in the source, like `for a in (dZ, X, W)`:
    its length is fixed by the code, not by N, so it is not a loop over examples."""
    if isinstance(node, (ast.For, ast.AsyncFor)):
        iterables = [node.iter]
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        iterables = [generator.iter for generator in node.generators]
    else:
        return False
    return all(isinstance(it, (ast.Tuple, ast.List, ast.Set))
               and not any(isinstance(e, ast.Starred) for e in it.elts) for it in iterables)


def _constructs(root, policy):
    """(line, construct) for every flagged construct under `root`."""
    hits = []
    for node in ast.walk(root):
        if policy == "layer" and not _over_written_out_items(node):
            for kind, text in LOOP_NODES.items():
                if isinstance(node, kind):
                    hits.append((node.lineno, text))
        if isinstance(node, ast.Attribute) and node.attr in ELEMENTWISE:
            hits.append((node.lineno, ELEMENTWISE[node.attr]))
        elif isinstance(node, ast.Name) and node.id in ELEMENTWISE:
            hits.append((node.lineno, ELEMENTWISE[node.id]))
        if policy == "layer" and isinstance(node, ast.Call):
            name = _name_of_callable(node.func)
            if name in LOOP_CALLS:
                if name == "reduce" and isinstance(node.func, ast.Attribute):
                    base = node.func.value
                    # np.add.reduce and friends are vectorized ufunc methods
                    if not (isinstance(base, ast.Name) and base.id == "functools"):
                        continue
                hits.append((node.lineno, LOOP_CALLS[name]))
    hits.sort()
    return hits


def _referenced(root, names):
    """(line, name) of every reference under `root` to one of `names`."""
    refs = []
    for node in ast.walk(root):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            refs.append((node.lineno, node.id))
    return refs


def parse(source):
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def static_violations(source, function, policy=None):
    """Violations in `function` and in everything of the file it uses.

    Returns a list of Violation (empty when clean), or None if the source
    cannot be parsed or `function` is not defined with def/lambda.
    """
    tree = parse(source) if isinstance(source, str) else source
    if tree is None:
        return None
    functions = _functions(tree)
    if function not in functions:
        return None
    own_policy = policy or POLICY.get(function, "layer")
    # Names bound at import time to a looping callable (np.vectorize(f), ...).
    # Loops that merely build a constant at import time do not count.
    tainted = _flagged_constants(tree, "network")
    violations = []
    seen = set()

    def visit(name, policy_here, chain):
        key = (name, policy_here)
        if key in seen:
            return
        seen.add(key)
        node = functions[name]
        if policy_here != "none":
            for line, text in _constructs(node, policy_here):
                violations.append(Violation(line, text, name, chain))
            for line, ref in _referenced(node, tainted):
                bound_line, text = tainted[ref]
                violations.append(Violation(
                    line, f"`{ref}`, defined at line {bound_line} with {text}", name, chain))
        for line, callee in _referenced(node, functions):
            if callee in chain:
                if policy_here == "layer":
                    violations.append(Violation(
                        line, f"recursion (`{name}` calls `{callee}` again)", name, chain))
                continue
            callee_policy = POLICY.get(callee, policy_here)
            if policy_here == "none":
                continue
            visit(callee, callee_policy, chain + (callee,))

    visit(function, own_policy, (function,))
    unique = {}
    for v in violations:
        unique.setdefault((v.function, v.line, v.construct), v)
    return sorted(unique.values(), key=lambda v: (v.chain != (function,), v.function, v.line))


def format_violations(violations, limit=6):
    lines = [v.describe() for v in violations[:limit]]
    if len(violations) > limit:
        lines.append(f"... and {len(violations) - limit} more")
    return lines


def step_growth_problem(measurements, slack=4):
    """measurements: [(label, steps)] with the base size first.

    Returns a sentence when a count grew by more than `slack` over the base
    (the count of vectorized code does not depend on the sizes), else None.
    """
    if not measurements or any(s is None for _, s in measurements):
        return None
    base_label, base = measurements[0]
    for label, steps in measurements[1:]:
        if steps > base + slack:
            return (f"the number of Python lines executed in your code grew from {base} "
                    f"({base_label}) to {steps} ({label}): a Python loop (or comprehension, "
                    "map, np.vectorize, ...) runs once per example, unit or class")
    return None


def signature_problem(source, function, n_args, arg_names):
    """A sentence if `function` is defined with def but cannot take n_args
    positional arguments; None if fine or if it is not defined with def."""
    tree = parse(source) if isinstance(source, str) else source
    if tree is None:
        return None
    node = _functions(tree).get(function)
    if node is None:
        return None
    args = node.args
    positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
    n_required = len(positional) - len(args.defaults)
    required_kwonly = [a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None]
    ok = (n_required <= n_args and (len(positional) >= n_args or args.vararg is not None)
          and not required_kwonly)
    if ok:
        return None
    theirs = ", ".join(a.arg for a in positional)
    if args.vararg is not None:
        theirs += (", " if theirs else "") + "*" + args.vararg.arg
    wanted = ", ".join(arg_names)
    return (f"`{function}` must take {n_args} arguments `({wanted})`; "
            f"yours is defined as `{function}({theirs})`")
