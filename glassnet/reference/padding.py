"""Padding as a gather, and its adjoint (needed by every windowed operation's backward).

Padding an axis of length n by (lo, hi) reads, for each padded position q, the input position

    zeros:      q - lo if 0 <= q - lo < n, else nothing (the value is 0)
    reflect:    the mirror image without repeating the edge   (np.pad mode "reflect")
    replicate:  the nearest edge element                      (np.pad mode "edge")
    circular:   q - lo modulo n                               (np.pad mode "wrap")

So the padded array is Ap = A[source] along each axis, and the adjoint sends each gradient
element of dAp back to the element it was read from, adding up where one element was read
several times: dA[source[q]] += dAp[q].
"""

from __future__ import annotations

import numpy as np

from ..kernels.windows import check_copy_fits

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def source_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each of the n + lo + hi padded positions, the input position it reads (-1: a zero)."""
    if mode == "zeros":
        q = np.arange(-lo, n + hi)
        return np.where((q >= 0) & (q < n), q, -1)
    return np.pad(np.arange(n), (lo, hi), mode=_NUMPY_MODE[mode])


def pad(A: np.ndarray, pads, mode: str = "zeros", value: float = 0.0) -> np.ndarray:
    """Pad the trailing len(pads) axes of A; pads holds one (lo, hi) pair per axis."""
    check_copy_fits(A.shape, pads, mode)  # reflect and circular read only inside A (PyTorch's rule)
    first = A.ndim - len(pads)
    for axis, (lo, hi) in enumerate(pads, start=first):
        src = source_index(A.shape[axis], lo, hi, mode)
        A = np.take(A, np.maximum(src, 0), axis=axis)
        if mode == "zeros" and (src < 0).any():
            shape = [1] * A.ndim
            shape[axis] = src.size
            A = np.where((src >= 0).reshape(shape), A, np.asarray(value, A.dtype))
    return A


def pad_backward(dAp: np.ndarray, pads, mode: str = "zeros") -> np.ndarray:
    """The adjoint of pad: dA[source[q]] += dAp[q] along each padded axis (last axis first)."""
    first = dAp.ndim - len(pads)
    for axis in reversed(range(first, dAp.ndim)):
        lo, hi = pads[axis - first]
        n = dAp.shape[axis] - lo - hi
        src = source_index(n, lo, hi, mode)
        dA = np.zeros(dAp.shape[:axis] + (n,) + dAp.shape[axis + 1:], dAp.dtype)
        keep = src >= 0
        # move the padded axis to the front so np.add.at can scatter along it
        np.add.at(np.moveaxis(dA, axis, 0), src[keep], np.moveaxis(dAp, axis, 0)[keep])
        dAp = dA
    return dAp


def window(Ap: np.ndarray, offset, stride, dilation, out) -> tuple:
    """The index of the patch that kernel offset `offset` sees: for each spatial axis i the
    positions offset_i d_i, offset_i d_i + s_i, ..., one per output (seed 004's patches)."""
    return (Ellipsis,) + tuple(slice(j * d, j * d + (o - 1) * s + 1, s)
                               for j, s, d, o in zip(offset, stride, dilation, out))
