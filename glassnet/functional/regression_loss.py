"""l1_loss, smooth_l1_loss and huber_loss, as torch.nn.functional (formulas and derivatives in
glassnet.kernels.regression_loss). Like mse_loss, input and target must have one shape (PyTorch
broadcasts other shapes with a warning; glassnet refuses them) and one dtype."""

from __future__ import annotations

from ..autograd import Function
from ..kernels import regression_loss as K
from ._checks import check_float_input
from .binary_cross_entropy import _legacy_reduction
from .loss import _check_reduction, _check_same_dtype, _like_input, _shape

__all__ = ["l1_loss", "smooth_l1_loss", "huber_loss"]


class RegressionLoss(Function):
    @staticmethod
    def forward(ctx, x, target, kind="l1", reduction="mean", beta=1.0):
        loss, cache = K.regression_loss_forward(x, target, kind, reduction, beta)
        ctx.save_for_backward(cache)
        return loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        return K.regression_loss_backward(dloss, cache)


def _loss(name: str, kind: str, input, target, reduction: str, beta: float):
    check_float_input(name, input)
    _check_reduction(name, reduction)
    target = _like_input(target, input)
    if _shape(target) != _shape(input):
        raise ValueError(f"{name} expected target of the input's shape {_shape(input)}, got {_shape(target)}")
    _check_same_dtype(name, input, target=target)
    return RegressionLoss.apply(input, target, kind=kind, reduction=reduction, beta=float(beta))


def _no_weight(name: str, weight) -> None:
    if weight is not None:
        raise NotImplementedError(f"{name}: the weight argument is not implemented in glassnet")


def l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", weight=None):
    """|input - target| elementwise, then reduced ('mean' over all elements). Its gradient is
    sign(input - target), so every error pulls with the same force.

    Args:
        input: a floating tensor (*).
        target: a tensor of the same shape.
        size_average: PyTorch's deprecated spelling of reduction.
        reduce: PyTorch's deprecated spelling of reduction.
        reduction: 'mean', 'sum' or 'none' (the input's shape).
        weight: not implemented (an error if given).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> F.l1_loss(glassnet.tensor([1.0, -3.0]), glassnet.tensor([0.0, 0.0])).item()
        2.0
    """
    _no_weight("l1_loss", weight)
    return _loss("l1_loss", "l1", input, target, _legacy_reduction(size_average, reduce, reduction), 1.0)


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
    """Quadratic d^2 / (2 beta) for |d| < beta, linear |d| - beta / 2 beyond (d = input - target),
    then reduced. beta = 0 is l1_loss.

    Args:
        input: a floating tensor (*).
        target: a tensor of the same shape.
        size_average: PyTorch's deprecated spelling of reduction.
        reduce: PyTorch's deprecated spelling of reduction.
        reduction: 'mean', 'sum' or 'none' (the input's shape).
        beta: where the quadratic part ends, >= 0.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> d = glassnet.tensor([0.5, 3.0])
        >>> F.smooth_l1_loss(d, glassnet.zeros(2), reduction="none").tolist()   # 0.25 / 2, 3 - 0.5
        [0.125, 2.5]
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss expected beta >= 0, got {beta}")
    return _loss("smooth_l1_loss", "smooth_l1", input, target, _legacy_reduction(size_average, reduce, reduction), beta)


def huber_loss(input, target, reduction: str = "mean", delta: float = 1.0, weight=None):
    """Quadratic d^2 / 2 for |d| < delta, linear delta (|d| - delta / 2) beyond (d = input -
    target), then reduced; huber_loss = delta * smooth_l1_loss with beta = delta.

    Args:
        input: a floating tensor (*).
        target: a tensor of the same shape.
        reduction: 'mean', 'sum' or 'none' (the input's shape).
        delta: where the quadratic part ends, > 0.
        weight: not implemented (an error if given).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> d = glassnet.tensor([0.5, 3.0])
        >>> F.huber_loss(d, glassnet.zeros(2), reduction="none", delta=2.0).tolist()   # 0.25 / 2, 2 (3 - 1)
        [0.125, 4.0]
    """
    if not delta > 0:
        raise ValueError(f"huber_loss expected delta > 0, got {delta}")
    _no_weight("huber_loss", weight)
    return _loss("huber_loss", "huber", input, target, reduction, delta)
