"""The fast path behind convolution: im2col in bounded chunks, one GEMM per chunk, two threads.

glassnet/kernels/conv.py states the formulas; this module evaluates their three sums for any
number of spatial dimensions, any stride, dilation and groups:

    correlate     y[n, o, co]  = sum_{kk, c}  xp[n, o*s + kk*d, c] * w[co, c, kk]      (forward)
    weight_grad   dw[co, c, kk] = sum_{n, o}  dy[n, o, co] * xp[n, o*s + kk*d, c]     (seed 003: dW = dZ * V)
    transposed    dx[n, i, c]  = sum_{o, kk with o*s + kk*d = i} dy[n, o, co] * w[co, c, kk]
                                                                     (seed 003: dA = rot180(W) * dZ)

(o, i and kk stand for whole multi-indices; c runs over the channels of co's group.)

How. The patches that output positions see are copied, as rows, into a "patch matrix" (im2col):
row (n, o) holds xp[n, o*s + kk*d, c] for every (kk, c). The forward sum is then one matrix
product cols @ W, the weight gradient cols^T @ dY, and the transposed sum the product dY @ W^T
whose rows are added back onto the input positions they came from (col2im, a scatter-add).

Layout. Arrays here are channels-last, (N, *spatial, C): a patch row is then a run of contiguous
channel vectors, and the GEMM result (N * out positions, C_out) *is* the channels-last output,
no transpose needed. conv.py hands out NCHW *views* of this memory (strides make them free), and
a channels-last array comes back from an NCHW view of it without a copy.

Memory bound. The full patch matrix would be prod(k) times larger than the input. It is never
built: the output rows are cut into chunks whose patch rows take at most
max(CHUNK_BYTES, MIN_ROWS rows) bytes, each worker thread copies one chunk at a time into its own
reused buffer, and the buffer stays in the cache for the GEMM that reads it. Extra memory beyond
the inputs, the outputs and the padded channels-last copy of the input (while it is made with
a padding mode other than zeros, each half of the batch also exists as a channels-last copy and
as windows.pad's padded result: input-sized, never prod(k)-sized) is therefore at most

    threads x max(CHUNK_BYTES, MIN_ROWS x R, R x prod(out[1:]))  bytes,   R = prod(k) C itemsize

(R is one patch row; the last term only matters when a single output row of a single sample is
larger than the chunk), plus one (G, prod(k) C/G, C_out/G) weight-gradient accumulator per worker.
With the defaults (1 MiB, 256 rows) that is under 2.4 MiB for every layer of the benchmark.

Threads. Every function here is single-threaded over the samples it is given. conv.py shares
a batch between get_num_threads() threads with threads.split_batch: each thread runs the whole
pipeline (layout copy, im2col, GEMMs, scatter-adds) on its own half of the samples, with
OpenBLAS held at one thread, so a convolution hands work to the helper thread once, and the
scatter-adds of the two halves write disjoint memory. NumPy and numba release the GIL, so the
halves run side by side.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import njit

from .windows import pad, sliding_windows

CHUNK_BYTES = 1 << 20  # patch-matrix bytes per chunk: about one core's L2 cache
MIN_ROWS = 256  # GEMMs with fewer rows run well below the BLAS's peak
SMALL_BYTES = 1 << 18  # a problem whose whole patch matrix is smaller runs in one thread

_local = threading.local()


def _buffer(shape: tuple[int, ...], dtype) -> np.ndarray:
    """This thread's reusable scratch array (grown when needed, never shrunk)."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buf = getattr(_local, "buffer", None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(nbytes, dtype=np.uint8)
        _local.buffer = buf
    return buf[:nbytes].view(dtype).reshape(shape)


def chunks(n: int, out_shape: tuple[int, ...], row_bytes: int) -> list[tuple[int, int, int, int]]:
    """Cut the output rows (n, o_1, ...) of n samples into chunks (n0, n1, o0, o1).

    A chunk is whole samples n0:n1 when one sample's patch rows fit in CHUNK_BYTES, otherwise one
    sample and a range o0:o1 of its first output dimension.
    """
    if n == 0:
        return []  # an empty batch: nothing to compute
    per_sample, inner = math.prod(out_shape), math.prod(out_shape[1:])
    rows_budget = max(CHUNK_BYTES // row_bytes, MIN_ROWS)
    if per_sample <= rows_budget:
        nb = -(-n // -(-(n * per_sample * row_bytes) // CHUNK_BYTES))  # equal chunks of whole samples
        return [(a, min(a + nb, n), 0, out_shape[0]) for a in range(0, n, nb)]
    ob = max(rows_budget // inner, 1)
    ob = -(-out_shape[0] // -(-out_shape[0] // ob))  # equal pieces, no small remainder chunk
    return [(a, a + 1, o, min(o + ob, out_shape[0])) for a in range(n) for o in range(0, out_shape[0], ob)]


def worth_splitting(n: int, out_shape: tuple[int, ...], row_bytes: int) -> bool:
    """Whether the patch matrix of n samples is large enough to share between two threads (the
    hand-off to the helper thread costs tens of microseconds)."""
    return n > 1 and n * math.prod(out_shape) * row_bytes > SMALL_BYTES


CHANNEL_BLOCK = 16  # channels per copy in the NCHW -> channels-last transposition


def _copy_to_channels_last(dst: np.ndarray, src: np.ndarray) -> None:
    """dst (b, *S, C) = src (b, C, *S) with the channels moved last; dst may be a strided view.

    From NCHW memory the copy goes CHANNEL_BLOCK channels at a time. Why: each output pixel
    gathers its C values from C planes, and for a 32x32 float32 plane those lie exactly 4 KiB
    apart, so they fall into the same L1 cache set and evict each other before the next pixel
    can reuse them. Copying 16 channels at a time: 4.7 ms instead of 12.0 ms for (64, 64, 32, 32),
    2.1 instead of 6.0 ms for (32, 64, 32, 32); other planes equal or faster.
    """
    src_cl = np.moveaxis(src, 1, -1)  # (b, *S, C) view
    if src_cl.flags.c_contiguous:  # already channels-last memory: one plain copy
        np.copyto(dst, src_cl)
        return
    for c0 in range(0, src_cl.shape[-1], CHANNEL_BLOCK):
        np.copyto(dst[..., c0:c0 + CHANNEL_BLOCK], src_cl[..., c0:c0 + CHANNEL_BLOCK])


def _unpadded(pads) -> bool:
    return pads is None or all(tuple(p) == (0, 0) for p in pads)


def channels_last_view(x: np.ndarray, pads=None) -> np.ndarray | None:
    """x (N, C, *S) as a channels-last (N, *S, C) view when that is free (x is a channels-first
    view of contiguous channels-last memory and no padding is asked for), else None."""
    x_cl = np.moveaxis(x, 1, -1)  # (N, *S, C) view
    return x_cl if _unpadded(pads) and x_cl.flags.c_contiguous else None


def empty_channels_last(x_shape, pads=None, dtype=np.float32) -> np.ndarray:
    """Uninitialised (N, *padded S, C) for an (N, C, *S) input, to be filled by fill_channels_last."""
    pads = pads if pads is not None else ((0, 0),) * (len(x_shape) - 2)
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(x_shape[2:], pads))
    return np.empty((x_shape[0],) + padded + (x_shape[1],), dtype=dtype)


def fill_channels_last(out: np.ndarray, x: np.ndarray, pads=None, padding_mode: str = "zeros") -> None:
    """out (b, *padded S, C) = x (b, C, *S) transposed to channels-last and padded as windows.pad
    pads. Zero padding writes x straight into the interior of the zeroed result; the other
    modes pad a channels-last copy with windows.pad."""
    if _unpadded(pads):
        _copy_to_channels_last(out, x)
    elif padding_mode == "zeros":
        out[...] = 0
        interior = tuple(slice(lo, lo + m) for m, (lo, _) in zip(x.shape[2:], pads))
        _copy_to_channels_last(out[(slice(None),) + interior], x)
    else:
        cl = np.empty((x.shape[0],) + x.shape[2:] + (x.shape[1],), dtype=x.dtype)  # (b, *S, C)
        _copy_to_channels_last(cl, x)
        out[...] = pad(cl, tuple(pads) + ((0, 0),), padding_mode)


def to_channels_last(x: np.ndarray, pads=None, padding_mode: str = "zeros") -> np.ndarray:
    """x (N, C, *S) -> contiguous channels-last (N, *padded S, C), padded as windows.pad does.
    Free when x is already a channels-first view of channels-last memory and needs no padding."""
    view = channels_last_view(x, pads)
    if view is not None:
        return view
    out = empty_channels_last(x.shape, pads, x.dtype)
    fill_channels_last(out, x, pads, padding_mode)
    return out


def _channels_last_windows(xp: np.ndarray, kernel_size, stride, dilation, out_shape, groups) -> np.ndarray:
    """View of channels-last xp (N, *Sp, C) as (G, N, *out, *k, C/G) patches, no copy."""
    nd = len(kernel_size)
    first = np.moveaxis(xp, -1, 1)  # (N, C, *Sp), a view of the same memory
    win = sliding_windows(first, kernel_size, stride, dilation, out_shape)  # (N, C, *out, *k)
    win = win.reshape((win.shape[0], groups, win.shape[1] // groups) + win.shape[2:])  # (N, G, C/G, *out, *k)
    return win.transpose((1, 0) + tuple(range(3, 3 + 2 * nd)) + (2,))  # (G, N, *out, *k, C/G)


def _im2col(win: np.ndarray, chunk) -> np.ndarray:
    """Copy the patches of one chunk into this thread's buffer -> (G, rows, prod(k) C/G).

    win is the (G, N, *out, *k, C/G) view; the chunk's slice of it, copied into a contiguous
    buffer, is the patch matrix (this is the whole of im2col). The copy's speed is set by how
    many values it can move per contiguous run. Normally a patch row holds runs of k_last * C
    channel values, and the rows are stored one after another. With a single input channel
    (grayscale images, audio) those runs are only k_last long (5 values for LeNet's first
    layer), while the values one tap sees at neighbouring output positions are neighbours in
    the input; the patch matrix is then stored column by column, (G, prod(k), rows), and
    handed out as its transposed view: 4x faster for (64, 1, 32x32, 5x5), and the GEMMs read
    either orientation at the same speed (BLAS takes a transposed operand as it is).
    """
    n0, n1, o0, o1 = chunk
    src = win[:, n0:n1, o0:o1]  # (G, b, ob, *out[1:], *k, C/G)
    nd = (src.ndim - 2) // 2
    rows = math.prod(src.shape[1:2 + nd])
    if src.shape[0] * src.shape[-1] == 1:  # one input channel
        order = (0,) + tuple(range(2 + nd, src.ndim)) + tuple(range(1, 2 + nd))
        src = src.transpose(order)  # (1, *k, 1, b, ob, *out[1:])
        buf = _buffer(src.shape, src.dtype)
        np.copyto(buf, src)
        return buf.reshape(1, -1, rows).transpose(0, 2, 1)  # (1, rows, prod(k)), a view of (1, prod(k), rows)
    buf = _buffer(src.shape, src.dtype)
    np.copyto(buf, src)
    return buf.reshape(src.shape[0], rows, -1)  # (G, rows, prod(k) C/G)


def weight_matrix(w: np.ndarray, groups: int) -> np.ndarray:
    """(C_out, C/G, *k) -> (G, prod(k) C/G, C_out/G), rows ordered (kk, c) like a patch row."""
    co, cg = w.shape[:2]
    kk = math.prod(w.shape[2:])
    wm = w.reshape(groups, co // groups, cg, kk)  # (G, Og, Cg, K)
    return np.ascontiguousarray(wm.transpose(0, 3, 2, 1)).reshape(groups, kk * cg, co // groups)  # (G, K Cg, Og)


def weight_from_matrix(wm: np.ndarray, kernel_size) -> np.ndarray:
    """The inverse of weight_matrix: (G, prod(k) C/G, C_out/G) -> (C_out, C/G, *k)."""
    groups, rows, og = wm.shape
    kk = math.prod(kernel_size)
    w = wm.reshape(groups, kk, rows // kk, og).transpose(0, 3, 2, 1)  # (G, Og, Cg, K)
    return np.ascontiguousarray(w).reshape((groups * og, rows // kk) + tuple(kernel_size))


def correlate(xp: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, out_shape, y: np.ndarray,
              bias: np.ndarray | None = None) -> None:
    """y[n, o, co] = b[co] + sum_{kk, c} xp[n, o*s + kk*d, c] w[co, c, kk], written into y.

    xp (N, *Sp, C) channels-last (already padded), wm = weight_matrix(w, G) -> y (N, *out, C_out),
    channels-last and contiguous. One GEMM (rows, prod(k) C/G) @ (prod(k) C/G, C_out/G) per chunk
    and group; the bias is added to each chunk while it is still in cache.
    """
    out_shape = tuple(out_shape)
    groups, c_out = wm.shape[0], wm.shape[0] * wm.shape[2]
    win = _channels_last_windows(xp, kernel_size, stride, dilation, out_shape, groups)
    b = None if bias is None else bias.reshape(groups, c_out // groups)  # (G, Og)
    for chunk in chunks(xp.shape[0], out_shape, wm.shape[1] * groups * xp.itemsize):
        n0, n1, o0, o1 = chunk
        cols = _im2col(win, chunk)  # (G, rows, K Cg)
        dst = y[n0:n1, o0:o1].reshape(cols.shape[1], groups, c_out // groups)  # (rows, G, Og)
        np.matmul(cols, wm, out=dst.transpose(1, 0, 2))  # (G, rows, Og), written in place
        if b is not None:
            dst += b  # (rows, G, Og) + (G, Og)


def weight_grad(xp: np.ndarray, dy: np.ndarray, kernel_size, stride, dilation, groups: int) -> np.ndarray:
    """dw[co, c, kk] = sum_{n, o} dy[n, o, co] xp[n, o*s + kk*d, c]: the correlation of the input
    with dY (seed 003). xp (N, *Sp, C), dy (N, *out, C_out), both channels-last ->
    (G, prod(k) C/G, C_out/G), the layout of weight_matrix (weight_from_matrix gives
    (C_out, C/G, *k); two threads each sum their samples first). One GEMM cols^T @ dY per chunk,
    summed over the chunks."""
    kernel_size = tuple(kernel_size)
    out_shape = dy.shape[1:-1]
    c, c_out = xp.shape[-1], dy.shape[-1]
    cg, og, kk = c // groups, c_out // groups, math.prod(kernel_size)
    win = _channels_last_windows(xp, kernel_size, stride, dilation, out_shape, groups)
    acc = np.zeros((groups, kk * cg, og), dtype=xp.dtype)
    part = np.empty_like(acc)
    for chunk in chunks(xp.shape[0], out_shape, kk * c * xp.itemsize):
        n0, n1, o0, o1 = chunk
        cols = _im2col(win, chunk)  # (G, rows, K Cg)
        g = dy[n0:n1, o0:o1].reshape(cols.shape[1], groups, og).transpose(1, 0, 2)  # (G, rows, Og)
        np.matmul(cols.transpose(0, 2, 1), g, out=part)  # (G, K Cg, Og)
        acc += part
    return acc


@njit(nogil=True, cache=True)
def _col2im(dx, cols, index, cg, n0):
    """dx[n0 + b, index[p, r] + g Cg + t] += cols[g, b, p, r, t].

    dx (N, prod(Sp) C) flat channels-last; cols (G, B, P, R, L): what output position p sends
    back through its kernel taps, cut into R runs of L values that are contiguous in dx too;
    index[p, r] = flat offset in dx (of group 0) where run r of position p lands. A run is one
    tap's C/G channels, or, with one group and dilation 1 on the last axis, a whole row of taps
    (k_last x C values: neighbouring taps land on neighbouring positions).
    """
    groups, nb, npos, nruns, length = cols.shape
    for g in range(groups):
        for b in range(nb):
            for p in range(npos):
                for r in range(nruns):
                    start = index[p, r] + g * cg
                    target, source = dx[n0 + b, start:start + length], cols[g, b, p, r]
                    for t in range(length):  # t >= 0 from range: compiles to a vector loop
                        target[t] += source[t]


def transposed(dy: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, in_shape, dx: np.ndarray) -> None:
    """dx[n, i, c] = sum over (o, kk) with o*s + kk*d = i of dy[n, o, co] w[co, c, kk], into dx.

    This is seed 003's input gradient dA = sum_h rot180(W_h) * dZ_h, the full correlation of dY
    (with s - 1 zeros inserted between its elements when s > 1) with the 180-degree-rotated
    kernels: read that correlation backwards and each dY element sends dY * W[kk] to input
    position o*s + kk*d. Computing it in that scatter form skips the multiplications by inserted
    zeros. It is also the transposed convolution.

    dy (N, *out, C_out) channels-last, wm = weight_matrix(w, G); dx (N, *in_shape, C)
    channels-last, zeroed by the caller. One GEMM dY (rows, C_out/G) @ W^T (C_out/G, prod(k) C/G)
    per chunk and group, then col2im.
    """
    in_shape, kernel_size = tuple(in_shape), tuple(kernel_size)
    out_shape = dy.shape[1:-1]
    n, c_out = dy.shape[0], dy.shape[-1]
    groups = wm.shape[0]
    og, kk = c_out // groups, math.prod(kernel_size)
    cg = wm.shape[1] // kk
    c = cg * groups
    index = _scatter_index(in_shape, c, kernel_size, stride, dilation, out_shape)  # (P, K)
    run = cg  # contiguous values per scatter step: one tap's channels ...
    if groups == 1 and dilation[-1] == 1:  # ... or a row of k_last taps, adjacent in dx as well
        run = kernel_size[-1] * c
        index = np.ascontiguousarray(index[:, ::kernel_size[-1]])  # (P, K / k_last): first tap of each row
    wt = wm.transpose(0, 2, 1)  # (G, Og, K Cg)
    if not dx.flags.c_contiguous:
        raise ValueError("transposed writes into a C-contiguous dx")
    flat = dx.reshape(n, math.prod(in_shape) * c)  # (N, prod(in) C), a view
    inner = math.prod(out_shape[1:])
    for chunk in chunks(n, out_shape, kk * c * dy.itemsize):
        n0, n1, o0, o1 = chunk
        src = dy[n0:n1, o0:o1]  # (b, ob, *out[1:], C_out)
        rows = src.size // c_out
        cols = _buffer((groups, rows, kk * cg), dy.dtype)
        np.matmul(src.reshape(rows, groups, og).transpose(1, 0, 2), wt, out=cols)  # (G, rows, K Cg)
        runs = cols.reshape(groups, n1 - n0, (o1 - o0) * inner, kk * cg // run, run)  # (G, b, P, R, L)
        _col2im(flat, runs, index[o0 * inner:o1 * inner], cg, n0)


def _scatter_index(in_shape, c, kernel_size, stride, dilation, out_shape) -> np.ndarray:
    """(P, K): the flat channels-last offset in one sample of dx where tap q of output position p
    lands (channel 0). Cut from an index plane with the same sliding-window view the forward uses."""
    positions = np.arange(math.prod(in_shape)).reshape((1, 1) + in_shape) * c  # flat offset of each input position
    index = sliding_windows(positions, kernel_size, stride, dilation, out_shape)  # (1, 1, *out, *k)
    return index.reshape(math.prod(out_shape), math.prod(kernel_size))  # (P, K), a copy
