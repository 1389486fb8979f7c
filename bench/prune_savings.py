#!/usr/bin/python3
"""What pruning saves: one 32-trial coarse stage with and without the median rule.

For each seed (the spec's `seed:`), runs the same stage of N random trials x E epochs (the
quickstart's MLP 784-256-10, SGD momentum 0.9, batch 128, lr in [1e-5, 1] and weight decay in
[1e-6, 1e-1] log-uniform, a 10000-example training subset, 5000 validation examples, device
cpu) twice: without pruning, and with `prune: {rule: median, after: 1, min_trials: 3}` (or the
rule --prune gives). The two
runs draw the same trials (pruning does not change sampling), so each seed is a paired
comparison. Prints, per seed and as medians: the best validation accuracy of the stage, the
epochs trained (of N x E planned) and the share saved. Nothing is asserted: a benchmark.

Usage: /usr/bin/python3 bench/prune_savings.py [--hpsweep PATH] [--seeds 1,2,3,4,5]
       [--trials 32] [--epochs 4] [--out DIR] [--prune "rule: median, after: 1, min_trials: 3"]
"""
import argparse
import os
import statistics
import subprocess
import sys

import h5py

SPEC = """name: prune{tag}
seed: {seed}
device: cpu
data: {{train_subset: 10000, val_size: 5000}}
model:
  layers:
    - {{type: dense, units: 256}}
    - {{type: relu}}
    - {{type: dense, units: 10}}
optimizer: {{type: sgd, momentum: 0.9}}
train: {{batch_size: 128, epochs: {epochs}}}
search:
  params:
    lr: {{low: 1.0e-5, high: 1.0}}
    weight_decay: {{low: 1.0e-6, high: 1.0e-1}}
  stages:
    - {{method: random, trials: {trials}, epochs: {epochs}{prune}}}
"""


def run(args, seed, pruned):
    tag = f"-s{seed}-{'p' if pruned else 'n'}"
    prune = f", prune: {{{args.prune}}}" if pruned else ""
    spec = os.path.join(args.out, f"prune{tag}.yaml")
    h5 = os.path.join(args.out, f"prune{tag}.h5")
    with open(spec, "w") as f:
        f.write(SPEC.format(tag=tag, seed=seed, epochs=args.epochs, trials=args.trials, prune=prune))
    r = subprocess.run([args.hpsweep, "run", spec, "-o", h5, "--force", "--quiet"], capture_output=True, text=True)
    if r.returncode not in (0, 1):  # 1: no finished trial to test (never here in practice)
        sys.exit(f"prune_savings: hpsweep run {spec} exited {r.returncode}: {r.stderr.strip()}")
    t = h5py.File(h5, "r")["trials"][:]
    best = max(float(x["best_val_acc"]) for x in t if x["status"] in (2, 5) and x["best_val_acc"] == x["best_val_acc"])
    ran = int(sum(int(x["epochs_done"]) for x in t))
    npruned = int(sum(1 for x in t if x["status"] == 5))
    return best, ran, npruned


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hpsweep", default="build/orchestrator/hpsweep")
    ap.add_argument("--seeds", default="1,2,3,4,5")
    ap.add_argument("--trials", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--out", default="bench-out/prune")
    ap.add_argument("--prune", default="rule: median, after: 1, min_trials: 3",
                    help="the stage's prune: mapping, without braces (default: rule: median, after: 1, min_trials: 3)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    planned = args.trials * args.epochs
    rows = []
    print(f"prune: {{{args.prune}}}")
    print(f"{'seed':>4}  {'best (no pruning)':>17}  {'best (pruned)':>13}  {'epochs trained':>14}  {'pruned':>6}  saved")
    for seed in [int(s) for s in args.seeds.split(",")]:
        b0, e0, _ = run(args, seed, False)
        b1, e1, n1 = run(args, seed, True)
        rows.append((b0, b1, e1))
        print(f"{seed:>4}  {b0:>17.4f}  {b1:>13.4f}  {e1:>6} of {e0:<6}  {n1:>6}  {100 * (1 - e1 / e0):.0f}%")
        sys.stdout.flush()
    m0, m1 = statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows)
    me = statistics.median(r[2] for r in rows)
    print(f"median best val acc: {m0:.4f} without pruning, {m1:.4f} with; median epochs trained {me:g} of "
          f"{planned} ({100 * (1 - me / planned):.0f}% saved)")


if __name__ == "__main__":
    main()
