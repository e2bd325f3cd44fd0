"""Calibrate the end-to-end accuracy tiers (and the lr-10 check) on the reference.

    python -m autograder calibrate [--seeds 20] [--write]

Runs the REFERENCE `train` exactly as the suite runs the student's (the
same kind of secret task, checks/data.py secret_task, with the sizes and
hyper-parameters of config.json thresholds.train_accuracy), for several seeds
(each seed draws the task: split, pixel and label permutations, held-out
noise; and is the seed of init_params and of train's shuffle), and computes
the held-out test accuracy with the reference forward, as the parent does. Full credit is set at the reference's WORST seed minus a margin, so a
correct implementation with another random stream (another init, another
shuffle) still earns it. Prints the distribution; --write stores it and the
tiers in config.json (only thresholds.train_accuracy is touched).
"""
import argparse
import math
import sys
import time

import numpy as np

from autograder import CONFIG_PATH
from autograder.checks import data
from autograder.checks.reference import reference
from autograder.config import dump_config, load_config


def task_for(settings, seed):
    """The secret task of calibration seed `seed` (a grading draws its own)."""
    return data.secret_task(np.random.default_rng(seed), settings["n_train"], settings["n_val"])


def run_reference(settings, seed):
    """(held-out accuracy, CPU seconds, relative change of W1) of the reference."""
    ref = reference()
    split = task_for(settings, seed)
    params = ref.init_params(784, settings["n_hidden"], 10, seed)
    started = time.process_time()
    trained, history = ref.train(params, split["X_train"], split["y_train"], split["X_val"],
                                 split["y_val"], settings["lr"], settings["epochs"],
                                 settings["batch_size"], seed)
    cpu = time.process_time() - started
    accuracy = float(np.mean(ref.predict(trained, split["X_test"]) == split["y_test"]))
    live = ~data.dead_pixels(split["X_train"])
    return accuracy, cpu, data.relative_change(params["W1"], trained["W1"], live)


def run_lr10(settings, seed):
    ref = reference()
    split = task_for(settings, seed)
    X, y = split["X_train"], split["y_train"]
    params = ref.init_params(784, settings["n_hidden"], 10, seed)
    Y = ref.one_hot(y, 10)
    before = ref.cross_entropy(ref.forward(params, X)[0], Y)
    trained, history = ref.train(params, X, y, split["X_val"], split["y_val"], settings["lr"],
                                 settings["epochs"], settings["batch_size"], seed)
    after = ref.cross_entropy(ref.forward(trained, X)[0], Y)
    return before, after


def tiers_from(worst, margin):
    full = math.floor((worst - margin) * 1000) / 1000
    return [[full, 1.0], [round(full - 0.05, 3), 0.75], [0.7, 0.5], [0.4, 0.25]]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder calibrate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--write", action="store_true")
    options = parser.parse_args(argv)
    config = load_config()
    settings = config["thresholds"]["train_accuracy"]
    seeds = list(range(options.seeds))
    accuracies, cpus, changes = [], [], []
    for seed in seeds:
        accuracy, cpu, change = run_reference(settings, seed)
        accuracies.append(accuracy)
        cpus.append(cpu)
        changes.append(change)
        print(f"seed {seed}: held-out accuracy {accuracy:.4f}  ({cpu:.2f} s CPU, W1 moved "
              f"{change:.3f})")
    worst, best = min(accuracies), max(accuracies)
    print(f"reference over {len(seeds)} seeds: min {worst:.4f}  median "
          f"{float(np.median(accuracies)):.4f}  max {best:.4f}  mean {np.mean(accuracies):.4f}"
          f"  sd {np.std(accuracies):.4f}")
    print(f"W1's relative change: smallest {min(changes):.3f}")
    tiers = tiers_from(worst, settings["margin"])
    print("tiers [accuracy >=, fraction of the points]:", tiers)
    lr10 = config["thresholds"]["train_lr10"]
    ratios = []
    for seed in seeds:
        before, after = run_lr10(lr10, seed)
        ratios.append(after / before)
        print(f"lr 10, seed {seed}: training loss {before:.3f} -> {after:.3f}")
    print(f"lr 10: final / initial loss, worst {max(ratios):.3f} (the check requires < "
          f"{lr10['max_loss_ratio']})")
    if options.write:
        settings["tiers"] = tiers
        settings["calibration"] = {
            "seeds": seeds, "accuracies": [round(a, 4) for a in accuracies],
            "min": round(worst, 4), "max": round(best, 4),
            "median": round(float(np.median(accuracies)), 4),
            "reference_cpu_s": round(float(np.median(cpus)), 2),
            "lr10_worst_loss_ratio": round(max(ratios), 3),
        }
        fresh = load_config(derived=False)   # only this section changes
        fresh["thresholds"]["train_accuracy"] = settings
        with open(CONFIG_PATH, "w", encoding="utf-8") as handle:
            handle.write(dump_config(fresh))
        print(f"written to {CONFIG_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
