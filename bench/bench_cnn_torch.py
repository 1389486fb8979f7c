#!/usr/bin/python3
"""PyTorch reference for bench_cnn.c: the same network, optimizer, batch and data pipeline.

fashion_cnn on 1x28x28: Conv2d(1, 32, 3, padding=1, bias=False), BatchNorm2d(32), ReLU,
MaxPool2d(2), Conv2d(32, 64, 3, padding=1, bias=False), BatchNorm2d(64), ReLU, MaxPool2d(2),
Flatten, Linear(3136, 128), ReLU, Dropout(0.5), Linear(128, 10); CrossEntropyLoss,
torch.optim.SGD(lr=0.01, momentum=0.9, weight_decay=5e-4), zero_grad(set_to_none=True); each
step indexes a random batch out of a 4096-example pool of random data. --no-bn and
--no-dropout drop those layers (then the convolutions have biases), for a like-for-like
comparison while the trainer lacks them. After --warmup steps, --steps steps are timed.
Threads: torch.set_num_threads(--intraop, default --threads); run it with OPENBLAS_NUM_THREADS
and OMP_NUM_THREADS set to --threads (bench/run_bench_cnn.sh does). Prints one line:
    torch images/s 1234.5 cpu-images/s 1240.1 steps 50 batch 128 threads 1 ... maxrss-mib 321.0
--device cuda runs it on the GPU instead (pool, model and optimizer on the device; the clock
reads after torch.cuda.synchronize(); --cudnn-benchmark lets cuDNN time its algorithms, as
PyTorch users often do): the reference of bench/run_bench_gpu.sh. It needs a PyTorch built with
CUDA, which Debian's python3-torch is not.
Run with /usr/bin/python3 (Debian's python3-torch).
"""
import argparse
import resource
import time

import torch


def build(nc, bn, dropout):
    nn = torch.nn
    layers = [nn.Conv2d(1, 32, 3, padding=1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(32))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(64))
    layers += [nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.Linear(128, nc))
    return nn.Sequential(*layers)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--intraop", type=int, default=0, help="torch.set_num_threads (default: --threads)")
    ap.add_argument("--no-bn", action="store_true")
    ap.add_argument("--no-dropout", action="store_true")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--cudnn-benchmark", action="store_true")
    a = ap.parse_args()
    if a.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("bench_cnn_torch.py: this PyTorch (%s) has no usable CUDA device" % torch.__version__)
    dev = torch.device(a.device)
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    torch.set_num_threads(a.intraop if a.intraop > 0 else a.threads)
    torch.manual_seed(7)
    pool, nc = 4096, 10
    x = torch.randn(pool, 1, 28, 28).to(dev)
    y = torch.randint(0, nc, (pool,)).to(dev)
    model = build(nc, not a.no_bn, not a.no_dropout).to(dev)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = c0 = 0.0
    loss = None
    for s in range(a.warmup + a.steps):
        if s == a.warmup:
            sync()
            t0 = time.perf_counter()
            c0 = time.process_time()
        idx = torch.randint(0, pool, (a.batch,), device=dev)
        xb, yb = x[idx], y[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    sync()
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print("torch images/s %.1f cpu-images/s %.1f steps %d batch %d threads %d intraop %d bn %d dropout %d "
          "torch %s mkldnn %d device %s loss %.4f maxrss-mib %.1f"
          % (a.steps * a.batch / dt, a.steps * a.batch / cpu, a.steps, a.batch, a.threads, torch.get_num_threads(),
             not a.no_bn, not a.no_dropout, torch.__version__, torch.backends.mkldnn.is_available(), a.device, loss.item(),
             rss))


if __name__ == "__main__":
    main()
