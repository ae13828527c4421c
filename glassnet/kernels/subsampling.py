"""Trainable subsampling (LeNet-5's S2 and S4; seed 003, "average pooling with weight").

Each feature map c is sum-pooled, then scaled by one trainable coefficient and shifted by one
trainable bias (seed 003 writes z_ij = w * sum_{k,l} v_{r(i-1)+k, c(j-1)+l}):

    s[n, c, p] = sum_j xp[n, c, p stride + j]         (sum over the window, no division)
    y[n, c, p] = w[c] * s[n, c, p] + b[c]

Backward (seed 003, "backpropagating across average pooling"):

    dx   = every input in a window receives dy[n, c, p] * w[c]   (windows that overlap add up)
    dw_c = sum_{n, p} dy[n, c, p] * s[n, c, p]                    (seed 003's dw^{m,h})
    db_c = sum_{n, p} dy[n, c, p]

With w = 1 / prod(k) and b = 0 it is average pooling (count_include_pad=True).
Shapes: x (N, C, *in), w (C,), b (C,) -> y (N, C, *out), out as for pooling (floor mode).
The arguments are checked by glassnet.functional.subsampling; these functions trust them.
"""

from __future__ import annotations

import numpy as np

from .local import scatter_windows
from .sizes import check_window_fits, output_shape, positive_tuple, resolve_padding
from .windows import pad, pad_backward, sliding_windows

__all__ = ["sum_pool_forward", "sum_pool_backward", "subsampling_forward", "subsampling_backward"]


def _geometry(x_shape, kernel_size, stride, padding, what):
    nd = len(x_shape) - 2
    if nd < 1:
        raise ValueError(f"{what} expected input of shape (N, C, *spatial), got {tuple(x_shape)}")
    k = positive_tuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else positive_tuple(stride, nd, "stride")
    d = (1,) * nd
    pads = resolve_padding(padding, k, s, d, x_shape[2:])
    check_window_fits(x_shape[2:], k, pads, d, what="subsampling window")
    return k, s, d, pads, output_shape(x_shape[2:], k, s, pads, d)


def sum_pool_forward(x: np.ndarray, kernel_size, stride=None, padding=0) -> np.ndarray:
    """(N, C, *in) -> (N, C, *out): the sum over each window (zero padding)."""
    k, s, d, pads, out = _geometry(x.shape, kernel_size, stride, padding, "sum pooling")
    win = sliding_windows(pad(x, pads), k, s, d, out)  # (N, C, *out, *k)
    return win.sum(axis=tuple(range(-len(k), 0)))


def sum_pool_backward(ds: np.ndarray, input_shape, kernel_size, stride=None, padding=0) -> np.ndarray:
    """Adjoint of sum_pool_forward: ds (N, C, *out) spread to every input of its window."""
    k, s, d, pads, out = _geometry(input_shape, kernel_size, stride, padding, "sum pooling")
    padded = tuple(input_shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(input_shape[2:], pads))
    dwin = np.broadcast_to(ds[(Ellipsis,) + (None,) * len(k)], ds.shape + k)  # (N, C, *out, *k)
    return np.ascontiguousarray(pad_backward(scatter_windows(dwin, padded, k, s, d), pads))


def subsampling_forward(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, kernel_size,
                        stride=None, padding=0) -> np.ndarray:
    """y = w[c] * sum_pool(x) + b[c]. x (N, C, *in), weight (C,), bias (C,) or None -> (N, C, *out)."""
    s = sum_pool_forward(x, kernel_size, stride, padding)
    shape = (-1,) + (1,) * (x.ndim - 2)  # (C, 1, ..., 1) broadcasts over (N, C, *out)
    y = s * weight.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)


def subsampling_backward(dy: np.ndarray, x: np.ndarray, weight: np.ndarray, kernel_size, stride=None,
                         padding=0, needs=(True, True, True)):
    """(dx, dweight, dbias) of subsampling_forward, None where `needs` says so."""
    shape = (-1,) + (1,) * (x.ndim - 2)
    axes = (0,) + tuple(range(2, x.ndim))  # N and the spatial positions
    dx = dw = db = None
    if needs[0]:
        dx = sum_pool_backward(dy * weight.reshape(shape), x.shape, kernel_size, stride, padding)
    if needs[1]:
        dw = (dy * sum_pool_forward(x, kernel_size, stride, padding)).sum(axis=axes)
    if len(needs) > 2 and needs[2]:
        db = dy.sum(axis=axes)
    return dx, dw, db
