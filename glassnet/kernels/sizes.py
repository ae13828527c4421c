"""Index arithmetic for sliding-window operations (convolution and pooling).

Every output-size formula, padding rule and argument normalisation lives here, so that
convolution, pooling, the unusual layers and the explain tools all count the same way.

The output size of a window of size k, dilation d and stride s sliding over n inputs padded
with p_lo zeros before and p_hi after (seed 001, seed 004) is

    out = floor((n + p_lo + p_hi - d (k - 1) - 1) / s) + 1

With symmetric padding p this is the familiar floor((n + 2p - d(k-1) - 1)/s) + 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

Pads = tuple[tuple[int, int], ...]  # one (low, high) pair per spatial dimension

PADDING_STRINGS = ("valid", "same", "full")
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def spatial_names(n: int) -> tuple[str, ...]:
    """Names of n spatial dimensions as PyTorch's documentation writes them, for shapes in error
    messages: ("L",), ("H", "W"), ("D", "H", "W"), and d1, d2, ... beyond three."""
    return {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}.get(n, tuple(f"d{i + 1}" for i in range(n)))


def _is_int(v) -> bool:
    """Python and NumPy integers (shapes often come as np.int64), but not bools."""
    if type(v) is int:  # the common case first: the ABC check below costs microseconds per call
        return True
    return isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_))


def ntuple(value, n: int, name: str) -> tuple[int, ...]:
    """Broadcast an int (or a one-element sequence, as PyTorch does) to an n-tuple, or check that
    a sequence has n ints."""
    if _is_int(value):
        return (int(value),) * n
    if isinstance(value, tuple) and len(value) == n and all(type(v) is int for v in value):
        return value  # already normalised (layers pass their tuples on every call)
    if isinstance(value, Sequence) and not isinstance(value, str):
        out = tuple(value)
        if len(out) == 1 and _is_int(out[0]):
            return (int(out[0]),) * n
        if len(out) != n or not all(_is_int(v) for v in out):
            raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")
        return tuple(int(v) for v in out)
    raise TypeError(f"{name} must be an int or a tuple of {n} ints, got {value!r}")


def positive_tuple(value, n: int, name: str) -> tuple[int, ...]:
    out = ntuple(value, n, name)
    if any(v < 1 for v in out):
        raise ValueError(f"{name} must be >= 1 in every dimension, got {value!r}")
    return out


def check_padding_string(padding: str) -> str:
    """A padding given by name: one of PADDING_STRINGS."""
    if padding not in PADDING_STRINGS:
        raise ValueError(f"padding must be an int, a tuple, (low, high) pairs or one of {PADDING_STRINGS}, "
                         f"got {padding!r}")
    return padding


def resolve_padding(padding, kernel_size: Sequence[int], stride: Sequence[int],
                    dilation: Sequence[int], spatial_shape: Sequence[int] | None = None) -> Pads:
    """Turn any accepted padding form into one (low, high) pair per spatial dimension.

    Accepted forms: an int; a tuple of one int per dimension; a tuple of one (low, high) pair
    per dimension (asymmetric); the strings

    - 'valid': no padding;
    - 'full': d(k-1) on both sides, so every partial overlap produces an output;
    - 'same': output size ceil(n / s). The total padding is
      max((out - 1) s + d (k - 1) + 1 - n, 0), split with the odd extra on the high side
      (TensorFlow's rule; with s = 1 it is also PyTorch's). Needs the input size when s > 1.
    """
    n = len(kernel_size)
    if len(stride) != n or len(dilation) != n or (spatial_shape is not None and len(spatial_shape) != n):
        raise ValueError(f"resolve_padding needs one value per spatial dimension: kernel_size "
                         f"{tuple(kernel_size)}, stride {tuple(stride)}, dilation {tuple(dilation)}, "
                         f"spatial shape {None if spatial_shape is None else tuple(spatial_shape)}")
    if isinstance(padding, str):
        check_padding_string(padding)
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "full":
            return tuple((d * (k - 1), d * (k - 1)) for k, d in zip(kernel_size, dilation))
        if padding == "same":
            if spatial_shape is None:
                if any(s != 1 for s in stride):
                    raise ValueError("padding='same' with stride > 1 needs the input size")
                spatial_shape = [0] * n
            pads = []
            for size, k, s, d in zip(spatial_shape, kernel_size, stride, dilation):
                total = d * (k - 1) if s == 1 else max(windows_span(math.ceil(size / s), k, s, d) - size, 0)
                pads.append((total // 2, total - total // 2))
            return tuple(pads)
    if isinstance(padding, Sequence) and len(padding) == n and all(
            isinstance(p, Sequence) and not isinstance(p, str) for p in padding):
        pads = tuple(tuple(p) for p in padding)
        if not all(len(p) == 2 and all(_is_int(v) for v in p) for p in pads):
            raise ValueError(f"asymmetric padding must be {n} (low, high) int pairs, got {padding!r}")
        pads = tuple((int(lo), int(hi)) for lo, hi in pads)
    else:
        pads = tuple((p, p) for p in ntuple(padding, n, "padding"))
    if any(v < 0 for p in pads for v in p):
        raise ValueError(f"padding must be >= 0, got {padding!r}")
    return pads


def dilated_extent(k: int, d: int = 1) -> int:
    """How many input positions a window of k taps with dilation d spans: d (k - 1) + 1."""
    return d * (k - 1) + 1


def windows_span(out: int, k: int, s: int, d: int = 1) -> int:
    """How many input positions `out` windows (k taps, dilation d, stride s) span, from the first
    window's first tap to the last window's last: (out - 1) s + d (k - 1) + 1. A padded input
    must be at least this long for `out` windows to fit."""
    return (out - 1) * s + dilated_extent(k, d)


def conv_output_size(n: int, k: int, s: int, pad: tuple[int, int], d: int = 1) -> int:
    """floor((n + p_lo + p_hi - d(k-1) - 1) / s) + 1 (may be <= 0: callers check)."""
    return (n + pad[0] + pad[1] - dilated_extent(k, d)) // s + 1


def tap_positions(out: int, k: int, s: int, d: int = 1, pad_lo: int = 0) -> np.ndarray:
    """(out, k) int array: the input position that tap j of window i reads, i s + j d - p_lo.

    Positions below 0 or from n on fall in the padding (what they read there depends on the
    padding mode)."""
    return np.arange(out)[:, None] * s + np.arange(k)[None, :] * d - pad_lo  # (out, k)


def pool_output_size(n: int, k: int, s: int, pad: tuple[int, int], d: int = 1,
                     ceil_mode: bool = False) -> int:
    """Pooling output size; with ceil_mode the last window may hang over the end, but (as in
    PyTorch) it must start inside the input or the left padding."""
    if not ceil_mode:
        return conv_output_size(n, k, s, pad, d)
    out = -(-(n + pad[0] + pad[1] - dilated_extent(k, d)) // s) + 1  # ceil in place of floor
    if (out - 1) * s >= n + pad[0]:
        out -= 1
    return out


def output_shape(spatial_shape: Sequence[int], kernel_size: Sequence[int], stride: Sequence[int],
                 pads: Pads, dilation: Sequence[int]) -> tuple[int, ...]:
    return tuple(conv_output_size(n, k, s, p, d)
                 for n, k, s, p, d in zip(spatial_shape, kernel_size, stride, pads, dilation))


def check_window_fits(spatial_shape: Sequence[int], kernel_size: Sequence[int], pads: Pads,
                      dilation: Sequence[int], what: str = "kernel") -> None:
    """Raise a clear error when the (dilated) window is larger than the padded input."""
    for i, (n, k, p, d) in enumerate(zip(spatial_shape, kernel_size, pads, dilation)):
        extent = dilated_extent(k, d)
        if extent > n + p[0] + p[1]:
            padded = tuple(m + q[0] + q[1] for m, q in zip(spatial_shape, pads))
            raise ValueError(
                f"{what} of size {tuple(kernel_size)} (dilation {tuple(dilation)}) is larger than the "
                f"padded input of spatial size {padded} (input {tuple(spatial_shape)}, padding "
                f"{tuple(pads)}) in dimension {i}")


def pool_geometry(spatial_shape, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                  what: str = "pooling"):
    """Normalise and check pooling arguments (PyTorch's rules) for an input of `spatial_shape`.

    stride defaults to kernel_size. Padding is an int, one int per dimension or one (low, high)
    pair per dimension; each side may be at most half the kernel (kernel_size // 2), as
    PyTorch requires. The window must fit in the padded input, except that ceil_mode may let
    the last window overhang. Returns
    (kernel_size, stride, pads, dilation, out_shape) with
    out = floor-or-ceil((n + p_lo + p_hi - d (k - 1) - 1) / s) + 1.
    """
    nd = len(spatial_shape)
    k = positive_tuple(kernel_size, nd, f"{what} kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        s = k  # PyTorch's default (None, or [] from nn modules): windows side by side
    else:
        s = positive_tuple(stride, nd, f"{what} stride")
    d = positive_tuple(dilation, nd, f"{what} dilation")
    pads = resolve_padding(padding, k, s, d, spatial_shape)
    for i, (kk, (lo, hi)) in enumerate(zip(k, pads)):
        if max(lo, hi) > kk // 2:
            raise ValueError(f"{what} padding must be at most half the kernel size in every dimension, "
                             f"got padding {tuple(pads)} for kernel_size {k} (dimension {i})")
    out = tuple(pool_output_size(n, kk, ss, p, dd, ceil_mode)
                for n, kk, ss, p, dd in zip(spatial_shape, k, s, pads, d))
    if min(out) < 1:
        # with ceil_mode PyTorch lets the window overhang the input as long as one output remains,
        # so only an empty output is an error
        check_window_fits(spatial_shape, k, pads, d, what=f"{what} kernel")
    return k, s, pads, d, out


def transposed_full_size(n: int, k: int, s: int, d: int = 1, output_padding: int = 0) -> int:
    """The uncropped output size of a transposed convolution: (n - 1) s + d (k - 1) + 1 +
    output_padding, where every input position's window lands (PyTorch's formula before the
    padding is cropped off)."""
    return (n - 1) * s + dilated_extent(k, d) + output_padding


def transpose_geometry(spatial_shape, kernel_size, stride, padding, output_padding, dilation,
                       what: str = "transposed convolution") -> tuple:
    """(stride, dilation, pads, full, out) of a transposed convolution of an input of spatial_shape.

    full_i = transposed_full_size(...) is the uncropped size and the output is full cropped by
    (p_lo, p_hi): out_i = full_i - p_lo - p_hi (PyTorch's formula for symmetric p). padding takes
    every conv form; 'same' means the adjoint of a 'same' convolution whose input has in_i * s_i
    positions. output_padding must be >= 0 and below the stride or the dilation, as in PyTorch.
    """
    k, spatial = tuple(kernel_size), tuple(spatial_shape)
    nd = len(k)
    stride = positive_tuple(stride, nd, "stride")
    dilation = positive_tuple(dilation, nd, "dilation")
    op = tuple(int(v) for v in np.broadcast_to(np.asarray(output_padding, dtype=np.int64), (nd,)))
    for i, (p, s, d) in enumerate(zip(op, stride, dilation)):
        if p < 0 or p >= max(s, d):
            raise ValueError(f"output_padding must be >= 0 and smaller than stride or dilation in every "
                             f"dimension, got output_padding={output_padding!r} with stride={stride}, "
                             f"dilation={dilation} (dimension {i})")
    pads = resolve_padding(padding, k, stride, dilation, tuple(n * s for n, s in zip(spatial, stride)))
    full = tuple(transposed_full_size(n, kk, s, d, p) for n, kk, s, d, p in zip(spatial, k, stride, dilation, op))
    out = tuple(f - lo - hi for f, (lo, hi) in zip(full, pads))
    if any(o < 1 for o in out):
        raise ValueError(f"{what} of spatial size {spatial} with kernel {k}, stride {stride}, padding {pads}, "
                         f"dilation {dilation} gives output size {out}: the padding crops everything")
    return stride, dilation, pads, full, out
