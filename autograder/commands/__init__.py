"""The verbs of `python -m autograder` that are not grading or validation:
build, batch, selfcheck, template, demo, calibrate (one module each, main(argv)).
None of them is needed on Gradescope; the upload leaves this folder out."""
