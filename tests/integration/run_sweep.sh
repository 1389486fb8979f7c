#!/usr/bin/env bash
# Integration: the same tiny sweep alone and under mpirun (-np 2, -np 3, and more ranks than
# trials) gives identical trial values and metrics; a trial can diverge without stopping the
# sweep; the file holds every table; usage errors give their documented exit codes.
# usage: run_sweep.sh HPSWEEP_BINARY TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
# No OPENBLAS_NUM_THREADS: alone, the one process uses every core; under mpirun the trainers
# share them. Identical metrics then also show that results do not depend on thread counts.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
passed=0; failed=0
ok()   { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
mpi()  { mpirun --oversubscribe --bind-to none -np "$@"; }
py=/usr/bin/python3

"$bin" run "$tests/integration/tiny.yaml" -o "$work/alone.h5" --quiet > "$work/alone.log" 2>&1 \
  && ok "alone run" || { fail "alone run"; cat "$work/alone.log"; }
for np in 2 3; do
  mpi $np "$bin" run "$tests/integration/tiny.yaml" -o "$work/np$np.h5" --quiet > "$work/np$np.log" 2>&1 \
    && ok "mpirun -np $np" || { fail "mpirun -np $np"; cat "$work/np$np.log"; }
done
# More trainer ranks (8) than trials in a stage (5, then 4): idle ranks wait and stop cleanly.
mpi 9 "$bin" run "$tests/integration/tiny.yaml" -o "$work/np9.h5" --quiet > "$work/np9.log" 2>&1 \
  && ok "mpirun -np 9 (more ranks than trials)" || { fail "mpirun -np 9"; cat "$work/np9.log"; }

for other in np2 np3 np9; do
  if $py "$tests/integration/compare_runs.py" "$work/alone.h5" "$work/$other.h5"; then
    ok "alone == $other (trial values and metrics)"
  else
    fail "alone != $other"
  fi
done
$py "$tests/integration/check_sweep.py" "$work/alone.h5" && ok "file contents" || fail "file contents"

# Refuses to overwrite without --force (exit 3), and --force works.
"$bin" run "$tests/integration/tiny.yaml" -o "$work/alone.h5" --quiet > "$work/exists.log" 2>&1
rc=$?; [ $rc -eq 3 ] && grep -q -- "--force" "$work/exists.log" && ok "existing file: exit 3" \
  || { fail "existing file: exit $rc"; cat "$work/exists.log"; }
# Usage errors: exit 2, no file written.
"$bin" run > /dev/null 2>&1; [ $? -eq 2 ] && ok "no spec: exit 2" || fail "no spec: exit code"
"$bin" run "$tests/integration/tiny.yaml" --bogus > "$work/bogus.log" 2>&1
[ $? -eq 2 ] && grep -q "unknown option '--bogus'" "$work/bogus.log" && ok "unknown option: exit 2" \
  || fail "unknown option"
"$bin" run "$work/missing.yaml" -o "$work/missing.h5" > "$work/missing.log" 2>&1
[ $? -eq 2 ] && [ ! -e "$work/missing.h5" ] && grep -q "missing.yaml" "$work/missing.log" \
  && ok "missing spec: exit 2, no file" || { fail "missing spec"; cat "$work/missing.log"; }

echo "run_sweep: $passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
