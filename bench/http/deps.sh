#!/usr/bin/env bash
# Debian packages make bench-http needs beyond scripts/deps.sh: wrk (HTTP
# load generator) and gnuplot (the chart); installed only when missing.
set -euo pipefail
missing=()
for p in wrk gnuplot-nox; do
  dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=()
[ "$(id -u)" -ne 0 ] && SUDO=(sudo)
echo "bench/http/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
