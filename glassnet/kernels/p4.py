"""The group p4 (translations and the four 90-degree rotations) for group-equivariant convolution
(seed 004; Cohen & Welling, "Group Equivariant Convolutional Networks", ICML 2016).

A p4 feature map has one plane per rotation: shape (N, C, 4, H, W). Rotating the input image by
90 degrees (np.rot90 over the last two axes, counter-clockwise) must rotate every plane of the
output the same way and shift the rotation axis by one:

    rotate_p4(f, r)[n, c, s] = rot90(f[n, c, (s - r) mod 4], r)

Both layers are ordinary convolutions with a filter bank built from the learned filters by
rotating them (and, for p4 -> p4, cycling their rotation axis), so the heavy lifting is the
engine's conv_forward / conv_backward:

- lifting (Z^2 -> p4), learned w (O, C, k, k):
      W[o, r, c]    = rot90(w[o, c], r)                       -> bank (O 4, C, k, k)
- group convolution (p4 -> p4), learned w (O, C, 4, k, k):
      W[o, r, c, s] = rot90(w[o, c, (s - r) mod 4], r)        -> bank (O 4, C 4, k, k)

so y[n, o, r] = sum_c (x[n, c] cross-correlated with W[o, r, c]) is a rotated copy of the filter
response. The gradient of the learned filter is the adjoint of the bank construction: rotate each
bank gradient back by -r (and cycle back by -r) and sum over r.

The arguments are checked by glassnet.functional.p4, once per call; these functions trust them.
"""

from __future__ import annotations

import numpy as np

from .conv import conv_backward, conv_forward

__all__ = ["rotate", "rotate_p4", "lift_filters", "lift_filters_backward", "group_filters",
           "group_filters_backward", "p4_lift_forward", "p4_lift_backward", "p4_conv_forward",
           "p4_conv_backward", "p4_pool_forward", "p4_pool_backward"]

ORDER = 4  # the number of rotations in p4


def rotate(x: np.ndarray, r: int) -> np.ndarray:
    """Rotate the last two axes by r * 90 degrees counter-clockwise (a view)."""
    return np.rot90(x, r, axes=(-2, -1))


def rotate_p4(f: np.ndarray, r: int) -> np.ndarray:
    """The action of rotation r on a p4 map (..., 4, H, W): rotate every plane, cycle the planes."""
    return np.roll(rotate(f, r), r, axis=-3)


def lift_filters(w: np.ndarray) -> np.ndarray:
    """(O, C, k, k) -> (O, 4, C, k, k): W[o, r] = rot90(w[o], r)."""
    return np.stack([rotate(w, r) for r in range(ORDER)], axis=1)


def lift_filters_backward(dbank: np.ndarray) -> np.ndarray:
    """Adjoint of lift_filters: (O, 4, C, k, k) -> (O, C, k, k)."""
    return sum(rotate(dbank[:, r], -r) for r in range(ORDER))


def group_filters(w: np.ndarray) -> np.ndarray:
    """(O, C, 4, k, k) -> (O, 4, C, 4, k, k): W[o, r, c, s] = rot90(w[o, c, (s - r) mod 4], r)."""
    return np.stack([rotate_p4(w, r) for r in range(ORDER)], axis=1)


def group_filters_backward(dbank: np.ndarray) -> np.ndarray:
    """Adjoint of group_filters: (O, 4, C, 4, k, k) -> (O, C, 4, k, k)."""
    return sum(rotate_p4(dbank[:, r], -r) for r in range(ORDER))


def _add_bias(y, bias):
    return y if bias is None else y + bias.reshape(1, -1, 1, 1, 1)


def p4_lift_forward(x, w, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """Z^2 -> p4. x (N, C, H, W), w (O, C, k, k), bias (O,) -> (N, O, 4, H', W')."""
    o, c, k = w.shape[0], w.shape[1], w.shape[-1]
    bank = lift_filters(w).reshape(o * ORDER, c, k, k)  # (O 4, C, k, k)
    y = conv_forward(x, bank, None, stride, padding, dilation, 1, padding_mode)
    return _add_bias(y.reshape((x.shape[0], o, ORDER) + y.shape[2:]), bias)  # (N, O, 4, H', W')


def p4_lift_backward(dy, x, w, stride=1, padding=0, dilation=1, padding_mode="zeros", needs=(True, True, True)):
    o, c, k = w.shape[0], w.shape[1], w.shape[-1]
    bank = lift_filters(w).reshape(o * ORDER, c, k, k)
    dflat = dy.reshape((dy.shape[0], o * ORDER) + dy.shape[3:])  # (N, O 4, H', W')
    dx, dbank, _ = conv_backward(dflat, x, bank, stride, padding, dilation, 1, padding_mode, False,
                                 needs=(needs[0], needs[1], False))
    dw = None if dbank is None else lift_filters_backward(dbank.reshape(o, ORDER, c, k, k))
    db = dy.sum(axis=(0, 2, 3, 4)) if len(needs) > 2 and needs[2] else None
    return dx, dw, db


def p4_conv_forward(x, w, bias=None, stride=1, padding=0, dilation=1, padding_mode="zeros"):
    """p4 -> p4. x (N, C, 4, H, W), w (O, C, 4, k, k), bias (O,) -> (N, O, 4, H', W')."""
    n, o, c, k = x.shape[0], w.shape[0], w.shape[1], w.shape[-1]
    bank = group_filters(w).reshape(o * ORDER, c * ORDER, k, k)  # (O 4, C 4, k, k)
    y = conv_forward(x.reshape((n, c * ORDER) + x.shape[3:]), bank, None, stride, padding, dilation, 1,
                     padding_mode)  # (N, O 4, H', W')
    return _add_bias(y.reshape((n, o, ORDER) + y.shape[2:]), bias)


def p4_conv_backward(dy, x, w, stride=1, padding=0, dilation=1, padding_mode="zeros", needs=(True, True, True)):
    n, o, c, k = x.shape[0], w.shape[0], w.shape[1], w.shape[-1]
    bank = group_filters(w).reshape(o * ORDER, c * ORDER, k, k)
    xflat = x.reshape((n, c * ORDER) + x.shape[3:])  # (N, C 4, H, W)
    dflat = dy.reshape((n, o * ORDER) + dy.shape[3:])  # (N, O 4, H', W')
    dx, dbank, _ = conv_backward(dflat, xflat, bank, stride, padding, dilation, 1, padding_mode, False,
                                 needs=(needs[0], needs[1], False))
    dx = None if dx is None else dx.reshape(x.shape)
    dw = None if dbank is None else group_filters_backward(dbank.reshape(o, ORDER, c, ORDER, k, k))
    db = dy.sum(axis=(0, 2, 3, 4)) if len(needs) > 2 and needs[2] else None
    return dx, dw, db


def p4_pool_forward(x: np.ndarray, mode: str = "max"):
    """Pool over the rotation axis: (N, C, 4, H, W) -> (N, C, H, W), and the argmax (max mode).

    The result is invariant to the cyclic shift of the planes, so it rotates with the input.
    """
    if mode == "max":
        index = x.argmax(axis=2)  # (N, C, H, W)
        return np.take_along_axis(x, index[:, :, None], axis=2)[:, :, 0], index
    return x.mean(axis=2), None  # mode 'avg


def p4_pool_backward(dy: np.ndarray, index: np.ndarray | None, mode: str = "max") -> np.ndarray:
    """Gradient of p4_pool_forward: to the winning plane (max) or shared by the four (avg)."""
    if mode == "avg":
        return np.repeat(dy[:, :, None] / ORDER, ORDER, axis=2)
    dx = np.zeros(dy.shape[:2] + (ORDER,) + dy.shape[2:], dtype=dy.dtype)
    np.put_along_axis(dx, index[:, :, None], dy[:, :, None], axis=2)
    return dx
