"""Binary cross-entropy of probabilities (torch's binary_cross_entropy / BCELoss): forward and
hand-derived backward in plain NumPy. (From logits, the stable form, see kernels.loss.)

For a probability x in [0, 1], a target t and a weight w (1 if absent), elementwise:

    l = -w [t log x + (1 - t) log(1 - x)],   each log clamped at -100 as PyTorch does,
                                             so x = 0 or 1 gives a finite loss
    dl/dx = w (x - t) / max(x (1 - x), 1e-12)     (PyTorch's guard against 0 / 0 at the ends)
    dl/dt = w (log(1 - x) - log x)                (unclamped, as PyTorch: +-inf at x = 0 or 1)

Reductions as in kernels.loss: 'none', 'sum', 'mean' over all elements.
"""

from __future__ import annotations

import numpy as np

from .loss import _reduce, _upstream

__all__ = ["binary_cross_entropy_forward", "binary_cross_entropy_backward"]

LOG_FLOOR = -100.0  # PyTorch's clamp of each log term
EPSILON = float(np.float32(1e-12))  # PyTorch's floor of x (1 - x) in the input gradient, a C float


def binary_cross_entropy_forward(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                                 reduction: str = "mean"):
    floor = np.asarray(LOG_FLOOR, x.dtype)
    with np.errstate(divide="ignore"):  # log(0) = -inf, then clamped
        log_x = np.maximum(np.log(x), floor)
        log_1mx = np.maximum(np.log1p(-x), floor)
    losses = -(target * log_x + (1 - target) * log_1mx)
    if weight is not None:
        losses = losses * weight
    cache = dict(x=x, target=target, weight=weight, reduction=reduction, denominator=x.size)
    return _reduce(losses, reduction, x.size), cache


def binary_cross_entropy_backward(dloss: np.ndarray, cache: dict, needs_target_grad: bool = False):
    """(dx, dtarget), both of the input's shape (dtarget None unless asked for)."""
    x, t, w = cache["x"], cache["target"], cache["weight"]
    g = _upstream(dloss, cache["reduction"], cache["denominator"], x.dtype)
    if w is not None:
        g = g * w
    dx = (x - t) / np.maximum(x * (1 - x), np.asarray(EPSILON, x.dtype)) * g
    dt = None
    if needs_target_grad:
        with np.errstate(divide="ignore"):
            dt = (np.log1p(-x) - np.log(x)) * g
    # a scalar g with a 0-d x leaves 0-d results; broadcast to x's shape in every case
    return np.broadcast_to(dx, x.shape).astype(x.dtype, copy=False), \
        None if dt is None else np.broadcast_to(dt, x.shape).astype(x.dtype, copy=False)
