"""Realistic submissions: written the way students write this homework, each
with a few honest mistakes in different functions, and the fair score a
careful TA would give, written down before the submission was graded.
"""
from autograder.validation.model import Entry, Expected  # noqa: F401  (used by entries)

REALISTIC = []
