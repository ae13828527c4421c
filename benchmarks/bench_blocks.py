"""What the fixed blocks cost: convolutions and the LeNet-5 step with glassnet's fixed blocks
(kernels/fast/blocks.py) against the same code with one block per GEMM chunk, which is how the
chunks were cut before the blocks (each thread's rows cut into chunks of CHUNK_BYTES from its
own start), in one thread, paired and interleaved in one process.

    python benchmarks/bench_blocks.py [--reps 15]

One thread, because with one block per chunk a batch has too few blocks to share; the cost
being measured is the extra work of smaller GEMMs and more partial sums, which one thread shows.
Reported per case: the median thread CPU time per call of each variant and the median of the
paired ratios blocked / chunked (CPU time: on a machine shared with other work it is far
steadier than wall time).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import glassnet  # noqa: E402
from bench_engine import CONV2D, _now_and_load, conv2d_case, lenet_case  # noqa: E402
from glassnet.kernels.fast import blocks  # noqa: E402

FIXED = (blocks.TARGET_BLOCKS, blocks.MIN_ROWS)
PER_CHUNK = (1, 1 << 40)  # one block per batch, cut at most a chunk long: one block per chunk


def _cpu_per_call(step, calls: int) -> float:
    step()
    start = time.thread_time()
    for _ in range(calls):
        step()
    return (time.thread_time() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    glassnet.set_num_threads(1)
    print(f"one thread; median of {args.reps} paired blocks of {args.calls} calls; {_now_and_load()}")
    print(f"{'case':40s} {'blocked us':>11s} {'chunked us':>11s} {'ratio':>6s}")
    cases = [(f"conv2d {c}", lambda c=c: conv2d_case(*c)[0]) for c in CONV2D]
    cases.append(("LeNet-5 train step, batch 64", lambda: lenet_case()[0]))
    for name, build in cases:
        step = build()
        times = {FIXED: [], PER_CHUNK: []}
        for r in range(args.reps):
            for variant in ((FIXED, PER_CHUNK) if r % 2 == 0 else (PER_CHUNK, FIXED)):
                blocks.TARGET_BLOCKS, blocks.MIN_ROWS = variant
                times[variant].append(_cpu_per_call(step, args.calls))
        blocks.TARGET_BLOCKS, blocks.MIN_ROWS = FIXED
        ratio = statistics.median(a / b for a, b in zip(times[FIXED], times[PER_CHUNK]))
        print(f"{name:40s} {statistics.median(times[FIXED]) * 1e6:11.0f} "
              f"{statistics.median(times[PER_CHUNK]) * 1e6:11.0f} {ratio:6.3f}", flush=True)
    print(f"done; {_now_and_load()}")


if __name__ == "__main__":
    main()
