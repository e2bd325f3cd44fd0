"""Vectorization: static analysis of the submitted source, and step counts.

Static: the parent parses the submission (never imports or executes it) and
looks, inside a graded function AND inside everything of the file that it
uses (helpers, nested functions, lambdas, decorators, other graded
functions, module-level names), for the constructs that loop in Python over
examples, units or elements.

A graded name is analysed however the module binds it: `def`, a decorated
`def` (the decorators too), an assignment (`softmax = _rows`, a lambda,
`functools.partial(_rows, ...)`, `make_softmax()`), a rebinding through
`global` inside a function, anywhere at module level (inside `if`/`try`
blocks too: every binding counts). A name bound by an import from outside
the file cannot be analysed and is reported.

Some constructs make the dynamic evidence worthless, so they are reported
wherever the code that runs at import time or in a graded path uses them:
code built from strings (exec, eval, compile, __import__), switching the
line tracer off or working around it (sys.settrace, threads, frames,
globals()), and imports of modules outside numpy and the harmless standard
library (their code is neither analysed nor counted).

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
N = 8 to 64; loops grow 19 -> 131). `step_growth_problem` compares counts;
a count that is missing or zero is evidence that cannot be trusted.
"""
import ast
import sys

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

_STRING_CODE = "code built from a string is not checked: write it as ordinary code"
_TRACER = "it switches off or works around the grader's count of executed lines"
_INTROSPECTION = "it reaches into the interpreter instead of computing"
# Names and attributes that make the grader's evidence worthless wherever
# they are used: a correct submission of this homework needs none of them.
SUSPICIOUS = {
    "exec": f"exec ({_STRING_CODE})",
    "eval": f"eval ({_STRING_CODE})",
    "compile": f"compile ({_STRING_CODE})",
    "__import__": f"__import__ ({_STRING_CODE})",
    "import_module": f"importlib.import_module ({_STRING_CODE})",
    "FunctionType": f"types.FunctionType ({_STRING_CODE})",
    "CodeType": f"types.CodeType ({_STRING_CODE})",
    "settrace": f"sys.settrace ({_TRACER})",
    "setprofile": f"sys.setprofile ({_TRACER})",
    "gettrace": f"sys.gettrace ({_TRACER})",
    "getprofile": f"sys.getprofile ({_TRACER})",
    "monitoring": f"sys.monitoring ({_TRACER})",
    "pythonapi": f"ctypes.pythonapi ({_TRACER})",
    "PyEval_SetTrace": f"PyEval_SetTrace ({_TRACER})",
    "PyEval_SetProfile": f"PyEval_SetProfile ({_TRACER})",
    "f_trace_lines": f"a frame's f_trace_lines ({_TRACER})",
    "f_trace_opcodes": f"a frame's f_trace_opcodes ({_TRACER})",
    "currentframe": f"inspect.currentframe ({_INTROSPECTION})",
    "_getframe": f"sys._getframe ({_INTROSPECTION})",
    "f_back": f"a frame's f_back ({_INTROSPECTION})",
    "f_globals": f"a frame's f_globals ({_INTROSPECTION})",
    "f_locals": f"a frame's f_locals ({_INTROSPECTION})",
    "f_trace": f"a frame's f_trace ({_TRACER})",
    "f_code": f"a frame's f_code ({_INTROSPECTION})",
    "tb_frame": f"a traceback's tb_frame ({_INTROSPECTION})",
    "gi_frame": f"a generator's gi_frame ({_INTROSPECTION})",
    "cr_frame": f"a coroutine's cr_frame ({_INTROSPECTION})",
    "__globals__": f"__globals__ ({_INTROSPECTION})",
    "__code__": f"__code__ ({_INTROSPECTION})",
    "__builtins__": f"__builtins__ ({_INTROSPECTION})",
    "__dict__": f"__dict__ ({_INTROSPECTION})",
    "__subclasses__": f"__subclasses__ ({_INTROSPECTION})",
    "__main__": f"__main__ ({_INTROSPECTION})",
    "modules": f"sys.modules ({_INTROSPECTION})",
    "globals": f"globals() ({_INTROSPECTION})",
    "vars": f"vars() ({_INTROSPECTION})",
    "setattr": f"setattr ({_INTROSPECTION})",
    "delattr": f"delattr ({_INTROSPECTION})",
}
SUSPICIOUS_ATTRIBUTES_ONLY = {"modules", "monitoring"}  # plain names that are fine
# Standard-library modules whose use hides work from the grader.
RISKY_MODULES = {
    "threading": "threads run outside the grader's count of executed lines",
    "_thread": "threads run outside the grader's count of executed lines",
    "multiprocessing": "other processes run outside the grader's count",
    "concurrent": "other threads or processes run outside the grader's count",
    "asyncio": "an event loop runs outside the grader's count",
    "queue": "work handed to another thread is not counted",
    "sched": "scheduled work is not counted",
    "subprocess": "other processes run outside the grader's count",
    "gc": "it reaches into the interpreter",
    "inspect": "it reaches into the interpreter",
    "importlib": _STRING_CODE,
    "runpy": _STRING_CODE,
    "code": _STRING_CODE,
    "codeop": _STRING_CODE,
    "types": _STRING_CODE,
    "marshal": _STRING_CODE,
    "pickle": _STRING_CODE,
    "builtins": "it reaches into the interpreter",
    "__main__": "it reaches into the interpreter",
    "trace": _TRACER,
    "bdb": _TRACER,
    "pdb": _TRACER,
    "cProfile": _TRACER,
    "profile": _TRACER,
}
STDLIB = frozenset(getattr(sys, "stdlib_module_names", ())) or frozenset(
    {"math", "functools", "itertools", "collections", "copy", "time", "os", "sys",
     "typing", "warnings", "dataclasses", "random", "numbers", "abc", "enum", "operator"})
ALLOWED_PACKAGES = {"numpy"}


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


# ---------------------------------------------------------------------------
# What the module binds, and where
# ---------------------------------------------------------------------------

def _is_main_guard(node):
    """`if __name__ == "__main__":`: never runs when the grader loads the file."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name)
            and test.left.id == "__name__" and len(test.comparators) == 1
            and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


def _module_statements(body):
    """Every statement that runs at import time, including those nested in
    if / try / with / for / while blocks (but not in def or class bodies)."""
    for node in body:
        if _is_main_guard(node):
            yield from _module_statements(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody"):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from _module_statements(getattr(node, field, None) or [])
        for handler in getattr(node, "handlers", None) or []:
            yield from _module_statements(handler.body)
        for case in getattr(node, "cases", None) or []:
            yield from _module_statements(case.body)


def _target_pairs(target, value):
    """(name, value expression) for each name an assignment binds; the whole
    value when it cannot be split (fail closed: more code is analysed)."""
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, (ast.Tuple, ast.List)):
        split = (isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
                 and not any(isinstance(e, ast.Starred) for e in target.elts + value.elts))
        pairs = []
        for i, element in enumerate(target.elts):
            inner = element.value if isinstance(element, ast.Starred) else element
            pairs += _target_pairs(inner, value.elts[i] if split else value)
        return pairs
    return []


def _imported(node):
    """(bound name, module) for an import statement."""
    if isinstance(node, ast.Import):
        return [(a.asname or a.name.split(".")[0], a.name) for a in node.names]
    module = ("." * node.level) + (node.module or "")
    return [(a.asname or a.name, module) for a in node.names]


def _bindings_in(statements):
    """name -> [node]: def, class, lambda or any other expression whose value
    the name gets; imports are recorded as the Import node itself."""
    found = {}

    def add(name, node):
        found.setdefault(name, []).append(node)

    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            add(node.name, node)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _target_pairs(target, node.value):
                    add(name, value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            for name, value in _target_pairs(node.target, node.value):
                add(name, value)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            for name, value in _target_pairs(node.target, node.iter):
                add(name, value)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if item.optional_vars is not None:
                    for name, value in _target_pairs(item.optional_vars, item.context_expr):
                        add(name, value)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for name, _ in _imported(node):
                add(name, node)
        for walrus in _own_scope_nodes(node):
            if isinstance(walrus, ast.NamedExpr) and isinstance(walrus.target, ast.Name):
                add(walrus.target.id, walrus.value)
    return found


def _global_rebindings(tree):
    """name -> [value expressions] assigned to module names from inside
    functions through `global NAME`."""
    found = {}
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        declared = set()
        for node in _own_scope_nodes(function):
            if isinstance(node, ast.Global):
                declared.update(node.names)
        if not declared:
            continue
        own = [n for n in _own_scope_nodes(function) if isinstance(n, ast.stmt)]
        for name, nodes in _bindings_in(own).items():
            if name in declared:
                found.setdefault(name, []).extend(nodes)
    return found


def bindings(tree):
    """name -> [node] for everything the module binds at top level (every
    binding, in every branch, and rebindings through `global`)."""
    found = _bindings_in(list(_module_statements(tree.body)))
    for name, nodes in _global_rebindings(tree).items():
        found.setdefault(name, []).extend(nodes)
    return found


def _functions(tree):
    """Top-level functions of the module: name -> node (def or lambda), for
    signatures; the analysis itself uses `bindings`."""
    found = {}
    for name, nodes in bindings(tree).items():
        for node in nodes:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                found[name] = node
    return found


# ---------------------------------------------------------------------------
# Scopes: which loaded names refer to the module's names
# ---------------------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _own_scope_nodes(root):
    """Nodes of root's own scope: nested defs, lambdas and classes are not
    entered (their decorators, defaults and bases are: they run here)."""
    stack = list(ast.iter_child_nodes(root)) if isinstance(root, _SCOPES) else [root]
    if isinstance(root, _SCOPES):
        stack = [c for c in stack if c not in _outside_parts(root)]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, _SCOPES):
            stack.extend(_outside_parts(node))
            continue
        stack.extend(ast.iter_child_nodes(node))


def _outside_parts(scope):
    """The parts of a def / lambda / class evaluated in the enclosing scope."""
    parts = list(getattr(scope, "decorator_list", []))
    if isinstance(scope, ast.ClassDef):
        return parts + list(scope.bases) + [k.value for k in scope.keywords]
    args = scope.args
    parts += list(args.defaults) + [d for d in args.kw_defaults if d is not None]
    return parts


def _local_names(scope):
    """Names local to a def or lambda: its parameters and whatever its own
    body binds, minus the names it declares `global`."""
    args = scope.args
    names = {a.arg for a in args.posonlyargs + args.args + args.kwonlyargs}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global = set()
    for node in _own_scope_nodes(scope):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update(name for name, _ in _imported(node))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
    return names - declared_global


def _module_references(root, names):
    """(line, name) of every load under `root` of a module-level name in
    `names`; a local variable of the same name is not a reference
    (`predict = np.argmax(P, axis=1)` inside predict is no recursion)."""
    refs = []

    def walk(node, shadowed):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            for part in _outside_parts(node):
                walk(part, shadowed)
            inner = shadowed | _local_names(node)
            body = node.body if isinstance(node.body, list) else [node.body]
            for child in body:
                walk(child, inner)
            walk(node.args, inner)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in names and node.id not in shadowed:
                refs.append((node.lineno, node.id))
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.ClassDef) and child in _outside_parts(node):
                continue
            walk(child, shadowed)
        if isinstance(node, ast.ClassDef):
            for part in _outside_parts(node):
                walk(part, shadowed)

    walk(root, frozenset())
    return refs


# ---------------------------------------------------------------------------
# Constructs
# ---------------------------------------------------------------------------

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
    """(line, construct) for every flagged loop construct under `root`."""
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


def _module_problem(module):
    """Why importing `module` hides work from the grader, or None."""
    if module.startswith("."):
        return "a module of your own: the grader analyses and counts only this file"
    top = module.split(".")[0]
    if top in RISKY_MODULES:
        return RISKY_MODULES[top]
    if top in ALLOWED_PACKAGES or top in STDLIB:
        return None
    return "a module of your own: the grader analyses and counts only this file"


def _is_regex_compile(node):
    """`re.compile(...)` builds a regular expression, not code."""
    return node.attr == "compile" and isinstance(node.value, ast.Name) and node.value.id == "re"


def _suspicious(root):
    """(line, construct) for every use under `root` that makes the grader's
    evidence worthless (code from strings, the tracer, introspection, threads).

    A builtin's name counts where it can mean the builtin: a local variable
    called `vars` is not it (a module-level one may be bound only in a branch
    that never runs, so it still counts).
    """
    builtins_here = {name for name in SUSPICIOUS if name not in SUSPICIOUS_ATTRIBUTES_ONLY}
    hits = [(line, SUSPICIOUS[name])
            for line, name in _module_references(root, builtins_here)]
    for node in ast.walk(root):
        if isinstance(node, ast.Attribute) and node.attr in SUSPICIOUS \
                and not _is_regex_compile(node):
            hits.append((node.lineno, SUSPICIOUS[node.attr]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                problem = _module_problem(alias.name)
                if problem:
                    hits.append((node.lineno, f"import of `{alias.name}` ({problem})"))
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            problem = _module_problem(module)
            if problem:
                hits.append((node.lineno, f"import from `{module}` ({problem})"))
            for alias in node.names:
                if alias.name in SUSPICIOUS:
                    hits.append((node.lineno, SUSPICIOUS[alias.name]))
                elif alias.name in RISKY_MODULES:
                    hits.append((node.lineno, f"import of `{alias.name}` "
                                              f"({RISKY_MODULES[alias.name]})"))
        elif isinstance(node, ast.Call) and _name_of_callable(node.func) in ("getattr", "hasattr"):
            attribute = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
                hits.append((node.lineno, "getattr with a computed name (the grader cannot "
                                          "tell what it reaches)"))
            elif attribute.value in SUSPICIOUS:
                hits.append((node.lineno, SUSPICIOUS[attribute.value]))
    hits.sort()
    return hits


def parse(source):
    try:
        return ast.parse(source[1:] if source.startswith("\ufeff") else source)
    except (SyntaxError, ValueError):
        return None


# ---------------------------------------------------------------------------
# The analysis
# ---------------------------------------------------------------------------

def _import_time_code(tree):
    """The module-level statements with def bodies left out (decorators,
    defaults and class bodies stay: they run at import)."""
    module = ast.Module(body=[], type_ignores=[])
    for node in _module_statements(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            module.body.extend(ast.Expr(value=part) for part in _outside_parts(node))
        elif isinstance(node, (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For,
                               ast.AsyncFor, ast.While)) or \
                type(node).__name__ in ("TryStar", "Match"):
            shallow = ast.Module(body=[], type_ignores=[])
            for field, value in ast.iter_fields(node):
                if field not in ("body", "orelse", "finalbody", "handlers", "cases"):
                    if isinstance(value, ast.AST):
                        shallow.body.append(ast.Expr(value=value)
                                            if isinstance(value, ast.expr) else value)
                    elif isinstance(value, list):
                        shallow.body.extend(ast.Expr(value=v) if isinstance(v, ast.expr) else v
                                            for v in value if isinstance(v, ast.AST))
            module.body.extend(shallow.body)
        else:
            module.body.append(node)
    return module


def static_violations(source, function, policy=None):
    """Violations in `function` and in everything of the file it uses.

    Returns a list of Violation (empty when clean), or None if the source
    cannot be parsed or the module does not bind `function` at all (when
    import-time code could have bound it, e.g. with exec, that code's
    violations are returned instead).
    """
    tree = parse(source) if isinstance(source, str) else source
    if tree is None:
        return None
    bound = bindings(tree)
    import_time = _import_time_code(tree)
    if function not in bound:
        # Bound by code the analysis cannot follow (exec, globals()): say so.
        hidden = [Violation(line, text, "<module>", ("<module>",))
                  for line, text in _suspicious(import_time)]
        return hidden or None
    own_policy = policy or POLICY.get(function, "layer")
    violations = []
    seen = set()

    def visit_node(name, node, policy_here, chain):
        """One binding of `name`: its constructs, then what it refers to."""
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            module = dict(_imported(node)).get(name, "?")
            if name in POLICY:
                violations.append(Violation(
                    node.lineno, f"`{name}` is imported from `{module.lstrip('.') or '.'}`, "
                                 "which the grader cannot analyse: define it in this file",
                    name, chain))
            return
        for line, text in _suspicious(node):
            violations.append(Violation(line, text, name, chain))
        if policy_here != "none":
            if isinstance(node, ast.expr) and not isinstance(node, ast.Lambda):
                # A value computed once at import (a constant, a partial, an
                # alias): its own loops ran at import; the lambdas in it run
                # at each call.
                constructs = _constructs(node, "network")
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Lambda):
                        constructs += _constructs(inner, policy_here)
            else:
                constructs = _constructs(node, policy_here)
            for line, text in constructs:
                violations.append(Violation(line, text, name, chain))
        for line, callee in _module_references(node, bound):
            if callee in chain:
                if policy_here == "layer":
                    violations.append(Violation(
                        line, f"recursion (`{name}` calls `{callee}` again)", name, chain))
                continue
            if policy_here == "none":
                continue
            visit(callee, POLICY.get(callee, policy_here), chain + (callee,))

    def visit(name, policy_here, chain):
        key = (name, policy_here)
        if key in seen:
            return
        seen.add(key)
        for node in bound[name]:
            visit_node(name, node, policy_here, chain)

    # Code that runs at import time can rebind anything: what it uses that
    # hides work counts against every graded function.
    for line, text in _suspicious(import_time):
        violations.append(Violation(line, text, "<module>", ("<module>",)))
    for line, callee in _module_references(import_time, bound):
        if callee in POLICY:
            continue
        for node in bound[callee]:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                continue  # already judged as import-time code
            for inner_line, text in _suspicious(node):
                violations.append(Violation(inner_line, text, callee, ("<module>", callee)))

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
    (the count of vectorized code does not depend on the sizes), or when a
    count is missing or zero (the graded function is Python code in the
    file: its own call is counted, so no count means the tracer was off or
    the code ran elsewhere, and that is no evidence of vectorization); else None.
    """
    if not measurements:
        return "the number of Python lines executed in your code could not be measured"
    for label, steps in measurements:
        if type(steps) is not int or steps <= 0:
            return (f"the number of Python lines executed in your code could not be measured "
                    f"({label}): the grader's line counter was switched off or bypassed, or "
                    "the function is not ordinary Python code in this file")
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
