"""Convolution of a single-channel input at stride 1, without a patch matrix.

One input channel (grayscale images, audio): a patch row is then only prod(k) values, in runs
of k_last (5 for LeNet's first layer), and im2col's GEMM against a handful of filters runs far
below the BLAS's peak ((50176, 25) @ (25, 6) at 25 GFLOP/s). The two sums that read the input
are taken directly instead, along output lines, where the values one tap sees at neighbouring
positions are neighbours in the input:

    conv_forward      y[n, o, co]  = b[co] + sum_kk x[n, o + kk*d] w[co, 0, kk]          (forward)
    conv_weight_grad  dw[co, 0, kk] = sum_{n, o} dy[n, o, co] x[n, o + kk*d]             (seed 003: dW = dZ * V)

(the input gradient has C_out channels to scatter from, and takes im2col.py's path). The
forward multiplies in registers.py's blocks: 16 neighbouring positions of a line times the
weights of 8 output channels, 25 taps of LeNet-5's first layer in 25 blocks (one thread: 610 us
for the batch of 64 with a scratch grid of sums read back position by position, 460-490 us
this way); float32 only (float64 takes im2col). The weight gradient's scratch is C_out values
per position of one padded sample, the size of one sample's output. At stride 1 only: other
strides take the patch matrix.

Threads. The forward shares blocks of 16 output positions among the threads (a batch of one
included, a 1-D signal too); each value is one sum, the same wherever a thread's part starts. The weight
gradient sums over the batch in fixed blocks, as in im2col.py: whole samples,
blocks.sample_block of them to a block, shared among the threads; each block's partial dW is
kept and the partials are added in a fixed order, so the bytes do not depend on the thread count.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import carray, njit, uint64

from . import allocator, blocks
from .direct import block_weights
from .handoff import address, compiled_part, pointer
from .im2col import row_bytes, window_offsets, worth_splitting
from .layout import _column_sums, buffer, column_sums, flat_rows, flat_samples
from .registers import LANES, ROWS, copy_block, multiply_add, prefer_wide_vectors, stack_float32, zero_block
from .threads import split_compiled


def worthwhile(channels: int, stride) -> bool:
    """Whether this path takes a convolution whose input has `channels` channels: one, at stride 1."""
    return channels == 1 and all(s == 1 for s in stride)


def forward_worthwhile(channels: int, stride, dtype) -> bool:
    """Whether this path takes the forward sum: worthwhile's convolutions in float32 (the blocks
    add in float32 registers; float64 goes through im2col)."""
    return worthwhile(channels, stride) and dtype == np.float32


# ---------------------------------------------------------------- tables

@lru_cache(maxsize=64)
def grid_table(padded: tuple, kernel_size: tuple, dilation: tuple, out_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(origins, taps) for a single-channel input at stride 1: window p starts at flat offset
    origins[p] of the padded sample, and tap j of every window lies taps[j] further on."""
    index = window_offsets(padded, kernel_size, (1,) * len(padded), dilation, out_shape)  # (P, K)
    origins, taps = np.ascontiguousarray(index[:, 0]), index[0] - index[0, 0]
    origins.flags.writeable = taps.flags.writeable = False
    return origins, taps


# ---------------------------------------------------------------- the loops (no GIL)

@njit(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})
def _correlate(x, lines, length, taps, wk, bias, u0, u1, tail, y):
    """The forward sum for a single-channel input at stride 1, computed directly (no patch
    matrix), for the output blocks u0:u1 (each LANES positions of one output line, `length`
    positions along the last axis; line g = n len(lines) + l is line l of sample n):

        y[g length + t, co] = bias[co] + sum_j x[n, lines[l] + t + taps[j]] wk[j, co]

    lines[l] is where line l's first window starts in one (flat, padded) sample and taps[j] where
    tap j lies from a window's start. At stride 1 the windows of a line start at neighbouring
    input positions, so tap j of LANES neighbouring windows reads LANES neighbouring values: one
    vector, times the tap's weights for ROWS output channels, is one block of multiply-adds
    (registers.py) with the channels as the block's rows and the positions as its lanes. A line's
    last block is moved back to end at the line's end (it recomputes some positions, the same
    sums in the same order); in a line shorter than LANES the extra positions are computed and
    dropped, and where that would read past the batch, the block reads a zero-padded copy of the
    rest of it (tail, of taps[-1] + LANES values). wk (K, CP) has its columns zero-padded to a
    multiple of ROWS, bias (CP,). Each value is one sum over j in order: the same bytes however
    the blocks are shared among the threads."""
    prefer_wide_vectors()
    n_lines, n_taps = lines.shape[0], taps.shape[0]
    xf, wf = x.reshape(-1), wk.reshape(-1)
    width, n_out = wk.shape[1], y.shape[1]
    per_line = (length + LANES - 1) // LANES
    reach = taps[n_taps - 1] + LANES  # values a block reads from its first one on
    acc, tile = stack_float32(128), stack_float32(128)  # (ROWS channels, LANES positions)
    for u in range(u0, u1):
        g, t = divmod(u, per_line)
        n, l = divmod(g, n_lines)
        t0 = max(min(t * LANES, length - LANES), 0)  # the block's first position in the line
        at = n * x.shape[1] + lines[l] + t0
        source, start = xf, at
        if at + reach > xf.shape[0]:  # only at the batch's end, with lines shorter than LANES
            kept = xf.shape[0] - at
            tail[:kept] = xf[at:]
            tail[kept:] = 0
            source, start = tail, 0
        for ct in range(0, width, ROWS):
            zero_block(acc)
            for j in range(n_taps):
                w_at = j * width + ct
                multiply_add(acc, wf[w_at], wf[w_at + 1], wf[w_at + 2], wf[w_at + 3], wf[w_at + 4],
                             wf[w_at + 5], wf[w_at + 6], wf[w_at + 7], source, uint64(start + taps[j]))
            copy_block(acc, tile)
            row = g * length + t0
            for i in range(min(ROWS, n_out - ct)):
                b = bias[ct + i]
                for o in range(min(LANES, length - t0)):
                    y[row + o, ct + i] = tile[i * LANES + o] + b


def _correlate_part(block):
    """_correlate as a part of a split (threads.split_compiled, compiled by handoff.compiled_part):
    block = [u0, u1, x, N, S, lines, lines', length, taps, K, wk, K, CP, bias, tail, tail's size,
    y, N P, C_out], each array's address then its shape (float32; a tail of the part's own)."""
    b = carray(pointer(block, np.int64), 19)
    x, lines = carray(pointer(b[2], np.float32), (b[3], b[4])), carray(pointer(b[5], np.int64), b[6])
    taps, wk = carray(pointer(b[8], np.int64), b[9]), carray(pointer(b[10], np.float32), (b[11], b[12]))
    bias, tail = carray(pointer(b[13], np.float32), b[12]), carray(pointer(b[14], np.float32), b[15])
    _correlate(x, lines, b[7], taps, wk, bias, b[0], b[1], tail, carray(pointer(b[16], np.float32), (b[17], b[18])))


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_grad(x, origins, taps, dy, full, dw):
    """The weight gradient for a single-channel input at stride 1, computed directly:
    dw[j, co] += sum_p x[n, origins[p] + taps[j]] dy[n P + p, co], with dY spread onto the grid
    (zeros where no window starts) so that each (j, co) is one long dot product. (reassoc lets
    that dot product be vectorized: the order of a float sum changes, as in any GEMM.)"""
    n_pos, c_out, span = origins.shape[0], dy.shape[1], full.shape[1]
    for n in range(x.shape[0]):
        xs, g = x[n], dy[n * n_pos:(n + 1) * n_pos]  # (P, C_out)
        full[:] = 0
        for p in range(n_pos):
            for co in range(c_out):
                full[co, origins[p]] = g[p, co]
        for j in range(taps.shape[0]):
            source = xs[taps[j]:taps[j] + span]
            for co in range(c_out):
                spread, total = full[co], dw.dtype.type(0)
                for i in range(span):
                    total += source[i] * spread[i]
                dw[j, co] += total


@njit(nogil=True, cache=True)
def _weight_grad_blocks(x, origins, taps, dy, full, per, b0, b1, out):
    """out[i] = _weight_grad over the `per` samples of block i, for the blocks i in b0:b1."""
    n_pos = origins.shape[0]
    for i in range(b0, b1):
        n0, n1 = i * per, min((i + 1) * per, x.shape[0])
        out[i] = 0
        _weight_grad(x[n0:n1], origins, taps, dy[n0 * n_pos:n1 * n_pos], full, out[i])


def _block_partials_part(block):
    """_block_partials' work as a part of a split, for float32 with dW: block = [b0, b1, per,
    rows per block, need_db, x, N, S, origins, P, taps, K, dy, N P, C_out, full, span, dw,
    blocks, db], each array's address then its shape (`full` a scratch array of the part's own)."""
    b = carray(pointer(block, np.int64), 20)
    b0, b1, c_out, n_blocks = b[0], b[1], b[14], b[18]
    dy = carray(pointer(b[12], np.float32), (b[13], c_out))
    if b[4]:
        _column_sums(dy, b[3], b0, b1, carray(pointer(b[19], np.float32), (n_blocks, c_out)))
    x, origins = carray(pointer(b[5], np.float32), (b[6], b[7])), carray(pointer(b[8], np.int64), b[9])
    taps, full = carray(pointer(b[10], np.int64), b[11]), carray(pointer(b[15], np.float32), (c_out, b[16]))
    dw = carray(pointer(b[17], np.float32), (n_blocks, b[11], c_out))
    _weight_grad_blocks(x, origins, taps, dy, full, b[2], b0, b1, dw)


# ---------------------------------------------------------------- a batch, shared among the threads

def _grid(xp_shape, kernel_size, dilation, out_shape):
    """grid_table for the channels-last single-channel input xp (N, *Sp, 1)."""
    return grid_table(tuple(xp_shape[1:-1]), tuple(kernel_size), tuple(dilation), tuple(out_shape))


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, dilation, out_shape) -> np.ndarray:
    """y[n, o, co] = b[co] + sum_kk xp[n, o + kk*d, 0] w[co, 0, kk] for the padded channels-last
    float32 xp (N, *Sp, 1) and w (C_out, 1, *k) -> channels-last y (N, *out, C_out). The output
    blocks of LANES positions of the whole batch are shared among the threads (no sum runs across
    them, so any cut gives the same bytes): a batch of one is shared too, a 1-D signal too."""
    n, k, c_out = xp.shape[0], w.shape[2:], w.shape[0]
    wk, b = block_weights(w, bias, ROWS, xp.dtype)  # (K, CP): the taps' weights, channels padded; (CP,)
    y = allocator.empty((n,) + tuple(out_shape) + (c_out,), xp.dtype)  # (N, *out, C_out)
    x, y_rows = flat_samples(xp), flat_rows(y)  # (N, prod(Sp)), (N P, C_out)
    origins, taps = _grid(xp.shape, k, dilation, out_shape)
    length = out_shape[-1]
    lines = origins[::length]  # (P / length,) where each output line's first window starts

    def work(u0, u1):  # the output blocks u0:u1 of the batch
        tail = buffer("tail", (taps[-1] + LANES,), xp.dtype)
        _correlate(x, lines, length, taps, wk, b, u0, u1, tail, y_rows)

    lines_copy, tails = np.ascontiguousarray(lines), []  # for the compiled parts: contiguous; a tail each

    def block(u0, u1):  # _correlate_part's
        tails.append(np.empty(taps[-1] + LANES, np.float32))
        return np.array([u0, u1, address(x), *x.shape, address(lines_copy), len(lines), length,
                         address(taps), len(taps), address(wk), *wk.shape, address(b),
                         address(tails[-1]), len(tails[-1]), address(y_rows), *y_rows.shape], dtype=np.int64)

    blocks_per_line = -(-length // LANES)
    split_compiled(n * len(lines) * blocks_per_line, work, compiled_part(_correlate_part), block,
                   worth_splitting(n, out_shape, row_bytes(k, 1, xp.itemsize)))
    return y


def _block_partials(xp: np.ndarray | None, dy: np.ndarray, kernel_size, dilation, need_db: bool) -> tuple:
    """(dw_parts (blocks, 1, prod(k), C_out) or None for xp=None, db_parts (blocks, C_out) or None):
    each block's partial sums of dW and db, the blocks (of whole samples) shared among the threads."""
    n, out_shape, c_out = dy.shape[0], dy.shape[1:-1], dy.shape[-1]
    positions = math.prod(out_shape)
    per = blocks.sample_block(n, positions)
    leaves = max(blocks.count(n, per), 1)  # one (empty) for N = 0
    db_parts = np.empty((leaves, c_out), dtype=dy.dtype) if need_db else None
    dw_parts = np.empty((leaves, 1, math.prod(kernel_size), c_out), dtype=dy.dtype) if xp is not None else None

    d = flat_rows(dy)  # (N P, C_out)
    if xp is not None:
        x, (origins, taps) = flat_samples(xp), _grid(xp.shape, kernel_size, dilation, out_shape)

    def work(b0, b1):  # blocks b0:b1
        if need_db:
            column_sums(dy, per * positions, b0, b1, db_parts)
        if xp is not None:
            full = buffer("cols", (c_out, origins[-1] + 1), xp.dtype)  # (C_out, grid span)
            _weight_grad_blocks(x, origins, taps, d, full, per, b0, b1, dw_parts[:, 0])

    fulls = []  # the compiled parts' scratch arrays, one each

    def block(b0, b1):  # _block_partials_part's
        fulls.append(np.empty((c_out, origins[-1] + 1), np.float32))  # (C_out, grid span)
        return np.array([b0, b1, per, per * positions, need_db, address(x), *x.shape, address(origins),
                         len(origins), address(taps), len(taps), address(d), *d.shape, address(fulls[-1]),
                         fulls[-1].shape[1], address(dw_parts), leaves, address(db_parts) if need_db else 0],
                        dtype=np.int64)

    part = compiled_part(_block_partials_part) if xp is not None and dy.dtype == np.float32 else 0
    split_compiled(leaves, work, part, block, worth_splitting(n, out_shape, row_bytes(kernel_size, 1, dy.itemsize)))
    return dw_parts, db_parts


def _from_matrix(dwm: np.ndarray, kernel_size) -> np.ndarray:
    """(1, prod(k), C_out) -> (C_out, 1, *k)."""
    return np.ascontiguousarray(dwm[0].T).reshape((dwm.shape[2], 1) + tuple(kernel_size))


def conv_weight_grad(xp: np.ndarray | None, dy: np.ndarray, kernel_size, dilation, need_db: bool = True) -> tuple:
    """(dw, db): dw[co, 0, kk] = sum_{n, o} dy[n, o, co] xp[n, o + kk*d, 0] (C_out, 1, *k) and
    db[co] = sum_{n, o} dy[n, o, co], for the padded channels-last xp (N, *Sp, 1) and dy
    (N, *out, C_out); xp=None: db alone. The blocks' partials are added by one NumPy sum over
    the blocks (a fixed order; each is only prod(k) x C_out values)."""
    dw_parts, db_parts = _block_partials(xp, dy, kernel_size, dilation, need_db)
    dw = _from_matrix(dw_parts.sum(axis=0), kernel_size) if xp is not None else None
    return dw, (db_parts.sum(axis=0) if need_db else None)


def conv_transpose_weight_grad(dy_full: np.ndarray, x: np.ndarray, kernel_size, dilation) -> np.ndarray:
    """The weight gradient (C_in, 1, *k) of a transposed convolution with one output channel at
    stride 1: conv_weight_grad's sum with the roles swapped (dy_full (N, *full, 1) the padded
    channels-last output gradient, x (N, *in, C_in) channels-last), the same block partials
    added along the fixed tree of kernels/fast/blocks.py instead, the order a transposed
    convolution's weight gradient takes on im2col's path too."""
    dw_parts, _ = _block_partials(dy_full, x, kernel_size, dilation, False)
    total = blocks.tree_total(len(dw_parts), {(i, i + 1): [dw_parts[i]] for i in range(len(dw_parts))})[0]
    return _from_matrix(total, kernel_size)
