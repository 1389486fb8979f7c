#!/usr/bin/env bash
# 100 random kills of a small sweep, each resumed and compared with an uninterrupted run: the
# long form of tests/integration/kill_resume.sh (which CI runs with 20). About 6 minutes.
# usage: bench/kill_100.sh [BUILD_DIR (default build)] [ROUNDS (default 100)] [SEED]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
exec "$root/tests/integration/kill_resume.sh" "$build/orchestrator/hpsweep" "$root/tests" "${2:-100}" "${3:-$RANDOM}"
