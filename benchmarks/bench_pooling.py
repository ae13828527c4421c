"""Pooling forward+backward, glassnet vs PyTorch, side by side in one process.

Run: python benchmarks/bench_pooling.py [--reps 7] [--calls 5]

Each case calls the public functional API (Tensor in, backward with a fixed upstream gradient).
The two frameworks alternate in timed blocks; each block follows a short pause (OpenMP worker
threads spin for a while after a call) and one untimed call. Printed: the median and the
fastest block per call, and the ratio glassnet / PyTorch of the medians. The fastest block is a
useful second number on a shared machine, where other processes inflate medians.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
import glassnet.functional as F  # noqa: E402

TF = torch.nn.functional
PAUSE = 0.15

# name, input shape, glassnet op, torch op (same arguments)
CASES = [
    ("relu+max_pool2d 2x2 (64,32,28,28)", (64, 32, 28, 28),
     lambda x: F.max_pool2d(F.relu(x), 2), lambda x: TF.max_pool2d(torch.relu(x), 2)),
    ("max_pool2d 2x2 (64,32,28,28)", (64, 32, 28, 28),
     lambda x: F.max_pool2d(x, 2), lambda x: TF.max_pool2d(x, 2)),
    ("max_pool2d 3x3 s2 p1 (32,64,32,32)", (32, 64, 32, 32),
     lambda x: F.max_pool2d(x, 3, 2, 1), lambda x: TF.max_pool2d(x, 3, 2, 1)),
    ("avg_pool2d 2x2 (64,32,28,28)", (64, 32, 28, 28),
     lambda x: F.avg_pool2d(x, 2), lambda x: TF.avg_pool2d(x, 2)),
    ("avg_pool2d 3x3 s1 p1 (32,64,32,32)", (32, 64, 32, 32),
     lambda x: F.avg_pool2d(x, 3, 1, 1), lambda x: TF.avg_pool2d(x, 3, 1, 1)),
    ("adaptive_avg_pool2d 7 (32,256,13,13)", (32, 256, 13, 13),
     lambda x: F.adaptive_avg_pool2d(x, 7), lambda x: TF.adaptive_avg_pool2d(x, 7)),
    ("adaptive_max_pool2d 7 (32,256,13,13)", (32, 256, 13, 13),
     lambda x: F.adaptive_max_pool2d(x, 7), lambda x: TF.adaptive_max_pool2d(x, 7)),
    ("max_pool3d 2x2x2 (8,16,32,32,32)", (8, 16, 32, 32, 32),
     lambda x: F.max_pool3d(x, 2), lambda x: TF.max_pool3d(x, 2)),
]


def block(step, calls):
    time.sleep(PAUSE)
    step()
    start = time.perf_counter()
    for _ in range(calls):
        step()
    return (time.perf_counter() - start) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    torch.set_num_threads(2)
    print(f"glassnet {glassnet.__version__}, torch {torch.__version__}, torch threads 2")
    print(f"{'case':40s} {'glassnet ms':>16s} {'torch ms':>16s} {'ratio':>6s}")
    print(f"{'':40s} {'median / best':>16s} {'median / best':>16s}")
    for name, shape, g_op, t_op in CASES:
        if args.only not in name:
            continue
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        xg, xt = glassnet.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        dy = np.random.default_rng(1).standard_normal(g_op(xg).shape).astype(np.float32)
        dyt = torch.tensor(dy)

        def g_step():
            xg.grad = None
            g_op(xg).backward(dy)

        def t_step():
            xt.grad = None
            t_op(xt).backward(dyt)

        g_times, t_times = [], []
        for _ in range(args.reps):
            g_times.append(block(g_step, args.calls))
            t_times.append(block(t_step, args.calls))
        g, t = statistics.median(g_times), statistics.median(t_times)
        print(f"{name:40s} {g * 1e3:7.2f} / {min(g_times) * 1e3:6.2f} {t * 1e3:7.2f} / {min(t_times) * 1e3:6.2f}"
              f" {g / t:6.2f}", flush=True)


if __name__ == "__main__":
    main()
