"""Wall time and peak memory of the homework's full configuration with the reference.

    python bench/bench_training.py                    # full configuration, once
    python bench/bench_training.py --repeat 3         # min / median of 3 runs
    python bench/bench_training.py --experiments      # + the three experiments' accuracies

Full configuration: Fashion-MNIST from the Debian package dataset-fashion-mnist,
30,000 training / 5,000 validation examples, 784-64-10, batch 64, lr 1.0,
20 epochs (target: <= 12 s on one core). BLAS is limited to one thread and
the process is pinned to one CPU before numpy is imported, as on a one-core
grading machine. --experiments adds the final validation accuracies of the
five trainings of experiments.py on Fashion-MNIST 30k/5k and on mnist-5k 4k/1k.

Prints figures; asserts nothing (not a test).
"""
import os
import sys

# Before numpy is imported: OpenBLAS, OpenMP and MKL read these once, at load time.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"


def pin_to_one_cpu():
    """Restrict this process to the first CPU it may use (what `taskset -c` does).

    Returns:
    - str describing the CPU set now in force
    """
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (no sched_setaffinity on this system)"
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[0]})
    return f"pinned to CPU {allowed[0]} (of {len(allowed)} allowed)"


PINNING = pin_to_one_cpu()

import argparse  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402

import numpy as np  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "reference"))

import experiments  # noqa: E402
import neural_net  # noqa: E402
import util  # noqa: E402

FULL = {"n_hidden": 64, "lr": 1.0, "epochs": 20, "batch_size": 64, "seed": 0}


def peak_rss_mb():
    """Peak resident set size of this process so far, in MB (ru_maxrss is KB on Linux).

    Returns:
    - float
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024.0 * 1024.0) if sys.platform == "darwin" else peak / 1024.0


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or the platform's description.

    Returns:
    - str
    """
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def train_full(data, config, epochs=None):
    """Initialise and train the reference once.

    Inputs:
    - data: dict with 'X_train' (N, 784), 'y_train' (N,), 'X_val' (V, 784), 'y_val' (V,)
    - config: dict with 'n_hidden', 'lr', 'epochs', 'batch_size', 'seed'
    - epochs: int or None (None: config['epochs'])

    Returns a tuple (history, wall_seconds, cpu_seconds):
    - history: dict of lists, as returned by neural_net.train
    """
    params = neural_net.init_params(data["X_train"].shape[1], config["n_hidden"],
                                    util.NUM_CLASSES, seed=config["seed"])
    wall, cpu = time.perf_counter(), time.process_time()
    _, history = neural_net.train(params, data["X_train"], data["y_train"], data["X_val"],
                                  data["y_val"], lr=config["lr"],
                                  epochs=config["epochs"] if epochs is None else epochs,
                                  batch_size=config["batch_size"], seed=config["seed"])
    return history, time.perf_counter() - wall, time.process_time() - cpu


def load(name, n_train, n_val):
    """A train / validation split as the dict train_full takes, and its load time.

    Inputs:
    - name: data set name; n_train, n_val: ints

    Returns a tuple (data, seconds)
    """
    start = time.perf_counter()
    X_train, y_train, X_val, y_val = util.load_dataset(name, n_train=n_train, n_val=n_val,
                                                       seed=0)
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    return data, time.perf_counter() - start


def bench_full(data, repeat):
    """Time the full configuration `repeat` times and print the figures.

    Inputs:
    - data: dict (see train_full); repeat: int

    Returns:
    - None
    """
    walls, cpus = [], []
    for attempt in range(1, repeat + 1):
        history, wall, cpu = train_full(data, FULL)
        walls.append(wall)
        cpus.append(cpu)
        print(f"  run {attempt}: {wall:6.2f} s wall, {cpu:6.2f} s CPU, final val acc "
              f"{history['val_acc'][-1]:.4f}, val loss {history['val_loss'][-1]:.4f}")
    print(f"  wall: min {min(walls):.2f} s, median {statistics.median(walls):.2f} s "
          f"({min(walls) / FULL['epochs']:.3f} s per epoch; target <= 12 s)")
    print(f"  peak RSS of the process after training: {peak_rss_mb():.0f} MB")


def bench_traced_memory(data):
    """Peak of traced allocations (numpy arrays included) during one epoch, untimed.

    Inputs:
    - data: dict (see train_full)

    Returns:
    - None
    """
    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    train_full(data, FULL, epochs=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"  tracemalloc: peak {(peak - baseline) / 2**20:.1f} MB allocated by train() "
          "above the loaded data (one epoch incl. the full-set evaluation)")


def bench_experiments(data, label):
    """Final validation accuracy of each of experiments.py's trainings.

    Inputs:
    - data: dict (see train_full); label: str describing the data

    Returns:
    - None
    """
    print(f"\nexperiments on {label} (batch {FULL['batch_size']}, {FULL['epochs']} epochs, "
          f"seed {FULL['seed']}):")
    for n_hidden, lr in experiments.planned_runs():
        config = dict(FULL, n_hidden=n_hidden, lr=lr)
        history, wall, _ = train_full(data, config)
        print(f"  {n_hidden:3d} hidden, lr {lr:<4g}: final val acc {history['val_acc'][-1]:.4f}"
              f", train acc {history['train_acc'][-1]:.4f}, val loss "
              f"{history['val_loss'][-1]:.4f}  ({wall:.1f} s)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of the full config")
    parser.add_argument("--experiments", action="store_true",
                        help="also the five trainings of experiments.py on both data sets")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    print(f"python {platform.python_version()}, numpy {np.__version__}, {cpu_model()}")
    print(f"BLAS threads: OPENBLAS/OMP/MKL_NUM_THREADS=1; {PINNING}")
    print(f"peak RSS after imports: {peak_rss_mb():.0f} MB")
    try:
        fashion, seconds = load("fashion-mnist", 30000, 5000)
    except FileNotFoundError as missing:
        print(f"error: {missing}", file=sys.stderr)
        return 2
    print(f"\nFashion-MNIST 30,000 / 5,000 loaded in {seconds:.2f} s; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    print(f"full configuration: 784-{FULL['n_hidden']}-10, batch {FULL['batch_size']}, "
          f"lr {FULL['lr']:g}, {FULL['epochs']} epochs")
    bench_full(fashion, args.repeat)
    bench_traced_memory(fashion)
    if args.experiments:
        bench_experiments(fashion, "Fashion-MNIST 30,000 / 5,000")
        mnist_5k, _ = load("mnist-5k", 4000, 1000)
        bench_experiments(mnist_5k, "mnist-5k 4,000 / 1,000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
