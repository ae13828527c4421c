"""dropout, dropout1d, dropout2d, dropout3d, as in torch.nn.functional.

Inverted dropout (glassnet.kernels.dropout): in training each element (for dropoutNd: each
whole channel of each sample) is zeroed with probability p and the survivors are scaled by
1 / (1 - p); with training=False the input itself is returned. The mask comes from glassnet.random.default_generator(), so glassnet.manual_seed
makes it repeatable. `inplace=True` is accepted for PyTorch compatibility and behaves like
inplace=False (a new tensor is returned, the input is untouched).
"""

from __future__ import annotations

import warnings

import numpy as np

from ..autograd import Function
from ..kernels import dropout as K
from ..random import default_generator
from ._checks import check_float_input, shape_text

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d"]


class Dropout(Function):
    @staticmethod
    def forward(ctx, x, p=0.5, mask_shape=None):
        y, keep = K.dropout_forward(x, p, default_generator(), mask_shape)
        ctx.save_for_backward(keep)
        ctx.p = p
        return y

    @staticmethod
    def backward(ctx, dy):
        (keep,) = ctx.saved
        return K.dropout_backward(dy, keep, ctx.p)


def _check(name: str, input, p) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating, np.integer)) or not 0 <= p <= 1:
        raise ValueError(f"{name} probability has to be between 0 and 1, but got {p!r}")
    check_float_input(name, input)


def dropout(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Zero each element with probability p and scale the rest by 1 / (1 - p) (training), or
    return input unchanged (evaluation). Shape `(*) -> (*)`. The gradient passes through the
    same mask, scaled by 1 / (1 - p).

    Args:
        input: a floating tensor.
        p: the probability of zeroing, in [0, 1].
        training: False returns the input itself.
        inplace: accepted for PyTorch compatibility; a new tensor is returned.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.dropout(glassnet.ones(1000), p=0.5)
        >>> sorted(set(y.tolist()))                   # zeroed, or scaled by 1 / (1 - p)
        [0.0, 2.0]
        >>> x = glassnet.ones(3)
        >>> F.dropout(x, training=False) is x
        True
    """
    _check("dropout", input, p)
    if not training:
        return input
    return Dropout.apply(input, p=float(p))


def _channel_dropout(name: str, input, p, training: bool, spatial: int, unbatched_ok: bool):
    """Zero whole channels: one mask value per (sample, channel), broadcast over `spatial` dims."""
    _check(name, input, p)
    shape = tuple(input.shape)
    batched = len(shape) == spatial + 2
    if not batched and not (unbatched_ok and len(shape) == spatial + 1):
        accepted = shape_text(spatial) + (f" or {shape_text(spatial, batched=False)}" if unbatched_ok else "")
        raise ValueError(f"{name} expected input of shape {accepted}, got {shape}")
    if not training:
        return input
    channel_dims = 2 if batched else 1
    mask_shape = shape[:channel_dims] + (1,) * spatial  # (N, C, 1, ...) or (C, 1, ...)
    return Dropout.apply(input, p=float(p), mask_shape=mask_shape)


def dropout1d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, L) or unbatched (C, L): each channel of each sample is zeroed
    with probability p, the rest scaled by 1 / (1 - p). Shape `(*) -> (*)`.

    Args:
        input: a floating tensor.
        p: the probability of zeroing, in [0, 1].
        training: False returns the input itself.
        inplace: accepted for PyTorch compatibility; a new tensor is returned.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.dropout1d(glassnet.ones(4, 16, 10), p=0.5).numpy()
        >>> bool((y.min(axis=2) == y.max(axis=2)).all())   # one value per whole channel
        True
    """
    return _channel_dropout("dropout1d", input, p, training, 1, unbatched_ok=True)


def dropout2d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, H, W): whole feature maps are zeroed with probability p, the
    rest scaled by 1 / (1 - p). A 3-D input is read as PyTorch reads it today, as (N, C, L) (one
    mask value per sample and channel), with PyTorch's warning that this will change to (C, H, W).
    Shape `(*) -> (*)`.

    Args:
        input: a floating tensor.
        p: the probability of zeroing, in [0, 1].
        training: False returns the input itself.
        inplace: accepted for PyTorch compatibility; a new tensor is returned.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.dropout2d(glassnet.ones(4, 16, 5, 5), p=0.5).numpy()
        >>> sorted(set(np.unique(y).tolist())), bool((y.min(axis=(2, 3)) == y.max(axis=(2, 3))).all())
        ([0.0, 2.0], True)
    """
    if len(input.shape) == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel "
                      "dim. This behavior will change in a future release to interpret the input as one "
                      "without a batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise "
                      "dropout behavior, please switch to using dropout1d instead.", stacklevel=2)
        return _channel_dropout("dropout2d", input, p, training, 1, unbatched_ok=False)
    return _channel_dropout("dropout2d", input, p, training, 2, unbatched_ok=False)


def dropout3d(input, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for (N, C, D, H, W) or unbatched (C, D, H, W): each whole volume of each
    sample is zeroed with probability p, the rest scaled by 1 / (1 - p). Shape `(*) -> (*)`.

    Args:
        input: a floating tensor.
        p: the probability of zeroing, in [0, 1].
        training: False returns the input itself.
        inplace: accepted for PyTorch compatibility; a new tensor is returned.

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> y = F.dropout3d(glassnet.ones(4, 8, 3, 4, 4), p=0.5).numpy()
        >>> sorted(set(np.unique(y).tolist()))
        [0.0, 2.0]
        >>> bool((y.min(axis=(2, 3, 4)) == y.max(axis=(2, 3, 4))).all())
        True
    """
    return _channel_dropout("dropout3d", input, p, training, 3, unbatched_ok=True)
