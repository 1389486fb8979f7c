#!/usr/bin/env bash
# bench_memory.sh - peak memory per rank and per node of a sweep under mpirun.
#
#   bench/bench_memory.sh [HPSWEEP] [RANKS...]     (defaults: build/orchestrator/hpsweep, 1 8 64)
#
# Runs the quickstart spec (sweeps/quickstart.yaml: Fashion-MNIST, 55000 training images, 190 MB
# decoded) on the CPU (device: cpu; a GPU probe maps CUDA's libraries, 130 MB more per rank)
# with the synthetic trainer (train.synthetic_ms: 1: the trials touch no data, so what is
# measured is what each rank holds), under `mpirun -np R` (oversubscribed on one node), each
# rank under /usr/bin/time. Prints per R: the peak RSS (VmHWM) of rank 0 (the
# coordinator, which also holds the test split), the largest and the median of the trainer
# ranks, and the sum over the node; with HPSWEEP_NO_SHARE=1 set in the environment, every rank
# loads its own copy (the behaviour before nodedata.h), for the reference in the same run.
# RSS counts the shared window's pages in every rank that touches them: a trainer rank that
# trains real trials reads (and so counts) the node's one copy, which the kernel holds once.
set -u
case ${1:-} in -h|--help) sed -n '2,15p' "$0" | cut -c3-; exit 0 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
hp=${1:-build/orchestrator/hpsweep}
shift 2>/dev/null || true
ranks=${*:-1 8 64}
[ -x "$hp" ] || { echo "bench_memory.sh: no hpsweep at $hp" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "bench_memory.sh: needs /usr/bin/time (Debian: time)" >&2; exit 2; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$(mktemp -d /tmp/hpsweep-mem.XXXXXX)
sed 's/^train:/train:\n  synthetic_ms: 1/; s/^seed:/device: cpu\nseed:/' "$here/../sweeps/quickstart.yaml" > "$out/mem.yaml"
grep -q 'synthetic_ms: 1' "$out/mem.yaml" || { echo "bench_memory.sh: cannot make the spec" >&2; exit 2; }
printf '%-6s %-8s %12s %12s %12s %12s %8s\n' ranks data "rank 0 MB" "trainer max" "trainer med" "node sum MB" "wall s"
for mode in shared private; do
  for r in $ranks; do
    rm -f "$out"/rss.*
    t0=$(date +%s.%N)
    env $([ $mode = private ] && echo HPSWEEP_NO_SHARE=1) timeout 600 mpirun --oversubscribe --bind-to none -np "$r" \
      -x HPSWEEP_NO_SHARE bash -c '/usr/bin/time -f "%M" -o "$0/rss.$OMPI_COMM_WORLD_RANK" "$1" run "$0/mem.yaml" -o "$0/m.h5" --force --quiet --threads 1 > /dev/null' \
      "$out" "$hp" > "$out/run.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    if [ $rc -ne 0 ]; then echo "$r ranks ($mode): exit $rc"; tail -3 "$out/run.log"; continue; fi
    python3 - "$out" "$r" "$mode" "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')" <<'PY'
import glob, os, statistics, sys
d, r, mode, wall = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
kb = {int(p.rsplit(".", 1)[1]): int(open(p).read().split()[-1]) for p in glob.glob(os.path.join(d, "rss.*"))}
tr = [v for k, v in kb.items() if k != 0] or [kb.get(0, 0)]
print("%-6d %-8s %12.1f %12.1f %12.1f %12.1f %8s" % (r, mode, kb.get(0, 0) / 1024, max(tr) / 1024,
      statistics.median(tr) / 1024, sum(kb.values()) / 1024, wall))
PY
  done
done
rm -rf "$out"
