#!/usr/bin/env bash
# `make run`: set up both environments, check, train if needed, start every service under honcho.
# Each step says what it does and how long it took; training says how far it is.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/steps.sh
started=$SECONDS
ops/setup.sh
export JIESU_ENV="${JIESU_ENV:-development}"
export JIESU_DATA_DIR="${JIESU_DATA_DIR:-var/data}"
mkdir -p "$JIESU_DATA_DIR"
envfiles=$(.venv/bin/python -m ops.devenv)
eval "$(.venv/bin/python -m ops.devenv --export "$envfiles")"  # what honcho gives the services
step "pre-flight checks" .venv/bin/python -m ops.preflight
RASA_MODEL=$(step "Rasa model" .venv/bin/python -m ops.train)
export RASA_MODEL
step "routing model" .venv/bin/python -m backend.routing build
echo "▸ starting the services ($((SECONDS - started)) s since make run)" >&2
exec .venv/bin/honcho start -f Procfile -e "$envfiles"
