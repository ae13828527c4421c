"""PixelShuffle and PixelUnshuffle, as torch.nn: holders of the factor for
glassnet.functional.pixel_shuffle / pixel_unshuffle."""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional, positive_int
from .module import Module


class PixelShuffle(Module):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r): the sub-pixel upsampling of super-resolution nets."""

    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = positive_int(upscale_factor, "upscale_factor")

    def forward(self, input):
        return call_functional(type(self).__name__, F.pixel_shuffle, input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W), the inverse of PixelShuffle."""

    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = positive_int(downscale_factor, "downscale_factor")

    def forward(self, input):
        return call_functional(type(self).__name__, F.pixel_unshuffle, input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


__all__ = ["PixelShuffle", "PixelUnshuffle"]
