#!/usr/bin/env bash
# `make bench`: every benchmark in bench/, each printing its table and saving bench/results/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
export RASA_TELEMETRY_ENABLED=false PYTHONWARNINGS=ignore TF_CPP_MIN_LOG_LEVEL=2
RASA_MODEL=$(.venv/bin/python -m ops.train); export RASA_MODEL
.venv/bin/python -m backend.routing build
for bench in routing_eval routing_real knowledge_eval nlu_cv conversations_e2e real_conversations backend_throughput chat_latency scale_compare; do
  echo "=== bench/$bench.py"
  .venv/bin/python -m "bench.$bench"
done
