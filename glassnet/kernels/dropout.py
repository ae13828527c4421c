"""Dropout (inverted): forward and backward in plain NumPy.

During training every element is kept with probability 1 - p and zeroed otherwise, and the kept
elements are scaled by 1 / (1 - p), so the expected value of each output equals its input and
nothing needs rescaling at evaluation time (where dropout is the identity):

    y = x * m / (1 - p),  m ~ Bernoulli(1 - p) elementwise     dL/dx = dL/dy * m / (1 - p)

The mask is drawn from the generator passed in (glassnet's functional layer passes
glassnet.random.default_generator(), so glassnet.manual_seed makes it repeatable). It is kept
as booleans (1 byte per element) and the scale applied on the fly.

Channel dropout (dropout1d/2d/3d) is the same with a mask of shape (N, C, 1, ..., 1) that
broadcasts over the spatial dimensions: whole feature maps are kept or zeroed together, because
neighbouring activations in a map are so correlated that dropping single pixels barely
regularises a convolutional layer (Tompson et al. 2015). The mask is a constant, so the
backward is again dL/dx = dL/dy * mask / (1 - p), the mask broadcast the same way.
"""

from __future__ import annotations

import numpy as np

__all__ = ["dropout_mask", "dropout_forward", "dropout_backward"]


def dropout_mask(shape: tuple[int, ...], p: float, generator: np.random.Generator) -> np.ndarray:
    """Boolean keep-mask of `shape`: True with probability 1 - p."""
    # uniform u in [0, 1): P(u >= p) = 1 - p. float32 draws are half the work of float64 ones.
    return generator.random(shape, dtype=np.float32) >= np.float32(p)


def dropout_forward(x: np.ndarray, p: float, generator: np.random.Generator,
                    mask_shape: tuple[int, ...] | None = None):
    """(y, keep): y = x * keep / (1 - p) with a fresh mask of mask_shape (default: x's shape; a
    shape that broadcasts to x's, such as (N, C, 1, 1), drops whole slices); for p = 1 every
    element is dropped (y = 0), for p = 0 none is (y = x, no random numbers drawn)."""
    mask_shape = x.shape if mask_shape is None else tuple(mask_shape)
    if p == 0:
        return x.copy(), None
    if p == 1:
        return np.zeros_like(x), np.zeros(mask_shape, dtype=bool)
    keep = dropout_mask(mask_shape, p, generator)
    y = np.multiply(x, keep)  # bool mask -> x's dtype
    y *= np.asarray(1 / (1 - p), x.dtype)
    return y, keep


def dropout_backward(dy: np.ndarray, keep: np.ndarray | None, p: float) -> np.ndarray:
    """dx = dy * keep / (1 - p) (the forward's own mask and scale, broadcast like the forward)."""
    if keep is None:  # p = 0: identity
        return dy
    if p == 1:
        return np.zeros_like(dy)
    dx = np.multiply(dy, keep)
    dx *= np.asarray(1 / (1 - p), dy.dtype)
    return dx
