#!/bin/sh
# run_bench_gpu.sh - CNN training throughput of hpsweep's GPU trainer beside PyTorch's on the
# same GPU, same run: the fashion_cnn network at batch 128 (bench_gpu.c, bench_cnn_torch.py
# --device cuda). Issue 6's target: at least 2x PyTorch eager.
#
#   bench/run_bench_gpu.sh [BUILD_DIR] [REPEATS]          (defaults: build, 3)
#
# Each repeat runs bench_gpu (deterministic cuDNN, no TF32: the sweep's defaults), then
# bench_gpu --no-deterministic, then PyTorch eager (default cuDNN settings; TF32 for
# convolutions is on by default in PyTorch 1.13, so also with --cudnn-benchmark), and prints
# the medians and the ratios. Without a GPU, or without a CUDA-enabled PyTorch, it says so and
# prints what it could measure.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
repeats=${2:-3}
bench="$build/bench/bench_gpu"
[ -x "$bench" ] || bench="$build/bench_gpu"
if [ ! -x "$bench" ]; then
    echo "run_bench_gpu.sh: no bench_gpu under $build; build it first (cmake --build $build --target bench_gpu)" >&2
    exit 2
fi
py=/usr/bin/python3
if ! "$py" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
    echo "run_bench_gpu.sh: $py has no PyTorch with CUDA (Debian's python3-torch is CPU-only): hpsweep only" >&2
    py=
fi
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }

det=""; fast=""; torch=""; torchb=""
for r in $(seq "$repeats"); do
    set +e
    line=$("$bench"); rc=$?
    set -e
    if [ "$rc" -eq 77 ]; then echo "run_bench_gpu.sh: no GPU visible: nothing to measure"; exit 0; fi
    [ "$rc" -eq 0 ] || exit "$rc"
    echo "  run $r: $line"
    det="$det $(echo "$line" | field images/s)"
    line=$("$bench" --no-deterministic)
    echo "  run $r: $line (non-deterministic)"
    fast="$fast $(echo "$line" | field images/s)"
    [ -n "$py" ] || continue
    line=$("$py" "$here/bench_cnn_torch.py" --device cuda --steps 200 --warmup 20)
    echo "  run $r: $line"
    torch="$torch $(echo "$line" | field images/s)"
    line=$("$py" "$here/bench_cnn_torch.py" --device cuda --steps 200 --warmup 20 --cudnn-benchmark)
    echo "  run $r: $line (cudnn.benchmark)"
    torchb="$torchb $(echo "$line" | field images/s)"
done
d=$(echo "$det" | median); f=$(echo "$fast" | median)
echo "hpsweep GPU: $d images/s deterministic, $f images/s non-deterministic (medians of $repeats)"
if [ -n "$py" ]; then
    t=$(echo "$torch" | median); tb=$(echo "$torchb" | median)
    echo "PyTorch eager: $t images/s, $tb images/s with cudnn.benchmark"
    echo "ratio (deterministic / PyTorch): $(ratio "$d" "$t"), against cudnn.benchmark: $(ratio "$d" "$tb")"
fi
