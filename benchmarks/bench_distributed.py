"""Data-parallel training on MPI, measured on this machine.

    python benchmarks/bench_distributed.py            # runs everything below through mpiexec
    python benchmarks/bench_distributed.py --samples 6400 --reps 20

1. Allreduce (MPI_Allreduce, in place, float32) between 2 ranks on one machine, by message
   size: median time, and the bus bandwidth 2 (N - 1) / N x bytes / time that a ring Allreduce
   needs (the number docs/distributed.md's cost model uses).
2. Training throughput for LeNet-5 and fashion_cnn on Fashion-MNIST (global batch 64, SGD with
   momentum): one process at two threads, against 1 and 2 MPI ranks at one thread each with
   DistributedDataParallel; seconds per 60,000-image epoch, extrapolated from --samples images
   after one warm-up step.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


def allreduce(reps: int) -> dict:
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    results = {}
    for size in [4 << i for i in range(0, 25, 2)]:  # 4 B .. 64 MiB
        buf = np.ones(size // 4, np.float32)
        times = []
        for _ in range(reps):
            comm.Barrier()
            start = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, buf)
            times.append(time.perf_counter() - start)
        worst = comm.allreduce(float(np.median(times)), op=MPI.MAX)
        results[size] = worst
    return results


def train(model_name: str, samples: int, threads: int) -> dict:
    import glassnet
    import glassnet.distributed as dist
    from glassnet import functional as F
    from glassnet import nn, optim
    from glassnet.data import FashionMNIST
    from glassnet.models import get_model
    glassnet.set_num_threads(threads)
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    data = FashionMNIST(train=True)
    x, y = data.get_batch(np.arange(samples + 64))  # float32 (N, 1, 28, 28), int64 (N,)
    glassnet.manual_seed(0)
    model = nn.parallel.DistributedDataParallel(get_model(model_name))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    per = 64 // world

    def step(i):
        xb, yb = x[i * 64 + rank * per:i * 64 + (rank + 1) * per], y[i * 64 + rank * per:i * 64 + (rank + 1) * per]
        loss = F.cross_entropy(model(glassnet.tensor(xb)), glassnet.tensor(yb))
        opt.zero_grad()
        loss.backward()
        opt.step()

    step(0)  # compiles the kernels
    dist.barrier()
    start = time.perf_counter()
    for i in range(1, samples // 64 + 1):
        step(i)
    dist.barrier()
    seconds = time.perf_counter() - start
    return {"seconds_per_epoch": seconds / (samples // 64 * 64) * 60000}


def launch(ranks: int, *args: str) -> dict:
    mpiexec = str(Path(sys.executable).with_name("mpiexec"))
    out = subprocess.run([mpiexec, "-n", str(ranks), sys.executable, __file__, *args], capture_output=True,
                         text=True, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=6400, help="training images timed per configuration")
    parser.add_argument("--reps", type=int, default=20, help="Allreduce repetitions per size")
    parser.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # inside mpiexec
        kind, *rest = args.worker
        result = allreduce(args.reps) if kind == "allreduce" else train(rest[0], args.samples, int(rest[1]))
        from mpi4py import MPI
        if MPI.COMM_WORLD.Get_rank() == 0:
            print(json.dumps(result))
        return
    print(f"load average before: {os.getloadavg()}")
    sizes = launch(2, "--reps", str(args.reps), "--worker", "allreduce")
    print("Allreduce, 2 ranks on this machine (float32, in place)")
    print(f"{'bytes':>10} {'median':>10} {'bus bandwidth':>14}")
    for size, seconds in sizes.items():
        bandwidth = 2 * (2 - 1) / 2 * int(size) / seconds
        print(f"{int(size):>10} {seconds * 1e6:8.1f} us {bandwidth / 1e9:10.2f} GB/s")
    print(f"\nTraining, global batch 64, seconds per 60,000-image epoch ({args.samples} images timed)")
    for model in ("lenet5", "fashion_cnn"):
        row = {}
        for label, ranks, threads in (("1 process, 2 threads", 1, 2), ("1 rank, 1 thread", 1, 1),
                                      ("2 ranks, 1 thread each", 2, 1)):
            row[label] = launch(ranks, "--samples", str(args.samples), "--worker", "train", model,
                                str(threads))["seconds_per_epoch"]
        print(f"{model:>12}: " + ", ".join(f"{k} {v:6.1f} s" for k, v in row.items()))
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
