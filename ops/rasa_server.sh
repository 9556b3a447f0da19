#!/usr/bin/env bash
# Start the Rasa server (its own Python 3.10 environment) with the HTTP API on, behind a token.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${RASA_TOKEN:?RASA_TOKEN must be set}"
: "${RASA_MODEL:?RASA_MODEL must be set (ops/train.py prints it)}"
: "${ACTION_SERVER_TOKEN:?ACTION_SERVER_TOKEN must be set (bot/endpoints.yml sends it to the action server)}"
export RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=2
export PYTHONPATH="$PWD"  # our NLU components (bot/nlu/) and launcher (bot/server.py, a speed fix)
# Rasa's own log level, apart from ours: at DEBUG Rasa logs citizens' messages in clear, which our
# log masking cannot reach (it is not our process's logging). Keep it at INFO outside a debugging desk.
export LOG_LEVEL="${RASA_LOG_LEVEL:-INFO}"
export RASA_TRACKER_DB="${RASA_TRACKER_DB:-${JIESU_DATA_DIR:-var/data}/rasa_tracker.db}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_SERVER_PORT:-5055}}/webhook"
mkdir -p "$(dirname "$RASA_TRACKER_DB")"
exec .venv-rasa/bin/python -m bot.server run \
  --enable-api --auth-token="$RASA_TOKEN" \
  --model "$RASA_MODEL" \
  --endpoints "${RASA_ENDPOINTS:-bot/endpoints.yml}" \
  --credentials bot/credentials.yml \
  --interface "${RASA_HOST:-127.0.0.1}" --port "${RASA_PORT:-5005}" \
  --log-file "${JIESU_DATA_DIR:-var/data}/rasa-${RASA_PORT:-5005}.log" \
  ${RASA_EXTRA_ARGS:-}
