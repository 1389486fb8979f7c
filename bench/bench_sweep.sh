#!/usr/bin/env bash
# Orchestration overhead: 1000 synthetic trials of 20 ms over 8 trainer ranks (mpirun -np 9,
# oversubscribed), printing the idle trainer time per trial (dispatch + messaging + recording
# + the end-of-stage tail), the coordinator's recording time per trial, and the trainer
# utilisation (time inside trials / (wall x ranks)). Targets: < 1 ms per trial, >= 95%.
# usage: bench/bench_sweep.sh [HPSWEEP_BINARY] [RANKS]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../build/release/orchestrator/hpsweep}
np=${2:-9}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OPENBLAS_NUM_THREADS=1
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "bench_sweep: $((np - 1)) trainer ranks on $(nproc) cores, 1000 trials x 20 ms (ideal wall $(awk "BEGIN{print 1000*0.020/($np-1)}") s)"
mpirun --oversubscribe --bind-to none -np "$np" "$bin" run "$here/specs/synthetic.yaml" -o "$out/s.h5" --quiet
"$bin" show "$out/s.h5" --top 3 | sed -n '1,12p'
