"""Loss functions: forward and hand-derived backward in plain NumPy.

Shapes follow PyTorch. For the classification losses the class dimension is dim 1:
input (N, C) or (N, C, d1, d2, ...); class-index targets (N,) or (N, d1, d2, ...). An unbatched
input (C,) with a 0-d target is handled by the callers (glassnet.functional.loss) by adding N = 1.

Reductions: 'none' returns one loss per sample position, 'sum' their sum, 'mean' their mean,
where for class-index targets "mean" is PyTorch's *weighted* mean: the sum of the losses divided
by the sum of the weights w[target] of the positions not ignored (so the mean of a batch where
every target is ignore_index is 0/0 = nan, as in PyTorch).

Every forward returns (loss, cache) and every backward takes (dloss, cache): the cache is a dict
of what the backward needs, so the derivative is computed from the same arrays the forward saw.
"""

from __future__ import annotations

import numpy as np

from .activation import log_softmax_forward, sigmoid_forward
from .fast import cross_entropy as rows

__all__ = [
    "REDUCTIONS",
    "cross_entropy_forward", "cross_entropy_backward",
    "nll_loss_forward", "nll_loss_backward",
    "mse_loss_forward", "mse_loss_backward",
    "binary_cross_entropy_with_logits_forward", "binary_cross_entropy_with_logits_backward",
]

REDUCTIONS = ("none", "mean", "sum")


def _class_shape(weight: np.ndarray | None, ndim: int) -> np.ndarray | None:
    """weight (C,) -> (1, C, 1, ..., 1), to broadcast against an (N, C, d1, ...) input."""
    if weight is None:
        return None
    return weight.reshape((1, -1) + (1,) * (ndim - 2))  # (1, C, 1, ...)


def _target_weights(target: np.ndarray, weight: np.ndarray | None, ignore_index: int, dtype):
    """For class-index targets (N, d1, ...): the index with ignored positions replaced by 0 (so it
    can be used for gathering), and w[target] per position with 0 where the target is ignored."""
    valid = target != ignore_index  # (N, d1, ...)
    safe = np.where(valid, target, 0)
    w_t = valid.astype(dtype) if weight is None else np.where(valid, weight[safe], 0).astype(dtype)
    return safe, w_t


def _reduce(losses: np.ndarray, reduction: str, denominator) -> np.ndarray:
    if reduction == "none":
        return losses
    total = losses.sum(dtype=losses.dtype)
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):  # all ignored: nan, as PyTorch
        return np.asarray(total / np.asarray(denominator, losses.dtype), losses.dtype)


def _upstream(dloss: np.ndarray, reduction: str, denominator, dtype) -> np.ndarray:
    """d(reduced loss)/d(per-position loss) times dloss: (N, d1, ...) for 'none', else a scalar."""
    dloss = np.asarray(dloss, dtype)
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            return dloss / np.asarray(denominator, dtype)
    return dloss


# ---- cross-entropy --------------------------------------------------------------------------
# With p = softmax(x) along the class dim and a per-class coefficient q_c >= 0, each position's
# loss is l = -sum_c q_c log p_c. Since d log p_c / d x_j = delta_cj - p_j,
#     dl/dx_j = -q_j + p_j * sum_c q_c            (the familiar "p - y" when q is one-hot).
# Only q differs between the cases (eps = label_smoothing, w = class weights, C classes):
#   class index t:       q_c = (1 - eps) w_t [c = t] + (eps / C) w_c,  and q = 0 if t is ignored
#   probabilities t_c:   q_c = ((1 - eps) t_c + eps / C) w_c
# 'mean' divides by sum of w_t over positions not ignored for class indices (PyTorch's weighted
# mean, smoothing term included) and by the number of positions N*d1*... for probabilities.
# For probability targets the target gets a gradient too: dl/dt_c = -(1 - eps) w_c log p_c.

def cross_entropy_forward(x: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                          ignore_index: int = -100, reduction: str = "mean",
                          label_smoothing: float = 0.0):
    """Cross-entropy of logits x (N, C, d1, ...) against class indices (N, d1, ...) (integers) or
    class probabilities (N, C, d1, ...) (floats, same shape as x). Returns (loss, cache); loss has
    shape (N, d1, ...) for reduction='none', () otherwise."""
    if rows.applies(x, target, weight, label_smoothing):  # a classifier's step: compiled rows
        return _cross_entropy_rows(x, target, ignore_index, reduction)
    n_classes = x.shape[1]
    eps = float(label_smoothing)
    logp = log_softmax_forward(x, 1)  # (N, C, d1, ...)
    w = _class_shape(weight, x.ndim)  # (1, C, 1, ...) or None
    cache = dict(logp=logp, weight=w, reduction=reduction, eps=eps, probabilities=target.shape == x.shape)
    if cache["probabilities"]:
        q = target * (1 - eps) + eps / n_classes if eps else target  # (N, C, d1, ...)
        wlogp = logp if w is None else logp * w
        losses = -(q * wlogp).sum(axis=1)  # (N, d1, ...)
        cache.update(q=q, denominator=losses.size)
    else:
        safe, w_t = _target_weights(target, weight, ignore_index, x.dtype)
        picked = np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]  # log p_t, (N, d1, ...)
        losses = -(1 - eps) * w_t * picked
        if eps:
            valid = (target != ignore_index).astype(x.dtype)
            wlogp = logp if w is None else logp * w
            losses -= (eps / n_classes) * valid * wlogp.sum(axis=1)
            cache.update(valid=valid)
        cache.update(target=safe, w_t=w_t, denominator=w_t.sum(), ignored=target == ignore_index)
    return _reduce(losses, reduction, cache["denominator"]), cache


def _cross_entropy_rows(x: np.ndarray, target: np.ndarray, ignore_index: int, reduction: str):
    """cross_entropy_forward for logits (N, C) and class indices (N,) without weights or
    smoothing, through kernels/fast/cross_entropy.py: the same formulas, one pass per row."""
    logp, losses = np.empty_like(x), np.empty(x.shape[:1], x.dtype)  # (N, C), (N,)
    total, count, bad = rows.forward_rows(x, target, ignore_index, logp, losses)
    if bad >= 0:  # glassnet.functional checks this first; a direct caller gets the same error
        raise IndexError(f"cross_entropy expected class indices in [0, {x.shape[1]}) or ignore_index="
                         f"{ignore_index}, got {target[bad]} at position {bad}")
    cache = dict(logp=logp, target=target, ignore_index=ignore_index, reduction=reduction, denominator=count,
                 rows=True)
    if reduction == "none":
        return losses, cache
    if reduction == "sum":
        return np.asarray(total, x.dtype), cache
    return np.asarray(total / count if count else np.nan, x.dtype), cache  # all ignored: nan, as PyTorch


def cross_entropy_backward(dloss: np.ndarray, cache: dict, needs_target_grad: bool = False):
    """(dx, dtarget): dx of the logits' shape; dtarget only for probability targets when asked."""
    if cache.get("rows"):  # _cross_entropy_rows' cache
        logp = cache["logp"]
        g = np.atleast_1d(_upstream(dloss, cache["reduction"], cache["denominator"], logp.dtype))  # (N,) or (1,)
        dx = np.empty_like(logp)
        rows.backward_rows(logp, cache["target"], cache["ignore_index"], g, dx)
        return dx, None
    logp, w, eps = cache["logp"], cache["weight"], cache["eps"]
    n_classes = logp.shape[1]
    g = _upstream(dloss, cache["reduction"], cache["denominator"], logp.dtype)
    g = g[:, None] if g.ndim else g  # (N, 1, d1, ...) per position, or a scalar
    p = np.exp(logp)  # softmax, (N, C, d1, ...)
    if cache["probabilities"]:
        qw = cache["q"] if w is None else cache["q"] * w  # the coefficients q_c, (N, C, d1, ...)
        dx = (p * qw.sum(axis=1, keepdims=True) - qw) * g
        dt = None
        if needs_target_grad:
            wlogp = logp if w is None else logp * w
            dt = -(1 - eps) * wlogp * g
        return dx, dt
    w_t, target = cache["w_t"], cache["target"]
    q_sum = (1 - eps) * w_t  # sum_c q_c per position, (N, d1, ...)
    if eps:
        w_sum = n_classes if w is None else w.sum()
        q_sum = q_sum + (eps / n_classes) * w_sum * cache["valid"]
    dx = p * q_sum[:, None]  # (N, C, d1, ...): the p_j * sum_c q_c term
    if eps:
        smooth = (eps / n_classes) * cache["valid"][:, None]  # (N, 1, d1, ...)
        dx -= smooth if w is None else smooth * w
    # the one-hot part of q: subtract (1 - eps) w_t at the target class of each position
    index = target[:, None]  # (N, 1, d1, ...): the target class along the class axis
    at_target = np.take_along_axis(dx, index, axis=1)  # (N, 1, d1, ...)
    np.put_along_axis(dx, index, at_target - ((1 - eps) * w_t)[:, None], axis=1)
    dx *= g
    # an ignored position has no gradient, also when every target is ignored and the 'mean'
    # divides by a total weight of 0 (g = nan): PyTorch gives zeros there
    dx[np.broadcast_to(cache["ignored"][:, None], dx.shape)] = 0
    return dx, None


# ---- negative log-likelihood ----------------------------------------------------------------
# Input holds log-probabilities; l = -w_t * input[t] per position (0 where t is ignored).
# dl/d input_c = -w_t [c = t]: a one-hot gradient scaled by the class weight.

def nll_loss_forward(logp: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None,
                     ignore_index: int = -100, reduction: str = "mean"):
    """NLL of log-probabilities (N, C, d1, ...) at class indices (N, d1, ...)."""
    safe, w_t = _target_weights(target, weight, ignore_index, logp.dtype)
    losses = -w_t * np.take_along_axis(logp, safe[:, None], axis=1)[:, 0]  # (N, d1, ...)
    cache = dict(shape=logp.shape, target=safe, w_t=w_t, reduction=reduction, denominator=w_t.sum(),
                 ignored=target == ignore_index)
    return _reduce(losses, reduction, cache["denominator"]), cache


def nll_loss_backward(dloss: np.ndarray, cache: dict) -> np.ndarray:
    w_t = cache["w_t"]
    g = _upstream(dloss, cache["reduction"], cache["denominator"], w_t.dtype)
    dx = np.zeros(cache["shape"], w_t.dtype)  # (N, C, d1, ...)
    # (N, 1, d1, ...) index and values: one entry per position, at its target class
    # ignored positions get 0, not 0 * g (nan when every target is ignored), as in PyTorch
    values = np.where(cache["ignored"], np.zeros((), w_t.dtype), -w_t * g)
    np.put_along_axis(dx, cache["target"][:, None], values[:, None], axis=1)
    return dx


# ---- mean squared error ---------------------------------------------------------------------
# l = (x - t)^2 per element; dl/dx = 2 (x - t), dl/dt = -2 (x - t). 'mean' divides by the
# number of elements.

def mse_loss_forward(x: np.ndarray, target: np.ndarray, reduction: str = "mean"):
    diff = x - target
    cache = dict(diff=diff, reduction=reduction, denominator=diff.size)
    return _reduce(diff * diff, reduction, diff.size), cache


def mse_loss_backward(dloss: np.ndarray, cache: dict):
    """(dx, dtarget)."""
    diff = cache["diff"]
    dx = 2 * diff * _upstream(dloss, cache["reduction"], cache["denominator"], diff.dtype)
    return dx, -dx


# ---- binary cross-entropy with logits -------------------------------------------------------
# With s = sigmoid(x), pw = pos_weight (1 if absent) and w = weight (1 if absent):
#     l = -w [pw t log s + (1 - t) log(1 - s)]
# Using log s = -softplus(-x) and log(1 - s) = -x - softplus(-x), this is
#     l = w [(1 - t) x + (1 + (pw - 1) t) softplus(-x)],
# where softplus(-x) = log(1 + exp(-x)) = max(-x, 0) + log1p(exp(-|x|)) never overflows.
# Derivatives (softplus(-x)' = -sigmoid(-x)):
#     dl/dx = w [(1 - t) - (1 + (pw - 1) t) sigmoid(-x)]      (= w (s - t) when pw = 1)
#     dl/dt = w [-x + (pw - 1) softplus(-x)]

def binary_cross_entropy_with_logits_forward(x: np.ndarray, target: np.ndarray,
                                             weight: np.ndarray | None = None,
                                             reduction: str = "mean",
                                             pos_weight: np.ndarray | None = None):
    softplus_neg = np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))  # log(1 + exp(-x))
    log_weight = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
    losses = (1 - target) * x + log_weight * softplus_neg
    if weight is not None:
        losses = losses * weight
    cache = dict(x=x, target=target, weight=weight, pos_weight=pos_weight,
                 softplus_neg=softplus_neg, reduction=reduction, denominator=x.size)
    return _reduce(losses, reduction, x.size), cache


def binary_cross_entropy_with_logits_backward(dloss: np.ndarray, cache: dict,
                                              needs_target_grad: bool = False):
    """(dx, dtarget), both of the input's shape (dtarget None unless asked for)."""
    x, t, w, pw = cache["x"], cache["target"], cache["weight"], cache["pos_weight"]
    g = _upstream(dloss, cache["reduction"], cache["denominator"], x.dtype)
    if w is not None:
        g = g * w
    log_weight = 1 if pw is None else 1 + (pw - 1) * t
    # t has x's shape and weight/pos_weight broadcast to it, so both results have x's shape
    dx = ((1 - t) - log_weight * sigmoid_forward(-x)) * g
    dt = None
    if needs_target_grad:
        dldt = -x if pw is None else -x + (pw - 1) * cache["softplus_neg"]
        dt = dldt * g
    return dx, dt
