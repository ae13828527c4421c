"""p4 group-equivariant convolution (seed 004; Cohen & Welling 2016).

A p4 feature map has one plane per rotation r = 0..3: (N, C, 4, H, W). The filters are rotated
copies of the learned ones, so each layer is ordinary convolution with a filter bank:

    lifting (Z^2 -> p4):  Z[n, o, r] = sum_c rot90(w[o, c], r) * A[n, c]
    group   (p4 -> p4):   Z[n, o, r] = sum_{c, q} rot90(w[o, c, (q - r) mod 4], r) * A[n, c, q]

The gradient of a learned filter collects the gradients of all its rotated copies, rotated
back: dw[o, c] = sum_r rot90(dW_r[o, c], -r) (and, for the group layer, with the plane index
cycled back by r).
"""

from __future__ import annotations

import numpy as np

from .conv import conv_backward, conv_forward


def rot90(a, r):
    return np.rot90(a, r, axes=(-2, -1))


def _plane_cycle(w, r):
    """w[..., (q - r) mod 4, :, :] at plane q, for a filter (..., 4, k, k)."""
    return np.roll(w, r, axis=-3)


def _lift_bank(w, r):
    return rot90(w, r)  # (O, C, k, k)


def _group_bank(w, r):
    O, C, _, k, _ = w.shape
    return rot90(_plane_cycle(w, r), r).reshape(O, C * 4, k, k)  # planes become input maps


def p4_lift_forward(A, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """A (N, C, H, W), w (O, C, k, k), b (O,) -> Z (N, O, 4, H', W')."""
    Z = np.stack([conv_forward(A, _lift_bank(w, r), None, stride, padding, dilation, 1, padding_mode)
                  for r in range(4)], axis=2)
    return Z if b is None else Z + b.reshape(1, -1, 1, 1, 1)


def p4_lift_backward(dZ, A, w, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    dA, dw = np.zeros_like(A), np.zeros_like(w)
    for r in range(4):
        da, dW, _ = conv_backward(dZ[:, :, r], A, _lift_bank(w, r), stride, padding, dilation, 1, padding_mode)
        dA += da
        dw += rot90(dW, -r)
    return dA, dw, dZ.sum(axis=(0, 2, 3, 4))


def p4_conv_forward(A, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """A (N, C, 4, H, W), w (O, C, 4, k, k), b (O,) -> Z (N, O, 4, H', W')."""
    N, C = A.shape[:2]
    maps = A.reshape((N, C * 4) + A.shape[3:])  # (N, C 4, H, W): every plane one input map
    Z = np.stack([conv_forward(maps, _group_bank(w, r), None, stride, padding, dilation, 1, padding_mode)
                  for r in range(4)], axis=2)
    return Z if b is None else Z + b.reshape(1, -1, 1, 1, 1)


def p4_conv_backward(dZ, A, w, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    N, C = A.shape[:2]
    maps = A.reshape((N, C * 4) + A.shape[3:])
    dmaps, dw = np.zeros_like(maps), np.zeros_like(w)
    for r in range(4):
        da, dW, _ = conv_backward(dZ[:, :, r], maps, _group_bank(w, r), stride, padding, dilation, 1, padding_mode)
        dmaps += da
        dw += _plane_cycle(rot90(dW.reshape(w.shape), -r), -r)
    return dmaps.reshape(A.shape), dw, dZ.sum(axis=(0, 2, 3, 4))
