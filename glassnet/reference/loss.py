"""Loss functions and their gradients with respect to the network's output.

cross_entropy   logits x (N, C, ...), class indices t (N, ...):
                l = -log softmax(x)_t = -x_t + log sum_c e^{x_c};  dl/dx_c = softmax(x)_c - [c = t]
                (seed 000's "p - y"), each position weighted by w_t (class weights), ignored
                positions contributing 0; 'mean' divides by the sum of the weights used.
nll_loss        log-probabilities x: l = -w_t x_t;  dl/dx_c = -w_t [c = t].
mse_loss        l = (x - t)^2;  dl/dx = 2 (x - t).
binary_cross_entropy_with_logits
                l = -[t log s + (1 - t) log(1 - s)], s = sigmoid(x);  dl/dx = s - t, dl/dt = -x.
Every forward returns the reduced loss; every backward returns dl/dx for an upstream scalar g
(reduction 'mean' or 'sum') or per-position g (reduction 'none').
"""

from __future__ import annotations

import numpy as np

from .activation import log_softmax_forward, sigmoid_forward


def _one_hot(t, C, dtype):
    """(N, ...) class indices -> (N, C, ...) with a 1 at each position's class."""
    return (np.arange(C).reshape((1, C) + (1,) * (t.ndim - 1)) == t[:, None]).astype(dtype)


def _weights(t, weight, ignore_index, dtype):
    """w_t per position, 0 where the target is ignored."""
    w = np.ones(t.shape, dtype) if weight is None else weight[np.where(t == ignore_index, 0, t)]
    return np.where(t == ignore_index, 0, w).astype(dtype)


def _reduce(l, reduction, count):
    return {"none": l, "sum": l.sum(), "mean": l.sum() / count}[reduction]


def _scale(g, reduction, count, ndim_extra):
    g = np.asarray(g)
    if reduction == "none":
        return g.reshape(g.shape[:1] + (1,) + g.shape[1:]) if ndim_extra else g
    return g / count if reduction == "mean" else g


def nll_loss_forward(x, t, weight=None, ignore_index=-100, reduction="mean"):
    w_t = _weights(t, weight, ignore_index, x.dtype)
    l = -w_t * (x * _one_hot(np.where(t == ignore_index, 0, t), x.shape[1], x.dtype)).sum(axis=1)
    return _reduce(l, reduction, w_t.sum())


def nll_loss_backward(g, x, t, weight=None, ignore_index=-100, reduction="mean"):
    w_t = _weights(t, weight, ignore_index, x.dtype)
    dx = -_one_hot(np.where(t == ignore_index, 0, t), x.shape[1], x.dtype) * w_t[:, None]
    return dx * _scale(g, reduction, w_t.sum(), True)


def cross_entropy_forward(x, t, weight=None, ignore_index=-100, reduction="mean"):
    return nll_loss_forward(log_softmax_forward(x, 1), t, weight, ignore_index, reduction)


def cross_entropy_backward(g, x, t, weight=None, ignore_index=-100, reduction="mean"):
    """dl/dx = w_t (softmax(x) - onehot(t)), scaled by the reduction."""
    w_t = _weights(t, weight, ignore_index, x.dtype)
    p = np.exp(log_softmax_forward(x, 1))
    y = _one_hot(np.where(t == ignore_index, 0, t), x.shape[1], x.dtype)
    return (p - y) * w_t[:, None] * _scale(g, reduction, w_t.sum(), True)


def mse_loss_forward(x, t, reduction="mean"):
    return _reduce((x - t) ** 2, reduction, x.size)


def mse_loss_backward(g, x, t, reduction="mean"):
    return 2 * (x - t) * _scale(g, reduction, x.size, False)


def binary_cross_entropy_with_logits_forward(x, t, reduction="mean"):
    # log s = -log(1 + e^-x) and log(1 - s) = -x - log(1 + e^-x), written without overflow
    softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))
    return _reduce((1 - t) * x + softplus_neg, reduction, x.size)


def binary_cross_entropy_with_logits_backward(g, x, t, reduction="mean"):
    """(dl/dx, dl/dt)."""
    g = _scale(g, reduction, x.size, False)
    return (sigmoid_forward(x) - t) * g, -x * g
