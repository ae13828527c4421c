"""Padding a tensor's last dimensions (torch.nn.functional.pad's modes), forward and backward.

Padding is separable: padding k dimensions is padding one dimension after another. Along one
dimension of size n, padded by (lo, hi), output position j (j = -lo .. n + hi - 1 in input
coordinates) reads input index src(j):

    constant   j if 0 <= j < n, else the fill value (no source)
    reflect    the mirror image without repeating the edge: ... 2 1 | 0 1 2 3 | 2 1 ...
    replicate  the nearest edge: clip(j, 0, n - 1)
    circular   j mod n (with negative pads: modulo the part that remains)

Negative lo / hi crop instead. So forward is a gather along each dimension,
y = take(x, src, axis), and backward its adjoint, a scatter-add: every input element receives
the sum of the gradients of the outputs that read it (edges and mirrored elements read several
times get several).
"""

from __future__ import annotations

import numpy as np

MODES = ("constant", "reflect", "replicate", "circular")


def source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """src(j) for the n + lo + hi output positions of one dimension; -1 where constant fills."""
    j = np.arange(-lo, n + hi)
    if mode == "constant":
        return np.where((j >= 0) & (j < n), j, -1)
    if mode == "replicate":
        return np.clip(j, 0, n - 1)
    if mode == "circular":  # wraps within what negative pads leave, as PyTorch does
        start, stop = max(-lo, 0), n - max(-hi, 0)
        return start + (j - start) % (stop - start)
    if n == 1:  # reflect of a single element: only pads of 0 are allowed (checked by the caller)
        return np.zeros_like(j)
    period = 2 * (n - 1)  # reflect: 0 1 .. n-1 n-2 .. 1, repeated
    m = np.abs(j) % period
    return np.where(m < n, m, period - m)


def pad_forward(x: np.ndarray, pads: list[tuple[int, int]], mode: str = "constant", value: float = 0.0):
    """Pad the last len(pads) dimensions of x; pads[0] is the LAST dimension's (lo, hi), as in
    torch's flat pad tuple (left, right, top, bottom, ...)."""
    y = x
    for k, (lo, hi) in enumerate(pads):
        axis = x.ndim - 1 - k
        src = source_index(x.shape[axis], lo, hi, mode)
        fill = src < 0
        if x.shape[axis] == 0:  # nothing to copy: every position is the fill value
            shape = list(y.shape)
            shape[axis] = len(src)
            y = np.full(shape, value, y.dtype)
            continue
        y = np.take(y, np.where(fill, 0, src), axis=axis)
        if fill.any():
            index = [slice(None)] * y.ndim
            index[axis] = fill
            y[tuple(index)] = value
    return y


def pad_backward(dy: np.ndarray, shape: tuple[int, ...], pads: list[tuple[int, int]],
                 mode: str = "constant") -> np.ndarray:
    """dx of x's shape: the adjoint of pad_forward's gathers, undone last dimension first."""
    g = dy
    for k in reversed(range(len(pads))):
        lo, hi = pads[k]
        axis = len(shape) - 1 - k
        src = source_index(shape[axis], lo, hi, mode)
        keep = src >= 0
        moved = np.moveaxis(g, axis, 0)  # (out_d, ...)
        out = np.zeros((shape[axis],) + moved.shape[1:], dy.dtype)  # (n, ...)
        np.add.at(out, src[keep], moved[keep])
        g = np.moveaxis(out, 0, axis)
    return np.ascontiguousarray(g)
