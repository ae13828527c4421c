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

The input gradient and the transposed convolution are one computation (im2col.transposed), and
so are the forward convolution and the transposed convolution's input gradient
(im2col.correlate). How the sums are evaluated quickly and in bounded memory is in im2col.py,
in fixed blocks summed in a fixed order so that the result does not depend on the threads
(blocks.py); long kernels at stride 1 go through the FFT instead (fft_conv.py), and 3x3 kernels
at stride 1 with many channels through Winograd's F(2x2, 3x3) (winograd.py), both chosen by size.
"""

from __future__ import annotations

import math

import numpy as np

from .fast import blocks, fft_conv, im2col, winograd
from .sizes import (Pads, check_window_fits, output_shape, positive_tuple, resolve_padding, spatial_names,
                    transpose_geometry)
from .fast.threads import PARALLEL_BYTES, single_threaded_blas, split_batch, split_together
from .windows import move_channels_first, move_channels_last, pad, pad_backward


def _shape_pattern(channels: int, nd: int) -> str:
    names = spatial_names(nd)
    return "(" + ", ".join(("N", str(channels)) + names) + ")"


def check_conv_args(x_shape, x_dtype, w_shape, w_dtype, bias=None, stride=1, dilation=1, groups=1,
                    name: str = "conv", transposed: bool = False) -> None:
    """Raise a clear error (naming what was expected and what came) for inconsistent arguments.

    For a transposed convolution w is (C_in, C_out / G, *k), as in PyTorch.
    """
    w_shape, x_shape = tuple(w_shape), tuple(x_shape)
    nd = len(w_shape) - 2
    if nd < 1:
        raise ValueError(f"{name} expected a weight of shape (C_out, C_in/groups, *kernel_size), got {w_shape}")
    if len(x_shape) != nd + 2:
        raise ValueError(f"{name} expected a {nd + 2}-D input {_shape_pattern('C', nd)} for a {nd + 2}-D "
                         f"weight {w_shape}, got a {len(x_shape)}-D input of shape {x_shape}")
    for what, dt in (("input", x_dtype), ("weight", w_dtype)):
        if np.dtype(dt).kind != "f":
            raise TypeError(f"{name} expected a floating-point {what}, got dtype {np.dtype(dt)}")
    if np.dtype(x_dtype) != np.dtype(w_dtype):
        raise TypeError(f"{name} got input of dtype {np.dtype(x_dtype)} and weight of dtype {np.dtype(w_dtype)}; "
                        "convert one with .float() or .double() (glassnet never upcasts silently)")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ValueError(f"{name} expected groups to be a positive int, got {groups!r}")
    positive_tuple(stride, nd, "stride")
    positive_tuple(dilation, nd, "dilation")
    if transposed:
        c_in, c_out = w_shape[0], w_shape[1] * groups
        if c_in % groups:
            raise ValueError(f"{name}: groups={groups} must divide the input channels of weight {w_shape} ({c_in})")
    else:
        c_in, c_out = w_shape[1] * groups, w_shape[0]
        if c_out % groups:
            raise ValueError(f"{name}: groups={groups} must divide the output channels of weight {w_shape} ({c_out})")
    if x_shape[1] != c_in:
        raise ValueError(f"{name} expected input with {c_in} channels {_shape_pattern(c_in, nd)} for weight "
                         f"{w_shape}" + (f" and groups={groups}" if groups != 1 else "") + f", got {x_shape}")
    if bias is not None:
        if tuple(np.shape(bias)) != (c_out,):
            raise ValueError(f"{name} expected bias of shape ({c_out},) for weight {w_shape}, got {tuple(np.shape(bias))}")
        if np.dtype(bias.dtype) != np.dtype(w_dtype):
            raise TypeError(f"{name} got bias of dtype {np.dtype(bias.dtype)} for weight of dtype {np.dtype(w_dtype)}")


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


def _bias_grad(dy: np.ndarray) -> np.ndarray:
    """db[co] = sum of dy (N, C_out, *out) over the batch and every output position.

    dy is often channels-last memory (a convolution's output gradient that came back through
    ReLU and pooling, which keep the layout). NumPy's sum over every axis but the contiguous
    channel axis then adds only C_out values per inner step (0.70 ms for (64, 6, 28, 28) against
    0.06 ms on NCHW memory), so that case is the product ones @ dY (rows, C_out) instead (0.09 ms;
    one BLAS thread: the summation order is fixed).
    """
    last = move_channels_last(dy)  # (N, *out, C_out) view
    if dy.flags.c_contiguous or not last.flags.c_contiguous:
        return dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
    with single_threaded_blas():
        return _bias_grad_channels_last(last)


def _bias_grad_channels_last(dy: np.ndarray) -> np.ndarray:
    """db of a contiguous channels-last dy (N, *out, C_out): ones @ dY (rows, C_out)."""
    rows = dy.reshape(-1, dy.shape[-1])  # (N * prod(out), C_out), no copy
    return np.ones(rows.shape[0], dtype=dy.dtype) @ rows


def _to_channels_last(x: np.ndarray, pads=None, padding_mode: str = "zeros") -> np.ndarray:
    """im2col.to_channels_last, the copy (when one is needed) shared among threads by sample."""
    view = im2col.channels_last_view(x, pads)  # (N, *S, C) when free
    if view is not None:
        return view
    out = im2col.empty_channels_last(x.shape, pads, x.dtype)  # (N, *padded, C)
    split_batch(x.shape[0], lambda n0, n1: im2col.fill_channels_last(out[n0:n1], x[n0:n1], pads, padding_mode),
                out.nbytes > PARALLEL_BYTES)
    return out


def _row_bytes(w_shape, c: int, itemsize: int) -> int:
    """Bytes of one patch row: prod(k) taps x C channels."""
    return math.prod(w_shape[2:]) * c * itemsize


def conv_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                 dilation=1, groups: int = 1, padding_mode: str = "zeros", flip: bool = False,
                 return_padded: bool = False):
    """N-D convolution (cross-correlation unless flip=True): (N, C_in, *in) -> (N, C_out, *out).

    padding: int, one int per dimension, one (low, high) pair per dimension, or 'valid', 'same'
    (output size ceil(in / s), any stride and dilation), 'full'. The result is an NCHW view of
    channels-last memory. Extra memory: the padded channels-last copy of x plus the bounded
    im2col chunks (im2col.py).

    return_padded=True returns (y, xp) with xp the padded channels-last input (N, *padded, C_in)
    the forward made (None on the FFT path): conv_backward reuses it instead of making it again.
    """
    check_conv_args(x.shape, x.dtype, w.shape, w.dtype, bias, stride, dilation, groups, "conv_forward")
    stride, dilation, pads, out = _geometry(x.shape, w.shape, stride, padding, dilation)
    if flip:
        w = _spatial_flip(w)
    if fft_conv.worthwhile(x.shape, w.shape, stride, groups):
        y = fft_conv.correlate(pad(x, pads, padding_mode), w, dilation, out)  # (N, C_out, *out)
        if bias is not None:
            y += bias.reshape((-1,) + (1,) * len(out))
        return (y, None) if return_padded else y
    n, k = x.shape[0], w.shape[2:]
    xp = _to_channels_last(x, pads, padding_mode)  # (N, *padded, C_in)
    if winograd.worthwhile(x.shape, w.shape, stride, dilation, groups, x.dtype):
        y = move_channels_first(winograd.correlate(xp, winograd.kernel_transform(w), bias))
        return (y, xp) if return_padded else y
    wm = im2col.weight_matrix(w, groups)  # (G, K Cg, Og)
    y = np.empty((n,) + out + (w.shape[0],), dtype=x.dtype)  # (N, *out, C_out)
    rows, size = n * math.prod(out), im2col.block_rows(xp.shape, k, stride, out, groups, x.itemsize)

    def work(b0, b1):  # patch rows of blocks b0:b1 (batch 1 is shared by output positions too)
        im2col.correlate(xp, wm, k, stride, dilation, out, y, bias, (b0 * size, min(b1 * size, rows)))

    split_batch(blocks.count(rows, size), work,
                im2col.worth_splitting(n, out, _row_bytes(w.shape, x.shape[1], x.itemsize)))
    y = move_channels_first(y)
    return (y, xp) if return_padded else y


def conv_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0, dilation=1,
                  groups: int = 1, padding_mode: str = "zeros", flip: bool = False,
                  needs=(True, True, True), xp: np.ndarray | None = None) -> tuple:
    """Gradients (dx, dw, db) of conv_forward for upstream dy (N, C_out, *out); None where not needed.

    dx = full correlation of dY with rot180(W) (seed 003) = transposed convolution of dY, then the
         padding's adjoint (a crop for zeros; border gradients folded back for the other modes);
    dw = correlation of the padded input with dY (flipped back when flip=True, since y used the
         flipped kernel);
    db = sum of dY over N and every output position.

    xp: the padded channels-last input that conv_forward(..., return_padded=True) returned, if
    kept; otherwise it is made again from x.
    """
    stride, dilation, pads, out = _geometry(x.shape, w.shape, stride, padding, dilation)
    wf = _spatial_flip(w) if flip else w
    dx = dw = db = None
    if not (needs[0] or needs[1]):
        return None, None, _bias_grad(dy) if needs[2] else None
    if fft_conv.worthwhile(x.shape, w.shape, stride, groups):
        db = _bias_grad(dy) if needs[2] else None
        xp = pad(x, pads, padding_mode) if needs[1] else None
        dxp, dw = fft_conv.correlate_backward(np.asarray(dy), xp, wf, dilation, needs[0], needs[1])
        if needs[0]:
            dx = pad_backward(dxp, pads, padding_mode)
    else:
        swapped = (w.shape[1], w.shape[0]) + tuple(w.shape[2:])  # the input gradient's product: C_out -> C_in
        if needs[0] and winograd.worthwhile(x.shape, swapped, stride, dilation, groups, x.dtype):
            dx = _winograd_input_grad(dy, wf, pads, padding_mode)  # the weight gradient stays below
            needs = (False,) + tuple(needs[1:])
        n, k, positions = x.shape[0], w.shape[2:], math.prod(out)
        padded = tuple(m + lo + hi for m, (lo, hi) in zip(x.shape[2:], pads))
        dy_cl = _to_channels_last(dy)  # (N, *out, C_out)
        if needs[1] and xp is None:
            xp = _to_channels_last(x, pads, padding_mode)  # (N, *padded, C_in)
        wm = im2col.weight_matrix(wf, groups) if needs[0] else None  # (G, K Cg, Og)
        dxp = np.empty((n,) + padded + (x.shape[1],), dtype=dy.dtype) if needs[0] else None  # (N, *padded, C_in)
        # dW and db: sums over fixed blocks of patch rows in a fixed order (blocks.py); dX: whole
        # samples, in fixed blocks of `per` samples
        rows = n * positions
        xp_shape = (n,) + padded + (x.shape[1],)
        size = im2col.block_rows(xp_shape, k, stride, out, groups, dy.itemsize)
        leaves = max(blocks.count(rows, size), 1)  # one (empty) for N = 0
        per = blocks.sample_block(n, positions)
        # small partials (db; dW of a single-channel input, prod(k) x C_out values) are kept for
        # every block and added up by one NumPy sum over the blocks (its order fixed by the
        # shapes); large ones are added along the tree as they come
        db_parts = np.empty((leaves, dy.shape[1]), dtype=dy.dtype) if needs[2] else None
        keep_dw = needs[1] and im2col.single_channel(xp_shape, stride)
        dw_parts = np.empty((leaves, 1, math.prod(k), dy.shape[1]), dtype=dy.dtype) if keep_dw else None

        def work(row_blocks, sample_blocks):  # one thread's share of both
            n0, n1 = sample_blocks[0] * per, min(sample_blocks[1] * per, n)
            if needs[0] and n1 > n0:
                dxp[n0:n1] = 0
                im2col.transposed(dy_cl[n0:n1], wm, k, stride, dilation, dxp[n0:n1], per)
            if needs[2]:
                im2col.column_sums(dy_cl, size, *row_blocks, db_parts)
            if keep_dw:
                im2col.weight_grad_blocks(xp, dy_cl, k, dilation, size, *row_blocks, dw_parts)
            elif needs[1]:
                return blocks.partial_sums(*row_blocks, leaves, lambda i: [im2col.weight_grad(
                    xp, dy_cl, k, stride, dilation, groups, (i * size, min((i + 1) * size, rows)))])
            return {}

        nodes = {}
        for part in split_together((leaves, blocks.count(n, per) if needs[0] else 0), work,
                                   im2col.worth_splitting(n, out, _row_bytes(w.shape, x.shape[1], x.itemsize))):
            nodes.update(part)
        if needs[1]:
            dwm = dw_parts.sum(axis=0) if keep_dw else blocks.tree_total(leaves, nodes)[0]  # (G, K Cg, Og)
            dw = im2col.weight_from_matrix(dwm, k)  # (C_out, C_in/G, *k)
        if needs[2]:
            db = db_parts.sum(axis=0)
        if needs[0]:
            dx = pad_backward(move_channels_first(dxp), pads, padding_mode)
    if dw is not None and flip:
        dw = np.ascontiguousarray(_spatial_flip(dw))
    return dx, dw, db


def _winograd_input_grad(dy: np.ndarray, w: np.ndarray, pads: Pads, padding_mode: str) -> np.ndarray:
    """dx (N, C_in, H, W) of a 3x3 stride-1 convolution through winograd.input_grad. With zero
    padding of at most 2 only the input's own positions are computed (dY padded by 2 - p: the
    same number of tiles as the forward); otherwise the whole padded input's gradient, then the
    padding's adjoint."""
    dy_cl = _to_channels_last(dy)  # (N, H_out, W_out, C_out)
    if padding_mode == "zeros" and all(lo <= 2 and hi <= 2 for lo, hi in pads):
        return move_channels_first(winograd.input_grad(dy_cl, w, tuple((2 - lo, 2 - hi) for lo, hi in pads)))
    dxp = winograd.input_grad(dy_cl, w, ((2, 2), (2, 2)))  # (N, *padded, C_in)
    return pad_backward(move_channels_first(dxp), pads, padding_mode)


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
    check_conv_args(x.shape, x.dtype, w.shape, w.dtype, bias, stride, dilation, groups,
                    "conv_transpose_forward", transposed=True)
    stride, dilation, pads, full, out = _transpose_geometry(x.shape, w.shape, stride, padding,
                                                            output_padding, dilation)
    n, k, c_out = x.shape[0], w.shape[2:], w.shape[1] * groups
    wm = im2col.weight_matrix(w, groups)  # (G, K C_out/G, C_in/G)
    y = np.empty((n,) + full + (c_out,), dtype=x.dtype)  # (N, *full, C_out)
    per = blocks.sample_block(n, math.prod(x.shape[2:]))  # whole samples, in fixed blocks

    def work(b0, b1):  # samples of blocks b0:b1, in one thread
        n0, n1 = b0 * per, min(b1 * per, n)
        y[n0:n1] = 0
        im2col.transposed(im2col.to_channels_last(x[n0:n1]), wm, k, stride, dilation, y[n0:n1], per)

    split_batch(blocks.count(n, per), work,
                n > 1 and im2col.worth_splitting(n, x.shape[2:], _row_bytes(w.shape, c_out, x.itemsize)))
    y = _crop(y, pads, 1)  # (N, *out, C_out)
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
    """
    stride, dilation, pads, full, out = _transpose_geometry(x.shape, w.shape, stride, padding,
                                                            output_padding, dilation)
    dx = dw = None
    db = _bias_grad(dy) if needs[2] else None
    n, k, c_out = x.shape[0], w.shape[2:], w.shape[1] * groups
    wm = im2col.weight_matrix(w, groups) if needs[0] else None  # (G, K C_out/G, C_in/G)
    dy_full = _to_channels_last(dy, pads, "zeros")  # (N, *full, C_out)
    x_cl = _to_channels_last(x) if needs[1] else None  # (N, *in, C_in)
    if needs[0]:
        dx = np.empty((n,) + x.shape[2:] + (x.shape[1],), dtype=dy.dtype)  # (N, *in, C_in)
    # both sums run over the patch rows of dy_full at the input's positions, in the same fixed blocks
    rows, size = n * math.prod(x.shape[2:]), im2col.block_rows(dy_full.shape, k, stride, x.shape[2:], groups,
                                                               dy.itemsize)
    leaves = max(blocks.count(rows, size), 1)  # one (empty) for N = 0

    def leaf(i):  # [dW] of the patch rows of block i
        r = (i * size, min((i + 1) * size, rows))
        return [im2col.weight_grad(dy_full, x_cl, k, stride, dilation, groups, r)]

    def work(b0, b1):  # patch rows of blocks b0:b1, in one thread
        if needs[0]:
            im2col.correlate(dy_full, wm, k, stride, dilation, x.shape[2:], dx, None, (b0 * size, min(b1 * size, rows)))
        return blocks.partial_sums(b0, b1, leaves, leaf) if needs[1] else {}

    nodes = {}
    for part in split_batch(leaves, work, im2col.worth_splitting(n, x.shape[2:], _row_bytes(w.shape, c_out, x.itemsize))):
        nodes.update(part)
    if needs[1]:
        dw = im2col.weight_from_matrix(blocks.tree_total(leaves, nodes)[0], k)  # (C_in, C_out/G, *k)
    return (move_channels_first(dx) if needs[0] else None), dw, db


__all__ = ["conv_forward", "conv_backward", "conv_transpose_forward", "conv_transpose_backward",
           "check_conv_args"]
