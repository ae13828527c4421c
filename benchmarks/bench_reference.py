"""How much slower reference mode trains LeNet-5: the fast kernels against glassnet/reference.

Training steps of LeNet-5 on Fashion-MNIST batches (batch 64, SGD with momentum, the main job's
optimiser), in blocks of --steps steps that alternate between the two modes (fast, reference,
fast, ...) so both see the same machine load; medians of the per-step times, their ratio, and
the time a whole 60,000-image epoch takes at that rate. Both modes start from the same weights.

    python benchmarks/bench_reference.py --blocks 5 --steps 20
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import glassnet  # noqa: E402
from glassnet import functional as F  # noqa: E402
from glassnet import optim  # noqa: E402
from glassnet.data import DataLoader, FashionMNIST  # noqa: E402
from glassnet.models import lenet5  # noqa: E402


def step_times(model, opt, batches, reference: bool) -> list[float]:
    times = []
    with glassnet.reference_mode(reference):
        for x, y in batches:
            start = time.perf_counter()
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            times.append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--blocks", type=int, default=5, help="blocks per mode")
    parser.add_argument("--steps", type=int, default=20, help="training steps per block")
    args = parser.parse_args()
    data = FashionMNIST(train=True)
    loader = iter(DataLoader(data, batch_size=64, shuffle=True, seed=0))
    glassnet.manual_seed(0)
    models = {mode: lenet5() for mode in (False, True)}
    models[True].load_state_dict(models[False].state_dict())
    opts = {mode: optim.SGD(m.parameters(), lr=0.05, momentum=0.9) for mode, m in models.items()}
    step_times(models[False], opts[False], [next(loader)], False)  # compile the fast kernels first
    times = {False: [], True: []}
    for _ in range(args.blocks):
        batches = [next(loader) for _ in range(args.steps)]
        for mode in (False, True):
            times[mode] += step_times(models[mode], opts[mode], batches, mode)
    fast, ref = (float(np.median(times[m])) for m in (False, True))
    steps = math.ceil(len(data) / 64)
    print(f"LeNet-5 training step, batch 64, median of {len(times[False])} steps per mode")
    print(f"  fast kernels:      {fast * 1e3:8.1f} ms/step   epoch of {len(data)} images: {fast * steps:6.0f} s")
    print(f"  reference kernels: {ref * 1e3:8.1f} ms/step   epoch of {len(data)} images: {ref * steps:6.0f} s")
    print(f"  reference / fast:  {ref / fast:8.1f}x")


if __name__ == "__main__":
    main()
