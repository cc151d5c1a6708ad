#!/usr/bin/env bash
# Installs the pinned npm tools (jco, componentize-js, preview2-shim) that
# build and check the component test inputs: `npm ci` from package-lock.json
# into ./node_modules, only when it is missing or was installed from another
# lock file (the stamp holds the lock file's checksum, not a time).
#   scripts/npm-deps.sh [REPO_ROOT]
set -euo pipefail
root="${1:-$(cd "$(dirname "$0")/.." && pwd)}"
cd "$root"
# Parallel build steps may all ask at once: one installs, the others wait.
exec 9>"$root/.npm-deps.lock"
flock 9
stamp=node_modules/.shoal-npm-stamp
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && [ -f node_modules/@bytecodealliance/jco/package.json ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "npm-deps.sh: npm is missing (Node.js 20 with npm is needed)" >&2; exit 1; }
echo "npm-deps.sh: npm ci (jco, componentize-js, preview2-shim)"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
