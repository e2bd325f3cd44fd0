"""train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed) -> (params, history).

Minibatch SGD cannot be replayed exactly (the shuffle is the student's own
random stream), so the checks use problems whose answer does not depend on
the order of the examples:
- identical examples: every minibatch has the same mean gradient, so the
  result after training is exactly k SGD steps, and k counts the updates;
- one minibatch holding the whole set (batch_size >= N): exact gradient
  descent whatever the shuffle, unless labels are shuffled apart from inputs;
- a tiny learning rate: one epoch moves the parameters by -lr times the sum
  over minibatches of their mean gradients, to first order, which is
  -lr / B times the sum over examples when B divides N: every example once.
The accuracy is computed by the parent, with its own forward, on a held-out
split that the worker never receives.
"""
import math

import numpy as np

from autograder.checks import compare, data, diagnose
from autograder.suites.case import SuiteCase, matches
from autograder.suites.graded import CONFIG, THRESHOLDS, graded, ref, student
from autograder.suites.inputs import fixed_dataset, fixed_params, rng_for

FN = "train"
KEYS = ("W1", "b1", "W2", "b2")
HISTORY_KEYS = ("train_loss", "train_acc", "val_loss", "val_acc")
M, H, K = 6, 5, 3
# Parameters "equal" k SGD steps within this relative error: far below the
# difference one step makes, far above float32-accurate intermediates.
SAME = 1e-6
# The end-to-end runs move W1 by 0.5 or more relative to its initial values
# (the reference, any seed); a run that leaves it within this did not train.
LEARNED_CHANGE = 0.01
USES = ("`train` relies on your `forward`, `backward` and `sgd_step` (and `one_hot`): if their "
        "tests fail, fix them first")


def small_params(r):
    return {"W1": r.normal(0, 0.8, size=(H, M)), "b1": r.normal(0, 0.3, size=H),
            "W2": r.normal(0, 0.8, size=(K, H)), "b2": r.normal(0, 0.3, size=K)}


def gd_steps(params, X, y, lr, steps):
    """`steps` full-batch gradient steps on the mean loss, with the reference."""
    R = ref()
    Y = R.one_hot(y, params["b2"].shape[0])
    for _ in range(steps):
        _, cache = R.forward(params, X)
        params = R.sgd_step(params, R.backward(params, cache, Y), lr)
    return params


def flat(params):
    return np.concatenate([np.asarray(params[k], dtype=np.float64).ravel() for k in KEYS])


def train_call(params, X, y, Xv, yv, lr, epochs, batch, seed):
    return (f"train(params, X_train {compare.shape_str(X.shape)}, y_train, X_val "
            f"{compare.shape_str(Xv.shape)}, y_val, lr={lr}, epochs={epochs}, "
            f"batch_size={batch}, seed={seed})")


class TestTrain(SuiteCase):

    def run_train(self, params, X, y, Xv, yv, lr, epochs, batch, seed, timeout=None,
                  return_args=False):
        """Call train; check the returned parameters' structure; (params, history, res)."""
        call = train_call(params, X, y, Xv, yv, lr, epochs, batch, seed)
        res = student().call(FN, params, X, y, Xv, yv, lr, epochs, batch, seed,
                             timeout=timeout or CONFIG["limits"]["call_timeout_s"],
                             return_args=return_args)
        value = self.assert_tuple(FN, res.value, 2, names=("params", "history"), call=call)
        trained, history = value
        self.assert_dict(FN, trained, KEYS, name="the returned params", call=call)
        for key in KEYS:
            shape = np.asarray(params[key]).shape
            self.assert_array(FN, trained[key], shape, kind="number",
                              name=f"the returned params['{key}']", call=call)
            self.assert_finite(FN, trained[key], name=f"the returned params['{key}']", call=call)
        return trained, history, res

    def count_steps(self, params, X, y, lr, trained, max_steps):
        """k such that trained == k full-batch steps from params, or None."""
        current = params
        for k in range(max_steps + 1):
            if matches(trained, current, tol=SAME):
                return k
            current = gd_steps(current, X, y, lr, 1)
        return None

    # -- history -----------------------------------------------------------
    @graded("train.history")
    def test_1_history(self):
        """train: history has train_loss, train_acc, val_loss, val_acc, one entry per epoch, measured on the full sets after each epoch"""
        self.assert_signature(FN, ["params", "X_train", "y_train", "X_val", "y_val", "lr",
                                   "epochs", "batch_size", "seed"])
        r = rng_for(self.key)
        params = small_params(r)
        X, Xv = r.normal(size=(20, M)), r.normal(size=(7, M))
        y, yv = r.integers(0, K, size=20), r.integers(0, K, size=7)
        epochs = 3
        call = train_call(params, X, y, Xv, yv, 0.5, epochs, 8, 0)
        trained, history, _ = self.run_train(params, X, y, Xv, yv, 0.5, epochs, 8, 0)
        self.assert_dict(FN, history, HISTORY_KEYS, name="history", call=call)
        for key in HISTORY_KEYS:
            entries = history[key]
            if isinstance(entries, np.ndarray) and entries.ndim == 1:
                entries = list(entries)
            if not isinstance(entries, (list, tuple)) or len(entries) != epochs:
                self.fail_with(FN, f"history['{key}'] should be a list with one entry per epoch "
                                   f"({epochs}); got {compare.describe(history[key])}", call=call)
            values = [compare.scalar_value(e) for e in entries]
            if any(v is None or not np.isfinite(v) for v in values):
                self.fail_with(FN, f"history['{key}'] should hold finite numbers; got "
                                   f"{[compare.describe(e) for e in entries]}", call=call)
        R = ref()
        for split, Xs, ys in (("train", X, y), ("val", Xv, yv)):
            P = R.forward(trained, Xs)[0]
            loss = R.cross_entropy(P, R.one_hot(ys, K))
            acc = float(np.mean(np.argmax(P, axis=1) == ys))
            got_loss = compare.scalar_value(history[f"{split}_loss"][-1])
            got_acc = compare.scalar_value(history[f"{split}_acc"][-1])
            where = "training" if split == "train" else "validation"
            if abs(got_loss - loss) > 1e-6 * max(abs(loss), 1e-12):
                self.fail_with(FN, f"history['{split}_loss'][-1] is {got_loss:.6g}, but the mean "
                                   f"cross-entropy of the returned parameters on the full "
                                   f"{where} set is {loss:.6g}", call=call,
                               mistake="record each epoch's loss on the FULL set with the "
                                       "parameters at the END of the epoch (not an average "
                                       "of minibatch losses, not before the updates)")
            if abs(got_acc - acc) > 1e-9:
                hint = ("report a fraction in [0, 1], not a percentage"
                        if abs(got_acc - 100 * acc) < 1e-6 else
                        "record each epoch's accuracy on the FULL set with the parameters at "
                        "the END of the epoch")
                self.fail_with(FN, f"history['{split}_acc'][-1] is {got_acc:.6g}, but the "
                                   f"accuracy of the returned parameters on the full {where} "
                                   f"set is {acc:.6g}", call=call, mistake=hint)

    # -- inputs -----------------------------------------------------------
    @graded("train.unchanged")
    def test_2_unchanged(self):
        """train: leaves params, X_train, y_train, X_val and y_val unchanged"""
        r = rng_for(self.key)
        params = small_params(r)
        X, Xv = r.normal(size=(10, M)), r.normal(size=(4, M))
        y, yv = r.integers(0, K, size=10), r.integers(0, K, size=4)
        args = [params, X, y, Xv, yv, 0.5, 2, 16, 0]
        names = ["params", "X_train", "y_train", "X_val", "y_val", "lr", "epochs",
                 "batch_size", "seed"]
        sent = [dict((k, v.copy()) for k, v in params.items()), X.copy(), y.copy(), Xv.copy(),
                yv.copy()]
        trained, _, res = self.run_train(*args, return_args=True)
        changed = compare.changed_arguments(sent, res.args_after, names[:5])
        if changed:
            what = ", ".join(f"`{c}`" for c in changed)
            self.fail_with(FN, f"modified its input {what} in place", call=train_call(*args),
                           mistake="shuffle with an index array (X_train[order]) instead of "
                                   "np.random.shuffle(X_train), and update new arrays "
                                   "(params = sgd_step(params, ...)), not the caller's")

    # -- minibatches ---------------------------------------------------------
    def identical_examples(self, r, n):
        x = r.normal(size=(1, M))
        return np.repeat(x, n, axis=0), np.full(n, int(r.integers(0, K)), dtype=np.int64)

    @graded("train.small_set")
    def test_3_small_set(self):
        """train: a training set smaller than one batch still gives one update per epoch"""
        r = rng_for(self.key)
        params = small_params(r)
        X, y = self.identical_examples(r, 5)
        Xv, yv = r.normal(size=(3, M)), r.integers(0, K, size=3)
        lr = 0.5
        call = train_call(params, X, y, Xv, yv, lr, 1, 8, 0)
        trained, _, _ = self.run_train(params, X, y, Xv, yv, lr, 1, 8, 0)
        k = self.count_steps(params, X, y, lr, trained, 4)
        if k == 1:
            return
        if k == 0:
            self.fail_with(FN, "with 5 examples and batch_size 8, the parameters did not change",
                           call=call, mistake="the last (here: the only) minibatch is dropped "
                                              "when it is smaller than batch_size: loop with "
                                              "range(0, N, batch_size) and slice [start:start + "
                                              "batch_size]")
        if k is not None:
            self.fail_with(FN, f"with 5 examples and batch_size 8 it made {k} updates in one "
                               "epoch; expected 1", call=call)
        expected = gd_steps(params, X, y, lr, 1)
        mistake = diagnose.likely_mistake(flat(trained) - flat(params),
                                          flat(expected) - flat(params), n=5)
        self.fail_with(FN, "with 5 examples and batch_size 8, the update is not one SGD step on "
                           "the mean loss of the batch", call=call,
                       expected=flat(expected) - flat(params),
                       got=flat(trained) - flat(params),
                       details=["values: the change of all parameters (W1, b1, W2, b2 "
                                "flattened)", USES],
                       mistake=mistake)

    @graded("train.update_count")
    def test_4_update_count(self):
        """train: ceil(N / batch_size) updates per epoch, the last minibatch included"""
        r = rng_for(self.key)
        params = small_params(r)
        X, y = self.identical_examples(r, 10)
        Xv, yv = r.normal(size=(3, M)), r.integers(0, K, size=3)
        lr, epochs, batch = 0.3, 2, 4
        call = train_call(params, X, y, Xv, yv, lr, epochs, batch, 0)
        trained, _, _ = self.run_train(params, X, y, Xv, yv, lr, epochs, batch, 0)
        expected = epochs * math.ceil(10 / batch)
        k = self.count_steps(params, X, y, lr, trained, 12)
        if k == expected:
            return
        details = ["the 10 training examples are identical, so every minibatch has the same "
                   "mean gradient and the parameters show how many updates were made"]
        if k is None:
            self.fail_with(FN, "the parameters after training are not a whole number of SGD "
                               "steps on the mean loss", call=call, details=details + [USES])
        mistake = None
        if k == epochs * (10 // batch):
            mistake = ("the last, smaller minibatch (10 = 4 + 4 + 2) is dropped: use "
                       "range(0, N, batch_size)")
        elif k == math.ceil(10 / batch):
            mistake = "only one epoch was run: loop `epochs` times"
        elif k == epochs:
            mistake = "one update per epoch: the whole set is used as a single batch"
        elif k == epochs * 10:
            mistake = "one update per example: average the gradient over each minibatch"
        self.fail_with(FN, f"made {k} updates in {epochs} epochs of 10 examples with batch_size "
                           f"{batch}; expected {epochs} x ceil(10 / {batch}) = {expected}",
                       call=call, details=details, mistake=mistake)

    @graded("train.each_example_once")
    def test_5_each_example_once(self):
        """train: every example is used exactly once per epoch"""
        r = rng_for(self.key)
        params = small_params(r)
        n, batch, lr = 12, 4, 1e-5
        X = r.normal(size=(n, M))
        y = np.full(n, 1, dtype=np.int64)  # one label: only the inputs tell examples apart
        Xv, yv = r.normal(size=(3, M)), r.integers(0, K, size=3)
        call = train_call(params, X, y, Xv, yv, lr, 1, batch, 0)
        trained, _, _ = self.run_train(params, X, y, Xv, yv, lr, 1, batch, 0)
        R = ref()
        _, cache = R.forward(params, X)
        mean_grad = R.backward(params, cache, R.one_hot(y, K))
        # each minibatch step is -lr * (1/B) sum_{n in batch} g_n; over the epoch
        # -lr * (1/B) * sum_n g_n = -lr * (N/B) * mean gradient, to first order in lr
        expected = -lr * (n / batch) * flat(mean_grad)
        moved = flat(trained) - flat(params)
        err = compare.rel_error(moved, expected)
        if err <= 1e-3:
            return
        s, residual = diagnose.scale_fit(moved, expected)
        mistake = None
        if s is not None and residual < 1e-3 and abs(s) < 1e-6:
            mistake = "the parameters did not move"
        elif s is not None and residual < 1e-3 and abs(s - 2) < 0.05:
            mistake = "every example was used twice in one epoch"
        elif s is not None and residual < 1e-3 and abs(s - batch) < 0.05 * batch:
            mistake = "the minibatch loss is summed, not averaged"
        elif s is not None and residual < 0.05 and s > 0:
            mistake = (f"the parameters moved {s:.3g} times as far as expected, in the right "
                       "direction: use the learning rate `lr` as given, and the MEAN over "
                       "each minibatch")
        mistake = mistake or ("the examples of an epoch are not a permutation of the training "
                              "set (sampled with replacement, skipped or repeated?): take "
                              "order = rng.permutation(N) and slice it into minibatches")
        self.fail_with(FN, f"one epoch (12 examples, batch_size 4, lr={lr}) moved the "
                           f"parameters by {err:.3g} (relative) away from the sum over the 3 "
                           "minibatches of their mean gradients",
                       call=call, expected=expected, got=moved,
                       details=["values: the change of all parameters (W1, b1, W2, b2 "
                                "flattened)", USES],
                       mistake=mistake)

    @graded("train.aligned")
    def test_6_aligned(self):
        """train: labels stay aligned with their inputs through the shuffle"""
        r = rng_for(self.key)
        params = small_params(r)
        n, lr, epochs = 12, 0.5, 2
        X = r.normal(size=(n, M))
        y = np.arange(n, dtype=np.int64) % K
        Xv, yv = r.normal(size=(3, M)), r.integers(0, K, size=3)
        call = train_call(params, X, y, Xv, yv, lr, epochs, n, 0)
        trained, _, _ = self.run_train(params, X, y, Xv, yv, lr, epochs, n, 0)
        expected = gd_steps(params, X, y, lr, epochs)
        if matches(trained, expected, tol=SAME):
            return
        details = ["with batch_size 12 = N each epoch is one minibatch holding the whole set, "
                   "so any shuffle gives exact gradient descent"]
        # the same inputs with a single label: a misalignment cannot show there
        y1 = np.zeros(n, dtype=np.int64)
        trained1, _, _ = self.run_train(params, X, y1, Xv, yv, lr, epochs, n, 0)
        if matches(trained1, gd_steps(params, X, y1, lr, epochs), tol=SAME):
            self.fail_with(FN, "the parameters differ from exact gradient descent when the "
                               "labels differ between examples, and match it when all labels "
                               "are equal", call=call, details=details,
                           mistake="the labels are not shuffled together with the inputs: "
                                   "draw ONE permutation and index both, X_train[order] and "
                                   "y_train[order]")
        self.fail_with(FN, "the parameters differ from exact gradient descent on a set that "
                           "fits in one minibatch", call=call, details=details + [USES])

    @graded("train.seeded")
    def test_7_seeded(self):
        """train: the shuffle is seeded: the same seed gives the same result, another seed another one"""
        r = rng_for(self.key)
        params = small_params(r)
        X, y = r.normal(size=(20, M)), np.arange(20, dtype=np.int64) % K
        Xv, yv = r.normal(size=(3, M)), r.integers(0, K, size=3)
        a, _, _ = self.run_train(params, X, y, Xv, yv, 0.5, 2, 4, 5)
        b, _, _ = self.run_train(params, X, y, Xv, yv, 0.5, 2, 4, 5)
        if not matches(b, a, tol=1e-12):
            self.fail_with(FN, "two runs with the same seed gave different parameters",
                           call=train_call(params, X, y, Xv, yv, 0.5, 2, 4, 5) + ", twice",
                           mistake="shuffle with rng = np.random.default_rng(seed) created in "
                                   "train, not with the global np.random state")
        c, _, _ = self.run_train(params, X, y, Xv, yv, 0.5, 2, 4, 6)
        if matches(c, a, tol=1e-12):
            self.fail_with(FN, "seeds 5 and 6 gave the same parameters: the training set is "
                               "not shuffled, or the seed is ignored",
                           call=train_call(params, X, y, Xv, yv, 0.5, 2, 4, 5) + " and seed=6",
                           mistake="shuffle every epoch with rng = np.random.default_rng(seed): "
                                   "order = rng.permutation(N)")

    # -- end to end ------------------------------------------------------------
    def end_to_end_args(self, settings):
        """(args of train, the task) for an end-to-end test: a task drawn from
        the grading's secret seed (checks/data.py secret_task), the reference's
        initial parameters, and an init/shuffle seed drawn from it too."""
        r = rng_for(self.key)
        task = data.secret_task(r, settings["n_train"], settings["n_val"])
        seed = int(r.integers(0, 1000))
        params = ref().init_params(784, settings["n_hidden"], 10, seed)
        args = (params, task["X_train"], task["y_train"], task["X_val"], task["y_val"],
                settings["lr"], settings["epochs"], settings["batch_size"], seed)
        return args, task

    def assert_trained_from(self, params, trained, X_train, call):
        """The returned parameters come from `params` by gradient steps on X_train:
        W1's columns of the pixels that are 0 in every training image come back
        exactly as given (no gradient reaches them), and the others moved."""
        dead = data.dead_pixels(X_train)
        moved = data.moved_columns(params["W1"], trained["W1"], dead)
        if moved:
            self.fail_with(FN, f"the returned W1 differs from the given W1 in {moved} of the "
                               f"{int(dead.sum())} columns of pixels that are 0 in every "
                               "training image; gradient descent never changes those (their "
                               "gradient is exactly 0), so these parameters were not trained "
                               "from the given ones on the given data",
                           call=call,
                           mistake="train must start from the `params` it is given (no new "
                                   "initialization, no stored weights) and change them only "
                                   "by sgd_step with the gradients of the given training data")
        change = data.relative_change(params["W1"], trained["W1"], ~dead)
        if not change > LEARNED_CHANGE:
            self.fail_with(FN, f"training changed W1 by only {change:.2g} (relative to its "
                               "initial values): the parameters were not trained",
                           call=call, details=[USES],
                           mistake="return the parameters after the last update, not the "
                                   "ones you were given")

    @graded("train.accuracy", partial=True)
    def test_8_accuracy(self, set_score=None):
        """train: accuracy on held-out MNIST digits after training (partial credit)"""
        set_score(0.0)
        settings = THRESHOLDS["train_accuracy"]
        weight = float(self.test_8_accuracy.__weight__)
        args, split = self.end_to_end_args(settings)
        trained, history, res = self.run_train(*args,
                                               timeout=CONFIG["limits"]["train_timeout_s"])
        self.assert_trained_from(args[0], trained, split["X_train"], train_call(*args))
        accuracy = float(np.mean(ref().predict(trained, split["X_test"]) == split["y_test"]))
        tiers = settings["tiers"]
        fraction = 0.0
        for threshold, credit in tiers:
            if accuracy >= threshold:
                fraction = credit
                break
        set_score(round(weight * fraction, 4))
        calibration = settings.get("calibration", {})
        if fraction < 1.0:
            reference = ""
            if calibration:
                reference = (f"; the reference reaches {calibration['min']:.1%} to "
                             f"{calibration['max']:.1%} over {len(calibration['seeds'])} seeds")
            table = ", ".join(f"{credit:.0%} from {threshold:.1%}" for threshold, credit in tiers)
            self.fail_with(FN, f"held-out accuracy {accuracy:.1%} after training "
                               f"(full credit from {tiers[0][0]:.1%}{reference})",
                           call=train_call(*args),
                           details=[f"points: {fraction:.0%} of {weight:g} (tiers: {table})",
                                    f"{settings['n_train']} training and {settings['n_val']} "
                                    "validation digits are sent, their pixels and labels "
                                    "shuffled in a way drawn afresh for every grading; the "
                                    f"accuracy is measured on {len(split['y_test'])} other, "
                                    "noisy digits shuffled the same way", USES])

    @graded("train.lr10")
    def test_9_lr10(self):
        """train: with lr = 10 the loss stays finite and goes down"""
        settings = THRESHOLDS["train_lr10"]
        args, split = self.end_to_end_args(settings)
        params = args[0]
        call = train_call(*args)
        R = ref()
        Y = R.one_hot(split["y_train"], 10)
        res = student().call(FN, *args, timeout=CONFIG["limits"]["train_timeout_s"])
        value = self.assert_tuple(FN, res.value, 2, names=("params", "history"), call=call)
        trained, history = value
        self.assert_dict(FN, trained, KEYS, name="the returned params", call=call)
        hint = ("with a large learning rate the logits grow: softmax needs its row max "
                "subtracted, sigmoid must not overflow, and log must not see exact zeros")
        for key in KEYS:
            self.assert_array(FN, trained[key], params[key].shape, kind="number",
                              name=f"the returned params['{key}']", call=call)
            self.assert_finite(FN, trained[key], name=f"the returned params['{key}']",
                               call=call, hint=hint)
        if isinstance(history, dict) and isinstance(history.get("train_loss"), (list, tuple)):
            values = [compare.scalar_value(v) for v in history["train_loss"]]
            if any(v is None or not np.isfinite(v) for v in values):
                self.fail_with(FN, f"history['train_loss'] is not finite at lr = 10: {values}",
                               call=call, mistake=hint)
        self.assert_trained_from(params, trained, split["X_train"], call)
        before = R.cross_entropy(R.forward(params, split["X_train"])[0], Y)
        after = R.cross_entropy(R.forward(trained, split["X_train"])[0], Y)
        if not after < settings["max_loss_ratio"] * before:
            self.fail_with(FN, f"at lr = 10 the training loss went from {before:.4g} to "
                               f"{after:.4g}; it should go down (below "
                               f"{settings['max_loss_ratio']:g} x {before:.4g})",
                           call=call, details=[USES])


# ---------------------------------------------------------------------------
# Probes: fixed inputs with the awkward cases bugs hide in, for every function
# of this suite; tests/test_catalog.py runs each catalogue variant on them.
# ---------------------------------------------------------------------------

def _probes_train():
    X, y = fixed_dataset(23)
    Xv, yv = fixed_dataset(7, seed=1)
    return [("N=23 batch 5 seed 0", (fixed_params(), X, y, Xv, yv, 0.5, 3, 5, 0)),
            ("N=23 batch 5 seed 1", (fixed_params(), X, y, Xv, yv, 0.5, 3, 5, 1))]


PROBES = {"train": _probes_train}
