#!/usr/bin/env bash
# Integration: two hpsweep runs racing on one output path. Each round starts two runs
# at once on the same -o; exactly one must exit 0 and leave a valid, complete file (every trial
# finished), and the other exit 3 without touching it (no stray
# PATH.creating.* left either). Rounds: a new file; a new file with --force on both; an existing
# file with --force on both (the first to lock it wins); a new file with --resume on both.
# usage: race.sh HPSWEEP TESTS_DIR [ROUNDS]
set -uo pipefail
bin=$1; tests=$2; rounds=${3:-10}
. "$tests/integration/lib_resume.sh" # scratch folder with ./data, ok/fail/summary
setup_data 2000
# Synthetic trials: the race is about the file, not training (short and deterministic).
sed -e 's/^train: {batch_size: 32, epochs: 1}/train: {batch_size: 32, epochs: 1, synthetic_ms: 5}/' \
    resume.yaml > race.yaml
grep -q 'synthetic_ms: 5' race.yaml || { echo "cannot make the spec"; exit 1; }
want=17 # 8 random + a 3 x 3 grid

# One round: two runs with ARGS at once on out.h5; prints "rcA rcB".
race() {
  "$bin" run race.yaml -o out.h5 --quiet "$@" > a.log 2>&1 & pa=$!
  "$bin" run race.yaml -o out.h5 --quiet "$@" > b.log 2>&1 & pb=$!
  wait $pa; ra=$?; wait $pb; rb=$?
  echo "$ra $rb"
}
# The file must be complete: every trial finished (synthetic sweeps have no test evaluation).
valid() {
  "$bin" show out.h5 --json > show.json 2> show.err || return 1
  $py - "$want" <<'PY'
import json, sys
d = json.load(open("show.json")); c = d["counts"]; want = int(sys.argv[1])
fin = c["done"] + c["diverged"] + c["failed"] + c["pruned"]
ok = c["total"] == want and fin == want and c["running"] == 0 and c["pending"] == 0
if not ok: print("counts:", c)
sys.exit(0 if ok else 1)
PY
}
check() { # check LABEL "rcA rcB"
  local label=$1 rcs=$2
  case $rcs in
    "0 3"|"3 0") ;;
    *) fail "$label: exit codes $rcs (want one 0 and one 3)"; cat a.log b.log; return ;;
  esac
  if ! valid; then fail "$label: the winner's file is not complete"; head -c 300 show.err; return; fi
  # The loser says why: it lost the race to create (already exists / being written), or, on a
  # loaded machine, started only after the winner had made the file (exists; pass --resume).
  if grep -q "already exists\|being written\|exists; pass --resume" a.log b.log; then :; else fail "$label: the loser says nothing"; cat a.log b.log; return; fi
  if ls out.h5.creating.* > /dev/null 2>&1; then fail "$label: a PATH.creating.* file was left"; ls; return; fi
  ok "$label: exits $rcs, one complete file"
}

for ((r = 1; r <= rounds; r++)); do
  rm -f out.h5; check "round $r, new file" "$(race)"
  rm -f out.h5; check "round $r, new file, both --force" "$(race --force)"
  # an existing (complete) file, both --force: one removes and recreates it, the other loses
  check "round $r, existing file, both --force" "$(race --force)"
  rm -f out.h5; check "round $r, new file, both --resume" "$(race --resume)"
done
# A finished synthetic sweep resumes to "nothing to do" (it said the file was damaged).
"$bin" resume out.h5 > syn_resume.log 2>&1 && grep -q "a synthetic sweep: no test evaluation" syn_resume.log \
  && ok "resume of a finished synthetic sweep: nothing to do" || { fail "synthetic resume"; cat syn_resume.log; }
summary race
