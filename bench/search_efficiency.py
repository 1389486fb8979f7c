#!/usr/bin/python3
"""Search efficiency at a fixed budget (issue 13, item 5): two and four parameters.

Compares, at the same budget (default 30 epochs: 30 one-epoch trials, on a 10000-example
training subset and a 5000-example validation split of Fashion-MNIST, SGD, batch 128, device
cpu), the best validation accuracy found, over the seeds 1..5, in two cases:

  --case 2   lr in [1e-5, 1] and weight decay in [1e-6, 1e-1], both log; the quickstart's MLP
             784-256-10, momentum 0.9 (the model and ranges of the first measurement, so its
             figures stay comparable)
  --case 4   the same lr and weight decay, plus momentum (optimizer.momentum, linear [0.5, 0.99])
             and a dropout rate (model.layers.2.p, linear [0, 0.5]) of a dropout layer after the
             ReLU: MLP 784-256-relu-dropout-10

by these methods (--methods picks a subset; N is --trials, the budget in epochs):

  random      pure random search: one stage of N one-epoch trials, uniform in search space
              (log-uniform on a log scale)                        (hpsweep run, one process)
  stages3, stages2
              hpsweep's staging, one-epoch trials: a random stage over the full ranges, then
              random stages narrowed around the previous stage's top_k 3 (margin 0.25, the
              defaults). stages3 is thirds (10+10+10), the recommended staging since
              2026-12-05; stages2 is N - N//3 + N//3 (20+10), the recommendation before. Thirds
              were chosen on seeds 1..10 of both cases (the higher median in both over the 10
              seeds) and then judged on seeds 11..15, which no choice had seen
                                                                  (hpsweep run, one process)
  pruned      staging with pruning, at the same budget in epochs: two thirds of the trials
              coarse, one third narrowed around the top 3 (the shape measured first), but each trial
              planned for 3 epochs and stopped by successive halving,
              `prune: {rule: halving, after: 1, eta: 3, min_trials: 1}`: after its first epoch a
              trial goes on to epoch 3 only if it is among the best ceil((n+1)/3) of itself and
              the stage's n lower-id trials that reported epoch 1 (the first trial of a stage
              always goes on). The stage sizes are the largest 2:1 split whose expected epochs,
              sum over trials of 1 + 2 P(goes on) with P = ceil((n+1)/3)/(n+1) (exchangeable
              accuracies, no divergence), stay within N: 10+5 trials (29.7 expected epochs) for
              N = 30. The epochs it actually trains are counted from /curves and reported:
              they vary by seed (27 to 41 for N = 30 on 2026-12-04, median 31 and 33), above
              the expectation when early trials go on or a trial diverges in its first epoch
              (it records that epoch, a rival any trial beats).      (hpsweep run, one process)
  tpe         Optuna's TPESampler(seed=SEED) over the same ranges and scales, N trials; each
              trial writes a spec with its values set (optimizer.lr, optimizer.weight_decay, and
              in case 4 optimizer.momentum and the dropout layer's p) and runs
              `hpsweep train TRIAL_SPEC --no-test` (its start-up and data loading are in its
              wall time). A diverged trial scores 0 for TPE.

The spec's `seed:` is the sweep seed, hence also the train/validation split, which is the same
for all methods at a given seed (a TPE trial's spec keeps it). Epochs trained: rows of /curves for
the hpsweep methods, train's epoch lines for TPE. Prints one line per search, then the table:
method, median / min / max of the seeds' best validation accuracy, median epochs trained, median
wall time per search and total wall time; writes every search's figures to a CSV as it goes.

Usage:
  /usr/bin/python3 bench/search_efficiency.py [--case 2|4] [--hpsweep PATH] [--seeds 1,2,3,4,5]
      [--trials 30] [--quick] [--out DIR] [--csv FILE] [--data DIR] [--methods LIST]
  /usr/bin/python3 bench/search_efficiency.py --self-test    (parsers and plans only, no training)

--quick: seed 1 only, a budget of 8 (random 8, stages 6+2 and 4+2+2, pruned 2+1 trials of 3
epochs, TPE 8: all of them Optuna's random start-up trials): a smoke run of about a minute. Needs
python3-optuna and python3-h5py (scripts/setup.sh --bench). Nothing here asserts a figure: the
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

# (name in search.params, low, high, scale, Optuna log?) per case. Draw p of a trial belongs to
# parameter p, so case 4's lr and weight decay draws are case 2's.
PARAMS = {
    2: [("lr", 1.0e-5, 1.0, "log"), ("weight_decay", 1.0e-6, 1.0e-1, "log")],
    4: [("lr", 1.0e-5, 1.0, "log"), ("weight_decay", 1.0e-6, 1.0e-1, "log"),
        ("optimizer.momentum", 0.5, 0.99, "linear"), ("model.layers.2.p", 0.0, 0.5, "linear")],
}
LAYERS = {
    2: ["{type: dense, units: 256}", "{type: relu}", "{type: dense, units: 10}"],
    4: ["{type: dense, units: 256}", "{type: relu}", "{type: dropout, p: {p}}", "{type: dense, units: 10}"],
}
PRUNE_HORIZON = 3   # epochs a pruned-method trial is planned for
PRUNE_ETA = 3
PRUNE = f"{{rule: halving, after: 1, eta: {PRUNE_ETA}, min_trials: 1}}"

SPEC_TEMPLATE = """\
# Written by bench/search_efficiency.py ({label}, case {case}, seed {seed}); not a sweep to keep.
name: search_efficiency
seed: {seed}
device: cpu
data:
  dir: {data}
  val_size: 5000
  train_subset: 10000
model:
  layers:
{layers}
optimizer:
  type: sgd
{optimizer}
train:
  batch_size: 128
  epochs: 1
{search}"""


def fail(what):
    """Report what failed, and stop (exit 1)."""
    print(f"search_efficiency: {what}", file=sys.stderr)
    sys.exit(1)


def base_spec(label, case, seed, data, values=None, search=""):
    """A spec of the case; values (name -> value) set lr, weight decay, momentum and dropout p
    (a TPE trial's spec); without them the spec's own momentum 0.9 and dropout 0.25 stand (the
    searches set them per trial)."""
    v = values or {}
    layers = "\n".join("    - " + l.replace("{p}", repr(v.get("model.layers.2.p", 0.25))) for l in LAYERS[case])
    opt = [f"  momentum: {v.get('optimizer.momentum', 0.9)!r}"]
    if "lr" in v:
        opt.append(f"  lr: {v['lr']!r}")
    if "weight_decay" in v:
        opt.append(f"  weight_decay: {v['weight_decay']!r}")
    return SPEC_TEMPLATE.format(label=label, case=case, seed=seed, data=data, layers=layers,
                                optimizer="\n".join(opt), search=search)


def spec_text(label, case, seed, data, stage_trials, epochs=1, prune=None):
    """The spec of one search: stage 0 random over the full ranges, later stages narrowed around
    the top 3 of the stage before (margin 0.25, the defaults, written out); epochs per trial and
    a prune rule for every stage if given."""
    lines = ["search:", "  params:"]
    for name, lo, hi, scale in PARAMS[case]:
        lines.append(f"    {name}: {{low: {lo!r}, high: {hi!r}, scale: {scale}}}")
    lines.append("  stages:")
    extra = f", prune: {prune}" if prune else ""
    for i, n in enumerate(stage_trials):
        narrow = ", top_k: 3, margin: 0.25" if i > 0 else ""
        lines.append(f"    - {{method: random, trials: {n}, epochs: {epochs}{narrow}{extra}}}")
    return base_spec(label, case, seed, data, search="\n".join(lines) + "\n")


def expected_halving_epochs(n, horizon=PRUNE_HORIZON, eta=PRUNE_ETA):
    """Expected epochs of a stage of n trials planned for `horizon` epochs under halving after 1
    (one rung before the end, min_trials 1), when the trials' first-epoch accuracies are
    exchangeable and none diverges: trial j goes on with probability ceil((j+1)/eta)/(j+1)."""
    return sum(1 + (horizon - 1) * (-(-(j + 1) // eta)) / (j + 1) for j in range(n))


def pruned_plan(budget):
    """The largest 2:1 split [n - n//3, n//3] (a single stage below 3 trials) whose expected
    epochs stay within budget: 30 -> [10, 5]."""
    best = [1]
    for n in range(1, budget + 1):
        plan = [n - n // 3, n // 3] if n >= 3 else [n]
        if sum(expected_halving_epochs(k) for k in plan) <= budget + 1e-9:
            best = plan
    return best


# `hpsweep train` prints one line per epoch ("epoch   1/1  lr ...") and, after them, exactly
# one line
#   best: epoch 1, val acc 0.8212, val loss 0.4833; training took 1.7 s (5882 images/s)
# (orchestrator/cmd_train.c, report_best). We parse that line: the best-on-validation accuracy
# (4 decimals). A diverged trial prints instead "diverged: the training loss became ..." and
# exits 1.
BEST_RE = re.compile(r"^best: epoch (\d+), val acc ([0-9.]+), val loss ")
DIVERGED_RE = re.compile(r"^diverged: ")
EPOCH_RE = re.compile(r"^epoch +\d+/\d+ ")


def parse_train_output(text):
    """Returns ('done', accuracy, epochs) or ('diverged', None, epochs), epochs the count of epoch
    lines; raises ValueError if text has neither a best nor a diverged line."""
    lines = text.splitlines()
    epochs = sum(1 for line in lines if EPOCH_RE.match(line))
    for line in lines:
        m = BEST_RE.match(line)
        if m:
            return "done", float(m.group(2)), epochs
    for line in lines:
        if DIVERGED_RE.match(line):
            return "diverged", None, epochs
    raise ValueError("no 'best: epoch N, val acc X' line and no 'diverged:' line")


def parse_show_json(text):
    """`hpsweep show FILE --json`: returns (best validation accuracy of the top trial, counts)."""
    doc = json.loads(text)
    top = doc.get("top") or []
    if not top:
        raise ValueError("no trial in 'top' (no trial finished?)")
    return float(top[0]["best_val_acc"]), doc["counts"]


def curves_epochs(h5):
    """Epochs trained in a results file: its rows of /curves (one per trial and epoch), and the
    epochs of the trial with the best validation accuracy (its rows)."""
    try:
        import h5py
    except ImportError:
        fail("cannot import h5py: install python3-h5py (scripts/setup.sh --bench)")
    with h5py.File(h5, "r") as f:
        curves = f["curves"][:]
        trials = f["trials"][:]
    ok = [t for t in trials if t["best_val_acc"] == t["best_val_acc"]]  # not NaN
    best_rows = 0
    if ok:
        best = max(ok, key=lambda t: (float(t["best_val_acc"]), -int(t["id"])))
        best_rows = int(sum(1 for c in curves if int(c["trial"]) == int(best["id"])))
    return int(len(curves)), best_rows


def run_cmd(argv, timeout, what):
    """Run argv, return the CompletedProcess; a timeout or a missing program is a failure."""
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{what}: timed out after {timeout} s: {' '.join(argv)}")
    except OSError as e:
        fail(f"{what}: cannot run {argv[0]}: {e}")


def file_label(label):
    return label.replace(' ', '_').replace('+', 'p').replace('/', '_')


def run_staged(hpsweep, label, stage_trials, seed, args, epochs=1, prune=None):
    """One `hpsweep run` of the stages; returns (best val acc, wall seconds, counts, epochs
    trained, epochs of the best trial)."""
    spec = os.path.join(args.out, f"case{args.case}_{file_label(label)}_seed{seed}.yaml")
    h5 = spec[:-5] + ".h5"
    with open(spec, "w") as f:
        f.write(spec_text(label, args.case, seed, args.data, stage_trials, epochs, prune))
    t0 = time.monotonic()
    p = run_cmd([hpsweep, "run", spec, "-o", h5, "--force", "--quiet"], args.timeout * epochs * sum(stage_trials),
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
    ep, best_ep = curves_epochs(h5)
    return acc, wall, counts, ep, best_ep


def run_tpe(hpsweep, trials, seed, args):
    """Optuna TPE, each trial one `hpsweep train` process on a spec with the trial's values;
    returns (best val acc, wall, counts, epochs trained, epochs of the best trial)."""
    try:
        import optuna
    except ImportError:
        fail("tpe: cannot import optuna: install python3-optuna (scripts/setup.sh --bench)")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    counts = {"done": 0, "diverged": 0}
    epochs = [0]

    def objective(trial):
        values = {name: trial.suggest_float(name, lo, hi, log=(scale == "log"))
                  for name, lo, hi, scale in PARAMS[args.case]}
        # The spec's seed keeps the same train/validation split as the sweeps'.
        spec = os.path.join(args.out, f"case{args.case}_tpe_seed{seed}_trial{trial.number}.yaml")
        with open(spec, "w") as f:
            f.write(base_spec(f"tpe trial {trial.number}", args.case, seed, args.data, values))
        argv = [hpsweep, "train", spec, "--no-test", "--device", "cpu"]
        p = run_cmd(argv, args.timeout, f"tpe, seed {seed}, trial {trial.number}")
        try:
            status, acc, ep = parse_train_output(p.stdout)
        except ValueError as e:
            fail(f"tpe, seed {seed}, trial {trial.number}: {' '.join(argv)} exited {p.returncode}: {e}:\n"
                 f"{p.stdout[-2000:]}")
        if status == "done" and p.returncode != 0:
            fail(f"tpe, seed {seed}, trial {trial.number}: exited {p.returncode} after its best line:\n"
                 f"{p.stdout[-2000:]}")
        counts[status] += 1
        epochs[0] += ep
        # A diverged trial scores 0: TPE learns that the region is bad (hpsweep's narrowing
        # leaves diverged trials out, which for a best-of ranking is the same).
        return acc if status == "done" else 0.0

    t0 = time.monotonic()
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    wall = time.monotonic() - t0
    return float(study.best_value), wall, counts, epochs[0], 1


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
    """The parsers, the pruned plan and the specs against fixed text; no training."""
    done = ("data: 10000 train, 5000 validation, 0 test examples of 1x28x28, 10 classes (1.49 s)\n"
            "epoch   1/1  lr 0.05  train loss 0.6791 acc 0.7593  val loss 0.6293 acc 0.7676  "
            "update/weight 1.1e-02  3.66 s\n"
            "best: epoch 1, val acc 0.7676, val loss 0.6293; training took 3.7 s (2734 images/s)\n")
    assert parse_train_output(done) == ("done", 0.7676, 1), parse_train_output(done)
    div = ("model: 203530 parameters; initial loss 2.3629 (ln 10 = 2.3026)\n"
           "diverged: the training loss became non-finite or exceeded 4 x the initial loss; lower the learning rate\n")
    assert parse_train_output(div) == ("diverged", None, 0)
    try:
        parse_train_output("train: error: something else\n")
        raise AssertionError("parse_train_output accepted text without a best or diverged line")
    except ValueError:
        pass
    js = '{"counts": {"done": 28, "diverged": 2}, "top": [{"rank": 1, "best_val_acc": 0.8212}]}'
    assert parse_show_json(js) == (0.8212, {"done": 28, "diverged": 2})
    # Halving after 1, eta 3, 3 epochs: trials 0..2 go on with probability 1, 1/2, 1/3.
    assert abs(expected_halving_epochs(3) - (3 + 2 * (1 + 1 / 2 + 1 / 3))) < 1e-12
    assert pruned_plan(30) == [10, 5], pruned_plan(30)
    assert pruned_plan(8) == [2, 1], pruned_plan(8)
    assert sum(expected_halving_epochs(k) for k in pruned_plan(30)) <= 30
    s4 = spec_text("x", 4, 7, "/d", [20, 10])
    assert "    - {type: dropout, p: 0.25}" in s4 and "model.layers.2.p: {low: 0.0, high: 0.5, scale: linear}" in s4
    assert "top_k: 3" in s4.splitlines()[-1] and "prune" not in s4
    s2p = spec_text("x", 2, 7, "/d", [10, 5], PRUNE_HORIZON, PRUNE)
    assert "dropout" not in s2p and "momentum" not in s2p.split("search:")[1]
    assert s2p.splitlines()[-2] == f"    - {{method: random, trials: 10, epochs: 3, prune: {PRUNE}}}"
    t = base_spec("t", 4, 7, "/d", {"lr": 0.5, "weight_decay": 1e-05, "optimizer.momentum": 0.75,
                                     "model.layers.2.p": 0.125})
    for want in ("    - {type: dropout, p: 0.125}", "  momentum: 0.75", "  lr: 0.5", "  weight_decay: 1e-05"):
        assert want in t.splitlines(), (want, t)
    assert "search:" not in t
    print("search_efficiency: self-test passed (train's epoch/best/diverged lines, show --json, "
          "the pruned plan, the specs)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring (head bench/search_efficiency.py) and bench/README.md.")
    ap.add_argument("--case", type=int, default=2, choices=sorted(PARAMS),
                    help="2: lr and weight decay (default); 4: also momentum and dropout")
    ap.add_argument("--hpsweep", help="the hpsweep binary (default: build/release, build/t or build's)")
    ap.add_argument("--seeds", default="1,2,3,4,5", help="comma-separated sweep seeds (default 1,2,3,4,5)")
    ap.add_argument("--trials", type=int, default=30,
                    help="budget per search in epochs (default 30: 30 one-epoch trials; staged: 2/3+1/3 and thirds)")
    ap.add_argument("--quick", action="store_true", help="smoke run: seed 1, a budget of 8")
    ap.add_argument("--methods", default="random,stages3,stages2,pruned,tpe",
                    help="subset of random,stages2,stages3,pruned,tpe (default all)")
    ap.add_argument("--data", default=DEFAULT_DATA, help=f"Fashion-MNIST directory (default {DEFAULT_DATA})")
    ap.add_argument("--out", default="bench-out/search_efficiency", help="folder for specs and results files")
    ap.add_argument("--csv", help="raw figures (default OUT/search_efficiency_caseN.csv)")
    ap.add_argument("--timeout", type=int, default=120, help="seconds allowed per trial epoch (default 120)")
    ap.add_argument("--self-test", action="store_true", help="test the parsers, the plan and the specs, then exit")
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
    csv_path = args.csv or os.path.join(args.out, f"search_efficiency_case{args.case}.csv")

    n = args.trials
    two = [n - n // 3, n // 3]                       # 30: 20 + 10
    three = [n - 2 * (n // 3), n // 3, n // 3]       # 30: 10 + 10 + 10
    pp = pruned_plan(n)                              # 30: 10 + 5, 3 epochs each, halving
    l2 = "stages " + "+".join(map(str, two))
    l3 = "stages " + "+".join(map(str, three))
    lp = "prune " + "+".join(map(str, pp)) + f" x{PRUNE_HORIZON}ep"
    methods = {
        "random": (f"random {n}", lambda s: run_staged(hpsweep, f"random {n}", [n], s, args)),
        "stages2": (l2, lambda s: run_staged(hpsweep, l2, two, s, args)),
        "stages3": (l3, lambda s: run_staged(hpsweep, l3, three, s, args)),
        "pruned": (lp, lambda s: run_staged(hpsweep, lp, pp, s, args, PRUNE_HORIZON, PRUNE)),
        "tpe": (f"optuna tpe {n}", lambda s: run_tpe(hpsweep, n, s, args)),
    }
    chosen = [m for m in args.methods.split(",") if m]
    for m in chosen:
        if m not in methods:
            fail(f"--methods: unknown '{m}' (valid: {', '.join(methods)})")

    names = ", ".join(p[0] for p in PARAMS[args.case])
    print(f"search_efficiency: case {args.case} ({names}), {hpsweep}, seeds {seeds}, a budget of {n} epochs "
          f"per search, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}", flush=True)
    fields = ["case", "method", "seed", "budget", "epochs", "best_val_acc", "best_trial_epochs", "wall_s",
              "done", "pruned", "diverged"]
    rows = []
    t_all = time.monotonic()
    try:
        f = open(csv_path, "w", newline="")
    except OSError as e:
        fail(f"cannot write {csv_path}: {e}")
    with f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        f.flush()
        for seed in seeds:
            for m in chosen:
                label, fn = methods[m]
                acc, wall, counts, ep, best_ep = fn(seed)
                row = {"case": args.case, "method": label, "seed": seed, "budget": n, "epochs": ep,
                       "best_val_acc": acc, "best_trial_epochs": best_ep, "wall_s": round(wall, 2),
                       "done": counts.get("done", 0), "pruned": counts.get("pruned", 0),
                       "diverged": counts.get("diverged", 0)}
                rows.append(row)
                w.writerow(row)
                f.flush()  # a partial run keeps the searches it finished
                print(f"  {label:<18} seed {seed}: best val acc {acc:.4f}  epochs {ep:3d} (best trial {best_ep})  "
                      f"wall {wall:6.1f} s  (done {row['done']}, pruned {row['pruned']}, "
                      f"diverged {row['diverged']})", flush=True)
    total = time.monotonic() - t_all

    print()
    print(f"{'method':<20} {'median':>7} {'min':>7} {'max':>7} {'epochs':>7} {'wall/search s':>14} {'wall total s':>13}")
    for m in chosen:
        label = methods[m][0]
        r = [x for x in rows if x["method"] == label]
        accs = [x["best_val_acc"] for x in r]
        walls = [x["wall_s"] for x in r]
        eps = [x["epochs"] for x in r]
        print(f"{label:<20} {statistics.median(accs):7.4f} {min(accs):7.4f} {max(accs):7.4f} "
              f"{statistics.median(eps):7g} {statistics.median(walls):14.1f} {sum(walls):13.1f}")
    print(f"\ncase {args.case}, seeds {seeds}; all searches: {total:.0f} s; raw figures: {csv_path}")


if __name__ == "__main__":
    main()
