"""Convolution through a connection table: ConvMap1d/2d/3d (seed 003's connection matrix;
LeNet-5's C3; Torch7's SpatialConvolutionMap).

`table` (out_channels, in_channels) of 0/1 says which input map feeds which output map
(glassnet.nn.tables builds the usual ones). Only connected pairs have a kernel:

    weight (connections, *kernel_size)  in row-major order of the table, connections = table.sum()
    bias   (out_channels,)

Initialisation: output map i with f_i connected inputs has fan_in = f_i prod(k); its kernels and
bias are drawn from U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (ConvNd's rule, per output map). The
table is kept as a boolean buffer, so it is saved and loaded with the weights.
"""

from __future__ import annotations

import math

import numpy as np

from ..functional._checks import check_padding_mode
from ..functional.convmap import _check_table, apply_conv_map
from ..kernels.sizes import positive_tuple
from ..tensor import Tensor, zeros
from ._checks import batch_input, call_functional, positive_int
from .module import Module, Parameter
from .. import random as _random

__all__ = ["ConvMapNd", "ConvMap1d", "ConvMap2d", "ConvMap3d"]


class ConvMapNd(Module):
    """Convolution through a connection table over num_spatial_dims spatial dimensions: output
    map h sums the convolutions of only the input maps its row of the table names (seed 003):

    Z^{m,h} = sum over l in C^{m,h} of W^{m,(h,l)} (*) A^{m-1,l}  + b_h,

    C^{m,h} = {l : table[h, l]}. Like ConvNd, (*) is PyTorch's cross-correlation.

    Args:
        num_spatial_dims: D, the number of spatial dimensions (1 or more).
        in_channels: input feature maps.
        out_channels: output feature maps.
        kernel_size: an int or D ints.
        stride: window step, an int or D ints.
        padding: an int, D ints, D (low, high) pairs, or 'valid', 'same' or 'full'.
        dilation: spacing of the kernel's taps, an int or D ints.
        bias: learn one bias per output map.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        table: keyword only, (out_channels, in_channels) of bools or 0/1 (glassnet.nn.tables
            builds the usual ones); kept as the buffer `table`.

    Shape:
        input (N, in_channels, *spatial) or unbatched (in_channels, *spatial) -> output
        (N, out_channels, *out), out as for ConvNd. weight: (connections, *kernel_size), one
        kernel per True entry of the table in row-major order; bias: (out_channels,).

    Examples:
        The one-to-one table (depthwise): each output map is its own input map times its kernel:

        >>> import glassnet
        >>> from glassnet import nn
        >>> from glassnet.nn import tables
        >>> conv = nn.ConvMapNd(1, 2, 2, 1, table=tables.one_to_one(2), bias=False)
        >>> conv.weight.shape                   # (connections, k)
        (2, 1)
        >>> conv.weight.data[:, 0] = [2.0, 3.0]
        >>> conv(glassnet.tensor([[[1.0, 2.0], [10.0, 20.0]]])).tolist()
        [[[2.0, 4.0], [30.0, 60.0]]]
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, bias: bool = True, padding_mode: str = "zeros", *, table):
        super().__init__()
        n = self.num_spatial_dims = positive_int(num_spatial_dims, "num_spatial_dims")
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        table = _check_table(table, what=type(self).__name__)
        if table.shape != (out_channels, in_channels):
            raise ValueError(f"{type(self).__name__}({in_channels} -> {out_channels}) expected a table of shape "
                             f"(out_channels, in_channels) = ({out_channels}, {in_channels}), got {table.shape}")
        check_padding_mode(padding_mode)
        self.kernel_size = positive_tuple(kernel_size, n, "kernel_size")
        self.stride = positive_tuple(stride, n, "stride")
        self.dilation = positive_tuple(dilation, n, "dilation")
        self.padding, self.padding_mode = padding, padding_mode
        self.register_buffer("table", Tensor(table))
        self.weight = Parameter(zeros((int(table.sum()),) + self.kernel_size))
        if bias:
            self.bias = Parameter(zeros(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        table = self.table.data
        fan_in = table.sum(axis=1) * math.prod(self.kernel_size)  # (out_channels,)
        bound = 1 / np.sqrt(fan_in)
        rng = _random.default_generator()
        per_connection = bound[np.nonzero(table)[0]]  # the bound of each connection's output map
        shape = (-1,) + (1,) * self.num_spatial_dims
        self.weight.data[...] = rng.uniform(-1, 1, self.weight.shape) * per_connection.reshape(shape)
        if self.bias is not None:
            self.bias.data[...] = rng.uniform(-1, 1, self.out_channels) * bound

    def _label(self) -> str:
        return f"{type(self).__name__}({self.in_channels} -> {self.out_channels})"

    def forward(self, input):
        x, batched = batch_input(self._label(), input, self.num_spatial_dims, self.in_channels, self.weight)
        # the table and the other arguments were checked when the layer was built
        y = call_functional(self._label(), apply_conv_map, x, self.weight, self.bias, self.table.data, self.stride,
                            self.padding, self.dilation, self.padding_mode)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        n = self.num_spatial_dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
             f"connections={self.weight.shape[0]}/{self.in_channels * self.out_channels}")
        if self.padding not in (0, (0,) * n, "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class ConvMap1d(ConvMapNd):
    """ConvMapNd over (N, C, L): each output map reads only the input maps its row of the
    connection table names. Arguments as ConvMapNd's, without num_spatial_dims.

    Z^{h} = sum over l in C^{h} of W^{(h,l)} (*) A^{l} + b_h, C^{h} = {l : table[h, l]}

    Shape:
        input (N, in_channels, L) or unbatched (in_channels, L) -> output (N, out_channels,
        L_out), L_out as for Conv1d. weight: (connections, k); bias: (out_channels,).

    Examples:
        Every output map reads 2 of the 3 input maps, chosen at random:

        >>> import glassnet
        >>> from glassnet import nn
        >>> from glassnet.nn import tables
        >>> conv = nn.ConvMap1d(3, 4, 5, table=tables.random(3, 4, fan_in=2, seed=0))
        >>> conv.weight.shape                   # 4 maps x 2 inputs = 8 kernels
        (8, 5)
        >>> conv(glassnet.zeros(2, 3, 20)).shape
        (2, 4, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, padding_mode: str = "zeros", *, table):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         padding_mode, table=table)


class ConvMap2d(ConvMapNd):
    """ConvMapNd over (N, C, H, W): each output map reads only the input maps its row of the
    connection table names (LeNet-5's C3 layer, LeCun et al. 1998, table I). Arguments as
    ConvMapNd's, without num_spatial_dims.

    Z^{h} = sum over l in C^{h} of W^{(h,l)} (*) A^{l} + b_h, C^{h} = {l : table[h, l]}

    Shape:
        input (N, in_channels, H, W) or unbatched (in_channels, H, W) -> output
        (N, out_channels, H_out, W_out), sizes as for Conv2d. weight: (connections, kH, kW);
        bias: (out_channels,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> from glassnet.nn import tables
        >>> c3 = nn.ConvMap2d(6, 16, 5, table=tables.lenet5_c3())
        >>> c3(glassnet.zeros(2, 6, 14, 14)).shape
        (2, 16, 10, 10)
        >>> sum(p.numel() for p in c3.parameters())   # the paper's 1,516 (a full Conv2d: 2,416)
        1516
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, padding_mode: str = "zeros", *, table):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         padding_mode, table=table)


class ConvMap3d(ConvMapNd):
    """ConvMapNd over (N, C, D, H, W): each output map reads only the input maps its row of the
    connection table names. Arguments as ConvMapNd's, without num_spatial_dims.

    Z^{h} = sum over l in C^{h} of W^{(h,l)} (*) A^{l} + b_h, C^{h} = {l : table[h, l]}

    Shape:
        input (N, in_channels, D, H, W) or unbatched (in_channels, D, H, W) -> output
        (N, out_channels, D_out, H_out, W_out), sizes as for Conv3d. weight: (connections, kD,
        kH, kW); bias: (out_channels,).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> from glassnet.nn import tables
        >>> conv = nn.ConvMap3d(2, 2, 3, table=tables.full(2, 2))   # full: an ordinary Conv3d
        >>> conv.weight.shape
        (4, 3, 3, 3)
        >>> conv(glassnet.zeros(2, 2, 5, 5, 5)).shape
        (2, 2, 3, 3, 3)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 bias: bool = True, padding_mode: str = "zeros", *, table):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation, bias,
                         padding_mode, table=table)
