#!/usr/bin/env bash
# Set up, build, and run the quickstart sweep (sweeps/quickstart.yaml, about a minute on two
# cores), then summarise it. Writes quickstart.h5 in the repository root, replacing an old one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
hpsweep=$(scripts/build.sh)
"$hpsweep" run sweeps/quickstart.yaml -o quickstart.h5 --force
echo
"$hpsweep" show quickstart.h5
