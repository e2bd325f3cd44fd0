# Two commands set up a fresh machine and do the main jobs:
#   make demo   grade the reference, the blank template and bundled example submissions
#   make test   the whole test suite: 3.10 compatibility, pytest, full TA validation
# Each first runs scripts/bootstrap.sh (venv with pinned requirements, worker user,
# Debian's Fashion-MNIST as root), which is idempotent and quick when nothing changed.

PYTHON = $$(bash scripts/bootstrap.sh | tail -n 1)

.PHONY: demo test validate dist template
demo:
	@python=$(PYTHON) && $$python -m autograder demo

test:
	@python=$(PYTHON) && \
	  $$(dirname $$python)/vermin -q -t=3.10- --violations --eval-annotations --no-tips autograder reference && \
	  $$python -m pytest -q tests && \
	  $$python -m autograder validate

validate:
	@python=$(PYTHON) && $$python -m autograder validate

dist:
	@python=$(PYTHON) && $$python -m autograder build

template:
	@python=$(PYTHON) && $$python -m autograder template
