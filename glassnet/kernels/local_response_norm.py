"""Local response normalisation across channels (Krizhevsky et al. 2012, AlexNet), forward and
hand-derived backward in plain NumPy, with PyTorch's window and scaling.

For input x (N, C, *spatial) and a window of `size` channels around channel c,
W(c) = [c - size // 2, c + (size - 1) // 2] (channels outside [0, C) count as zeros):

    S_c = sum over c' in W(c) of x_c'^2,    D_c = k + alpha / size * S_c,    y_c = x_c * D_c^(-beta)

Backward: y_c depends on x_j directly (j = c) and through S_c for every c whose window holds j,
that is c in [j - (size - 1) // 2, j + size // 2]:

    dx_j = dy_j D_j^(-beta) + 2 alpha / size * x_j * sum over those c of (-beta) dy_c x_c D_c^(-beta - 1)

Both window sums are `size` shifted slices of a zero-padded array added up (a loop over the
window's offsets, not over pixels).
"""

from __future__ import annotations

import numpy as np

__all__ = ["local_response_norm_forward", "local_response_norm_backward"]


def _window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """out[:, c] = sum of a[:, c - before .. c + after] along the channel axis (zeros outside)."""
    c = a.shape[1]
    padded = np.pad(a, [(0, 0), (before, after)] + [(0, 0)] * (a.ndim - 2))  # (N, C + before + after, *S)
    out = padded[:, 0:c].copy()
    for k in range(1, before + after + 1):
        out += padded[:, k:k + c]
    return out


def local_response_norm_forward(x: np.ndarray, size: int, alpha: float = 1e-4, beta: float = 0.75,
                                k: float = 1.0):
    """(y of x's shape, cache)."""
    dt = x.dtype.type
    denom = dt(k) + dt(alpha / size) * _window_sum(x * x, size // 2, (size - 1) // 2)  # D, (N, C, *S)
    scale = denom ** dt(-beta)  # D^(-beta)
    return x * scale, dict(x=x, denom=denom, scale=scale, size=size, alpha=alpha, beta=beta)


def local_response_norm_backward(dy: np.ndarray, cache: dict) -> np.ndarray:
    x, denom, scale, size = cache["x"], cache["denom"], cache["scale"], cache["size"]
    dt = x.dtype.type
    g = dy * x * scale / denom * dt(-cache["beta"])  # -beta dy_c x_c D_c^(-beta - 1)
    # the windows that hold channel j are centred at c in [j - (size - 1) // 2, j + size // 2]
    return dy * scale + dt(2 * cache["alpha"] / size) * x * _window_sum(g, (size - 1) // 2, size // 2)
