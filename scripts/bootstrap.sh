#!/usr/bin/env bash
# Prepares this machine for development, tests and local grading. Idempotent.
# - a virtual environment with the pinned requirements (NNAG_VENV, default
#   /opt/nnag-venv as root so the unprivileged worker user can execute it,
#   .venv otherwise);
# - as root: the worker user, bubblewrap (best effort: the grader probes it),
#   and the Debian Fashion-MNIST package used by the full-size tests (best
#   effort: skipped tests say so when it is missing).
# Prints the venv's python path as its last line.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
if [ "$(id -u)" = 0 ]; then default_venv=/opt/nnag-venv; else default_venv="$here/.venv"; fi
venv=${NNAG_VENV:-$default_venv}
base_python=$(command -v /usr/bin/python3 || command -v python3)

if [ ! -x "$venv/bin/python" ]; then
  "$base_python" -m venv "$venv" >&2
fi
stamp="$venv/.nnag-requirements"
want=$(cat "$here"/requirements*.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  "$venv/bin/pip" install --quiet -r "$here/requirements-dev.txt" >&2
  "$venv/bin/pip" install --quiet --no-deps -r "$here/requirements-data.txt" >&2
  echo "$want" > "$stamp"
fi

if [ "$(id -u)" = 0 ]; then
  "$here/scripts/make_worker_user.sh" >&2
  # bwrap (namespaces around each worker) and prlimit (limits set before the
  # worker's interpreter starts); the grader probes both and does without.
  if ! command -v bwrap >/dev/null && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq bubblewrap util-linux) >&2 \
      || echo "bootstrap: bubblewrap not installed; workers run without namespaces" >&2
  fi
  if [ ! -d /usr/share/datasets/fashion-mnist ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >&2 \
      || echo "bootstrap: dataset-fashion-mnist not installed; full-size tests will be skipped" >&2
  fi
fi
echo "$venv/bin/python"
