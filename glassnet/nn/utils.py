"""Gradient utilities (torch.nn.utils names)."""

from __future__ import annotations

import numpy as np


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0) -> float:
    """Scale all gradients together so their global norm is at most max_norm.

    Returns the norm before clipping (as torch). One scale for all parameters keeps the direction
    of the full gradient; clipping each parameter on its own would change it.
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == float("inf"):
        total = max(float(np.abs(g).max()) for g in grads)
    else:
        total = sum(float(np.sum(np.abs(g) ** norm_type)) for g in grads) ** (1.0 / norm_type)
    scale = max_norm / (total + 1e-6)
    if scale < 1.0:
        for g in grads:
            g *= np.asarray(scale, dtype=g.dtype)
    return total


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clip every gradient element to [-clip_value, clip_value], in place (PyTorch's
    clip_grad_value_); parameters without a gradient are skipped.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn
        >>> layer = nn.Linear(2, 1)
        >>> layer.weight.grad = np.array([[5.0, -0.5]], dtype=np.float32)
        >>> nn.utils.clip_grad_value_(layer.parameters(), 1.0)
        >>> layer.weight.grad.tolist()
        [[1.0, -0.5]]
    """
    for p in parameters:
        if p.grad is not None:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
