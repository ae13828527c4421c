"""batch_norm, as torch.nn.functional.batch_norm (formulas in glassnet.kernels.normalization).

    batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, num_batches_tracked=None)

running_mean / running_var are ndarrays or Tensors of shape (C,) (or None); in training they
are updated in place. PyTorch's functional batch_norm needs a float momentum; its BatchNorm
modules turn momentum=None into a cumulative moving average by passing 1 / num_batches_tracked.
glassnet's batch_norm does that itself when given momentum=None and the keyword-only
num_batches_tracked (the number of training batches seen, this one included), so the running
statistics become the plain average of all the batch statistics seen so far.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..dispatch import kernels
from ..tensor import Tensor
from ._checks import check_float_input

K = kernels("normalization")  # the fast kernels, or the reference ones in reference mode (dispatch.py)

__all__ = ["batch_norm"]


class BatchNorm(Function):
    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight=None, bias=None, training=False,
                momentum=0.1, eps=1e-5):
        y, cache = K.batch_norm_forward(x, running_mean, running_var, weight, bias, training, momentum, eps)
        ctx.save_for_backward(x, cache)
        return y

    @staticmethod
    def backward(ctx, dy):
        x, cache = ctx.saved
        needs = ctx.needs_input_grad
        dx, dw, db = K.batch_norm_backward(dy, x, cache, needs=(needs[0], needs[3], needs[4]))
        return dx, None, None, dw, db


def _describe(obj) -> str:
    return "None" if obj is None else str(tuple(obj.shape))


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5, *, num_batches_tracked=None):
    """Normalise each channel of input (N, C), (N, C, L), (N, C, H, W) or (N, C, D, H, W):
    y = (x - mean) / sqrt(var + eps) * weight + bias, with batch statistics when training (biased
    variance; running statistics updated with momentum, unbiased variance) and the running
    statistics otherwise. weight, bias, running_mean, running_var: (C,). Output: input's shape.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> mean, var = glassnet.zeros(2), glassnet.ones(2)
        >>> y = F.batch_norm(glassnet.tensor([[1.0, 10.0], [3.0, 30.0]]), mean, var, training=True)
        >>> [[round(v, 3) for v in row] for row in y.tolist()]
        [[-1.0, -1.0], [1.0, 1.0]]
        >>> [round(v, 3) for v in mean.tolist()]       # moved 10% of the way to (2, 20)
        [0.2, 2.0]
    """
    name = "batch_norm"
    shape = tuple(input.shape)
    dtype = np.dtype(input.dtype)
    if not 2 <= len(shape) <= 5:
        raise ValueError(f"{name} expected input of shape (N, C), (N, C, L), (N, C, H, W) or "
                         f"(N, C, D, H, W), got {shape}")
    check_float_input(name, input)
    channels = shape[1]
    for what, obj in (("running_mean", running_mean), ("running_var", running_var),
                      ("weight", weight), ("bias", bias)):
        if obj is None:
            continue
        if not isinstance(obj, (Tensor, np.ndarray)):
            raise TypeError(f"{name} expected {what} as a Tensor or ndarray, got {type(obj).__name__}")
        if tuple(obj.shape) != (channels,):
            raise ValueError(f"{name} expected {what} of shape ({channels},) for input of shape {shape}, "
                             f"got {_describe(obj)}")
        if np.dtype(obj.dtype) != dtype:
            raise TypeError(f"{name} expected {what} of the input's dtype {dtype}, got {obj.dtype} "
                            "(no silent conversion)")
    if not training and (running_mean is None or running_var is None):
        raise ValueError(f"{name} in evaluation mode (training=False) needs running_mean and running_var, "
                         f"got {_describe(running_mean)} and {_describe(running_var)}")
    if training and eps <= 0:
        raise ValueError(f"{name} eps must be positive during training, but got {eps}")
    if int(np.prod(shape)) == 0:
        # nothing to normalise: an empty output, running statistics untouched (as in PyTorch)
        return input.clone()
    if training and int(np.prod(shape)) // channels <= 1:
        raise ValueError(f"{name} expected more than 1 value per channel when training, got input of "
                         f"shape {shape}")
    if momentum is None:
        if num_batches_tracked is None:
            raise ValueError(f"{name} with momentum=None (cumulative average) needs num_batches_tracked, "
                             "the number of training batches seen including this one")
        count = int(np.asarray(num_batches_tracked.data if isinstance(num_batches_tracked, Tensor)
                               else num_batches_tracked))
        if count < 1:
            raise ValueError(f"{name} expected num_batches_tracked >= 1, got {count}")
        momentum = 1.0 / count
    return BatchNorm.apply(input, running_mean, running_var, weight, bias, training=bool(training),
                           momentum=float(momentum), eps=float(eps))
