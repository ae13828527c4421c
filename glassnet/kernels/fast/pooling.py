"""The fast path behind pooling: plain numba loops over the planes, shared among the threads.

glassnet/kernels/pooling.py states the formulas and builds the window tables; this module runs
them. table[o, j] is the flat input index of tap j of output o's window in one plane (PAD or
OVERHANG, both negative, off the input; a max pooling table has none: inputs_only there):

    max_pool           y[p, o] = max_j x[p, table[o, j]], and the index of the first maximum
    max_pool_backward  dx[p, indices[p, o]] += dy[p, o]
    avg_pool           y[p, o] = sum_j x[p, table[o, j]] / divisor[o]
    avg_pool_backward  dx[p, table[o, j]] += dy[p, o] / divisor[o]

for every channel plane p = (n, c). The loops hold no GIL, and large inputs are shared among the
threads by plane (threads.split_compiled); with fewer planes than threads (a batch of one
channels-last map) the forward loops split the output positions and the backward ones the
channels. (numba's own parallel loops were tried first: on a busy two-core machine they waited
for a descheduled worker thread and ran several times slower than a serial loop.)

Layouts. Every array here is seen through _planes as (A, L, B): element (a, l, b) is position l
of one channel plane. That is (N C, L, 1), one row per plane, for NCHW memory, and (N, L, C) for
channels-last memory (what a convolution returns, kernels/fast/im2col.py), so pooling a
convolution's output needs no layout copy (a (64, 6, 28, 28) transposition costs more than the
pooling itself), and the output comes back in the input's layout.

Two orders of the same loops. Each formula above is walked in one of two orders over (A, L, B),
chosen by _channels_innermost: plane by plane (the running max or sum a scalar in a register,
reading one plane's values one after another), or with the channels innermost (each window
position one contiguous run of C values, the running maxima or sums a vector of C). Each order
is several times slower than the other on the other's memory, and one loop in numba could not
be both: written channels-innermost and run on NCHW memory, even with C fixed at 1 when it is
compiled, the max forward took 4-8x the plane-by-plane loop's time; written plane by plane and
run on channels-last memory with 32-64 channels, 7-22x the channels-innermost loop's (2x2 and
3x3 windows on (64, 32, 28, 28), (64, 6, 28, 28) and (32, 64, 16, 16) maps, the shared 2-core
machine under load, best of three medians of 20 calls). So each of the four is written in both
orders, side by side below; for each plane they make the same additions and comparisons in the
same order, so the results are the same bytes either way.

Why each step is written out in both loops rather than once. Tried (numba 0.68): each op's
per-element step as a small @njit(inline="always") function (max_step(best, arg, v, i) with the
NaN rule, the float64 running sum, the division), and each order's loop written once by a
factory that builds one jitted traversal per order from an op's steps (a gather for the
forwards, a scatter for the backwards). The results were the same bytes as these loops (576
cases: 1 and 2 spatial dims, max, average and adaptive pooling, NaN, -0.0 and -inf inputs, both
layouts, 1, 2 and 4 threads), but two cases ran slower, old and new called alternately in one
process (medians of 25-31 blocks of 5 calls, 2x2 windows on ReLU'd (64, 32, 28, 28), forward
and backward timed apart, the shared 2-core machine at load 2-3): the max forward on
channels-last memory 1.14-1.23x (the running maxima held in a (C,) buffer and copied to the
output after each window; kept in the output rows, as below, it ran as fast, 0.48 against
0.47 ms, but then each op must also say where its running values live) and the mean backward
on channels-last memory 1.22-1.41x (one scatter serving both backwards looks up the target per
channel, as max needs; numba cannot tell the compiler that dx and the table do not overlap, so
the table entry is reloaded for every channel). The other cases, NCHW memory and 2x2 pooling of
(64, 6, 28, 28) in both layouts, came out at 0.95-1.07x in most runs, with single outliers
either way (0.79x to 3x) from the load. Kept as written.
"""

from __future__ import annotations

import math

import numpy as np
from numba import carray, njit

from ..windows import move_channels_first, move_channels_last
from . import allocator
from .handoff import address, compiled_part, pointer
from .threads import PARALLEL_BYTES, get_num_threads, split_batch, split_compiled


# The plane-by-plane forward loops take about three times longer per input byte than the split
# threshold (threads.PARALLEL_BYTES) assumes: 2x2 max pooling of LeNet-5's (64, 6, 28x28) maps
# (1.2 MB, channels-last, so the plane loop) took 338 us in one thread and 218 shared by two,
# of (16, 6, 28x28) 89 us in one (too small to share); the channels-innermost loop on
# (64, 16, 10x10) 45 us in one and 103 shared (one-off medians of 300 calls). The backward
# scatters gained nothing from sharing at LeNet-5's size (115 against 121 us) and keep the
# threshold as it is.
PLANE_LOOP_COST = 3


# ---------------------------------------------------------------- layout

def _planes(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> contiguous (A, L, B) over x's own memory when it can be: (N * C, L, 1),
    one row per channel plane, for NCHW memory; (N, L, C) for channels-last memory (what a
    convolution returns, kernels/fast/im2col.py). Either way element (a, l, b) is input position l of
    one plane, so the loops below serve both, and pooling a convolution's output needs no
    layout copy (a (64, 6, 28, 28) transposition costs more than the pooling itself)."""
    n, c, size = x.shape[0], x.shape[1], math.prod(x.shape[2:])
    last = move_channels_last(x)  # (N, *spatial, C) view
    if not x.flags.c_contiguous and last.flags.c_contiguous:
        return last.reshape(n, size, c)  # (N, L, C), no copy
    return np.ascontiguousarray(x).reshape(n * c, size, 1)  # (N C, L, 1)


def _planes_like(a: np.ndarray, planes: np.ndarray) -> np.ndarray:
    """(N, C, *S) `a` -> contiguous (A, L', B) in the layout of `planes` (copied if needed)."""
    n, c, size = a.shape[0], a.shape[1], math.prod(a.shape[2:])
    if planes.shape[2] == 1:
        return np.ascontiguousarray(a).reshape(n * c, size, 1)  # (N C, L', 1)
    return np.ascontiguousarray(move_channels_last(a)).reshape(n, size, c)  # (N, L', C)


def _unplanes(planes: np.ndarray, shape: tuple) -> np.ndarray:
    """(A, L, B) planes -> (N, C, *S) = shape, a view (channels-last memory stays so)."""
    if planes.shape[2] == 1:  # (N C, L, 1); also channels-last memory when C = 1
        return planes.reshape(shape)
    return move_channels_first(planes.reshape((shape[0],) + tuple(shape[2:]) + (shape[1],)))  # (N, C, *S) view



# ---------------------------------------------------------------- the loops, in two orders

@njit(nogil=True, cache=True)
def _max_over_windows(x, table, y, indices):
    """y[a, o, b] = max_j x[a, table[o, j], b] and the flat input index of its first maximum.

    x (A, L, B) and y, indices (A, O, B) as made by _planes: (a, b) picks one channel plane.
    `table` comes from `inputs_only` (every entry a real input). As in PyTorch, a NaN in the
    window wins (the last NaN, where PyTorch's running comparison ends). The NaN is tracked
    beside the running max rather than inside its comparison: two short independent chains
    run 1.5x faster than one long one.
    """
    n_a, n_out, n_b, n_k = x.shape[0], table.shape[0], x.shape[2], table.shape[1]
    for a in range(n_a):
        for b in range(n_b):
            for o in range(n_out):
                arg = table[o, 0]
                best = x[a, arg, b]
                nan_at = arg if best != best else -1
                for j in range(1, n_k):
                    i = table[o, j]
                    v = x[a, i, b]
                    if v > best:
                        best = v
                        arg = i
                    nan_at = i if v != v else nan_at
                if nan_at >= 0:
                    arg = nan_at
                    best = x[a, arg, b]
                y[a, o, b] = best
                indices[a, o, b] = arg


@njit(nogil=True, cache=True)
def _max_over_channels(x, table, y, indices):
    """_max_over_windows for channels-last memory (B = C > 1): the same maxima, with the channel
    loop innermost so that each window position is one contiguous run of C values (5x faster
    than walking one channel plane at a time through strided memory). `v != v` lets a NaN win
    and a later NaN replace it, as above."""
    n_a, n_out, n_b, n_k = x.shape[0], table.shape[0], x.shape[2], table.shape[1]
    for a in range(n_a):
        xa, ya, ia = x[a], y[a], indices[a]
        for o in range(n_out):
            best, arg = ya[o], ia[o]  # (B,) rows, updated in place
            i = table[o, 0]
            first = xa[i]
            for b in range(n_b):
                best[b] = first[b]
                arg[b] = i
            for j in range(1, n_k):
                i = table[o, j]
                row = xa[i]
                for b in range(n_b):
                    v = row[b]
                    if v > best[b] or v != v:
                        best[b] = v
                        arg[b] = i


@njit(nogil=True, cache=True)
def _scatter_to_indices(dy, indices, dx):
    """dx[a, indices[a, o, b], b] += dy[a, o, b]: the max pooling backward."""
    for a in range(dy.shape[0]):
        for b in range(dy.shape[2]):
            for o in range(dy.shape[1]):
                dx[a, indices[a, o, b], b] += dy[a, o, b]


@njit(nogil=True, cache=True)
def _scatter_to_channels(dy, indices, dx):
    """_scatter_to_indices for channels-last memory, the channel loop innermost."""
    for a in range(dy.shape[0]):
        dya, ia, dxa = dy[a], indices[a], dx[a]
        for o in range(dy.shape[1]):
            g, i = dya[o], ia[o]
            for b in range(dy.shape[2]):
                dxa[i[b], b] += g[b]


# The max pooling loops as parts of a split (threads.split_compiled, compiled by
# handoff.compiled_part), for float32: the block holds the part's range, then each array's
# address and shape; channels (1 or 0) picks the loop order. Only whole-plane ranges, or output
# ranges of a single plane, are handed to them: their arrays are then contiguous, as the
# Python path's are (numba compiles the loops for what it can prove: on a strided slice the
# channels-innermost forward took 6x as long).

def _max_part(block):
    """block = [a0, a1, o0, o1, channels, x, A, L, B, table, O, K, y, indices]: the planes a0:a1
    and the outputs o0:o1 (all of them, or a1 = a0 + 1)."""
    b = carray(pointer(block, np.int64), 14)
    a0, a1, o0, o1, n_out, n_b = b[0], b[1], b[2], b[3], b[10], b[8]
    x, table = carray(pointer(b[5], np.float32), (b[6], b[7], n_b)), carray(pointer(b[9], np.int64), (n_out, b[11]))
    first = (a0 * n_out + o0) * n_b  # y[a0, o0]: the part's outputs are one contiguous run from here
    y = carray(pointer(b[12] + 4 * first, np.float32), (a1 - a0, o1 - o0, n_b))
    indices = carray(pointer(b[13] + 8 * first, np.int64), (a1 - a0, o1 - o0, n_b))
    if b[4]:
        _max_over_channels(x[a0:a1], table[o0:o1], y, indices)
    else:
        _max_over_windows(x[a0:a1], table[o0:o1], y, indices)


def _max_backward_part(block):
    """block = [a0, a1, channels, dy, A, O, B, indices, dx, L]: dx's planes a0:a1 zeroed, then dy
    added at the indices there."""
    b = carray(pointer(block, np.int64), 10)
    a0, a1 = b[0], b[1]
    dy = carray(pointer(b[3], np.float32), (b[4], b[5], b[6]))
    indices = carray(pointer(b[7], np.int64), (b[4], b[5], b[6]))
    dx = carray(pointer(b[8], np.float32), (b[4], b[9], b[6]))
    dx[a0:a1] = 0
    if b[2]:
        _scatter_to_channels(dy[a0:a1], indices[a0:a1], dx[a0:a1])
    else:
        _scatter_to_indices(dy[a0:a1], indices[a0:a1], dx[a0:a1])


@njit(nogil=True, cache=True)
def _mean_over_windows(x, table, divisor, y):
    """y[a, o, b] = sum_j x[a, table[o, j], b] / divisor[o] (positions outside the input add 0)."""
    n_a, n_out, n_b, n_k = x.shape[0], table.shape[0], x.shape[2], table.shape[1]
    for a in range(n_a):
        for b in range(n_b):
            for o in range(n_out):
                total = 0.0  # a float64 register; the mean is stored in y's dtype
                for j in range(n_k):
                    i = table[o, j]
                    if i >= 0:
                        total += x[a, i, b]
                y[a, o, b] = total / divisor[o]


@njit(nogil=True, cache=True)
def _mean_over_channels(x, table, divisor, y):
    """_mean_over_windows for channels-last memory, the channel loop innermost (the sums in
    float64 as there)."""
    n_a, n_out, n_b, n_k = x.shape[0], table.shape[0], x.shape[2], table.shape[1]
    total = np.empty(n_b, dtype=np.float64)
    for a in range(n_a):
        xa, ya = x[a], y[a]
        for o in range(n_out):
            total[:] = 0.0
            for j in range(n_k):
                i = table[o, j]
                if i >= 0:
                    row = xa[i]
                    for b in range(n_b):
                        total[b] += row[b]
            out = ya[o]
            for b in range(n_b):
                out[b] = total[b] / divisor[o]


@njit(nogil=True, cache=True)
def _spread_over_windows(dy, table, divisor, dx):
    """dx[a, table[o, j], b] += dy[a, o, b] / divisor[o]: the average pooling backward."""
    n_a, n_out, n_b, n_k = dy.shape[0], table.shape[0], dy.shape[2], table.shape[1]
    for a in range(n_a):
        for b in range(n_b):
            for o in range(n_out):
                g = dy[a, o, b] / divisor[o]
                for j in range(n_k):
                    i = table[o, j]
                    if i >= 0:
                        dx[a, i, b] += g


@njit(nogil=True, cache=True)
def _spread_over_channels(dy, table, divisor, dx):
    """_spread_over_windows for channels-last memory, the channel loop innermost."""
    n_a, n_out, n_b, n_k = dy.shape[0], table.shape[0], dy.shape[2], table.shape[1]
    g = np.empty(n_b, dtype=dy.dtype)  # dy[a, o] / divisor[o], divided once per window
    for a in range(n_a):
        dya, dxa = dy[a], dx[a]
        for o in range(n_out):
            for b in range(n_b):
                g[b] = dya[o, b] / divisor[o]
            for j in range(n_k):
                i = table[o, j]
                if i >= 0:
                    target = dxa[i]
                    for b in range(n_b):
                        target[b] += g[b]



# ---------------------------------------------------------------- a batch, shared among the threads

def _channels_innermost(planes: np.ndarray) -> bool:
    """Whether the loops with the channels innermost pay: channels-last memory with at least 8
    channels per position. With fewer the plane-by-plane loops win (2x2 max pooling of
    (64, 6, 28x28): 0.47-0.53 ms against 0.69; of (64, 8, 28x28): 0.63-0.73 against 0.29)."""
    return planes.shape[2] >= 8


def _over_planes(planes: np.ndarray, work, part: int = 0, block=None) -> None:
    """work(a, b) over the planes (A, L, B), a and b slices of the first and last axes, shared
    among the threads (threads.split_compiled) when the input is large enough: by the first axis,
    or by channels when there are fewer planes than threads (a batch of one channels-last map is
    a single plane). Each thread writes only its own planes or channels. part, block(a0, a1): the
    compiled part doing work on the planes a0:a1, and its block (a split by planes only)."""
    worth_it = planes.nbytes > PARALLEL_BYTES
    if planes.shape[0] >= get_num_threads() or planes.shape[2] == 1:
        split_compiled(planes.shape[0], lambda a0, a1: work(slice(a0, a1), slice(None)), part, block, worth_it)
    else:
        split_batch(planes.shape[2], lambda b0, b1: work(slice(None), slice(b0, b1)), worth_it)


def _over_planes_or_windows(planes: np.ndarray, n_out: int, work, part: int = 0, block=None) -> None:
    """work(a0, a1, o0, o1) over the planes (A, L, B) and the n_out output positions: shared by
    planes as _over_planes does, or by output positions when there are fewer planes than threads
    (a batch of one channels-last map is a single plane; inference on it uses the cores too).
    Only for the forward loops, whose output positions are written independently. The
    plane-by-plane loops cost several times more per byte than the channels-innermost ones, so
    they are shared from a third of the size (PLANE_LOOP_COST). part, block(a0, a1, o0, o1): the
    compiled part doing work(a0, a1, o0, o1), and its block (all outputs, or a single plane)."""
    worth_it = planes.nbytes * (1 if _channels_innermost(planes) else PLANE_LOOP_COST) > PARALLEL_BYTES
    n_a = planes.shape[0]
    if n_a >= get_num_threads():
        split_compiled(n_a, lambda a0, a1: work(a0, a1, 0, n_out), part,
                       lambda a0, a1: block(a0, a1, 0, n_out), worth_it)
    else:
        split_compiled(n_out, lambda o0, o1: work(0, n_a, o0, o1), part if n_a == 1 else 0,
                       lambda o0, o1: block(0, n_a, o0, o1), worth_it)



def max_pool(x: np.ndarray, table: np.ndarray, out_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(y, indices) (N, C, *out) of max pooling x (N, C, *S) through the window table (O, K),
    in x's layout."""
    xp = _planes(x)  # (A, L, B)
    y = allocator.empty((xp.shape[0], table.shape[0], xp.shape[2]), x.dtype)  # (A, O, B)
    indices = allocator.empty(y.shape, np.int64)  # (A, O, B)
    channels = _channels_innermost(xp)
    loop = _max_over_channels if channels else _max_over_windows
    part = compiled_part(_max_part) if x.dtype == np.float32 and table.flags.c_contiguous else 0
    arrays = [channels, address(xp), *xp.shape, address(table), *table.shape, address(y),
              address(indices)] if part else []  # _max_part's block after the ranges
    _over_planes_or_windows(xp, table.shape[0], lambda a0, a1, o0, o1: loop(
        xp[a0:a1], table[o0:o1], y[a0:a1, o0:o1], indices[a0:a1, o0:o1]), part,
        lambda a0, a1, o0, o1: np.array([a0, a1, o0, o1, *arrays], dtype=np.int64))
    shape = x.shape[:2] + tuple(out_shape)
    return _unplanes(y, shape), _unplanes(indices, shape)  # (N, C, *out), in x's layout


def max_pool_backward(dy: np.ndarray, indices: np.ndarray, input_shape) -> np.ndarray:
    """dx (N, C, *S) = dy (N, C, *out) added at the saved indices, laid out like the forward's input."""
    ind = _planes(indices)  # (A, O, B), the layout the forward's input had
    dyp = _planes_like(dy, ind)  # (A, O, B)
    dx = allocator.empty((ind.shape[0], math.prod(input_shape[2:]), ind.shape[2]), dy.dtype)  # (A, L, B)
    channels = _channels_innermost(ind)
    loop = _scatter_to_channels if channels else _scatter_to_indices

    def work(a, b):
        dx[a, :, b] = 0
        loop(dyp[a, :, b], ind[a, :, b], dx[a, :, b])

    part = compiled_part(_max_backward_part) if dy.dtype == np.float32 else 0
    arrays = [channels, address(dyp), *dyp.shape, address(ind), address(dx), dx.shape[1]] if part else []
    _over_planes(dx, work, part, lambda a0, a1: np.array([a0, a1, *arrays], dtype=np.int64))
    return _unplanes(dx, tuple(input_shape))  # (N, C, *spatial), laid out like the forward's input


def avg_pool(x: np.ndarray, table: np.ndarray, divisor: np.ndarray, out_shape: tuple) -> np.ndarray:
    """y (N, C, *out) of average pooling x (N, C, *S) through the window table (O, K) and the
    divisor (O,) of each window, in x's layout."""
    xp = _planes(x)  # (A, L, B)
    y = allocator.empty((xp.shape[0], table.shape[0], xp.shape[2]), x.dtype)  # (A, O, B)
    loop = _mean_over_channels if _channels_innermost(xp) else _mean_over_windows
    _over_planes_or_windows(xp, table.shape[0], lambda a0, a1, o0, o1: loop(
        xp[a0:a1], table[o0:o1], divisor[o0:o1], y[a0:a1, o0:o1]))
    return _unplanes(y, x.shape[:2] + tuple(out_shape))  # (N, C, *out), in x's layout


def avg_pool_backward(dy: np.ndarray, table: np.ndarray, divisor: np.ndarray, input_shape) -> np.ndarray:
    """dx (N, C, *S): dy (N, C, *out) / divisor spread over each window, in dy's layout."""
    dyp = _planes(dy)  # (A, O, B)
    dx = allocator.empty((dyp.shape[0], math.prod(input_shape[2:]), dyp.shape[2]), dy.dtype)  # (A, L, B)
    loop = _spread_over_channels if _channels_innermost(dyp) else _spread_over_windows

    def work(a, b):
        dx[a, :, b] = 0
        loop(dyp[a, :, b], table, divisor, dx[a, :, b])

    _over_planes(dx, work)
    return _unplanes(dx, tuple(input_shape))  # (N, C, *spatial), in dy's layout
