"""Pure helpers for the suites: no proxy, no worker, no unittest.

- compare: what came back (shape, dtype kind, finiteness) and relative errors;
- gradients: centered differences in float64 on a random subset of coordinates;
- diagnose: the likely mistake behind a wrong value (scale fit, transposes, ...);
- feedback: the markdown a student reads (function, inputs, expected, got, hint);
- vectorization: static AST analysis of the submitted source, step-count growth,
  and the presence and arity of a graded function in the source;
- data: the embedded MNIST digits and the grader's fixed splits;
- reference: the staff solution, loaded by file path (the parent's ground truth);
- exact: solution-bearing math (stable sigmoid/softmax, exact gradients, the
  variants a mistake produces); staff only, never in the handout.
"""
