"""Spatial-transformer sampling (Jaderberg et al. 2015): affine_grid and grid_sample, forward
and hand-derived backward in plain NumPy, with PyTorch's coordinate rules.

affine_grid: for theta (N, 2, 3) and an output of H x W, each output position gets the source
point grid[n, h, w] = theta[n] @ (x_w, y_h, 1), where x, y run over [-1, 1] (the centres of the
corner pixels with align_corners=True; their outer edges with align_corners=False). It is linear
in theta: dtheta[n] = sum over (h, w) of dgrid[n, h, w] (x_w, y_h, 1)^T. The same in 3-D with
theta (N, 3, 4).

grid_sample (4-D input): output[n, c, h, w] = input[n, c] read at the point grid[n, h, w] = (x, y)
in [-1, 1], turned into pixel coordinates
    ix = (x + 1) / 2 * (W - 1)         (align_corners=True)
    ix = ((x + 1) * W - 1) / 2         (align_corners=False)
then by padding_mode: 'zeros' (outside pixels read 0), 'border' (clamp into [0, W - 1]) or
'reflection' (mirror at the border, then clamp). mode='bilinear' mixes the four pixels around
(ix, iy) with weights (1 - a)(1 - b), a(1 - b), (1 - a)b, ab for a = ix - floor(ix),
b = iy - floor(iy); mode='nearest' reads the pixel at (round(ix), round(iy)), halves to even.

Backward of bilinear: dinput gathers each output's gradient times its four weights back onto the
four pixels (a scatter-add), and the grid gets the derivative of the weights:
    d out / d ix = (1 - b)(v_ne - v_nw) + b (v_se - v_sw),
    d out / d iy = (1 - a)(v_sw - v_nw) + a (v_se - v_ne),
times d ix / d x = (W - 1) / 2 or W / 2, times the clamp's or mirror's derivative (0 or +-1).
Nearest gives the grid no gradient (its output is piecewise constant in the grid).
"""

from __future__ import annotations

import numpy as np

__all__ = ["affine_grid_forward", "affine_grid_backward", "grid_sample_forward", "grid_sample_backward"]


def _base_coordinates(n: int, align_corners: bool, dtype) -> np.ndarray:
    """The n positions along one axis in [-1, 1]: pixel centres."""
    if n <= 1:
        return np.zeros(n, dtype)
    steps = np.linspace(-1, 1, n, dtype=dtype)
    return steps if align_corners else steps * dtype(n - 1) / dtype(n)


def base_grid(spatial: tuple[int, ...], align_corners: bool, dtype) -> np.ndarray:
    """(*spatial, d + 1): (x, y[, z], 1) at every output position, x along the last axis."""
    dt = np.dtype(dtype).type
    axes = [_base_coordinates(s, align_corners, dt) for s in spatial]  # slowest axis first
    mesh = np.meshgrid(*axes, indexing="ij")  # each (*spatial)
    return np.stack(list(mesh[::-1]) + [np.ones(spatial, dt)], axis=-1)  # (*spatial, d + 1), x first


def affine_grid_forward(theta: np.ndarray, spatial: tuple[int, ...], align_corners: bool):
    """theta (N, d, d + 1) -> (grid (N, *spatial, d), base grid for the backward)."""
    base = base_grid(spatial, align_corners, theta.dtype)  # (*spatial, d + 1)
    grid = np.einsum("...k,nik->n...i", base, theta)  # (N, *spatial, d)
    return grid, base


def affine_grid_backward(dgrid: np.ndarray, base: np.ndarray) -> np.ndarray:
    """dtheta (N, d, d + 1) = sum over positions of dgrid (outer) base."""
    n, d = dgrid.shape[0], dgrid.shape[-1]
    return np.einsum("npi,pk->nik", dgrid.reshape(n, -1, d), base.reshape(-1, d + 1))  # positions p summed


# ---- grid_sample ----------------------------------------------------------------------------

def _unnormalize(coord: np.ndarray, size: int, align_corners: bool):
    """(pixel coordinate, its derivative by the grid coordinate)."""
    dt = coord.dtype.type
    if align_corners:
        return (coord + dt(1)) / dt(2) * dt(size - 1), dt(size - 1) / dt(2)
    return ((coord + dt(1)) * dt(size) - dt(1)) / dt(2), dt(size) / dt(2)


def _clip(coord: np.ndarray, size: int):
    """Clamp into [0, size - 1]; derivative 1 strictly inside, 0 where clamped (PyTorch's rule)."""
    dt = coord.dtype.type
    top = dt(size - 1)
    grad = ((coord > 0) & (coord < top)).astype(coord.dtype)
    return np.clip(coord, dt(0), top), grad


def _reflect(coord: np.ndarray, twice_low: int, twice_high: int):
    """Mirror coord into [twice_low / 2, twice_high / 2] (PyTorch's reflect_coordinates), with
    the derivative +-1."""
    dt = coord.dtype.type
    if twice_low == twice_high:
        return np.zeros_like(coord), np.zeros_like(coord)
    low, span = dt(twice_low / 2), dt((twice_high - twice_low) / 2)
    sign = np.where(coord < low, dt(-1), dt(1))
    dist = np.abs(coord - low)
    extra = np.fmod(dist, span)
    flips = np.floor(dist / span)
    even = (flips % 2) == 0
    return np.where(even, extra + low, span - extra + low), np.where(even, sign, -sign)


def _source_coordinates(coord: np.ndarray, size: int, padding_mode: str, align_corners: bool):
    """Pixel coordinates for one axis and d(pixel)/d(grid coordinate)."""
    pixel, scale = _unnormalize(coord, size, align_corners)
    grad = np.full_like(pixel, scale)
    if padding_mode == "border":
        pixel, g = _clip(pixel, size)
        grad *= g
    elif padding_mode == "reflection":
        twice = (0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)
        pixel, g = _reflect(pixel, *twice)
        grad *= g
        pixel, g = _clip(pixel, size)
        grad *= g
    return pixel, grad


def _corners(ix, iy, w, h, mode):
    """[(x index, y index, weight, in-bounds mask)] of the pixels read, each (N, Ho, Wo)."""
    if mode == "nearest":
        x, y = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        return [(x, y, np.ones_like(ix), (x >= 0) & (x < w) & (y >= 0) & (y < h))], None
    x0, y0 = np.floor(ix), np.floor(iy)
    a, b = ix - x0, iy - y0  # the fractional parts
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    one = ix.dtype.type(1)
    corners = []
    for dx, dy, weight in ((0, 0, (one - a) * (one - b)), (1, 0, a * (one - b)),
                           (0, 1, (one - a) * b), (1, 1, a * b)):
        x, y = x0 + dx, y0 + dy
        corners.append((x, y, weight, (x >= 0) & (x < w) & (y >= 0) & (y < h)))
    return corners, (a, b)


def grid_sample_forward(x: np.ndarray, grid: np.ndarray, mode: str = "bilinear", padding_mode: str = "zeros",
                        align_corners: bool = False):
    """x (N, C, H, W), grid (N, Ho, Wo, 2) -> (y (N, C, Ho, Wo), cache)."""
    n, c, h, w = x.shape
    ix, gx = _source_coordinates(grid[..., 0], w, padding_mode, align_corners)  # (N, Ho, Wo)
    iy, gy = _source_coordinates(grid[..., 1], h, padding_mode, align_corners)
    corners, fractions = _corners(ix, iy, w, h, mode)
    pixels = x.transpose(0, 2, 3, 1).reshape(n * h * w, c)  # (N*H*W, C), channels last for gathering
    batch = np.arange(n).reshape(n, 1, 1)
    values, y = [], np.zeros(grid.shape[:3] + (c,), x.dtype)  # (N, Ho, Wo, C)
    for xi, yi, weight, inside in corners:
        flat = np.where(inside, (batch * h + yi) * w + xi, 0)  # (N, Ho, Wo)
        v = pixels[flat] * inside[..., None]  # (N, Ho, Wo, C), 0 outside
        values.append(v)
        y += v * weight[..., None]
    cache = dict(shape=x.shape, corners=corners, fractions=fractions, values=values, gx=gx, gy=gy, mode=mode)
    return np.ascontiguousarray(y.transpose(0, 3, 1, 2)), cache


def grid_sample_backward(dy: np.ndarray, cache: dict, needs=(True, True)):
    """(dinput (N, C, H, W), dgrid (N, Ho, Wo, 2)), each None where not wanted."""
    n, c, h, w = cache["shape"]
    g = dy.transpose(0, 2, 3, 1)  # (N, Ho, Wo, C)
    batch = np.arange(n).reshape(n, 1, 1)
    dx = dgrid = None
    if needs[0]:
        dpixels = np.zeros((n * h * w, c), dy.dtype)
        for xi, yi, weight, inside in cache["corners"]:
            flat = np.where(inside, (batch * h + yi) * w + xi, 0).reshape(-1)
            np.add.at(dpixels, flat, (g * (weight * inside)[..., None]).reshape(-1, c))
        dx = np.ascontiguousarray(dpixels.reshape(n, h, w, c).transpose(0, 3, 1, 2))
    if needs[1]:
        dgrid = np.zeros(g.shape[:3] + (2,), dy.dtype)
        if cache["mode"] == "bilinear":
            a, b = cache["fractions"]
            nw, ne, sw, se = cache["values"]
            one = a.dtype.type(1)
            dix = np.einsum("...c,...c->...", g, (ne - nw) * (one - b)[..., None] + (se - sw) * b[..., None])
            diy = np.einsum("...c,...c->...", g, (sw - nw) * (one - a)[..., None] + (se - ne) * a[..., None])
            dgrid[..., 0] = dix * cache["gx"]
            dgrid[..., 1] = diy * cache["gy"]
    return dx, dgrid
