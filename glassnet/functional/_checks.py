"""Input checks shared by the functional families, so each refuses a wrong input the same way."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def check_float_input(name: str, input) -> None:
    """Integer and bool inputs are refused, never converted: float32, or float64 for gradient
    checks. `input` is a Tensor, an ndarray or anything np.asarray accepts."""
    data = input.data if isinstance(input, Tensor) else np.asarray(input)
    if data.dtype.kind != "f":
        raise TypeError(f"{name} expected a floating-point input (float32 or float64), got dtype "
                        f"{data.dtype} of shape {data.shape}; convert it with .float()")
