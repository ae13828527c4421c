"""Trainable subsampling: Subsampling1d/2d/3d (LeNet-5's S2 and S4; seed 003's average pooling
with a weight; Torch7's SpatialSubSampling).

Each input map is summed over non-overlapping (by default) windows, multiplied by one trainable
coefficient and shifted by one trainable bias:

    y[n, c, p] = weight[c] * sum_{j in window p} x[n, c, j] + bias[c]

weight (in_channels,), bias (in_channels,). Initialisation as Torch7's SpatialSubSampling:
U(-1/sqrt(prod(k)), 1/sqrt(prod(k))) for both. weight = 1/prod(k), bias = 0 is AvgPool.
"""

from __future__ import annotations

import math

from ..functional.subsampling import apply_subsampling
from ..kernels.sizes import positive_tuple
from ..tensor import zeros
from . import init
from ._checks import batch_input, call_functional, positive_int
from .module import Module, Parameter

__all__ = ["SubsamplingNd", "Subsampling1d", "Subsampling2d", "Subsampling3d"]


class SubsamplingNd(Module):
    """Trainable subsampling over num_spatial_dims spatial dimensions: the sum of each window
    times one trainable coefficient per channel, plus one bias per channel (seed 003's average
    pooling with a weight, in 2-D z_{i,j} = {sum_{k=1}^{r} sum_{l=1}^{c} v_{r(i-1)+k, c(j-1)+l}} w):

    y[n, c, p] = weight[c] * sum_{j in window p} x[n, c, j] + bias[c]

    Args:
        num_spatial_dims: D, the number of spatial dimensions (1 or more).
        in_channels: channels C (the output has as many).
        kernel_size: the window, an int or D ints.
        stride: window step, an int or D ints; None (the default) is kernel_size, windows that
            do not overlap.
        padding: zeros added on both sides, an int or D ints.
        bias: learn one bias per channel.

    Shape:
        input (N, in_channels, *spatial) or unbatched (in_channels, *spatial) -> output
        (N, in_channels, *out), out_i = floor((in_i + 2 padding_i - k_i) / stride_i) + 1.
        weight: (in_channels,); bias: (in_channels,).

    Examples:
        With weight 1/2 and no bias, windows of 2 are averaged (the leftover 9 is dropped):

        >>> import glassnet
        >>> from glassnet import nn
        >>> pool = nn.SubsamplingNd(1, 1, 2, bias=False)
        >>> pool.weight.data[...] = 0.5
        >>> pool(glassnet.tensor([[[1.0, 3.0, 5.0, 7.0, 9.0]]])).tolist()
        [[[2.0, 6.0]]]
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, kernel_size, stride=None, padding=0,
                 bias: bool = True):
        super().__init__()
        n = self.num_spatial_dims = positive_int(num_spatial_dims, "num_spatial_dims")
        self.in_channels = positive_int(in_channels, "in_channels")
        self.kernel_size = positive_tuple(kernel_size, n, "kernel_size")
        self.stride = self.kernel_size if stride is None else positive_tuple(stride, n, "stride")
        self.padding = padding
        self.weight = Parameter(zeros(in_channels))
        if bias:
            self.bias = Parameter(zeros(in_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Torch7's bound 1/sqrt(prod(k)): the fan-in of one output is one window."""
        init.default_uniform_(self.weight, self.bias, fan_in=math.prod(self.kernel_size))

    def _label(self) -> str:
        return f"{type(self).__name__}({self.in_channels})"

    def forward(self, input):
        x, batched = batch_input(self._label(), input, self.num_spatial_dims, self.in_channels, self.weight)
        y = call_functional(self._label(), apply_subsampling, x, self.weight, self.bias, self.kernel_size,
                            self.stride, self.padding)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,) * self.num_spatial_dims):
            s += f", padding={self.padding}"
        return s + (", bias=False" if self.bias is None else "")


class Subsampling1d(SubsamplingNd):
    """SubsamplingNd over (N, C, L): the sum of each window times one trainable coefficient per
    channel, plus one bias per channel. Arguments as SubsamplingNd's, without num_spatial_dims.

    y[n, c, i] = weight[c] * sum_{j < k} x[n, c, i stride + j] + bias[c]

    Shape:
        input (N, C, L) or unbatched (C, L) -> output (N, C, L_out),
        L_out = floor((L + 2 padding - k) / stride) + 1. weight, bias: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Subsampling1d(3, 2)(glassnet.zeros(4, 3, 10)).shape
        (4, 3, 5)
    """

    def __init__(self, in_channels: int, kernel_size, stride=None, padding=0, bias: bool = True):
        super().__init__(1, in_channels, kernel_size, stride, padding, bias)


class Subsampling2d(SubsamplingNd):
    """SubsamplingNd over (N, C, H, W): LeNet-5's S2/S4 layers, the sum of each window times one
    trainable coefficient per channel, plus one bias per channel. Arguments as SubsamplingNd's,
    without num_spatial_dims.

    z_{i,j} = {sum_{k=1}^{r} sum_{l=1}^{c} v_{r(i-1)+k, c(j-1)+l}} w + b  (per channel, seed 003)

    Shape:
        input (N, C, H, W) or unbatched (C, H, W) -> output (N, C, H_out, W_out), each
        floor((size + 2 padding - k) / stride) + 1. weight, bias: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> s2 = nn.Subsampling2d(6, 2)
        >>> s2(glassnet.zeros(2, 6, 28, 28)).shape
        (2, 6, 14, 14)
        >>> [(name, value.shape) for name, value in s2.state_dict().items()]
        [('weight', (6,)), ('bias', (6,))]
    """

    def __init__(self, in_channels: int, kernel_size, stride=None, padding=0, bias: bool = True):
        super().__init__(2, in_channels, kernel_size, stride, padding, bias)


class Subsampling3d(SubsamplingNd):
    """SubsamplingNd over (N, C, D, H, W): the sum of each window times one trainable coefficient
    per channel, plus one bias per channel. Arguments as SubsamplingNd's, without
    num_spatial_dims.

    y[n, c, p] = weight[c] * sum_{j in window p} x[n, c, j] + bias[c]

    Shape:
        input (N, C, D, H, W) or unbatched (C, D, H, W) -> output (N, C, D_out, H_out, W_out),
        each floor((size + 2 padding - k) / stride) + 1. weight, bias: (C,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Subsampling3d(3, 2)(glassnet.zeros(4, 3, 4, 6, 6)).shape
        (4, 3, 2, 3, 3)
    """

    def __init__(self, in_channels: int, kernel_size, stride=None, padding=0, bias: bool = True):
        super().__init__(3, in_channels, kernel_size, stride, padding, bias)
