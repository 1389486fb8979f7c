#!/usr/bin/env bash
# fuzz_long.sh [RUNS] [TARGET...] - each fuzz target of tests/fuzz for RUNS inputs (default
# 1000000), with scripts/fuzz.sh's build and settings (FUZZ_RUNS); prints each target's
# executions and seconds. The results target runs about 80 inputs a second (an HDF5 open per
# input): a million takes about 3.5 hours; the parsers take 2 to 10 minutes.
set -uo pipefail
case ${1:-} in -h|--help) sed -n '2,5p' "$0" | cut -c3-; exit 0 ;; esac
runs=${1:-1000000}
shift 2>/dev/null || true
FUZZ_RUNS=$runs exec "$(dirname "$0")/../scripts/fuzz.sh" 0 "$@"
