"""Unfold and Fold, as torch.nn: holders of glassnet.functional.unfold / fold's arguments (im2col
and col2im, the matrices behind a convolution)."""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional
from .module import Module


class Unfold(Module):
    """(N, C, H, W) -> (N, C * kh * kw, L): every kernel window as a column (im2col), so that a
    convolution becomes one matrix product; see glassnet.functional.unfold. PyTorch's Unfold.

    Args:
        kernel_size: an int or 2 ints.
        dilation: spacing of the kernel's taps, an int or 2 ints.
        padding: zeros added on both sides, an int or 2 ints.
        stride: window step, an int or 2 ints.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Unfold(5)(glassnet.zeros(8, 3, 28, 28)).shape      # 24 * 24 windows
        (8, 75, 576)
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation, self.padding, self.stride = kernel_size, dilation, padding, stride

    def forward(self, input):
        return call_functional("Unfold", F.unfold, input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
                f"stride={self.stride}")


class Fold(Module):
    """(N, C * kh * kw, L) -> (N, C, *output_size): columns summed back into an image (col2im),
    overlapping windows adding up; see glassnet.functional.fold. PyTorch's Fold.

    Args:
        output_size: (H, W) of the result (an int for a square).
        kernel_size: an int or 2 ints.
        dilation: spacing of the kernel's taps, an int or 2 ints.
        padding: zeros added on both sides, an int or 2 ints.
        stride: window step, an int or 2 ints.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> cols = nn.Unfold(2)(glassnet.ones(1, 1, 3, 3))
        >>> nn.Fold((3, 3), 2)(cols).tolist()[0][0]       # windows covering each pixel
        [[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]
    """

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
