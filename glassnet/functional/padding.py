"""pad, as torch.nn.functional.pad: constant, reflect, replicate and circular padding of the last
dimensions, with a hand-written backward.

    pad(input, pad, mode='constant', value=None)

`pad` lists (low, high) amounts starting from the LAST dimension, as PyTorch writes it:
(left, right) pads the last dimension, (left, right, top, bottom) the last two, and so on.
Negative amounts crop (before the padding, as in PyTorch). The copying is
glassnet.kernels.windows.pad and its adjoint pad_backward (the same code convolution uses for
padding_mode): the backward of a copying pad adds the gradient of every border position back
onto the input position it was copied from.
"""

from __future__ import annotations

import numpy as np

from ..autograd import Function
from ..kernels import windows as K
from ._checks import check_float_input

__all__ = ["pad"]

MODES = ("constant", "reflect", "replicate", "circular")


def _crop_index(shape: tuple[int, ...], pairs) -> tuple:
    """The slice that removes the negative (cropping) amounts of (low, high) pairs for the
    trailing len(pairs) dimensions."""
    lead = (slice(None),) * (len(shape) - len(pairs))
    return lead + tuple(slice(max(-lo, 0), n - max(-hi, 0))
                        for n, (lo, hi) in zip(shape[len(shape) - len(pairs):], pairs))


class Pad(Function):
    """Crop by the negative parts of `pairs` first, then pad by the non-negative parts: PyTorch's
    order (it matters for circular padding, which wraps around the cropped input)."""

    @staticmethod
    def forward(ctx, x, pairs=(), mode="constant", value=0.0):
        ctx.crop, ctx.input_shape = _crop_index(x.shape, pairs), x.shape
        ctx.grow = tuple((max(lo, 0), max(hi, 0)) for lo, hi in pairs)
        ctx.mode = "zeros" if mode == "constant" else mode
        return np.ascontiguousarray(K.pad(x[ctx.crop], ctx.grow, ctx.mode, value))

    @staticmethod
    def backward(ctx, dy):
        dx = np.zeros(ctx.input_shape, dy.dtype)  # cropped positions get no gradient
        dx[ctx.crop] = K.pad_backward(dy, ctx.grow, ctx.mode)
        return dx


def _pairs(pad, ndim: int, mode: str):
    """PyTorch's flat pad tuple (last dimension first) -> (low, high) pairs, first dimension
    first, for the trailing len(pad) // 2 dimensions."""
    if isinstance(pad, (int, np.integer)) or not all(
            isinstance(p, (int, np.integer)) and not isinstance(p, bool) for p in pad):
        raise TypeError(f"pad expected a tuple of ints, got {pad!r}")
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2:
        raise ValueError(f"pad expected a padding tuple of even length ((low, high) per dimension, last "
                         f"dimension first), got {pad} of length {len(pad)}")
    if len(pad) // 2 > ndim:
        raise ValueError(f"pad got {len(pad) // 2} (low, high) pairs for an input with {ndim} dimensions")
    if mode != "constant" and not (len(pad) in (2, 4, 6) and ndim in (len(pad) // 2 + 1, len(pad) // 2 + 2)):
        raise ValueError(f"pad with mode={mode!r} pads the last 1, 2 or 3 dimensions of a batched or unbatched "
                         f"input: padding of length 2 needs a 2-D or 3-D input, 4 a 3-D or 4-D one, 6 a "
                         f"4-D or 5-D one; got padding of length {len(pad)} for a {ndim}-D input")
    return tuple((pad[2 * i], pad[2 * i + 1]) for i in reversed(range(len(pad) // 2)))


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """Pad the last len(pad) // 2 dimensions of input.

    mode: 'constant' (fill with value, default 0), 'reflect' (mirror, edge not repeated; each
    amount < that dimension's size), 'replicate' (repeat the edge), 'circular' (wrap around;
    each amount <= the size). Output size per padded dimension: n + low + high.

    Args:
        input: a tensor.
        pad: (low, high) amounts, LAST dimension first: (left, right), (left, right, top,
            bottom) or with (front, back) too.
        mode: 'constant', 'reflect', 'replicate' or 'circular'.
        value: the fill value of 'constant' (None: 0).

    Examples:
        >>> import numpy as np, glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor([[[1.0, 2.0, 3.0]]])
        >>> F.pad(x, (2, 1)).tolist(), F.pad(x, (2, 1), mode="reflect").tolist()
        ([[[0.0, 0.0, 1.0, 2.0, 3.0, 0.0]]], [[[3.0, 2.0, 1.0, 2.0, 3.0, 2.0]]])
        >>> F.pad(glassnet.zeros(1, 1, 4, 4), (1, 1, 2, 0)).shape      # 2 rows on top, 1 column each side
        (1, 1, 6, 6)
    """
    name = "pad"
    check_float_input(name, input)
    if mode not in MODES:
        raise ValueError(f"{name} expected mode in {MODES}, got {mode!r}")
    if value is not None and mode != "constant":
        raise ValueError(f"{name} with mode={mode!r} takes no value (it is for mode='constant'), got {value}")
    shape = tuple(input.shape)
    pairs = _pairs(pad, len(shape), mode)
    for i, (n, (lo, hi)) in enumerate(zip(shape[len(shape) - len(pairs):], pairs)):
        dim = len(shape) - len(pairs) + i
        kept = n + min(lo, 0) + min(hi, 0)  # the size after cropping, which is what gets padded
        if kept < 0:
            raise ValueError(f"{name} would crop dimension {dim} of size {n} by {(lo, hi)}: the result "
                             "would have negative size")
        if mode == "replicate" and kept == 0 and (lo > 0 or hi > 0):
            raise ValueError(f"{name} with mode='replicate' cannot pad dimension {dim} of size 0")
    # how far reflect and circular may reach is checked where the copying happens (windows.pad)
    return Pad.apply(input, pairs=pairs, mode=mode, value=0.0 if value is None else float(value))
