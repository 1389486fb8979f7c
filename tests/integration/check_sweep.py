"""Check the contents of the tiny sweep's results file, as a user would read it with h5py and
pandas: every table present, statuses sensible, one curve row per trained epoch, snapshots
for finished trials, the final test evaluation of the best trial."""
import sys

import h5py
import numpy as np
import pandas as pd

path = sys.argv[1]
f = h5py.File(path, "r", libver="latest", swmr=True)
errors = []
def expect(cond, what):
    if not cond:
        errors.append(what)

expect(f.attrs["format"] in (b"hpsweep", "hpsweep"), "format attribute")
expect(int(f.attrs["format_version"]) == 3, "format_version")
trials = pd.DataFrame(f["trials"][:])
expect(len(trials) == 9, f"9 trials (5 random + 2x2 grid), got {len(trials)}")
status = trials["status"].map(lambda s: int(s))
# the status column is an HDF5 enum: 2 = done, 3 = diverged
expect(set(status) <= {2, 3}, f"statuses done/diverged only, got {set(status)}")
done = trials[status == 2]
expect((status == 3).any(), "lr up to 30 makes at least one trial diverge")
expect(len(done) >= 3, "at least 3 trials done")
expect((done["best_val_acc"] > 0.5).all(), "finished trials learn (val acc > 0.5)")
expect((trials["lr"] > 0).all() and (trials["weight_decay"] > 0).all(), "positive values")
# every trial ran somewhere: the CPU (gpu -1, "cpu") or a named GPU (its index, its name)
on_cpu = (trials["gpu"] == -1) & (trials["device"] == b"cpu")
on_gpu = (trials["gpu"] >= 0) & ~trials["device"].isin([b"", b"cpu"])
expect((on_cpu | on_gpu).all(), f"device recorded per trial: {list(zip(trials['gpu'], trials['device']))}")
curves = pd.DataFrame(f["curves"][:])
trained = curves[curves["val_acc"] > 0.5]
expect(len(trained) > 0 and ((trained["update_ratio"] > 1e-6) & (trained["update_ratio"] < 1)).all(),
       "update/weight ratios recorded per epoch, finite and plausible")
expect(np.isfinite(done["update_ratio"]).all(), "each finished trial records its last update ratio")
# the tiny MLP has 2 weight tensors: columns 00 and 01 hold their ratios, the rest NaN
expect(np.isfinite(trained["layer_update_ratio_00"]).all() and np.isfinite(trained["layer_update_ratio_01"]).all()
       and trained["layer_update_ratio_02"].isna().all(), "per-layer ratios: one column per weight tensor")
expect(len(curves) == int(trials["epochs_done"].sum()), "one curve row per trained epoch")
expect((done["snapshot_row"] >= 0).all(), "snapshots kept for finished trials")
state = f["snapshots/state"]
layout = f["model/layout"][:]
expect(state.shape[1] == int(layout["size"].sum()), "snapshot width = sum of layout sizes")
stages = f["stages"][:]
expect(len(stages) == 2, "two stages")
final = f["final"][:]
expect(len(final) == 2 and 0.5 < final["test_acc"][0] <= 1.0, "final test evaluation: the best, then the ensemble")
best = done.loc[done["best_val_acc"].idxmax()]
expect(int(final["trial"][0]) == int(best["id"]) and final["kind"][0] == b"best", "final evaluates the best trial")
# tiny.yaml's final: {ensemble: 3}: the 3 best snapshots' probabilities averaged (its numbers are
# checked against hand-computed values in test_ensemble; here: it is there and plausible).
if len(final) == 2:
    expect(final["kind"][1] == b"ensemble:3" and int(final["trial"][1]) == -1, "the ensemble row names its 3 members")
    expect(0.5 < final["test_acc"][1] <= 1.0 and 0 < final["test_loss"][1] < 5, "ensemble test accuracy and loss")
for e in errors:
    print("check_sweep:", e)
print(f"check_sweep: {len(errors)} problems in {path}")
sys.exit(1 if errors else 0)
