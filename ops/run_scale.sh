#!/usr/bin/env bash
# `make run-scale`: the scale-out profile on one machine — PostgreSQL for the backend, the gateway and
# Rasa's tracker store, Redis for Rasa's lock store, two Rasa servers behind the gateway.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/steps.sh
started=$SECONDS
ops/setup.sh
export JIESU_ENV="${JIESU_ENV:-development}" JIESU_DATA_DIR="${JIESU_DATA_DIR:-var/scale}"
mkdir -p "$JIESU_DATA_DIR"
envfiles=$(.venv/bin/python -m ops.devenv)
eval "$(.venv/bin/python -m ops.devenv --export "$envfiles")"  # what honcho gives the services
export PG_URL="${PG_URL:-postgresql://postgres@127.0.0.1:5432}"
export RASA_DB_HOST="${RASA_DB_HOST:-127.0.0.1}" RASA_DB_PORT="${RASA_DB_PORT:-5432}"
export RASA_DB_NAME="${RASA_DB_NAME:-jiesu_rasa}" RASA_DB_USER="${RASA_DB_USER:-postgres}"
export RASA_DB_PASSWORD="${RASA_DB_PASSWORD:-}"
export REDIS_HOST="${REDIS_HOST:-127.0.0.1}" REDIS_PORT="${REDIS_PORT:-6379}" REDIS_DB="${REDIS_DB:-0}"
export BACKEND_DATABASE_URL="${BACKEND_DATABASE_URL:-$PG_URL/jiesu_backend}"
export GATEWAY_DATABASE_URL="${GATEWAY_DATABASE_URL:-$PG_URL/jiesu_gateway}"
export RASA_PORT="${RASA_PORT:-5005}" RASA2_PORT="${RASA2_PORT:-5006}"
export RASA_URLS="${RASA_URLS:-http://127.0.0.1:$RASA_PORT,http://127.0.0.1:$RASA2_PORT}"
export RASA_TRACKER_URL="${RASA_TRACKER_URL:-$PG_URL/$RASA_DB_NAME}"
step "pre-flight checks" .venv/bin/python -m ops.preflight --scale
step "PostgreSQL databases" .venv/bin/python -m ops.databases "$BACKEND_DATABASE_URL" "$GATEWAY_DATABASE_URL" "$PG_URL/$RASA_DB_NAME"
RASA_MODEL=$(step "Rasa model" .venv/bin/python -m ops.train)
export RASA_MODEL
step "routing model" .venv/bin/python -m backend.routing build
echo "▸ starting the services ($((SECONDS - started)) s since make run-scale)" >&2
exec .venv/bin/honcho start -f Procfile.scale -e "$envfiles"
