"""Tiled convolution layers: TiledConv1d/2d/3d (Goodfellow et al. 2016, section 9.5; seed 001).

Each output channel has t_1 x ... x t_D kernels (argument `tiles`), cycled over the output
positions: position p uses kernel p mod t. tiles=1 is ConvNd; tiles = output size is
LocallyConnectedNd. Unlike the locally connected layer it works for any input size.

    weight (*tiles, out_channels, in_channels / groups, *kernel_size)
    bias   (out_channels,) with bias_mode='channel' (default), (*tiles, out_channels) with 'tile'
"""

from __future__ import annotations

from ..functional.local import tiled_conv
from ..kernels.sizes import positive_tuple
from ._checks import positive_int
from .local import _UnsharedConvNd

__all__ = ["TiledConvNd", "TiledConv1d", "TiledConv2d", "TiledConv3d"]


class TiledConvNd(_UnsharedConvNd):
    """Tiled convolution over num_spatial_dims spatial dimensions.

    y[n, o, p] = sum_{c, j} weight[p mod tiles, o, c, j] x_padded[n, c, p stride + j dilation] + bias[o]
    Input (N, in_channels, *in) or unbatched -> (N, out_channels, *out), out as for ConvNd.
    """

    def __init__(self, num_spatial_dims: int, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *,
                 tiles, bias_mode: str = "channel"):
        n = positive_int(num_spatial_dims, "num_spatial_dims")
        t = positive_tuple(tiles, n, "tiles")
        super().__init__(n, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, t, bias_mode, ("channel", "tile"))
        self.tiles = t

    def forward(self, input):
        return self._run(tiled_conv, input)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tiles={self.tiles}"


class TiledConv1d(TiledConvNd):
    """TiledConvNd over (N, C, L)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, tiles,
                 bias_mode: str = "channel"):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, tiles=tiles, bias_mode=bias_mode)


class TiledConv2d(TiledConvNd):
    """TiledConvNd over (N, C, H, W): `tiles` kernels per filter, used in turn across positions
    (Goodfellow et al. 9.5: between a convolution, tiles=1, and a locally connected layer).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> tiled = nn.TiledConv2d(1, 4, 5, tiles=2)
        >>> tiled.weight.shape                  # (tiles_H, tiles_W, out, in, kH, kW)
        (2, 2, 4, 1, 5, 5)
        >>> tiled(glassnet.zeros(2, 1, 28, 28)).shape
        (2, 4, 24, 24)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, tiles,
                 bias_mode: str = "channel"):
        super().__init__(2, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, tiles=tiles, bias_mode=bias_mode)


class TiledConv3d(TiledConvNd):
    """TiledConvNd over (N, C, D, H, W)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, tiles,
                 bias_mode: str = "channel"):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, tiles=tiles, bias_mode=bias_mode)
