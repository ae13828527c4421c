"""The dtypes, under torch's names: `glassnet.float32`, `glassnet.float` (the same), `glassnet.long`...

A glassnet dtype is a NumPy dtype object (`glassnet.float32 is np.dtype('float32')`), so it works
wherever glassnet or NumPy takes a dtype and compares equal to `tensor.dtype`. What it does not
do is print as torch does: `glassnet.float32` prints `float32`, not `torch.float32`.

Names that shadow Python's builtins (`float`, `int`, `bool`) are only bound in the package
namespace (`glassnet.float`), as torch binds them; this module keeps them in `ALIASES`.
"""

from __future__ import annotations

import numpy as np

from .autograd import TensorBase

float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
bool_ = np.dtype(np.bool_)

# torch's second names for the same dtypes; bound as glassnet.<name> by glassnet/__init__.py
ALIASES = {"half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
           "long": int64, "bool": bool_}

# the legacy type strings of Tensor.type(), e.g. x.type() == 'torch.FloatTensor'
_TYPE_NAMES = {float16: "torch.HalfTensor", float32: "torch.FloatTensor", float64: "torch.DoubleTensor",
               int8: "torch.CharTensor", int16: "torch.ShortTensor", int32: "torch.IntTensor",
               int64: "torch.LongTensor", uint8: "torch.ByteTensor", bool_: "torch.BoolTensor"}


def as_dtype(dtype) -> np.dtype:
    """np.dtype(dtype), also for torch's legacy strings ('torch.FloatTensor'), with a clear error."""
    if isinstance(dtype, str) and dtype.startswith("torch."):
        for dt, name in _TYPE_NAMES.items():
            if name == dtype:
                return dt
        raise TypeError(f"invalid type: {dtype!r}; expected one of {sorted(_TYPE_NAMES.values())}")
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"expected a dtype such as glassnet.float32, got {dtype!r}") from None


def type_name(dtype) -> str:
    """torch's legacy type string of a dtype: float32 -> 'torch.FloatTensor'."""
    return _TYPE_NAMES.get(np.dtype(dtype), f"torch.{np.dtype(dtype)}")


def get_default_dtype() -> np.dtype:
    """float32: the dtype of floating tensors made from Python numbers or float64 arrays."""
    return float32


def is_floating_point(input) -> bool:
    return np.dtype(input.dtype).kind == "f"


finfo = np.finfo
iinfo = np.iinfo


def check_float_input(name: str, input) -> None:
    """Integer and bool inputs are refused, never converted: float32, or float64 for gradient
    checks. `input` is a Tensor, an ndarray or anything np.asarray accepts."""
    data = input.data if isinstance(input, TensorBase) else np.asarray(input)
    if data.dtype.kind != "f":
        raise TypeError(f"{name} expected a floating-point input (float32 or float64), got dtype "
                        f"{data.dtype} of shape {data.shape}; convert it with .float()")
