"""Loss modules: hold the options and call glassnet.functional's losses (where the formulas
and gradients are). Class weights and pos_weight are buffers, as in PyTorch."""

from __future__ import annotations

from .. import functional as F
from ..functional.binary_cross_entropy import _legacy_reduction
from ..kernels.loss import REDUCTIONS
from ..tensor import Tensor
from .module import Module


def _buffer(value):
    """A weight given as a list or ndarray becomes a Tensor, so it is saved with the module."""
    return value if value is None or isinstance(value, Tensor) else Tensor(value)


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
        self.reduction = reduction


class _WeightedLoss(_Loss):
    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))


class CrossEntropyLoss(_WeightedLoss):
    """-sum_c target_c log softmax(input)_c, averaged over the batch (weighted mean with class
    weights). Input (N, C) or (N, C, d1, ...); target class indices (N, d1, ...) or
    probabilities of the input's shape.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> logits = glassnet.tensor([[0.0, 0.0], [0.0, 0.0]])   # two samples, two classes, no preference
        >>> round(nn.CrossEntropyLoss()(logits, glassnet.tensor([0, 1])).item(), 4)   # log 2
        0.6931
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing}")
        self.ignore_index, self.label_smoothing = ignore_index, label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of the target classes: loss_n = -weight[t_n] * input[n, t_n] for
    log-probabilities input (after LogSoftmax; LogSoftmax + NLLLoss = CrossEntropyLoss):
    PyTorch's NLLLoss. 'mean' divides by sum_n weight[t_n] (N without weights), not by N.

    Args:
        weight: one weight per class, shape (C,), or None for all 1.
        ignore_index: targets equal to this contribute nothing (and are not counted by 'mean').
        reduction: 'mean', 'sum' or 'none' (one loss per element).

    Shape:
        input (N, C) or (N, C, d1, ...); target class indices (N,) or (N, d1, ...) -> a scalar,
        or the target's shape with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> log_p = glassnet.tensor([[-0.1, -2.5], [-1.2, -0.4]])
        >>> round(nn.NLLLoss()(log_p, glassnet.tensor([0, 1])).item(), 4)   # (0.1 + 0.4) / 2
        0.25
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error: (input - target)^2 element by element, averaged over all elements
    (or summed): PyTorch's MSELoss.

    Args:
        reduction: 'mean', 'sum' or 'none' (one loss per element).

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.MSELoss()(glassnet.tensor([1.0, 2.0, 3.0]), glassnet.tensor([1.0, 0.0, 0.0])).item()
        4.333...
        >>> nn.MSELoss(reduction="sum")(glassnet.tensor([1.0, 2.0]), glassnet.tensor([0.0, 0.0])).item()
        5.0
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits x (before a Sigmoid) with targets y in [0, 1]:
    loss = -weight [pos_weight * y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))], computed stably
    from the logits (no overflow for large |x|, unlike Sigmoid followed by BCELoss):
    PyTorch's BCEWithLogitsLoss.

    Args:
        weight: a rescaling weight broadcast against the loss, or None.
        reduction: 'mean', 'sum' or 'none' (one loss per element).
        pos_weight: a weight for the positive term, one per class (broadcast along the last
            dimension); above 1 it favours recall.

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> loss = nn.BCEWithLogitsLoss()(glassnet.tensor([0.0, 100.0]), glassnet.tensor([1.0, 1.0]))
        >>> round(loss.item(), 4)    # (log 2 + 0) / 2
        0.3466
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", _buffer(weight))
        self.register_buffer("pos_weight", _buffer(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight, reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class BCELoss(_WeightedLoss):
    """-w [y log x + (1 - y) log(1 - x)] for probabilities x in [0, 1] (after a Sigmoid); each
    log clamped at -100, as PyTorch: PyTorch's BCELoss. BCEWithLogitsLoss on the logits is the
    numerically safer choice.

    Args:
        weight: a rescaling weight broadcast against the loss, or None.
        size_average: PyTorch's deprecated spelling of reduction.
        reduce: PyTorch's deprecated spelling of reduction.
        reduction: 'mean', 'sum' or 'none' (one loss per element).

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> loss = nn.BCELoss()(glassnet.tensor([0.5, 0.9]), glassnet.tensor([1.0, 1.0]))
        >>> round(loss.item(), 4)          # (log 2 - log 0.9) / 2
        0.3993
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(weight, _legacy_reduction(size_average, reduce, reduction))

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: |input - target| element by element, averaged over all elements (or
    summed): PyTorch's L1Loss.

    Args:
        size_average: PyTorch's deprecated spelling of reduction.
        reduce: PyTorch's deprecated spelling of reduction.
        reduction: 'mean', 'sum' or 'none' (one loss per element).

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.L1Loss()(glassnet.tensor([1.0, -3.0]), glassnet.tensor([0.0, 0.0])).item()
        2.0
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__(_legacy_reduction(size_average, reduce, reduction))

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Quadratic below beta, linear beyond: d^2 / (2 beta) for |d| < beta, else |d| - beta / 2
    (d = input - target), then reduced: PyTorch's SmoothL1Loss. Less sensitive to outliers than
    MSELoss.

    Args:
        size_average: PyTorch's deprecated spelling of reduction.
        reduce: PyTorch's deprecated spelling of reduction.
        reduction: 'mean', 'sum' or 'none' (one loss per element).
        beta: where the quadratic part ends, >= 0 (0 is L1Loss).

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.SmoothL1Loss(reduction="none")(glassnet.tensor([0.5, 3.0]), glassnet.zeros(2)).tolist()
        [0.125, 2.5]
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", beta: float = 1.0):
        super().__init__(_legacy_reduction(size_average, reduce, reduction))
        if beta < 0:
            raise ValueError(f"SmoothL1Loss expected beta >= 0, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Quadratic below delta, linear (slope delta) beyond: d^2 / 2 for |d| < delta, else
    delta (|d| - delta / 2) (d = input - target), then reduced: PyTorch's HuberLoss.

    Args:
        reduction: 'mean', 'sum' or 'none' (one loss per element).
        delta: where the quadratic part ends, > 0.

    Shape:
        input `(*)` and target of the same shape -> a scalar, or `(*)` with reduction='none'.

    Examples:
        >>> import glassnet
        >>> from glassnet import nn
        >>> nn.HuberLoss(reduction="none", delta=2.0)(glassnet.tensor([0.5, 3.0]), glassnet.zeros(2)).tolist()
        [0.125, 4.0]
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        if not delta > 0:
            raise ValueError(f"HuberLoss expected delta > 0, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "BCEWithLogitsLoss", "BCELoss", "L1Loss", "SmoothL1Loss",
           "HuberLoss"]
