"""binary_cross_entropy, as torch.nn.functional: the loss of probabilities (after a sigmoid)
against targets in [0, 1]. The formulas are in glassnet.kernels.binary_cross_entropy; the
argument conventions (dtypes, weight broadcasting, reductions) are those of the other losses in
glassnet.functional.loss. For logits use binary_cross_entropy_with_logits, which is stabler."""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import binary_cross_entropy as K
from ._checks import check_float_input
from .loss import _array, _check_broadcastable, _check_reduction, _check_same_dtype, _like_input, _shape

__all__ = ["binary_cross_entropy"]


class BinaryCrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean"):
        loss, cache = K.binary_cross_entropy_forward(x, target, weight, reduction)
        ctx.save_for_backward(cache)
        return loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        return K.binary_cross_entropy_backward(dloss, cache, needs_target_grad=ctx.needs_input_grad[1])


def _legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's deprecated size_average / reduce arguments, when given, decide the reduction
    (torch's legacy_get_string; a missing one counts as True)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return ("mean" if size_average else "sum") if reduce else "none"


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction: str = "mean"):
    """l = -w [t log x + (1 - t) log(1 - x)] for probabilities input (*) in [0, 1] and target of
    the same shape; weight broadcasts to the input's shape. reduction: 'none' -> input's shape,
    'sum', 'mean' over all elements. size_average / reduce: PyTorch's deprecated spellings of
    reduction, honoured as PyTorch does. Each log is clamped at -100, as PyTorch.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x, t = glassnet.tensor([0.5, 0.9, 0.0]), glassnet.tensor([1.0, 1.0, 1.0])
        >>> [round(v, 4) for v in F.binary_cross_entropy(x, t, reduction="none").tolist()]
        [0.6931, 0.1054, 100.0]
    """
    name = "binary_cross_entropy"
    reduction = _legacy_reduction(size_average, reduce, reduction)
    check_float_input(name, input)
    _check_reduction(name, reduction)
    target = _like_input(target, input)
    weight = _like_input(weight, input)
    x_shape = _shape(input)
    if _shape(target) != x_shape:
        raise ValueError(f"{name} expected target of the input's shape {x_shape}, got {_shape(target)}")
    _check_broadcastable(name, x_shape, weight=weight)
    _check_same_dtype(name, input, target=target, weight=weight)
    x = _array(input)
    if x.size and not ((x >= 0) & (x <= 1)).all():  # NaN fails too
        raise ValueError(f"{name} expected every element of input in [0, 1] (probabilities, e.g. after a "
                         f"sigmoid), got values from {np.nanmin(x)} to {np.nanmax(x)}; for logits use "
                         "binary_cross_entropy_with_logits")
    return BinaryCrossEntropy.apply(input, target, weight=_array(weight), reduction=reduction)
