"""What DataLoader workers gain on a Fashion-MNIST epoch with augmentation.

Two ways of augmenting, each at num_workers = 0, 1, 2 (runs interleaved, so a change in the
machine's load hits every setting alike; the median of --repeats runs is reported):

- batched: glassnet's path. FashionMNIST with RandomCrop(28, padding=4) + RandomHorizontalFlip +
  Normalize, applied once per batch of 128 (glassnet.data.transforms).
- per-sample: the way a ported PyTorch program augments. A map-style dataset applies the same
  transforms to one image at a time in __getitem__, and default_collate stacks the batch.

For each: the time to read one whole epoch (data only), and the time of --steps LeNet-5
training steps fed by the loader (the workers then prepare batches while the model trains, on
the same CPUs). Also the cost of moving an epoch of batches from a worker to the main process,
through the loader's pipes and through a multiprocessing.Queue.

    python benchmarks/bench_loader.py --repeats 3 --steps 200
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet import optim  # noqa: E402
from glassnet.data import DataLoader, Dataset, FashionMNIST  # noqa: E402
from glassnet.data import transforms as T  # noqa: E402
from glassnet.data._worker import receive, send  # noqa: E402
from glassnet.models import lenet5  # noqa: E402


def augmentation():
    return T.Compose([T.RandomCrop(28, padding=4), T.RandomHorizontalFlip(), T.Normalize(0.2860, 0.3530)])


class PerSample(Dataset):
    """Fashion-MNIST augmented one image at a time, as torchvision transforms do."""

    def __init__(self, images, labels):
        self.images, self.labels, self.transform = images, labels, augmentation()

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        x = self.images[i:i + 1, None].astype(np.float32) / 255.0  # (1, 1, 28, 28)
        return self.transform(x)[0], int(self.labels[i])


def epoch_seconds(loader) -> float:
    start = time.perf_counter()
    for _ in loader:
        pass
    return time.perf_counter() - start


def training_seconds(loader, steps: int) -> float:
    glassnet.manual_seed(0)
    model = lenet5()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    start = time.perf_counter()
    for step, (x, y) in enumerate(loader):
        if step == steps:
            break
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - start


def _send_pipe(connection, batch, n):
    for _ in range(n):
        send(connection, batch)


def _send_queue(q, batch, n):
    for _ in range(n):
        q.put(batch)


def transfer_seconds(how: str, batch, n: int) -> float:
    """Seconds to receive `n` copies of `batch` from a forked process: through glassnet's pipe
    protocol (arrays out of band) or through a multiprocessing.Queue (what a plain pool uses)."""
    context = multiprocessing.get_context("fork")
    if how == "pipe":
        receiving, sending = context.Pipe(duplex=False)
        process = context.Process(target=_send_pipe, args=(sending, batch, n))
    else:
        q = context.Queue()
        process = context.Process(target=_send_queue, args=(q, batch, n))
    process.start()
    start = time.perf_counter()
    for _ in range(n):
        got = receive(receiving) if how == "pipe" else q.get()
    seconds = time.perf_counter() - start
    process.join()
    assert np.array_equal(got[0], batch[0])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=200, help="training steps per timed run (0: skip)")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    batched = FashionMNIST(train=True, transform=augmentation())
    per_sample = PerSample(batched.data, batched.targets)
    datasets = {"batched": batched, "per-sample": per_sample}

    def loader(ds, workers):
        return DataLoader(ds, args.batch_size, shuffle=True, seed=0, num_workers=workers)

    results = {f"{kind} {what}": {w: [] for w in args.workers}
               for kind in datasets for what in (["epoch"] + (["train"] if args.steps else []))}
    # one epoch's worth of batches (128 float32 images and their labels) through each channel
    batch = [np.random.default_rng(0).random((args.batch_size, 1, 28, 28), dtype=np.float32),
             np.arange(args.batch_size)]
    n_batches = -(-len(batched) // args.batch_size)
    transfers = {"pipe": [], "queue": []}
    for ds in datasets.values():  # warm-up: numba compiles the kernels on their first call
        training_seconds(loader(ds, 0), 3)
    load_before = os.getloadavg()
    for _ in range(args.repeats):
        for how in transfers:
            transfers[how].append(transfer_seconds(how, batch, n_batches))
        for kind, ds in datasets.items():
            for w in args.workers:
                results[f"{kind} epoch"][w].append(epoch_seconds(loader(ds, w)))
                if args.steps:
                    results[f"{kind} train"][w].append(training_seconds(loader(ds, w), args.steps))
    load_after = os.getloadavg()

    print(f"python {platform.python_version()}, numpy {np.__version__}, {os.cpu_count()} CPUs, "
          f"load average before {load_before[0]:.2f} / after {load_after[0]:.2f} (1 min)")
    # median and fastest of the runs: on a busy machine the fastest is the better estimate of
    # the cost itself, the median of what one gets
    print(f"{'seconds, median / fastest':32s}" + "".join(f"{f'workers={w}':>16s}" for w in args.workers))
    for name, by_workers in results.items():
        label = name if "epoch" in name else f"{name} ({args.steps} steps)"
        print(f"{label:32s}" + "".join(f"{statistics.median(by_workers[w]):8.2f} /{min(by_workers[w]):6.2f}"
                                       for w in args.workers))
    for how, label in (("pipe", "glassnet's pipes"), ("queue", "multiprocessing.Queue")):
        print(f"moving one epoch of batches ({n_batches} x {batch[0].nbytes / 2**10:.0f} KiB) through "
              f"{label}: median {statistics.median(transfers[how]):.3f}s, fastest {min(transfers[how]):.3f}s")
    print(json.dumps({"load_before": load_before, "load_after": load_after, "runs": results,
                      "transfer": transfers}))


if __name__ == "__main__":
    main()
