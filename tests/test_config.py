"""autograder/config.py: the schema of config.json and the registry derived from it."""
import json

import pytest

from autograder import CONFIG_PATH
from autograder import config as cfg


def raw():
    return cfg.load_config(derived=False)


def write(tmp_path, data):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_the_shipped_config_is_valid_and_in_its_canonical_layout():
    with open(CONFIG_PATH, encoding="utf-8") as handle:
        text = handle.read()
    assert text == cfg.dump_config(json.loads(text)), "rewrite it with config.dump_config"


def test_a_misspelt_key_fails_with_its_dotted_name_and_a_suggestion(tmp_path):
    data = raw()
    data["limits"]["call_timeout"] = data["limits"].pop("call_timeout_s")
    with pytest.raises(cfg.ConfigError, match=r"unknown key limits\.call_timeout "
                                              r"\(did you mean 'call_timeout_s'\?\)"):
        cfg.load_config(write(tmp_path, data))


def test_a_missing_key_fails_with_its_name_and_description(tmp_path):
    data = raw()
    del data["thresholds"]["vectorization"]["step_slack"]
    with pytest.raises(cfg.ConfigError, match=r"thresholds\.vectorization\.step_slack is "
                                              r"missing \(growth of the Python step count"):
        cfg.load_config(write(tmp_path, data))


def test_weights_that_do_not_total_100_fail(tmp_path):
    data = raw()
    data["functions"]["softmax"]["tests"]["values"]["weight"] += 0.5
    with pytest.raises(cfg.ConfigError, match=r"total 100\.5, not 100"):
        cfg.load_config(write(tmp_path, data))


@pytest.mark.parametrize("where,value,message", [
    (("functions", "softmax", "vectorization"), "loops", r"must be one of 'layer'"),
    (("functions", "softmax", "tests", "values", "visibility"), "secret", r"must be one of"),
    (("functions", "forward", "calls"), ["softmx"], r"forward\.calls names 'softmx'"),
    (("limits", "memory_mb"), "400", r"limits\.memory_mb should be a number, got str"),
    (("thresholds", "train_accuracy", "epochs"), True, r"epochs should be an integer"),
    (("thresholds", "vectorization", "backstop_factors"), {"sigmoid": 4},
     r"backstop_factors names 'sigmoid', which is not a graded function"),
    (("thresholds", "vectorization", "backstop_factors"), {"softmax": 0.5},
     r"backstop_factors\.softmax must be at least 1"),
])
def test_wrong_values_fail_with_the_key(tmp_path, where, value, message):
    data = raw()
    node = data
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    with pytest.raises(cfg.ConfigError, match=message):
        cfg.load_config(write(tmp_path, data))


def test_every_key_of_the_schema_documents_itself():
    def walk(schema, where):
        assert schema.description.strip(), where
        children = getattr(schema, "keys", None)
        if children:
            for key, child in children.items():
                walk(child, f"{where}.{key}")
        if hasattr(schema, "value"):
            walk(schema.value, f"{where}.*")

    walk(cfg.SCHEMA, "config")


def test_the_registry_numbers_tests_in_order_and_names_their_function():
    tests = cfg.load_config()["tests"]
    assert list(tests)[:2] == ["one_hot.shape", "one_hot.values"]
    assert tests["one_hot.shape"]["number"] == "1.1"
    assert all(key.startswith(entry["function"] + ".") for key, entry in tests.items())
    assert cfg.functions()[-1] == "train" and cfg.calls()["predict"] == ("forward",)
    assert cfg.policies()["train"] == "none"


def test_the_handout_copy_drops_hidden_tests_and_still_loads(tmp_path):
    tests = cfg.load_config()["tests"]
    hidden = {k for k, v in tests.items() if v["visibility"] != "visible"}
    assert hidden
    copy = cfg.without_tests(raw(), hidden)
    loaded = cfg.load_config(write(tmp_path, copy))
    assert set(loaded["tests"]) == set(tests) - hidden
    assert all(loaded["tests"][k]["number"] == tests[k]["number"] for k in loaded["tests"])
    assert loaded["visible_only"] is True
