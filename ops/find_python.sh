#!/usr/bin/env bash
# Print the path of a Python interpreter the way users have one: on PATH, via pyenv, or via uv.
#   ops/find_python.sh 3.10     exactly Python 3.10 (for the Rasa server)
#   ops/find_python.sh 3.11+    Python 3.11 or newer (for everything else)
set -u
want="$1"

ok() {  # ok INTERPRETER -> true when it runs and matches $want
  local v
  v=$("$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || return 1
  case "$want" in
    *+) [ "$(printf '%s\n%s\n' "${want%+}" "$v" | sort -V | head -n1)" = "${want%+}" ] ;;
    *) [ "$v" = "$want" ] ;;
  esac
}

candidates() {
  case "$want" in
    *+) for m in 11 12 13; do echo "python3.$m"; done; echo python3 ;;
    *) echo "python$want" ;;
  esac
  if command -v pyenv >/dev/null 2>&1; then
    local root; root=$(pyenv root)
    ls -d "$root"/versions/"${want%+}"*/bin/python 2>/dev/null | sort -rV
    [ "${want%+}" != "$want" ] && ls -d "$root"/versions/3.1[1-9]*/bin/python 2>/dev/null | sort -V
  fi
  if command -v uv >/dev/null 2>&1; then
    uv python find "${want%+}" 2>/dev/null
  fi
}

while read -r c; do
  [ -n "$c" ] || continue
  if ok "$c"; then command -v "$c" 2>/dev/null || echo "$c"; exit 0; fi
done < <(candidates)

echo "Python $want is required but was not found: install it (e.g. 'pyenv install ${want%+}' or 'uv python install ${want%+}') and run again." >&2
exit 1
