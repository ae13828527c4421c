"""torch's module-level functions over tensors: `torch.exp(x)`, `torch.max(x, 1)`, `torch.flatten(x, 1)`.

Each is the Tensor method of the same name called as a function (one implementation, two
spellings), so `glassnet.max(x, dim=1)` returns the same (values, indices) pair as `x.max(1)`.
"""

from __future__ import annotations

import numpy as np

from .tensor import Tensor


def _method(name: str):
    def function(input, *args, **kwargs):
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}() expected a Tensor as its first argument, got {type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"input.{name}(...): see Tensor.{name}."
    return function


_NAMES = ["exp", "log", "sqrt", "rsqrt", "abs", "sin", "cos", "tanh", "sigmoid", "relu", "neg", "negative",
          "square", "clamp", "clip", "matmul", "flatten", "reshape", "squeeze", "unsqueeze", "transpose",
          "permute", "t", "sum", "mean", "var", "std", "max", "min", "argmax", "argmin", "maximum", "minimum",
          "softmax", "log_softmax", "add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge",
          "equal", "numel", "norm", "masked_fill", "all", "any", "subtract", "multiply", "divide", "gather", "topk",
          "sinh", "cosh", "log1p", "mm", "bmm"]
# one module-level function per name, bound here so that `from .tensor_functions import *` finds them
globals().update({name: _method(name) for name in _NAMES})


def meshgrid(*tensors, indexing: str = "ij"):
    """Coordinate grids from 1-D tensors, as torch.meshgrid (indexing 'ij', or 'xy' which swaps
    the first two dimensions). Differentiable: each grid is its vector expanded."""
    tensors = tuple(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid expected indexing 'ij' or 'xy', got {indexing!r}")
    sizes = [t.numel() for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    grids = []
    for i, t in enumerate(tensors):
        axis = i if indexing == "ij" or len(tensors) < 2 or i > 1 else 1 - i
        shape = [1] * len(tensors)
        shape[axis] = -1
        grids.append(t.reshape(shape).expand(sizes))
    return tuple(grids)


def numel(input: Tensor) -> int:
    return input.numel()


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def allclose(input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    return bool(np.allclose(input.data, other.data, rtol=rtol, atol=atol, equal_nan=equal_nan))


__all__ = _NAMES + ["meshgrid", "allclose", "is_floating_point"]
