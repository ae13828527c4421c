"""Unshared and tiled convolution in N dimensions: forward and hand-written backward.

A locally connected (unshared) layer is a convolution whose kernel may differ at every output
position p (seed 001, "unshared convolution"):

    y[n, o, p] = sum_{c, j} W[p, o, c, j] * x_windows[n, c, p, j]  (+ b[o] or b[p, o])

Tiled convolution (Goodfellow et al. 2016, section 9.5) sits between the two: each output
channel owns t_1 x ... x t_D kernels, and output position p = (p_1, ..., p_D) uses the kernel
number (p_1 mod t_1, ..., p_D mod t_D). With t = 1 it is ordinary convolution; with t = output
size it is the locally connected layer. This module implements that one mechanism, and the
locally connected layer is simply `tiles = output shape`.

How it is computed. Split every output coordinate as p_i = a_i t_i + r_i (tile index r_i, tile
repetition a_i). Positions with the same r share one kernel, so the window matrix is grouped by
r and each group is one matrix product:

    cols[r] : (M N, C K)   windows of all positions with tile index r, all samples
    W[r]    : (C K, O)
    y[r]    = cols[r] @ W[r]                 one batched matmul over the T = prod(t) tiles

T = 1 is the familiar im2col + GEMM of convolution; T = number of positions is one small GEMM
per position. When t_i does not divide the output size, the output grid is rounded up to a
multiple of t_i (extra zero padding at the high end) and the surplus outputs are cropped.

Layouts (D spatial dimensions, G groups):
    x      (N, C, *in)
    weight (*tiles, O, C / G, *k)     a full conv weight per tile (per position when unshared)
    bias   (O,) shared by all positions, or (*tiles, O) one per tile (per position)
    y      (N, O, *out), out_i = floor((in_i + p_lo + p_hi - d_i (k_i - 1) - 1) / s_i) + 1
"""

from __future__ import annotations

import math

import numpy as np

from .fast.threads import single_threaded_blas
from .sizes import check_window_fits, output_shape, positive_tuple, resolve_padding, windows_span
from .windows import pad, pad_backward, sliding_windows

__all__ = ["tiled_forward", "tiled_backward", "local_forward", "local_backward", "local_output_shape",
           "scatter_windows"]


def _geometry(x_shape, w_shape, nd, stride, padding, dilation, groups, tiles, what):
    """Normalise the options; returns everything forward/backward need. The shapes, dtypes, bias
    and groups are checked by glassnet.functional.local, once per call; these kernels trust them."""
    tiles = tuple(w_shape[:nd]) if tiles is None else positive_tuple(tiles, nd, "tiles")
    if tuple(w_shape[:nd]) != tiles:
        raise ValueError(f"{what} expected weight with leading tile dims {tiles}, got {tuple(w_shape)}")
    out_channels, cin_g = w_shape[nd], w_shape[nd + 1]
    kernel_size = tuple(w_shape[nd + 2:])
    stride = positive_tuple(stride, nd, "stride")
    dilation = positive_tuple(dilation, nd, "dilation")
    spatial = tuple(x_shape[2:])
    pads = resolve_padding(padding, kernel_size, stride, dilation, spatial)
    check_window_fits(spatial, kernel_size, pads, dilation)
    out = output_shape(spatial, kernel_size, stride, pads, dilation)
    reps = tuple(-(-o // t) for o, t in zip(out, tiles))  # a_i ranges over ceil(out_i / t_i)
    return dict(nd=nd, tiles=tiles, kernel_size=kernel_size, stride=stride, dilation=dilation,
                groups=groups, pads=pads, out=out, reps=reps, out_channels=out_channels, cin_g=cin_g)


def local_output_shape(input_shape, kernel_size, stride=1, padding=0, dilation=1) -> tuple[int, ...]:
    """Spatial output shape of a sliding window over `input_shape` (the grid of a locally
    connected weight: its leading dims)."""
    nd = len(input_shape)
    k = positive_tuple(kernel_size, nd, "kernel_size")
    s, d = positive_tuple(stride, nd, "stride"), positive_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, s, d, input_shape)
    check_window_fits(input_shape, k, pads, d)
    return output_shape(input_shape, k, s, pads, d)


def _extended_input(x, g, padding_mode):
    """Pad x as asked, then with zeros at the high end so that the rounded-up grid of
    reps * tiles outputs fits (those extra outputs are cropped)."""
    xp = pad(x, g["pads"], padding_mode)
    extra = []
    for n, r, t, k, s, d in zip(xp.shape[2:], g["reps"], g["tiles"], g["kernel_size"], g["stride"],
                                g["dilation"]):
        need = windows_span(r * t, k, s, d)
        extra.append((0, max(need - n, 0)))
    return xp, pad(xp, tuple(extra), "zeros")


def _columns(xe, g):
    """Window matrix grouped by tile: (T, G, M N, C/G K)."""
    nd, tiles, reps = g["nd"], g["tiles"], g["reps"]
    n, c = xe.shape[:2]
    grid = tuple(r * t for r, t in zip(reps, tiles))
    win = sliding_windows(xe, g["kernel_size"], g["stride"], g["dilation"], grid)  # (N, C, *grid, *k)
    split = (n, g["groups"], g["cin_g"]) + tuple(v for rt in zip(reps, tiles) for v in rt) + g["kernel_size"]
    win = win.reshape(split)  # (N, G, C/G, a_1, r_1, ..., a_D, r_D, *k), still a view
    a_axes = tuple(3 + 2 * i for i in range(nd))
    r_axes = tuple(4 + 2 * i for i in range(nd))
    k_axes = tuple(3 + 2 * nd + i for i in range(nd))
    order = r_axes + (1,) + a_axes + (0, 2) + k_axes  # (*t, G, *a, N, C/G, *k)
    T, M, K = math.prod(tiles), math.prod(reps), math.prod(g["kernel_size"])
    return np.ascontiguousarray(win.transpose(order)).reshape(T, g["groups"], M * n, g["cin_g"] * K)


def _tile_weights(w, g):
    """(*t, O, C/G, *k) -> (T, G, C/G K, O/G), the right operand of the per-tile matmul."""
    T, G = math.prod(g["tiles"]), g["groups"]
    w = w.reshape(T, G, g["out_channels"] // G, -1)  # (T, G, O/G, C/G K)
    return w.transpose(0, 1, 3, 2)  # (T, G, C/G K, O/G)


def _to_output(yt, g, n):
    """(T, G, M N, O/G) -> (N, O, *out): undo the tile grouping and crop the rounded-up grid."""
    nd, tiles, reps = g["nd"], g["tiles"], g["reps"]
    y = yt.reshape(tiles + (g["groups"],) + reps + (n, -1))  # (*t, G, *a, N, O/G)
    order = (nd + 1 + nd, nd, nd + 2 + nd) + tuple(v for i in range(nd) for v in (nd + 1 + i, i))
    y = y.transpose(order)  # (N, G, O/G, a_1, r_1, ..., a_D, r_D)
    y = y.reshape((n, g["out_channels"]) + tuple(r * t for r, t in zip(reps, tiles)))  # (N, O, *grid)
    return y[(Ellipsis,) + tuple(slice(0, o) for o in g["out"])]


def _from_output(dy, g):
    """Adjoint of _to_output: (N, O, *out) -> (T, G, M N, O/G), zeros on the cropped grid."""
    nd, tiles, reps = g["nd"], g["tiles"], g["reps"]
    n = dy.shape[0]
    grid = tuple(r * t for r, t in zip(reps, tiles))
    if grid != tuple(g["out"]):
        dy = pad(dy, tuple((0, m - o) for m, o in zip(grid, g["out"])), "zeros")
    split = (n, g["groups"], g["out_channels"] // g["groups"]) + tuple(
        v for rt in zip(reps, tiles) for v in rt)
    d = dy.reshape(split)  # (N, G, O/G, a_1, r_1, ..., a_D, r_D)
    order = tuple(4 + 2 * i for i in range(nd)) + (1,) + tuple(3 + 2 * i for i in range(nd)) + (0, 2)
    T, M = math.prod(tiles), math.prod(reps)
    return np.ascontiguousarray(d.transpose(order)).reshape(T, g["groups"], M * n, -1)  # (T, G, M N, O/G)


def scatter_windows(dwin: np.ndarray, padded_shape, kernel_size, stride, dilation) -> np.ndarray:
    """Adjoint of `sliding_windows`: add window gradients (N, C, *out, *k) back onto the padded
    input (N, C, *padded). Overlapping windows add up. The loop runs over the prod(k) kernel
    offsets (never over pixels): offset j touches xp[..., j d + s * arange(out)] for every window.
    """
    nd = len(kernel_size)
    out = dwin.shape[2:2 + nd]
    dxp = np.zeros(tuple(padded_shape), dtype=dwin.dtype)
    for j in np.ndindex(*kernel_size):
        index = tuple(slice(ji * d, ji * d + (o - 1) * s + 1, s)
                      for ji, d, o, s in zip(j, dilation, out, stride))
        dxp[(Ellipsis,) + index] += dwin[(Ellipsis,) + j]
    return dxp


def tiled_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                  dilation=1, groups: int = 1, padding_mode: str = "zeros", tiles=None) -> np.ndarray:
    """Tiled convolution. x (N, C, *in), w (*tiles, O, C/G, *k), bias (O,) or (*tiles, O) -> (N, O, *out).

    y[n, o, p] = sum_{c, j} w[p mod t, o, c, j] * xp[n, c, p s + j d] + b
    (c runs over the input channels of o's group). `tiles`, if given, is checked against w.
    """
    nd = w.ndim // 2 - 1
    g = _geometry(x.shape, w.shape, nd, stride, padding, dilation, groups, tiles, "tiled convolution")
    _, xe = _extended_input(x, g, padding_mode)
    with single_threaded_blas():  # OpenBLAS at one thread inside glassnet's calls (fast/threads.py)
        yt = np.matmul(_columns(xe, g), _tile_weights(w, g))  # (T, G, M N, O/G)
    y = _to_output(yt, g, x.shape[0])
    if bias is not None:
        if bias.ndim == 1:
            y = y + bias.reshape((-1,) + (1,) * nd)
        else:  # per tile: expand (*t, O) to the output grid by cycling, then crop
            full = np.tile(bias, g["reps"] + (1,))  # (*grid, O)
            full = full[tuple(slice(0, o) for o in g["out"])]
            y = y + np.moveaxis(full, -1, 0)
    return np.ascontiguousarray(y)


def tiled_backward(dy: np.ndarray, x: np.ndarray, w: np.ndarray, stride=1, padding=0, dilation=1,
                   groups: int = 1, padding_mode: str = "zeros", tiles=None, bias_shape=None,
                   needs=(True, True, True)):
    """Gradients of tiled_forward: (dx, dw, db), None where `needs` says so.

    dW[r]    = cols[r]^T @ dY[r]                       (per tile, summed over its positions)
    dcols[r] = dY[r] @ W[r]^T, scattered back over the windows -> dx
    db       = dy summed over N and all positions (bias (O,)) or over N and each tile's positions
    `bias_shape` selects which bias gradient (default (O,)).
    """
    nd = w.ndim // 2 - 1
    g = _geometry(x.shape, w.shape, nd, stride, padding, dilation, groups, tiles, "tiled convolution")
    need_x, need_w, need_b = needs
    dx = dw = db = None
    dyt = _from_output(dy, g) if (need_x or need_w or (need_b and bias_shape is not None
                                                        and len(bias_shape) > 1)) else None
    n = x.shape[0]
    if need_x or need_w:
        xp, xe = _extended_input(x, g, padding_mode)
    if need_w:
        cols = _columns(xe, g)  # (T, G, M N, C/G K)
        with single_threaded_blas():
            dwt = np.matmul(dyt.transpose(0, 1, 3, 2), cols)  # (T, G, O/G, C/G K)
        dw = dwt.reshape(w.shape)
    if need_x:
        wt = _tile_weights(w, g)  # (T, G, C/G K, O/G)
        with single_threaded_blas():
            dcols = np.matmul(dyt, wt.transpose(0, 1, 3, 2))  # (T, G, M N, C/G K)
        tiles, reps = g["tiles"], g["reps"]
        dwin = dcols.reshape(tiles + (g["groups"],) + reps + (n, g["cin_g"]) + g["kernel_size"])
        # (*t, G, *a, N, C/G, *k) -> (N, G, C/G, a_1, r_1, ..., a_D, r_D, *k)
        order = ((2 * nd + 1, nd, 2 * nd + 2) + tuple(v for i in range(nd) for v in (nd + 1 + i, i))
                 + tuple(2 * nd + 3 + i for i in range(nd)))
        dwin = dwin.transpose(order).reshape(
            (n, x.shape[1]) + tuple(r * t for r, t in zip(reps, tiles)) + g["kernel_size"])  # (N, C, *grid, *k)
        dxe = scatter_windows(dwin, xe.shape, g["kernel_size"], g["stride"], g["dilation"])
        dxp = dxe[(Ellipsis,) + tuple(slice(0, m) for m in xp.shape[2:])]  # drop the rounding-up zeros
        dx = pad_backward(dxp, g["pads"], padding_mode)
        dx = np.ascontiguousarray(dx)
    if need_b:
        if bias_shape is None or len(bias_shape) == 1:
            db = dy.sum(axis=(0,) + tuple(range(2, dy.ndim)))
        else:
            db = dyt.sum(axis=2).reshape(g["tiles"] + (g["out_channels"],))  # (*t, O)
    return dx, dw, db


def local_forward(x: np.ndarray, w: np.ndarray, bias: np.ndarray | None = None, stride=1, padding=0,
                  dilation=1, groups: int = 1, padding_mode: str = "zeros") -> np.ndarray:
    """Locally connected layer. x (N, C, *in), w (*out, O, C/G, *k), bias (O,) or (*out, O) -> (N, O, *out).

    y[n, o, p] = sum_{c, j} w[p, o, c, j] * xp[n, c, p s + j d] + b
    It is tiled convolution with one tile per output position; w's leading dims must equal the
    output shape (local_output_shape; functional.locally_connected checks it).
    """
    return tiled_forward(x, w, bias, stride, padding, dilation, groups, padding_mode)


def local_backward(dy, x, w, stride=1, padding=0, dilation=1, groups: int = 1, padding_mode: str = "zeros",
                   bias_shape=None, needs=(True, True, True)):
    """Gradients of local_forward: (dx, dw, db); see tiled_backward."""
    return tiled_backward(dy, x, w, stride, padding, dilation, groups, padding_mode, None, bias_shape, needs)
