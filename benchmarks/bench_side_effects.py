"""What glassnet's process-wide settings and its buffer pool buy: the same steps with and without.

    python benchmarks/bench_side_effects.py [--reps 9] [--calls 5]

glassnet keeps large freed arrays for reuse in a pool of its own (kernels/fast/allocator.py), and
can change two settings of the whole process when asked (glassnet.use_process_settings()):
glibc's malloc thresholds (freed blocks kept for reuse by malloc itself) and OpenBLAS's thread
count held at one (kernels/fast/threads.py). A malloc threshold cannot be set back once changed
(glibc has no getter, and setting one turns off its dynamic adjustment), so each configuration
runs in a process of its own:

    before    the malloc thresholds and OpenBLAS held at one thread for the whole process, no
              pool: what importing glassnet did before
    neither   no thresholds, no pool; OpenBLAS at one thread only inside glassnet's calls and
              back at the user's count (here OpenBLAS's default) after them
    default   the pool; no thresholds; OpenBLAS as in neither: what importing glassnet does now
    command   the pool, the thresholds and OpenBLAS held: what the `glassnet` command does

The worker processes take turns, one timed block each (after a short pause and one untimed
call), the order rotating from one repetition to the next, so the blocks of one repetition run
within a second or two of each other. Reported per case and configuration: the median wall time per
call and its ratio to before (the median over the repetitions of the ratio of the two
blocks of one repetition: a shared machine's speed drifts over seconds, and blocks run close
together see the same machine), the same for the process's CPU time, and the CPU time of the
threads Python did not start (OpenBLAS's; one left polling for work would show there; /proc,
Linux only, in clock ticks of 10 ms, so a median over blocks of a few calls is coarse), and the
process's minor page faults per call (getrusage: memory that malloc handed back to the system
and touched again). Cases: a LeNet-5 training step (batch 64, SGD with
momentum; glassnet.models.lenet5), ReLU + 2x2 max pooling forward and backward on
(64, 32, 28, 28) (the case behind the malloc thresholds), and a user's own NumPy product
(1024 x 1024 float64, outside glassnet) run after a LeNet-5 step: what OpenBLAS held at one
thread costs everyone else; and 1000 empty `with single_threaded_blas():` blocks, the price of
holding OpenBLAS at one thread per glassnet call (a LeNet-5 step opens 19 such blocks). The
header and the last line give the time and the load average.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ("before", "neither", "default", "command")
CASES = ("LeNet-5 train step, batch 64", "relu+max_pool2d (64,32,28,28)", "user's 1024^2 float64 matmul",
         "1000 empty BLAS holds")
PAUSE = 0.15  # seconds of quiet before each timed block (OpenBLAS's threads spin a while after a call)


def _worker(config: str) -> None:
    """Apply `config`, build the cases, then time blocks as the parent asks: a line "case calls"
    on stdin is answered by "wall_seconds cpu_seconds" per call on stdout."""
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing
    import numpy as np

    import glassnet
    import glassnet.models
    import glassnet.functional as F
    from glassnet.kernels import threads

    from glassnet.kernels import allocator

    if config in ("before", "neither"):
        allocator.POOL_MIN_BYTES = float("inf")  # every array from malloc
    if config in ("before", "command"):
        glassnet.use_process_settings()

    rng = np.random.default_rng(0)
    model = glassnet.models.lenet5()
    opt = glassnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = glassnet.nn.CrossEntropyLoss()
    images = glassnet.tensor(rng.standard_normal((64, 1, 28, 28)).astype(np.float32))
    labels = glassnet.tensor(rng.integers(0, 10, 64))

    def lenet_step():
        opt.zero_grad()
        loss_fn(model(images), labels).backward()
        opt.step()

    x = glassnet.tensor(rng.standard_normal((64, 32, 28, 28)).astype(np.float32), requires_grad=True)
    dy = glassnet.tensor(rng.standard_normal((64, 32, 14, 14)).astype(np.float32))

    def pool_step():
        x.grad = None
        F.max_pool2d(F.relu(x), 2).backward(dy)

    a = rng.standard_normal((1024, 1024))

    def user_matmul():
        a @ a

    def blas_holds():
        for _ in range(1000):
            with threads.single_threaded_blas():
                pass

    steps = dict(zip(CASES, (lenet_step, pool_step, user_matmul, blas_holds)))
    lenet_step()  # the user's product runs in a process where glassnet has already run
    print("ready", flush=True)
    for line in sys.stdin:
        case, calls = line.rsplit(" ", 1)
        step = steps[case]
        time.sleep(PAUSE)
        step()
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        wall, cpu, others = time.perf_counter(), time.process_time(), _cpu_of_threads_not_python()
        for _ in range(int(calls)):
            step()
        print((time.perf_counter() - wall) / int(calls), (time.process_time() - cpu) / int(calls),
              (_cpu_of_threads_not_python() - others) / int(calls),
              (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / int(calls), flush=True)


def _cpu_of_threads_not_python() -> float:
    """CPU seconds so far of this process's threads that Python did not start (OpenBLAS's
    workers: an OpenBLAS thread polling for work shows here); NaN where /proc is missing."""
    import threading
    python = {t.native_id for t in threading.enumerate()}
    try:
        ticks = 0
        for tid in os.listdir("/proc/self/task"):
            if int(tid) not in python:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()  # after the name, which may hold spaces
                ticks += int(fields[11]) + int(fields[12])  # utime, stime
    except OSError:
        return float("nan")
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9, help="timed blocks per configuration and case")
    parser.add_argument("--calls", type=int, default=5, help="calls per timed block")
    parser.add_argument("--worker", choices=CONFIGS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args.worker)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_engine import _now_and_load  # here, not in the workers: it imports torch

    env = {k: v for k, v in os.environ.items() if k not in ("GLASSNET_PROCESS_SETTINGS", "GLASSNET_KEEP_FREED_MEMORY")}
    workers = {c: subprocess.Popen([sys.executable, __file__, "--worker", c], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True, env=env) for c in CONFIGS}
    for config, w in workers.items():
        if w.stdout.readline().strip() != "ready":
            raise SystemExit(f"the {config!r} worker failed to start")
    print(f"glassnet side effects, median of {args.reps} blocks of {args.calls} calls per configuration, "
          f"one process per configuration; {_now_and_load()}")
    print(f"{'case':32s} {'configuration':14s} {'ms':>8s} {'ratio':>6s} {'cpu ms':>8s} {'cpu ratio':>9s} "
          f"{'OpenBLAS cpu ms':>15s} {'page faults':>11s}")
    try:
        for case in CASES:
            times = {c: [] for c in CONFIGS}  # (wall, cpu) seconds per call, one pair per repetition
            for r in range(args.reps):
                for config in CONFIGS[r % len(CONFIGS):] + CONFIGS[:r % len(CONFIGS)]:
                    w = workers[config]
                    w.stdin.write(f"{case} {args.calls}\n")
                    w.stdin.flush()
                    times[config].append(tuple(map(float, w.stdout.readline().split())))
            for config in CONFIGS:
                row = [f"{case if config == CONFIGS[0] else '':32s} {config:14s}"]
                for k in (0, 1):  # wall, cpu
                    median = statistics.median(t[k] for t in times[config])
                    ratio = statistics.median(a[k] / b[k] for a, b in zip(times[config], times[CONFIGS[0]]))
                    row.append(f"{median * 1e3:8.2f} {ratio:{6 if k == 0 else 9}.2f}")
                row.append(f"{statistics.median(t[2] for t in times[config]) * 1e3:15.2f}")
                row.append(f"{statistics.median(t[3] for t in times[config]):11.0f}")
                print(" ".join(row), flush=True)
    finally:
        for w in workers.values():
            w.stdin.close()
            w.wait()
    print(f"done; {_now_and_load()}")


if __name__ == "__main__":
    main()
