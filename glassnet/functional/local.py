"""Locally connected (unshared) and tiled convolution, N-D, as differentiable functions.

PyTorch has neither; the names follow torch.nn.functional.conv2d's argument order with the
weight's extra leading grid. Both call glassnet.kernels.local, where the formulas are written
out; the number of spatial dimensions (1, 2 or 3) comes from the weight.

    locally_connected: weight (*out, O, C/groups, *k), bias (O,) or (*out, O)
    tiled_conv:        weight (*tiles, O, C/groups, *k), bias (O,) or (*tiles, O)
    input (N, C, *in) -> output (N, O, *out)
"""

from __future__ import annotations

from ..autograd import Function
from ..dispatch import kernels
from ._checks import check_padding_mode

K = kernels("local")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["locally_connected", "tiled_conv"]


class TiledConv(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
        ctx.options = (stride, padding, dilation, groups, padding_mode)
        ctx.save_for_backward(x, weight)
        ctx.bias_shape = None if bias is None else bias.shape
        return K.tiled_forward(x, weight, bias, stride, padding, dilation, groups, padding_mode)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad
        return K.tiled_backward(dy, x, weight, *ctx.options, tiles=None, bias_shape=ctx.bias_shape,
                                needs=(needs[0], needs[1], len(needs) > 2 and needs[2]))


def _nd(weight, what):
    if weight.ndim not in (4, 6, 8):
        raise ValueError(f"{what} expected a weight of shape (*grid, O, C/groups, *k) with 1, 2 or 3 "
                         f"spatial dims (4, 6 or 8 dims), got {tuple(weight.shape)}")
    return weight.ndim // 2 - 1


def tiled_conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """Tiled convolution (Goodfellow et al. 2016, 9.5): output position p uses kernel p mod t.

    input `(N, C, *in)`, weight `(*tiles, O, C/groups, *k)`, bias `(O,)` or `(*tiles, O)` -> `(N, O, *out)`.
    tiles = (1, ..., 1) is conv; tiles = output size is locally_connected.
    Arguments otherwise as conv2d (stride, padding, dilation, groups, padding_mode).

    Examples:
        Two kernels, (1, 0) and (0, 1), taking turns along a 1-D input:

        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2, 4, 7, 11]]], dtype=np.float32))   # (1, 1, 5)
        >>> w = glassnet.tensor(np.array([[[[1, 0]]], [[[0, 1]]]], dtype=np.float32))   # (2, 1, 1, 2)
        >>> F.tiled_conv(x, w).tolist()               # x0, x2, x2, x4
        [[[1.0, 4.0, 4.0, 11.0]]]
    """
    _nd(weight, "tiled_conv")
    check_padding_mode(padding_mode, "tiled_conv")
    return TiledConv.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                           groups=groups, padding_mode=padding_mode)


def locally_connected(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
                      padding_mode="zeros"):
    """Unshared convolution: one kernel per output position.

    y[n, o, p] = sum_{c, j} weight[p, o, c, j] x_padded[n, c, p stride + j dilation] + bias
    input `(N, C, *in)`, weight `(*out, O, C/groups, *k)`, bias `(O,)` or `(*out, O)` -> `(N, O, *out)`.
    Arguments otherwise as conv2d (stride, padding, dilation, groups, padding_mode); the
    weight's grid `*out` must be the output size they give.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2, 4]]], dtype=np.float32))              # (1, 1, 3)
        >>> w = glassnet.tensor(np.array([[[[1, 0]]], [[[0, 1]]]], dtype=np.float32))    # (2, 1, 1, 2)
        >>> F.locally_connected(x, w).tolist()        # position 0 reads x0, position 1 reads x2
        [[[1.0, 4.0]]]
        >>> F.locally_connected(glassnet.ones(8, 3, 6, 6), glassnet.ones(4, 4, 16, 3, 3, 3)).shape
        (8, 16, 4, 4)
    """
    nd = _nd(weight, "locally_connected")
    check_padding_mode(padding_mode, "locally_connected")
    K.check_local_grid(input, weight, nd, stride, padding, dilation)
    return TiledConv.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                           groups=groups, padding_mode=padding_mode)
