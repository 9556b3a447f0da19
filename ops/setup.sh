#!/usr/bin/env bash
# Create or update both environments from their lock files; a no-op when the locks are unchanged.
#   .venv       main environment (Python >= 3.11): backend, action server, gateway, tests
#   .venv-rasa  Rasa server environment (Python 3.10): rasa 3.6.21 + jieba, nothing of ours
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1

py_main=$(ops/find_python.sh 3.11+)
py_rasa=$(ops/find_python.sh 3.10)

sync_env() {  # sync_env DIR PYTHON LOCKFILE [EXTRA_PIP_ARGS...]
  local dir=$1 py=$2 lock=$3; shift 3
  local want; want=$( (cat "$lock"; echo "$*"; cat pyproject.toml) | sha256sum | cut -c1-16)
  if [ -f "$dir/.jiesu-lock" ] && [ "$(cat "$dir/.jiesu-lock")" = "$want" ]; then
    return 0
  fi
  echo "setting up $dir from $lock ..."
  [ -x "$dir/bin/python" ] || "$py" -m venv "$dir"
  "$dir/bin/python" -m pip install -qq --upgrade "pip>=24"
  "$dir/bin/python" -m pip install -qq -r "$lock" "$@"
  "$dir/bin/python" -m pip check >/dev/null || { "$dir/bin/python" -m pip check; exit 1; }
  echo "$want" > "$dir/.jiesu-lock"
}

sync_env .venv "$py_main" requirements/main.lock
if ! .venv/bin/python -c 'import backend, connectors, ops' 2>/dev/null; then
  .venv/bin/python -m pip install -qq --no-deps -e .
fi
sync_env .venv-rasa "$py_rasa" requirements/rasa.lock
