"""The robust regression losses of torch.nn: L1, smooth L1 and Huber, forward and hand-derived
backward in plain NumPy. With d = x - t elementwise:

    l1:         l = |d|                                          dl/dd = sign(d)   (0 at d = 0)
    smooth_l1:  l = d^2 / (2 beta)     if |d| < beta             dl/dd = d / beta
                l = |d| - beta / 2     otherwise                 dl/dd = sign(d)   (beta = 0: l1)
    huber:      l = d^2 / 2            if |d| < delta            dl/dd = d
                l = delta (|d| - delta / 2) otherwise            dl/dd = delta sign(d)

(huber = delta * smooth_l1 with beta = delta.) The target's gradient is minus the input's.
Reductions as in kernels.loss: 'none', 'sum', 'mean' over all elements.
"""

from __future__ import annotations

import numpy as np

from .loss import _reduce, _upstream

__all__ = ["regression_loss_forward", "regression_loss_backward"]

KINDS = ("l1", "smooth_l1", "huber")


def regression_loss_forward(x: np.ndarray, target: np.ndarray, kind: str, reduction: str = "mean",
                            beta: float = 1.0):
    """kind: 'l1', 'smooth_l1' (beta) or 'huber' (beta is delta). -> (loss, cache)."""
    d = x - target
    a = np.abs(d)
    dt = x.dtype.type
    if kind == "l1" or (kind == "smooth_l1" and beta == 0):
        losses = a
    elif kind == "smooth_l1":
        losses = np.where(a < beta, dt(0.5) * d * d / dt(beta), a - dt(0.5 * beta))
    else:
        losses = np.where(a < beta, dt(0.5) * d * d, dt(beta) * (a - dt(0.5 * beta)))
    cache = dict(d=d, kind=kind, beta=beta, reduction=reduction, denominator=d.size)
    return _reduce(losses, reduction, d.size), cache


def regression_loss_backward(dloss: np.ndarray, cache: dict):
    """(dx, dtarget)."""
    d, kind, beta = cache["d"], cache["kind"], cache["beta"]
    dt = d.dtype.type
    if kind == "l1" or (kind == "smooth_l1" and beta == 0):
        slope = np.sign(d)
    elif kind == "smooth_l1":
        slope = np.clip(d / dt(beta), dt(-1), dt(1))
    else:
        slope = np.clip(d, dt(-beta), dt(beta))
    dx = slope * _upstream(dloss, cache["reduction"], cache["denominator"], d.dtype)
    dx = np.broadcast_to(dx, d.shape).astype(d.dtype, copy=True)
    return dx, -dx
