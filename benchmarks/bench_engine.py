"""glassnet vs PyTorch, side by side in one process, through the public Tensor API.

    python benchmarks/bench_engine.py [--reps 7] [--calls 3] [--only conv2d] [--threads N] [--glassnet-only]

Every case runs forward + backward in both frameworks with the same thread count
(torch.set_num_threads(N) and glassnet.set_num_threads(N), any N >= 1; 2 unless told), interleaved:
for each repetition glassnet and PyTorch alternate (the order alternating too), and each timed
block of --calls calls is preceded by a short pause (OpenBLAS and OpenMP worker threads spin for
~0.1 s after a call and would slow whatever runs next) and one untimed warm-up call. Reported:
the median wall time per call over the repetitions, the ratio glassnet / PyTorch (the median
over the repetitions of the ratio of two blocks run back to back), and the same ratio of process
CPU time per call (on a busy machine the wall times mostly measure the scheduler; with
--threads 1 the CPU ratio is a load-independent comparison of the work each framework does).
The header and the last line give the time and the load average (/proc/loadavg), so that a run
on a shared machine can be labelled as such. Targets (issue 13, at 2 threads): geometric mean
of the conv2d ratios <= 1.0, none above 1.3; LeNet-5 training step <= 1.0; ReLU + max pooling
and long-kernel conv1d <= 1.0. Cases whose glassnet operations do not exist yet are skipped
with a message.

--glassnet-only times glassnet alone (same blocks, pauses and medians, no PyTorch calls in the
process): for comparing two versions of glassnet, each run from its own checkout. In one process
the two frameworks change each other's speed: PyTorch's CPU allocations take 12,000-19,000 page
faults per (128, 32, 28x28) 3x3 step here, and glibc's malloc moves its thresholds with what
either framework frees.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
import glassnet.functional as F  # noqa: E402

THREADS = 2
PAUSE = 0.15  # seconds of quiet before each timed block

# (N, C, H=W, O, k, stride, pad)
CONV2D = [(64, 1, 28, 6, 5, 1, 2), (64, 6, 14, 16, 5, 1, 0), (128, 32, 28, 64, 3, 1, 1),
          (64, 64, 32, 64, 3, 1, 1), (32, 128, 16, 128, 3, 1, 1), (32, 64, 32, 128, 3, 2, 1)]


class Skip(Exception):
    pass


def _pair(rng, *shapes):
    """The same random float32 data as glassnet tensors and as torch tensors, all requiring grad."""
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    return ([glassnet.tensor(a, requires_grad=True) for a in arrays],
            [torch.tensor(a, requires_grad=True) for a in arrays])


def _fwd_bwd(op, inputs, dy):
    def step():
        for t in inputs:
            t.grad = None
        op(*inputs).backward(dy)
    return step


def conv2d_case(n, c, h, o, k, s, p):
    rng = np.random.default_rng(0)
    g, t = _pair(rng, (n, c, h, h), (o, c, k, k), (o,))
    out = (h + 2 * p - k) // s + 1
    dy = rng.standard_normal((n, o, out, out)).astype(np.float32)
    return (_fwd_bwd(lambda x, w, b: F.conv2d(x, w, b, s, p), g, dy),
            _fwd_bwd(lambda x, w, b: torch.nn.functional.conv2d(x, w, b, s, p), t, torch.tensor(dy)))


def pool_case():
    if not (hasattr(F, "relu") and hasattr(F, "max_pool2d")):
        raise Skip("glassnet.functional.relu / max_pool2d not available yet")
    rng = np.random.default_rng(0)
    g, t = _pair(rng, (64, 32, 28, 28))
    dy = rng.standard_normal((64, 32, 14, 14)).astype(np.float32)
    return (_fwd_bwd(lambda x: F.max_pool2d(F.relu(x), 2), g, dy),
            _fwd_bwd(lambda x: torch.nn.functional.max_pool2d(torch.relu(x), 2), t, torch.tensor(dy)))


def conv1d_case():
    rng = np.random.default_rng(0)
    g, t = _pair(rng, (32, 1, 16000), (16, 1, 251), (16,))
    dy = rng.standard_normal((32, 16, 16000 - 250)).astype(np.float32)
    return (_fwd_bwd(lambda x, w, b: F.conv1d(x, w, b), g, dy),
            _fwd_bwd(lambda x, w, b: torch.nn.functional.conv1d(x, w, b), t, torch.tensor(dy)))


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def lenet_case():
    try:
        import glassnet.nn as gnn
        import glassnet.optim as goptim
        model = _lenet(gnn)
        opt = goptim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        loss_fn = gnn.CrossEntropyLoss()
    except (ImportError, AttributeError) as err:
        raise Skip(f"glassnet.nn / glassnet.optim not complete yet ({err})") from None
    tmodel = _lenet(torch.nn)
    tmodel.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in model.state_dict().items()})
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01, momentum=0.9)
    tloss_fn = torch.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    images = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, 64)
    x, y = glassnet.tensor(images), glassnet.tensor(labels)
    tx, ty = torch.tensor(images), torch.tensor(labels)

    def g_step():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    def t_step():
        topt.zero_grad()
        tloss_fn(tmodel(tx), ty).backward()
        topt.step()
    return g_step, t_step


def _time_block(step, calls: int) -> tuple[float, float]:
    """(wall seconds, process CPU seconds) per call."""
    time.sleep(PAUSE)
    step()  # untimed warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        step()
    return (time.perf_counter() - wall) / calls, (time.process_time() - cpu) / calls


def measure(g_step, t_step, reps: int, calls: int) -> tuple[tuple[float, float], tuple[float, float], float, float]:
    """Median (wall, cpu) per call of glassnet and of PyTorch, interleaved block by block, and
    the medians of the paired ratios glassnet / PyTorch (wall, cpu) of blocks run back to back.
    The paired ratio is the reported one: this machine's speed drifts over seconds, and two
    blocks run one after the other see the same machine."""
    g_times, t_times = [], []
    for r in range(reps):
        order = [(g_step, g_times), (t_step, t_times)]
        for step, times in (order if r % 2 == 0 else order[::-1]):
            times.append(_time_block(step, calls))
    wall_ratio = statistics.median(g[0] / t[0] for g, t in zip(g_times, t_times))
    cpu_ratio = statistics.median(g[1] / t[1] for g, t in zip(g_times, t_times))
    medians = tuple(tuple(statistics.median(v) for v in zip(*times)) for times in (g_times, t_times))
    return medians[0], medians[1], wall_ratio, cpu_ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=7, help="timed blocks per framework and case")
    parser.add_argument("--calls", type=int, default=3, help="calls per timed block")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    parser.add_argument("--threads", type=_positive, default=THREADS,
                        help="threads for both frameworks, any N >= 1 (1: a load-independent work comparison)")
    parser.add_argument("--glassnet-only", action="store_true",
                        help="time glassnet alone (to compare two versions of it, each from its own checkout)")
    args = parser.parse_args()
    if args.glassnet_only:
        glassnet_only(args)
        return
    torch.set_num_threads(args.threads)
    glassnet.set_num_threads(args.threads)  # glassnet holds OpenBLAS at one thread either way

    cases = [(f"conv2d {c}", lambda c=c: conv2d_case(*c)) for c in CONV2D]
    cases += [("relu+max_pool2d (64,32,28,28)", pool_case), ("conv1d (32,1,16000) k=251 x16", conv1d_case),
              ("LeNet-5 train step, batch 64", lenet_case)]
    print(f"glassnet {glassnet.__version__}, numpy {np.__version__}, torch {torch.__version__}, "
          f"threads {args.threads} (CPUs usable: {_cpus()}); forward+backward, median of {args.reps} blocks "
          f"of {args.calls} calls; {_now_and_load()}")
    print(f"{'case (N, C, H, O, k, s, p)':40s} {'glassnet ms':>12s} {'torch ms':>10s} {'ratio':>7s} "
          f"{'cpu ratio':>10s}")
    conv_ratios = []
    for name, build in cases:
        if args.only not in name:
            continue
        try:
            g_step, t_step = build()
        except Skip as why:
            print(f"{name:40s} skipped: {why}")
            continue
        (g, _), (t, _), ratio, cpu_ratio = measure(g_step, t_step, args.reps, args.calls)
        print(f"{name:40s} {g * 1e3:12.2f} {t * 1e3:10.2f} {ratio:7.2f} {cpu_ratio:10.2f}", flush=True)
        if name.startswith("conv2d"):
            conv_ratios.append(ratio)
    if conv_ratios:
        geomean = math.exp(sum(math.log(r) for r in conv_ratios) / len(conv_ratios))
        print(f"conv2d geometric mean ratio {geomean:.2f}, worst {max(conv_ratios):.2f}")
    print(f"done; {_now_and_load()}")


def glassnet_only(args) -> None:
    """Each case's glassnet step alone: median wall and CPU time per call over the blocks."""
    glassnet.set_num_threads(args.threads)
    cases = [(f"conv2d {c}", lambda c=c: conv2d_case(*c)) for c in CONV2D]
    cases += [("relu+max_pool2d (64,32,28,28)", pool_case), ("conv1d (32,1,16000) k=251 x16", conv1d_case),
              ("LeNet-5 train step, batch 64", lenet_case)]
    print(f"glassnet {glassnet.__version__} alone, threads {args.threads}; forward+backward, median of "
          f"{args.reps} blocks of {args.calls} calls; {_now_and_load()}")
    print(f"{'case (N, C, H, O, k, s, p)':40s} {'wall ms':>10s} {'cpu ms':>10s}")
    for name, build in cases:
        if args.only not in name:
            continue
        step = build()[0]
        times = [_time_block(step, args.calls) for _ in range(args.reps)]
        wall, cpu = (statistics.median(v) for v in zip(*times))
        print(f"{name:40s} {wall * 1e3:10.2f} {cpu * 1e3:10.2f}", flush=True)
    print(f"done; {_now_and_load()}")


def _positive(text: str) -> int:
    n = int(text)
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a thread count >= 1, got {text}")
    return n


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def _now_and_load() -> str:
    """UTC time and the 1-, 5- and 15-minute load averages, for labelling a run."""
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "unknown"
    return f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime())} UTC, load average {load}"


if __name__ == "__main__":
    main()
