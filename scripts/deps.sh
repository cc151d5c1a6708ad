#!/usr/bin/env bash
# Installs the Debian packages shoal needs to build and test, only those
# missing; runs apt-get update only if something must be installed.
#   scripts/deps.sh          check and install
#   SHOAL_NO_DEPS=1 ...      skip entirely (e.g. a machine set up by hand)
set -euo pipefail

PACKAGES=(
  cmake make pkg-config
  gcc libc6-dev             # the default compiler; ASan/UBSan runtimes come with it
  clang libclang-rt-14-dev  # libFuzzer and clang's sanitizer runtimes (make fuzz)
  wabt                      # wat2wasm (examples), wast2json (spec tests)
  libcjson-dev              # JSON scripts of the spec tests, read by `shoal spectest`
  clang-19 lld-19 wasi-libc libclang-rt-19-dev-wasm32  # C -> wasm32 test inputs (components, WASI)
  python3                   # WASI test runners (tests/wasi/*.py)
  binaryen                  # wasm-opt: random modules + reference interpreter (tests/diff)
  csmith libcsmith-dev      # random C programs for tests/diff/csmith.py
  libmicrohttpd-dev         # HTTP/1.1 server of `shoal serve` (src/host)
  libcurl4-openssl-dev      # outbound HTTP of `shoal serve` guests (wasi:http/outgoing-handler)
  curl                      # make demo fetches a page from `shoal serve`
)

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

if ! command -v apt-get >/dev/null 2>&1; then
  echo "deps.sh: missing ${missing[*]}, and no apt-get here (shoal targets Debian 12)" >&2
  exit 1
fi
SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else
    echo "deps.sh: missing ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
