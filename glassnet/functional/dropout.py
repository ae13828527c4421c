"""dropout(input, p=0.5, training=True, inplace=False), as torch.nn.functional.dropout.

Inverted dropout (glassnet.kernels.dropout): in training each element is zeroed with
probability p and the survivors are scaled by 1 / (1 - p); with training=False the input itself
is returned. The mask comes from glassnet.random.default_generator(), so glassnet.manual_seed
makes it repeatable. `inplace=True` is accepted for PyTorch compatibility and behaves like
inplace=False (a new tensor is returned, the input is untouched).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import dropout as K
from ..random import default_generator

__all__ = ["dropout"]


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p=0.5):
        y, keep = K.dropout_forward(x, p, default_generator())
        ctx.save_for_backward(keep)
        ctx.p = p
        return y

    @staticmethod
    def backward(ctx, dy):
        (keep,) = ctx.saved
        return K.dropout_backward(dy, keep, ctx.p)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training), or
    return input unchanged (evaluation). Shape (*) -> (*)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p!r}")
    dtype = np.dtype(input.dtype)
    if dtype.kind != "f":
        raise TypeError(f"dropout expected a floating-point input (float32 or float64), got dtype "
                        f"{dtype} of shape {tuple(input.shape)}; convert it with .float()")
    if not training:
        return input
    return Dropout.apply(input, p=float(p))
