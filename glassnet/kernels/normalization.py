"""Batch normalisation: forward and hand-derived backward in plain NumPy.

Input x (N, C, *spatial) with 0 to 3 spatial dimensions (2-D to 5-D). Each channel c is
normalised over the M = N * prod(spatial) values it holds in the batch:

    mu_c = mean(x[:, c]),   var_c = mean((x[:, c] - mu_c)^2)   (biased: divided by M)
    x_hat = (x - mu_c) / sqrt(var_c + eps),   y = gamma_c * x_hat + beta_c

Training uses the batch statistics and updates the running ones in place, as PyTorch does:
    running_mean <- (1 - momentum) * running_mean + momentum * mu
    running_var  <- (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
Evaluation uses the running statistics instead of mu and var.

Backward (per channel, sums over the M positions, s = 1 / sqrt(var + eps)):
    dbeta  = sum dy                   dgamma = sum dy * x_hat
  evaluation (mu, var are constants):   dx = gamma * s * dy
  training (mu, var depend on x): with dx_hat = gamma * dy,
    dvar = sum dx_hat (x - mu) * (-1/2) s^3        dmu = -s sum dx_hat   (the dvar term's
    d var/d mu = -2/M sum (x - mu) = 0 drops out), and dx = dx_hat s + dvar 2 (x - mu)/M + dmu/M.
    Substituting x - mu = x_hat / s collapses this to
    dx = (gamma * s / M) * (M dy - sum dy - x_hat * sum(dy x_hat)) = gamma * s * (dy - dbeta/M - x_hat dgamma/M).
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_norm_forward", "batch_norm_backward"]


def _channel_view(v: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) -> (1, C, 1, ..., 1) to broadcast against (N, C, *spatial)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))  # (1, C, 1, ...)


def _per_channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over every axis but the channel axis of a * b, without forming a * b: (C,)."""
    n, c = a.shape[:2]
    return np.einsum("ncs,ncs->c", a.reshape(n, c, -1), b.reshape(n, c, -1))  # (N, C, S) -> (C,)


def batch_norm_forward(x: np.ndarray, running_mean: np.ndarray | None, running_var: np.ndarray | None,
                       weight: np.ndarray | None = None, bias: np.ndarray | None = None,
                       training: bool = False, momentum: float = 0.1, eps: float = 1e-5):
    """(y, cache). y has x's shape. In training the running statistics (if given) are updated in
    place with `momentum` as the factor of the new batch statistic."""
    axes = (0,) + tuple(range(2, x.ndim))  # every axis but the channel axis
    count = x.size // x.shape[1]  # M: values per channel
    if training:
        mean = x.mean(axis=axes)  # (C,)
        centred = x - _channel_view(mean, x.ndim)
        # two-pass variance (no E[x^2] - mu^2 cancellation), biased: divided by M
        var = _per_channel_dot(centred, centred) / np.asarray(count, x.dtype)  # (C,)
        del centred
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype)
        if running_var is not None:
            unbiased = var * (count / max(count - 1, 1))
            running_var *= 1 - momentum
            running_var += momentum * unbiased.astype(running_var.dtype)
    else:
        mean, var = running_mean.astype(x.dtype, copy=False), running_var.astype(x.dtype, copy=False)
    inv_std = 1 / np.sqrt(var + np.asarray(eps, x.dtype))  # s, (C,)
    # y = gamma (x - mu) s + beta = x * scale + shift: two passes over x, no x_hat array
    scale = inv_std if weight is None else weight * inv_std  # (C,)
    shift = -mean * scale if bias is None else bias - mean * scale  # (C,)
    y = x * _channel_view(scale, x.ndim)
    y += _channel_view(shift, x.ndim)
    cache = dict(mean=mean, inv_std=inv_std, weight=weight, has_bias=bias is not None,
                 training=training, axes=axes, count=count)
    return y, cache


def batch_norm_backward(dy: np.ndarray, x: np.ndarray, cache: dict,
                        needs: tuple[bool, bool, bool] = (True, True, True)):
    """(dx, dweight, dbias); each None where not wanted (or where there is no weight / bias)."""
    mean, inv_std, weight, axes, count = (cache[k] for k in ("mean", "inv_std", "weight", "axes", "count"))
    nd = x.ndim
    want_dw = needs[1] and weight is not None
    want_db = needs[2] and cache["has_bias"]
    train_dx = needs[0] and cache["training"]
    dbeta = dy.sum(axis=axes) if (want_db or train_dx) else None  # sum dy, (C,)
    dgamma = centred = None
    if want_dw or train_dx:
        centred = x - _channel_view(mean, nd)  # x - mu = x_hat / s, (N, C, *spatial)
        dgamma = _per_channel_dot(dy, centred) * inv_std  # sum dy x_hat, (C,)
    dx = None
    if needs[0]:
        g_s = inv_std if weight is None else weight * inv_std  # gamma * s, (C,)
        dx = dy * _channel_view(g_s, nd)
        if cache["training"]:
            # dx = gamma s (dy - dbeta/M - x_hat dgamma/M), with x_hat = s (x - mu); the
            # correction is built in the centred buffer to save an allocation
            centred *= _channel_view(g_s * inv_std * dgamma / count, nd)
            centred += _channel_view(g_s * dbeta / count, nd)
            dx -= centred
    return dx, dgamma if want_dw else None, dbeta if want_db else None
