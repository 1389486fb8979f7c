#!/usr/bin/env bash
# run_bench_gpu.sh - CNN training throughput of hpsweep's GPU trainer beside PyTorch's on the
# same GPU, same run: the fashion_cnn network at batch 128 (bench_gpu.c, bench_cnn_torch.py
# --device cuda). Issue 16: PyTorch at its default and at its best.
#
#   bench/run_bench_gpu.sh [BUILD_DIR|BIN_DIR] [REPEATS] [--no-compile]   (defaults: build, 3)
#
# bench_gpu is looked for in BUILD_DIR/bench/, BUILD_DIR/, then on PATH (a bundle's bin/). Each
# repeat runs, in this order:
#   hpsweep   bench_gpu                          deterministic cuDNN, fp32 (the sweep's defaults)
#             bench_gpu --no-deterministic
#             bench_gpu --tf32                   (and --no-deterministic --tf32), when bench_gpu
#                                                 --help lists --tf32
#   PyTorch   eager fp32 (TF32 off), PyTorch's default algorithm choice
#             eager --deterministic              (cudnn.deterministic, deterministic algorithms)
#             eager --cudnn-benchmark
#             eager --tf32 on                    (PyTorch's own default for convolutions)
#             --compile                          torch.compile(mode="reduce-overhead"): CUDA graphs;
#                                                 compilation runs in the warm-up, outside the clock
# then prints the medians and the ratios hpsweep deterministic fp32 / each PyTorch variant (and
# hpsweep's best / PyTorch's best). A `launches-per-step N` field in bench_gpu's line, when it
# has one, is shown beside its figure.
#
# Environment: PYTHON (the interpreter for PyTorch; default: the first of python3,
# /usr/bin/python3 whose torch sees CUDA), STEPS (200), WARMUP (20), BENCH_NO_COMPILE=1 (as
# --no-compile), TIMEOUT (120 s per run), COMPILE_TIMEOUT (150 s for the compiled run).
# With REPEATS=1 the whole script takes about a minute on an H200 (most of it the compilation).
# Without a GPU (bench_gpu exits 77) it says so and exits 0; without a CUDA PyTorch it measures
# hpsweep only. Nothing here asserts a time.
set -u
here=$(cd "$(dirname "$0")" && pwd)
no_compile=${BENCH_NO_COMPILE:-0}
pos=()
for arg in "$@"; do
    case $arg in
    --no-compile) no_compile=1 ;;
    -h | --help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run_bench_gpu.sh: unknown option '$arg'" >&2; exit 2 ;;
    *) pos+=("$arg") ;;
    esac
done
build=${pos[0]:-build}
repeats=${pos[1]:-3}
steps=${STEPS:-200}
warmup=${WARMUP:-20}
tmo=${TIMEOUT:-120}
ctmo=${COMPILE_TIMEOUT:-150}
case $repeats in '' | *[!0-9]* | 0) echo "run_bench_gpu.sh: REPEATS must be a positive integer, got '$repeats'" >&2; exit 2 ;; esac

bench=
for c in "$build/bench/bench_gpu" "$build/bench_gpu" "$(command -v bench_gpu 2>/dev/null)"; do
    if [ -n "$c" ] && [ -x "$c" ] && [ -f "$c" ]; then bench=$c; break; fi
done
if [ -z "$bench" ]; then
    echo "run_bench_gpu.sh: no bench_gpu in $build/bench/, $build/ or on PATH; build it first (cmake -DHPSWEEP_BENCH=ON, cmake --build $build --target bench_gpu)" >&2
    exit 2
fi

# The PyTorch interpreter: the first whose torch sees CUDA. The bundle's run.sh points
# LD_LIBRARY_PATH at hpsweep's own libraries; should that break the import, try without it.
py=(); pynote=
probe='import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)'
if [ -n "${PYTHON:-}" ]; then cands=("$PYTHON"); else cands=(python3 /usr/bin/python3); fi
for c in "${cands[@]}"; do
    command -v "$c" >/dev/null 2>&1 || continue
    if timeout 60 "$c" -c "$probe" >/dev/null 2>&1; then py=("$c"); break; fi
    if [ -n "${LD_LIBRARY_PATH:-}" ] && timeout 60 env -u LD_LIBRARY_PATH "$c" -c "$probe" >/dev/null 2>&1; then
        py=(env -u LD_LIBRARY_PATH "$c"); pynote=" (run without LD_LIBRARY_PATH)"; break
    fi
done
if [ ${#py[@]} -eq 0 ]; then
    echo "run_bench_gpu.sh: no PyTorch with CUDA among: ${cands[*]} (Debian's python3-torch is CPU-only; PYTHON=... names another): hpsweep only" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { [ -s "$1" ] && grep -v -i nan "$1" | sort -g | awk '{a[NR]=$1} END {if (NR == 0) exit; if (NR % 2) m = a[(NR+1)/2]; else m = (a[NR/2]+a[NR/2+1])/2; printf "%.1f\n", m}'; }
field() { awk -v k="$1" '{for (i = 1; i < NF; i++) if ($i == k) {print $(i + 1); exit}}'; }
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2fx", a / b}'; else echo "n/a"; fi; }

# run KEY LABEL TIMEOUT CMD...: one measurement; its images/s (and launches-per-step) go to $tmp/KEY.
run() {
    local key=$1 label=$2 limit=$3 line rc v
    shift 3
    line=$(timeout -k 5 "$limit" "$@" 2>"$tmp/err"); rc=$?
    line=$(printf '%s\n' "$line" | grep -E '(^| )images/s ' | tail -n 1)
    if [ "$rc" -eq 77 ]; then return 77; fi
    if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
        [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && label="$label: timed out after ${limit} s"
        echo "  run $r: $label: FAILED (exit $rc)${line:+: $line}"
        tail -n 3 "$tmp/err" | sed 's/^/      /'
        return 0
    fi
    echo "  run $r: $label: $line"
    v=$(printf '%s\n' "$line" | field images/s)
    [ -n "$v" ] && echo "$v" >>"$tmp/$key"
    v=$(printf '%s\n' "$line" | field launches-per-step)
    [ -n "$v" ] && echo "$v" >>"$tmp/$key.launches"
    return 0
}

has_tf32=0
"$bench" --help 2>/dev/null | grep -q -- '--tf32' && has_tf32=1
echo "bench_gpu: $bench; PyTorch: ${py[*]:-none}${pynote}; repeats $repeats; PyTorch steps $steps (warm-up $warmup); compile: $([ "$no_compile" = 1 ] && echo skipped || echo "on, ${ctmo} s limit")"
start=$(date +%s)
tb=("$here/bench_cnn_torch.py" --device cuda --steps "$steps" --warmup "$warmup")
for r in $(seq "$repeats"); do
    run hp_det "hpsweep deterministic fp32" "$tmo" "$bench"
    if [ $? -eq 77 ]; then echo "run_bench_gpu.sh: bench_gpu sees no GPU (or was built without CUDA): nothing to measure"; exit 0; fi
    run hp_fast "hpsweep non-deterministic fp32" "$tmo" "$bench" --no-deterministic
    if [ "$has_tf32" = 1 ]; then
        run hp_tf32 "hpsweep deterministic TF32" "$tmo" "$bench" --tf32
        run hp_best "hpsweep non-deterministic TF32" "$tmo" "$bench" --no-deterministic --tf32
    fi
    [ ${#py[@]} -gt 0 ] || continue
    run pt_eager "PyTorch eager fp32" "$tmo" "${py[@]}" "${tb[@]}"
    run pt_det "PyTorch eager deterministic fp32" "$tmo" "${py[@]}" "${tb[@]}" --deterministic
    run pt_bench "PyTorch eager cudnn.benchmark fp32" "$tmo" "${py[@]}" "${tb[@]}" --cudnn-benchmark
    run pt_tf32 "PyTorch eager TF32" "$tmo" "${py[@]}" "${tb[@]}" --tf32 on
    [ "$no_compile" = 1 ] || run pt_comp "PyTorch compile reduce-overhead fp32" "$ctmo" "${py[@]}" "${tb[@]}" --compile
done

echo
echo "medians of $repeats repeat(s), images/s ($(($(date +%s) - start)) s in all):"
show() {
    local m l
    m=$(median "$tmp/$1"); l=$(median "$tmp/$1.launches" 2>/dev/null | awk '{printf "%g", $1}')
    [ -e "$tmp/$1" ] || [ -n "$3" ] || return 0
    printf '  %-40s %12s%s\n' "$2" "${m:-n/a}" "${l:+   launches/step $l}"
}
show hp_det "hpsweep deterministic fp32" x
show hp_fast "hpsweep non-deterministic fp32" x
[ "$has_tf32" = 1 ] && show hp_tf32 "hpsweep deterministic TF32" x && show hp_best "hpsweep non-deterministic TF32" x
if [ ${#py[@]} -gt 0 ]; then
    show pt_eager "PyTorch eager fp32 (default algorithms)" x
    show pt_det "PyTorch eager deterministic fp32" x
    show pt_bench "PyTorch eager cudnn.benchmark fp32" x
    show pt_tf32 "PyTorch eager TF32" x
    [ "$no_compile" = 1 ] || show pt_comp "PyTorch compile reduce-overhead fp32" x
    d=$(median "$tmp/hp_det")
    echo
    echo "ratio hpsweep deterministic fp32 (${d:-n/a}) / PyTorch:"
    best_pt=; best_pt_name=
    for k in pt_eager:"eager fp32" pt_det:"eager deterministic fp32" pt_bench:"eager cudnn.benchmark fp32" \
        pt_tf32:"eager TF32" pt_comp:"compile reduce-overhead fp32"; do
        key=${k%%:*}; name=${k#*:}
        [ "$key" = pt_comp ] && [ "$no_compile" = 1 ] && continue
        m=$(median "$tmp/$key")
        printf '  %-40s %s\n' "$name" "$(ratio "$d" "$m")"
        if [ -n "$m" ] && { [ -z "$best_pt" ] || awk -v a="$m" -v b="$best_pt" 'BEGIN {exit !(a > b)}'; }; then
            best_pt=$m; best_pt_name=$name
        fi
    done
    best_hp=; best_hp_name=
    for k in hp_det:"deterministic fp32" hp_fast:"non-deterministic fp32" hp_tf32:"deterministic TF32" hp_best:"non-deterministic TF32"; do
        key=${k%%:*}; m=$(median "$tmp/$key")
        if [ -n "$m" ] && { [ -z "$best_hp" ] || awk -v a="$m" -v b="$best_hp" 'BEGIN {exit !(a > b)}'; }; then
            best_hp=$m; best_hp_name=${k#*:}
        fi
    done
    echo "best against best: hpsweep ${best_hp_name:-n/a} ${best_hp:-n/a} / PyTorch ${best_pt_name:-n/a} ${best_pt:-n/a} = $(ratio "$best_hp" "$best_pt")"
else
    echo "(no PyTorch with CUDA: no ratios)"
fi
