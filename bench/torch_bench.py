#!/usr/bin/python3
"""PyTorch forward+backward throughput for the losses bench_core measures.

Run with Debian's interpreter (/usr/bin/python3, python3-torch). Prints TSV rows in
bench_core's format with kind "torch":
    torch  <case>  float32  <n>  <threads>  <median_seconds>  <G_elements_per_s>
Usage: torch_bench.py [--quick] [--threads T] [--case NAME]
"""
import argparse
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def elementwise(fn, pm1=False, prob=False):
    def make(n):
        g = torch.Generator().manual_seed(42)
        p = (0.02 + 0.96 * torch.rand(n, generator=g)).requires_grad_()
        if pm1:
            y = torch.where(torch.rand(n, generator=g) < 0.5, -1.0, 1.0)
        else:
            y = 0.02 + 0.96 * torch.rand(n, generator=g)
        return (p, y), lambda: fn(p, y)
    return make


def cross_entropy(c):
    def make(n):
        g = torch.Generator().manual_seed(42)
        rows = n // c
        x = torch.rand(rows, c, generator=g).requires_grad_()
        t = torch.randint(0, c, (rows,), generator=g)
        return (x,), lambda: F.cross_entropy(x, t)
    return make


def triplet(d):
    def make(n):
        g = torch.Generator().manual_seed(42)
        rows = n // d
        a, p, q = (torch.rand(rows, d, generator=g).requires_grad_() for _ in range(3))
        return (a, p, q), lambda: F.triplet_margin_loss(a, p, q)
    return make


def cosine(d):
    def make(n):
        g = torch.Generator().manual_seed(42)
        rows = n // d
        a, b = (torch.rand(rows, d, generator=g).requires_grad_() for _ in range(2))
        y = torch.where(torch.rand(rows, generator=g) < 0.5, -1.0, 1.0)
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
    "sigmoid_focal": elementwise(lambda p, y: __import__("torchvision").ops.sigmoid_focal_loss(p, y, reduction="mean")),
    "log_cosh": elementwise(log_cosh),
    "soft_margin": elementwise(F.soft_margin_loss, pm1=True),
    "cross_entropy_C10": cross_entropy(10),
    "cross_entropy_C1000": cross_entropy(1000),
    "triplet_margin_D128": triplet(128),
    "cosine_embedding_D128": cosine(128),
}


def measure(make, n, reps):
    leaves, run = make(n)
    times = []
    for _ in range(reps):
        for t in leaves:
            t.grad = None
        t0 = time.perf_counter()
        run().backward()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--case")
    ap.add_argument("--n", type=float)
    args = ap.parse_args()
    sizes = [1000, 100000, 1000000, 10000000] + ([] if args.quick else [50000000])
    if args.n:
        sizes = [int(args.n)]
    for threads in (1, 2):
        if args.threads and threads != args.threads:
            continue
        torch.set_num_threads(threads)
        for n in sizes:
            for name, make in CASES.items():
                if args.case and args.case != name:
                    continue
                reps = 15 if n <= 1000000 else 5
                sec = measure(make, n, reps)
                print(f"torch\t{name}\tfloat32\t{n}\t{threads}\t{sec:.6g}\t{n / sec / 1e9:.4f}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
