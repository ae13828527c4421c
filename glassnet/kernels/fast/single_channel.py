"""Convolution of a single-channel input at stride 1, without a patch matrix.

One input channel (grayscale images, audio): a patch row is then only prod(k) values, in runs
of k_last (5 for LeNet's first layer), and im2col's GEMM against a handful of filters runs far
below the BLAS's peak ((50176, 25) @ (25, 6) at 25 GFLOP/s). The two sums that read the input
are taken directly instead, along output lines, where the values one tap sees at neighbouring
positions are neighbours in the input:

    conv_forward      y[n, o, co]  = b[co] + sum_kk x[n, o + kk*d] w[co, 0, kk]          (forward)
    conv_weight_grad  dw[co, 0, kk] = sum_{n, o} dy[n, o, co] x[n, o + kk*d]             (seed 003: dW = dZ * V)

(the input gradient has C_out channels to scatter from, and takes im2col.py's path). The
scratch is C_out values per position of one padded sample, the size of one sample's output.
At stride 1 only: other strides take the patch matrix.

Threads. The forward shares the output positions of the batch among the threads (a batch of
one included); each value is one sum, the same wherever a thread's part starts. The weight
gradient sums over the batch in fixed blocks, as in im2col.py: whole samples,
blocks.sample_block of them to a block, shared among the threads; each block's partial dW is
kept and the partials are added in a fixed order, so the bytes do not depend on the thread count.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from . import blocks
from .im2col import row_bytes, window_offsets, worth_splitting
from .layout import buffer, column_sums, flat_rows, flat_samples
from .threads import split_batch


def worthwhile(channels: int, stride) -> bool:
    """Whether this path takes a convolution whose input has `channels` channels: one, at stride 1."""
    return channels == 1 and all(s == 1 for s in stride)


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

@njit(nogil=True, cache=True)
def _correlate(x, origins, taps, w, bias, full, r0, r1, y):
    """The forward sum for a single-channel input at stride 1, computed directly (no patch
    matrix): y[n P + p, co] = b[co] + sum_j x[n, origins[p] + taps[j]] w[j, co], for the rows
    n P + p in r0:r1.

    origins[p] is where window p starts in one (flat, padded) sample, taps[j] where tap j lies
    from there. At stride 1 every window of the padded grid is at origin + 1 from its
    neighbour, so each tap is one long vector loop over the grid, full[co, i] += x[i + taps[j]]
    w[j, co], for i from the first window of the rows wanted in a sample to its last; positions
    whose window would wrap past a row end are computed and dropped (at most k_last - 1 per
    row). Each full[co, i] is its own sum, in the same order wherever the loop starts and ends,
    so rows computed in parts are the same bytes as rows computed at once. The taps go four to
    a pass, so that the accumulator row is loaded and stored once per four taps: the loop is
    bound by those loads and stores (32 LeNet images: 366 us one tap to a pass, 277 us four)."""
    n_pos, c_out, n_taps = origins.shape[0], w.shape[1], taps.shape[0]
    for n in range(r0 // n_pos, (r1 + n_pos - 1) // n_pos):
        p0, p1 = max(r0 - n * n_pos, 0), min(r1 - n * n_pos, n_pos)  # this sample's windows
        i0, i1 = origins[p0], origins[p1 - 1] + 1  # the stretch of the grid they start in
        span, xs = i1 - i0, x[n, i0:]
        for co in range(c_out):
            acc = full[co, i0:i1]
            acc[:] = 0 if bias is None else bias[co]
            j = 0
            while j + 4 <= n_taps:  # a vector loop over four shifted copies of the sample
                s0, s1 = xs[taps[j]:taps[j] + span], xs[taps[j + 1]:taps[j + 1] + span]
                s2, s3 = xs[taps[j + 2]:taps[j + 2] + span], xs[taps[j + 3]:taps[j + 3] + span]
                w0, w1, w2, w3 = w[j, co], w[j + 1, co], w[j + 2, co], w[j + 3, co]
                for i in range(span):
                    acc[i] += s0[i] * w0 + s1[i] * w1 + s2[i] * w2 + s3[i] * w3
                j += 4
            for j in range(j, n_taps):  # the last n_taps % 4, one to a pass
                source, weight = xs[taps[j]:taps[j] + span], w[j, co]
                for i in range(span):
                    acc[i] += source[i] * weight
        out = y[n * n_pos:(n + 1) * n_pos]  # (P, C_out)
        for p in range(p0, p1):
            for co in range(c_out):
                out[p, co] = full[co, origins[p]]


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


# ---------------------------------------------------------------- a batch, shared among the threads

def _grid(xp_shape, kernel_size, dilation, out_shape):
    """grid_table for the channels-last single-channel input xp (N, *Sp, 1)."""
    return grid_table(tuple(xp_shape[1:-1]), tuple(kernel_size), tuple(dilation), tuple(out_shape))


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, dilation, out_shape) -> np.ndarray:
    """y[n, o, co] = b[co] + sum_kk xp[n, o + kk*d, 0] w[co, 0, kk] for the padded channels-last
    xp (N, *Sp, 1) and w (C_out, 1, *k) -> channels-last y (N, *out, C_out). The output positions
    of the whole batch are shared among the threads (no sum runs across them, so any cut gives
    the same bytes): a batch of one is shared too."""
    n, k, positions = xp.shape[0], w.shape[2:], math.prod(out_shape)
    wk = np.ascontiguousarray(w.reshape(w.shape[0], -1).T)  # (K, C_out)
    y = np.empty((n,) + tuple(out_shape) + (w.shape[0],), dtype=xp.dtype)  # (N, *out, C_out)
    x, y_rows = flat_samples(xp), flat_rows(y)  # (N, prod(Sp)), (N P, C_out)
    origins, taps = _grid(xp.shape, k, dilation, out_shape)

    def work(r0, r1):  # the output positions (n, p) numbered r0:r1 (n P + p)
        full = buffer("cols", (w.shape[0], origins[-1] + 1), xp.dtype)  # (C_out, grid span)
        _correlate(x, origins, taps, wk, bias, full, r0, r1, y_rows)

    split_batch(n * positions, work, worth_splitting(n, out_shape, row_bytes(k, 1, xp.itemsize)))
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

    def work(b0, b1):  # blocks b0:b1
        if need_db:
            column_sums(dy, per * positions, b0, b1, db_parts)
        if xp is not None:
            origins, taps = _grid(xp.shape, kernel_size, dilation, out_shape)
            full = buffer("cols", (c_out, origins[-1] + 1), xp.dtype)  # (C_out, grid span)
            _weight_grad_blocks(flat_samples(xp), origins, taps, flat_rows(dy), full, per, b0, b1, dw_parts[:, 0])

    split_batch(leaves, work, worth_splitting(n, out_shape, row_bytes(kernel_size, 1, dy.itemsize)))
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
