"""Cheats: submissions that try to earn points without working code.

Each must score no more than the all-zeros submission (`at_most`), and its
visible output must not carry anything of a hidden test.
"""
from autograder.validation.model import Entry, at_most  # noqa: F401  (used by entries)

CHEATS = []
