#!/usr/bin/env bash
# fuzz_long.sh [RUNS] [TARGET...] - each fuzz target of tests/fuzz for RUNS executions (default
# 1000000: issue 11's bar), with scripts/fuzz.sh's build and settings; prints each target's
# executions and time. The results target runs about 70 inputs a second (an HDF5 open per
# input): a million takes about 4 hours; the others run thousands a second.
set -uo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in -h|--help) sed -n '2,5p' "$0" | cut -c3-; exit 0 ;; esac
runs=${1:-1000000}
shift 2>/dev/null || true
targets=${*:-spec idx cifar results}
build=${FUZZ_BUILD:-build/fuzz}
scripts/fuzz.sh 1 $targets > /dev/null || exit 1 # builds them (and a 1 s smoke run)
export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in $targets; do
  work=$(mktemp -d); cp tests/fuzz/corpus/"$t"/* "$work"/
  t0=$(date +%s)
  "$build/tests/fuzz/fuzz_$t" -runs="$runs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" "$work" > "$build/fuzz_long_$t.log" 2>&1
  rc=$?
  n=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$build/fuzz_long_$t.log" | grep -oE '[0-9]+$')
  echo "fuzz_$t: exit $rc, ${n:-?} executions in $(( $(date +%s) - t0 )) s"
  rm -rf "$work"
done
