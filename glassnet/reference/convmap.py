"""Connection-table convolution (seed 003's connection matrix; LeNet-5's C3).

A 0/1 table C (out maps, in maps) says which input map l feeds output map h. Only connected
pairs have a kernel, stored one per connection in row-major order of the table:

    Z^h = sum_{l : C[h, l] = 1} W^(h,l) * A^l + b^h

Backward: seed 003's formulas restricted to the connections, dA^l = sum_{h : C[h, l]}
rot180(W^(h,l)) * dZ^h and dW^(h,l) = dZ^h * A^l: each connection is a one-map convolution.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_backward, conv_forward


def _connections(table):
    return list(zip(*np.nonzero(np.asarray(table))))  # (h, l) pairs, row-major


def conv_map_forward(A, W, b, table, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """A (N, in maps, *in), W (connections, *k), b (out maps,) or None -> Z (N, out maps, *out)."""
    parts = {}
    for c, (h, l) in enumerate(_connections(table)):
        z = conv_forward(A[:, l:l + 1], W[c][None, None], None, stride, padding, dilation, 1, padding_mode)
        parts[h] = parts.get(h, 0) + z[:, 0]  # (N, *out)
    Z = np.stack([parts[h] for h in range(len(table))], axis=1)
    return Z if b is None else Z + b.reshape((-1,) + (1,) * (Z.ndim - 2))


def conv_map_backward(dZ, A, W, table, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """(dA, dW, db) of conv_map_forward."""
    dA, dW = np.zeros_like(A), np.zeros_like(W)
    for c, (h, l) in enumerate(_connections(table)):
        da, dw, _ = conv_backward(dZ[:, h:h + 1], A[:, l:l + 1], W[c][None, None], stride, padding,
                                  dilation, 1, padding_mode)
        dA[:, l:l + 1] += da
        dW[c] = dw[0, 0]
    return dA, dW, dZ.sum(axis=(0,) + tuple(range(2, dZ.ndim)))
