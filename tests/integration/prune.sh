#!/usr/bin/env bash
# Pruning (the median rule, orchestrator/coord_prune.c): a stage of 8 trials x 4 epochs with
# prune: {rule: median, after: 1, min_trials: 2} stops some trials early; the rule holds trial by
# trial when recomputed from the file's /curves (a stopped trial was below the median of the
# lower-id trials at its last epoch, a trial that went on was not); and the same trials stop at
# the same epochs with identical metrics alone, in lanes (--pack 3), under mpirun -np 3 and
# -np 2 --pack 2, and after a kill and a resume (alone and under mpirun).
# usage: prune.sh HPSWEEP TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh" # scratch folder with ./data and resume.yaml, ok/fail/mpi/summary
setup_data 6000
sed 's/trials: 8, epochs: 4}/trials: 8, epochs: 4, prune: {rule: median, after: 1, min_trials: 2}}/' resume.yaml > prune.yaml
grep -q "rule: median" prune.yaml || { echo "cannot make the spec"; exit 1; }
"$bin" run prune.yaml -o ref.h5 --quiet > ref.log 2>&1 && ok "reference run" || { fail "reference run"; cat ref.log; }

# check_rule FILE RULE [ETA]: the rule recomputed from FILE's /curves, trial by trial.
check_rule() {
$py - "$@" <<'PY'
import sys, math, statistics, h5py
rule = sys.argv[2]; eta = int(sys.argv[3]) if len(sys.argv) > 3 else 0
f = h5py.File(sys.argv[1], "r")
t, c = f["trials"][:], f["curves"][:]
st0 = [r for r in t if r["stage"] == 0]
acc = {(int(r["trial"]), int(r["epoch"])): float(r["val_acc"]) for r in c}
pruned = [r for r in st0 if r["status"] == 5]
planned = sum(int(r["epochs_planned"]) for r in st0); ran = sum(int(r["epochs_done"]) for r in st0)
bad = []
for r in st0:
    tid, done = int(r["id"]), int(r["epochs_done"])
    for e in range(1, done + 1):
        if e >= int(r["epochs_planned"]): break
        if e == done and r["status"] in (3, 4): break  # diverged or failed there: no verdict counted
        ref = [acc[(int(s["id"]), e)] for s in st0 if s["id"] < tid and (int(s["id"]), e) in acc]
        if rule == "median":
            below = len(ref) >= 2 and acc[(tid, e)] < statistics.median(ref)
        else:  # halving: rungs 1, eta, eta^2 ...; out of the best ceil((n+1)/eta), ties to the lower id
            rung = e in [eta ** k for k in range(8)]
            below = rung and len(ref) >= 2 and sum(v >= acc[(tid, e)] for v in ref) >= math.ceil((len(ref) + 1) / eta)
        stopped_here = r["status"] == 5 and e == done
        if below != stopped_here:
            bad.append(f"trial {tid} epoch {e}: acc {acc[(tid, e)]:.4f}, median of {len(ref)} lower {statistics.median(ref) if ref else float('nan'):.4f}, stopped {stopped_here}")
print(f"{len(pruned)} of {len(st0)} trials pruned; {ran} of {planned} epochs trained ({100 * (1 - ran / planned):.0f}% saved)")
for b in bad: print("rule broken:", b)
sys.exit(1 if bad or not pruned else 0)
PY
}
check_rule ref.h5 median > rule.log 2>&1 && ok "the median rule, recomputed from /curves: $(head -1 rule.log)" \
  || { fail "the median rule"; cat rule.log; }

same() { # same LABEL FILE: identical trials and curves to ref.h5
  if $py "$tests/integration/compare_runs.py" ref.h5 "$2" > cmp.log 2>&1; then ok "$1: $(tail -1 cmp.log)"; else fail "$1"; cat cmp.log; fi
}
"$bin" run prune.yaml -o p3.h5 --quiet --pack 3 > p3.log 2>&1 && same "alone, --pack 3" p3.h5 || { fail "--pack 3"; cat p3.log; }
mpi 3 "$bin" run prune.yaml -o m3.h5 --quiet > m3.log 2>&1 && same "mpirun -np 3" m3.h5 || { fail "mpirun -np 3"; cat m3.log; }
mpi 2 "$bin" run prune.yaml -o m2.h5 --quiet --pack 2 > m2.log 2>&1 && same "mpirun -np 2 --pack 2" m2.h5 || { fail "-np 2 --pack 2"; cat m2.log; }

# Killed after the 6th curve row (a verdict pending or given), resumed alone; killed after the
# 11th, resumed under mpirun.
HPSWEEP_FAULT=epoch:6:kill "$bin" run prune.yaml -o k1.h5 --quiet > k1.log 2>&1
"$bin" resume k1.h5 --quiet > r1.log 2>&1 && same "killed at epoch row 6, resumed alone" k1.h5 || { fail "resume k1"; cat r1.log; }
HPSWEEP_FAULT=epoch:11:term "$bin" run prune.yaml -o k2.h5 --quiet > k2.log 2>&1
mpi 3 "$bin" resume k2.h5 --quiet > r2.log 2>&1 && same "stopped at epoch row 11, resumed under mpirun -np 3" k2.h5 || { fail "resume k2"; cat r2.log; }
# Successive halving (eta 2: rungs at epochs 1 and 2 of 4): the rule, and alone = mpirun.
sed 's/trials: 8, epochs: 4}/trials: 8, epochs: 4, prune: {rule: halving, eta: 2, after: 1, min_trials: 2}}/' \
  resume.yaml > halving.yaml
"$bin" run halving.yaml -o h.h5 --quiet > h.log 2>&1 || { fail "halving run"; cat h.log; }
check_rule h.h5 halving 2 > hrule.log 2>&1 && ok "successive halving, recomputed from /curves: $(head -1 hrule.log)" \
  || { fail "successive halving"; cat hrule.log; }
mpi 3 "$bin" run halving.yaml -o hm.h5 --quiet > hm.log 2>&1 || { fail "halving under mpirun"; cat hm.log; }
$py "$tests/integration/compare_runs.py" h.h5 hm.h5 > cmp.log 2>&1 && ok "halving: mpirun -np 3 = alone: $(tail -1 cmp.log)" \
  || { fail "halving: mpirun differs"; cat cmp.log; }
summary prune
