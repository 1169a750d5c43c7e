#!/usr/bin/python3
"""PyTorch forward+backward throughput for the losses bench_core measures.

Run with Debian's interpreter (/usr/bin/python3, python3-torch). Prints TSV rows in
bench_core's format with kind "torch":
    torch  <case>  <dtype>  <n>  <threads>  <median_seconds>  <G_elements_per_s>
Timed: the forward call and backward(), with fresh .grad each repetition (what a training
step does). Inputs are made once per case, outside the timing.
Usage: torch_bench.py [--sizes N,N,...] [--threads 1|2|both] [--dtype float32|float64|both]
                      [--case NAME,...] [--reps R]
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def pm1_like(rows, g, dtype):
    return torch.where(torch.rand(rows, generator=g) < 0.5, -1.0, 1.0).to(dtype)


def unit(shape, g, dtype):
    return (0.02 + 0.96 * torch.rand(shape, generator=g)).to(dtype)


def binary_like(rows, g, dtype):
    return torch.where(torch.rand(rows, generator=g) < 0.5, 0.0, 1.0).to(dtype)


def elementwise(fn, pm1=False, binary=False):
    """Predictions in (0, 1); targets -1 or 1 (pm1), exactly 0 or 1 (binary), else in (0, 1)."""
    def make(n, dtype):
        g = torch.Generator().manual_seed(42)
        p = unit(n, g, dtype).requires_grad_()
        y = (pm1_like(n, g, dtype) if pm1 else binary_like(n, g, dtype) if binary
             else unit(n, g, dtype))
        return (p,), lambda: fn(p, y)
    return make


def cross_entropy(c):
    def make(n, dtype):
        g = torch.Generator().manual_seed(42)
        rows = n // c
        x = unit((rows, c), g, dtype).requires_grad_()
        t = torch.randint(0, c, (rows,), generator=g)
        return (x,), lambda: F.cross_entropy(x, t)
    return make


def triplet(d):
    def make(n, dtype):
        g = torch.Generator().manual_seed(42)
        rows = n // d
        a, p, q = (unit((rows, d), g, dtype).requires_grad_() for _ in range(3))
        return (a, p, q), lambda: F.triplet_margin_loss(a, p, q)
    return make


def cosine(d):
    def make(n, dtype):
        g = torch.Generator().manual_seed(42)
        rows = n // d
        a, b = (unit((rows, d), g, dtype).requires_grad_() for _ in range(2))
        y = pm1_like(rows, g, dtype)
        return (a, b), lambda: F.cosine_embedding_loss(a, b, y)
    return make


def hinge(p, y):
    return torch.clamp(1 - y * p, min=0).mean()


def squared_hinge(p, y):
    return (torch.clamp(1 - y * p, min=0) ** 2).mean()


def focal(p, y, alpha=0.25, gamma=2.0):
    ce = F.binary_cross_entropy(p, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def sigmoid_focal(p, y, alpha=0.25, gamma=2.0):
    # torchvision.ops.sigmoid_focal_loss, written out (torchvision may be absent).
    prob = torch.sigmoid(p)
    ce = F.binary_cross_entropy_with_logits(p, y, reduction="none")
    p_t = prob * y + (1 - prob) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    return loss.mean()


def log_cosh(p, y):
    d = p - y
    return (d + F.softplus(-2.0 * d) - 0.6931471805599453).mean()


CASES = {
    "mse": elementwise(F.mse_loss),
    "mae": elementwise(F.l1_loss),
    "mbe": elementwise(lambda p, y: (y - p).mean()),
    "huber": elementwise(F.huber_loss),
    "smooth_l1": elementwise(F.smooth_l1_loss),
    "hinge": elementwise(hinge, pm1=True),
    "squared_hinge": elementwise(squared_hinge, pm1=True),
    "bce": elementwise(F.binary_cross_entropy),
    "bce_with_logits": elementwise(F.binary_cross_entropy_with_logits),
    "focal": elementwise(focal),
    "sigmoid_focal": elementwise(sigmoid_focal),
    "focal_binary": elementwise(focal, binary=True),  # targets 0 or 1: lossd's hard-target path
    "sigmoid_focal_binary": elementwise(sigmoid_focal, binary=True),
    "log_cosh": elementwise(log_cosh),
    "soft_margin": elementwise(F.soft_margin_loss, pm1=True),
    "cross_entropy_C10": cross_entropy(10),
    "cross_entropy_C1000": cross_entropy(1000),
    "triplet_margin_D128": triplet(128),
    "cosine_embedding_D128": cosine(128),
}


def measure(make, n, dtype, reps):
    leaves, run = make(n, dtype)
    t0 = time.perf_counter()
    run().backward()  # warm-up, as bench_core does
    warm = time.perf_counter() - t0
    if warm * reps > 1.5:  # a slow case gets fewer repetitions (about 1.5 s, at least 3)
        reps = max(3, int(1.5 / warm))
    times = []
    for _ in range(reps):
        for t in leaves:
            t.grad = None
        t0 = time.perf_counter()
        run().backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def reps_for(n, forced):
    if forced:
        return forced
    return 31 if n <= 100000 else 15 if n <= 1000000 else 7 if n <= 10000000 else 5


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1e3,1e5,1e6,1e7,5e7")
    ap.add_argument("--threads", default="both")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--case", help="comma-separated case names (default: all)")
    ap.add_argument("--reps", type=int, default=0)
    args = ap.parse_args()
    sizes = [int(float(x)) for x in args.sizes.split(",")]
    threads_list = (1, 2) if args.threads == "both" else (int(args.threads),)
    dtypes = ("float32", "float64") if args.dtype == "both" else (args.dtype,)
    names = args.case.split(",") if args.case else list(CASES)
    unknown = [x for x in names if x not in CASES]
    if unknown:
        sys.exit(f"unknown case: {', '.join(unknown)}")
    print(f"# torch\t{torch.__version__}")
    for threads in threads_list:
        torch.set_num_threads(threads)
        for dtype_name in dtypes:
            dtype = getattr(torch, dtype_name)
            for n in sizes:
                for name in names:
                    sec = measure(CASES[name], n, dtype, reps_for(n, args.reps))
                    print(f"torch\t{name}\t{dtype_name}\t{n}\t{threads}\t{sec:.6g}\t{n / sec / 1e9:.4f}")
                    sys.stdout.flush()


if __name__ == "__main__":
    main()
