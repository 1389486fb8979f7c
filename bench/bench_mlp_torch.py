#!/usr/bin/python3
"""PyTorch reference for bench_mlp.c: the same model, optimizer, batch and data pipeline.

784-512-256-10 nn.Sequential with ReLUs, CrossEntropyLoss, torch.optim.SGD(lr=0.01,
momentum=0.9, weight_decay=5e-4), zero_grad(set_to_none=True); each step indexes a random
batch out of an 8192-example pool of random data. After --warmup steps, --steps steps are
timed. Threads: torch.set_num_threads(--intraop, default --threads); run it with
OPENBLAS_NUM_THREADS and OMP_NUM_THREADS set to --threads (bench/run_bench_mlp.sh does).
With more than one thread, Debian's torch (OpenMP) and OpenBLAS (pthreads) each start their
own pool, and the two spin against each other; --intraop 1 keeps torch's own ops on one thread
and leaves the threading to OpenBLAS, which is much faster there. Prints one line:
    torch images/s 12345.6 cpu-images/s 12400.1 steps 200 batch 128 threads 1 torch 1.13.0 ...
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import time

import torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--intraop", type=int, default=0, help="torch.set_num_threads (default: --threads)")
    a = ap.parse_args()
    torch.set_num_threads(a.intraop if a.intraop > 0 else a.threads)
    torch.manual_seed(7)
    pool, nc = 8192, 10
    x = torch.randn(pool, 784)
    y = torch.randint(0, nc, (pool,))
    model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256),
                                torch.nn.ReLU(), torch.nn.Linear(256, nc))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = c0 = 0.0
    loss = None
    for s in range(a.warmup + a.steps):
        if s == a.warmup:
            t0 = time.perf_counter()
            c0 = time.process_time()
        idx = torch.randint(0, pool, (a.batch,))
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    print("torch images/s %.1f cpu-images/s %.1f steps %d batch %d threads %d intraop %d torch %s loss %.4f"
          % (a.steps * a.batch / dt, a.steps * a.batch / cpu, a.steps, a.batch, a.threads, torch.get_num_threads(),
             torch.__version__, loss.item()))


if __name__ == "__main__":
    main()
