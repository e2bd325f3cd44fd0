"""Realistic submissions: written the way students write this homework, each
with two to four honest mistakes in different functions, and the fair grade a
careful TA would give, written down before the submission was first graded.

The fair grade follows the rubric of docs/GRADING.md:
- a function whose values are wrong earns none of its points (`wrong`): a
  function that does not work earns nothing for its shape, for being
  loop-free or for leaving its arguments alone; in general, a test that
  requires a lost test (config.json `requires`) is lost with it;
- a loop costs only that function's "vectorized" (`loops`), a missing
  safeguard only its "stability" (`unstable`), writing into an argument only
  its "unchanged" (`mutates`);
- a function is never charged for a mistake written in another, and the
  end-to-end tests of train (held-out accuracy, lr = 10) are charged only when
  a mistake lies on the training path (`end_to_end="at risk"`); how much of
  them is lost then is what the grader measures, not a TA's guess.

validate checks that the grader's deductions outside the end-to-end tests
equal the fair ones within 0.5 point, and that every failed test belongs to a
function that holds a mistake.
"""
import os

from autograder.config import load_config
from autograder.validation.model import Entry, Expected

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "realistic")


def _tests_of(function):
    return tuple(load_config()["functions"][function]["tests"])


def wrong(function):
    """The function's values are wrong: every test of it."""
    return (function, _tests_of(function))


def with_gated(function, tests):
    """tests plus every test of function that requires one of them (the gates)."""
    specs = load_config()["functions"][function]["tests"]
    lost = set(tests)
    for name, spec in specs.items():
        if {required.split(".")[-1] for required in spec.get("requires", ())} & set(tests):
            lost.add(name)
    return (function, tuple(t for t in specs if t in lost))


def loops(function):
    return (function, ("vectorized",))


def unstable(function):
    return (function, ("stability",))


def mutates(function):
    return (function, ("unchanged",))


def only_test(function, *tests):
    return (function, tuple(tests))


def realistic(name, why, mistakes, end_to_end="kept"):
    """An entry graded from realistic/<name>.py; `mistakes` are (function, lost tests)."""
    if end_to_end not in ("kept", "at risk"):
        raise ValueError(end_to_end)
    for function, tests in mistakes:
        unknown = set(tests) - set(_tests_of(function))
        if unknown:
            raise ValueError(f"{name}: {function} has no test {sorted(unknown)}")
    mistakes = [with_gated(function, tests) for function, tests in mistakes]
    with open(os.path.join(HERE, name + ".py"), "rb") as handle:
        raw = handle.read()
    expected = Expected(fair=tuple(mistakes), end_to_end_at_risk=end_to_end == "at risk")
    return Entry(name=name, kind="realistic", base="raw", raw=raw, why=why,
                 breaks=tuple(function for function, _ in mistakes), expected=expected)


REALISTIC = [
    realistic("loops_everywhere",
              "per-example loops in one_hot and softmax; cross_entropy takes log(0)", [
                  loops("one_hot"), loops("softmax"), unstable("cross_entropy")]),
    realistic("column_vector_habits",
              "column-vector code at the edges (right); cross_entropy sums instead of "
              "averaging; init_params unscaled and unseeded", [
                  wrong("cross_entropy"), wrong("init_params")]),
    realistic("naive_exp",
              "sigmoid and softmax without the overflow guards; cross_entropy clips P in "
              "place; prints every epoch", [
                  unstable("sigmoid_forward"), unstable("softmax"), mutates("cross_entropy")]),
    realistic("sign_flip_step",
              "sgd_step climbs the gradient; train's history measured on the last minibatch", [
                  wrong("sgd_step"), only_test("train", "history")], end_to_end="at risk"),
    realistic("bias_folded_helpers",
              "bias folded into W with its own helpers (right); db averaged; "
              "sigmoid_backward applies the sigmoid to its output again; predict returns (N, 1)", [
                  wrong("linear_backward"), wrong("sigmoid_backward"),
                  wrong("predict")], end_to_end="at risk"),
    realistic("seed_zero_and_percent",
              "one_hot returns ints; train seeds only when seed is truthy (not 0) and "
              "records accuracy in percent", [
                  only_test("one_hot", "shape"), only_test("train", "seeded", "history")]),
    realistic("transposed_dW_compensated",
              "linear_backward returns dW transposed and backward transposes it back "
              "(backward is right); sigmoid without the overflow guard", [
                  wrong("linear_backward"), unstable("sigmoid_forward")]),
    realistic("sce_sign_predict_proba",
              "softmax_cross_entropy_backward has the sign flipped; predict returns the "
              "highest probability instead of the class", [
                  wrong("softmax_cross_entropy_backward"), wrong("predict")],
              end_to_end="at risk"),
    realistic("column_softmax_random_bias",
              "softmax normalizes the columns (and shifts by the global max); init_params "
              "draws random biases", [
                  wrong("softmax"), wrong("init_params")], end_to_end="at risk"),
    realistic("history_first_true_class_log",
              "history recorded before each epoch's updates; sigmoid_backward with a double "
              "loop; cross_entropy takes the log of the true class without a clip", [
                  only_test("train", "history"), loops("sigmoid_backward"),
                  unstable("cross_entropy")]),
    realistic("unit_init_list_loops",
              "init_params at unit scale; one_hot and predict with list comprehensions", [
                  wrong("init_params"), loops("one_hot"), loops("predict")]),
    realistic("summed_loss_no_mean_grad",
              "linear_forward with the bias folded in (right); cross_entropy sums over the "
              "examples; softmax_cross_entropy_backward forgets the 1/N", [
                  wrong("cross_entropy"), wrong("softmax_cross_entropy_backward")],
              end_to_end="at risk"),
]
