"""Winograd's F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
2016): the tiles, transforms and products of kernels/fast/winograd.py for every weight gradient
and for the forward and input gradient of layers with fewer channels (winograd.tiles_for).

Each 2x2 block of outputs is computed from a 4x4 tile d of the padded input (neighbouring tiles
overlap by two) and a 3x3 kernel g as

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A              (.) elementwise, 4x4

    B^T = [[1,  0, -1,  0],    G = [[1,    0,   0  ],    A^T = [[1, 1,  1,  0],
           [0,  1,  1,  0],         [1/2,  1/2, 1/2],           [0, 1, -1, -1]]
           [0, -1,  1,  0],         [1/2, -1/2, 1/2],
           [0,  1,  0, -1]]         [0,    0,   1  ]]

Summed over the input channels, the 16 elementwise products of a tile are 16 matrix products,
one per position k = 4a + b of the 4x4 transformed tile (row a, column b), over all tiles t at once:

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

How the transforms are laid out. Written tile by tile, a transform is 16 short loops over the
channels per tile (32 channels: two AVX-512 steps each) whose set-up costs more than their work:
the input transform took 13 ms of a 34 ms forward of (128, 32, 28x28) -> 64 channels at one
thread. So they run along a whole row of tiles at once (3-5 ms), on channels-last rows seen as
*pairs* of columns, P[j] = (x[2j], x[2j+1]), 2C values. B^T first combines the four input rows
(row a of B^T: d0 - d2, d1 + d2, d2 - d1, d1 - d3), row against row over the whole segment;
then B combines the columns of each such row r, and in pair form each of its outputs is one
loop over the segment, offset by C or 2C:

    VA[t] = P[t] - P[t+1]              = (r[2t] - r[2t+2]  | r[2t+1] - r[2t+3])  = (b = 0 | b = 3)
    VS[t] = (P[t].hi + P[t+1].lo | ..) = (r[2t+1] + r[2t+2] | unused)           = (b = 1 | -)
    VD[t] = (.. | P[t+1].lo - P[t].hi) = (unused | r[2t+2] - r[2t+1])           = (- | b = 2)

so V[4a + b] is a half of one of three (tiles, 2C) arrays: a matrix whose rows lie 2C apart,
which the BLAS reads as it is (kernels/fast/gemm.py). The products write M the same way,
(M[a, 0] | -M[a, 3]) and (M[a, 1] | M[a, 2]) (the minus folded into U), and the pair
(y[2t], y[2t+1]) is then A^T's row combination of the first plus a butterfly of the second. The
weight gradient's E = A dY A^T is built the same way from dY's rows (its signs folded into dU).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .gemm import matmul
from .layout import buffer
from .tile_rows import row_segment, segment

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])  # (4, 3)
# Tiles per chunk, a fixed number so the blocks are fixed too. Not a power of two: with 64
# channels a pair row is 512 bytes and 128 or 256 of them meet in the same cache sets (one
# thread, (64, 64, 32x32): forward 26 / 35 ms and weight gradient 44 / 42 ms at 128 / 256 tiles,
# 27 and 34 ms at 192; 32 and 128 channels took about the same at 128-384). Since F(4x4) took the
# large layers' forward and input gradient, this runs mostly their weight gradients, whose six
# pair arrays (V and E) per chunk fit the cache better at 96: a (128, 32, 28x28) -> 64 layer's
# forward + backward 0.937 / 0.958 of the time at 192 (one / two threads, paired, 7 blocks),
# (64, 64, 32x32) 0.942 / 0.944, (32, 128, 16x16) 1.015 / 0.978; the layers all on F(2x2)
# ((64, 32, 14x14) -> 32, (64, 16, 28x28) -> 32, (32, 32, 32x32) -> 32, two threads) 0.979-1.020.
TILES = 96
TILE = 2  # outputs along each side of a tile


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """U[k, c, co] = (G g G^T)[k] for each kernel g = w[co, c]: (C_out, C_in, 3, 3) -> (16, C_in, C_out),
    computed in float64 and rounded once. (As two float64 tensordots it took 3.7 ms for 128 x 128
    channels, the transposes and copies around two skinny products; this loop takes a tenth.)"""
    u = np.empty((16, w.shape[1], w.shape[0]), dtype=w.dtype)
    _kernel_transform(w, u)
    return u


def kernel_transform_adjoint(du: np.ndarray) -> np.ndarray:
    """dg = G^T dU G for each (c, co): (16, C_in, C_out) -> (C_out, C_in, 3, 3), in float64, rounded once."""
    dg = np.empty((du.shape[2], du.shape[1], 3, 3), dtype=du.dtype)
    _kernel_transform_adjoint(du, dg)
    return dg


@njit(nogil=True, cache=True)
def _kernel_transform(w, u):
    """u[4a + b, c, co] = (G g G^T)[a, b] of g = w[co, c], in float64: G g (4x3) row by row, then
    its rows times G^T the same way (G's rows: g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2)."""
    gg = np.empty((4, 3))
    for c in range(w.shape[1]):
        for co in range(w.shape[0]):
            g = w[co, c]
            for j in range(3):  # G g, column j
                g0, g1, g2 = np.float64(g[0, j]), np.float64(g[1, j]), np.float64(g[2, j])
                gg[0, j], gg[1, j], gg[2, j], gg[3, j] = g0, (g0 + g1 + g2) * 0.5, (g0 - g1 + g2) * 0.5, g2
            for a in range(4):  # (G g) G^T, row a
                h0, h1, h2 = gg[a, 0], gg[a, 1], gg[a, 2]
                u[4 * a, c, co] = h0
                u[4 * a + 1, c, co] = (h0 + h1 + h2) * 0.5
                u[4 * a + 2, c, co] = (h0 - h1 + h2) * 0.5
                u[4 * a + 3, c, co] = h2


@njit(nogil=True, cache=True)
def _kernel_transform_adjoint(du, dg):
    """dg[co, c] = G^T dU G of the 4x4 dU[:, c, co], in float64: G^T's rows are
    (1, 1/2, 1/2, 0), (0, 1/2, -1/2, 0), (0, 1/2, 1/2, 1)."""
    h = np.empty((4, 3))
    for c in range(du.shape[1]):
        for co in range(du.shape[2]):
            for a in range(4):  # dU G, row a
                d0, d1 = np.float64(du[4 * a, c, co]), np.float64(du[4 * a + 1, c, co])
                d2, d3 = np.float64(du[4 * a + 2, c, co]), np.float64(du[4 * a + 3, c, co])
                h[a, 0], h[a, 1], h[a, 2] = d0 + (d1 + d2) * 0.5, (d1 - d2) * 0.5, (d1 + d2) * 0.5 + d3
            for j in range(3):  # G^T (dU G), column j
                dg[co, c, 0, j] = h[0, j] + (h[1, j] + h[2, j]) * 0.5
                dg[co, c, 1, j] = (h[1, j] - h[2, j]) * 0.5
                dg[co, c, 2, j] = (h[1, j] + h[2, j]) * 0.5 + h[3, j]


# ---------------------------------------------------------------- the transforms (no GIL)

@njit(nogil=True, cache=True)
def _input_transform(x, top, left, t0, t1, tiles_h, tiles_w, stage, va, vs, vd):
    """V of the tiles t0:t1 of x (N, H, W, C) zero-padded by `top` rows and `left` columns (and
    zeros past its other edges, without a padded copy), into va, vs, vd (4, tiles * 2C): row a
    holds VA, VS, VD of B^T's row a (module docstring). stage: (8, (tiles_w + 1) * 2C) scratch."""
    c = x.shape[3]
    t = t0
    while t < t1:
        n, ti, j0, nt = segment(t, t1, tiles_h, tiles_w)
        i, j = 2 * ti - top, 2 * j0 - left
        width = 2 * nt + 2  # the columns the segment's tiles read
        size = width * c
        d0 = row_segment(x, n, i, j, width, stage[0])
        d1 = row_segment(x, n, i + 1, j, width, stage[1])
        d2 = row_segment(x, n, i + 2, j, width, stage[2])
        d3 = row_segment(x, n, i + 3, j, width, stage[3])
        o, m = (t - t0) * 2 * c, nt * 2 * c
        for a in range(4):
            r = stage[4 + a, :size]  # B^T's row a over the segment
            if a == 0:
                for f in range(size):
                    r[f] = d0[f] - d2[f]
            elif a == 1:
                for f in range(size):
                    r[f] = d1[f] + d2[f]
            elif a == 2:
                for f in range(size):
                    r[f] = d2[f] - d1[f]
            else:
                for f in range(size):
                    r[f] = d1[f] - d3[f]
            r0, r1, r2 = r[:m], r[c:c + m], r[2 * c:2 * c + m]  # P[t], P[t] shifted by one column, P[t+1]
            out_a, out_s, out_d = va[a, o:o + m], vs[a, o:o + m], vd[a, o:o + m]
            for f in range(m):
                out_a[f] = r0[f] - r2[f]  # (b = 0 | b = 3)
            for f in range(m):
                out_s[f] = r1[f] + r2[f]  # (b = 1 | unused)
            for f in range(m):
                out_d[f] = r1[f] - r0[f]  # (unused | b = 2)
        t += nt


@njit(nogil=True, cache=True)
def _output_transform(q1, q2, bias, t0, t1, tiles_h, tiles_w, stage, y):
    """y[n, 2i:2i+2, 2j:2j+2, :] = A^T M_t A (+ bias) for the tiles t in t0:t1, the parts inside
    y (N, H, W, C_out), from q1 = (M[a, 0] | -M[a, 3]) and q2 = (M[a, 1] | M[a, 2]), (4, tiles * 2 C_out).
    stage: (3, tiles_w * 2 C_out) scratch."""
    h, w, c = y.shape[1], y.shape[2], y.shape[3]
    t = t0
    while t < t1:
        n, ti, j0, nt = segment(t, t1, tiles_h, tiles_w)
        o, m = (t - t0) * 2 * c, nt * 2 * c
        for r in range(min(2, h - 2 * ti)):  # A^T's row r over a, then A over b
            z1, z2, out = stage[0, :m], stage[1, :m], stage[2, :m]
            a0, a1, a2, a3 = q1[0, o:o + m], q1[1, o:o + m], q1[2, o:o + m], q1[3, o:o + m]
            b0, b1, b2, b3 = q2[0, o:o + m], q2[1, o:o + m], q2[2, o:o + m], q2[3, o:o + m]
            if r == 0:
                for f in range(m):
                    z1[f] = a0[f] + a1[f] + a2[f]
                for f in range(m):
                    z2[f] = b0[f] + b1[f] + b2[f]
            else:
                for f in range(m):
                    z1[f] = a1[f] - a2[f] - a3[f]
                for f in range(m):
                    z2[f] = b1[f] - b2[f] - b3[f]
            for jt in range(nt):  # the butterfly: (M1 + M2 | M1 - M2), + bias once per output
                lo, hi = z2[2 * jt * c:(2 * jt + 1) * c], z2[(2 * jt + 1) * c:(2 * jt + 2) * c]
                s_lo, s_hi = out[2 * jt * c:(2 * jt + 1) * c], out[(2 * jt + 1) * c:(2 * jt + 2) * c]
                if bias is None:
                    for k in range(c):
                        s_lo[k] = lo[k] + hi[k]
                    for k in range(c):
                        s_hi[k] = lo[k] - hi[k]
                else:
                    for k in range(c):
                        s_lo[k] = lo[k] + hi[k] + bias[k]
                    for k in range(c):
                        s_hi[k] = lo[k] - hi[k] + bias[k]
            size = min(m, (w - 2 * j0) * c)  # an odd width: the last tile's second column is past y
            row = y[n, 2 * ti + r].reshape(w * c)[2 * j0 * c:2 * j0 * c + size]
            for f in range(size):
                row[f] = z1[f] + out[f]
        t += nt


@njit(nogil=True, cache=True)
def _output_transform_adjoint(dy, t0, t1, tiles_h, tiles_w, stage, ea, es, ed):
    """E = A dY_t A^T of the tiles t0:t1 of dy (N, H, W, C_out) (zeros past its edges), into
    ea, es, ed (4, tiles * 2 C_out): row a holds (E[a, 0] | E[a, 3]), (E[a, 1] | unused) and
    (E[a, 2] | unused), with E's row 3 and column 3 negated (the caller negates dU's back).
    stage: (4, tiles_w * 2 C_out) scratch."""
    c = dy.shape[3]
    t = t0
    while t < t1:
        n, ti, j0, nt = segment(t, t1, tiles_h, tiles_w)
        g0 = row_segment(dy, n, 2 * ti, 2 * j0, 2 * nt, stage[0])
        g1 = row_segment(dy, n, 2 * ti + 1, 2 * j0, 2 * nt, stage[1])
        o, m = (t - t0) * 2 * c, nt * 2 * c
        for a in range(4):  # A's row a over the two rows: g0, g0 + g1, g0 - g1, (-)g1
            if a == 0:
                g = g0
            elif a == 3:
                g = g1
            else:
                g = stage[a + 1, :m]
                if a == 1:
                    for f in range(m):
                        g[f] = g0[f] + g1[f]
                else:
                    for f in range(m):
                        g[f] = g0[f] - g1[f]
            out_a, out_s, out_d = ea[a, o:o + m], es[a, o:o + m - c], ed[a, o:o + m - c]
            for f in range(m):
                out_a[f] = g[f]  # (lo | (-)hi)
            g_next = g[c:]
            for f in range(m - c):
                out_s[f] = g[f] + g_next[f]  # (lo + hi | unused)
            for f in range(m - c):
                out_d[f] = g[f] - g_next[f]  # (lo - hi | unused)
        t += nt


@njit(nogil=True, cache=True)
def _correlate(x, top, left, u0, u3, u1, u2, bias, t0, t1, tiles_h, tiles_w, chunk, stage, va, vs, vd, q1, q2, y):
    """The forward over the tiles t0:t1, chunk by chunk of `chunk` tiles from t0: V, then per row
    a of B^T the four products M[a, b] = V[a, b] @ U[a, b] on the pair arrays' halves, then Y."""
    c_in, c_out = x.shape[3], y.shape[3]
    for c0 in range(t0, t1, chunk):
        c1 = min(c0 + chunk, t1)
        _input_transform(x, top, left, c0, c1, tiles_h, tiles_w, stage, va, vs, vd)
        rows, ld_in, ld_out = c1 - c0, 2 * c_in, 2 * c_out
        for a in range(4):
            matmul(va[a], ld_in, u0[a], c_out, q1[a], ld_out, rows, c_out, c_in, False)  # M[a, 0]
            matmul(va[a, c_in:], ld_in, u3[a], c_out, q1[a, c_out:], ld_out, rows, c_out, c_in, False)  # -M[a, 3]
            matmul(vs[a], ld_in, u1[a], c_out, q2[a], ld_out, rows, c_out, c_in, False)  # M[a, 1]
            matmul(vd[a, c_in:], ld_in, u2[a], c_out, q2[a, c_out:], ld_out, rows, c_out, c_in, False)  # M[a, 2]
        _output_transform(q1, q2, bias, c0, c1, tiles_h, tiles_w, stage, y)


@njit(nogil=True, cache=True)
def _weight_leaf(xp, dy, t0, t1, chunk, tiles_h, tiles_w, stage, va, vs, vd, ea, es, ed, du):
    """du[a, b] (C_in, C_out) = sum over the tiles t0:t1 of V[a, b]^T E[a, b], chunk by chunk from
    t0, each chunk's products added into du in turn (E's row and column 3 negated)."""
    c_in, c_out = xp.shape[3], dy.shape[3]
    ld_in, ld_out = 2 * c_in, 2 * c_out
    if t1 <= t0:  # no tiles (an empty batch): a sum of nothing
        du[...] = 0
    for c0 in range(t0, t1, chunk):
        c1 = min(c0 + chunk, t1)
        _input_transform(xp, 0, 0, c0, c1, tiles_h, tiles_w, stage, va, vs, vd)
        _output_transform_adjoint(dy, c0, c1, tiles_h, tiles_w, stage, ea, es, ed)
        rows, more = c1 - c0, c0 > t0
        for a in range(4):
            matmul(va[a], ld_in, ea[a], ld_out, du[a, 0], c_out, c_in, c_out, rows, True, more)
            matmul(va[a, c_in:], ld_in, ea[a, c_out:], ld_out, du[a, 3], c_out, c_in, c_out, rows, True, more)
            matmul(vs[a], ld_in, es[a], ld_out, du[a, 1], c_out, c_in, c_out, rows, True, more)
            matmul(vd[a, c_in:], ld_in, ed[a], ld_out, du[a, 2], c_out, c_in, c_out, rows, True, more)




# ---------------------------------------------------------------- what winograd.py calls

def _scratch(tiles_w: int, c_in: int, c_out: int, dtype) -> tuple:
    """This thread's scratch for one chunk: the row stage (8, (tiles_w + 1) 2 max(C_in, C_out)),
    the input side's three pair arrays (4, TILES 2 C_in) and the output side's three (4, TILES 2
    C_out) (the forward uses two of them: q1, q2)."""
    stage = buffer("wino_stage", (8, (tiles_w + 1) * 2 * max(c_in, c_out)), dtype)
    v = tuple(buffer(f"wino_v{i}", (4, TILES * 2 * c_in), dtype) for i in range(3))
    q = tuple(buffer(f"wino_q{i}", (4, TILES * 2 * c_out), dtype) for i in range(3))
    return stage, v, q


def prepare(u: np.ndarray) -> tuple:
    """U (16, C_in, C_out) -> the four stacks over a the products take: U[a, 0], -U[a, 3],
    U[a, 1], U[a, 2], each (4, C_in, C_out)."""
    u = u.reshape(4, 4, u.shape[1], u.shape[2])  # (a, b, C_in, C_out)
    return (np.ascontiguousarray(u[:, 0]), np.ascontiguousarray(-u[:, 3]),
            np.ascontiguousarray(u[:, 1]), np.ascontiguousarray(u[:, 2]))


def correlate_tiles(x, top: int, left: int, planes: tuple, bias, t0: int, t1: int, tiles_h: int, tiles_w: int,
                    y: np.ndarray) -> None:
    """The forward of the tiles t0:t1 (whole chunks of TILES from t0) into y, in this thread."""
    stage, (va, vs, vd), (q1, q2, _) = _scratch(tiles_w, x.shape[3], y.shape[3], x.dtype)
    _correlate(x, top, left, *planes, bias, t0, t1, tiles_h, tiles_w, TILES, stage, va, vs, vd, q1, q2, y)


def weight_sums(xp: np.ndarray, dy: np.ndarray, t0: int, t1: int, tiles_h: int, tiles_w: int) -> np.ndarray:
    """dU (4, 4, C_in, C_out) summed over the tiles t0:t1, chunk by chunk, in this thread (E's
    row and column 3 without their minus signs: weight_from_sums puts them back)."""
    c_in, c_out = xp.shape[3], dy.shape[3]
    stage, (va, vs, vd), (ea, es, ed) = _scratch(tiles_w, c_in, c_out, xp.dtype)
    du = np.empty((4, 4, c_in, c_out), dtype=xp.dtype)
    _weight_leaf(xp, dy, t0, t1, TILES, tiles_h, tiles_w, stage, va, vs, vd, ea, es, ed, du)
    return du


def weight_from_sums(du: np.ndarray) -> np.ndarray:
    """dw (C_out, C_in, 3, 3) = G^T dU G from the summed weight_sums."""
    du[3] *= -1  # E's row 3 and column 3 were built without their minus signs
    du[:, 3] *= -1
    return kernel_transform_adjoint(du.reshape(16, du.shape[2], du.shape[3]))
