#!/usr/bin/env bash
# Create or update both environments from their lock files with uv; a no-op when the locks are unchanged.
#   .venv       main environment (Python >= 3.11): backend, action server, gateway, tests, and uv itself
#   .venv-rasa  Rasa server environment (Python 3.10): rasa 3.6.21 + jieba, nothing of ours
# uv (pinned in requirements/main.lock) is installed into .venv with pip first: measured against pip
# in bench/setup_speed.py, see the README.
set -euo pipefail
cd "$(dirname "$0")/.."
source ops/steps.sh
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1

py_main=$(ops/find_python.sh 3.11+)
py_rasa=$(ops/find_python.sh 3.10)
uv_version=$(sed -n 's/^uv==//p' requirements/main.lock)
uv=.venv/bin/uv

lock_digest() {  # lock_digest LOCKFILE: what the environment was last set up from
  (cat "$1"; cat pyproject.toml) | sha256sum | cut -c1-16
}

ensure_uv() {
  [ -x .venv/bin/python ] || "$py_main" -m venv .venv
  if [ "$("$uv" --version 2>/dev/null)" != "uv $uv_version" ]; then
    .venv/bin/python -m pip install -qq "uv==$uv_version"
  fi
}

uv_install() {  # uv_install PYTHON ARGS...: from uv's cache alone when it holds everything, else the registry
  local python=$1 said; shift
  # Offline first: uv re-checks every cached page with the registry otherwise, and where the answers
  # carry no cache headers (as through this machine's proxy) it downloads and rebuilds them again.
  if said=$("$uv" pip install --offline --python "$python" "$@" 2>&1); then
    printf '%s\n' "$said" >&2
  else
    "$uv" pip install --python "$python" "$@"
  fi
}

sync_main() {
  ensure_uv
  uv_install .venv/bin/python -r requirements/main.lock
  if ! .venv/bin/python -c 'import backend, connectors, ops' 2>/dev/null; then
    uv_install .venv/bin/python --no-deps -e .
  fi
  "$uv" pip check --quiet --python .venv/bin/python  # quiet unless something is wrong
}

sync_rasa() {
  ensure_uv
  [ -x .venv-rasa/bin/python ] || "$uv" venv --quiet --python "$py_rasa" .venv-rasa
  uv_install .venv-rasa/bin/python -r requirements/rasa.lock
  "$uv" pip check --quiet --python .venv-rasa/bin/python  # quiet unless something is wrong
}

sync_env() {  # sync_env DIR LOCKFILE FUNCTION: run FUNCTION unless DIR was set up from this lock
  local dir=$1 lock=$2 sync=$3 want; want=$(lock_digest "$lock")
  if [ -f "$dir/.jiesu-lock" ] && [ "$(cat "$dir/.jiesu-lock")" = "$want" ]; then
    echo "  $dir is up to date with $lock" >&2
    return 0
  fi
  "$sync"
  echo "$want" > "$dir/.jiesu-lock"
}

step "main environment (.venv, $("$py_main" -V))" sync_env .venv requirements/main.lock sync_main
step "Rasa environment (.venv-rasa, $("$py_rasa" -V))" sync_env .venv-rasa requirements/rasa.lock sync_rasa
