"""ONNX Resize (nearest and linear) as products with interpolation matrices.

Resizing one axis from n to m samples is a linear map: y = A x with A (m, n). Each output
sample i is mapped back to a coordinate in the input (coordinate_transformation_mode), then
- nearest: A[i, round(coordinate)] = 1 (rounded as nearest_mode says),
- linear: the two neighbours get weights 1 - f and f (f the fractional part).
A separable N-D resize applies one matrix per spatial axis, so the whole operation is a few
matmuls of glassnet tensors and trains like any other (the gradient is A^T dy).
"""

from __future__ import annotations

import math

import numpy as np

from ..tensor import Tensor

MAX_OUTPUT = 1 << 28  # elements; a hostile scale must not make us allocate without bound


def _source(i: np.ndarray, n: int, m: int, scale: float, transform: str) -> np.ndarray:
    """Input coordinate of output sample i (ONNX's coordinate_transformation_mode formulas)."""
    if transform == "half_pixel":
        return (i + 0.5) / scale - 0.5
    if transform == "pytorch_half_pixel":
        return (i + 0.5) / scale - 0.5 if m > 1 else np.zeros_like(i)
    if transform == "align_corners":
        return i * (n - 1) / (m - 1) if m > 1 else np.zeros_like(i)
    if transform == "asymmetric":
        return i / scale
    if transform == "tf_half_pixel_for_nearest":
        return (i + 0.5) / scale
    if transform == "half_pixel_symmetric":
        adjustment = m / (scale * n)
        centre = n / 2
        offset = centre * (1 - adjustment)
        return offset + (i + 0.5) / scale - 0.5
    raise ValueError(f"unknown coordinate_transformation_mode {transform!r}")


def _round(x: np.ndarray, nearest_mode: str) -> np.ndarray:
    if nearest_mode == "floor":
        return np.floor(x)
    if nearest_mode == "ceil":
        return np.ceil(x)
    frac = x - np.floor(x)
    halfway = np.isclose(frac, 0.5)
    if nearest_mode == "round_prefer_floor":
        return np.where(halfway, np.floor(x), np.round(x))
    if nearest_mode == "round_prefer_ceil":
        return np.where(halfway, np.ceil(x), np.round(x))
    raise ValueError(f"unknown nearest_mode {nearest_mode!r}")


def resize_matrix(n: int, m: int, scale: float, mode: str, transform: str, nearest_mode: str) -> np.ndarray:
    """A (m, n): y = A x resizes one axis of length n to length m."""
    i = np.arange(m, dtype=np.float64)
    x = _source(i, n, m, scale, transform)
    a = np.zeros((m, n), np.float32)
    rows = np.arange(m)
    if mode == "nearest":
        a[rows, np.clip(_round(x, nearest_mode), 0, n - 1).astype(np.int64)] = 1
        return a
    x = np.clip(x, 0, n - 1)
    lo = np.floor(x).astype(np.int64)
    hi = np.minimum(lo + 1, n - 1)
    f = (x - lo).astype(np.float32)
    np.add.at(a, (rows, lo), 1 - f)
    np.add.at(a, (rows, hi), f)
    return a


def interpolate(x, scales, sizes, mode: str, transform: str, nearest_mode: str):
    """Resize the axes of x (N, C, *spatial) by `scales` (one per axis) or to `sizes`."""
    rank = x.ndim
    if sizes is not None:
        if len(sizes) != rank:
            raise ValueError(f"Resize sizes {sizes} do not match the input's rank {rank}")
        targets, factors = list(sizes), [s / n for s, n in zip(sizes, x.shape)]
    else:
        if len(scales) != rank:
            raise ValueError(f"Resize scales {list(scales)} do not match the input's rank {rank}")
        targets, factors = [int(math.floor(n * s)) for n, s in zip(x.shape, scales)], list(scales)
    if any(t < 1 for t in targets) or math.prod(targets) > MAX_OUTPUT:
        raise ValueError(f"Resize of {tuple(x.shape)} to {tuple(targets)} is empty or too large")
    if tuple(targets[:2]) != tuple(x.shape[:2]):
        raise ValueError(f"Resize changes only the spatial axes; got {tuple(x.shape)} -> {tuple(targets)}")
    y = x if isinstance(x, Tensor) else Tensor(x)
    for axis in range(2, rank):
        n, m = x.shape[axis], targets[axis]
        if n == m and factors[axis] == 1:
            continue
        a = resize_matrix(n, m, factors[axis], mode, transform, nearest_mode)
        order = [d for d in range(rank) if d != axis] + [axis]   # this axis last
        back = list(np.argsort(order))
        y = (y.permute(order) @ a.T).permute(back)               # (..., n) @ (n, m) -> (..., m)
    return y
