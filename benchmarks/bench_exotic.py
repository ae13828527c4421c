"""Locally connected and tiled convolution, forward + backward: glassnet against the PyTorch
composition a user would otherwise write (F.unfold + einsum, weights expanded per position by
indexing for the tiled layer; torch autograd for the backward).

Both sides run the same shapes with the same number of threads (OpenBLAS for NumPy through
threadpoolctl, torch.set_num_threads). Runs alternate glassnet / torch (the order alternating
too), and the median of each is reported with the ratio glassnet / torch (below 1: glassnet is
faster), for wall time and for process CPU time. On a busy machine the wall time mostly measures
the scheduler; with one thread the CPU-time ratio compares the work each side does.

    python3 benchmarks/bench_exotic.py [--threads 1] [--repeats 15]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as TF
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
import glassnet as gn  # noqa: E402
from glassnet.functional.local import locally_connected, tiled_conv  # noqa: E402
from glassnet.kernels.local import local_output_shape  # noqa: E402

# name, N, C_in, C_out, spatial, kernel, stride, padding, tiles (None: locally connected)
CASES = [
    ("local  28x28 1->6 k5 (LeNet C1 unshared)", 64, 1, 6, (28, 28), 5, 1, 2, None),
    ("local  16x16 16->32 k3", 32, 16, 32, (16, 16), 3, 1, 1, None),
    ("local  8x8 32->64 k3 s2", 32, 32, 64, (8, 8), 3, 2, 1, None),
    ("tiled  16x16 16->32 k3 t=2", 32, 16, 32, (16, 16), 3, 1, 1, 2),
    ("tiled  16x16 16->32 k3 t=4", 32, 16, 32, (16, 16), 3, 1, 1, 4),
    ("tiled  28x28 1->6 k5 t=2", 64, 1, 6, (28, 28), 5, 1, 2, 2),
]


def glassnet_step(x, w, b, dy, stride, padding, tiled):
    xt = gn.tensor(x, requires_grad=True)
    wt, bt = gn.tensor(w, requires_grad=True), gn.tensor(b, requires_grad=True)
    fn = tiled_conv if tiled else locally_connected
    fn(xt, wt, bt, stride, padding).backward(dy)
    return xt.grad


def torch_step(x, w, b, dy, k, stride, padding, out, tiles):
    xt = torch.from_numpy(x).requires_grad_()
    wt, bt = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
    if tiles is not None:  # position p uses tile p mod t
        rows, cols = torch.arange(out[0]) % tiles, torch.arange(out[1]) % tiles
        w_full = wt[rows][:, cols]  # (*out, O, C, k, k)
    else:
        w_full = wt
    n, c = x.shape[:2]
    cols_ = TF.unfold(xt, k, padding=padding, stride=stride)  # (N, C k k, P)
    y = torch.einsum("nkp,pok->nop", cols_, w_full.reshape(out[0] * out[1], w.shape[2], -1))
    y = y.reshape((n, -1) + tuple(out)) + bt.reshape(1, -1, 1, 1)
    y.backward(torch.from_numpy(dy))
    return xt.grad


def run(case, repeats, rng):
    name, n, cin, cout, spatial, k, stride, padding, tiles = case
    out = local_output_shape(spatial, (k, k), stride, padding)
    grid = out if tiles is None else (tiles, tiles)
    x = rng.standard_normal((n, cin) + spatial).astype(np.float32)
    w = (rng.standard_normal(grid + (cout, cin, k, k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    dy = rng.standard_normal((n, cout) + out).astype(np.float32)
    ours = lambda: glassnet_step(x, w, b, dy, stride, padding, tiles is not None)  # noqa: E731
    theirs = lambda: torch_step(x, w, b, dy, k, stride, padding, out, tiles)  # noqa: E731
    np.testing.assert_allclose(ours(), theirs().numpy(), rtol=1e-3, atol=1e-3)  # same numbers, and warm-up
    wall = {"glassnet": [], "torch": []}
    cpu = {"glassnet": [], "torch": []}
    sides = [("glassnet", ours), ("torch", theirs)]
    for i in range(repeats):  # interleaved, so load changes on the machine hit both sides alike
        for side, fn in sides if i % 2 == 0 else sides[::-1]:
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[side].append(time.perf_counter() - start)
            cpu[side].append(time.process_time() - start_cpu)
    median = statistics.median
    return (name, median(wall["glassnet"]), median(wall["torch"]), median(cpu["glassnet"]) / median(cpu["torch"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"forward + backward, median of {args.repeats} interleaved runs, {args.threads} thread(s), "
          f"numpy {np.__version__}, torch {torch.__version__}")
    print(f"{'layer':42s} {'glassnet ms':>12s} {'torch ms':>10s} {'ratio':>7s} {'cpu ratio':>10s}")
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for case in CASES:
            name, g, t, cpu_ratio = run(case, args.repeats, rng)
            print(f"{name:42s} {g * 1e3:12.2f} {t * 1e3:10.2f} {g / t:7.2f} {cpu_ratio:10.2f}")


if __name__ == "__main__":
    main()
