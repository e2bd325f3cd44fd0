"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test. A cheat grafted onto
an otherwise working submission (a forged record of train's calls, a seed that
only nudges the result) must instead lose the checks it games (`only`).
"""
from autograder.validation.model import Entry, at_most, only  # noqa: F401  (used by entries)

CHEATS = []

# train's structure is read from what it passes to the student's own functions
# and verified by replaying it; these try to earn train's points without the
# work the record shows, or with a seed that changes nothing that matters.
FORGED_TRAIN = '''
_REAL = (forward, backward, sgd_step, one_hot)
_train_for_show = train


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """Makes every minibatch call the grader watches, then returns other parameters:
    one full-batch step per epoch, through references taken at import."""
    _, history = _train_for_show(params, X_train, y_train, X_val, y_val, lr, epochs,
                                 batch_size, seed)
    real_forward, real_backward, real_sgd_step, real_one_hot = _REAL
    Y = real_one_hot(y_train, params["b2"].shape[0])
    for _ in range(epochs):
        _, cache = real_forward(params, X_train)
        params = real_sgd_step(params, real_backward(params, cache, Y), lr)
    return params, history
'''

REWRITTEN_RECORD = '''
_train_for_show = train


def train(params, X_train, y_train, X_val, y_val, lr, epochs, batch_size, seed=0):
    """One full-batch step per epoch, then the grader's record (found through the
    closure of the forward it was given) rewritten to show proper minibatches."""
    Y = one_hot(y_train, params["b2"].shape[0])
    for _ in range(epochs):
        _, cache = forward(params, X_train)
        params = sgd_step(params, backward(params, cache, Y), lr)
    for cell in getattr(forward, "__closure__", None) or ():
        calls = getattr(cell.cell_contents, "calls", None)
        if isinstance(calls, list):
            fake = []
            for _ in range(epochs):
                order = np.random.default_rng(seed).permutation(len(X_train))
                for start in range(0, len(X_train), batch_size):
                    rows = order[start:start + batch_size]
                    fake.append([0, -1, X_train[rows].copy()])
                    fake.append([1, len(fake) - 1, Y[rows].copy()])
                    fake.append([2, len(fake) - 1, lr])
            calls[:] = fake
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for _ in range(epochs):
        for split, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
            P, _ = forward(params, X)
            history[split + "_loss"].append(cross_entropy(P, one_hot(y, Y.shape[1])))
            history[split + "_acc"].append(float(np.mean(np.argmax(P, axis=1) == y)))
    return params, history
'''

CHEATS += [
    Entry(name="rewritten_train_record", kind="cheat",
          why="train does one full-batch step per epoch, then rewrites the grader's record of "
              "its calls into proper shuffled minibatches",
          breaks=("train",), append=REWRITTEN_RECORD,
          expected=only("train", also=(), msg=("not what its own calls produce",))),
    Entry(name="forged_train_record", kind="cheat",
          why="train makes the minibatch calls a correct train makes, but returns parameters "
              "they did not produce",
          breaks=("train",), append=FORGED_TRAIN,
          expected=only("train", also=(), msg=("not what its own calls produce",))),
    Entry(name="tiny_seed_nudge", kind="cheat",
          why="the shuffle ignores the seed; the seed only nudges the result by 1e-9",
          breaks=("train",),
          subs=(("    rng = np.random.default_rng(seed)\n    n_classes",
                 "    rng = np.random.default_rng(0)\n    n_classes"),
                ("    return params, history\n",
                 "    params = {k: v + 1e-9 * seed for k, v in params.items()}\n"
                 "    return params, history\n")),
          expected=only("train", also=(), msg=("not shuffled, or the seed is ignored",))),
]
