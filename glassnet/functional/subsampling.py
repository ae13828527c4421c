"""Trainable subsampling (LeNet-5's S layers): sum pooling, times one coefficient per map, plus
one bias per map. Formulas and the coefficient's gradient (seed 003) in glassnet.kernels.subsampling.
"""

from __future__ import annotations

from ..autograd import Function
from ..dispatch import kernels

K = kernels("subsampling")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["subsampling"]


def _check(name: str, input, weight, bias) -> None:
    """One coefficient and one bias per input map, all of one float dtype (the kernels trust it)."""
    c = input.shape[1] if input.ndim >= 2 else None
    if tuple(weight.shape) != (c,) or (bias is not None and tuple(bias.shape) != (c,)):
        got = f"weight {tuple(weight.shape)}" + ("" if bias is None else f", bias {tuple(bias.shape)}")
        raise ValueError(f"{name} expected one coefficient and one bias per input map, shapes ({c},), got {got}")
    dtypes = (input.dtype, weight.dtype) + (() if bias is None else (bias.dtype,))
    if len(set(dtypes)) > 1 or input.dtype.kind != "f":
        got = f"input {input.dtype}, weight {weight.dtype}" + ("" if bias is None else f", bias {bias.dtype}")
        raise TypeError(f"{name} expected input, weight and bias of one float dtype, got {got}")


class Subsampling(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, kernel_size=2, stride=None, padding=0):
        ctx.options = (kernel_size, stride, padding)
        ctx.save_for_backward(x, weight)
        return K.subsampling_forward(x, weight, bias, kernel_size, stride, padding)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        return K.subsampling_backward(dy, x, weight, *ctx.options, needs=ctx.needs_input_grad)


def subsampling(input, weight, bias=None, kernel_size=2, stride=None, padding=0):
    """y[n, c, p] = weight[c] * (sum of input over window p) + bias[c]. N-D (from the input).

    input (N, C, *in), weight (C,), bias (C,) or None -> (N, C, *out); stride defaults to
    kernel_size, padding is zeros. weight = 1/prod(k), bias = 0 gives avg_pool.

    Lecture 003's average pooling z_ij = (sum of the r x c window) w, with a bias added.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2, 3, 4]]], dtype=np.float32))        # (1, 1, 4)
        >>> weight, bias = glassnet.tensor([0.5]), glassnet.tensor([1.0])
        >>> F.subsampling(x, weight, bias, kernel_size=2).tolist()    # 0.5 * 3 + 1, 0.5 * 7 + 1
        [[[2.5, 4.5]]]
    """
    _check("subsampling", input, weight, bias)
    return apply_subsampling(input, weight, bias, kernel_size, stride, padding)


def apply_subsampling(input, weight, bias=None, kernel_size=2, stride=None, padding=0):
    """Subsampling on arguments that are already checked: nn's subsampling layers check their
    constructor's arguments once and their input at each call, then come here (subsampling
    checks every call)."""
    return Subsampling.apply(input, weight, bias, kernel_size=kernel_size, stride=stride, padding=padding)
