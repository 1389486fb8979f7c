"""Read a results file with h5py while hpsweep writes it (SWMR): open once with swmr=True, then
refresh and read /trials and /curves `reads` times, 0.2 s apart. Row counts never shrink,
statuses are valid, and the file grows while it is watched (unless the sweep ended first).
usage: live_h5py.py FILE [READS]"""
import sys
import time

import h5py

path = sys.argv[1]
reads = int(sys.argv[2]) if len(sys.argv) > 2 else 5
f = h5py.File(path, "r", libver="latest", swmr=True)
counts, errors = [], []
for i in range(reads):
    for name in ("trials", "curves"):
        f[name].refresh()
    trials, curves = f["trials"][:], f["curves"][:]
    counts.append((len(trials), len(curves), int(sum(int(s) >= 2 for s in trials["status"]))))
    if any(int(s) < 0 or int(s) > 5 for s in trials["status"]):
        errors.append(f"read {i}: invalid status")
    time.sleep(0.2)
for a, b in zip(counts, counts[1:]):
    if b[0] < a[0] or b[1] < a[1]:
        errors.append(f"rows shrank: {a} -> {b}")
print("live_h5py: (trials, curve rows, finished) per read:", counts)
if counts[-1][1] == counts[0][1] and counts[-1][2] < counts[-1][0]:
    errors.append("the file did not grow while the sweep ran")
for e in errors:
    print("live_h5py:", e)
sys.exit(1 if errors else 0)
