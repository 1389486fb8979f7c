#!/usr/bin/env bash
# run_bench_pack.sh - trials per hour on one GPU for the fashion_cnn coarse stage (16 trials x 2
# epochs on a 10000-example subset) with 1, 2, 4 and 8 trainer ranks sharing the GPU.
#
#   bench/run_bench_pack.sh [BIN_DIR|BUILD_DIR] [SPEC]    (defaults: build, sweeps/fashion_cnn.yaml)
#
# It writes a copy of SPEC with only its first (coarse) search stage and `device: $DEVICE`,
# validates it with `hpsweep check --no-overfit`, then for each R in $RANKS runs
#     mpirun --oversubscribe --bind-to none -np R+1 hpsweep run COPY -o OUT/rR.h5 --force --quiet $HPSWEEP_PACK_EXTRA
# (with --pack 1: one trial per rank) under `timeout $TIMEOUT`, then R=1 with --pack P for each P
# in $PACKS (P trials at once in one process, orchestrator/lanes.h), and prints a table: the
# run, wall seconds (mpirun start to exit: MPI start, data loading, device set-up and the final
# test evaluation included), the trials' seconds (hpsweep's "done: N trials in S s", first
# dispatch to last result), trials per hour on each, the ratios to R=1, and the sweep's best
# validation accuracy and status counts (from `hpsweep show --json`).
#
# Environment:
#   RANKS="1 2 4 8"    trainer ranks per run, each --pack 1 (one more MPI rank: the coordinator)
#   PACKS="2 4 8"      then R=1 with `--pack P` for each P; rows labelled `pack P` ("" for none)
#   COMBOS=""          e.g. "2x4": R=2 ranks with --pack 4 each; rows labelled `2x4`
#   DEVICE=cuda        the spec's device (cpu: the same benchmark on the CPU, for trying it here)
#   SUBSET=N           the coarse stage's train_subset (default: the spec's, 10000)
#   HPSWEEP_PACK_EXTRA extra arguments for `hpsweep run` (e.g. "--threads 1")
#   TIMEOUT=240        seconds per run;  OUT=DIR  where the spec copy, results and logs go
#   MPIRUN=mpirun, MPIRUN_ARGS="--oversubscribe --bind-to none"
# Open MPI refuses root unless OMPI_ALLOW_RUN_AS_ROOT(_CONFIRM) are set: they are set here.
# Without a usable GPU (device: cuda refused by `hpsweep check`) it says so and exits 0.
# For a quick CPU try: DEVICE=cpu RANKS="1 2" SUBSET=2000 bench/run_bench_pack.sh build
set -u
case ${1:-} in -h|--help) sed -n '2,29p' "$0" | cut -c3-; exit 0 ;; esac
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
spec=${2:-$here/../sweeps/fashion_cnn.yaml}
ranks=${RANKS:-1 2 4 8}
packs=${PACKS-2 4 8}
combos=${COMBOS:-}
device=${DEVICE:-cuda}
subset=${SUBSET:-}
extra=${HPSWEEP_PACK_EXTRA:-}
tmo=${TIMEOUT:-240}
mpirun=${MPIRUN:-mpirun}
mpiargs=${MPIRUN_ARGS:---oversubscribe --bind-to none}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

case $device in cpu | cuda | auto) ;; *) echo "run_bench_pack.sh: DEVICE must be cpu, cuda or auto, got '$device'" >&2; exit 2 ;; esac
case $subset in *[!0-9]*) echo "run_bench_pack.sh: SUBSET must be a number, got '$subset'" >&2; exit 2 ;; esac
hp=
for c in "$build/orchestrator/hpsweep" "$build/hpsweep" "$build/bin/hpsweep" "$(command -v hpsweep 2>/dev/null)"; do
    if [ -n "$c" ] && [ -x "$c" ] && [ -f "$c" ]; then hp=$c; break; fi
done
if [ -z "$hp" ]; then
    echo "run_bench_pack.sh: no hpsweep in $build/orchestrator/, $build/, $build/bin/ or on PATH" >&2
    exit 2
fi
[ -r "$spec" ] || { echo "run_bench_pack.sh: cannot read the spec $spec" >&2; exit 2; }
command -v "$mpirun" >/dev/null 2>&1 || { echo "run_bench_pack.sh: no $mpirun on PATH" >&2; exit 2; }

out=${OUT:-$(mktemp -d /tmp/hpsweep-pack.XXXXXX)}
mkdir -p "$out" || exit 2
copy=$out/coarse.yaml
# The copy: `device:` set (replaced, or added after `seed:`/at the top), the name suffixed, and
# in search.stages only the first item (with train_subset replaced when SUBSET is set).
awk -v dev="$device" -v sub_n="$subset" '
    function indent(s) { match(s, /^ */); return RLENGTH }
    BEGIN { have_dev = 0 }
    /^device:/ { print "device: " dev; have_dev = 1; next }
    /^name: *[A-Za-z0-9_.-]+ *(#.*)?$/ { sub(/[ \t]*(#.*)?$/, ""); print $0 "_coarse"; next }
    /^seed:/ { print; if (!have_dev) { print "device: " dev; have_dev = 1 }; next }
    in_stages && /^[ \t]*(#.*)?$/ { next }
    in_stages && indent($0) <= st_ind && $0 !~ /^ *- / { in_stages = 0 }
    in_stages && indent($0) < st_ind { in_stages = 0 }
    in_stages {
        if ($0 ~ /^ *- /) {
            items++
            if (items == 1) {
                if (sub_n != "") {
                    if ($0 ~ /train_subset:/) sub(/train_subset: *[0-9]+/, "train_subset: " sub_n)
                    else sub(/}[ \t]*(#.*)?$/, ", train_subset: " sub_n "}")
                }
                print; keep = 1
            } else keep = 0
            next
        }
        if (keep && sub_n != "" && $0 ~ /train_subset:/) sub(/train_subset: *[0-9]+/, "train_subset: " sub_n)
        if (keep) print
        next
    }
    /^ *stages:/ { print; in_stages = 1; st_ind = indent($0); items = 0; next }
    { print }
    END { if (!have_dev) print "device: " dev }
' "$spec" >"$copy"
if [ -n "$subset" ] && ! grep -q "train_subset: $subset\b" "$copy"; then
    echo "run_bench_pack.sh: could not set train_subset $subset in the first stage of $copy" >&2
    exit 2
fi

chk=$(timeout 120 "$hp" check "$copy" --no-overfit 2>&1); rc=$?
if [ "$rc" -ne 0 ]; then
    echo "$chk" | sed 's/^/  /'
    if [ "$rc" -eq 1 ] && echo "$chk" | grep -q 'device: cuda'; then
        echo "run_bench_pack.sh: no usable GPU here: skipped (DEVICE=cpu RANKS=\"1 2\" SUBSET=2000 tries it on the CPU)"
        exit 0
    fi
    echo "run_bench_pack.sh: hpsweep check refused $copy (exit $rc)" >&2
    exit 2
fi
echo "hpsweep: $hp; spec: $copy (from $spec, coarse stage only, device $device$([ -n "$subset" ] && echo ", train_subset $subset"))"
grep -A3 '^ *stages:' "$copy" | sed -n '2p' | sed 's/^ */  stage: /'
echo "mpirun: $(command -v "$mpirun") $mpiargs; timeout ${tmo} s per run; results and logs in $out"

# jget FILE KEY: the first numeric value of "KEY": in a JSON file (the first row of "top" for best_val_acc).
jget() { grep -o "\"$2\": *[-0-9.eE+]*" "$1" 2>/dev/null | head -n 1 | sed 's/.*: *//'; }

rows=(); base=; tbase=
measure() { # measure LABEL NRANKS [EXTRA ARGS...]
    local label=$1 r=$2 tag h5 log t0 t1 rc secs n nd nv nf tph acc counts what tsecs ttph
    shift 2
    tag=$(echo "$label" | tr ' ' '_'); h5=$out/$tag.h5; log=$out/$tag.log
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    timeout -k 10 "$tmo" "$mpirun" $mpiargs -np $((r + 1)) "$hp" run "$copy" -o "$h5" --force --quiet $extra "$@" >"$log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
    : >"$out/$tag.json"
    [ -s "$h5" ] && "$hp" show "$h5" --json >"$out/$tag.json" 2>"$out/$tag.show.err"
    nd=$(jget "$out/$tag.json" "done"); nv=$(jget "$out/$tag.json" diverged); nf=$(jget "$out/$tag.json" failed)
    n=$((${nd:-0} + ${nv:-0} + ${nf:-0}))
    acc=$(jget "$out/$tag.json" best_val_acc)
    counts="done ${nd:-?} diverged ${nv:-?} failed ${nf:-?}"
    if [ "$rc" -ne 0 ]; then
        what="exit $rc"; { [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; } && what="timed out after ${tmo} s"
        echo "  $label: FAILED ($what) after $secs s; $log says:"
        { grep -m 4 -E '^(hpsweep|usage)|error' "$log" || tail -n 4 "$log"; } | sed 's/^/      /'
        rows+=("$(printf '%-10s %8s %8s %10s %7s %10s %7s %9s  %s' "$label" "$secs" "-" "-" "-" "-" "-" "${acc:--}" "$what; $counts")")
        return
    fi
    tph=$(awk -v n="$n" -v s="$secs" 'BEGIN {printf "%.0f", n * 3600 / s}')
    tsecs=$(sed -n 's/^done: [0-9]* trials in \([0-9.]*\) s.*/\1/p' "$log" | head -n 1)
    ttph=$(awk -v n="$n" -v s="${tsecs:-0}" 'BEGIN {if (s > 0) printf "%.0f", n * 3600 / s; else print "-"}')
    [ -z "$base" ] && [ "$label" = "ranks 1" ] && base=$tph && tbase=$ttph
    echo "  $label: $secs s wall, ${tsecs:-?} s of trials, $n trials, $tph trials/hour (wall), $ttph (trials), best val acc ${acc:-?} ($counts)"
    grep -m 3 -E 'MiB per trial|trials at once' "$log" | sed 's/^/      /'
    rows+=("$label|$secs|$tph|${tsecs:--}|$ttph|${acc:--}|$counts")
}

for r in $ranks; do
    case $r in '' | *[!0-9]* | 0) echo "run_bench_pack.sh: RANKS has '$r', not a positive integer" >&2; exit 2 ;; esac
    measure "ranks $r" "$r" --pack 1
done
for p in $packs; do
    case $p in '' | *[!0-9]* | 0) echo "run_bench_pack.sh: PACKS has '$p', not a positive integer" >&2; exit 2 ;; esac
    measure "pack $p" 1 --pack "$p"
done
for c in $combos; do
    case $c in [1-9]*x[1-9]*) ;; *) echo "run_bench_pack.sh: COMBOS has '$c', not RxP" >&2; exit 2 ;; esac
    measure "$c" "${c%x*}" --pack "${c#*x}"
done

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a + 0 > 0 && b + 0 > 0) printf "%.2fx", a / b; else print "-"}'; }
echo
printf '%-10s %8s %8s %10s %7s %10s %7s %9s  %s\n' "run" "wall s" "trials s" "trials/h" "vs R=1" "trials/h" "vs R=1" \
    "best-val" "trials"
printf '%-10s %8s %8s %10s %7s %10s %7s %9s\n' "" "" "" "(wall)" "" "(trials)" "" ""
for row in "${rows[@]}"; do
    case $row in
    *"|"*)
        IFS='|' read -r label secs tph tsecs ttph acc counts <<<"$row"
        if [ -z "$base" ]; then base=$tph tbase=$ttph; fi
        printf '%-10s %8s %8s %10s %7s %10s %7s %9s  %s\n' "$label" "$secs" "$tsecs" "$tph" "$(ratio "$tph" "$base")" \
            "$ttph" "$(ratio "$ttph" "$tbase")" "$acc" "$counts"
        ;;
    *) echo "$row" ;;
    esac
done
