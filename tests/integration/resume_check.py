"""Checks for the resume and kill tests (h5py, SWMR read: works on files whose writer was killed).

  resume_check.py finished FILE OUT.json
      Record the finished trials of FILE (every field but rank, host, gpu, device, seconds, snapshot_row), or
      an empty record when FILE does not exist yet (killed before it was created).
  resume_check.py check FILE REFERENCE [BEFORE.json]
      FILE equals REFERENCE (compare_runs.py: trials, sorted curves, stages, final), and every
      trial BEFORE.json lists as finished is still finished in FILE with the same values.
Exit status 0 when everything holds, 1 otherwise (the differences are printed)."""
import json
import math
import os
import sys

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_runs  # noqa: E402

SKIP = {"rank", "host", "gpu", "device", "seconds", "snapshot_row"}
FINISHED = {2, 3, 4, 5}  # done, diverged, failed, pruned


def plain(v):
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    v = v.item() if hasattr(v, "item") else v
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v


def finished_trials(path):
    if not os.path.exists(path):
        return {}
    with h5py.File(path, "r", libver="latest", swmr=True) as f:
        t = f["trials"][:]
    out = {}
    for row in t:
        if int(row["status"]) in FINISHED:
            out[str(int(row["id"]))] = {k: plain(row[k]) for k in t.dtype.names if k not in SKIP}
    return out


def main(argv):
    if len(argv) == 4 and argv[1] == "finished":
        with open(argv[3], "w") as f:
            json.dump(finished_trials(argv[2]), f)
        return 0
    if len(argv) in (4, 5) and argv[1] == "check":
        bad = compare_runs.main(argv[2], argv[3])
        if len(argv) == 5:
            with open(argv[4]) as f:
                before = json.load(f)
            after = finished_trials(argv[2])
            lost = [i for i, rec in before.items() if after.get(i) != rec]
            for i in lost:
                print(f"trial {i} was finished before the interruption but is now {after.get(i)}; was {before[i]}")
            print(f"{len(before)} trials finished before the interruption: {len(lost)} changed")
            bad = bad or bool(lost)
        return 1 if bad else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
