"""3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray, "Fast
Algorithms for Convolutional Neural Networks", 2016): kernels/conv.py takes it, by size, for the
forward and the input gradient; the weight gradient here measured slower than im2col's and is not
used.

Each 2x2 block of outputs is computed from a 4x4 tile d of the padded input (neighbouring tiles
overlap by two) and a 3x3 kernel g as

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A              (.) elementwise, 4x4

    B^T = [[1,  0, -1,  0],    G = [[1,    0,   0  ],    A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],         [1/2,  1/2, 1/2],           [0, 1, -1, -1]]
           [0, -1,  1,  0],         [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]         [0,    0,   1  ]]

Summed over the input channels, the 16 elementwise products of a tile are 16 matrix products,
one per position k of the 4x4 transformed tile, over all tiles t at once:

    forward      M[k] (tiles, C_out) = V[k] (tiles, C_in) @ U[k] (C_in, C_out),
                 V[k, t] = (B^T d_t B)[k],  U[k, c, co] = (G g[co, c] G^T)[k],  then Y_t = A^T M_t A.
    input grad   the full correlation of dY with the 180-degree-rotated kernels (seed 003) is the
                 forward itself on dY zero-padded by 2 (by 2 - p for the input's own positions
                 under a zero padding p), kernels rotated and C_in, C_out swapped.
    weight grad  the adjoint of the forward in g: dg = G^T [ sum_t (A dY_t A^T) (.) V_t ] G, i.e.
                 16 products dU[k] (C_in, C_out) = V[k]^T (C_in, tiles) @ E[k] (tiles, C_out) with
                 E[k, t] = (A dY_t A^T)[k], summed over tiles, then G^T dU G.

That is 16 multiply-adds per 4 outputs and channel pair where the direct sum (im2col.py) takes
9 per output: 2.25x fewer, paid for by the transforms (additions only). Its float32 error is of
the size of im2col's (below 1e-6 of the largest output in docs/benchmarks.md), since the
transforms only add, subtract and halve.

Fixed blocks (kernels/fast/blocks.py): the tiles (n, i, j), numbered n tiles_h tiles_w + i tiles_w + j,
are taken in chunks of TILES, each chunk one set of products, and threads get whole chunks;
the weight gradient's chunks are summed along the fixed tree. So the bytes do not depend on the
thread count here either.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numba import njit

from ..windows import move_channels_first, pad_backward
from . import blocks
from .threads import single_threaded_blas, split_batch

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # (4, 3)
TILES = 256  # tiles per chunk: V (16, TILES, C_in) is 2 MiB for C_in = 128, a core's L2 cache
# Chosen where it measured faster than im2col + GEMM (one thread, paired; docs/benchmarks.md): a
# product from at least MIN_IN channels to at least MIN_OUT, with at least MIN_WORK multiply-adds
# per tap (positions x C_in x C_out). With 32 to 128 channels and 2-6 x 10^8 of them the forward
# took 0.80-0.92 of im2col's time and forward + backward 0.90-0.95; from 64 to 32 channels the
# input gradient took 1.06-1.13; and with 64 channels and 1.3-3.1 x 10^7 (batch 1 at 56x56,
# batch 8 at 31x31, batch 16 at 16x16) forward + backward took 1.00-1.01, a draw.
MIN_IN, MIN_OUT = 32, 64
MIN_WORK = 1 << 26

_local = threading.local()


def worthwhile(x_shape, w_shape, stride, dilation, groups: int, dtype) -> bool:
    """Whether kernels/conv.py takes this path for a product with weight w_shape (C_out, C_in, k...)
    (for the input gradient: (C_in, C_out, k...), the channels swapped): a 2-D 3x3 kernel at
    stride 1 and dilation 1, one group, float32 (float64 stays on the direct sums: it is the
    reference), at least MIN_IN channels in and MIN_OUT out, and at least MIN_WORK multiply-adds
    per tap (the input's positions, which are about the output's at stride 1, x C_in x C_out)."""
    return (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1 and np.dtype(dtype) == np.float32
            and w_shape[1] >= MIN_IN and w_shape[0] >= MIN_OUT
            and math.prod(x_shape[:1] + tuple(x_shape[2:])) * w_shape[0] * w_shape[1] >= MIN_WORK)


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """U[k, c, co] = (G g G^T)[k] for each kernel g = w[co, c]: (C_out, C_in, 3, 3) -> (16, C_in, C_out),
    computed in float64 and rounded once. (Two tensordots, each one matrix product: a product per
    kernel took 1-6 ms for 64-128 channels.)"""
    with single_threaded_blas():  # an OpenBLAS thread woken here would spin on a core the splits need
        gw = np.tensordot(w.astype(np.float64), G, axes=([3], [1]))  # (C_out, C_in, 3, 4): g G^T
        u = np.tensordot(G, gw, axes=([1], [2]))  # (4, C_out, C_in, 4): G g G^T
    return np.ascontiguousarray(u.transpose(0, 3, 2, 1).reshape(16, w.shape[1], w.shape[0]).astype(w.dtype))


def kernel_transform_adjoint(du: np.ndarray) -> np.ndarray:
    """dg = G^T dU G for each (c, co): (16, C_in, C_out) -> (C_out, C_in, 3, 3), in float64, rounded once."""
    d = du.astype(np.float64).reshape(4, 4, du.shape[1], du.shape[2])  # (4, 4, C_in, C_out)
    with single_threaded_blas():  # as in kernel_transform
        gd = np.tensordot(d, G, axes=([1], [0]))  # (4, C_in, C_out, 3): dU G
        dg = np.tensordot(G, gd, axes=([0], [0]))  # (3, C_in, C_out, 3): G^T dU G
    return np.ascontiguousarray(dg.transpose(2, 1, 0, 3).astype(du.dtype))


def _buffer(name: str, shape: tuple, dtype) -> np.ndarray:
    """This thread's reusable scratch array `name`."""
    buf = getattr(_local, name, None)
    if buf is None or buf.shape != shape or buf.dtype != dtype:
        buf = np.empty(shape, dtype=dtype)
        setattr(_local, name, buf)
    return buf


# ---------------------------------------------------------------- the transforms (no GIL)

@njit(nogil=True, cache=True)
def _corner(t, tiles_h, tiles_w):
    """(n, row, column) of tile t's top-left corner."""
    n, rest = t // (tiles_h * tiles_w), t % (tiles_h * tiles_w)
    return n, 2 * (rest // tiles_w), 2 * (rest % tiles_w)


@njit(nogil=True, cache=True)
def _input_transform(x, top, left, t0, t1, tiles_h, tiles_w, d, r, v):
    """v[k, t - t0, :] = (B^T d_t B)[k] for the tiles t in t0:t1, d_t the 4x4 tile at tile t's
    corner of the channels-last x (N, H, W, C) zero-padded by `top` rows and `left` columns (and
    zeros past its other edges, without a padded copy), over all channels."""
    h, w = x.shape[1], x.shape[2]
    for t in range(t0, t1):
        n, i, j = _corner(t, tiles_h, tiles_w)
        i, j = i - top, j - left  # the corner in x
        if i >= 0 and j >= 0 and i + 4 <= h and j + 4 <= w:
            d[:, :, :] = x[n, i:i + 4, j:j + 4, :]
        else:  # a tile on the padding
            d[:, :, :] = 0
            i0, j0 = max(i, 0), max(j, 0)
            i1, j1 = min(i + 4, h), min(j + 4, w)
            if i1 > i0 and j1 > j0:
                d[i0 - i:i1 - i, j0 - j:j1 - j, :] = x[n, i0:i1, j0:j1, :]
        for col in range(4):  # B^T d: rows d0 - d2, d1 + d2, d2 - d1, d1 - d3
            d0, d1, d2, d3 = d[0, col], d[1, col], d[2, col], d[3, col]
            r0, r1, r2, r3 = r[0, col], r[1, col], r[2, col], r[3, col]
            for c in range(d.shape[2]):
                r0[c] = d0[c] - d2[c]
                r1[c] = d1[c] + d2[c]
                r2[c] = d2[c] - d1[c]
                r3[c] = d1[c] - d3[c]
        for row in range(4):  # (B^T d) B: the same combinations of the columns
            s0, s1, s2, s3 = r[row, 0], r[row, 1], r[row, 2], r[row, 3]
            v0, v1, v2, v3 = v[4 * row, t - t0], v[4 * row + 1, t - t0], v[4 * row + 2, t - t0], v[4 * row + 3, t - t0]
            for c in range(d.shape[2]):
                v0[c] = s0[c] - s2[c]
                v1[c] = s1[c] + s2[c]
                v2[c] = s2[c] - s1[c]
                v3[c] = s1[c] - s3[c]


@njit(nogil=True, cache=True)
def _output_transform(m, bias, t0, t1, tiles_h, tiles_w, a, y):
    """y[n, i:i+2, j:j+2, :] = A^T M_t A (+ bias) for the tiles t in t0:t1, the parts inside y."""
    for t in range(t0, t1):
        n, i, j = _corner(t, tiles_h, tiles_w)
        for col in range(4):  # A^T M: rows m0 + m1 + m2, m1 - m2 - m3
            m0, m1, m2, m3 = m[col, t - t0], m[4 + col, t - t0], m[8 + col, t - t0], m[12 + col, t - t0]
            a0, a1 = a[0, col], a[1, col]
            for c in range(m.shape[2]):
                a0[c] = m0[c] + m1[c] + m2[c]
                a1[c] = m1[c] - m2[c] - m3[c]
        for row in range(min(2, y.shape[1] - i)):  # (A^T M) A: the same combinations of the columns
            s0, s1, s2, s3 = a[row, 0], a[row, 1], a[row, 2], a[row, 3]
            out = y[n, i + row]
            for c in range(m.shape[2]):
                out[j, c] = s0[c] + s1[c] + s2[c] + (0 if bias is None else bias[c])
            if j + 1 < y.shape[2]:
                for c in range(m.shape[2]):
                    out[j + 1, c] = s1[c] - s2[c] - s3[c] + (0 if bias is None else bias[c])


@njit(nogil=True, cache=True)
def _output_transform_adjoint(dy, t0, t1, tiles_h, tiles_w, a, e):
    """e[k, t - t0, :] = (A dY_t A^T)[k] for the tiles t in t0:t1, dY_t the 2x2 block of the
    channels-last dy (N, H, W, C_out) at tile t's corner (zeros past the edge)."""
    for t in range(t0, t1):
        n, i, j = _corner(t, tiles_h, tiles_w)
        a[:, :, :] = 0  # a[row, col] = dY_t[row, col], zeros past the edge
        for row in range(min(2, dy.shape[1] - i)):
            for col in range(min(2, dy.shape[2] - j)):
                a[row, col, :] = dy[n, i + row, j + col, :]
        for col in range(2):  # A dY: rows g0, g0 + g1, g0 - g1, -g1
            g0, g1 = a[0, col], a[1, col]
            for c in range(a.shape[2]):
                top, bottom = g0[c], g1[c]
                a[2, col, c] = top + bottom  # rows 2-3 of a hold A dY's rows 1-2 for a moment
                a[3, col, c] = top - bottom
        for row in range(4):  # (A dY) A^T: the same combinations of the two columns
            if row == 0:
                h0, h1 = a[0, 0], a[0, 1]
            elif row == 1:
                h0, h1 = a[2, 0], a[2, 1]
            elif row == 2:
                h0, h1 = a[3, 0], a[3, 1]
            else:
                h0, h1 = a[1, 0], a[1, 1]
            sign = -1 if row == 3 else 1
            e0, e1, e2, e3 = e[4 * row, t - t0], e[4 * row + 1, t - t0], e[4 * row + 2, t - t0], e[4 * row + 3, t - t0]
            for c in range(a.shape[2]):
                p, q = sign * h0[c], sign * h1[c]
                e0[c] = p
                e1[c] = p + q
                e2[c] = p - q
                e3[c] = -q


@njit(nogil=True, cache=True)
def _correlate(x, top, left, u, bias, t0, t1, tiles_h, tiles_w, d, r, v, m, a, y):
    """The forward over the tiles t0:t1, chunk by chunk of v.shape[1] tiles from t0."""
    for c0 in range(t0, t1, v.shape[1]):
        c1 = min(c0 + v.shape[1], t1)
        _input_transform(x, top, left, c0, c1, tiles_h, tiles_w, d, r, v)
        for k in range(16):
            np.dot(v[k, :c1 - c0], u[k], m[k, :c1 - c0])
        _output_transform(m, bias, c0, c1, tiles_h, tiles_w, a, y)


# ---------------------------------------------------------------- the three sums

def _tiles(out_shape) -> tuple[int, int]:
    return -(-out_shape[0] // 2), -(-out_shape[1] // 2)


def correlate(x: np.ndarray, u: np.ndarray, bias: np.ndarray | None = None,
              pads=((0, 0), (0, 0))) -> np.ndarray:
    """3x3 stride-1 correlation of the channels-last x (N, H, W, C_in), zero-padded by
    pads = ((top, bottom), (left, right)) (read in place, no padded copy), with
    U = kernel_transform(w) -> channels-last y (N, H + top + bottom - 2, W + left + right - 2, C_out), + bias."""
    (top, bottom), (left, right) = pads
    n, h, w, c_in = x.shape
    c_out = u.shape[2]
    y = np.empty((n, h + top + bottom - 2, w + left + right - 2, c_out), dtype=x.dtype)
    tiles_h, tiles_w = _tiles(y.shape[1:3])
    total = n * tiles_h * tiles_w

    def work(b0, b1):  # tile chunks b0:b1, in one thread
        d, r = _buffer("d", (4, 4, c_in), x.dtype), _buffer("r", (4, 4, c_in), x.dtype)
        v, m = _buffer("v", (16, TILES, c_in), x.dtype), _buffer("m", (16, TILES, c_out), x.dtype)
        a = _buffer("a", (2, 4, c_out), x.dtype)
        _correlate(x, top, left, u, bias, b0 * TILES, min(b1 * TILES, total), tiles_h, tiles_w, d, r, v, m, a, y)

    split_batch(blocks.count(total, TILES), work, total > 1)
    return y


def input_grad(dy: np.ndarray, w: np.ndarray, pads=((2, 2), (2, 2))) -> np.ndarray:
    """The input gradient of the forward with kernels w (C_out, C_in, 3, 3), from the channels-last
    dy (N, H, W, C_out): the forward on dy zero-padded by pads = ((top, bottom), (left, right)),
    with the kernels rotated by 180 degrees and their channels swapped (seed 003's
    dA = sum_h rot180(W_h) * dZ_h). Padded by 2 everywhere it is the gradient of the whole
    padded input (N, H + 2, W + 2, C_in); padded by 2 - p for a zero padding p, that of the
    input's own positions."""
    rotated = np.flip(w, axis=(2, 3)).swapaxes(0, 1)  # (C_in, C_out, 3, 3)
    return correlate(dy, kernel_transform(rotated), None, pads)


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The forward of a 3x3 stride-1 convolution: the padded channels-last xp (N, Hp, Wp, C_in)
    with w (C_out, C_in, 3, 3) -> channels-last y (N, Hp - 2, Wp - 2, C_out), + bias."""
    return correlate(xp, kernel_transform(w), bias)


def conv_input_grad(dy: np.ndarray, w: np.ndarray, pads, padding_mode: str) -> np.ndarray:
    """dx (N, C_in, H, W) of a 3x3 stride-1 convolution with kernels w (C_out, C_in, 3, 3) and
    padding pads, from the channels-last dy (N, H_out, W_out, C_out), through input_grad. With
    zero padding of at most 2 only the input's own positions are computed (dY padded by 2 - p:
    the same number of tiles as the forward); otherwise the whole padded input's gradient, then
    the padding's adjoint (windows.pad_backward)."""
    if padding_mode == "zeros" and all(lo <= 2 and hi <= 2 for lo, hi in pads):
        return move_channels_first(input_grad(dy, w, tuple((2 - lo, 2 - hi) for lo, hi in pads)))
    dxp = input_grad(dy, w, ((2, 2), (2, 2)))  # (N, *padded, C_in)
    return pad_backward(move_channels_first(dxp), pads, padding_mode)


def weight_grad(xp: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """dw (C_out, C_in, 3, 3) = sum over samples and positions of dy[n, o, co] xp[n, o + kk, c], for
    the padded channels-last xp (N, Hp, Wp, C_in) and dy (N, Hp - 2, Wp - 2, C_out): per chunk of
    tiles dU[k] = V[k]^T E[k], the chunks summed along the fixed tree, then dw = G^T dU G.

    Not chosen by kernels/conv.py: it measured 1.0-1.3x the time of im2col's weight gradient (its
    products have only TILES rows to sum over, and it transforms the input again;
    docs/benchmarks.md). Kept, tested, for benchmarks/bench_winograd.py to measure again."""
    n, c_in, c_out = xp.shape[0], xp.shape[3], dy.shape[3]
    tiles_h, tiles_w = _tiles(dy.shape[1:3])
    total = n * tiles_h * tiles_w

    def leaf(i):  # [dU] of tile chunk i
        t0, t1 = i * TILES, min((i + 1) * TILES, total)
        d, r = _buffer("d", (4, 4, c_in), xp.dtype), _buffer("r", (4, 4, c_in), xp.dtype)
        v, e = _buffer("v", (16, TILES, c_in), xp.dtype), _buffer("e", (16, TILES, c_out), xp.dtype)
        a = _buffer("ea", (4, 2, c_out), xp.dtype)
        _input_transform(xp, 0, 0, t0, t1, tiles_h, tiles_w, d, r, v)
        _output_transform_adjoint(dy, t0, t1, tiles_h, tiles_w, a, e)
        return [np.matmul(v[:, :t1 - t0].transpose(0, 2, 1), e[:, :t1 - t0])]  # (16, C_in, C_out)

    du = blocks.blocked_sum(max(blocks.count(total, TILES), 1), leaf,
                            lambda count, work: split_batch(count, work, total > 1))[0]
    return kernel_transform_adjoint(du)
