"""Locally connected (unshared) and tiled convolution, N-D, as differentiable functions.

PyTorch has neither; the names follow torch.nn.functional.conv2d's argument order with the
weight's extra leading grid. Both call glassnet.kernels.local, where the formulas are written
out; the number of spatial dimensions (1, 2 or 3) comes from the weight.

    locally_connected: weight (*out, O, C/groups, *k), bias (O,) or (*out, O)
    tiled_conv:        weight (*tiles, O, C/groups, *k), bias (O,) or (*tiles, O)
    input (N, C, *in) -> output (N, O, *out)
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels
from ..kernels.local import local_output_shape
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


def _check(what, input, weight, bias, groups, padding_mode) -> int:
    """The arguments of a tiled or locally connected convolution, checked here once (the kernels
    trust them): input (N, C, *in), weight (*grid, O, C/groups, *k), bias (O,) or (*grid, O),
    one float dtype. Returns the number of spatial dimensions."""
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    if len(w_shape) not in (4, 6, 8):
        raise ValueError(f"{what} expected a weight of shape (*grid, O, C/groups, *k) with 1, 2 or 3 "
                         f"spatial dims (4, 6 or 8 dims), got {w_shape}")
    nd = len(w_shape) // 2 - 1
    if len(x_shape) != nd + 2:
        raise ValueError(f"{what} expected input of shape (N, C, {nd} spatial dims) for weight {w_shape}, "
                         f"got {x_shape}")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{what} expected groups to be a positive int, got {groups!r}")
    out_channels, cin_g = w_shape[nd], w_shape[nd + 1]
    if out_channels % groups or cin_g * groups != x_shape[1]:
        raise ValueError(f"{what} expected input of shape (N, {cin_g * groups}, ...) for weight "
                         f"{w_shape} and groups={groups}, got {x_shape}")
    shared, per_tile = (out_channels,), w_shape[:nd] + (out_channels,)
    if bias is not None and tuple(bias.shape) not in (shared, per_tile):
        raise ValueError(f"{what} expected bias of shape {shared} or {per_tile}, got {tuple(bias.shape)}")
    dtypes = (input.dtype, weight.dtype) + (() if bias is None else (bias.dtype,))
    if len(set(dtypes)) > 1 or np.dtype(input.dtype).kind != "f":
        got = f"input {input.dtype}, weight {weight.dtype}" + ("" if bias is None else f", bias {bias.dtype}")
        raise TypeError(f"{what} expected input, weight and bias of one float dtype, got {got}")
    check_padding_mode(padding_mode, what)
    return nd


def apply_tiled_conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """TiledConv on arguments that are already checked: nn's tiled and locally connected layers
    check their constructor's arguments once and their input at each call, then come here
    (tiled_conv and locally_connected check every call)."""
    return TiledConv.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                           groups=groups, padding_mode=padding_mode)


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
    _check("tiled_conv", input, weight, bias, groups, padding_mode)
    return apply_tiled_conv(input, weight, bias, stride, padding, dilation, groups, padding_mode)


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
    nd = _check("locally_connected", input, weight, bias, groups, padding_mode)
    out = local_output_shape(tuple(input.shape[2:]), tuple(weight.shape[nd + 2:]), stride, padding, dilation)
    if tuple(weight.shape[:nd]) != out:
        raise ValueError(f"locally_connected expected a weight with one kernel per output position, leading "
                         f"dims {out} for input {tuple(input.shape)}, got weight {tuple(weight.shape)}")
    return apply_tiled_conv(input, weight, bias, stride, padding, dilation, groups, padding_mode)
