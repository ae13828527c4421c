"""Unfold and Fold, as torch.nn: holders of glassnet.functional.unfold / fold's arguments (im2col
and col2im, the matrices behind a convolution)."""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional
from .module import Module


class Unfold(Module):
    """(N, C, H, W) -> (N, C * kh * kw, L): every kernel window as a column."""

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return call_functional("Unfold", F.unfold, input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """(N, C * kh * kw, L) -> (N, C, *output_size): columns summed back into an image."""

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size = output_size, kernel_size
        self.dilation, self.padding, self.stride = dilation, padding, stride

    def forward(self, input):
        return call_functional("Fold", F.fold, input, self.output_size, self.kernel_size, self.dilation,
                               self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"output_size={self.output_size}, kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


__all__ = ["Unfold", "Fold"]
