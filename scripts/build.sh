#!/usr/bin/env bash
# Configure and build hpsweep into build/release (extra arguments go to cmake). Prints the
# path of the binary on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build/release -j"$(nproc)" --target hpsweep >/dev/null
echo "$PWD/build/release/orchestrator/hpsweep"
