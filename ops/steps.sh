# Sourced by the set-up scripts. `step LABEL COMMAND...` runs one step of set-up or start-up and says
# how long it took, so a newcomer sees where the time goes. Everything goes to stderr: some steps
# print a result on stdout (ops/train.py prints the model's path).
step() {
  local label=$1 t0=$EPOCHREALTIME; shift
  printf '▸ %s\n' "$label" >&2
  "$@"
  printf '  %s: %s s\n' "$label" "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" >&2
}
