"""affine_grid and grid_sample, as torch.nn.functional: the sampling step of a spatial
transformer network. Formulas and derivatives in glassnet.kernels.grid_sample.

    affine_grid(theta, size, align_corners=None)
    grid_sample(input, grid, mode='bilinear', padding_mode='zeros', align_corners=None)

align_corners=None means False, as in PyTorch (which warns about the default; glassnet does not).
grid_sample takes 4-D input (N, C, H, W) with modes 'bilinear' and 'nearest'; 5-D input and
mode='bicubic' are not implemented and say so. affine_grid makes 2-D and 3-D grids.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import grid_sample as K
from ._checks import check_float_input

__all__ = ["affine_grid", "grid_sample"]

MODES = ("bilinear", "nearest")
PADDING_MODES = ("zeros", "border", "reflection")


class AffineGrid(Function):
    @staticmethod
    def forward(ctx, theta, spatial=(), align_corners=False):
        grid, ctx.base = K.affine_grid_forward(theta, spatial, align_corners)
        return grid

    @staticmethod
    def backward(ctx, dgrid):
        return K.affine_grid_backward(dgrid, ctx.base)


class GridSample(Function):
    @staticmethod
    def forward(ctx, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        y, cache = K.grid_sample_forward(x, grid, mode, padding_mode, align_corners)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        return K.grid_sample_backward(dy, cache, needs=ctx.needs_input_grad[:2])


def affine_grid(theta, size, align_corners: bool | None = None):
    """Sampling grid (N, H, W, 2) for theta (N, 2, 3) and size (N, C, H, W), or (N, D, H, W, 3)
    for theta (N, 3, 4) and size (N, C, D, H, W): each output position's source point in [-1, 1].

    Output position (x, y) in normalised coordinates (-1 and 1 the outer edges of the corner
    pixels, or their centres with align_corners=True) reads from theta @ (x, y, 1).

    Args:
        theta: affine matrices (N, 2, 3) for 2-D, (N, 3, 4) for 3-D.
        size: the output's size (N, C, H, W) or (N, C, D, H, W); C is not used.
        align_corners: None or False: -1 and 1 are the outer edges of the corner pixels;
            True: their centres.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> identity = glassnet.tensor(np.array([[[1, 0, 0], [0, 1, 0]]], dtype=np.float32))
        >>> grid = F.affine_grid(identity, (1, 1, 2, 2))
        >>> grid.shape, grid.numpy()[0, 0].tolist()        # the top row's two pixel centres (x, y)
        ((1, 2, 2, 2), [[-0.5, -0.5], [0.5, -0.5]])
    """
    name = "affine_grid"
    check_float_input(name, theta)
    size = tuple(int(s) for s in size)
    shape = tuple(theta.shape)
    if len(size) not in (4, 5):
        raise ValueError(f"{name} expected size (N, C, H, W) or (N, C, D, H, W), got {size}")
    d = len(size) - 2
    if shape != (size[0], d, d + 1):
        raise ValueError(f"{name} expected theta of shape {(size[0], d, d + 1)} for size {size}, got {shape}")
    if min(size[2:]) < 1:
        raise ValueError(f"{name} expected a non-empty spatial size, got {size}")
    return AffineGrid.apply(theta, spatial=size[2:], align_corners=bool(align_corners))


def grid_sample(input, grid, mode: str = "bilinear", padding_mode: str = "zeros", align_corners: bool | None = None):
    """Read input (N, C, H, W) at the points grid (N, Ho, Wo, 2) (x, y in [-1, 1]) -> (N, C, Ho, Wo).

    y[n, c, i, j] = input[n, c] interpolated at grid[n, i, j] = (x, y): x runs along W, y along H,
    -1 and 1 are the outer edges of the corner pixels (align_corners False or None) or their
    centres (True).

    Args:
        input: (N, C, H, W), float.
        grid: (N, H_out, W_out, 2), the input's dtype.
        mode: 'bilinear' (differentiable in input and grid) or 'nearest'.
        padding_mode: what points outside the input read: 'zeros', 'border' (the nearest edge
            pixel) or 'reflection' (mirrored back inside).
        align_corners: as in affine_grid.

    Examples:
        Mirror an image left to right (x -> -x):

        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.array([[[[0, 1], [2, 3]]]], dtype=np.float32))      # (1, 1, 2, 2)
        >>> mirror = glassnet.tensor(np.array([[[-1, 0, 0], [0, 1, 0]]], dtype=np.float32))
        >>> F.grid_sample(x, F.affine_grid(mirror, (1, 1, 2, 2))).tolist()
        [[[[1.0, 0.0], [3.0, 2.0]]]]
    """
    name = "grid_sample"
    check_float_input(name, input)
    check_float_input(name, grid)
    if mode == "bicubic":
        raise NotImplementedError(f"{name}: mode='bicubic' is not implemented in glassnet (bilinear and nearest are)")
    if mode not in MODES:
        raise ValueError(f"{name} expected mode in {MODES + ('bicubic',)}, got {mode!r}")
    if padding_mode not in PADDING_MODES:
        raise ValueError(f"{name} expected padding_mode in {PADDING_MODES}, got {padding_mode!r}")
    x_shape, g_shape = tuple(input.shape), tuple(grid.shape)
    if len(x_shape) == 5:
        raise NotImplementedError(f"{name}: 5-D (volumetric) input is not implemented in glassnet, got {x_shape}")
    if len(x_shape) != 4:
        raise ValueError(f"{name} expected input of shape (N, C, H, W), got {x_shape}")
    if len(g_shape) != 4 or g_shape[0] != x_shape[0] or g_shape[3] != 2:
        raise ValueError(f"{name} expected grid of shape ({x_shape[0]}, H_out, W_out, 2) for input of shape "
                         f"{x_shape}, got {g_shape}")
    if np.dtype(input.dtype) != np.dtype(grid.dtype):
        raise TypeError(f"{name} expected grid of the input's dtype {input.dtype}, got {grid.dtype} "
                        "(no silent conversion)")
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))
