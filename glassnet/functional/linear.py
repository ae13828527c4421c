"""linear(input, weight, bias=None): y = x W^T + b, as torch.nn.functional.linear.

The kernel and its derivation are in glassnet.kernels.linear.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels

K = kernels("linear")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["linear"]


class Linear(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return K.linear_forward(x, weight, bias)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad + (False,)  # (x, W, b); no bias: padded, never used
        dx, dw, db = K.linear_backward(dy, x, weight, has_bias=ctx.has_bias, needs=needs[:3])
        return (dx, dw, db) if ctx.has_bias else (dx, dw)


def linear(input, weight, bias=None):
    """y = input @ weight^T + bias.

    input (..., in_features), weight (out_features, in_features), bias (out_features,) or None
    -> (..., out_features). input, weight and bias must share one floating dtype: an integer or
    float64 input meeting float32 weights is refused with a TypeError, never converted.
    """
    w_shape, x_shape = tuple(weight.shape), tuple(input.shape)
    if len(w_shape) != 2:
        raise ValueError(f"linear expected weight of shape (out_features, in_features), got {w_shape}")
    out_features, in_features = w_shape
    if len(x_shape) == 0 or x_shape[-1] != in_features:
        raise ValueError(f"linear expected input (..., {in_features}), got {x_shape}")
    if bias is not None and tuple(bias.shape) != (out_features,):
        raise ValueError(f"linear expected bias of shape ({out_features},), got {tuple(bias.shape)}")
    dtypes = [np.dtype(input.dtype), np.dtype(weight.dtype)] + ([np.dtype(bias.dtype)] if bias is not None else [])
    if dtypes[1].kind != "f" or any(d != dtypes[1] for d in dtypes):
        names = "input, weight" + (", bias" if bias is not None else "")
        raise TypeError(f"linear expected {names} of one floating dtype, got "
                        f"{', '.join(str(d) for d in dtypes)}; convert with .float()")
    if bias is None:
        return Linear.apply(input, weight)
    return Linear.apply(input, weight, bias)
