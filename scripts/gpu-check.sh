#!/usr/bin/env bash
# gpu-check.sh [--out DIR] [--quick] [--only STEP,..] [--skip STEP,..] BUNDLE_DIR|BUILD_DIR
#
# Verifies hpsweep's GPU path on a GPU machine in one command, in a few minutes, and leaves every
# log behind. Run from anywhere; the repository is the one this script lives in.
#   BUNDLE_DIR  made by scripts/gpu-bundle.sh (hps.tar.xz + run.sh): every command runs through
#               `bash BUNDLE_DIR/run.sh '...'`, which unpacks into /tmp/hps and sets the environment
#   BUILD_DIR   a CUDA build folder (binaries from orchestrator/, tests/, bench/; ctest there)
# Steps, each under `timeout` (budgets below, overridable from the environment, e.g.
# T_SANITIZER=200; all together are also held under T_TOTAL):
#   env         nvidia-smi, the cuDNN/cuBLAS the backend resolves, python3's torch and CUDA
#   cuda-tests  test_cuda_bind, test_cuda_layers, test_gpu_trial_cuda (exit 77: no GPU: SKIP)
#   sanitizer   compute-sanitizer memcheck over test_gpu_trial_cuda and test_cuda_layers, and
#               racecheck over test_cuda_layers (not with --quick)
#   planted     each bundled libhpsweep_cuda_planted*.so must make test_cuda_layers or
#               test_gpu_trial_cuda fail (PASS = the broken module was caught)
#   cnn-train   hpsweep train sweeps/fashion_cnn.yaml --epochs 2 on cuda and on the CPU;
#               PASS when the best validation accuracies differ by at most ACC_TOL
#   bench       bench/run_bench_gpu.sh (hpsweep's GPU trainer beside PyTorch)
#   sweep-1/-4  a small CNN sweep with device: cuda under mpirun with 1 and 4 trainer ranks on
#               one GPU (each with the default --pack); every trial must be done and on cuda:0
#   pack        bench/run_bench_pack.sh: the fashion_cnn coarse stage with one trial per GPU,
#               --pack 2/4/8 and 2 ranks x --pack 4: trials per hour and the ratios; PASS when
#               every run finished and --pack 4 recorded the same results as --pack 1
# Logs: DIR/NN-step.log (full output) and DIR/summary.txt; DIR defaults to $OUT/gpu-check when
# OUT is set, else ./gpu-check-logs. --quick: no sanitizer; cnn-train on 2000/1000 examples.
# --only/--skip STEP,..: run only / leave out these steps (e.g. a rerun: --only sanitizer,bench).
# Exit 0 only when every step that was not skipped passed (1 otherwise, 2 for bad usage).
set -u

# Budgets in seconds: each step's worst case; T_TOTAL caps the whole run (7 minutes).
T_ENV=${T_ENV:-25}              # nvidia-smi, python3 -c 'import torch'
T_CUDA_TESTS=${T_CUDA_TESTS:-60}
T_SANITIZER=${T_SANITIZER:-70}  # each of 3 sanitizer runs (cuDNN's kernels instrumented)
T_PLANTED=${T_PLANTED:-40}      # all planted modules together
T_TRAIN_GPU=${T_TRAIN_GPU:-30}  # 2 epochs of fashion_cnn on 55000 images
T_TRAIN_CPU=${T_TRAIN_CPU:-60}  # the same on all cores
T_BENCH=${T_BENCH:-90}          # run_bench_gpu.sh, 1 repeat, no torch.compile (BENCH_COMPILE=1 adds it)
T_SWEEP1=${T_SWEEP1:-30}        # 8 CNN trials x 1 epoch on 10000 images, then show
T_SWEEP4=${T_SWEEP4:-30}
T_PACK=${T_PACK:-75}            # 5 coarse-stage sweeps of 16 CNN trials x 2 epochs on 10000 images
T_TOTAL=${T_TOTAL:-500}         # hard cap on all steps together, unpacking included
ACC_TOL=${ACC_TOL:-0.005}       # cnn-train: |gpu - cpu| best validation accuracy
SWEEP_TRIALS=8 SWEEP_EPOCHS=1 SWEEP_SUBSET=10000 QUICK_TRAIN=2000 QUICK_VAL=1000

repo=$(cd "$(dirname "$0")/.." && pwd)
usage() { sed -n '2,27p' "$0" | cut -c3-; }
out="" quick=0 target="" only="" skipped_steps=""
while [ $# -gt 0 ]; do
  case $1 in
    -h|--help) usage; exit 0 ;;
    --out) [ $# -ge 2 ] || { echo "gpu-check.sh: --out needs a folder" >&2; exit 2; }; out=$2; shift ;;
    --out=*) out=${1#--out=} ;;
    --quick) quick=1 ;;
    --only|--skip) [ $# -ge 2 ] || { echo "gpu-check.sh: $1 needs a list of steps" >&2; exit 2; }
      [ "$1" = --only ] && only=",$2," || skipped_steps=",$2,"; shift ;;
    -*) echo "gpu-check.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) [ -z "$target" ] || { echo "gpu-check.sh: one BUNDLE_DIR or BUILD_DIR expected" >&2; exit 2; }; target=$1 ;;
  esac
  shift
done
[ -n "$target" ] || { usage >&2; exit 2; }
[ -d "$target" ] || { echo "gpu-check.sh: no folder $target" >&2; exit 2; }
target=$(cd "$target" && pwd)
if [ -f "$target/run.sh" ] && [ -f "$target/hps.tar.xz" ]; then mode=bundle
elif [ -x "$target/orchestrator/hpsweep" ]; then mode=build
else echo "gpu-check.sh: $target is neither a bundle (run.sh, hps.tar.xz) nor a build folder (orchestrator/hpsweep)" >&2; exit 2
fi
[ -n "$out" ] || { if [ -n "${OUT:-}" ]; then out=$OUT/gpu-check; else out="gpu-check-logs"; fi; }
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)
rm -f "$out"/[0-9][0-9]-*.log "$out"/.[0-9][0-9]-*.result "$out/summary.txt" "$out"/sweep-[0-9].{h5,json}  # ours only
cd "$repo" || exit 2

if [ "$mode" = build ]; then
  export PATH=$target/orchestrator:$target/tests:$target/bench:$PATH
  [ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
ncores=$(nproc)
start=$SECONDS step_end=0 CUR="" INTR=0

# ---- running commands ---------------------------------------------------------------------
# seconds a command may take now: its wish, cut to what the step and the whole run have left
limit() {
  local t=$1 left=$((T_TOTAL - (SECONDS - start)))
  [ "$step_end" -gt 0 ] && [ $((step_end - SECONDS)) -lt "$t" ] && t=$((step_end - SECONDS))
  [ "$left" -lt "$t" ] && t=$left
  echo "$t"
}
# run CMDKIND SECONDS 'COMMAND': COMMAND under timeout (its whole process group is killed),
# output to $part and appended to $LOG; CMDKIND env = with hpsweep's environment (the bundle's
# run.sh), plain = without it (the machine's own python3, nvidia-smi). Returns the exit code.
run() {
  local kind=$1 t rc cmd=$3
  t=$(limit "$2")
  printf '\n$ %s   [%s, limit %ss]\n' "$cmd" "$kind" "$t" >> "$LOG"
  if [ "$INTR" = 1 ]; then echo "(not run: interrupted)" | tee "$part" >> "$LOG"; return 130; fi
  if [ "$t" -lt 3 ]; then echo "(not run: out of time)" | tee "$part" >> "$LOG"; return 124; fi
  if [ "$kind" = env ] && [ "$mode" = bundle ]; then
    timeout -k 5 "$t" bash "$target/run.sh" "$cmd" < /dev/null > "$part" 2>&1 &
  else
    timeout -k 5 "$t" bash -c "$cmd" < /dev/null > "$part" 2>&1 &
  fi
  CUR=$!
  wait "$CUR"; rc=$?
  [ "$INTR" = 0 ] || { wait "$CUR" 2> /dev/null; rc=$?; }
  CUR=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "(timed out after ${t}s: killed)" >> "$part"; fi
  [ "$INTR" = 0 ] || echo "(interrupted)" >> "$part"
  cat "$part" >> "$LOG"
  echo "[exit $rc]" >> "$LOG"
  return "$rc"
}
on_signal() { INTR=1; [ -z "$CUR" ] || kill -TERM "$CUR" 2> /dev/null; }
# the first line of $part that reads like an error (for the one-line summaries), cut short
why() {
  local l
  l=$(grep -m1 -iE 'error|cannot|no (cuda|gpu)|not found|failed|fail|timed out|out of time|unknown' "$part")
  [ -n "$l" ] || l=$(grep -vE '^[[:space:]-]*$' "$part" | tail -n1)
  echo "${l:0:200}"
}
note() { echo "$*" >> "$LOG"; echo "    $*"; }
result() {  # result PASS|FAIL|SKIP 'key figures': the step's outcome, for the summary
  local k=${2%; }
  printf '%s\t%s\n' "$1" "$k" > "$out/.$(basename "$LOG" .log).result"
  echo "result: $1  $k" >> "$LOG"
}

# ---- preparation --------------------------------------------------------------------------
bin=$target/bin
if [ "$mode" = bundle ]; then
  LOG=$out/00-unpack.log part=$out/.part
  : > "$LOG"
  run env 120 'command -v hpsweep; ls "$(dirname "$(command -v hpsweep)")"' > /dev/null
  bin=$(dirname "$(head -n1 "$part")")
  [ -x "$bin/hpsweep" ] || { echo "gpu-check.sh: the bundle did not unpack (see $LOG)" >&2; bin=/nonexistent; }
fi
module=""
if [ "$mode" = bundle ]; then module=$bin/libhpsweep_cuda.so
else module=$(find "$target" -name libhpsweep_cuda.so -type f ! -path '*/CMakeFiles/*' 2> /dev/null | head -n1)
fi
planted=()
if [ "$mode" = bundle ]; then
  for m in "$bin"/libhpsweep_cuda_planted*.so; do [ -f "$m" ] && planted+=("$m"); done
else
  while IFS= read -r m; do planted+=("$m"); done < <(find "$target" -maxdepth 2 -name 'libhpsweep_cuda_planted*.so' -type f 2> /dev/null)
  for m in ${HPSWEEP_EXTRA_MODULES:-}; do case $(basename "$m") in libhpsweep_cuda_planted*.so) [ -f "$m" ] && planted+=("$(cd "$(dirname "$m")" && pwd)/$(basename "$m")") ;; esac; done
fi
sanitizer=$(command -v compute-sanitizer 2> /dev/null ||
  ls -d /usr/local/cuda*/bin/compute-sanitizer /usr/local/cuda*/compute-sanitizer/compute-sanitizer 2> /dev/null | sort -V | tail -n1)

# The specs: a copy of fashion_cnn on a subset (cnn-train in --quick) and a small GPU sweep.
train_spec=sweeps/fashion_cnn.yaml
if [ "$quick" = 1 ]; then
  train_spec=$out/fashion_cnn_subset.yaml
  awk -v n="$QUICK_TRAIN" -v v="$QUICK_VAL" '{print} /^data:/ {print "  train_subset: " n "\n  val_subset: " v}' \
    sweeps/fashion_cnn.yaml > "$train_spec"
fi
sweep_spec=$out/sweep_cnn_cuda.yaml
awk -v tr="$SWEEP_TRIALS" -v ep="$SWEEP_EPOCHS" -v subset="$SWEEP_SUBSET" '
  BEGIN { print "# written by scripts/gpu-check.sh from sweeps/fashion_cnn.yaml: device cuda, lr up to 0.1, a coarse stage only"
          print "device: cuda" }
  /^device:/ { next }
  /^name:/ { print "name: gpu_check_cnn"; next }
  /^    lr:/ { print "    lr: {low: 1.0e-3, high: 0.1, scale: log}   # not up to 1: no trial should diverge"; next }
  /^  stages:/ { print; printf "    - {method: random, trials: %d, epochs: %d, train_subset: %d}\n", tr, ep, subset; skip = 1; next }
  skip && /^(   |\t|$)/ { next }
  skip && /^  #/ { next }
  { skip = 0; print }' sweeps/fashion_cnn.yaml > "$sweep_spec"

# ---- the steps ----------------------------------------------------------------------------
step_env() {
  local gpus=0 rc
  run plain 10 'nvidia-smi -L'; rc=$?
  [ "$rc" -eq 0 ] && gpus=$(grep -c '^GPU [0-9]' "$part")
  local nvsmi_why; nvsmi_why=$(why)
  run plain 10 'nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader'
  local gpu; gpu=$(grep -m1 -v -iE 'not found|fail|error|^\(' "$part")
  run env 20 "echo \"HPSWEEP_CUDA_MODULE=\${HPSWEEP_CUDA_MODULE:-}\"; echo \"LD_LIBRARY_PATH=\${LD_LIBRARY_PATH:-}\"
    echo \"hpsweep: \$(command -v hpsweep)\"; ldd '$module' | grep -E 'cudnn|cublas|cudart|not found'
    echo \"mpirun: \$(command -v mpirun) \$(mpirun --version 2>&1 | head -n1)\"; echo 'cores: $ncores'
    echo 'compute-sanitizer: ${sanitizer:-none}'"
  local cudnn; cudnn=$(awk '/libcudnn\.so/ {print $3; exit}' "$part")
  local unresolved; unresolved=$(grep '=> not found' "$part" | awk '{print $1}' | tr '\n' ' ')
  [ -f "$module" ] || unresolved="no libhpsweep_cuda.so ($module)"
  run plain "$T_ENV" 'python3 -c "import torch; c = torch.cuda.is_available(); print(\"torch\", torch.__version__, \"cuda\", c, torch.version.cuda, \"cudnn\", torch.backends.cudnn.version() if c else None)"'
  local torch; torch=$(grep -m1 '^torch ' "$part" || echo "python3 torch: $(why)")
  local key="${gpu:-no GPU} | cuDNN ${cudnn:-not found} | $torch"
  if [ "$gpus" -lt 1 ]; then result FAIL "no GPU: nvidia-smi: ${nvsmi_why} | $key"
  elif [ -n "$unresolved" ]; then result FAIL "the CUDA module cannot load: $unresolved | $key"
  else result PASS "$gpus GPU(s): $key"
  fi
}

step_cuda_tests() {
  local t rc line summary="" failed=0 skipped=""
  if [ "$mode" = build ]; then
    run plain "$T_CUDA_TESTS" "cd '$target' && ctest -L cuda --output-on-failure"; rc=$?
    for t in test_cuda_bind test_cuda_layers test_gpu_trial_cuda; do
      line=$(grep -E "Test +#[0-9]+: $t " "$part" | tail -n1)
      case $line in
        *Passed*) summary+="$t ok; " ;;
        *Skipped*) summary+="$t SKIPPED; "; skipped+="$t " ;;
        "") summary+="$t not run; "; failed=1 ;;
        *) summary+="$t FAILED; "; failed=1 ;;
      esac
    done
    [ "$rc" -eq 0 ] || { failed=1; summary+="ctest: $(grep -m1 'tests passed' "$part" || why)"; }
  else
    for t in test_cuda_bind test_cuda_layers test_gpu_trial_cuda; do
      run env "$T_CUDA_TESTS" "$t"; rc=$?
      line=$(grep -m1 -E ': [0-9]+ passed, [0-9]+ failed' "$part" | sed 's/^[^:]*: //')
      case $rc in
        0) summary+="$t ok ($line); " ;;
        77) summary+="$t SKIPPED (77); "; skipped+="$t " ;;
        *) summary+="$t FAILED rc $rc (${line:-$(why)}); "; failed=1 ;;
      esac
    done
  fi
  if [ "$failed" = 1 ]; then result FAIL "$summary"
  elif [ -n "$skipped" ]; then
    note "!!! ${skipped}exited 77: NO GPU VISIBLE to the tests: the CUDA kernels were NOT tested !!!"
    result SKIP "no GPU visible: $summary"
  else result PASS "$summary"
  fi
}

step_sanitizer() {
  [ "$quick" = 0 ] || { result SKIP "--quick"; return; }
  [ -n "$sanitizer" ] || { result SKIP "no compute-sanitizer in PATH or /usr/local/cuda*/"; return; }
  # memcheck over whole trials; memcheck and racecheck (shared memory) over every op's parity test
  local rc errs test tool prog summary="" bad=0 skipped=0
  for tool_prog in memcheck:test_gpu_trial_cuda memcheck:test_cuda_layers racecheck:test_cuda_layers; do
    tool=${tool_prog%%:*} prog=${tool_prog#*:}
    run env "$T_SANITIZER" "'$sanitizer' --tool $tool --error-exitcode 1 \"\$(command -v $prog)\""; rc=$?
    errs=$(grep -m1 -oE 'ERROR SUMMARY: [0-9]+ error|RACECHECK SUMMARY: [0-9]+ hazard' "$part" | grep -oE '[0-9]+')
    test=$(grep -m1 -oE '[0-9]+ passed, [0-9]+ failed' "$part")
    if grep -q '^SKIPPED:' "$part" && [ -z "$test" ]; then skipped=1; summary+="$tool $prog skipped; "
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then bad=1; summary+="$tool $prog timed out; "
    elif [ "${errs:-x}" = 0 ] && [ "$rc" -eq 0 ]; then summary+="$tool $prog: 0 errors (${test:-?}); "
    else bad=1; summary+="$tool $prog: ${errs:-no summary} errors, rc $rc: $(why); "
    fi
  done
  if [ "$bad" = 1 ]; then result FAIL "$summary"
  elif [ "$skipped" = 1 ]; then result SKIP "$summary"
  else result PASS "$summary"
  fi
}

# A planted module is caught when a test fails with it (a real failure, not skip/timeout/loader).
caught() { case $1 in 0|77|124|125|126|127|137) return 1 ;; *) return 0 ;; esac; }
step_planted() {
  [ "${#planted[@]}" -gt 0 ] || { result SKIP "no libhpsweep_cuda_planted*.so in the bundle (HPSWEEP_EXTRA_MODULES)"; return; }
  local m name dir rc summary="" nbad=0 nskip=0 hits ran t
  # a spec whose data cannot be read: `hpsweep train --device cuda` then loads the module and
  # opens the GPU, and stops before training (a module of another build would make the tests
  # exit 77 as if no GPU were there)
  sed 's|^  dir: .*|  dir: /nonexistent/gpu-check|' sweeps/fashion_cnn.yaml > "$out/probe.yaml"
  for m in "${planted[@]}"; do
    name=$(basename "$m" .so); name=${name#libhpsweep_cuda_}
    run env 20 "HPSWEEP_CUDA_MODULE='$m' hpsweep train '$out/probe.yaml' --device cuda --epochs 1 --no-test"
    if grep -q 'cannot load the CUDA backend' "$part"; then
      summary+="$name does NOT load: $(grep -m1 -o 'cannot load the CUDA backend ([^)]*)' "$part" | cut -c1-160); "
      nbad=$((nbad + 1)); continue
    fi
    hits="" ran=0
    for t in test_cuda_layers test_gpu_trial_cuda; do
      if [ "$t" = test_gpu_trial_cuda ]; then  # opens the module through HPSWEEP_CUDA_MODULE
        run env "$T_PLANTED" "HPSWEEP_CUDA_MODULE='$m' test_gpu_trial_cuda"; rc=$?
      else  # links libhpsweep_cuda.so: the planted file under that name first on LD_LIBRARY_PATH
        dir=$out/.planted-$name
        mkdir -p "$dir" && cp "$m" "$dir/libhpsweep_cuda.so"
        run env "$T_PLANTED" "export LD_LIBRARY_PATH='$dir':\$LD_LIBRARY_PATH HPSWEEP_CUDA_MODULE='$dir/libhpsweep_cuda.so'
          ldd \"\$(command -v test_cuda_layers)\" | grep -q '$dir/libhpsweep_cuda.so' || { echo 'planted module not picked up by test_cuda_layers'; exit 125; }
          test_cuda_layers"; rc=$?
        rm -rf "$dir"
      fi
      [ "$rc" -eq 77 ] || ran=1
      caught "$rc" && hits+="$t ($(grep -c 'FAILED' "$part") failed) "
      note "$name: $t exit $rc$(caught "$rc" && echo ': caught; failing lines:')"
      grep -m 20 'FAILED' "$part" >> "$LOG"
    done
    if [ -n "$hits" ]; then summary+="$name caught by ${hits% }; "
    elif [ "$ran" = 0 ]; then summary+="$name unchecked (tests exit 77: no GPU); "; nskip=$((nskip + 1))
    else summary+="$name NOT caught (the tests pass with it); "; nbad=$((nbad + 1))
    fi
  done
  if [ "$nbad" -gt 0 ]; then result FAIL "$summary"
  elif [ "$nskip" -eq "${#planted[@]}" ]; then result SKIP "$summary"
  else result PASS "$summary"
  fi
}

# "best: epoch 2, val acc 0.8812, val loss 0.33; training took 6.2 s (17742 images/s)" -> "acc s img/s"
best_of() { sed -nE 's/^best: epoch [0-9]+, val acc ([0-9.]+),.*took ([0-9.]+) s \(([0-9.]+) images\/s\).*/\1 \2 \3/p' "$part" | tail -n1; }
step_cnn_train() {
  local g c gk ck ok=1
  run env "$T_TRAIN_GPU" "hpsweep train '$train_spec' --device cuda --epochs 2 --no-test"
  g=$(best_of)
  if [ -n "$g" ]; then set -- $g; gk="gpu $1 (2 epochs $2 s, $3 images/s, epochs $(awk '/^epoch /{printf "%s s ", $(NF-1)}' "$part"| sed 's/ $//'))"
  else gk="gpu FAILED: $(why)"; ok=0
  fi
  note "$gk"
  run env "$T_TRAIN_CPU" "hpsweep train '$train_spec' --device cpu --epochs 2 --no-test --threads $ncores"
  c=$(best_of)
  if [ -n "$c" ]; then set -- $c; ck="cpu $1 ($2 s, $3 images/s, $ncores threads, $(grep -m1 -oE '[A-Za-z0-9]+ kernels' "$part" || echo 'OpenBLAS ?'))"
  else ck="cpu FAILED: $(why)"; ok=0
  fi
  note "$ck"
  if [ "$ok" = 1 ]; then
    local d; d=$(awk -v a="${g%% *}" -v b="${c%% *}" 'BEGIN {d = a - b; if (d < 0) d = -d; printf "%.4f", d}')
    if awk -v d="$d" -v t="$ACC_TOL" 'BEGIN {exit !(d <= t)}'; then result PASS "|gpu-cpu| $d <= $ACC_TOL; $gk; $ck"
    else result FAIL "|gpu-cpu| $d > $ACC_TOL; $gk; $ck"
    fi
  else result FAIL "$gk; $ck"
  fi
}

step_bench() {
  local dir=$bin rc hp torch best v
  [ "$mode" = build ] && dir=$target
  # torch.compile only with BENCH_COMPILE=1 (it adds about a minute: raise T_BENCH with it)
  run env "$T_BENCH" "BENCH_NO_COMPILE=$([ "${BENCH_COMPILE:-0}" = 1 ] && echo 0 || echo 1) TIMEOUT=\${TIMEOUT:-30} bash bench/run_bench_gpu.sh '$dir' 1"; rc=$?
  if grep -qiE 'sees no GPU|no GPU visible' "$part"; then result SKIP "no GPU visible: nothing measured"; return; fi
  # medians block: "  LABEL   12345.6   launches/step N"
  med() { awk -v l="$1" 'index($0, "  " l " ") == 1 {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+$/ || $i == "n/a") {print $i; exit}}' "$part"; }
  v=$(med 'hpsweep deterministic fp32')
  hp="hpsweep det ${v:-?}, non-det $(med 'hpsweep non-deterministic fp32') img/s"
  local pt; pt=$(med 'PyTorch eager fp32')
  torch="PyTorch eager ${pt:-?}, cudnn.benchmark $(med 'PyTorch eager cudnn.benchmark fp32'), TF32 $(med 'PyTorch eager TF32')"
  torch+="; hpsweep det / PyTorch eager = $(awk -v a="${v:-0}" -v b="${pt:-0}" 'BEGIN {if (a > 0 && b > 0) printf "%.2fx", a / b; else print "n/a"}')"
  grep -q '^  PyTorch eager fp32' "$part" || torch="PyTorch: $(grep -m1 -oE 'no PyTorch with CUDA[^(]*' "$part" || echo none)"
  best=$(grep -m1 '^best against best:' "$part" | sed 's/^best against best: /best vs best: /')
  if [ -n "$v" ] && [ "$v" != n/a ]; then result PASS "$hp; $torch${best:+; $best}"
  else result FAIL "rc $rc: $(why)"
  fi
}

step_sweep() {
  local np=$1 h5=$out/sweep-$1.h5 rc t0 wall verdict
  t0=$(date +%s.%N)
  run env $(($2 - 6)) "mpirun --oversubscribe --bind-to none -np $((np + 1)) hpsweep run '$sweep_spec' -o '$h5' --force"; rc=$?
  wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  if [ "$rc" -ne 0 ]; then result FAIL "mpirun -np $((np + 1)) rc $rc after $wall s: $(why)"; return; fi
  run env 15 "hpsweep show '$h5'"
  run env 15 "hpsweep show '$h5' --json --top 1000"
  cp "$part" "$out/sweep-$np.json"
  verdict=$(python3 - "$out/sweep-$np.json" "$SWEEP_TRIALS" "$h5" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); n = int(sys.argv[2])
c, top = d["counts"], d["top"]
try:  # every trial's row (also diverged ones), where h5py is at hand
    import h5py
    with h5py.File(sys.argv[3], "r") as f:
        rows = [{"gpu": int(r["gpu"]), "device": r["device"].split(b"\0")[0].decode(), "rank": int(r["rank"])}
                for r in f["trials"][:]]
    where = "/trials"
except Exception:  # show's ranked list: the done trials
    rows, where = [{"gpu": t.get("gpu"), "device": t.get("device", ""), "rank": None} for t in top], "show --json"
gpu = [r for r in rows if r["gpu"] == 0 and r["device"] not in ("", "cpu")]
done, div = c.get("done", 0), c.get("diverged", 0)
ok = c.get("total") == n and done >= 1 and done + div == n and rows and len(gpu) == len(rows)
ok = ok and (where != "/trials" or len(rows) == n)
best = max((t["best_val_acc"] for t in top if t.get("best_val_acc") is not None), default=float("nan"))
devs = ", ".join(sorted({r["device"] for r in rows}))
ranks = sorted({r["rank"] for r in rows if r["rank"] is not None})
w = (d.get("elapsed") or {}).get("wall_seconds")
print("OK" if ok else "BAD", f"{done + div}/{c.get('total')} finished (want {n}: {done} done, {div} diverged, "
      f"{c.get('failed', 0)} failed), {len(gpu)}/{len(rows)} on cuda:0 in {where} ({devs})"
      + (f", ranks {','.join(map(str, ranks))}" if ranks else "")
      + f"; best val acc {best:.4f}; sweep wall {w} s")
PY
)
  note "$verdict"
  case $verdict in
    OK*) result PASS "${verdict#OK } (mpirun $wall s)" ;;
    *) result FAIL "${verdict#BAD } (mpirun $wall s)" ;;
  esac
}

step_pack() {
  local dir=$bin rc table same
  [ "$mode" = build ] && dir=$target
  run env "$T_PACK" "OUT='$out/pack' RANKS=1 PACKS='${PACKS:-2 4 8}' COMBOS='${COMBOS:-2x4}' TIMEOUT=\${TIMEOUT:-40} bash bench/run_bench_pack.sh '$dir'"; rc=$?
  if grep -q 'no usable GPU here' "$part"; then result SKIP "no GPU visible: nothing measured"; return; fi
  cp "$part" "$out/pack.txt"
  # the table's "vs R=1" on the trials' time, per row
  table=$(awk '/^run +wall s/ {f = 1; next} f && ($1 == "ranks" || $1 == "pack") {print $1 " " $2 " " $8 " (" $7 "/h)"}
               f && $1 ~ /^[0-9]+x[0-9]+$/ {print $1 " " $7 " (" $6 "/h)"}' "$part" | paste -sd, - | sed 's/,/, /g')
  # --pack 4 must record what --pack 1 recorded, trial by trial (show --json: each trial's best)
  same=$(python3 - "$out/pack/ranks_1.json" "$out/pack/pack_4.json" 2>&1 <<'PY'
import json, sys
def best(p):
    d = json.load(open(p))
    return {t["trial"]: (t["status"], t["best_val_acc"], t["best_val_loss"], t["best_epoch"]) for t in d["top"]}
a, b = best(sys.argv[1]), best(sys.argv[2])
print("same" if a == b and a else f"differ: {len(a)} vs {len(b)} ranked trials, {sum(a.get(k) != v for k, v in b.items())} differ")
PY
)
  note "pack 4 vs pack 1: $same"
  if [ "$rc" -eq 0 ] && ! grep -q FAILED "$part" && [ "$same" = same ]; then result PASS "trials/hour vs 1 trial per GPU: $table; pack 4 == pack 1"
  else result FAIL "rc $rc; $table; pack 4 vs 1: $same; $(why)"
  fi
}

# ---- driver -------------------------------------------------------------------------------
names=() stats=() secs=() keys=()
n=0
step() {  # step NAME BUDGET FUNCTION [ARGS]
  local name=$1 budget=$2 fn=$3 t0=$SECONDS st key
  shift 3
  n=$((n + 1))
  LOG=$out/$(printf '%02d' "$n")-$name.log part=$out/.part
  if [ "$INTR" = 1 ]; then st=SKIP key="interrupted"
  elif { [ -n "$only" ] && [[ $only != *",$name,"* ]]; } || [[ $skipped_steps == *",$name,"* ]]; then
    st=SKIP key="not selected (--only/--skip)"
  else
    printf '# gpu-check.sh step %s (%s mode, %s), budget %ss\n' "$name" "$mode" "$target" "$budget" > "$LOG"
    step_end=$((SECONDS + budget))
    ( trap on_signal INT TERM; "$fn" "$@" ) &
    CUR=$!; wait "$CUR"; [ "$INTR" = 0 ] || wait "$CUR" 2> /dev/null; CUR=""
    step_end=0
    local res; res=$out/.$(basename "$LOG" .log).result
    if [ -f "$res" ]; then IFS=$'\t' read -r st key < "$res"; rm -f "$res"
    else st=FAIL key="the step stopped without a result (see $(basename "$LOG"))"
    fi
  fi
  names+=("$name") stats+=("$st") secs+=($((SECONDS - t0))) keys+=("$key")
  printf '%-11s %-4s %4ss  %s\n' "$name" "$st" "$((SECONDS - t0))" "$key"
}
trap on_signal INT TERM

echo "gpu-check.sh: $mode $target -> $out$([ "$quick" = 1 ] && echo ' (--quick)')"
step env "$T_ENV" step_env
step cuda-tests "$T_CUDA_TESTS" step_cuda_tests
step sanitizer $((3 * T_SANITIZER)) step_sanitizer
step planted "$T_PLANTED" step_planted
step cnn-train $((T_TRAIN_GPU + T_TRAIN_CPU)) step_cnn_train
step bench "$T_BENCH" step_bench
step sweep-1 "$T_SWEEP1" step_sweep 1 "$T_SWEEP1"
step sweep-4 "$T_SWEEP4" step_sweep 4 "$T_SWEEP4"
step pack "$T_PACK" step_pack
rm -f "$out/.part"

failed=0
{
  echo "gpu-check.sh summary: $(date -u '+%Y-%m-%d %H:%M:%S UTC') on $(hostname), $mode $target$([ "$quick" = 1 ] && echo ' (--quick)')"
  echo "repository: $repo at $(git -C "$repo" rev-parse --short HEAD 2> /dev/null || echo '?')$(git -C "$repo" status --porcelain 2> /dev/null | grep -q . && echo ' (with uncommitted changes)')"
  printf '%-11s %-4s %5s  %s\n' step result secs "key figures"
  for i in "${!names[@]}"; do
    printf '%-11s %-4s %5s  %s\n' "${names[$i]}" "${stats[$i]}" "${secs[$i]}" "${keys[$i]}"
    [ "${stats[$i]}" = FAIL ] && failed=$((failed + 1))
  done
  echo "total $((SECONDS - start)) s; $failed step(s) failed; logs in $out"
} > "$out/summary.txt"
echo
cat "$out/summary.txt"
[ "$INTR" = 0 ] || exit 130
[ "$failed" -eq 0 ]
