#!/usr/bin/env bash
# `make shell`: talk to the assistant in the terminal (ops/shell.py), through the web chat API.
# With `make run` going in another terminal it joins that stack; else it starts the stack itself, the
# same way and with the same checks, and stops it when the conversation ends. Arguments go to
# ops/shell.py (`make shell ARGS=--nlu` shows what Rasa read in each message).
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/steps.sh
ops/setup.sh
export JIESU_ENV="${JIESU_ENV:-development}"
export JIESU_DATA_DIR="${JIESU_DATA_DIR:-var/data}"
mkdir -p "$JIESU_DATA_DIR"
envfiles=$(.venv/bin/python -m ops.devenv)
eval "$(.venv/bin/python -m ops.devenv --export "$envfiles")"
if .venv/bin/python -m ops.shell --probe; then
  echo "▸ talking to the running stack (gateway on port ${GATEWAY_PORT:-8080})" >&2
  exec .venv/bin/python -m ops.shell "$@"
fi
step "pre-flight checks" .venv/bin/python -m ops.preflight
RASA_MODEL=$(step "Rasa model" .venv/bin/python -m ops.train)
export RASA_MODEL
step "routing model" .venv/bin/python -m backend.routing build
log="$JIESU_DATA_DIR/shell-stack.log"
echo "▸ starting the services for this conversation (their output: $log)" >&2
.venv/bin/honcho start -f Procfile -e "$envfiles" </dev/null >"$log" 2>&1 &
stack=$!
trap 'kill "$stack" 2>/dev/null; wait "$stack" 2>/dev/null || true' EXIT
.venv/bin/python -m ops.shell --wait "${JIESU_STARTUP_TIMEOUT:-300}" "$@"
