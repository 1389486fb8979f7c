#!/usr/bin/env bash
# Integration: a sweep with `device: cuda` on the host emulation of the GPU backend
# (hpsweep_gpuemul: hpsweep linked with hp_trainer_emul, tests/gpu_trial.cmake), so that the
# device wiring runs end to end where there is no GPU:
#   - alone and under mpirun -np 3, every trial records gpu 0 and the emulated device's name in
#     /trials, and `show` lists it; alone and mpirun give identical trials and curves;
#   - the "GPU" sweep gives exactly the CPU sweep's trials, curves and test result (tiny.yaml is
#     an MLP: the emulation runs the CPU's dense, loss and optimizer kernels, so any difference
#     is the GPU trainer's plumbing: batches, augmentation, mirrors, checkpoints);
#   - a GPU sweep killed with SIGTERM after a checkpoint and resumed equals the straight run;
#   - `device: cpu` with the same binary records gpu -1 and "cpu".
# usage: gpu_sweep.sh HPSWEEP_GPUEMUL HPSWEEP TESTS_DIR
set -uo pipefail
emul=$1; cpu=$2; tests=$3
bin=$emul
. "$tests/integration/lib_resume.sh" # scratch folder, ok/fail/mpi/summary; tiny.yaml reads the real data
name="host emulation of cuda/gpu.h"

sed 's/^seed: 7$/seed: 7\ndevice: cuda/' "$tests/integration/tiny.yaml" > gpu.yaml
sed 's/^seed: 7$/seed: 7\ndevice: cpu/' "$tests/integration/tiny.yaml" > cpu.yaml
grep -q '^device: cuda' gpu.yaml && grep -q '^device: cpu' cpu.yaml || { echo "cannot make the specs"; exit 1; }

# Which GPU and device each trial records: "GPU|DEVICE" lines, one per distinct pair.
devices() {
  $py - "$1" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r", libver="latest", swmr=True) as f:
    t = f["trials"][:]
    print("\n".join(sorted({"%d|%s" % (g, d.decode()) for g, d in zip(t["gpu"], t["device"])})))
PY
}

"$emul" run gpu.yaml -o alone.h5 > alone.log 2>&1 && ok "device: cuda alone" || { fail "alone"; cat alone.log; }
grep -q "device: cuda:0 $name" alone.log && ok "alone: prints its device" || { fail "alone: device line"; cat alone.log; }
[ "$(devices alone.h5)" = "0|$name" ] && ok "alone: every trial records gpu 0, '$name'" \
  || fail "alone: /trials gpu, device: $(devices alone.h5)"
"$emul" show alone.h5 | grep -q "cuda:0 $name" && ok "show lists the device" || fail "show: no device column"

mpi 3 "$emul" run gpu.yaml -o np3.h5 --quiet > np3.log 2>&1 && ok "device: cuda, mpirun -np 3" || { fail "np3"; cat np3.log; }
[ "$(devices np3.h5)" = "0|$name" ] && ok "np3: every trial records gpu 0 (local rank % 1 GPU)" \
  || fail "np3: /trials gpu, device: $(devices np3.h5)"
$py "$tests/integration/compare_runs.py" alone.h5 np3.h5 && ok "alone == mpirun -np 3 on the GPU" || fail "alone != np3"

"$cpu" run cpu.yaml -o cpu.h5 --quiet > cpu.log 2>&1 && ok "device: cpu (hpsweep)" || { fail "cpu run"; cat cpu.log; }
[ "$(devices cpu.h5)" = "-1|cpu" ] && ok "cpu: /trials gpu -1, device cpu" || fail "cpu: $(devices cpu.h5)"
$py "$tests/integration/compare_runs.py" cpu.h5 alone.h5 && ok "emulated GPU == CPU (trials, curves, test result)" \
  || fail "emulated GPU != CPU"
"$emul" run cpu.yaml -o cpu2.h5 --quiet > cpu2.log 2>&1 && [ "$(devices cpu2.h5)" = "-1|cpu" ] \
  && ok "device: cpu with the GPU build records the CPU" || { fail "cpu with the GPU build"; cat cpu2.log; }

# Killed by SIGTERM right after the 3rd checkpoint (inside a 2-epoch grid trial), resumed.
HPSWEEP_FAULT=checkpoint:3:term "$emul" run gpu.yaml -o killed.h5 --quiet > killed.log 2>&1; rc=$?
[ $rc -eq 4 ] && ok "stopped by SIGTERM (exit 4)" || { fail "fault: exit $rc"; cat killed.log; }
"$emul" resume killed.h5 --quiet > resumed.log 2>&1 && ok "resumed" || { fail "resume"; cat resumed.log; }
$py "$tests/integration/compare_runs.py" alone.h5 killed.h5 && ok "killed + resumed == straight (GPU)" \
  || fail "killed + resumed != straight"

summary gpu_sweep
