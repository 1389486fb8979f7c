#!/usr/bin/env bash
# Integration: one copy of the data per node (orchestrator/nodedata.h). Under
# mpirun -np 5 the trainer ranks map the node's shared copy instead of loading their own:
#   - the sweep records exactly what the same sweep with private copies (HPSWEEP_NO_SHARE=1)
#     and the same sweep alone record (the shared bytes are the loaded bytes);
#   - a trainer rank's peak RSS with synthetic trials (which touch no data) is well under its
#     peak with a private copy (each private copy holds the decoded set, twice while splitting);
#   - a sweep with real trials under mpirun, stopped and resumed, equals the straight run.
# usage: nodedata.sh HPSWEEP TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh" # scratch folder with ./data (6000 examples), ok/fail/summary
setup_data 6000
cmp_runs() { $py "$tests/integration/compare_runs.py" "$1" "$2" > cmp.log 2>&1 || { cat cmp.log; return 1; }; }
sed 's/^seed: 11/seed: 11\ndevice: cpu/' resume.yaml > cpu.yaml

"$bin" run cpu.yaml -o alone.h5 --quiet > alone.log 2>&1 || { fail "alone"; cat alone.log; }
mpi 5 "$bin" run cpu.yaml -o shared.h5 --quiet > shared.log 2>&1 && ok "mpirun -np 5, shared data" || { fail "shared"; cat shared.log; }
HPSWEEP_NO_SHARE=1 mpi 5 -x HPSWEEP_NO_SHARE "$bin" run cpu.yaml -o private.h5 --quiet > private.log 2>&1 \
  && ok "mpirun -np 5, private copies" || { fail "private"; cat private.log; }
cmp_runs alone.h5 shared.h5 && ok "shared data == alone" || fail "shared != alone"
cmp_runs private.h5 shared.h5 && ok "shared data == private copies" || fail "shared != private"

# Peak RSS of the trainer ranks, synthetic trials (no data touched).
sed 's/^train: {batch_size: 32, epochs: 1}/train: {batch_size: 32, epochs: 1, synthetic_ms: 2}/' cpu.yaml > syn.yaml
peak() { # peak MODE: the largest trainer rank's peak RSS in kB
  rm -f rss.*
  env $([ "$1" = private ] && echo HPSWEEP_NO_SHARE=1) mpirun --oversubscribe --bind-to none -np 5 -x HPSWEEP_NO_SHARE \
    bash -c '/usr/bin/time -f "%M" -o "rss.$OMPI_COMM_WORLD_RANK" "$0" run syn.yaml -o syn.h5 --force --quiet --threads 1 > /dev/null' \
    "$bin" > peak.log 2>&1 || { cat peak.log; echo 0; return; }
  for r in 1 2 3 4; do tail -n 1 rss.$r; done | sort -n | tail -n 1
}
if [ -x /usr/bin/time ]; then
  s=$(peak shared); p=$(peak private)
  echo "trainer rank peak RSS: shared $s kB, private $p kB"
  [ "${s:-0}" -gt 0 ] && [ "${p:-0}" -gt 0 ] && [ $((s * 10)) -lt $((p * 8)) ] \
    && ok "a trainer rank's peak RSS: $((s / 1024)) MB shared, $((p / 1024)) MB with its own copy" \
    || fail "trainer peak RSS: shared $s kB vs private $p kB"
else
  echo "no /usr/bin/time: the memory check is skipped"
fi

# Stopped under mpirun (the coordinator gets SIGTERM), resumed under mpirun: the straight run.
HPSWEEP_FAULT=checkpoint:4:term mpi 5 -x HPSWEEP_FAULT "$bin" run cpu.yaml -o stopped.h5 --quiet > stop.log 2>&1
mpi 3 "$bin" resume stopped.h5 --quiet > resumed.log 2>&1 && cmp_runs alone.h5 stopped.h5 \
  && ok "stopped and resumed under mpirun with shared data == straight" || { fail "stop/resume"; cat stop.log resumed.log; }
summary nodedata
