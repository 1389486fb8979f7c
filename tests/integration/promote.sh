#!/usr/bin/env bash
# Promotion (docs/search.md, "Promotion"): stage 0 trains 6 trials x 1 epoch, stage 1
# {method: promote, top_k: 2, epochs: 2} continues the best 2 from their final state. Checks with
# h5py: the promoted trials are the top 2 by the one ranking rule, carry their parent's values,
# seed and id (/trials.parent), plan parent epochs + 2, and their /curves rows are epochs 2..3
# equal bit for bit to a trial trained 3 epochs straight (a one-stage sweep with the same seed);
# no final state is left in /checkpoints at the end. The same file (compare_runs.py) under
# mpirun -np 3, with --pack 2, and after kills at the end of stage 0, at a promoted trial's
# first epoch and at its checkpoint (alone and under mpirun).
# usage: promote.sh HPSWEEP TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh" # scratch folder with ./data and resume.yaml, ok/fail/mpi/summary
setup_data 3000
sed -e 's/^name: resume/name: promote/' -e '/^    - {method: grid/d' \
    -e 's/- {method: random, trials: 8, epochs: 4}/- {method: random, trials: 6, epochs: 1}\n    - {method: promote, top_k: 2, epochs: 2}/' \
    -e 's/high: 30.0/high: 0.3/' resume.yaml > promote.yaml
sed -e 's/^name: resume/name: straight/' -e '/^    - {method: grid/d' \
    -e 's/- {method: random, trials: 8, epochs: 4}/- {method: random, trials: 6, epochs: 3}/' \
    -e 's/high: 30.0/high: 0.3/' resume.yaml > straight.yaml
grep -q "method: promote" promote.yaml && grep -q "trials: 6, epochs: 3" straight.yaml || { echo "cannot make the specs"; exit 1; }

"$bin" run promote.yaml -o ref.h5 --quiet > ref.log 2>&1 && ok "promote run" || { fail "promote run"; cat ref.log; }
"$bin" run straight.yaml -o straight.h5 --quiet > straight.log 2>&1 && ok "straight run" || { fail "straight run"; cat straight.log; }

$py - ref.h5 straight.h5 <<'PY' && ok "promoted trials continue their parents (rule, values, epochs, curves bit for bit, slots freed)" || fail "promotion contents"
import sys, math, h5py
f, g = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
t, c, sc = f["trials"][:], f["curves"][:], g["curves"][:]
bad = []
def check(cond, what):
    if not cond: bad.append(what)
s0 = [r for r in t if r["stage"] == 0]; s1 = [r for r in t if r["stage"] == 1]
check(len(s0) == 6 and len(s1) == 2, "6 + 2 trials")
check(all(int(r["parent"]) == -1 for r in s0), "stage 0 trials have parent -1")
ok0 = [r for r in s0 if r["status"] == 2 and r["epochs_done"] == r["epochs_planned"] and math.isfinite(r["best_val_acc"])]
ranked = sorted(ok0, key=lambda r: (-float(r["best_val_acc"]), int(r["id"])))
check([int(r["parent"]) for r in s1] == [int(r["id"]) for r in ranked[:2]], "parents are the top 2 (best val acc, ties to lower id)")
check([int(r["id"]) for r in s1] == [6, 7], "promoted ids continue the sequence")
f0 = f["stages"][:]
check(f0[1]["method"] == b"promote" and f0[1]["trials"] == 2 and f0[1]["epochs"] == 2, "/stages row of the promote stage")
rows = {(int(r["trial"]), int(r["epoch"])): r for r in c}
srows = {(int(r["trial"]), int(r["epoch"])): r for r in sc}
for r in s1:
    p = t[int(r["parent"])]
    check(r["status"] == 2, "promoted trial %d done" % r["id"])
    check(r["lr"] == p["lr"] and r["weight_decay"] == p["weight_decay"] and r["seed"] == p["seed"], "values and seed of trial %d" % r["id"])
    check(r["epochs_planned"] == p["epochs_done"] + 2 == 3 and r["epochs_done"] == 3, "epochs of trial %d" % r["id"])
    mine = sorted(e for (tr, e) in rows if tr == r["id"])
    check(mine == [2, 3], "trial %d has curve rows for epochs 2..3 (got %s)" % (r["id"], mine))
    for e in (1,):
        check((int(p["id"]), e) in rows, "parent %d keeps its epoch %d" % (p["id"], e))
    for e in (2, 3):  # the straight sweep's trial of the same id = the parent trained 3 epochs
        a, b = rows[(int(r["id"]), e)], srows[(int(p["id"]), e)]
        for k in ("lr", "train_loss", "train_acc", "val_loss", "val_acc"):
            check(a[k] == b[k], "trial %d epoch %d %s %r, straight %r" % (r["id"], e, k, a[k], b[k]))
    # the promoted trial's best covers its parent's epochs too (the parent's snapshot is its start)
    best = max((rows[(int(p["id"]), 1)]["val_acc"], rows[(int(r["id"]), 2)]["val_acc"], rows[(int(r["id"]), 3)]["val_acc"]))
    check(r["best_val_acc"] == best, "trial %d best val acc over epochs 1..3" % r["id"])
ck = f["checkpoints/index"][:]
check(all(int(x["trial"]) == -1 for x in ck), "every checkpoint slot free at the end (got %s)" % [int(x["trial"]) for x in ck])
for b in bad: print("FAILED:", b)
sys.exit(1 if bad else 0)
PY

same() { # NAME FILE: FILE equals the reference run
  if $py "$tests/integration/compare_runs.py" ref.h5 "$2" > cmp.log 2>&1; then ok "$1"; else fail "$1"; cat cmp.log; fi
}
mpi 3 "$bin" run promote.yaml -o m3.h5 --quiet > m3.log 2>&1 && same "mpirun -np 3" m3.h5 || { fail "mpirun -np 3"; cat m3.log; }
"$bin" run promote.yaml -o p2.h5 --quiet --pack 2 > p2.log 2>&1 && same "--pack 2" p2.h5 || { fail "--pack 2"; cat p2.log; }
# Kills: after stage 0's last result (its final state kept or not yet sorted), at the first
# promoted epoch (curve row 7), at the 3rd checkpoint (a promoted trial's own), resumed alone or
# under mpirun.
HPSWEEP_FAULT=result:6:kill "$bin" run promote.yaml -o k1.h5 --quiet > k1.log 2>&1
"$bin" resume k1.h5 --quiet > r1.log 2>&1 && same "killed after stage 0's last result, resumed alone" k1.h5 || { fail "resume k1"; cat r1.log; }
HPSWEEP_FAULT=epoch:7:kill "$bin" run promote.yaml -o k2.h5 --quiet > k2.log 2>&1
mpi 3 "$bin" resume k2.h5 --quiet > r2.log 2>&1 && same "killed at a promoted trial's first epoch, resumed under mpirun -np 3" k2.h5 || { fail "resume k2"; cat r2.log; }
HPSWEEP_FAULT=epoch:8:term mpi 3 "$bin" run promote.yaml -o k3.h5 --quiet > k3.log 2>&1
"$bin" resume k3.h5 --quiet > r3.log 2>&1 && same "stopped under mpirun in the promote stage, resumed alone" k3.h5 || { fail "resume k3"; cat r3.log; }
summary promote
