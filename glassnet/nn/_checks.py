"""Checks shared by the layers, so every module reports a wrong argument or input the same way:
"Conv2d(3 -> 16) expected input of shape (N, 3, H, W), got (8, 1, 28, 28)".

A layer checks its constructor's arguments once, when it is built, and its input at each call;
the functional operation it then runs does not check again (see glassnet/functional/_checks.py,
which holds the checks the two layers share)."""

from __future__ import annotations

import numpy as np

from ..functional._checks import shape_text


def positive_int(value, name: str) -> int:
    """A constructor's count argument (channels, groups, num_spatial_dims): an int >= 1."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_groups(in_channels: int, out_channels: int, groups: int) -> None:
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{name} ({channels}) must be divisible by groups ({groups})")


def check_spatial_input(label: str, input, n: int, channels: int | None, allow_unbatched: bool = True) -> bool:
    """Check an (N, C, *spatial) input with n spatial dimensions (or (C, *spatial) when
    unbatched inputs are allowed); channels=None accepts any channel count.
    Returns True when the input is batched."""
    shape = tuple(input.shape)
    batched = len(shape) == n + 2
    if not batched and not (allow_unbatched and len(shape) == n + 1):
        expected = shape_text(n, "C" if channels is None else channels)
        also = f" or {shape_text(n, 'C' if channels is None else channels, batched=False)}" if allow_unbatched else ""
        raise ValueError(f"{label} expected input of shape {expected}{also}, got {shape} "
                         f"({len(shape)} dimensions instead of {n + 2})")
    c = shape[1] if batched else shape[0]
    if channels is not None and c != channels:
        expected = shape_text(n, channels)
        if not batched:  # read as unbatched (C, *spatial): say so, the user may have lost N
            expected += f" or {shape_text(n, channels, batched=False)}"
        raise ValueError(f"{label} expected input of shape {expected}, got {shape} "
                         f"({c} channels instead of {channels}"
                         + ("" if batched else ", reading it as unbatched") + ")")
    return batched


def check_dtype(label: str, input, weight) -> None:
    """Integer or float64 input meeting float32 weights is refused, never converted."""
    if weight is None:
        if np.dtype(input.dtype).kind != "f":
            raise TypeError(f"{label} expected a floating-point input, got dtype {input.dtype}; "
                            "convert it with .float()")
        return
    if np.dtype(input.dtype) != np.dtype(weight.dtype):
        raise TypeError(f"{label} has {weight.dtype} weights but got an input of dtype {input.dtype} "
                        f"and shape {tuple(input.shape)}; convert the input with .float() (or the "
                        "module with .double())")


def batch_input(label: str, input, n: int, channels: int, weight):
    """Check an (N, channels, *spatial) or unbatched (channels, *spatial) input and its dtype
    against the weight's; returns (the input as an (N, channels, *spatial) batch, whether it came
    batched), so the layer can squeeze the batch dimension off its output again."""
    batched = check_spatial_input(label, input, n, channels)
    check_dtype(label, input, weight)
    return (input if batched else input.unsqueeze(0)), batched


def call_functional(label: str, fn, *args, **kwargs):
    """Run a functional op; its errors (kernel larger than the padded input, ...) are re-raised
    with the module's label in front, so the user sees which layer refused (unless the op was
    given the label to name itself by, as pooling's max_pool_nd is)."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as error:
        if str(error).startswith(label):
            raise
        raise type(error)(f"{label}: {error}") from error
