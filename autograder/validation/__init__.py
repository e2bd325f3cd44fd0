"""The validation catalogues: correct alternatives, planted bugs, hostile submissions,
and the scenarios that need more than one submission (scenarios.py).

    from autograder.validation import CATALOGUE, materialize
    materialize(entry, "/tmp/sub")       # the folder a student would upload

`python -m autograder validate` runs them all (autograder/validation/validate.py).
"""
import fnmatch

from autograder.validation.cheats import CHEATS
from autograder.validation.correct import CORRECT
from autograder.validation.hostile import HOSTILE
from autograder.validation.model import (  # noqa: F401  (the package's API)
    CALLS, FUNCTIONS, KINDS, NETWORK_PORT, REFERENCE_PATH, TEMPLATE_PATH, Entry, Expected,
    at_most, build_source, dependants, full_marks, materialize, only, reference_source, stub_source,
    zero,
)
from autograder.validation.planted import PLANTED
from autograder.validation.realistic import REALISTIC
from autograder.validation.scenarios import SCENARIO_KIND, SCENARIOS  # noqa: F401  (the API)

CATALOGUE = CORRECT + PLANTED + HOSTILE + CHEATS + REALISTIC


def _check_unique(entries):
    seen = set()
    for entry in entries:
        if entry.name in seen:
            raise ValueError(f"two catalogue entries are named {entry.name}")
        seen.add(entry.name)


_check_unique(CATALOGUE + SCENARIOS)  # validate's --only names either


def select(kinds=None, patterns=None, entries=None):
    """Entries of the given kinds whose names match any of the fnmatch patterns."""
    entries = CATALOGUE if entries is None else entries
    chosen = []
    for entry in entries:
        if kinds and entry.kind not in kinds:
            continue
        if patterns and not any(fnmatch.fnmatchcase(entry.name, p) for p in patterns):
            continue
        chosen.append(entry)
    return chosen


def by_name(name):
    for entry in CATALOGUE:
        if entry.name == name:
            return entry
    raise KeyError(name)
