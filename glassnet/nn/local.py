"""Locally connected (unshared) layers: LocallyConnected1d/2d/3d (seed 001, "unshared
convolution"; Keras's former LocallyConnected layers, missing from PyTorch).

Like ConvNd, with a separate kernel at every output position, so the layer is built for one
input size (keyword `input_size`). Parameters:

    weight (*out, out_channels, in_channels / groups, *kernel_size)  one conv weight per position
    bias   (*out, out_channels) with bias_mode='position' (default), (out_channels,) with 'channel'

Initialisation as ConvNd's: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = in_channels /
groups * prod(kernel_size), for weight and bias. The shared machinery (TiledConvNd too) is
_UnsharedConvNd below; the computation is glassnet.functional.local.
"""

from __future__ import annotations

import math

from ..functional._checks import check_padding_mode
from ..functional.local import apply_tiled_conv
from ..kernels.local import local_output_shape
from ..kernels.sizes import positive_tuple
from ..tensor import zeros
from . import init
from ._checks import batch_input, call_functional, check_groups, positive_int
from .module import Module, Parameter

__all__ = ["LocallyConnectedNd", "LocallyConnected1d", "LocallyConnected2d", "LocallyConnected3d"]


class _UnsharedConvNd(Module):
    """Parameters, checks and repr shared by the locally connected and tiled layers: a conv
    weight for every cell of a grid (`grid`: the output shape, or the tiles)."""

    def __init__(self, num_spatial_dims, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 groups, bias, padding_mode, grid, bias_mode, bias_modes):
        super().__init__()
        n = self.num_spatial_dims = positive_int(num_spatial_dims, "num_spatial_dims")
        self.in_channels = positive_int(in_channels, "in_channels")
        self.out_channels = positive_int(out_channels, "out_channels")
        self.groups = positive_int(groups, "groups")
        check_groups(in_channels, out_channels, groups)
        check_padding_mode(padding_mode)
        if bias_mode not in bias_modes:
            raise ValueError(f"bias_mode must be one of {bias_modes}, got {bias_mode!r}")
        self.kernel_size = positive_tuple(kernel_size, n, "kernel_size")
        self.stride = positive_tuple(stride, n, "stride")
        self.dilation = positive_tuple(dilation, n, "dilation")
        self.padding, self.padding_mode, self.bias_mode = padding, padding_mode, bias_mode
        self.weight = Parameter(zeros(tuple(grid) + (out_channels, in_channels // groups) + self.kernel_size))
        if bias:
            shape = (out_channels,) if bias_mode == "channel" else tuple(grid) + (out_channels,)
            self.bias = Parameter(zeros(*shape))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """ConvNd's default bound 1/sqrt(fan_in), for every position's kernel and bias."""
        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        init.default_uniform_(self.weight, self.bias, fan_in)

    def _label(self) -> str:
        return f"{type(self).__name__}({self.in_channels} -> {self.out_channels})"

    def _run(self, input):
        """The input checked here, once: the constructor checked the rest, so the Function runs
        without the functional entry's checks (functional.local.apply_tiled_conv)."""
        x, batched = batch_input(self._label(), input, self.num_spatial_dims, self.in_channels, self.weight)
        y = call_functional(self._label(), apply_tiled_conv, x, self.weight, self.bias, self.stride,
                            self.padding, self.dilation, self.groups, self.padding_mode)
        return y if batched else y.squeeze(0)

    def extra_repr(self) -> str:
        n = self.num_spatial_dims
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding not in (0, (0,) * n, "valid"):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        s += ", bias=False" if self.bias is None else f", bias_mode={self.bias_mode}"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class LocallyConnectedNd(_UnsharedConvNd):
    """Locally connected layer (seed 001's unshared convolution) over num_spatial_dims spatial
    dimensions: ConvNd's connections with a separate kernel at every output position p.

    y[n, o, p] = sum_{c, j} weight[p, o, c, j] x_padded[n, c, p stride + j dilation] + bias[p, o]

    Args:
        num_spatial_dims: D, the number of spatial dimensions (1 or more).
        in_channels: channels C of the input.
        out_channels: filters at each position, the channels of the output.
        kernel_size: an int or D ints.
        stride: window step, an int or D ints.
        padding: an int, D ints, D (low, high) pairs, or 'valid', 'same' or 'full'.
        dilation: spacing of the kernel's taps, an int or D ints.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn a bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        input_size: keyword only, an int or D ints: the spatial size the layer is built for (the
            number of kernels depends on it); other sizes are refused.
        bias_mode: keyword only, 'position' (one bias per position and filter, the default) or
            'channel' (one per filter, shared as in a convolution).

    Shape:
        input `(N, in_channels, *input_size)` or unbatched `(in_channels, *input_size)` -> output
        `(N, out_channels, *out)`, out_i = floor((input_size_i + p_lo + p_hi - d_i (k_i - 1) - 1) / s_i) + 1.
        weight: `(*out, out_channels, in_channels / groups, *kernel_size)`; bias:
        `(*out, out_channels)`, or (out_channels,) with bias_mode='channel'.

    Examples:
        Three positions, each with its own kernel of 3 taps; with every tap 1 each output is a
        window's sum:

        >>> import glassnet
        >>> from glassnet import nn
        >>> local = nn.LocallyConnectedNd(1, 1, 1, 3, input_size=5)
        >>> local.weight.shape                  # (L_out, out, in, k)
        (3, 1, 1, 3)
        >>> local.weight.data[...] = 1.0
        >>> local.bias.data[...] = 0.0
        >>> local(glassnet.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])).tolist()
        [[[6.0, 9.0, 12.0]]]
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *,
                 input_size, bias_mode: str = "position"):
        n = positive_int(num_spatial_dims, "num_spatial_dims")
        self_input = positive_tuple(input_size, n, "input_size")
        k = positive_tuple(kernel_size, n, "kernel_size")
        out = local_output_shape(self_input, k, stride, padding, dilation)
        super().__init__(n, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, out, bias_mode, ("position", "channel"))
        self.input_size, self.output_size = self_input, out

    def forward(self, input):
        size = tuple(input.shape[-self.num_spatial_dims:])
        if size != self.input_size:
            expected = ", ".join(map(str, (self.in_channels,) + self.input_size))
            raise ValueError(f"{self._label()} expected input of shape (N, {expected}) (its weights are "
                             f"built for input_size={self.input_size}), got {tuple(input.shape)}")
        return self._run(input)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, input_size={self.input_size}"


class LocallyConnected1d(LocallyConnectedNd):
    """LocallyConnectedNd over (N, C, L): a Conv1d without weight sharing, one kernel per output
    position. Arguments as LocallyConnectedNd's, without num_spatial_dims.

    y[n, o, i] = sum_{c, j} weight[i, o, c, j] x_padded[n, c, i stride + j dilation] + bias[i, o]

    Shape:
        input (N, in_channels, L) or unbatched (in_channels, L), L = input_size -> output
        (N, out_channels, L_out), L_out as for Conv1d. weight: (L_out, out_channels,
        in_channels / groups, k); bias: (L_out, out_channels), or (out_channels,) with
        bias_mode='channel'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> local = nn.LocallyConnected1d(2, 3, 5, input_size=20)
        >>> local.weight.shape, local.bias.shape
        ((16, 3, 2, 5), (16, 3))
        >>> local(glassnet.zeros(4, 2, 20)).shape
        (4, 3, 16)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, input_size,
                 bias_mode: str = "position"):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, input_size=input_size, bias_mode=bias_mode)


class LocallyConnected2d(LocallyConnectedNd):
    """LocallyConnectedNd over (N, C, H, W): a convolution without weight sharing, one kernel per
    output position (the lectures' middle ground between a dense layer and a convolution).
    Arguments as LocallyConnectedNd's, without num_spatial_dims.

    y[n, o, p] = sum_{c, j} weight[p, o, c, j] x_padded[n, c, p stride + j dilation] + bias[p, o]

    Shape:
        input (N, in_channels, H, W) or unbatched (in_channels, H, W), (H, W) = input_size ->
        output (N, out_channels, H_out, W_out), sizes as for Conv2d. weight: (H_out, W_out,
        out_channels, in_channels / groups, kH, kW); bias: (H_out, W_out, out_channels), or
        (out_channels,) with bias_mode='channel'.

    Examples:
        Same connections as Conv2d(1, 4, 5), but 576 times the weights on a 28 x 28 input:

        >>> import glassnet
        >>> from glassnet import nn
        >>> local = nn.LocallyConnected2d(1, 4, 5, input_size=28)
        >>> local.weight.shape                  # (H_out, W_out, out, in, kH, kW)
        (24, 24, 4, 1, 5, 5)
        >>> local(glassnet.zeros(2, 1, 28, 28)).shape
        (2, 4, 24, 24)
        >>> sum(p.numel() for p in local.parameters()), sum(p.numel() for p in nn.Conv2d(1, 4, 5).parameters())
        (59904, 104)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, input_size,
                 bias_mode: str = "position"):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, input_size=input_size, bias_mode=bias_mode)


class LocallyConnected3d(LocallyConnectedNd):
    """LocallyConnectedNd over (N, C, D, H, W): a Conv3d without weight sharing, one kernel per
    output position. Arguments as LocallyConnectedNd's, without num_spatial_dims.

    y[n, o, p] = sum_{c, j} weight[p, o, c, j] x_padded[n, c, p stride + j dilation] + bias[p, o]

    Shape:
        input (N, in_channels, D, H, W) or unbatched (in_channels, D, H, W), (D, H, W) =
        input_size -> output (N, out_channels, D_out, H_out, W_out), sizes as for Conv3d.
        weight: (D_out, H_out, W_out, out_channels, in_channels / groups, kD, kH, kW); bias:
        (D_out, H_out, W_out, out_channels), or (out_channels,) with bias_mode='channel'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> local = nn.LocallyConnected3d(1, 2, 3, input_size=(4, 6, 6))
        >>> local.weight.shape
        (2, 4, 4, 2, 1, 3, 3, 3)
        >>> local(glassnet.zeros(5, 1, 4, 6, 6)).shape
        (5, 2, 2, 4, 4)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, input_size,
                 bias_mode: str = "position"):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, input_size=input_size, bias_mode=bias_mode)
