#!/usr/bin/env bash
# Integration: --pack K, several trials at once in one process (orchestrator/lanes.h).
#   - alone and under mpirun, on the CPU and on the host emulation of the GPU backend, a packed
#     sweep records exactly the trials, curves and test result of the unpacked one (a trial is a
#     function of its plan and seed, not of what ran beside it);
#   - the log and READY say how many trials each process trains at once;
#   - a packed sweep stopped at every kind of write (HPSWEEP_FAULT, SIGTERM/SIGINT/SIGKILL) and
#     resumed with another --pack equals the straight run: no trial is lost or recorded twice;
#   - --pack out of range, or not a number, is a usage error (exit 2) that names the range.
# usage: pack.sh HPSWEEP HPSWEEP_GPUEMUL TESTS_DIR   (HPSWEEP_GPUEMUL may be "-": skipped)
set -uo pipefail
bin=$1; emul=$2; tests=$3
. "$tests/integration/lib_resume.sh" # scratch folder, ok/fail/mpi/summary
cmp_runs() { $py "$tests/integration/compare_runs.py" "$1" "$2" > cmp.log 2>&1 || { cat cmp.log; return 1; }; }
spec=$tests/integration/tiny.yaml

"$bin" run "$spec" -o one.h5 --quiet > one.log 2>&1 && ok "--pack 1 (reference)" || { fail "reference"; cat one.log; }
"$bin" run "$spec" -o p3.h5 --pack 3 > p3.log 2>&1 && ok "alone --pack 3" || { fail "alone --pack 3"; cat p3.log; }
grep -q "device: cpu, 3 trials at once" p3.log && ok "alone: says 3 trials at once" || { fail "no pack line"; head -5 p3.log; }
cmp_runs one.h5 p3.h5 && ok "alone --pack 3 == --pack 1" || fail "alone --pack 3 != --pack 1"
"$bin" run "$spec" -o p16.h5 --pack 16 --quiet > p16.log 2>&1 && cmp_runs one.h5 p16.h5 \
  && ok "--pack 16 (more lanes than a stage's trials) == --pack 1" || { fail "--pack 16"; cat p16.log; }

mpi 3 "$bin" run "$spec" -o np3.h5 --pack 2 > np3.log 2>&1 && ok "mpirun -np 3 --pack 2" || { fail "np3"; cat np3.log; }
[ "$(grep -c '2 trials at once' np3.log)" = 2 ] && ok "np3: each trainer rank says 2 trials at once" \
  || { fail "np3: rank lines"; grep rank np3.log; }
cmp_runs one.h5 np3.h5 && ok "mpirun -np 3 --pack 2 == alone --pack 1" || fail "np3 --pack 2 != reference"

if [ "$emul" != "-" ]; then
  sed 's/^seed: 7$/seed: 7\ndevice: cuda/' "$spec" > gpu.yaml
  "$emul" run gpu.yaml -o g1.h5 --pack 1 --quiet > g1.log 2>&1 || { fail "emulated GPU --pack 1"; cat g1.log; }
  "$emul" run gpu.yaml -o g4.h5 --quiet > g4.log 2>&1 && ok "emulated GPU, default --pack" || { fail "emulated GPU"; cat g4.log; }
  "$emul" run gpu.yaml -o g4v.h5 > g4v.log 2>&1 && grep -q "trials at once" g4v.log \
    && ok "emulated GPU: packs by default" || { fail "GPU default pack"; head -5 g4v.log; }
  cmp_runs g1.h5 g4.h5 && ok "emulated GPU packed == unpacked" || fail "emulated GPU packed != unpacked"
  cmp_runs one.h5 g4.h5 && ok "emulated GPU packed == CPU" || fail "emulated GPU packed != CPU"
  mpi 3 "$emul" run gpu.yaml -o gnp3.h5 --pack 3 --quiet > gnp3.log 2>&1 && cmp_runs one.h5 gnp3.h5 \
    && ok "emulated GPU, mpirun -np 3 --pack 3 == CPU" || { fail "emulated GPU np3"; cat gnp3.log; }
  grep -q "MiB per trial" g4v.log && ok "emulated GPU: reports the memory per trial" || { fail "no memory line"; head -4 g4v.log; }
  # export --spec on the GPU: the spec keeps device: cuda, and train on it repeats the trial's
  # curve (trial 8: stage 1, which trains on the whole subset; stage 0 trains on 1000 examples).
  "$emul" export g1.h5 --spec --trial 8 -o g8.yaml > g8.log 2>&1 && grep -q "^device: cuda" g8.yaml \
    && "$emul" train g8.yaml --no-test > g8train.log 2>&1 && $py - g1.h5 g8train.log <<'PY' \
    && ok "emulated GPU: export --spec, train repeats trial 8's curve" || { fail "GPU export --spec"; cat g8.log; tail -3 g8train.log; }
import re, sys
import h5py
with h5py.File(sys.argv[1], "r") as f:
    t, c = f["trials"][:], f["curves"][:]
assert t[8]["status"] == 2 and t[8]["stage"] == 1, (t[8]["status"], t[8]["stage"])
want = [(int(r["epoch"]), f"{r['train_loss']:.4f}", f"{r['val_acc']:.4f}") for r in sorted(c, key=lambda r: r["epoch"])
        if r["trial"] == 8]
got = [(int(m.group(1)), m.group(2), m.group(3)) for m in
       re.finditer(r"^epoch +(\d+)/\d+ .*train loss ([0-9.]+) .*val loss [0-9.]+ acc ([0-9.]+)", open(sys.argv[2]).read(), re.M)]
print(f"trial 8 on the emulated GPU: sweep {want}, train {got}")
sys.exit(0 if want and got == want else 1)
PY
  # A GPU of 300 MiB: 8 trials (each with a 64 MiB workspace allowance) do not fit; refused before any trial.
  HPSWEEP_EMUL_GPU_MIB=300 "$emul" run gpu.yaml -o small.h5 --pack 8 > small.log 2>&1; rc=$?
  [ $rc -eq 1 ] && grep -q -- "--pack 8: 8 trials of .* MiB each .* need .* use --pack [1-4] or fewer" small.log && [ ! -e small.h5 ] \
    && ok "--pack 8 on a 300 MiB GPU: refused before starting, names a --pack that fits" || { fail "memory check: exit $rc"; cat small.log; }
  HPSWEEP_EMUL_GPU_MIB=300 "$emul" run gpu.yaml -o small.h5 --pack 2 --quiet > small2.log 2>&1 \
    && ok "--pack 2 on a 300 MiB GPU runs" || { fail "--pack 2 on 300 MiB"; cat small2.log; }
  # Searched sizes: the check takes the largest trial, not the spec's own 32 units (7 MiB, which fits).
  sed 's/^    weight_decay: .*$/&\n    model.layers.0.units: {low: 16, high: 8000, scale: int_log}/' gpu.yaml > units.yaml
  HPSWEEP_EMUL_GPU_MIB=300 "$emul" run units.yaml -o units.h5 --pack 3 > units.log 2>&1; rc=$?
  [ $rc -eq 1 ] && grep -q -- "--pack 3: 3 trials of up to 8[0-9] MiB each (at search.params model.layers.0.units = 8000)" units.log \
    && grep -q -- "use --pack 2 or fewer" units.log && [ ! -e units.h5 ] \
    && ok "searched units up to 8000: --pack 3 refused for the largest trial" || { fail "searched units: exit $rc"; cat units.log; }
  sed 's/^    weight_decay: .*$/&\n    train.batch_size: {low: 16, high: 1500, scale: int_log}/' gpu.yaml > bs.yaml
  HPSWEEP_EMUL_GPU_MIB=300 "$emul" run bs.yaml -o bs.h5 --pack 1 > bs.log 2>&1
  grep -q "up to [1-9][0-9] MiB per trial" bs.log \
    && ok "searched batch_size: the memory line gives the largest batch's" || { fail "searched batch_size"; cat bs.log; }
fi

# Stopped at a write, resumed with another --pack: the straight run's results, exactly.
for f in checkpoint:2:term epoch:4:int result:3:term snapshot:2:term checkpoint:3:kill; do
  rm -f k.h5 ka.h5
  HPSWEEP_FAULT=$f "$bin" run "$spec" -o ka.h5 --pack 4 --quiet > ka.log 2>&1; rc=$?
  { [ $rc -eq 4 ] || [ $rc -eq 137 ]; } && "$bin" resume ka.h5 --pack 2 --quiet > kar.log 2>&1 && cmp_runs one.h5 ka.h5 \
    && ok "alone --pack 4, $f, resumed with --pack 2 == straight" || { fail "alone $f (exit $rc)"; cat ka.log kar.log; }
  HPSWEEP_FAULT=$f mpi 3 "$bin" run "$spec" -o k.h5 --pack 3 --quiet > k.log 2>&1; rc=$?
  [ $rc -ne 0 ] && mpi 2 "$bin" resume k.h5 --pack 2 --quiet > kr.log 2>&1 && cmp_runs one.h5 k.h5 \
    && ok "mpirun --pack 3, $f, resumed with -np 2 --pack 2 == straight" || { fail "mpirun $f (exit $rc)"; cat k.log kr.log; }
done

# A real SIGTERM to mpirun while packed trainer ranks train (a slower spec: 3 epochs each).
sed 's/epochs: 2, top_k: 2/epochs: 6, top_k: 2/' "$spec" > slow.yaml
"$bin" run slow.yaml -o slow_ref.h5 --quiet > /dev/null 2>&1 || fail "slow reference"
mpi_bg 3 "$bin" run slow.yaml -o slow.h5 --pack 2 --quiet > slow.log 2>&1 & job=$!
wait_finished slow.h5 5 30 || true
kill -TERM $job; wait $job; rc=$?
[ $rc -ne 0 ] && ok "SIGTERM stops a packed mpirun sweep (exit $rc)" || fail "SIGTERM: exit $rc"
mpi 3 "$bin" resume slow.h5 --pack 3 --quiet > slowr.log 2>&1 && cmp_runs slow_ref.h5 slow.h5 \
  && ok "SIGTERM + resume == straight" || { fail "SIGTERM resume"; cat slow.log slowr.log; }

for v in 0 17 x -1; do
  "$bin" run "$spec" -o bad.h5 --pack $v > bad.log 2>&1; rc=$?
  [ $rc -eq 2 ] && grep -q -- "--pack" bad.log && ok "--pack $v: usage error naming --pack" || { fail "--pack $v: exit $rc"; cat bad.log; }
done
"$bin" run --help | grep -q -- "--pack K" && ok "run --help lists --pack" || fail "run --help"
"$bin" resume --help | grep -q -- "--pack K" && ok "resume --help lists --pack" || fail "resume --help"

summary pack
