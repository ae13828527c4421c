"""What one split costs: glassnet's hand-off of half a batch to its helper thread and back.

Each split runs a tiny NumPy operation in both halves, so the time is the hand-off itself.
A pause before each split lets the helper stop spinning and the CPUs go idle: the times then
show what waking them costs on this machine.

    python benchmarks/bench_handoff.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
from glassnet.kernels.fast import threads  # noqa: E402

PAUSES_MS = (0, 1, 4, 20)


def main(splits: int = 300) -> None:
    glassnet.set_num_threads(2)
    a = np.ones(1000, dtype=np.float32)

    def work(n0, n1):
        np.add(a, 1)

    threads.split_batch(2, work)  # start the helper
    print(f"glassnet {glassnet.__version__}: median and 90th percentile of {splits} empty splits")
    for pause in PAUSES_MS:
        times = []
        for _ in range(splits):
            time.sleep(pause / 1e3)
            start = time.perf_counter()
            threads.split_batch(2, work)
            times.append(time.perf_counter() - start)
        print(f"pause {pause:3d} ms before each split: {statistics.median(times) * 1e6:6.0f} us, "
              f"90th percentile {np.percentile(times, 90) * 1e6:6.0f} us")


if __name__ == "__main__":
    main()
