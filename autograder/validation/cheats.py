"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test.
"""
from autograder.validation.model import Entry, at_most  # noqa: F401  (used by entries)

CHEATS = []


from autograder.validation.model import Expected, only  # noqa: E402


# Loops hidden from the vectorization check. Each function computes the right
# values with a Python loop; the disguise must not save its "vectorized" test,
# and nothing else may fail (the values are right).
def hidden_loop(name, function, why, expected, **kwargs):
    return Entry(name=name, kind="cheat", expected=expected, why=why, **kwargs)


CHEATS += [
    hidden_loop(
        "loop_bound_by_assignment", "one_hot",
        "a looping one_hot defined under another name and bound by assignment",
        only("one_hot", also=(), msg=r"`for` loop"),
        subs=(("def one_hot(y, num_classes):\n", "def _one_hot_rows(y, num_classes):\n"),
              ("    Y[np.arange(y.shape[0]), y] = 1.0\n",
               "    for row, label in enumerate(y):\n        Y[row, label] = 1.0\n")),
        append="one_hot = _one_hot_rows\n"),
    hidden_loop(
        "loop_compiled_from_string", "predict",
        "predict's loop over examples compiled from a string (its lines are not counted)",
        only("predict", also=(), msg=r"\bexec\b"),
        subs=(("    P, _ = forward(params, X)\n    return np.argmax(P, axis=1)\n",
               "    P, _ = forward(params, X)\n"
               "    namespace = {\"np\": np}\n"
               "    exec(\"def rows(P):\\n    return np.array([int(np.argmax(p)) for p in P])\\n\","
               " namespace)\n"
               "    return namespace[\"rows\"](P)\n"),)),
    hidden_loop(
        "graded_function_defined_by_exec", "cross_entropy",
        "cross_entropy with a loop over examples, defined at import by exec",
        Expected(loses=("cross_entropy",), message_contains=(r"\bexec\b",)),
        subs=(("def cross_entropy(P, Y):\n", "def _unused_cross_entropy(P, Y):\n"),),
        append=("exec(\"def cross_entropy(P, Y):\\n\"\n"
                "     \"    total = 0.0\\n\"\n"
                "     \"    for p, y in zip(P, Y):\\n\"\n"
                "     \"        total -= float(y @ np.log(np.clip(p, 1e-300, None)))\\n\"\n"
                "     \"    return total / P.shape[0]\\n\")\n")),
    hidden_loop(
        "tracer_switched_off", "sgd_step",
        "sgd_step loops over rows after sys.settrace(None) (no line is counted)",
        only("sgd_step", also=(), msg=r"settrace"),
        subs=(("    return {name: value - lr * grads[name] for name, value in params.items()}\n",
               "    import sys\n"
               "    sys.settrace(None)\n"
               "    new_params = {}\n"
               "    for name, value in params.items():\n"
               "        rows = [v - lr * g for v, g in zip(value, grads[name])]\n"
               "        new_params[name] = np.array(rows).reshape(value.shape)\n"
               "    return new_params\n"),)),
    hidden_loop(
        "loop_in_a_thread", "init_params",
        "init_params draws W row by row in a thread (threads are not traced)",
        only("init_params", also=(), msg=r"threading"),
        subs=(("        return rng.uniform(-limit, limit, size=(fan_out, fan_in))\n",
               "        import threading\n"
               "        rows = []\n"
               "        worker = threading.Thread(target=lambda: rows.extend(\n"
               "            rng.uniform(-limit, limit, size=fan_in) for _ in range(fan_out)))\n"
               "        worker.start()\n"
               "        worker.join()\n"
               "        return np.array(rows).reshape(fan_out, fan_in)\n"),)),
    hidden_loop(
        "return_at_once_on_huge_inputs", "backward",
        "backward loops over examples, and returns zeros at once on the timing inputs",
        only("backward", also=(), msg=r"grew from"),
        subs=(('    dW1 = dZ1.T @ cache["X"]\n',
               "    if Y.shape[0] > 5000:  # only the grader's timing inputs are this large\n"
               "        return {name: np.zeros_like(value) for name, value in params.items()}\n"
               '    dW1 = np.zeros_like(params["W1"])\n'
               '    for dz, x in zip(dZ1, cache["X"]):\n'
               "        dW1 += np.outer(dz, x)\n"),)),
]
