"""Batch normalisation (Ioffe & Szegedy 2015), per channel c over the batch and every position.

With M the number of values of channel c in the batch:

    mu = (1/M) sum x        var = (1/M) sum (x - mu)^2        x_hat = (x - mu) / sqrt(var + eps)
    y = gamma x_hat + beta

Backward, written step by step as the chain rule through those four lines:

    dbeta  = sum dy                         dgamma = sum dy x_hat
    dx_hat = gamma dy
    dvar   = sum dx_hat (x - mu) (-1/2) (var + eps)^(-3/2)
    dmu    = -sum dx_hat / sqrt(var + eps)      (dvar's own dmu term is 0: sum (x - mu) = 0)
    dx     = dx_hat / sqrt(var + eps) + dvar 2 (x - mu) / M + dmu / M

In evaluation mu and var are the running statistics, constants: dx = gamma dy / sqrt(var + eps).
"""

from __future__ import annotations

import numpy as np


def _per_channel(v, ndim):
    return v.reshape((1, -1) + (1,) * (ndim - 2))  # (C,) -> (1, C, 1, ...)


def batch_norm_forward(x, mean, var, gamma=None, beta=None, eps=1e-5):
    """y for given per-channel statistics (the batch's in training, the running ones in eval)."""
    x_hat = (x - _per_channel(mean, x.ndim)) / np.sqrt(_per_channel(var, x.ndim) + eps)
    y = x_hat if gamma is None else x_hat * _per_channel(gamma, x.ndim)
    return y if beta is None else y + _per_channel(beta, x.ndim)


def batch_statistics(x):
    """(mu, var) of each channel over the batch and every position (biased variance)."""
    axes = (0,) + tuple(range(2, x.ndim))
    mu = x.mean(axis=axes)
    return mu, ((x - _per_channel(mu, x.ndim)) ** 2).mean(axis=axes)


def batch_norm_backward(dy, x, mean, var, gamma=None, eps=1e-5, training=True):
    """(dx, dgamma, dbeta); in training mean and var must be x's batch statistics."""
    axes = (0,) + tuple(range(2, x.ndim))
    M = x.size // x.shape[1]
    mu, inv = _per_channel(mean, x.ndim), 1 / np.sqrt(_per_channel(var, x.ndim) + eps)
    x_hat = (x - mu) * inv
    dbeta, dgamma = dy.sum(axis=axes), (dy * x_hat).sum(axis=axes)
    dx_hat = dy if gamma is None else dy * _per_channel(gamma, x.ndim)
    if not training:
        return dx_hat * inv, dgamma, dbeta
    dvar = (dx_hat * (x - mu)).sum(axis=axes, keepdims=True) * -0.5 * inv ** 3
    dmu = -dx_hat.sum(axis=axes, keepdims=True) * inv
    dx = dx_hat * inv + dvar * 2 * (x - mu) / M + dmu / M
    return dx, dgamma, dbeta
