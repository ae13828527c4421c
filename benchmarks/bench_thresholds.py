"""The two size thresholds that decide how small work uses two threads, measured against their
alternatives in one process, interleaved and paired.

    python benchmarks/bench_thresholds.py [--reps 11] [--threads 2]

1. kernels/conv.py SIDE_BY_SIDE_BYTES: a convolution's backward whose patch matrix is in that
   range computes dx and dW side by side (one thread each) instead of one after the other (each
   shared among the threads where it is large enough). Backward (dx, dW, db) of LeNet-5's
   second layer, (N, 6, 14x14) -> 16 maps 5x5, for N from 2 to 64, and of two 3x3 layers above
   the range.
2. kernels/fast/threads.py PARALLEL_BYTES: pooling, elementwise and layout kernels split arrays
   larger than this among the threads. A LeNet-5 training step (maps of 0.3-1.2 MB) and ReLU +
   2x2 max pooling at two sizes, with the threshold at 256 KiB (its value before), at its value
   now, and never.

Reported: the median time per call of each variant and the median of the paired ratios against
the first variant (blocks run back to back, so both see the same machine).
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
import glassnet.functional as F  # noqa: E402
from bench_engine import _now_and_load, lenet_case  # noqa: E402
from glassnet.kernels import conv  # noqa: E402
from glassnet.kernels.fast import elementwise, layout, pooling, threads  # noqa: E402


def block_ms(fn, calls: int) -> float:
    time.sleep(0.05)
    fn()  # untimed warm-up
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e3


def paired_times(fn, variants: dict, apply, reps: int, calls: int) -> dict:
    """{variant: [ms per call of each block]}: fn timed under each variant (apply(value) sets it),
    the variants alternating, their order reversed every repetition."""
    times = {key: [] for key in variants}
    keys = list(variants)
    for r in range(reps):
        for key in (keys if r % 2 == 0 else keys[::-1]):
            apply(variants[key])
            times[key].append(block_ms(fn, calls))
    return times


def compare(name: str, fn, variants: dict, apply, reps: int, calls: int) -> None:
    """Time fn under each variant (paired_times) and print the medians and the paired ratios
    against the first variant."""
    times = paired_times(fn, variants, apply, reps, calls)
    keys = list(variants)
    first = times[keys[0]]
    cells = [f"{key}: {statistics.median(times[key]):.3f} ms"
             + ("" if key == keys[0] else f" ({statistics.median(a / b for a, b in zip(times[key], first)):.3f})")
             for key in keys]
    print(f"{name:34s} " + "; ".join(cells), flush=True)


def side_by_side(reps: int, calls: int) -> None:
    print("backward dx, dW, db; paired ratio against one after the other in parentheses")
    saved = conv.SIDE_BY_SIDE_BYTES

    def apply(value):
        conv.SIDE_BY_SIDE_BYTES = value
    rng = np.random.default_rng(0)
    for n, c, h, o, k in [(2, 6, 14, 16, 5), (4, 6, 14, 16, 5), (8, 6, 14, 16, 5), (16, 6, 14, 16, 5),
                          (32, 6, 14, 16, 5), (64, 6, 14, 16, 5), (16, 64, 16, 64, 3), (64, 32, 14, 32, 3)]:
        pad = k // 2 if k == 3 else 0
        x = rng.standard_normal((n, c, h, h)).astype(np.float32)
        w = rng.standard_normal((o, c, k, k)).astype(np.float32)
        out = h + 2 * pad - k + 1
        dy = rng.standard_normal((n, o, out, out)).astype(np.float32)
        patches = n * out * out * c * k * k * 4
        compare(f"({n}, {c}, {h}x{h}) -> {o}, {k}x{k}: {patches / 2**20:.2f} MiB",
                lambda: conv.conv_backward(dy, x, w, 1, pad),
                {"one after the other": (float("inf"),) * 2, "side by side": (0, float("inf"))}, apply, reps, calls)
    conv.SIDE_BY_SIDE_BYTES = saved


def split_threshold(reps: int, calls: int) -> None:
    print("PARALLEL_BYTES; paired ratio against 256 KiB in parentheses")
    saved = threads.PARALLEL_BYTES

    def apply(value):
        for module in (threads, elementwise, layout, pooling):
            module.PARALLEL_BYTES = value
    variants = {"256 KiB": 1 << 18, f"{saved >> 10} KiB (now)": saved, "never": float("inf")}
    step, _ = lenet_case()
    compare("LeNet-5 train step, batch 64", step, variants, apply, reps, calls)
    rng = np.random.default_rng(0)
    for shape in [(16, 32, 28, 28), (64, 32, 28, 28)]:
        x = glassnet.tensor(rng.standard_normal(shape).astype(np.float32), requires_grad=True)
        dy = rng.standard_normal(shape[:2] + (shape[2] // 2, shape[3] // 2)).astype(np.float32)

        def relu_pool(x=x, dy=dy):
            x.grad = None
            F.max_pool2d(F.relu(x), 2).backward(dy)
        compare(f"relu+max_pool2d {shape}", relu_pool, variants, apply, reps, calls)
    apply(saved)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=11)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    glassnet.set_num_threads(args.threads)
    print(f"threads {args.threads}, median of {args.reps} blocks of {args.calls} calls; {_now_and_load()}")
    side_by_side(args.reps, args.calls)
    split_threshold(args.reps, args.calls)
    print(f"done; {_now_and_load()}")


if __name__ == "__main__":
    main()
