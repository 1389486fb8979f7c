#!/bin/sh
# run_bench_cnn.sh - CNN training throughput of hpsweep's CPU trainer beside PyTorch's, same
# run, same machine, same threads and batch, on the fashion_cnn network (1x28x28, batch 128):
# conv3x3(32)-BN-ReLU-maxpool2, conv3x3(64)-BN-ReLU-maxpool2, dense 128, ReLU, dropout 0.5,
# dense 10 (bench_cnn.c, bench_cnn_torch.py).
#
#   bench/run_bench_cnn.sh [BUILD_DIR] [REPEATS]      (defaults: build, 3; STEPS=50 steps)
#
# For T = 1 and 2 threads it runs bench_cnn and bench_cnn_torch.py alternately REPEATS times,
# prints every run, then the median throughputs and their ratio, our achieved GFLOP/s as a
# fraction of the sgemm peak measured in the same process (1024^3 hp_gemm_f32 on T threads),
# and the peak resident memory of each process. Both get OPENBLAS_NUM_THREADS=OMP_NUM_THREADS=T
# and PyTorch torch.set_num_threads(T); at T > 1 PyTorch also runs with torch.set_num_threads(1)
# (OpenBLAS still on T threads), and the ratio is also given against the better of the two.
# EXTRA="--no-bn --no-dropout" passes flags to both (the same network without those layers).
# OPENBLAS_CORETYPE is left as the environment has it (these machines set Haswell), so both
# use the same OpenBLAS kernels; the output names them. Other load on the machine makes the
# numbers noisy, hence medians, and images per CPU second beside images per wall second.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
repeats=${2:-3}
steps=${STEPS:-50}
extra=${EXTRA:-}
bench="$build/bench/bench_cnn"
[ -x "$bench" ] || bench="$build/bench_cnn"
if [ ! -x "$bench" ]; then
    echo "run_bench_cnn.sh: no bench_cnn under $build; build it first (cmake --build $build --target bench_cnn)" >&2
    exit 2
fi
py=/usr/bin/python3
if ! "$py" -c 'import torch' 2>/dev/null; then
    echo "run_bench_cnn.sh: $py cannot import torch (apt-get install python3-torch); printing hpsweep only" >&2
    py=
fi
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, $(nproc) cores, load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in 1 2; do
    ours=""; ours_cpu=""; gf=""; peak=""; frac=""; rss=""; theirs=""; theirs_cpu=""; theirs1=""; trss=""
    for r in $(seq "$repeats"); do
        # shellcheck disable=SC2086
        line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$bench" --steps "$steps" $extra)
        echo "  T=$t run $r: $line"
        ours="$ours $(echo "$line" | field images/s)"
        ours_cpu="$ours_cpu $(echo "$line" | field cpu-images/s)"
        gf="$gf $(echo "$line" | field gflops)"
        peak="$peak $(echo "$line" | field sgemm-gflops)"
        frac="$frac $(echo "$line" | field peak-fraction)"
        rss="$rss $(echo "$line" | field maxrss-mib)"
        [ -n "$py" ] || continue
        # shellcheck disable=SC2086
        line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$py" "$here/bench_cnn_torch.py" --threads "$t" --steps "$steps" $extra)
        echo "  T=$t run $r: $line"
        theirs="$theirs $(echo "$line" | field images/s)"
        theirs_cpu="$theirs_cpu $(echo "$line" | field cpu-images/s)"
        trss="$trss $(echo "$line" | field maxrss-mib)"
        if [ "$t" -gt 1 ]; then
            # shellcheck disable=SC2086
            line=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$py" "$here/bench_cnn_torch.py" --threads "$t" --intraop 1 --steps "$steps" $extra)
            echo "  T=$t run $r: $line"
            theirs1="$theirs1 $(echo "$line" | field images/s)"
        fi
    done
    mo=$(echo "$ours" | median)
    msg="T=$t: hpsweep $mo images/s, $(echo "$gf" | median) GFLOP/s = $(echo "$frac" | median) of the sgemm peak"
    msg="$msg ($(echo "$peak" | median) GFLOP/s), peak RSS $(echo "$rss" | median) MiB"
    if [ -z "$py" ]; then
        echo "$msg (medians of $repeats)"
        continue
    fi
    mt=$(echo "$theirs" | median)
    msg="$msg; PyTorch $mt images/s (peak RSS $(echo "$trss" | median) MiB); ratio $(ratio "$mo" "$mt")x"
    msg="$msg (per CPU second $(ratio "$(echo "$ours_cpu" | median)" "$(echo "$theirs_cpu" | median)")x)"
    if [ -n "$theirs1" ]; then
        mt1=$(echo "$theirs1" | median)
        best=$(awk -v a="$mt" -v b="$mt1" 'BEGIN {print (a > b ? a : b)}')
        msg="$msg; PyTorch with intra-op 1: $mt1 images/s; ratio to PyTorch's best $(ratio "$mo" "$best")x"
    fi
    echo "$msg; medians of $repeats"
done
