"""Autograder for the backpropagation homework (see docs/ARCHITECTURE.md)."""
