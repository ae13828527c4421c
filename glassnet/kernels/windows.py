"""Padding and the N-dimensional sliding-window view shared by convolution and pooling.

`sliding_windows` is the one patch extractor of glassnet (after Chainer's conv_nd): it returns a
*view* of shape (N, C, *out, *k) without copying, so x_windows[n, c, i, j, :, :] is the window
that output (i, j) sees. Convolution is then a sum of products over (C, *k), pooling a max or a
mean over (*k).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .sizes import Pads, windows_span

_NUMPY_MODE = {"reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x: np.ndarray, pads: Pads, mode: str = "zeros", value: float = 0.0) -> np.ndarray:
    """Pad the trailing len(pads) dimensions of x; (low, high) per dimension.

    mode: 'zeros' (or 'constant' with `value`), 'reflect' (mirror without repeating the edge),
    'replicate' (repeat the edge), 'circular' (wrap around); callers check it (functional/_checks.py).
    """
    if len(pads) > x.ndim:
        raise ValueError(f"pad got {len(pads)} (low, high) pairs for an input of shape {x.shape}")
    if all(tuple(p) == (0, 0) for p in pads):
        return x
    lead = [(0, 0)] * (x.ndim - len(pads))
    if mode in ("zeros", "constant"):
        return np.pad(x, lead + list(pads), mode="constant", constant_values=value)
    check_copy_fits(x.shape, pads, mode)
    return np.pad(x, lead + list(pads), mode=_NUMPY_MODE[mode])


def check_copy_fits(shape: tuple, pads: Pads, mode: str) -> None:
    """Refuse padding that copies from further than the input reaches: reflect needs a mirror
    image inside the input (each amount < n), circular at most one full wrap (<= n); replicate
    repeats the edge any number of times (PyTorch's rules). The one place this is checked, for
    convolution's padding_mode and functional.pad alike. Dimensions are named from the end (-1 the
    last), which reads the same for the caller's input and the arrays the kernels pad."""
    first = len(shape) - len(pads)
    for dim, (n, (lo, hi)) in enumerate(zip(shape[first:], pads), start=first):
        limit = {"reflect": n - 1, "circular": n}.get(mode)
        if limit is not None and max(lo, hi) > limit:
            rule = "less than" if mode == "reflect" else "at most"
            raise ValueError(f"{mode!r} padding needs each padding amount {rule} the size of its dimension "
                             f"(<= {limit}); got {(lo, hi)} for dimension {dim - len(shape)} of size {n}")


def pad_backward(dxp: np.ndarray, pads: Pads, mode: str = "zeros") -> np.ndarray:
    """Adjoint of `pad`: gradient w.r.t. the unpadded input.

    Zero padding: the padded border received no input, so its gradient is dropped (a slice).
    Other modes copy input values into the border, so the border's gradient is added back onto
    the input positions it was copied from, one dimension at a time.
    """
    nd = len(pads)
    if all(tuple(p) == (0, 0) for p in pads):
        return dxp
    if mode in ("zeros", "constant"):
        index = tuple(slice(lo, dxp.shape[dxp.ndim - nd + i] - hi) for i, (lo, hi) in enumerate(pads))
        return dxp[(Ellipsis,) + index]
    g = dxp
    for i, (lo, hi) in enumerate(pads):
        axis = g.ndim - nd + i
        g = np.moveaxis(g, axis, -1)  # (..., n + lo + hi) with this dimension last
        n = g.shape[-1] - lo - hi
        core = g[..., lo:lo + n].copy()
        # source index in the input of each padded position, as np.pad computes it
        src = np.pad(np.arange(n), (lo, hi), mode=_NUMPY_MODE[mode])
        border = np.r_[0:lo, lo + n:lo + n + hi]
        np.add.at(np.moveaxis(core, -1, 0), src[border], np.moveaxis(g[..., border], -1, 0))
        g = np.moveaxis(core, -1, axis)
    return g


def sliding_windows(xp: np.ndarray, kernel_size, stride, dilation, out_shape) -> np.ndarray:
    """View of an already padded (N, C, *spatial) array as (N, C, *out, *k) windows.

    window[n, c, o_1..o_D, j_1..j_D] = xp[n, c, o_1 s_1 + j_1 d_1, ..., o_D s_D + j_D d_D]
    No copy is made; the view must be treated as read-only.
    """
    nd = len(kernel_size)
    spatial = xp.shape[xp.ndim - nd:]
    # as_strided does no bounds checking: a window past the end would read foreign memory
    for i, (n, k, s, d, o) in enumerate(zip(spatial, kernel_size, stride, dilation, out_shape)):
        if o < 0 or (o > 0 and windows_span(o, k, s, d) > n):
            raise ValueError(f"sliding_windows: {tuple(out_shape)} windows of size {tuple(kernel_size)} "
                             f"(stride {tuple(stride)}, dilation {tuple(dilation)}) do not fit in the "
                             f"padded input of spatial shape {spatial} (dimension {i})")
    lead_strides = xp.strides[:-nd]
    sp_strides = xp.strides[-nd:]
    shape = xp.shape[:-nd] + tuple(out_shape) + tuple(kernel_size)  # (N, C, *out, *k)
    strides = (lead_strides + tuple(st * s for st, s in zip(sp_strides, stride))
               + tuple(st * d for st, d in zip(sp_strides, dilation)))
    return as_strided(xp, shape=shape, strides=strides, writeable=False)


def move_channels_last(a: np.ndarray) -> np.ndarray:
    """(N, C, *S) -> (N, *S, C), a view: np.moveaxis(a, 1, -1) without its argument checks,
    which cost a few microseconds on every layer call."""
    return a.transpose((0,) + tuple(range(2, a.ndim)) + (1,))


def move_channels_first(a: np.ndarray) -> np.ndarray:
    """(N, *S, C) -> (N, C, *S), a view: the inverse of move_channels_last."""
    return a.transpose((0, a.ndim - 1) + tuple(range(1, a.ndim - 1)))
