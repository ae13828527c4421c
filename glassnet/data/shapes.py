"""Shapes: a procedural 2-D data set that needs nothing installed.

Five classes of outlined shapes, drawn with anti-aliased strokes at a random position, size and
contrast on a noisy background:

    0 square   (seed 003's square: horizontal and vertical edges)
    1 diamond  (seed 003's diamond: the square turned 45 degrees, diagonal edges)
    2 cross    (a '+': one horizontal and one vertical bar)
    3 circle
    4 line     (one bar at a random angle)

A stroke of width w at distance d from the ideal curve gets intensity clip(w/2 + 1/2 - d, 0, 1)
(a one-pixel linear ramp), so shapes of any size and position are drawn without aliasing.
Everything is computed for all images at once from one seeded NumPy generator: the same
(seed, train) always gives the same images.

Samples: x float32 (1, size, size), y int64 class.
"""

from __future__ import annotations

import numpy as np

from .dataset import ArrayDataset

SHAPE_CLASSES = ["square", "diamond", "cross", "circle", "line"]


def distance_to_shape(kind: np.ndarray, dy: np.ndarray, dx: np.ndarray, radius: np.ndarray,
                      angle: np.ndarray) -> np.ndarray:
    """Distance from each pixel to the outline of each shape.

    kind: (S,) class indices into SHAPE_CLASSES; dy, dx: (S, *grid) pixel offsets from the shape's
    centre; radius: (S,) half-width of the square, half-diagonal of the diamond, radius of the
    circle, half-length of each bar; angle: (S,) direction of the line in radians.
    Returns (S, *grid).

    Examples:
        Distance to a circle of radius 2 around the centre of a 5x5 grid:

        >>> import numpy as np
        >>> from glassnet.data.shapes import SHAPE_CLASSES, distance_to_shape
        >>> g = np.arange(5.0) - 2
        >>> dy, dx = np.broadcast_arrays(g[None, :, None], g[None, None, :])     # (1, 5, 5) each
        >>> d = distance_to_shape(np.array([SHAPE_CLASSES.index("circle")]), dy, dx, np.array([2.0]), np.zeros(1))
        >>> d.shape, d[0, 2].tolist()                     # the middle row: on the circle at +-2
        ((1, 5, 5), [0.0, 1.0, 2.0, 1.0, 0.0])
    """
    def bar(along, across, r):  # distance to the segment {|along| <= r, across = 0}
        return np.hypot(np.maximum(np.abs(along) - r, 0), across)

    def square(dy, dx, r, a):  # a circle of the max-norm
        return np.abs(np.maximum(np.abs(dy), np.abs(dx)) - r)

    def diamond(dy, dx, r, a):  # a circle of the 1-norm
        return np.abs(np.abs(dy) + np.abs(dx) - r) / np.sqrt(2)

    def cross(dy, dx, r, a):
        return np.minimum(bar(dx, dy, r), bar(dy, dx, r))

    def circle(dy, dx, r, a):
        return np.abs(np.hypot(dy, dx) - r)

    def line(dy, dx, r, a):
        along = dx * np.cos(a) + dy * np.sin(a)
        across = -dx * np.sin(a) + dy * np.cos(a)
        return bar(along, across, r)

    expand = (-1,) + (1,) * (dy.ndim - 1)  # (S, 1, ..., 1): per-shape values over the grid
    out = np.empty(dy.shape)
    # one vectorised call per kind of shape, on the shapes of that kind only
    for k, fn in enumerate((square, diamond, cross, circle, line)):
        sel = kind == k
        if sel.any():
            out[sel] = fn(dy[sel], dx[sel], radius[sel].reshape(expand), angle[sel].reshape(expand))
    return out


def stroke(distance: np.ndarray, width: float) -> np.ndarray:
    """Anti-aliased stroke intensity in [0, 1] for a given distance to the ideal curve.

    clip(width / 2 + 1/2 - distance, 0, 1): full ink within width / 2 - 1/2 of the curve, none
    beyond width / 2 + 1/2, a linear ramp of one pixel between.

    Examples:
        >>> import numpy as np
        >>> from glassnet.data.shapes import stroke
        >>> stroke(np.array([0.0, 0.5, 1.0, 1.5]), width=1.0).tolist()
        [1.0, 0.5, 0.0, 0.0]
    """
    return np.clip(width / 2 + 0.5 - distance, 0.0, 1.0)


def make_shapes(num_samples: int, size: int = 28, noise: float = 0.1, seed: int = 0,
                classes: int = 5, width: float = 1.5):
    """Generate (x, y): x float32 (N, 1, size, size), y int64 (N,) with balanced classes.

    radius ~ U[0.2, 0.4] * size, centre ~ uniform over the positions where the whole shape fits,
    contrast ~ U[0.6, 1], pixel noise ~ N(0, noise^2).

    Examples:
        >>> from glassnet.data.shapes import make_shapes
        >>> x, y = make_shapes(10, seed=0)
        >>> x.shape, x.dtype, y.tolist()
        ((10, 1, 28, 28), dtype('float32'), [4, 1, 2, 2, 3, 0, 4, 0, 3, 1])
    """
    if not 1 <= classes <= len(SHAPE_CLASSES):
        raise ValueError(f"classes must lie in [1, {len(SHAPE_CLASSES)}], got {classes}")
    if size < 8:
        raise ValueError(f"size must be at least 8 pixels, got {size}")
    # keep the whole stroke inside the image (the diamond's ramp reaches sqrt(2) (w/2 + 1/2) past
    # its tips): the centre lies at least radius + width + 1/2 from each edge, so the radius can be
    # at most (size - 1) / 2 - width - 1/2 (a bound only below 25 pixels at the default width)
    largest = (size - 1) / 2 - width - 0.5
    if largest <= 0:
        raise ValueError(f"a {size}-pixel image has no room for a shape drawn {width} pixels wide: "
                         f"size must exceed {2 * width + 2:g}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(num_samples) % classes)  # balanced, in random order
    radius = np.minimum(rng.uniform(0.2, 0.4, num_samples) * size, largest)
    margin = radius + width + 0.5
    cy = rng.uniform(margin, size - 1 - margin)
    cx = rng.uniform(margin, size - 1 - margin)
    angle = rng.uniform(0, np.pi, num_samples)
    contrast = rng.uniform(0.6, 1.0, num_samples)
    grid = np.arange(size, dtype=np.float64)
    dy = grid[None, :, None] - cy[:, None, None]  # (N, size, 1)
    dx = grid[None, None, :] - cx[:, None, None]  # (N, 1, size)
    dy, dx = np.broadcast_arrays(dy, dx)          # (N, size, size)
    ink = stroke(distance_to_shape(y, dy, dx, radius, angle), width) * contrast[:, None, None]
    x = ink + noise * rng.standard_normal(ink.shape)
    return x[:, None].astype(np.float32), y.astype(np.int64)  # (N, 1, size, size), (N,)


class Shapes(ArrayDataset):
    """The procedural shapes data set: squares, diamonds, crosses, circles and lines.

    train: the training split (seed [seed, 0]) or the test split (seed [seed, 1]), independent draws.
    num_samples: default 4,000 for training, 1,000 for testing. size: image side in pixels.

    Args:
        train: the training split, else the test split.
        transform: a batched transform of the inputs (see ArrayDataset).
        target_transform: the same for the targets.
        num_samples: the number of images (default 4,000 for training, 1,000 for testing),
            balanced over the classes.
        size: image side in pixels (28 by default, as MNIST).
        noise: standard deviation of the Gaussian pixel noise.
        seed: the data set's seed; the same (seed, train) always gives the same images.

    Shape:
        dataset[i] -> (x float32 (1, size, size), y int64 class index into `classes`).

    Examples:
        >>> from glassnet.data import Shapes
        >>> data = Shapes(num_samples=10)
        >>> x, y = data[0]
        >>> len(data), x.shape, x.dtype, data.classes[y]
        (10, (1, 28, 28), dtype('float32'), 'line')
        >>> sorted(data.targets.tolist())                  # balanced: two of each class
        [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    """

    classes = SHAPE_CLASSES

    def __init__(self, train: bool = True, transform=None, target_transform=None, num_samples: int | None = None,
                 size: int = 28, noise: float = 0.1, seed: int = 0):
        n = num_samples if num_samples is not None else (4000 if train else 1000)
        self.train = train
        x, y = make_shapes(n, size=size, noise=noise, seed=np.random.SeedSequence([seed, 0 if train else 1]))
        super().__init__(x, y, transform=transform, target_transform=target_transform)

    def __repr__(self) -> str:
        return f"Shapes(train={self.train}, samples={len(self)}, size={self.data.shape[-1]})"
