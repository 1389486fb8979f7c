#!/usr/bin/python3
"""check_show_json.py FILE - `hpsweep show --json` output of the sample parses and says the
right things (tests/results/sample.c: trial 4 is best, 0.86; its test accuracy 0.8525)."""
import json
import math
import sys

with open(sys.argv[1]) as fh:
    d = json.load(fh)  # raises on anything that is not one JSON value

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAILED: {what}")


check(isinstance(d, dict), "top level is an object")
for key in ["file", "name", "format_version", "hpsweep_version", "created_utc", "seed",
            "spec_sha256", "stages", "counts", "top", "final", "warnings", "elapsed"]:
    check(key in d, f"key {key}")
check(d.get("name") == "results-test", f"name {d.get('name')}")
check(d.get("seed") == 7 and d.get("format_version") == 3, "seed 7, format 3")
check(d.get("counts") == {"pending": 0, "running": 0, "done": 4, "diverged": 1, "failed": 1,
                          "pruned": 1, "total": 7}, f"counts {d.get('counts')}")
stages = d.get("stages", [])
check(len(stages) == 2 and stages[1]["method"] == "grid" and
      stages[1]["wd_derivation"] == "widened_high" and stages[1]["lr_high"] == 0.1,
      f"stages {stages}")
top = d.get("top", [])
check([t["trial"] for t in top] == [4, 5, 0, 3], f"top order {[t['trial'] for t in top]}")
check(top and top[0]["best_val_acc"] == 0.86 and top[0]["best_epoch"] == 2, "best trial row")
# trial 4 ran on rank 1's GPU 0, trial 5 on rank 2's CPU
check([(t["gpu"], t["device"]) for t in top[:2]] == [(0, "NVIDIA H100 80GB HBM3"), (-1, "cpu")],
      f"devices {[(t.get('gpu'), t.get('device')) for t in top[:2]]}")
final = d.get("final", [])
check(len(final) == 1 and final[0]["trial"] == 4 and final[0]["test_acc"] == 0.8525,
      f"final {final}")
warnings = d.get("warnings", [])
check(len(warnings) == 3 and "high edge" in warnings[0], f"warnings {warnings}")
check(math.isclose(d["elapsed"]["trial_seconds"], 5.0), "trial seconds 5.0")
check(d["elapsed"]["wall_seconds"] is None or d["elapsed"]["wall_seconds"] >= 0, "wall seconds")

if failures:
    print(f"check_show_json: {len(failures)} failed")
    sys.exit(1)
print("check_show_json: all passed")
