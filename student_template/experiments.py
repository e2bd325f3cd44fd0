"""The written part's experiments with your neural_net.py, in one command.

    python experiments.py                           # MNIST 30,000 / 5,000, downloaded once
    python experiments.py --dataset mnist-5k        # offline: 4,000 / 1,000 of 5,000 digits
    python experiments.py --dataset fashion-mnist   # Debian's dataset-fashion-mnist
    python experiments.py --n-train 500 --n-val 200 --epochs 2   # a quick smoke run

Runs (minibatch 64, 20 epochs each):
(a) 64 hidden units at learning rate 1.0: the validation confusion matrix;
(b) learning rates 10, 1.0 and 0.1 at 64 hidden units: loss and accuracy
    curves and first-layer weights per rate;
(c) 4, 16 and 64 hidden units at learning rate 0.1: the same per width.

It writes the figures, a table of final metrics (summary.md) and every
history (histories.json) to --out (default experiments_out/). It shows what
your network did; reading the figures and answering the questions is yours.
Without a network connection it says so in one line and uses the offline
mnist-5k digits. It trains with the neural_net.py next to this file.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# Index 0: the neural_net.py next to this file must win over any other on the path.
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402

import neural_net  # noqa: E402
import util  # noqa: E402

CONFUSION_RUN = (64, 1.0)                 # (hidden units, learning rate) of (a)
LEARNING_RATES = (10.0, 1.0, 0.1)         # (b), at LR_SWEEP_WIDTH hidden units
LR_SWEEP_WIDTH = 64
WIDTHS = (4, 16, 64)                      # (c), at WIDTH_SWEEP_LR
WIDTH_SWEEP_LR = 0.1
HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc")


class ExperimentError(RuntimeError):
    """A problem the user must fix (train's output unusable)."""


def planned_runs():
    """The distinct (n_hidden, lr) trainings the experiments need, each once, in order.

    (64, 1.0) serves (a) and (b); (64, 0.1) serves (b) and (c).
    """
    wanted = [CONFUSION_RUN] + [(LR_SWEEP_WIDTH, lr) for lr in LEARNING_RATES]
    wanted += [(width, WIDTH_SWEEP_LR) for width in WIDTHS]
    return list(dict.fromkeys(wanted))


def run_name(n_hidden, lr):
    """File-name tag of one run, e.g. 'h64_lr0.1'."""
    return f"h{n_hidden}_lr{lr:g}"


def check_history(history, epochs):
    """Refuse a history the plots cannot use: dict of HISTORY_KEYS, `epochs` values each."""
    if not isinstance(history, dict) or any(key not in history for key in HISTORY_KEYS):
        raise ExperimentError(f"train must return a history dict with the keys "
                              f"{list(HISTORY_KEYS)}; got {type(history).__name__}")
    lengths = {key: len(history[key]) for key in HISTORY_KEYS}
    if set(lengths.values()) != {epochs}:
        raise ExperimentError(f"train's history must hold one value per epoch ({epochs}); "
                              f"got lengths {lengths}")


def train_one(data, n_hidden, lr, epochs, batch_size, seed, log=print):
    """Initialise and train one network with your neural_net, one epoch per call of
    your train, so that each epoch's numbers can be shown as soon as they exist.

    Epoch e shuffles with seed * 1000 + e: one seeded shuffle per epoch, as
    train(..., epochs=epochs, seed=seed) would draw, from another stream.

    Inputs:
    - data: dict with 'X_train' (N, 784), 'y_train' (N,), 'X_val' (V, 784), 'y_val' (V,)
    - n_hidden: int H; lr: float; epochs, batch_size, seed: ints; log: function of one str

    Returns:
    - run: dict with 'n_hidden', 'lr', 'params' (W1 (H, 784), b1 (H,), W2 (10, H),
      b2 (10,)), 'history' (dict of 4 lists of `epochs` floats), 'val_pred' (V,)
      int predictions with the final params, 'seconds' float
    """
    params = neural_net.init_params(data["X_train"].shape[1], n_hidden, util.NUM_CLASSES,
                                    seed=seed)
    history = {key: [] for key in HISTORY_KEYS}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        params, one = neural_net.train(params, data["X_train"], data["y_train"],
                                       data["X_val"], data["y_val"], lr=lr, epochs=1,
                                       batch_size=batch_size, seed=seed * 1000 + epoch)
        check_history(one, 1)
        for key in HISTORY_KEYS:
            history[key].append(float(one[key][0]))
        log(f"    epoch {epoch:3d}  train loss {history['train_loss'][-1]:8.4f}  acc "
            f"{history['train_acc'][-1]:.4f}  val loss {history['val_loss'][-1]:8.4f}  "
            f"acc {history['val_acc'][-1]:.4f}  ({time.perf_counter() - start:.1f} s)")
    val_pred = np.asarray(neural_net.predict(params, data["X_val"]))
    return {"n_hidden": n_hidden, "lr": lr, "params": params, "history": history,
            "val_pred": val_pred, "seconds": time.perf_counter() - start}


def final(run, key):
    """The last epoch's value of one history metric."""
    return float(run["history"][key][-1])


def run_experiments(data, out_dir, epochs=20, batch_size=64, seed=0, class_names=None,
                    log=print):
    """Train every planned run and write the figures.

    Returns:
    - runs: dict (n_hidden, lr) -> run (see train_one), plus 'cm': the (10, 10)
      validation confusion matrix of CONFUSION_RUN, and 'figures': list of PNG names
    """
    os.makedirs(out_dir, exist_ok=True)
    runs, figures = {}, []
    plan = planned_runs()
    for number, (n_hidden, lr) in enumerate(plan, start=1):
        log(f"[{number}/{len(plan)}] {n_hidden} hidden units, learning rate {lr:g}: "
            f"{epochs} epochs on {len(data['y_train'])} examples")
        run = train_one(data, n_hidden, lr, epochs, batch_size, seed, log)
        name = f"weights_{run_name(n_hidden, lr)}.png"
        util.visualize_weights(run["params"]["W1"], os.path.join(out_dir, name),
                               title=f"first-layer weights, {n_hidden} hidden units, "
                                     f"learning rate {lr:g}")
        figures.append(name)
        runs[(n_hidden, lr)] = run

    cm = util.confusion_matrix(data["y_val"], runs[CONFUSION_RUN]["val_pred"])
    util.plot_confusion_matrix(cm, os.path.join(out_dir, "confusion.png"), class_names,
                               title=f"validation confusion matrix, {CONFUSION_RUN[0]} "
                                     f"hidden units, learning rate {CONFUSION_RUN[1]:g}")
    by_rate = {f"lr {lr:g}": runs[(LR_SWEEP_WIDTH, lr)]["history"] for lr in LEARNING_RATES}
    util.plot_histories(by_rate, os.path.join(out_dir, "curves_by_learning_rate.png"),
                        title=f"{LR_SWEEP_WIDTH} hidden units")
    by_width = {f"H={w}": runs[(w, WIDTH_SWEEP_LR)]["history"] for w in WIDTHS}
    util.plot_histories(by_width, os.path.join(out_dir, "curves_by_width.png"),
                        title=f"learning rate {WIDTH_SWEEP_LR:g}")
    figures = ["confusion.png", "curves_by_learning_rate.png", "curves_by_width.png"] + figures
    runs["cm"], runs["figures"] = cm, figures
    return runs


def summary_markdown(runs, setup, class_names=None):
    """summary.md: the setup, the table of final metrics, the confusion matrix, the figures."""
    cm = runs["cm"]
    names = list(class_names or [str(c) for c in range(len(cm))])
    lines = ["# Experiments", "",
             f"Data set `{setup['dataset']}`: {setup['n_train']} training and "
             f"{setup['n_val']} validation examples; minibatch {setup['batch_size']}, "
             f"{setup['epochs']} epochs, seed {setup['seed']}. Values are those of the last "
             "epoch (mean cross-entropy, accuracy on the full sets).", "",
             "| hidden units | learning rate | train loss | train acc | val loss | val acc "
             "| time (s) |", "|---:|---:|---:|---:|---:|---:|---:|"]
    for (n_hidden, lr) in planned_runs():
        run = runs[(n_hidden, lr)]
        lines.append(f"| {n_hidden} | {lr:g} | {final(run, 'train_loss'):.4f} | "
                     f"{final(run, 'train_acc'):.4f} | {final(run, 'val_loss'):.4f} | "
                     f"{final(run, 'val_acc'):.4f} | {run['seconds']:.1f} |")
    lines += ["", f"Validation confusion matrix ({CONFUSION_RUN[0]} hidden units, learning "
              f"rate {CONFUSION_RUN[1]:g}); rows are the true class, columns the predicted:",
              "", "| true \\ predicted | " + " | ".join(names) + " |",
              "|---|" + "---:|" * len(names)]
    lines += [f"| {names[i]} | " + " | ".join(str(int(v)) for v in row) + " |"
              for i, row in enumerate(cm)]
    lines += [""] + [f"![{name}]({name})" for name in runs["figures"]]
    return "\n".join(lines) + "\n"


def save_histories(runs, path):
    """Every run's per-epoch history as JSON (for your own plots or tables); returns path."""
    records = [{"n_hidden": run["n_hidden"], "lr": run["lr"], "seconds": run["seconds"],
                "history": run["history"]}
               for key, run in runs.items() if isinstance(key, tuple)]
    with open(path, "w") as file:
        json.dump(records, file, indent=1)
    return path


def load_data(args, log=print):
    """(dataset name, X_train, y_train, X_val, y_val); MNIST falls back to mnist-5k
    with a one-line notice when it cannot be downloaded."""
    try:
        return (args.dataset,) + util.load_dataset(
            args.dataset, args.data_dir, n_train=args.n_train, n_val=args.n_val,
            seed=args.seed, download=args.dataset == "mnist" and not args.data_dir)
    except util.DownloadError:
        log("notice: MNIST could not be downloaded (no network?); using the offline "
            "mnist-5k digits (4,000 / 1,000) instead")
    n_train, n_val = util.DEFAULT_SIZES["mnist-5k"]
    return ("mnist-5k",) + util.load_dataset(
        "mnist-5k", n_train=min(args.n_train or n_train, n_train),
        n_val=min(args.n_val or n_val, n_val), seed=args.seed)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="Run the homework's experiments with the neural_net.py in "
                    f"{HERE}; write figures and summary.md.")
    parser.add_argument("--dataset", choices=util.DATASETS, default="mnist",
                        help="mnist (default: downloaded once, 30,000 / 5,000), mnist-5k "
                             "(offline, 4,000 / 1,000) or fashion-mnist")
    parser.add_argument("--data-dir", default=None,
                        help=f"folder of the data files (default: {util.MNIST_CACHE_DIR} "
                             f"for mnist, {util.FASHION_MNIST_DIR} for fashion-mnist)")
    parser.add_argument("--out", default="experiments_out", help="output folder")
    parser.add_argument("--n-train", type=int, default=None, help="training examples")
    parser.add_argument("--n-val", type=int, default=None, help="validation examples")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0,
                        help="seeds the split, the initial weights and the shuffling")
    args = parser.parse_args(argv)
    for option in ("n_train", "n_val", "epochs", "batch_size"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    return args


def main(argv=None):
    """Run the experiments; returns 0, 1 (neural_net.py unfinished) or 2 (no data)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"neural_net: {os.path.abspath(neural_net.__file__)}")
    try:
        dataset, X_train, y_train, X_val, y_val = load_data(args)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: cannot load {args.dataset}: {error}", file=sys.stderr)
        return 2
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    setup = {"dataset": dataset, "n_train": len(y_train), "n_val": len(y_val),
             "epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed}
    print(f"data: {dataset}, {len(y_train)} training / {len(y_val)} validation examples")
    start = time.perf_counter()
    try:
        runs = run_experiments(data, args.out, args.epochs, args.batch_size, args.seed,
                               util.CLASS_NAMES[dataset])
    except NotImplementedError as error:
        print(f"\nerror: neural_net.py is not finished: {error}", file=sys.stderr)
        return 1
    except ExperimentError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    summary = os.path.join(args.out, "summary.md")
    with open(summary, "w") as file:
        file.write(summary_markdown(runs, setup, util.CLASS_NAMES[dataset]))
    save_histories(runs, os.path.join(args.out, "histories.json"))
    print(f"done in {time.perf_counter() - start:.1f} s: {summary} and "
          f"{len(runs['figures'])} figures in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
