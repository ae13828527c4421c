"""Which layers take the direct engine (kernels/fast/direct.py) instead of im2col: each of a
convolution's three sums timed both ways, in one process, interleaved and paired.

    python benchmarks/bench_direct.py [--reps 9] [--calls 5] [--threads 2]

For every layer of the lists (convolutions with 3-64 input channels, 6-120 outputs, 3x3 and
5x5, strides 1 and 2; transposed convolutions 4x4 stride 2 as in a decoder)
the forward (y), the input gradient alone (dx) and the weight and bias gradients alone (dW)
of glassnet.kernels.conv (conv_* or conv_transpose_*) are timed with the direct engine taking every layer and with it
switched off (im2col then takes the layer; Winograd is switched off throughout), the two
alternating, each block of --calls calls after a short
pause and an untimed warm-up. Reported: the median time per call of each and the median of the
paired ratios direct / im2col (below 1: direct is faster), and which engine the rule these
numbers chose takes (direct.worthwhile for y and dW: 4-16 input channels, at most 32 outputs;
direct.input_grad_worthwhile for dx, which also asks for runs that fill 0.6 of their
32-entry tiles and 32 output positions per sample). Last, a LeNet-5 training step (batch 64,
glassnet.nn + glassnet.optim.SGD, its second layer the (64, 6, 14x14) one) with the rule and
with the direct engine off, Winograd as usual.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing
sys.path.insert(0, str(Path(__file__).resolve().parent))

import glassnet  # noqa: E402
from bench_engine import _now_and_load, lenet_case  # noqa: E402
from bench_thresholds import compare, paired_times  # noqa: E402
from glassnet.kernels import conv  # noqa: E402
from glassnet.kernels.fast import direct, winograd  # noqa: E402

# (N, C_in, H=W, C_out, k, stride, padding)
LAYERS = [(64, 3, 32, 32, 3, 1, 1), (64, 4, 28, 16, 5, 1, 2), (64, 6, 14, 16, 5, 1, 0), (64, 8, 16, 16, 3, 1, 1),
          (32, 16, 16, 32, 3, 1, 1), (32, 16, 16, 32, 3, 2, 1), (32, 16, 16, 64, 3, 1, 1),
          (32, 24, 16, 48, 3, 1, 1), (32, 32, 16, 64, 3, 2, 1), (64, 16, 5, 120, 5, 1, 0)]
# transposed convolutions (N, C_in, H=W, C_out, k, stride, padding): a decoder's last layers
TRANSPOSED = [(64, 16, 14, 8, 4, 2, 1), (64, 8, 14, 1, 4, 2, 1), (64, 16, 7, 16, 4, 2, 1), (32, 32, 8, 16, 4, 2, 1)]
# (direct.CHANNELS, direct.MAX_OUT_CHANNELS, direct.MIN_SAMPLE_ROWS, direct.MIN_TILE_FILL): every layer, none
ON, OFF = ((1, 1 << 30), 1 << 30, 0, 0.0), ((0, 0), 0, 0, 0.0)


def _set(setting) -> None:
    direct.CHANNELS, direct.MAX_OUT_CHANNELS, direct.MIN_SAMPLE_ROWS, direct.MIN_TILE_FILL = setting


def chosen(n, c, h, o, k, s, p) -> dict:
    """{sum: whether the rule takes the direct engine for it} for a convolution layer."""
    out = (h + 2 * p - k) // s + 1
    y_and_dw = direct.worthwhile(c, o, 1, np.float32)
    return {"y": y_and_dw, "dx": direct.input_grad_worthwhile((o, c, k, k), 1, (1, 1), np.float32, out * out),
            "dW": y_and_dw}


def chosen_transposed(n, c, h, o, k, s, p) -> dict:
    """The same for a transposed convolution: its forward is the input-gradient sum, its dx the
    forward sum and its dW the weight-gradient sum, with C_out and C_in swapping roles."""
    dx_and_dw = direct.worthwhile(o, c, 1, np.float32)
    return {"y": direct.input_grad_worthwhile((c, o, k, k), 1, (1, 1), np.float32, h * h), "dx": dx_and_dw,
            "dW": dx_and_dw}


def sums(n, c, h, o, k, s, p, transposed=False):
    """{name: call} for the layer's forward, dx alone and dW + db alone."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, h)).astype(np.float32)
    w = rng.standard_normal((c, o, k, k) if transposed else (o, c, k, k)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    forward = conv.conv_transpose_forward if transposed else conv.conv_forward
    backward = conv.conv_transpose_backward if transposed else conv.conv_backward
    dy = rng.standard_normal(forward(x, w, b, s, p).shape).astype(np.float32)
    return {"y": lambda: forward(x, w, b, s, p),
            "dx": lambda: backward(dy, x, w, s, p, needs=(True, False, False)),
            "dW": lambda: backward(dy, x, w, s, p, needs=(False, True, True))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--calls", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    glassnet.set_num_threads(args.threads)
    rule = direct.CHANNELS, direct.MAX_OUT_CHANNELS, direct.MIN_SAMPLE_ROWS, direct.MIN_TILE_FILL
    saved_min_in, winograd.MIN_IN = winograd.MIN_IN, 1 << 30  # direct against im2col alone
    print(f"threads {args.threads}; median of {args.reps} blocks of {args.calls} calls; {_now_and_load()}")
    print(f"{'layer (N, C, H, O, k, s, p)':32s}" + "".join(f"{name + ' direct / im2col ms (ratio)':>34s}"
                                                         for name in ("y", "dx", "dW")))
    for title, layers, transposed, rule_of in (("convolution", LAYERS, False, chosen),
                                               ("transposed convolution", TRANSPOSED, True, chosen_transposed)):
        print(title)
        for layer in layers:
            cells, takes = [], rule_of(*layer)
            for name, fn in sums(*layer, transposed=transposed).items():
                times = paired_times(fn, {"on": ON, "off": OFF}, _set, args.reps, args.calls)
                _set(rule)
                ratio = statistics.median(a / b for a, b in zip(times["on"], times["off"]))
                cells.append(f"{statistics.median(times['on']):.3f} / {statistics.median(times['off']):.3f} ({ratio:.2f})"
                             + (" *" if takes[name] else "  "))
            print(f"{str(layer):32s}" + "".join(f"{cell:>34s}" for cell in cells))
    print("* the engine the rule takes")
    winograd.MIN_IN = saved_min_in
    g_step, _ = lenet_case()
    compare("LeNet-5 step: rule; direct off", g_step, {"rule": rule, "direct off": OFF}, _set, args.reps, args.calls)
    _set(rule)
    print(f"done; {_now_and_load()}")


if __name__ == "__main__":
    main()
