"""Winograd's F(4x4, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
2016): the tiles, transforms and products of kernels/fast/winograd.py's forward and input
gradient for layers with many channels (winograd.tiles_for).

Each 4x4 block of outputs is computed from a 6x6 tile d of the padded input (neighbouring tiles
overlap by two) and a 3x3 kernel g as

    Y = A^T [ (G g G^T) (.) (B^T d B) ] A              (.) elementwise, 6x6

    B^T = [[4,  0, -5,  0, 1, 0],    G = [[ 1/4,     0,    0 ],    A^T = [[1, 1,  1, 1,  1, 0],
           [0, -4, -4,  1, 1, 0],         [-1/6,  -1/6, -1/6 ],           [0, 1, -1, 2, -2, 0],
           [0,  4, -4, -1, 1, 0],         [-1/6,   1/6, -1/6 ],           [0, 1,  1, 4,  4, 0],
           [0, -2, -1,  2, 1, 0],         [1/24,  1/12,  1/6 ],           [0, 1, -1, 8, -8, 1]]
           [0,  2, -1, -2, 1, 0],         [1/24, -1/12,  1/6 ],
           [0,  4,  0, -5, 0, 1]]         [   0,     0,    1 ]]

(the interpolation points 0, 1, -1, 2, -2 and infinity). As in F(2x2, 3x3) the 36 elementwise
products, summed over the channels, are 36 matrix products over all tiles of a chunk at once:

    forward      M[k] (tiles, C_out) = V[k] (tiles, C_in) @ U[k] (C_in, C_out),   k = 6a + b,
                 V[k, t] = (B^T d_t B)[a, b],  U[k, c, co] = (G g[co, c] G^T)[a, b];  Y_t = A^T M_t A.

That is 36 multiply-adds per 16 outputs and channel pair (2.25 per output; F(2x2): 4, the direct
sum: 9). The price is accuracy: B^T and A^T multiply by up to 5 and 8 where F(2x2)'s only add
and halve, so the float32 error grows from about 3e-7 to 5e-6 - 8e-6 of the largest value
(PyTorch's own: 2e-7 - 5e-7; measured against float64 in tests/kernels/fast/test_winograd.py and
docs/benchmarks.md), still within the parity tests' 1e-4. The weight gradient stays with F(2x2):
by F(4x4) its sum over every tile (dU = sum V^T E, E = A dY A^T) missed the parity tolerance on
a 17x17 test layer (error 3e-6 of the largest value, 2e-4 on a value of 0.79).

How the transforms are laid out: in two passes over each run of tiles in one tile row
(tile_rows.segment). The first combines whole input rows, row against row over the run (B^T's
six rows of the six input rows d0..d5: one flat loop over (4 tiles + 2) x C values); the second
combines the six columns of each tile, a loop over its C channels per tile and row, and writes
V[6a + b] as (tiles, C) matrices the BLAS reads as they are (kernels/fast/gemm.py). The output
transform does the same the other way round: A^T over M's rows a (flat over the run), then A
over the columns b, tile by tile, into y's rows (+ the bias). (Both passes of a tile in one loop
over its channels were slower: LLVM did not vectorise a loop with 36 separate outputs.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .gemm import matmul
from .layout import buffer
from .tile_rows import row_segment, segment

G = np.array([[1 / 4, 0, 0], [-1 / 6, -1 / 6, -1 / 6], [-1 / 6, 1 / 6, -1 / 6],
              [1 / 24, 1 / 12, 1 / 6], [1 / 24, -1 / 12, 1 / 6], [0, 0, 1]])  # (6, 3)
TILE = 4  # outputs along each side of a tile
# Tiles per chunk, a fixed number so the blocks are fixed too: V and M of a chunk with 64
# channels, 36 x 60 x 64 float32 each, stay in the 2 MiB L2 cache.
TILES = 60
# B^T's and A^T's coefficients as float32: numba would compute float32 x int in float64
_2, _4, _5, _8 = np.float32(2), np.float32(4), np.float32(5), np.float32(8)


@njit(inline="always")
def _bt6(x0, x1, x2, x3, x4, x5):
    """B^T (x0, ..., x5): B^T's six rows written out, sharing their common terms (rows 1, 2: p -/+ q;
    rows 3, 4: s +/- e)."""
    p, q = x4 - _4 * x2, _4 * x1 - x3
    s, e = x4 - x2, _2 * (x3 - x1)
    return _4 * x0 - _5 * x2 + x4, p - q, p + q, s + e, s - e, _4 * x1 - _5 * x3 + x5


@njit(inline="always")
def _at4(m0, m1, m2, m3, m4, m5):
    """A^T (m0, ..., m5): A^T's four rows written out, sharing their common terms."""
    s, d = m1 + m2, m1 - m2
    s2, d2 = m3 + m4, m3 - m4
    return m0 + s + s2, d + _2 * d2, s + _4 * s2, d + _8 * d2 + m5


def kernel_transform(w: np.ndarray) -> np.ndarray:
    """U[6a + b, c, co] = (G g G^T)[a, b] for each kernel g = w[co, c]: (C_out, C_in, 3, 3) ->
    (36, C_in, C_out), computed in float64 and rounded once."""
    u = np.empty((36, w.shape[1], w.shape[0]), dtype=w.dtype)
    _kernel_transform(np.ascontiguousarray(w.transpose(1, 0, 2, 3)), u)  # (C_in, C_out, 3, 3): read in that order
    return u


_SIXTH, _TWELFTH, _24TH = 1 / 6, 1 / 12, 1 / 24  # multiplied by: a float64 division takes several times longer


@njit(inline="always")
def _g6(g0, g1, g2):
    """G (g0, g1, g2): G's six rows written out, sharing their common terms (float64)."""
    s, p, q = g0 + g2, g0 * _24TH + g2 * _SIXTH, g1 * _TWELFTH
    return g0 * 0.25, -(s + g1) * _SIXTH, -(s - g1) * _SIXTH, p + q, p - q, g2


@njit(nogil=True, cache=True)
def _kernel_transform(wt, u):
    """u[6a + b, c, co] = (G g G^T)[a, b] of g = wt[c, co], in float64: G applied to g's three
    columns, then to the six rows of the result. Computed for 16 output channels at a time and
    stored plane by plane: U's 36 planes lie a multiple of 4 KiB apart for 32 or more channels,
    so stores to all 36 at once kept evicting each other from the cache (128 x 128 channels: 1.6 ms)."""
    block = np.empty((36, 16))
    for c in range(wt.shape[0]):
        for co0 in range(0, wt.shape[1], 16):
            width = min(16, wt.shape[1] - co0)
            for j in range(width):
                g = wt[c, co0 + j]
                # G g: column j of g -> column j of the 6x3 product
                a0, b0, c0, d0, e0, f0 = _g6(np.float64(g[0, 0]), np.float64(g[1, 0]), np.float64(g[2, 0]))
                a1, b1, c1, d1, e1, f1 = _g6(np.float64(g[0, 1]), np.float64(g[1, 1]), np.float64(g[2, 1]))
                a2, b2, c2, d2, e2, f2 = _g6(np.float64(g[0, 2]), np.float64(g[1, 2]), np.float64(g[2, 2]))
                # (G g) G^T: row a of G g -> row a of U
                for a, (h0, h1, h2) in enumerate(((a0, a1, a2), (b0, b1, b2), (c0, c1, c2),
                                                  (d0, d1, d2), (e0, e1, e2), (f0, f1, f2))):
                    v0, v1, v2, v3, v4, v5 = _g6(h0, h1, h2)
                    block[6 * a, j], block[6 * a + 1, j], block[6 * a + 2, j] = v0, v1, v2
                    block[6 * a + 3, j], block[6 * a + 4, j], block[6 * a + 5, j] = v3, v4, v5
            for k in range(36):
                row = u[k, c]
                for j in range(width):
                    row[co0 + j] = block[k, j]


# ---------------------------------------------------------------- the transforms (no GIL)

@njit(nogil=True, cache=True)
def _input_transform(x, top, left, t0, t1, tiles_h, tiles_w, stage, v):
    """v[6a + b, t - t0] (C_in,) = (B^T d_t B)[a, b] for the tiles t0:t1 of x (N, H, W, C_in)
    zero-padded by `top` rows and `left` columns (and zeros past its other edges, without a padded
    copy). stage: (12, (4 tiles_w + 2) C_in) scratch, the six input rows and B^T's six rows."""
    c = x.shape[3]
    t = t0
    while t < t1:
        n, ti, j0, nt = segment(t, t1, tiles_h, tiles_w)
        i, j = 4 * ti - top, 4 * j0 - left
        width = 4 * nt + 2  # the columns the run's tiles read
        size = width * c
        d0 = row_segment(x, n, i, j, width, stage[0])
        d1 = row_segment(x, n, i + 1, j, width, stage[1])
        d2 = row_segment(x, n, i + 2, j, width, stage[2])
        d3 = row_segment(x, n, i + 3, j, width, stage[3])
        d4 = row_segment(x, n, i + 4, j, width, stage[4])
        d5 = row_segment(x, n, i + 5, j, width, stage[5])
        r0, r1, r2 = stage[6, :size], stage[7, :size], stage[8, :size]
        r3, r4, r5 = stage[9, :size], stage[10, :size], stage[11, :size]
        for f in range(size):  # B^T d, B^T's rows against the input rows
            r0[f], r1[f], r2[f], r3[f], r4[f], r5[f] = _bt6(d0[f], d1[f], d2[f], d3[f], d4[f], d5[f])
        o = t - t0
        for a in range(6):  # (B^T d) B, the six columns of each tile
            r = stage[6 + a]
            for k in range(nt):
                at = 4 * k * c  # the tile's first column
                x0, x1, x2 = r[at:at + c], r[at + c:at + 2 * c], r[at + 2 * c:at + 3 * c]
                x3, x4, x5 = r[at + 3 * c:at + 4 * c], r[at + 4 * c:at + 5 * c], r[at + 5 * c:at + 6 * c]
                v0, v1, v2 = v[6 * a, o + k], v[6 * a + 1, o + k], v[6 * a + 2, o + k]
                v3, v4, v5 = v[6 * a + 3, o + k], v[6 * a + 4, o + k], v[6 * a + 5, o + k]
                for f in range(c):
                    v0[f], v1[f], v2[f], v3[f], v4[f], v5[f] = _bt6(x0[f], x1[f], x2[f], x3[f], x4[f], x5[f])
        t += nt


@njit(nogil=True, cache=True)
def _output_transform(m, bias, t0, t1, tiles_h, tiles_w, stage, y):
    """y[n, 4i + r, 4j + col] = (A^T M_t A)[r, col] (+ bias) for the tiles t0:t1, the parts inside
    y (N, H, W, C_out), from m (36, tiles, C_out). stage: (25, tiles_w C_out) scratch."""
    h, w, c = y.shape[1], y.shape[2], y.shape[3]
    t = t0
    while t < t1:
        n, ti, j0, nt = segment(t, t1, tiles_h, tiles_w)
        o, size = t - t0, nt * c
        for b in range(6):  # A^T M: z[r, b] = row r of A^T against M's rows, flat over the run
            m0, m1 = m[b, o:o + nt].reshape(size), m[6 + b, o:o + nt].reshape(size)
            m2, m3 = m[12 + b, o:o + nt].reshape(size), m[18 + b, o:o + nt].reshape(size)
            m4, m5 = m[24 + b, o:o + nt].reshape(size), m[30 + b, o:o + nt].reshape(size)
            z0, z1, z2, z3 = stage[b, :size], stage[6 + b, :size], stage[12 + b, :size], stage[18 + b, :size]
            for f in range(size):
                z0[f], z1[f], z2[f], z3[f] = _at4(m0[f], m1[f], m2[f], m3[f], m4[f], m5[f])
        spare = stage[24]  # a tile reaching past y's right edge is written here first
        for r in range(min(4, h - 4 * ti)):  # (A^T M) A, tile by tile, into y's row 4 ti + r
            row = y[n, 4 * ti + r].reshape(w * c)
            zr = stage[6 * r:6 * r + 6]
            for k in range(nt):
                cols = min(4, w - 4 * (j0 + k))
                z0, z1, z2 = zr[0, k * c:(k + 1) * c], zr[1, k * c:(k + 1) * c], zr[2, k * c:(k + 1) * c]
                z3, z4, z5 = zr[3, k * c:(k + 1) * c], zr[4, k * c:(k + 1) * c], zr[5, k * c:(k + 1) * c]
                at = 4 * (j0 + k) * c
                out = row[at:at + 4 * c] if cols == 4 else spare[:4 * c]
                y0, y1, y2, y3 = out[:c], out[c:2 * c], out[2 * c:3 * c], out[3 * c:]
                if bias is None:
                    for f in range(c):
                        y0[f], y1[f], y2[f], y3[f] = _at4(z0[f], z1[f], z2[f], z3[f], z4[f], z5[f])
                else:
                    for f in range(c):
                        a0, a1, a2, a3 = _at4(z0[f], z1[f], z2[f], z3[f], z4[f], z5[f])
                        y0[f], y1[f], y2[f], y3[f] = a0 + bias[f], a1 + bias[f], a2 + bias[f], a3 + bias[f]
                if cols < 4:
                    dst = row[at:at + cols * c]
                    for f in range(cols * c):
                        dst[f] = out[f]
        t += nt


@njit(nogil=True, cache=True)
def _correlate(x, top, left, u, bias, t0, t1, tiles_h, tiles_w, chunk, stage, v, m, y):
    """The forward over the tiles t0:t1, chunk by chunk of `chunk` tiles from t0: V, the 36
    products M[k] = V[k] @ U[k], then Y."""
    c_in, c_out = x.shape[3], y.shape[3]
    for c0 in range(t0, t1, chunk):
        c1 = min(c0 + chunk, t1)
        _input_transform(x, top, left, c0, c1, tiles_h, tiles_w, stage, v)
        for k in range(36):
            matmul(v[k], c_in, u[k], c_out, m[k], c_out, c1 - c0, c_out, c_in, False)
        _output_transform(m, bias, c0, c1, tiles_h, tiles_w, stage, y)


# ---------------------------------------------------------------- what winograd.py calls

def _scratch(tiles_w: int, c_in: int, c_out: int, dtype) -> tuple:
    """This thread's scratch for one chunk: the row stage (25, (4 tiles_w + 2) max(C_in, C_out)),
    V (36, TILES, C_in) and M (36, TILES, C_out)."""
    stage = buffer("wino4_stage", (25, (4 * tiles_w + 2) * max(c_in, c_out)), dtype)
    return stage, buffer("wino4_v", (36, TILES, c_in), dtype), buffer("wino4_m", (36, TILES, c_out), dtype)


def prepare(u: np.ndarray) -> np.ndarray:
    """U as the products take it: (36, C_in, C_out) as it is."""
    return u


def correlate_tiles(x, top: int, left: int, u: np.ndarray, bias, t0: int, t1: int, tiles_h: int, tiles_w: int,
                    y: np.ndarray) -> None:
    """The forward of the tiles t0:t1 (whole chunks of TILES from t0) into y, in this thread."""
    stage, v, m = _scratch(tiles_w, x.shape[3], y.shape[3], x.dtype)
    _correlate(x, top, left, u, bias, t0, t1, tiles_h, tiles_w, TILES, stage, v, m, y)
