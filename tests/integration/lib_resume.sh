# Shared by the resume, kill, live-reading and bad-input tests (sourced, not run).
# Expects $bin (the hpsweep binary) and $tests (the tests folder); makes $work, a scratch folder
# holding ./data (a small Fashion-MNIST subset, see make_idx.py) and the spec resume.yaml.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1
unset OPENBLAS_NUM_THREADS OMP_NUM_THREADS HPSWEEP_FAULT
py=/usr/bin/python3
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
passed=0; failed=0
ok()   { echo "ok: $*"; passed=$((passed + 1)); }
fail() { echo "FAILED: $*"; failed=$((failed + 1)); }
mpi()  { mpirun --oversubscribe --bind-to none -np "$@"; }
# For `mpi_bg N ... &`: the background job's $! is then mpirun itself, so signals reach it.
mpi_bg() { exec mpirun --oversubscribe --bind-to none -np "$@"; }
now()  { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
summary() { echo "$1: $passed passed, $failed failed"; [ $failed -eq 0 ] && [ $passed -gt 0 ]; }
setup_data() {  # N_TRAIN (default 6000)
  $py "$tests/integration/make_idx.py" data "${1:-6000}" 500 || { echo "cannot make the test data"; exit 1; }
  cp "$tests/integration/resume.yaml" resume.yaml
}
# The rank-0 process of an mpirun job (its child whose OMPI_COMM_WORLD_RANK is 0), or of rank $2.
rank_pid() {
  local want=${2:-0} p
  for p in $(pgrep -P "$1"); do
    if tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$want"; then echo $p; return; fi
  done
}
# Wait (up to $3 s) until FILE exists and `hpsweep show` counts at least K finished trials.
wait_finished() {
  local file=$1 k=$2 deadline n
  deadline=$(awk -v t="$(now)" -v d="${3:-20}" 'BEGIN { printf "%.3f", t + d }')
  while awk -v t="$(now)" -v d="$deadline" 'BEGIN { exit !(t < d) }'; do
    n=$("$bin" show "$file" 2>/dev/null | sed -n 's/.*total: \([0-9]*\) done, \([0-9]*\) diverged.*/\1 \2/p' \
        | awk '{ print $1 + $2 }')
    [ -n "$n" ] && [ "$n" -ge "$k" ] && return 0
    sleep 0.05
  done
  return 1
}
