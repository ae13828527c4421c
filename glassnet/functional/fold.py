"""unfold and fold, as torch.nn.functional: im2col and col2im, the matrices behind convolution
(glassnet.kernels.fold). Each is the other's backward.

    unfold(input, kernel_size, dilation=1, padding=0, stride=1)               -> (N, C*kh*kw, L)
    fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1)    -> (N, C, H, W)

Inputs may be unbatched ((C, H, W) for unfold, (C * kh * kw, L) for fold), as in PyTorch.
"""

from __future__ import annotations

import math

from ..autograd import Function
from ..kernels import fold as K
from ..kernels.sizes import ntuple, output_shape, positive_tuple
from ._checks import check_float_input

__all__ = ["unfold", "fold"]


class Unfold(Function):
    @staticmethod
    def forward(ctx, x, geometry=None):
        ctx.geometry, ctx.spatial = geometry, x.shape[2:]
        return K.unfold(x, *geometry)

    @staticmethod
    def backward(ctx, dcols):
        return K.fold(dcols, ctx.spatial, *ctx.geometry)


class Fold(Function):
    @staticmethod
    def forward(ctx, cols, output_size=(), geometry=None):
        ctx.geometry = geometry
        return K.fold(cols, output_size, *geometry)

    @staticmethod
    def backward(ctx, dy):
        return K.unfold(dy, *ctx.geometry)


def _geometry(name: str, spatial, kernel_size, dilation, padding, stride):
    """(kernel_size, dilation, padding pairs, stride, out shape) for a 2-D spatial size."""
    k = positive_tuple(kernel_size, 2, "kernel_size")
    d = positive_tuple(dilation, 2, "dilation")
    s = positive_tuple(stride, 2, "stride")
    p = ntuple(padding, 2, "padding")
    if min(p) < 0:
        raise ValueError(f"{name} expected padding >= 0, got {padding!r}")
    pads = tuple((q, q) for q in p)
    out = output_shape(spatial, k, s, pads, d)
    if min(out) < 1:
        raise ValueError(f"{name}: kernel_size={k} with dilation={d}, padding={p}, stride={s} finds no window "
                         f"in a spatial size of {tuple(spatial)}")
    return (k, d, pads, s), out


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Every kernel window of input (N, C, H, W) as a column: (N, C * kh * kw, L), L windows
    (im2col, as PyTorch's unfold): a convolution is then one matrix product,
    weight.reshape(C_out, -1) @ columns. Columns run over the windows in row-major order, rows
    over (c, i, j); L = prod over the two dimensions of
    floor((n + 2 padding - dilation (k - 1) - 1) / stride) + 1.

    Args:
        input: a floating tensor (N, C, H, W).
        kernel_size: an int or 2 ints.
        dilation: spacing of the kernel's taps, an int or 2 ints.
        padding: zeros added on both sides, an int or 2 ints.
        stride: window step, an int or 2 ints.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(9, dtype=np.float32).reshape(1, 1, 3, 3))
        >>> cols = F.unfold(x, 2)
        >>> cols.shape
        (1, 4, 4)
        >>> cols.numpy()[0, :, 0].tolist()       # the top-left 2 x 2 window
        [0.0, 1.0, 3.0, 4.0]
    """
    name = "unfold"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if len(shape) not in (3, 4):
        raise ValueError(f"{name} expected input of shape (N, C, H, W) or (C, H, W), got {shape}")
    x = input if len(shape) == 4 else input.unsqueeze(0)
    (k, d, pads, s), out = _geometry(name, x.shape[2:], kernel_size, dilation, padding, stride)
    cols = Unfold.apply(x, geometry=(k, d, pads, s, out))
    return cols if len(shape) == 4 else cols.squeeze(0)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum the columns of input (N, C * kh * kw, L) back into (N, C, *output_size) (col2im, as
    PyTorch's fold): where windows overlap their values add up, so fold(unfold(x)) counts each
    pixel once per window that covers it. It is unfold's adjoint (its backward).

    Args:
        input: a floating tensor (N, C * kh * kw, L).
        output_size: (H, W) of the result (an int for a square).
        kernel_size: an int or 2 ints.
        dilation: spacing of the kernel's taps, an int or 2 ints.
        padding: zeros added on both sides (dropped again), an int or 2 ints.
        stride: window step, an int or 2 ints.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> ones = glassnet.ones(1, 1, 3, 3)
        >>> F.fold(F.unfold(ones, 2), (3, 3), 2).numpy()[0, 0].tolist()   # windows covering each pixel
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """
    name = "fold"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if len(shape) not in (2, 3):
        raise ValueError(f"{name} expected input of shape (N, C * kh * kw, L) or (C * kh * kw, L), got {shape}")
    cols = input if len(shape) == 3 else input.unsqueeze(0)
    size = positive_tuple(output_size, 2, "output_size")
    (k, d, pads, s), out = _geometry(name, size, kernel_size, dilation, padding, stride)
    if cols.shape[1] % math.prod(k):
        raise ValueError(f"{name} expected input's dimension 1 ({cols.shape[1]}) to be divisible by the product of "
                         f"kernel_size {k} ({math.prod(k)}), got input of shape {shape}")
    if cols.shape[2] != math.prod(out):
        raise ValueError(f"{name} with output_size={size}, kernel_size={k}, dilation={d}, padding="
                         f"{tuple(p for p, _ in pads)}, stride={s} expected {out[0]} * {out[1]} = {math.prod(out)} "
                         f"windows in input's last dimension, got input of shape {shape}")
    y = Fold.apply(cols, output_size=size, geometry=(k, d, pads, s, out))
    return y if len(shape) == 3 else y.squeeze(0)
