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
2. A loop over all planes (N * C) and all output positions reads the window through the
   table: a max with its argmax, or a sum divided by the divisor. The loops are numba's, hold
   no GIL and share large inputs among the threads: kernels/fast/pooling.py (glassnet/reference/
   pooling.py writes the same sums as the lecture does).

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
(NCHW, or channels-last as convolutions return it: kernels/fast/pooling.py), so a convolution ->
ReLU -> pooling -> convolution chain never transposes its activations.

The input's rank and dtype are checked by glassnet.functional.pooling, once per call; these
functions trust their callers. The window arguments are checked where they are worked out
(sizes.pool_geometry).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .fast import pooling as fast
from .sizes import Pads, pool_geometry, positive_tuple, windows_span
from .windows import pad, sliding_windows

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
    overhang = tuple((0, max(windows_span(o, k, s, d) - n, 0)) for o, s, d, k, n in
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


def _check_output_grad(dy: np.ndarray, expected: tuple, what: str) -> None:
    """The loops read dy through the window table without bounds checks: a dy of another shape
    would read past its end, so it is refused here."""
    if tuple(dy.shape) != expected:
        raise ValueError(f"{what} expected an output gradient of shape {expected} (the forward's output), "
                         f"got {tuple(dy.shape)}")


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
    spatial = x.shape[2:]
    k, s, pads, d, out = pool_geometry(spatial, kernel_size, stride, padding, dilation, ceil_mode, "max_pool")
    return fast.max_pool(x, window_table(spatial, k, s, pads, d, out, for_max=True), out)


def max_pool_backward(dy: np.ndarray, indices: np.ndarray, input_shape) -> np.ndarray:
    """Gradient of any max pooling (regular or adaptive) w.r.t. its (N, C, *spatial) input.

    dx[n, c, indices[n, c, o]] += dy[n, c, o]; every other input gets 0. dx is laid out like
    the forward's input.
    """
    _check_output_grad(dy, tuple(indices.shape), "max_pool_backward")
    if tuple(indices.shape[:2]) != tuple(input_shape[:2]):
        raise ValueError(f"max_pool_backward got indices of shape {tuple(indices.shape)} for an input of shape "
                         f"{tuple(input_shape)}: the batch and channel sizes differ")
    return fast.max_pool_backward(dy, indices, tuple(input_shape))


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
    table, divisor, out = _avg_geometry(x.shape[2:], kernel_size, stride, padding, ceil_mode,
                                        count_include_pad, divisor_override, x.dtype)
    return fast.avg_pool(x, table, divisor, out)


def avg_pool_backward(dy: np.ndarray, input_shape, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                      count_include_pad: bool = True, divisor_override=None) -> np.ndarray:
    """Gradient of avg_pool_forward w.r.t. its (N, C, *spatial) input: every input receives
    dy[o] / divisor(o) from each window o that covers it."""
    table, divisor, out = _avg_geometry(tuple(input_shape[2:]), kernel_size, stride, padding, ceil_mode,
                                        count_include_pad, divisor_override, dy.dtype)
    _check_output_grad(dy, tuple(input_shape[:2]) + out, "avg_pool_backward")
    return fast.avg_pool_backward(dy, table, divisor, tuple(input_shape))


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
    out = adaptive_output_size(x.shape[2:], output_size, "adaptive_avg_pool")
    table = adaptive_table(x.shape[2:], out)
    return fast.avg_pool(x, table, _divisor(table, False, None, x.dtype), out)


def adaptive_avg_pool_backward(dy: np.ndarray, input_shape) -> np.ndarray:
    """Each input receives dy[o] / |window(o)| from every adaptive window o that covers it."""
    table = adaptive_table(tuple(input_shape[2:]), dy.shape[2:])
    return fast.avg_pool_backward(dy, table, _divisor(table, False, None, dy.dtype), tuple(input_shape))


def adaptive_max_pool_forward(x: np.ndarray, output_size) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive max pooling of x (N, C, *spatial) -> y, indices (N, C, *output_size); the
    backward is max_pool_backward."""
    out = adaptive_output_size(x.shape[2:], output_size, "adaptive_max_pool")
    return fast.max_pool(x, adaptive_table(x.shape[2:], out, for_max=True), out)


# ---------------------------------------------------------------- global average pooling

def global_avg_pool_forward(x: np.ndarray) -> np.ndarray:
    """(N, C, *spatial) -> (N, C): the mean of each channel plane."""
    return np.ascontiguousarray(x).reshape(x.shape[0] * x.shape[1], -1).mean(axis=1).reshape(x.shape[:2])  # (N, C)


def global_avg_pool_backward(dy: np.ndarray, input_shape) -> np.ndarray:
    """Every input of a plane receives dy[n, c] / (number of inputs in the plane)."""
    size = math.prod(input_shape[2:])
    g = dy / np.asarray(size, dtype=dy.dtype)  # (N, C)
    g = g.reshape(g.shape + (1,) * (len(input_shape) - 2))  # (N, C, 1, ..., 1)
    return np.broadcast_to(g, tuple(input_shape)).copy()  # (N, C, *spatial)
