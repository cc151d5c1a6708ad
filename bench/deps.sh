#!/usr/bin/env bash
# Installs what `make bench` needs beyond scripts/deps.sh (Debian packages, only those
# missing): the wasm32-wasi toolchain, gnuplot for the chart, python3 for the harness,
# and node (V8, the JIT reference) unless a node is already on PATH.
set -euo pipefail

PACKAGES=(
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32  # C -> wasm32-wasi
  gnuplot-nox                                          # bench/chart.svg
  python3                                              # bench/bench.py
  binutils                                             # strip, size
)
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)

[ "${SHOAL_NO_DEPS:-0}" = 1 ] && exit 0

installed() {  # (no pipe into grep -q: SIGPIPE + pipefail would say "missing")
  local status
  status=$(dpkg -s "$1" 2>/dev/null) || return 1
  [[ $status == *$'\nStatus: install ok installed'* ]]
}

missing=()
for p in "${PACKAGES[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=()
[ "$(id -u)" -eq 0 ] || SUDO=(sudo)
echo "bench/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
