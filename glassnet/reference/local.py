"""Locally connected (unshared) and tiled convolution (seed 001; Goodfellow et al. 2016, 9.5).

A locally connected layer has its own kernel at every output position p:

    Z[n, h, p] = sum_l sum_j W[p, h, l, j] Ap[n, l, p s + j d] + b

Tiled convolution shares kernels between positions with the same remainder: with t tiles per
dimension, position p uses kernel number p mod t. t = 1 is ordinary convolution, t = the
output size is the locally connected layer, so one pair of functions serves both.

Backward: as for convolution, but per position (nothing is shared across positions except
through the tiling, where the positions of one tile add up their gradients):

    dW[p mod t, h, l, j] += sum_n dZ[n, h, p] Ap[n, l, p s + j d]
    dAp[n, l, p s + j d] += sum_h W[p mod t, h, l, j] dZ[n, h, p]
    db = sum of dZ over the batch and positions (shared bias) or over the batch and each tile

Shapes: A (N, L, *in), W (*t, H, L/G, *k), b (H,) or (*t, H), Z (N, H, *out).
"""

from __future__ import annotations

import numpy as np

from .conv import geometry
from .padding import pad, pad_backward, window


def _per_position(V, tiles, out):
    """Repeat a per-tile array (*t, ...) over the output grid: (*out, ...), V[p mod t] at p."""
    reps = tuple(-(-o // t) for o, t in zip(out, tiles))
    full = np.tile(V, reps + (1,) * (V.ndim - len(tiles)))
    return full[tuple(slice(0, o) for o in out)]


def _per_tile(V, tiles, out):
    """The adjoint of _per_position: add up the positions of each tile, (*out, ...) -> (*t, ...)."""
    nd = len(tiles)
    reps = tuple(-(-o // t) for o, t in zip(out, tiles))
    grid = np.pad(V, [(0, r * t - o) for r, t, o in zip(reps, tiles, out)] + [(0, 0)] * (V.ndim - nd))
    # (*out rounded up, ...) -> (a_1, t_1, ..., a_D, t_D, ...): p = a t + r
    split = grid.reshape(tuple(v for r, t in zip(reps, tiles) for v in (r, t)) + V.shape[nd:])
    return split.sum(axis=tuple(range(0, 2 * nd, 2)))


def _groups(H, L, groups):
    Hg, Lg = H // groups, L // groups
    return [(slice(g * Hg, (g + 1) * Hg), slice(g * Lg, (g + 1) * Lg)) for g in range(groups)]


def tiled_forward(A, W, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    nd = A.ndim - 2
    tiles, k = W.shape[:nd], W.shape[nd + 2:]
    s, d, pads, out = geometry(A.shape[2:], k, stride, padding, dilation)
    Wp = _per_position(W, tiles, out)  # (*out, H, L/G, *k): the kernel of every position
    Ap = pad(A, pads, padding_mode)
    Z = np.zeros((A.shape[0], W.shape[nd]) + out, A.dtype)
    for h, l in _groups(W.shape[nd], A.shape[1], groups):
        for j in np.ndindex(*k):
            patch = Ap[:, l][window(Ap, j, s, d, out)]  # (N, L/G, *out)
            Wj = Wp[(Ellipsis, h, slice(None)) + j]  # (*out, H/G, L/G)
            Z[:, h] += np.einsum("...hl,nl...->nh...", Wj, patch)
    if b is not None:
        bias = b.reshape((-1,) + (1,) * nd) if b.ndim == 1 else np.moveaxis(_per_position(b, tiles, out), -1, 0)
        Z += bias
    return Z


def tiled_backward(dZ, A, W, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", bias_shape=None):
    """(dA, dW, db); db per tile when bias_shape is (*t, H)."""
    nd = A.ndim - 2
    tiles, k = W.shape[:nd], W.shape[nd + 2:]
    s, d, pads, out = geometry(A.shape[2:], k, stride, padding, dilation)
    Wp = _per_position(W, tiles, out)
    Ap = pad(A, pads, padding_mode)
    dWp, dAp = np.zeros(Wp.shape, dZ.dtype), np.zeros(Ap.shape, dZ.dtype)
    for h, l in _groups(W.shape[nd], A.shape[1], groups):
        for j in np.ndindex(*k):
            at = window(Ap, j, s, d, out)
            dWp[(Ellipsis, h, slice(None)) + j] = np.einsum("nh...,nl...->...hl", dZ[:, h], Ap[:, l][at])
            dAp[:, l][at] += np.einsum("...hl,nh...->nl...", Wp[(Ellipsis, h, slice(None)) + j], dZ[:, h])
    dA = pad_backward(dAp, pads, padding_mode)
    if bias_shape is not None and len(bias_shape) > 1:
        db = _per_tile(np.moveaxis(dZ.sum(axis=0), 0, -1), tiles, out)  # (*t, H)
    else:
        db = dZ.sum(axis=(0,) + tuple(range(2, dZ.ndim)))
    return dA, _per_tile(dWp, tiles, out), db


def local_forward(A, W, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """Locally connected layer: W (*out, H, L/G, *k), one kernel per output position."""
    return tiled_forward(A, W, b, stride, padding, dilation, groups, padding_mode)


def local_backward(dZ, A, W, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", bias_shape=None):
    return tiled_backward(dZ, A, W, stride, padding, dilation, groups, padding_mode, bias_shape)
