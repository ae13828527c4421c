"""The LeNet-5 training step at one and two threads while another process keeps a CPU busy.

glassnet's two threads wait for each other by spinning, which assumes the CPUs are theirs;
when another program keeps one busy, splits fall back to one thread (kernels/fast/threads.py). This
script starts a busy loop in a child process (pinned to CPU 0, to CPU 1, or left to the
scheduler; Linux only) and times glassnet's step at one and two threads, interleaved, medians.

    python benchmarks/bench_busy.py
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import glassnet  # noqa: E402
from bench_engine import _time_block, lenet_case  # noqa: E402


def _busy(cpu, stop) -> None:
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    while not stop.is_set():
        pass


def _steps(reps: int) -> dict[int, float]:
    """Median ms per LeNet-5 step at 1 and 2 threads, blocks interleaved."""
    g_step, _ = lenet_case()
    times = {1: [], 2: []}
    for n in times:
        glassnet.set_num_threads(n)
        g_step()
    for r in range(reps):
        for n in ((1, 2) if r % 2 else (2, 1)):
            glassnet.set_num_threads(n)
            times[n].append(_time_block(g_step, 3)[0])
    return {n: statistics.median(t) * 1e3 for n, t in times.items()}


def main(reps: int = 20) -> None:
    print(f"glassnet {glassnet.__version__}: LeNet-5 step, ms at 1 / 2 threads, median of {reps} blocks")
    for label, cpu in (("nothing else running", "none"), ("busy loop on CPU 0", 0),
                       ("busy loop on CPU 1", 1), ("busy loop, unpinned", None)):
        stop = multiprocessing.Event()
        child = None
        if cpu != "none":
            child = multiprocessing.Process(target=_busy, args=(cpu, stop), daemon=True)
            child.start()
            time.sleep(0.3)
        try:
            ms = _steps(reps)
        finally:
            stop.set()
            if child is not None:
                child.join()
        print(f"{label:22s} {ms[1]:6.2f} / {ms[2]:6.2f}")


if __name__ == "__main__":
    main()
