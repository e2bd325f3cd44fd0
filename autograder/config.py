"""autograder/config.json: the one place for limits, tests and thresholds.

`load_config()` is the only reader; every part of the grader takes its
settings from it.
"""
import functools
import json

from autograder import CONFIG_PATH


@functools.lru_cache(maxsize=4)
def _load(path):
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def load_config(path=CONFIG_PATH):
    """The configuration as a fresh dict (callers may change their copy)."""
    return json.loads(json.dumps(_load(path)))
