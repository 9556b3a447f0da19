#!/usr/bin/env bash
# Re-resolve both environments from their loose specs and freeze the result into requirements/*.lock.
# Run after changing dependencies in pyproject.toml or requirements/rasa.in.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

py_main=$(ops/find_python.sh 3.11+)
"$py_main" -m venv "$tmp/main"
"$tmp/main/bin/pip" install -qq ".[dev]"
{ echo "# Locked by ops/lock.sh from pyproject.toml (with the dev extra) on $("$tmp/main/bin/python" -V). Do not edit."
  "$tmp/main/bin/pip" freeze --exclude jiesu; } > requirements/main.lock

py_rasa=$(ops/find_python.sh 3.10)
"$py_rasa" -m venv "$tmp/rasa"
"$tmp/rasa/bin/pip" install -qq -r requirements/rasa.in
{ echo "# Locked by ops/lock.sh from requirements/rasa.in on $("$tmp/rasa/bin/python" -V). Do not edit."
  "$tmp/rasa/bin/pip" freeze; } > requirements/rasa.lock
echo "locked: requirements/main.lock ($(grep -vc '^#' requirements/main.lock) packages), requirements/rasa.lock ($(grep -vc '^#' requirements/rasa.lock) packages)"
