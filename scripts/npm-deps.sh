#!/usr/bin/env bash
# Installs the pinned npm tools (jco, componentize-js, preview2-shim) that
# build and check the component test inputs: `npm ci` from package-lock.json
# into ./node_modules, only when it is missing or older than the lock file.
#   scripts/npm-deps.sh [REPO_ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
stamp=node_modules/.shoal-npm-stamp
if [ -f "$stamp" ] && [ ! package-lock.json -nt "$stamp" ] \
   && [ -f node_modules/@bytecodealliance/jco/package.json ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-deps.sh: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
echo "npm-deps.sh: npm ci (jco, componentize-js, preview2-shim)"
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
