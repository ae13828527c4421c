"""Loss functions with torch.nn.functional's names, signatures and reduction semantics.

The formulas and their derivatives are in glassnet.kernels.loss. Here: argument checking with
messages that name the expected and the received shapes, the unbatched (C,) case, and the
Functions that connect the kernels to autograd.

Gradients flow to the input and, where PyTorch gives one, to the target (class probabilities,
MSE and BCE targets). Class weights and pos_weight are constants. Class-index targets may be
any integer dtype. Floating inputs, probability targets and weights given as Tensors must share
one dtype (float32, or float64 for gradient checks), or a TypeError names the dtypes that met;
given as NumPy arrays or lists they take the input's dtype, as in Tensor arithmetic.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels
from ..tensor import Tensor
from ._checks import check_float_input

K = kernels("loss")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy_with_logits"]


def _array(obj):
    """The ndarray behind a Tensor, array or nested list (for options such as weight)."""
    if obj is None:
        return None
    return obj.data if isinstance(obj, Tensor) else np.asarray(obj)


def _shape(obj) -> tuple[int, ...]:
    return tuple(np.shape(obj.data if isinstance(obj, Tensor) else obj))


def _dtype(obj) -> np.dtype:
    return np.asarray(obj.data if isinstance(obj, Tensor) else obj).dtype


def _like_input(obj, input):
    """NumPy arrays, lists and numbers take the input's dtype, as operands of Tensor arithmetic
    do; so do integer and bool Tensors (PyTorch promotes them: MSE against an int64 target is
    float32). Floating Tensors are kept as they are (and must match the input's dtype)."""
    if obj is None:
        return obj
    if isinstance(obj, Tensor):
        return obj if obj.dtype.kind == "f" else obj.to(_dtype(input))
    return np.asarray(obj, dtype=_dtype(input))


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in K.REDUCTIONS:
        raise ValueError(f"{name} expected reduction in {K.REDUCTIONS}, got {reduction!r}")


def _check_same_dtype(name: str, input, **others) -> None:
    for what, obj in others.items():
        if obj is not None and _dtype(obj) != _dtype(input):
            raise TypeError(f"{name} expected {what} of the input's dtype {_dtype(input)}, got "
                            f"{_dtype(obj)}; convert it with .float() (no silent conversion)")


def _check_broadcastable(name: str, x_shape: tuple, **others) -> None:
    """Elementwise weights must broadcast to the input's shape without growing it."""
    for what, obj in others.items():
        if obj is None:
            continue
        try:
            fits = np.broadcast_shapes(_shape(obj), x_shape) == x_shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{name} expected {what} broadcastable to the input's shape {x_shape}, "
                             f"got {_shape(obj)}")


def _check_class_weight(name: str, input, weight) -> int:
    """weight (C,) for input (N, C, d1, ...) or (C,); returns C."""
    x_shape = _shape(input)
    n_classes = x_shape[1] if len(x_shape) >= 2 else x_shape[0]
    if weight is not None and _shape(weight) != (n_classes,):
        raise ValueError(f"{name} expected weight of shape ({n_classes},) (one per class) for input of "
                         f"shape {x_shape}, got {_shape(weight)}")
    return n_classes


def _check_class_targets(name: str, input, target, weight, ignore_index: int) -> None:
    """Class indices: an integer target of shape (N, d1, ...) for input (N, C, d1, ...), each in
    [0, C) or equal to ignore_index; weight of shape (C,)."""
    x_shape, t_shape = _shape(input), _shape(target)
    n_classes = _check_class_weight(name, input, weight)
    expected = x_shape[:1] + x_shape[2:] if len(x_shape) >= 2 else ()
    if t_shape != expected:
        probs = f" or {x_shape} (class probabilities)" if name == "cross_entropy" else ""
        raise ValueError(f"{name} expected target of shape {expected} (class indices){probs} for "
                         f"input of shape {x_shape}, got {t_shape}")
    if _dtype(target).kind not in "iu":
        raise TypeError(f"{name} expected class indices of an integer dtype for target of shape "
                        f"{t_shape}, got {_dtype(target)}")
    t = _array(target)
    if t.size == 0 or (t.min() >= 0 and t.max() < n_classes):  # the usual case, in two passes
        return
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{name} expected class indices in [0, {n_classes}) or ignore_index="
                         f"{ignore_index} in target of shape {t_shape}, got {t[bad].flat[0]}")


# ---- cross-entropy --------------------------------------------------------------------------

class CrossEntropy(Function):
    @staticmethod
    def forward(ctx, x, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        ctx.unbatched = x.ndim == 1
        if ctx.unbatched:
            x, target = x[None], target[None]  # (1, C) and (1,) or (1, C)
        loss, cache = K.cross_entropy_forward(x, target, weight, ignore_index, reduction, label_smoothing)
        ctx.save_for_backward(cache)
        return loss[0] if ctx.unbatched and reduction == "none" else loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        if ctx.unbatched and cache["reduction"] == "none":
            dloss = dloss[None]  # (1,)
        dx, dt = K.cross_entropy_backward(dloss, cache, needs_target_grad=ctx.needs_input_grad[1])
        if ctx.unbatched:
            dx, dt = dx[0], None if dt is None else dt[0]
        return dx, dt


def cross_entropy(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean",
                  label_smoothing: float = 0.0):
    """Cross-entropy between logits and targets, as torch.nn.functional.cross_entropy.

    input: logits (N, C), (N, C, d1, d2, ...) or unbatched (C,).
    target: class indices (N,), (N, d1, ...) or () (integers in [0, C) or ignore_index), or class
    probabilities of input's shape (floats). weight: (C,) class weights.
    Per position: l = -sum_c q_c log softmax(input)_c, with q the one-hot (or probability) target
    mixed with the uniform distribution by label_smoothing and scaled by the class weights.
    reduction 'none' -> (N, d1, ...); 'sum'; 'mean' = sum / (sum of w[target] over positions not
    ignored) for class indices, sum / (N * d1 * ...) for probabilities.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> logits = glassnet.tensor([[2.0, 0.0, 0.0]], requires_grad=True)
        >>> loss = F.cross_entropy(logits, glassnet.tensor([0]))
        >>> round(loss.item(), 4)                                  # -log(e^2 / (e^2 + 2))
        0.2395
        >>> loss.backward()
        >>> [round(float(v), 4) for v in logits.grad[0]]           # softmax - one-hot
        [-0.213, 0.1065, 0.1065]
    """
    name = "cross_entropy"
    check_float_input(name, input)
    _check_reduction(name, reduction)
    if len(_shape(input)) == 0:
        raise ValueError(f"{name} expected input of shape (N, C, ...) or (C,), got a 0-d input")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name} expected label_smoothing in [0, 1], got {label_smoothing}")
    weight = _like_input(weight, input)
    if not isinstance(target, Tensor):
        target = np.asarray(target)
        if target.dtype.kind == "f":
            target = _like_input(target, input)
    _check_same_dtype(name, input, weight=weight)
    if _shape(target) == _shape(input):  # same shape: class probabilities, as PyTorch decides
        if _dtype(target).kind != "f":
            raise TypeError(f"{name} expected floating-point class probabilities for a target of the "
                            f"input's shape {_shape(input)}, got dtype {_dtype(target)} (class indices "
                            f"have shape {_shape(input)[:1] + _shape(input)[2:]})")
        _check_same_dtype(name, input, target=target)
        if ignore_index >= 0:
            raise ValueError(f"{name}: ignore_index={ignore_index} is not supported for class-probability "
                             "targets (it applies to class indices only)")
        _check_class_weight(name, input, weight)
    else:
        _check_class_targets(name, input, target, weight, ignore_index)
    return CrossEntropy.apply(input, target, weight=_array(weight), ignore_index=int(ignore_index),
                              reduction=reduction, label_smoothing=float(label_smoothing))


# ---- negative log-likelihood ----------------------------------------------------------------

class NLLLoss(Function):
    @staticmethod
    def forward(ctx, logp, target, weight=None, ignore_index=-100, reduction="mean"):
        ctx.unbatched = logp.ndim == 1
        if ctx.unbatched:
            logp, target = logp[None], target[None]  # (1, C), (1,)
        loss, cache = K.nll_loss_forward(logp, target, weight, ignore_index, reduction)
        ctx.save_for_backward(cache)
        return loss[0] if ctx.unbatched and reduction == "none" else loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        if ctx.unbatched and cache["reduction"] == "none":
            dloss = dloss[None]  # (1,)
        dx = K.nll_loss_backward(dloss, cache)
        return (dx[0] if ctx.unbatched else dx), None


def nll_loss(input, target, weight=None, ignore_index: int = -100, reduction: str = "mean"):
    """Negative log-likelihood of log-probabilities input (N, C, d1, ...) or (C,) at class-index
    target (N, d1, ...) or (): l = -w[t] * input[t] per position (0 where t == ignore_index).
    reduction as cross_entropy (class indices): 'mean' divides by sum of w[t] over the counted
    positions, 'sum' adds, 'none' keeps the target's shape.

    Args:
        input: log-probabilities (after log_softmax), (N, C, d1, ...) or (C,).
        target: int64 class indices, (N, d1, ...) or ().
        weight: one weight per class, (C,), or None for all 1.
        ignore_index: a target value that contributes nothing.
        reduction: 'mean', 'sum' or 'none'.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> log_p = F.log_softmax(glassnet.tensor([[0.0, 0.0], [0.0, 0.0]]), dim=1)
        >>> round(F.nll_loss(log_p, glassnet.tensor([0, 1])).item(), 4)   # log 2
        0.6931
        >>> F.nll_loss(log_p, glassnet.tensor([0, -100]), reduction="none").tolist()[1]
        0.0
    """
    name = "nll_loss"
    check_float_input(name, input)
    _check_reduction(name, reduction)
    if len(_shape(input)) == 0:
        raise ValueError(f"{name} expected input of shape (N, C, ...) or (C,), got a 0-d input")
    weight = _like_input(weight, input)
    if not isinstance(target, Tensor):
        target = np.asarray(target)
    _check_same_dtype(name, input, weight=weight)
    _check_class_targets(name, input, target, weight, ignore_index)
    return NLLLoss.apply(input, target, weight=_array(weight), ignore_index=int(ignore_index),
                         reduction=reduction)


# ---- mean squared error ---------------------------------------------------------------------

class MSELoss(Function):
    @staticmethod
    def forward(ctx, x, target, reduction="mean"):
        loss, cache = K.mse_loss_forward(x, target, reduction)
        ctx.save_for_backward(cache)
        return loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        return K.mse_loss_backward(dloss, cache)


def mse_loss(input, target, reduction: str = "mean"):
    """(input - target)^2 elementwise, then reduced ('mean' over all elements).

    input and target must have the same shape: PyTorch broadcasts different shapes with a
    warning (an (N, 1) input against an (N,) target silently becomes an (N, N) loss); glassnet
    refuses them.

    Args:
        input: a floating tensor (*).
        target: a tensor of the same shape.
        reduction: 'mean', 'sum' or 'none' (the input's shape).

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> F.mse_loss(glassnet.tensor([1.0, 3.0]), glassnet.tensor([0.0, 0.0])).item()   # (1 + 9) / 2
        5.0
    """
    name = "mse_loss"
    check_float_input(name, input)
    _check_reduction(name, reduction)
    target = _like_input(target, input)
    if _shape(target) != _shape(input):
        raise ValueError(f"{name} expected target of the input's shape {_shape(input)}, got "
                         f"{_shape(target)}")
    _check_same_dtype(name, input, target=target)
    return MSELoss.apply(input, target, reduction=reduction)


# ---- binary cross-entropy with logits -------------------------------------------------------

class BinaryCrossEntropyWithLogits(Function):
    @staticmethod
    def forward(ctx, x, target, weight=None, reduction="mean", pos_weight=None):
        loss, cache = K.binary_cross_entropy_with_logits_forward(x, target, weight, reduction, pos_weight)
        ctx.save_for_backward(cache)
        return loss

    @staticmethod
    def backward(ctx, dloss):
        (cache,) = ctx.saved
        return K.binary_cross_entropy_with_logits_backward(dloss, cache,
                                                           needs_target_grad=ctx.needs_input_grad[1])


def binary_cross_entropy_with_logits(input, target, weight=None, reduction: str = "mean",
                                     pos_weight=None):
    """Binary cross-entropy of logits input (*) against targets in [0, 1] of the same shape:
    l = -w [pos_weight t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], computed stably from x.
    weight broadcasts to the input's shape; pos_weight (e.g. (C,) for the last dim) too.
    reduction: 'none' -> input's shape, 'sum', 'mean' over all elements.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> x, t = glassnet.tensor([0.0, -200.0]), glassnet.tensor([1.0, 1.0])
        >>> [round(v, 4) for v in F.binary_cross_entropy_with_logits(x, t, reduction="none").tolist()]
        [0.6931, 200.0]
    """
    name = "binary_cross_entropy_with_logits"
    check_float_input(name, input)
    _check_reduction(name, reduction)
    target = _like_input(target, input)
    weight, pos_weight = _like_input(weight, input), _like_input(pos_weight, input)
    x_shape = _shape(input)
    if _shape(target) != x_shape:
        raise ValueError(f"{name} expected target of the input's shape {x_shape}, got {_shape(target)}")
    _check_broadcastable(name, x_shape, weight=weight, pos_weight=pos_weight)
    _check_same_dtype(name, input, target=target, weight=weight, pos_weight=pos_weight)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=_array(weight), reduction=reduction,
                                              pos_weight=_array(pos_weight))
