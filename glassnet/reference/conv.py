"""Convolution and transposed convolution as the lectures write them (seeds 002 and 003).

Notation (seed 003): A the input maps, W the kernels, b the biases, Z the net input; dZ, dA,
dW, db the derivatives of the loss. Map h of Z sees maps l of A through kernel W[h, l]:

    Z^h = sum_l W^(h,l) * A^l + b^h                      (* = cross-correlation, "conv" in CNNs)

In index form, for kernel offsets j and output positions o (multi-indices over D dimensions),
stride s and dilation d, with Ap the padded input:

    Z[n, h, o] = b[h] + sum_l sum_j W[h, l, j] Ap[n, l, o s + j d]

Each kernel offset j contributes one "patch" Ap[n, l, j d + o s] (all o at once): the loops
below run over the offsets only, the rest is whole-array arithmetic (seed 004).

Backward (seed 003):

    db^h     = sum of dZ^h over the batch and every position
    dW^(h,l) = dZ^h * A^l                      dW[h, l, j] = sum_{n, o} dZ[n, h, o] Ap[n, l, o s + j d]
    dA^l     = sum_h rot180(W^(h,l)) * dZ^h    the full correlation ('full' padding) of dZ with
               the kernels rotated by 180 degrees, after putting s - 1 zeros between dZ's
               elements when s > 1; then the padding's adjoint takes dAp back to dA.

Groups split the maps into G independent convolutions (map h only sees the l of its group).
A transposed convolution is the dA computation run forwards, and its backward is a convolution.
"""

from __future__ import annotations

import numpy as np

from ..kernels.sizes import output_shape, positive_tuple, resolve_padding, transpose_geometry, windows_span
from .padding import pad, pad_backward, window


def rot180(W: np.ndarray) -> np.ndarray:
    """Rotate every kernel by 180 degrees: reverse each spatial axis of (H, L, *k)."""
    return np.flip(W, axis=tuple(range(2, W.ndim)))


def geometry(spatial, k, stride, padding, dilation):
    """(s, d, pads, out) for a window of size k over spatial positions."""
    nd = len(k)
    s = positive_tuple(stride, nd, "stride")
    d = positive_tuple(dilation, nd, "dilation")
    pads = resolve_padding(padding, k, s, d, tuple(spatial))
    return s, d, pads, output_shape(tuple(spatial), k, s, pads, d)


def _groups(W: np.ndarray, groups: int):
    """For each group g: (output maps h of g, input maps l of g), as slices."""
    H, L = W.shape[0] // groups, W.shape[1]
    return [(slice(g * H, (g + 1) * H), slice(g * L, (g + 1) * L)) for g in range(groups)]


def correlate(Ap, W, s, d, out, groups=1):
    """Z[n, h, o] = sum_l sum_j W[h, l, j] Ap[n, l, o s + j d] for an already padded Ap."""
    Z = np.zeros((Ap.shape[0], W.shape[0]) + tuple(out), Ap.dtype)  # (N, H, *out)
    for h, l in _groups(W, groups):
        for j in np.ndindex(*W.shape[2:]):
            patch = Ap[:, l][window(Ap, j, s, d, out)]  # (N, L/G, *out)
            Z[:, h] += np.einsum("hl,nl...->nh...", W[(h, slice(None)) + j], patch)
    return Z


def weight_grad(dZ, Ap, k, s, d, groups=1):
    """dW[h, l, j] = sum_{n, o} dZ[n, h, o] Ap[n, l, o s + j d]: the correlation dZ * A."""
    out = dZ.shape[2:]
    batch_and_positions = (0,) + tuple(range(2, dZ.ndim))  # the axes the sum runs over
    dW = np.zeros((dZ.shape[1], Ap.shape[1] // groups) + tuple(k), dZ.dtype)  # (H, L/G, *k)
    for h, l in _groups(dW, groups):
        for j in np.ndindex(*k):
            patch = Ap[:, l][window(Ap, j, s, d, out)]  # (N, L/G, *out)
            dW[(h, slice(None)) + j] = np.tensordot(dZ[:, h], patch, (batch_and_positions,) * 2)
    return dW


def full_correlation_rot180(dZ, W, s, d, groups, padded):
    """dAp = sum_h rot180(W^(h,l)) * dZ^h (seed 003), as an array of the padded input's size.

    dZ (N, H, *out), W (H, L/G, *k) -> dAp (N, L, *padded).
    """
    N, H, out = dZ.shape[0], dZ.shape[1], dZ.shape[2:]
    k = W.shape[2:]
    # 1. the stride put back: s - 1 zeros between neighbouring elements of dZ, (o - 1) s + 1 long
    up = np.zeros((N, H) + tuple(windows_span(o, 1, si) for o, si in zip(out, s)), dZ.dtype)
    up[(Ellipsis,) + tuple(slice(None, None, si) for si in s)] = dZ
    # 2. input and output maps swap roles within each group: Wt[l, h] = W[h, l]
    G, Hg, Lg = groups, H // groups, W.shape[1]
    Wt = W.reshape((G, Hg, Lg) + k).swapaxes(1, 2).reshape((G * Lg, Hg) + k)  # (L, H/G, *k)
    # 3. the full correlation with the rotated kernels: d (k - 1) zeros on each side
    full = resolve_padding("full", k, (1,) * len(k), d)
    reached = correlate(pad(up, full), rot180(Wt), (1,) * len(k), d,
                        output_shape(up.shape[2:], k, (1,) * len(k), full, d),
                        groups)  # (N, L, (out - 1) s + d (k - 1) + 1)
    # 4. padded positions past the last window receive nothing
    beyond = [(0, 0), (0, 0)] + [(0, p - r) for p, r in zip(padded, reached.shape[2:])]
    return np.pad(reached, beyond)


def conv_forward(A, W, b=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False):
    """Z = W * A + b. A (N, L, *in), W (H, L/G, *k), b (H,) -> Z (N, H, *out),
    out_i = floor((in_i + p_lo + p_hi - d_i (k_i - 1) - 1) / s_i) + 1 (seed 001).

    flip=True rotates every kernel by 180 degrees first: true convolution (seed 001).
    """
    s, d, pads, out = geometry(A.shape[2:], W.shape[2:], stride, padding, dilation)
    if flip:
        W = rot180(W)
    Z = correlate(pad(A, pads, padding_mode), W, s, d, out, groups)
    if b is not None:
        Z += b.reshape((-1,) + (1,) * len(out))  # (H, 1, ..., 1) over (N, H, *out)
    return Z


def conv_backward(dZ, A, W, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", flip=False):
    """(dA, dW, db) of conv_forward for dZ (N, H, *out) (seed 003)."""
    k = W.shape[2:]
    s, d, pads, _ = geometry(A.shape[2:], k, stride, padding, dilation)
    Wf = rot180(W) if flip else W  # the kernel the forward actually used
    Ap = pad(A, pads, padding_mode)
    db = dZ.sum(axis=(0,) + tuple(range(2, dZ.ndim)))
    dW = weight_grad(dZ, Ap, k, s, d, groups)
    if flip:
        dW = rot180(dW)  # the gradient of W, not of the flipped kernel
    dAp = full_correlation_rot180(dZ, Wf, s, d, groups, Ap.shape[2:])
    dA = pad_backward(dAp, pads, padding_mode)
    return dA, dW, db


def conv_transpose_forward(A, W, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed convolution. A (N, L, *in), W (L, H/G, *k), b (H,) -> Z (N, H, *out).

    It is dA of a convolution whose kernels are W (seed 003's rot180 formula), cropped by the
    padding: every A[n, l, i] adds A * W[l, h, j] at output position i s + j d.
    """
    s, d, pads, full, out = transpose_geometry(A.shape[2:], W.shape[2:], stride, padding, output_padding, dilation)
    Zfull = full_correlation_rot180(A, W, s, d, groups, full)  # (N, H, *full)
    Z = Zfull[(Ellipsis,) + tuple(slice(lo, lo + o) for (lo, _), o in zip(pads, out))]
    if b is not None:
        Z = Z + b.reshape((-1,) + (1,) * len(out))
    return np.ascontiguousarray(Z)


def conv_transpose_backward(dZ, A, W, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """(dA, dW, db) of conv_transpose_forward: its adjoint is the convolution itself.

    With dZ padded back to the uncropped size (zeros where the crop was):
        dA = W * dZfull        dA[n, l, i] = sum_{h, j} W[l, h, j] dZfull[n, h, i s + j d]
        dW = A * dZfull        dW[l, h, j] = sum_{n, i} A[n, l, i] dZfull[n, h, i s + j d]
    """
    k = W.shape[2:]
    s, d, pads, full, out = transpose_geometry(A.shape[2:], k, stride, padding, output_padding, dilation)
    dZfull = pad(dZ, pads)  # (N, H, *full)
    dA = correlate(dZfull, W, s, d, A.shape[2:], groups)  # (N, L, *in)
    dW = weight_grad(A, dZfull, k, s, d, groups)  # (L, H/G, *k)
    db = dZ.sum(axis=(0,) + tuple(range(2, dZ.ndim)))
    return dA, dW, db
