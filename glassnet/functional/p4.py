"""p4 group-equivariant convolution (Cohen & Welling 2016; seed 004's group convolutions).

p4 feature maps are (N, C, 4, H, W): one plane per 90-degree rotation. Rotating the input by
90 degrees rotates every output plane and shifts the rotation axis by one
(glassnet.kernels.p4.rotate_p4), exactly. Formulas in glassnet.kernels.p4.

    p4_lift_conv2d: input (N, C, H, W),    weight (O, C, k, k)    -> (N, O, 4, H', W')
    p4_conv2d:      input (N, C, 4, H, W), weight (O, C, 4, k, k) -> (N, O, 4, H', W')
    p4_pool:        input (N, C, 4, H, W)                         -> (N, C, H, W)
bias (O,) is shared by the four rotations (a per-rotation bias would break equivariance).
"""

from __future__ import annotations

from ..autograd import Function
from ..dispatch import kernels
from ..kernels.p4 import ORDER
from ._checks import check_padding_mode

K = kernels("p4")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["p4_lift_conv2d", "p4_conv2d", "p4_pool"]


def _check(name: str, input, weight, padding_mode, group_input: bool) -> None:
    """The arguments of a p4 convolution, checked here once (the kernels trust them):
    input (N, C, H, W) and weight (O, C, k, k) for the lifting layer, input (N, C, 4, H, W) and
    weight (O, C, 4, k, k) for the group layer, one float dtype."""
    x_shape, w_shape = tuple(input.shape), tuple(weight.shape)
    w_text = "(O, C, 4, k, k)" if group_input else "(O, C, k, k)"
    nd_x = 5 if group_input else 4
    if len(x_shape) != nd_x or len(w_shape) != nd_x or w_shape[-1] != w_shape[-2]:
        raise ValueError(f"{name} expected input of {nd_x} dims and a square weight of shape {w_text}, "
                         f"got input {x_shape} and weight {w_shape}")
    c = w_shape[1]
    if group_input and (x_shape[1:3] != (c, ORDER) or w_shape[2] != ORDER):
        raise ValueError(f"{name} expected input of shape (N, {c}, 4, H, W) and weight {w_text}, "
                         f"got input {x_shape} and weight {w_shape}")
    if not group_input and x_shape[1] != c:
        raise ValueError(f"{name} expected input of shape (N, {c}, H, W), got {x_shape}")
    if input.dtype != weight.dtype or input.dtype.kind != "f":
        raise TypeError(f"{name} expected input and weight of one float dtype, got input {input.dtype}, "
                        f"weight {weight.dtype}")
    check_padding_mode(padding_mode, name)


class P4LiftConv(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0, dilation=1, padding_mode="zeros"):
        ctx.options = (stride, padding, dilation, padding_mode)
        ctx.save_for_backward(x, weight)
        return K.p4_lift_forward(x, weight, bias, *ctx.options)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        return K.p4_lift_backward(dy, x, weight, *ctx.options, needs=ctx.needs_input_grad)


def p4_lift_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """Lifting convolution Z^2 -> p4: y[n, o, r] = x[n] correlated with rot90(weight[o], r), + bias[o].
    input (N, C_in, H, W), weight (C_out, C_in, k, k), bias (C_out,) -> (N, C_out, 4, H_out, W_out),
    H_out and W_out as for conv2d; the other arguments as conv2d's.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.p4_lift_conv2d(glassnet.zeros(2, 1, 6, 6), glassnet.zeros(3, 1, 3, 3), padding=1).shape
        (2, 3, 4, 6, 6)
    """
    _check("p4_lift_conv2d", input, weight, padding_mode, group_input=False)
    return apply_p4_conv(input, weight, bias, stride, padding, dilation, padding_mode, group_input=False)


class P4Conv(Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride=1, padding=0, dilation=1, padding_mode="zeros"):
        ctx.options = (stride, padding, dilation, padding_mode)
        ctx.save_for_backward(x, weight)
        return K.p4_conv_forward(x, weight, bias, *ctx.options)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        return K.p4_conv_backward(dy, x, weight, *ctx.options, needs=ctx.needs_input_grad)


def p4_conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """Group convolution p4 -> p4: the filter for output rotation r is weight rotated by r with
    its rotation axis cycled by r (glassnet.kernels.p4.group_filters), + bias[o].
    input (N, C_in, 4, H, W), weight (C_out, C_in, 4, k, k), bias (C_out,) ->
    (N, C_out, 4, H_out, W_out); the other arguments as conv2d's.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.p4_conv2d(glassnet.zeros(2, 3, 4, 6, 6), glassnet.zeros(5, 3, 4, 3, 3)).shape
        (2, 5, 4, 4, 4)
    """
    _check("p4_conv2d", input, weight, padding_mode, group_input=True)
    return apply_p4_conv(input, weight, bias, stride, padding, dilation, padding_mode, group_input=True)


def apply_p4_conv(input, weight, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *,
                  group_input: bool):
    """P4Conv (group_input) or P4LiftConv on arguments that are already checked: nn's p4 layers
    check their constructor's arguments once and their input at each call, then come here
    (p4_lift_conv2d and p4_conv2d check every call)."""
    function = P4Conv if group_input else P4LiftConv
    return function.apply(input, weight, bias, stride=stride, padding=padding, dilation=dilation,
                          padding_mode=padding_mode)


class P4Pool(Function):
    @staticmethod
    def forward(ctx, x, mode="max"):
        y, index = K.p4_pool_forward(x, mode)
        ctx.mode, ctx.index = mode, index
        return y

    @staticmethod
    def backward(ctx, dy):
        return K.p4_pool_backward(dy, ctx.index, ctx.mode)


def p4_pool(input, mode="max"):
    """Max ('max') or mean ('avg') over the four rotation planes: (N, C, 4, H, W) -> (N, C, H, W).
    The result is rotation-equivariant as an ordinary feature map (invariant in its channels).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(8, dtype=np.float32).reshape(1, 1, 4, 1, 2))
        >>> F.p4_pool(x).tolist(), F.p4_pool(x, "avg").tolist()
        ([[[[6.0, 7.0]]]], [[[[3.0, 4.0]]]])
    """
    if input.ndim != 5 or input.shape[2] != ORDER:
        raise ValueError(f"p4_pool expected input of shape (N, C, 4, H, W), got {tuple(input.shape)}")
    if mode not in ("max", "avg"):
        raise ValueError(f"p4_pool mode must be 'max' or 'avg', got {mode!r}")
    return P4Pool.apply(input, mode=mode)
