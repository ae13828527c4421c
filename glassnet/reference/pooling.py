"""Pooling as the lectures write it: max, average and adaptive (seeds 002 and 003).

Each output position o pools the window of inputs Ap[o s + j d] over the kernel offsets j
(Ap: the input padded by p_lo, p_hi; with ceil_mode the last window may hang over the end,
those positions count as absent). Per map, with no weights:

    max pooling:      Z[o] = max_j Ap[o s + j d]       (padding is -inf: it never wins)
    average pooling:  Z[o] = sum_j Ap[o s + j d] / divisor(o)    (padding adds 0)

Backward (seed 003, "backpropagating across pooling"): the gradient of a maximum goes to the one
input that won its window; an average sends dZ[o] / divisor(o) to every input of window o
(seed 003's dA = (1/k) expand(dZ) when windows tile the map). Windows that overlap add up.

Max pooling returns, like PyTorch's return_indices, the flat index of each window's winner in
its input map; max_pool_backward scatters dZ to those indices.
"""

from __future__ import annotations

import math

import numpy as np

from ..kernels.sizes import pool_geometry, windows_span
from .padding import pad, window


def _with_overhang(pads, spatial, k, s, d, out):
    """pads extended at the high end by ceil_mode's overhang: the out windows span
    (out - 1) s + d (k - 1) + 1 positions (sizes.windows_span), those past the padded input absent."""
    return tuple((lo, hi + max(windows_span(o, ki, si, di) - (n + lo + hi), 0))
                 for (lo, hi), n, ki, si, di, o in zip(pads, spatial, k, s, d, out))


def max_pool_forward(A, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Z[n, c, o] = max_j Ap[n, c, o s + j d]. A (N, C, *in) -> (Z, indices), both (N, C, *out)."""
    spatial = A.shape[2:]
    k, s, pads, d, out = pool_geometry(spatial, kernel_size, stride, padding, dilation, ceil_mode, "max_pool")
    pads = _with_overhang(pads, spatial, k, s, d, out)
    Ap = pad(A, pads, value=-np.inf)
    position = pad(np.arange(math.prod(spatial)).reshape(spatial), pads, value=-1)  # flat input index
    Z = np.full(A.shape[:2] + out, -np.inf, A.dtype)
    indices = np.full(A.shape[:2] + out, -1, np.int64)
    for j in np.ndindex(*k):
        patch = Ap[window(Ap, j, s, d, out)]  # (N, C, *out)
        wins = (patch > Z) | np.isnan(patch)  # the first maximum wins; a NaN always propagates
        Z = np.where(wins, patch, Z)
        indices = np.where(wins, position[window(position, j, s, d, out)], indices)
    return Z, indices


def max_pool_backward(dZ, indices, input_shape):
    """dA[n, c, indices[n, c, o]] += dZ[n, c, o]: each window's gradient goes to its winner."""
    N, C = input_shape[:2]
    dA = np.zeros((N * C, math.prod(input_shape[2:])), dZ.dtype)  # one row per input map
    rows = np.arange(N * C)[:, None]  # (N C, 1) against indices (N C, prod(out))
    np.add.at(dA, (rows, indices.reshape(N * C, -1)), dZ.reshape(N * C, -1))
    return dA.reshape(input_shape)


def _avg_geometry(spatial, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    """(k, s, pads with overhang, out, divisor (*out)) of an average pooling."""
    k, s, pads, d, out = pool_geometry(spatial, kernel_size, stride, padding, 1, ceil_mode, "avg_pool")
    full = _with_overhang(pads, spatial, k, s, d, out)
    if divisor_override is not None:
        return k, s, full, out, np.full(out, float(divisor_override))
    # count the window positions that are inputs (or padding too): pool a map of ones that is 1
    # there and 0 on the rest (ceil_mode's overhang never counts, as in PyTorch)
    ones = np.ones(spatial)
    counted = pad(pad(ones, pads, value=1.0 if count_include_pad else 0.0),
                  tuple((0, fh - h) for (_, h), (_, fh) in zip(pads, full)))
    divisor = sum(counted[window(counted, j, s, d, out)] for j in np.ndindex(*k))
    return k, s, full, out, divisor


def avg_pool_forward(A, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                     divisor_override=None):
    """Z[n, c, o] = sum_j Ap[n, c, o s + j] / divisor(o). A (N, C, *in) -> Z (N, C, *out)."""
    k, s, pads, out, divisor = _avg_geometry(A.shape[2:], kernel_size, stride, padding, ceil_mode,
                                             count_include_pad, divisor_override)
    Ap = pad(A, pads)
    d = (1,) * len(k)
    total = sum(Ap[window(Ap, j, s, d, out)] for j in np.ndindex(*k))  # (N, C, *out)
    return (total / divisor).astype(A.dtype)


def avg_pool_backward(dZ, input_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                      count_include_pad=True, divisor_override=None):
    """Every input of window o receives dZ[o] / divisor(o); the padding's share is dropped."""
    spatial = tuple(input_shape[2:])
    k, s, pads, out, divisor = _avg_geometry(spatial, kernel_size, stride, padding, ceil_mode,
                                             count_include_pad, divisor_override)
    share = (dZ / divisor).astype(dZ.dtype)  # (N, C, *out)
    dAp = np.zeros(tuple(input_shape[:2]) + tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads)), dZ.dtype)
    d = (1,) * len(k)
    for j in np.ndindex(*k):
        dAp[window(dAp, j, s, d, out)] += share
    return dAp[(Ellipsis,) + tuple(slice(lo, lo + n) for n, (lo, _) in zip(spatial, pads))]


def adaptive_ranges(n: int, out: int):
    """Window i of an adaptive pooling covers inputs [floor(i n / out), ceil((i + 1) n / out))."""
    return [slice(i * n // out, -(-(i + 1) * n // out)) for i in range(out)]


def _adaptive_windows(spatial, out):
    """Every output position with the slice of inputs its window covers."""
    ranges = [adaptive_ranges(n, o) for n, o in zip(spatial, out)]
    for o in np.ndindex(*out):
        yield o, tuple(r[i] for r, i in zip(ranges, o))


def adaptive_avg_pool_forward(A, output_size):
    """Z[n, c, o] = mean of A[n, c] over adaptive window o. A (N, C, *in) -> (N, C, *output_size)."""
    out = tuple(output_size)
    Z = np.empty(A.shape[:2] + out, A.dtype)
    axes = tuple(range(2, A.ndim))
    for o, win in _adaptive_windows(A.shape[2:], out):
        Z[(Ellipsis,) + o] = A[(Ellipsis,) + win].mean(axis=axes)
    return Z


def adaptive_avg_pool_backward(dZ, input_shape):
    """Every input of window o receives dZ[o] / (the window's size)."""
    dA = np.zeros(input_shape, dZ.dtype)
    for o, win in _adaptive_windows(input_shape[2:], dZ.shape[2:]):
        size = math.prod(w.stop - w.start for w in win)
        dA[(Ellipsis,) + win] += dZ[(Ellipsis,) + o + (None,) * len(win)] / dZ.dtype.type(size)
    return dA


def adaptive_max_pool_forward(A, output_size):
    """(Z, indices): the maximum of each adaptive window and its flat index in the input map;
    the backward is max_pool_backward."""
    out, spatial = tuple(output_size), A.shape[2:]
    Z = np.empty(A.shape[:2] + out, A.dtype)
    indices = np.empty(A.shape[:2] + out, np.int64)
    position = np.arange(math.prod(spatial)).reshape(spatial)
    for o, win in _adaptive_windows(spatial, out):
        values = A[(Ellipsis,) + win].reshape(A.shape[:2] + (-1,))  # (N, C, window size)
        # argmax returns the first maximum; a NaN counts as the maximum, as in PyTorch
        best = np.where(np.isnan(values).any(axis=2), np.isnan(values).argmax(axis=2), values.argmax(axis=2))
        Z[(Ellipsis,) + o] = np.take_along_axis(values, best[..., None], axis=2)[..., 0]
        indices[(Ellipsis,) + o] = position[win].reshape(-1)[best]
    return Z, indices
