"""Trainable subsampling: LeNet-5's S layers, seed 003's "average pooling with weight".

Each map h is sum-pooled over r x c windows, then scaled by one trainable weight w^h and shifted
by one bias b^h (seed 003, z_ij = w * sum_{k,l} a_{r(i-1)+k, c(j-1)+l}):

    Z^h = w^h (sum-pool A^h) + b^h

Backward (seed 003):

    dA^h = w^h expand(dZ^h)          every input of a window receives w^h dZ^h at that window
    dw^h = sum_ij dZ^h_ij (sum-pool A^h)_ij
    db^h = sum_ij dZ^h_ij
"""

from __future__ import annotations

import numpy as np

from .conv import geometry
from .padding import pad, window


def _geometry(spatial, kernel_size, stride, padding):
    nd = len(spatial)
    k = (kernel_size,) * nd if isinstance(kernel_size, int) else tuple(kernel_size)
    s, d, pads, out = geometry(spatial, k, k if stride is None else stride, padding, 1)
    return k, s, d, pads, out


def sum_pool(A, kernel_size, stride=None, padding=0):
    """(N, C, *in) -> (N, C, *out): the sum of each window (zero padding)."""
    k, s, d, pads, out = _geometry(A.shape[2:], kernel_size, stride, padding)
    Ap = pad(A, pads)
    return sum(Ap[window(Ap, j, s, d, out)] for j in np.ndindex(*k))


def subsampling_forward(A, w, b, kernel_size, stride=None, padding=0):
    """Z = w (sum-pool A) + b, per map. A (N, C, *in), w (C,), b (C,) or None -> (N, C, *out)."""
    per_map = (-1,) + (1,) * (A.ndim - 2)  # (C, 1, ..., 1)
    Z = sum_pool(A, kernel_size, stride, padding) * w.reshape(per_map)
    return Z if b is None else Z + b.reshape(per_map)


def subsampling_backward(dZ, A, w, kernel_size, stride=None, padding=0):
    """(dA, dw, db) of subsampling_forward (seed 003)."""
    k, s, d, pads, out = _geometry(A.shape[2:], kernel_size, stride, padding)
    per_map = (-1,) + (1,) * (A.ndim - 2)
    dAp = np.zeros(pad(A, pads).shape, dZ.dtype)
    for j in np.ndindex(*k):  # expand: each window's inputs all receive w dZ
        dAp[window(dAp, j, s, d, out)] += dZ * w.reshape(per_map)
    dA = dAp[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(A.shape[2:], pads))]
    axes = (0,) + tuple(range(2, A.ndim))
    dw = (dZ * sum_pool(A, kernel_size, stride, padding)).sum(axis=axes)
    return dA, dw, dZ.sum(axis=axes)
