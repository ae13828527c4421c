"""Where a small convolution loses its second thread: LeNet-5's (64, 6, 14x14) 5x5 layer.

Times the layer's forward and each gradient (dx, dW, db, all three) at one and at two threads,
and the LeNet-5 training step at two threads with the weight gradient's small-block rule
(im2col.BLOCK_SPLIT_BYTES) on and off. The variants alternate block by block (median of the
blocks; for the step also the median of the paired ratios), so a machine whose speed drifts
affects both alike.

    python benchmarks/bench_small_layer.py --reps 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import glassnet
import glassnet.functional as F
from glassnet.kernels import conv as K
from glassnet.kernels.fast import im2col
from glassnet.models import get_model


def block_ms(fn, calls: int) -> float:
    fn()  # untimed warm-up
    time.sleep(0.02)
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e3


def layer(reps: int, calls: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 6, 14, 14)).astype(np.float32)
    w = rng.standard_normal((16, 6, 5, 5)).astype(np.float32)
    y, xp = K.conv_forward(x, w, None, return_padded=True)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    cases = {"forward": lambda: K.conv_forward(x, w, None)}
    for name, needs in (("dx", (True, False, False)), ("dW", (False, True, False)),
                        ("db", (False, False, True)), ("dx, dW, db", (True, True, True))):
        cases[name] = lambda needs=needs: K.conv_backward(dy, x, w, needs=needs, xp=xp)
    rule = im2col.BLOCK_SPLIT_BYTES
    print("(64, 6, 14x14) 5x5 -> 16 maps   1 thread ms   2 threads ms")
    for name, fn in list(cases.items()) + [("dW, small-block rule off", cases["dW"])]:
        im2col.BLOCK_SPLIT_BYTES = 0 if name.endswith("off") else rule
        times = {1: [], 2: []}
        for _ in range(reps):
            for n in (1, 2):
                glassnet.set_num_threads(n)
                times[n].append(block_ms(fn, calls))
        print(f"{name:<31}{statistics.median(times[1]):>12.3f}{statistics.median(times[2]):>15.3f}")
    im2col.BLOCK_SPLIT_BYTES = rule


def lenet_step(reps: int, calls: int) -> None:
    glassnet.set_num_threads(2)
    model = get_model("lenet5", num_classes=10)
    opt = glassnet.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = glassnet.randn(64, 1, 28, 28)
    y = glassnet.tensor(np.random.default_rng(1).integers(0, 10, 64))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    rule = im2col.BLOCK_SPLIT_BYTES
    with_rule, without, ratios = [], [], []
    for _ in range(reps):
        im2col.BLOCK_SPLIT_BYTES = rule
        a = block_ms(step, calls)
        im2col.BLOCK_SPLIT_BYTES = 0  # every weight gradient large enough overall is shared
        b = block_ms(step, calls)
        with_rule.append(a), without.append(b), ratios.append(a / b)
    im2col.BLOCK_SPLIT_BYTES = rule
    print(f"LeNet-5 step at 2 threads: small-block rule {statistics.median(with_rule):.2f} ms, "
          f"without {statistics.median(without):.2f} ms, paired ratio {statistics.median(ratios):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=15, help="alternating blocks per variant")
    parser.add_argument("--calls", type=int, default=5, help="calls per timed block")
    args = parser.parse_args()
    try:
        load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    print(f"glassnet {glassnet.__version__}; {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}, load average {load}")
    layer(args.reps, args.calls * 2)
    lenet_step(args.reps, args.calls)


if __name__ == "__main__":
    main()
