#!/usr/bin/python3
"""check_h5py.py FILE - the results file reads as a pandas DataFrame through h5py.

FILE is the sample that test_results writes (tests/results/sample.c): 7 trials in 2 stages,
12 curve rows, 4 snapshot rows of 20 floats, one /final row. Exit 77 (ctest: skipped) when
h5py or pandas is missing.
"""
import sys

try:
    import h5py
    import numpy as np
    import pandas as pd
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

TRIAL_COLUMNS = ["id", "stage", "status", "lr", "weight_decay", "seed", "epochs_planned",
                 "epochs_done", "best_val_acc", "best_val_loss", "best_epoch", "initial_loss",
                 "update_ratio", "seconds", "rank", "host", "gpu", "device", "snapshot_row",
                 "message", "parent"]
CURVE_COLUMNS = ["trial", "epoch", "lr", "train_loss", "train_acc", "val_loss", "val_acc",
                 "seconds", "update_ratio"] + ["layer_update_ratio_%02d" % k for k in range(16)]
STATUS = {"pending": 0, "running": 1, "done": 2, "diverged": 3, "failed": 4, "pruned": 5}

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print(f"FAILED: {what}")


path = sys.argv[1]
# The way docs/design.md says a reader follows a live sweep; works on a closed file too.
with h5py.File(path, "r", libver="latest", swmr=True) as f:
    check(f.attrs["format"] == b"hpsweep", f"format attribute {f.attrs['format']!r}")
    check(int(f.attrs["format_version"]) == 3, "format_version 3")
    check(int(f.attrs["seed"]) == 7, "seed 7")
    check(int(f.attrs["data_hash_train"]) == 0xFEDCBA9876543210, "data_hash_train as uint64")
    check(f.attrs["spec_yaml"].decode().startswith("# results test spec\n"), "spec_yaml text")

    trials = pd.DataFrame(f["trials"][:])
    check(list(trials.columns) == TRIAL_COLUMNS, f"trial columns {list(trials.columns)}")
    check(len(trials) == 7, f"{len(trials)} trial rows")
    check(list(trials["id"]) == list(range(7)), "trial ids 0..6")
    check(np.isclose(trials.loc[4, "best_val_acc"], 0.86), "trial 4 best_val_acc 0.86")
    check(trials.loc[4, "best_epoch"] == 2, "trial 4 best_epoch 2")
    check(np.isnan(trials.loc[2, "best_val_acc"]), "failed trial 2 has no score (NaN)")
    check(trials.loc[1, "message"].startswith(b"loss 4.1e+07"), "diverged message")
    check(trials.loc[0, "host"] == b"node-b", f"host {trials.loc[0, 'host']!r}")
    # rank 1 ran its trials on GPU 0, rank 2 on the CPU (gpu -1)
    check(list(trials["gpu"]) == [0, -1, 0, -1, 0, -1, 0], f"gpu {list(trials['gpu'])}")
    check(trials["gpu"].dtype == np.int32, f"gpu dtype {trials['gpu'].dtype}")
    check(list(trials["device"]) == [b"NVIDIA H100 80GB HBM3", b"cpu"] * 3 + [b"NVIDIA H100 80GB HBM3"],
          f"device {list(trials['device'])}")
    check(f["trials"].dtype["device"].itemsize == 64, "device is a 64-byte string")
    # status is an HDF5 enum: h5py knows its names
    mapping = h5py.check_enum_dtype(f["trials"].dtype["status"])
    check(mapping == STATUS, f"status enum {mapping}")
    names = {v: k for k, v in mapping.items()} if mapping else {}
    got = [names.get(int(s)) for s in trials["status"]]
    check(got == ["done", "diverged", "failed", "done", "done", "done", "pruned"],
          f"statuses {got}")

    curves = pd.DataFrame(f["curves"][:])
    check(list(curves.columns) == CURVE_COLUMNS, f"curve columns {list(curves.columns)}")
    check(len(curves) == 12, f"{len(curves)} curve rows")
    check(list(curves[curves.trial == 4].val_acc) == [0.83, 0.86, 0.85], "trial 4 curve")

    stages = pd.DataFrame(f["stages"][:])
    check(list(stages.method) == [b"random", b"grid"], "stage methods")
    check(list(stages.wd_derivation) == [b"initial", b"widened_high"], "wd derivations")

    layout = f["model/layout"][:]
    check([n.decode() for n in layout["name"]] ==
          ["dense0.weight", "dense0.bias", "bn0.running_mean"], "layout names")
    check(layout["shape"][0].tolist() == [4, 3, 0, 0], "layout shape [4, 3]")

    snap = f["snapshots/state"]
    check(snap.shape == (4, 20) and snap.dtype == np.float32, f"snapshots {snap.shape} {snap.dtype}")
    row = int(trials.loc[4, "snapshot_row"])
    check(np.allclose(snap[row], 4 + 0.001 * np.arange(20, dtype=np.float32) - 0.5),
          "trial 4 snapshot values")

    final = f["final"][:]
    check(len(final) == 1 and final["kind"][0] == b"best" and final["trial"][0] == 4 and
          final["test_acc"][0] == 0.8525, f"final {final}")

if failures:
    print(f"check_h5py: {len(failures)} failed")
    sys.exit(1)
print("check_h5py: all passed")
