"""Pixel shuffle (Shi et al. 2016, sub-pixel convolution) and its inverse, in plain NumPy.

pixel_shuffle moves blocks of r*r channels into r x r spatial blocks:
    y[..., c, h*r + i, w*r + j] = x[..., c*r*r + i*r + j, h, w]
It only permutes elements, so its backward is the inverse permutation, pixel_unshuffle, and the
other way round.
"""

from __future__ import annotations

import numpy as np

__all__ = ["pixel_shuffle", "pixel_unshuffle"]


def pixel_shuffle(x: np.ndarray, r: int) -> np.ndarray:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    *lead, crr, h, w = x.shape
    c = crr // (r * r)
    blocks = x.reshape(*lead, c, r, r, h, w)  # (*, C, i, j, H, W)
    k = len(lead)
    blocks = blocks.transpose(*range(k), k, k + 3, k + 1, k + 4, k + 2)  # (*, C, H, i, W, j)
    return np.ascontiguousarray(blocks).reshape(*lead, c, h * r, w * r)


def pixel_unshuffle(y: np.ndarray, r: int) -> np.ndarray:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    *lead, c, hr, wr = y.shape
    h, w = hr // r, wr // r
    blocks = y.reshape(*lead, c, h, r, w, r)  # (*, C, H, i, W, j)
    k = len(lead)
    blocks = blocks.transpose(*range(k), k, k + 2, k + 4, k + 1, k + 3)  # (*, C, i, j, H, W)
    return np.ascontiguousarray(blocks).reshape(*lead, c * r * r, h, w)
