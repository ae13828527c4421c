"""Pooling layers: max and average over sliding windows, and adaptive pooling to a fixed output
size (seed 001), for 1, 2 and 3 spatial dimensions, with torch.nn's arguments and defaults
(stride defaults to kernel_size). The work is done by glassnet.functional.

Output size per spatial dimension: floor((n + 2p - d(k-1) - 1) / s) + 1 (ceil with ceil_mode).
"""

from __future__ import annotations

import numpy as np

from ..functional.pooling import adaptive_avg_pool_nd, adaptive_max_pool_nd, avg_pool_nd, max_pool_nd
from ..kernels.sizes import ntuple, positive_tuple
from ._checks import call_functional
from .module import Module


class _PoolBase(Module):
    num_spatial_dims: int

    def _label(self) -> str:
        return type(self).__name__

    def _set_window(self, kernel_size, stride, padding) -> None:
        """Validate now, but keep the user's forms (int or tuple) for repr, as torch does;
        stride defaults to kernel_size."""
        n = self.num_spatial_dims
        positive_tuple(kernel_size, n, "kernel_size")
        if stride is not None:
            positive_tuple(stride, n, "stride")
        if any(p < 0 for p in ntuple(padding, n, "padding")):
            raise ValueError(f"padding must be >= 0, got {padding!r}")
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding


class _MaxPoolNd(_PoolBase):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__()
        self._set_window(kernel_size, stride, padding)
        positive_tuple(dilation, self.num_spatial_dims, "dilation")
        self.dilation = dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input):
        # the input is checked once, by the functional entry, under this layer's name
        return call_functional(self._label(), max_pool_nd, input, self.num_spatial_dims, self.kernel_size,
                               self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices,
                               self._label())


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L): PyTorch's MaxPool1d. Each output is the largest value in
    its window; the backward pass sends the gradient to that one position.

    Args:
        kernel_size: the window, an int or 1 ints.
        stride: window step (default: kernel_size, windows that do not overlap).
        padding: -inf added on every side (at most half the window).
        dilation: spacing of the window's taps.
        return_indices: also return each maximum's flat position in its input map.
        ceil_mode: round the output size up, so a last partial window counts.

    Shape:
        (N, C, L) or (C, L) -> (N, C, L_out), each output size
        floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.MaxPool1d(2)(glassnet.zeros(8, 6, 28)).shape
        (8, 6, 14)
    """
    num_spatial_dims = 1


class MaxPool2d(_MaxPoolNd):
    """Max over windows of (N, C, H, W): PyTorch's MaxPool2d. Each output is the largest value in
    its window; the backward pass sends the gradient to that one position.

    Args:
        kernel_size: the window, an int or 2 ints.
        stride: window step (default: kernel_size, windows that do not overlap).
        padding: -inf added on every side (at most half the window).
        dilation: spacing of the window's taps.
        return_indices: also return each maximum's flat position in its input map.
        ceil_mode: round the output size up, so a last partial window counts.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), each output size
        floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.MaxPool2d(2)(glassnet.zeros(8, 6, 28, 28)).shape
        (8, 6, 14, 14)
    """
    num_spatial_dims = 2


class MaxPool3d(_MaxPoolNd):
    """Max over windows of (N, C, D, H, W): PyTorch's MaxPool3d. Each output is the largest value in
    its window; the backward pass sends the gradient to that one position.

    Args:
        kernel_size: the window, an int or 3 ints.
        stride: window step (default: kernel_size, windows that do not overlap).
        padding: -inf added on every side (at most half the window).
        dilation: spacing of the window's taps.
        return_indices: also return each maximum's flat position in its input map.
        ceil_mode: round the output size up, so a last partial window counts.

    Shape:
        (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), each output size
        floor((size + 2 * padding - dilation * (kernel - 1) - 1) / stride) + 1.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.MaxPool3d(2)(glassnet.zeros(8, 6, 8, 16, 16)).shape
        (8, 6, 4, 8, 8)
    """
    num_spatial_dims = 3


class _AvgPoolNd(_PoolBase):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None):
        super().__init__()
        self._set_window(kernel_size, stride, padding)
        # torch refuses only 0 (a negative divisor flips the sign); np.integer counts as an int
        if divisor_override is not None and (isinstance(divisor_override, bool) or divisor_override == 0
                                             or not isinstance(divisor_override, (int, np.integer))):
            raise ValueError(f"divisor_override must be a nonzero int or None, got {divisor_override!r}")
        self.ceil_mode = ceil_mode
        self.count_include_pad, self.divisor_override = count_include_pad, divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input):
        return call_functional(self._label(), avg_pool_nd, input, self.num_spatial_dims, self.kernel_size,
                               self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                               self.divisor_override, self._label())


class AvgPool1d(_AvgPoolNd):
    """Mean over windows of (N, C, L): PyTorch's AvgPool1d (a convolution with the fixed kernel
    1 / window size, channel by channel).

    Args:
        kernel_size: the window, an int or 1 ints.
        stride: window step (default: kernel_size).
        padding: zeros added on every side (at most half the window).
        ceil_mode: round the output size up.
        count_include_pad: divide by the whole window, padding included (else only the real
            values).

    Shape:
        (N, C, L) or (C, L) -> (N, C, L_out), sizes as for MaxPool1d.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AvgPool1d(2)(glassnet.ones(1, 1, 28)).sum().item()
        14.0
    """
    num_spatial_dims = 1

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Mean over windows of (N, C, H, W): PyTorch's AvgPool2d (a convolution with the fixed kernel
    1 / window size, channel by channel).

    Args:
        kernel_size: the window, an int or 2 ints.
        stride: window step (default: kernel_size).
        padding: zeros added on every side (at most half the window).
        ceil_mode: round the output size up.
        count_include_pad: divide by the whole window, padding included (else only the real
            values).
        divisor_override: divide by this instead.

    Shape:
        (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), sizes as for MaxPool2d.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AvgPool2d(2)(glassnet.ones(1, 1, 28, 28)).sum().item()
        196.0
    """
    num_spatial_dims = 2


class AvgPool3d(_AvgPoolNd):
    """Mean over windows of (N, C, D, H, W): PyTorch's AvgPool3d (a convolution with the fixed kernel
    1 / window size, channel by channel).

    Args:
        kernel_size: the window, an int or 3 ints.
        stride: window step (default: kernel_size).
        padding: zeros added on every side (at most half the window).
        ceil_mode: round the output size up.
        count_include_pad: divide by the whole window, padding included (else only the real
            values).
        divisor_override: divide by this instead.

    Shape:
        (N, C, D, H, W) or (C, D, H, W) -> (N, C, D_out, H_out, W_out), sizes as for MaxPool3d.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AvgPool3d(2)(glassnet.ones(1, 1, 8, 16, 16)).sum().item()
        256.0
    """
    num_spatial_dims = 3


class _AdaptivePoolNd(_PoolBase):
    kind: str

    def __init__(self, output_size):
        super().__init__()
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * self.num_spatial_dims
        if len(sizes) != self.num_spatial_dims or not all(
                s is None or (isinstance(s, int) and not isinstance(s, bool) and s >= 1) for s in sizes):
            raise ValueError(f"output_size must be a positive int or a tuple of {self.num_spatial_dims} "
                             f"positive ints (or None to keep a size), got {output_size!r}")
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptivePoolNd):
    def forward(self, input):
        return call_functional(self._label(), adaptive_avg_pool_nd, input, self.num_spatial_dims, self.output_size,
                               self._label())


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    def __init__(self, output_size, return_indices: bool = False):
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return call_functional(self._label(), adaptive_max_pool_nd, input, self.num_spatial_dims, self.output_size,
                               self.return_indices, self._label())


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Mean over windows whose size is chosen to give a fixed output length (seed 001):
    PyTorch's AdaptiveAvgPool1d. Window i of an input of length n with output size m spans
    [floor(i n / m), ceil((i + 1) n / m)), so windows may differ in size and overlap.

    Args:
        output_size: an int (None keeps the input length).

    Shape:
        input (N, C, L) or (C, L) -> output (N, C, output_size) or (C, output_size).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
        >>> nn.AdaptiveAvgPool1d(2)(x).tolist()     # windows [1, 2, 3] and [3, 4, 5]
        [[[2.0, 4.0]]]
    """
    num_spatial_dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Mean over windows whose size is chosen to give a fixed (H_out, W_out): PyTorch's
    AdaptiveAvgPool2d. Along each dimension, window i of an input of size n with output size m
    spans [floor(i n / m), ceil((i + 1) n / m)). output_size=1 is global average pooling, the
    step before a classifier that accepts any image size.

    Args:
        output_size: an int or 2 ints (None keeps that input size).

    Shape:
        input (N, C, H, W) or (C, H, W) -> output (N, C, H_out, W_out) or (C, H_out, W_out).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AdaptiveAvgPool2d(1)(glassnet.ones(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
        >>> nn.AdaptiveAvgPool2d((2, None))(glassnet.zeros(1, 3, 5, 6)).shape
        (1, 3, 2, 6)
    """
    num_spatial_dims = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Mean over windows whose size is chosen to give a fixed output size: PyTorch's
    AdaptiveAvgPool3d. Window i of an input of size n with output size m spans
    [floor(i n / m), ceil((i + 1) n / m)).

    Args:
        output_size: an int or 3 ints (None keeps that input size).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AdaptiveAvgPool3d(1)(glassnet.zeros(8, 64, 2, 7, 7)).shape
        (8, 64, 1, 1, 1)
    """
    num_spatial_dims = 3


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max over windows whose size is chosen to give a fixed output size: PyTorch's
    AdaptiveMaxPool1d. Window i of an input of size n with output size m spans
    [floor(i n / m), ceil((i + 1) n / m)).

    Args:
        output_size: an int or 1 ints (None keeps that input size).
        return_indices: also return the position of each maximum.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AdaptiveMaxPool1d(1)(glassnet.zeros(8, 64, 10)).shape
        (8, 64, 1)
    """
    num_spatial_dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max over windows whose size is chosen to give a fixed output size: PyTorch's
    AdaptiveMaxPool2d. Window i of an input of size n with output size m spans
    [floor(i n / m), ceil((i + 1) n / m)).

    Args:
        output_size: an int or 2 ints (None keeps that input size).
        return_indices: also return the position of each maximum.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AdaptiveMaxPool2d(1)(glassnet.zeros(8, 64, 7, 7)).shape
        (8, 64, 1, 1)
    """
    num_spatial_dims = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Max over windows whose size is chosen to give a fixed output size: PyTorch's
    AdaptiveMaxPool3d. Window i of an input of size n with output size m spans
    [floor(i n / m), ceil((i + 1) n / m)).

    Args:
        output_size: an int or 3 ints (None keeps that input size).
        return_indices: also return the position of each maximum.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.AdaptiveMaxPool3d(1)(glassnet.zeros(8, 64, 2, 7, 7)).shape
        (8, 64, 1, 1, 1)
    """
    num_spatial_dims = 3


__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
           "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"]
