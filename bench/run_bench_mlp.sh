#!/bin/sh
# run_bench_mlp.sh - training throughput of hpsweep's CPU trainer beside PyTorch's, same run,
# same machine, same threads and batch, on the reference MLP (784-512-256-10, batch 128).
#
#   bench/run_bench_mlp.sh [BUILD_DIR] [REPEATS]      (defaults: build, 3; STEPS=200 steps)
#
# For T = 1 and 2 threads it runs bench_mlp and bench_mlp_torch.py alternately REPEATS times,
# prints every run, then the median throughputs and their ratio. Both get
# OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=T and PyTorch torch.set_num_threads(T). At T > 1 it
# also runs PyTorch with torch.set_num_threads(1) (OpenBLAS still on T threads), which is
# PyTorch's faster setting here, and reports the ratio against the better of the two.
# OPENBLAS_CORETYPE is left as the environment has it (these machines set Haswell), so both
# use the same OpenBLAS kernels; the output names them. Other load on the machine makes the
# numbers noisy, hence medians, and images per CPU second beside images per wall second.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
repeats=${2:-3}
steps=${STEPS:-200}
bench="$build/bench/bench_mlp"
[ -x "$bench" ] || bench="$build/bench_mlp"
if [ ! -x "$bench" ]; then
    echo "run_bench_mlp.sh: no bench_mlp under $build; build it first (cmake --build $build --target bench_mlp)" >&2
    exit 2
fi
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "run_bench_mlp.sh: $py cannot import torch (apt-get install python3-torch); printing hpsweep only" >&2
    py=
fi
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
    ours=""; ours_cpu=""; theirs=""; theirs_cpu=""; theirs1=""
    for r in $(seq "$repeats"); do
        line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$bench" --steps "$steps")
        echo "  T=$t run $r: $line"
        ours="$ours $(echo "$line" | field images/s)"
        ours_cpu="$ours_cpu $(echo "$line" | field cpu-images/s)"
        [ -n "$py" ] || continue
        line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$py" "$here/bench_mlp_torch.py" --threads "$t" --steps "$steps")
        echo "  T=$t run $r: $line"
        theirs="$theirs $(echo "$line" | field images/s)"
        theirs_cpu="$theirs_cpu $(echo "$line" | field cpu-images/s)"
        if [ "$t" -gt 1 ]; then
            line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$py" "$here/bench_mlp_torch.py" --threads "$t" --intraop 1 --steps "$steps")
            echo "  T=$t run $r: $line"
            theirs1="$theirs1 $(echo "$line" | field images/s)"
        fi
    done
    mo=$(echo "$ours" | median)
    if [ -z "$py" ]; then
        echo "T=$t: hpsweep $mo images/s (median of $repeats)"
        continue
    fi
    mt=$(echo "$theirs" | median)
    msg="T=$t: hpsweep $mo images/s, PyTorch $mt images/s, ratio $(ratio "$mo" "$mt")x"
    msg="$msg (per CPU second $(ratio "$(echo "$ours_cpu" | median)" "$(echo "$theirs_cpu" | median)")x)"
    if [ -n "$theirs1" ]; then
        mt1=$(echo "$theirs1" | median)
        best=$(awk -v a="$mt" -v b="$mt1" 'BEGIN {print (a > b ? a : b)}')
        msg="$msg; PyTorch with intra-op 1: $mt1 images/s; ratio to PyTorch's best $(ratio "$mo" "$best")x"
    fi
    echo "$msg; medians of $repeats"
done
