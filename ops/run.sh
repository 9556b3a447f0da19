#!/usr/bin/env bash
# `make run`: set up both environments, train if needed, start every service under honcho.
set -euo pipefail
cd "$(dirname "$0")/.."
ops/setup.sh
export JIESU_ENV="${JIESU_ENV:-development}"
export JIESU_DATA_DIR="${JIESU_DATA_DIR:-var/data}"
mkdir -p "$JIESU_DATA_DIR"
RASA_MODEL=$(.venv/bin/python -m ops.train)
export RASA_MODEL
.venv/bin/python -m backend.routing build
envfiles=$(.venv/bin/python -m ops.devenv)
exec .venv/bin/honcho start -f Procfile -e "$envfiles"
