"""The fast path behind convolution: im2col in bounded chunks, one GEMM per chunk, in fixed blocks.

glassnet/kernels/conv.py states the formulas; this module evaluates their three sums for any
number of spatial dimensions, any stride, dilation and groups:

    conv_forward      y[n, o, co]  = sum_{kk, c}  xp[n, o*s + kk*d, c] * w[co, c, kk]       (forward)
    conv_weight_grad  dw[co, c, kk] = sum_{n, o}  dy[n, o, co] * xp[n, o*s + kk*d, c]    (seed 003: dW = dZ * V)
    conv_input_grad   dx[n, i, c]  = sum_{o, kk with o*s + kk*d = i} dy[n, o, co] * w[co, c, kk]
                                                                       (seed 003: dA = rot180(W) * dZ)

(o, i and kk stand for whole multi-indices; c runs over the channels of co's group.) Each of the
three shares a batch among the threads in fixed blocks (below); the single-threaded sums over
one block are correlate, weight_grad and transposed.

How. The patches that output positions see are copied, as rows, into a "patch matrix" (im2col):
row (n, o) holds xp[n, o*s + kk*d, c] for every (kk, c). The forward sum is then one matrix
product cols @ W, the weight gradient cols^T @ dY, and the transposed sum the product dY @ W^T
whose rows are added back onto the input positions they came from (col2im, a scatter-add).

Layout. Arrays here are channels-last, (N, *spatial, C) (layout.py says why and makes them).

Patch table. Which input values make up a patch row is read off a table, made once per geometry
with the same sliding-window view that pooling uses: index[p, r] is the flat channels-last
offset in one sample where run r of output position p's patch starts. A run is `run` contiguous
values: one tap's C/G channels, or, with one group and dilation 1 on the last axis, a whole row
of k_last taps (k_last * C values, neighbours in the input as in the patch row). im2col copies
runs out of the input (_gather), col2im adds them back (_scatter_add): one table, both ways.

Memory bound. The full patch matrix would be prod(k) times larger than the input. It is never
built: the rows (n, o) are cut into chunks of at most max(CHUNK_BYTES / R, MIN_ROWS) rows,
R = prod(k) C/G x itemsize the bytes of one patch row of one group; each thread copies one
chunk at a time into its own reused buffer, which stays in the cache for the GEMM that reads
it. Extra memory beyond the inputs, the outputs and the padded channels-last copy of the input
is therefore at most

    threads x (max(CHUNK_BYTES, MIN_ROWS x R) + (G > 1) x chunk rows x C_out/G x itemsize)

(the second term: one group's columns of dY or Y, gathered into a contiguous block), plus a few
(G, prod(k) C/G, C_out/G) weight-gradient partial sums per thread (one per level of the tree of
kernels/fast/blocks.py, at most log2(blocks) + 2). With the defaults (1 MiB, 256 rows) the chunks
take under 2.4 MiB for every layer of the benchmark. (A single-channel input at stride 1
builds no patch matrix at all: single_channel.py.)

Fixed blocks. The chunks are not cut where a thread's share starts: the rows are taken in
blocks whose size follows from the shapes (block_rows: one chunk of rows; the input gradient:
blocks of whole samples), and every block is computed the same way whichever thread gets it. A
matrix product's rounding depends on its row count, so this is what makes the forward, dX and
each block's dW the same bytes at any thread count; conv_weight_grad adds the blocks' dW in a
fixed order (kernels/fast/blocks.py). The forward's blocks are runs of output positions, so
even a batch of one is shared; the input gradient's are whole samples, so a batch with fewer
blocks than threads (a batch of one) shares the rows of dX instead, each thread multiplying the
chunks that reach into its rows (conv_input_grad).

Threads and the GIL. conv_forward, conv_input_grad and conv_weight_grad share the blocks of a
batch among get_num_threads() threads (threads.py); every other function here is single-threaded
over the rows or samples it is given. The loops and the GEMMs of a pipeline step run inside one
numba function that releases the GIL throughout (numba's np.dot calls the BLAS directly). Why
not NumPy calls: every call returns to Python, and each time two threads want the GIL at once
one of them sleeps until the other lets go; on the 2-core test machine that made each half of a
(64, 6, 14x14) convolution 1.3x slower than alone, and two threads barely beat one.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from ..windows import sliding_windows
from . import allocator, blocks
from .layout import buffer, column_sums, flat_rows, flat_samples
from .threads import get_num_threads, split_batch

CHUNK_BYTES = 1 << 20  # patch-matrix bytes per chunk: about half of one core's L2 cache
MIN_ROWS = 256  # GEMMs with fewer rows run well below the BLAS's peak
SMALL_BYTES = 1 << 18  # a problem whose whole patch matrix is smaller runs in one thread
# The weight gradient runs a few lines of Python around each block's GEMM, and the threads take
# turns at them (the GIL): with blocks of smaller patch matrices that turn-taking costs more than
# the second thread saves (LeNet-5's (64, 6, 14x14) 5x5 layer: 256-row blocks of 150 KB, dW in
# 0.95 ms at one thread and 1.44 ms at two), so it stays in one thread.
BLOCK_SPLIT_BYTES = 1 << 18


def chunk_rows(row_bytes: int) -> int:
    """Patch rows per chunk: CHUNK_BYTES of them, but at least MIN_ROWS."""
    return max(CHUNK_BYTES // row_bytes, MIN_ROWS)


def worth_splitting(n: int, out_shape: tuple[int, ...], row_bytes: int) -> bool:
    """Whether the patch matrix of n samples is large enough to share among threads (a hand-off
    to a helper thread costs tens of microseconds)."""
    return n * math.prod(out_shape) * row_bytes > SMALL_BYTES


def row_bytes(kernel_size, channels: int, itemsize: int) -> int:
    """Bytes of one patch row over every group: prod(k) taps x C channels (worth_splitting's measure)."""
    return math.prod(kernel_size) * channels * itemsize


# ---------------------------------------------------------------- tables

def window_offsets(padded: tuple, kernel_size: tuple, stride: tuple, dilation: tuple,
                    out_shape: tuple) -> np.ndarray:
    """(P, K) int64: the flat position, in a sample of spatial shape `padded`, of tap q of the
    window of output position p, read off an index plane through the sliding-window view."""
    positions = np.arange(math.prod(padded), dtype=np.int64).reshape((1, 1) + padded)
    index = sliding_windows(positions, kernel_size, stride, dilation, out_shape)  # (1, 1, *out, *k)
    return index.reshape(math.prod(out_shape), math.prod(kernel_size))  # (P, K), a copy


@lru_cache(maxsize=64)
def patch_table(padded: tuple, channels: int, kernel_size: tuple, stride: tuple, dilation: tuple,
                out_shape: tuple, groups: int) -> tuple[np.ndarray, int]:
    """(index, run): patch row p of one sample (and one group) is the runs
    xs[index[p, r] + g C/G : ... + run] for r = 0, 1, ..., one after another, xs the sample's
    flat channels-last memory (prod(padded) C values). index is (P, R) int64."""
    index = window_offsets(padded, kernel_size, stride, dilation, out_shape) * channels  # (P, K) offsets
    run = channels // groups  # one tap's channels ...
    if groups == 1 and dilation[-1] == 1:  # ... or a row of k_last taps, adjacent in the input as well
        run = kernel_size[-1] * channels
        index = index[:, ::kernel_size[-1]]  # (P, K / k_last): the first tap of each row
    index = np.ascontiguousarray(index)
    index.flags.writeable = False  # shared by every call through the cache
    return index, run


# ---------------------------------------------------------------- the loops (no GIL)

@njit(nogil=True, cache=True)
def _gather(x, index, run, offset, r0, r1, cols):
    """im2col: cols[r - r0, j run : (j + 1) run] = x[n, index[p, j] + offset : ... + run] for the
    patch rows r = n P + p in r0:r1 (x (b, prod(Sp) C) flat channels-last)."""
    n_pos, n_runs = index.shape
    for r in range(r0, r1):
        xs, p, row = x[r // n_pos], r % n_pos, cols[r - r0]
        for j in range(n_runs):
            start = index[p, j] + offset
            source, target = xs[start:start + run], row[j * run:(j + 1) * run]
            for t in range(run):  # t >= 0 from range, slices of known length: a vector loop
                target[t] = source[t]


@njit(nogil=True, cache=True)
def _scatter_add(cols, index, run, offset, c0, r0, r1, x, lo, hi):
    """col2im, the adjoint of _gather: x[n, index[p, j] + offset : ... + run] += cols[r - c0, j run : ...]
    for the patch rows r = n P + p in r0:r1 (cols[0] is row c0), only where the position lies in
    lo:hi of x's memory taken as one flat array (b prod(Sp) C): that range is the caller's, and
    no other thread adds into it."""
    n_pos, n_runs = index.shape
    size = x.shape[1]
    for r in range(r0, r1):
        n = r // n_pos
        xs, p, row, base = x[n], r % n_pos, cols[r - c0], n * size
        for j in range(n_runs):
            start = index[p, j] + offset
            a, b = max(start, lo - base), min(start + run, hi - base)  # the run, clipped to lo:hi
            if a >= b:
                continue
            target, source = xs[a:b], row[j * run + a - start:j * run + b - start]
            for t in range(b - a):
                target[t] += source[t]


@njit(nogil=True, cache=True)
def _group_columns(a, g, width, out):
    """out = a[:, g width : (g + 1) width], contiguous (numba's np.dot wants contiguous operands)."""
    for r in range(out.shape[0]):
        src, dst = a[r, g * width:(g + 1) * width], out[r]
        for t in range(width):
            dst[t] = src[t]


@njit(nogil=True, cache=True)
def _correlate(x, index, run, cg, wm, bias, start, stop, rows_per_chunk, cols, block, y):
    """y[start:stop] (rows of (N P, C_out)) = patches @ W + bias, chunk by chunk from `start`;
    group g reads channels g Cg.. and writes columns g Og..; wm (G, prod(k) Cg, Og)."""
    groups, og = wm.shape[0], wm.shape[2]
    for r0 in range(start, stop, rows_per_chunk):
        r1 = min(r0 + rows_per_chunk, stop)
        patches = cols[:r1 - r0]  # (rows, K Cg)
        for g in range(groups):
            _gather(x, index, run, g * cg, r0, r1, patches)
            if groups == 1:
                np.dot(patches, wm[0], y[r0:r1])
            else:
                part = block[:r1 - r0]  # (rows, Og)
                np.dot(patches, wm[g], part)
                for r in range(r1 - r0):
                    y[r0 + r, g * og:(g + 1) * og] = part[r]
        if bias is not None:
            _add_bias(y, r0, r1, bias)


@njit(nogil=True, cache=True)
def _add_bias(y, r0, r1, bias):
    for r in range(r0, r1):
        row = y[r]
        for co in range(row.shape[0]):
            row[co] += bias[co]


@njit(nogil=True, cache=True)
def _transposed(dy, index, run, cg, wm, block_rows, rows_per_chunk, r_lo, r_hi, lo, hi, cols, block, dx):
    """dx[lo:hi] += col2im(dY_g @ W_g^T) of the patch rows r_lo:r_hi, over every group; dy (N P,
    C_out), dx (N, prod(Sp) C) taken as one flat array for lo:hi. The rows of the whole batch are
    cut into blocks of block_rows from row 0 and each block into chunks from its own start; every
    chunk holding a row of r_lo:r_hi is multiplied whole, so its rows round the same whichever
    part of dx is being filled (two threads whose parts of dx meet both multiply the chunk there)."""
    groups, og = wm.shape[0], wm.shape[2]
    total = dy.shape[0]
    for b0 in range(r_lo - r_lo % block_rows, r_hi, block_rows):
        b1 = min(b0 + block_rows, total)
        first = b0 + (max(r_lo, b0) - b0) // rows_per_chunk * rows_per_chunk  # the chunk holding r_lo
        for r0 in range(first, min(b1, r_hi), rows_per_chunk):
            r1 = min(r0 + rows_per_chunk, b1)
            patches = cols[:r1 - r0]  # (rows, K Cg)
            for g in range(groups):
                d = dy[r0:r1]
                if groups > 1:
                    d = block[:r1 - r0]  # (rows, Og)
                    _group_columns(dy[r0:r1], g, og, d)
                np.dot(d, wm[g].T, patches)  # (rows, K Cg)
                _scatter_add(patches, index, run, g * cg, r0, max(r0, r_lo), min(r1, r_hi), dx, lo, hi)


# ---------------------------------------------------------------- one block, in one thread

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


def _geometry(xp_shape, kernel_size, stride, dilation, out_shape, groups):
    """(index, run) of patch_table for channels-last xp (b, *Sp, C), and C/G."""
    c = xp_shape[-1]
    index, run = patch_table(tuple(xp_shape[1:-1]), c, tuple(kernel_size), tuple(stride), tuple(dilation),
                             tuple(out_shape), groups)
    return index, run, c // groups


def _scratch(rows: int, row_len: int, og: int, groups: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """This thread's chunk buffer (rows, prod(k) C/G) and group-column block (rows, C_out/G)."""
    return buffer("cols", (rows, row_len), dtype), buffer("block", (rows if groups > 1 else 0, og), dtype)


def block_rows(n: int, channels: int, kernel_size, stride, out_shape, groups: int, itemsize: int) -> int:
    """Patch rows per fixed block (kernels/fast/blocks.py) for correlate and weight_grad over a
    batch of n samples with `channels` input channels: one GEMM's rows. It follows from the
    shapes alone, so a block's result is the same whichever thread computes it."""
    row_len = math.prod(kernel_size) * (channels // groups)
    return blocks.row_block(n * math.prod(out_shape), chunk_rows(row_len * itemsize))


def correlate(xp: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, out_shape, y: np.ndarray,
              bias: np.ndarray | None = None, rows: tuple[int, int] | None = None) -> None:
    """y[n, o, co] = b[co] + sum_{kk, c} xp[n, o*s + kk*d, c] w[co, c, kk], written into y.

    xp (N, *Sp, C) channels-last (already padded), wm = weight_matrix(w, G); y (N, *out, C_out)
    channels-last and contiguous. One GEMM (rows, prod(k) C/G) @ (prod(k) C/G, C_out/G) per
    block of block_rows rows and group; the bias is added to each block while it is still in
    cache. rows = (r0, r1): only the patch rows (n, o) numbered r0:r1 (n P + o), both at block
    boundaries (or r1 the last row); None: all.
    """
    groups, y_rows = wm.shape[0], flat_rows(y)  # (N P, C_out), a view of y
    r0, r1 = rows if rows is not None else (0, y_rows.shape[0])
    index, run, cg = _geometry(xp.shape, kernel_size, stride, dilation, out_shape, groups)
    size = block_rows(xp.shape[0], xp.shape[-1], kernel_size, stride, out_shape, groups, xp.itemsize)
    cols, block = _scratch(size, wm.shape[1], wm.shape[2], groups, xp.dtype)
    _correlate(flat_samples(xp), index, run, cg, wm, bias, r0, r1, size, cols, block, y_rows)


def weight_grad(xp: np.ndarray, dy: np.ndarray, kernel_size, stride, dilation, groups: int,
                rows: tuple[int, int] | None = None) -> np.ndarray:
    """dw[co, c, kk] = sum_{n, o} dy[n, o, co] xp[n, o*s + kk*d, c]: the correlation of the input
    with dY (seed 003), over the patch rows (n, o) numbered r0:r1 of rows = (r0, r1) (at block
    boundaries, see correlate) or over all. xp (N, *Sp, C), dy (N, *out, C_out), both
    channels-last -> (G, prod(k) C/G, C_out/G), the layout of weight_matrix (weight_from_matrix
    gives (C_out, C/G, *k)). One GEMM cols^T @ dY per block of block_rows rows: conv_weight_grad
    sums the blocks' results along the fixed tree of kernels/fast/blocks.py, so that the sum does
    not depend on how the blocks were shared among threads.

    The GEMM is NumPy's here, not numba's np.dot: the product of a transposed patch matrix ran
    1.1-1.6x slower in the BLAS numba calls (SciPy's OpenBLAS build) than in NumPy's.
    """
    cg, og = xp.shape[-1] // groups, dy.shape[-1] // groups
    row_len = math.prod(kernel_size) * cg
    x, d = flat_samples(xp), flat_rows(dy)  # (N, prod(Sp) C), (N P, C_out)
    r0, r1 = rows if rows is not None else (0, d.shape[0])
    index, run, _ = _geometry(xp.shape, kernel_size, stride, dilation, dy.shape[1:-1], groups)
    size = block_rows(xp.shape[0], xp.shape[-1], kernel_size, stride, dy.shape[1:-1], groups, xp.itemsize)
    acc = np.empty((groups, row_len, og), dtype=xp.dtype)
    part = np.empty_like(acc[0])  # (K Cg, Og)
    for c0 in range(r0, r1, size):
        c1 = min(c0 + size, r1)
        patches = buffer("cols", (c1 - c0, row_len), xp.dtype)
        for g in range(groups):
            _gather(x, index, run, g * cg, c0, c1, patches)
            if c0 == r0:  # the first block: its product is the start of the sum
                np.matmul(patches.T, d[c0:c1, g * og:(g + 1) * og], out=acc[g])
            else:
                acc[g] += np.matmul(patches.T, d[c0:c1, g * og:(g + 1) * og], out=part)
    if r1 <= r0:
        acc[:] = 0
    return acc


def transposed(dy: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, dx: np.ndarray,
               block_samples: int = 1, span: tuple[int, int] | None = None) -> None:
    """dx[n, i, c] += sum over (o, kk) with o*s + kk*d = i of dy[n, o, co] w[co, c, kk].

    This is seed 003's input gradient dA = sum_h rot180(W_h) * dZ_h, the full correlation of dY
    (with s - 1 zeros inserted between its elements when s > 1) with the 180-degree-rotated
    kernels: read that correlation backwards and each dY element sends dY * W[kk] to input
    position o*s + kk*d. Computing it in that scatter form skips the multiplications by inserted
    zeros. It is also the transposed convolution.

    dy (N, *out, C_out) channels-last, wm = weight_matrix(w, G); dx (N, *in, C)
    channels-last and C-contiguous, zeroed by the caller. One GEMM dY (rows, C_out/G) @
    W^T (C_out/G, prod(k) C/G) per chunk and group, then col2im; the chunks are cut from the
    start of every block of block_samples samples, so each chunk is computed the same way by
    whichever thread. span = (lo, hi): only dx's values lo:hi, dx's memory taken as one flat
    array (only the patch rows whose runs reach into it are multiplied); None: all. Every value
    receives its terms in the same order whatever the span, so a dx filled span by span is the
    same bytes as one filled at once.
    """
    if not dx.flags.c_contiguous:
        raise ValueError("transposed writes into a C-contiguous dx")
    groups = wm.shape[0]
    index, run, cg = _geometry(dx.shape, kernel_size, stride, dilation, dy.shape[1:-1], groups)
    lo, hi = span if span is not None else (0, dx.size)
    r_lo, r_hi = _rows_reaching(index, run + (groups - 1) * cg, dx.size // max(dx.shape[0], 1), lo, hi)
    rows = chunk_rows(wm.shape[1] * dy.itemsize)
    cols, block = _scratch(rows, wm.shape[1], wm.shape[2], groups, dy.dtype)
    _transposed(flat_rows(dy), index, run, cg, wm, block_samples * index.shape[0], rows, r_lo, r_hi, lo, hi,
                cols, block, flat_samples(dx))


def _rows_reaching(index: np.ndarray, reach: int, size: int, lo: int, hi: int) -> tuple[int, int]:
    """(r_lo, r_hi): the patch rows r = n P + p whose runs write into lo:hi of a flat channels-last
    batch of samples of `size` values. Row p's runs lie within index[p, 0] : index[p, -1] + reach
    of its sample, and both ends grow with p (the windows go in row-major order), so these rows
    are one range, found by bisection."""
    if hi <= lo:
        return 0, 0
    n_pos = index.shape[0]
    n, offset = divmod(lo, size)
    r_lo = n * n_pos + int(np.searchsorted(index[:, -1] + reach, offset, side="right"))
    n, offset = divmod(hi - 1, size)
    r_hi = n * n_pos + int(np.searchsorted(index[:, 0], offset, side="right"))
    return r_lo, max(r_lo, r_hi)


# ---------------------------------------------------------------- a batch, shared among the threads

def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None, stride, dilation, groups: int,
                 out_shape) -> np.ndarray:
    """y[n, o, co] = b[co] + sum_{kk, c} xp[n, o*s + kk*d, c] w[co, c, kk] for the padded
    channels-last xp (N, *Sp, C_in) and w (C_out, C_in / G, *k) -> channels-last y (N, *out, C_out).
    The patch rows are taken in fixed blocks of block_rows rows, shared among the threads (a
    batch of one is shared by its output positions)."""
    n, k = xp.shape[0], w.shape[2:]
    wm = weight_matrix(w, groups)  # (G, K Cg, Og)
    y = allocator.empty((n,) + tuple(out_shape) + (w.shape[0],), xp.dtype)  # (N, *out, C_out)
    rows = n * math.prod(out_shape)
    size = block_rows(n, xp.shape[-1], k, stride, out_shape, groups, xp.itemsize)

    def work(b0, b1):  # patch rows of blocks b0:b1
        correlate(xp, wm, k, stride, dilation, out_shape, y, bias, (b0 * size, min(b1 * size, rows)))

    split_batch(blocks.count(rows, size), work, worth_splitting(n, out_shape, row_bytes(k, xp.shape[-1], xp.itemsize)))
    return y


def conv_input_grad(dy: np.ndarray, w: np.ndarray, stride, dilation, groups: int, padded_shape) -> np.ndarray:
    """dxp[n, i, c] = sum over (o, kk) with o*s + kk*d = i of dy[n, o, co] w[co, c, kk] (seed 003's
    dA = rot180(W) * dZ, in scatter form: see transposed) for the channels-last dy (N, *out, C_out)
    and w (C_out, C_in / G, *k) -> channels-last dxp (N, *padded_shape, C_in), the gradient of the
    padded input.

    Shared among the threads as whole samples, in fixed blocks; with fewer blocks than threads (a
    batch of one) as rows of dxp along its first spatial axis instead, each thread filling its
    own rows and multiplying the chunks of dY that reach into them (the chunks on the border of
    two threads' rows are multiplied by both; so there are no more parts than chunks, and a dY
    of one chunk stays in one thread).
    Either way every value of dxp is the same sum in the same order (transposed), so the bytes
    do not depend on the threads."""
    n, k, c_in = dy.shape[0], w.shape[2:], w.shape[1] * groups
    wm = weight_matrix(w, groups)  # (G, K Cg, Og)
    dxp = allocator.empty((n,) + tuple(padded_shape) + (c_in,), dy.dtype)  # (N, *padded, C_in)
    flat = dxp.reshape(-1)  # a view: dxp is fresh and contiguous
    per = blocks.sample_block(n, math.prod(dy.shape[1:-1]))
    sample_blocks = blocks.count(n, per)
    size = math.prod(padded_shape) * c_in  # values per sample
    worth = worth_splitting(n, dy.shape[1:-1], row_bytes(k, c_in, dy.itemsize))

    def fill(lo, hi):  # dxp's values lo:hi
        flat[lo:hi] = 0
        transposed(dy, wm, k, stride, dilation, dxp, per, (lo, hi))

    if sample_blocks >= get_num_threads():
        split_batch(sample_blocks, lambda b0, b1: fill(b0 * per * size, min(b1 * per, n) * size), worth)
    else:
        rows, line = n * padded_shape[0], size // padded_shape[0]  # rows of dxp over the batch, values per row
        # no more parts than chunks of dY: a part multiplies every chunk that reaches into its rows
        chunks = blocks.count(n * math.prod(dy.shape[1:-1]), chunk_rows(wm.shape[1] * dy.itemsize))
        split_batch(rows, lambda r0, r1: fill(r0 * line, r1 * line), worth, most=max(chunks, 1))
    return dxp


def conv_weight_grad(xp: np.ndarray | None, dy: np.ndarray, kernel_size, stride, dilation, groups: int,
                     channels: int, need_db: bool = True) -> tuple:
    """(dw, db): dw[co, c, kk] = sum_{n, o} dy[n, o, co] xp[n, o*s + kk*d, c] (C_out, C/G, *k) and
    db[co] = sum_{n, o} dy[n, o, co], for the padded channels-last xp (N, *Sp, C) and dy
    (N, *out, C_out); xp=None: db alone (channels = C then gives the block size). Both are sums
    over the patch rows, taken in the same fixed blocks: each thread sums its blocks' dW along
    the fixed tree of kernels/fast/blocks.py, and db block by block, so neither depends on the
    threads."""
    n, out_shape = dy.shape[0], dy.shape[1:-1]
    rows = n * math.prod(out_shape)
    size = block_rows(n, channels, kernel_size, stride, out_shape, groups, dy.itemsize)
    leaves = max(blocks.count(rows, size), 1)  # one (empty) for N = 0
    db_parts = np.empty((leaves, dy.shape[-1]), dtype=dy.dtype) if need_db else None  # (blocks, C_out)

    def leaf(i):  # [dW] of the patch rows of block i
        return [weight_grad(xp, dy, kernel_size, stride, dilation, groups, (i * size, min((i + 1) * size, rows)))]

    def work(b0, b1):  # blocks b0:b1
        if need_db:
            column_sums(dy, size, b0, b1, db_parts)
        return blocks.partial_sums(b0, b1, leaves, leaf) if xp is not None else {}

    nodes = {}
    patch_row = row_bytes(kernel_size, channels, dy.itemsize)
    worth = worth_splitting(n, out_shape, patch_row) and size * patch_row >= BLOCK_SPLIT_BYTES
    for part in split_batch(leaves, work, worth):
        nodes.update(part)
    dw = weight_from_matrix(blocks.tree_total(leaves, nodes)[0], kernel_size) if xp is not None else None
    return dw, (db_parts.sum(axis=0) if need_db else None)
