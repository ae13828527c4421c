"""Convolution and transposed convolution over any number of spatial dimensions, with backward.

Shapes (D = w.ndim - 2 spatial dimensions, G groups, k = kernel size):

    x    (N, C_in, *in)            w (C_out, C_in / G, *k)        bias (C_out,)
    y    (N, C_out, *out)          out_i = floor((in_i + p_lo + p_hi - d_i (k_i - 1) - 1) / s_i) + 1

Forward (seed 002/003; what PyTorch calls convolution is a cross-correlation):

    y[n, co, o] = b[co] + sum_{c in group(co)} sum_{kk} w[co, c, kk] * xp[n, c, o*s + kk*d]

where xp is x padded (zeros, reflect, replicate or circular) and o, kk are multi-indices. With
flip=True the kernel is rotated by 180 degrees (flipped along every spatial axis) first, which is
true convolution (seed 001): y[o] = sum_kk w[kk] x[o - kk] up to the padding offset.

Backward (seed 003), for dY = dL/dy:

    dX = full correlation of dY with the 180-degree-rotated kernels, dA = sum_h rot180(W_h) * dZ_h
         (zeros inserted between dY's elements when s > 1), i.e. a transposed convolution of dY;
    dW = correlation of the input with dY,  dW[co, c, kk] = sum_{n, o} dY[n, co, o] xp[n, c, o*s + kk*d]
    db = sum of dY over the batch and every position.

The input gradient and the transposed convolution are one computation, and so are the forward
convolution and the transposed convolution's input gradient.

This module states the sums and chooses, one visible line per path, which engine of
glassnet/kernels/fast evaluates them (glassnet/reference/conv.py writes them as the lecture
does, and is what these are tested against):

    fft_conv        long kernels at stride 1: the convolution theorem (chosen by a flop estimate)
    winograd        3x3 kernels at stride 1 with many channels: Winograd's F(4x4, 3x3) or F(2x2, 3x3)
    single_channel  a one-channel input at stride 1: sums along output lines, no patch matrix
    direct          few channels in and out: blocks of multiply-adds in registers, on the input as it lies
    im2col          everything else: patch matrix in bounded chunks, one GEMM per chunk

Every engine but the FFT works on channels-last memory (fast/layout.py) and takes the batch in
fixed blocks summed in a fixed order (fast/blocks.py), so the result is the same bytes at any
thread count.

The arguments are checked by glassnet.functional.conv (functional/_checks.py), once per call;
these functions trust their callers. Only what the sizes themselves decide (a kernel larger than
the padded input, an output_padding too large) is refused here, where the sizes are worked out.
"""

from __future__ import annotations

import math

import numpy as np

from .fast import direct, fft_conv, im2col, layout, single_channel, winograd
from .fast.threads import run_both
from .sizes import (Pads, check_window_fits, output_shape, positive_tuple, resolve_padding,
                    transpose_geometry)
from .windows import move_channels_first, pad, pad_backward


# The backward of a convolution whose patch matrix (N x output positions rows of C_in/G x prod(k)
# values) has between these many bytes computes dx and dW side by side, one thread each, instead
# of each shared among all. Measured at two threads, backward of (N, 6, 14x14) -> 16, 5x5: from
# 468 KB (N = 8) on side by side was faster (343 against 381 us; at N = 64, 3.75 MB: 1232
# against 1604 us), below it slower (N = 4: 296 against 198 us, the hand-off costs more than
# the work). Layers of 9 and 14 MB gained 0.90-0.93 at two threads too, but with more threads
# side by side would leave all but two idle (`python benchmarks/bench_thresholds.py`).
# Not when both sums are direct.py's: their parts run compiled (fast/handoff.py), and each sum
# shared among the threads then won, paired at two threads (11 blocks of 5 calls, forward and
# backward): (64, 6, 14x14) -> 16, 5x5 0.953, (16, ...) 0.957, (8, ...) 0.931; LeNet-5 step 0.977.
SIDE_BY_SIDE_BYTES = (1 << 19, 1 << 23)


def _geometry(x_shape, w_shape, stride, padding, dilation) -> tuple[tuple, tuple, Pads, tuple]:
    """Normalised (stride, dilation, pads, out_shape) of a convolution; checks the window fits."""
    nd = len(w_shape) - 2
    k, spatial = tuple(w_shape[2:]), tuple(x_shape[2:])
    stride = positive_tuple(stride, nd, "stride")
    dilation = positive_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, stride, dilation, spatial)
    check_window_fits(spatial, k, pads, dilation)
    return stride, dilation, pads, output_shape(spatial, k, stride, pads, dilation)


def _spatial_flip(w: np.ndarray) -> np.ndarray:
    return np.flip(w, axis=tuple(range(2, w.ndim)))  # rot180 in 2-D: every spatial axis reversed


def conv_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                 dilation=1, groups: int = 1, padding_mode: str = "zeros", flip: bool = False,
                 return_padded: bool = False):
    """N-D convolution (cross-correlation unless flip=True): (N, C_in, *in) -> (N, C_out, *out).

        y[n, co, o] = b[co] + sum_{c in group(co)} sum_{kk} w[co, c, kk] * xp[n, c, o*s + kk*d]

    padding: int, one int per dimension, one (low, high) pair per dimension, or 'valid', 'same'
    (output size ceil(in / s), any stride and dilation), 'full'. The result is an NCHW view of
    channels-last memory (except on the FFT path). Extra memory: the padded channels-last copy of
    x plus the bounded chunks of the engine (kernels/fast/im2col.py).

    return_padded=True returns (y, xp) with xp the padded channels-last input (N, *padded, C_in)
    the forward made (None on the FFT path): conv_backward reuses it instead of making it again.
    """
    stride, dilation, pads, out = _geometry(x.shape, w.shape, stride, padding, dilation)
    if flip:
        w = _spatial_flip(w)
    if fft_conv.worthwhile(x.shape, w.shape, stride, groups):
        y = fft_conv.conv_forward(pad(x, pads, padding_mode), w, bias, dilation, out)
        return (y, None) if return_padded else y
    xp = layout.to_channels_last(x, pads, padding_mode)  # (N, *padded, C_in), what the other paths read
    if winograd.worthwhile(x.shape, w.shape, stride, dilation, groups, x.dtype):
        y = winograd.conv_forward(xp, w, bias)
    elif single_channel.forward_worthwhile(x.shape[1], stride, x.dtype):
        y = single_channel.conv_forward(xp, w, bias, dilation, out)
    elif direct.worthwhile(x.shape[1], w.shape[0], groups, x.dtype):
        y = direct.conv_forward(xp, w, bias, stride, dilation, out)
    else:
        y = im2col.conv_forward(xp, w, bias, stride, dilation, groups, out)
    y = move_channels_first(y)  # (N, C_out, *out), a view of the channels-last result
    return (y, xp) if return_padded else y


def conv_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0, dilation=1,
                  groups: int = 1, padding_mode: str = "zeros", flip: bool = False,
                  needs=(True, True, True), xp: np.ndarray | None = None) -> tuple:
    """Gradients (dx, dw, db) of conv_forward for upstream dy (N, C_out, *out); None where not needed.

        dx = full correlation of dY with rot180(W) (seed 003), then the padding's adjoint;
        dw = correlation of the padded input with dY (flipped back when flip=True);
        db = sum of dY over N and every output position.

    xp: the padded channels-last input that conv_forward(..., return_padded=True) returned, if
    kept; otherwise it is made again from x.
    """
    stride, dilation, pads, out = _geometry(x.shape, w.shape, stride, padding, dilation)
    wf = _spatial_flip(w) if flip else w
    if not (needs[0] or needs[1]):  # db alone
        dx, dw, db = None, None, layout.channel_sums(dy) if needs[2] else None
    elif fft_conv.worthwhile(x.shape, w.shape, stride, groups):  # dx and dw share one transform of dY
        dx, dw = fft_conv.conv_backward(dy, pad(x, pads, padding_mode) if needs[1] else None, wf, pads,
                                        padding_mode, dilation, needs[0], needs[1])
        db = layout.channel_sums(dy) if needs[2] else None
    else:
        dy = layout.to_channels_last(dy)  # (N, *out, C_out), read by both sums below

        def input_grad():
            return _input_grad(dy, wf, x.shape, stride, pads, dilation, groups, padding_mode) if needs[0] else None

        def weight_grad():  # (None, None) for dx alone (an input attribution, a frozen layer)
            if not (needs[1] or needs[2]):
                return None, None
            return _weight_grad(dy, x, xp, w.shape, stride, pads, dilation, groups, padding_mode, needs[1], needs[2])

        # a small layer's two sums gain little from sharing each among the threads: run them side by side
        patches = dy.nbytes // dy.shape[-1] * math.prod(w.shape[1:])  # the patch matrix's bytes
        small = (SIDE_BY_SIDE_BYTES[0] <= patches < SIDE_BY_SIDE_BYTES[1]
                 and not _both_direct(x.shape, w.shape, stride, dilation, groups, dy))
        dx, (dw, db) = run_both(input_grad, weight_grad, needs[0] and needs[1] and small)
    if dw is not None and flip:
        dw = np.ascontiguousarray(_spatial_flip(dw))  # the gradient of w itself; y used the flipped w
    return dx, dw, db


def _both_direct(x_shape, w_shape, stride, dilation, groups: int, dy: np.ndarray) -> bool:
    """Whether _input_grad and _weight_grad both take direct.py's sums for this layer (dy
    channels-last)."""
    swapped = (w_shape[1], w_shape[0]) + tuple(w_shape[2:])
    return (direct.worthwhile(x_shape[1], w_shape[0], groups, dy.dtype)
            and direct.input_grad_worthwhile(w_shape, groups, dilation, dy.dtype, math.prod(dy.shape[1:-1]))
            and not winograd.worthwhile(x_shape, w_shape, stride, dilation, groups, dy.dtype)
            and not winograd.worthwhile(x_shape, swapped, stride, dilation, groups, dy.dtype))


def _input_grad(dy: np.ndarray, w: np.ndarray, x_shape, stride, pads: Pads, dilation, groups: int,
                padding_mode: str) -> np.ndarray:
    """dx (N, C_in, *in) = the full correlation of dY with the 180-degree-rotated kernels (seed
    003's dA = sum_h rot180(W_h) * dZ_h), i.e. the transposed convolution of dY, then the
    padding's adjoint (a crop for zeros; border gradients folded back for the other modes).
    dy (N, *out, C_out) channels-last."""
    swapped = (w.shape[1], w.shape[0]) + tuple(w.shape[2:])  # this product runs from C_out to C_in
    if winograd.worthwhile(x_shape, swapped, stride, dilation, groups, dy.dtype):
        return winograd.conv_input_grad(dy, w, pads, padding_mode)
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(x_shape[2:], pads))
    if direct.input_grad_worthwhile(w.shape, groups, dilation, dy.dtype, math.prod(dy.shape[1:-1])):
        dxp = direct.conv_input_grad(dy, w, stride, dilation, padded)  # (N, *padded, C_in)
    else:
        dxp = im2col.conv_input_grad(dy, w, stride, dilation, groups, padded)
    return pad_backward(move_channels_first(dxp), pads, padding_mode)


def _weight_grad(dy: np.ndarray, x: np.ndarray, xp: np.ndarray | None, w_shape, stride, pads: Pads, dilation,
                 groups: int, padding_mode: str, need_dw: bool, need_db: bool) -> tuple:
    """(dw, db): dw[co, c, kk] = sum_{n, o} dY[n, co, o] xp[n, c, o*s + kk*d], the correlation of
    the padded input with dY (seed 003), and db = sum of dY, over the same blocks of rows; None
    where not needed. dy (N, *out, C_out) channels-last."""
    if not need_dw:
        xp = None  # db alone reads dY only
    elif xp is None:
        xp = layout.to_channels_last(x, pads, padding_mode)  # (N, *padded, C_in)
    if need_dw and winograd.worthwhile(x.shape, w_shape, stride, dilation, groups, dy.dtype):
        return winograd.weight_grad(xp, dy), layout.channel_sums(move_channels_first(dy)) if need_db else None
    if single_channel.worthwhile(x.shape[1], stride):
        return single_channel.conv_weight_grad(xp, dy, w_shape[2:], dilation, need_db)
    if need_dw and direct.worthwhile(x.shape[1], w_shape[0], groups, dy.dtype):
        return direct.conv_weight_grad(xp, dy, w_shape[2:], stride, dilation, need_db)
    return im2col.conv_weight_grad(xp, dy, w_shape[2:], stride, dilation, groups, x.shape[1], need_db)


def _transpose_geometry(x_shape, w_shape, stride, padding, output_padding, dilation):
    """(stride, dilation, pads, full, out) of a transposed convolution (sizes.transpose_geometry)."""
    return transpose_geometry(x_shape[2:], w_shape[2:], stride, padding, output_padding, dilation)


def _crop(a: np.ndarray, pads: Pads, first_axis: int) -> np.ndarray:
    index = tuple(slice(lo, a.shape[first_axis + i] - hi) for i, (lo, hi) in enumerate(pads))
    return a[(slice(None),) * first_axis + index]


def conv_transpose_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1,
                           padding=0, output_padding=0, groups: int = 1, dilation=1) -> np.ndarray:
    """Transposed convolution: (N, C_in, *in) -> (N, C_out, *out), w (C_in, C_out / G, *k).

    out_i = (in_i - 1) s_i - p_lo - p_hi + d_i (k_i - 1) + output_padding_i + 1.
    It is exactly the input gradient of a convolution with weight w (seed 003's rot180 formula):
    each input element x[n, ci, i] adds x * w[ci, co, kk] at output position i*s + kk*d.
    """
    stride, dilation, pads, full, out = _transpose_geometry(x.shape, w.shape, stride, padding,
                                                            output_padding, dilation)
    x_cl = layout.to_channels_last(x)  # (N, *in, C_in)
    if direct.input_grad_worthwhile(w.shape, groups, dilation, x.dtype, math.prod(x.shape[2:])):
        y_full = direct.conv_input_grad(x_cl, w, stride, dilation, full)  # (N, *full, C_out)
    else:
        y_full = im2col.conv_input_grad(x_cl, w, stride, dilation, groups, full)
    y = _crop(y_full, pads, 1)  # (N, *out, C_out)
    if bias is not None:
        y += bias
    return move_channels_first(y)


def conv_transpose_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0,
                            output_padding=0, groups: int = 1, dilation=1, needs=(True, True, True)) -> tuple:
    """Gradients (dx, dw, db) of conv_transpose_forward.

    The adjoint of a transposed convolution is the convolution itself: with dY re-padded by the
    crop (zeros) to the uncropped size,
        dx = conv_forward(dY_full, w)                 (correlation with the same kernels)
        dw = correlation of dY_full with the input x  (the same sum as a conv's weight gradient,
                                                      with input and output swapping roles)
        db = sum of dY.
    (The direct engine takes the same layers as for a convolution, by the channels of each sum;
    Winograd and the FFT are not used for transposed convolutions: never measured there.)
    """
    stride, dilation, pads, full, out = _transpose_geometry(x.shape, w.shape, stride, padding,
                                                            output_padding, dilation)
    k, c_out = w.shape[2:], w.shape[1] * groups
    dy_full = layout.to_channels_last(dy, pads, "zeros")  # (N, *full, C_out)
    dx = dw = None
    if needs[0]:
        if single_channel.forward_worthwhile(c_out, stride, dy.dtype):
            dx = single_channel.conv_forward(dy_full, w, None, dilation, x.shape[2:])  # (N, *in, C_in)
        elif direct.worthwhile(c_out, w.shape[0], groups, dy.dtype):
            dx = direct.conv_forward(dy_full, w, None, stride, dilation, x.shape[2:])
        else:
            dx = im2col.conv_forward(dy_full, w, None, stride, dilation, groups, x.shape[2:])
        dx = move_channels_first(dx)
    if needs[1]:
        x_cl = layout.to_channels_last(x)  # (N, *in, C_in)
        if single_channel.worthwhile(c_out, stride):
            dw = single_channel.conv_transpose_weight_grad(dy_full, x_cl, k, dilation)
        elif direct.worthwhile(c_out, w.shape[0], groups, dy.dtype):
            dw, _ = direct.conv_weight_grad(dy_full, x_cl, k, stride, dilation, need_db=False)
        else:
            dw, _ = im2col.conv_weight_grad(dy_full, x_cl, k, stride, dilation, groups, c_out, need_db=False)
    db = layout.channel_sums(dy) if needs[2] else None
    return dx, dw, db


__all__ = ["conv_forward", "conv_backward", "conv_transpose_forward", "conv_transpose_backward"]
