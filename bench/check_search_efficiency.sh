#!/usr/bin/env bash
# Check that bench/search_efficiency.py works: its self-test (the parsers, the pruned plan and
# the specs on fixed text), then one --quick run per case (--case 2 and --case 4: seed 1, a
# budget of 8 epochs per search, about 1.5 minutes each on 2 cores) whose table must hold the 5
# methods, each with median, min and max in (0, 1) and epochs trained > 0, and whose CSV must
# hold one row per method. Not part of the CTest suite (too slow); run it by hand:
#   bench/check_search_efficiency.sh [HPSWEEP]      (default: the script's own search)
# Exit 0 when every check passes, 1 with the failed check named otherwise.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
script="$here/search_efficiency.py"
py=/usr/bin/python3
hpsweep_arg=()
if [ $# -ge 1 ]; then hpsweep_arg=(--hpsweep "$1"); fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$py" "$script" --self-test || { echo "check_search_efficiency: FAILED: --self-test" >&2; exit 1; }

for case in 2 4; do
if ! "$py" "$script" --quick --case "$case" "${hpsweep_arg[@]}" --out "$out/$case" --csv "$out/raw$case.csv" > "$out/log$case" 2>&1; then
  echo "check_search_efficiency: FAILED: the --quick --case $case run exited non-zero; its output:" >&2
  cat "$out/log$case" >&2
  exit 1
fi
cat "$out/log$case"

# The table: a header line starting 'method', then one line per method:
# LABEL... MEDIAN MIN MAX EPOCHS WALL_PER_SEARCH WALL_TOTAL (the label may hold spaces).
"$py" - "$out/log$case" "$out/raw$case.csv" "$case" <<'EOF'
import csv, sys
log, raw, case = sys.argv[1], sys.argv[2], sys.argv[3]
lines = open(log).read().splitlines()
try:
    start = next(i for i, l in enumerate(lines) if l.startswith("method"))
except StopIteration:
    sys.exit("check_search_efficiency: FAILED: no table header ('method ...') in the output")
want = ["random", "stages 6+2", "stages 4+2+2", "prune 2+1", "optuna tpe"]
found = {}
for l in lines[start + 1:]:
    if not l.strip():
        break
    f = l.split()
    label = " ".join(f[:-6])
    try:
        nums = [float(x) for x in f[-6:]]
    except ValueError:
        sys.exit(f"check_search_efficiency: FAILED: table line without 6 numbers: {l!r}")
    found[label] = nums
for w in want:
    hits = [k for k in found if k.startswith(w)]
    if len(hits) != 1:
        sys.exit(f"check_search_efficiency: FAILED: method '{w}' appears {len(hits)} times in the table {list(found)}")
    med, lo, hi, epochs, wall, total = found[hits[0]]
    if not all(0 < x < 1 for x in (med, lo, hi)):
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: accuracies {med}, {lo}, {hi} not all in (0, 1)")
    if not lo <= med <= hi:
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: median {med} outside [{lo}, {hi}]")
    if not epochs > 0:
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: epochs trained {epochs} not > 0")
    if not wall > 0:
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: wall time {wall} not > 0")
if len(found) != 5:
    sys.exit(f"check_search_efficiency: FAILED: {len(found)} table rows, expected 5: {list(found)}")
rows = list(csv.DictReader(open(raw)))
methods = sorted(r["method"] for r in rows)
if len(rows) != 5 or len(set(methods)) != 5 or any(r["case"] != case for r in rows):
    sys.exit(f"check_search_efficiency: FAILED: {raw}: expected one row per method of case {case}, got {methods}")
for r in rows:
    if not 0 < float(r["best_val_acc"]) < 1:
        sys.exit(f"check_search_efficiency: FAILED: {raw}: best_val_acc {r['best_val_acc']} of {r['method']}")
print(f"check_search_efficiency: case {case} passed (5 methods in the table and the CSV, accuracies in (0, 1))")
EOF
done
