#!/usr/bin/python3
"""The PyTorch reference for the GPU sweep's speed: the quickstart sweep against the same trials
run one after another in PyTorch.

It reads the trials an hpsweep sweep actually ran (their lr, weight decay, stage and epochs) from
the sweep's results file and trains the same trials one after another in ONE PyTorch process on
one device, the way a careful PyTorch user would write it:

  * the quickstart model: Linear(784, 256), ReLU, Linear(256, 10), initialised as hpsweep's
    `init: default` does (Kaiming-uniform before the ReLU, U(+-1/sqrt(fan_in)) for the logits
    layer, zero biases); CrossEntropyLoss; torch.optim.SGD(momentum 0.9, the trial's lr and
    weight_decay); batch 128, the last partial batch kept;
  * Fashion-MNIST read from the IDX gz files (--data), scaled to [0, 1] (x / 255, as
    trainer/idx.c), a seeded validation split of --val-size examples held out of the training
    file (both splits keep the file's order), the first --train-subset examples of the rest, then
    per-pixel-channel standardisation fitted on that training subset (population std, as
    hp_norm_fit) applied to both; the whole set resident on the device as one tensor;
  * per trial: a fresh model, the initial loss on epoch 1's first batch (eval mode), then per
    epoch a fresh on-device shuffle (torch.randperm), the training steps, the training loss and
    accuracy accumulated on the device, a validation pass (eval mode, no_grad), and a copy of the
    state when validation accuracy improves (the trial's best snapshot);
  * divergence as hpsweep's trainer defines it (a training loss that is not finite or exceeds
    4x the initial loss stops the trial), checked every --check-every steps (one device sync
    each) rather than every step;
  * at the end, the best trial's best snapshot evaluated once on the test split.

The split is drawn by numpy, not by hpsweep's RNG, so the validation examples differ and the
accuracies agree only statistically; the update/weight ratios hpsweep records per epoch are not
computed. CUDA initialisation and a throwaway step (cuBLAS handles, kernel loading) run before
the clock starts (init-s); data loading is timed apart (load-s); `seconds` covers the trials
only, so the reference errs in PyTorch's favour.

The trials come from one of:
  --json FILE                  `hpsweep show FILE.h5 --json --top 1000000` saved to a file;
  --h5 FILE [--hpsweep PATH]   the results file: read with h5py when it is installed (exact:
                               every trial, epochs done), else through `hpsweep show --json`;
  --run SPEC [--hpsweep PATH]  runs `hpsweep run SPEC -o --out --force --quiet` first, timed
                               (process start to exit), and takes that file: one command for the
                               whole comparison, e.g. on a GPU machine
                               python3 bench/sweep_torch.py --run sweeps/quickstart.yaml --device cuda
`show --json` lists the finished trials in "top" and names diverged and failed trials only in its
warnings (the first 3 of each, lr and weight decay to 3 digits); what it could not recover is
counted in the line (`missing N`).

Prints one line (and, with -v, one line per trial on stderr):
    torch-sweep trials 32 seconds 18.2 trials/s 1.76 device cuda ... key value ...
--hpsweep-seconds S (hpsweep's measured wall time for the same sweep; --run sets it) adds
`hpsweep-s S speedup X`, X = this script's `seconds` / S.
Run with a CUDA PyTorch's python3 for --device cuda; --device auto (the default) takes the GPU
when there is one, else the CPU.
"""
import argparse
import gzip
import json
import math
import os
import re
import struct
import subprocess
import sys
import time

import numpy as np

WARN_RE = re.compile(r"trial (\d+) \(stage (\d+), lr ([^,]+), weight_decay ([^)]+)\) (diverged|failed) at epoch (\d+)")


def die(msg, code=2):
    print("sweep_torch.py: " + msg, file=sys.stderr)
    sys.exit(code)


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 8:
        die("%s: not an unsigned-byte IDX file" % path, 1)
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * nd)
    if arr.size != int(np.prod(dims)):
        die("%s: %d bytes of data, the header announces %s" % (path, arr.size, dims), 1)
    return arr.reshape(dims)


def load_data(a, seed):
    d = a.data
    xs = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz")).reshape(-1, 784)
    ys = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz")).astype(np.int64)
    xt = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    yt = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz")).astype(np.int64)
    n = xs.shape[0]
    if not 0 < a.val_size < n:
        die("--val-size %d must lie in (0, %d)" % (a.val_size, n))
    perm = np.random.default_rng(seed).permutation(n)
    is_val = np.zeros(n, dtype=bool)
    is_val[perm[:a.val_size]] = True
    tr = np.flatnonzero(~is_val)
    if 0 < a.train_subset < tr.size:
        tr = tr[:a.train_subset]
    va = np.flatnonzero(is_val)
    f = lambda u8: u8.astype(np.float32) / np.float32(255.0)  # noqa: E731 - as idx.c: x / 255
    x_tr, x_va, x_te = f(xs[tr]), f(xs[va]), f(xt)
    # One channel (Fashion-MNIST is 1x28x28): mean and population std over every pixel, in double.
    mean = float(np.mean(x_tr, dtype=np.float64))
    std = float(np.sqrt(np.mean((x_tr.astype(np.float64) - mean) ** 2)))
    m32, s32 = np.float32(mean), np.float32(std if np.float32(std) != 0 else 1.0)
    norm = lambda x: (x - m32) / s32  # noqa: E731
    return (norm(x_tr), ys[tr]), (norm(x_va), ys[va]), (norm(x_te), yt)


def trials_from_show(js):
    """(trials, missing) from `hpsweep show --json`: the finished trials of "top", and the
    diverged and failed ones its warnings name."""
    epochs = {s["stage"]: s["epochs"] for s in js.get("stages", [])}
    subset = {s["stage"]: s.get("train_subset", 0) for s in js.get("stages", [])}
    out = {}
    for t in js.get("top", []):
        st = t["stage"]
        out[t["trial"]] = dict(id=t["trial"], stage=st, status=t.get("status", "done"), lr=t["lr"],
                               wd=t["weight_decay"], epochs=epochs.get(st, 1), subset=subset.get(st, 0),
                               seconds=t.get("seconds"))
    for w in js.get("warnings", []):
        m = WARN_RE.match(w)
        if m and int(m.group(1)) not in out:
            st = int(m.group(2))
            out[int(m.group(1))] = dict(id=int(m.group(1)), stage=st, status=m.group(5), lr=float(m.group(3)),
                                        wd=float(m.group(4)), epochs=epochs.get(st, 1), subset=subset.get(st, 0),
                                        seconds=None)
    counts = js.get("counts", {})
    ran = sum(counts.get(k, 0) for k in ("done", "diverged", "failed"))
    trials = [out[k] for k in sorted(out)]
    return trials, max(0, ran - len(trials))


def trials_from_h5(path):
    import h5py  # noqa: PLC0415 - optional
    names = {0: "pending", 1: "running", 2: "done", 3: "diverged", 4: "failed", 5: "pruned"}
    with h5py.File(path, "r") as f:
        tr = f["trials"][:]
        name = f.attrs.get("spec_name", b"")
        name = name.decode() if isinstance(name, bytes) else str(name)
        seed = int(f.attrs.get("seed", 1))
    trials = []
    for r in tr:
        status = names.get(int(r["status"]), "?")
        if status not in ("done", "diverged", "failed"):
            continue
        ep = int(r["epochs_done"]) if status == "done" and int(r["epochs_done"]) > 0 else int(r["epochs_planned"])
        trials.append(dict(id=int(r["id"]), stage=int(r["stage"]), status=status, lr=float(r["lr"]),
                           wd=float(r["weight_decay"]), epochs=ep, subset=0, seconds=float(r["seconds"])))
    trials.sort(key=lambda t: t["id"])
    return trials, 0, name, seed


def main():
    ap = argparse.ArgumentParser(description="the quickstart sweep's trials, one after another, in one PyTorch process")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--json", help="the output of `hpsweep show FILE.h5 --json --top 1000000`, saved to a file")
    src.add_argument("--h5", help="the sweep's results file (h5py if installed, else `hpsweep show --json`)")
    src.add_argument("--run", metavar="SPEC", help="first run `hpsweep run SPEC -o --out --force --quiet`, timed "
                     "(its wall time becomes --hpsweep-seconds), then use its results file")
    ap.add_argument("--out", default="/tmp/sweep_torch_hpsweep.h5", help="the results file --run writes")
    ap.add_argument("--run-timeout", type=float, default=600, help="seconds --run's hpsweep may take")
    ap.add_argument("--hpsweep", default="hpsweep", help="the hpsweep binary, for --run, and --h5 without h5py "
                    "(default: on PATH)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--train-subset", type=int, default=30000, help="0: the whole training split")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--diverge-factor", type=float, default=4.0)
    ap.add_argument("--check-every", type=int, default=50, help="steps between divergence checks (1: every step)")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: PyTorch's)")
    ap.add_argument("--limit", type=int, default=0, help="run only the first N trials (for quick checks)")
    ap.add_argument("--hpsweep-seconds", type=float, default=0.0,
                    help="hpsweep's measured wall time for the same sweep: adds speedup to the line")
    ap.add_argument("--seed", type=int, default=-1, help="split and model seed (default: the sweep's seed)")
    ap.add_argument("-v", "--verbose", action="store_true", help="one line per trial on stderr")
    a = ap.parse_args()
    if a.batch < 1 or a.check_every < 1:
        die("--batch and --check-every must be >= 1")

    if a.run:
        cmd = [a.hpsweep, "run", a.run, "-o", a.out, "--force", "--quiet"]
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, timeout=a.run_timeout)
        except (OSError, subprocess.TimeoutExpired) as e:
            die("%s: %s" % (" ".join(cmd), e), 1)
        a.hpsweep_seconds = time.perf_counter() - t0
        if p.returncode != 0:
            die("%s failed (exit %d)" % (" ".join(cmd), p.returncode), 1)
        print("sweep_torch.py: %s: %.3f s" % (" ".join(cmd), a.hpsweep_seconds), file=sys.stderr)
        a.h5 = a.out
    t_all = time.perf_counter()
    missing, spec_name, sweep_seed, hp_trial_s = 0, "", 1, None
    if a.json or not _has_h5py():
        if a.json:
            try:
                with open(a.json) as f:
                    js = json.load(f)
            except (OSError, ValueError) as e:
                die("%s: %s" % (a.json, e), 1)
        else:
            try:
                p = subprocess.run([a.hpsweep, "show", a.h5, "--json", "--top", "1000000"], capture_output=True,
                                   text=True, timeout=120)
            except (OSError, subprocess.TimeoutExpired) as e:
                die("cannot run %s show: %s" % (a.hpsweep, e), 1)
            if p.returncode != 0:
                die("%s show %s failed (exit %d): %s" % (a.hpsweep, a.h5, p.returncode, p.stderr.strip()), 1)
            js = json.loads(p.stdout)
        trials, missing = trials_from_show(js)
        spec_name, sweep_seed = js.get("name", ""), int(js.get("seed", 1))
        hp_trial_s = js.get("elapsed", {}).get("trial_seconds")
        source = "show-json"
    else:
        try:
            trials, missing, spec_name, sweep_seed = trials_from_h5(a.h5)
        except (OSError, KeyError, ValueError) as e:
            die("%s: cannot read the trials: %s" % (a.h5, e), 1)
        hp_trial_s = sum(t["seconds"] for t in trials if t["seconds"] is not None and math.isfinite(t["seconds"]))
        source = "h5py"
    if not trials:
        die("no trials that ran in the results (%s)" % (a.json or a.h5), 1)
    if spec_name and spec_name != "quickstart":
        print("sweep_torch.py: warning: the sweep is '%s'; this reference always trains the quickstart MLP"
              % spec_name, file=sys.stderr)
    if a.limit > 0:
        trials = trials[:a.limit]
    seed = a.seed if a.seed >= 0 else sweep_seed

    import torch  # noqa: PLC0415 - after the cheap checks
    nn, F = torch.nn, torch.nn.functional
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    if a.device == "cuda" and not torch.cuda.is_available():
        print("torch-sweep trials %d seconds nan trials/s nan device cuda torch %s reason "
              "this_PyTorch_has_no_usable_CUDA_device" % (len(trials), torch.__version__))
        return 1
    dev_name = a.device if a.device != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
    dev = torch.device(dev_name)
    cuda = dev_name == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    gpu = re.sub(r"\s+", "_", torch.cuda.get_device_name(0)) if cuda else "-"
    # fp32 against fp32: hpsweep's default is no TF32 (cuda: {tf32: false}); PyTorch's default
    # already keeps matmuls in fp32, and this model has no convolution.

    t0 = time.perf_counter()
    (xtr, ytr), (xva, yva), (xte, yte) = load_data(a, seed)
    Xtr, Ytr = torch.from_numpy(xtr).to(dev), torch.from_numpy(ytr).to(dev)
    Xva, Yva = torch.from_numpy(xva).to(dev), torch.from_numpy(yva).to(dev)
    sync()
    load_s = time.perf_counter() - t0

    def make_model():
        m = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
        nn.init.kaiming_uniform_(m[0].weight, nonlinearity="relu")  # U(+-sqrt(6 / fan_in))
        bound = 1.0 / math.sqrt(256)
        nn.init.uniform_(m[2].weight, -bound, bound)  # fan_in_uniform: the logits start small
        nn.init.zeros_(m[0].bias)
        nn.init.zeros_(m[2].bias)
        return m.to(dev)

    def evaluate(model, X, Y, chunk=5000):
        model.eval()
        loss = torch.zeros((), device=dev, dtype=torch.float64)
        hits = torch.zeros((), device=dev, dtype=torch.int64)
        with torch.no_grad():
            for s in range(0, X.shape[0], chunk):
                out = model(X[s:s + chunk])
                loss += F.cross_entropy(out, Y[s:s + chunk], reduction="sum").double()
                hits += (out.argmax(1) == Y[s:s + chunk]).sum()
        return loss.item() / X.shape[0], hits.item() / X.shape[0]

    # Untimed: CUDA context, cuBLAS handles, the kernels' first loads.
    t0 = time.perf_counter()
    torch.manual_seed(0)
    m = make_model()
    o = torch.optim.SGD(m.parameters(), lr=1e-3, momentum=a.momentum)
    for _ in range(3):
        o.zero_grad(set_to_none=True)
        F.cross_entropy(m(Xtr[:a.batch]), Ytr[:a.batch]).backward()
        o.step()
    evaluate(m, Xva[:a.batch], Yva[:a.batch])
    torch.randperm(Xtr.shape[0], device=dev)
    sync()
    init_s = time.perf_counter() - t0
    del m, o

    results = []
    t_start = time.perf_counter()
    images = 0
    for t in trials:
        tt = time.perf_counter()
        torch.manual_seed(seed * 1000003 + t["id"])
        n = Xtr.shape[0] if not (0 < t["subset"] < Xtr.shape[0]) else t["subset"]
        X, Y = Xtr[:n], Ytr[:n]
        model = make_model()
        opt = torch.optim.SGD(model.parameters(), lr=t["lr"], momentum=a.momentum, weight_decay=t["wd"])
        perm = torch.randperm(n, device=dev)
        model.eval()
        with torch.no_grad():
            first = perm[:a.batch]
            initial = F.cross_entropy(model(X[first]), Y[first]).item()
        limit = a.diverge_factor * initial
        best = dict(acc=-1.0, loss=float("nan"), epoch=0, state=None)
        diverged, epochs_run = 0, 0
        train_loss, train_acc = float("nan"), float("nan")
        for ep in range(1, t["epochs"] + 1):
            if ep > 1:
                perm = torch.randperm(n, device=dev)
            model.train()
            loss_sum = torch.zeros((), device=dev, dtype=torch.float64)
            hits = torch.zeros((), device=dev, dtype=torch.int64)
            worst = torch.zeros((), device=dev)
            steps = 0
            for s in range(0, n, a.batch):
                idx = perm[s:s + a.batch]
                xb, yb = X[idx], Y[idx]
                out = model(xb)
                loss = F.cross_entropy(out, yb)
                ld = loss.detach()
                worst = torch.maximum(worst, ld)  # NaN propagates
                steps += 1
                if steps % a.check_every == 0 or s + a.batch >= n:
                    w = worst.item()
                    if not math.isfinite(w) or w > limit:  # stop before this step's update, as hpsweep
                        diverged = 1
                        break
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += ld.double() * yb.shape[0]
                hits += (out.detach().argmax(1) == yb).sum()
                images += yb.shape[0]
            epochs_run = ep
            if diverged:
                break
            train_loss, train_acc = loss_sum.item() / n, hits.item() / n
            val_loss, val_acc = evaluate(model, Xva, Yva)
            if best["epoch"] == 0 or val_acc > best["acc"]:
                best = dict(acc=val_acc, loss=val_loss, epoch=ep,
                            state={k: v.detach().clone() for k, v in model.state_dict().items()})
        sync()
        secs = time.perf_counter() - tt
        results.append(dict(t, diverged=diverged, epochs_run=epochs_run, best=best, secs=secs))
        if a.verbose:
            print("  trial %3d stage %d lr %.3g wd %.3g epochs %d/%d %s train-loss %.4f train-acc %.4f "
                  "best-val-acc %.4f (hpsweep: %s, %s s) %.3f s"
                  % (t["id"], t["stage"], t["lr"], t["wd"], epochs_run, t["epochs"],
                     "diverged" if diverged else "done", train_loss, train_acc,
                     best["acc"] if best["epoch"] else float("nan"),
                     t["status"], "%.3f" % t["seconds"] if t["seconds"] is not None else "?", secs), file=sys.stderr)
    sync()
    seconds = time.perf_counter() - t_start

    # The final, single test-set evaluation of the best trial's best snapshot.
    t0 = time.perf_counter()
    done = [r for r in results if r["best"]["epoch"] > 0]
    test_acc, best_trial, best_val = float("nan"), -1, float("nan")
    if done:
        top = max(done, key=lambda r: r["best"]["acc"])
        best_trial, best_val = top["id"], top["best"]["acc"]
        model = make_model()
        model.load_state_dict(top["best"]["state"])
        _, test_acc = evaluate(model, torch.from_numpy(xte).to(dev), torch.from_numpy(yte).to(dev))
    final_s = time.perf_counter() - t0

    n_div = sum(r["diverged"] for r in results)
    hp_div = sum(1 for r in results if r["status"] == "diverged")
    epochs = sum(r["epochs_run"] for r in results)
    line = ("torch-sweep trials %d seconds %.3f trials/s %.3f device %s gpu %s epochs %d images/s %.1f diverged %d "
            "hpsweep-diverged %d missing %d best-trial %d best-val-acc %.4f test-acc %.4f init-s %.2f load-s %.2f "
            "final-s %.2f total-s %.2f batch %d check-every %d threads %d torch %s source %s"
            % (len(results), seconds, len(results) / seconds, dev_name, gpu, epochs, images / seconds, n_div, hp_div,
               missing, best_trial, best_val, test_acc, init_s, load_s, final_s, time.perf_counter() - t_all, a.batch,
               a.check_every, torch.get_num_threads(), torch.__version__, source))
    if hp_trial_s is not None:
        line += " hpsweep-trial-s %.3f" % hp_trial_s
    if a.hpsweep_seconds > 0:
        line += " hpsweep-s %.3f speedup %.2f" % (a.hpsweep_seconds, seconds / a.hpsweep_seconds)
    print(line, flush=True)
    return 0


def _has_h5py():
    try:
        import h5py  # noqa: F401, PLC0415
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main())
