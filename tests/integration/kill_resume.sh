#!/usr/bin/env bash
# Crash safety: kill a small sweep at random moments, resume it, compare.
# Each round starts `hpsweep run` (alone or under mpirun -np 3), waits a random time, then sends
# one of: SIGKILL to the coordinator, SIGKILL to a trainer rank, SIGTERM or SIGINT (to the lone
# process or to mpirun), SIGTERM to rank 0 only, two SIGINTs, or SIGHUP to the lone process. Then it checks that
# `hpsweep show` opens the file, resumes it to the end with `hpsweep run --resume` (alone or
# under mpirun: this also starts a file the kill came too early for), and that
#   - every trial finished before the kill is still finished with the same values,
#   - the resumed sweep equals an uninterrupted run (trials, metrics, curves, stages, final).
# usage: kill_resume.sh HPSWEEP_BINARY TESTS_DIR [ROUNDS (default 20)] [SEED]
set -uo pipefail
bin=$1; tests=$2; rounds=${3:-20}; seed=${4:-20261122}
. "$tests/integration/lib_resume.sh"
setup_data 6000
RANDOM=$seed
echo "kill_resume: $rounds rounds, seed $seed"
t_start=$(now)
# Under mpirun the sweep runs on two trainer ranks and mpirun passes SIGTERM/SIGINT on only after
# about a second: mpirun rounds use a sweep with twice the epochs, so that most kills land mid-sweep.
sed 's/trials: 8, epochs: 4/trials: 8, epochs: 8/; s/points: 3, epochs: 5/points: 3, epochs: 10/' resume.yaml > long.yaml
"$bin" run resume.yaml -o ref.h5 --quiet > ref.log 2>&1 && "$bin" run long.yaml -o ref_long.h5 --quiet > ref.log 2>&1 \
  || { echo "reference run failed"; cat ref.log; exit 1; }
modes=(alone-kill alone-term alone-int mpi-kill0 mpi-killrank mpi-term mpi-int mpi-term0 alone-int2 alone-hup)
declare -A count
for ((r = 1; r <= rounds; r++)); do
  mode=${modes[$(((r - 1) % ${#modes[@]}))]}
  f=k$r.h5
  case $mode in
    alone*) delay_ms=$((300 + RANDOM % 1000)); spec=resume.yaml; ref=ref.h5 ;;
    *) delay_ms=$((600 + RANDOM % 2000)); spec=long.yaml; ref=ref_long.h5 ;;
  esac
  delay=$(awk -v m=$delay_ms 'BEGIN { printf "%.3f", m / 1000 }')
  case $mode in
    alone*) "$bin" run $spec -o $f --quiet > run.log 2>&1 & pid=$! ;;
    *) mpi_bg 3 "$bin" run $spec -o $f --quiet > run.log 2>&1 & pid=$! ;;
  esac
  sleep $delay
  case $mode in
    alone-kill) kill -KILL $pid ;;
    alone-term|mpi-term) kill -TERM $pid ;;
    alone-int|mpi-int) kill -INT $pid ;;
    alone-hup) kill -HUP $pid ;; # the terminal closed, ssh dropped
    alone-int2) kill -INT $pid; sleep 0.01; kill -INT $pid ;;
    mpi-kill0) p=$(rank_pid $pid 0); [ -n "$p" ] && kill -KILL $p ;;
    mpi-killrank) p=$(rank_pid $pid $((1 + RANDOM % 2))); [ -n "$p" ] && kill -KILL $p ;;
    mpi-term0) p=$(rank_pid $pid 0); [ -n "$p" ] && kill -TERM $p ;;
  esac 2>/dev/null
  wait $pid; rc=$?
  # Every rank is gone before resuming (a leftover writer would make resume refuse the file).
  for i in $(seq 100); do pgrep -f -- "-o $f " > /dev/null || break; sleep 0.05; done
  state="no file"
  if [ -e $f ]; then
    if "$bin" show $f > show.log 2>&1; then state=$(sed -n 's/^trials *//p' show.log)
    else fail "round $r ($mode after $delay s): show cannot open the file"; cat show.log; fi
  fi
  echo "round $r: $mode after $delay s -> exit $rc; $state"
  # SIGHUP is a clean stop (exit 4), not a kill (129, the default action)
  if [ "$mode" = alone-hup ] && [ $rc -ne 4 ]; then fail "round $r (alone-hup): exit $rc, want 4"; fi
  $py "$tests/integration/resume_check.py" finished $f before.json
  if [ $((r % 2)) -eq 0 ]; then mpi 3 "$bin" run $spec -o $f --resume --quiet > resume.log 2>&1
  else "$bin" run $spec -o $f --resume --quiet > resume.log 2>&1; fi
  rrc=$?
  if [ $rrc -ne 0 ]; then fail "round $r ($mode): resume exit $rrc"; cat resume.log; continue; fi
  if $py "$tests/integration/resume_check.py" check $f $ref before.json > check.log 2>&1; then
    ok "round $r ($mode): resumed; equal to the uninterrupted run; $(tail -1 check.log)"
    count[$mode]=$((${count[$mode]:-0} + 1))
  else
    fail "round $r ($mode after $delay s)"; cat check.log
  fi
  rm -f $f
done
echo "kill_resume: rounds by kind: $(for m in "${!count[@]}"; do printf '%s=%s ' $m ${count[$m]}; done)"
echo "kill_resume: $rounds rounds in $(secs $t_start $(now)) s"
summary kill_resume
