"""Upsample, UpsamplingNearest2d and UpsamplingBilinear2d, as torch.nn: holders of
glassnet.functional.interpolate's arguments."""

from __future__ import annotations

from .. import functional as F
from ._checks import call_functional
from .module import Module


class Upsample(Module):
    """Resize (N, C, *spatial) maps to `size` or by `scale_factor` (see F.interpolate for the modes):
    PyTorch's Upsample.

    Args:
        size: the output's spatial size, an int or one int per dimension.
        scale_factor: a float or one per dimension, instead of size.
        mode: 'nearest', 'nearest-exact', 'area', 'linear', 'bilinear', 'bicubic' or 'trilinear'.
        align_corners: for the interpolating modes, as in F.interpolate.
        recompute_scale_factor: as in F.interpolate.

    Shape:
        input (N, C, *spatial) -> (N, C, *size) or (N, C, *floor(spatial * scale_factor)).

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.Upsample(scale_factor=2, mode="bilinear")(glassnet.zeros(8, 3, 7, 7)).shape
        (8, 3, 14, 14)
    """

    def __init__(self, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                 recompute_scale_factor: bool | None = None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(factor) for factor in scale_factor)
        else:  # PyTorch stores a float, and reads 0 as "not given"
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode, self.align_corners = mode, align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        return call_functional(self.name, F.interpolate, input, self.size, self.scale_factor, self.mode,
                               self.align_corners, recompute_scale_factor=self.recompute_scale_factor)

    def extra_repr(self) -> str:
        info = f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None else f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """Nearest-neighbour resize of (N, C, H, W): PyTorch's (deprecated) UpsamplingNearest2d.

    Args:
        size: the output's (H, W), an int or 2 ints.
        scale_factor: a float or 2, instead of size.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[[1.0, 2.0]]]])
        >>> nn.UpsamplingNearest2d(scale_factor=2)(x).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """Bilinear resize of (N, C, H, W) with align_corners=True (PyTorch's choice for this class):
    PyTorch's (deprecated) UpsamplingBilinear2d.

    Args:
        size: the output's (H, W), an int or 2 ints.
        scale_factor: a float or 2, instead of size.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> x = glassnet.tensor([[[[0.0, 2.0]]]])
        >>> nn.UpsamplingBilinear2d(size=(1, 3))(x).tolist()
        [[[[0.0, 1.0, 2.0]]]]
    """

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"]
