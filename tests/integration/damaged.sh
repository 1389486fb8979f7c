#!/usr/bin/env bash
# Integration: damaged results files end in bounded time. HDF5 retries a SWMR read
# whose metadata checksum fails, sleeping longer each time (15+ minutes by default); hpsweep
# allows the retries only while a live writer holds the file's lock. For a finished file and for
# one whose writer was killed: 20 copies each with 3 random bytes of the first 64 KiB changed,
# and the first 100 kB alone, must each make `show` and `resume` end within 10 s (a clear error,
# or the file read as far as it is sound), never a hang or a crash.
# usage: damaged.sh HPSWEEP TESTS_DIR
set -uo pipefail
bin=$1; tests=$2
. "$tests/integration/lib_resume.sh" # scratch folder with ./data, ok/fail/summary
setup_data 2000
limit=10

"$bin" run resume.yaml -o done.h5 --quiet > done.log 2>&1 || { echo "cannot make the sweep"; cat done.log; exit 1; }
( HPSWEEP_FAULT=checkpoint:6:kill "$bin" run resume.yaml -o killed.h5 --quiet ) > killed.log 2>&1
[ -s killed.h5 ] || { echo "cannot make the killed sweep"; cat killed.log; exit 1; }

# bounded NAME COMMAND...: the command ends within $limit s, neither killed by timeout nor by a signal.
bounded() {
  local name=$1 t0 rc secs
  shift
  t0=$(now)
  timeout -k 5 60 "$@" > out.log 2>&1; rc=$?
  secs=$(secs "$t0" "$(now)")
  if [ $rc -ge 124 ] || awk -v s="$secs" -v l="$limit" 'BEGIN { exit !(s > l) }'; then
    fail "$name: exit $rc after $secs s"; head -c 400 out.log; echo
    return
  fi
  hangs_ok=$((hangs_ok + 1))
  max=$(awk -v a="$max" -v b="$secs" 'BEGIN { print (b > a ? b : a) }')
}

for src in done killed; do
  $py - "$src.h5" <<'PY'
import random, sys
src = sys.argv[1]; data = open(src, "rb").read(); n = min(len(data), 65536)
rng = random.Random(20261204 + len(src))
for i in range(20):
    b = bytearray(data)
    for _ in range(3):
        b[rng.randrange(n)] = rng.randrange(256)
    open("%s.c%02d.h5" % (src[:-3], i), "wb").write(b)
open(src[:-3] + ".cut.h5", "wb").write(data[:100000])
PY
  hangs_ok=0 max=0 errors=0
  for f in "$src".c[0-9]*.h5 "$src".cut.h5; do
    cp "$f" r.h5
    bounded "$f: show" "$bin" show "$f"
    grep -qiE "checksum|truncated|cannot|damaged|not a|error|invalid" out.log && errors=$((errors + 1))
    bounded "$f: resume" "$bin" resume r.h5 --quiet
    rm -f r.h5 r.h5.creating.*
  done
  ok "$src: $hangs_ok show/resume runs on 21 damaged files ended within $limit s (longest $max s; $errors shows named the damage)"
done
# Hostile values in sound files: a /model/layout row whose offset + size wraps int64, and a
# checkpoint row whose 2 * model_floats wraps; each was accepted (show exited 0) before checked
# arithmetic (trainer/hp_checked.h).
cp done.h5 wrap_layout.h5
HPSWEEP_FAULT=checkpoint:6:term "$bin" run resume.yaml -o wrap_ckpt.h5 --quiet > stopped.log 2>&1 # closed, checkpoints kept
$py - <<'PY'
import h5py
with h5py.File("wrap_layout.h5", "r+") as f:
    t = f["model/layout"][:]
    t[0]["ndim"] = 1; t[0]["shape"][:] = 0; t[0]["shape"][0] = 10; t[0]["size"] = 10
    t[0]["offset"] = 2**63 - 5
    f["model/layout"][0] = t[0]
with h5py.File("wrap_ckpt.h5", "r+") as f:
    t = f["checkpoints/index"][:]
    i = [k for k in range(len(t)) if t[k]["trial"] >= 0][0]
    t[i]["model_floats"] = 2**62 + 1; t[i]["optim_floats"] = 0
    f["checkpoints/index"][i] = t[i]
PY
"$bin" show wrap_layout.h5 > wl.log 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "/model/layout row 0 .* is inconsistent" wl.log && ok "layout offset + size wrapping int64: refused (exit $rc)" \
  || { fail "layout wrap: exit $rc"; cat wl.log; }
"$bin" resume wrap_ckpt.h5 --quiet > wc.log 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "/checkpoints/index row .* is inconsistent" wc.log && ok "checkpoint 2 * model_floats wrapping int64: refused (exit $rc)" \
  || { fail "checkpoint wrap: exit $rc"; cat wc.log; }

"$bin" show done.cut.h5 > cut.log 2>&1; rc=$?
[ $rc -ne 0 ] && grep -q "cut short" cut.log && ok "a file cut to 100 kB: show says it was cut short (exit $rc)" \
  || { fail "cut file: exit $rc"; cat cut.log; }
summary damaged
