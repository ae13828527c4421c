"""LeNet-5 as published (LeCun, Bottou, Bengio & Haffner 1998, "Gradient-based learning applied
to document recognition", section II.B), beside the modern variant in lenet.py.

    input  (N, 1, 32, 32)   (a 28x28 image is zero-padded by 2 in C1, as the paper centres digits
                             in a 32x32 field)
    C1  Conv2d(1, 6, 5)                       -> (N, 6, 28, 28)     156 parameters
    S2  Subsampling2d(6, 2)                   -> (N, 6, 14, 14)      12   sum of 2x2, x coef + bias
    C3  ConvMap2d(6, 16, 5, table=Table I)    -> (N, 16, 10, 10)   1516   60 of the 96 map pairs
    S4  Subsampling2d(16, 2)                  -> (N, 16, 5, 5)       32
    C5  Conv2d(16, 120, 5)                    -> (N, 120, 1, 1)   48120
    F6  Linear(120, 84)                       -> (N, 84)          10164
    output Linear(84, num_classes)                                  850   (for 10 classes)

Every unit up to F6 is squashed by the paper's scaled tanh f(a) = 1.7159 tanh(2a/3) (Appendix
A), chosen so that f(1) = 1 and f(-1) = -1.

Initialisation. paper_init=True draws weights and biases uniform in [-2.4 / F_i, 2.4 / F_i], F_i
the fan-in of the unit (Appendix A). The paper trained with stochastic diagonal Levenberg-
Marquardt, a step size per parameter; with that init, plain SGD barely moves (the signal shrinks
by about 1/sqrt(F_i) per layer, and so do the gradients), while Adam, which also scales each
parameter's step, trains it. The default (paper_init=False) keeps the layers' own PyTorch-style
init, U(-1/sqrt(F_i), 1/sqrt(F_i)), which trains with SGD.

Not as published: the paper's output layer is 10 Euclidean RBF units with fixed +-1 7x12 bitmap
prototypes, trained with an MAP criterion. Here it is a Linear layer whose outputs are logits
for cross-entropy; everything else is the paper's. The paper also normalises the input so the
background is -0.1 and the ink 1.175 (mean about 0, variance about 1); that is the data's job.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn
from .. import random as _random
from ..nn import tables
from ..nn.convmap import ConvMap2d
from ..nn.subsampling import Subsampling2d

__all__ = ["ScaledTanh", "lenet5_1998"]


class ScaledTanh(nn.Module):
    """f(a) = A tanh(S a) with A = 1.7159, S = 2/3 (LeCun et al. 1998, Appendix A)."""

    def __init__(self, amplitude: float = 1.7159, slope: float = 2 / 3):
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, input):
        return (input * self.slope).tanh() * self.amplitude

    def extra_repr(self) -> str:
        return f"amplitude={self.amplitude}, slope={self.slope:.4g}"


def _paper_init(model: nn.Module) -> None:
    """U(-2.4 / F_i, 2.4 / F_i) for every weight and bias, F_i = the fan-in of the unit."""
    rng = _random.default_generator()
    for m in model.modules():
        if isinstance(m, ConvMap2d):  # fan-in depends on the output map: its inputs x 25
            fan_in = m.table.data.sum(axis=1) * math.prod(m.kernel_size)  # (out,)
            per_connection = fan_in[np.nonzero(m.table.data)[0]].reshape(-1, 1, 1)
            m.weight.data[...] = rng.uniform(-2.4, 2.4, m.weight.shape) / per_connection
            m.bias.data[...] = rng.uniform(-2.4, 2.4, m.bias.shape) / fan_in
            continue
        if isinstance(m, Subsampling2d):
            fan_in = math.prod(m.kernel_size)
        elif isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = math.prod(m.weight.shape[1:])
        else:
            continue
        for p in (m.weight, m.bias):
            p.data[...] = rng.uniform(-2.4 / fan_in, 2.4 / fan_in, p.shape)


def lenet5_1998(num_classes: int = 10, in_channels: int = 1, input_size: int = 28,
                paper_init: bool = False) -> nn.Sequential:
    """The published LeNet-5 (see the module docstring): (N, in_channels, input_size, input_size)
    -> (N, num_classes) logits. input_size 28 (padded to the paper's 32 in C1) or 32.
    60,850 parameters for 10 classes (the paper's 60,000 is with the RBF output layer)."""
    if input_size not in (28, 32):
        raise ValueError(f"lenet5_1998 expects 28x28 or 32x32 inputs, got input_size={input_size}")
    model = nn.Sequential(
        nn.Conv2d(in_channels, 6, 5, padding=(32 - input_size) // 2), ScaledTanh(),  # C1 (N, 6, 28, 28)
        Subsampling2d(6, 2), ScaledTanh(),                                           # S2 (N, 6, 14, 14)
        ConvMap2d(6, 16, 5, table=tables.lenet5_c3()), ScaledTanh(),                  # C3 (N, 16, 10, 10)
        Subsampling2d(16, 2), ScaledTanh(),                                          # S4 (N, 16, 5, 5)
        nn.Conv2d(16, 120, 5), ScaledTanh(),                                         # C5 (N, 120, 1, 1)
        nn.Flatten(),                                                                # (N, 120)
        nn.Linear(120, 84), ScaledTanh(),                                            # F6
        nn.Linear(84, num_classes),                                                  # output logits
    )
    if paper_init:
        _paper_init(model)
    return model
