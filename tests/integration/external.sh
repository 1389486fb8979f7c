#!/usr/bin/env bash
# "Bring your own trainer" (docs/external.md, issue 14): sweeps whose trials are external programs.
#   - examples/external/toy_trainer.py through a recording sh wrapper: the results file's tables
#     (searched columns incl. an int_log and a choice parameter, statuses, curves, final), show
#     --json, the parameters as the program sees them, the test command run once for the best;
#   - the same results under mpirun -np 3 and with --pack 2;
#   - kill -9 of the lone process, `hpsweep resume` -> identical, finished trials not started again,
#     no trainer left behind; kill -9 of a trainer rank under mpirun, resume under mpirun -> identical;
#   - pruning stops trials early; a learning rate above 1 diverges (NaN losses) with a message;
#   - faults (exit 3, SIGSEGV, a non-JSON line, no objective, no epoch, a hang past epoch_timeout)
#     are failed trials with their exact message, and the sweep goes on;
#   - a program that is not found or not executable: exit 2, no results file;
#   - examples/external/torch_mlp.py (python3-torch) on a tiny budget, skipped without torch.
# usage: external.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$(cd "$2" && pwd)
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
examples=$(cd "$tests/../examples/external" && pwd)
. "$tests/integration/lib_resume.sh" # scratch cwd $work, ok/fail/mpi/mpi_bg/rank_pid/wait_finished/summary
t_start=$(now)
# Copies in the scratch folder, so that pgrep finds this test's trainers only.
cp "$examples/toy_trainer.py" "$examples/hpsweep_report.py" "$work/"
toy=$work/toy_trainer.py

# The toy trainer behind a wrapper that records each start in the trial's folder: mode, resume
# epoch, the extra parameters as variables, CUDA_VISIBLE_DEVICES, its working folder (without
# trainer.chdir, where hpsweep runs). toy_trainer.py's argparse refuses unknown options, so hidden
# and act reach it through the environment only.
cat > toy.sh <<EOF
#!/bin/sh
echo "\$HPSWEEP_MODE \$HPSWEEP_RESUME_EPOCH \$HPSWEEP_P_HIDDEN \$HPSWEEP_P_ACT cuda=\${CUDA_VISIBLE_DEVICES-unset} cwd=\$(pwd)" >> "\$HPSWEEP_WORKDIR/starts.log"
exec $py "$toy" --lr "\$1" --weight-decay "\$2" --seconds "\${TOY_SECONDS:-0.1}"
EOF
chmod +x toy.sh
cat > toy.yaml <<EOF
name: toy
seed: 3
trainer:
  command: [$work/toy.sh, "{lr}", "{weight_decay}"]
  epoch_timeout: 30
  grace: 2
train: {epochs: 3}
search:
  params:
    lr: {low: 1.0e-4, high: 0.9}
    weight_decay: {low: 1.0e-6, high: 1.0e-1}
    hidden: {low: 16, high: 128, scale: int_log}
    act: {choice: [relu, tanh]}
  stages:
    - {method: random, trials: 8, epochs: 2}
    - {method: random, trials: 4, epochs: 4, prune: {rule: median, after: 1, min_trials: 2}}
EOF
no_trainer_left() { # no_trainer_left SECONDS: wait until no toy_trainer.py of this test runs
  local i
  for ((i = 0; i < ${1:-0} * 20; i++)); do pgrep -f -- "$toy" > /dev/null || return 0; sleep 0.05; done
  ! pgrep -f -- "$toy" > /dev/null
}
same() { # same LABEL FILE REF
  if $py "$tests/integration/compare_runs.py" "$3" "$2" > cmp.log 2>&1; then ok "$1: $(tail -1 cmp.log)"
  else fail "$1"; cat cmp.log; fi
}

# ---------------------------------------------------------------- alone: the results file
if "$bin" run toy.yaml -o a.h5 --quiet > a.log 2>&1; then ok "alone run: exit 0"
else fail "alone run: exit $?"; cat a.log; fi
"$bin" show a.h5 --json > a.json 2> show.log || { fail "show --json: exit $?"; cat show.log; }
$py - a.h5 a.json a.trials "$work" > check.log 2>&1 <<'PY'
import json, math, os, sys
import h5py, pandas as pd
path, js, tdir, here = sys.argv[1:]
STATUS = ["pending", "running", "done", "diverged", "failed", "pruned"]
f = h5py.File(path, "r")
t = pd.DataFrame(f["trials"][:]); c = pd.DataFrame(f["curves"][:]); fin = pd.DataFrame(f["final"][:])
for col in ("message", "act", "host", "device"): t[col] = t[col].str.decode("utf-8")
t["status"] = t["status"].map(lambda s: STATUS[s])
def check(name, cond, detail=""):
    print(("ok" if cond else "FAILED") + ": " + name + (": " + detail if detail else ""))
need = {"lr", "weight_decay", "hidden", "act"}
check("/trials has the searched columns lr, weight_decay, hidden, act", need <= set(t.columns), str(list(t.columns)))
check("hidden (int_log) is an integer in [16, 128] and act a choice",
      all(float(h).is_integer() and 16 <= h <= 128 for h in t.hidden) and set(t.act) <= {"relu", "tanh"},
      f"hidden {sorted(set(t.hidden.astype(int)))}, act {sorted(set(t.act))}")
counts = t.status.value_counts().to_dict()
check("status values: done and pruned, 12 trials", len(t) == 12 and set(counts) == {"done", "pruned"}, str(counts))
rows = c.groupby("trial").epoch.apply(list).to_dict()
bad = [int(r.id) for r in t.itertuples() if rows.get(r.id, []) != list(range(1, r.epochs_done + 1))
       or (r.status == "done" and r.epochs_done != r.epochs_planned)]
check("/curves: one row per epoch reported (1..epochs_done), done trials ran their planned epochs",
      not bad and len(c) == t.epochs_done.sum(), f"{len(c)} rows" + (f"; wrong: trials {bad}" if bad else ""))
pr = t[t.status == "pruned"]
check("pruning stopped trials early (fewer curve rows than planned)",
      len(pr) > 0 and all(len(rows[i]) < p for i, p in zip(pr.id, pr.epochs_planned)),
      ", ".join(f"trial {i}: {len(rows[i])} of {p} epochs" for i, p in zip(pr.id, pr.epochs_planned)))
best = t.loc[t.best_val_acc.idxmax()]
ok_final = len(fin) == 1 and int(fin.trial[0]) == int(best.id) and math.isclose(fin.test_acc[0], best.best_val_acc - 0.01)
check("/final: the best trial's test_acc (its snapshot's val_acc - 0.01, as toy_trainer scores it)", ok_final,
      f"trial {int(fin.trial[0])} test_acc {fin.test_acc[0]:.4f} test_loss {fin.test_loss[0]:.4f}" if len(fin) else "no row")
# what each program saw: its recorded start, params.json
seen, tests_run = [], []
for r in t.itertuples():
    d = os.path.join(tdir, "trial-%06d" % r.id)
    starts = [l.split() for l in open(os.path.join(d, "starts.log"))]
    pj = json.load(open(os.path.join(d, "params.json")))
    train = [s for s in starts if s[0] == "train"]
    tests_run += [int(r.id)] * sum(s[0] == "test" for s in starts)
    good = (len(train) == 1 and train[0][1:4] == ["0", str(int(r.hidden)), r.act] and train[0][5] == "cwd=" + here
            and pj["params"]["hidden"] == int(r.hidden) and pj["params"]["act"] == r.act
            and pj["params"]["lr"] == r.lr and pj["trial"] == r.id and pj["seed"] == r.seed)
    if not good: seen.append(f"trial {r.id}: {starts} {pj}")
    cuda = train[0][4] if train else "?"
check("each program started once, in the folder hpsweep runs in, with HPSWEEP_P_HIDDEN/ACT and params.json equal to /trials", not seen, "; ".join(seen))
print(f"info: CUDA_VISIBLE_DEVICES as a trial saw it: {cuda}")
check("the test command ran once, in the best trial's folder", tests_run == [int(best.id)], f"ran for {tests_run}")
j = json.load(open(js))
jc = {k: v for k, v in j["counts"].items() if v and k != "total"}
check("show --json: counts and final agree with the file", jc == counts and j["final"][0]["trial"] == int(best.id)
      and j["top"][0]["params"] == {"hidden": int(best.hidden), "act": best.act}, f"{j['counts']}, top {j['top'][0]['params']}")
PY
cat check.log
passed=$((passed + $(grep -c '^ok' check.log))); failed=$((failed + $(grep -c '^FAILED' check.log)))
grep -q '^ok\|^FAILED' check.log || fail "the results file checks did not run"

# ---------------------------------------------------------------- mpirun -np 3, --pack 2
mpi 3 "$bin" run toy.yaml -o m3.h5 --quiet > m3.log 2>&1 && same "mpirun -np 3 == alone" m3.h5 a.h5 \
  || { fail "mpirun -np 3: exit $?"; cat m3.log; }
"$bin" run toy.yaml -o p2.h5 --pack 2 --quiet > p2.log 2>&1 && same "alone --pack 2 == alone" p2.h5 a.h5 \
  || { fail "--pack 2: exit $?"; cat p2.log; }
no_trainer_left 0 && ok "no trainer left after the runs" || fail "trainers left: $(pgrep -af -- "$toy")"

# not_rerun LABEL DIR [TRIAL]: the trials before.json lists as finished were started once
# (starts.log); TRIAL, if given, was started again with HPSWEEP_RESUME_EPOCH=1.
not_rerun() {
$py - before.json "$2" "$1" ${3:-} > check.log 2>&1 <<'PY'
import json, os, sys
before, tdir, label = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
cont = int(sys.argv[4]) if len(sys.argv) > 4 else None
again, resumed = [], []
for d in sorted(os.listdir(tdir)):
    i = int(d.split("-")[1])
    starts = [l.split() for l in open(os.path.join(tdir, d, "starts.log")) if l.startswith("train")]
    if str(i) in before and len(starts) != 1: again.append(f"trial {i}: {starts}")
    if len(starts) > 1: resumed.append(f"trial {i} at resume epoch {starts[-1][1]}")
print(("ok" if not again else "FAILED") + f": {label}: the {len(before)} finished trials were not started again"
      + (": " + "; ".join(again) if again else "") + f" (started again: {', '.join(resumed) or 'none'})")
if cont is not None:
    starts = [l.split() for l in open(os.path.join(tdir, "trial-%06d" % cont, "starts.log")) if l.startswith("train")]
    good = [s[1] for s in starts] == ["0", "1"]
    print(("ok" if good else "FAILED") + f": {label}: trial {cont}, killed in its second epoch, continued with "
          f"HPSWEEP_RESUME_EPOCH=1 (its starts: {' '.join(s[1] for s in starts)})")
PY
cat check.log
passed=$((passed + $(grep -c '^ok' check.log))); failed=$((failed + $(grep -c '^FAILED' check.log)))
}

# ---------------------------------------------------------------- kill -9, resume (alone)
# Slower epochs (the wrapper passes TOY_SECONDS on; results do not depend on it); killed while
# trial 3 trains its second epoch: its first is checkpointed (and recorded, or replayed on resume).
TOY_SECONDS=0.4 "$bin" run toy.yaml -o k.h5 --quiet > k.log 2>&1 & pid=$!
for i in $(seq 600); do [ -e k.trials/trial-000003/checkpoint ] && break; sleep 0.05; done
sleep 0.1
{ kill -KILL $pid; wait $pid; } 2> /dev/null; rc=$?
$py "$tests/integration/resume_check.py" finished k.h5 before.json
nbefore=$($py -c 'import json; print(len(json.load(open("before.json"))))')
# the orphaned trainer ends by itself: its next metrics write finds no reader
no_trainer_left 10 && ok "kill -9 alone (exit $rc, $nbefore trials finished): the orphaned trainer ended by itself" \
  || fail "kill -9 alone: trainer still running 10 s later: $(pgrep -af -- "$toy")"
[ "$rc" -eq 137 ] && [ "$nbefore" -ge 3 ] && [ "$nbefore" -lt 12 ] || fail "kill -9 alone: exit $rc, $nbefore finished: not mid-sweep"
if "$bin" resume k.h5 --quiet > kr.log 2>&1; then
  if $py "$tests/integration/resume_check.py" check k.h5 a.h5 before.json > check.log 2>&1; then
    ok "kill -9 alone, resume: equal to the uninterrupted run; $(tail -1 check.log)"
  else fail "kill -9 alone, resume: differs"; cat check.log; fi
else fail "kill -9 alone: resume exit $?"; cat kr.log; fi
no_trainer_left 0 && ok "kill -9 alone, resume: no trainer left" || fail "trainers left: $(pgrep -af -- "$toy")"
not_rerun "kill -9 alone, resume" k.trials 3

# ---------------------------------------------------------------- kill -9 of a trainer rank (mpirun)
TOY_SECONDS=0.3 mpi_bg 3 "$bin" run toy.yaml -o mk.h5 --quiet > mk.log 2>&1 & pid=$!
if wait_finished mk.h5 3 30; then p=$(rank_pid $pid 1); [ -n "$p" ] && kill -KILL $p
else fail "kill -9 of rank 1: 3 trials never finished"; fi
wait $pid; rc=$?
for i in $(seq 200); do pgrep -f -- "-o mk.h5" > /dev/null || break; sleep 0.05; done
$py "$tests/integration/resume_check.py" finished mk.h5 before.json
nbefore=$($py -c 'import json; print(len(json.load(open("before.json"))))')
no_trainer_left 10 || fail "kill -9 of rank 1: trainers still running 10 s later: $(pgrep -af -- "$toy")"
[ "$rc" -ne 0 ] && [ "$nbefore" -ge 3 ] && [ "$nbefore" -lt 12 ] || fail "kill -9 of rank 1: exit $rc, $nbefore finished: not mid-sweep"
if mpi 3 "$bin" resume mk.h5 --quiet > mkr.log 2>&1; then
  if $py "$tests/integration/resume_check.py" check mk.h5 a.h5 before.json > check.log 2>&1; then
    ok "kill -9 of trainer rank 1 under mpirun (exit $rc, $nbefore finished), resume under mpirun: equal; $(tail -1 check.log)"
  else fail "kill -9 of rank 1, resume: differs"; cat check.log; fi
else fail "kill -9 of rank 1: resume exit $?"; cat mkr.log; fi
no_trainer_left 0 && ok "kill -9 of rank 1, resume: no trainer left" || fail "trainers left: $(pgrep -af -- "$toy")"
not_rerun "kill -9 of rank 1, resume" mk.trials

# ---------------------------------------------------------------- divergence
sed 's/lr: {low: 1.0e-4, high: 0.9}/lr: {low: 0.3, high: 3.0}/; s/name: toy/name: diverge/; /method: random, trials: 4/d' toy.yaml \
  | sed 's/trials: 8, epochs: 2/trials: 6, epochs: 2/' > diverge.yaml
"$bin" run diverge.yaml -o d.h5 --quiet > d.log 2>&1; rc=$?
$py - d.h5 > check.log 2>&1 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r"); t = f["trials"][:]; c = f["curves"][:]
hi = [r for r in t if r["lr"] > 1]; lo = [r for r in t if r["lr"] <= 1]
bad = [int(r["id"]) for r in hi if r["status"] != 3 or b"loss" not in r["message"] or r["epochs_done"] != 1
       or (c["trial"] == r["id"]).sum() != 1]
bad += [int(r["id"]) for r in lo if r["status"] != 2]
msgs = sorted({r["message"].decode() for r in hi})
print(("ok" if hi and lo and not bad else "FAILED") + f": lr > 1 diverged at epoch 1 ({len(hi)} of {len(t)} trials), "
      f"lr <= 1 done; messages {msgs}" + (f"; wrong: trials {bad}" if bad else ""))
PY
[ $rc -eq 0 ] || { fail "divergence sweep: exit $rc"; cat d.log; }
cat check.log; grep -q '^ok' check.log && passed=$((passed + 1)) || failed=$((failed + 1))

# ---------------------------------------------------------------- faults
# One fault per trial id; trials 0 and 7 are good (and record what they saw: device: cpu hides the
# GPUs, trainer.chdir: true runs them in their trial's folder). Mode test: a fixed line.
cat > fault.sh <<'EOF'
#!/bin/sh
if [ "$HPSWEEP_MODE" = test ]; then echo '{"test_loss": 0.5, "test_acc": 0.75}' >&3; exit 0; fi
case $HPSWEEP_TRIAL_ID in
1) echo '{"epoch": 1, "val_acc": 0.5}' >&3; echo "boom" >&2; echo >&2; exit 3 ;;
2) echo "about to crash" >&2; kill -SEGV $$ ;;
3) echo '{"epoch": 1, "val_acc": 0.5' >&3 ;;
4) echo '{"epoch": 1, "val_loss": 0.5}' >&3 ;;
5) echo '{"epoch": 1, "val_acc": 0.5}' >&3; exec sleep 59.25 ;;
6) echo "nothing to report" ;;
*) echo "cuda=${CUDA_VISIBLE_DEVICES-unset} cwd=$(pwd)" > "$HPSWEEP_WORKDIR/seen.txt"
   e=$((HPSWEEP_RESUME_EPOCH + 1))
   while [ $e -le "$HPSWEEP_EPOCHS" ]; do echo "{\"epoch\": $e, \"val_acc\": 0.$((HPSWEEP_TRIAL_ID + 1))$e}" >&3; e=$((e + 1)); done ;;
esac
EOF
chmod +x fault.sh
cat > faults.yaml <<EOF
name: faults
seed: 1
device: cpu
trainer:
  command: [$work/fault.sh]
  epoch_timeout: 1
  grace: 1
  chdir: true
search:
  params:
    lr: {low: 1.0e-3, high: 1.0e-1}
    weight_decay: {low: 1.0e-6, high: 1.0e-3}
  stages:
    - {method: random, trials: 8, epochs: 2}
EOF
t0=$(now)
"$bin" run faults.yaml -o f.h5 --quiet > f.log 2>&1; rc=$?
el=$(secs $t0 $(now))
[ $rc -eq 0 ] && ok "faults: the sweep went on and finished, exit 0, in $el s (the hang ended by epoch_timeout)" \
  || { fail "faults: exit $rc"; cat f.log; }
$py - f.h5 > check.log 2>&1 <<'PY'
import os, sys, h5py
f = h5py.File(sys.argv[1], "r"); t = {int(r["id"]): r for r in f["trials"][:]}
want = {1: "exited with status 3: boom", 2: "killed by signal 11 (SIGSEGV): about to crash",
        3: "metrics line 1 is not a JSON object: ", 4: "metrics line 1 lacks the objective val_acc",
        5: "no metrics for 1 s (epoch_timeout)", 6: "reported no epoch"}
prefix = {3}
for i, w in want.items():
    m = t[i]["message"].decode()
    good = t[i]["status"] == 4 and (m.startswith(w) if i in prefix else m == w)
    st = ["pending", "running", "done", "diverged", "failed", "pruned"][t[i]["status"]]
    print(("ok" if good else "FAILED") + f": fault trial {i}: {st}, message '{m}'" + ("" if good else f" (want failed, '{w}')"))
good = [i for i in (0, 7) if t[i]["status"] == 2 and t[i]["epochs_done"] == 2]
print(("ok" if len(good) == 2 else "FAILED") + f": the good trials 0 and 7 are done; final: trial {int(f['final'][0]['trial'])}")
seen = {i: open("f.trials/trial-%06d/seen.txt" % i).read().split() for i in (0, 7)}
want = {i: ["cuda=", "cwd=" + os.path.realpath("f.trials/trial-%06d" % i)] for i in (0, 7)}
print(("ok" if seen == want else "FAILED") + f": device: cpu and chdir: true: the program saw {seen[0]}" + ("" if seen == want else f" (want {want[0]})"))
PY
cat check.log
passed=$((passed + $(grep -c '^ok' check.log))); failed=$((failed + $(grep -c '^FAILED' check.log)))
pgrep -f -- "sleep 59.25" > /dev/null && fail "faults: the hung program (sleep 59.25) is still running"

# ---------------------------------------------------------------- a program that cannot start
printf '#!/bin/sh\nexit 0\n' > noexec.sh; chmod -x noexec.sh
for prog in "$work/nowhere/trainer.sh" no-such-trainer-hpsweep "$work/noexec.sh"; do
  sed "s|command: \[.*\]|command: [$prog, \"{lr}\"]|" toy.yaml > bad.yaml
  rm -rf bad.h5 bad.trials
  "$bin" run bad.yaml -o bad.h5 --quiet > bad.log 2>&1; rc=$?
  if [ $rc -eq 2 ] && [ ! -e bad.h5 ] && grep -qF -- "$prog" bad.log; then
    ok "cannot start $(basename $prog): exit 2, no results file; $(head -c 200 bad.log | head -1)"
  else fail "cannot start $prog: exit $rc, file $(ls bad.h5 2>&1)"; cat bad.log; fi
done

# ---------------------------------------------------------------- PyTorch
if $py -c "import torch" 2> /dev/null; then
  cat > torch.yaml <<EOF
name: torch
seed: 5
trainer:
  command: [$py, $examples/torch_mlp.py, --lr, "{lr}", --weight-decay, "{weight_decay}", --train-subset, "2000", --val-size, "1000"]
  epoch_timeout: 120
search:
  params:
    lr: {low: 1.0e-2, high: 1.0e-1}
    weight_decay: {low: 1.0e-6, high: 1.0e-3}
  stages:
    - {method: random, trials: 3, epochs: 1}
EOF
  t0=$(now)
  if "$bin" run torch.yaml -o torch.h5 --quiet > torch.log 2>&1; then
    acc=$($py -c 'import h5py; f = h5py.File("torch.h5", "r"); print(f["final"][0]["test_acc"])')
    if awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }'; then ok "torch_mlp.py: 3 trials x 1 epoch in $(secs $t0 $(now)) s, test accuracy $acc"
    else fail "torch_mlp.py: test accuracy $acc"; cat torch.log; fi
  else fail "torch_mlp.py: exit $?"; cat torch.log; fi
else
  echo "skipped: torch_mlp.py ($py cannot import torch; apt-get install python3-torch)"
fi

# A search that names neither lr nor weight decay: show says so ("-"), not "[nan, nan]".
cat > named.yaml <<EOF
name: named
trainer:
  command: [$py, $toy, --lr, "{rate}"]
search:
  params:
    rate: {low: 1.0e-3, high: 1.0e-1}
  stages:
    - {method: random, trials: 2, epochs: 1}
    - {method: random, trials: 2, epochs: 1}
EOF
"$bin" run named.yaml -o named.h5 --quiet > named.log 2>&1 && "$bin" show named.h5 > named.txt 2>&1 \
  && grep -Eq "^  1 +random +2 +1  - +fixed +- +fixed" named.txt && ! grep -q nan named.txt \
  && grep -q "rate" named.txt && ok "no lr or weight decay searched: show prints '-', the 'rate' parameter listed" \
  || { fail "no lr searched: show"; cat named.log named.txt; }
# ... and continues after a kill: replanned trials match the file though lr and wd have no value.
"$bin" run named.yaml -o named_k.h5 --quiet > named_k.log 2>&1 & pid=$!
wait_finished named_k.h5 1 30 && kill -KILL $pid; wait $pid 2>/dev/null
no_trainer_left 10
"$bin" resume named_k.h5 --quiet > named_r.log 2>&1 && $py "$tests/integration/compare_runs.py" named.h5 named_k.h5 \
  && ok "no lr or weight decay searched: killed and resumed == uninterrupted" \
  || { fail "no lr searched: resume"; cat named_r.log; }

echo "external: $(secs $t_start $(now)) s"
summary external
