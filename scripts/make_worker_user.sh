#!/usr/bin/env bash
# Creates the unprivileged user that runs student code: no home, no login
# shell, no supplementary groups. Idempotent; needs root.
set -euo pipefail
user=${NNAG_WORKER_USER:-nnworker0}
if ! id "$user" >/dev/null 2>&1; then
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$user"
fi
