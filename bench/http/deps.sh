#!/usr/bin/env bash
# Debian packages make bench-http needs beyond scripts/deps.sh: wrk (HTTP
# load generator) and gnuplot (the chart); installed only when missing.
set -euo pipefail
installed() {  # (no pipe into grep -q: SIGPIPE + pipefail would say "missing")
  local status
  status=$(dpkg -s "$1" 2>/dev/null) || return 1
  [[ $status == *$'\nStatus: install ok installed'* ]]
}
missing=()
for p in wrk gnuplot-nox; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=()
[ "$(id -u)" -ne 0 ] && SUDO=(sudo)
echo "bench/http/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
