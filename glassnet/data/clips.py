"""Clips: a procedural 3-D data set of short videos, for 3-D convolution.

Each clip shows one small shape (square, diamond, cross or circle, chosen at random) gliding in
a straight line at constant speed; the label is the direction of motion, one of `directions`
equally spaced angles (8 by default: 0 = right, then counter-clockwise in steps of 45 degrees,
image rows growing downwards). The frame is a torus: a shape leaving on one side comes back on
the other, so the start position is uniform over the frame and no single frame tells the
direction; only the change between frames does, which is the work of a convolution over time.

Samples: x float32 (1, T, H, W), y int64 direction index.
"""

from __future__ import annotations

import numpy as np

from .dataset import ArrayDataset
from .shapes import distance_to_shape, stroke


def _wrap(d: np.ndarray, period: int) -> np.ndarray:
    """Shortest signed offset on a circle of `period` pixels: values in [-period/2, period/2)."""
    return (d + period / 2) % period - period / 2


def make_clips(num_samples: int, frames: int = 8, size: int = 16, directions: int = 8, noise: float = 0.1,
               seed: int = 0, width: float = 1.2):
    """Generate (x, y): x float32 (N, 1, frames, size, size), y int64 (N,) balanced over directions.

    speed ~ U[1, 1.5] pixels per frame, shape radius ~ U[2, 3.5] pixels, contrast ~ U[0.6, 1],
    pixel noise ~ N(0, noise^2).

    Examples:
        >>> from glassnet.data.clips import make_clips
        >>> x, y = make_clips(8, frames=4)
        >>> x.shape, sorted(y.tolist())
        ((8, 1, 4, 16, 16), [0, 1, 2, 3, 4, 5, 6, 7])
    """
    if directions < 2 or frames < 2:
        raise ValueError(f"clips need at least 2 directions and 2 frames, got directions={directions}, "
                         f"frames={frames}")
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(num_samples) % directions)  # balanced, in random order
    kind = rng.choice([0, 1, 2, 3], size=num_samples)          # square, diamond, cross, circle
    radius = rng.uniform(2.0, 3.5, num_samples)
    speed = rng.uniform(1.0, 1.5, num_samples)
    start_y, start_x = rng.uniform(0, size, num_samples), rng.uniform(0, size, num_samples)
    contrast = rng.uniform(0.6, 1.0, num_samples)
    theta = 2 * np.pi * y / directions
    vy, vx = -speed * np.sin(theta), speed * np.cos(theta)  # rows grow downwards: "up" is -y

    t = np.arange(frames, dtype=np.float64)
    cy = start_y[:, None] + vy[:, None] * t[None, :]  # (N, T) centre per frame
    cx = start_x[:, None] + vx[:, None] * t[None, :]
    grid = np.arange(size, dtype=np.float64)
    dy = _wrap(grid[None, None, :, None] - cy[:, :, None, None], size)  # (N, T, size, 1)
    dx = _wrap(grid[None, None, None, :] - cx[:, :, None, None], size)  # (N, T, 1, size)
    dy, dx = np.broadcast_arrays(dy, dx)                                # (N, T, size, size)
    distance = distance_to_shape(kind, dy, dx, radius, np.zeros(num_samples))
    ink = stroke(distance, width) * contrast[:, None, None, None]
    x = ink + noise * rng.standard_normal(ink.shape)
    return x[:, None].astype(np.float32), y.astype(np.int64)  # (N, 1, T, size, size), (N,)


class Clips(ArrayDataset):
    """The moving-shapes clip data set (label = direction of motion).

    train: the training split (seed [seed, 0]) or the test split (seed [seed, 1]).
    num_samples: default 4,000 for training, 1,000 for testing; clips of `frames` x size x size.

    Args:
        train: the training split, else the test split.
        transform: a batched transform of the inputs (see ArrayDataset).
        target_transform: the same for the targets.
        num_samples: the number of clips, balanced over the directions.
        frames: frames per clip (T).
        size: frame side in pixels (H = W).
        directions: the number of classes, equally spaced angles (0 = right, counter-clockwise).
        noise: standard deviation of the Gaussian pixel noise.
        seed: the data set's seed; the same (seed, train) always gives the same clips.

    Shape:
        dataset[i] -> (x float32 (1, frames, size, size), y int64 direction index), ready for
        Conv3d.

    Examples:
        >>> from glassnet.data import Clips
        >>> data = Clips(num_samples=8, frames=4)
        >>> x, y = data[0]
        >>> len(data), x.shape, data.classes[:3]
        (8, (1, 4, 16, 16), ['0 deg', '45 deg', '90 deg'])
        >>> sorted(data.targets.tolist())                  # one clip per direction
        [0, 1, 2, 3, 4, 5, 6, 7]
    """

    def __init__(self, train: bool = True, transform=None, target_transform=None, num_samples: int | None = None,
                 frames: int = 8, size: int = 16, directions: int = 8, noise: float = 0.1, seed: int = 0):
        n = num_samples if num_samples is not None else (4000 if train else 1000)
        self.train, self.directions = train, directions
        self.classes = [f"{round(360 * k / directions)} deg" for k in range(directions)]
        x, y = make_clips(n, frames=frames, size=size, directions=directions, noise=noise,
                          seed=np.random.SeedSequence([seed, 0 if train else 1]))
        super().__init__(x, y, transform=transform, target_transform=target_transform)

    def __repr__(self) -> str:
        return f"Clips(train={self.train}, samples={len(self)}, clip shape={self.data.shape[1:]})"
