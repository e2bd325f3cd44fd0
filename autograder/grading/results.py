"""results.json: Gradescope's format, written only by the trusted parent.

The schema below is written from Gradescope's autograder specification
(top-level and per-test keys, visibility and output-format values).
"""
import json
import math
import os
import tempfile

VISIBILITIES = ["hidden", "after_due_date", "after_published", "visible"]
OUTPUT_FORMATS = ["text", "html", "simple_format", "md", "ansi"]

def function_of(test):
    """The graded function a results.json test belongs to: its first tag, else
    the start of its name ("softmax: rows sum to 1" -> "softmax")."""
    tags = test.get("tags") or []
    if tags:
        return tags[0]
    return str(test.get("name", "")).split(":", 1)[0].strip()


_TEST_SCHEMA = {
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "max_score": {"type": "number", "minimum": 0},
        "status": {"enum": ["passed", "failed"]},
        "name": {"type": "string"},
        "name_format": {"enum": OUTPUT_FORMATS},
        "number": {"type": "string"},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
}

RESULTS_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
        "score": {"type": "number", "minimum": 0},
        "execution_time": {"type": "number", "minimum": 0},
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "test_output_format": {"enum": OUTPUT_FORMATS},
        "test_name_format": {"enum": OUTPUT_FORMATS},
        "visibility": {"enum": VISIBILITIES},
        "stdout_visibility": {"enum": VISIBILITIES},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": _TEST_SCHEMA},
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "value": {},
                               "order": {"enum": ["asc", "desc"]}},
                "required": ["name", "value"],
            },
        },
    },
    "required": ["score", "tests"],
    "additionalProperties": False,
}


def unmet_requirements(passed, requirements):
    """The gated tests whose requirements are not all met.

    passed: {test key: True if that test earned all its points}; a key that
    is absent (not run, left out, errored, skipped) counts as not passed, so
    a gate fails closed.
    requirements: {gated test key: iterable of the test keys it needs}.
    Returns {gated key: [the needed keys that did not pass]}, only for gated
    keys with something missing. It reads outcomes only, never gated scores,
    so the order in which tests ran cannot change the answer.
    """
    unmet = {}
    for key, needed in requirements.items():
        missing = [other for other in needed if not passed.get(other, False)]
        if missing:
            unmet[key] = missing
    return unmet


def withhold(test, message, not_checked_locally=False):
    """Turn a test's result into "not awarded": score 0 and the reason why."""
    test["score"] = 0.0
    test["status"] = "failed"
    test["output"] = message
    test["output_format"] = "md"
    if not_checked_locally:
        test.setdefault("extra_data", {})["not_checked_locally"] = True
    return test


def finalize(data):
    """Cap every test's score to [0, max_score] and recompute the total.

    Scores only ever come from the parent, but a partial-credit check with a
    bug must still not be able to give more than a test is worth.
    """
    total = 0.0
    for test in data.get("tests", []):
        max_score = float(test.get("max_score", 0.0))
        score = float(test.get("score", 0.0))
        if not math.isfinite(score):
            score = 0.0
        score = min(max(score, 0.0), max_score)
        test["score"], test["max_score"] = round(score, 4), max_score
        test["status"] = "passed" if score >= max_score else "failed"
        if "tags" in test:
            test["tags"] = [str(tag) for tag in test["tags"]]
        total += score
    data["score"] = round(total, 4)
    return data


def error_results(message, execution_time=0.0):
    """What a student sees when nothing could be graded: score 0 and why."""
    return {"score": 0.0, "output": message, "output_format": "md",
            "execution_time": round(execution_time, 2), "tests": []}


def write_results(path, data):
    """Atomically replace path with the JSON of data (never a half-written file)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, allow_nan=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def validate_results(data):
    """Raise ValueError if data is not a valid Gradescope results.json."""
    try:
        import jsonschema
    except ImportError:  # Gradescope's image may lack it: a minimal structural check
        if type(data) is not dict or type(data.get("tests")) is not list:
            raise ValueError("results must be an object with a tests list")
        if not isinstance(data.get("score"), (int, float)):
            raise ValueError("results must have a numeric score")
        return
    try:
        jsonschema.validate(data, RESULTS_SCHEMA)
    except jsonschema.ValidationError as error:
        raise ValueError(f"invalid results.json: {error.message}") from None
