"""pixel_shuffle and pixel_unshuffle, as torch.nn.functional (index formula in
glassnet.kernels.pixel_shuffle). Each is the other's backward."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import pixel_shuffle as K
from ..tensor import Tensor

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


class PixelShuffle(Function):
    @staticmethod
    def forward(ctx, x, factor=1):
        ctx.factor = factor
        return K.pixel_shuffle(x, factor)

    @staticmethod
    def backward(ctx, dy):
        return K.pixel_unshuffle(dy, ctx.factor)


class PixelUnshuffle(Function):
    @staticmethod
    def forward(ctx, x, factor=1):
        ctx.factor = factor
        return K.pixel_unshuffle(x, factor)

    @staticmethod
    def backward(ctx, dy):
        return K.pixel_shuffle(dy, ctx.factor)


def _check(name: str, input, factor: int, what: str) -> tuple[int, ...]:
    if isinstance(factor, bool) or not isinstance(factor, (int, np.integer)) or factor < 1:
        raise ValueError(f"{name} expected {what} as a positive int, got {factor!r}")
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"{name} expected input of shape (*, C, H, W) with at least 3 dimensions, got {shape}")
    if not isinstance(input, Tensor):
        raise TypeError(f"{name} expected a Tensor, got {type(input).__name__}")
    return shape


def pixel_shuffle(input, upscale_factor: int):
    """`(*, C * r^2, H, W) -> (*, C, H * r, W * r)` with r = upscale_factor: each group of r^2
    channels becomes an r x r block of pixels, out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]
    (sub-pixel convolution's upsampling step, as PyTorch's pixel_shuffle).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1))
        >>> F.pixel_shuffle(x, 2).tolist()
        [[[[0.0, 1.0], [2.0, 3.0]]]]
    """
    name = "pixel_shuffle"
    shape = _check(name, input, upscale_factor, "upscale_factor")
    r = int(upscale_factor)
    if shape[-3] % (r * r):
        raise ValueError(f"{name} expected the channel dimension (size {shape[-3]} in input of shape {shape}) "
                         f"to be divisible by upscale_factor ** 2 = {r * r}")
    return PixelShuffle.apply(input, factor=r)


def pixel_unshuffle(input, downscale_factor: int):
    """`(*, C, H * r, W * r) -> (*, C * r^2, H, W)` with r = downscale_factor: the inverse of
    pixel_shuffle, each r x r block of pixels becomes r^2 channels.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.arange(4, dtype=np.float32).reshape(1, 1, 2, 2))
        >>> F.pixel_unshuffle(x, 2).reshape(4).tolist()
        [0.0, 1.0, 2.0, 3.0]
        >>> F.pixel_unshuffle(glassnet.zeros(8, 3, 28, 28), 4).shape
        (8, 48, 7, 7)
    """
    name = "pixel_unshuffle"
    shape = _check(name, input, downscale_factor, "downscale_factor")
    r = int(downscale_factor)
    if shape[-2] % r or shape[-1] % r:
        raise ValueError(f"{name} expected height and width divisible by downscale_factor={r}, got input of "
                         f"shape {shape}")
    return PixelUnshuffle.apply(input, factor=r)
