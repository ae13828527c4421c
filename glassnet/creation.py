"""Tensor factories beyond zeros/ones (glassnet.tensor) and the random ones (glassnet.random),
with torch's names and keywords: full, empty, eye, linspace, *_like, from_numpy, as_tensor.

Every factory takes dtype= (float32 by default for floating values) and device= ('cpu'; 'cuda'
raises as on a CPU-only PyTorch).
"""

from __future__ import annotations

import numpy as np

from .devices import check_device
from .dtypes import as_dtype, float32, int64
from .tensor import Tensor, _size, zeros


def _finish(values: np.ndarray, dtype, device, requires_grad: bool) -> Tensor:
    check_device(device)
    values = values if dtype is None else values.astype(as_dtype(dtype), copy=False)
    return Tensor._wrap(values).requires_grad_(requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False, out=None) -> Tensor:
    """A tensor of shape size filled with fill_value: float32 for a float, int64 for an int and
    bool for a bool fill, as in PyTorch."""
    if dtype is None:
        dtype = (np.bool_ if isinstance(fill_value, (bool, np.bool_)) else
                 int64 if isinstance(fill_value, (int, np.integer)) else float32)
    return _finish(np.full(_size((size,) if isinstance(size, int) else size), fill_value, as_dtype(dtype)),
                   None, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False, out=None, memory_format=None,
          pin_memory: bool = False) -> Tensor:
    """Uninitialised values (zeros here: reading uninitialised memory helps nobody learn)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, device=device, requires_grad=requires_grad)


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _finish(np.eye(n, m, dtype=float32), dtype, device, requires_grad)


def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """steps values from start to end inclusive, computed in float64 and stored as float32 (or
    dtype), as PyTorch's are to within one rounding."""
    return _finish(np.linspace(start, end, steps).astype(float32 if dtype is None else as_dtype(dtype)),
                   None, device, requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing array's memory and keeping its dtype (float64 stays float64), as torch's."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expected an np.ndarray, got {type(array).__name__}")
    return Tensor._wrap(array)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """data itself when it is already a tensor of that dtype, else a new tensor."""
    check_device(device)
    if isinstance(data, Tensor) and (dtype is None or as_dtype(dtype) == data.dtype):
        return data
    return Tensor(data, dtype=dtype)


__all__ = ["full", "empty", "full_like", "empty_like", "eye", "linspace", "from_numpy", "as_tensor"]
