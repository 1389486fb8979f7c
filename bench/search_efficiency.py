#!/usr/bin/python3
"""Search efficiency at a fixed budget (issue 13, item 5, the two-parameter case).

Compares, at the same budget of trials (default 30, one epoch each, on a 10000-example training
subset and a 5000-example validation split of Fashion-MNIST; the quickstart's MLP 784-256-10,
SGD momentum 0.9, batch 128, device cpu), the best validation accuracy found by

  random      pure random search: one stage of 30 log-uniform trials over lr in [1e-5, 1] and
              weight decay in [1e-6, 1e-1]                        (hpsweep run, one process)
  stages 20+10, stages 10+10+10
              hpsweep's staging: a random stage over the same ranges, then random stages
              narrowed around the previous stage's top_k 3 (margin 0.25 decades, the defaults)
                                                                  (hpsweep run, one process)
  tpe         Optuna's TPESampler(seed=SEED) over the same ranges (log), each trial one
              `hpsweep train SPEC --lr X --wd Y --no-test` process (its start-up and data
              loading are in its wall time)

over the seeds 1..5 (the spec's `seed:`: the sweep seed, hence also the train/validation
split, which is the same for all four methods at a given seed). Prints one line per search,
then the table: method, median / min / max of the seeds' best validation accuracy, median wall
time per search and total wall time; writes every search's figures to a CSV.

Usage:
  /usr/bin/python3 bench/search_efficiency.py [--hpsweep PATH] [--seeds 1,2,3,4,5]
      [--trials 30] [--quick] [--out DIR] [--csv FILE] [--data DIR] [--methods LIST]
  /usr/bin/python3 bench/search_efficiency.py --self-test    (the output parsers only, no training)

--quick: seed 1 only, 8 trials (random 8, stages 6+2 and 4+2+2, TPE 8: all of them
Optuna's random start-up trials): a smoke run of about a
minute. Needs python3-optuna (scripts/setup.sh --bench). Nothing here asserts a figure: the
machine may be shared, so wall times are noisy; accuracies do not depend on the load.
"""

import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import time

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
LR_RANGE = (1.0e-5, 1.0)
WD_RANGE = (1.0e-6, 1.0e-1)

SPEC_TEMPLATE = """\
# Written by bench/search_efficiency.py ({label}, seed {seed}); not a sweep to keep.
name: search_efficiency
seed: {seed}
device: cpu
data:
  dir: {data}
  val_size: 5000
  train_subset: 10000
model:
  layers:
    - {{type: dense, units: 256}}
    - {{type: relu}}
    - {{type: dense, units: 10}}
optimizer:
  type: sgd
  momentum: 0.9
train:
  batch_size: 128
  epochs: 1
search:
  params:
    lr: {{low: {lr_lo!r}, high: {lr_hi!r}, scale: log}}
    weight_decay: {{low: {wd_lo!r}, high: {wd_hi!r}, scale: log}}
  stages:
{stages}"""


def fail(what):
    """Report what failed, and stop (exit 1)."""
    print(f"search_efficiency: {what}", file=sys.stderr)
    sys.exit(1)


def spec_text(label, seed, data, stage_trials):
    """The spec of one search: stage 0 random over the full ranges, later stages narrowed around
    the top 3 of the stage before (margin 0.25, the defaults, written out)."""
    lines = []
    for i, n in enumerate(stage_trials):
        if i == 0:
            lines.append(f"    - {{method: random, trials: {n}, epochs: 1}}")
        else:
            lines.append(f"    - {{method: random, trials: {n}, epochs: 1, top_k: 3, margin: 0.25}}")
    return SPEC_TEMPLATE.format(label=label, seed=seed, data=data, lr_lo=LR_RANGE[0], lr_hi=LR_RANGE[1],
                                wd_lo=WD_RANGE[0], wd_hi=WD_RANGE[1], stages="\n".join(lines) + "\n")


# `hpsweep train` prints, after its epoch lines, exactly one line
#   best: epoch 1, val acc 0.8212, val loss 0.4833; training took 1.7 s (5882 images/s)
# (orchestrator/cmd_train.c, report_best). We parse that line: the best-on-validation accuracy
# (4 decimals). A diverged trial prints instead "diverged: the training loss became ..." and
# exits 1.
BEST_RE = re.compile(r"^best: epoch (\d+), val acc ([0-9.]+), val loss ")
DIVERGED_RE = re.compile(r"^diverged: ")


def parse_train_output(text):
    """Returns ('done', accuracy) or ('diverged', None); raises ValueError if text has neither."""
    for line in text.splitlines():
        m = BEST_RE.match(line)
        if m:
            return "done", float(m.group(2))
    for line in text.splitlines():
        if DIVERGED_RE.match(line):
            return "diverged", None
    raise ValueError("no 'best: epoch N, val acc X' line and no 'diverged:' line")


def parse_show_json(text):
    """`hpsweep show FILE --json`: returns (best validation accuracy of the top trial, counts)."""
    doc = json.loads(text)
    top = doc.get("top") or []
    if not top:
        raise ValueError("no trial in 'top' (no trial finished?)")
    return float(top[0]["best_val_acc"]), doc["counts"]


def run_cmd(argv, timeout, what):
    """Run argv, return the CompletedProcess; a timeout or a missing program is a failure."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{what}: timed out after {timeout} s: {' '.join(argv)}")
    except OSError as e:
        fail(f"{what}: cannot run {argv[0]}: {e}")


def run_staged(hpsweep, label, stage_trials, seed, args):
    """One `hpsweep run` of the stages; returns (best val acc, wall seconds, counts)."""
    spec = os.path.join(args.out, f"{label.replace(' ', '_').replace('+', 'p')}_seed{seed}.yaml")
    h5 = spec[:-5] + ".h5"
    with open(spec, "w") as f:
        f.write(spec_text(label, seed, args.data, stage_trials))
    t0 = time.monotonic()
    p = run_cmd([hpsweep, "run", spec, "-o", h5, "--force", "--quiet"], args.timeout * sum(stage_trials),
                f"{label}, seed {seed}: hpsweep run")
    wall = time.monotonic() - t0
    if p.returncode != 0:
        fail(f"{label}, seed {seed}: 'hpsweep run {spec}' exited {p.returncode}:\n{p.stdout[-2000:]}")
    s = run_cmd([hpsweep, "show", h5, "--json", "--top", "1"], 60, f"{label}, seed {seed}: hpsweep show")
    if s.returncode != 0:
        fail(f"{label}, seed {seed}: 'hpsweep show {h5} --json' exited {s.returncode}:\n{s.stdout[-2000:]}")
    try:
        acc, counts = parse_show_json(s.stdout)
    except (ValueError, KeyError) as e:
        fail(f"{label}, seed {seed}: cannot read 'hpsweep show {h5} --json': {e}")
    return acc, wall, counts


def run_tpe(hpsweep, trials, seed, args):
    """Optuna TPE, each trial one `hpsweep train` process; returns (best val acc, wall, counts)."""
    try:
        import optuna
    except ImportError:
        fail("tpe: cannot import optuna: install python3-optuna (scripts/setup.sh --bench)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    spec = os.path.join(args.out, f"tpe_seed{seed}.yaml")
    with open(spec, "w") as f:
        f.write(spec_text("tpe", seed, args.data, [trials]))  # train ignores search:
    counts = {"done": 0, "diverged": 0}

    def objective(trial):
        lr = trial.suggest_float("lr", LR_RANGE[0], LR_RANGE[1], log=True)
        wd = trial.suggest_float("weight_decay", WD_RANGE[0], WD_RANGE[1], log=True)
        # No --seed: the spec's seed keeps the same train/validation split as the sweeps'.
        argv = [hpsweep, "train", spec, "--lr", repr(lr), "--wd", repr(wd), "--no-test", "--device", "cpu"]
        p = run_cmd(argv, args.timeout, f"tpe, seed {seed}, trial {trial.number}")
        try:
            status, acc = parse_train_output(p.stdout)
        except ValueError as e:
            fail(f"tpe, seed {seed}, trial {trial.number}: {' '.join(argv)} exited {p.returncode}: {e}:\n"
                 f"{p.stdout[-2000:]}")
        if status == "done" and p.returncode != 0:
            fail(f"tpe, seed {seed}, trial {trial.number}: exited {p.returncode} after its best line:\n"
                 f"{p.stdout[-2000:]}")
        counts[status] += 1
        # A diverged trial scores 0: TPE learns that the region is bad (hpsweep's narrowing
        # leaves diverged trials out, which for a best-of ranking is the same).
        return acc if status == "done" else 0.0

    t0 = time.monotonic()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    wall = time.monotonic() - t0
    return float(study.best_value), wall, counts


def find_hpsweep(given):
    if given:
        if not os.access(given, os.X_OK):
            fail(f"--hpsweep {given}: not an executable file")
        return given
    for c in ("build/release/orchestrator/hpsweep", "build/t/orchestrator/hpsweep", "build/orchestrator/hpsweep"):
        if os.access(c, os.X_OK):
            return c
    fail("no hpsweep binary found under build/release, build/t or build: build it, or pass --hpsweep PATH")


def self_test():
    """The parsers against fixed text; no training."""
    done = ("data: 10000 train, 5000 validation, 0 test examples of 1x28x28, 10 classes (1.49 s)\n"
            "epoch   1/1  lr 0.05  train loss 0.6791 acc 0.7593  val loss 0.6293 acc 0.7676  "
            "update/weight 1.1e-02  3.66 s\n"
            "best: epoch 1, val acc 0.7676, val loss 0.6293; training took 3.7 s (2734 images/s)\n")
    assert parse_train_output(done) == ("done", 0.7676), parse_train_output(done)
    div = ("model: 203530 parameters; initial loss 2.3629 (ln 10 = 2.3026)\n"
           "diverged: the training loss became non-finite or exceeded 4 x the initial loss; lower the learning rate\n")
    assert parse_train_output(div) == ("diverged", None)
    try:
        parse_train_output("train: error: something else\n")
        raise AssertionError("parse_train_output accepted text without a best or diverged line")
    except ValueError:
        pass
    js = '{"counts": {"done": 28, "diverged": 2}, "top": [{"rank": 1, "best_val_acc": 0.8212}]}'
    assert parse_show_json(js) == (0.8212, {"done": 28, "diverged": 2})
    print("search_efficiency: self-test passed (train's best/diverged lines, show --json)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring (head bench/search_efficiency.py) and bench/README.md.")
    ap.add_argument("--hpsweep", help="the hpsweep binary (default: build/release, build/t or build's)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated sweep seeds (default 1,2,3,4,5)")
    ap.add_argument("--trials", type=int, default=30, help="budget per search (default 30; staged: 2/3+1/3 and thirds)")
    ap.add_argument("--quick", action="store_true", help="smoke run: seed 1, 8 trials")
    ap.add_argument("--methods", default="random,stages2,stages3,tpe",
                    help="subset of random,stages2,stages3,tpe (default all)")
    ap.add_argument("--data", default=DEFAULT_DATA, help=f"Fashion-MNIST directory (default {DEFAULT_DATA})")
    ap.add_argument("--out", default="bench-out/search_efficiency", help="folder for specs and results files")
    ap.add_argument("--csv", help="raw figures (default OUT/search_efficiency.csv)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds allowed per trial (default 120)")
    ap.add_argument("--self-test", action="store_true", help="test the output parsers only, then exit")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if args.quick:
        args.seeds, args.trials = "1", 8
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s]
    except ValueError:
        fail(f"--seeds {args.seeds}: expected comma-separated integers")
    if args.trials < 3:
        fail(f"--trials {args.trials}: at least 3 (the three-stage split)")
    hpsweep = find_hpsweep(args.hpsweep)
    if not os.path.isdir(args.data):
        fail(f"--data {args.data}: no such folder (install dataset-fashion-mnist: scripts/setup.sh)")
    os.makedirs(args.out, exist_ok=True)
    csv_path = args.csv or os.path.join(args.out, "search_efficiency.csv")

    n = args.trials
    two = [n - n // 3, n // 3]                       # 30: 20 + 10
    three = [n - 2 * (n // 3), n // 3, n // 3]       # 30: 10 + 10 + 10
    methods = {
        "random": (f"random {n}", lambda s: run_staged(hpsweep, f"random {n}", [n], s, args)),
        "stages2": ("stages " + "+".join(map(str, two)),
                    lambda s: run_staged(hpsweep, "stages " + "+".join(map(str, two)), two, s, args)),
        "stages3": ("stages " + "+".join(map(str, three)),
                    lambda s: run_staged(hpsweep, "stages " + "+".join(map(str, three)), three, s, args)),
        "tpe": (f"optuna tpe {n}", lambda s: run_tpe(hpsweep, n, s, args)),
    }
    chosen = [m for m in args.methods.split(",") if m]
    for m in chosen:
        if m not in methods:
            fail(f"--methods: unknown '{m}' (valid: {', '.join(methods)})")

    print(f"search_efficiency: {hpsweep}, seeds {seeds}, {n} trials of 1 epoch per search, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    t_all = time.monotonic()
    for seed in seeds:
        for m in chosen:
            label, fn = methods[m]
            acc, wall, counts = fn(seed)
            rows.append({"method": label, "seed": seed, "trials": n, "best_val_acc": acc, "wall_s": round(wall, 2),
                         "done": counts.get("done", 0), "diverged": counts.get("diverged", 0)})
            print(f"  {label:<16} seed {seed}: best val acc {acc:.4f}  wall {wall:6.1f} s  "
                  f"(done {counts.get('done', 0)}, diverged {counts.get('diverged', 0)})", flush=True)
    total = time.monotonic() - t_all

    try:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=["method", "seed", "trials", "best_val_acc", "wall_s", "done", "diverged"])
            w.writeheader()
            w.writerows(rows)
    except OSError as e:
        fail(f"cannot write {csv_path}: {e}")

    print()
    print(f"{'method':<18} {'median':>7} {'min':>7} {'max':>7} {'wall/search s':>14} {'wall total s':>13}")
    for m in chosen:
        label = methods[m][0]
        r = [x for x in rows if x["method"] == label]
        accs = [x["best_val_acc"] for x in r]
        walls = [x["wall_s"] for x in r]
        print(f"{label:<18} {statistics.median(accs):7.4f} {min(accs):7.4f} {max(accs):7.4f} "
              f"{statistics.median(walls):14.1f} {sum(walls):13.1f}")
    print(f"\nseeds {seeds}; all searches: {total:.0f} s; raw figures: {csv_path}")


if __name__ == "__main__":
    main()
