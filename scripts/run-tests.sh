#!/usr/bin/env bash
# Runs ctest in each build directory given, then sums what the tests said.
#   scripts/run-tests.sh build build-asan
# Every test that ends its output with "N passed, M failed[, K skipped]"
# (the spec runner `shoal spectest`, the unit tests of tests/test.h) counts
# with those numbers; any other test counts as one passed or failed. A test
# that ctest failed counts at least one failure. The SIMD spec files, which
# ctest does not run, are reported as skipped (BUILD/spec/skipped.txt).
# The last line printed is "N passed, M failed" over all builds (also
# written to $SUMMARY_FILE if set); the exit status is non-zero if anything
# failed.
set -uo pipefail

JOBS=${JOBS:-2}
total_p=0 total_f=0 rc=0
summaries=()

for dir in "$@"; do
  log="$dir/Testing/Temporary/LastTest.log"
  failed_log="$dir/Testing/Temporary/LastTestsFailed.log"   # "N:name" lines
  rm -f "$log" "$failed_log"
  echo "== ctest in $dir"
  ctest --test-dir "$dir" --output-on-failure -j"$JOBS"
  ctest_rc=$?
  [ $ctest_rc -eq 0 ] || rc=1

  # tests passed failed skipped spec_files spec_files_failed
  read -r ntests p f s nspec nspec_f < <(
    [ -f "$log" ] && awk -v failed_log="$failed_log" '
      BEGIN {
        while ((getline line < failed_log) > 0) { sub(/^[0-9]+:/, "", line); failed[line] = 1 }
      }
      function done_test() {
        if (name == "") return
        ntests++
        if (has) { P += p; F += f; S += s; if (!ok && f == 0) F++ }
        else if (ok) P++
        else F++
        if (name ~ /^spec\./) { nspec++; if (!ok) nspec_f++ }
        name = ""
      }
      /^[0-9]+\/[0-9]+ Test: / { done_test(); name = $3; has = 0; ok = !($3 in failed); inout = 0; next }
      /^Output:$/ { inout = 1; next }
      /^<end of output>$/ { inout = 0; next }
      inout && match($0, /(^|: )[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?$/) {
        line = substr($0, RSTART); sub(/^: /, "", line)
        n = split(line, w, /[ ,]+/)
        p = w[1] + 0; f = w[3] + 0; s = (n >= 5) ? w[5] + 0 : 0; has = 1
        next
      }
      END { done_test(); printf "%d %d %d %d %d %d\n", ntests, P, F, S, nspec, nspec_f }
    ' "$log" || echo "0 0 0 0 0 0")

  if [ "$ntests" -eq 0 ]; then
    echo "$dir: no test ran" >&2
    f=$((f + 1)); rc=1
  elif [ $ctest_rc -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1   # ctest failed in a way the log did not show (e.g. a test not run)
  fi
  simd=0
  [ -f "$dir/spec/skipped.txt" ] && simd=$(grep -c . "$dir/spec/skipped.txt")
  summaries+=("$dir: $ntests tests ($nspec spec files, $nspec_f failed; $simd SIMD spec files skipped): $p passed, $f failed, $s skipped")
  total_p=$((total_p + p)) total_f=$((total_f + f))
done

echo
echo "== summary (spec: assertions per .wast file; other tests: their own counts or 1 each)"
for line in "${summaries[@]}"; do echo "$line"; done
[ $total_f -eq 0 ] || rc=1
echo "$total_p passed, $total_f failed"
[ -z "${SUMMARY_FILE:-}" ] || echo "$total_p passed, $total_f failed" > "$SUMMARY_FILE"
exit $rc
