"""One grading run in the trusted parent: the `grade` verb, the unittest runner
that writes Gradescope's results.json, its schema, and the answers the
handout's self-check replays."""
