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

from ..functional.subsampling import subsampling
from ..kernels.sizes import positive_tuple
from ..tensor import zeros
from . import init
from ._checks import batch_input, call_functional, positive_int
from .module import Module, Parameter

__all__ = ["SubsamplingNd", "Subsampling1d", "Subsampling2d", "Subsampling3d"]


class SubsamplingNd(Module):
    """Input (N, in_channels, *in) or unbatched -> (N, in_channels, *out),
    out_i = floor((in_i + 2 padding_i - k_i) / stride_i) + 1 (stride defaults to kernel_size)."""

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
        y = call_functional(self._label(), subsampling, x, self.weight, self.bias, self.kernel_size, self.stride,
                            self.padding)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,) * self.num_spatial_dims):
            s += f", padding={self.padding}"
        return s + (", bias=False" if self.bias is None else "")


class Subsampling1d(SubsamplingNd):
    """SubsamplingNd over (N, C, L)."""

    def __init__(self, in_channels: int, kernel_size, stride=None, padding=0, bias: bool = True):
        super().__init__(1, in_channels, kernel_size, stride, padding, bias)


class Subsampling2d(SubsamplingNd):
    """SubsamplingNd over (N, C, H, W): LeNet-5's S2/S4 layers, the sum of each window times one
    trainable coefficient per channel, plus one bias per channel.

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
    """SubsamplingNd over (N, C, D, H, W)."""

    def __init__(self, in_channels: int, kernel_size, stride=None, padding=0, bias: bool = True):
        super().__init__(3, in_channels, kernel_size, stride, padding, bias)
