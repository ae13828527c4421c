"""The numbers of the lectures' worked examples, as arrays, and the small test images they use.

Kept in one place so that the docs, the tests and `python -m glassnet.explain` work the same
examples. Spatial arrays are (H, W); multi-channel ones (C, H, W) as glassnet lays them out
(seed 004 prints channels last, x[:, :, c]: here that is x[c]).
"""

from __future__ import annotations

import numpy as np


def _a(rows) -> np.ndarray:
    a = np.asarray(rows, dtype=np.float32)
    a.flags.writeable = False
    return a


# seed 000: computation exercises
SEED000_X = _a([0, 3, 10])
SEED000_W = _a([[-1, 2, -3], [4, -5, 6]])
SEED000_V = _a([-2, 1])
SEED000_POOL_X = _a([0, 3, 10, -2, 5, 1])
SEED000_POOL_K = _a([-2, 1])

# seed 002: the 5x5 worked example, the edge images and the 3-channel example
SEED002_INPUT = _a([[1, 2, 3, 4, 5], [1, 3, 2, 3, 10], [3, 2, 1, 4, 5], [6, 1, 1, 2, 2], [3, 2, 1, 5, 4]])
SEED002_OUTPUT = _a([[-1, -4, -14], [6, -3, -13], [9, -6, -8]])
SEED002_EDGE = _a([[10, 10, 10, 0, 0, 0]] * 5)  # light -> dark
SEED002_EDGE_REVERSED = _a([[0, 0, 0, 10, 10, 10]] * 5)  # dark -> light
SEED002_CHANNELS = _a([
    [[1, 2, 3, 4], [1, 3, 2, 3], [3, 2, 1, 4], [6, 1, 1, 2]],
    [[4, 3, 1, 2], [2, 6, 1, 2], [1, 3, 1, 2], [3, 2, 1, 0]],
    [[7, 2, 3, 4], [6, 3, 2, 3], [5, 2, 1, 4], [1, 5, 6, 4]],
])
SEED002_CHANNEL_KERNELS = _a([[[1, 0, -1]] * 3, [[2, 0, -2]] * 3, [[3, 0, -3]] * 3])  # (3, 3, 3)

# seed 004: the 5x5x3 input of the two-filter example (padding 1, stride 2 -> 3x3x2)
SEED004_INPUT = _a([
    [[1, 1, 0, 2, 1], [2, 1, 0, 2, 0], [2, 2, 1, 2, 2], [0, 2, 2, 1, 2], [2, 1, 0, 0, 2]],
    [[1, 2, 1, 0, 2], [2, 0, 0, 0, 2], [0, 2, 0, 1, 0], [1, 2, 0, 1, 2], [1, 0, 2, 0, 1]],
    [[2, 0, 0, 0, 1], [0, 0, 0, 1, 0], [1, 1, 0, 2, 1], [0, 0, 0, 2, 1], [0, 1, 1, 2, 2]],
])
# The one 3x3x3 filter whose numbers are legible on the slide (w1), bias b1 = 0.
SEED004_FILTER = _a([
    [[-1, 0, 0], [0, 1, 1], [-1, 1, -1]],
    [[1, -1, 0], [1, 1, 1], [-1, 1, 0]],
    [[0, 1, -1], [0, 1, 1], [1, 0, 0]],
])


def square(size: int = 12, side: int = 6) -> np.ndarray:
    """A filled bright square of `side` pixels centred on a dark size x size image (seed 003).

    Returns float32 (size, size), 1 inside the square and 0 outside.

    Examples:
        >>> from glassnet.explain.examples import square
        >>> square(4, 2).tolist()
        [[0.0, 0.0, 0.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0]]
    """
    if not 0 < side <= size:
        raise ValueError(f"square needs 0 < side <= size, got side={side}, size={size}")
    img = np.zeros((size, size), dtype=np.float32)
    lo = (size - side) // 2
    img[lo:lo + side, lo:lo + side] = 1
    return img


def diamond(size: int = 13, radius: int = 4) -> np.ndarray:
    """A filled bright diamond |i - c| + |j - c| <= radius on a dark size x size image (seed 003).

    c = size // 2; returns float32 (size, size).

    Examples:
        >>> from glassnet.explain.examples import diamond
        >>> diamond(5, 1).astype(int).tolist()
        [[0, 0, 0, 0, 0], [0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0], [0, 0, 0, 0, 0]]
    """
    if not 0 < radius <= size // 2:
        raise ValueError(f"diamond needs 0 < radius <= size // 2, got radius={radius}, size={size}")
    i, j = np.indices((size, size))
    c = size // 2
    return (np.abs(i - c) + np.abs(j - c) <= radius).astype(np.float32)
