#!/usr/bin/env python3
"""An MLP on Fashion-MNIST in PyTorch, as an hpsweep external trainer (docs/external.md).

Reads the IDX files (gzip + numpy, no torchvision), holds out a fixed validation split of the
training files (the same for every trial), trains on a subset of the rest with SGD, reports each
epoch through hpsweep_report, saves a checkpoint (model, optimizer, epoch, metrics so far) after
every epoch and the best-on-validation snapshot, continues from the checkpoint on resume, and in
mode test evaluates the snapshot on the test files. CUDA when available (hpsweep sets
CUDA_VISIBLE_DEVICES), else the CPU.

    command: [python3, examples/external/torch_mlp.py, --lr, "{lr}", --weight-decay, "{weight_decay}"]
    by hand: python3 torch_mlp.py --lr 0.05 --epochs 2      (lines go to stderr)
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hpsweep_report as hr  # noqa: E402


def read_idx(path):
    """An IDX file (optionally gzipped) as a numpy array of uint8."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise SystemExit("%s: not an IDX file of unsigned bytes" % path)
    ndim = data[3]
    if len(data) < 4 + 4 * ndim:
        raise SystemExit("%s: truncated header" % path)
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(shape))
    if len(data) != 4 + 4 * ndim + count:
        raise SystemExit("%s: %d bytes of data for shape %s (want %d)" % (path, len(data) - 4 - 4 * ndim, shape, count))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(data_dir, prefix):
    x = read_idx(os.path.join(data_dir, prefix + "-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(data_dir, prefix + "-labels-idx1-ubyte.gz"))
    if x.shape[0] != y.shape[0]:
        raise SystemExit("%s: %d images but %d labels" % (prefix, x.shape[0], y.shape[0]))
    return x.reshape(x.shape[0], -1).astype(np.float32) / 255.0, y.astype(np.int64)


def splits(a):
    """(train, val) tensors: a fixed permutation (seed 0) of the training files: the first
    val_size for validation, the next train_subset for training; standardised with the training
    subset's mean and standard deviation."""
    x, y = load(a.data, "train")
    if a.val_size + a.train_subset > x.shape[0]:
        raise SystemExit("--val-size %d + --train-subset %d exceed the %d training images"
                         % (a.val_size, a.train_subset, x.shape[0]))
    perm = np.random.default_rng(0).permutation(x.shape[0])
    vi, ti = perm[:a.val_size], perm[a.val_size:a.val_size + a.train_subset]
    mean, std = x[ti].mean(), x[ti].std()
    norm = lambda v: torch.from_numpy((v - mean) / std)  # noqa: E731
    return (norm(x[ti]), torch.from_numpy(y[ti])), (norm(x[vi]), torch.from_numpy(y[vi])), (mean, std)


def make_model(hidden):
    return torch.nn.Sequential(torch.nn.Linear(784, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 10))


def evaluate(model, x, y, device, batch=2000):
    model.eval()
    loss, right = 0.0, 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            xb, yb = x[i:i + batch].to(device), y[i:i + batch].to(device)
            out = model(xb)
            loss += torch.nn.functional.cross_entropy(out, yb, reduction="sum").item()
            right += (out.argmax(1) == yb).sum().item()
    return loss / x.shape[0], right / x.shape[0]


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    p = hr.params()
    ap = argparse.ArgumentParser(description="Fashion-MNIST MLP for hpsweep")
    ap.add_argument("--lr", type=float, default=p.get("lr", 0.05))
    ap.add_argument("--weight-decay", type=float, default=p.get("weight_decay", 0.0))
    ap.add_argument("--momentum", type=float, default=p.get("momentum", 0.9))
    ap.add_argument("--batch-size", type=int, default=int(p.get("batch_size", 128)))
    ap.add_argument("--hidden", type=int, default=int(p.get("hidden", 256)))
    ap.add_argument("--train-subset", type=int, default=10000)
    ap.add_argument("--val-size", type=int, default=5000)
    ap.add_argument("--epochs", type=int, default=hr.epochs(5))
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = ap.parse_args()

    seed = hr.seed() % (2 ** 63)
    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model = make_model(a.hidden).to(device)

    if hr.mode() == "test":
        snap = torch.load(hr.snapshot_path(), map_location=device)
        model.load_state_dict(snap["model"])
        mean, std = snap["norm"]
        x, y = load(a.data, "t10k")
        x = torch.from_numpy((x - mean) / std)
        test_loss, test_acc = evaluate(model, x, torch.from_numpy(y), device)
        hr.report_test(test_loss, test_acc)
        return 0

    (xt, yt), (xv, yv), norm = splits(a)
    xt, yt = xt.to(device), yt.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    start, best, history = 0, -1.0, []
    if hr.resume_epoch() > 0 and os.path.exists(hr.checkpoint_path()):
        ck = torch.load(hr.checkpoint_path(), map_location=device)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optim"])
        start, best, history = ck["epoch"], ck["best_val_acc"], ck["history"]
        hr.replay(history)  # epochs the checkpoint has and hpsweep may not have recorded

    for epoch in range(start + 1, a.epochs + 1):
        t0 = time.time()
        model.train()
        # the epoch's order depends on (seed, epoch) only, so a resumed run shuffles the same
        g = torch.Generator().manual_seed((seed * 1000003 + epoch) % (2 ** 63))
        order = torch.randperm(xt.shape[0], generator=g).to(device)
        tot_loss, right, n = 0.0, 0, 0
        for i in range(0, xt.shape[0], a.batch_size):
            idx = order[i:i + a.batch_size]
            xb, yb = xt[idx], yt[idx]
            out = model(xb)
            loss = torch.nn.functional.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot_loss += loss.item() * xb.shape[0]
            right += (out.argmax(1) == yb).sum().item()
            n += xb.shape[0]
        train_loss, train_acc = tot_loss / n, right / n
        val_loss, val_acc = evaluate(model, xv, yv, device)
        if val_acc != val_acc or train_loss != train_loss:  # NaN: diverged; hpsweep decides
            val_acc = 0.0
        line = hr.report(epoch, train_loss=train_loss, train_acc=train_acc, val_loss=val_loss,
                         val_acc=val_acc, lr=a.lr, seconds_train=time.time() - t0)
        history.append(line)
        if val_acc > best:
            best = val_acc
            save_atomic({"model": model.state_dict(), "epoch": epoch, "val_acc": val_acc, "norm": norm,
                         "hidden": a.hidden}, hr.snapshot_path())
        save_atomic({"model": model.state_dict(), "optim": opt.state_dict(), "epoch": epoch,
                     "best_val_acc": best, "history": history}, hr.checkpoint_path())
    return 0


if __name__ == "__main__":
    sys.exit(main())
