"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test.
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

CHEATS += [
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
