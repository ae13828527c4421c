"""Tiled convolution layers: TiledConv1d/2d/3d (Goodfellow et al. 2016, section 9.5; seed 001).

Each output channel has t_1 x ... x t_D kernels (argument `tiles`), cycled over the output
positions: position p uses kernel p mod t. tiles=1 is ConvNd; tiles = output size is
LocallyConnectedNd. Unlike the locally connected layer it works for any input size.

    weight (*tiles, out_channels, in_channels / groups, *kernel_size)
    bias   (out_channels,) with bias_mode='channel' (default), (*tiles, out_channels) with 'tile'
"""

from __future__ import annotations

from ..kernels.sizes import positive_tuple
from ._checks import positive_int
from .local import _UnsharedConvNd

__all__ = ["TiledConvNd", "TiledConv1d", "TiledConv2d", "TiledConv3d"]


class TiledConvNd(_UnsharedConvNd):
    """Tiled convolution (seed 001; Goodfellow et al. 9.5) over num_spatial_dims spatial
    dimensions: each filter has `tiles` kernels, used in turn across the output positions.

    y[n, o, p] = sum_{c, j} weight[p mod tiles, o, c, j] x_padded[n, c, p stride + j dilation] + bias[o]

    Args:
        num_spatial_dims: D, the number of spatial dimensions (1 or more).
        in_channels: channels C of the input.
        out_channels: filters, the channels of the output.
        kernel_size: an int or D ints.
        stride: window step, an int or D ints.
        padding: an int, D ints, D (low, high) pairs, or 'valid', 'same' or 'full'.
        dilation: spacing of the kernel's taps, an int or D ints.
        groups: in_channels and out_channels split into this many independent groups.
        bias: learn a bias.
        padding_mode: 'zeros', 'reflect', 'replicate' or 'circular'.
        tiles: keyword only, an int or D ints: kernels per filter along each dimension
            (1 is ConvNd, the output size is LocallyConnectedNd).
        bias_mode: keyword only, 'channel' (one bias per filter, the default) or 'tile' (one per
            tile and filter).

    Shape:
        input `(N, in_channels, *spatial)` or unbatched `(in_channels, *spatial)`, any size ->
        output `(N, out_channels, *out)`, out as for ConvNd.
        weight: `(*tiles, out_channels, in_channels / groups, *kernel_size)`; bias: (out_channels,),
        or `(*tiles, out_channels)` with bias_mode='tile'.

    Examples:
        Two kernels of two taps, one picking the left input, one the right: even positions use
        the first, odd positions the second:

        >>> import glassnet
        >>> from glassnet import nn
        >>> tiled = nn.TiledConvNd(1, 1, 1, 2, tiles=2, bias=False)
        >>> tiled.weight.shape                  # (tiles, out, in, k)
        (2, 1, 1, 2)
        >>> tiled.weight.data[0, 0, 0] = [1.0, 0.0]
        >>> tiled.weight.data[1, 0, 0] = [0.0, 1.0]
        >>> tiled(glassnet.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]])).tolist()
        [[[1.0, 3.0, 3.0, 5.0]]]
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
        return self._run(input)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, tiles={self.tiles}"


class TiledConv1d(TiledConvNd):
    """TiledConvNd over (N, C, L): `tiles` kernels per filter, used in turn along the sequence.
    Arguments as TiledConvNd's, without num_spatial_dims.

    y[n, o, i] = sum_{c, j} weight[i mod tiles, o, c, j] x_padded[n, c, i stride + j dilation] + bias[o]

    Shape:
        input (N, in_channels, L) or unbatched (in_channels, L) -> output (N, out_channels,
        L_out), L_out as for Conv1d. weight: (tiles, out_channels, in_channels / groups, k);
        bias: (out_channels,), or (tiles, out_channels) with bias_mode='tile'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> tiled = nn.TiledConv1d(2, 4, 3, tiles=3, bias_mode="tile")
        >>> tiled.weight.shape, tiled.bias.shape
        ((3, 4, 2, 3), (3, 4))
        >>> tiled(glassnet.zeros(8, 2, 50)).shape
        (8, 4, 48)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, tiles,
                 bias_mode: str = "channel"):
        super().__init__(1, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, tiles=tiles, bias_mode=bias_mode)


class TiledConv2d(TiledConvNd):
    """TiledConvNd over (N, C, H, W): `tiles` kernels per filter, used in turn across positions
    (Goodfellow et al. 9.5: between a convolution, tiles=1, and a locally connected layer).
    Arguments as TiledConvNd's, without num_spatial_dims.

    y[n, o, p] = sum_{c, j} weight[p mod tiles, o, c, j] x_padded[n, c, p stride + j dilation] + bias[o]

    Shape:
        input (N, in_channels, H, W) or unbatched (in_channels, H, W) -> output
        (N, out_channels, H_out, W_out), sizes as for Conv2d. weight: (tiles_H, tiles_W,
        out_channels, in_channels / groups, kH, kW); bias: (out_channels,), or (tiles_H,
        tiles_W, out_channels) with bias_mode='tile'.

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
    """TiledConvNd over (N, C, D, H, W): `tiles` kernels per filter, used in turn across
    positions. Arguments as TiledConvNd's, without num_spatial_dims.

    y[n, o, p] = sum_{c, j} weight[p mod tiles, o, c, j] x_padded[n, c, p stride + j dilation] + bias[o]

    Shape:
        input (N, in_channels, D, H, W) or unbatched (in_channels, D, H, W) -> output
        (N, out_channels, D_out, H_out, W_out), sizes as for Conv3d. weight: (tiles_D, tiles_H,
        tiles_W, out_channels, in_channels / groups, kD, kH, kW); bias: (out_channels,), or
        (*tiles, out_channels) with bias_mode='tile'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> tiled = nn.TiledConv3d(2, 4, 3, tiles=(1, 2, 2), padding=1)
        >>> tiled.weight.shape
        (1, 2, 2, 4, 2, 3, 3, 3)
        >>> tiled(glassnet.zeros(2, 2, 4, 8, 8)).shape
        (2, 4, 4, 8, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0, dilation=1,
                 groups: int = 1, bias: bool = True, padding_mode: str = "zeros", *, tiles,
                 bias_mode: str = "channel"):
        super().__init__(3, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, tiles=tiles, bias_mode=bias_mode)
