"""Resampling by nearest-neighbour and (bi/tri)linear interpolation, forward and backward in
plain NumPy, with PyTorch's index arithmetic.

Both modes are separable: an N-D resize is a 1-D resize along each spatial axis in turn. Along
one axis of input size n_in and output size n_out, output position o reads

    nearest:        x[i(o)],                      i(o) = min(floor(o * scale), n_in - 1)
    nearest-exact:  x[i(o)],                      i(o) = min(floor((o + 1/2) * scale), n_in - 1)
    linear:         (1 - l) x[i0] + l x[i1],      from the source coordinate
    cubic:          four taps around the source coordinate (Keys' cubic convolution, A = -0.75)
        align_corners=False: src = max((o + 1/2) * scale - 1/2, 0)   (pixel centres line up)
        align_corners=True:  src = o * (n_in - 1) / (n_out - 1)      (corner pixels line up)
        i0 = min(floor(src), n_in - 1),  i1 = min(i0 + 1, n_in - 1),  l = src - i0

where scale = 1 / scale_factor when a scale factor was given, else n_in / n_out. (PyTorch
computes nearest's scale in float32 and the linear coordinates in the input's precision; so do
we, so that the indices agree at exact ties.)

Each 1-D step is linear in x: y = A x with a sparse (n_out, n_in) matrix holding at most two
weights per row. Its backward is dx = A^T dy: every output's gradient, times its weight, added
onto the input positions it read. Because i(o) never decreases with o, each input position
receives from one contiguous run of outputs, so the scatter is a segmented sum (np.add.reduceat),
not a loop over pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["source_indices", "interpolate_forward", "interpolate_backward"]

MODES = ("nearest", "nearest-exact", "linear", "cubic")


def source_indices(n_in: int, n_out: int, mode: str, align_corners: bool, scale_factor: float | None,
                   dtype) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """The taps of one axis: a list of (input index (n_out,), weight (n_out,) or None for 1)."""
    o = np.arange(n_out)
    if mode in ("nearest", "nearest-exact"):
        if mode == "nearest" and n_out == n_in:
            return [(o, None)]
        if mode == "nearest" and n_out == 2 * n_in:
            return [(o >> 1, None)]
        scale = np.float32(1.0 / scale_factor) if scale_factor else np.float32(n_in) / np.float32(n_out)
        offset = np.float32(0.5 if mode == "nearest-exact" else 0.0)
        index = np.floor((o.astype(np.float32) + offset) * scale).astype(np.int64)
        return [(np.minimum(index, n_in - 1), None)]
    dt = np.dtype(dtype).type
    if align_corners:
        scale = dt(n_in - 1) / dt(n_out - 1) if n_out > 1 else dt(0)
        src = scale * o.astype(dt)
    else:
        scale = dt(1.0 / scale_factor) if scale_factor else dt(n_in) / dt(n_out)
        src = scale * (o.astype(dt) + dt(0.5)) - dt(0.5)
        if mode == "linear":  # cubic keeps the negative coordinates, as PyTorch
            src = np.maximum(src, dt(0))
    if mode == "cubic":
        return _cubic_taps(src, n_in, dt)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam = np.clip(src - i0.astype(dt), dt(0), dt(1))  # weight of i1
    return [(i0, dt(1) - lam), (i1, lam)]


CUBIC_A = -0.75  # PyTorch's (and OpenCV's) choice of the cubic convolution parameter


def _cubic_taps(src: np.ndarray, n_in: int, dt) -> list:
    """Keys' cubic convolution: four taps at floor(src) - 1 .. floor(src) + 2 (clamped into the
    input, as PyTorch reads the border), weights from the distance t = src - floor(src):
        |d| <= 1:     (A + 2) |d|^3 - (A + 3) |d|^2 + 1
        1 < |d| < 2:  A |d|^3 - 5 A |d|^2 + 8 A |d| - 4 A"""
    a = dt(CUBIC_A)
    base = np.floor(src)
    t = src - base

    def near(d):  # |d| <= 1
        return ((a + dt(2)) * d - (a + dt(3))) * d * d + dt(1)

    def far(d):  # 1 < |d| < 2
        return ((a * d - dt(5) * a) * d + dt(8) * a) * d - dt(4) * a

    weights = (far(t + dt(1)), near(t), near(dt(1) - t), far(dt(2) - t))
    base = base.astype(np.int64)
    return [(np.clip(base - 1 + k, 0, n_in - 1), w) for k, w in enumerate(weights)]


def _weight_view(w: np.ndarray, axis: int, ndim: int) -> np.ndarray:
    """(n_out,) -> shape broadcasting along `axis` of an ndim-array."""
    shape = [1] * ndim
    shape[axis] = -1
    return w.reshape(shape)


def _resize_axis(x: np.ndarray, axis: int, taps) -> np.ndarray:
    """y = sum over taps of x[..., index, ...] * weight, along axis."""
    y = None
    for index, weight in taps:
        term = np.take(x, index, axis=axis)
        if weight is not None:
            term *= _weight_view(weight, axis, x.ndim)
        y = term if y is None else y + term
    return y


def _scatter_axis(dy: np.ndarray, axis: int, taps, n_in: int) -> np.ndarray:
    """The adjoint of _resize_axis: dx[..., i, ...] = sum over taps and outputs o with
    index(o) = i of dy[..., o, ...] * weight(o)."""
    shape = list(dy.shape)
    shape[axis] = n_in
    dx = np.zeros(shape, dy.dtype)
    lead = (slice(None),) * axis
    for index, weight in taps:
        if index.size == 0:
            continue
        values = dy if weight is None else dy * _weight_view(weight, axis, dy.ndim)
        # index is non-decreasing: each distinct input position is fed by one contiguous run
        starts = np.flatnonzero(np.r_[True, index[1:] != index[:-1]])
        dx[lead + (index[starts],)] += np.add.reduceat(values, starts, axis=axis)
    return dx


def interpolate_forward(x: np.ndarray, out_size: tuple[int, ...], mode: str, align_corners: bool = False,
                        scale_factors: tuple[float | None, ...] | None = None):
    """x (N, C, *S) -> (y (N, C, *out_size), cache). mode: 'nearest', 'nearest-exact',
    'linear' (bilinear / trilinear are 'linear' along every axis) or 'cubic' (bicubic)."""
    nd = len(out_size)
    scale_factors = scale_factors or (None,) * nd
    all_taps = []
    y = x
    for d in range(nd):
        axis = x.ndim - nd + d
        taps = source_indices(x.shape[axis], out_size[d], mode, align_corners, scale_factors[d], x.dtype)
        all_taps.append(taps)
        y = _resize_axis(y, axis, taps)
    if y is x:
        y = x.copy()
    return y, dict(taps=all_taps, in_shape=x.shape)


def interpolate_backward(dy: np.ndarray, cache: dict) -> np.ndarray:
    """dL/dx from dL/dy, axis by axis in reverse order."""
    in_shape, all_taps = cache["in_shape"], cache["taps"]
    nd = len(all_taps)
    g = dy
    for d in reversed(range(nd)):
        axis = dy.ndim - nd + d
        g = _scatter_axis(g, axis, all_taps[d], in_shape[axis])
    return g
