"""pad, as torch.nn.functional.pad: constant (any number of trailing dims, negative pads crop),
reflect, replicate and circular (the last 1, 2 or 3 dims of a batched or unbatched input).

The formulas (a gather along each padded dimension, and its scatter-add adjoint) are in
glassnet.kernels.padding. This is the home of padding: the ReflectionPad/ReplicationPad/
ZeroPad/ConstantPad layers call it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..autograd import Function
from ..kernels import padding as K
from ..kernels.sizes import _is_int

__all__ = ["pad"]


class Pad(Function):
    @staticmethod
    def forward(ctx, x, pads, mode="constant", value=0.0):
        ctx.shape, ctx.pads, ctx.mode = x.shape, pads, mode
        return K.pad_forward(x, pads, mode, value)

    @staticmethod
    def backward(ctx, dy):
        return K.pad_backward(dy, ctx.shape, ctx.pads, ctx.mode)


def _check(input, pad, mode, value) -> list[tuple[int, int]]:
    """pads as (lo, hi) pairs, last dimension first, after PyTorch's checks."""
    if isinstance(pad, (str, bytes)) or not isinstance(pad, Sequence) or not all(_is_int(p) for p in pad):
        raise TypeError(f"pad expected a tuple of ints (left, right, top, bottom, ...), got {pad!r}")
    if len(pad) % 2:
        raise ValueError(f"pad expected an even number of values (a (low, high) pair per dimension), got {tuple(pad)}")
    k, shape = len(pad) // 2, tuple(input.shape)
    if k > len(shape):
        raise ValueError(f"pad of length {len(pad)} pads {k} dimensions, but the input of shape {shape} has "
                         f"{len(shape)}")
    if mode not in K.MODES:
        raise ValueError(f"pad expected mode in {K.MODES}, got {mode!r}")
    pads = [(int(pad[2 * i]), int(pad[2 * i + 1])) for i in range(k)]
    if mode == "constant":
        for i, (lo, hi) in enumerate(pads):
            if shape[-1 - i] + lo + hi < 0:
                raise ValueError(f"pad {tuple(pad)} crops dimension {len(shape) - 1 - i} of the input of shape "
                                 f"{shape} below size 0")
        return pads
    if value is not None and value != 0:
        raise ValueError(f"padding mode {mode!r} takes no value argument, got value={value}")
    if k > 3 or len(shape) not in (k + 1, k + 2):
        raise ValueError(f"pad in mode {mode!r} pads the last 1, 2 or 3 dimensions of a batched or unbatched "
                         f"input: {k} dimensions need a {k + 1}-D or {k + 2}-D input, got shape {shape}")
    for i, (lo, hi) in enumerate(pads):
        n = shape[-1 - i]
        too_far = (max(lo, hi) >= n) if mode == "reflect" else (max(lo, hi) > n) if mode == "circular" else n == 0
        if too_far:
            limit = {"reflect": "less than", "circular": "at most"}.get(mode, "of a non-empty")
            raise ValueError(f"pad in mode {mode!r} expected pads {limit} the size of the dimension they pad, got "
                             f"{(lo, hi)} for dimension {len(shape) - 1 - i} of the input of shape {shape}")
    return pads


def pad(input, pad, mode: str = "constant", value: float | None = None):
    """Pad (or, with negative values in constant mode, crop) the last len(pad) // 2 dimensions.

    pad = (left, right) for the last dimension, then (top, bottom) for the one before, and so on,
    as in PyTorch. Output size per padded dimension: n + low + high. The gradient of each input
    element is the sum over the outputs that copy it.
    """
    pads = _check(input, pad, mode, value)
    return Pad.apply(input, pads=pads, mode=mode, value=0.0 if value is None else value)
