"""Max, average, adaptive and global pooling over any number of spatial dimensions.

Pooling summarises each window of a feature map by one number (seed 001, seed 003):

    max pooling      y[n, c, o] = max_{j in window(o)} x[n, c, j]
    average pooling  y[n, c, o] = (1 / divisor(o)) * sum_{j in window(o)} x[n, c, j]

and has no weights, so each channel plane is pooled on its own. Every pooling here is the same
two steps:

1. A *window table* of shape (O, K) lists, for each of the O output positions of one plane,
   the flat indices (into the plane's spatial dims, PyTorch's convention for return_indices) of
   the K inputs its window covers. Entries are PAD (-1) where the window lies on padding and
   OVERHANG (-2) where it hangs over the end with ceil_mode. The regular table is cut from the
   index plane with the same `pad` and `sliding_windows` that convolution uses, so the window
   arithmetic exists once; adaptive pooling builds its variable-size windows from seed 001's
   start = floor(i n / out), end = ceil((i + 1) n / out).
2. A plain numba loop over all planes (N * C) and all output positions reads the window through
   the table: a max with its argmax, or a sum divided by the divisor. Each loop comes in two
   orders, one per memory layout: plane by plane for NCHW memory, and with the channels
   innermost (one contiguous run of C values per window position) for channels-last memory.
   Large inputs are shared among the threads by plane (threads.split_batch); with fewer
   planes than threads (a batch of one channels-last map) the forward loops split the output
   positions and the backward ones the channels. The loops hold no GIL. (numba's own parallel loops were tried first: on a busy two-core machine they
   waited for a descheduled worker thread and ran several times slower than a serial loop.)

A table holds O * K int64 entries, the size of one plane's im2col matrix whatever N and C are;
tables are cached per geometry (a few dozen at most), so each layer builds its own once.

Backward, written by hand:
- max: only the first maximum of a window depends on its input, with slope 1, so
  dx[n, c, argmax(o)] += dy[n, c, o] (a scatter of dy to the saved indices; ties go to the
  first maximum in row-major window order, as in PyTorch);
- average: each input in window(o) receives dy[n, c, o] / divisor(o) from every window that
  covers it (seed 003's "expand each element of dZ over its window", with overlap allowed).

Max padding acts as -infinity (a padded position never wins); average padding is zero and
counts in the divisor only with count_include_pad. Shapes: x is (N, C, *spatial) with
D = len(kernel_size) spatial dims; outputs are (N, C, *out), laid out in memory like the input
(NCHW, or channels-last as convolutions return it: see _planes), so a convolution -> ReLU ->
pooling -> convolution chain never transposes its activations.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
from numba import njit

from .sizes import Pads, dilated_extent, pool_geometry, positive_tuple
from . import allocator
from .threads import PARALLEL_BYTES, get_num_threads, split_batch
from .windows import move_channels_first, move_channels_last, pad, sliding_windows

PAD = -1  # table entry for a window position on the explicit padding
OVERHANG = -2  # table entry for a position past the padded input (ceil_mode's last window)


# ---------------------------------------------------------------- geometry and window tables

@lru_cache(maxsize=32)
def window_table(spatial_shape: tuple, kernel_size: tuple, stride: tuple, pads: Pads,
                 dilation: tuple, out_shape: tuple, for_max: bool = False) -> np.ndarray:
    """(O, K) flat input index of every window position; PAD / OVERHANG outside the input.

    table[o, j] = flat index of input coordinate o * s + j * d - p_lo (per dimension), read off
    an index plane padded like the input, through the shared sliding-window view.
    """
    plane = np.arange(math.prod(spatial_shape), dtype=np.int64).reshape(spatial_shape)  # (*spatial)
    padded = pad(plane, pads, value=PAD)
    # ceil_mode: the last window may run past the high padding; extend with OVERHANG entries
    overhang = tuple((0, max((o - 1) * s + dilated_extent(k, d) - n, 0)) for o, s, d, k, n in
                     zip(out_shape, stride, dilation, kernel_size, padded.shape))
    padded = pad(padded, overhang, value=OVERHANG)
    windows = sliding_windows(padded[None, None], kernel_size, stride, dilation, out_shape)  # (1, 1, *out, *k)
    table = windows.reshape(math.prod(out_shape), math.prod(kernel_size))  # (O, K), a copy
    if for_max:
        table = inputs_only(table)
    table.flags.writeable = False  # shared by every call through the cache
    return table


def adaptive_windows(n: int, out: int) -> tuple[np.ndarray, np.ndarray]:
    """Window i of adaptive pooling covers [floor(i n / out), ceil((i + 1) n / out)) (seed 001)."""
    i = np.arange(out)
    return (i * n) // out, -(-((i + 1) * n) // out)


@lru_cache(maxsize=32)
def adaptive_table(spatial_shape: tuple, out_shape: tuple, for_max: bool = False) -> np.ndarray:
    """(O, K) table of adaptive pooling: K is the largest window; shorter windows end in OVERHANG."""
    nd = len(spatial_shape)
    flat = np.zeros((1,) * (2 * nd), dtype=np.int64)
    inside = np.ones((1,) * (2 * nd), dtype=bool)
    plane_strides = np.cumprod((1,) + tuple(spatial_shape[:0:-1]))[::-1]  # C-order strides of a plane
    for dim, (n, out) in enumerate(zip(spatial_shape, out_shape)):
        start, end = adaptive_windows(n, out)
        coord = start[:, None] + np.arange(int((end - start).max()))  # (out, k_max) input coordinates
        shape = [1] * (2 * nd)
        shape[dim], shape[nd + dim] = coord.shape
        flat = flat + (coord * plane_strides[dim]).reshape(shape)  # (*out, *k_max) once broadcast
        inside = inside & (coord < end[:, None]).reshape(shape)
    table = np.where(inside, flat, OVERHANG)  # (*out, *k_max)
    table = table.reshape(math.prod(out_shape), -1)  # (O, K)
    if for_max:
        table = inputs_only(table)
    table.flags.writeable = False
    return table


def inputs_only(table: np.ndarray) -> np.ndarray:
    """The table for max pooling: each PAD/OVERHANG entry repeats the window's previous input
    (leading ones its first input). Seeing an input twice in a row changes neither the max nor
    which position is its first maximum, and the max loop needs no check for padding (a check
    there made it 3x slower). A window with no input at all (possible only with a large
    dilation) is an error, where PyTorch would return -inf."""
    valid = table >= 0  # (O, K)
    empty = np.flatnonzero(~valid.any(axis=1))
    if empty.size:
        raise ValueError(f"max pooling window {int(empty[0])} lies entirely on padding; "
                         "reduce the padding or the dilation")
    position = np.arange(table.shape[1])
    last_valid = np.maximum.accumulate(np.where(valid, position, -1), axis=1)  # (O, K)
    first_valid = valid.argmax(axis=1)[:, None]  # (O, 1)
    source = np.where(last_valid < 0, first_valid, last_valid)  # (O, K)
    return np.take_along_axis(table, source, axis=1)


def _planes(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> contiguous (A, L, B) over x's own memory when it can be: (N * C, L, 1),
    one row per channel plane, for NCHW memory; (N, L, C) for channels-last memory (what a
    convolution returns, kernels/im2col.py). Either way element (a, l, b) is input position l of
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


def _check_input(x: np.ndarray, nd: int, what: str) -> None:
    if x.ndim != nd + 2:
        raise ValueError(f"{what} over {nd} spatial dims expected input of shape (N, C, *{nd} spatial dims), "
                         f"got {x.shape}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{what} expected a float32 or float64 input, got {x.dtype}")


# ---------------------------------------------------------------- the loops

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


def _channels_innermost(planes: np.ndarray) -> bool:
    """Whether the loops with the channels innermost pay: channels-last memory with at least 8
    channels per position. With fewer the plane-by-plane loops win (2x2 max pooling of
    (64, 6, 28x28): 0.47-0.53 ms against 0.69; of (64, 8, 28x28): 0.63-0.73 against 0.29)."""
    return planes.shape[2] >= 8


def _over_planes(planes: np.ndarray, work) -> None:
    """work(a, b) over the planes (A, L, B), a and b slices of the first and last axes, shared
    among the threads (threads.split_batch) when the input is large enough: by the first axis,
    or by channels when there are fewer planes than threads (a batch of one channels-last map is
    a single plane). Each thread writes only its own planes or channels."""
    worth_it = planes.nbytes > PARALLEL_BYTES
    if planes.shape[0] >= get_num_threads() or planes.shape[2] == 1:
        split_batch(planes.shape[0], lambda a0, a1: work(slice(a0, a1), slice(None)), worth_it)
    else:
        split_batch(planes.shape[2], lambda b0, b1: work(slice(None), slice(b0, b1)), worth_it)


def _over_planes_or_windows(planes: np.ndarray, n_out: int, work) -> None:
    """work(a0, a1, o0, o1) over the planes (A, L, B) and the n_out output positions: shared by
    planes as _over_planes does, or by output positions when there are fewer planes than threads
    (a batch of one channels-last map is a single plane; inference on it uses the cores too).
    Only for the forward loops, whose output positions are written independently."""
    worth_it = planes.nbytes > PARALLEL_BYTES
    if planes.shape[0] >= get_num_threads():
        split_batch(planes.shape[0], lambda a0, a1: work(a0, a1, 0, n_out), worth_it)
    else:
        split_batch(n_out, lambda o0, o1: work(0, planes.shape[0], o0, o1), worth_it)


def _max_pool_table(x: np.ndarray, table: np.ndarray, out_shape: tuple) -> tuple[np.ndarray, np.ndarray]:
    xp = _planes(x)  # (A, L, B)
    y = allocator.empty((xp.shape[0], table.shape[0], xp.shape[2]), x.dtype)  # (A, O, B)
    indices = allocator.empty(y.shape, np.int64)  # (A, O, B)
    loop = _max_over_channels if _channels_innermost(xp) else _max_over_windows
    _over_planes_or_windows(xp, table.shape[0], lambda a0, a1, o0, o1: loop(
        xp[a0:a1], table[o0:o1], y[a0:a1, o0:o1], indices[a0:a1, o0:o1]))
    shape = x.shape[:2] + tuple(out_shape)
    return _unplanes(y, shape), _unplanes(indices, shape)  # (N, C, *out), in x's layout


def _avg_pool_table(x: np.ndarray, table: np.ndarray, divisor: np.ndarray, out_shape: tuple) -> np.ndarray:
    xp = _planes(x)  # (A, L, B)
    y = allocator.empty((xp.shape[0], table.shape[0], xp.shape[2]), x.dtype)  # (A, O, B)
    loop = _mean_over_channels if _channels_innermost(xp) else _mean_over_windows
    _over_planes_or_windows(xp, table.shape[0], lambda a0, a1, o0, o1: loop(
        xp[a0:a1], table[o0:o1], divisor[o0:o1], y[a0:a1, o0:o1]))
    return _unplanes(y, x.shape[:2] + tuple(out_shape))  # (N, C, *out), in x's layout


def _avg_pool_table_backward(dy: np.ndarray, table: np.ndarray, divisor: np.ndarray, input_shape) -> np.ndarray:
    dyp = _planes(dy)  # (A, O, B)
    dx = allocator.empty((dyp.shape[0], math.prod(input_shape[2:]), dyp.shape[2]), dy.dtype)  # (A, L, B)
    loop = _spread_over_channels if _channels_innermost(dyp) else _spread_over_windows

    def work(a, b):
        dx[a, :, b] = 0
        loop(dyp[a, :, b], table, divisor, dx[a, :, b])

    _over_planes(dx, work)
    return _unplanes(dx, tuple(input_shape))  # (N, C, *spatial), in dy's layout


def _divisor(table: np.ndarray, count_include_pad: bool, divisor_override, dtype) -> np.ndarray:
    """Per output position: the override, or the window size counting padding, or the inputs only."""
    if divisor_override is not None:
        return np.full(table.shape[0], divisor_override, dtype=dtype)
    counted = table != OVERHANG if count_include_pad else table >= 0
    return counted.sum(axis=1).astype(dtype)  # (O,)


# ---------------------------------------------------------------- max pooling

def max_pool_forward(x: np.ndarray, kernel_size, stride=None, padding=0, dilation=1,
                     ceil_mode: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Max pooling of x (N, C, *spatial) over D = len(kernel_size) spatial dims.

    Returns y (N, C, *out) and indices (N, C, *out), int64: the flat index into each input
    plane's spatial dims of the maximum each window chose (PyTorch's return_indices). Padding
    is -inf: it never wins.
    """
    nd = len(kernel_size)
    _check_input(x, nd, "max_pool")
    spatial = x.shape[2:]
    k, s, pads, d, out = pool_geometry(spatial, kernel_size, stride, padding, dilation, ceil_mode, "max_pool")
    return _max_pool_table(x, window_table(spatial, k, s, pads, d, out, for_max=True), out)


def max_pool_backward(dy: np.ndarray, indices: np.ndarray, input_shape) -> np.ndarray:
    """Gradient of any max pooling (regular or adaptive) w.r.t. its (N, C, *spatial) input.

    dx[n, c, indices[n, c, o]] += dy[n, c, o]; every other input gets 0.
    """
    ind = _planes(indices)  # (A, O, B), the layout the forward's input had
    dyp = _planes_like(dy, ind)  # (A, O, B)
    dx = allocator.empty((ind.shape[0], math.prod(input_shape[2:]), ind.shape[2]), dy.dtype)  # (A, L, B)
    loop = _scatter_to_channels if _channels_innermost(ind) else _scatter_to_indices

    def work(a, b):
        dx[a, :, b] = 0
        loop(dyp[a, :, b], ind[a, :, b], dx[a, :, b])

    _over_planes(dx, work)
    return _unplanes(dx, tuple(input_shape))  # (N, C, *spatial), laid out like the forward's input


# ---------------------------------------------------------------- average pooling

def _avg_geometry(spatial, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, dtype):
    if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override == 0):
        raise ValueError(f"avg_pool divisor_override must be a nonzero number or None, got {divisor_override!r}")
    k, s, pads, d, out = pool_geometry(spatial, kernel_size, stride, padding, 1, ceil_mode, "avg_pool")
    table = window_table(tuple(spatial), k, s, pads, d, out)
    return table, _divisor(table, count_include_pad, divisor_override, dtype), out


def avg_pool_forward(x: np.ndarray, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                     count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """Average pooling of x (N, C, *spatial) over D = len(kernel_size) spatial dims -> (N, C, *out).

    y[o] = sum of the window's inputs (padding adds 0) / divisor(o), with divisor(o) =
    divisor_override if given, else the number of window positions inside the padded input
    (count_include_pad=True; ceil_mode's overhang never counts) or inside the input only.
    """
    _check_input(x, len(kernel_size), "avg_pool")
    table, divisor, out = _avg_geometry(x.shape[2:], kernel_size, stride, padding, ceil_mode,
                                        count_include_pad, divisor_override, x.dtype)
    return _avg_pool_table(x, table, divisor, out)


def avg_pool_backward(dy: np.ndarray, input_shape, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                      count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """Gradient of avg_pool_forward w.r.t. its (N, C, *spatial) input: every input receives
    dy[o] / divisor(o) from each window o that covers it."""
    table, divisor, _ = _avg_geometry(tuple(input_shape[2:]), kernel_size, stride, padding, ceil_mode,
                                      count_include_pad, divisor_override, dy.dtype)
    return _avg_pool_table_backward(dy, table, divisor, tuple(input_shape))


# ---------------------------------------------------------------- adaptive pooling

def adaptive_output_size(spatial_shape, output_size, what: str = "adaptive pooling") -> tuple[int, ...]:
    """An int, or one int (or None: keep that input size) per spatial dimension, each >= 1."""
    nd = len(spatial_shape)
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise ValueError(f"{what} output_size must be an int or {nd} ints, got {output_size!r}")
    out = tuple(n if o is None else o for n, o in zip(spatial_shape, output_size))
    return positive_tuple(out, nd, f"{what} output_size")


def adaptive_avg_pool_forward(x: np.ndarray, output_size) -> np.ndarray:
    """Adaptive average pooling of x (N, C, *spatial) to (N, C, *output_size): window i of each
    dimension covers [floor(i n / out), ceil((i + 1) n / out)) and is averaged."""
    nd = len(output_size) if isinstance(output_size, (tuple, list)) else x.ndim - 2
    _check_input(x, nd, "adaptive_avg_pool")
    out = adaptive_output_size(x.shape[2:], output_size, "adaptive_avg_pool")
    table = adaptive_table(x.shape[2:], out)
    return _avg_pool_table(x, table, _divisor(table, False, None, x.dtype), out)


def adaptive_avg_pool_backward(dy: np.ndarray, input_shape) -> np.ndarray:
    """Each input receives dy[o] / |window(o)| from every adaptive window o that covers it."""
    table = adaptive_table(tuple(input_shape[2:]), dy.shape[2:])
    return _avg_pool_table_backward(dy, table, _divisor(table, False, None, dy.dtype), tuple(input_shape))


def adaptive_max_pool_forward(x: np.ndarray, output_size) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling of x (N, C, *spatial) -> y, indices (N, C, *output_size); the
    backward is max_pool_backward."""
    nd = len(output_size) if isinstance(output_size, (tuple, list)) else x.ndim - 2
    _check_input(x, nd, "adaptive_max_pool")
    out = adaptive_output_size(x.shape[2:], output_size, "adaptive_max_pool")
    return _max_pool_table(x, adaptive_table(x.shape[2:], out, for_max=True), out)


# ---------------------------------------------------------------- global average pooling

def global_avg_pool_forward(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> (N, C): the mean of each channel plane."""
    if x.ndim < 3:
        raise ValueError(f"global_avg_pool expected input of shape (N, C, *spatial), got {x.shape}")
    _check_input(x, x.ndim - 2, "global_avg_pool")
    return np.ascontiguousarray(x).reshape(x.shape[0] * x.shape[1], -1).mean(axis=1).reshape(x.shape[:2])  # (N, C)


def global_avg_pool_backward(dy: np.ndarray, input_shape) -> np.ndarray:
    """Every input of a plane receives dy[n, c] / (number of inputs in the plane)."""
    size = math.prod(input_shape[2:])
    g = dy / np.asarray(size, dtype=dy.dtype)  # (N, C)
    g = g.reshape(g.shape + (1,) * (len(input_shape) - 2))  # (N, C, 1, ..., 1)
    return np.broadcast_to(g, tuple(input_shape)).copy()  # (N, C, *spatial)
