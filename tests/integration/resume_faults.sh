#!/usr/bin/env bash
# Resume determinism: a sweep stopped between any two of its writes (fault
# injection, HPSWEEP_FAULT: SIGKILL, SIGTERM, SIGINT right after a curve row, a checkpoint, a
# snapshot, a trial result) and resumed, alone or under mpirun, with another thread count, ends
# with the same /trials values, bit-identical metrics and the same set of /curves rows as a run
# straight through; finished trials are never lost. Also: --checkpoint-every 0 and 2, `run -o
# EXISTING` without and with --resume, a changed spec, resuming a finished sweep, a second Ctrl-C,
# and the time to stop after SIGTERM (alone, and under mpirun).
# usage: resume_faults.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh"
setup_data 6000
"$bin" run resume.yaml -o ref.h5 --quiet --threads 2 > ref.log 2>&1 && ok "reference run" || { fail "reference run"; cat ref.log; }

# resume FILE MODE: alone or under mpirun -np 3, one BLAS thread per rank (the reference used 2).
resume() {
  if [ "$2" = mpi ]; then mpi 3 "$bin" resume "$1" --quiet --threads 1 > resume.log 2>&1
  else "$bin" resume "$1" --quiet --threads 1 > resume.log 2>&1; fi
}
check() {  # FILE BEFORE.json WHAT [REFERENCE.h5]
  if $py "$tests/integration/resume_check.py" check "$1" "${4:-ref.h5}" "$2" > check.log 2>&1; then ok "$3"
  else fail "$3"; cat check.log; fi
}

i=0
for fault in epoch:3:kill epoch:9:term checkpoint:4:kill checkpoint:7:int snapshot:3:kill snapshot:5:term \
             result:2:kill result:8:int; do
  i=$((i + 1)); f=fault$i.h5; mode=$([ $((i % 2)) -eq 0 ] && echo mpi || echo alone)
  HPSWEEP_FAULT=$fault "$bin" run resume.yaml -o $f --quiet > run.log 2>&1; rc=$?
  want=$([ "${fault##*:}" = kill ] && echo 137 || echo 4)
  [ $rc -eq $want ] || { fail "$fault: exit $rc, expected $want"; cat run.log; }
  "$bin" show $f > show.log 2>&1 || { fail "$fault: show on the interrupted file"; cat show.log; }
  $py "$tests/integration/resume_check.py" finished $f before.json
  resume $f $mode; rc=$?
  [ $rc -eq 0 ] || { fail "$fault: resume ($mode) exit $rc"; cat resume.log; }
  check $f before.json "$fault, resumed $mode: identical to the straight run, finished trials kept"
done

# No checkpoints: interrupted trials restart from their first epoch and still end the same.
HPSWEEP_FAULT=epoch:12:kill "$bin" run resume.yaml -o nock.h5 --quiet --checkpoint-every 0 > run.log 2>&1
$py "$tests/integration/resume_check.py" finished nock.h5 before.json
resume nock.h5 alone && check nock.h5 before.json "--checkpoint-every 0: restarted trials end the same" \
  || { fail "resume nock.h5"; cat resume.log; }
HPSWEEP_FAULT=epoch:14:kill "$bin" run resume.yaml -o ck2.h5 --quiet --checkpoint-every 2 > run.log 2>&1
$py "$tests/integration/resume_check.py" finished ck2.h5 before.json
resume ck2.h5 mpi && check ck2.h5 before.json "--checkpoint-every 2, resumed under mpirun" \
  || { fail "resume ck2.h5"; cat resume.log; }

# `run -o EXISTING`: refused without --resume (exit 3, file untouched); --resume continues it.
HPSWEEP_FAULT=checkpoint:3:term "$bin" run resume.yaml -o again.h5 --quiet > run.log 2>&1
sum=$(md5sum < again.h5)
"$bin" run resume.yaml -o again.h5 > run.log 2>&1; rc=$?
[ $rc -eq 3 ] && grep -q -- "--resume" run.log && [ "$(md5sum < again.h5)" = "$sum" ] \
  && ok "run -o EXISTING: exit 3, names --resume, file untouched" || { fail "run -o EXISTING: exit $rc"; cat run.log; }
sed 's/seed: 11/seed: 12/' resume.yaml > changed.yaml
"$bin" run changed.yaml -o again.h5 --resume > run.log 2>&1; rc=$?
[ $rc -eq 3 ] && [ $(grep -o "sha256 [0-9a-f]*" run.log | sort -u | wc -l) -eq 2 ] && grep -q "hpsweep resume" run.log \
  && [ "$(md5sum < again.h5)" = "$sum" ] && ok "--resume with a changed spec: exit 3, both hashes, the fix" \
  || { fail "--resume with a changed spec: exit $rc"; cat run.log; }
$py "$tests/integration/resume_check.py" finished again.h5 before.json
"$bin" run resume.yaml -o again.h5 --resume --quiet > run.log 2>&1 && check again.h5 before.json \
  "run --resume continues the file" || { fail "run --resume"; cat run.log; }
sum=$(md5sum < again.h5)
"$bin" resume again.h5 > run.log 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "nothing to do" run.log && [ "$(md5sum < again.h5)" = "$sum" ] \
  && ok "resume of a finished sweep: nothing to do, exit 0, file untouched" || { fail "resume finished: $rc"; cat run.log; }

# SIGTERM alone: the time from the signal to the process's exit (file closed).
"$bin" run resume.yaml -o term.h5 --quiet > run.log 2>&1 & pid=$!
wait_finished term.h5 3; t0=$(now); kill -TERM $pid; wait $pid; rc=$?; t1=$(now)
if [ $rc -eq 4 ]; then
  s=$(secs $t0 $t1); echo "time to stop after SIGTERM (alone): $s s"
  awk -v s=$s 'BEGIN { exit !(s < 1.0) }' && ok "SIGTERM alone: exit 4 in ${s} s" || fail "SIGTERM alone took $s s"
  grep -q "hpsweep resume term.h5" run.log && ok "the message says how to continue" || { fail "stop message"; cat run.log; }
  $py "$tests/integration/resume_check.py" finished term.h5 before.json
  resume term.h5 mpi && check term.h5 before.json "SIGTERM alone, resumed under mpirun" || fail "resume term.h5"
else
  echo "note: the sweep ended (exit $rc) before SIGTERM arrived; timing not measured"
fi

# A second Ctrl-C exits at once; the file stays readable and resumes.
"$bin" run resume.yaml -o twice.h5 --quiet > run.log 2>&1 & pid=$!
wait_finished twice.h5 3; kill -INT $pid; kill -INT $pid; wait $pid; rc=$?
[ $rc -eq 4 ] && ok "two Ctrl-C: exit 4" || { fail "two Ctrl-C: exit $rc"; cat run.log; }
"$bin" show twice.h5 > show.log 2>&1 && ok "show reads it" || { fail "show after two Ctrl-C"; cat show.log; }
$py "$tests/integration/resume_check.py" finished twice.h5 before.json
resume twice.h5 alone && check twice.h5 before.json "two Ctrl-C, resumed" || { fail "resume twice.h5"; cat resume.log; }

# Under mpirun: SIGTERM to mpirun (forwarded to every rank), SIGUSR1 (Slurm's --signal). On a
# sweep long enough to outlast mpirun's start and the polling below (resume.yaml can finish first:
# a CUDA build's hpsweep spends ~0.4 s starting, in cuBLAS's initialisers), with its own reference.
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 16/; s/points: 3, epochs: 5/points: 3, epochs: 10/' resume.yaml > long.yaml
"$bin" run long.yaml -o reflong.h5 --quiet --threads 2 > ref.log 2>&1 || { fail "long reference run"; cat ref.log; }
for sig in TERM USR1; do
  mpi_bg 3 "$bin" run long.yaml -o mpi$sig.h5 --quiet > run.log 2>&1 & pid=$!
  wait_finished mpi$sig.h5 3; t0=$(now); kill -$sig $pid; wait $pid; rc=$?; t1=$(now)
  echo "mpirun, SIG$sig: exit $rc after $(secs $t0 $t1) s (Open MPI forwards the signal to the ranks ~1 s late)"
  [ $rc -ne 0 ] && ok "SIG$sig to mpirun stops the sweep (exit $rc)" || fail "SIG$sig to mpirun: exit 0"
  "$bin" show mpi$sig.h5 > show.log 2>&1 || { fail "SIG$sig under mpirun: show"; cat show.log run.log; }
  $py "$tests/integration/resume_check.py" finished mpi$sig.h5 before.json
  resume mpi$sig.h5 mpi && check mpi$sig.h5 before.json "SIG$sig to mpirun, resumed" reflong.h5 || { fail "resume mpi$sig"; cat resume.log; }
done
summary resume_faults
