"""layer_norm, rms_norm, group_norm and instance_norm, as torch.nn.functional names them (formulas and
derivatives in glassnet.kernels.group_norm).

    layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5)
    rms_norm(input, normalized_shape, weight=None, eps=None)
    group_norm(input, num_groups, weight=None, bias=None, eps=1e-5)
    instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5)

Unlike batch norm, the statistics are each sample's own, so training and evaluation compute the
same thing -- except for instance_norm with running statistics, which (as in PyTorch) moves
running_mean / running_var towards the average over the batch of the per-instance mean and
unbiased variance, and with use_input_stats=False normalises with them instead (batch_norm's
evaluation formula).
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import group_norm as K
from ..tensor import Tensor
from ._checks import check_float_input
from .normalization import batch_norm

__all__ = ["layer_norm", "group_norm", "instance_norm", "rms_norm"]


class GroupNorm(Function):
    @staticmethod
    def forward(ctx, x, weight=None, bias=None, num_groups=1, eps=1e-5, running=None):
        y, cache = K.group_norm_forward(x, num_groups, weight, bias, eps)
        if running is not None:  # instance norm's running statistics: (running_mean, running_var, momentum)
            _update_running(cache, x, *running)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        needs = ctx.needs_input_grad
        return K.group_norm_backward(dy, cache, needs=(needs[0], needs[1], needs[2]))


def _update_running(cache: dict, x: np.ndarray, running_mean, running_var, momentum: float) -> None:
    """running <- (1 - momentum) running + momentum * (per-instance statistic averaged over N),
    with the unbiased variance, as PyTorch's instance_norm does through batch_norm."""
    n, c = x.shape[:2]
    count = x.size // max(n * c, 1)  # values per instance
    mean = cache["mean"].reshape(n, c).mean(axis=0)  # (C,)
    var = (cache["var"] * (count / max(count - 1, 1))).reshape(n, c).mean(axis=0)  # (C,)
    for stat, batch in ((running_mean, mean), (running_var, var)):
        if stat is not None:
            stat *= 1 - momentum
            stat += momentum * batch.astype(stat.dtype)


class LayerNorm(Function):
    @staticmethod
    def forward(ctx, x, weight=None, bias=None, normalized_ndim=1, eps=1e-5):
        y, cache = K.layer_norm_forward(x, normalized_ndim, weight, bias, eps)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        needs = ctx.needs_input_grad
        return K.layer_norm_backward(dy, cache, needs=(needs[0], needs[1], needs[2]))


class RMSNorm(Function):
    @staticmethod
    def forward(ctx, x, weight=None, normalized_ndim=1, eps=1e-6):
        y, cache = K.rms_norm_forward(x, normalized_ndim, weight, eps)
        ctx.save_for_backward(cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        (cache,) = ctx.saved
        return K.rms_norm_backward(dy, cache, needs=ctx.needs_input_grad[:2])


def _check_parameter(name: str, what: str, obj, shape: tuple, input) -> None:
    if obj is None:
        return
    if not isinstance(obj, (Tensor, np.ndarray)):
        raise TypeError(f"{name} expected {what} as a Tensor or ndarray, got {type(obj).__name__}")
    if tuple(obj.shape) != shape:
        raise ValueError(f"{name} expected {what} of shape {shape} for input of shape {tuple(input.shape)}, "
                         f"got {tuple(obj.shape)}")
    if np.dtype(obj.dtype) != np.dtype(input.dtype):
        raise TypeError(f"{name} expected {what} of the input's dtype {input.dtype}, got {obj.dtype} "
                        "(no silent conversion)")


def _array(obj):
    """The ndarray behind a running statistic, which the forward updates in place."""
    return obj.data if isinstance(obj, Tensor) else obj


def _check_eps(name: str, eps) -> float:
    if not eps > 0:  # eps <= 0 divides by zero on a constant row
        raise ValueError(f"{name} expected eps > 0, got {eps}")
    return float(eps)


def _normalized_shape(name: str, input, normalized_shape) -> tuple[int, ...]:
    """normalized_shape as a tuple, checked against the input's trailing dimensions."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    shape = tuple(input.shape)
    k = len(normalized_shape)
    if k == 0 or k > len(shape) or shape[len(shape) - k:] != normalized_shape:
        raise ValueError(f"{name} with normalized_shape={normalized_shape} expected input of shape "
                         f"(*, {', '.join(map(str, normalized_shape))}), got {shape}")
    return normalized_shape


def layer_norm(input, normalized_shape, weight=None, bias=None, eps: float = 1e-5):
    """Standardise every sample over its last len(normalized_shape) dimensions, then scale and
    shift elementwise: y = (x - mean) / sqrt(var + eps) * weight + bias, with weight and bias of
    shape normalized_shape. Input (*, *normalized_shape); output: input's shape.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.layer_norm(glassnet.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]]), (3,))
        >>> [[round(v, 3) for v in row] for row in y.tolist()]      # each row: mean 0, variance 1
        [[-1.225, 0.0, 1.225], [-0.707, -0.707, 1.414]]
    """
    name = "layer_norm"
    check_float_input(name, input)
    normalized_shape = _normalized_shape(name, input, normalized_shape)
    for what, obj in (("weight", weight), ("bias", bias)):
        _check_parameter(name, what, obj, normalized_shape, input)
    return LayerNorm.apply(input, weight, bias, normalized_ndim=len(normalized_shape), eps=_check_eps(name, eps))


def rms_norm(input, normalized_shape, weight=None, eps: float | None = None):
    """y = x / sqrt(mean(x^2) + eps) * weight over the last len(normalized_shape) dimensions;
    eps=None means the machine epsilon of the input's dtype, as in PyTorch. Unlike layer_norm the
    mean is not subtracted. Input (*, *normalized_shape); output: input's shape.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.rms_norm(glassnet.tensor([[3.0, 4.0]]), (2,))        # rms = sqrt(12.5)
        >>> [round(v, 4) for v in y.tolist()[0]]
        [0.8485, 1.1314]
    """
    name = "rms_norm"
    check_float_input(name, input)
    normalized_shape = _normalized_shape(name, input, normalized_shape)
    _check_parameter(name, "weight", weight, normalized_shape, input)
    eps = float(np.finfo(np.dtype(input.dtype)).eps) if eps is None else _check_eps(name, eps)
    return RMSNorm.apply(input, weight, normalized_ndim=len(normalized_shape), eps=eps)


def group_norm(input, num_groups: int, weight=None, bias=None, eps: float = 1e-5):
    """Standardise each sample's channels in num_groups groups, then scale and shift per channel.
    Input (N, C, *) with C divisible by num_groups; weight, bias (C,). Output: input's shape.
    num_groups=1 standardises each whole sample; num_groups=C is instance_norm without
    running statistics.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.random.default_rng(0).normal(3, 2, (2, 6, 4, 4)).astype(np.float32))
        >>> y = F.group_norm(x, 3).numpy().reshape(2, 3, -1)           # (N, groups, 2 * 4 * 4)
        >>> bool(np.allclose(y.mean(-1), 0, atol=1e-5)), bool(np.allclose(y.std(-1), 1, atol=1e-3))
        (True, True)
    """
    name = "group_norm"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if len(shape) < 2:
        raise ValueError(f"{name} expected input of shape (N, C, *), got {shape}")
    if isinstance(num_groups, bool) or not isinstance(num_groups, (int, np.integer)) or num_groups < 1:
        raise ValueError(f"{name} expected num_groups as a positive int, got {num_groups!r}")
    if shape[1] % num_groups:
        raise ValueError(f"{name} expected the number of channels to be divisible by num_groups, got input "
                         f"of shape {shape} ({shape[1]} channels) and num_groups={num_groups}")
    for what, obj in (("weight", weight), ("bias", bias)):
        _check_parameter(name, what, obj, (shape[1],), input)
    return GroupNorm.apply(input, weight, bias, num_groups=int(num_groups), eps=_check_eps(name, eps))


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats: bool = True, momentum: float = 0.1, eps: float = 1e-5):
    """Standardise every channel of every sample over its spatial positions, then scale and shift
    per channel. Input (N, C, *S); weight, bias, running_mean, running_var (C,). With
    use_input_stats=False, the running statistics are used instead (they must be given).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.instance_norm(glassnet.tensor([[[1.0, 3.0], [10.0, 30.0]]]))   # (1, 2, 2)
        >>> [[round(v, 3) for v in row] for row in y.tolist()[0]]
        [[-1.0, 1.0], [-1.0, 1.0]]
    """
    name = "instance_norm"
    check_float_input(name, input)
    shape = tuple(input.shape)
    if len(shape) < 3:
        raise ValueError(f"{name} expected input of shape (N, C, *spatial) with at least one spatial "
                         f"dimension, got {shape}")
    for what, obj in (("running_mean", running_mean), ("running_var", running_var),
                      ("weight", weight), ("bias", bias)):
        _check_parameter(name, what, obj, (shape[1],), input)
    eps = _check_eps(name, eps)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError(f"{name} with use_input_stats=False needs running_mean and running_var")
        return batch_norm(input, running_mean, running_var, weight, bias, training=False, eps=eps)
    if int(np.prod(shape[2:])) <= 1:
        raise ValueError(f"{name} expected more than 1 spatial element per channel when using the input's "
                         f"statistics, got input of shape {shape}")
    running = None
    if running_mean is not None or running_var is not None:
        running = (_array(running_mean), _array(running_var), float(momentum))
    return GroupNorm.apply(input, weight, bias, num_groups=shape[1], eps=eps, running=running)
