"""Winograd (kernels/fast/winograd.py) against im2col + GEMM (kernels/fast/im2col.py) for 3x3
stride-1 convolutions, and its two tile sizes F(4x4, 3x3) and F(2x2, 3x3) against each other,
forward + backward through glassnet's kernels, paired and interleaved in one process: the
float32 error of each against a float64 reference, and the CPU time of each.

    python benchmarks/bench_winograd.py [--reps 11] [--threads 1]

Each case runs on three paths, in turn and in a rotating order: im2col throughout, and Winograd
allowed for every size (winograd.MIN_IN = MIN_OUT = 1, MIN_POSITIONS = 0) with its forward and
input gradient by F(2x2, 3x3) or by F(4x4, 3x3) (winograd.F4_MIN_CHANNEL_PAIRS; the weight
gradient is F(2x2) on both). Reported: the largest error of y, dx and dw relative to the largest
value of each (float64 reference: the im2col path in float64), the median process CPU time per
call of forward + backward on each path, the medians of the paired ratios F(4x4) / F(2x2) for the
forward alone, the input gradient alone and forward + backward, and Winograd as
winograd.tiles_for picks it / im2col for the forward, the input gradient, the weight gradient and
forward + backward (CPU time: on a machine shared with other work it is far steadier than wall time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import glassnet  # noqa: E402
from bench_engine import _now_and_load  # noqa: E402
from glassnet.kernels import conv  # noqa: E402
from glassnet.kernels.fast import winograd  # noqa: E402

# (N, C_in, H=W, C_out), 3x3, padding 1: the engine benchmark's stride-1 cases, LeNet-sized and odd
# ones, and small ones on either side of winograd.worthwhile's thresholds
CASES = [(64, 6, 14, 16), (64, 32, 14, 32), (128, 32, 28, 64), (64, 64, 32, 64), (32, 128, 16, 128),
         (8, 64, 31, 64), (16, 64, 16, 64), (1, 64, 56, 64),
         (64, 16, 14, 16), (64, 16, 28, 32), (8, 32, 8, 32), (2, 64, 8, 64), (1, 32, 16, 32), (1, 128, 7, 128)]


def _step(x, w, b, dy):
    def run():
        y, xp = conv.conv_forward(x, w, b, 1, 1, return_padded=True)
        return (y,) + conv.conv_backward(dy, x, w, 1, 1, xp=xp)
    return run


def _parts(x, w, b, dy):
    """forward alone, input gradient alone, weight gradient alone, forward + backward."""
    return {"forward": lambda: conv.conv_forward(x, w, b, 1, 1),
            "input grad": lambda: conv.conv_backward(dy, x, w, 1, 1, needs=(True, False, False)),
            "weight grad": lambda: conv.conv_backward(dy, x, w, 1, 1, needs=(False, True, False)),
            "all": _step(x, w, b, dy)}


def _cpu(fn, calls) -> float:
    fn()
    start = time.process_time()
    for _ in range(calls):
        fn()
    return (time.process_time() - start) / calls


def _errors(got, want) -> str:
    return " ".join(f"{float(np.abs(g - t).max() / np.abs(t).max()):.1e}" for g, t in zip(got, want))


PATHS = {"im2col": dict(MIN_IN=float("inf"), MIN_OUT=float("inf"), MIN_POSITIONS=float("inf")),
         "F2": dict(MIN_IN=1, MIN_OUT=1, MIN_POSITIONS=0, F4_MIN_CHANNEL_PAIRS=float("inf")),
         "F4": dict(MIN_IN=1, MIN_OUT=1, MIN_POSITIONS=0, F4_MIN_CHANNEL_PAIRS=0)}


def _use(path: str) -> None:
    for name, value in PATHS[path].items():
        setattr(winograd, name, value)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--calls", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    glassnet.set_num_threads(args.threads)
    print(f"threads {args.threads}, forward + backward, median of {args.reps} paired repetitions; {_now_and_load()}")
    print(f"{'case (N, C_in, H=W, C_out)':24s} {'error y dx dw: im2col':>24s} {'F(2x2)':>24s} {'F(4x4)':>24s} "
          f"{'ms: im2col':>10s} {'F2':>6s} {'F4':>6s} | {'F4/F2: fwd':>10s} {'dx':>5s} {'all':>5s} | "
          f"{'chosen/im2col: fwd':>18s} {'dx':>5s} {'dw':>5s} {'all':>5s}")
    rng = np.random.default_rng(0)
    default = {name: getattr(winograd, name) for name in PATHS["F2"]}
    for n, c, h, o in CASES:
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = (rng.standard_normal((o, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
        b = rng.standard_normal(o).astype(np.float32)
        dy = np.moveaxis(np.ascontiguousarray(rng.standard_normal((n, h, h, o)).astype(np.float32)), -1, 1)  # channels-last
        reference = _step(*(np.ascontiguousarray(a, dtype=np.float64) for a in (x, w, b, dy)))()[:3]
        chosen = "F4" if c * o >= default["F4_MIN_CHANNEL_PAIRS"] else "F2"
        errors, f4_f2, chosen_im2col, times = {}, {}, {}, {}
        for name in PATHS:
            _use(name)
            errors[name] = _errors(_step(x, w, b, dy)()[:3], reference)
        for part, fn in _parts(x, w, b, dy).items():
            pair = {name: [] for name in PATHS}
            for r in range(args.reps):
                order = list(PATHS)
                for name in order[r % 3:] + order[:r % 3]:
                    _use(name)
                    pair[name].append(_cpu(fn, args.calls))
            f4_f2[part] = statistics.median(a / b for a, b in zip(pair["F4"], pair["F2"]))
            chosen_im2col[part] = statistics.median(a / b for a, b in zip(pair[chosen], pair["im2col"]))
            if part == "all":
                times = {name: statistics.median(t) * 1e3 for name, t in pair.items()}
        for name, value in default.items():
            setattr(winograd, name, value)
        print(f"{str((n, c, h, o)):24s} {errors['im2col']:>24s} {errors['F2']:>24s} {errors['F4']:>24s} "
              f"{times['im2col']:10.2f} {times['F2']:6.2f} {times['F4']:6.2f} | {f4_f2['forward']:10.2f} "
              f"{f4_f2['input grad']:5.2f} {f4_f2['all']:5.2f} | {chosen_im2col['forward']:18.2f} "
              f"{chosen_im2col['input grad']:5.2f} {chosen_im2col['weight grad']:5.2f} {chosen_im2col['all']:5.2f}",
              flush=True)
    print(f"done; {_now_and_load()}")


if __name__ == "__main__":
    main()
