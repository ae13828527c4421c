"""Direct convolution for layers with few channels: the three sums without a patch matrix.

im2col (im2col.py) copies every patch into a row of a matrix and hands the product to the BLAS.
With few channels that copy costs as much as the product: for LeNet-5's (64, 6, 14x14) -> 16,
5x5 layer, one thread, copying the 6400 x 150 patch matrix took 205 us and its GEMM 237 us,
where PyTorch's whole direct convolution took 254. Here the patches are read where they lie,
in the padded channels-last input, and the products are done by one small block of
multiply-adds, the same for all three sums:

    acc[i, :] += a_i * v[:]      i < 8 (a block of 8 scalars), v a vector of 16 floats

(or 4 scalars and 32 floats) whose 128 accumulators stay in vector registers (registers.py)
while the loop runs over the summed index:

    conv_forward      y[r, o]    = b[o] + sum_j  patch_r[j] wm[j, o]    8 patch rows r, 16 output channels o
    conv_weight_grad  dw[j, o]   = sum_r patch_r[j] dy[r, o]             8 patch entries j, 16 output channels o
    conv_input_grad   dx[patch_r[j]] += sum_o dy[r, o] wm[j, o]          4 patch rows r, 32 patch entries j

patch_r[j] is the input value at entry j of patch row r (r = n P + p for sample n and output
position p; j = (kk, c)), read through im2col's patch table: run q of row p starts at offset
index[p, q] of its sample's flat channels-last memory and holds `run` neighbouring values. wm
is im2col's weight matrix (prod(k) C, C_out). Blocks that would reach past the end of their
range repeat its last row or entry; only the real ones are written.

The same bits at any thread count. Each value is summed in one fixed order whichever thread
computes it: over j for the forward; over the rows of a block for dW, the blocks' sums added
along the tree of blocks.py; for dX, blocks of 4 rows cut from each sample's first row, added
in row order. Threads get runs of 8-row blocks (forward: a batch of one is shared too), runs of
dW's blocks, or whole sample blocks (dX: the scatter-adds of one sample's rows overlap). The
compiler may fuse each multiply and add into one instruction (fastmath "contract": one rounding
instead of two, as in a BLAS), never reorder the additions.

Taken in float32 for one group, 4-16 input channels and at most 32 outputs (worthwhile; the
input gradient also asks for well-filled tiles and 32 positions per sample,
input_grad_worthwhile; measured in docs/benchmarks.md): with more channels im2col's GEMM is
faster than these blocks; with fewer inputs the runs are too short for the blocks' set-up.
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, njit, uint64

from . import allocator, blocks
from .handoff import address, compiled_part, pointer
from .im2col import patch_table, weight_from_matrix, weight_matrix
from .layout import _column_sums, buffer, column_sums, flat_rows, flat_samples
from .registers import (LANES, ROWS, WIDE_LANES, WIDE_ROWS, copy_block, multiply_add, multiply_add_wide,
                        prefer_wide_vectors, stack_float32, zero_block)
from .threads import split_compiled

CHANNELS = (4, 16)  # input channels for which the direct sums win (docs/benchmarks.md)
MAX_OUT_CHANNELS = 32  # and at most this many outputs: more favour im2col's GEMM
MIN_FLOPS = 1 << 23  # a sum smaller than this (about 80 us of work) stays in one thread
# Rows per block of the weight gradient: each block's sum is one more partial sum to add in
# Python (blocks.py's tree), about 2-5 us each; a block of 1024 rows is 50-200 us of work here.
BLOCK_ROWS = 1024
CHUNK_ROWS = 256  # rows a weight-gradient block reads at a time (see _weight_grad)
MIN_SAMPLE_ROWS = 32  # output positions per sample below which the input gradient goes through im2col
MIN_TILE_FILL = 0.6  # and the least fraction of its 32-entry tiles a run must fill


def worthwhile(in_channels: int, out_channels: int, groups: int, dtype) -> bool:
    """Whether the direct sums are the faster path for a layer with these channels (float32 only:
    the blocks add in float32 registers; float64 goes through im2col)."""
    return (dtype == np.float32 and groups == 1 and CHANNELS[0] <= in_channels <= CHANNELS[1]
            and out_channels <= MAX_OUT_CHANNELS)


def input_grad_worthwhile(w_shape, groups: int, dilation, dtype, positions: int) -> bool:
    """Whether the direct input gradient is the faster path: worthwhile's layers whose runs fill
    the 32-entry tiles to at least MIN_TILE_FILL (a run of k_last x C_in entries, C_in with a
    dilated last axis: 5 x 4 = 20 fills one tile to 20/32 and took 0.89-0.92x im2col's time,
    3 x 3 = 9 at 9/32 1.07-1.09x), with at least MIN_SAMPLE_ROWS output positions per sample
    (blocks of rows never span two samples: a 1x1 output would use one row in four; it took
    2.3-2.7x)."""
    c_out, c_in = w_shape[0], w_shape[1] * groups
    run = c_in * (w_shape[-1] if dilation[-1] == 1 else 1)
    tiles = -(-run // WIDE_LANES)
    return (worthwhile(c_in, c_out, groups, dtype) and run >= MIN_TILE_FILL * tiles * WIDE_LANES
            and positions >= MIN_SAMPLE_ROWS)


def block_weights(w: np.ndarray, bias: np.ndarray | None, multiple: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """(wm, b) for a forward by blocks: wm (prod(k) C_in, OP) the weight matrix of w (C_out, C_in,
    *k) (im2col's, rows ordered (kk, c) like a patch row) and b (OP,) the bias (zeros for None),
    their output columns zero-padded to OP, a multiple of `multiple` (the blocks read whole
    vectors or groups of outputs)."""
    c_out = w.shape[0]
    wm = np.zeros((math.prod(w.shape[1:]), -(-c_out // multiple) * multiple), dtype)
    wm[:, :c_out] = weight_matrix(w, 1)[0]
    b = np.zeros(wm.shape[1], dtype)
    if bias is not None:
        b[:c_out] = bias
    return wm, b


# ---------------------------------------------------------------- the blocks (no GIL)

_OPTIONS = dict(nogil=True, cache=True, error_model="numpy", fastmath={"contract"})


@njit(**_OPTIONS)
def _row_starts(x_size, n_pos, q0, last, starts):
    """starts[i] = the flat offset of sample n in x, p its position, for row min(q0 + i, last),
    i < len(starts)."""
    for i in range(starts.shape[0]):
        n, p = divmod(min(q0 + i, last), n_pos)
        starts[i, 0], starts[i, 1] = n * x_size, p


@njit(**_OPTIONS)
def _forward(x, index, run, wm, bias, r0, r1, y):
    """y[r, :] = bias + sum_j patch_r[j] wm[j, :] for the patch rows r0:r1; x (N, S) flat
    channels-last samples, wm (R run, OP) with OP a multiple of LANES, bias (OP,), y (N P, O)."""
    prefer_wide_vectors()
    n_pos, n_runs = index.shape
    xf, wf = x.reshape(-1), wm.reshape(-1)
    width, n_out = wm.shape[1], y.shape[1]
    acc, tile = stack_float32(128), stack_float32(128)  # (ROWS, LANES)
    starts = np.empty((ROWS, 2), np.int64)
    for q0 in range(r0, r1, ROWS):
        _row_starts(x.shape[1], n_pos, q0, r1 - 1, starts)
        for ot in range(0, width, LANES):
            zero_block(acc)
            for q in range(n_runs):
                # the 8 rows' runs, as unsigned offsets (no wrap-around checks in the loop below)
                a0, a1 = uint64(starts[0, 0] + index[starts[0, 1], q]), uint64(starts[1, 0] + index[starts[1, 1], q])
                a2, a3 = uint64(starts[2, 0] + index[starts[2, 1], q]), uint64(starts[3, 0] + index[starts[3, 1], q])
                a4, a5 = uint64(starts[4, 0] + index[starts[4, 1], q]), uint64(starts[5, 0] + index[starts[5, 1], q])
                a6, a7 = uint64(starts[6, 0] + index[starts[6, 1], q]), uint64(starts[7, 0] + index[starts[7, 1], q])
                for tt in range(run):
                    t = uint64(tt)
                    x0, x1, x2, x3 = xf[a0 + t], xf[a1 + t], xf[a2 + t], xf[a3 + t]
                    x4, x5, x6, x7 = xf[a4 + t], xf[a5 + t], xf[a6 + t], xf[a7 + t]
                    w_at = uint64((q * run + tt) * width + ot)
                    multiply_add(acc, x0, x1, x2, x3, x4, x5, x6, x7, wf, w_at)
            copy_block(acc, tile)
            for i in range(min(ROWS, r1 - q0)):
                for o in range(min(LANES, n_out - ot)):
                    y[q0 + i, ot + o] = tile[i * LANES + o] + bias[ot + o]


def _forward_part(block):
    """_forward as a part of a split (threads.split_compiled, compiled by handoff.compiled_part):
    block = [r0, r1, x, N, S, index, P, R, run, wm, R run, OP, bias, y, N P, O], each array's
    address then its shape."""
    b = carray(pointer(block, np.int64), 16)
    x, index = carray(pointer(b[2], np.float32), (b[3], b[4])), carray(pointer(b[5], np.int64), (b[6], b[7]))
    wm, bias = carray(pointer(b[9], np.float32), (b[10], b[11])), carray(pointer(b[12], np.float32), b[11])
    _forward(x, index, b[8], wm, bias, b[0], b[1], carray(pointer(b[13], np.float32), (b[14], b[15])))


@njit(**_OPTIONS)
def _weight_grad(x, index, run, dy, size, b0, b1, starts, block, dw):
    """dw[b - b0, j, :] = sum_r patch_r[j] dy[r, :] over the rows r of block b (size rows each,
    the last block of dy shorter), for the blocks b0:b1; x (N, S) flat channels-last samples,
    dy (N P, O), dw (b1 - b0, R run, OP) with OP >= O a multiple of LANES. A block is summed in
    chunks of CHUNK_ROWS rows (whose x and dY lines stay in the L1 cache while the chunk is
    read once per 8 entries), row after row within a chunk, the chunks' sums added in order.
    Scratch: starts (CHUNK_ROWS,) int64 and block (CHUNK_ROWS, OP) float32, which holds the
    chunk's rows of dY with their columns zero-padded to OP (the blocks read whole vectors)."""
    prefer_wide_vectors()
    n_pos, n_runs = index.shape
    xf, df = x.reshape(-1), block.reshape(-1)
    n_out, width = dy.shape[1], block.shape[1]
    acc, tile = stack_float32(128), stack_float32(128)  # (ROWS entries, LANES)
    for b in range(b0, b1):
        r0, r1 = b * size, min((b + 1) * size, dy.shape[0])
        if r1 <= r0:  # an empty batch: a zero sum
            dw[b - b0] = 0
        for c0 in range(r0, r1, CHUNK_ROWS):
            c1 = min(c0 + CHUNK_ROWS, r1)
            for r in range(c0, c1):
                block[r - c0, :n_out] = dy[r]
                block[r - c0, n_out:] = 0
            for q in range(n_runs):
                n, p = divmod(c0, n_pos)
                for r in range(c1 - c0):  # where run q of each row starts (no division per row)
                    starts[r] = n * x.shape[1] + index[p, q]
                    p += 1
                    if p == n_pos:
                        n, p = n + 1, 0
                for t0 in range(0, run, ROWS):
                    last = run - 1  # entries past the run repeat its last one (not written)
                    e0, e1, e2, e3 = uint64(t0), uint64(min(t0 + 1, last)), uint64(min(t0 + 2, last)), uint64(min(t0 + 3, last))
                    e4, e5, e6, e7 = (uint64(min(t0 + 4, last)), uint64(min(t0 + 5, last)), uint64(min(t0 + 6, last)),
                                      uint64(min(t0 + 7, last)))
                    for ot in range(0, width, LANES):
                        zero_block(acc)
                        for r in range(c1 - c0):
                            a = uint64(starts[r])
                            x0, x1, x2, x3 = xf[a + e0], xf[a + e1], xf[a + e2], xf[a + e3]
                            x4, x5, x6, x7 = xf[a + e4], xf[a + e5], xf[a + e6], xf[a + e7]
                            multiply_add(acc, x0, x1, x2, x3, x4, x5, x6, x7, df, uint64(r * width + ot))
                        copy_block(acc, tile)
                        out = dw[b - b0]
                        for i in range(min(ROWS, run - t0)):
                            for o in range(LANES):
                                if c0 == r0:
                                    out[q * run + t0 + i, ot + o] = tile[i * LANES + o]
                                else:
                                    out[q * run + t0 + i, ot + o] += tile[i * LANES + o]


@njit(**_OPTIONS)
def _sample_blocks(r0, r1, n_pos):
    """[(first row, last row)] of the blocks of up to WIDE_ROWS rows that cover the rows r0:r1
    (whole samples of n_pos rows), cut from each sample's first row: the same blocks however the
    samples were shared among the threads."""
    out = []
    for s0 in range(r0, r1, n_pos):
        for q0 in range(s0, s0 + n_pos, WIDE_ROWS):
            out.append((q0, min(q0 + WIDE_ROWS, s0 + n_pos) - 1))
    return out


@njit(**_OPTIONS)
def _input_grad(dy, index, run, wt, first, r0, r1, dx):
    """dx[patch_r[j]] += sum_o dy[r, o] wm[j, o] for the patch rows r0:r1 (whole samples), block
    of rows by block of rows (_sample_blocks: which terms reach a value in which order must not
    depend on where a thread's rows began); dy (N P, O), dx (N, S) flat channels-last samples
    (the padded input). The blocks are 4 x 32 (registers.multiply_add_wide): each product loads
    one dY value per row of the block, so four rows of 32 entries load half the values eight
    rows of 16 did (LeNet-5's second layer, one thread: 590 -> 400 us). The entries of a run
    are taken WIDE_LANES at a time: tile u covers entries first[u] : first[u] + WIDE_LANES (the
    last tile of a longer run is moved back to end at the run's end), with wt[q, u, o, :] =
    wm[q run + first[u] + t, o], zero for the entries an earlier tile covers, so that every tile
    is added to dx as whole vectors. A shorter run is one tile whose first `run` entries are added."""
    prefer_wide_vectors()
    n_pos, n_runs = index.shape
    xf, wf = dx.reshape(-1), wt.reshape(-1)
    n_out, n_tiles = dy.shape[1], wt.shape[1]
    width = min(run, WIDE_LANES)  # entries added per tile
    acc, tile = stack_float32(128), stack_float32(128)  # (WIDE_ROWS rows, WIDE_LANES entries)
    starts = np.empty((WIDE_ROWS, 2), np.int64)
    for q0, last in _sample_blocks(r0, r1, n_pos):
        _row_starts(dx.shape[1], n_pos, q0, last, starts)
        d0, d1, d2, d3 = dy[q0], dy[min(q0 + 1, last)], dy[min(q0 + 2, last)], dy[min(q0 + 3, last)]
        for q in range(n_runs):
            for u in range(n_tiles):
                zero_block(acc)
                for o in range(n_out):
                    w_at = uint64(((q * n_tiles + u) * n_out + o) * WIDE_LANES)
                    multiply_add_wide(acc, d0[o], d1[o], d2[o], d3[o], wf, w_at)
                copy_block(acc, tile)
                for i in range(min(WIDE_ROWS, last + 1 - q0)):  # in row order: rows of one sample overlap
                    at, row = uint64(starts[i, 0] + index[starts[i, 1], q] + first[u]), uint64(i * WIDE_LANES)
                    for t in range(width):  # a count known only when running: the loop is vectorised, not unrolled
                        xf[at + uint64(t)] += tile[row + uint64(t)]


def _weight_grad_part(block):
    """_weight_grad (and the bias gradient's column sums) as a part of a split: block = [b0, b1,
    x, N, S, index, P, R, run, dy, N P, O, size, starts, scratch, OP, sums, blocks, db, need_db],
    each array's address then its shape; sums (blocks, R run, OP) gets the blocks b0:b1."""
    b = carray(pointer(block, np.int64), 20)
    x, index = carray(pointer(b[2], np.float32), (b[3], b[4])), carray(pointer(b[5], np.int64), (b[6], b[7]))
    dy = carray(pointer(b[9], np.float32), (b[10], b[11]))
    starts = carray(pointer(b[13], np.int64), CHUNK_ROWS)
    scratch = carray(pointer(b[14], np.float32), (CHUNK_ROWS, b[15]))
    sums = carray(pointer(b[16], np.float32), (b[17], b[7] * b[8], b[15]))
    _weight_grad(x, index, b[8], dy, b[12], b[0], b[1], starts, scratch, sums[b[0]:b[1]])
    if b[19]:
        _column_sums(dy, b[12], b[0], b[1], carray(pointer(b[18], np.float32), (b[17], b[11])))


def _input_grad_part(block):
    """_input_grad as a part of a split, its samples zeroed first: block = [n0, n1, positions, dy,
    N P, O, index, P, R, run, wt, runs, tiles, O, WIDE_LANES, first, dx, N, S], each array's
    address then its shape; the samples n0:n1."""
    b = carray(pointer(block, np.int64), 19)
    dx = carray(pointer(b[16], np.float32), (b[17], b[18]))
    dx[b[0]:b[1]] = 0
    _input_grad(carray(pointer(b[3], np.float32), (b[4], b[5])), carray(pointer(b[6], np.int64), (b[7], b[8])),
                b[9], carray(pointer(b[10], np.float32), (b[11], b[12], b[13], b[14])),
                carray(pointer(b[15], np.int64), b[12]), b[0] * b[2], b[1] * b[2], dx)


def _entry_tiles(wm: np.ndarray, runs: int, run: int) -> tuple[np.ndarray, np.ndarray]:
    """(first, wt) of _input_grad for the weight matrix wm (runs x run entries, C_out): first
    (tiles,) the first entry of each tile of a run, wt (runs, tiles, C_out, WIDE_LANES)."""
    first = np.arange(0, run, WIDE_LANES)
    if run > WIDE_LANES:
        first[-1] = run - WIDE_LANES  # the last tile ends at the run's end
    by_run = wm.reshape(runs, run, wm.shape[1]).transpose(0, 2, 1)  # (runs, C_out, run)
    wt = np.zeros((runs, len(first), wm.shape[1], WIDE_LANES), dtype=wm.dtype)
    covered = 0  # entries the tiles before this one covered
    for u, f in enumerate(first):
        own = max(covered - f, 0)  # this tile's first entry that no earlier tile covers
        wt[:, u, :, own:min(WIDE_LANES, run - f)] = by_run[:, :, f + own:f + WIDE_LANES]
        covered = f + WIDE_LANES
    return first, wt


# ---------------------------------------------------------------- a batch, shared among the threads

def _table(xp_shape, kernel_size, stride, dilation, out_shape) -> tuple[np.ndarray, int]:
    return patch_table(tuple(xp_shape[1:-1]), xp_shape[-1], tuple(kernel_size), tuple(stride), tuple(dilation),
                       tuple(out_shape), 1)


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, stride, dilation, out_shape) -> np.ndarray:
    """y[n, o, co] = b[co] + sum_{kk, c} xp[n, o*s + kk*d, c] w[co, c, kk] for the padded
    channels-last xp (N, *Sp, C_in) and w (C_out, C_in, *k) -> channels-last y (N, *out, C_out).
    Runs of ROWS patch rows are shared among the threads (a batch of one too)."""
    n, c_out = xp.shape[0], w.shape[0]
    index, run = _table(xp.shape, w.shape[2:], stride, dilation, out_shape)
    wm, b = block_weights(w, bias, LANES, xp.dtype)  # (prod(k) C_in, OP), (OP,)
    y = allocator.empty((n,) + tuple(out_shape) + (c_out,), xp.dtype)  # (N, *out, C_out)
    rows, x = n * math.prod(out_shape), flat_samples(xp)
    y_rows = flat_rows(y)  # (N P, C_out), a view of y

    def work(b0, b1):  # row blocks b0:b1
        _forward(x, index, run, wm, b, b0 * ROWS, min(b1 * ROWS, rows), y_rows)

    arrays = [address(x), *x.shape, address(index), *index.shape, run, address(wm), *wm.shape,
              address(b), address(y_rows), *y_rows.shape]  # _forward_part's block after the rows
    part = compiled_part(_forward_part) if xp.dtype == np.float32 else 0
    split_compiled(blocks.count(rows, ROWS), work, part,
                   lambda b0, b1: np.array([b0 * ROWS, min(b1 * ROWS, rows), *arrays], dtype=np.int64),
                   2 * rows * wm.size > MIN_FLOPS)
    return y


def conv_weight_grad(xp: np.ndarray, dy: np.ndarray, kernel_size, stride, dilation, need_db: bool = True) -> tuple:
    """(dw, db): dw[co, c, kk] = sum_{n, o} dy[n, o, co] xp[n, o*s + kk*d, c] (C_out, C_in, *k)
    and db[co] = sum_{n, o} dy[n, o, co] (None unless need_db), for the padded channels-last xp
    (N, *Sp, C_in) and dy (N, *out, C_out). The patch rows are taken in fixed blocks of `size`
    rows (from the shapes alone), each summed row after row, a thread's blocks in one numba call,
    and the blocks' sums added along the tree of blocks.py, so neither depends on the threads."""
    out_shape = dy.shape[1:-1]
    index, run = _table(xp.shape, kernel_size, stride, dilation, out_shape)
    d = flat_rows(dy)  # (N P, C_out)
    rows, c_out = d.shape
    width = -(-c_out // LANES) * LANES
    size = max(-(-rows // blocks.TARGET_BLOCKS), BLOCK_ROWS)  # from the shapes alone (blocks.py)
    leaves = max(blocks.count(rows, size), 1)  # one (empty) for N = 0
    db_parts = np.zeros((leaves, c_out), dtype=dy.dtype) if need_db else None  # (blocks, C_out)
    x = flat_samples(xp)
    sums = allocator.empty((leaves, index.shape[1] * run, width), dy.dtype)  # (blocks, prod(k) C_in, OP), all written

    def work(b0, b1):  # blocks b0:b1
        _weight_grad(x, index, run, d, size, b0, b1, buffer("direct_starts", (CHUNK_ROWS,), np.int64),
                     buffer("direct_block", (CHUNK_ROWS, width), dy.dtype), sums[b0:b1])
        if need_db:
            column_sums(dy, size, b0, b1, db_parts)

    scratch = []  # each part's own, alive until the split returns

    def block(b0, b1):  # _weight_grad_part's
        scratch.append((np.empty(CHUNK_ROWS, np.int64), np.empty((CHUNK_ROWS, width), np.float32)))
        starts, rows_copy = scratch[-1]
        return np.array([b0, b1, address(x), *x.shape, address(index), *index.shape, run, address(d),
                         *d.shape, size, address(starts), address(rows_copy), width, address(sums), leaves,
                         address(db_parts) if need_db else 0, need_db], dtype=np.int64)

    part = compiled_part(_weight_grad_part) if dy.dtype == np.float32 else 0
    split_compiled(leaves, work, part, block, 2 * rows * index.shape[1] * run * width > MIN_FLOPS)
    # the blocks' sums added along blocks.py's tree (the same additions whoever computed the blocks)
    dw = blocks.tree_total(leaves, {(i, i + 1): [sums[i]] for i in range(leaves)})[0][:, :c_out]  # (R run, C_out)
    dw = weight_from_matrix(np.ascontiguousarray(dw)[None], kernel_size)
    return dw, (db_parts.sum(axis=0) if need_db else None)


def conv_input_grad(dy: np.ndarray, w: np.ndarray, stride, dilation, padded_shape) -> np.ndarray:
    """dxp[n, i, c] = sum over (o, kk) with o*s + kk*d = i of dy[n, o, co] w[co, c, kk] (seed 003's
    dA = rot180(W) * dZ, in scatter form) for the channels-last dy (N, *out, C_out) and w
    (C_out, C_in, *k) -> channels-last dxp (N, *padded_shape, C_in). Whole sample blocks are
    shared among the threads (the scatter-adds of one sample's rows overlap)."""
    n, c_in = dy.shape[0], w.shape[1]
    dxp = allocator.empty((n,) + tuple(padded_shape) + (c_in,), dy.dtype)  # (N, *padded, C_in)
    index, run = _table(dxp.shape, w.shape[2:], stride, dilation, dy.shape[1:-1])
    first, wt = _entry_tiles(weight_matrix(w, 1)[0], index.shape[1], run)
    d, positions = flat_rows(dy), math.prod(dy.shape[1:-1])
    per = blocks.sample_block(n, positions)
    x = flat_samples(dxp)

    def work(b0, b1):  # sample blocks b0:b1, zeroed by the thread that adds into them
        x[b0 * per:min(b1 * per, n)] = 0
        _input_grad(d, index, run, wt, first, b0 * per * positions, min(b1 * per, n) * positions, x)

    arrays = [positions, address(d), *d.shape, address(index), *index.shape, run, address(wt), *wt.shape,
              address(first), address(x), *x.shape]  # _input_grad_part's block after the samples
    split_compiled(blocks.count(n, per), work, compiled_part(_input_grad_part),
                   lambda b0, b1: np.array([b0 * per, min(b1 * per, n), *arrays], dtype=np.int64),
                   2 * n * positions * wt.size > MIN_FLOPS)
    return dxp


__all__ = ["worthwhile", "input_grad_worthwhile", "block_weights", "conv_forward", "conv_weight_grad", "conv_input_grad"]
