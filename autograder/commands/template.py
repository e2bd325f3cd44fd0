"""`python -m autograder template`: generate student_template/ from reference/.

In the reference, every solution is a region

    # BEGIN SOLUTION: <hint for the student>
    ...solution code...
    # END SOLUTION

inside a function. The handout keeps the function, its signature and its
docstring, and gets instead of the region, at the same indentation:

    # TODO: <hint for the student>
    raise NotImplementedError("<function name>: not implemented yet (see the TODO)")

Files without regions (util.py, experiments.py) are copied unchanged.

    python -m autograder template            # rewrite student_template/
    python -m autograder template --check    # exit 1 if it differs from what would be written
"""
import argparse
import ast
import difflib
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
REFERENCE_DIR = os.path.join(ROOT, "reference")
TEMPLATE_DIR = os.path.join(ROOT, "student_template")

STRIPPED_FILES = ("neural_net.py",)
COPIED_FILES = ("util.py", "experiments.py")

BEGIN_MARKER = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION:[ \t]*(?P<hint>\S.*?)[ \t]*$")
END_MARKER = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
ANY_MARKER = re.compile(r"#\s*(BEGIN|END) SOLUTION")
# Files a TA may leave in the template directory that are not generated.
IGNORED_NAMES = ("__pycache__",)


class TemplateError(ValueError):
    """Malformed solution markers in a reference file."""


def enclosing_functions(source):
    """Line ranges of every function definition, for naming a region's function.

    Inputs:
    - source: str, Python source

    Returns:
    - spans: list of (first_line, last_line, name), 1-based and inclusive,
      outer functions before the functions nested in them
    """
    tree = ast.parse(source)
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            spans.append((node.lineno, node.end_lineno, node.name))
    return sorted(spans, key=lambda span: (span[0], -span[1]))


def solution_regions(source, filename="<source>"):
    """Find every BEGIN/END SOLUTION region and the function it belongs to.

    Inputs:
    - source: str, Python source
    - filename: str, for error messages

    Returns:
    - regions: list of dicts with 'begin' and 'end' (1-based line numbers of
      the two marker lines), 'indent' (str), 'hint' (str), 'function' (str,
      the innermost function containing the region)
    """
    lines = source.splitlines()
    functions = enclosing_functions(source)
    regions = []
    open_region = None
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN_MARKER.match(line), END_MARKER.match(line)
        if begin:
            if open_region is not None:
                raise TemplateError(f"{filename}:{number}: BEGIN SOLUTION inside the region "
                                    f"opened at line {open_region['begin']}")
            open_region = {"begin": number, "indent": begin.group("indent"),
                           "hint": begin.group("hint")}
        elif end:
            if open_region is None:
                raise TemplateError(f"{filename}:{number}: END SOLUTION without BEGIN")
            open_region["end"] = number
            # ast's end_lineno stops at the last statement, before the END
            # comment, so ownership is decided by where the region begins.
            owners = [name for first, last, name in functions
                      if first < open_region["begin"] <= last]
            if not owners:
                raise TemplateError(f"{filename}:{open_region['begin']}: a solution region "
                                    "must be inside a function")
            open_region["function"] = owners[-1]
            regions.append(open_region)
            open_region = None
        elif ANY_MARKER.search(line):
            raise TemplateError(f"{filename}:{number}: malformed solution marker {line.strip()!r}"
                                " (expected '# BEGIN SOLUTION: <hint>' or '# END SOLUTION')")
    if open_region is not None:
        raise TemplateError(f"{filename}:{open_region['begin']}: BEGIN SOLUTION never closed")
    return regions


def strip_solutions(source, filename="<source>"):
    """Replace every solution region by a TODO comment and a NotImplementedError.

    Inputs:
    - source: str, reference source with solution regions
    - filename: str, for error messages

    Returns:
    - template: str, the same source with each region replaced by two lines
      at the region's indentation
    """
    lines = source.splitlines(keepends=True)
    output = []
    position = 0
    for region in solution_regions(source, filename):
        output.extend(lines[position:region["begin"] - 1])
        indent = region["indent"]
        message = f"{region['function']}: not implemented yet (see the TODO)"
        output.append(f"{indent}# TODO: {region['hint']}\n")
        # The message is an identifier plus fixed text: no quote needs escaping.
        output.append(f'{indent}raise NotImplementedError("{message}")\n')
        position = region["end"]
    output.extend(lines[position:])
    template = "".join(output)
    try:
        ast.parse(template)
    except SyntaxError as error:
        raise TemplateError(f"{filename}: the generated template does not parse: {error}")
    return template


def generate(reference_dir=REFERENCE_DIR):
    """The handout's files, as text.

    Inputs:
    - reference_dir: str, the directory of the reference solution

    Returns:
    - files: dict file name -> text (neural_net.py stripped, util.py and
      experiments.py unchanged)
    """
    files = {}
    for name in STRIPPED_FILES + COPIED_FILES:
        with open(os.path.join(reference_dir, name), encoding="utf-8") as file:
            text = file.read()
        files[name] = strip_solutions(text, name) if name in STRIPPED_FILES else text
    return files


def differences(files, template_dir=TEMPLATE_DIR):
    """How the committed template differs from the generated files.

    Inputs:
    - files: dict file name -> text, from generate()
    - template_dir: str

    Returns:
    - problems: list of str, empty when the template is up to date (a
      missing, changed (with a short diff) or unexpected file per entry)
    """
    problems = []
    for name, text in sorted(files.items()):
        path = os.path.join(template_dir, name)
        if not os.path.isfile(path):
            problems.append(f"{path}: missing")
            continue
        with open(path, encoding="utf-8") as file:
            committed = file.read()
        if committed != text:
            diff = list(difflib.unified_diff(committed.splitlines(), text.splitlines(),
                                             f"{path} (committed)", f"{name} (generated)",
                                             lineterm="", n=1))
            shown = "\n".join(diff[:40]) + ("\n..." if len(diff) > 40 else "")
            problems.append(f"{path}: differs from the generated file\n{shown}")
    if os.path.isdir(template_dir):
        for name in sorted(os.listdir(template_dir)):
            if name not in files and name not in IGNORED_NAMES:
                problems.append(f"{os.path.join(template_dir, name)}: not generated from "
                                "reference/ (remove it, or add it to the generator)")
    return problems


def write(files, template_dir=TEMPLATE_DIR):
    """Write the generated files into template_dir (created if missing).

    Inputs:
    - files: dict file name -> text; template_dir: str

    Returns:
    - paths: list of str, the files written
    """
    os.makedirs(template_dir, exist_ok=True)
    paths = []
    for name, text in sorted(files.items()):
        path = os.path.join(template_dir, name)
        with open(path, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        paths.append(path)
    return paths


def main(argv=None):
    """Regenerate (or with --check, compare) the student template.

    Inputs:
    - argv: list of str or None

    Returns:
    - exit status: 0 written / up to date, 1 out of date (--check), 2 bad markers
    """
    parser = argparse.ArgumentParser(prog="python -m autograder template",
                                     description="Generate student_template/ from reference/.")
    parser.add_argument("--reference", default=REFERENCE_DIR, help="reference directory")
    parser.add_argument("--out", default=TEMPLATE_DIR, help="template directory")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the template differs from the generated one")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        files = generate(args.reference)
    except TemplateError as error:
        print(f"template: {error}", file=sys.stderr)
        return 2
    if args.check:
        problems = differences(files, args.out)
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("template: out of date; run `python -m autograder template`", file=sys.stderr)
            return 1
        print(f"template: {args.out} is up to date")
        return 0
    for path in write(files, args.out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
