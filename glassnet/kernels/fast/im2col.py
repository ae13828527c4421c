"""The fast path behind convolution: im2col in bounded chunks, one GEMM per chunk, in fixed blocks.

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
take under 2.4 MiB for every layer of the benchmark. A single-channel input at stride 1 builds
no patch matrix at all (_single_channel): its scratch is C_out values per position of one
padded sample, the size of one sample's output.

Fixed blocks. The chunks are not cut where a thread's share starts: the rows are taken in
blocks whose size follows from the shapes (block_rows: one chunk of rows, or whole samples on
the single-channel path; transposed: blocks of whole samples), and every block is computed the
same way whichever thread gets it. A matrix product's rounding depends on its row count, so
this is what makes the forward, dX and each block's dW the same bytes at any thread count;
conv.py adds the blocks' dW in a fixed order (kernels/fast/blocks.py).

Threads and the GIL. Each function here is single-threaded over the rows or samples it is
given; conv.py shares the blocks of a batch among get_num_threads() threads (threads.py). The
loops and the GEMMs of a pipeline step run inside one numba function that releases the GIL
throughout (numba's np.dot calls the BLAS directly). Why not NumPy calls: every call returns to
Python, and each time two threads want the GIL at once one of them sleeps until the other
lets go; on the 2-core test machine that made each half of a (64, 6, 14x14) convolution 1.3x
slower than alone, and two threads barely beat one.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np
from numba import njit

from ..windows import move_channels_last, pad, sliding_windows
from . import blocks

CHUNK_BYTES = 1 << 20  # patch-matrix bytes per chunk: about half of one core's L2 cache
MIN_ROWS = 256  # GEMMs with fewer rows run well below the BLAS's peak
SMALL_BYTES = 1 << 18  # a problem whose whole patch matrix is smaller runs in one thread
CHANNEL_BLOCK = 16  # channels per pass in the NCHW -> channels-last transposition

_local = threading.local()


def _buffer(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """This thread's reusable scratch array `name` (grown when needed, never shrunk)."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buf = getattr(_local, name, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 1), dtype=np.uint8)
        setattr(_local, name, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


def chunk_rows(row_bytes: int) -> int:
    """Patch rows per chunk: CHUNK_BYTES of them, but at least MIN_ROWS."""
    return max(CHUNK_BYTES // row_bytes, MIN_ROWS)


def worth_splitting(n: int, out_shape: tuple[int, ...], row_bytes: int) -> bool:
    """Whether the patch matrix of n samples is large enough to share among threads (a hand-off
    to a helper thread costs tens of microseconds)."""
    return n * math.prod(out_shape) * row_bytes > SMALL_BYTES


# ---------------------------------------------------------------- tables

def _window_offsets(padded: tuple, kernel_size: tuple, stride: tuple, dilation: tuple,
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
    index = _window_offsets(padded, kernel_size, stride, dilation, out_shape) * channels  # (P, K) offsets
    run = channels // groups  # one tap's channels ...
    if groups == 1 and dilation[-1] == 1:  # ... or a row of k_last taps, adjacent in the input as well
        run = kernel_size[-1] * channels
        index = index[:, ::kernel_size[-1]]  # (P, K / k_last): the first tap of each row
    index = np.ascontiguousarray(index)
    index.flags.writeable = False  # shared by every call through the cache
    return index, run


@lru_cache(maxsize=64)
def grid_table(padded: tuple, kernel_size: tuple, dilation: tuple, out_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(origins, taps) for a single-channel input at stride 1: window p starts at flat offset
    origins[p] of the padded sample, and tap j of every window lies taps[j] further on."""
    index = _window_offsets(padded, kernel_size, (1,) * len(padded), dilation, out_shape)  # (P, K)
    origins, taps = np.ascontiguousarray(index[:, 0]), index[0] - index[0, 0]
    origins.flags.writeable = taps.flags.writeable = False
    return origins, taps


def _single_channel(xp: np.ndarray, stride) -> bool:
    """One input channel (grayscale images, audio): a patch row is then only prod(k) values, in
    runs of k_last (5 for LeNet's first layer), and the GEMM against a handful of filters runs
    far below the BLAS's peak ((50176, 25) @ (25, 6) at 25 GFLOP/s). The sums are then taken
    directly along output lines, where the values one tap sees at neighbouring positions are
    neighbours in the input (_correlate_single, _weight_grad_single). At stride 1 only: other
    strides take the patch matrix."""
    return xp.shape[-1] == 1 and all(s == 1 for s in stride)


@lru_cache(maxsize=64)
def source_table(spatial: tuple, pads: tuple, padding_mode: str) -> np.ndarray:
    """(prod(padded),) int64: the flat input position each padded position copies (windows.pad
    applied to an index plane), -1 where zero padding puts a 0."""
    plane = np.arange(math.prod(spatial), dtype=np.int64).reshape(spatial)
    table = pad(plane, pads, padding_mode, value=-1).reshape(-1)
    table.flags.writeable = False
    return table


# ---------------------------------------------------------------- the loops (no GIL)

@njit(nogil=True, cache=True)
def _fill(x, source, out):
    """out[n, q, c] = x[n, c, source[q]] (0 where source[q] < 0): x (b, C, S) with any strides
    (NCHW memory, or an NCHW view of channels-last memory) -> padded channels-last out (b, Q, C).

    From NCHW memory a pixel's C values lie a whole plane apart; for a 32x32 float32 plane that
    is exactly 4 KiB, so they share one L1 cache set and evict each other before the next
    pixel can reuse them. Hence CHANNEL_BLOCK channels per pass over the pixels. A single
    channel is a plain gather along the plane (3x faster than the general loop, whose channel
    loop then has one step: 32 LeNet images 47 -> 15 us).
    """
    n, c_all = x.shape[0], x.shape[1]
    if c_all == 1:
        for b in range(n):
            plane, target = x[b, 0], out[b, :, 0]
            for q in range(source.shape[0]):
                target[q] = plane[source[q]] if source[q] >= 0 else 0
        return
    for b in range(n):
        xb, ob = x[b], out[b]
        for c0 in range(0, c_all, CHANNEL_BLOCK):
            c1 = min(c0 + CHANNEL_BLOCK, c_all)
            for q in range(source.shape[0]):
                s = source[q]
                row = ob[q]
                if s < 0:
                    for c in range(c0, c1):
                        row[c] = 0
                else:
                    for c in range(c0, c1):
                        row[c] = xb[c, s]


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
def _scatter_add(cols, index, run, offset, r0, r1, x):
    """col2im, the adjoint of _gather: x[n, index[p, j] + offset : ... + run] += cols[r - r0, j run : ...]."""
    n_pos, n_runs = index.shape
    for r in range(r0, r1):
        xs, p, row = x[r // n_pos], r % n_pos, cols[r - r0]
        for j in range(n_runs):
            start = index[p, j] + offset
            target, source = xs[start:start + run], row[j * run:(j + 1) * run]
            for t in range(run):
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
def _correlate_single(x, origins, taps, w, bias, full, y):
    """The forward sum for a single-channel input at stride 1, computed directly (no patch
    matrix): y[n P + p, co] = b[co] + sum_j x[n, origins[p] + taps[j]] w[j, co].

    origins[p] is where window p starts in one (flat, padded) sample, taps[j] where tap j lies
    from there. At stride 1 every window of the padded grid is at origin + 1 from its
    neighbour, so each tap is one long vector loop over the grid, full[co, i] += x[i + taps[j]]
    w[j, co], for i up to the last window; positions whose window would wrap past a row end are
    computed and dropped (at most k_last - 1 per row). The taps go four to a pass, so that the
    accumulator row is loaded and stored once per four taps: the loop is bound by those loads
    and stores (32 LeNet images: 366 us one tap to a pass, 277 us four)."""
    n_pos, c_out, span, n_taps = origins.shape[0], w.shape[1], full.shape[1], taps.shape[0]
    for n in range(x.shape[0]):
        xs = x[n]
        for co in range(c_out):
            acc = full[co]
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
        for p in range(n_pos):
            for co in range(c_out):
                out[p, co] = full[co, origins[p]]


@njit(nogil=True, cache=True, fastmath={"reassoc", "contract"})
def _weight_grad_single(x, origins, taps, dy, full, dw):
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
def _transposed(dy, index, run, cg, wm, block_rows, rows_per_chunk, cols, block, dx):
    """dx += col2im(dY_g @ W_g^T) over every chunk and group; dy (b P, C_out), dx (b, prod(Sp) C).
    The rows are taken in blocks of block_rows, each cut into chunks from its own start."""
    groups, og = wm.shape[0], wm.shape[2]
    total = dy.shape[0]
    for b0 in range(0, total, block_rows):
        b1 = min(b0 + block_rows, total)
        for r0 in range(b0, b1, rows_per_chunk):
            r1 = min(r0 + rows_per_chunk, b1)
            patches = cols[:r1 - r0]  # (rows, K Cg)
            for g in range(groups):
                d = dy[r0:r1]
                if groups > 1:
                    d = block[:r1 - r0]  # (rows, Og)
                    _group_columns(dy[r0:r1], g, og, d)
                np.dot(d, wm[g].T, patches)  # (rows, K Cg)
                _scatter_add(patches, index, run, g * cg, r0, r1, dx)


@njit(nogil=True, cache=True)
def _column_sums(a, size, b0, b1, out):
    """out[i, c] = sum of a[r, c] over the rows r of block i (size rows each), for the blocks
    i in b0:b1, row after row (a fixed order)."""
    for i in range(b0, b1):
        total = out[i]
        total[:] = 0
        for r in range(i * size, min((i + 1) * size, a.shape[0])):
            row = a[r]
            for c in range(total.shape[0]):
                total[c] += row[c]


@njit(nogil=True, cache=True)
def _weight_grad_single_blocks(x, origins, taps, dy, full, per, b0, b1, out):
    """out[i] = _weight_grad_single over the `per` samples of block i, for the blocks i in b0:b1."""
    n_pos = origins.shape[0]
    for i in range(b0, b1):
        n0, n1 = i * per, min((i + 1) * per, x.shape[0])
        out[i] = 0
        _weight_grad_single(x[n0:n1], origins, taps, dy[n0 * n_pos:n1 * n_pos], full, out[i])


# ---------------------------------------------------------------- layout

def channels_last_view(x: np.ndarray, pads=None) -> np.ndarray | None:
    """x (N, C, *S) as a channels-last (N, *S, C) view when that is free (x is a channels-first
    view of contiguous channels-last memory and no padding is asked for), else None."""
    x_cl = move_channels_last(x)  # (N, *S, C) view
    unpadded = pads is None or all(tuple(p) == (0, 0) for p in pads)
    return x_cl if unpadded and x_cl.flags.c_contiguous else None


def empty_channels_last(x_shape, pads=None, dtype=np.float32) -> np.ndarray:
    """Uninitialised (N, *padded S, C) for an (N, C, *S) input, to be filled by fill_channels_last."""
    pads = pads if pads is not None else ((0, 0),) * (len(x_shape) - 2)
    padded = tuple(m + lo + hi for m, (lo, hi) in zip(x_shape[2:], pads))
    return np.empty((x_shape[0],) + padded + (x_shape[1],), dtype=dtype)


def fill_channels_last(out: np.ndarray, x: np.ndarray, pads=None, padding_mode: str = "zeros") -> None:
    """out (b, *padded S, C) = x (b, C, *S) transposed to channels-last and padded as windows.pad
    pads it (zeros, reflect, replicate or circular), in one pass."""
    pads = tuple(tuple(p) for p in pads) if pads is not None else ((0, 0),) * (x.ndim - 2)
    source = source_table(tuple(x.shape[2:]), pads, padding_mode)  # checks the padding fits the mode
    flat = x.reshape(x.shape[:2] + (math.prod(x.shape[2:]),))  # (b, C, S): a view for NCHW memory and channels-last views
    _fill(flat, source, out.reshape(out.shape[0], source.shape[0], out.shape[-1]))  # (b, Q, C) view of out


def to_channels_last(x: np.ndarray, pads=None, padding_mode: str = "zeros") -> np.ndarray:
    """x (N, C, *S) -> contiguous channels-last (N, *padded S, C), padded as windows.pad does.
    Free when x is already a channels-first view of channels-last memory and needs no padding."""
    view = channels_last_view(x, pads)
    if view is not None:
        return view
    out = empty_channels_last(x.shape, pads, x.dtype)
    fill_channels_last(out, x, pads, padding_mode)
    return out


# ---------------------------------------------------------------- the three sums

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


def _flat_samples(a: np.ndarray) -> np.ndarray:
    """Channels-last (N, *S, C) -> (N, prod(S) C), a view when a is contiguous."""
    return np.ascontiguousarray(a).reshape(a.shape[0], math.prod(a.shape[1:]))


def _flat_rows(a: np.ndarray) -> np.ndarray:
    """Channels-last (N, *S, C) -> (N prod(S), C): one row per position, a view when contiguous."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])


def _scratch(rows: int, row_len: int, og: int, groups: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    """This thread's chunk buffer (rows, prod(k) C/G) and group-column block (rows, C_out/G)."""
    return _buffer("cols", (rows, row_len), dtype), _buffer("block", (rows if groups > 1 else 0, og), dtype)


def block_rows(xp_shape, kernel_size, stride, out_shape, groups: int, itemsize: int) -> int:
    """Patch rows per fixed block (kernels/fast/blocks.py) for correlate and weight_grad over a batch
    xp (N, *Sp, C) channels-last: whole samples on the single-channel path, else one GEMM's
    rows. It follows from the shapes alone, so a block's result is the same whichever thread
    computes it."""
    n, positions = xp_shape[0], math.prod(out_shape)
    if xp_shape[-1] == 1 and all(s == 1 for s in stride):  # _single_channel
        return blocks.sample_block(n, positions) * positions
    row_len = math.prod(kernel_size) * (xp_shape[-1] // groups)
    return blocks.row_block(n * positions, chunk_rows(row_len * itemsize))


def correlate(xp: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, out_shape, y: np.ndarray,
              bias: np.ndarray | None = None, rows: tuple[int, int] | None = None) -> None:
    """y[n, o, co] = b[co] + sum_{kk, c} xp[n, o*s + kk*d, c] w[co, c, kk], written into y.

    xp (N, *Sp, C) channels-last (already padded), wm = weight_matrix(w, G); y (N, *out, C_out)
    channels-last and contiguous. One GEMM (rows, prod(k) C/G) @ (prod(k) C/G, C_out/G) per
    block of block_rows rows and group; the bias is added to each block while it is still in
    cache. rows = (r0, r1): only the patch rows (n, o) numbered r0:r1 (n P + o), both at block
    boundaries (or r1 the last row); None: all.
    """
    groups, y_rows = wm.shape[0], _flat_rows(y)  # (N P, C_out), a view of y
    r0, r1 = rows if rows is not None else (0, y_rows.shape[0])
    if _single_channel(xp, stride):
        origins, taps = _grid(xp.shape, kernel_size, dilation, out_shape)
        positions = origins.shape[0]
        full = _buffer("cols", (wm.shape[2], origins[-1] + 1), xp.dtype)  # (C_out, grid span)
        _correlate_single(_flat_samples(xp)[r0 // positions:r1 // positions], origins, taps, wm[0], bias, full,
                          y_rows[r0:r1])
        return
    index, run, cg = _geometry(xp.shape, kernel_size, stride, dilation, out_shape, groups)
    size = block_rows(xp.shape, kernel_size, stride, out_shape, groups, xp.itemsize)
    cols, block = _scratch(size, wm.shape[1], wm.shape[2], groups, xp.dtype)
    _correlate(_flat_samples(xp), index, run, cg, wm, bias, r0, r1, size, cols, block, y_rows)


def _grid(xp_shape, kernel_size, dilation, out_shape):
    """grid_table for the channels-last single-channel input xp."""
    return grid_table(tuple(xp_shape[1:-1]), tuple(kernel_size), tuple(dilation), tuple(out_shape))


def single_channel(xp_shape, stride) -> bool:
    """Whether correlate and weight_grad take the single-channel path (_single_channel) for a
    channels-last input of shape xp_shape (N, *Sp, C)."""
    return xp_shape[-1] == 1 and all(s == 1 for s in stride)


def weight_grad(xp: np.ndarray, dy: np.ndarray, kernel_size, stride, dilation, groups: int,
                rows: tuple[int, int] | None = None) -> np.ndarray:
    """dw[co, c, kk] = sum_{n, o} dy[n, o, co] xp[n, o*s + kk*d, c]: the correlation of the input
    with dY (seed 003), over the patch rows (n, o) numbered r0:r1 of rows = (r0, r1) (at block
    boundaries, see correlate) or over all. xp (N, *Sp, C), dy (N, *out, C_out), both
    channels-last -> (G, prod(k) C/G, C_out/G), the layout of weight_matrix (weight_from_matrix
    gives (C_out, C/G, *k)). One GEMM cols^T @ dY per block of block_rows rows: conv.py sums
    the blocks' results along the fixed tree of kernels/fast/blocks.py, so that the sum does not
    depend on how the blocks were shared among threads. (The single-channel path computes
    many blocks at once: weight_grad_blocks.)

    The GEMM is NumPy's here, not numba's np.dot: the product of a transposed patch matrix ran
    1.1-1.6x slower in the BLAS numba calls (SciPy's OpenBLAS build) than in NumPy's.
    """
    cg, og = xp.shape[-1] // groups, dy.shape[-1] // groups
    row_len = math.prod(kernel_size) * cg
    x, d = _flat_samples(xp), _flat_rows(dy)  # (N, prod(Sp) C), (N P, C_out)
    r0, r1 = rows if rows is not None else (0, d.shape[0])
    if _single_channel(xp, stride):
        out = np.empty((1, 1, row_len, og), dtype=xp.dtype)  # (blocks, G, K, C_out)
        origins, taps = _grid(xp.shape, kernel_size, dilation, dy.shape[1:-1])
        n0, n1 = r0 // origins.shape[0], r1 // origins.shape[0]
        full = _buffer("cols", (og, origins[-1] + 1), xp.dtype)  # (C_out, grid span)
        _weight_grad_single_blocks(x[n0:n1], origins, taps, d[r0:r1], full, max(n1 - n0, 1), 0, 1, out[:, 0])
        return out[0]
    index, run, _ = _geometry(xp.shape, kernel_size, stride, dilation, dy.shape[1:-1], groups)
    size = block_rows(xp.shape, kernel_size, stride, dy.shape[1:-1], groups, xp.itemsize)
    acc = np.empty((groups, row_len, og), dtype=xp.dtype)
    part = np.empty_like(acc[0])  # (K Cg, Og)
    for c0 in range(r0, r1, size):
        c1 = min(c0 + size, r1)
        patches = _buffer("cols", (c1 - c0, row_len), xp.dtype)
        for g in range(groups):
            _gather(x, index, run, g * cg, c0, c1, patches)
            if c0 == r0:  # the first block: its product is the start of the sum
                np.matmul(patches.T, d[c0:c1, g * og:(g + 1) * og], out=acc[g])
            else:
                acc[g] += np.matmul(patches.T, d[c0:c1, g * og:(g + 1) * og], out=part)
    if r1 <= r0:
        acc[:] = 0
    return acc


def weight_grad_blocks(xp: np.ndarray, dy: np.ndarray, kernel_size, dilation, size: int, b0: int, b1: int,
                       out: np.ndarray) -> None:
    """out[i] = weight_grad over the patch rows of block i (size = block_rows rows, whole
    samples), for the blocks i in b0:b1, on the single-channel path (a single-channel input at
    stride 1), in one call: there a block's partial is only prod(k) x C_out values, cheap to
    compute, and a call per block cost as much as the sums (LeNet-5's first layer).
    out (blocks, 1, prod(k), C_out)."""
    origins, taps = _grid(xp.shape, kernel_size, dilation, dy.shape[1:-1])
    full = _buffer("cols", (dy.shape[-1], origins[-1] + 1), xp.dtype)  # (C_out, grid span)
    _weight_grad_single_blocks(_flat_samples(xp), origins, taps, _flat_rows(dy), full, size // origins.shape[0],
                               b0, b1, out[:, 0])


def column_sums(dy: np.ndarray, size: int, b0: int, b1: int, out: np.ndarray) -> None:
    """out[i, co] = sum of dy[n, o, co] over the patch rows (n, o) of block i (size rows each),
    for the blocks i in b0:b1, added row after row; dy (N, *out, C_out) channels-last,
    out (blocks, C_out)."""
    _column_sums(_flat_rows(dy), size, b0, b1, out)


def transposed(dy: np.ndarray, wm: np.ndarray, kernel_size, stride, dilation, dx: np.ndarray,
               block_samples: int = 1) -> None:
    """dx[n, i, c] += sum over (o, kk) with o*s + kk*d = i of dy[n, o, co] w[co, c, kk].

    This is seed 003's input gradient dA = sum_h rot180(W_h) * dZ_h, the full correlation of dY
    (with s - 1 zeros inserted between its elements when s > 1) with the 180-degree-rotated
    kernels: read that correlation backwards and each dY element sends dY * W[kk] to input
    position o*s + kk*d. Computing it in that scatter form skips the multiplications by inserted
    zeros. It is also the transposed convolution.

    dy (N, *out, C_out) channels-last, wm = weight_matrix(w, G); dx (N, *in, C)
    channels-last and C-contiguous, zeroed by the caller. One GEMM dY (rows, C_out/G) @
    W^T (C_out/G, prod(k) C/G) per chunk and group, then col2im; the chunks are cut from the
    start of every block of block_samples samples (conv.py hands threads whole blocks, so each
    block is computed the same way by whichever thread).
    """
    if not dx.flags.c_contiguous:
        raise ValueError("transposed writes into a C-contiguous dx")
    groups = wm.shape[0]
    index, run, cg = _geometry(dx.shape, kernel_size, stride, dilation, dy.shape[1:-1], groups)
    rows = chunk_rows(wm.shape[1] * dy.itemsize)
    cols, block = _scratch(rows, wm.shape[1], wm.shape[2], groups, dy.dtype)
    _transposed(_flat_rows(dy), index, run, cg, wm, block_samples * index.shape[0], rows, cols, block,
                _flat_samples(dx))
