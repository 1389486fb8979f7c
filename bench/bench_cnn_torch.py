#!/usr/bin/python3
"""PyTorch reference for bench_cnn.c and bench_gpu.c: the same network, optimizer, batch and data pipeline.

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
reads after torch.cuda.synchronize()): the reference of bench/run_bench_gpu.sh. It needs a
PyTorch built with CUDA, which Debian's python3-torch is not. The GPU settings, so that PyTorch
can be measured at its default and at its best (each is a field of the printed line):
  --tf32 on|off        TF32 in cuBLAS matmuls and cuDNN convolutions; default off, so that fp32 is
                       compared with fp32 (note: PyTorch's own default is TF32 on for cuDNN
                       convolutions, off for matmuls). PyTorch >= 2.9 is set through its new
                       fp32_precision API, older ones through allow_tf32 (the two must not mix).
  --deterministic      cudnn.deterministic and torch.use_deterministic_algorithms(True) (with
                       CUBLAS_WORKSPACE_CONFIG=:4096:8, set here unless the environment has it):
                       hpsweep's default mode (cuda: {deterministic: true}).
  --cudnn-benchmark    cudnn.benchmark: cuDNN times its algorithms per shape, as users often do.
  --compile            torch.compile(model, mode="reduce-overhead"): Inductor kernels replayed as
                       CUDA graphs (the optimizer step stays eager). Compilation happens during
                       the warm-up steps, outside the clock (warmup-s says how long the warm-up
                       took). When torch.compile is missing or fails, the line says images/s nan
                       and why (reason ...); the exit status is still 0, so a script carries on.
Kernel launches per step are not counted here (PyTorch has no cheap counter for them).
Any other failure also prints images/s nan with a reason, and exits 1.
Run with /usr/bin/python3 (Debian's python3-torch) on the CPU, with a CUDA PyTorch's python3 on a GPU.
"""
import argparse
import os
import re
import resource
import sys
import time


def build(torch, nc, bn, dropout):
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


def set_tf32(torch, on):
    """TF32 for cuBLAS matmuls and cuDNN convolutions (and RNNs, so that the cuDNN flags agree).
    Returns the API used. PyTorch >= 2.9 raises if the legacy and the new API are mixed."""
    prec = "tf32" if on else "ieee"
    cudnn = torch.backends.cudnn
    if hasattr(torch.backends.cuda.matmul, "fp32_precision") and hasattr(cudnn, "conv"):
        torch.backends.cuda.matmul.fp32_precision = prec
        for obj in (cudnn, cudnn.conv, getattr(cudnn, "rnn", None)):
            if obj is not None and hasattr(obj, "fp32_precision"):
                obj.fp32_precision = prec
        return "fp32_precision"
    torch.backends.cuda.matmul.allow_tf32 = on
    cudnn.allow_tf32 = on
    return "allow_tf32"


def token(text, limit=160):
    """A reason as one whitespace-free token, so that the line stays `key value` pairs."""
    t = re.sub(r"\s+", "_", str(text).strip()) or "unknown"
    return t[:limit]


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
    ap.add_argument("--cudnn-benchmark", action="store_true", help="torch.backends.cudnn.benchmark = True")
    ap.add_argument("--deterministic", action="store_true",
                    help="cudnn.deterministic and torch.use_deterministic_algorithms(True)")
    ap.add_argument("--tf32", default="off", choices=["on", "off"],
                    help="TF32 in cuBLAS and cuDNN (default off: fp32 against fp32)")
    ap.add_argument("--compile", action="store_true", help='torch.compile(model, mode="reduce-overhead")')
    a = ap.parse_args()
    if a.deterministic:
        # Read by cuBLAS when its handle is made, i.e. at the first matmul: set it before any CUDA work.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    import torch

    fields = {"steps": a.steps, "batch": a.batch, "threads": a.threads}
    note = []

    def report(ips, cips, loss, reason=None, t_warm=float("nan")):
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        line = ("torch images/s %s cpu-images/s %s steps %d batch %d threads %d intraop %d bn %d dropout %d "
                "torch %s mkldnn %d device %s gpu %s tf32 %s deterministic %d cudnn-benchmark %d compile %s "
                "warmup-steps %d warmup-s %.2f loss %s maxrss-mib %.1f"
                % ("%.1f" % ips if ips == ips else "nan", "%.1f" % cips if cips == cips else "nan",
                   a.steps, a.batch, a.threads, torch.get_num_threads(), not a.no_bn, not a.no_dropout,
                   torch.__version__, torch.backends.mkldnn.is_available(), a.device, fields.get("gpu", "-"),
                   a.tf32 if a.device == "cuda" else "n/a", a.deterministic, a.cudnn_benchmark,
                   "reduce-overhead" if a.compile else "none", a.warmup, t_warm,
                   "%.4f" % loss if loss == loss else "nan", rss))
        if reason:
            line += " reason " + token(reason)
        print(line, flush=True)

    if a.device == "cuda" and not torch.cuda.is_available():
        report(float("nan"), float("nan"), float("nan"),
               "this PyTorch (%s) has no usable CUDA device" % torch.__version__)
        return 1
    dev = torch.device(a.device)
    if a.device == "cuda":
        fields["gpu"] = token(torch.cuda.get_device_name(0), 64)
        try:
            set_tf32(torch, a.tf32 == "on")
        except Exception as e:  # noqa: BLE001 - an API this script does not know: say so, measure nothing
            report(float("nan"), float("nan"), float("nan"), "setting TF32 %s failed: %s" % (a.tf32, e))
            return 1
    torch.backends.cudnn.benchmark = a.cudnn_benchmark
    if a.deterministic:
        torch.backends.cudnn.deterministic = True
        if hasattr(torch, "use_deterministic_algorithms"):
            torch.use_deterministic_algorithms(True)
        else:
            note.append("no torch.use_deterministic_algorithms in this PyTorch")
    sync = torch.cuda.synchronize if a.device == "cuda" else (lambda: None)
    torch.set_num_threads(a.intraop if a.intraop > 0 else a.threads)
    torch.manual_seed(7)
    pool, nc = 4096, 10
    x = torch.randn(pool, 1, 28, 28).to(dev)
    y = torch.randint(0, nc, (pool,)).to(dev)
    model = build(torch, nc, not a.no_bn, not a.no_dropout).to(dev)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = torch.nn.CrossEntropyLoss()
    fwd = model
    mark_step = None
    if a.compile:
        if not hasattr(torch, "compile"):
            report(float("nan"), float("nan"), float("nan"), "torch.compile unavailable in torch %s" % torch.__version__)
            return 0
        try:
            fwd = torch.compile(model, mode="reduce-overhead")
        except Exception as e:  # noqa: BLE001 - any failure means: skipped, with the reason
            print("bench_cnn_torch.py: torch.compile failed: %r" % e, file=sys.stderr)
            report(float("nan"), float("nan"), float("nan"), "torch.compile failed: %s" % e)
            return 0
        # With CUDA graphs, say where each step begins, so the graph outputs of the previous
        # step may be overwritten (torch.compiler.cudagraph_mark_step_begin, PyTorch >= 2.1).
        mark_step = getattr(getattr(torch, "compiler", None), "cudagraph_mark_step_begin", None)
    t0 = c0 = 0.0
    tw = time.perf_counter()
    t_warm = float("nan")
    loss = None
    try:
        for s in range(a.warmup + a.steps):
            if s == a.warmup:
                sync()
                t0 = time.perf_counter()
                c0 = time.process_time()
                t_warm = t0 - tw
            if mark_step is not None:
                mark_step()
            idx = torch.randint(0, pool, (a.batch,), device=dev)
            xb, yb = x[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(fwd(xb), yb)
            loss.backward()
            opt.step()
        sync()
    except Exception as e:  # noqa: BLE001
        what = "torch.compile" if a.compile else "training"
        print("bench_cnn_torch.py: %s failed: %r" % (what, e), file=sys.stderr)
        report(float("nan"), float("nan"), float("nan"), "%s failed: %s" % (what, e), t_warm)
        return 0 if a.compile else 1
    dt = time.perf_counter() - t0
    cpu = time.process_time() - c0
    report(a.steps * a.batch / dt, a.steps * a.batch / cpu, loss.item(), "; ".join(note) if note else None, t_warm)
    return 0


if __name__ == "__main__":
    sys.exit(main())
