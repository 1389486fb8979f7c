#!/usr/bin/env python3
"""A fake trainer for hpsweep's external-trainer protocol (docs/external.md): no dependencies, about
0.05 s per epoch. Its validation accuracy is a smooth function of the learning rate and weight decay
(best near lr 1e-2, weight_decay 1e-4), approached over the epochs, with a little seeded noise; a
learning rate above 1 diverges (NaN losses). It saves a JSON checkpoint after every epoch and
continues from it, keeps its best snapshot, and in mode test evaluates that snapshot.

    hpsweep: command: [python3, examples/external/toy_trainer.py, --lr, "{lr}", --weight-decay, "{weight_decay}"]
    by hand: python3 toy_trainer.py --lr 0.01 --epochs 5      (lines go to stderr)
"""
import argparse
import json
import math
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hpsweep_report as hr  # noqa: E402


def score(lr, wd):
    """In (0, 1]: 1 at lr 1e-2, weight_decay 1e-4; falls off over decades of either."""
    a = (math.log10(lr) + 2.0) / 0.8
    b = (math.log10(max(wd, 1e-12)) + 4.0) / 1.5
    return math.exp(-a * a) * math.exp(-0.5 * b * b)


def epoch_metrics(lr, wd, seed, epoch):
    rng = random.Random(seed * 1000003 + epoch)  # the same numbers however the run is interrupted
    if lr > 1.0:
        return dict(train_loss=float("nan"), train_acc=0.1, val_loss=float("nan"), val_acc=0.1)
    s = score(lr, wd)
    progress = 1.0 - math.exp(-epoch / 3.0)
    val_acc = min(1.0, max(0.0, 0.1 + 0.85 * s * progress + rng.gauss(0, 0.005)))
    train_acc = min(1.0, val_acc + 0.02 * progress)
    val_loss = -math.log(max(val_acc, 1e-6)) + 0.05
    train_loss = -math.log(max(train_acc, 1e-6)) + 0.03
    return dict(train_loss=train_loss, train_acc=train_acc, val_loss=val_loss, val_acc=val_acc, lr=lr)


def main():
    p = hr.params()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lr", type=float, default=p.get("lr", 0.01))
    ap.add_argument("--weight-decay", type=float, default=p.get("weight_decay", 1e-4))
    ap.add_argument("--epochs", type=int, default=hr.epochs(10))
    ap.add_argument("--seconds", type=float, default=0.05, help="sleep per epoch")
    a = ap.parse_args()
    seed = hr.seed()

    if hr.mode() == "test":
        with open(hr.snapshot_path()) as f:
            snap = json.load(f)
        # the "test split" scores a little under validation, deterministically
        hr.report_test(test_loss=snap["val_loss"] + 0.02, test_acc=max(0.0, snap["val_acc"] - 0.01))
        return 0

    # continue from the checkpoint if there is one
    state = {"epoch": 0, "best_val_acc": -1.0, "history": []}
    if hr.resume_epoch() > 0 and os.path.exists(hr.checkpoint_path()):
        with open(hr.checkpoint_path()) as f:
            state = json.load(f)
        hr.replay(state["history"])  # the checkpoint may be ahead of what hpsweep recorded
    for epoch in range(state["epoch"] + 1, a.epochs + 1):
        time.sleep(a.seconds)
        m = epoch_metrics(a.lr, a.weight_decay, seed, epoch)
        line = hr.report(epoch, **m)
        if m["val_acc"] > state["best_val_acc"]:
            state["best_val_acc"] = m["val_acc"]
            hr.save_json_atomic(hr.snapshot_path(), {"epoch": epoch, "val_acc": m["val_acc"],
                                                     "val_loss": m["val_loss"], "lr": a.lr})
        state["epoch"] = epoch
        state["history"].append(line)
        hr.save_json_atomic(hr.checkpoint_path(), state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
