"""A batch of one at 1 thread against N threads, side by side in one process: convolution forward
and input gradient of LeNet-5- and VGG-sized layers (what inference and input attributions run).

    python benchmarks/bench_batch_one.py [--reps 15] [--calls 5] [--threads 2]

For each repetition the one-thread block and the N-thread block of --calls calls run back to
back (their order alternating), each after a short pause and one untimed warm-up call. Reported
per case and direction: the median time per call at 1 and at N threads, and the median over the
repetitions of the paired ratio (N threads / 1 thread; below 1 means the split helps), and
"shared": how many splits ran on more than one thread during the N-thread calls (any kernel of
the call, the layout copies included), out of the calls made. A split that would have shared
but did not fell back to one thread because the CPUs looked busy with other programs
(kernels/fast/threads.py). The header
and the last line give the time and the load average (/proc/loadavg): on a shared machine the
ratios say more than the times. Layers whose patch matrix is under im2col.SMALL_BYTES stay in
one thread by design (their ratio should be about 1).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
from glassnet.kernels import conv  # noqa: E402
from glassnet.kernels.fast import threads  # noqa: E402

PAUSE = 0.1  # seconds of quiet before each timed block

# name: (C_in, H=W, C_out, k, padding), batch 1
CASES = {
    "LeNet-5 conv1 (1->6, 28x28, 5x5)": (1, 28, 6, 5, 2),
    "LeNet-5 conv2 (6->16, 14x14, 5x5)": (6, 14, 16, 5, 0),
    "one channel (1->32, 224x224, 5x5)": (1, 224, 32, 5, 2),
    "VGG conv1 (3->64, 224x224, 3x3)": (3, 224, 64, 3, 1),
    "VGG (64->64, 56x56, 3x3)": (64, 56, 64, 3, 1),
    "VGG (128->128, 28x28, 3x3)": (128, 28, 128, 3, 1),
}


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


SHARED = [0]  # splits that ran on more than one thread, counted through threads.run_side_by_side
_run_side_by_side = threads.run_side_by_side


def _counting(calls):
    SHARED[0] += 1
    return _run_side_by_side(calls)


threads.run_side_by_side = _counting


def _timed(fn, calls: int, n_threads: int) -> float:
    glassnet.set_num_threads(n_threads)
    time.sleep(PAUSE)
    fn()
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {_load()}, "
          f"1 vs {args.threads} threads, median of {args.reps} paired repetitions of {args.calls} calls")
    print(f"{'case':38} {'direction':15} {'1 thread':>10} {f'{args.threads} threads':>10} {'ratio':>7} {'shared':>14}")
    rng = np.random.default_rng(0)
    for name, (c_in, size, c_out, k, pad) in CASES.items():
        x = rng.standard_normal((1, c_in, size, size)).astype(np.float32)
        w = rng.standard_normal((c_out, c_in, k, k)).astype(np.float32)
        dy = rng.standard_normal(conv.conv_forward(x, w, padding=pad).shape).astype(np.float32)
        runs = {"forward": lambda: conv.conv_forward(x, w, padding=pad),
                "input gradient": lambda: conv.conv_backward(dy, x, w, padding=pad, needs=(True, False, False))}
        for direction, fn in runs.items():
            one, many, ratios, shared = [], [], [], 0
            for rep in range(args.reps):
                if rep % 2:
                    SHARED[0] = 0
                    b = _timed(fn, args.calls, args.threads)
                    shared += SHARED[0]
                    a = _timed(fn, args.calls, 1)
                else:
                    a = _timed(fn, args.calls, 1)
                    SHARED[0] = 0
                    b = _timed(fn, args.calls, args.threads)
                    shared += SHARED[0]
                one.append(a)
                many.append(b)
                ratios.append(b / a)
            calls = args.reps * (args.calls + 1)
            print(f"{name:38} {direction:15} {statistics.median(one) * 1e3:8.2f}ms "
                  f"{statistics.median(many) * 1e3:8.2f}ms {statistics.median(ratios):7.2f} {shared:4d} in {calls:3d} calls")
    print(f"# done {time.strftime('%H:%M UTC', time.gmtime())}, load {_load()}")


if __name__ == "__main__":
    main()
