#!/usr/bin/env bash
# Set up, build and run every test: once in a warnings-as-errors release build (all tests),
# once under AddressSanitizer + UndefinedBehaviorSanitizer (every test not labelled
# integration: those start mpirun, whose own allocations ASan would report), then each fuzz
# target of tests/fuzz for 60 s.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
jobs=$(nproc)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

echo "== release build (-Wall -Wextra -Werror)"
cmake -S . -B build/test -DCMAKE_BUILD_TYPE=Release -DHPSWEEP_WERROR=ON >/dev/null
cmake --build build/test -j"$jobs"
(cd build/test && ctest --output-on-failure -j"$jobs")

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DHPSWEEP_SANITIZE=ON -DHPSWEEP_WERROR=ON \
      -DHPSWEEP_BENCH=OFF -DHPSWEEP_CUDA=OFF >/dev/null
cmake --build build/asan -j"$jobs"
(cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
   ctest --output-on-failure -j"$jobs" -LE integration)

echo "== fuzz targets, 60 s each (clang, ASan + UBSan + libFuzzer; scripts/fuzz.sh)"
scripts/fuzz.sh 60
