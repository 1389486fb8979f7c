#!/usr/bin/env bash
# Per-trial overhead of an external trainer (docs/external.md): K trials of a trivial program that
# writes E epoch lines to fd 3 and exits, through `hpsweep run` (alone), against the same program
# run K times directly by this script (same HPSWEEP_* environment, a folder per run, fd 3 to
# /dev/null). Two programs: a POSIX sh script, and python3 (its startup included). Each
# measurement is the median of R repeats.
#   direct      wall time of the direct loop / K
#   hpsweep     wall time of `hpsweep run` / K (includes its fixed costs: start, results file,
#               the one test run at the end)
#   marginal    the slope between K/5 and K trials: (T(K) - T(K/5)) / (K - K/5), fixed costs out
#   overhead    marginal - direct: what hpsweep adds per trial (spawn, params.json, pipe, recording
#               E epochs and the result in the HDF5 file)
# Prints a table; asserts nothing.
# usage: bench/external_overhead.sh HPSWEEP_BINARY [K (50)] [EPOCHS (3)] [REPEATS (3)]
set -uo pipefail
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1"); K=${2:-50}; E=${3:-3}; R=${4:-3}
py=/usr/bin/python3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS
now() { date +%s.%N; }

cat > trivial.sh <<'EOF'
#!/bin/sh
if [ "$HPSWEEP_MODE" = test ]; then echo '{"test_loss": 0.5, "test_acc": 0.5}' >&3; exit 0; fi
e=$((HPSWEEP_RESUME_EPOCH + 1))
while [ $e -le "$HPSWEEP_EPOCHS" ]; do echo "{\"epoch\": $e, \"val_acc\": 0.5, \"val_loss\": 1.0}" >&3; e=$((e + 1)); done
EOF
cat > trivial.py <<EOF
#!$py
import json, os
fd = int(os.environ["HPSWEEP_METRICS_FD"])
if os.environ.get("HPSWEEP_MODE") == "test":
    os.write(fd, b'{"test_loss": 0.5, "test_acc": 0.5}\n')
else:
    for e in range(int(os.environ["HPSWEEP_RESUME_EPOCH"]) + 1, int(os.environ["HPSWEEP_EPOCHS"]) + 1):
        os.write(fd, (json.dumps({"epoch": e, "val_acc": 0.5, "val_loss": 1.0}) + "\n").encode())
EOF
chmod +x trivial.sh trivial.py

spec() { # spec PROGRAM TRIALS
  cat <<EOF
name: overhead
seed: 1
device: cpu
trainer:
  command: [$work/$1, "{lr}"]
search:
  params:
    lr: {low: 1.0e-3, high: 1.0e-1}
    weight_decay: {low: 1.0e-6, high: 1.0e-3}
  stages:
    - {method: random, trials: $2, epochs: $E}
EOF
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

direct() { # direct PROGRAM N: seconds for N runs
  local t0 i d
  rm -rf direct; mkdir direct
  for ((i = 0; i < $2; i++)); do mkdir "$work/direct/trial-$(printf %06d $i)"; done # folders made untimed
  t0=$(now)
  for ((i = 0; i < $2; i++)); do # one fork + exec per run, as hpsweep's posix_spawn
    printf -v d '%s/direct/trial-%06d' "$work" $i
    cd "$d"
    HPSWEEP_TRIAL_ID=$i HPSWEEP_SEED=$((1000 + i)) HPSWEEP_EPOCHS=$E HPSWEEP_RESUME_EPOCH=0 \
      HPSWEEP_WORKDIR=$d HPSWEEP_CHECKPOINT=$d/checkpoint HPSWEEP_SNAPSHOT=$d/best HPSWEEP_PARAMS=$d/params.json \
      HPSWEEP_MODE=train HPSWEEP_METRICS_FD=3 HPSWEEP_P_LR=0.01 HPSWEEP_P_WEIGHT_DECAY=0.0001 \
      "$work/$1" 0.01 3> /dev/null < /dev/null >> "$d/stdout.log" 2>> "$d/stderr.log" || { echo "direct run failed"; exit 1; }
  done
  cd "$work"
  awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.4f\n", b - a }'
}
through() { # through PROGRAM N: seconds of `hpsweep run` with N trials
  local t0 t1
  spec "$1" "$2" > s.yaml
  rm -rf o.h5 o.trials
  t0=$(now)
  "$bin" run s.yaml -o o.h5 --quiet > run.log 2>&1 || { echo "hpsweep run failed:"; cat run.log; exit 1; }
  t1=$(now)
  $py -c 'import h5py, sys; t = h5py.File("o.h5", "r")["trials"][:]; sys.exit(0 if (t["status"] == 2).all() and len(t) == int(sys.argv[1]) else 1)' "$2" \
    || { echo "not every trial is done"; exit 1; }
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", b - a }'
}

k5=$((K / 5)); [ $k5 -ge 1 ] || k5=1
echo "external_overhead: K=$K trials (and $k5 for the slope) x $E epoch lines, median of $R; $(nproc) cores; $("$bin" --version 2>&1 | head -1)"
printf '%-12s %12s %12s %12s %12s\n' program "direct ms" "hpsweep ms" "marginal ms" "overhead ms"
for prog in trivial.sh trivial.py; do
  d=$(for r in $(seq $R); do direct $prog $K; done | median)
  h=$(for r in $(seq $R); do through $prog $K; done | median)
  h5=$(for r in $(seq $R); do through $prog $k5; done | median)
  awk -v p=$prog -v d=$d -v h=$h -v h5=$h5 -v k=$K -v k5=$k5 'BEGIN {
    dm = 1000 * d / k; hm = 1000 * h / k; mm = 1000 * (h - h5) / (k - k5)
    printf "%-12s %12.1f %12.1f %12.1f %12.1f\n", p, dm, hm, mm, mm - dm }'
done
echo "per trial; direct = the program alone in a shell loop; overhead = marginal - direct"
