#!/usr/bin/env bash
# Check that bench/search_efficiency.py's parsing works: its self-test (the parsers on fixed
# text), then one --quick run (seed 1, 8 trials per search, about 2 minutes on 2 cores) whose
# table must hold the 4 methods, each with median, min and max in (0, 1), and whose CSV must
# hold one row per method. Not part of the CTest suite (too slow); run it by hand:
#   bench/check_search_efficiency.sh [HPSWEEP]      (default: the script's own search)
# Exit 0 when every check passes, 1 with the failed check named otherwise.
set -euo pipefail

case "${1:-}" in
  -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
script="$here/search_efficiency.py"
py=/usr/bin/python3
hpsweep_arg=()
if [ $# -ge 1 ]; then hpsweep_arg=(--hpsweep "$1"); fi

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$py" "$script" --self-test || { echo "check_search_efficiency: FAILED: --self-test" >&2; exit 1; }

if ! "$py" "$script" --quick "${hpsweep_arg[@]}" --out "$out" --csv "$out/raw.csv" > "$out/log" 2>&1; then
  echo "check_search_efficiency: FAILED: the --quick run exited non-zero; its output:" >&2
  cat "$out/log" >&2
  exit 1
fi
cat "$out/log"

# The table: a header line starting 'method', then one line per method:
# LABEL... MEDIAN MIN MAX WALL_PER_SEARCH WALL_TOTAL (the label may hold spaces).
"$py" - "$out/log" "$out/raw.csv" <<'EOF'
import csv, sys
log, raw = sys.argv[1], sys.argv[2]
lines = open(log).read().splitlines()
try:
    start = next(i for i, l in enumerate(lines) if l.startswith("method"))
except StopIteration:
    sys.exit("check_search_efficiency: FAILED: no table header ('method ...') in the output")
want = ["random", "stages 6+2", "stages 4+2+2", "optuna tpe"]
found = {}
for l in lines[start + 1:]:
    if not l.strip():
        break
    f = l.split()
    label = " ".join(f[:-5])
    try:
        nums = [float(x) for x in f[-5:]]
    except ValueError:
        sys.exit(f"check_search_efficiency: FAILED: table line without 5 numbers: {l!r}")
    found[label] = nums
for w in want:
    hits = [k for k in found if k.startswith(w)]
    if len(hits) != 1:
        sys.exit(f"check_search_efficiency: FAILED: method '{w}' appears {len(hits)} times in the table {list(found)}")
    med, lo, hi, wall, total = found[hits[0]]
    if not all(0 < x < 1 for x in (med, lo, hi)):
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: accuracies {med}, {lo}, {hi} not all in (0, 1)")
    if not lo <= med <= hi:
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: median {med} outside [{lo}, {hi}]")
    if not wall > 0:
        sys.exit(f"check_search_efficiency: FAILED: {hits[0]}: wall time {wall} not > 0")
if len(found) != 4:
    sys.exit(f"check_search_efficiency: FAILED: {len(found)} table rows, expected 4: {list(found)}")
rows = list(csv.DictReader(open(raw)))
methods = sorted(r["method"] for r in rows)
if len(rows) != 4 or len(set(methods)) != 4:
    sys.exit(f"check_search_efficiency: FAILED: {raw}: expected one row per method, got {methods}")
for r in rows:
    if not 0 < float(r["best_val_acc"]) < 1:
        sys.exit(f"check_search_efficiency: FAILED: {raw}: best_val_acc {r['best_val_acc']} of {r['method']}")
print("check_search_efficiency: passed (4 methods in the table and the CSV, accuracies in (0, 1))")
EOF
