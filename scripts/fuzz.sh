#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...] - build the libFuzzer targets of tests/fuzz with clang (ASan +
# UBSan) and run each for SECONDS (default 60; the CI's run), from its seed corpus in
# tests/fuzz/corpus (copied: the repository's corpus is not changed).
#   targets: spec (the spec parser, with a dump/parse round trip), idx and cifar (the data
#   readers), results (a results file as show and resume read it); default: all four.
# Each run fails on a crash, an over-read, undefined behaviour, a leak in hpsweep's code, an
# input that takes over 10 s (a hang) or over 2 GB. Findings are kept in build/fuzz/findings/
# (reproduce: build/fuzz/tests/fuzz/fuzz_TARGET FILE); each becomes a regression test.
# Environment: FUZZ_BUILD (default build/fuzz), CC (default clang), FUZZ_RUNS=N (run each target
# for N inputs instead of SECONDS: bench/fuzz_long.sh).
set -uo pipefail
cd "$(dirname "$0")/.."
case ${1:-} in -h|--help) sed -n '2,12p' "$0" | cut -c3-; exit 0 ;; esac
secs=${1:-60}
shift 2>/dev/null || true
targets=${*:-spec idx cifar results}
case $secs in '' | *[!0-9]*) echo "fuzz.sh: SECONDS must be a number, got '$secs'" >&2; exit 2 ;; esac
runs=${FUZZ_RUNS:-}
case $runs in *[!0-9]*) echo "fuzz.sh: FUZZ_RUNS must be a number, got '$runs'" >&2; exit 2 ;; esac
if [ -n "$runs" ]; then limit="-runs=$runs"; else limit="-max_total_time=$secs"; fi
build=${FUZZ_BUILD:-build/fuzz}
cc=${CC:-clang}
command -v "$cc" > /dev/null || { echo "fuzz.sh: no $cc (Debian: apt-get install clang libomp-dev)" >&2; exit 2; }

echo "== fuzz targets ($cc, ASan + UBSan + libFuzzer) in $build"
CC=$cc cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DHPSWEEP_FUZZ=ON -DHPSWEEP_TESTS=OFF \
  -DHPSWEEP_BENCH=OFF -DHPSWEEP_CUDA=OFF > "$build.configure.log" 2>&1 \
  || { cat "$build.configure.log"; exit 1; }
for t in $targets; do
  cmake --build "$build" -j"$(nproc)" --target "fuzz_$t" > "$build.build.log" 2>&1 || { tail -30 "$build.build.log"; exit 1; }
done

export LSAN_OPTIONS=suppressions=$PWD/tests/fuzz/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
failed=0
mkdir -p "$build/findings"
for t in $targets; do
  work=$(mktemp -d)
  cp tests/fuzz/corpus/"$t"/* "$work"/
  log=$build/fuzz_$t.log
  t0=$(date +%s)
  "$build/tests/fuzz/fuzz_$t" "$limit" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$build/findings/$t-" "$work" > "$log" 2>&1
  rc=$?
  took=$(($(date +%s) - t0))
  done_n=$(grep -m1 -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$')
  if [ $rc -eq 0 ]; then
    echo "fuzz_$t: ${done_n:-?} executions in $took s, nothing found (corpus grew to $(ls "$work" | wc -l) inputs)"
  else
    failed=$((failed + 1))
    echo "fuzz_$t: FOUND something (exit $rc) after ${done_n:-?} executions:"
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -8 | sed 's/^/    /'
  fi
  rm -rf "$work"
done
[ $failed -eq 0 ] || { echo "fuzz.sh: $failed target(s) found a problem; logs in $build/fuzz_*.log"; exit 1; }
