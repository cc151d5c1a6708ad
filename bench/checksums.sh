#!/usr/bin/env bash
# ctest bench.checksums: each bench program (programs.tsv, plus hello), run by shoal
# on its small check arguments, must print exactly what its native build prints.
#   checksums.sh SHOAL BENCH_BUILD_DIR PROGRAMS_TSV
set -uo pipefail
shoal=$1 dir=$2 list=$3
pass=0 fail=0

check() {  # NAME ARGS...
  local name=$1 want got
  shift
  want=$("$dir/$name.native" "$@" 2>&1) || { echo "FAIL $name: native run failed: $want"; fail=$((fail + 1)); return; }
  got=$("$shoal" run "$dir/$name.wasm" "$@" 2>&1)
  local rc=$?
  if [ $rc -ne 0 ] || [ "$got" != "$want" ]; then
    echo "FAIL $name $*: shoal (exit $rc) printed:"; echo "$got" | head -20
    echo "  native printed:"; echo "$want"
    fail=$((fail + 1))
  else
    echo "ok   $name $*: $got"
    pass=$((pass + 1))
  fi
}

check hello
while IFS=$'\t' read -r name _ args _; do
  [[ -z $name || $name == \#* ]] && continue
  # shellcheck disable=SC2086  # the arguments are a space-separated list
  check "$name" $args
done < "$list"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
