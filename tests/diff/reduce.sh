#!/usr/bin/env bash
# Shrinks a module on which shoal and binaryen disagree, with wasm-reduce.
#   [DIFF_ARGS=--no-wabt] tests/diff/reduce.sh DRIVER IN.wasm OUT.wasm
# wasm-reduce keeps a reduction while diff.py --module still says MISMATCH.
set -euo pipefail
driver=$(realpath "$1") in=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/cmd.sh" <<EOS
#!/bin/sh
python3 "$here/diff.py" --driver "$driver" --module "$tmp/test.wasm" ${DIFF_ARGS:-} | cut -c1-8
EOS
chmod +x "$tmp/cmd.sh"
cp "$in" "$tmp/orig.wasm"
( cd "$tmp" && wasm-reduce orig.wasm -b /usr/bin/ "--command=$tmp/cmd.sh" -t test.wasm -w work.wasm \
    --disable-simd --disable-reference-types --disable-gc --enable-multivalue \
    --enable-bulk-memory --enable-sign-ext --enable-nontrapping-float-to-int >reduce.log 2>&1 ) ||
  { tail -20 "$tmp/reduce.log"; exit 1; }
cp "$tmp/work.wasm" "$out"
wasm2wat --enable-all "$out"
