#!/usr/bin/env bash
# Time from `git clone` to the first answer in the web chat, on a fresh clone of this repository.
#   bench/clone_to_answer.sh          with the package caches as they are (warm after one install)
#   bench/clone_to_answer.sh --cold   with empty package caches (every package downloaded)
# The stack runs on free ports (the port settings), so it collides with nothing already running.
# Prints one JSON line: the seconds, the set-up and training times `make run` printed, the install
# sizes, the load average before and after, and the answer; saves it in bench/results/clone_MODE.json.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mode=warm
work=$(mktemp -d)
if [ "${1:-}" = "--cold" ]; then
  mode=cold
  export PIP_NO_CACHE_DIR=1 UV_CACHE_DIR="$work/uv-cache"
fi
runner=""
trap '[ -n "$runner" ] && kill -- -"$runner" 2>/dev/null; sleep 2; rm -rf "$work"' EXIT
read -r BACKEND_PORT ACTION_SERVER_PORT RASA_PORT GATEWAY_PORT < <(python3 -c '
import socket
held = [socket.socket() for _ in range(4)]
for s in held: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in held))')
export BACKEND_PORT ACTION_SERVER_PORT RASA_PORT GATEWAY_PORT
gateway="http://127.0.0.1:$GATEWAY_PORT"
load_before=$(cut -d' ' -f1 /proc/loadavg)
t0=$(date +%s.%N)
git clone -q "$src" "$work/jiesu"
cd "$work/jiesu"
set -m
make run > "$work/run.log" 2>&1 &
runner=$!
set +m
answer=""
for _ in $(seq 1 2400); do
  if ! kill -0 "$runner" 2>/dev/null; then echo "make run ended early:" >&2; tail -30 "$work/run.log" >&2; exit 1; fi
  if sender=$(curl -sf -X POST "$gateway/chat/api/session" 2>/dev/null | python3 -c 'import sys,json; print(json.load(sys.stdin)["sender"])' 2>/dev/null); then
    answer=$(curl -sf "$gateway/chat/api/messages" -H 'content-type: application/json' \
      -d "{\"sender\": \"$sender\", \"text\": \"你好\"}" || true)
    case "$answer" in *好*) break ;; esac
  fi
  sleep 1
done
t1=$(date +%s.%N)
case "$answer" in *好*) ;; *) echo "no answer from the web chat; the end of make run's output:" >&2; tail -30 "$work/run.log" >&2; exit 1 ;; esac
step_s() { grep -o "^  $1[^:]*: [0-9.]* s" "$work/run.log" | grep -o "[0-9.]* s$" | tr -d ' s' | head -1; }
line=$(printf '{"date": "%s", "mode": "%s", "commit": "%s", "clone_to_first_answer_s": %.0f, "main_env_s": %s, "rasa_env_s": %s, "rasa_model_s": %s, "main_env_mb": %s, "rasa_env_mb": %s, "load_before": %s, "load_after": %s, "answer": %s}' \
  "$(date '+%Y-%m-%d %H:%M')" "$mode" "$(git rev-parse --short HEAD)" "$(echo "$t1 - $t0" | bc)" \
  "$(step_s 'main environment')" "$(step_s 'Rasa environment')" "$(step_s 'Rasa model')" \
  "$(du -sm .venv | cut -f1)" "$(du -sm .venv-rasa | cut -f1)" "$load_before" "$(cut -d' ' -f1 /proc/loadavg)" \
  "$(printf '%s' "$answer" | python3 -c 'import sys,json; print(json.dumps(sys.stdin.read()[:80], ensure_ascii=False))')")
echo "$line"
echo "$line" > "$src/bench/results/clone_$mode.json"
