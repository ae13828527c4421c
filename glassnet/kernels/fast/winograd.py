"""3x3 stride-1 convolution by Winograd's minimal filtering (Lavin & Gray, "Fast Algorithms for
Convolutional Neural Networks", 2016): kernels/conv.py takes it, by size, for the forward, the
input gradient and the weight gradient.

F(m x m, 3x3) computes an m x m block of outputs from an (m + 2) x (m + 2) tile d of the padded
input and a 3x3 kernel g as Y = A^T [ (G g G^T) (.) (B^T d B) ] A, with (.) elementwise: summed
over the input channels, the (m + 2)^2 elementwise products of a tile become (m + 2)^2 matrix
products over all the tiles of a chunk at once, V[k] (tiles, C_in) @ U[k] (C_in, C_out). Two
tile sizes, each in its own module with its matrices and transforms:

    winograd_f2.py   F(2x2, 3x3): 16 products per 4 outputs, transforms that only add and halve
    winograd_f4.py   F(4x4, 3x3): 36 products per 16 outputs, transforms with factors up to 8

tiles_for picks the forward's and the input gradient's by the layer's channels: with
C_in x C_out >= F4_MIN_CHANNEL_PAIRS the products are most of the time and F(4x4) makes 0.56x
as many; with fewer, the transforms are, and F(4x4)'s cost more per output (measured in
docs/benchmarks.md). The weight gradient always takes F(2x2): F(4x4)'s float32 error, larger
(winograd_f4.py), missed the parity tolerance there.

The three sums:

    forward      correlate(xp, U): V from the input's tiles, M[k] = V[k] @ U[k], Y_t = A^T M_t A.
    input grad   the full correlation of dY with the 180-degree-rotated kernels (seed 003) is the
                 forward itself on dY zero-padded by 2 (by 2 - p for the input's own positions
                 under a zero padding p), kernels rotated and C_in, C_out swapped.
    weight grad  the adjoint of the forward in g: dU[k] = sum over tiles of V[k]^T E[k] with
                 E = A dY_t A^T, then dg = G^T dU G.

Fixed blocks (kernels/fast/blocks.py): the tiles (n, i, j), numbered n tiles_h tiles_w + i tiles_w + j,
are taken in chunks of the tile module's TILES, each chunk one set of products, and threads get
whole chunks; the weight gradient sums runs of chunks (leaves of a size set by the shape) along
the fixed tree. So the bytes do not depend on the thread count here either.
"""

from __future__ import annotations

import math

import numpy as np

from ..windows import move_channels_first, pad_backward
from . import allocator, blocks, winograd_f2, winograd_f4
from .threads import split_batch

# Chosen where it measured faster than im2col + GEMM (one thread, paired, CPU time;
# `python benchmarks/bench_winograd.py`, docs/benchmarks.md): a product between at least MIN_IN
# channels and at least MIN_OUT, over at least MIN_POSITIONS input positions (N x H x W). With
# 16-128 channels and 2048 positions or more, forward + backward took 0.67-0.92 of im2col's time;
# with fewer positions the products have too few tiles to run near the BLAS's peak (1024: 0.87
# and 0.98; 196-512 positions: 1.14-2.4, worst with 128-256 channels, whose direct GEMMs are long).
MIN_IN, MIN_OUT = 16, 16
MIN_POSITIONS = 2048
# F(4x4, 3x3) from this many channel pairs C_in x C_out (one thread, CPU time of the forward /
# the input gradient against F(2x2, 3x3)'s, `python benchmarks/bench_winograd.py --reps 7`:
# 32 x 64 channels on 28x28 maps 0.82 / 0.81, 64 x 64 0.78-0.85 / 0.76-0.82, 128 x 128 0.69 / 0.65;
# 32 x 32 on 14x14 maps 1.22 / 1.15, 16 x 32 on 28x28 1.04 / 1.01, 16 x 16 on 14x14 1.26 / 1.32).
F4_MIN_CHANNEL_PAIRS = 2048


def worthwhile(x_shape, w_shape, stride, dilation, groups: int, dtype) -> bool:
    """Whether kernels/conv.py takes this path for a product with weight w_shape (C_out, C_in, k...)
    (for the input gradient: (C_in, C_out, k...), the channels swapped): a 2-D 3x3 kernel at
    stride 1 and dilation 1, one group, float32 (float64 stays on the direct sums: it is the
    reference), at least MIN_IN channels in and MIN_OUT out, and at least MIN_POSITIONS input
    positions (N x H x W, about the output's at stride 1)."""
    return (len(w_shape) == 4 and tuple(w_shape[2:]) == (3, 3) and tuple(stride) == (1, 1)
            and tuple(dilation) == (1, 1) and groups == 1 and np.dtype(dtype) == np.float32
            and w_shape[1] >= MIN_IN and w_shape[0] >= MIN_OUT
            and math.prod(x_shape[:1] + tuple(x_shape[2:])) >= MIN_POSITIONS)


def tiles_for(c_in: int, c_out: int):
    """The tile module (winograd_f2 or winograd_f4) of the forward and the input gradient of a
    layer with these channel counts (the same for both: symmetric in C_in and C_out)."""
    return winograd_f4 if c_in * c_out >= F4_MIN_CHANNEL_PAIRS else winograd_f2


def _tile_grid(out_shape, tile: int) -> tuple[int, int]:
    """(tiles_h, tiles_w): tiles of tile x tile outputs covering an output of out_shape (H, W)."""
    return -(-out_shape[0] // tile), -(-out_shape[1] // tile)


def correlate(x: np.ndarray, u: np.ndarray, bias: np.ndarray | None = None,
              pads=((0, 0), (0, 0))) -> np.ndarray:
    """3x3 stride-1 correlation of the channels-last x (N, H, W, C_in), zero-padded by
    pads = ((top, bottom), (left, right)) (read in place, no padded copy), with U = the tile
    module's kernel_transform(w) ((16 or 36, C_in, C_out): it says which tiles) -> channels-last
    y (N, H + top + bottom - 2, W + left + right - 2, C_out), + bias."""
    (top, bottom), (left, right) = pads
    n, h, w, c_in = x.shape
    tiles = winograd_f4 if u.shape[0] == 36 else winograd_f2
    y = allocator.empty((n, h + top + bottom - 2, w + left + right - 2, u.shape[2]), x.dtype)
    tiles_h, tiles_w = _tile_grid(y.shape[1:3], tiles.TILE)
    total, chunk = n * tiles_h * tiles_w, tiles.TILES
    planes = tiles.prepare(u)

    def work(b0, b1):  # tile chunks b0:b1, in one thread
        tiles.correlate_tiles(x, top, left, planes, bias, b0 * chunk, min(b1 * chunk, total), tiles_h, tiles_w, y)

    split_batch(blocks.count(total, chunk), work, total > 1)
    return y


def input_grad(dy: np.ndarray, w: np.ndarray, pads=((2, 2), (2, 2))) -> np.ndarray:
    """The input gradient of the forward with kernels w (C_out, C_in, 3, 3), from the channels-last
    dy (N, H, W, C_out): the forward on dy zero-padded by pads = ((top, bottom), (left, right)),
    with the kernels rotated by 180 degrees and their channels swapped (seed 003's
    dA = sum_h rot180(W_h) * dZ_h). Padded by 2 everywhere it is the gradient of the whole
    padded input (N, H + 2, W + 2, C_in); padded by 2 - p for a zero padding p, that of the
    input's own positions."""
    rotated = np.flip(w, axis=(2, 3)).swapaxes(0, 1)  # (C_in, C_out, 3, 3)
    return correlate(dy, tiles_for(w.shape[1], w.shape[0]).kernel_transform(rotated), None, pads)


def conv_forward(xp: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """The forward of a 3x3 stride-1 convolution: the padded channels-last xp (N, Hp, Wp, C_in)
    with w (C_out, C_in, 3, 3) -> channels-last y (N, Hp - 2, Wp - 2, C_out), + bias."""
    return correlate(xp, tiles_for(w.shape[1], w.shape[0]).kernel_transform(w), bias)


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
    tiles dU[k] = V[k]^T E[k], added up within a leaf (a run of chunks) and the leaves along the
    fixed tree, then dw = G^T dU G. By F(2x2, 3x3) at any size (module docstring)."""
    tiles = winograd_f2
    tiles_h, tiles_w = _tile_grid(dy.shape[1:3], tiles.TILE)
    total, chunk = xp.shape[0] * tiles_h * tiles_w, tiles.TILES
    # a leaf of the fixed tree is a run of chunks (about blocks.TARGET_BLOCKS leaves): fewer
    # partial sums to hold and add than one per chunk, and the same for any thread count
    per_leaf = chunk * max(-(-blocks.count(total, chunk) // blocks.TARGET_BLOCKS), 1)

    def leaf(i):  # [dU] of the tiles of leaf i
        return [tiles.weight_sums(xp, dy, i * per_leaf, min((i + 1) * per_leaf, total), tiles_h, tiles_w)]

    du = blocks.blocked_sum(max(blocks.count(total, per_leaf), 1), leaf,
                            lambda count, work: split_batch(count, work, total > 1))[0]
    return tiles.weight_from_sums(du)
