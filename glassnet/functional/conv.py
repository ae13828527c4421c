"""Convolution and transposed convolution with torch.nn.functional's names and signatures.

conv1d/conv2d/conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1) as in
PyTorch, plus keyword-only padding_mode ('zeros', 'reflect', 'replicate', 'circular') and flip
(true convolution, kernel rotated 180 degrees); `conv` does the same for any number of spatial
dimensions. padding accepts an int, one int per dimension, one (low, high) pair per dimension,
'valid', 'same' (also with stride > 1 and dilation > 1, output size ceil(n / s)) and 'full'.

conv_transpose1d/2d/3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
dilation=1), weight (C_in, C_out / groups, *k) as in PyTorch.

Inputs may be batched (N, C, *spatial) or, as in PyTorch, unbatched (C, *spatial). input, weight
and bias must share one floating dtype: integer inputs, or float64 meeting float32 weights, are
refused with a TypeError (never converted). The arguments are checked here, once per call, and
the kernels trust them; nn's layers, which check theirs when they are built, come in through
apply_conv and apply_conv_transpose instead. The formulas and their derivation are in
glassnet.kernels.conv.
"""

from __future__ import annotations

from ..autograd import Function
from ..dispatch import kernels
from ._checks import check_conv_args, check_padding_mode, shape_text

K = kernels("conv")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["conv", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d"]


class ConvNd(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, dilation=1, groups=1,
                padding_mode="zeros", flip=False):
        ctx.options = dict(stride=stride, padding=padding, dilation=dilation, groups=groups,
                           padding_mode=padding_mode, flip=flip)
        y, xp = K.conv_forward(x, weight, bias, return_padded=True, **ctx.options)
        # the padded channels-last input the forward made is what the weight gradient reads again
        ctx.save_for_backward(x, weight, xp)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, dy):
        x, weight, xp = ctx.saved
        needs = ctx.needs_input_grad + (False,)  # (x, W, b); without a bias the third is never used
        dx, dw, db = K.conv_backward(dy, x, weight, needs=needs[:3], xp=xp, **ctx.options)
        return (dx, dw, db) if ctx.has_bias else (dx, dw)


class ConvTransposeNd(Function):
    @staticmethod
    def forward(ctx, x, weight, bias=None, *, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        ctx.options = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                           dilation=dilation)
        return K.conv_transpose_forward(x, weight, bias, **ctx.options)

    @staticmethod
    def backward(ctx, dy):
        x, weight = ctx.saved
        needs = ctx.needs_input_grad + (False,)
        dx, dw, db = K.conv_transpose_backward(dy, x, weight, needs=needs[:3], **ctx.options)
        return (dx, dw, db) if ctx.has_bias else (dx, dw)


def _check(name: str, nd: int | None, input, weight, bias, transposed: bool, **options):
    """Check the arguments of a functional call (clear errors naming what was expected and what
    came); returns the input as a batch (N, C, *spatial) and whether it came unbatched."""
    w_shape, x_shape = tuple(weight.shape), tuple(input.shape)
    if nd is not None and len(w_shape) != nd + 2:
        layout = "(C_in, C_out/groups, *kernel_size)" if transposed else "(C_out, C_in/groups, *kernel_size)"
        raise ValueError(f"{name} expected a {nd + 2}-D weight {layout}, got shape {w_shape}")
    if "padding_mode" in options:
        check_padding_mode(options["padding_mode"], name)
    unbatched = len(x_shape) == len(w_shape) - 1
    if unbatched:
        c_in = w_shape[0] if transposed else w_shape[1] * options["groups"]
        if x_shape[0] != c_in:
            spatial = len(w_shape) - 2
            raise ValueError(f"{name} expected input with {c_in} channels {shape_text(spatial, c_in)}, or unbatched "
                             f"{shape_text(spatial, c_in, batched=False)} for weight {w_shape}, got {x_shape}")
        input = input[None]  # (1, C, *spatial)
    check_conv_args(tuple(input.shape), input.dtype, w_shape, weight.dtype, bias, options["stride"],
                    options["dilation"], options["groups"], name, transposed=transposed)
    return input, unbatched


def _checked(function, name: str, nd: int | None, input, weight, bias, transposed: bool, **options):
    """Check the call's arguments, add a batch axis to unbatched input, and apply the Function."""
    input, unbatched = _check(name, nd, input, weight, bias, transposed, **options)
    y = _run(function, input, weight, bias, options)
    return y[0] if unbatched else y


def _run(function, input, weight, bias, options):
    return function.apply(input, weight, **options) if bias is None else function.apply(input, weight, bias, **options)


def apply_conv(input, weight, bias=None, **options):
    """ConvNd on arguments that are already checked: nn.ConvNd checks its constructor's arguments
    once and its input at each call, then comes here (conv and conv1d/2d/3d check every call).
    input (N, C_in, *spatial); options as conv's, stride/dilation/padding normalised or not."""
    return _run(ConvNd, input, weight, bias, options)


def apply_conv_transpose(input, weight, bias=None, **options):
    """ConvTransposeNd on checked arguments (nn.ConvTransposeNd's path; see apply_conv)."""
    return _run(ConvTransposeNd, input, weight, bias, options)


def conv(x, w, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False):
    """Convolution over any number D >= 1 of spatial dimensions (D = w.ndim - 2).

    x `(N, C_in, *in)`, w `(C_out, C_in / groups, *k)`, bias `(C_out,)` -> `(N, C_out, *out)` with
    `out_i = floor((in_i + p_lo + p_hi - d_i (k_i - 1) - 1) / s_i) + 1` and
    `y[n, co, o] = b[co] + sum_{c, kk} w[co, c, kk] xp[n, c, o * s + kk * d]` (cross-correlation, as
    in PyTorch); flip=True rotates the kernel by 180 degrees first (true convolution).

    Args:
        x: input `(N, C_in, *in)`, or unbatched `(C_in, *in)`.
        w: weight `(C_out, C_in / groups, *k)`; its number of dimensions sets D.
        bias: (C_out,) or None.
        stride: an int, or one int per spatial dimension.
        dilation: an int, or one int per spatial dimension.
        padding: an int, one int per dimension, one (low, high) pair per dimension, 'valid',
            'same' or 'full'.
        groups: split the channels into this many independent convolutions.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        flip: rotate the kernel by 180 degrees (the lectures' convolution) instead of
            cross-correlating (PyTorch's conv).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2, 4, 7]]], dtype=np.float32))   # (1, 1, 4): D = 1
        >>> w = glassnet.tensor(np.array([[[1, 2]]], dtype=np.float32))
        >>> F.conv(x, w).tolist(), F.conv(x, w, flip=True).tolist()   # 1*1 + 2*2, ...; 2*1 + 1*2, ...
        ([[[5.0, 10.0, 18.0]]], [[[4.0, 8.0, 15.0]]])
        >>> y = F.conv(glassnet.ones(1, 1, 3, 3, 3, 3), glassnet.ones(1, 1, 2, 2, 2, 2))   # D = 4
        >>> y.shape, float(y.numpy().max())                                # each output sums 2^4 ones
        ((1, 1, 2, 2, 2, 2), 16.0)
    """
    return _conv(x, w, bias, stride, padding, dilation, groups, padding_mode, flip, None, "conv")


def _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, nd, name):
    return _checked(ConvNd, name, nd, input, weight, bias, False, stride=stride, padding=padding,
                  dilation=dilation, groups=groups, padding_mode=padding_mode, flip=flip)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           padding_mode="zeros", flip=False):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out); see `conv` for the formula and the
    arguments. weight (C_out, C_in / groups, k), bias (C_out,);
    L_out = floor((L + p_lo + p_hi - d (k - 1) - 1) / s) + 1.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2, 4, 7]]], dtype=np.float32))   # (1, 1, 4)
        >>> w = glassnet.tensor(np.array([[[-1, 1]]], dtype=np.float32))        # a difference
        >>> F.conv1d(x, w).tolist()
        [[[1.0, 2.0, 3.0]]]
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, 1, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           padding_mode="zeros", flip=False):
    """2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out); see `conv`.

    Examples:
        The vertical-edge kernel of lecture 002 on an image dark left, light right:

        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[[0, 0, 1, 1]] * 4]], dtype=np.float32))  # (1, 1, 4, 4)
        >>> w = glassnet.tensor(np.array([[[[1, 0, -1]] * 3]], dtype=np.float32))    # (1, 1, 3, 3)
        >>> F.conv2d(x, w).numpy()[0, 0].tolist()
        [[-3.0, -3.0], [-3.0, -3.0]]
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, 2, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           padding_mode="zeros", flip=False):
    """3-D convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out); see `conv` for
    the formula and the arguments. weight (C_out, C_in / groups, kD, kH, kW), bias (C_out,).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x, w = glassnet.ones(2, 3, 4, 5, 6), glassnet.ones(8, 3, 3, 3, 3)
        >>> y = F.conv3d(x, w, padding=1)
        >>> y.shape, y[0, 0, 1, 1, 1].item()          # an inner voxel sums 3 * 27 ones
        ((2, 8, 4, 5, 6), 81.0)
    """
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, flip, 3, "conv3d")


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, nd, name):
    return _checked(ConvTransposeNd, name, nd, input, weight, bias, True, stride=stride, padding=padding,
                  output_padding=output_padding, groups=groups, dilation=dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 1-D convolution: (N, C_in, L) -> (N, C_out, L_out), weight (C_in, C_out/groups, k),
    L_out = (L - 1) s - 2 p + d (k - 1) + output_padding + 1. It is the input gradient of conv1d:
    every input value adds a copy of the kernel, scaled by it, at stride s.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[1, 2]]], dtype=np.float32))          # (1, 1, 2)
        >>> w = glassnet.tensor(np.array([[[1, 1, 1]]], dtype=np.float32))       # (1, 1, 3)
        >>> F.conv_transpose1d(x, w, stride=2).tolist()   # 1 1 1 . . + . . 2 2 2
        [[[1.0, 1.0, 3.0, 2.0, 2.0]]]
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 1,
                           "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out), weight
    (C_in, C_out / groups, kH, kW); the formula and sizes per dimension as conv_transpose1d.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.conv_transpose2d(glassnet.zeros(8, 16, 7, 7), glassnet.zeros(16, 6, 2, 2), stride=2).shape
        (8, 6, 14, 14)
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 2,
                           "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 3-D convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out), weight
    (C_in, C_out / groups, kD, kH, kW); the formula and sizes per dimension as conv_transpose1d.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.conv_transpose3d(glassnet.zeros(1, 4, 2, 3, 3), glassnet.zeros(4, 2, 3, 3, 3)).shape
        (1, 2, 4, 5, 5)
    """
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation, 3,
                           "conv_transpose3d")
