"""interpolate (and the older upsample, upsample_nearest, upsample_bilinear), as
torch.nn.functional: resizing (N, C, *spatial) maps by nearest-neighbour or linear interpolation.
The index arithmetic and the backward are in glassnet.kernels.interpolate; mode='area' is
adaptive average pooling, as in PyTorch.

    interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None,
                recompute_scale_factor=None, antialias=False)

Modes: 'nearest', 'nearest-exact' and 'area' for 1 to 3 spatial dimensions; 'linear' for
(N, C, L), 'bilinear' and 'bicubic' for (N, C, H, W), 'trilinear' for (N, C, D, H, W).
'lanczos' and antialias=True are not implemented and say so.
Output size: `size`, or floor(n * scale_factor) per dimension. With a scale factor the source
coordinates use 1 / scale_factor (PyTorch's rule) unless recompute_scale_factor=True, which uses
n_in / n_out of the rounded size instead.
"""

from __future__ import annotations

import math

import numpy as np

from ..autograd import Function
from ..kernels import interpolate as K
from ._checks import check_float_input
from .pooling import adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear"]

# mode -> the number of spatial dimensions it works on (None: any of 1, 2, 3)
MODES = {"nearest": None, "nearest-exact": None, "area": None, "linear": 1, "bilinear": 2, "bicubic": 2,
         "trilinear": 3}
NOT_IMPLEMENTED = ("lanczos",)


class Interpolate(Function):
    @staticmethod
    def forward(ctx, x, out_size=(), mode="nearest", align_corners=False, scale_factors=None):
        y, cache = K.interpolate_forward(x, out_size, mode, align_corners, scale_factors)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        return K.interpolate_backward(dy, cache)


def _per_dim(name: str, value, nd: int, what: str, shape) -> tuple:
    if isinstance(value, (list, tuple)):
        if len(value) != nd:
            raise ValueError(f"{name} expected {what} with one value per spatial dimension ({nd} for input of "
                             f"shape {shape}), got {tuple(value)}")
        return tuple(value)
    return (value,) * nd


def _output_size(name, shape, size, scale_factor, recompute_scale_factor):
    """(output size, scale factors passed on to the kernel or None)."""
    nd = len(shape) - 2
    if size is not None and scale_factor is not None:
        raise ValueError(f"{name}: only one of size or scale_factor should be defined, got size={size} and "
                         f"scale_factor={scale_factor}")
    if size is None and scale_factor is None:
        raise ValueError(f"{name}: either size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError(f"{name}: recompute_scale_factor is not meaningful with an explicit size")
        sizes = _per_dim(name, size, nd, "size", shape)
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"{name} expected size as positive ints, got {size!r}")
        return tuple(int(s) for s in sizes), None
    factors = _per_dim(name, scale_factor, nd, "scale_factor", shape)
    if not all(isinstance(f, (int, float, np.number)) and not isinstance(f, bool) and f > 0 for f in factors):
        raise ValueError(f"{name} expected scale_factor as positive numbers, got {scale_factor!r}")
    out = tuple(math.floor(float(n) * float(f)) for n, f in zip(shape[2:], factors))
    if min(out) < 1:
        raise ValueError(f"{name}: scale_factor={scale_factor} gives an empty output {out} for input of shape {shape}")
    return out, (None if recompute_scale_factor else tuple(float(f) for f in factors))


def interpolate(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None,
                recompute_scale_factor: bool | None = None, antialias: bool = False):
    """Resize input (N, C, *spatial) to (N, C, *size) or (N, C, *floor(spatial * scale_factor)),
    as PyTorch's interpolate (the modes and the coordinate rule in the module docstring).

    Args:
        input: a floating tensor (N, C, *spatial) with 1 to 3 spatial dimensions.
        size: the output's spatial size, an int or one int per dimension.
        scale_factor: a float or one per dimension, instead of size.
        mode: 'nearest', 'nearest-exact', 'area', 'linear', 'bilinear', 'bicubic' or 'trilinear'.
        align_corners: for the interpolating modes: True maps the corner pixels' centres onto
            each other, False (PyTorch's default) their outer edges.
        recompute_scale_factor: use n_in / n_out of the rounded size for the coordinates.
        antialias: only False is implemented.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[0.0, 1.0]]], np.float32))       # (1, 1, 2)
        >>> F.interpolate(x, scale_factor=2).tolist()
        [[[0.0, 0.0, 1.0, 1.0]]]
        >>> F.interpolate(x, size=3, mode="linear", align_corners=True).tolist()
        [[[0.0, 0.5, 1.0]]]
        >>> F.interpolate(glassnet.zeros(8, 3, 14, 14), size=(28, 28), mode="bilinear").shape
        (8, 3, 28, 28)
    """
    name = "interpolate"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if mode in NOT_IMPLEMENTED:
        raise NotImplementedError(f"{name}: mode={mode!r} is not implemented in glassnet (nearest, nearest-exact, "
                                  "area, linear, bilinear, bicubic and trilinear are)")
    if mode not in MODES:
        raise ValueError(f"{name} expected mode in {tuple(MODES) + NOT_IMPLEMENTED}, got {mode!r}")
    linear = mode in ("linear", "bilinear", "bicubic", "trilinear")
    if not linear and align_corners is not None:
        raise ValueError(f"{name}: align_corners can only be set with the interpolating modes linear, bilinear, "
                         f"bicubic and trilinear, got align_corners={align_corners} with mode={mode!r}")
    if antialias:
        raise NotImplementedError(f"{name}: antialias=True is not implemented in glassnet")
    nd = len(shape) - 2
    want = MODES[mode]
    if nd not in (1, 2, 3) or (want is not None and nd != want):
        expected = f"{want + 2}-D" if want else "3-D, 4-D or 5-D"
        raise ValueError(f"{name} with mode={mode!r} expected a {expected} input (N, C, *spatial), got shape {shape}")
    out, factors = _output_size(name, shape, size, scale_factor, recompute_scale_factor)
    if mode == "area":
        return (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_avg_pool3d)[nd - 1](input, out)
    kernel_mode = "cubic" if mode == "bicubic" else "linear" if linear else mode
    return Interpolate.apply(input, out_size=out, mode=kernel_mode,
                             align_corners=bool(align_corners), scale_factors=factors)


def upsample(input, size=None, scale_factor=None, mode: str = "nearest", align_corners: bool | None = None):
    """PyTorch's deprecated name for interpolate (the same arguments, without
    recompute_scale_factor and antialias).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.upsample(glassnet.zeros(1, 2, 3, 3), scale_factor=2).shape
        (1, 2, 6, 6)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """interpolate with mode='nearest', as PyTorch's deprecated upsample_nearest.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[[1.0, 2.0]]]], np.float32))      # (1, 1, 1, 2)
        >>> F.upsample_nearest(x, scale_factor=2).tolist()
        [[[[1.0, 1.0, 2.0, 2.0], [1.0, 1.0, 2.0, 2.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """Bilinear with align_corners=True, as PyTorch's deprecated upsample_bilinear.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[[0.0, 2.0]]]], np.float32))      # (1, 1, 1, 2)
        >>> F.upsample_bilinear(x, size=(1, 3)).tolist()
        [[[[0.0, 1.0, 2.0]]]]
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)
