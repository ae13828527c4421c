"""Memory layout: the channels-last copies the fast kernels read, and the scratch they reuse.

The fast convolution paths work on channels-last arrays, (N, *spatial, C): a patch row of
im2col is then a run of contiguous channel vectors, and a GEMM's result (N * positions, C_out)
*is* the channels-last output, no transpose needed. kernels/conv.py hands out NCHW *views* of
that memory (strides make them free), and a channels-last array comes back from such a view
without a copy (channels_last_view). Only an NCHW input, or one that needs padding, is copied:
to_channels_last transposes and pads it (zeros, reflect, replicate or circular, as windows.pad
does) in one pass, the samples shared among the threads.

channel_sums is a convolution's bias gradient, db[c] = sum of dY over everything but the
channels, made fast for channels-last memory as well; column_sums is the same sum block by block
(the fixed blocks of blocks.py). buffer hands each thread a scratch array of its own that lives
from call to call (the patch chunks of im2col.py and the accumulator rows of single_channel.py).
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache

import numpy as np
from numba import njit

from ..windows import move_channels_last, pad
from . import allocator
from .threads import PARALLEL_BYTES, single_threaded_blas, split_batch

CHANNEL_BLOCK = 16  # channels per pass in the NCHW -> channels-last transposition
FEW_CHANNELS = 8  # up to this many channels the transposition goes one channel at a time ...
PIXEL_CHANNELS = (8, 32)  # ... except that from NCHW memory 8-32 channels go a pixel at a time (_fill_pixels)

_local = threading.local()


def buffer(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """This thread's reusable scratch array `name` (grown when needed, never shrunk)."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    buf = getattr(_local, name, None)
    if buf is None or buf.nbytes < nbytes:
        buf = np.empty(max(nbytes, 1), dtype=np.uint8)
        setattr(_local, name, buf)
    return buf[:nbytes].view(dtype).reshape(shape)


@lru_cache(maxsize=64)
def source_table(spatial: tuple, pads: tuple, padding_mode: str) -> np.ndarray:
    """(prod(padded),) int64: the flat input position each padded position copies (windows.pad
    applied to an index plane), -1 where zero padding puts a 0."""
    plane = np.arange(math.prod(spatial), dtype=np.int64).reshape(spatial)
    table = pad(plane, pads, padding_mode, value=-1).reshape(-1)
    table.flags.writeable = False
    return table


@njit(nogil=True, cache=True)
def _fill(flat, strides, source, out):
    """out[n, q, c] = x[n, c, source[q]] (0 where source[q] < 0), where x (b, C, S) is the memory
    `flat` read with the element strides (n, c, s) -> padded channels-last out (b, Q, C). x is
    NCHW memory (strides (C S, S, 1)) or an NCHW view of channels-last memory ((S C, 1, C)).

    From NCHW memory a pixel's C values lie a whole plane apart; for a 32x32 float32 plane that
    is exactly 4 KiB, so they share one L1 cache set and evict each other before the next
    pixel can reuse them. Hence CHANNEL_BLOCK channels per pass over the pixels. The offsets are
    unsigned: with signed ones numba checks every read for a negative (wrap-around) index, and
    (128, 64, 28, 28) took 7.6 ms instead of 4.2 at one thread. Up to FEW_CHANNELS channels
    the copy goes one channel at a time along its plane instead (the channel loop of the general
    one would have only a few steps per pixel): one channel, 32 LeNet images 47 -> 15 us; at one
    thread, NCHW, unpadded / padded by 1: (64, 3, 32, 32) 228 / 277 -> 118 / 140 us, (64, 6, 14,
    14) 63 / 89 -> 45 / 63, (64, 8, 16, 16) 100 / 133 -> 78 / 100; with 16 channels on 32 x 32
    planes it was twice as slow (367 -> 733 us), hence 8.
    """
    n, q_all, c_all = out.shape
    step_n, step_c, step_s = np.uint64(strides[0]), np.uint64(strides[1]), np.uint64(strides[2])
    if c_all <= FEW_CHANNELS:  # one channel at a time, along its plane
        for b in range(n):
            base, ob = np.uint64(b) * step_n, out[b]
            for c in range(c_all):
                at = base + np.uint64(c) * step_c
                for q in range(q_all):
                    s = source[q]
                    ob[q, c] = flat[at + np.uint64(s) * step_s] if s >= 0 else 0
        return
    for b in range(n):
        base, ob = np.uint64(b) * step_n, out[b]
        for c0 in range(0, c_all, CHANNEL_BLOCK):
            c1 = min(c0 + CHANNEL_BLOCK, c_all)
            for q in range(q_all):
                s = source[q]
                row = ob[q]
                if s < 0:
                    for c in range(c0, c1):
                        row[c] = 0
                else:
                    at = base + np.uint64(c0) * step_c + np.uint64(s) * step_s  # x[n, c0, s]
                    for c in range(c0, c1):
                        row[c] = flat[at]
                        at += step_c


@njit(nogil=True, cache=True)
def _fill_pixels(x, source, out):
    """_fill for NCHW memory x (b, C, S) with 8-32 channels: out[n, q, :] = x[n, :, source[q]]
    (0 where source[q] < 0), a whole pixel at a time. The pass over each pixel's C values, a
    plane apart, costs less than _fill's per-pixel work on a block (one thread, against _fill:
    (64, 16, 10x10) 23 against 46 us, (128, 32, 28x28) padded by 1 1.04 against 2.04 ms, (64, 8,
    16x16) 52 against 65 us; with 64 channels or more it was slower, 1.07-1.41x, and with 3-4
    1.5x)."""
    n, q_all, c_all = out.shape
    for b in range(n):
        xb, ob = x[b], out[b]
        for q in range(q_all):
            s = source[q]
            if s < 0:
                for c in range(c_all):
                    ob[q, c] = 0
            else:
                for c in range(c_all):
                    ob[q, c] = xb[c, s]


def _flat_source(x: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int]]:
    """(flat memory, element strides (n, c, s)) of x (b, C, *S): NCHW memory as it is, an NCHW
    view of contiguous channels-last memory as that memory, anything else copied to NCHW."""
    c, positions = x.shape[1], math.prod(x.shape[2:])
    last = move_channels_last(x)  # (b, *S, C) view
    if last.flags.c_contiguous and not x.flags.c_contiguous:
        return last.reshape(-1), (positions * c, 1, c)
    x = np.ascontiguousarray(x)
    return x.reshape(-1), (c * positions, positions, 1)


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
    return allocator.empty((x_shape[0],) + padded + (x_shape[1],), dtype)


def fill_channels_last(out: np.ndarray, x: np.ndarray, pads=None, padding_mode: str = "zeros") -> None:
    """out (b, *padded S, C) = x (b, C, *S) transposed to channels-last and padded as windows.pad
    pads it (zeros, reflect, replicate or circular), in one pass."""
    pads = tuple(tuple(p) for p in pads) if pads is not None else ((0, 0),) * (x.ndim - 2)
    source = source_table(tuple(x.shape[2:]), pads, padding_mode)  # checks the padding fits the mode
    flat, strides = _flat_source(x)  # x's memory, read as (b, C, S) through the strides
    out = out.reshape(out.shape[0], source.shape[0], out.shape[-1])  # (b, Q, C) view of out
    b, c, positions = x.shape[0], x.shape[1], math.prod(x.shape[2:])
    if PIXEL_CHANNELS[0] <= c <= PIXEL_CHANNELS[1] and strides == (c * positions, positions, 1):
        _fill_pixels(flat.reshape(b, c, positions), source, out)  # NCHW memory as (b, C, S)
    else:
        _fill(flat, strides, source, out)


def to_channels_last(x: np.ndarray, pads=None, padding_mode: str = "zeros") -> np.ndarray:
    """x (N, C, *S) -> contiguous channels-last (N, *padded S, C), padded as windows.pad does.
    Free when x is already a channels-first view of channels-last memory and needs no padding;
    otherwise one copy, its samples shared among the threads when it is large."""
    view = channels_last_view(x, pads)  # (N, *S, C) when free
    if view is not None:
        return view
    out = empty_channels_last(x.shape, pads, x.dtype)  # (N, *padded, C)
    split_batch(x.shape[0], lambda n0, n1: fill_channels_last(out[n0:n1], x[n0:n1], pads, padding_mode),
                out.nbytes > PARALLEL_BYTES)
    return out


def channel_sums(dy: np.ndarray) -> np.ndarray:
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
        return _channel_sums_channels_last(last)


def _channel_sums_channels_last(dy: np.ndarray) -> np.ndarray:
    """db of a contiguous channels-last dy (N, *out, C_out): ones @ dY (rows, C_out)."""
    rows = dy.reshape(-1, dy.shape[-1])  # (N * prod(out), C_out), no copy
    return np.ones(rows.shape[0], dtype=dy.dtype) @ rows


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


def column_sums(dy: np.ndarray, size: int, b0: int, b1: int, out: np.ndarray) -> None:
    """out[i, co] = sum of dy[n, o, co] over the patch rows (n, o) of block i (size rows each),
    for the blocks i in b0:b1, added row after row; dy (N, *out, C_out) channels-last,
    out (blocks, C_out)."""
    _column_sums(flat_rows(dy), size, b0, b1, out)


def flat_samples(a: np.ndarray) -> np.ndarray:
    """Channels-last (N, *S, C) -> (N, prod(S) C), a view when a is contiguous."""
    return np.ascontiguousarray(a).reshape(a.shape[0], math.prod(a.shape[1:]))


def flat_rows(a: np.ndarray) -> np.ndarray:
    """Channels-last (N, *S, C) -> (N prod(S), C): one row per position, a view when contiguous."""
    return np.ascontiguousarray(a).reshape(math.prod(a.shape[:-1]), a.shape[-1])
