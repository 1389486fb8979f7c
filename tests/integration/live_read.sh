#!/usr/bin/env bash
# Live reading: while `hpsweep run` writes the file, `hpsweep show` (text and
# --json) and h5py (swmr=True) read it, repeatedly, and see it grow; `hpsweep show --watch`
# redraws on its interval. Afterwards the file is complete.
# usage: live_read.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 6000
# Longer epochs than the resume tests, so that the sweep runs for a few seconds.
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 8/; s/points: 3, epochs: 5/points: 3, epochs: 10/' resume.yaml > live.yaml
"$bin" run live.yaml -o live.h5 --quiet > run.log 2>&1 & pid=$!
wait_finished live.h5 1 || fail "the sweep did not get going"
shows=0
for i in 1 2 3; do
  if "$bin" show live.h5 > show$i.log 2>&1 && grep -q "trials .* total" show$i.log; then shows=$((shows + 1)); fi
  sleep 0.1
done
[ $shows -eq 3 ] && ok "hpsweep show reads the file while it is written (3 times)" || { fail "show while written"; cat show*.log; }
"$bin" show live.h5 --json > show.json 2>&1 && $py -c "import json,sys; d=json.load(open('show.json')); sys.exit(0 if d['counts'] else 1)" \
  && ok "show --json while written parses" || { fail "show --json while written"; cat show.json; }
$py "$tests/integration/live_h5py.py" live.h5 5 && ok "h5py (swmr=True) reads it while it grows" || fail "h5py live read"
timeout 1.2 "$bin" show live.h5 --watch 0.3 > watch.log 2>&1
redraws=$(grep -o $'\033\[2J' watch.log | wc -l)
[ "$redraws" -ge 2 ] && ok "show --watch redraws ($redraws times in 1.2 s at 0.3 s)" || { fail "show --watch: $redraws redraws"; head -c 600 watch.log; }
wait $pid; rc=$?
[ $rc -eq 0 ] && ok "the sweep finished" || { fail "sweep exit $rc"; cat run.log; }
"$bin" show live.h5 > show.log 2>&1 && grep -q "0 running, 0 pending" show.log && ok "complete afterwards" \
  || { fail "final show"; cat show.log; }
summary live_read
