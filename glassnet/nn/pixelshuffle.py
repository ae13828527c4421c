"""PixelShuffle and PixelUnshuffle, as torch.nn: holders of the factor for
glassnet.functional.pixel_shuffle / pixel_unshuffle."""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional, positive_int
from .module import Module


class PixelShuffle(Module):
    """`(*, C * r^2, H, W)` -> `(*, C, H * r, W * r)`: the sub-pixel upsampling of super-resolution
    nets, out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]: PyTorch's PixelShuffle.

    Args:
        upscale_factor: r, a positive int.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.PixelShuffle(3)(glassnet.zeros(8, 18, 4, 4)).shape
        (8, 2, 12, 12)
    """

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = positive_int(upscale_factor, "upscale_factor")

    def forward(self, input):
        return call_functional(type(self).__name__, F.pixel_shuffle, input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """`(*, C, H * r, W * r)` -> `(*, C * r^2, H, W)`, the inverse of PixelShuffle: each r x r block
    of pixels becomes r^2 channels. PyTorch's PixelUnshuffle.

    Args:
        downscale_factor: r, a positive int.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.zeros(8, 2, 12, 12)
        >>> nn.PixelUnshuffle(3)(x).shape
        (8, 18, 4, 4)
        >>> bool((nn.PixelShuffle(3)(nn.PixelUnshuffle(3)(x)) == x).all())
        True
    """

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = positive_int(downscale_factor, "downscale_factor")

    def forward(self, input):
        return call_functional(type(self).__name__, F.pixel_unshuffle, input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


__all__ = ["PixelShuffle", "PixelUnshuffle"]
