#!/usr/bin/env bash
# Time from `git clone` to the first answer in the web chat, on a fresh clone of this repository.
#   bench/clone_to_answer.sh          with the package cache as it is (warm after one install)
#   bench/clone_to_answer.sh --cold   with pip's cache off (every package downloaded)
# Prints the seconds, the install size of each environment and the training time.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
mode=warm
if [ "${1:-}" = "--cold" ]; then mode=cold; export PIP_NO_CACHE_DIR=1; fi
work=$(mktemp -d)
trap 'kill -- -$runner 2>/dev/null || true; rm -rf "$work"' EXIT
t0=$(date +%s.%N)
git clone -q "$src" "$work/jiesu"
cd "$work/jiesu"
set -m
make run > "$work/run.log" 2>&1 &
runner=$!
set +m
answer=""
for _ in $(seq 1 1800); do
  if sender=$(curl -sf -X POST http://127.0.0.1:8080/chat/api/session 2>/dev/null | python3 -c 'import sys,json; print(json.load(sys.stdin)["sender"])' 2>/dev/null); then
    answer=$(curl -sf http://127.0.0.1:8080/chat/api/messages -H 'content-type: application/json' \
      -d "{\"sender\": \"$sender\", \"text\": \"你好\"}" || true)
    case "$answer" in *好*) break ;; esac
  fi
  sleep 1
done
t1=$(date +%s.%N)
trained=$(grep -o "trained models/[^ ]* in [0-9]* s" "$work/run.log" | grep -o "in [0-9]* s" || echo "not trained")
printf '{"mode": "%s", "clone_to_first_answer_s": %.0f, "main_env_mb": %s, "rasa_env_mb": %s, "training": "%s", "answer": %s}\n' \
  "$mode" "$(echo "$t1 - $t0" | bc)" "$(du -sm .venv | cut -f1)" "$(du -sm .venv-rasa | cut -f1)" "$trained" \
  "$(printf '%s' "$answer" | python3 -c 'import sys,json; print(json.dumps(sys.stdin.read()[:80], ensure_ascii=False))')"
