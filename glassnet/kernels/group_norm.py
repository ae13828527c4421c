"""Normalisation over each sample's own values: layer norm, group norm and instance norm, forward
and hand-derived backward in plain NumPy.

All three standardise rows of a matrix. Reshape x so that each row holds the K values that share
one mean and variance, then per row r:

    mu_r = mean_k x_rk,   var_r = mean_k (x_rk - mu_r)^2   (biased: divided by K)
    s_r = 1 / sqrt(var_r + eps),   x_hat_rk = (x_rk - mu_r) s_r

- layer norm (Ba et al. 2016): a row is one sample's trailing `normalized_shape` block;
  y = x_hat * weight + bias with weight, bias of shape normalized_shape (one per element).
- group norm (Wu & He 2018): x (N, C, *S), a row is one sample's C/G channels of one group
  (K = C/G * prod(S)); y = x_hat * weight_c + bias_c, one weight and bias per channel.
- instance norm (Ulyanov et al. 2016): group norm with one channel per group (G = C).
- RMS norm (Zhang & Sennrich 2019): layer norm without the centring, x_hat = x / sqrt(mean x^2 + eps);
  its backward is the one below without the mean_k g term, dx = s (g - x_hat mean(g x_hat)).

Backward of the standardisation, for one row (the batch-norm derivation with the batch replaced
by the row; g = dL/dx_hat):

    dL/dx_rk = s_r * (g_rk - mean_k g_rk - x_hat_rk * mean_k (g_rk x_hat_rk))

and for the affine part: dbias = sum dy, dweight = sum dy * x_hat over every axis the parameter
is shared along.
"""

from __future__ import annotations

import numpy as np

__all__ = ["standardize_forward", "standardize_backward", "group_norm_forward", "group_norm_backward",
           "layer_norm_forward", "layer_norm_backward", "rms_norm_forward", "rms_norm_backward"]


def standardize_forward(rows: np.ndarray, eps: float):
    """rows (R, K) -> (x_hat (R, K), mean (R,), var (R,), inv_std (R,)), biased variance."""
    mean = rows.mean(axis=1)  # (R,)
    centred = rows - mean[:, None]  # (R, K)
    # two-pass variance: no E[x^2] - mu^2 cancellation
    var = np.einsum("rk,rk->r", centred, centred) / np.asarray(rows.shape[1], rows.dtype)  # (R,)
    inv_std = 1 / np.sqrt(var + np.asarray(eps, rows.dtype))  # (R,)
    centred *= inv_std[:, None]  # x_hat, in place of the centred copy
    return centred, mean, var, inv_std


def standardize_backward(g: np.ndarray, x_hat: np.ndarray, inv_std: np.ndarray) -> np.ndarray:
    """dL/dx (R, K) from g = dL/dx_hat (R, K): s (g - mean g - x_hat mean(g x_hat)) per row."""
    k = np.asarray(g.shape[1], g.dtype)
    mean_g = g.sum(axis=1) / k  # (R,)
    mean_gx = np.einsum("rk,rk->r", g, x_hat) / k  # (R,)
    dx = g - mean_g[:, None]
    dx -= x_hat * mean_gx[:, None]
    dx *= inv_std[:, None]
    return dx


def _channel_view(v: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) -> (1, C, 1, ..., 1) to broadcast against (N, C, *S)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))  # (1, C, 1, ...)


def group_norm_forward(x: np.ndarray, num_groups: int, weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5):
    """x (N, C, *S), C divisible by num_groups -> (y of x's shape, cache). The cache also holds
    each row's mean and biased variance (N * G,), which instance norm's running statistics use."""
    rows, k = x.shape[0] * num_groups, int(np.prod(x.shape[1:])) // num_groups
    x_hat, mean, var, inv_std = standardize_forward(x.reshape(rows, k), eps)  # (N*G, C/G*S)
    x_hat = x_hat.reshape(x.shape)  # (N, C, *S)
    y = x_hat * _channel_view(weight, x.ndim) if weight is not None else x_hat.copy()
    if bias is not None:
        y += _channel_view(bias, x.ndim)
    cache = dict(x_hat=x_hat, inv_std=inv_std, mean=mean, var=var, weight=weight,
                 has_bias=bias is not None, num_groups=num_groups)
    return y, cache


def group_norm_backward(dy: np.ndarray, cache: dict, needs=(True, True, True)):
    """(dx, dweight, dbias), each None where not wanted or absent."""
    x_hat, inv_std, weight, groups = cache["x_hat"], cache["inv_std"], cache["weight"], cache["num_groups"]
    axes = (0,) + tuple(range(2, dy.ndim))  # every axis but the channel axis
    dw = db = dx = None
    if needs[1] and weight is not None:
        n, c = dy.shape[:2]
        dw = np.einsum("ncs,ncs->c", dy.reshape(n, c, -1), x_hat.reshape(n, c, -1))  # (C,)
    if needs[2] and cache["has_bias"]:
        db = dy.sum(axis=axes)  # (C,)
    if needs[0]:
        g = dy * _channel_view(weight, dy.ndim) if weight is not None else dy  # dL/dx_hat
        rows, k = dy.shape[0] * groups, int(np.prod(dy.shape[1:])) // groups
        dx = standardize_backward(g.reshape(rows, k), x_hat.reshape(rows, k), inv_std).reshape(dy.shape)
    return dx, dw, db


def layer_norm_forward(x: np.ndarray, normalized_ndim: int, weight: np.ndarray | None = None,
                       bias: np.ndarray | None = None, eps: float = 1e-5):
    """Standardise over the last normalized_ndim dimensions of x; weight and bias (if given)
    have the shape of those dimensions. -> (y of x's shape, cache)."""
    block = x.shape[x.ndim - normalized_ndim:]
    x_hat, _, _, inv_std = standardize_forward(x.reshape(-1, int(np.prod(block))), eps)  # (R, K)
    x_hat = x_hat.reshape(x.shape)
    y = x_hat * weight if weight is not None else x_hat.copy()
    if bias is not None:
        y += bias
    return y, dict(x_hat=x_hat, inv_std=inv_std, weight=weight, has_bias=bias is not None, block=block)


def layer_norm_backward(dy: np.ndarray, cache: dict, needs=(True, True, True)):
    """(dx, dweight, dbias), each None where not wanted or absent."""
    x_hat, inv_std, weight, block = cache["x_hat"], cache["inv_std"], cache["weight"], cache["block"]
    k = int(np.prod(block))
    dw = db = dx = None
    if needs[1] and weight is not None:
        dw = np.einsum("rk,rk->k", dy.reshape(-1, k), x_hat.reshape(-1, k)).reshape(block)
    if needs[2] and cache["has_bias"]:
        db = dy.reshape(-1, k).sum(axis=0).reshape(block)
    if needs[0]:
        g = dy * weight if weight is not None else dy  # dL/dx_hat
        dx = standardize_backward(g.reshape(-1, k), x_hat.reshape(-1, k), inv_std).reshape(dy.shape)
    return dx, dw, db


def rms_norm_forward(x: np.ndarray, normalized_ndim: int, weight: np.ndarray | None = None, eps: float = 1e-6):
    """x / sqrt(mean of x^2 over the last normalized_ndim dimensions + eps), times weight."""
    block = x.shape[x.ndim - normalized_ndim:]
    rows = x.reshape(-1, int(np.prod(block)))  # (R, K)
    inv_rms = 1 / np.sqrt(np.einsum("rk,rk->r", rows, rows) / np.asarray(rows.shape[1], x.dtype)
                          + np.asarray(eps, x.dtype))  # (R,)
    x_hat = (rows * inv_rms[:, None]).reshape(x.shape)
    y = x_hat * weight if weight is not None else x_hat.copy()
    return y, dict(x_hat=x_hat, inv_std=inv_rms, weight=weight, block=block)


def rms_norm_backward(dy: np.ndarray, cache: dict, needs=(True, True)):
    """(dx, dweight), each None where not wanted or absent."""
    x_hat, inv_rms, weight, block = cache["x_hat"], cache["inv_std"], cache["weight"], cache["block"]
    k = int(np.prod(block))
    dw = dx = None
    if needs[1] and weight is not None:
        dw = np.einsum("rk,rk->k", dy.reshape(-1, k), x_hat.reshape(-1, k)).reshape(block)
    if needs[0]:
        g = (dy * weight if weight is not None else dy).reshape(-1, k)  # dL/dx_hat, (R, K)
        rows = x_hat.reshape(-1, k)
        mean_gx = np.einsum("rk,rk->r", g, rows) / np.asarray(k, dy.dtype)  # (R,)
        dx = ((g - rows * mean_gx[:, None]) * inv_rms[:, None]).reshape(dy.shape)
    return dx, dw
