#!/usr/bin/env bash
# Integration (issue 13, "any hyperparameter"): a sweep that searches lr, weight decay, momentum,
# dropout and the optimizer's type gives identical trials alone and under mpirun -np 3, resumes
# after kill -9 (alone and of a trainer rank) to the same file an uninterrupted run writes,
# reads in pandas with a column per parameter, and show --json lists the parameters; a searched
# model size (units) gives snapshot rows as wide as the largest model; a layer searched by its
# name gives the trials searched by its index.
# usage: params.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 3000
cp "$tests/integration/params.yaml" params.yaml

"$bin" run params.yaml -o alone.h5 --quiet > alone.log 2>&1 && ok "alone run" || { fail "alone run"; cat alone.log; }
mpi 3 "$bin" run params.yaml -o np3.h5 --quiet > np3.log 2>&1 && ok "mpirun -np 3" || { fail "mpirun -np 3"; cat np3.log; }
$py "$tests/integration/compare_runs.py" alone.h5 np3.h5 && ok "alone == mpirun -np 3 (every column)" \
  || fail "alone != mpirun -np 3"

# Killed (the lone process; a trainer rank under mpirun) once a few trials finished, resumed.
"$bin" run params.yaml -o k1.h5 --quiet > k1.log 2>&1 & pid=$!
wait_finished k1.h5 3 60 && kill -KILL $pid; wait $pid 2>/dev/null
"$bin" resume k1.h5 --quiet > r1.log 2>&1 && $py "$tests/integration/compare_runs.py" alone.h5 k1.h5 \
  && ok "kill -9 alone, resumed == uninterrupted" || { fail "kill -9 alone, resume"; cat r1.log; }
mpi_bg 3 "$bin" run params.yaml -o k2.h5 --quiet > k2.log 2>&1 & pid=$!
if wait_finished k2.h5 3 60; then p=$(rank_pid $pid 1); [ -n "$p" ] && kill -KILL $p; fi
wait $pid 2>/dev/null
for i in $(seq 100); do pgrep -f -- "-o k2.h5 " > /dev/null || break; sleep 0.05; done
mpi 3 "$bin" resume k2.h5 --quiet > r2.log 2>&1 && $py "$tests/integration/compare_runs.py" alone.h5 k2.h5 \
  && ok "kill -9 of a trainer rank, resumed under mpirun == uninterrupted" || { fail "kill -9 rank, resume"; cat r2.log; }

$py - alone.h5 <<'PY' && ok "pandas: a column per parameter, /stage_params" || fail "pandas columns"
import sys
import h5py, pandas as pd
with h5py.File(sys.argv[1], "r", libver="latest", swmr=True) as f:
    t = pd.DataFrame(f["trials"][:])
    sp = pd.DataFrame(f["stage_params"][:])
    version = int(f.attrs["format_version"])
bad = []
for col in ["lr", "weight_decay", "optimizer.momentum", "model.layers.2.p", "optimizer.type"]:
    if col not in t.columns: bad.append("no column " + col)
if not bad:
    if not t["optimizer.momentum"].between(0.5, 0.95).all(): bad.append("momentum out of range")
    if not t["model.layers.2.p"].between(0.0, 0.5).all(): bad.append("dropout out of range")
    kinds = set(t["optimizer.type"].str.decode("ascii"))
    if not kinds <= {"sgd", "adam"} or len(kinds) != 2: bad.append(f"optimizer types {kinds}")
    if t["optimizer.momentum"].nunique() != len(t): bad.append("momentum values repeat")
    # the second stage narrows each parameter inside the first's range
    s1 = sp[sp.stage == 1].set_index(sp[sp.stage == 1]["name"].str.decode("ascii"))
    m = s1.loc["optimizer.momentum"]
    if not (0.5 <= m["low"] < m["high"] <= 0.95): bad.append(f"stage 1 momentum range {m['low']}, {m['high']}")
    if len(sp) != 2 * 5: bad.append(f"{len(sp)} /stage_params rows, want 10")
if version != 3: bad.append(f"format_version {version}")
print("\n".join(bad) if bad else f"{len(t)} trials, columns {list(t.columns[-3:])}")
sys.exit(1 if bad else 0)
PY

"$bin" show alone.h5 --json > show.json 2> show.err && $py - show.json <<'PY' && ok "show --json lists the parameters" || fail "show --json"
import json, sys
d = json.load(open(sys.argv[1]))
names = {p["name"] for p in d["stage_params"]}
want = {"lr", "weight_decay", "optimizer.momentum", "model.layers.2.p", "optimizer.type"}
top = d["top"][0]["params"]
ok = names == want and set(top) == want - {"lr", "weight_decay"} and top["optimizer.type"] in ("sgd", "adam")
print(names, top)
sys.exit(0 if ok else 1)
PY
"$bin" show alone.h5 > show.txt 2>&1 && grep -q "searched parameters" show.txt && grep -q "momentum" show.txt \
  && ok "show lists the parameters" || { fail "show text"; cat show.txt; }

# export --spec: the best trial's training spec, its values as /trials has them, trains.
"$bin" export alone.h5 --spec > export.log 2>&1 && [ -s alone-best.yaml ] && ! grep -q "^search:" alone-best.yaml \
  && ok "export --spec writes alone-best.yaml, without a search: section" || { fail "export --spec"; cat export.log; }
$py - alone.h5 alone-best.yaml <<'PY' && ok "export --spec: the best trial's values and epochs" || fail "export --spec values"
import re, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    t = f["trials"][:]
text = open(sys.argv[2]).read()
scored = [r for r in t if r["status"] in (2, 5) and r["best_val_acc"] == r["best_val_acc"]]
best = max(scored, key=lambda r: (r["best_val_acc"], -r["id"]))
def num(key):
    m = re.search(r"\b" + key + r": ([-0-9.e+]+)", text)
    return float(m.group(1)) if m else None
kind = best["optimizer.type"].decode()
want = {"lr": best["lr"], "weight_decay": best["weight_decay"], "p": best["model.layers.2.p"],
        "epochs": best["epochs_planned"]}
if kind == "sgd": want["momentum"] = best["optimizer.momentum"]
got = {k: num(k) for k in want}
ok = all(got[k] is not None and got[k] == float(v) for k, v in want.items())
ok = ok and re.search(r"\n  type: " + kind + r"\n", text) is not None and f"Trial {best['id']} " in text
print(f"best trial {best['id']} ({kind}): want {want}, got {got}")
sys.exit(0 if ok else 1)
PY
# init_seed is the trial's seed: train repeats the trial's epochs exactly (every /curves row).
"$bin" train alone-best.yaml --no-test > train-best.log 2>&1 || { fail "train the exported spec"; tail -5 train-best.log; }
$py - alone.h5 train-best.log <<'PY' && ok "hpsweep train on the exported spec repeats the best trial's curve" \
  || fail "train on the exported spec: another curve"
import re, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    t, c = f["trials"][:], f["curves"][:]
scored = [r for r in t if r["status"] in (2, 5) and r["best_val_acc"] == r["best_val_acc"]]
best = max(scored, key=lambda r: (r["best_val_acc"], -r["id"]))
want = [(int(r["epoch"]), f"{r['train_loss']:.4f}", f"{r['val_acc']:.4f}") for r in sorted(c, key=lambda r: r["epoch"])
        if r["trial"] == best["id"]]
got = [(int(m.group(1)), m.group(2), m.group(3)) for m in
       re.finditer(r"^epoch +(\d+)/\d+ .*train loss ([0-9.]+) .*val loss [0-9.]+ acc ([0-9.]+)", open(sys.argv[2]).read(), re.M)]
print(f"trial {best['id']}: sweep {want}\n  train {got}")
sys.exit(0 if want and got == want else 1)
PY
"$bin" export alone.h5 --spec --trial 0 -o - > t0.yaml 2> t0.err && head -1 t0.yaml | grep -q "^# Trial 0 " \
  && ok "export --spec --trial 0 -o -: standard output" || { fail "export --trial 0 to stdout"; cat t0.err; }
"$bin" export alone.h5 --spec --trial 999 -o t999.yaml > t999.log 2>&1; rc=$?
[ $rc -eq 1 ] && [ ! -e t999.yaml ] && grep -q -- "--trial 999: the file has 12 trials (0 to 11)" t999.log \
  && ok "export --spec --trial past the end: exit 1, no file" || { fail "export --trial 999: exit $rc"; cat t999.log; }

# A searched model size (the first layer's units): snapshot rows as wide as the largest model,
# each trial's state first; alone == mpirun -np 3; the final test of the best trial's own model.
sed 's/    optimizer.type: {choice: \[sgd, adam\]}/    optimizer.type: {choice: [sgd, adam]}\n    model.layers.0.units: {low: 16, high: 64, scale: int}/' \
  params.yaml > units.yaml
"$bin" run units.yaml -o units.h5 --quiet > units.log 2>&1 && mpi 3 "$bin" run units.yaml -o units3.h5 --quiet > units3.log 2>&1 \
  && $py "$tests/integration/compare_runs.py" units.h5 units3.h5 && ok "searched units: alone == mpirun -np 3" \
  || { fail "searched units"; cat units.log units3.log; }
$py - units.h5 <<'PY' && ok "searched units: rows as wide as 64 units, a test result" || fail "searched units: file"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "r", libver="latest", swmr=True) as f:
    width = f["snapshots/state"].shape[1]
    units = f["trials"]["model.layers.0.units"][:]
    final = f["final"][:]
    rows = f["trials"]["snapshot_row"][:]
    small = [int(r) for u, r in zip(units, rows) if r >= 0 and u < 64]
    tail = f["snapshots/state"][small[0], :] if small else None
want = 784 * 64 + 64 + 64 * 10 + 10
ok = width == want and set(np.unique(units)) <= set(range(16, 65)) and len(final) == 1 and final[0]["test_acc"] > 0.5
u = int(units[rows.tolist().index(small[0])]) if small else 0
used = 784 * u + u + u * 10 + 10
ok = ok and tail is not None and np.all(tail[used:] == 0) and np.any(tail[:used] != 0)
print(f"width {width} (want {want}), units {sorted(set(units.tolist()))[:4]}..., final {final}")
sys.exit(0 if ok else 1)
PY
printf 'final: {ensemble: 3}\n' >> units.yaml
"$bin" run units.yaml -o unitsens.h5 --quiet > unitsens.log 2>&1; rc=$?
[ $rc -eq 2 ] && [ ! -e unitsens.h5 ] && grep -q "final.ensemble averages models of one shape" unitsens.log \
  && ok "an ensemble over searched sizes: exit 2" || { fail "ensemble over sizes: exit $rc"; cat unitsens.log; }

# The dropout layer by its name (model.layers.drop.p) instead of its index: the same trials, the
# column named as search.params names it.
sed 's/    - {type: dropout, p: 0.1}/    - {type: dropout, p: 0.1, name: drop}/; s/    model.layers.2.p:/    model.layers.drop.p:/' \
  params.yaml > named.yaml
"$bin" run named.yaml -o named.h5 --quiet > named.log 2>&1 || { fail "named run"; cat named.log; }
$py - alone.h5 named.h5 <<'PY' && ok "a layer by its name: the same trials as by its index" || fail "named layer"
import sys
import h5py, numpy as np
with h5py.File(sys.argv[1], "r") as a, h5py.File(sys.argv[2], "r") as b:
    ta, tb = a["trials"][:], b["trials"][:]
    ca, cb = np.sort(a["curves"][:], order=["trial", "epoch"]), np.sort(b["curves"][:], order=["trial", "epoch"])
    eq = lambda x, y: np.array_equal(np.asarray(x, np.float64), np.asarray(y, np.float64), equal_nan=True)
    same = (eq(ta["model.layers.2.p"], tb["model.layers.drop.p"]) and eq(ta["best_val_acc"], tb["best_val_acc"])
            and len(ca) == len(cb) and all(eq(ca[k], cb[k]) for k in ("trial", "epoch", "train_loss", "val_acc", "val_loss")))
    print("p by index", ta["model.layers.2.p"][:3], "by name", tb["model.layers.drop.p"][:3], "same" if same else "DIFFER")
sys.exit(0 if same else 1)
PY

# A spec whose value the spec refuses is refused at load with the parameter's line (exit 2).
sed 's/high: 0.5, scale: linear}/high: 1.0, scale: linear}/' params.yaml > bad.yaml
"$bin" run bad.yaml -o bad.h5 --quiet > bad.log 2>&1; rc=$?
[ $rc -eq 2 ] && [ ! -e bad.h5 ] && grep -q "bad.yaml:25:5: search.params.model.layers.2.p: the value 1 (high)" bad.log \
  && ok "dropout 1.0 refused at load: exit 2, line:col" || { fail "bad dropout: exit $rc"; cat bad.log; }
summary params
