"""Autograder for the backpropagation homework (see docs/ARCHITECTURE.md)."""
import os

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(PACKAGE_DIR)  # the repository, or the handout's grader/ folder
CONFIG_PATH = os.path.join(PACKAGE_DIR, "config.json")
